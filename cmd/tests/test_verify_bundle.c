/*
 * test_verify_bundle.c - `utmpatch verify [--deep] [--strict] BUNDLE`: exit
 * statuses (0 valid, 1 invalid, 2 usage, 3 could not run), one line per
 * problem naming the component and the file, on copies of the corpus bundles
 * (signed by Apple's codesign, which verifies them) and on an app built from
 * the fixtures and signed inside-out ad-hoc; the bundle is never written.
 */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tsupport.h"
#include "tsupport_bundle.h"
#include "tsupport_fs.h"
#include "ut_err.h"

static char *tmp;

static void setup(void) { tmp = tsupport_tmpdir("verify-bundle"); }
static void teardown(void)
{
	tsupport_rmtree(tmp);
	free(tmp);
}

TestSuite(verify_bundle, .init = setup, .fini = teardown, .timeout = 120);

static int verify(char **out, char **err, const char *flags, const char *bundle)
{
	char *cmd = tsupport_printf("'%s' verify %s '%s'", ts_bin(), flags, bundle);
	int rc = ts_sh(cmd, out, err);
	free(cmd);
	return rc;
}

/* A line of out that is exactly want (out may hold several lines). */
static int has_line(const char *out, const char *want)
{
	size_t n = strlen(want);
	for (const char *p = out; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && strncmp(p, want, n) == 0)
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

/* A line that starts with want. */
static int has_prefix_line(const char *out, const char *want)
{
	size_t n = strlen(want);
	for (const char *p = out; p && *p;) {
		if (strncmp(p, want, n) == 0)
			return 1;
		const char *e = strchr(p, '\n');
		p = e ? e + 1 : NULL;
	}
	return 0;
}

/* Deep: all four verify.  Strict: Sparkle and signapple-test pass, the version-1 seals fail with the weak envelope. */
Test(verify_bundle, corpus_bundles_deep_and_strict)
{
	static const struct {
		const char *rel, *seal;
	} rows[] = {
		{ TSB_SPARKLE, NULL },
		{ TSB_SIGNAPPLE, NULL },
		{ TSB_GROWL, "Versions/A/_CodeSignature/CodeResources" },
		{ TSB_NOTIFIER, "Contents/_CodeSignature/CodeResources" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *b = tsb_copy_corpus(rows[i].rel, tmp);
		char *out = NULL, *err = NULL;
		int rc = verify(&out, &err, "--deep", b);
		cr_expect_eq(rc, 0, "%s: exit %d\n%s%s", rows[i].rel, rc, out, err);
		char *line = tsupport_printf("%s: valid on disk", b);
		cr_expect(has_prefix_line(out, line), "%s", out);
		free(line);
		free(out);
		free(err);
		rc = verify(&out, &err, "--deep --strict", b);
		if (!rows[i].seal) {
			cr_expect_eq(rc, 0, "%s strict: exit %d\n%s%s", rows[i].rel, rc, out, err);
		} else {
			cr_expect_eq(rc, 1, "%s strict: exit %d\n%s%s", rows[i].rel, rc, out, err);
			line = tsupport_printf("%s: resource envelope is obsolete (version 1 signature): %s (weak resource "
					       "envelope: version 1 seal only)",
					       b, rows[i].seal);
			cr_expect(has_line(out, line), "%s\nnot in\n%s", line, out);
			free(line);
		}
		cr_expect_str_empty(err, "%s", err);
		free(out);
		free(err);
		free(b);
	}
}

Test(verify_bundle, tampered_sparkle_names_component_and_file)
{
	char *b = tsb_copy_corpus(TSB_SPARKLE, tmp);
	char *fo = tsupport_printf("%s/Versions/A/Resources/Autoupdate.app/Contents/MacOS/fileop", b);
	tsb_flip(fo, tsb_text_offset(fo));
	char *res = tsupport_printf("%s/Versions/A/Headers/SUErrors.h", b);
	tsb_flip(res, 5);
	char *out = NULL, *err = NULL;
	int rc = verify(&out, &err, "--deep", b);
	cr_expect_eq(rc, 1, "exit %d\n%s%s", rc, out, err);
	char *l1 = tsupport_printf("%s: a sealed resource is missing or invalid (2 files)", b);
	char *l2 = tsupport_printf("%s: file modified: Versions/A/Headers/SUErrors.h (sha256 digest differs)", b);
	char *l3 = tsupport_printf("%s: file modified: Versions/A/Resources/Autoupdate.app/Contents/MacOS/fileop "
				   "(sha256 digest differs)",
				   b);
	char *l4 = tsupport_printf("%s/Versions/A/Resources/Autoupdate.app/Contents/MacOS/fileop: invalid signature "
				   "(code or signature have been modified)",
				   b);
	char *l5 = tsupport_printf("%s/Versions/A/Resources/Autoupdate.app: nested code is modified or invalid: "
				   "Versions/A/Resources/Autoupdate.app/Contents/MacOS/fileop",
				   b);
	cr_expect(has_line(out, l1), "%s\n---\n%s", l1, out);
	cr_expect(has_line(out, l2), "%s\n---\n%s", l2, out);
	cr_expect(has_line(out, l3), "%s\n---\n%s", l3, out);
	cr_expect(has_prefix_line(out, l4), "%s\n---\n%s", l4, out);
	cr_expect(has_prefix_line(out, l5), "%s\n---\n%s", l5, out);
	cr_expect_str_empty(err, "%s", err);
	free(out);
	free(err);
	/* --verbose lists every component with its verdict */
	rc = verify(&out, &err, "--deep --verbose", b);
	cr_expect_eq(rc, 1);
	char *v = tsupport_printf("%s/Versions/A/Resources/Autoupdate.app/Contents/MacOS/fileop: nested code, invalid; "
				  "Mach-O universal (x86_64 arm64), ad-hoc, identifier "
				  "fileop-555549447bd11a30f33c3bc896ebd0acf2f06b2c",
				  b);
	cr_expect(has_line(out, v), "%s\n---\n%s", v, out);
	free(v);
	free(out);
	free(err);
	free(l1);
	free(l2);
	free(l3);
	free(l4);
	free(l5);
	free(fo);
	free(res);
	free(b);
}

/* Every file of the bundle is byte-identical after verify (a listing with SHA-256s). */
static char *tree_digest(const char *dir)
{
	char *cmd = tsupport_printf("cd '%s' && find . -print0 | LC_ALL=C sort -z | xargs -0 ls -ld --time-style=+%%s | "
				    "awk '{print $1, $5, $6, $7, $8, $9}'; find . -type f -print0 | LC_ALL=C sort -z | "
				    "xargs -0 sha256sum",
				    dir);
	char *out = NULL, *err = NULL;
	cr_assert_eq(ts_sh(cmd, &out, &err), 0, "%s", err);
	free(cmd);
	free(err);
	return out;
}

Test(verify_bundle, adhoc_app_valid_then_one_byte_in_a_framework)
{
	char *app = tsb_build_app(tmp);
	cr_assert_eq(tsb_sign_bundle(app, NULL), 0, "%s", ut_errmsg());
	char *before = tree_digest(app);
	char *out = NULL, *err = NULL;
	int rc = verify(&out, &err, "--deep --strict", app);
	cr_expect_eq(rc, 0, "exit %d\n%s%s", rc, out, err);
	char *ok = tsupport_printf("%s: valid on disk (6 components, deep, strict)", app);
	cr_expect(has_line(out, ok), "%s", out);
	free(ok);
	free(out);
	free(err);
	char *after = tree_digest(app);
	cr_expect_str_eq(before, after, "verify wrote to the bundle");
	free(after);

	char *fw = tsupport_printf("%s/Contents/Frameworks/Foo.framework/Versions/A/Foo", app);
	tsb_flip(fw, tsb_text_offset(fw));
	rc = verify(&out, &err, "--deep --strict", app);
	cr_expect_eq(rc, 1, "exit %d\n%s%s", rc, out, err);
	char *l1 = tsupport_printf("%s/Contents/Frameworks/Foo.framework: invalid signature (code or signature have been "
				   "modified): Contents/Frameworks/Foo.framework/Versions/A/Foo (slice ",
				   app);
	char *l2 = tsupport_printf("%s: nested code is modified or invalid: Contents/Frameworks/Foo.framework (invalid "
				   "signature (code or signature have been modified): "
				   "Contents/Frameworks/Foo.framework/Versions/A/Foo)",
				   app);
	cr_expect(has_prefix_line(out, l1), "%s\n---\n%s", l1, out);
	cr_expect(has_line(out, l2), "%s\n---\n%s", l2, out);
	free(l1);
	free(l2);
	free(out);
	free(err);
	/* without --deep the framework is still checked as nested code */
	rc = verify(&out, &err, "", app);
	cr_expect_eq(rc, 1, "exit %d\n%s%s", rc, out, err);
	free(out);
	free(err);
	free(fw);
	free(before);
	free(app);
}

Test(verify_bundle, usage_and_could_not_run)
{
	char *out = NULL, *err = NULL;
	/* a directory that is not a bundle */
	int rc = verify(&out, &err, "--deep", tmp);
	cr_expect_eq(rc, 3, "exit %d\n%s%s", rc, out, err);
	cr_expect(strstr(err, "utmpatch: ") && strstr(err, "is not a bundle"), "%s", err);
	cr_expect_str_empty(out);
	free(out);
	free(err);
	/* single-file options with a bundle */
	char *b = tsb_copy_corpus(TSB_SIGNAPPLE, tmp);
	char *flags = tsupport_printf("--info-plist '%s/Contents/Info.plist'", b);
	rc = verify(&out, &err, flags, b);
	cr_expect_eq(rc, 2, "exit %d\n%s%s", rc, out, err);
	free(out);
	free(err);
	free(flags);
	/* an unreadable anchors file */
	rc = verify(&out, &err, "--anchors /nonexistent/roots.tsv", b);
	cr_expect_eq(rc, 3, "exit %d\n%s%s", rc, out, err);
	free(out);
	free(err);
	free(b);
}
