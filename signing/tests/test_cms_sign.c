/*
 * test_cms_sign.c - cs_cms_sign with the TEST-ONLY PKI (testdata/keys), checked
 * by our verifier and by the openssl CLI (cms -verify, asn1parse, pkcs7,
 * ts), plus tamper cases and signatures made by the openssl CLI.
 */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_cms.h"
#include "test_cms_util.h"
#include "tsupport.h"
#include "ut_err.h"

#define T0 1700000000 /* 2023-11-14T22:13:20Z */

/* Two stand-in CodeDirectories: slot 0 (SHA-1) and the SHA-256 alternate. */
static uint8_t cd0[200], cd1[232];
static struct cs_cdhash cdh[2];
static char *dir;

static void make_cd(uint8_t *cd, size_t len, uint8_t hash_type, uint8_t fill)
{
	memset(cd, fill, len);
	cd[0] = 0xfa, cd[1] = 0xde, cd[2] = 0x0c, cd[3] = 0x02;
	cd[4] = 0, cd[5] = 0, cd[6] = (uint8_t)(len >> 8), cd[7] = (uint8_t)len;
	cd[37] = hash_type;
}

/* The expected cdhashes, computed here with EVP_Digest. */
static void oracle_cdh(struct cs_cdhash *c, uint32_t type, const uint8_t *cd, size_t len)
{
	unsigned int n;
	memset(c, 0, sizeof(*c));
	EVP_Digest(cd, len, c->digest, &n, type == 1 ? EVP_sha1() : EVP_sha256(), NULL);
	c->hash_type = type;
	c->len = n;
}

static void setup(void)
{
	make_cd(cd0, sizeof(cd0), 1, 0x11);
	make_cd(cd1, sizeof(cd1), 2, 0x22);
	oracle_cdh(&cdh[0], 1, cd0, sizeof(cd0));
	oracle_cdh(&cdh[1], 2, cd1, sizeof(cd1));
	dir = ts_tmpdir();
}

static void teardown(void)
{
	ts_rmtree(dir);
	free(dir);
}

static struct cs_identity *load_p12(void)
{
	struct cs_identity *id = NULL;
	int rc = cs_identity_load_p12(&id, tc_key("identity.p12"), tc_key("identity.pass"), tc_test_trust(0));
	cr_assert_eq(rc, 0, "%s", ut_errmsg());
	return id;
}

static uint8_t *sign(const struct cs_identity *id, int with_time, size_t *len)
{
	struct cs_cms_sign_opts o = { 0 };
	o.has_signing_time = with_time;
	o.signing_time = T0;
	uint8_t *sig = NULL;
	int rc = cs_cms_sign(&sig, len, id, cd0, sizeof(cd0), cdh, 2, &o);
	cr_assert_eq(rc, 0, "%s", ut_errmsg());
	return sig;
}

/* A signature by the PKCS#12 test identity. */
static uint8_t *sign_p12(int with_time, size_t *len)
{
	struct cs_identity *id = load_p12();
	uint8_t *sig = sign(id, with_time, len);
	cs_identity_free(id);
	return sig;
}

TestSuite(cms_sign, .init = setup, .fini = teardown);

Test(cms_sign, round_trip_through_our_verifier)
{
	size_t len;
	uint8_t *sig = sign_p12(1, &len);
	struct cs_cms_result r;
	int rc = cs_cms_verify(&r, sig, len, cd0, sizeof(cd0), cdh, 2, tc_test_trust(CS_TRUST_REQUIRE_ANCHOR));
	cr_assert_eq(rc, 0, "%s", ut_errmsg());
	cr_expect_eq(r.kind, CS_SIGNER_DEVELOPER_ID);
	cr_expect_eq(r.chain.anchor, CS_ANCHOR_LISTED);
	cr_expect(r.trusted);
	cr_expect_str_eq(r.team_id, "UTMTEST123");
	cr_expect_str_eq(r.digest, "sha256");
	cr_expect_eq(r.attrs, CS_CMS_ATTR_SIGNED | CS_CMS_ATTR_SIGNING_TIME | CS_CMS_ATTR_CDHASHES_PLIST |
				      CS_CMS_ATTR_CDHASHES2);
	cr_expect_eq(r.signing_time, T0);
	cr_expect_eq(r.ncdhashes_plist, 2);
	cr_expect_eq(r.ncdhashes2, 2);
	cr_assert_eq(r.chain.n, 3);
	cr_expect_str_eq(r.chain.certs[0].cn, "Developer ID Application: utmpatch Test (UTMTEST123)");
	cr_expect_str_eq(r.chain.certs[1].cn, "utmpatch TEST Developer ID Certification Authority");
	cr_expect_str_eq(r.chain.certs[2].cn, "utmpatch TEST Root CA");
	/* without the test anchor the same signature is "other", and refused when an anchor is required */
	cr_assert_eq(cs_cms_verify(&r, sig, len, cd0, sizeof(cd0), cdh, 2, NULL), 0);
	cr_expect_eq(r.kind, CS_SIGNER_OTHER);
	cr_expect_str_eq(r.team_id, "");
	struct cs_trust strict = { CS_TRUST_REQUIRE_ANCHOR, NULL, 0 };
	cr_expect_eq(cs_cms_verify(&r, sig, len, cd0, sizeof(cd0), cdh, 2, &strict), UT_EVERIFY);
	cr_expect(strstr(ut_errmsg(), "certificate chain does not end in a trusted anchor"), "%s", ut_errmsg());
	free(sig);
}

Test(cms_sign, openssl_cli_verifies_our_signatures)
{
	struct cs_identity *id = load_p12();
	for (int with_time = 0; with_time < 2; with_time++) {
		size_t len;
		uint8_t *sig = sign(id, with_time, &len);
		cr_expect_eq(tc_openssl_cms_verify(dir, sig, len, cd0, sizeof(cd0)), 0, "with_time=%d", with_time);
		struct cs_cms_result r;
		cr_expect_eq(cs_cms_verify(&r, sig, len, cd0, sizeof(cd0), cdh, 2, NULL), 0, "%s", ut_errmsg());
		cr_expect_eq(!!(r.attrs & CS_CMS_ATTR_SIGNING_TIME), with_time);
		free(sig);
	}
	cs_identity_free(id);
}

Test(cms_sign, openssl_decodes_the_attributes_codesign_writes)
{
	size_t len;
	uint8_t *sig = sign_p12(1, &len);
	struct tc_a1 *a;
	size_t n;
	char *p = tc_asn1parse_bytes(dir, "sig.der", sig, len, &a, &n);
	/* id-data, detached (the encapContentInfo holds only the OID), SHA-256 */
	long i = tc_a1_find(a, n, 0, ":pkcs7-data");
	cr_assert(i > 0);
	cr_expect_eq(a[i - 1].len, a[i].hl + a[i].len, "eContent present");
	cr_expect(tc_a1_find(a, n, 0, ":sha256") >= 0);
	/* contentType, signingTime, messageDigest */
	cr_expect(tc_a1_find(a, n, 0, ":contentType") >= 0);
	i = tc_a1_find(a, n, 0, ":signingTime");
	cr_assert(i >= 0);
	cr_expect(strstr(a[i + 2].text, "UTCTIME") && strstr(a[i + 2].text, ":231114221320Z"), "%s", a[i + 2].text);
	i = tc_a1_find(a, n, 0, ":messageDigest");
	cr_assert(i >= 0);
	uint8_t md[32];
	unsigned int mdlen;
	EVP_Digest(cd0, sizeof(cd0), md, &mdlen, EVP_sha256(), NULL);
	char *hex = tc_hex_upper(md, 32);
	cr_expect(strstr(a[i + 2].text, hex), "messageDigest %s", a[i + 2].text);
	free(hex);
	/* 100.9.2: SEQUENCE { sha1, full } and SEQUENCE { sha256, full } */
	i = tc_a1_find(a, n, 0, ":1.2.840.113635.100.9.2");
	cr_assert(i >= 0);
	const char *algs[2] = { ":sha1", ":sha256" };
	for (int k = 0; k < 2; k++) {
		long o = tc_a1_find(a, n, (size_t)i, algs[k]);
		cr_assert(o >= 0);
		char *h = tc_hex_upper(cdh[k].digest, cdh[k].len);
		cr_expect(strstr(a[o + 1].text, h), "cdhashes2[%d]: %s", k, a[o + 1].text);
		free(h);
	}
	/* 100.9.1: an OCTET STRING with the plist; its <data> are the truncated cdhashes in order */
	i = tc_a1_find(a, n, 0, ":1.2.840.113635.100.9.1");
	cr_assert(i >= 0);
	long o = tc_a1_find(a, n, (size_t)i, "OCTET STRING");
	char *xml = strndup((const char *)sig + a[o].off + a[o].hl, (size_t)a[o].len);
	char *x = tc_write(dir, "cdhashes.plist", xml, strlen(xml));
	char *out = NULL;
	cr_assert_eq(tc_sh(&out, "xmllint --xpath '//array/data/text()' '%s' | tr -d ' \\t\\n' | sed 's/=/=\\n/g'", x),
		     0);
	for (int k = 0; k < 2; k++) {
		char *b64 = out;
		char *nl = strchr(b64, '\n');
		cr_assert_not_null(nl);
		*nl = '\0';
		uint8_t d[64];
		cr_assert_eq(EVP_DecodeBlock(d, (const unsigned char *)b64, (int)strlen(b64)), 21);
		cr_expect_eq(memcmp(d, cdh[k].digest, 20), 0, "cdhashes[%d]", k);
		memmove(out, nl + 1, strlen(nl + 1) + 1);
	}
	cr_expect(strncmp(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist", 52) == 0);
	free(out);
	free(x);
	free(xml);
	free(a);
	/* the full chain, root included */
	cr_assert_eq(tc_sh(&out, "openssl pkcs7 -inform DER -in '%s' -print_certs -noout | grep -c '^subject='", p), 0);
	cr_expect_eq(atoi(out), 3);
	free(out);
	cr_assert_eq(tc_sh(&out, "openssl pkcs7 -inform DER -in '%s' -print_certs -noout", p), 0);
	cr_expect(strstr(out, "subject=C = US, O = utmpatch TEST, OU = utmpatch TEST Certification Authority, CN = "
			      "utmpatch TEST Root CA"));
	free(out);
	free(p);
	free(sig);
}

Test(cms_sign, without_signing_time_the_attribute_is_absent)
{
	size_t len;
	uint8_t *sig = sign_p12(0, &len);
	struct tc_a1 *a;
	size_t n;
	char *p = tc_asn1parse_bytes(dir, "sig.der", sig, len, &a, &n);
	cr_expect_eq(tc_a1_find(a, n, 0, ":signingTime"), -1);
	cr_expect(tc_a1_find(a, n, 0, ":messageDigest") >= 0);
	free(a);
	free(p);
	free(sig);
}

Test(cms_sign, pem_identity_signs_identically_to_the_p12)
{
	struct cs_identity *p12 = load_p12(), *pem = NULL;
	int rc = cs_identity_load_pem(&pem, tc_key("leaf.key"), tc_key("leaf.pem"), tc_key("chain.pem"), NULL,
				      tc_test_trust(0));
	cr_assert_eq(rc, 0, "%s", ut_errmsg());
	cr_expect_eq(cs_identity_chain(pem)->n, 3);
	size_t l1, l2;
	uint8_t *s1 = sign(p12, 1, &l1), *s2 = sign(pem, 1, &l2);
	cr_expect(l1 == l2 && memcmp(s1, s2, l1) == 0, "PKCS#12 and PEM signatures differ");
	free(s1);
	free(s2);
	cs_identity_free(p12);
	cs_identity_free(pem);
}

/* Offset of a byte inside the element of the first asn1parse line containing what. */
static size_t element_off(const uint8_t *sig, size_t len, const char *what, int next, int content)
{
	struct tc_a1 *a;
	size_t n;
	char *p = tc_asn1parse_bytes(dir, "t.der", sig, len, &a, &n);
	long i = tc_a1_find(a, n, 0, what);
	cr_assert(i >= 0, "%s not found", what);
	i += next;
	size_t off = (size_t)(a[i].off + a[i].hl + content);
	free(a);
	free(p);
	return off;
}

Test(cms_sign, tampering_is_detected_by_us_and_by_openssl)
{
	size_t len;
	uint8_t *sig = sign_p12(1, &len);
	struct cs_cms_result r;
	/* one byte of the CodeDirectory */
	uint8_t cd[sizeof(cd0)];
	memcpy(cd, cd0, sizeof(cd));
	cd[100] ^= 1;
	cr_expect_eq(cs_cms_verify(&r, sig, len, cd, sizeof(cd), cdh, 2, NULL), UT_EVERIFY);
	cr_expect_str_eq(ut_errmsg(), "CMS signature does not match the CodeDirectory");
	cr_expect_neq(tc_openssl_cms_verify(dir, sig, len, cd, sizeof(cd)), 0);
	/* one byte of the signature value (the last OCTET STRING of the SignerInfo) */
	uint8_t *t = malloc(len);
	memcpy(t, sig, len);
	t[len - 10] ^= 0x40;
	cr_expect_eq(cs_cms_verify(&r, t, len, cd0, sizeof(cd0), cdh, 2, NULL), UT_EVERIFY);
	cr_expect(strstr(ut_errmsg(), "signed attributes do not verify"), "%s", ut_errmsg());
	cr_expect_neq(tc_openssl_cms_verify(dir, t, len, cd0, sizeof(cd0)), 0);
	/* one byte of a signed attribute: the signing time's seconds digit */
	memcpy(t, sig, len);
	t[element_off(sig, len, ":signingTime", 2, 11)] ^= 0x01; /* "231114221320Z" -> "...21Z" */
	cr_expect_eq(cs_cms_verify(&r, t, len, cd0, sizeof(cd0), cdh, 2, NULL), UT_EVERIFY);
	cr_expect(strstr(ut_errmsg(), "signed attributes do not verify"), "%s", ut_errmsg());
	cr_expect_neq(tc_openssl_cms_verify(dir, t, len, cd0, sizeof(cd0)), 0);
	/* one byte of the cdhashes2 digest */
	memcpy(t, sig, len);
	t[element_off(sig, len, ":1.2.840.113635.100.9.2", 4, 3)] ^= 0x80;
	cr_expect_eq(cs_cms_verify(&r, t, len, cd0, sizeof(cd0), cdh, 2, NULL), UT_EVERIFY);
	cr_expect_neq(tc_openssl_cms_verify(dir, t, len, cd0, sizeof(cd0)), 0);
	free(t);
	free(sig);
}

Test(cms_sign, computed_cdhashes_must_match_the_attributes)
{
	size_t len;
	uint8_t *sig = sign_p12(1, &len);
	struct cs_cms_result r;
	struct cs_cdhash c[2];
	memcpy(c, cdh, sizeof(c));
	c[1].digest[3] ^= 1; /* inside the truncated 20 bytes: the plist no longer matches */
	cr_expect_eq(cs_cms_verify(&r, sig, len, cd0, sizeof(cd0), c, 2, NULL), UT_EVERIFY);
	cr_expect_str_eq(ut_errmsg(), "cdhashes attribute does not match the computed cdhashes");
	memcpy(c, cdh, sizeof(c));
	c[1].digest[25] ^= 1; /* past the truncation: only cdhashes2 sees it */
	cr_expect_eq(cs_cms_verify(&r, sig, len, cd0, sizeof(cd0), c, 2, NULL), UT_EVERIFY);
	cr_expect_str_eq(ut_errmsg(), "cdhashes2 attribute does not match the computed cdhashes");
	/* one CD fewer than signed */
	cr_expect_eq(cs_cms_verify(&r, sig, len, cd0, sizeof(cd0), cdh, 1, NULL), UT_EVERIFY);
	free(sig);
}

Test(cms_sign, out_of_order_attribute_values_verify_over_the_received_bytes)
{
	/*
	 * Swap the two cdhashes2 values (no longer DER SET OF order) and re-sign the
	 * attributes as they now stand with the openssl CLI.  openssl cms -verify
	 * re-encodes (sorts) them and fails; Apple verifies the bytes as received.
	 */
	size_t len;
	uint8_t *sig = sign_p12(1, &len);
	struct tc_a1 *a;
	size_t n;
	char *p = tc_asn1parse_bytes(dir, "sig.der", sig, len, &a, &n);
	long i = tc_a1_find(a, n, 0, ":1.2.840.113635.100.9.2");
	const struct tc_a1 *s1 = &a[i + 2], *s2 = &a[i + 5];
	cr_assert(strstr(s1->text, "SEQUENCE") && strstr(s2->text, "SEQUENCE"));
	size_t l1 = (size_t)(s1->hl + s1->len), l2 = (size_t)(s2->hl + s2->len);
	uint8_t *tmp = malloc(l1 + l2);
	memcpy(tmp, sig + s2->off, l2);
	memcpy(tmp + l2, sig + s1->off, l1);
	memcpy(sig + s1->off, tmp, l1 + l2);
	free(tmp);
	long at = -1;
	for (size_t k = 0; k < n && at < 0; k++)
		if (a[k].depth == 5 && strstr(a[k].text, "cont [ 0 ]"))
			at = (long)k;
	cr_assert(at >= 0);
	size_t alen = (size_t)(a[at].hl + a[at].len);
	uint8_t *attrs = malloc(alen);
	memcpy(attrs, sig + a[at].off, alen);
	attrs[0] = 0x31;
	char *ap = tc_write(dir, "attrs.bin", attrs, alen);
	char *sp = ts_path(dir, "s.bin");
	cr_assert_eq(tc_sh(NULL, "openssl dgst -sha256 -sign '%s' -out '%s' '%s'", tc_key("leaf.key"), sp, ap), 0);
	size_t slen;
	uint8_t *s = ts_read(sp, &slen);
	long so = -1;
	for (size_t k = 0; k < n; k++)
		if (a[k].depth == 5 && strstr(a[k].text, "OCTET STRING"))
			so = (long)k;
	cr_assert(so >= 0 && (size_t)a[so].len == slen);
	memcpy(sig + a[so].off + a[so].hl, s, slen);
	struct cs_cms_result r;
	cr_expect_eq(cs_cms_verify(&r, sig, len, cd0, sizeof(cd0), cdh, 2, tc_test_trust(CS_TRUST_REQUIRE_ANCHOR)), 0,
		     "%s", ut_errmsg());
	cr_expect_eq(r.attrs & CS_CMS_ATTR_CDHASHES2, CS_CMS_ATTR_CDHASHES2);
	cr_expect_neq(tc_openssl_cms_verify(dir, sig, len, cd0, sizeof(cd0)), 0, "openssl re-encodes and should fail");
	free(s);
	free(sp);
	free(ap);
	free(attrs);
	free(a);
	free(p);
	free(sig);
}

Test(cms_sign, openssl_cli_signatures_verify_with_and_without_signed_attributes)
{
	char *c = tc_write(dir, "cd.bin", cd0, sizeof(cd0));
	const char *variants[2] = { "-noattr", "" };
	for (int v = 0; v < 2; v++) {
		char *out = ts_path(dir, "cli.der");
		cr_assert_eq(tc_sh(NULL,
				   "openssl cms -sign -binary -md sha256 %s -nosmimecap -outform DER -in '%s' -signer '%s' "
				   "-inkey '%s' -certfile '%s' -out '%s'",
				   variants[v], c, tc_key("leaf.pem"), tc_key("leaf.key"), tc_key("chain.pem"), out),
			     0);
		size_t len;
		uint8_t *sig = ts_read(out, &len);
		struct cs_cms_result r;
		int rc = cs_cms_verify(&r, sig, len, cd0, sizeof(cd0), cdh, 2, tc_test_trust(0));
		cr_expect_eq(rc, 0, "%s: %s", variants[v], ut_errmsg());
		cr_expect_eq(r.attrs & CS_CMS_ATTR_SIGNED, v ? CS_CMS_ATTR_SIGNED : 0u);
		cr_expect_eq(r.kind, CS_SIGNER_DEVELOPER_ID);
		uint8_t cd[sizeof(cd0)];
		memcpy(cd, cd0, sizeof(cd));
		cd[50] ^= 4;
		cr_expect_eq(cs_cms_verify(&r, sig, len, cd, sizeof(cd), cdh, 2, NULL), UT_EVERIFY);
		cr_expect_str_eq(ut_errmsg(), "CMS signature does not match the CodeDirectory");
		free(sig);
		free(out);
	}
	free(c);
}

Test(cms_sign, other_identity_is_not_an_apple_kind)
{
	struct cs_identity *id = NULL;
	cr_assert_eq(cs_identity_load_pem(&id, tc_key("other.key"), tc_key("other.pem"), NULL, NULL, NULL), 0, "%s",
		     ut_errmsg());
	size_t len;
	uint8_t *sig = sign(id, 1, &len);
	struct cs_cms_result r;
	cr_assert_eq(cs_cms_verify(&r, sig, len, cd0, sizeof(cd0), cdh, 2, tc_test_trust(0)), 0, "%s", ut_errmsg());
	cr_expect_eq(r.kind, CS_SIGNER_OTHER);
	cr_expect_eq(r.chain.anchor, CS_ANCHOR_OTHER);
	cr_expect_eq(r.chain.n, 1);
	cr_expect_not(r.trusted);
	cr_expect_str_eq(r.team_id, "");
	cr_expect_eq(cs_cms_verify(&r, sig, len, cd0, sizeof(cd0), cdh, 2, tc_test_trust(CS_TRUST_REQUIRE_ANCHOR)),
		     UT_EVERIFY);
	cr_expect(strstr(ut_errmsg(), "certificate chain does not end in a trusted anchor"), "%s", ut_errmsg());
	free(sig);
	cs_identity_free(id);
}

Test(cms_sign, identity_errors)
{
	struct cs_identity *id = NULL;
	char *bad = tc_write(dir, "bad.pass", "wrong\n", 6);
	cr_expect_eq(cs_identity_load_p12(&id, tc_key("identity.p12"), bad, NULL), UT_EINVAL);
	cr_expect(strstr(ut_errmsg(), "wrong password"), "%s", ut_errmsg());
	cr_expect_null(id);
	cr_expect_eq(cs_identity_load_pem(&id, tc_key("other.key"), tc_key("leaf.pem"), tc_key("chain.pem"), NULL, NULL),
		     UT_EINVAL);
	cr_expect(strstr(ut_errmsg(), "private key does not match"), "%s", ut_errmsg());
	/* codesign includes the root: a leaf without its chain is refused */
	cr_expect_eq(cs_identity_load_pem(&id, tc_key("leaf.key"), tc_key("leaf.pem"), NULL, NULL, NULL), UT_EVERIFY);
	cr_expect(strstr(ut_errmsg(), "does not end in a trusted anchor"), "%s", ut_errmsg());
	struct cs_trust strict = { CS_TRUST_REQUIRE_ANCHOR, NULL, 0 };
	cr_expect_eq(cs_identity_load_p12(&id, tc_key("identity.p12"), tc_key("identity.pass"), &strict), UT_EVERIFY);
	cr_expect_eq(cs_identity_load_pem(&id, tc_key("leaf.pem"), tc_key("leaf.pem"), NULL, NULL, NULL), UT_EINVAL);
	cr_expect_eq(cs_identity_load_p12(&id, tc_key("leaf.pem"), NULL, NULL), UT_EMALFORMED);
	cr_expect_null(id);
	free(bad);
}

/* Timestamp hook backed by `openssl ts` with a throwaway TSA made in the test directory. */
static int ts_hook(void *ctx, const uint8_t *s, size_t slen, uint8_t **tst, size_t *tlen)
{
	const char *d = ctx;
	char *sp = tc_write(d, "sigval.bin", s, slen);
	int rc = tc_sh(NULL,
		       "cd '%s' && openssl ts -query -data sigval.bin -sha256 -cert -no_nonce -out q.tsq && "
		       "openssl ts -reply -config tsa.cnf -queryfile q.tsq -token_out -out tst.der",
		       d);
	free(sp);
	if (rc)
		return ut_fail(UT_ECRYPTO, "openssl ts failed");
	char *tp = ts_path(d, "tst.der");
	*tst = ts_read(tp, tlen);
	free(tp);
	return *tst ? 0 : UT_EIO;
}

struct saved_token {
	uint8_t *p;
	size_t len;
};

/* Returns a token made earlier, for some other signature value. */
static int replay_hook(void *ctx, const uint8_t *s, size_t slen, uint8_t **tst, size_t *tlen)
{
	const struct saved_token *t = ctx;
	(void)s;
	(void)slen;
	*tst = malloc(t->len);
	memcpy(*tst, t->p, t->len);
	*tlen = t->len;
	return 0;
}

Test(cms_sign, timestamp_hook_adds_a_token_that_verifies)
{
	int rc = tc_sh(NULL,
		       "cd '%s' && openssl req -x509 -newkey rsa:2048 -nodes -keyout tsa.key -out tsa.pem -days 30 "
		       "-subj '/CN=utmpatch TEST TSA' -addext 'extendedKeyUsage=critical,timeStamping' 2>/dev/null && "
		       "echo 01 > serial && printf '[ tsa ]\\ndefault_tsa = t\\n[ t ]\\nserial = serial\\n"
		       "signer_cert = tsa.pem\\nsigner_key = tsa.key\\ndefault_policy = 1.2.3.4\\ndigests = sha256\\n"
		       "signer_digest = sha256\\ness_cert_id_alg = sha256\\n' > tsa.cnf",
		       dir);
	cr_assert_eq(rc, 0);
	struct cs_identity *id = load_p12();
	struct cs_cms_sign_opts o = { 1, T0, ts_hook, dir };
	uint8_t *sig;
	size_t len;
	cr_assert_eq(cs_cms_sign(&sig, &len, id, cd0, sizeof(cd0), cdh, 2, &o), 0, "%s", ut_errmsg());
	struct cs_cms_result r;
	cr_assert_eq(cs_cms_verify(&r, sig, len, cd0, sizeof(cd0), cdh, 2, tc_test_trust(0)), 0, "%s", ut_errmsg());
	cr_expect(r.attrs & CS_CMS_ATTR_TIMESTAMP);
	cr_expect_str_eq(r.timestamp_authority, "utmpatch TEST TSA");
	int64_t now = (int64_t)time(NULL);
	cr_expect(r.timestamp > now - 300 && r.timestamp <= now + 5, "genTime %lld", (long long)r.timestamp);
	cr_expect_eq(tc_openssl_cms_verify(dir, sig, len, cd0, sizeof(cd0)), 0);
	/* a token made for another signature value is refused */
	char *tp = ts_path(dir, "tst.der");
	struct saved_token tok;
	tok.p = ts_read(tp, &tok.len);
	cr_assert_not_null(tok.p);
	free(sig);
	struct cs_cms_sign_opts o2 = { 0, 0, replay_hook, &tok }; /* no signingTime: another signature value */
	cr_assert_eq(cs_cms_sign(&sig, &len, id, cd0, sizeof(cd0), cdh, 2, &o2), 0, "%s", ut_errmsg());
	cr_expect_eq(cs_cms_verify(&r, sig, len, cd0, sizeof(cd0), cdh, 2, NULL), UT_EVERIFY);
	cr_expect_str_eq(ut_errmsg(), "timestamp does not match the CMS signature");
	free(sig);
	free(tok.p);
	free(tp);
	cs_identity_free(id);
}
