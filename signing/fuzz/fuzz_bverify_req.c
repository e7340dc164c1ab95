/*
 * fuzz_bverify_req.c - libFuzzer target: the requirement interpreter
 * (cs_req_eval) on arbitrary requirement blobs, against code with a
 * certificate chain (and its details) and against ad-hoc code.
 *
 * The first byte picks the mode:
 *   even: the rest is a requirement blob (0xfade0c00 ...) as is;
 *   odd:  the rest is the expression body; the 12-byte header is added, so
 *         the fuzzer reaches the operations without learning the header.
 * Invariants: a blob decodes (or not) and gives the same verdict with and
 * without a reason buffer; the reason is always a terminated string.  The
 * decompiler (cs_req_text) also runs on every blob that decodes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs_bverify_req.h"
#include "cs_req.h"
#include "ut_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fake(struct cs_chain *c, struct cs_certx *x)
{
	memset(c, 0, sizeof(*c));
	memset(x, 0, 3 * sizeof(*x));
	c->n = 3;
	c->anchor = CS_ANCHOR_APPLE_ROOT_CA;
	strcpy(c->certs[0].cn, "Developer ID Application: Fuzz (FUZZ123456)");
	strcpy(c->certs[0].ou, "FUZZ123456");
	c->certs[0].marks = CS_CERT_DEVID_LEAF;
	strcpy(c->certs[1].cn, "Apple Code Signing Certification Authority");
	strcpy(c->certs[1].o, "Apple Inc.");
	c->certs[1].marks = CS_CERT_DEVID_CA;
	strcpy(c->certs[2].cn, "Apple Root CA");
	x[0].nattrs = 2;
	strcpy(x[0].attrs[0].key, "CN");
	strcpy(x[0].attrs[0].value, c->certs[0].cn);
	strcpy(x[0].attrs[1].key, "OU");
	strcpy(x[0].attrs[1].value, "FUZZ123456");
	x[0].nexts = 1;
	strcpy(x[0].exts[0], CS_OID_DEVID_LEAF);
	x[1].nexts = 1;
	strcpy(x[1].exts[0], CS_OID_DEVID_CA);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	uint8_t *blob;
	size_t len;
	if (data[0] & 1) {
		len = size - 1 + 12;
		blob = malloc(len);
		if (!blob)
			return 0;
		blob[0] = 0xfa, blob[1] = 0xde, blob[2] = 0x0c, blob[3] = 0x00;
		blob[4] = (uint8_t)(len >> 24), blob[5] = (uint8_t)(len >> 16), blob[6] = (uint8_t)(len >> 8);
		blob[7] = (uint8_t)len;
		blob[8] = blob[9] = blob[10] = 0, blob[11] = 1;
		memcpy(blob + 12, data + 1, size - 1);
	} else {
		len = size - 1;
		blob = malloc(len ? len : 1);
		if (!blob)
			return 0;
		memcpy(blob, data + 1, len);
	}
	struct cs_chain chain;
	struct cs_certx certx[3];
	fake(&chain, certx);
	uint8_t cdhash[CS_CDHASH_LEN];
	memset(cdhash, 0xab, sizeof(cdhash));
	plist_t info = plist_new_dict();
	plist_dict_set_item(info, "CFBundleIdentifier", plist_new_string("com.example.fuzz"));
	struct cs_req_code codes[2] = {
		{ .identifier = "com.example.fuzz", .cdhash = cdhash, .chain = &chain, .certx = certx, .info = info },
		{ .identifier = "adhoc", .cdhash = cdhash },
	};
	for (int k = 0; k < 2; k++) {
		enum cs_req_verdict v1, v2;
		char why[256];
		int r1 = cs_req_eval(&v1, blob, len, &codes[k], why, sizeof(why));
		int r2 = cs_req_eval(&v2, blob, len, &codes[k], NULL, 0);
		if ((r1 == 0) != (r2 == 0) || (r1 == 0 && v1 != v2))
			abort();
		if (r1 == 0 && memchr(why, 0, sizeof(why)) == NULL)
			abort();
		if (k == 0 && r1 == 0) {
			struct ut_buf b;
			ut_buf_init(&b, 1u << 20);
			int rt = cs_req_text(blob, len, &b);
			ut_buf_release(&b);
			(void)rt; /* the decompiler may refuse what it cannot print (timestamps out of range) */
		}
	}
	plist_free(info);
	free(blob);
	return 0;
}
