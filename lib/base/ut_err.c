/* ut_err.c - the per-thread recorded error message. */
#include "ut_err.h"

#include <stdio.h>
#include <string.h>

#define UT_ERRMSG_MAX 2048

static _Thread_local char errmsg[UT_ERRMSG_MAX];

/* Messages are formatted aside, then copied: an argument may be ut_errmsg() itself. */
int ut_fail(int code, const char *fmt, ...)
{
	char msg[UT_ERRMSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(errmsg, msg, sizeof(errmsg));
	return code;
}

int ut_fail_errno(int code, int errnum, const char *fmt, ...)
{
	char msg[UT_ERRMSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(errnum));
	memcpy(errmsg, msg, sizeof(errmsg));
	return code;
}

int ut_ctx(int code, const char *fmt, ...)
{
	char prefix[512];
	char old[UT_ERRMSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, errmsg, sizeof(old));
	if (old[0])
		snprintf(errmsg, sizeof(errmsg), "%s: %s", prefix, old);
	else
		snprintf(errmsg, sizeof(errmsg), "%s: %s", prefix, ut_strerror(code));
	return code;
}

const char *ut_errmsg(void) { return errmsg; }

void ut_err_clear(void) { errmsg[0] = '\0'; }

const char *ut_strerror(int code)
{
	switch (code) {
	case UT_OK: return "ok";
	case UT_EINVAL: return "invalid argument";
	case UT_ENOMEM: return "out of memory";
	case UT_EIO: return "i/o error";
	case UT_EMALFORMED: return "malformed input";
	case UT_EUNSUPPORTED: return "unsupported";
	case UT_ENOTFOUND: return "not found";
	case UT_ENOSPACE: return "not enough space";
	case UT_EVERIFY: return "verification failed";
	case UT_ECRYPTO: return "crypto error";
	case UT_EREFUSED: return "refused";
	case UT_EBUSY: return "busy";
	case UT_EEXIST: return "already exists";
	}
	return "unknown error";
}
