/*
 * test_seal_sign.c - integration: a UTM-shaped bundle sealed and signed
 * inside-out (cs_bundle_tree_build order; seals from cs_seal_build with nested
 * code read from the just-signed children; main executables signed by
 * cs_sign_file with the Info.plist and CodeResources bytes), then verified
 * with the seal verifier (deep, strict) and the Mach-O verifier.  This checks
 * that the three modules agree; the Apple oracles are in test_seal_corpus.c.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_seal.h"
#include "cs_sign.h"
#include "cs_verify.h"
#include "test_bundle_util.h"
#include "tsupport.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_limits.h"

#define FILEOP TB_SPARKLE "/" TB_AUTOUPDATE "/Contents/MacOS/fileop"

static char *make_utm(void)
{
	const char *macho = ts_corpus(FILEOP);
	char *app = tb_tmp_bundle("UTM.app");
	tb_info_plist(app, "Contents/Info.plist", "UTM", "com.utmapp.UTM", "APPL");
	tb_write_str(app, "Contents/PkgInfo", "APPL????");
	tb_copy_file(macho, app, "Contents/MacOS/UTM");
	tb_copy_file(macho, app, "Contents/MacOS/utmctl");
	tb_write_str(app, "Contents/Resources/qemu/edk2-aarch64-code.fd", "firmware");
	tb_write_str(app, "Contents/Resources/en.lproj/Localizable.strings", "\"a\" = \"b\";");
	char *fw = tb_join(app, "Contents/Frameworks/qemu-aarch64-softmmu.framework");
	tb_mkdirs(app, "Contents/Frameworks/qemu-aarch64-softmmu.framework");
	tb_info_plist(fw, "Versions/A/Resources/Info.plist", "qemu-aarch64-softmmu", "com.utmapp.qemu-aarch64-softmmu",
		      NULL);
	tb_copy_file(macho, fw, "Versions/A/qemu-aarch64-softmmu");
	tb_symlink("A", fw, "Versions/Current");
	tb_symlink("Versions/Current/qemu-aarch64-softmmu", fw, "qemu-aarch64-softmmu");
	tb_symlink("Versions/Current/Resources", fw, "Resources");
	free(fw);
	char *x = tb_join(app, "Contents/XPCServices/QEMUHelper.xpc");
	tb_mkdirs(app, "Contents/XPCServices/QEMUHelper.xpc");
	tb_info_plist(x, "Contents/Info.plist", "QEMUHelper", "com.utmapp.QEMUHelper", "XPC!");
	tb_copy_file(macho, x, "Contents/MacOS/QEMUHelper");
	tb_info_plist(x, "Contents/MacOS/QEMULauncher.app/Contents/Info.plist", "QEMULauncher", "com.utmapp.QEMULauncher",
		      "APPL");
	tb_copy_file(macho, x, "Contents/MacOS/QEMULauncher.app/Contents/MacOS/QEMULauncher");
	free(x);
	return app;
}

static void sign_bundle(const char *path)
{
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(path, &b), 0, "%s", ut_errmsg());
	/* The executables are macOS 10.9 builds: codesign signs them SHA-1 + SHA-256, so the seal is agile too. */
	struct cs_seal_opts so = { .hash_types = { CS_HASHTYPE_SHA1, CS_HASHTYPE_SHA256 }, .nhash = 2 };
	struct cs_seal s;
	cr_assert_eq(cs_seal_build_bundle(&s, b, &so), 0, "%s: %s", path, ut_errmsg());
	cr_assert_eq(cs_seal_write_file(&s, b->seal_path), 0, "%s", ut_errmsg());
	cs_seal_release(&s);
	uint8_t *info, *res;
	size_t ninfo, nres;
	cr_assert_eq(ut_file_read(b->info_path, UT_MAX_PLIST_SIZE, &info, &ninfo), 0);
	cr_assert_eq(ut_file_read(b->seal_path, UT_MAX_PLIST_SIZE, &res, &nres), 0);
	struct cs_sign_opts o = { .info_plist = info, .info_plist_len = ninfo, .resources = res, .resources_len = nres };
	struct cs_sign_report rep;
	cr_assert_eq(cs_sign_file(b->exec_path, NULL, &o, &rep), 0, "%s: %s", b->exec_path, ut_errmsg());
	cr_expect_str_eq(rep.identifier, b->identifier);
	free(info);
	free(res);
	cs_bundle_free(b);
}

static void sign_tree(const char *root)
{
	struct cs_bundle_tree t;
	cr_assert_eq(cs_bundle_tree_build(&t, root), 0, "%s", ut_errmsg());
	for (size_t i = 0; i < t.n; i++) {
		if (t.v[i].is_bundle) {
			sign_bundle(t.v[i].path);
		} else {
			struct cs_sign_opts o = { 0 };
			cr_assert_eq(cs_sign_file(t.v[i].path, NULL, &o, NULL), 0, "%s: %s", t.v[i].path, ut_errmsg());
		}
	}
	cr_expect_eq(t.n, 5);
	cs_bundle_tree_release(&t);
}

static struct cs_seal_report verify(const char *root)
{
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(root, &b), 0);
	struct cs_seal_report r = { 0 };
	struct cs_seal_verify_opts o = { .strict = 1, .deep = 1 };
	cr_assert_eq(cs_seal_verify_bundle(b, &o, "", &r), 0, "%s", ut_errmsg());
	cs_bundle_free(b);
	for (size_t i = 0; i < r.n; i++)
		cr_log_info("%s: %s (%s)", cs_seal_problem_text(r.v[i].problem), r.v[i].path, r.v[i].detail);
	return r;
}

Test(seal_sign, utm_shaped_bundle_signed_inside_out_verifies)
{
	char *app = make_utm();
	sign_tree(app);
	struct cs_seal_report r = verify(app);
	cr_expect_eq(r.n, 0);
	cs_seal_report_release(&r);

	/* The top seal records the nested code the way its own signature says (arm64 host). */
	struct cs_seal s;
	char *seal = tb_join(app, "Contents/_CodeSignature/CodeResources");
	cr_assert_eq(cs_seal_read_file(&s, seal), 0);
	const char *nested[] = { "Frameworks/qemu-aarch64-softmmu.framework", "MacOS/utmctl",
				 "XPCServices/QEMUHelper.xpc" };
	for (int i = 0; i < 3; i++) {
		const struct cs_seal_entry *e = cs_seal_find(&s.files2, nested[i]);
		cr_assert_not_null(e, "%s", nested[i]);
		cr_expect_eq(e->kind, CS_SEAL_NESTED);
		cr_expect(strncmp(e->requirement, "cdhash H\"", 9) == 0, "%s", e->requirement);
	}
	cr_expect_eq(s.files2.n, 5, "3 nested + 2 resources, %zu", s.files2.n);
	cs_seal_release(&s);
	free(seal);

	/* Re-signing the framework alone (a new cdhash) breaks the outer seal at that path only. */
	char *fw = tb_join(app, "Contents/Frameworks/qemu-aarch64-softmmu.framework");
	char *fw_info = tb_join(fw, "Versions/A/Resources/Info.plist");
	FILE *f = fopen(fw_info, "ab");
	fputs("<!-- edited -->\n", f);
	fclose(f);
	/* Its signature fails (slot -1, both slices) and, deep, its own seal (the Info.plist is sealed in a framework). */
	r = verify(app);
	cr_expect_eq(r.n, 3);
	for (size_t i = 0; i < r.n && i < 2; i++) {
		cr_expect_eq(r.v[i].problem, CS_SEAL_NESTED_INVALID);
		cr_expect_str_eq(r.v[i].path, "Contents/Frameworks/qemu-aarch64-softmmu.framework");
		cr_expect(strstr(r.v[i].detail, i ? "slice arm64: invalid Info.plist" : "slice x86_64: invalid Info.plist"),
			  "%s", r.v[i].detail);
	}
	cr_expect_eq(r.n == 3 ? r.v[2].problem : 0, CS_SEAL_MODIFIED);
	cr_expect_str_eq(r.n == 3 ? r.v[2].path : "",
			 "Contents/Frameworks/qemu-aarch64-softmmu.framework/Versions/A/Resources/Info.plist");
	cs_seal_report_release(&r);
	sign_bundle(fw);
	r = verify(app);
	cr_expect_eq(r.n, 1);
	cr_expect(r.n && strstr(r.v[0].detail, "none of the cdhashes"), "%s", r.n ? r.v[0].detail : "");
	cs_seal_report_release(&r);
	/* Resealing and re-signing the outer layers inside-out repairs it. */
	sign_bundle(app);
	r = verify(app);
	cr_expect_eq(r.n, 0);
	cs_seal_report_release(&r);
	free(fw_info);
	free(fw);
	tb_cleanup(app);
}

Test(seal_sign, deep_finds_a_broken_launcher_two_levels_down)
{
	char *app = make_utm();
	sign_tree(app);
	/* A resource added inside QEMULauncher.app (nested in QEMUHelper.xpc's MacOS). */
	tb_write_str(app, "Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMULauncher.app/Contents/Resources/new", "x");
	struct cs_seal_report r = verify(app);
	cr_expect_eq(r.n, 1);
	cr_expect_eq(r.n ? r.v[0].problem : 0, CS_SEAL_ADDED);
	cr_expect_str_eq(r.n ? r.v[0].path : "",
			 "Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMULauncher.app/Contents/Resources/new");
	cs_seal_report_release(&r);
	tb_cleanup(app);
}
