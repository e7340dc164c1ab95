/*
 * test_cms_cdhash.c - cs_cdhash_compute against `openssl dgst` for every
 * CodeDirectory hash type, and the 100.9.2 value encoding against asn1parse.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_cms.h"
#include "cs_x509.h"
#include "test_cms_util.h"
#include "tsupport.h"
#include "ut_err.h"

Test(cms_cdhash, digests_match_openssl_dgst)
{
	uint8_t cd[300];
	for (size_t i = 0; i < sizeof(cd); i++)
		cd[i] = (uint8_t)(i * 7 + 3);
	char *dir = ts_tmpdir();
	char *p = tc_write(dir, "cd.bin", cd, sizeof(cd));
	static const struct {
		uint32_t type;
		const char *dgst;
		size_t len;
	} t[] = { { 1, "sha1", 20 }, { 2, "sha256", 32 }, { 3, "sha256", 32 }, { 4, "sha384", 48 } };
	for (size_t i = 0; i < 4; i++) {
		struct cs_cdhash c;
		cr_assert_eq(cs_cdhash_compute(&c, t[i].type, cd, sizeof(cd)), 0);
		cr_expect_eq(c.hash_type, t[i].type);
		cr_expect_eq(c.len, t[i].len);
		char *out = NULL;
		cr_assert_eq(tc_sh(&out, "openssl dgst -%s -r '%s' | cut -d' ' -f1 | tr -d '\\n'", t[i].dgst, p), 0);
		char *mine = tc_hex(c.digest, c.len);
		cr_expect_str_eq(mine, out, "type %u", t[i].type);
		free(mine);
		free(out);
	}
	struct cs_cdhash c;
	cr_expect_eq(cs_cdhash_compute(&c, 5, cd, sizeof(cd)), UT_EUNSUPPORTED);
	free(p);
	ts_rmtree(dir);
	free(dir);
}

Test(cms_cdhash, cdhashes2_value_is_sequence_of_oid_and_octet_string)
{
	struct cs_cdhash c;
	uint8_t cd[10] = { 1, 2, 3 };
	cr_assert_eq(cs_cdhash_compute(&c, CS_HASHTYPE_SHA384, cd, sizeof(cd)), 0);
	uint8_t *der;
	size_t len;
	cr_assert_eq(cs_cdhash2_der(&der, &len, &c), 0);
	char *dir = ts_tmpdir();
	struct tc_a1 *a;
	size_t n;
	char *p = tc_asn1parse_bytes(dir, "v.der", der, len, &a, &n);
	cr_assert_eq(n, 3);
	cr_expect(strstr(a[0].text, "SEQUENCE"));
	cr_expect_eq(a[0].hl + a[0].len, (long)len);
	cr_expect(strstr(a[1].text, "OBJECT") && strstr(a[1].text, ":sha384"), "%s", a[1].text);
	cr_expect(strstr(a[2].text, "OCTET STRING"));
	cr_expect_eq(a[2].len, 48);
	cr_expect_eq(memcmp(der + a[2].off + a[2].hl, c.digest, 48), 0);
	free(a);
	free(p);
	free(der);
	ts_rmtree(dir);
	free(dir);
}
