/*
 * test_seal_build.c - sealing a synthetic bundle: entry forms per codesign-spec
 * §3.4 (hashes checked against OpenSSL digests of the files), symlinks, nested
 * code (a copy of Sparkle's validly signed Autoupdate.app and fileop), the
 * nested callbacks, strict symlink containment and weak rules.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_seal.h"
#include "test_bundle_util.h"
#include "tsupport.h"
#include "ut_err.h"

#define FILEOP TB_SPARKLE "/" TB_AUTOUPDATE "/Contents/MacOS/fileop"

static char *sparkle;

/* MyApp.app with resources, a symlink, nested code (Mach-O file and bundle), a non-Mach-O file under MacOS/. */
static char *make_app(void)
{
	sparkle = tb_copy_corpus(TB_SPARKLE);
	char *app = tb_tmp_bundle("MyApp.app");
	tb_info_plist(app, "Contents/Info.plist", "MyApp", "com.example.myapp", "APPL");
	tb_copy_file(ts_corpus(FILEOP), app, "Contents/MacOS/MyApp");
	tb_write_str(app, "Contents/MacOS/run.sh", "#!/bin/sh\nexit 0\n");
	tb_copy_file(ts_corpus(FILEOP), app, "Contents/Frameworks/libhelper.dylib");
	tb_write_str(app, "Contents/PkgInfo", "APPL????");
	tb_write_str(app, "Contents/version.plist", "<plist/>");
	tb_write_str(app, "Contents/Resources/a.txt", "alpha\n");
	tb_write_str(app, "Contents/Resources/en.lproj/x.strings", "\"k\" = \"v\";\n");
	tb_write_str(app, "Contents/Resources/Base.lproj/y.nib", "nib");
	tb_write_str(app, "Contents/Resources/empty", "");
	tb_symlink("a.txt", app, "Contents/Resources/link");
	char *cmd = NULL;
	cr_assert(asprintf(&cmd, "cp -R '%s/%s' '%s/Contents/Helpers/'", sparkle, TB_AUTOUPDATE, app) >= 0);
	tb_mkdirs(app, "Contents/Helpers");
	cr_assert_eq(ts_sh(cmd, NULL, NULL), 0);
	free(cmd);
	return app;
}

static void done(char *app)
{
	tb_cleanup(app);
	tb_cleanup(sparkle);
	sparkle = NULL;
}

static void sha(const char *dir, const char *rel, int type, uint8_t *out)
{
	char *p = tb_join(dir, rel);
	size_t n;
	uint8_t *d = ts_read(p, &n);
	cr_assert(d, "%s", p);
	unsigned len;
	EVP_Digest(d, n, out, &len, type == 1 ? EVP_sha1() : EVP_sha256(), NULL);
	free(d);
	free(p);
}

static struct cs_seal build(const char *app, unsigned t1, unsigned t2, const struct cs_rules *rules2)
{
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(app, &b), 0, "%s", ut_errmsg());
	struct cs_seal_opts o = { .hash_types = { t1, t2 }, .nhash = t2 ? 2 : 1, .rules2 = rules2 };
	struct cs_seal s;
	cr_assert_eq(cs_seal_build_bundle(&s, b, &o), 0, "%s", ut_errmsg());
	cs_bundle_free(b);
	return s;
}

Test(seal_build, entry_forms_sha256)
{
	char *app = make_app();
	struct cs_seal s = build(app, 2, 0, NULL);
	char *base = tb_join(app, "Contents");
	uint8_t h[32];
	const struct cs_seal_entry *e = cs_seal_find(&s.files2, "Resources/a.txt");
	cr_assert_not_null(e);
	cr_expect_eq(e->kind, CS_SEAL_FILE);
	cr_expect_eq(e->hash_mask, 1u << 2, "SHA-256 only: only hash2");
	sha(base, "Resources/a.txt", 2, h);
	cr_expect_eq(memcmp(e->hash[2], h, 32), 0);
	cr_expect_not(e->optional);
	e = cs_seal_find(&s.files2, "Resources/en.lproj/x.strings");
	cr_assert_not_null(e);
	cr_expect(e->optional);
	e = cs_seal_find(&s.files2, "Resources/Base.lproj/y.nib");
	cr_assert_not_null(e);
	cr_expect_not(e->optional, "Base.lproj outweighs the optional lproj rule");
	e = cs_seal_find(&s.files2, "Resources/empty");
	cr_assert_not_null(e);
	sha(base, "Resources/empty", 2, h);
	cr_expect_eq(memcmp(e->hash[2], h, 32), 0);
	e = cs_seal_find(&s.files2, "Resources/link");
	cr_assert_not_null(e);
	cr_expect_eq(e->kind, CS_SEAL_SYMLINK);
	cr_expect_str_eq(e->symlink, "a.txt");
	e = cs_seal_find(&s.files2, "MacOS/run.sh");
	cr_assert_not_null(e);
	cr_expect_eq(e->kind, CS_SEAL_FILE, "a non-Mach-O file under a nested location is sealed by hash");
	/* Nested code: what the code's own signature says (host arm64 by default). */
	e = cs_seal_find(&s.files2, "Frameworks/libhelper.dylib");
	cr_assert_not_null(e);
	cr_expect_eq(e->kind, CS_SEAL_NESTED);
	struct cs_nested_info n;
	char *lib = tb_join(base, "Frameworks/libhelper.dylib");
	cr_assert_eq(cs_nested_info_read(&n, lib, 0, "arm64"), 0);
	cr_expect_eq(memcmp(e->cdhash, n.cdhash, 20), 0);
	cr_expect_str_eq(e->requirement, n.requirement);
	cs_nested_info_release(&n);
	free(lib);
	e = cs_seal_find(&s.files2, "Helpers/Autoupdate.app");
	cr_assert_not_null(e);
	cr_expect_eq(e->kind, CS_SEAL_NESTED);
	cr_expect(strncmp(e->requirement, "cdhash H\"", 9) == 0, "%s", e->requirement);
	/* Not sealed: Info.plist and PkgInfo (omitted), the main executable, anything inside the nested bundle. */
	cr_expect_null(cs_seal_find(&s.files2, "Info.plist"));
	cr_expect_null(cs_seal_find(&s.files2, "PkgInfo"));
	cr_expect_null(cs_seal_find(&s.files2, "MacOS/MyApp"));
	cr_expect_null(cs_seal_find(&s.files2, "Helpers/Autoupdate.app/Contents/Info.plist"));
	cr_expect_not_null(cs_seal_find(&s.files2, "version.plist"));
	cr_expect_eq(s.files2.n, 9, "%zu", s.files2.n);
	/* v1: regular files under the v1 rules only, SHA-1 (computed, no SHA-1 in files2). */
	cr_expect_eq(s.files.n, 5, "%zu", s.files.n);
	e = cs_seal_find(&s.files, "Resources/a.txt");
	cr_assert_not_null(e);
	sha(base, "Resources/a.txt", 1, h);
	cr_expect_eq(memcmp(e->hash[1], h, 20), 0);
	cr_expect_null(cs_seal_find(&s.files, "Resources/link"));
	cr_expect_null(cs_seal_find(&s.files, "MacOS/run.sh"));
	cr_expect_not_null(cs_seal_find(&s.files, "version.plist"));
	cr_expect(cs_seal_find(&s.files, "Resources/en.lproj/x.strings")->optional);
	free(base);
	cs_seal_release(&s);
	done(app);
}

Test(seal_build, sha1_only_writes_the_simple_form)
{
	char *app = make_app();
	struct cs_seal s = build(app, 1, 0, NULL);
	uint8_t *x;
	size_t n;
	cr_assert_eq(cs_seal_serialize(&s, &x, &n), 0);
	cr_expect_eq(x[n - 1], '\n');
	const char *files2 = strstr((char *)x, "<key>files2</key>");
	cr_assert_not_null(files2);
	/* files2: a bare <data> for a plain file, {hash, optional} for an optional one. */
	cr_expect_not_null(strstr(files2, "<key>Resources/a.txt</key>\n\t\t<data>\n"), "%s", files2);
	cr_expect_not_null(strstr(files2, "<key>Resources/en.lproj/x.strings</key>\n\t\t<dict>\n\t\t\t<key>hash</key>"));
	cr_expect_not_null(strstr(files2, "<key>Resources/link</key>\n\t\t<dict>\n\t\t\t<key>symlink</key>\n\t\t\t<string>a.txt</string>"));
	cr_expect_not_null(strstr((char *)x, "<real>1010</real>"));
	free(x);
	/* Agile: hash and hash2 in one dictionary. */
	cs_seal_release(&s);
	s = build(app, 1, 2, NULL);
	cr_expect_eq(cs_seal_find(&s.files2, "Resources/a.txt")->hash_mask, (1u << 1) | (1u << 2));
	cs_seal_release(&s);
	done(app);
}

static struct cs_seal_report verify_seal(const char *app, const struct cs_seal *s, int strict, int deep)
{
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(app, &b), 0);
	struct cs_seal_report r = { 0 };
	struct cs_seal_verify_opts o = { .strict = strict, .deep = deep };
	cr_assert_eq(cs_seal_verify(s, b->base, b->exec_rel, &o, "Contents/", &r), 0, "%s", ut_errmsg());
	cs_bundle_free(b);
	for (size_t i = 0; i < r.n; i++)
		cr_log_info("%s: %s (%s)", cs_seal_problem_text(r.v[i].problem), r.v[i].path, r.v[i].detail);
	return r;
}

Test(seal_build, own_seal_verifies_then_symlink_changes)
{
	char *app = make_app();
	struct cs_seal s = build(app, 1, 2, NULL);
	struct cs_seal_report r = verify_seal(app, &s, 1, 1);
	cr_expect_eq(r.n, 0);
	cs_seal_report_release(&r);
	/* Written and read back, the seal is the same. */
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(app, &b), 0);
	cr_assert_eq(cs_seal_write_file(&s, b->seal_path), 0, "%s", ut_errmsg());
	struct cs_seal back;
	cr_assert_eq(cs_seal_read_file(&back, b->seal_path), 0, "%s", ut_errmsg());
	uint8_t *x, *y;
	size_t nx, ny;
	cs_seal_serialize(&s, &x, &nx);
	cs_seal_serialize(&back, &y, &ny);
	cr_expect(nx == ny && memcmp(x, y, nx) == 0);
	free(x);
	free(y);
	cs_seal_release(&back);
	cs_bundle_free(b);
	/* A symlink retargeted. */
	tb_symlink("empty", app, "Contents/Resources/link");
	r = verify_seal(app, &s, 0, 0);
	cr_expect_eq(r.n, 1);
	cr_expect_eq(r.v[0].problem, CS_SEAL_MODIFIED);
	cr_expect_str_eq(r.v[0].path, "Contents/Resources/link");
	cr_expect_str_eq(r.v[0].detail, "symlink target 'empty', sealed 'a.txt'");
	cs_seal_report_release(&r);
	cs_seal_release(&s);
	done(app);
}

Test(seal_build, strict_symlink_containment)
{
	char *app = make_app();
	tb_symlink("../../../../../etc/passwd", app, "Contents/Resources/escape");
	tb_symlink("/etc/hosts", app, "Contents/Resources/abs");
	tb_symlink("/System/Library/Fonts", app, "Contents/Resources/system");
	tb_symlink("../../MacOS/MyApp", app, "Contents/Resources/en.lproj/inside");
	tb_symlink("../../../MyApp.app/Contents/PkgInfo", app, "Contents/Resources/en.lproj/via-root");
	struct cs_seal s = build(app, 2, 0, NULL);
	struct cs_seal_report r = verify_seal(app, &s, 0, 0);
	cr_expect_eq(r.n, 0, "not strict: targets are only compared");
	cs_seal_report_release(&r);
	/* Strict, with the bundle root as the stack root (cs_seal_verify_bundle's default). */
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(app, &b), 0);
	struct cs_seal_verify_opts o = { .strict = 1, .stack_root = b->root };
	cr_assert_eq(cs_seal_verify(&s, b->base, b->exec_rel, &o, "Contents/", &r), 0);
	cs_bundle_free(b);
	cr_expect_eq(r.n, 2);
	for (size_t i = 0; i < r.n; i++) {
		cr_expect_eq(r.v[i].problem, CS_SEAL_SYMLINK_ESCAPES);
		cr_expect(!strcmp(r.v[i].path, "Contents/Resources/escape") || !strcmp(r.v[i].path, "Contents/Resources/abs"),
			  "%s", r.v[i].path);
	}
	cs_seal_report_release(&r);
	cs_seal_release(&s);
	done(app);
}

Test(seal_build, weak_rules_reported_under_strict)
{
	char *app = make_app();
	struct cs_rules r2;
	cs_rules_init(&r2);
	cr_assert_eq(cs_rules_default_v2(&r2, "Resources/"), 0);
	cr_assert_eq(cs_rules_add(&r2, "^Resources/a\\.txt$", 30, CS_RULE_OMITTED), 0);
	struct cs_seal s = build(app, 2, 0, &r2);
	cr_expect_null(cs_seal_find(&s.files2, "Resources/a.txt"));
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(app, &b), 0);
	cr_assert_eq(cs_seal_write_file(&s, b->seal_path), 0);
	struct cs_seal_report r = { 0 };
	struct cs_seal_verify_opts o = { .strict = 1 };
	cr_assert_eq(cs_seal_verify_bundle(b, &o, "", &r), 0, "%s", ut_errmsg());
	int weak = 0;
	for (size_t i = 0; i < r.n; i++)
		weak += r.v[i].problem == CS_SEAL_WEAK_RULES && strstr(r.v[i].detail, "^Resources/a\\.txt$") &&
			!strcmp(r.v[i].path, "Contents/_CodeSignature/CodeResources");
	cr_expect_eq(weak, 1);
	cs_seal_report_release(&r);
	cs_bundle_free(b);
	cs_rules_release(&r2);
	cs_seal_release(&s);
	done(app);
}

struct calls {
	int built, checked;
};

static int fixed_nested(void *ctx, const char *path, const char *rel, int is_bundle, uint8_t cdhash[20], char **req)
{
	struct calls *c = ctx;
	c->built++;
	memset(cdhash, is_bundle ? 0xbb : 0xaa, 20);
	cr_expect(!strcmp(rel, "Frameworks/libhelper.dylib") || !strcmp(rel, "Helpers/Autoupdate.app"), "%s", rel);
	cr_expect(access(path, F_OK) == 0);
	return asprintf(req, "identifier \"%s\"", rel) < 0 ? UT_ENOMEM : 0;
}

static int count_check(void *ctx, const char *path, const char *rel, int is_bundle, const struct cs_seal_entry *e,
		       const struct cs_seal_verify_opts *o, const char *prefix, struct cs_seal_report *rep)
{
	struct calls *c = ctx;
	c->checked++;
	cr_expect_eq(e->cdhash[0], is_bundle ? 0xbb : 0xaa);
	char want[128];
	snprintf(want, sizeof(want), "Contents/%s/", rel);
	cr_expect_str_eq(prefix, want);
	return 0;
}

Test(seal_build, nested_callbacks)
{
	char *app = make_app();
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(app, &b), 0);
	struct calls c = { 0 };
	struct cs_seal_opts o = { .nested = fixed_nested, .nested_ctx = &c };
	struct cs_seal s;
	cr_assert_eq(cs_seal_build_bundle(&s, b, &o), 0, "%s", ut_errmsg());
	cr_expect_eq(c.built, 2);
	const struct cs_seal_entry *e = cs_seal_find(&s.files2, "Helpers/Autoupdate.app");
	cr_expect_str_eq(e->requirement, "identifier \"Helpers/Autoupdate.app\"");
	struct cs_seal_report r = { 0 };
	struct cs_seal_verify_opts vo = { .nested = count_check, .nested_ctx = &c };
	cr_assert_eq(cs_seal_verify(&s, b->base, b->exec_rel, &vo, "Contents/", &r), 0);
	cr_expect_eq(c.checked, 2);
	cr_expect_eq(r.n, 0);
	/* The default check judges the recorded requirement against the code: both fail now. */
	vo.nested = NULL;
	cr_assert_eq(cs_seal_verify(&s, b->base, b->exec_rel, &vo, "Contents/", &r), 0);
	cr_expect_eq(r.n, 2);
	for (size_t i = 0; i < r.n; i++) {
		cr_expect_eq(r.v[i].problem, CS_SEAL_NESTED_INVALID);
		cr_expect(strstr(r.v[i].detail, "is not the code's designated requirement"), "%s", r.v[i].detail);
	}
	cs_seal_report_release(&r);
	cs_seal_release(&s);
	cs_bundle_free(b);
	done(app);
}

static int failing_nested(void *ctx, const char *path, const char *rel, int is_bundle, uint8_t cdhash[20], char **req)
{
	return ut_fail(UT_EUNSUPPORTED, "cannot sign this");
}

Test(seal_build, refusals)
{
	char *app = make_app();
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(app, &b), 0);
	struct cs_seal s;
	struct cs_seal_opts o = { .hash_types = { 2, 2 }, .nhash = 2 };
	cr_expect_eq(cs_seal_build_bundle(&s, b, &o), UT_EINVAL);
	o = (struct cs_seal_opts){ .hash_types = { 7 }, .nhash = 1 };
	cr_expect_eq(cs_seal_build_bundle(&s, b, &o), UT_EINVAL);
	o = (struct cs_seal_opts){ .nhash = 5 };
	cr_expect_eq(cs_seal_build_bundle(&s, b, &o), UT_EINVAL);
	o = (struct cs_seal_opts){ .nested = failing_nested };
	cr_expect_eq(cs_seal_build_bundle(&s, b, &o), UT_EUNSUPPORTED);
	cr_expect(strstr(ut_errmsg(), "nested code 'Frameworks/libhelper.dylib': cannot sign this"), "%s", ut_errmsg());
	/* Unsigned nested code cannot be recorded from disk. */
	tb_write_str(app, "Contents/Frameworks/libhelper.dylib", "\xcf\xfa\xed\xfe garbage");
	o = (struct cs_seal_opts){ 0 };
	cr_expect_neq(cs_seal_build_bundle(&s, b, &o), 0);
	cr_expect(strstr(ut_errmsg(), "libhelper.dylib"), "%s", ut_errmsg());
	/* A fifo where the rules select a file. */
	char *fifo = tb_join(app, "Contents/Resources/fifo");
	cr_assert_eq(mkfifo(fifo, 0644), 0);
	char *lib = tb_join(app, "Contents/Frameworks/libhelper.dylib");
	unlink(lib);
	free(lib);
	cr_expect_eq(cs_seal_build_bundle(&s, b, &o), UT_EUNSUPPORTED);
	cr_expect(strstr(ut_errmsg(), "not a regular file, directory or symlink"), "%s", ut_errmsg());
	free(fifo);
	cs_bundle_free(b);
	done(app);
}
