/*
 * test_bverify_req.c - the requirement interpreter.  Oracles: the designated
 * requirements codesign embedded in the real Apple-signed corpus files must be
 * satisfied by those same files (Apple platform `anchor apple`, Developer ID
 * with and without the Mac App Store branch, Apple Development, a self-signed
 * `certificate root = H"..."`), and not by other signers' files; certificate
 * details are compared with `openssl pkcs7 -print_certs -text`.  Operations
 * are also checked one by one on hand-built code descriptions.
 */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_bverify_req.h"
#include "cs_embedded.h"
#include "cs_req.h"
#include "cs_verify.h"
#include "mo_file.h"
#include "tcorpus.h"
#include "tsupport.h"
#include "ut_buf.h"
#include "ut_err.h"
#include "ut_file.h"

/* One slice of a corpus file: verdict, designated requirement, certificate details. */
struct slice_ctx {
	struct cs_verify_slice vs;
	uint8_t *dr;
	size_t dr_len;
	struct cs_certx *certx;
	uint8_t *cms;
	size_t cms_len;
	int platform;
};

static int load_slices(const char *rel, struct slice_ctx *out, int max)
{
	char p[1024];
	struct ut_src src;
	struct mo_file *f = NULL;
	cr_assert_eq(ut_src_open(&src, tc_path(rel, p, sizeof(p))), 0, "%s", ut_errmsg());
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s: %s", rel, ut_errmsg());
	struct cs_verify_result r;
	cr_assert_eq(cs_verify_file(&r, f, NULL), 0, "%s: %s", rel, ut_errmsg());
	int n = 0;
	for (unsigned i = 0; i < r.nslices && n < max; i++) {
		struct slice_ctx *s = &out[n];
		memset(s, 0, sizeof(*s));
		s->vs = r.slices[i];
		struct cs_slice_layout lay;
		struct cs_embedded e;
		if (cs_slice_layout_read(&lay, f, &f->slices[i]) != 0 || cs_embedded_load(&e, f, &f->slices[i], &lay) != 0)
			continue;
		s->platform = cs_embedded_best(&e)->cd.platform;
		if (e.requirements.p) {
			struct cs_req_set set;
			cr_assert_eq(cs_req_set_parse(&set, e.requirements.p, e.requirements.length), 0);
			for (uint32_t k = 0; k < set.count; k++)
				if (set.entries[k].type == kSecDesignatedRequirementType) {
					s->dr_len = set.entries[k].blob.length;
					s->dr = malloc(s->dr_len);
					memcpy(s->dr, set.entries[k].blob.p, s->dr_len);
				}
		}
		if (s->vs.cms_verified) {
			s->cms_len = e.cms.len;
			s->cms = malloc(s->cms_len);
			memcpy(s->cms, e.cms.p, s->cms_len);
			s->certx = calloc(s->vs.cms.chain.n, sizeof(*s->certx));
			cr_assert_eq(cs_certx_read(s->certx, &s->vs.cms.chain, e.cms.p, e.cms.len), 0, "%s: %s", rel,
				     ut_errmsg());
		}
		cs_embedded_release(&e);
		n++;
	}
	cs_verify_result_release(&r);
	mo_file_free(f);
	ut_src_release(&src);
	return n;
}

static void free_slices(struct slice_ctx *s, int n)
{
	for (int i = 0; i < n; i++) {
		free(s[i].dr);
		free(s[i].certx);
		free(s[i].cms);
	}
}

static void code_of(struct cs_req_code *c, struct slice_ctx *s, int with_certx)
{
	memset(c, 0, sizeof(*c));
	c->identifier = s->vs.identifier;
	c->cdhash = s->vs.cds[s->vs.best].cdhash.digest;
	c->platform = s->platform;
	c->chain = s->vs.cms_verified ? &s->vs.cms.chain : NULL;
	c->certx = with_certx ? s->certx : NULL;
}

static char *dr_text(const struct slice_ctx *s)
{
	struct ut_buf b;
	ut_buf_init(&b, 0);
	cr_assert_eq(cs_req_text(s->dr, s->dr_len, &b), 0);
	return (char *)b.p;
}

Test(bverify_req, corpus_code_satisfies_its_own_designated_requirement)
{
	int evaluated = 0, apple = 0, devid_or = 0, selfsigned = 0;
	for (const char *const *rel = tc_signed(); *rel; rel++) {
		struct slice_ctx s[8];
		int n = load_slices(*rel, s, 8);
		for (int i = 0; i < n; i++) {
			if (!s[i].dr || !s[i].vs.valid)
				continue;
			char *text = dr_text(&s[i]);
			for (int with = 0; with < 2; with++) {
				struct cs_req_code c;
				code_of(&c, &s[i], with);
				enum cs_req_verdict v;
				char why[512];
				cr_assert_eq(cs_req_eval(&v, s[i].dr, s[i].dr_len, &c, why, sizeof(why)), 0, "%s", ut_errmsg());
				if (with)
					cr_expect_eq(v, CS_REQ_TRUE, "%s %s: '%s' -> %s (%s)", *rel, s[i].vs.arch, text,
						     cs_req_verdict_name(v), why);
				else
					cr_expect_neq(v, CS_REQ_FALSE, "%s %s without details: %s", *rel, s[i].vs.arch, why);
				/* The text form compiles to something with the same verdict. */
				enum cs_req_verdict vt;
				cr_assert_eq(cs_req_eval_text(&vt, text, &c, NULL, 0), 0, "%s: %s", text, ut_errmsg());
				cr_expect_eq(vt, v, "%s", text);
			}
			evaluated++;
			apple += strstr(text, "anchor apple and") != NULL || strstr(text, "and anchor apple") != NULL;
			devid_or += strstr(text, "100.6.1.9") != NULL;
			selfsigned += strstr(text, "certificate root = H") != NULL;
			free(text);
		}
		free_slices(s, n);
	}
	cr_expect_geq(evaluated, 12, "%d designated requirements evaluated", evaluated);
	cr_expect_geq(apple, 2, "Apple platform requirements");
	cr_expect_geq(devid_or, 2, "Developer ID requirements with the Mac App Store branch");
	cr_expect_geq(selfsigned, 1, "self-signed requirements");
}

/* Another signer's requirement is not satisfied, and the reason names what differs. */
Test(bverify_req, other_signers_requirements_fail_with_the_reason)
{
	struct slice_ctx tn[1], sw[2], dev[1], gs[1];
	cr_assert_eq(load_slices("bundles/terminal-notifier-2014/terminal-notifier.app/Contents/MacOS/terminal-notifier",
				 tn, 1), 1);
	cr_assert_geq(load_slices("devid/swiftformat-0.47.8-devid-universal-entxml-only", sw, 2), 1);
	cr_assert_eq(load_slices("appledev/TestSwiftObjc-x86_64", dev, 1), 1);
	cr_assert_eq(load_slices("appledev/santa-goodcert-selfsigned", gs, 1), 1);
	struct cs_req_code c;
	enum cs_req_verdict v;
	char why[512];
	/* terminal-notifier's requirement against swiftformat: same kind of signer, other identifier and team */
	code_of(&c, &sw[0], 1);
	cr_assert_eq(cs_req_eval(&v, tn[0].dr, tn[0].dr_len, &c, why, sizeof(why)), 0);
	cr_expect_eq(v, CS_REQ_FALSE);
	cr_expect(strstr(why, "identifier \"nl.superalloy.oss.terminal-notifier\"") && strstr(why, "swiftformat"), "%s", why);
	/* A Developer ID requirement against Apple Development code: the 6.2.6 intermediate is absent */
	char *text = dr_text(&sw[0]);
	char *id = strstr(text, "identifier swiftformat");
	cr_assert(id);
	char edited[2048];
	snprintf(edited, sizeof(edited), "%.*sidentifier TestSwiftObjc%s", (int)(id - text), text,
		 id + strlen("identifier swiftformat"));
	code_of(&c, &dev[0], 1);
	cr_assert_eq(cs_req_eval_text(&v, edited, &c, why, sizeof(why)), 0, "%s: %s", edited, ut_errmsg());
	cr_expect_eq(v, CS_REQ_FALSE, "%s", why);
	cr_expect(strstr(why, "100.6.2.6") || strstr(why, "OU"), "%s", why);
	free(text);
	/* The self-signed root hash against another chain */
	code_of(&c, &tn[0], 1);
	cr_assert_eq(cs_req_eval(&v, gs[0].dr, gs[0].dr_len, &c, why, sizeof(why)), 0);
	cr_expect_eq(v, CS_REQ_FALSE);
	/* Ad-hoc code fails every certificate requirement */
	struct slice_ctx ad[1];
	cr_assert_eq(load_slices("adhoc/WheresMyBrowser-arm64", ad, 1), 1);
	code_of(&c, &ad[0], 1);
	cr_assert_eq(cs_req_eval(&v, dev[0].dr, dev[0].dr_len, &c, why, sizeof(why)), 0);
	cr_expect_eq(v, CS_REQ_FALSE);
	cr_expect(strstr(why, "WheresMyBrowser") || strstr(why, "no certificate chain"), "%s", why);
	free_slices(tn, 1);
	free_slices(sw, 1);
	free_slices(dev, 1);
	free_slices(gs, 1);
	free_slices(ad, 1);
}

/* Subject attributes and extension OIDs agree with openssl's own dump of the CMS certificates. */
Test(bverify_req, certificate_details_match_openssl)
{
	struct slice_ctx s[1];
	cr_assert_eq(load_slices("bundles/terminal-notifier-2014/terminal-notifier.app/Contents/MacOS/terminal-notifier", s,
				 1), 1);
	cr_assert(s[0].certx);
	char *dir = ts_tmpdir();
	char *der = ts_path(dir, "cms.der");
	FILE *fp = fopen(der, "wb");
	cr_assert(fp);
	fwrite(s[0].cms, 1, s[0].cms_len, fp);
	fclose(fp);
	char cmd[2048], *out = NULL, *err = NULL;
	snprintf(cmd, sizeof(cmd), "openssl pkcs7 -inform DER -in '%s' -print_certs -text -noout", der);
	cr_assert_eq(ts_sh(cmd, &out, &err), 0, "%s", err);
	const struct cs_chain *ch = &s[0].vs.cms.chain;
	cr_assert_geq(ch->n, 3);
	/* every extension OID we list for the leaf appears in openssl's dump (Apple's by number) */
	int apple_exts = 0;
	for (unsigned i = 0; i < s[0].certx[0].nexts; i++)
		if (strncmp(s[0].certx[0].exts[i], "1.2.840.113635.", 15) == 0) {
			cr_expect(strstr(out, s[0].certx[0].exts[i]), "%s not in openssl output", s[0].certx[0].exts[i]);
			apple_exts++;
		}
	cr_expect_geq(apple_exts, 1);
	/* subject: OU and UID of the leaf */
	int ou = 0, uid = 0;
	for (unsigned i = 0; i < s[0].certx[0].nattrs; i++) {
		const struct cs_certx_attr *a = &s[0].certx[0].attrs[i];
		char want[300];
		if (strcmp(a->key, "OU") == 0 || strcmp(a->key, "UID") == 0) {
			snprintf(want, sizeof(want), "%s=%s", strcmp(a->key, "OU") == 0 ? "OU" : "UID", a->value);
			cr_expect(strstr(out, want), "'%s' not in openssl output", want);
			ou += a->key[0] == 'O';
			uid += a->key[0] == 'U';
		}
	}
	cr_expect_eq(ou, 1);
	cr_expect_eq(uid, 1);
	/* the intermediate is the Developer ID CA (1.2.840.113635.100.6.2.6) */
	int ca = 0;
	for (unsigned i = 0; i < s[0].certx[1].nexts; i++)
		ca |= strcmp(s[0].certx[1].exts[i], "1.2.840.113635.100.6.2.6") == 0;
	cr_expect(ca);
	free(out);
	free(err);
	ts_rmtree(dir);
	free_slices(s, 1);
}

/* ---- operations on hand-built code ---- */

static struct cs_cert_info certs3[3];
static struct cs_certx certx3[3];
static struct cs_chain chain3;

static void fake_chain(void)
{
	memset(&chain3, 0, sizeof(chain3));
	chain3.n = 3;
	chain3.anchor = CS_ANCHOR_APPLE_ROOT_CA;
	strcpy(chain3.certs[0].cn, "Developer ID Application: Test (ABCDE12345)");
	strcpy(chain3.certs[0].ou, "ABCDE12345");
	strcpy(chain3.certs[0].o, "Test Org");
	chain3.certs[0].marks = CS_CERT_DEVID_LEAF;
	strcpy(chain3.certs[1].cn, "Developer ID Certification Authority");
	chain3.certs[1].marks = CS_CERT_DEVID_CA;
	strcpy(chain3.certs[2].cn, "Apple Root CA");
	for (int i = 0; i < 3; i++)
		memset(chain3.certs[i].sha1, 0x11 * (i + 1), 20);
	memset(certx3, 0, sizeof(certx3));
	certx3[0].nattrs = 3;
	strcpy(certx3[0].attrs[0].key, "CN");
	strcpy(certx3[0].attrs[0].value, chain3.certs[0].cn);
	strcpy(certx3[0].attrs[1].key, "OU");
	strcpy(certx3[0].attrs[1].value, "ABCDE12345");
	strcpy(certx3[0].attrs[2].key, "OU");
	strcpy(certx3[0].attrs[2].value, "Second Unit");
	certx3[0].nexts = 1;
	strcpy(certx3[0].exts[0], CS_OID_DEVID_LEAF);
	certx3[1].nexts = 1;
	strcpy(certx3[1].exts[0], CS_OID_DEVID_CA);
	(void)certs3;
}

static enum cs_req_verdict ev(const char *text, const struct cs_req_code *c, char *why, size_t n)
{
	enum cs_req_verdict v;
	int rc = cs_req_eval_text(&v, text, c, why, n);
	cr_assert_eq(rc, 0, "%s: %s", text, ut_errmsg());
	return v;
}

Test(bverify_req, operations_one_by_one)
{
	fake_chain();
	uint8_t cdh[20];
	memset(cdh, 0xab, sizeof(cdh));
	plist_t info = plist_new_dict();
	plist_dict_set_item(info, "CFBundleName", plist_new_string("Demo"));
	plist_t arr = plist_new_array();
	plist_array_append_item(arr, plist_new_string("one"));
	plist_array_append_item(arr, plist_new_string("two"));
	plist_dict_set_item(info, "List", arr);
	struct cs_req_code c = { .identifier = "com.example.demo", .cdhash = cdh, .platform = 0, .chain = &chain3,
				 .certx = certx3, .info = info };
	char why[512];
	static const struct {
		const char *text;
		enum cs_req_verdict want;
		const char *why; /* substring of the reason, or NULL */
	} rows[] = {
		{ "identifier \"com.example.demo\"", CS_REQ_TRUE, NULL },
		{ "identifier \"com.example.other\"", CS_REQ_FALSE, "com.example.demo" },
		{ "cdhash H\"abababababababababababababababababababab\"", CS_REQ_TRUE, NULL },
		{ "cdhash H\"0000000000000000000000000000000000000000\" or cdhash H\"abababababababababababababababababababab\"",
		  CS_REQ_TRUE, NULL },
		{ "cdhash H\"0000000000000000000000000000000000000000\"", CS_REQ_FALSE, "abababab" },
		{ "identifier \"com.example.demo\" and (cdhash H\"0000000000000000000000000000000000000000\" or cdhash H\"1111111111111111111111111111111111111111\")",
		  CS_REQ_FALSE, "the code's cdhash H\"abababababababababababababababababababab\" is not the required one" },
		{ "identifier \"nope\" and cdhash H\"0000000000000000000000000000000000000000\"", CS_REQ_FALSE, "identifier \"nope\"" },
		{ "anchor apple generic", CS_REQ_TRUE, NULL },
		{ "anchor apple", CS_REQ_FALSE, "Developer ID Certification Authority" },
		{ "certificate leaf[subject.OU] = ABCDE12345", CS_REQ_TRUE, NULL },
		{ "certificate leaf[subject.OU] = \"Second Unit\"", CS_REQ_TRUE, NULL }, /* any value of the attribute */
		{ "certificate leaf[subject.OU] = OTHER", CS_REQ_FALSE, "ABCDE12345" },
		{ "certificate leaf[subject.CN] = \"Developer ID Application: \"*", CS_REQ_TRUE, NULL },
		{ "certificate leaf[subject.CN] ~ Test", CS_REQ_TRUE, NULL },
		{ "certificate leaf[subject.CN] = *\"12345)\"", CS_REQ_TRUE, NULL },
		{ "certificate leaf[subject.CN] = *\"12346)\"", CS_REQ_FALSE, "ABCDE12345" },
		{ "certificate leaf[subject.C] exists", CS_REQ_FALSE, "absent" },
		{ "certificate leaf[subject.C] absent", CS_REQ_TRUE, NULL },
		{ "certificate 1[field.1.2.840.113635.100.6.2.6] exists", CS_REQ_TRUE, NULL },
		{ "certificate 1[field.1.2.840.113635.100.6.2.1] exists", CS_REQ_FALSE, NULL },
		{ "certificate leaf[field.1.2.840.113635.100.6.1.9] exists or certificate leaf[field.1.2.840.113635.100.6.1.13] exists",
		  CS_REQ_TRUE, NULL },
		{ "certificate 5[subject.CN] exists", CS_REQ_FALSE, "no such certificate" },
		{ "certificate root = H\"3333333333333333333333333333333333333333\"", CS_REQ_TRUE, NULL },
		{ "certificate 1 = H\"3333333333333333333333333333333333333333\"", CS_REQ_FALSE, "2222" },
		{ "certificate root = H\"3333333333333333333333333333333333333333\"", CS_REQ_TRUE, NULL },
		{ "info[CFBundleName] = Demo", CS_REQ_TRUE, NULL },
		{ "info[List] = two", CS_REQ_TRUE, NULL },
		{ "info[Missing] exists", CS_REQ_FALSE, "absent" },
		{ "info[CFBundleName] = Other", CS_REQ_FALSE, "Demo" },
		{ "platform = 0", CS_REQ_TRUE, NULL },
		{ "platform = 2", CS_REQ_FALSE, "platform is 0" },
		{ "always", CS_REQ_TRUE, NULL },
		{ "never", CS_REQ_FALSE, NULL },
		{ "! identifier \"com.example.demo\"", CS_REQ_FALSE, NULL },
		{ "notarized", CS_REQ_UNKNOWN, "requirement not evaluable: notarized" },
		{ "anchor trusted", CS_REQ_UNKNOWN, "anchor trusted" },
		{ "! notarized", CS_REQ_UNKNOWN, "notarized" },
		{ "notarized and identifier \"x\"", CS_REQ_FALSE, NULL },       /* false wins over unknown */
		{ "notarized or identifier \"com.example.demo\"", CS_REQ_TRUE, NULL }, /* true wins over unknown */
		{ "notarized and identifier \"com.example.demo\"", CS_REQ_UNKNOWN, "notarized" },
		{ "entitlement[\"com.apple.security.app-sandbox\"] exists", CS_REQ_UNKNOWN, "entitlement" },
		{ "certificate leaf[subject.XYZ] = \"1\"", CS_REQ_UNKNOWN, "subject.XYZ" },
		{ "certificate leaf[field.1.2.3] = abc", CS_REQ_UNKNOWN, "by value" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum cs_req_verdict v = ev(rows[i].text, &c, why, sizeof(why));
		cr_expect_eq(v, rows[i].want, "'%s' -> %s, expected %s (%s)", rows[i].text, cs_req_verdict_name(v),
			     cs_req_verdict_name(rows[i].want), why);
		if (rows[i].why)
			cr_expect(strstr(why, rows[i].why), "'%s': reason '%s' lacks '%s'", rows[i].text, why, rows[i].why);
	}
	/* Without a chain (ad-hoc code) anchors and certificates are false */
	c.chain = NULL;
	c.certx = NULL;
	cr_expect_eq(ev("anchor apple generic", &c, why, sizeof(why)), CS_REQ_FALSE);
	cr_expect(strstr(why, "no certificate chain"), "%s", why);
	cr_expect_eq(ev("certificate leaf[subject.OU] = ABCDE12345", &c, NULL, 0), CS_REQ_FALSE);
	/* Without details only the first CN / OU / O and Apple's marker extensions are known */
	c.chain = &chain3;
	cr_expect_eq(ev("certificate leaf[subject.OU] = ABCDE12345", &c, NULL, 0), CS_REQ_TRUE);
	cr_expect_eq(ev("certificate leaf[subject.UID] = X", &c, why, sizeof(why)), CS_REQ_UNKNOWN);
	cr_expect_eq(ev("certificate leaf[field.1.2.840.113635.100.6.1.13] exists", &c, NULL, 0), CS_REQ_TRUE);
	cr_expect_eq(ev("certificate leaf[field.1.2.840.113635.100.6.1.9] exists", &c, NULL, 0), CS_REQ_UNKNOWN);
	/* A chain to a root that is not Apple's */
	chain3.anchor = CS_ANCHOR_OTHER;
	cr_expect_eq(ev("anchor apple generic", &c, why, sizeof(why)), CS_REQ_FALSE);
	cr_expect(strstr(why, "not an Apple root"), "%s", why);
	plist_free(info);
}

/* Operations with the generic flags (SEC reqinterp.cpp): unknown ones are false, or skipped. */
Test(bverify_req, unknown_operations_with_size_fields)
{
	struct cs_req_code c = { .identifier = "x" };
	/* requirement header + opGenericFalse|99 with 4 bytes of data */
	uint8_t a[] = { 0xfa, 0xde, 0x0c, 0x00, 0, 0, 0, 24, 0, 0, 0, 1, 0x80, 0, 0, 99, 0, 0, 0, 4, 1, 2, 3, 4 };
	enum cs_req_verdict v;
	cr_assert_eq(cs_req_eval(&v, a, sizeof(a), &c, NULL, 0), 0, "%s", ut_errmsg());
	cr_expect_eq(v, CS_REQ_FALSE);
	/* opGenericSkip|99 then opTrue: the unknown operation is skipped */
	uint8_t b[] = { 0xfa, 0xde, 0x0c, 0x00, 0, 0, 0, 28, 0, 0, 0, 1, 0x40, 0, 0, 99, 0, 0, 0, 4, 1, 2, 3, 4, 0, 0, 0, 1 };
	cr_assert_eq(cs_req_eval(&v, b, sizeof(b), &c, NULL, 0), 0, "%s", ut_errmsg());
	cr_expect_eq(v, CS_REQ_TRUE);
	/* an unknown operation without a flag cannot be decoded */
	uint8_t d[] = { 0xfa, 0xde, 0x0c, 0x00, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 99 };
	cr_expect_eq(cs_req_eval(&v, d, sizeof(d), &c, NULL, 0), UT_EUNSUPPORTED);
	/* truncated, trailing bytes, wrong magic */
	uint8_t t[] = { 0xfa, 0xde, 0x0c, 0x00, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 2 }; /* ident without its string */
	cr_expect_eq(cs_req_eval(&v, t, sizeof(t), &c, NULL, 0), UT_EMALFORMED);
	uint8_t x[] = { 0xfa, 0xde, 0x0c, 0x00, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1 };
	cr_expect_eq(cs_req_eval(&v, x, sizeof(x), &c, NULL, 0), UT_EMALFORMED);
	cr_expect(strstr(ut_errmsg(), "after the expression"), "%s", ut_errmsg());
	uint8_t m[] = { 0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 1 };
	cr_expect_neq(cs_req_eval(&v, m, sizeof(m), &c, NULL, 0), 0);
	cr_expect_neq(cs_req_eval_text(&v, "identifier", &c, NULL, 0), 0);
}
