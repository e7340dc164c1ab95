/* ut_bytes.c - bounded spans and the sticky-error reader. */
#include "ut_bytes.h"

#include <string.h>

#include "ut_err.h"

int ut_span_sub(struct ut_span s, uint64_t off, uint64_t len, struct ut_span *out)
{
	if (!ut_range_ok(off, len, s.len))
		return UT_EMALFORMED;
	out->p = s.p + off;
	out->len = (size_t)len;
	return 0;
}

void ut_reader_init(struct ut_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->pos = 0;
	r->err = 0;
}

const uint8_t *ut_rd_bytes(struct ut_reader *r, size_t n)
{
	if (r->err || n > r->len - r->pos) {
		r->err = UT_EMALFORMED;
		return NULL;
	}
	const uint8_t *q = r->p + r->pos;
	r->pos += n;
	return q;
}

void ut_rd_skip(struct ut_reader *r, size_t n) { (void)ut_rd_bytes(r, n); }

uint8_t ut_rd_u8(struct ut_reader *r)
{
	const uint8_t *q = ut_rd_bytes(r, 1);
	return q ? q[0] : 0;
}

#define RD(name, type, n, load)                      \
	type name(struct ut_reader *r)               \
	{                                            \
		const uint8_t *q = ut_rd_bytes(r, n); \
		return q ? load(q) : 0;              \
	}
RD(ut_rd_le16, uint16_t, 2, ut_le16)
RD(ut_rd_le32, uint32_t, 4, ut_le32)
RD(ut_rd_le64, uint64_t, 8, ut_le64)
RD(ut_rd_be16, uint16_t, 2, ut_be16)
RD(ut_rd_be32, uint32_t, 4, ut_be32)
RD(ut_rd_be64, uint64_t, 8, ut_be64)
#undef RD

void ut_hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int ut_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ut_unhex(uint8_t *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = ut_hexval((unsigned char)s[2 * i]);
		int lo = hi < 0 ? -1 : ut_hexval((unsigned char)s[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
