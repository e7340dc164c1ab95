/*
 * test_edit.c - `macho edit` against llvm-install-name-tool-14, byte for byte.
 *
 * llvm-install-name-tool rewrites the whole file through llvm-objcopy's
 * writer, which also rebuilds the symbol string table in its own order (Apple's
 * install_name_tool and utmpatch leave it alone).  So each case is checked twice:
 *   - on the fixture after one llvm-objcopy-14 pass (already in llvm's order):
 *     our output == llvm-install-name-tool's output, byte for byte;
 *   - on the raw lld fixture: llvm-objcopy-14(our output) == llvm-install-name-tool's
 *     output, i.e. we differ from it only by what llvm re-sorts.
 * Every edited output also parses the same with LIEF and llvm-otool-14.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oracle.h"
#include "tsupport.h"

#define MAXARGS 96

/* llvm-install-name-tool spelling → ours. */
static const char *ours_opt(const char *llvm)
{
	if (strcmp(llvm, "-change") == 0) return "--change";
	if (strcmp(llvm, "-id") == 0) return "--id";
	if (strcmp(llvm, "-add_rpath") == 0) return "--add-rpath";
	if (strcmp(llvm, "-delete_rpath") == 0) return "--delete-rpath";
	if (strcmp(llvm, "-rpath") == 0) return "--rpath";
	return llvm;
}

static void run_ok(char **argv, const char *what)
{
	char *err = NULL;
	int rc = ts_run(argv, NULL, &err);
	cr_assert_eq(rc, 0, "%s failed (%d): %s", what, rc, err ? err : "");
	free(err);
}

static void objcopy(const char *in, const char *out)
{
	char *argv[] = { "llvm-objcopy-14", (char *)in, (char *)out, NULL };
	run_ok(argv, "llvm-objcopy-14");
}

/* Runs one edit (llvm spelling, NULL-terminated) on the file src (named fixture) both ways and compares. */
static void compare_edit_path(const char *src, const char *fixture, const char *const *edit)
{
	for (int canonical = 1; canonical >= 0; canonical--) {
		char *dir = ts_tmpdir();
		char *da = ts_path(dir, "llvm"), *db = ts_path(dir, "ours"), *dc = ts_path(dir, "norm");
		mkdir(da, 0755);
		mkdir(db, 0755);
		mkdir(dc, 0755);
		char *a = ts_path(da, fixture), *b = ts_path(db, fixture), *c = ts_path(dc, fixture);
		cr_assert(ts_exists(src), "fixture %s missing", src);
		if (canonical) {
			objcopy(src, a);
			objcopy(src, b);
		} else {
			cr_assert_eq(ts_copy(src, a), 0);
			cr_assert_eq(ts_copy(src, b), 0);
		}
		char *la[MAXARGS], *lb[MAXARGS];
		int na = 0, nb = 0;
		la[na++] = "llvm-install-name-tool-14";
		lb[nb++] = (char *)ts_bin();
		lb[nb++] = "macho";
		lb[nb++] = "edit";
		for (int i = 0; edit[i]; i++) {
			la[na++] = (char *)edit[i];
			lb[nb++] = (char *)ours_opt(edit[i]);
		}
		la[na++] = a;
		lb[nb++] = b;
		la[na] = lb[nb] = NULL;
		run_ok(la, "llvm-install-name-tool-14");
		run_ok(lb, "utmpatch macho edit");
		if (canonical) {
			cr_assert(ts_same_file(a, b), "%s %s: output differs from llvm-install-name-tool-14 (%s vs %s)",
				  fixture, edit[0], a, b);
		} else {
			objcopy(b, c);
			cr_assert(ts_same_file(a, c), "%s %s: llvm-objcopy(ours) differs from llvm-install-name-tool-14",
				  fixture, edit[0]);
		}
		oracle_compare_lief(b);
		oracle_compare_otool(b);
		struct stat st, st0;
		cr_assert_eq(stat(b, &st), 0);
		cr_assert_eq(stat(src, &st0), 0);
		cr_assert_eq(st.st_mode & 0777, st0.st_mode & 0777, "mode bits not kept");
		ts_rmtree(dir);
		free(a), free(b), free(c), free(da), free(db), free(dc), free(dir);
	}
}

static void compare_edit(const char *fixture, const char *const *edit)
{
	compare_edit_path(ts_fixture(fixture), fixture, edit);
}

#define EDIT(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const char *const sysdeps[] = { "pixman-1.0", "glib-2.0.0", "gio-2.0.0", "gobject-2.0.0", "intl.8",
				       "iconv.2", "jpeg.62", "png16.16", "slirp.0", "spice-server.1",
				       "epoxy.0", "zstd.1", "gmodule-2.0.0", "usb-1.0.0", NULL };

/*
 * llvm-objcopy-14 rejects LC_REEXPORT_DYLIB, LC_LOAD_UPWARD_DYLIB and LC_LAZY_LOAD_DYLIB
 * ("unsupported load command"), so the deps fixture is compared with llvm after turning
 * its re-exported (libintl) and upward (libgmodule) commands into plain ones; those
 * three kinds are checked against LIEF/otool and the input bytes in test_edit_kinds.c.
 */
static const char *plain_deps(const char *fixture)
{
	static char out[512];
	char cmd[1400];
	snprintf(out, sizeof(out), "/tmp/utmpatch-plain-%d-%s", (int)getpid(), fixture);
	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s' '%s' dylib-cmd libintl 0xc dylib-cmd libgmodule 0xc",
		 ts_root("testdata/recipes/patch-macho.py"), ts_fixture(fixture), out);
	cr_assert_eq(ts_sh(cmd, NULL, NULL), 0, "%s", cmd);
	return out;
}

/* Every sysroot dependency of a deps fixture rewritten to UTM's framework form, as utmpatch install does. */
static void deps_all_changes(const char *fixture, const char *arch)
{
	static char bufs[32][2][256];
	const char *edit[MAXARGS];
	int n = 0;
	for (int i = 0; sysdeps[i]; i++) {
		snprintf(bufs[i][0], 256, "/Users/x/UTM/sysroot-macOS-%s/lib/lib%s.dylib", arch, sysdeps[i]);
		snprintf(bufs[i][1], 256, "@rpath/%s.framework/Versions/A/%s", sysdeps[i], sysdeps[i]);
		edit[n++] = "-change";
		edit[n++] = bufs[i][0];
		edit[n++] = bufs[i][1];
	}
	edit[n] = NULL;
	compare_edit_path(plain_deps(fixture), fixture, edit);
}

Test(mo_edit_llvm, arm64_linker_signed_each_kind, .timeout = 120)
{
	compare_edit("arm64-exe", EDIT("-add_rpath", "/opt/custom/lib"));
	compare_edit("arm64-exe", EDIT("-delete_rpath", "@loader_path/../lib"));
	compare_edit("arm64-exe", EDIT("-rpath", "@executable_path/../Frameworks", "@executable_path/../../../Frameworks"));
	compare_edit("arm64-exe", EDIT("-change", "/usr/lib/libSystem.B.dylib", "/usr/lib/libSystem.dylib"));
	compare_edit("arm64-dylib", EDIT("-id", "@rpath/foo.1.framework/foo.1"));
	compare_edit("arm64-dylib", EDIT("-id", "x"));
	compare_edit("arm64-bundle", EDIT("-add_rpath", "/x"));
}

Test(mo_edit_llvm, arm64_linker_signed_combined, .timeout = 120)
{
	compare_edit("arm64-exe", EDIT("-delete_rpath", "@loader_path/../lib", "-rpath", "@executable_path/../Frameworks",
				       "@executable_path/../../Frameworks", "-add_rpath", "/a", "-add_rpath", "/b/c",
				       "-change", "/usr/lib/libSystem.B.dylib", "/usr/lib/libSystem.dylib"));
	compare_edit("arm64-dylib", EDIT("-id", "@rpath/foo.1.framework/Versions/A/foo.1", "-change",
					 "/usr/lib/libSystem.B.dylib", "/usr/lib/libSystem.dylib", "-add_rpath",
					 "@loader_path/../../.."));
	deps_all_changes("arm64-deps", "arm64");
}

Test(mo_edit_llvm, x86_64_unsigned_each_kind_and_combined, .timeout = 120)
{
	compare_edit("x86_64-exe", EDIT("-add_rpath", "/opt/custom/lib"));
	compare_edit("x86_64-exe", EDIT("-delete_rpath", "@executable_path/../Frameworks"));
	compare_edit("x86_64-exe", EDIT("-rpath", "@loader_path/../lib", "@loader_path/../../lib"));
	compare_edit("x86_64-exe", EDIT("-change", "/usr/lib/libSystem.B.dylib", "/usr/lib/libSystem.dylib"));
	compare_edit("x86_64-dylib", EDIT("-id", "@rpath/foo.1.framework/foo.1"));
	compare_edit("x86_64-dylib", EDIT("-id", "@rpath/foo.1.framework/foo.1", "-add_rpath", "/x", "-change",
					  "/usr/lib/libSystem.B.dylib", "/usr/lib/libSystem.dylib"));
	deps_all_changes("x86_64-deps", "x86_64");
}

Test(mo_edit_llvm, fat_each_kind_and_combined, .timeout = 120)
{
	compare_edit("fat-dylib", EDIT("-id", "@rpath/foo.1.framework/foo.1"));
	compare_edit("fat-dylib", EDIT("-add_rpath", "/x"));
	compare_edit("fat-dylib", EDIT("-change", "/usr/lib/libSystem.B.dylib", "/usr/lib/libSystem.dylib"));
	compare_edit("fat-exe", EDIT("-delete_rpath", "@loader_path/../lib"));
	compare_edit("fat-exe", EDIT("-rpath", "@executable_path/../Frameworks", "@executable_path/Frameworks"));
	compare_edit("fat-exe", EDIT("-delete_rpath", "@loader_path/../lib", "-add_rpath", "/p/q", "-change",
				     "/usr/lib/libSystem.B.dylib", "/usr/lib/libSystem.dylib"));
}
