/*
 * test_cms_malformed.c - malformed and unsupported CMS inputs: one table of
 * {input, expected code, message substring}.  Inputs are built in the test
 * from a good signature, or with the openssl CLI (cms -sign/-encrypt variants).
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_cms.h"
#include "test_cms_util.h"
#include "tsupport.h"
#include "ut_err.h"

static uint8_t cd0[160];
static struct cs_cdhash cdh;
static char *dir;

static void setup(void)
{
	unsigned int n;
	memset(cd0, 0x5a, sizeof(cd0));
	cd0[37] = 2;
	memset(&cdh, 0, sizeof(cdh));
	EVP_Digest(cd0, sizeof(cd0), cdh.digest, &n, EVP_sha256(), NULL);
	cdh.hash_type = 2;
	cdh.len = n;
	dir = ts_tmpdir();
}

static void teardown(void)
{
	ts_rmtree(dir);
	free(dir);
}

TestSuite(cms_malformed, .init = setup, .fini = teardown);

static uint8_t *good(size_t *len)
{
	struct cs_identity *id = NULL;
	cr_assert_eq(cs_identity_load_p12(&id, tc_key("identity.p12"), tc_key("identity.pass"), NULL), 0);
	uint8_t *sig;
	cr_assert_eq(cs_cms_sign(&sig, len, id, cd0, sizeof(cd0), &cdh, 1, NULL), 0, "%s", ut_errmsg());
	cs_identity_free(id);
	return sig;
}

/* Runs `openssl cms <args>` over cd0 in dir and returns the DER output. */
static uint8_t *cli(const char *args, size_t *len)
{
	char *c = tc_write(dir, "cd.bin", cd0, sizeof(cd0));
	char *o = ts_path(dir, "out.der");
	int rc = tc_sh(NULL, "cd '%s' && openssl cms %s -binary -outform DER -in '%s' -out '%s'", ts_root("testdata/keys"),
		       args, c, o);
	cr_assert_eq(rc, 0, "openssl cms %s", args);
	uint8_t *p = ts_read(o, len);
	free(c);
	free(o);
	return p;
}

struct row {
	const char *what;
	uint8_t *p;
	size_t len;
	int code;
	const char *msg;
};

Test(cms_malformed, table)
{
	size_t glen;
	uint8_t *g = good(&glen);
	struct row rows[16];
	int n = 0;
	rows[n++] = (struct row){ "empty", malloc(1), 0, UT_EMALFORMED, "CMS signature does not decode" };
	rows[n] = (struct row){ "garbage", malloc(64), 64, UT_EMALFORMED, "CMS signature does not decode" };
	memset(rows[n++].p, 0x41, 64);
	rows[n] = (struct row){ "truncated", malloc(glen / 2), glen / 2, UT_EMALFORMED, "does not decode" };
	memcpy(rows[n++].p, g, glen / 2);
	rows[n] = (struct row){ "trailing byte", malloc(glen + 1), glen + 1, UT_EMALFORMED, "non-zero bytes after its end" };
	memcpy(rows[n].p, g, glen);
	rows[n++].p[glen] = 1;
	rows[n] = (struct row){ "zero padding", calloc(1, glen + 64), glen + 64, 0, "" };
	memcpy(rows[n++].p, g, glen);
	rows[n].what = "encrypted data";
	rows[n].p = cli("-EncryptedData_encrypt -aes128 -secretkey 000102030405060708090a0b0c0d0e0f", &rows[n].len);
	rows[n].code = UT_EUNSUPPORTED, rows[n++].msg = "CMS signature is not SignedData";
	rows[n].what = "two signers";
	rows[n].p = cli("-sign -md sha256 -signer leaf.pem -inkey leaf.key -signer other.pem -inkey other.key", &rows[n].len);
	rows[n].code = UT_EUNSUPPORTED, rows[n++].msg = "CMS signature has 2 signers, expected one";
	rows[n].what = "attached content";
	rows[n].p = cli("-sign -nodetach -md sha256 -signer leaf.pem -inkey leaf.key -certfile chain.pem", &rows[n].len);
	rows[n].code = UT_EMALFORMED, rows[n++].msg = "CMS signature is not detached";
	rows[n].what = "no certificates";
	rows[n].p = cli("-sign -nocerts -md sha256 -signer leaf.pem -inkey leaf.key", &rows[n].len);
	rows[n].code = UT_EVERIFY, rows[n++].msg = "does not carry its signer's certificate";
	rows[n].what = "other content type";
	rows[n].p = cli("-sign -econtent_type 1.2.3.4 -md sha256 -signer leaf.pem -inkey leaf.key -certfile chain.pem",
			&rows[n].len);
	rows[n].code = UT_EUNSUPPORTED, rows[n++].msg = "content type is not id-data";
	rows[n].what = "RSASSA-PSS";
	rows[n].p = cli("-sign -md sha256 -signer leaf.pem -inkey leaf.key -certfile chain.pem -keyopt "
			"rsa_padding_mode:pss",
			&rows[n].len);
	rows[n].code = UT_EUNSUPPORTED, rows[n++].msg = "RSASSA-PSS";
	rows[n].what = "chain without its root";
	rows[n].p = cli("-sign -md sha256 -signer leaf.pem -inkey leaf.key -certfile devid-ca.pem", &rows[n].len);
	rows[n].code = UT_EVERIFY, rows[n++].msg = "certificate chain does not end in a trusted anchor: the issuer of "
						   "'utmpatch TEST Developer ID Certification Authority'";
	for (int i = 0; i < n; i++) {
		struct cs_cms_result r;
		int rc = cs_cms_verify(&r, rows[i].p, rows[i].len, cd0, sizeof(cd0), &cdh, 1, NULL);
		cr_expect_eq(rc, rows[i].code, "%s: %d (%s)", rows[i].what, rc, ut_errmsg());
		if (rows[i].code)
			cr_expect(strstr(ut_errmsg(), rows[i].msg), "%s: '%s'", rows[i].what, ut_errmsg());
		free(rows[i].p);
	}
	free(g);
}

Test(cms_malformed, cdhashes_must_be_sorted)
{
	size_t len;
	uint8_t *g = good(&len);
	struct cs_cdhash two[2] = { cdh, cdh };
	two[1].hash_type = 1;
	struct cs_cms_result r;
	cr_expect_eq(cs_cms_verify(&r, g, len, cd0, sizeof(cd0), two, 2, NULL), UT_EINVAL);
	struct cs_identity *id = NULL;
	cr_assert_eq(cs_identity_load_p12(&id, tc_key("identity.p12"), tc_key("identity.pass"), NULL), 0);
	uint8_t *sig = NULL;
	cr_expect_eq(cs_cms_sign(&sig, &len, id, cd0, sizeof(cd0), two, 2, NULL), UT_EINVAL);
	cr_expect_null(sig);
	cs_identity_free(id);
	free(g);
}

static int bad_token(void *ctx, const uint8_t *s, size_t slen, uint8_t **tst, size_t *tlen)
{
	static const uint8_t seq[] = { 0x30, 0x03, 0x02, 0x01, 0x00 }; /* SEQUENCE { INTEGER 0 } */
	(void)ctx, (void)s, (void)slen;
	*tst = malloc(sizeof(seq));
	memcpy(*tst, seq, sizeof(seq));
	*tlen = sizeof(seq);
	return 0;
}

static int failing_tsa(void *ctx, const uint8_t *s, size_t slen, uint8_t **tst, size_t *tlen)
{
	(void)ctx, (void)s, (void)slen, (void)tst, (void)tlen;
	return ut_fail(UT_EIO, "no network");
}

Test(cms_malformed, timestamp_tokens)
{
	struct cs_identity *id = NULL;
	cr_assert_eq(cs_identity_load_p12(&id, tc_key("identity.p12"), tc_key("identity.pass"), NULL), 0);
	struct cs_cms_sign_opts o = { 0, 0, bad_token, NULL };
	uint8_t *sig;
	size_t len;
	cr_assert_eq(cs_cms_sign(&sig, &len, id, cd0, sizeof(cd0), &cdh, 1, &o), 0);
	struct cs_cms_result r;
	cr_expect_eq(cs_cms_verify(&r, sig, len, cd0, sizeof(cd0), &cdh, 1, NULL), UT_EMALFORMED);
	cr_expect(strstr(ut_errmsg(), "timestamp token is not a SignedData TSTInfo"), "%s", ut_errmsg());
	free(sig);
	o.timestamp = failing_tsa;
	sig = NULL;
	cr_expect_eq(cs_cms_sign(&sig, &len, id, cd0, sizeof(cd0), &cdh, 1, &o), UT_EIO);
	cr_expect_str_eq(ut_errmsg(), "timestamp: no network");
	cr_expect_null(sig);
	cs_identity_free(id);
}

Test(cms_malformed, blob_wrapper)
{
	struct ut_span pl;
	static const uint8_t empty[] = { 0xfa, 0xde, 0x0b, 0x01, 0, 0, 0, 8 };
	cr_expect_eq(cs_cms_unwrap(&pl, empty, sizeof(empty)), 0);
	cr_expect_eq(pl.len, 0);
	static const uint8_t padded[] = { 0xfa, 0xde, 0x0b, 0x01, 0, 0, 0, 10, 0x30, 0x00, 0, 0 };
	cr_expect_eq(cs_cms_unwrap(&pl, padded, sizeof(padded)), 0);
	cr_expect_eq(pl.len, 2);
	cr_expect_eq(pl.p, padded + 8);
	static const struct {
		uint8_t b[8];
		size_t len;
		const char *msg;
	} bad[] = {
		{ { 0xfa, 0xde, 0x0b, 0x01 }, 4, "below the 8-byte header" },
		{ { 0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 8 }, 8, "magic 0xfade0c01, expected 0xfade0b01" },
		{ { 0xfa, 0xde, 0x0b, 0x01, 0, 0, 0, 9 }, 8, "length 9 outside 8..8" },
		{ { 0xfa, 0xde, 0x0b, 0x01, 0, 0, 0, 4 }, 8, "length 4 outside 8..8" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(cs_cms_unwrap(&pl, bad[i].b, bad[i].len), UT_EMALFORMED);
		cr_expect(strstr(ut_errmsg(), bad[i].msg), "row %zu: %s", i, ut_errmsg());
	}
	struct ut_buf b;
	ut_buf_init(&b, 0);
	cr_assert_eq(cs_cms_wrap(&b, (const uint8_t *)"\x30\x00", 2), 0);
	cr_expect_eq(b.len, 10);
	cr_expect_eq(memcmp(b.p, "\xfa\xde\x0b\x01\x00\x00\x00\x0a\x30\x00", 10), 0);
	ut_buf_release(&b);
}
