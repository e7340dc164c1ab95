/*
 * test_seal_tamper.c - tampering with temp copies of the corpus bundles: every
 * change is reported with its path, and nothing else is (Apple's seals are
 * the reference; an untouched copy verifies clean, see test_seal_corpus.c).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_seal.h"
#include "test_bundle_util.h"
#include "tsupport.h"
#include "ut_err.h"

static struct cs_seal_report verify(const char *dir, int strict, int deep)
{
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(dir, &b), 0, "%s", ut_errmsg());
	struct cs_seal_report rep = { 0 };
	struct cs_seal_verify_opts o = { .strict = strict, .deep = deep };
	cr_assert_eq(cs_seal_verify_bundle(b, &o, "", &rep), 0, "%s", ut_errmsg());
	cs_bundle_free(b);
	return rep;
}

static const struct cs_seal_finding *find(const struct cs_seal_report *r, enum cs_seal_problem p, const char *path)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].problem == p && strcmp(r->v[i].path, path) == 0)
			return &r->v[i];
	return NULL;
}

static void dump(const struct cs_seal_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		cr_log_info("%s: %s (%s)", cs_seal_problem_text(r->v[i].problem), r->v[i].path, r->v[i].detail);
}

/* Exactly the findings listed (problem, path), in any order. */
static void expect_exactly(const struct cs_seal_report *r, const enum cs_seal_problem *p, const char *const *paths,
			   size_t n)
{
	dump(r);
	cr_expect_eq(r->n, n, "%zu findings, expected %zu", r->n, n);
	for (size_t i = 0; i < n; i++)
		cr_expect_not_null(find(r, p[i], paths[i]), "no '%s' for %s", cs_seal_problem_text(p[i]), paths[i]);
}

Test(seal_tamper, resource_modified_added_removed)
{
	char *dir = tb_copy_corpus(TB_SPARKLE);
	char *p = tb_join(dir, "Versions/A/Resources/SUModelTranslation.plist");
	tsb_flip(p, 100);
	free(p);
	tb_write_str(dir, "Versions/A/Resources/added.txt", "new");
	p = tb_join(dir, "Versions/A/Headers/SUAppcast.h");
	cr_assert_eq(unlink(p), 0);
	free(p);
	/* An optional (.lproj) file may go without a finding. */
	p = tb_join(dir, "Versions/A/Resources/it.lproj/Sparkle.strings");
	cr_assert_eq(unlink(p), 0);
	free(p);
	struct cs_seal_report r = verify(dir, 0, 0);
	enum cs_seal_problem pr[] = { CS_SEAL_MODIFIED, CS_SEAL_ADDED, CS_SEAL_MISSING };
	const char *paths[] = { "Versions/A/Resources/SUModelTranslation.plist", "Versions/A/Resources/added.txt",
				"Versions/A/Headers/SUAppcast.h" };
	expect_exactly(&r, pr, paths, 3);
	const struct cs_seal_finding *f = find(&r, CS_SEAL_MODIFIED, paths[0]);
	cr_expect(f && strstr(f->detail, "sha1 digest differs"), "%s", f ? f->detail : "");
	cr_expect_str_eq(cs_seal_problem_text(CS_SEAL_ADDED), "file added");
	cs_seal_report_release(&r);
	tb_cleanup(dir);
}

Test(seal_tamper, app_resource_sha256_only)
{
	char *dir = tb_copy_corpus(TB_SPARKLE);
	char *app = tb_join(dir, TB_AUTOUPDATE);
	tb_write_str(app, "Contents/Resources/SUStatus.nib", "replaced");
	tb_write_str(app, "Contents/NewTopLevelFile", "x");
	tb_write_str(app, "Contents/Resources/.DS_Store", "omitted by the rules");
	struct cs_seal_report r = verify(app, 0, 0);
	enum cs_seal_problem pr[] = { CS_SEAL_MODIFIED, CS_SEAL_ADDED };
	const char *paths[] = { "Contents/Resources/SUStatus.nib", "Contents/NewTopLevelFile" };
	expect_exactly(&r, pr, paths, 2);
	cs_seal_report_release(&r);
	free(app);
	tb_cleanup(dir);
}

static uint64_t first_slice_offset(const char *path)
{
	size_t n;
	uint8_t *p = ts_read(path, &n);
	cr_assert(p && n > 32);
	uint64_t off = 0;
	if (p[0] == 0xca && p[1] == 0xfe && p[2] == 0xba && p[3] == 0xbe)
		off = (uint64_t)p[16] << 24 | (uint64_t)p[17] << 16 | (uint64_t)p[18] << 8 | p[19];
	free(p);
	return off;
}

Test(seal_tamper, nested_binary_changed_in_place)
{
	char *dir = tb_copy_corpus(TB_SPARKLE);
	char *app = tb_join(dir, TB_AUTOUPDATE);
	char *fileop = tb_join(app, "Contents/MacOS/fileop");
	/* A byte of the first slice's load commands: page 0 no longer matches; the cdhash is unchanged. */
	tsb_flip(fileop, first_slice_offset(fileop) + 40);
	struct cs_seal_report r = verify(app, 0, 0);
	enum cs_seal_problem pr[] = { CS_SEAL_NESTED_INVALID };
	const char *paths[] = { "Contents/MacOS/fileop" };
	expect_exactly(&r, pr, paths, 1);
	const struct cs_seal_finding *f = find(&r, CS_SEAL_NESTED_INVALID, paths[0]);
	cr_expect(f && strstr(f->detail, "x86_64") && strstr(f->detail, "code or signature have been modified"), "%s",
		  f ? f->detail : "");
	cs_seal_report_release(&r);
	/* The framework seals Autoupdate.app file by file: a plain modification there. */
	r = verify(dir, 0, 0);
	const char *fp[] = { "Versions/A/Resources/Autoupdate.app/Contents/MacOS/fileop" };
	enum cs_seal_problem fpr[] = { CS_SEAL_MODIFIED };
	expect_exactly(&r, fpr, fp, 1);
	cs_seal_report_release(&r);
	free(fileop);
	free(app);
	tb_cleanup(dir);
}

Test(seal_tamper, nested_binary_replaced_by_other_valid_code)
{
	char *dir = tb_copy_corpus(TB_SPARKLE);
	char *app = tb_join(dir, TB_AUTOUPDATE);
	char *src = tb_join(app, "Contents/MacOS/Autoupdate");
	tb_copy_file(src, app, "Contents/MacOS/fileop");
	struct cs_seal_report r = verify(app, 0, 0);
	enum cs_seal_problem pr[] = { CS_SEAL_NESTED_INVALID };
	const char *paths[] = { "Contents/MacOS/fileop" };
	expect_exactly(&r, pr, paths, 1);
	const struct cs_seal_finding *f = find(&r, CS_SEAL_NESTED_INVALID, paths[0]);
	cr_expect(f && strstr(f->detail, "none of the cdhashes"), "%s", f ? f->detail : "");
	cs_seal_report_release(&r);
	/* Removing it: nested code missing. */
	char *fileop = tb_join(app, "Contents/MacOS/fileop");
	unlink(fileop);
	r = verify(app, 0, 0);
	enum cs_seal_problem mp[] = { CS_SEAL_MISSING };
	expect_exactly(&r, mp, paths, 1);
	cs_seal_report_release(&r);
	/* A symlink where nested code was sealed: a type change. */
	tb_symlink("Autoupdate", app, "Contents/MacOS/fileop");
	r = verify(app, 0, 0);
	enum cs_seal_problem tp[] = { CS_SEAL_MODIFIED };
	expect_exactly(&r, tp, paths, 1);
	cs_seal_report_release(&r);
	free(fileop);
	free(src);
	free(app);
	tb_cleanup(dir);
}

Test(seal_tamper, info_plist_edited)
{
	/* An app's Info.plist is not in the seal (omitted): only slot -1 catches it, in both slices. */
	char *dir = tb_copy_corpus(TB_SIGNAPPLE);
	char *info = tb_join(dir, "Contents/Info.plist");
	FILE *fp = fopen(info, "ab");
	fputs("\n", fp);
	fclose(fp);
	struct cs_seal_report r = verify(dir, 0, 0);
	enum cs_seal_problem pr[] = { CS_SEAL_INFO_PLIST, CS_SEAL_INFO_PLIST };
	const char *paths[] = { "Contents/Info.plist", "Contents/Info.plist" };
	expect_exactly(&r, pr, paths, 2);
	cr_expect(strstr(r.v[0].detail, "slot -1 of the x86_64 sha256 CodeDirectory does not match"), "%s", r.v[0].detail);
	cr_expect(strstr(r.v[1].detail, "arm64"), "%s", r.v[1].detail);
	cs_seal_report_release(&r);
	free(info);
	tb_cleanup(dir);

	/* A framework seals Resources/Info.plist too: file modified + slot -1 of all 4 CDs (2 slices x SHA-1/SHA-256). */
	dir = tb_copy_corpus(TB_SPARKLE);
	info = tb_join(dir, "Versions/A/Resources/Info.plist");
	fp = fopen(info, "ab");
	fputs("<!-- edited -->\n", fp);
	fclose(fp);
	r = verify(dir, 0, 0);
	dump(&r);
	cr_expect_eq(r.n, 5);
	cr_expect_not_null(find(&r, CS_SEAL_MODIFIED, "Versions/A/Resources/Info.plist"));
	size_t slots = 0;
	for (size_t i = 0; i < r.n; i++)
		slots += r.v[i].problem == CS_SEAL_INFO_PLIST && !strcmp(r.v[i].path, "Versions/A/Resources/Info.plist");
	cr_expect_eq(slots, 4);
	cs_seal_report_release(&r);
	free(info);
	tb_cleanup(dir);
}

Test(seal_tamper, codeResources_edited_or_removed)
{
	char *dir = tb_copy_corpus(TB_NOTIFIER);
	char *cr = tb_join(dir, "Contents/_CodeSignature/CodeResources");
	FILE *fp = fopen(cr, "ab");
	fputs(" ", fp);
	fclose(fp);
	struct cs_seal_report r = verify(dir, 0, 0);
	enum cs_seal_problem pr[] = { CS_SEAL_RESOURCE_DIR };
	const char *paths[] = { "Contents/_CodeSignature/CodeResources" };
	expect_exactly(&r, pr, paths, 1);
	cs_seal_report_release(&r);
	unlink(cr);
	r = verify(dir, 0, 0);
	enum cs_seal_problem pr2[] = { CS_SEAL_NO_RESOURCES, CS_SEAL_RESOURCE_DIR };
	const char *paths2[] = { "Contents/_CodeSignature/CodeResources", "Contents/_CodeSignature/CodeResources" };
	expect_exactly(&r, pr2, paths2, 2);
	cs_seal_report_release(&r);
	/* Not a plist at all: reported, not an error. */
	tb_write_str(dir, "Contents/_CodeSignature/CodeResources", "garbage, not a plist");
	r = verify(dir, 0, 0);
	cr_expect_not_null(find(&r, CS_SEAL_RESOURCE_DIR, paths[0]));
	cs_seal_report_release(&r);
	free(cr);
	tb_cleanup(dir);
}

Test(seal_tamper, v1_seal_file_changes)
{
	/* A v1-only seal (terminal-notifier, 2014) is verified with files/rules. */
	char *dir = tb_copy_corpus(TB_NOTIFIER);
	char *icns = tb_join(dir, "Contents/Resources/Terminal.icns");
	tsb_flip(icns, 10);
	tb_write_str(dir, "Contents/Resources/extra.png", "x");
	tb_write_str(dir, "Contents/MacOS/not-covered-by-v1-rules", "x");
	struct cs_seal_report r = verify(dir, 0, 0);
	enum cs_seal_problem pr[] = { CS_SEAL_MODIFIED, CS_SEAL_ADDED };
	const char *paths[] = { "Contents/Resources/Terminal.icns", "Contents/Resources/extra.png" };
	expect_exactly(&r, pr, paths, 2);
	cs_seal_report_release(&r);
	free(icns);
	tb_cleanup(dir);
}

Test(seal_tamper, file_replaced_by_symlink_or_directory)
{
	char *dir = tb_copy_corpus(TB_SPARKLE);
	char *h = tb_join(dir, "Versions/A/Headers/SUErrors.h");
	unlink(h);
	tb_symlink("Sparkle.h", dir, "Versions/A/Headers/SUErrors.h");
	char *m = tb_join(dir, "Versions/A/Modules/module.modulemap");
	unlink(m);
	tb_mkdirs(dir, "Versions/A/Modules/module.modulemap");
	tb_write_str(dir, "Versions/A/Modules/module.modulemap/inner", "x");
	struct cs_seal_report r = verify(dir, 0, 0);
	enum cs_seal_problem pr[] = { CS_SEAL_MODIFIED, CS_SEAL_MISSING, CS_SEAL_ADDED };
	const char *paths[] = { "Versions/A/Headers/SUErrors.h", "Versions/A/Modules/module.modulemap",
				"Versions/A/Modules/module.modulemap/inner" };
	expect_exactly(&r, pr, paths, 3);
	const struct cs_seal_finding *f = find(&r, CS_SEAL_MODIFIED, paths[0]);
	cr_expect(f && strstr(f->detail, "sealed as a file, now a symlink"), "%s", f ? f->detail : "");
	cs_seal_report_release(&r);
	free(h);
	free(m);
	tb_cleanup(dir);
}
