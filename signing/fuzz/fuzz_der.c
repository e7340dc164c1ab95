/*
 * fuzz_der.c - libFuzzer target: the DER reader, the entitlements decoder
 * (both shapes) and re-encoding of whatever decodes (it must decode again to
 * the same encoding), plus OID contents.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs_der.h"
#include "cs_ent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ut_reader r;
	struct cs_der_tlv t;
	ut_reader_init(&r, data, size);
	while (cs_der_read(&r, &t) == 0) {
		int64_t v;
		char oid[128];
		if (t.tag == CS_DER_INTEGER)
			(void)cs_der_get_int(t.content, &v);
		if (t.tag == CS_DER_OID && cs_der_oid_decode(t.content, oid, sizeof(oid)) == 0) {
			struct ut_buf b;
			ut_buf_init(&b, 0);
			/* Decoded text re-encodes to the same content. */
			if (cs_der_oid_encode(oid, &b) == 0 && (b.len != t.content.len || memcmp(b.p, t.content.p, b.len)))
				abort();
			ut_buf_release(&b);
		}
	}
	plist_t a = NULL, b = NULL;
	struct ut_buf e1, e2;
	ut_buf_init(&e1, 0);
	ut_buf_init(&e2, 0);
	if (cs_ent_der_decode(data, size, &a, NULL) == 0) {
		if (cs_ent_der_encode(a, &e1) != 0 || cs_ent_der_decode(e1.p, e1.len, &b, NULL) != 0 ||
		    cs_ent_der_encode(b, &e2) != 0 || e1.len != e2.len || memcmp(e1.p, e2.p, e1.len) != 0)
			abort();
	}
	plist_free(a);
	plist_free(b);
	ut_buf_release(&e1);
	ut_buf_release(&e2);
	return 0;
}
