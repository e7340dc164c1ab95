/*
 * test_bsign_demo.c - the signed demo UTM.app (`make demo-bundle`,
 * testdata/demo/build-demo.sh): every component signed inside-out with the
 * test Developer ID identity, checked against independent oracles:
 *  - identifier, flags and team ID read from the CodeDirectory bytes here;
 *  - the CMS of every slice verified by `openssl cms -verify` over the
 *    extracted slot-0 CodeDirectory with the test root as CA, and by
 *    cs_cms_verify with the test root as the anchor;
 *  - the cdhash attributes (100.9.1 plist, 100.9.2 SEQUENCEs) read with
 *    `openssl asn1parse` against cdhashes computed with OpenSSL here;
 *  - entitlements per component equal to testdata/demo/entitlements (plist
 *    equality), none on frameworks;
 *  - designated requirements in the Developer ID form of codesign-spec §4.3,
 *    and the seals' nested entries carrying that text and the nested code's
 *    current cdhash;
 *  - the provisioning profile sealed in the three app-like bundles;
 *  - one changed byte in a framework binary or a framework Info.plist found
 *    by cs_seal_verify_bundle / cs_bundle_check_slots, naming the component.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_bundle.h"
#include "cs_seal.h"
#include "test_bsign_util.h"
#include "test_bundle_util.h"
#include "test_cms_util.h"
#include "tsupport.h"
#include "tsupport_fs.h"
#include "ut_bytes.h"
#include "ut_err.h"

#define SIGNING_TIME 1735689600 /* build-demo.sh's fixed signing time, 2025-01-01T00:00:00Z */
#define HELPER "Contents/XPCServices/QEMUHelper.xpc"
#define LAUNCHER HELPER "/Contents/MacOS/QEMULauncher.app"

static const char *const frameworks[] = {
	"iconv.2", "intl.8", "glib-2.0.0", "gmodule-2.0.0", "gobject-2.0.0", "gio-2.0.0", "pixman-1.0", "jpeg.62",
	"png16.16", "zstd.1", "epoxy.0", "usb-1.0.0", "slirp.0", "spice-server.1", "qemu-aarch64-softmmu",
	"qemu-x86_64-softmmu",
};
#define NFW (sizeof(frameworks) / sizeof(frameworks[0]))

struct comp {
	char rel[256];
	char identifier[128];
	const char *ents;     /* testdata/demo/entitlements/<file>, or NULL */
	int is_bundle;
};

static size_t components(struct comp *c)
{
	size_t n = 0;
	for (size_t i = 0; i < NFW; i++, n++) {
		snprintf(c[n].rel, sizeof(c[n].rel), "Contents/Frameworks/%s.framework", frameworks[i]);
		snprintf(c[n].identifier, sizeof(c[n].identifier), "com.utmapp.%s", frameworks[i]);
		for (char *p = c[n].identifier; *p; p++)
			*p = *p == '_' ? '-' : *p;
		c[n].ents = NULL;
		c[n].is_bundle = 1;
	}
	const struct comp rest[] = {
		{ LAUNCHER, "com.utmapp.QEMULauncher", "QEMULauncher.entitlements", 1 },
		{ HELPER, "com.utmapp.QEMUHelper", "QEMUHelper.entitlements", 1 },
		{ "Contents/MacOS/utmctl", "com.utmapp.utmctl", "utmctl.entitlements", 0 },
		{ "", "com.utmapp.UTM", "UTM.entitlements", 1 },
	};
	for (size_t i = 0; i < 4; i++)
		c[n++] = rest[i];
	return n;
}

static char *exec_of(const char *app, const struct comp *c)
{
	char *path = c->rel[0] ? tb_join(app, c->rel) : strdup(app);
	if (!c->is_bundle)
		return path;
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(path, &b), 0, "%s: %s", path, ut_errmsg());
	char *exe = strdup(b->exec_path);
	cs_bundle_free(b);
	free(path);
	return exe;
}

/* Codesign's Developer ID requirement (codesign-spec §4.3) for the test team. */
static char *devid_requirement(const char *identifier)
{
	char *s = NULL;
	cr_assert(asprintf(&s,
			   "identifier \"%s\" and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] "
			   "/* exists */ and certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and "
			   "certificate leaf[subject.OU] = UTMTEST123",
			   identifier) > 0);
	return s;
}

static char *upper_hex(const uint8_t *p, size_t n)
{
	char *h = tc_hex(p, n);
	for (char *q = h; *q; q++)
		*q = (char)(*q >= 'a' ? *q - 32 : *q);
	return h;
}

/* CodeDirectory fields read here: flags, identifier, team ID. */
static void check_cd(const char *where, const uint8_t *cd, size_t len, const char *identifier)
{
	cr_assert_geq(len, 52, "%s: CodeDirectory too short", where);
	uint32_t version = ut_be32(cd + 8), flags = ut_be32(cd + 12), ident = ut_be32(cd + 20), team = ut_be32(cd + 48);
	cr_expect_eq(flags, 0x10000u, "%s: flags 0x%x, want runtime only (no adhoc)", where, flags);
	cr_expect_geq(version, 0x20200u, "%s: version 0x%x has no team ID field", where, version);
	cr_assert(ident < len && team < len && team > 0, "%s: identifier/team offsets", where);
	cr_expect(strnlen((const char *)cd + ident, len - ident) < len - ident, "%s", where);
	cr_expect_str_eq((const char *)cd + ident, identifier, "%s: identifier", where);
	cr_expect_str_eq((const char *)cd + team, "UTMTEST123", "%s: team ID", where);
}

/* 100.9.1 (plist of truncated cdhashes) and 100.9.2 (full cdhashes) as openssl decodes them. */
static void check_cms_attributes(const char *where, const char *der, const uint8_t *cms, const struct tc_sig *s)
{
	struct tc_a1 *a = NULL;
	size_t n = 0;
	cr_assert_eq(tc_asn1parse(der, &a, &n), 0, "%s: asn1parse", where);
	long i = tc_a1_find(a, n, 0, ":signingTime");
	cr_assert(i >= 0, "%s: no signingTime", where);
	cr_expect(strstr(a[i + 2].text, ":250101000000Z"), "%s: signingTime %s", where, a[i + 2].text);
	i = tc_a1_find(a, n, 0, ":1.2.840.113635.100.9.2");
	cr_assert(i >= 0, "%s: no 100.9.2", where);
	for (uint32_t k = 0; k < s->ncdh; k++) {
		long o = tc_a1_find(a, n, (size_t)i, s->cdh[k].hash_type == 1 ? ":sha1" : ":sha256");
		cr_assert(o >= 0, "%s: 100.9.2 lacks hash type %u", where, s->cdh[k].hash_type);
		char *h = upper_hex(s->cdh[k].digest, s->cdh[k].len);
		cr_expect(strstr(a[o + 1].text, h), "%s: 100.9.2[%u] %s, want %s", where, k, a[o + 1].text, h);
		free(h);
	}
	i = tc_a1_find(a, n, 0, ":1.2.840.113635.100.9.1");
	cr_assert(i >= 0, "%s: no 100.9.1", where);
	long o = tc_a1_find(a, n, (size_t)i, "OCTET STRING");
	cr_assert(o >= 0);
	char *dir = ts_tmpdir();
	char *x = tc_write(dir, "cdhashes.plist", cms + a[o].off + a[o].hl, (size_t)a[o].len);
	plist_t pl = tb_plist_file(x);
	plist_t arr = plist_dict_get_item(pl, "cdhashes");
	cr_assert(arr && plist_get_node_type(arr) == PLIST_ARRAY, "%s: 100.9.1 has no cdhashes array", where);
	cr_expect_eq(plist_array_get_size(arr), s->ncdh, "%s: 100.9.1 count", where);
	for (uint32_t k = 0; k < s->ncdh && k < plist_array_get_size(arr); k++) {
		uint64_t len = 0;
		const char *d = plist_get_data_ptr(plist_array_get_item(arr, k), &len);
		cr_expect(d && len == 20 && !memcmp(d, s->cdh[k].digest, 20), "%s: 100.9.1[%u]", where, k);
	}
	plist_free(pl);
	free(x);
	ts_rmtree(dir);
	free(dir);
	free(a);
}

/* Every slice: CD fields, openssl cms -verify, cs_cms_verify, the cdhash attributes. */
static void check_signature(const char *exe, const struct comp *c, char *tmp)
{
	struct tc_sig *s = NULL;
	size_t n = 0;
	cr_assert_eq(tc_sigs_load(exe, &s, &n), 0, "%s", exe);
	cr_expect_eq(n, 2, "%s: %zu slices", exe, n);
	for (size_t i = 0; i < n; i++) {
		char where[512];
		snprintf(where, sizeof(where), "%s %s", c->rel[0] ? c->rel : "UTM.app", s[i].arch);
		cr_assert(s[i].cms && s[i].ncd >= 1, "%s: no CMS or CodeDirectory", where);
		cr_expect_eq(s[i].ncd, 1, "%s: minos 11.x gives SHA-256 only", where);
		check_cd(where, s[i].cd[0], s[i].cd_len[0], c->identifier);
		char *der = tc_write(tmp, "cms.der", s[i].cms, s[i].cms_len);
		char *cd = tc_write(tmp, "cd.bin", s[i].cd[0], s[i].cd_len[0]);
		int rc = tc_sh(NULL,
			       "openssl cms -verify -binary -inform DER -in '%s' -content '%s' -CAfile '%s' -purpose any "
			       "-ignore_critical -out /dev/null 2>/dev/null",
			       der, cd, tc_key("root.pem"));
		cr_expect_eq(rc, 0, "%s: openssl cms -verify failed", where);
		struct cs_cms_result r;
		rc = cs_cms_verify(&r, s[i].cms, s[i].cms_len, s[i].cd[0], s[i].cd_len[0], s[i].cdh, s[i].ncdh,
				   tc_test_trust(CS_TRUST_REQUIRE_ANCHOR));
		cr_expect_eq(rc, 0, "%s: %s", where, ut_errmsg());
		if (!rc) {
			cr_expect_eq(r.kind, CS_SIGNER_DEVELOPER_ID, "%s", where);
			cr_expect_str_eq(r.team_id, "UTMTEST123", "%s", where);
			cr_expect_eq(r.signing_time, SIGNING_TIME, "%s", where);
			cr_expect_eq(r.ncdhashes_plist, s[i].ncdh, "%s", where);
			cr_expect_eq(r.ncdhashes2, s[i].ncdh, "%s", where);
		}
		check_cms_attributes(where, der, s[i].cms, &s[i]);
		free(der);
		free(cd);
	}
	tc_sigs_free(s, n);
}

/* The arm64 (host) slice's SHA-256 cdhash, truncated, computed here. */
static void host_cdhash(const char *exe, uint8_t out[20])
{
	struct tc_sig *s = NULL;
	size_t n = 0;
	cr_assert_eq(tc_sigs_load(exe, &s, &n), 0, "%s", exe);
	int found = 0;
	for (size_t i = 0; i < n; i++)
		for (uint32_t k = 0; k < s[i].ncdh; k++)
			if (!strcmp(s[i].arch, "arm64") && s[i].cdh[k].hash_type == CS_HASHTYPE_SHA256) {
				memcpy(out, s[i].cdh[k].digest, 20);
				found = 1;
			}
	cr_assert(found, "%s: no arm64 SHA-256 CodeDirectory", exe);
	tc_sigs_free(s, n);
}

static void check_entitlements(const char *exe, const struct comp *c, char *tmp)
{
	for (const char *const *arch = (const char *const[]){ "arm64", "x86_64", NULL }; *arch; arch++) {
		size_t len = 0;
		uint8_t *xml = bs_entitlements_xml(exe, *arch, &len);
		if (!c->ents) {
			cr_expect_null(xml, "%s %s: a framework with entitlements", c->rel, *arch);
			free(xml);
			continue;
		}
		cr_assert_not_null(xml, "%s %s: no entitlements", c->rel, *arch);
		char *p = tc_write(tmp, "ent.plist", xml, len);
		char rel[128];
		snprintf(rel, sizeof(rel), "testdata/demo/entitlements/%s", c->ents);
		plist_t got = tb_plist_file(p), want = tb_plist_file(ts_root(rel));
		char why[256] = "";
		cr_expect(tb_plist_equal(got, want, why, sizeof(why)), "%s %s: entitlements differ from %s: %s",
			  c->rel[0] ? c->rel : "UTM.app", *arch, c->ents, why);
		if (!strcmp(c->ents, "QEMULauncher.entitlements")) {
			plist_t net = plist_dict_get_item(got, "com.apple.vm.networking");
			uint8_t b = 0;
			if (net && plist_get_node_type(net) == PLIST_BOOLEAN)
				plist_get_bool_val(net, &b);
			cr_expect(b, "launcher %s: no com.apple.vm.networking", *arch);
			cr_expect_null(plist_dict_get_item(got, "com.apple.security.cs.disable-library-validation"),
				       "launcher %s: has disable-library-validation", *arch);
		}
		plist_free(got);
		plist_free(want);
		free(p);
		free(xml);
	}
	/* Frameworks: no XML (5) nor DER (7) entitlements blob at all. */
	if (!c->ents)
		cr_expect(!bs_has_slot(exe, 5) && !bs_has_slot(exe, 7), "%s: entitlement blobs", c->rel);
}

/* The seal of the bundle at rel records nested component nrel (its files2 key: key) with DR text and cdhash. */
static void check_nested_entry(const char *app, const char *rel, const char *key, const struct comp *nc)
{
	char *seal_rel = tb_join(rel[0] ? rel : ".", "Contents/_CodeSignature/CodeResources");
	char *seal = tb_join(app, seal_rel);
	plist_t pl = tb_plist_file(seal);
	plist_t e = plist_dict_get_item(plist_dict_get_item(pl, "files2"), key);
	cr_assert(e && plist_get_node_type(e) == PLIST_DICT, "%s: no files2 entry '%s'", seal_rel, key);
	char *want = devid_requirement(nc->identifier);
	plist_t req = plist_dict_get_item(e, "requirement");
	cr_expect(req && !strcmp(plist_get_string_ptr(req, NULL), want), "%s: '%s': requirement '%s'", seal_rel, key,
		  req ? plist_get_string_ptr(req, NULL) : "(none)");
	char *exe = exec_of(app, nc);
	uint8_t ch[20];
	host_cdhash(exe, ch);
	uint64_t len = 0;
	plist_t cd = plist_dict_get_item(e, "cdhash");
	const char *d = cd ? plist_get_data_ptr(cd, &len) : NULL;
	cr_expect(d && len == 20 && !memcmp(d, ch, 20), "%s: '%s': cdhash is not the code's arm64 cdhash", seal_rel, key);
	free(exe);
	free(want);
	plist_free(pl);
	free(seal);
	free(seal_rel);
}

static void check_profile(const char *app, const char *contents)
{
	char *p = tb_join(app, contents), *prof = tb_join(p, "embedded.provisionprofile");
	char *seal = tb_join(p, "_CodeSignature/CodeResources");
	cr_expect(ts_same_file(prof, ts_root("testdata/keys/embedded.provisionprofile")), "%s: profile", contents);
	plist_t pl = tb_plist_file(seal);
	plist_t e = plist_dict_get_item(plist_dict_get_item(pl, "files2"), "embedded.provisionprofile");
	cr_assert(e && plist_get_node_type(e) == PLIST_DICT, "%s: profile not sealed", contents);
	uint8_t h[32];
	bs_sha256_file(prof, h);
	uint64_t len = 0;
	plist_t h2 = plist_dict_get_item(e, "hash2");
	const char *d = h2 ? plist_get_data_ptr(h2, &len) : NULL;
	cr_expect(d && len == 32 && !memcmp(d, h, 32), "%s: profile hash2", contents);
	cr_expect_null(plist_dict_get_item(e, "hash"), "%s: SHA-256-only seal has a SHA-1 hash", contents);
	plist_free(pl);
	free(seal);
	free(prof);
	free(p);
}

Test(bsign_demo, every_component_signed_and_verified, .timeout = 600)
{
	char *app = bs_demo_build();
	char *tmp = ts_tmpdir();
	struct comp c[32];
	size_t n = components(c);
	cr_assert_eq(n, 20);

	/* The tree the signer walked is these 20 components, inside-out. */
	struct cs_bundle_tree t;
	cr_assert_eq(cs_bundle_tree_build(&t, app), 0, "%s", ut_errmsg());
	cr_expect_eq(t.n, n);
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < t.n && strcmp(t.v[k].rel, c[i].rel))
			k++;
		cr_expect(k < t.n, "component %s not in the tree", c[i].rel);
	}
	cs_bundle_tree_release(&t);

	for (size_t i = 0; i < n; i++) {
		char *path = c[i].rel[0] ? tb_join(app, c[i].rel) : strdup(app);
		cr_expect_eq(bs_expect_valid(path, c[i].is_bundle, tc_test_trust(CS_TRUST_REQUIRE_ANCHOR)), 0, "%s",
			     c[i].rel);
		char *exe = exec_of(app, &c[i]);
		check_signature(exe, &c[i], tmp);
		check_entitlements(exe, &c[i], tmp);
		/* The embedded designated requirement, read back as text. */
		struct cs_nested_info ni;
		cr_assert_eq(cs_nested_info_read(&ni, path, c[i].is_bundle, NULL), 0, "%s", ut_errmsg());
		char *want = devid_requirement(c[i].identifier);
		cr_expect_str_eq(ni.requirement, want, "%s: designated requirement", c[i].rel);
		free(want);
		cs_nested_info_release(&ni);
		free(exe);
		free(path);
	}

	/* Seals: nested entries carry the Developer ID requirement and the current cdhash. */
	for (size_t i = 0; i < NFW; i++) {
		char key[256];
		snprintf(key, sizeof(key), "Frameworks/%s.framework", frameworks[i]);
		check_nested_entry(app, "", key, &c[i]);
	}
	check_nested_entry(app, "", "MacOS/utmctl", &c[NFW + 2]);
	check_nested_entry(app, "", "XPCServices/QEMUHelper.xpc", &c[NFW + 1]);
	check_nested_entry(app, HELPER, "MacOS/QEMULauncher.app", &c[NFW]);
	check_profile(app, "Contents");
	check_profile(app, HELPER "/Contents");
	check_profile(app, LAUNCHER "/Contents");

	ts_rmtree(tmp);
	free(tmp);
	bs_demo_cleanup(app);
}

static char *copy_app(const char *app)
{
	char *dir = ts_tmpdir(), *copy = tb_join(dir, "UTM.app"), *cmd = NULL;
	cr_assert(asprintf(&cmd, "cp -R '%s' '%s'", app, copy) > 0);
	cr_assert_eq(ts_sh(cmd, NULL, NULL), 0);
	free(cmd);
	free(dir);
	return copy;
}

static int has_finding(const char *findings, const char *problem, const char *path)
{
	char *line = NULL;
	cr_assert(asprintf(&line, "%s %s", problem, path) > 0);
	int found = strstr(findings, line) != NULL;
	free(line);
	return found;
}

#define GLIB "Contents/Frameworks/glib-2.0.0.framework"

Test(bsign_demo, one_changed_byte_in_a_framework_is_found, .timeout = 600)
{
	char *app = bs_demo_build();
	size_t n = 0;
	char *f = bs_seal_findings(app, &n);
	cr_expect_eq(n, 0, "signed demo: %s", f);
	free(f);

	/* A byte of the framework binary (inside the x86_64 slice's code). */
	char *a1 = copy_app(app);
	char *bin = tb_join(a1, GLIB "/Versions/A/glib-2.0.0");
	tsb_flip(bin, 0x4000 + 0x800);
	f = bs_seal_findings(a1, &n);
	cr_expect(has_finding(f, "nested code is modified or invalid", GLIB), "binary flip, findings:\n%s", f);
	cr_expect(strstr(f, "invalid signature (code or signature have been modified)"), "%s", f);
	free(f);
	char *fw = tb_join(a1, GLIB);
	cr_expect_gt(bs_count_invalid(fw, 1, NULL), 0, "the framework itself still verifies");
	free(fw);

	/* A byte of the framework's Info.plist ("1.0" -> "1.1", still a valid plist). */
	char *a2 = copy_app(app);
	char *info = tb_join(a2, GLIB "/Versions/A/Resources/Info.plist");
	size_t len = 0;
	char *p = (char *)ts_read(info, &len);
	char *v = strstr(p, "<string>1.0</string>");
	cr_assert_not_null(v);
	v[strlen("<string>1.")] = '1';
	cr_assert_eq(tsupport_write(info, p, len), 0);
	free(p);
	f = bs_seal_findings(a2, &n);
	cr_expect(has_finding(f, "nested code is modified or invalid", GLIB), "Info.plist change, findings:\n%s", f);
	cr_expect(has_finding(f, "file modified", GLIB "/Versions/A/Resources/Info.plist"), "%s", f);
	free(f);
	/* The framework on its own: sealed file modified, and slot -1 of every slice. */
	fw = tb_join(a2, GLIB);
	f = bs_seal_findings(fw, &n);
	cr_expect(has_finding(f, "file modified", "Versions/A/Resources/Info.plist"), "%s", f);
	free(f);
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(fw, &b), 0, "%s", ut_errmsg());
	struct cs_seal_report rep = { 0 };
	cr_assert_eq(cs_bundle_check_slots(b, GLIB "/", &rep), 0, "%s", ut_errmsg());
	cr_expect_eq(rep.n, 2, "slot -1 of both slices");
	for (size_t i = 0; i < rep.n; i++) {
		cr_expect_eq(rep.v[i].problem, CS_SEAL_INFO_PLIST);
		cr_expect(strstr(rep.v[i].path, GLIB "/Versions/A/Resources/Info.plist"), "%s", rep.v[i].path);
	}
	cs_seal_report_release(&rep);
	cs_bundle_free(b);
	free(fw);

	free(info);
	free(bin);
	bs_demo_cleanup(a1);
	bs_demo_cleanup(a2);
	bs_demo_cleanup(app);
}
