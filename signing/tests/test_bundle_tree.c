/*
 * test_bundle_tree.c - inside-out component order and strict layout checks.
 *
 * Oracles: Sparkle's own seals (Autoupdate.app's CodeResources records
 * MacOS/fileop as nested code; the framework's records Autoupdate.app file by
 * file), UTM's bundle layout (utm-domain §1.1-1.3), Security's strict rules
 * as codesign-spec §3.5 states them.
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

#define FILEOP TB_SPARKLE "/" TB_AUTOUPDATE "/Contents/MacOS/fileop"

static void expect_order(const struct cs_bundle_tree *t, const char *const *rels, const int *nested, size_t n)
{
	cr_assert_eq(t->n, n, "%zu components", t->n);
	for (size_t i = 0; i < n; i++) {
		cr_expect_str_eq(t->v[i].rel, rels[i], "component %zu", i);
		cr_expect_eq(t->v[i].nested, nested[i], "%s nested", rels[i]);
	}
	/* Inside-out: every component comes before its parent, the top last. */
	for (size_t i = 0; i < n; i++) {
		if (t->v[i].parent < 0) {
			cr_expect_eq(i, n - 1, "only the top has no parent");
			continue;
		}
		cr_expect_gt((size_t)t->v[i].parent, i, "%s before its parent", t->v[i].rel);
		cr_expect(t->v[t->v[i].parent].is_bundle);
		cr_expect_eq(t->v[i].depth, t->v[t->v[i].parent].depth + 1);
	}
}

Test(bundle_tree, sparkle_inside_out)
{
	char *dir = tb_copy_corpus(TB_SPARKLE);
	struct cs_bundle_tree t;
	cr_assert_eq(cs_bundle_tree_build(&t, dir), 0, "%s", ut_errmsg());
	static const char *const rels[] = {
		"Versions/A/Resources/Autoupdate.app/Contents/MacOS/fileop",
		"Versions/A/Resources/Autoupdate.app",
		"",
	};
	static const int nested[] = { 1, 0, 0 };
	expect_order(&t, rels, nested, 3);
	/* The files2 keys the parents' seals use (Autoupdate.app's CodeResources: MacOS/fileop). */
	cr_expect_str_eq(t.v[0].seal_rel, "MacOS/fileop");
	cr_expect_str_eq(t.v[1].seal_rel, "Resources/Autoupdate.app");
	cr_expect_null(t.v[2].seal_rel);
	cr_expect_not(t.v[0].is_bundle);
	cr_expect_eq(t.v[0].parent, 1);
	cr_expect_eq(t.v[1].parent, 2);
	cr_expect_str_eq(t.v[2].path, dir);
	cs_bundle_tree_release(&t);
	tb_cleanup(dir);
}

/* A UTM.app-shaped tree (utm-domain §1.1): frameworks, utmctl, QEMUHelper.xpc with QEMULauncher.app in its MacOS. */
static char *make_utm(void)
{
	const char *macho = ts_corpus(FILEOP);
	char *app = tb_tmp_bundle("UTM.app");
	tb_info_plist(app, "Contents/Info.plist", "UTM", "com.utmapp.UTM", "APPL");
	tb_copy_file(macho, app, "Contents/MacOS/UTM");
	tb_copy_file(macho, app, "Contents/MacOS/utmctl");
	tb_write_str(app, "Contents/MacOS/launch.sh", "#!/bin/sh\n");
	tb_write_str(app, "Contents/PkgInfo", "APPL????");
	tb_write_str(app, "Contents/Resources/qemu/edk2-aarch64-code.fd", "firmware");
	tb_copy_file(macho, app, "Contents/Resources/not-nested-tool");
	const char *fws[] = { "qemu-aarch64-softmmu", "glib-2.0.0" };
	for (size_t i = 0; i < 2; i++) {
		char rel[256];
		snprintf(rel, sizeof(rel), "Contents/Frameworks/%s.framework", fws[i]);
		tb_mkdirs(app, rel);
		char *fw = tb_join(app, rel);
		char exe[128], id[128];
		snprintf(exe, sizeof(exe), "Versions/A/%s", fws[i]);
		snprintf(id, sizeof(id), "com.utmapp.%s", fws[i]);
		tb_info_plist(fw, "Versions/A/Resources/Info.plist", fws[i], id, NULL);
		tb_copy_file(macho, fw, exe);
		tb_symlink("A", fw, "Versions/Current");
		snprintf(exe, sizeof(exe), "Versions/Current/%s", fws[i]);
		tb_symlink(exe, fw, fws[i]);
		tb_symlink("Versions/Current/Resources", fw, "Resources");
		free(fw);
	}
	const char *xpc = "Contents/XPCServices/QEMUHelper.xpc";
	char *x = tb_join(app, xpc);
	tb_mkdirs(app, xpc);
	tb_info_plist(x, "Contents/Info.plist", "QEMUHelper", "com.utmapp.QEMUHelper", "XPC!");
	tb_copy_file(macho, x, "Contents/MacOS/QEMUHelper");
	tb_info_plist(x, "Contents/MacOS/QEMULauncher.app/Contents/Info.plist", "QEMULauncher", "com.utmapp.QEMULauncher",
		      "APPL");
	tb_copy_file(macho, x, "Contents/MacOS/QEMULauncher.app/Contents/MacOS/QEMULauncher");
	free(x);
	return app;
}

Test(bundle_tree, utm_shaped_app_inside_out)
{
	char *app = make_utm();
	struct cs_bundle_tree t;
	cr_assert_eq(cs_bundle_tree_build(&t, app), 0, "%s", ut_errmsg());
	static const char *const rels[] = {
		"Contents/Frameworks/glib-2.0.0.framework",
		"Contents/Frameworks/qemu-aarch64-softmmu.framework",
		"Contents/MacOS/utmctl",
		"Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMULauncher.app",
		"Contents/XPCServices/QEMUHelper.xpc",
		"",
	};
	static const int nested[] = { 1, 1, 1, 1, 1, 0 };
	expect_order(&t, rels, nested, 6);
	cr_expect_str_eq(t.v[3].seal_rel, "MacOS/QEMULauncher.app");
	cr_expect_eq(t.v[3].parent, 4);
	cr_expect_eq(t.v[3].depth, 2);
	cs_bundle_tree_release(&t);
	tb_cleanup(app);
}

static size_t layout_issues(const char *dir, struct cs_layout_report *lr)
{
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(dir, &b), 0, "%s", ut_errmsg());
	memset(lr, 0, sizeof(*lr));
	cr_assert_eq(cs_bundle_check_layout(b, lr), 0, "%s", ut_errmsg());
	cs_bundle_free(b);
	return lr->n;
}

static void expect_issue(const char *dir, const char *path, const char *what)
{
	struct cs_layout_report lr;
	layout_issues(dir, &lr);
	int found = 0;
	for (size_t i = 0; i < lr.n; i++)
		found |= strcmp(lr.v[i].path, path) == 0 && strstr(lr.v[i].what, what) != NULL;
	cr_expect(found, "%s: no issue '%s' for %s (%zu issues, first %s)", dir, what, path, lr.n,
		  lr.n ? lr.v[0].path : "-");
	cs_layout_report_release(&lr);
}

Test(bundle_tree, corpus_layouts_are_strict_clean)
{
	const char *rels[] = { TB_SPARKLE, TB_GROWL, TB_NOTIFIER, TB_SIGNAPPLE };
	for (size_t i = 0; i < 4; i++) {
		char *dir = tb_copy_corpus(rels[i]);
		struct cs_layout_report lr;
		cr_expect_eq(layout_issues(dir, &lr), 0, "%s: %s %s", rels[i], lr.n ? lr.v[0].path : "",
			     lr.n ? lr.v[0].what : "");
		cs_layout_report_release(&lr);
		tb_cleanup(dir);
	}
}

Test(bundle_tree, app_root_and_codesignature_dir)
{
	char *dir = tb_copy_corpus(TB_SIGNAPPLE);
	tb_write_str(dir, ".DS_Store", "allowed");
	tb_write_str(dir, "Icon\r", "");
	struct cs_layout_report lr;
	cr_expect_eq(layout_issues(dir, &lr), 0);
	cs_layout_report_release(&lr);
	tb_write_str(dir, "README.txt", "unsealed");
	expect_issue(dir, "README.txt", "unsealed contents present in the bundle root");
	tb_write_str(dir, "Contents/_CodeSignature/CodeSignature", "");
	cr_expect_eq(layout_issues(dir, &lr), 1, "an empty CodeSignature is tolerated");
	cs_layout_report_release(&lr);
	tb_write_str(dir, "Contents/_CodeSignature/CodeSignature", "x");
	expect_issue(dir, "Contents/_CodeSignature/CodeSignature", "does not use");
	tb_write_str(dir, "Contents/_CodeSignature/extra", "x");
	expect_issue(dir, "Contents/_CodeSignature/extra", "does not use");
	/* A main executable that is a symlink. */
	char *exe = tb_join(dir, "Contents/MacOS/signapple-test");
	unlink(exe);
	free(exe);
	tb_symlink("../Resources/x", dir, "Contents/MacOS/signapple-test");
	expect_issue(dir, "Contents/MacOS/signapple-test", "main executable is not a regular file");
	tb_cleanup(dir);
}

Test(bundle_tree, framework_root)
{
	char *dir = tb_copy_corpus(TB_GROWL);
	tb_write_str(dir, "junk", "x");
	expect_issue(dir, "junk", "root directory of a framework");
	tb_symlink("Versions/A/Growl", dir, "Direct");
	expect_issue(dir, "Direct", "does not point into Versions/Current/");
	tb_write_str(dir, "Versions/notes", "x");
	expect_issue(dir, "Versions/notes", "other than version directories");
	tb_cleanup(dir);
}
