/* cs_der.c - bounded DER TLVs, INTEGERs and OID contents. */
#include "cs_der.h"

#include <stdio.h>
#include <string.h>

#include "ut_err.h"

int cs_der_read(struct ut_reader *r, struct cs_der_tlv *out)
{
	size_t at = r->pos;
	if (r->err)
		return ut_fail(UT_EMALFORMED, "DER read after an earlier error");
	if (ut_rd_left(r) == 0)
		return UT_ENOTFOUND;
	if (ut_rd_left(r) < 2)
		return ut_fail(UT_EMALFORMED, "DER header truncated at offset %zu", at);
	uint8_t tag = ut_rd_u8(r);
	uint8_t l0 = ut_rd_u8(r);
	if ((tag & 0x1f) == 0x1f)
		return ut_fail(UT_EMALFORMED, "DER multi-byte tag 0x%02x at offset %zu unsupported", tag, at);
	size_t len = l0;
	if (l0 == 0x80)
		return ut_fail(UT_EMALFORMED, "DER indefinite length at offset %zu", at);
	if (l0 > 0x80) {
		unsigned nb = l0 & 0x7f;
		if (nb > 4)
			return ut_fail(UT_EMALFORMED, "DER length of %u bytes at offset %zu too large", nb, at);
		if (ut_rd_left(r) < nb)
			return ut_fail(UT_EMALFORMED, "DER length truncated at offset %zu", at);
		len = 0;
		for (unsigned i = 0; i < nb; i++)
			len = len << 8 | ut_rd_u8(r);
		if (len < 0x80 || len >> (8 * (nb - 1)) == 0)
			return ut_fail(UT_EMALFORMED, "DER length at offset %zu not in minimal form", at);
	}
	if (len > ut_rd_left(r))
		return ut_fail(UT_EMALFORMED, "DER element at offset %zu: length %zu past end (%zu left)", at, len,
			       ut_rd_left(r));
	out->tag = tag;
	out->content.p = ut_rd_bytes(r, len);
	out->content.len = len;
	return 0;
}

size_t cs_der_header_size(size_t len)
{
	size_t n = 2;
	for (size_t v = len; len >= 0x80 && v; v >>= 8)
		n++;
	return n;
}

int cs_der_put_header(struct ut_buf *b, uint8_t tag, size_t len)
{
	uint8_t h[6];
	size_t n = 0;
	if (len > UINT32_MAX)
		return ut_fail(UT_EINVAL, "DER element of %zu bytes too large", len);
	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (uint8_t)len;
	} else {
		unsigned nb = len > 0xffffff ? 4 : len > 0xffff ? 3 : len > 0xff ? 2 : 1;
		h[n++] = (uint8_t)(0x80 | nb);
		for (unsigned i = nb; i > 0; i--)
			h[n++] = (uint8_t)(len >> (8 * (i - 1)));
	}
	return ut_buf_append(b, h, n);
}

int cs_der_put(struct ut_buf *b, uint8_t tag, const void *content, size_t len)
{
	int rc = cs_der_put_header(b, tag, len);
	return rc ? rc : ut_buf_append(b, content, len);
}

int cs_der_put_int(struct ut_buf *b, int64_t v)
{
	uint8_t c[8];
	unsigned n = 8;
	uint64_t u = (uint64_t)v;
	for (unsigned i = 0; i < 8; i++)
		c[i] = (uint8_t)(u >> (56 - 8 * i));
	unsigned s = 0;
	/* Drop leading bytes that only repeat the sign of the next byte. */
	while (n - s > 1 && ((c[s] == 0x00 && !(c[s + 1] & 0x80)) || (c[s] == 0xff && (c[s + 1] & 0x80))))
		s++;
	return cs_der_put(b, CS_DER_INTEGER, c + s, n - s);
}

int cs_der_get_int(struct ut_span content, int64_t *v)
{
	if (content.len == 0)
		return ut_fail(UT_EMALFORMED, "DER integer with no content");
	if (content.len > 1 && ((content.p[0] == 0x00 && !(content.p[1] & 0x80)) ||
				(content.p[0] == 0xff && (content.p[1] & 0x80))))
		return ut_fail(UT_EMALFORMED, "DER integer not in minimal form");
	if (content.len > 8)
		return ut_fail(UT_EUNSUPPORTED, "DER integer of %zu bytes does not fit 64 bits", content.len);
	uint64_t u = (content.p[0] & 0x80) ? UINT64_MAX : 0;
	for (size_t i = 0; i < content.len; i++)
		u = u << 8 | content.p[i];
	*v = (int64_t)u;
	return 0;
}

/* Appends one base-128 subidentifier. */
static int put_arc(struct ut_buf *out, uint64_t v)
{
	uint8_t t[10];
	unsigned n = 0;
	do {
		t[n++] = (uint8_t)(v & 0x7f);
		v >>= 7;
	} while (v);
	for (unsigned i = n; i > 0; i--) {
		int rc = ut_buf_u8(out, (uint8_t)(t[i - 1] | (i > 1 ? 0x80 : 0)));
		if (rc)
			return rc;
	}
	return 0;
}

int cs_der_oid_encode(const char *dotted, struct ut_buf *out)
{
	uint64_t arcs[64];
	unsigned n = 0;
	const char *s = dotted;
	for (;;) {
		if (*s < '0' || *s > '9' || n == 64)
			return ut_fail(UT_EINVAL, "invalid object identifier '%s'", dotted);
		uint64_t v = 0;
		while (*s >= '0' && *s <= '9') {
			if (v > (UINT64_MAX - 9) / 10 / 128)
				return ut_fail(UT_EINVAL, "object identifier '%s': arc too large", dotted);
			v = v * 10 + (uint64_t)(*s++ - '0');
		}
		arcs[n++] = v;
		if (*s == '\0')
			break;
		if (*s++ != '.')
			return ut_fail(UT_EINVAL, "invalid object identifier '%s'", dotted);
	}
	if (n < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39))
		return ut_fail(UT_EINVAL, "invalid object identifier '%s'", dotted);
	int rc = put_arc(out, arcs[0] * 40 + arcs[1]);
	for (unsigned i = 2; i < n && !rc; i++)
		rc = put_arc(out, arcs[i]);
	return rc;
}

int cs_der_oid_decode(struct ut_span content, char *buf, size_t n)
{
	size_t used = 0;
	uint64_t v = 0;
	int first = 1;
	if (n == 0)
		return ut_fail(UT_EINVAL, "no room for an object identifier");
	buf[0] = '\0';
	if (content.len == 0)
		return ut_fail(UT_EMALFORMED, "empty object identifier");
	for (size_t i = 0; i < content.len; i++) {
		if (v == 0 && content.p[i] == 0x80)
			return ut_fail(UT_EMALFORMED, "object identifier arc not in minimal form");
		if (v > (UINT64_MAX >> 7))
			return ut_fail(UT_EUNSUPPORTED, "object identifier arc too large");
		v = v << 7 | (content.p[i] & 0x7f);
		if (content.p[i] & 0x80) {
			if (i + 1 == content.len)
				return ut_fail(UT_EMALFORMED, "object identifier truncated");
			continue;
		}
		int w;
		if (first) {
			uint64_t a = v < 40 ? 0 : v < 80 ? 1 : 2;
			w = snprintf(buf + used, n - used, "%llu.%llu", (unsigned long long)a,
				     (unsigned long long)(v - 40 * a));
			first = 0;
		} else {
			w = snprintf(buf + used, n - used, ".%llu", (unsigned long long)v);
		}
		if (w < 0 || (size_t)w >= n - used)
			return ut_fail(UT_ENOMEM, "object identifier longer than %zu characters", n);
		used += (size_t)w;
		v = 0;
	}
	return 0;
}
