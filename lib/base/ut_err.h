/*
 * ut_err.h - error codes and the recorded error message.
 *
 * Every fallible function returns 0 or a negative UT_E* code and records one
 * message with ut_fail().  Callers add context as the error travels up with
 * ut_ctx().  The message is per thread; it stays valid until the next
 * ut_fail()/ut_ctx()/ut_err_clear() on the same thread.
 */
#ifndef UT_ERR_H
#define UT_ERR_H

#include <stdarg.h>

enum ut_code {
	UT_OK = 0,
	UT_EINVAL = -1,       /* bad argument from the caller (usage) */
	UT_ENOMEM = -2,       /* allocation failed or a size ceiling was hit */
	UT_EIO = -3,          /* read/write/rename failed */
	UT_EMALFORMED = -4,   /* input does not follow its format */
	UT_EUNSUPPORTED = -5, /* valid input we do not handle */
	UT_ENOTFOUND = -6,    /* a named thing does not exist */
	UT_ENOSPACE = -7,     /* an edit does not fit (header padding) */
	UT_EVERIFY = -8,      /* checked and found bad */
	UT_ECRYPTO = -9,      /* a crypto library call failed */
	UT_EREFUSED = -10,    /* a plan was refused (safety check) */
	UT_EBUSY = -11,       /* locked by another run */
	UT_EEXIST = -12,      /* already exists */
};

#if defined(__GNUC__)
#define UT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define UT_PRINTF(a, b)
#endif

/* Records a message (replacing any earlier one; an argument may be ut_errmsg()) and returns code. */
int ut_fail(int code, const char *fmt, ...) UT_PRINTF(2, 3);
/* Like ut_fail, then appends ": <strerror(errnum)>". */
int ut_fail_errno(int code, int errnum, const char *fmt, ...) UT_PRINTF(3, 4);
/* Prefixes the recorded message with "<context>: " and returns code. */
int ut_ctx(int code, const char *fmt, ...) UT_PRINTF(2, 3);
/* The recorded message of this thread ("" when none). */
const char *ut_errmsg(void);
void ut_err_clear(void);
/* A short name for a code ("malformed input"). */
const char *ut_strerror(int code);

#endif
