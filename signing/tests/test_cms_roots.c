/*
 * test_cms_roots.c - the pinned Apple roots: the built-in table agrees with
 * profiles/apple-roots.tsv, and the fingerprints are those of the roots that
 * really anchor corpus chains (openssl x509 -fingerprint computes them).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_cms.h"
#include "test_cms_util.h"
#include "tsupport.h"
#include "ut_err.h"

Test(cms_roots, builtin_table_equals_the_data_file)
{
	size_t len, n, nb;
	uint8_t *text = ts_read(ts_root("profiles/apple-roots.tsv"), &len);
	cr_assert_not_null(text);
	struct cs_root *roots;
	cr_assert_eq(cs_roots_parse(&roots, &n, (const char *)text, len, "apple-roots.tsv"), 0, "%s", ut_errmsg());
	const struct cs_root *b = cs_apple_roots(&nb);
	cr_assert_eq(n, nb);
	for (size_t i = 0; i < n; i++) {
		cr_expect_eq(memcmp(roots[i].sha256, b[i].sha256, 32), 0, "root %zu", i);
		cr_expect_str_eq(roots[i].name, b[i].name);
	}
	free(roots);
	free(text);
}

/* SHA-256 (lowercase hex) of the certificate whose CN is cn among the certificates of a CMS file in dir. */
static char *cms_cert_fingerprint(const char *dir, const char *cms_name, const char *cn)
{
	char *out = NULL;
	int rc = tc_sh(&out,
		       "cd '%s' && openssl pkcs7 -inform DER -in '%s' -print_certs | awk '/BEGIN/{n++} n{print > (\"c\" n \".pem\")}' "
		       "&& for c in c*.pem; do if openssl x509 -in $c -noout -subject | grep -Eq 'CN = %s(,|$)'; then "
		       "openssl x509 -in $c -noout -fingerprint -sha256; fi; done | sed 's/.*=//' | tr -d ':\\n' | tr A-F a-f",
		       dir, cms_name, cn);
	if (rc || !out || strlen(out) != 64) {
		free(out);
		return NULL;
	}
	return out;
}

Test(cms_roots, apple_root_ca_is_the_root_of_corpus_chains)
{
	struct tc_sig *sigs;
	size_t n, nb;
	cr_assert_eq(tc_sigs_load(ts_corpus("apple/ls-sequoia"), &sigs, &n), 0);
	char *dir = ts_tmpdir();
	char *p = tc_write(dir, "ls.der", sigs[0].cms, sigs[0].cms_len);
	char *fp = cms_cert_fingerprint(dir, "ls.der", "Apple Root CA");
	cr_assert_not_null(fp);
	const struct cs_root *b = cs_apple_roots(&nb);
	char *mine = tc_hex(b[0].sha256, 32);
	cr_expect_str_eq(fp, mine);
	/* and Apple's published value */
	cr_expect_str_eq(fp, "b0b1730ecbc7ff4505142c49f1295e6eda6bcaed7e2c68c5be91b5a11001f024");
	free(mine);
	free(fp);
	free(p);
	ts_rmtree(dir);
	free(dir);
	tc_sigs_free(sigs, n);
}

Test(cms_roots, apple_root_ca_g3_is_the_root_of_the_der_encoded_profile)
{
	/* The corpus profile embeds "DER-Encoded-Profile", a CMS whose chain ends in Apple Root CA - G3. */
	size_t len, nb;
	uint8_t *der = ts_read(ts_corpus("profiles/credctl-mac-team-dev.provisionprofile"), &len);
	struct cs_profile pr;
	cr_assert_eq(cs_profile_parse(&pr, der, len, NULL), 0, "%s", ut_errmsg());
	plist_t d = plist_dict_get_item(pr.plist, "DER-Encoded-Profile");
	cr_assert(d && plist_get_node_type(d) == PLIST_DATA);
	uint64_t dlen = 0;
	const char *data = plist_get_data_ptr(d, &dlen);
	char *dir = ts_tmpdir();
	char *p = tc_write(dir, "inner.der", data, (size_t)dlen);
	char *fp = cms_cert_fingerprint(dir, "inner.der", "Apple Root CA - G3");
	cr_assert_not_null(fp);
	const struct cs_root *b = cs_apple_roots(&nb);
	char *mine = tc_hex(b[2].sha256, 32);
	cr_expect_str_eq(fp, mine);
	cr_expect_str_eq(b[2].name, "Apple Root CA - G3");
	free(mine);
	free(fp);
	free(p);
	ts_rmtree(dir);
	free(dir);
	cs_profile_release(&pr);
	free(der);
}

Test(cms_roots, roots_file_format)
{
	struct cs_root *r;
	size_t n;
	const char *ok = "# comment\r\n\r\n"
			 "B0B1730ECBC7FF4505142C49F1295E6EDA6BCAED7E2C68C5BE91B5A11001F024\tApple Root CA\tsource\r\n"
			 "00000000000000000000000000000000000000000000000000000000000000ff\tx";
	cr_assert_eq(cs_roots_parse(&r, &n, ok, strlen(ok), "t"), 0, "%s", ut_errmsg());
	cr_expect_eq(n, 2);
	cr_expect_eq(r[0].sha256[0], 0xb0);
	cr_expect_str_eq(r[0].name, "Apple Root CA");
	cr_expect_eq(r[1].sha256[31], 0xff);
	cr_expect_str_eq(r[1].name, "x");
	free(r);
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{ "b0b1\tshort", "line 1" },
		{ "# c\nzz00000000000000000000000000000000000000000000000000000000000000\tname", "line 2" },
		{ "b0b1730ecbc7ff4505142c49f1295e6eda6bcaed7e2c68c5be91b5a11001f024", "line 1" },
		{ "b0b1730ecbc7ff4505142c49f1295e6eda6bcaed7e2c68c5be91b5a11001f024\t", "line 1" },
		{ "b0b1730ecbc7ff4505142c49f1295e6eda6bcaed7e2c68c5be91b5a11001f024\t"
		  "a name that is far too long for the sixty-four byte name field of struct cs_root",
		  "line 1" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(cs_roots_parse(&r, &n, bad[i].text, strlen(bad[i].text), "t"), UT_EMALFORMED, "row %zu", i);
		cr_expect(strstr(ut_errmsg(), bad[i].msg), "row %zu: %s", i, ut_errmsg());
		cr_expect_null(r);
	}
}
