/*
 * test_bsign_api.c - cs_bsign_bundle on small bundles made from the lld
 * fixtures: what each nested component keeps (its own identifier and
 * entitlements, never the top's), the per-component entitlements table,
 * a framework given as its root or its version directory, signing twice,
 * and every refusal before the first write (the bundle left byte for byte
 * as it was).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_bsign.h"
#include "cs_sign.h"
#include "test_bsign_util.h"
#include "test_bundle_util.h"
#include "test_cms_util.h"
#include "tsupport.h"
#include "ut_err.h"

static const char ENT_APP[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST "
			      "1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist "
			      "version=\"1.0\">\n<dict>\n\t<key>com.apple.security.app-sandbox</key>\n\t<true/>\n</dict>\n</plist>\n";
static const char ENT_TOOL[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST "
			       "1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist "
			       "version=\"1.0\">\n<dict>\n\t<key>com.apple.security.network.client</key>\n\t<true/>\n</dict>\n</plist>\n";
static const char ENT_NEW[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST "
			      "1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist "
			      "version=\"1.0\">\n<dict>\n\t<key>com.apple.security.cs.allow-jit</key>\n\t<true/>\n</dict>\n</plist>\n";

#define TOOL "Contents/MacOS/tool"
#define FW "Contents/Frameworks/F.framework"
#define XPC "Contents/XPCServices/H.xpc"

/*
 * App.app: a fat main executable (x86_64 unsigned, arm64 linker-signed), a
 * helper tool signed ad-hoc beforehand with its own identifier and
 * entitlements, a versioned framework, an XPC service, resources.
 */
static char *make_app(void)
{
	char *app = tb_tmp_bundle("App.app");
	tb_info_plist(app, "Contents/Info.plist", "App", "org.test.app", "APPL");
	tb_copy_file(ts_fixture("fat-exe"), app, "Contents/MacOS/App");
	tb_copy_file(ts_fixture("arm64-exe"), app, TOOL);
	tb_write_str(app, "Contents/Resources/a.txt", "hello\n");
	tb_write_str(app, "Contents/Resources/en.lproj/b.strings", "\"x\" = \"y\";\n");
	tb_info_plist(app, FW "/Versions/A/Resources/Info.plist", "F", "org.test.F", "FMWK");
	tb_copy_file(ts_fixture("fat-dylib"), app, FW "/Versions/A/F");
	tb_symlink("A", app, FW "/Versions/Current");
	tb_symlink("Versions/Current/F", app, FW "/F");
	tb_symlink("Versions/Current/Resources", app, FW "/Resources");
	tb_info_plist(app, XPC "/Contents/Info.plist", "H", "org.test.H", "XPC!");
	tb_copy_file(ts_fixture("arm64-exe"), app, XPC "/Contents/MacOS/H");
	char *tool = tb_join(app, TOOL);
	struct cs_sign_opts o = { .identifier = "org.test.tool", .entitlements = (const uint8_t *)ENT_TOOL,
				  .entitlements_len = strlen(ENT_TOOL) };
	cr_assert_eq(cs_sign_file(tool, NULL, &o, NULL), 0, "%s", ut_errmsg());
	free(tool);
	return app;
}

/* A second, identical copy (cp -R keeps the bytes). */
static char *copy_of(const char *app)
{
	char *dst = tb_tmp_bundle("App.app"), *cmd = NULL;
	cr_assert(asprintf(&cmd, "cp -R '%s' '%s'", app, dst) > 0);
	cr_assert_eq(ts_sh(cmd, NULL, NULL), 0);
	free(cmd);
	return dst;
}

static int same_tree(const char *a, const char *b)
{
	char *la = bs_list_files(a), *lb = bs_list_files(b);
	size_t total = 0;
	int same = !strcmp(la, lb) && bs_count_identical(a, b, &total) == total;
	free(la);
	free(lb);
	return same;
}

static plist_t ents_of(const char *app, const char *rel)
{
	char *exe = tb_join(app, rel);
	size_t len = 0;
	uint8_t *xml = bs_entitlements_xml(exe, "arm64", &len);
	free(exe);
	if (!xml)
		return NULL;
	char *dir = ts_tmpdir();
	char *p = tc_write(dir, "e.plist", xml, len);
	plist_t pl = tb_plist_file(p);
	free(p);
	free(xml);
	ts_rmtree(dir);
	free(dir);
	return pl;
}

static void expect_ents(const char *app, const char *rel, const char *want)
{
	plist_t got = ents_of(app, rel);
	if (!want) {
		cr_expect_null(got, "%s: has entitlements", rel);
		plist_free(got);
		return;
	}
	cr_assert_not_null(got, "%s: no entitlements", rel);
	plist_t w = NULL;
	plist_from_xml(want, (uint32_t)strlen(want), &w);
	char why[256] = "";
	cr_expect(tb_plist_equal(got, w, why, sizeof(why)), "%s: %s", rel, why);
	plist_free(w);
	plist_free(got);
}

static const struct cs_bsign_item *item(const struct cs_bsign_report *r, const char *rel)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].rel, rel))
			return &r->v[i];
	cr_assert_fail("'%s' not signed", rel);
	return NULL;
}

Test(bsign_api, nested_components_keep_their_own_identifier_and_entitlements)
{
	char *app = make_app();
	struct cs_bsign_opts o = { .nested = 1 };
	o.sign.entitlements = (const uint8_t *)ENT_APP;
	o.sign.entitlements_len = strlen(ENT_APP);
	o.sign.runtime = 1;
	struct cs_bsign_report r;
	cr_assert_eq(cs_bsign_bundle(app, &o, &r), 0, "%s", ut_errmsg());
	cr_assert_eq(r.n, 4);
	/* Inside-out, siblings in byte order: Frameworks, MacOS/tool, XPCServices, then the app. */
	cr_expect_str_eq(r.v[0].rel, FW);
	cr_expect_str_eq(r.v[1].rel, TOOL);
	cr_expect_str_eq(r.v[2].rel, XPC);
	cr_expect_str_eq(r.v[3].rel, "");
	cr_expect_str_eq(item(&r, TOOL)->sign.identifier, "org.test.tool");
	cr_expect_str_eq(item(&r, FW)->sign.identifier, "org.test.F");
	cr_expect_str_eq(item(&r, XPC)->sign.identifier, "org.test.H");
	cr_expect_str_eq(item(&r, "")->sign.identifier, "org.test.app");
	for (size_t i = 0; i < r.n; i++) {
		cr_expect_eq(r.v[i].sign.slices[0].cd_flags, CS_ADHOC | CS_RUNTIME, "%s", r.v[i].rel);
		bs_expect_valid(r.v[i].path, r.v[i].is_bundle, NULL);
	}
	expect_ents(app, "Contents/MacOS/App", ENT_APP);
	expect_ents(app, TOOL, ENT_TOOL);
	expect_ents(app, XPC "/Contents/MacOS/H", NULL); /* had only a linker signature: nothing to keep */
	expect_ents(app, FW "/Versions/A/F", NULL);
	cs_bsign_report_release(&r);

	/* Signing again gives the same bytes (ad-hoc): re-running completes an interrupted run. */
	char *again = copy_of(app);
	cr_assert_eq(cs_bsign_bundle(again, &o, NULL), 0, "%s", ut_errmsg());
	cr_expect(same_tree(app, again), "a second signature changed bytes");
	tb_cleanup(again);
	tb_cleanup(app);
}

Test(bsign_api, per_component_entitlements_replace_or_remove)
{
	char *app = make_app();
	struct cs_bsign_ent ents[] = {
		{ TOOL, NULL, 0 },                                           /* none, though it had some */
		{ XPC, (const uint8_t *)ENT_NEW, sizeof(ENT_NEW) - 1 },       /* a nested bundle */
		{ "", (const uint8_t *)ENT_APP, sizeof(ENT_APP) - 1 },        /* the top, listed as "" */
	};
	struct cs_bsign_opts o = { .nested = 1, .ents = ents, .nents = 3 };
	cr_assert_eq(cs_bsign_bundle(app, &o, NULL), 0, "%s", ut_errmsg());
	expect_ents(app, TOOL, NULL);
	expect_ents(app, XPC "/Contents/MacOS/H", ENT_NEW);
	expect_ents(app, "Contents/MacOS/App", ENT_APP);
	char *tool = tb_join(app, TOOL);
	cr_expect(!bs_has_slot(tool, 5) && !bs_has_slot(tool, 7), "tool kept entitlement blobs");
	free(tool);
	tb_cleanup(app);
}

static size_t progress_calls, progress_index[8], progress_count;

static void on_progress(void *ctx, const struct cs_bsign_item *it, size_t i, size_t n)
{
	cr_assert_eq(ctx, &progress_calls);
	cr_assert_not_null(it);
	if (progress_calls < 8)
		progress_index[progress_calls] = i;
	progress_calls++;
	progress_count = n;
}

Test(bsign_api, progress_reports_each_component_in_order)
{
	char *app = make_app();
	struct cs_bsign_opts o = { .nested = 1, .progress = on_progress, .progress_ctx = &progress_calls };
	cr_assert_eq(cs_bsign_bundle(app, &o, NULL), 0, "%s", ut_errmsg());
	cr_expect_eq(progress_calls, 4);
	for (size_t i = 0; i < progress_calls && i < 8; i++)
		cr_expect_eq(progress_index[i], i);
	cr_expect_eq(progress_count, 4);
	tb_cleanup(app);
}

/* X.framework and X.framework/Versions/A sign the same unit the same way. */
Test(bsign_api, framework_root_or_version_directory)
{
	char *a = make_app(), *b = copy_of(a);
	char *fa = tb_join(a, FW), *fb = tb_join(b, FW "/Versions/A");
	struct cs_bsign_opts o = { 0 };
	struct cs_bsign_report ra, rb;
	cr_assert_eq(cs_bsign_bundle(fa, &o, &ra), 0, "%s", ut_errmsg());
	cr_assert_eq(cs_bsign_bundle(fb, &o, &rb), 0, "%s", ut_errmsg());
	cr_expect(same_tree(a, b), "root and version directory give different bytes");
	cr_expect_str_eq(ra.v[0].sign.identifier, "org.test.F");
	cr_expect_eq(memcmp(ra.v[0].cdhash, rb.v[0].cdhash, 20), 0);
	char *seal = tb_join(fa, "Versions/A/_CodeSignature/CodeResources");
	cr_expect(ts_exists(seal));
	bs_expect_valid(fa, 1, NULL);
	bs_expect_valid(fb, 1, NULL);
	cs_bsign_report_release(&ra);
	cs_bsign_report_release(&rb);
	free(seal);
	free(fa);
	free(fb);
	tb_cleanup(a);
	tb_cleanup(b);
}

/* Certificate signing: nested entries carry the identity's designated requirement. */
Test(bsign_api, identity_requirements_in_the_seal)
{
	char *app = make_app();
	struct cs_identity *id = bs_identity();
	struct cs_bsign_opts o = { .nested = 1 };
	o.sign.identity = id;
	o.sign.signing_time = 1700000000;
	struct cs_bsign_report r;
	cr_assert_eq(cs_bsign_bundle(app, &o, &r), 0, "%s", ut_errmsg());
	char *seal = tb_join(app, "Contents/_CodeSignature/CodeResources");
	plist_t pl = tb_plist_file(seal);
	plist_t files2 = plist_dict_get_item(pl, "files2");
	const char *keys[] = { "Frameworks/F.framework", "MacOS/tool", "XPCServices/H.xpc" };
	const char *ids[] = { "org.test.F", "org.test.tool", "org.test.H" };
	for (size_t i = 0; i < 3; i++) {
		plist_t e = plist_dict_get_item(files2, keys[i]);
		cr_assert(e, "%s not sealed", keys[i]);
		char *want = NULL;
		cr_assert(asprintf(&want,
				   "identifier \"%s\" and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] "
				   "/* exists */ and certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and "
				   "certificate leaf[subject.OU] = UTMTEST123",
				   ids[i]) > 0);
		cr_expect_str_eq(plist_get_string_ptr(plist_dict_get_item(e, "requirement"), NULL), want, "%s", keys[i]);
		free(want);
	}
	for (size_t i = 0; i < r.n; i++) {
		cr_expect_str_eq(r.v[i].sign.team_id, "UTMTEST123", "%s", r.v[i].rel);
		bs_expect_valid(r.v[i].path, r.v[i].is_bundle, tc_test_trust(CS_TRUST_REQUIRE_ANCHOR));
	}
	plist_free(pl);
	free(seal);
	cs_bsign_report_release(&r);
	cs_identity_free(id);
	tb_cleanup(app);
}

/* A stale temp file of an interrupted run is cleared; the seal stays strict-clean. */
Test(bsign_api, leftover_temp_file_is_removed)
{
	char *app = make_app();
	tb_write_str(app, "Contents/_CodeSignature/.main-executable.utmpatch-signing", "junk");
	struct cs_bsign_opts o = { .nested = 1 };
	cr_assert_eq(cs_bsign_bundle(app, &o, NULL), 0, "%s", ut_errmsg());
	char *tmp = tb_join(app, "Contents/_CodeSignature/.main-executable.utmpatch-signing");
	cr_expect(!ts_exists(tmp));
	bs_expect_valid(app, 1, NULL);
	free(tmp);
	tb_cleanup(app);
}

/* Refusals: the message, the code, and the bundle byte for byte as it was (no _CodeSignature made). */
struct refusal {
	const char *name;
	int code;
	const char *msg;
};

static void expect_refused(const char *app, const char *orig, const char *path, const struct cs_bsign_opts *o,
			   const struct refusal *want)
{
	struct cs_bsign_report r;
	int rc = cs_bsign_bundle(path, o, &r);
	cr_expect_eq(rc, want->code, "%s: rc %d (%s)", want->name, rc, ut_errmsg());
	cr_expect(strstr(ut_errmsg(), want->msg), "%s: message '%s' lacks '%s'", want->name, ut_errmsg(), want->msg);
	cr_expect_eq(r.n, 0, "%s: %zu components reported signed", want->name, r.n);
	cr_expect(same_tree(orig, app), "%s: the bundle changed", want->name);
	cs_bsign_report_release(&r);
}

Test(bsign_api, refusals_leave_the_bundle_untouched)
{
	char *app = make_app(), *orig = copy_of(app);
	struct cs_bsign_ent unknown = { "Contents/MacOS/nothing", (const uint8_t *)ENT_NEW, sizeof(ENT_NEW) - 1 };
	struct cs_bsign_ent top = { "", (const uint8_t *)ENT_NEW, sizeof(ENT_NEW) - 1 };
	struct cs_bsign_ent bad = { TOOL, (const uint8_t *)"<plist><dict><key>x</key></plist>", 33 };
	struct cs_bsign_ent notdict = { TOOL, (const uint8_t *)"<plist><array/></plist>", 23 };
	struct cs_bsign_ent nested_only = { XPC, (const uint8_t *)ENT_NEW, sizeof(ENT_NEW) - 1 };
	struct {
		struct cs_bsign_opts o;
		struct refusal want;
	} t[] = {
		{ { .nested = 1, .ents = &unknown, .nents = 1 },
		  { "unknown component", UT_EINVAL, "'Contents/MacOS/nothing', which is not a component signed here" } },
		{ { .nested = 0, .ents = &nested_only, .nents = 1 },
		  { "nested component without nested", UT_EINVAL, "nested components are signed only with nested" } },
		{ { .nested = 1, .ents = &bad, .nents = 1 }, { "malformed entitlements", UT_EMALFORMED, TOOL } },
		{ { .nested = 1, .ents = &notdict, .nents = 1 }, { "entitlements not a dict", UT_EMALFORMED, "not a dictionary" } },
		{ { .nested = 1, .ents = &top, .nents = 1, .sign = { .entitlements = (const uint8_t *)ENT_APP,
								     .entitlements_len = sizeof(ENT_APP) - 1 } },
		  { "top entitlements twice", UT_EINVAL, "given twice" } },
		{ { .sign = { .info_plist = (const uint8_t *)"x", .info_plist_len = 1 } },
		  { "info_plist option", UT_EINVAL, "supplies the Info.plist" } },
		{ { .sign = { .linker_signed = 1 } }, { "linker form", UT_EINVAL, "linker signatures" } },
		/* Without nested, unsigned nested code cannot be sealed (fat-exe's x86_64 slice is unsigned). */
		{ { .nested = 0 },
		  { "unsigned nested code", UT_ENOTFOUND,
		    "slice x86_64: code object is not signed at all (nested code is sealed as it is; sign with nested" } },
	};
	/* Make the XPC service's main executable an unsigned fat file for the last row. */
	char *h = tb_join(app, XPC "/Contents/MacOS/H"), *ho = tb_join(orig, XPC "/Contents/MacOS/H");
	cr_assert_eq(ts_copy(ts_fixture("fat-exe"), h), 0);
	cr_assert_eq(ts_copy(ts_fixture("fat-exe"), ho), 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect_refused(app, orig, app, &t[i].o, &t[i].want);
	free(h);
	free(ho);
	tb_cleanup(app);
	tb_cleanup(orig);
}

Test(bsign_api, broken_components_are_found_before_any_write)
{
	struct {
		const char *rel;
		const char *content;   /* written over rel; NULL: rel removed */
		struct refusal want;
	} t[] = {
		/* A nested framework whose binary is a 64-bit header promising load commands that are not there. */
		{ FW "/Versions/A/F", "", { "truncated Mach-O", UT_EMALFORMED, "F.framework/Versions/A/F" } },
		/* A nested bundle whose main executable is missing. */
		{ XPC "/Contents/MacOS/H", NULL, { "missing executable", UT_ENOTFOUND, "is missing" } },
		/* The top's main executable is not Mach-O. */
		{ "Contents/MacOS/App", "#!/bin/sh\n", { "script as executable", UT_EUNSUPPORTED, "is not a Mach-O file" } },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *app = make_app();
		char *p = tb_join(app, t[i].rel);
		static const uint8_t hdr[32] = { 0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0, 0, 0x01, 0, 0, 0, 0, 6, 0, 0, 0,
						 5, 0, 0, 0, 0xe8, 0x03, 0, 0 };
		if (t[i].content && !t[i].content[0])
			tb_write(app, t[i].rel, hdr, sizeof(hdr));
		else if (t[i].content)
			tb_write_str(app, t[i].rel, t[i].content);
		else
			cr_assert_eq(remove(p), 0);
		char *orig = copy_of(app);
		struct cs_bsign_opts o = { .nested = 1 };
		expect_refused(app, orig, app, &o, &t[i].want);
		free(p);
		tb_cleanup(app);
		tb_cleanup(orig);
	}
	/* No main executable declared: nothing to sign. */
	char *app = tb_tmp_bundle("Empty.app");
	tb_info_plist(app, "Contents/Info.plist", NULL, "org.test.empty", "APPL");
	tb_write_str(app, "Contents/Resources/a.txt", "x");
	char *orig = copy_of(app);
	struct cs_bsign_opts o = { 0 };
	struct refusal w = { "no executable", UT_EUNSUPPORTED, "bundle without a main executable" };
	expect_refused(app, orig, app, &o, &w);
	tb_cleanup(app);
	tb_cleanup(orig);
}
