/* cs_pagehash.c - sequential SHA-256 page hashing through OpenSSL. */
#include "cs_pagehash.h"

#include <openssl/evp.h>
#include <stdlib.h>

#include "ut_err.h"

int cs_pagehash(const struct ut_src *src, uint64_t base, uint64_t limit, unsigned shift, int type, uint8_t *out)
{
	if (type != CS_PH_SHA256)
		return ut_fail(UT_EUNSUPPORTED, "hash type %d not supported here", type);
	size_t page = (size_t)1 << shift;
	uint8_t *buf = malloc(page);
	if (!buf)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = 0;
	for (uint64_t off = 0; off < limit && !rc; off += page) {
		size_t n = limit - off < page ? (size_t)(limit - off) : page;
		rc = ut_src_read(src, base + off, buf, n);
		unsigned int len = 0;
		if (!rc && !EVP_Digest(buf, n, out, &len, EVP_sha256(), NULL))
			rc = ut_fail(UT_ECRYPTO, "SHA-256 failed");
		out += 32;
	}
	free(buf);
	return rc;
}
