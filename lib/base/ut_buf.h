/*
 * ut_buf.h - a growable byte buffer with a hard size ceiling.
 *
 * ut_buf_init(&b, max) sets the ceiling (0 = UT_MAX_BUF).  Appends past the
 * ceiling or failed allocations return UT_ENOMEM with a message, and leave
 * the buffer unchanged.  ut_buf_release() frees the bytes; the struct may be
 * reused after ut_buf_init().
 */
#ifndef UT_BUF_H
#define UT_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ut_err.h"

struct ut_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max;
};

void ut_buf_init(struct ut_buf *b, size_t max);
void ut_buf_release(struct ut_buf *b);
/* Makes room for n more bytes. */
int ut_buf_grow(struct ut_buf *b, size_t n);
int ut_buf_append(struct ut_buf *b, const void *p, size_t n);
int ut_buf_zeros(struct ut_buf *b, size_t n);
int ut_buf_u8(struct ut_buf *b, uint8_t v);
int ut_buf_be32(struct ut_buf *b, uint32_t v);
int ut_buf_be64(struct ut_buf *b, uint64_t v);
int ut_buf_le32(struct ut_buf *b, uint32_t v);
int ut_buf_le64(struct ut_buf *b, uint64_t v);
/* Appends a formatted string without its NUL. */
int ut_buf_printf(struct ut_buf *b, const char *fmt, ...) UT_PRINTF(2, 3);
int ut_buf_vprintf(struct ut_buf *b, const char *fmt, va_list ap) UT_PRINTF(2, 0);
/* Appends a NUL without counting it in len (for use as a C string). */
int ut_buf_cstr(struct ut_buf *b);
/* Takes ownership of the bytes (caller frees); the buffer is emptied. */
uint8_t *ut_buf_detach(struct ut_buf *b, size_t *len);

#endif
