/*
 * test_verify_cli.c - `utmpatch verify`: exit statuses (0 valid, 1 not validly
 * signed, 2 usage, 3 not a Mach-O), codesign's wording, the named defect, the
 * kinds with and without --anchors, bundle Info.plist / CodeResources, and the
 * input left untouched.  Expected verdicts come from the corpus MANIFEST.tsv.
 */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "tmanifest.h"
#include "tsupport.h"

static int run(char **out, char **err, const char *a1, const char *a2, const char *a3, const char *a4,
	       const char *a5)
{
	char *argv[] = { (char *)ts_bin(), "verify", (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5, NULL };
	return ts_run(argv, out, err);
}

/* Every Mach-O the MANIFEST describes: exit 0 exactly when every slice's CHECK found nothing wrong. */
Test(verify_cli, corpus_exit_status_follows_the_manifest, .timeout = 180)
{
	struct tm_entry *m;
	size_t n;
	cr_assert_eq(tm_load(ts_corpus("MANIFEST.tsv"), &m, &n), 0);
	unsigned ok = 0, bad = 0;
	for (size_t i = 0; i < n; i++) {
		int expect_valid = 1;
		for (unsigned s = 0; s < m[i].nslices; s++) {
			const struct tm_slice *sl = &m[i].s[s];
			if (sl->is_unsigned || sl->sigerr || sl->ncd == 0 || (!sl->cms_empty && !sl->cms_sig_ok &&
									 !strstr(sl->flags, "adhoc")))
				expect_valid = 0;
			for (unsigned c = 0; c < sl->ncd; c++)
				if (sl->cd[c].pages_ok != sl->cd[c].pages)
					expect_valid = 0;
		}
		char *out = NULL, *err = NULL;
		int rc = run(&out, &err, ts_corpus(m[i].path), NULL, NULL, NULL, NULL);
		cr_assert_eq(rc, expect_valid ? 0 : 1, "%s: exit %d\n%s%s", m[i].path, rc, out, err);
		cr_assert_str_empty(err, "%s: %s", m[i].path, err);
		cr_assert(strstr(out, expect_valid ? ": valid on disk\n" : "In architecture: "), "%s: %s", m[i].path, out);
		expect_valid ? ok++ : bad++;
		free(out);
		free(err);
	}
	cr_assert_eq(ok, 20);
	cr_assert_eq(bad, 9);
	free(m);
}

Test(verify_cli, reasons_are_codesigns_words_and_name_the_defect)
{
	static const struct {
		const char *rel, *first, *detail;
	} rows[] = {
		{ "odd/TestMacOS-arm64e-modified-after-signing", "invalid signature (code or signature have been modified)",
		  "arm64e: invalid signature (code or signature have been modified): code pages 0, 12, 13 of the arm64e slice do not match" },
		{ "odd/r2_hang_test-adhoc-page2-mismatch", "invalid signature (code or signature have been modified)",
		  "code page 2 of the x86_64 slice does not match" },
		{ "odd/TestMethods-empty-codesig", "invalid or unsupported format for signature", "LC_CODE_SIGNATURE datasize is 0" },
		{ "odd/ls-ios-cd20001", "code object is not signed at all", "neither ad-hoc nor backed by a CMS signature" },
		{ "unsigned/fat-intel", "code object is not signed at all", "the x86_64 slice has no LC_CODE_SIGNATURE" },
		{ "unsigned/ppc-ls", "code object is not signed at all", "ppc: code object is not signed at all" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *out = NULL;
		const char *path = ts_corpus(rows[i].rel);
		cr_assert_eq(run(&out, NULL, path, NULL, NULL, NULL, NULL), 1, "%s", rows[i].rel);
		char first[1024];
		snprintf(first, sizeof(first), "%s: %s\n", path, rows[i].first);
		cr_assert_eq(strncmp(out, first, strlen(first)), 0, "%s: %s", rows[i].rel, out);
		cr_assert(strstr(out, rows[i].detail), "%s: %s", rows[i].rel, out);
		free(out);
	}
}

Test(verify_cli, not_a_macho_is_exit_3_and_usage_is_exit_2)
{
	char *out = NULL, *err = NULL;
	cr_assert_eq(run(&out, &err, ts_root("Makefile"), NULL, NULL, NULL, NULL), 3);
	cr_assert_str_empty(out);
	cr_assert(strstr(err, "utmpatch: ") && strstr(err, "Makefile") && strstr(err, "not a Mach-O"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(run(&out, &err, ts_root("testdata/malformed/fat-slices-overlap"), NULL, NULL, NULL, NULL), 3);
	cr_assert(strstr(err, "overlap"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(run(NULL, &err, "/nonexistent/file", NULL, NULL, NULL, NULL), 3);
	free(err);
	cr_assert_eq(run(NULL, NULL, NULL, NULL, NULL, NULL, NULL), 2);
	cr_assert_eq(run(NULL, NULL, "--frobnicate", "x", NULL, NULL, NULL), 2);
	cr_assert_eq(run(NULL, NULL, "a", "b", NULL, NULL, NULL), 2);
	cr_assert_eq(run(NULL, NULL, "a", "--anchors", NULL, NULL, NULL), 2);
	cr_assert_eq(run(&out, NULL, "-h", NULL, NULL, NULL, NULL), 0);
	cr_assert(strstr(out, "usage: utmpatch verify FILE"));
	free(out);
}

Test(verify_cli, kinds_with_and_without_test_anchors)
{
	const char *seed = ts_root("signing/fuzz/seeds/macho-devid-test-pki-agile");
	char *out = NULL;
	cr_assert_eq(run(&out, NULL, seed, "--anchors", ts_root("testdata/keys/roots.tsv"), NULL, NULL), 0, "%s", out);
	cr_assert(strstr(out, "arm64: Developer ID (team UTMTEST123)"), "%s", out);
	free(out);
	cr_assert_eq(run(&out, NULL, seed, NULL, NULL, NULL, NULL), 0, "%s", out);
	cr_assert(strstr(out, "arm64: other certificate (team UTMTEST123)"), "%s", out);
	free(out);
	cr_assert_eq(run(&out, NULL, seed, "--verbose", "--anchors", ts_root("testdata/keys/roots.tsv"), NULL), 0);
	cr_assert(strstr(out, "utmpatch TEST Root CA [listed anchor]"), "%s", out);
	cr_assert(strstr(out, "sha256 CodeDirectory (slot 0x1000), best: 5/5 pages valid"), "%s", out);
	free(out);
	char *err = NULL;
	cr_assert_eq(run(NULL, &err, seed, "--anchors", ts_root("Makefile"), NULL, NULL), 3);
	cr_assert(strstr(err, "Makefile"), "%s", err);
	free(err);
	/* The real corpus kinds. */
	static const struct {
		const char *rel, *line;
	} k[] = {
		{ "apple/ls-sequoia", "arm64e: Apple platform\n" },
		{ "devid/libexpat.1.dylib", "i386: Developer ID (team EG7KH642X6)\n" },
		{ "ios/MASTestApp", "arm64: Apple Development (team D4WYSK5293)\n" },
		{ "appledev/santa-goodcert-selfsigned", "x86_64: other certificate\n" },
		{ "adhoc/WheresMyBrowser-arm64", "arm64: ad-hoc\n" },
		{ "linker/hello-macos-arm64-chained", "arm64: linker-signed\n" },
	};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		cr_assert_eq(run(&out, NULL, ts_corpus(k[i].rel), NULL, NULL, NULL, NULL), 0);
		cr_assert(strstr(out, k[i].line), "%s: %s", k[i].rel, out);
		free(out);
	}
}

Test(verify_cli, bundle_plist_and_resources_options)
{
	const char *b = "bundles/sparkle1-deadpikle/Sparkle.framework/Versions/A";
	char exe[512], info[512], res[512], other[512];
	snprintf(exe, sizeof(exe), "%s/Sparkle", b);
	snprintf(info, sizeof(info), "%s/Resources/Info.plist", b);
	snprintf(res, sizeof(res), "%s/_CodeSignature/CodeResources", b);
	snprintf(other, sizeof(other), "%s/Resources/Autoupdate.app/Contents/Info.plist", b);
	char *out = NULL;
	cr_assert_eq(run(&out, NULL, ts_corpus(exe), NULL, NULL, NULL, NULL), 0);
	cr_assert(strstr(out, "note: Info.plist bound (slot -1) but not checked (not a bundle)"), "%s", out);
	free(out);
	char *argv[] = { (char *)ts_bin(), "verify", (char *)ts_corpus(exe), "--info-plist", (char *)ts_corpus(info),
			 "--resources", (char *)ts_corpus(res), "--verbose", NULL };
	cr_assert_eq(ts_run(argv, &out, NULL), 0, "%s", out);
	cr_assert(!strstr(out, "note:"), "%s", out);
	cr_assert(strstr(out, "-1 info=ok, -2 req=ok, -3 res=ok"), "%s", out);
	free(out);
	cr_assert_eq(run(&out, NULL, ts_corpus(exe), "--info-plist", ts_corpus(other), NULL, NULL), 1);
	cr_assert(strstr(out, "invalid Info.plist (plist or signature have been modified)"), "%s", out);
	free(out);
}

Test(verify_cli, tampered_copies_fail_and_input_is_untouched, .timeout = 60)
{
	char *dir = ts_tmpdir();
	const char *src = ts_corpus("devid/seas0npass-genpass");
	char *copy = ts_path(dir, "genpass");
	cr_assert_eq(ts_copy(src, copy), 0);
	char before[65], after[65];
	cr_assert_eq(ts_sha256_file(copy, before), 0);
	char *out = NULL;
	cr_assert_eq(run(&out, NULL, copy, NULL, NULL, NULL, NULL), 0);
	free(out);
	cr_assert_eq(ts_sha256_file(copy, after), 0);
	cr_assert_str_eq(before, after);
	/* one byte in code page 2 */
	size_t n;
	uint8_t *d = ts_read(copy, &n);
	d[2 * 4096 + 7] ^= 0x20;
	FILE *f = fopen(copy, "wb");
	fwrite(d, 1, n, f);
	fclose(f);
	free(d);
	cr_assert_eq(run(&out, NULL, copy, NULL, NULL, NULL, NULL), 1);
	cr_assert(strstr(out, "code page 2 of the x86_64 slice does not match (sha1 CodeDirectory: 3 of 4 pages valid)"),
		  "%s", out);
	free(out);
	/* malformed signature data: exit 1 with the reason, no crash */
	static const struct {
		long at; /* from the SuperBlob start */
		uint8_t value;
		const char *verdict, *reason;
	} bad[] = {
		{ 0, 0x00, "invalid or unsupported format for signature", "superblob magic 0x00de0cc0, expected 0xfade0cc0" },
		{ 8, 0x7f, "unsupported type or version of signature", "superblob count 2130706435 above the limit" },
		{ 17, 0xff, "invalid or unsupported format for signature", "offset 16711716 past end" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *orig = ts_read(src, &n);
		static const uint8_t magic[4] = { 0xfa, 0xde, 0x0c, 0xc0 };
		size_t sb = 0;
		while (sb + 4 <= n && memcmp(orig + sb, magic, 4) != 0)
			sb++;
		cr_assert_lt(sb + 20, n);
		orig[sb + (size_t)bad[i].at] = bad[i].value;
		FILE *g = fopen(copy, "wb");
		fwrite(orig, 1, n, g);
		fclose(g);
		free(orig);
		cr_assert_eq(run(&out, NULL, copy, NULL, NULL, NULL, NULL), 1, "%s", out);
		cr_assert(strstr(out, bad[i].verdict) && strstr(out, bad[i].reason), "%s", out);
		free(out);
	}
	/* truncated inside the signature: the reader refuses the Mach-O (LC_CODE_SIGNATURE past the end) */
	cr_assert_eq(truncate(copy, (off_t)n - 100), 0);
	char *err = NULL;
	cr_assert_eq(run(&out, &err, copy, NULL, NULL, NULL, NULL), 3, "%s%s", out, err);
	free(out);
	free(err);
	ts_rmtree(dir);
	free(dir);
}
