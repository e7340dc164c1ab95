/* ut_buf.c - growable buffer with a ceiling. */
#include "ut_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut_bytes.h"
#include "ut_limits.h"

void ut_buf_init(struct ut_buf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max ? max : UT_MAX_BUF;
}

void ut_buf_release(struct ut_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int ut_buf_grow(struct ut_buf *b, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return ut_fail(UT_ENOMEM, "buffer would exceed its %zu-byte ceiling", b->max);
	size_t need = b->len + n;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > b->max / 2 ? b->max : cap * 2;
	uint8_t *q = realloc(b->p, cap);
	if (!q)
		return ut_fail(UT_ENOMEM, "cannot allocate %zu bytes", cap);
	b->p = q;
	b->cap = cap;
	return 0;
}

int ut_buf_append(struct ut_buf *b, const void *p, size_t n)
{
	int rc = ut_buf_grow(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

int ut_buf_zeros(struct ut_buf *b, size_t n)
{
	int rc = ut_buf_grow(b, n);
	if (rc)
		return rc;
	memset(b->p + b->len, 0, n);
	b->len += n;
	return 0;
}

int ut_buf_u8(struct ut_buf *b, uint8_t v) { return ut_buf_append(b, &v, 1); }

#define PUT(name, type, n, store)            \
	int name(struct ut_buf *b, type v)   \
	{                                    \
		uint8_t t[n];                \
		store(t, v);                 \
		return ut_buf_append(b, t, n); \
	}
PUT(ut_buf_be32, uint32_t, 4, ut_put_be32)
PUT(ut_buf_be64, uint64_t, 8, ut_put_be64)
PUT(ut_buf_le32, uint32_t, 4, ut_put_le32)
PUT(ut_buf_le64, uint64_t, 8, ut_put_le64)
#undef PUT

int ut_buf_vprintf(struct ut_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return ut_fail(UT_EINVAL, "bad format string");
	int rc = ut_buf_grow(b, (size_t)n + 1);
	if (rc)
		return rc;
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int ut_buf_printf(struct ut_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = ut_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int ut_buf_cstr(struct ut_buf *b)
{
	int rc = ut_buf_grow(b, 1);
	if (rc)
		return rc;
	b->p[b->len] = '\0';
	return 0;
}

uint8_t *ut_buf_detach(struct ut_buf *b, size_t *len)
{
	uint8_t *p = b->p;
	if (len)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}
