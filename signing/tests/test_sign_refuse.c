/*
 * test_sign_refuse.c - what the signer refuses, with one message naming the
 * file, slice and problem, leaving the input untouched and no temp file
 * behind; and the odd inputs it must still accept.
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

TestSuite(sign_refuse, .init = setup, .fini = teardown);

static int entries(const char *d)
{
	DIR *dp = opendir(d);
	cr_assert(dp);
	int n = 0;
	for (struct dirent *e; (e = readdir(dp));)
		n += e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, ".."));
	closedir(dp);
	return n;
}

/* Signs a copy of src in place; expects code and a message containing what. */
static void refused(const char *src, const char *name, const struct cs_sign_opts *o, int code, const char *what)
{
	char *p = tsg_copy(dir, src, name);
	char before[65], after[65];
	cr_assert_eq(ts_sha256_file(p, before), 0);
	int n = entries(dir);
	int rc = cs_sign_file(p, NULL, o, NULL);
	cr_expect_eq(rc, code, "%s: rc %d: %s", name, rc, ut_errmsg());
	cr_expect(strstr(ut_errmsg(), what), "%s: message '%s' lacks '%s'", name, ut_errmsg(), what);
	cr_expect(strstr(ut_errmsg(), name), "%s: message '%s' does not name the file", name, ut_errmsg());
	cr_assert_eq(ts_sha256_file(p, after), 0);
	cr_expect_str_eq(before, after, "%s: input changed", name);
	cr_expect_eq(entries(dir), n, "%s: a temp file was left behind", name);
	free(p);
}

Test(sign_refuse, no_room_for_a_new_load_command)
{
	/* x86_64-tight: unsigned, 8 bytes of header padding (codesign's own check would overwrite __text). */
	refused(ts_fixture("x86_64-tight"), "x86_64-tight", NULL, UT_ENOSPACE,
		"slice x86_64: not enough room in load commands to add LC_CODE_SIGNATURE (needs 16 bytes, 8 free)");
}

Test(sign_refuse, thirty_two_bit_and_big_endian_slices)
{
	refused(ts_corpus("unsigned/hello-osx-i386"), "hello-osx-i386", NULL, UT_EUNSUPPORTED, "slice i386");
	refused(ts_corpus("unsigned/ppc-ls"), "ppc-ls", NULL, UT_EUNSUPPORTED, "slice ppc");
	refused(ts_corpus("unsigned/fat-intel"), "fat-intel", NULL, UT_EUNSUPPORTED, "slice i386");
}

Test(sign_refuse, hidden_arm64_slice)
{
	refused(ts_root("testdata/malformed/fat-hidden-arm64"), "fat-hidden-arm64", NULL, UT_EUNSUPPORTED,
		"hidden after the last fat_arch");
}

Test(sign_refuse, signature_not_at_the_end)
{
	char *p = tsg_copy(dir, ts_fixture("arm64-exe"), "src");
	FILE *fp = fopen(p, "ab");
	cr_assert(fp && fwrite("0123456789", 1, 8, fp) == 8);
	fclose(fp);
	refused(p, "eight-past", NULL, UT_EUNSUPPORTED, "does not point to the end of the file");
	/* Up to 7 trailing bytes are tolerated, as codesign_allocate does; they end up inside the reserved area. */
	char *q = tsg_copy(dir, ts_fixture("arm64-exe"), "seven-past");
	fp = fopen(q, "ab");
	cr_assert(fp && fwrite("0123456", 1, 7, fp) == 7);
	fclose(fp);
	cr_assert_eq(cs_sign_file(q, NULL, NULL, NULL), 0, "%s", ut_errmsg());
	struct tsg_file f;
	tsg_load(q, &f);
	cr_expect_eq(tsg_check(&f, TSG_CODESIGN | TSG_NO_CLI), 1);
	tsg_free(&f);
	free(p);
	free(q);
}

Test(sign_refuse, object_files_cannot_be_signed)
{
	char *src = ts_path(dir, "x.c"), *obj = ts_path(dir, "x.o"), cmd[1024];
	FILE *fp = fopen(src, "w");
	cr_assert(fp);
	fputs("int f(int x) { return x + 1; }\n", fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "clang-14 -target arm64-apple-macos11 -c '%s' -o '%s'", src, obj);
	cr_assert_eq(ts_sh(cmd, NULL, NULL), 0, "%s", cmd);
	refused(obj, "x-object", NULL, UT_EUNSUPPORTED, "does not support code signing");
}

struct case_ctx {
	int n;
};

static void malformed_row(char **f, int nf, void *ctx)
{
	struct case_ctx *c = ctx;
	if (nf < 1 || !strcmp(f[0], "file"))
		return;
	char rel[512];
	snprintf(rel, sizeof(rel), "testdata/malformed/%s", f[0]);
	char *p = tsg_copy(dir, ts_root(rel), f[0]);
	char before[65], after[65];
	cr_assert_eq(ts_sha256_file(p, before), 0);
	cr_expect_neq(cs_sign_file(p, NULL, NULL, NULL), 0, "%s signed", f[0]);
	cr_expect(ut_errmsg()[0], "%s: no message", f[0]);
	cr_assert_eq(ts_sha256_file(p, after), 0);
	cr_expect_str_eq(before, after, "%s changed", f[0]);
	free(p);
	c->n++;
}

Test(sign_refuse, malformed_inputs_untouched)
{
	struct case_ctx c = { 0 };
	cr_assert_eq(ts_tsv(ts_root("testdata/malformed/CASES.tsv"), malformed_row, &c), 0);
	cr_expect_geq(c.n, 40);
}

Test(sign_refuse, bad_options)
{
	struct cs_sign_opts o = { 0 };
	o.page_size = 8192;
	refused(ts_fixture("arm64-exe"), "arm64-exe", &o, UT_EINVAL, "page size 8192");
	unsigned pm;
	cr_expect_eq(cs_preserve_parse("identifier,requirements", &pm), UT_EINVAL);
	cr_expect(strstr(ut_errmsg(), "'requirements'"));
	cr_expect_eq(cs_preserve_parse("identifier,entitlements,flags,runtime", &pm), 0);
	cr_expect_eq(pm, CS_PRESERVE_IDENTIFIER | CS_PRESERVE_ENTITLEMENTS | CS_PRESERVE_FLAGS | CS_PRESERVE_RUNTIME);
	o.page_size = 0;
	static const char bad[] = "<plist><array/></plist>";
	o.entitlements = (const uint8_t *)bad;
	o.entitlements_len = sizeof(bad) - 1;
	refused(ts_fixture("arm64-exe"), "arm64-exe", &o, UT_EMALFORMED, "entitlements");
}

/* LC_CODE_SIGNATURE with datasize 0 at the end of the file (odd/TestMethods-empty-codesig) is fine. */
Test(sign_refuse, empty_code_signature_is_accepted)
{
	char *p = tsg_copy(dir, ts_corpus("odd/TestMethods-empty-codesig"), "TestMethods");
	struct cs_sign_opts o = { 0 };
	o.preserve = CS_PRESERVE_IDENTIFIER;
	struct cs_sign_report rep;
	cr_assert_eq(cs_sign_file(p, NULL, &o, &rep), 0, "%s", ut_errmsg());
	cr_expect(!strncmp(rep.identifier, "TestMethods-55554944", 20), "%s", rep.identifier);
	struct tsg_file f;
	tsg_load(p, &f);
	cr_expect_eq(tsg_check(&f, TSG_CODESIGN), 2, "iOS 8 deployment target: SHA-1 + SHA-256");
	tsg_free(&f);
	free(p);
}

Test(sign_refuse, canonical_identifiers)
{
	static const char *const rows[][2] = {
		{ "foo.2.3.4", "foo.2" }, { "foo2.3", "foo2" },	       { "foo.9", "foo.9" },
		{ "foo", "foo" },	  { "/a/b/libfoo.1.dylib", "libfoo.1" }, { "qemu-arm64.dylib", "qemu-arm64" },
		{ "3d.app", "3d" },   { ".hidden.x", ".hidden" },	       { "foo.", "foo." },
		{ "Foo.app", "Foo" },     { "libglib-2.0.0.dylib", "libglib-2" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[64];
		cr_assert_eq(cs_canonical_identifier(rows[i][0], out, sizeof(out)), 0);
		cr_expect_str_eq(out, rows[i][1], "%s", rows[i][0]);
	}
	char small[4];
	cr_expect_eq(cs_canonical_identifier("abcdef", small, sizeof(small)), UT_EINVAL);
}
