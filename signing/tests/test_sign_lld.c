/*
 * test_sign_lld.c - `--linker-signed` against lld-14 itself: re-signing every
 * lld-linked arm64 fixture (testdata/MANIFEST.md), the arm64 slices of the
 * fat fixtures (extracted with llvm-lipo-14 -thin) and the arm64 stub
 * libraries, with lld's identifier read from its own CodeDirectory, gives
 * back lld's bytes exactly.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_sign.h"
#include "test_sign_util.h"
#include "tsupport.h"
#include "ut_err.h"

static char *dir;
static void setup(void) { dir = ts_tmpdir(); }
static void teardown(void)
{
	ts_rmtree(dir);
	free(dir);
}

TestSuite(sign_lld, .init = setup, .fini = teardown);

/* Signs a copy with lld's identifier and compares; returns 1 when identical. */
static void resign_same(const char *orig, const char *name)
{
	char ident[1024];
	snprintf(ident, sizeof(ident), "%s", tsg_identifier_of(orig, 0));
	char *copy = tsg_copy(dir, orig, name);
	struct cs_sign_opts o = { 0 };
	o.linker_signed = 1;
	o.identifier = ident;
	struct cs_sign_report rep;
	cr_assert_eq(cs_sign_file(copy, NULL, &o, &rep), 0, "%s: %s", name, ut_errmsg());
	cr_expect(ts_same_file(copy, orig), "%s: re-signed bytes differ from lld's", name);
	cr_expect_str_eq(rep.identifier, ident);
	struct tsg_file f;
	tsg_load(copy, &f);
	cr_expect_eq(tsg_check(&f, TSG_NO_CLI), 1);
	tsg_free(&f);
	free(copy);
}

static const char *const thin[] = {
	"arm64-exe", "arm64-dylib", "arm64-bundle", "arm64-deps", "arm64-deps-plain", "arm64-tight",
	"arm64-roomy", "arm64-lazy", "arm64e-exe", "qemu-arm64.dylib", NULL,
};

Test(sign_lld, thin_fixtures_byte_identical)
{
	for (const char *const *n = thin; *n; n++)
		resign_same(ts_fixture(*n), *n);
}

Test(sign_lld, arm64_slices_of_fat_fixtures_byte_identical)
{
	static const char *const fat[] = { "fat-dylib", "fat-exe", "fat-deps", "fat-deps-plain", "qemu-fat.dylib",
					   "fat3-exe", NULL };
	for (const char *const *n = fat; *n; n++) {
		const char *archs[] = { "arm64", strcmp(*n, "fat3-exe") ? NULL : "arm64e" };
		for (int k = 0; k < 2 && archs[k]; k++) {
			char *slice = NULL, *cmd = NULL;
			cr_assert(asprintf(&slice, "%s/%s.%s", dir, *n, archs[k]) > 0);
			cr_assert(asprintf(&cmd, "llvm-lipo-14 -thin %s '%s' -output '%s'", archs[k], ts_fixture(*n), slice) > 0);
			cr_assert_eq(ts_sh(cmd, NULL, NULL), 0, "%s", cmd);
			char name[256];
			snprintf(name, sizeof(name), "%s.%s.copy", *n, archs[k]);
			resign_same(slice, name);
			free(slice);
			free(cmd);
		}
	}
}

Test(sign_lld, arm64_stub_libraries_byte_identical)
{
	DIR *d = opendir(ts_fixture("stubs-arm64"));
	cr_assert(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char rel[512];
		snprintf(rel, sizeof(rel), "stubs-arm64/%s", e->d_name);
		resign_same(ts_fixture(rel), e->d_name);
		n++;
	}
	closedir(d);
	cr_expect_eq(n, 14);
}

/* Without --identifier the linker form uses the file name, as lld does for its output. */
Test(sign_lld, default_identifier_is_the_file_name)
{
	char *copy = tsg_copy(dir, ts_fixture("arm64-dylib"), "arm64-dylib");
	struct cs_sign_opts o = { 0 };
	o.linker_signed = 1;
	cr_assert_eq(cs_sign_file(copy, NULL, &o, NULL), 0, "%s", ut_errmsg());
	cr_expect(ts_same_file(copy, ts_fixture("arm64-dylib")));
	free(copy);
}

/* A codesign signature (18 KB reservation) turned back into lld's exact form. */
Test(sign_lld, adhoc_then_linker_form_restores_lld_bytes)
{
	char *copy = tsg_copy(dir, ts_fixture("qemu-arm64.dylib"), "qemu-arm64.dylib");
	cr_assert_eq(cs_sign_file(copy, NULL, NULL, NULL), 0, "%s", ut_errmsg());
	cr_assert(!ts_same_file(copy, ts_fixture("qemu-arm64.dylib")));
	struct cs_sign_opts o = { 0 };
	o.linker_signed = 1;
	cr_assert_eq(cs_sign_file(copy, NULL, &o, NULL), 0, "%s", ut_errmsg());
	cr_expect(ts_same_file(copy, ts_fixture("qemu-arm64.dylib")));
	free(copy);
}

Test(sign_lld, linker_form_refuses_codesign_options)
{
	char *copy = tsg_copy(dir, ts_fixture("arm64-exe"), "arm64-exe");
	struct cs_sign_opts o = { 0 };
	o.linker_signed = 1;
	o.runtime = 1;
	cr_expect_eq(cs_sign_file(copy, NULL, &o, NULL), UT_EINVAL);
	o.runtime = 0;
	o.page_size = 16384;
	cr_expect_eq(cs_sign_file(copy, NULL, &o, NULL), UT_EINVAL);
	cr_expect(ts_same_file(copy, ts_fixture("arm64-exe")));
	free(copy);
}
