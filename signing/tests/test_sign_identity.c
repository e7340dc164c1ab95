/*
 * test_sign_identity.c - certificate signing with the TEST-ONLY PKI
 * (testdata/keys): the CMS checked by `openssl cms -verify` over the slot-0
 * CodeDirectory we extract ourselves and by cs_cms_verify with cdhashes from
 * EVP; team ID and designated requirement per codesign's rules (spec §4.3:
 * the Developer ID template, `and` nested to the right); agile signatures
 * signed over the SHA-1 CodeDirectory; a non-Apple chain gets no team ID.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cs_cms.h"
#include "cs_req.h"
#include "cs_sign.h"
#include "test_cms_util.h"
#include "test_sign_util.h"
#include "tsupport.h"
#include "ut_bytes.h"
#include "ut_err.h"

#define T0 1700000000

static char *dir;
static struct cs_identity *id;

static void setup(void)
{
	dir = ts_tmpdir();
	cr_assert_eq(cs_identity_load_p12(&id, tc_key("identity.p12"), tc_key("identity.pass"), tc_test_trust(0)), 0,
		     "%s", ut_errmsg());
}

static void teardown(void)
{
	cs_identity_free(id);
	ts_rmtree(dir);
	free(dir);
}

TestSuite(sign_identity, .init = setup, .fini = teardown);

static char *sign_copy(const char *fixture, const char *name, const struct cs_identity *who, int old_target)
{
	char *p = tsg_copy(dir, ts_fixture(fixture), name);
	if (old_target) { /* macOS 10.9: agile */
		size_t len;
		uint8_t *b = ts_read(p, &len);
		for (uint32_t off = 32, i = 0; i < ut_le32(b + 16); i++, off += ut_le32(b + off + 4))
			if (ut_le32(b + off) == 0x32)
				ut_put_le32(b + off + 12, 0x000a0900);
		FILE *fp = fopen(p, "wb");
		cr_assert(fp && fwrite(b, 1, len, fp) == len);
		fclose(fp);
		free(b);
	}
	struct cs_sign_opts o = { 0 };
	o.identity = who;
	o.signing_time = T0;
	o.identifier = "org.utmpatch.test";
	cr_assert_eq(cs_sign_file(p, NULL, &o, NULL), 0, "%s", ut_errmsg());
	return p;
}

/* openssl cms -verify of a slice's CMS over the given CD bytes (exit status). */
static int openssl_verify(const struct tsg_slice *s, const struct tsg_blob *cd)
{
	const struct tsg_blob *w = tsg_blob(s, 0x10000);
	cr_assert(w && w->len > 8);
	return tc_openssl_cms_verify(dir, w->p + 8, w->len - 8, cd->p, cd->len);
}

/* cs_cms_verify with cdhashes computed here (EVP), sorted by hash type. */
static void our_verify(const struct tsg_slice *s, struct cs_cms_result *r)
{
	struct cs_cdhash h[2];
	unsigned n = 0;
	const struct tsg_blob *cds[2] = { tsg_blob(s, 0), tsg_blob(s, 0x1000) };
	for (int i = 0; i < 2; i++) {
		if (!cds[i])
			continue;
		memset(&h[n], 0, sizeof(h[n]));
		h[n].hash_type = cds[i]->p[37];
		h[n].len = tsg_digest(cds[i]->p[37], cds[i]->p, cds[i]->len, h[n].digest);
		n++;
	}
	const struct tsg_blob *w = tsg_blob(s, 0x10000);
	cr_assert_eq(cs_cms_verify(r, w->p + 8, w->len - 8, cds[0]->p, cds[0]->len, h, n,
				   tc_test_trust(CS_TRUST_REQUIRE_ANCHOR)),
		     0, "%s", ut_errmsg());
}

Test(sign_identity, developer_id_shape_and_cms)
{
	char *p = sign_copy("arm64-exe", "tool", id, 0);
	struct tsg_file f;
	tsg_load(p, &f);
	cr_assert_eq(tsg_check(&f, TSG_CODESIGN), 1);
	const struct tsg_slice *s = &f.s[0];
	const struct tsg_blob *cd = tsg_blob(s, 0);
	cr_expect_eq(tsg_cd32(cd, 8), 0x20400);
	cr_expect_eq(tsg_cd32(cd, 12), 0, "no adhoc flag");
	cr_assert_neq(tsg_cd32(cd, 48), 0, "team ID present");
	cr_expect_str_eq((const char *)cd->p + tsg_cd32(cd, 48), "UTMTEST123");
	cr_expect_eq(openssl_verify(s, cd), 0, "openssl cms -verify");
	struct cs_cms_result r;
	our_verify(s, &r);
	cr_expect_eq(r.kind, CS_SIGNER_DEVELOPER_ID);
	cr_expect_str_eq(r.team_id, "UTMTEST123");
	cr_expect_eq(r.signing_time, T0);
	cr_expect_eq(r.ncdhashes2, 1);
	/* The designated requirement (spec §4.3 Developer ID template). */
	const struct tsg_blob *req = tsg_blob(s, 2);
	struct ut_buf text;
	ut_buf_init(&text, 0);
	cr_assert_eq(cs_req_set_text(req->p, req->len, &text), 0, "%s", ut_errmsg());
	cr_expect_str_eq((const char *)text.p,
			 "designated => identifier \"org.utmpatch.test\" and anchor apple generic and "
			 "certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and "
			 "certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and "
			 "certificate leaf[subject.OU] = UTMTEST123\n");
	ut_buf_release(&text);
	/* `and` nested to the right: and(ident, and(anchor, ...)), not and(and(and(...))). */
	const uint8_t *e = req->p + ut_be32(req->p + 16) + 12;
	cr_expect_eq(ut_be32(e), 6);
	cr_expect_eq(ut_be32(e + 4), 2, "identifier right after the first and");
	uint32_t sl = ut_be32(e + 8);
	const uint8_t *next = e + 12 + ((sl + 3) & ~3u);
	cr_expect_eq(ut_be32(next), 6);
	cr_expect_eq(ut_be32(next + 4), 15, "anchor apple generic next");
	tsg_free(&f);
	free(p);
}

Test(sign_identity, agile_signature_signs_the_sha1_code_directory)
{
	char *p = sign_copy("arm64-exe", "tool", id, 1);
	struct tsg_file f;
	tsg_load(p, &f);
	cr_assert_eq(tsg_check(&f, TSG_CODESIGN), 2);
	const struct tsg_slice *s = &f.s[0];
	cr_expect_eq(tsg_blob(s, 0)->p[37], 1);
	cr_expect_eq(openssl_verify(s, tsg_blob(s, 0)), 0, "CMS over the SHA-1 CD");
	cr_expect_neq(openssl_verify(s, tsg_blob(s, 0x1000)), 0, "not over the SHA-256 CD");
	struct cs_cms_result r;
	our_verify(s, &r);
	cr_expect_eq(r.ncdhashes2, 2);
	cr_expect_eq(r.ncdhashes_plist, 2);
	tsg_free(&f);
	free(p);
}

Test(sign_identity, pem_identity_gives_the_same_bytes)
{
	struct cs_identity *pem = NULL;
	cr_assert_eq(cs_identity_load_pem(&pem, tc_key("leaf.key"), tc_key("leaf.pem"), tc_key("chain.pem"), NULL,
					  tc_test_trust(0)),
		     0, "%s", ut_errmsg());
	char *da = ts_path(dir, "a"), *db = ts_path(dir, "b");
	cr_assert(mkdir(da, 0755) == 0 && mkdir(db, 0755) == 0);
	char *a = sign_copy("arm64-dylib", "a/libx.dylib", id, 0);
	char *b = sign_copy("arm64-dylib", "b/libx.dylib", pem, 0);
	cr_expect(ts_same_file(a, b));
	cs_identity_free(pem);
	free(a);
	free(b);
}

Test(sign_identity, universal_file_every_slice_signed)
{
	char *p = sign_copy("fat-dylib", "libfat.dylib", id, 0);
	struct tsg_file f;
	tsg_load(p, &f);
	cr_assert_eq(tsg_check(&f, TSG_CODESIGN | TSG_NO_CLI), 2);
	for (unsigned i = 0; i < f.n; i++) {
		cr_expect_eq(openssl_verify(&f.s[i], tsg_blob(&f.s[i], 0)), 0, "slice %u", i);
		struct cs_cms_result r;
		our_verify(&f.s[i], &r);
	}
	tsg_free(&f);
	free(p);
}

Test(sign_identity, non_apple_chain_has_no_team_id)
{
	struct cs_identity *other = NULL;
	cr_assert_eq(cs_identity_load_pem(&other, tc_key("other.key"), tc_key("other.pem"), NULL, NULL, NULL), 0, "%s",
		     ut_errmsg());
	char *p = sign_copy("arm64-dylib", "libother.dylib", other, 0);
	struct tsg_file f;
	tsg_load(p, &f);
	const struct tsg_blob *cd = tsg_blob(&f.s[0], 0);
	cr_expect_eq(tsg_cd32(cd, 48), 0, "no team ID");
	char *sha1 = NULL;
	cr_assert_eq(tc_sh(&sha1, "openssl x509 -in '%s' -outform DER | openssl dgst -sha1 -r | cut -c1-40",
			   tc_key("other.pem")),
		     0);
	sha1[40] = '\0';
	struct ut_buf text;
	ut_buf_init(&text, 0);
	const struct tsg_blob *req = tsg_blob(&f.s[0], 2);
	cr_assert_eq(cs_req_set_text(req->p, req->len, &text), 0);
	char want[256];
	snprintf(want, sizeof(want), "designated => identifier \"org.utmpatch.test\" and certificate root = H\"%s\"\n", sha1);
	cr_expect_str_eq((const char *)text.p, want);
	ut_buf_release(&text);
	tsg_free(&f);
	free(sha1);
	free(p);
	cs_identity_free(other);
}

/* Re-signed ad-hoc: codesign_allocate keeps the input's bytes after the new (smaller) SuperBlob. */
Test(sign_identity, adhoc_over_identity_keeps_old_bytes_in_the_reserved_area)
{
	char *p = sign_copy("arm64-exe", "tool", id, 0);
	size_t olen;
	uint8_t *old = ts_read(p, &olen);
	struct cs_sign_opts o = { 0 };
	o.preserve = CS_PRESERVE_IDENTIFIER;
	struct cs_sign_report rep;
	cr_assert_eq(cs_sign_file(p, NULL, &o, &rep), 0, "%s", ut_errmsg());
	cr_expect_str_eq(rep.identifier, "org.utmpatch.test");
	struct tsg_file f;
	tsg_load(p, &f);
	cr_expect_eq(tsg_check(&f, TSG_CODESIGN), 1);
	const struct tsg_slice *s = &f.s[0];
	size_t end = s->dataoff + s->sb_len;
	cr_assert_lt(end, olen);
	cr_expect(!memcmp(f.data + end, old + end, (f.len < olen ? f.len : olen) - end));
	tsg_free(&f);
	free(old);
	free(p);
}
