/*
 * test_cms_dr.c - the designated requirement text derived from a signer chain.
 *
 * Oracle: the designated requirements codesign embedded in corpus files (slot
 * 2, type 3), decoded by hand from their bytes into the requirement language
 * (SEC reqdumper.cpp text forms).  Files whose DR was written by Xcode rather
 * than derived by codesign (swiftformat, terminal-notifier: "... or certificate
 * leaf[field.1.2.840.113635.100.6.1.9]") are left out.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_cms.h"
#include "test_cms_util.h"
#include "tsupport.h"
#include "ut_err.h"

#define DEVID_TAIL(team)                                                                                    \
	" and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and "   \
	"certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = " team
#define WWDR_TAIL(cn)                                                                                       \
	" and anchor apple generic and certificate leaf[subject.CN] = \"" cn "\" and certificate "        \
	"1[field.1.2.840.113635.100.6.2.1] /* exists */"

static const struct {
	const char *path, *identifier, *dr;
} corpus_drs[] = {
	{ "devid/libexpat.1.dylib", "libexpat.1", "identifier \"libexpat.1\"" DEVID_TAIL("EG7KH642X6") },
	{ "devid/microsoft-msoab-arm64.dylib", "com.microsoft.msoab",
	  "identifier \"com.microsoft.msoab\"" DEVID_TAIL("UBF8T346G9") },
	{ "devid/seas0npass-genpass", "genpass", "identifier genpass" DEVID_TAIL("\"9EUFEA5U7G\"") },
	{ "appledev/TestSwiftObjc-x86_64", "TestSwiftObjc",
	  "identifier TestSwiftObjc" WWDR_TAIL("Apple Development: Francesco Tamagni (EKF6CY57W8)") },
	{ "ios/TestRTTI-arm64", "com.nowsecure.TestRTTI",
	  "identifier \"com.nowsecure.TestRTTI\"" WWDR_TAIL("Apple Development: Francesco Tamagni (EKF6CY57W8)") },
	{ "ios/MASTestApp", "org.owasp.mastestapp.MASTestApp-iOS",
	  "identifier \"org.owasp.mastestapp.MASTestApp-iOS\"" WWDR_TAIL(
		  "Apple Development: perezholguera@hotmail.com (ZPS6MDSKNS)") },
	{ "bundles/signapple-universal-signed/signapple-test.app/Contents/MacOS/signapple-test",
	  "com.achow101.signapple-test",
	  "identifier \"com.achow101.signapple-test\"" WWDR_TAIL(
		  "Apple Development: andrew+apple@achow101.com (N393WR46N6)") },
	{ "apple/ls-sequoia", "com.apple.ls", "identifier \"com.apple.ls\" and anchor apple" },
	{ "apple/chess-x86_64", "com.apple.Chess", "identifier \"com.apple.Chess\" and anchor apple" },
	{ "appledev/santa-goodcert-selfsigned", "goodcert",
	  "identifier goodcert and certificate root = H\"a6843b655e811f43f07b0ae1b34ae8c7874b3d63\"" },
};

Test(cms_dr, derived_requirements_equal_the_ones_codesign_embedded)
{
	for (size_t i = 0; i < sizeof(corpus_drs) / sizeof(corpus_drs[0]); i++) {
		struct tc_sig *sigs;
		size_t n;
		struct cs_cms_result r;
		tc_sigs_load_verified(ts_corpus(corpus_drs[i].path), &sigs, &n, &r);
		char *dr = NULL;
		cr_assert_eq(cs_chain_designated_requirement(&dr, &r.chain, corpus_drs[i].identifier), 0);
		cr_expect_str_eq(dr, corpus_drs[i].dr, "%s", corpus_drs[i].path);
		free(dr);
		tc_sigs_free(sigs, n);
	}
}

/* SHA-1 of a PEM certificate, by the openssl CLI. */
static char *sha1_of(const char *pem)
{
	char *out = NULL;
	cr_assert_eq(tc_sh(&out, "openssl x509 -in '%s' -noout -fingerprint -sha1 | sed 's/.*=//' | tr -d ':\\n' | tr A-F a-f",
			   pem),
		     0);
	return out;
}

Test(cms_dr, test_pki_gives_the_developer_id_form)
{
	struct cs_identity *id = NULL;
	cr_assert_eq(cs_identity_load_p12(&id, tc_key("identity.p12"), tc_key("identity.pass"), tc_test_trust(0)), 0,
		     "%s", ut_errmsg());
	char *dr = NULL;
	cr_assert_eq(cs_chain_designated_requirement(&dr, cs_identity_chain(id), "com.utmapp.QEMUHelper"), 0);
	cr_expect_str_eq(dr, "identifier \"com.utmapp.QEMUHelper\"" DEVID_TAIL("UTMTEST123"));
	free(dr);
	cs_identity_free(id);
	/* the same chain without the test anchor is a non-Apple chain: the leaf's O differs from the CA's */
	cr_assert_eq(cs_identity_load_p12(&id, tc_key("identity.p12"), tc_key("identity.pass"), NULL), 0);
	cr_assert_eq(cs_chain_designated_requirement(&dr, cs_identity_chain(id), "x.y"), 0);
	char *leaf = sha1_of(tc_key("leaf.pem"));
	char want[256];
	snprintf(want, sizeof(want), "identifier \"x.y\" and certificate leaf = H\"%s\"", leaf);
	cr_expect_str_eq(dr, want);
	free(leaf);
	free(dr);
	cs_identity_free(id);
}

Test(cms_dr, self_signed_identity_pins_the_root)
{
	struct cs_identity *id = NULL;
	cr_assert_eq(cs_identity_load_pem(&id, tc_key("other.key"), tc_key("other.pem"), NULL, NULL, NULL), 0);
	char *dr = NULL;
	cr_assert_eq(cs_chain_designated_requirement(&dr, cs_identity_chain(id), "qemu-aarch64-softmmu"), 0);
	char *h = sha1_of(tc_key("other.pem"));
	char want[256];
	snprintf(want, sizeof(want), "identifier \"qemu-aarch64-softmmu\" and certificate root = H\"%s\"", h);
	cr_expect_str_eq(dr, want);
	free(h);
	free(dr);
	cs_identity_free(id);
}

Test(cms_dr, strings_are_quoted_and_escaped)
{
	struct cs_chain c;
	memset(&c, 0, sizeof(c));
	c.n = 1;
	c.anchor = CS_ANCHOR_APPLE_ROOT_CA;
	char *dr = NULL;
	cr_assert_eq(cs_chain_designated_requirement(&dr, &c, "a\"b\\c"), 0);
	cr_expect_str_eq(dr, "identifier \"a\\\"b\\\\c\" and anchor apple");
	free(dr);
	cr_assert_eq(cs_chain_designated_requirement(&dr, &c, "9lives"), 0);
	cr_expect_str_eq(dr, "identifier \"9lives\" and anchor apple");
	free(dr);
	cr_assert_eq(cs_chain_designated_requirement(&dr, &c, "Q9"), 0);
	cr_expect_str_eq(dr, "identifier Q9 and anchor apple");
	free(dr);
	c.n = 0;
	cr_expect_eq(cs_chain_designated_requirement(&dr, &c, "x"), UT_EINVAL);
	cr_expect_null(dr);
}
