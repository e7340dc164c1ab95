/*
 * test_bundle_model.c - the bundle model against the corpus bundles (layouts
 * and Info.plists as Apple's tools left them; main executables named in
 * MANIFEST.tsv), synthetic layouts from codesign-spec §3.1 / utm-domain §1,
 * refusals, and the inside-out component order.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_bundle.h"
#include "test_bundle_util.h"
#include "tsupport.h"
#include "ut_err.h"

struct expect {
	const char *rel;          /* corpus bundle, or a path inside the Sparkle copy */
	enum cs_bundle_kind kind;
	enum cs_bundle_layout layout;
	const char *base_rel, *info_rel, *exec_rel, *resources, *identifier;
};

static const struct expect corpus[] = {
	{ TB_SPARKLE, CS_BUNDLE_FRAMEWORK, CS_BUNDLE_VERSIONED, "Versions/A", "Resources/Info.plist", "Sparkle",
	  "Resources/", "org.sparkle-project.Sparkle" },
	{ TB_GROWL, CS_BUNDLE_FRAMEWORK, CS_BUNDLE_VERSIONED, "Versions/A", "Resources/Info.plist", "Growl",
	  "Resources/", "com.growl.growlframework" },
	{ TB_NOTIFIER, CS_BUNDLE_APP, CS_BUNDLE_DEEP, "Contents", "Info.plist", "MacOS/terminal-notifier", "Resources/",
	  "nl.superalloy.oss.terminal-notifier" },
	{ TB_SIGNAPPLE, CS_BUNDLE_APP, CS_BUNDLE_DEEP, "Contents", "Info.plist", "MacOS/signapple-test", "Resources/",
	  "com.achow101.signapple-test" },
};

static void check(const struct cs_bundle *b, const struct expect *e)
{
	cr_expect_eq(b->kind, e->kind, "%s: kind %s", e->rel, cs_bundle_kind_name(b->kind));
	cr_expect_eq(b->layout, e->layout, "%s: layout %s", e->rel, cs_bundle_layout_name(b->layout));
	cr_expect_str_eq(b->base_rel, e->base_rel, "%s", e->rel);
	cr_expect_str_eq(b->info_rel, e->info_rel, "%s", e->rel);
	cr_expect(b->has_info, "%s", e->rel);
	cr_assert(b->exec_rel, "%s: no main executable", e->rel);
	cr_expect_str_eq(b->exec_rel, e->exec_rel, "%s", e->rel);
	cr_expect_str_eq(b->resources, e->resources, "%s", e->rel);
	cr_expect_str_eq(b->identifier, e->identifier, "%s", e->rel);
	cr_expect(access(b->exec_path, R_OK) == 0, "%s: %s", e->rel, b->exec_path);
	char *seal = tb_join(b->base, "_CodeSignature/CodeResources");
	cr_expect_str_eq(b->seal_path, seal);
	free(seal);
}

Test(bundle, corpus_bundles_classified)
{
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		char *dir = tb_copy_corpus(corpus[i].rel);
		struct cs_bundle *b = NULL;
		cr_assert_eq(cs_bundle_open(dir, &b), 0, "%s: %s", corpus[i].rel, ut_errmsg());
		check(b, &corpus[i]);
		if (b->layout == CS_BUNDLE_VERSIONED)
			cr_expect_str_eq(b->version, "A");
		cs_bundle_free(b);
		tb_cleanup(dir);
	}
}

Test(bundle, sparkle_autoupdate_is_an_app_inside_the_framework)
{
	char *dir = tb_copy_corpus(TB_SPARKLE);
	char *app = tb_join(dir, TB_AUTOUPDATE);
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(app, &b), 0, "%s", ut_errmsg());
	struct expect e = { "Autoupdate.app", CS_BUNDLE_APP, CS_BUNDLE_DEEP, "Contents", "Info.plist",
			    "MacOS/Autoupdate", "Resources/", "org.sparkle-project.Sparkle.Autoupdate" };
	check(b, &e);
	cr_expect_str_eq(b->name, "Autoupdate.app");
	cs_bundle_free(b);
	free(app);
	tb_cleanup(dir);
}

Test(bundle, corpus_copy_without_restored_symlinks_refused)
{
	/* The corpus keeps Versions/Current as a 1-byte file "A": not a framework codesign would accept. */
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(ts_corpus(TB_GROWL), &b), UT_EMALFORMED);
	cr_expect(strstr(ut_errmsg(), "'Versions/Current' is not a symlink"), "%s", ut_errmsg());
	cr_expect_null(b);
}

Test(bundle, symlink_restoration_counts)
{
	/* MANIFEST.tsv: Sparkle 6 symlinks, Growl 4, the apps none. */
	char *dir = tb_copy_corpus(TB_SPARKLE);
	cr_expect_eq(tsb_restore_symlinks(dir), 0, "already restored");
	char *cmd = NULL, *out = NULL;
	cr_assert(asprintf(&cmd, "find '%s' -type l | wc -l", dir) >= 0);
	ts_sh(cmd, &out, NULL);
	cr_expect_eq(atoi(out), 6, "%s", out);
	free(out);
	free(cmd);
	tb_cleanup(dir);
	dir = tb_copy_corpus(TB_GROWL);
	cr_assert(asprintf(&cmd, "find '%s' -type l | wc -l", dir) >= 0);
	ts_sh(cmd, &out, NULL);
	cr_expect_eq(atoi(out), 4, "%s", out);
	free(out);
	free(cmd);
	tb_cleanup(dir);
}

static struct cs_bundle *open_ok(const char *dir)
{
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(dir, &b), 0, "%s: %s", dir, ut_errmsg());
	return b;
}

Test(bundle, synthetic_layouts)
{
	struct {
		const char *name, *info_rel, *exe, *ptype, *extra_dir;
		enum cs_bundle_kind kind;
		enum cs_bundle_layout layout;
		const char *base_rel, *exec_rel, *resources;
	} t[] = {
		/* XPC service (utm-domain §1.1 QEMUHelper.xpc) */
		{ "QEMUHelper.xpc", "Contents/Info.plist", "QEMUHelper", "XPC!", NULL, CS_BUNDLE_XPC, CS_BUNDLE_DEEP,
		  "Contents", "MacOS/QEMUHelper", "Resources/" },
		/* package type wins over the extension */
		{ "Odd.bundle", "Contents/Info.plist", "Odd", "APPL", NULL, CS_BUNDLE_APP, CS_BUNDLE_DEEP, "Contents",
		  "MacOS/Odd", "Resources/" },
		{ "Ext.plugin", "Contents/Info.plist", "Ext", "BNDL", NULL, CS_BUNDLE_PLUGIN, CS_BUNDLE_DEEP, "Contents",
		  "MacOS/Ext", "Resources/" },
		/* iOS-style flat app: no Resources directory, flat rules */
		{ "Flat.app", "Info.plist", "Flat", "APPL", NULL, CS_BUNDLE_APP, CS_BUNDLE_SHALLOW, "", "Flat", "" },
		/* shallow framework (iOS) without package type: the extension decides */
		{ "Shallow.framework", "Info.plist", "Shallow", NULL, NULL, CS_BUNDLE_FRAMEWORK, CS_BUNDLE_SHALLOW, "",
		  "Shallow", "" },
		/* old-style shallow bundle: Info.plist in Resources/ */
		{ "Old.bundle", "Resources/Info.plist", "Old", NULL, "Resources", CS_BUNDLE_PLUGIN, CS_BUNDLE_SHALLOW, "",
		  "Old", "Resources/" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *dir = tb_tmp_bundle(t[i].name);
		tb_info_plist(dir, t[i].info_rel, t[i].exe, "com.example.x", t[i].ptype);
		struct cs_bundle *b = open_ok(dir);
		cr_expect_eq(b->kind, t[i].kind, "%s: %s", t[i].name, cs_bundle_kind_name(b->kind));
		cr_expect_eq(b->layout, t[i].layout, "%s: %s", t[i].name, cs_bundle_layout_name(b->layout));
		cr_expect_str_eq(b->base_rel, t[i].base_rel, "%s", t[i].name);
		cr_expect_str_eq(b->exec_rel, t[i].exec_rel, "%s", t[i].name);
		cr_expect_str_eq(b->resources, t[i].resources, "%s", t[i].name);
		cr_expect(b->has_info, "%s", t[i].name);
		cs_bundle_free(b);
		tb_cleanup(dir);
	}
}

Test(bundle, utm_style_framework_without_package_type)
{
	/* utm-domain §1.3: Versions/A/{X, Resources/Info.plist}, Current -> A, two top-level symlinks, no CFBundlePackageType. */
	char *dir = tb_tmp_bundle("pixman-1.0.framework");
	tb_info_plist(dir, "Versions/A/Resources/Info.plist", "pixman-1.0", "com.utmapp.pixman-1.0", NULL);
	tb_write_str(dir, "Versions/A/pixman-1.0", "not really code");
	tb_symlink("A", dir, "Versions/Current");
	tb_symlink("Versions/Current/Resources", dir, "Resources");
	tb_symlink("Versions/Current/pixman-1.0", dir, "pixman-1.0");
	struct cs_bundle *b = open_ok(dir);
	cr_expect_eq(b->kind, CS_BUNDLE_FRAMEWORK);
	cr_expect_eq(b->layout, CS_BUNDLE_VERSIONED);
	cr_expect_str_eq(b->base_rel, "Versions/A");
	cr_expect_str_eq(b->exec_rel, "pixman-1.0");
	cr_expect_str_eq(b->identifier, "com.utmapp.pixman-1.0");
	cr_expect_null(b->package_type);
	struct cs_layout_report lr = { 0 };
	cr_assert_eq(cs_bundle_check_layout(b, &lr), 0);
	cr_expect_eq(lr.n, 0, "%s", lr.n ? lr.v[0].path : "");
	cs_layout_report_release(&lr);
	cs_bundle_free(b);
	/* "./A" is accepted as well (SEC validateFrameworkRoot). */
	tb_symlink("./A", dir, "Versions/Current");
	b = open_ok(dir);
	cr_expect_str_eq(b->version, "A");
	cs_bundle_free(b);
	tb_cleanup(dir);
}

Test(bundle, missing_info_plist_means_no_main_executable)
{
	char *dir = tb_tmp_bundle("Bare.app");
	tb_mkdirs(dir, "Contents/MacOS");
	struct cs_bundle *b = open_ok(dir);
	cr_expect_not(b->has_info);
	cr_expect_null(b->exec_rel);
	cr_expect_eq(b->kind, CS_BUNDLE_APP);
	cs_bundle_free(b);
	tb_cleanup(dir);
}

Test(bundle, refusals)
{
	struct {
		const char *what, *msg;
	} t[] = {
		{ "ambiguous", "bundle format is ambiguous" },
		{ "no-current", "'Versions/Current' is missing" },
		{ "current-escapes", "not to a version directory" },
		{ "current-dangling", "is not a directory" },
		{ "exe-path", "is not a file name" },
		{ "bad-plist", "not a valid XML property list" },
		{ "plist-array", "not a dictionary" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *dir = tb_tmp_bundle("X.framework");
		const char *w = t[i].what;
		if (!strcmp(w, "ambiguous")) {
			tb_mkdirs(dir, "Contents");
			tb_mkdirs(dir, "Versions/A");
		} else if (!strcmp(w, "no-current")) {
			tb_mkdirs(dir, "Versions/A");
		} else if (!strcmp(w, "current-escapes")) {
			tb_mkdirs(dir, "Versions/A");
			tb_symlink("../../..", dir, "Versions/Current");
		} else if (!strcmp(w, "current-dangling")) {
			tb_mkdirs(dir, "Versions/A");
			tb_symlink("B", dir, "Versions/Current");
		} else if (!strcmp(w, "exe-path")) {
			tb_info_plist(dir, "Info.plist", "../../bin/sh", "x", NULL);
		} else if (!strcmp(w, "bad-plist")) {
			tb_write_str(dir, "Info.plist", "<?xml version=\"1.0\"?><plist><dict><key>a</key>");
		} else {
			tb_write_str(dir, "Info.plist", "<?xml version=\"1.0\"?><plist version=\"1.0\"><array/></plist>");
		}
		struct cs_bundle *b = NULL;
		int rc = cs_bundle_open(dir, &b);
		cr_expect_eq(rc, UT_EMALFORMED, "%s: rc %d %s", w, rc, ut_errmsg());
		cr_expect(strstr(ut_errmsg(), t[i].msg), "%s: %s", w, ut_errmsg());
		cr_expect_null(b);
		tb_cleanup(dir);
	}
	struct cs_bundle *b = NULL;
	cr_expect_eq(cs_bundle_open("/nonexistent/X.app", &b), UT_EINVAL);
}
