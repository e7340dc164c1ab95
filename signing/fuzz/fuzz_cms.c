/*
 * fuzz_cms.c - libFuzzer target for the CMS readers: cs_cms_verify (DER/BER
 * decode, raw signed-attribute walk, attribute checks, timestamp tokens),
 * cs_profile_parse, cs_cms_unwrap and cs_roots_parse.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs_cms.h"
#include "cs_x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t cd[96] = { 0xfa, 0xde, 0x0c, 0x02, 0, 0, 0, 96 };
	struct cs_cdhash h[2];
	struct cs_cms_result r;
	struct cs_profile p;
	struct ut_span span;
	int present;

	if (cs_cdhash_compute(&h[0], CS_HASHTYPE_SHA1, cd, sizeof(cd)) ||
	    cs_cdhash_compute(&h[1], CS_HASHTYPE_SHA256, cd, sizeof(cd)))
		abort();
	(void)cs_cms_verify(&r, data, size, cd, sizeof(cd), h, 2, NULL);

	if (cs_cms_raw_signed_attrs(&span, &present, data, size) == 0 && present &&
	    (span.p < data || span.len > size || (size_t)(span.p - data) > size - span.len || span.p[0] != 0xa0))
		abort(); /* the walker must stay inside the input */

	if (cs_profile_parse(&p, data, size, NULL) == 0)
		cs_profile_release(&p);

	if (cs_cms_unwrap(&span, data, size) == 0 && (span.len > size || size - span.len < 8))
		abort();

	struct cs_root *roots = NULL;
	size_t n;
	if (cs_roots_parse(&roots, &n, (const char *)data, size, "fuzz") == 0)
		free(roots);
	return 0;
}
