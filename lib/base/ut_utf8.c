/* ut_utf8.c - strict UTF-8 sequence check (RFC 3629, Table 3-7 of Unicode's well-formed byte sequences). */
#include "ut_utf8.h"

size_t ut_utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
	if (n == 0)
		return 0;
	unsigned char c = p[0];
	size_t len;
	uint32_t v;
	unsigned char lo = 0x80, hi = 0xbf; /* the range allowed for the second byte */
	if (c < 0x80) {
		len = 1;
		v = c;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1fu;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0fu;
		if (c == 0xe0)
			lo = 0xa0; /* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07u;
		if (c == 0xf0)
			lo = 0x90; /* no overlong forms */
		else if (c == 0xf4)
			hi = 0x8f; /* nothing above U+10FFFF */
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t k = 1; k < len; k++) {
		unsigned char b = p[k];
		if (k == 1 ? (b < lo || b > hi) : (b & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (b & 0x3fu);
	}
	if (cp)
		*cp = v;
	return len;
}
