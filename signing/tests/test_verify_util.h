/*
 * test_verify_util.h - a small codesign-shaped signer for verifier tests
 * (tests only), assembled from the tested primitives (cs_cd_build,
 * cs_superblob_build, cs_req_compile, cs_ent_*, cs_cms_sign): it re-signs a
 * thin 64-bit Mach-O that already has LC_CODE_SIGNATURE at the end of
 * __LINKEDIT (lld output), growing the signature area to a fixed reserve.
 * The production signer lives elsewhere; this one only makes inputs.
 */
#ifndef TEST_VERIFY_UTIL_H
#define TEST_VERIFY_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "cs_pki.h"
#include "cs_verify.h"

struct tv_sign_opts {
	const char *identifier;
	const char *team;             /* NULL: none */
	uint32_t flags;               /* CD flags (CS_ADHOC for ad-hoc) */
	unsigned hash_types[2];       /* slot 0 first; 0 = end (default: sha256 only) */
	const char *ent_xml;          /* NULL: no entitlements; else XML (slot 5) + DER (slot 7) */
	const char *dr;               /* designated requirement text; NULL: empty requirement set */
	int no_requirements;          /* leave slot 2 out entirely */
	int no_cms_blob;              /* leave slot 0x10000 out (else empty wrapper when id is NULL) */
	const struct cs_identity *id; /* NULL: no CMS signature */
	const uint8_t *info_plist;    /* bytes to bind in slot -1, or NULL */
	size_t info_plist_len;
	uint32_t reserve;             /* signature area size; 0: 40960 */
};

/* Re-signs in[0, len) (a thin 64-bit Mach-O); returns malloc'd bytes (*out_len). Asserts on failure. */
uint8_t *tv_sign(const uint8_t *in, size_t len, const struct tv_sign_opts *o, size_t *out_len);

/* Verifies bytes in memory (asserting the checks ran). Caller releases r. */
void tv_verify_mem(const uint8_t *p, size_t len, const struct cs_verify_opts *o, struct cs_verify_result *r);

/* The first finding that is not a note ("" when none). */
const char *tv_first_failure(const struct cs_verify_slice *vs);

/* Offset of the first occurrence of needle in hay (asserts that there is one). */
size_t tv_find(const uint8_t *hay, size_t n, const void *needle, size_t nl);

#endif
