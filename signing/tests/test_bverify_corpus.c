/*
 * test_bverify_corpus.c - deep verification of the real bundles of the corpus
 * (writable copies with symlinks restored).  Oracle: these bundles were
 * signed by Apple's codesign and verify with it (MANIFEST.tsv, SEAL CHECK and
 * SLOT CHECK columns); under --strict the two with version-1 seals only
 * (Growl, terminal-notifier) fail with the weak resource envelope, as
 * codesign --strict does (SEC errSecCSWeakResourceEnvelope).  Tampered copies
 * fail naming the file and the component.
 */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_bverify.h"
#include "cs_seal.h"
#include "test_bverify_util.h"
#include "tsupport.h"
#include "tsupport_bundle.h"
#include "tsupport_fs.h"
#include "ut_err.h"

#define DEEP CS_BVERIFY_DEEP
#define STRICT (CS_BVERIFY_DEEP | CS_BVERIFY_STRICT)
#define AUTOUPDATE "Versions/A/Resources/Autoupdate.app"

static char *tmp;

static void setup(void) { tmp = tsupport_tmpdir("bverify"); }
static void teardown(void)
{
	tsupport_rmtree(tmp);
	free(tmp);
}

TestSuite(bverify_corpus, .init = setup, .fini = teardown);

Test(bverify_corpus, every_bundle_verifies_deep)
{
	static const char *const all[] = { TSB_SPARKLE, TSB_GROWL, TSB_NOTIFIER, TSB_SIGNAPPLE };
	for (size_t i = 0; i < 4; i++) {
		char *b = tsb_copy_corpus(all[i], tmp);
		for (unsigned fl = 0; fl <= DEEP; fl += DEEP) {
			struct cs_bverify_result r;
			tbv_verify(&r, b, fl, NULL);
			cr_expect(r.valid, "%s (%s):\n%s", all[i], fl ? "deep" : "shallow", tbv_dump(&r));
			cr_expect_eq(tbv_failures(&r), 0);
			cs_bverify_result_release(&r);
		}
		free(b);
	}
}

/* Sparkle: the framework, Autoupdate.app sealed file by file inside it, and fileop recorded as nested code. */
Test(bverify_corpus, sparkle_components_and_nested_requirement)
{
	char *b = tsb_copy_corpus(TSB_SPARKLE, tmp);
	struct cs_bverify_result r;
	tbv_verify(&r, b, STRICT, NULL);
	cr_expect(r.valid, "%s", tbv_dump(&r));
	cr_expect_eq(r.n, 3, "%s", tbv_dump(&r));
	const struct cs_bverify_component *top = tbv_comp(&r, "");
	cr_expect_eq(top->role, CS_BV_TOP);
	cr_expect_eq(top->kind, CS_BUNDLE_FRAMEWORK);
	cr_expect_str_eq(top->code_rel, "Versions/A/Sparkle");
	cr_expect_eq(top->sig.nslices, 2);
	cr_expect_str_eq(top->sig.slices[0].identifier, "org.sparkle-project.Sparkle");
	cr_expect_eq(tbv_comp(&r, AUTOUPDATE)->role, CS_BV_ROLE_EMBEDDED);
	const struct cs_bverify_component *fo = tbv_comp(&r, AUTOUPDATE "/Contents/MacOS/fileop");
	cr_expect_eq(fo->role, CS_BV_ROLE_NESTED);
	cr_expect_eq(fo->parent, (long)(tbv_comp(&r, AUTOUPDATE) - r.v));
	cs_bverify_result_release(&r);
	free(b);
}

/* Which pass --strict: Sparkle and signapple-test (v2 seals); Growl and terminal-notifier only have v1 seals. */
Test(bverify_corpus, strict_fails_only_the_version_1_seals)
{
	static const struct {
		const char *rel, *seal;
		int valid;
	} rows[] = {
		{ TSB_SPARKLE, NULL, 1 },
		{ TSB_SIGNAPPLE, NULL, 1 },
		{ TSB_GROWL, "Versions/A/_CodeSignature/CodeResources", 0 },
		{ TSB_NOTIFIER, "Contents/_CodeSignature/CodeResources", 0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *b = tsb_copy_corpus(rows[i].rel, tmp);
		struct cs_bverify_result r;
		tbv_verify(&r, b, STRICT, NULL);
		cr_expect_eq(r.valid, rows[i].valid, "%s:\n%s", rows[i].rel, tbv_dump(&r));
		if (!rows[i].valid) {
			const struct cs_bverify_component *top = tbv_comp(&r, "");
			const struct cs_bverify_reason *w = tbv_reason(top, CS_BV_WEAK_ENVELOPE, rows[i].seal);
			cr_expect(w, "%s:\n%s", rows[i].rel, tbv_dump(&r));
			if (w) {
				cr_expect_str_eq(w->text, "resource envelope is obsolete (version 1 signature)");
				cr_expect(strstr(w->detail, "weak resource envelope"));
			}
			cr_expect_eq(tbv_failures(&r), 1, "only the envelope:\n%s", tbv_dump(&r));
		}
		cs_bverify_result_release(&r);
		free(b);
	}
}

static char *at(const char *b, const char *rel) { return tsupport_printf("%s/%s", b, rel); }

/* Changes the first character of the first <string> value of an XML plist (it stays a valid plist). */
static void edit_plist(const char *path)
{
	uint8_t *p = NULL;
	size_t n = 0;
	cr_assert_eq(tsupport_read(path, &p, &n), 0);
	char *s = strstr((char *)p, "<string>");
	cr_assert(s, "%s", path);
	tsb_flip(path, (uint64_t)(s - (char *)p) + 8);
	free(p);
}

/* A resource modified, added, removed: "file modified/added/missing" with the path, under the headline. */
Test(bverify_corpus, sparkle_resources_modified_added_removed)
{
	char *b = tsb_copy_corpus(TSB_SPARKLE, tmp);
	char *h = at(b, "Versions/A/Headers/SUErrors.h");
	tsb_flip(h, 10);
	char *added = at(b, "Versions/A/Resources/added.txt");
	cr_assert_eq(tsupport_write(added, "new\n", 4), 0);
	char *gone = at(b, "Versions/A/Modules/module.modulemap");
	cr_assert_eq(unlink(gone), 0);
	struct cs_bverify_result r;
	tbv_verify(&r, b, DEEP, NULL);
	cr_expect_not(r.valid);
	const struct cs_bverify_component *top = tbv_comp(&r, "");
	cr_expect_not(top->valid);
	const struct cs_bverify_reason *m = tbv_reason(top, CS_BV_FILE_MODIFIED, "Versions/A/Headers/SUErrors.h");
	cr_expect(m, "%s", tbv_dump(&r));
	cr_expect(m && strstr(m->detail, "digest differs"));
	cr_expect(tbv_reason(top, CS_BV_FILE_ADDED, "Versions/A/Resources/added.txt"), "%s", tbv_dump(&r));
	cr_expect(tbv_reason(top, CS_BV_FILE_MISSING, "Versions/A/Modules/module.modulemap"), "%s", tbv_dump(&r));
	const struct cs_bverify_reason *hl = tbv_reason(top, CS_BV_RESOURCES, "");
	cr_expect(hl);
	cr_expect(hl && strcmp(hl->text, "a sealed resource is missing or invalid") == 0);
	cr_expect_eq(tbv_failures(&r), 4, "%s", tbv_dump(&r));
	/* the embedded Autoupdate.app and fileop are untouched */
	cr_expect(tbv_comp(&r, AUTOUPDATE)->valid);
	cs_bverify_result_release(&r);
	free(h);
	free(added);
	free(gone);
	free(b);
}

/* fileop (nested code of Autoupdate.app) changed: fileop invalid, Autoupdate.app's nested code invalid, the framework's seal modified. */
Test(bverify_corpus, sparkle_nested_fileop_changed)
{
	char *b = tsb_copy_corpus(TSB_SPARKLE, tmp);
	char *fo = at(b, AUTOUPDATE "/Contents/MacOS/fileop");
	tsb_flip(fo, tsb_text_offset(fo));
	struct cs_bverify_result r;
	tbv_verify(&r, b, DEEP, NULL);
	cr_expect_not(r.valid);
	const struct cs_bverify_component *c = tbv_comp(&r, AUTOUPDATE "/Contents/MacOS/fileop");
	const struct cs_bverify_reason *s = tbv_reason(c, CS_BV_SIGNATURE, NULL);
	cr_expect(s, "%s", tbv_dump(&r));
	cr_expect(s && strcmp(s->text, "invalid signature (code or signature have been modified)") == 0);
	const struct cs_bverify_component *au = tbv_comp(&r, AUTOUPDATE);
	const struct cs_bverify_reason *n = tbv_reason(au, CS_BV_NESTED, AUTOUPDATE "/Contents/MacOS/fileop");
	cr_expect(n, "%s", tbv_dump(&r));
	cr_expect(n && strcmp(n->text, "nested code is modified or invalid") == 0);
	cr_expect(tbv_reason(tbv_comp(&r, ""), CS_BV_FILE_MODIFIED, AUTOUPDATE "/Contents/MacOS/fileop"), "%s",
		  tbv_dump(&r));
	cs_bverify_result_release(&r);
	/* Without --deep the framework's own seal still catches it */
	tbv_verify(&r, b, 0, NULL);
	cr_expect_not(r.valid);
	cr_expect(tbv_reason(tbv_comp(&r, ""), CS_BV_FILE_MODIFIED, AUTOUPDATE "/Contents/MacOS/fileop"));
	cs_bverify_result_release(&r);
	free(fo);
	free(b);
}

Test(bverify_corpus, sparkle_autoupdate_executable_changed)
{
	char *b = tsb_copy_corpus(TSB_SPARKLE, tmp);
	char *au = at(b, AUTOUPDATE "/Contents/MacOS/Autoupdate");
	tsb_flip(au, tsb_text_offset(au));
	struct cs_bverify_result r;
	tbv_verify(&r, b, DEEP, NULL);
	cr_expect_not(r.valid);
	const struct cs_bverify_component *c = tbv_comp(&r, AUTOUPDATE);
	cr_expect(tbv_reason(c, CS_BV_SIGNATURE, AUTOUPDATE "/Contents/MacOS/Autoupdate"), "%s", tbv_dump(&r));
	cr_expect(tbv_reason(tbv_comp(&r, ""), CS_BV_FILE_MODIFIED, AUTOUPDATE "/Contents/MacOS/Autoupdate"));
	cr_expect(tbv_comp(&r, AUTOUPDATE "/Contents/MacOS/fileop")->valid);
	cs_bverify_result_release(&r);
	free(au);
	free(b);
}

/* Info.plist edited: slot -1 no longer matches (and a framework's Info.plist is also sealed as a file). */
Test(bverify_corpus, info_plist_edited)
{
	char *b = tsb_copy_corpus(TSB_SPARKLE, tmp);
	char *ip = at(b, "Versions/A/Resources/Info.plist");
	edit_plist(ip);
	struct cs_bverify_result r;
	tbv_verify(&r, b, DEEP, NULL);
	const struct cs_bverify_component *top = tbv_comp(&r, "");
	const struct cs_bverify_reason *ipr = tbv_reason(top, CS_BV_INFO_PLIST, "Versions/A/Sparkle");
	cr_expect(ipr, "%s", tbv_dump(&r));
	cr_expect(ipr && strcmp(ipr->text, "invalid Info.plist (plist or signature have been modified)") == 0);
	cr_expect(tbv_reason(top, CS_BV_FILE_MODIFIED, "Versions/A/Resources/Info.plist"), "%s", tbv_dump(&r));
	cs_bverify_result_release(&r);
	free(ip);
	free(b);

	/* an app's Info.plist is not sealed as a file: only the slot */
	b = tsb_copy_corpus(TSB_SIGNAPPLE, tmp);
	ip = at(b, "Contents/Info.plist");
	edit_plist(ip);
	tbv_verify(&r, b, DEEP, NULL);
	top = tbv_comp(&r, "");
	cr_expect(tbv_reason(top, CS_BV_INFO_PLIST, "Contents/MacOS/signapple-test"), "%s", tbv_dump(&r));
	cr_expect_eq(tbv_failures(&r), 2, "one per slice:\n%s", tbv_dump(&r));
	cs_bverify_result_release(&r);
	free(ip);
	free(b);
}

/* The version-1 seals are compared too (deep, not strict). */
Test(bverify_corpus, version_1_seal_resource_modified)
{
	char *b = tsb_copy_corpus(TSB_NOTIFIER, tmp);
	char *f = at(b, "Contents/Resources/Terminal.icns");
	tsb_flip(f, 100);
	struct cs_bverify_result r;
	tbv_verify(&r, b, DEEP, NULL);
	const struct cs_bverify_reason *m = tbv_reason(tbv_comp(&r, ""), CS_BV_FILE_MODIFIED, "Contents/Resources/Terminal.icns");
	cr_expect(m, "%s", tbv_dump(&r));
	cr_expect(m && strstr(m->detail, "sha1"), "%s", m ? m->detail : "");
	cs_bverify_result_release(&r);
	free(f);
	free(b);
}

/* The seal file: removed while the signature binds it; and garbage. */
Test(bverify_corpus, seal_removed_or_unreadable)
{
	char *b = tsb_copy_corpus(TSB_SIGNAPPLE, tmp);
	char *seal = at(b, "Contents/_CodeSignature/CodeResources");
	cr_assert_eq(unlink(seal), 0);
	struct cs_bverify_result r;
	tbv_verify(&r, b, DEEP, NULL);
	const struct cs_bverify_reason *nr = tbv_reason(tbv_comp(&r, ""), CS_BV_NO_RESOURCES, NULL);
	cr_expect(nr, "%s", tbv_dump(&r));
	cr_expect(nr && strcmp(nr->text, "code has no resources but signature indicates they must be present") == 0);
	cs_bverify_result_release(&r);
	cr_assert_eq(tsupport_write(seal, "not a plist", 11), 0);
	tbv_verify(&r, b, DEEP, NULL);
	cr_expect(tbv_reason(tbv_comp(&r, ""), CS_BV_RESOURCE_DIR, NULL), "%s", tbv_dump(&r));
	cr_expect_not(r.valid);
	cs_bverify_result_release(&r);
	free(seal);
	free(b);
}

/* Strict layout: something unsealed next to Contents. */
Test(bverify_corpus, strict_unsealed_root_contents)
{
	char *b = tsb_copy_corpus(TSB_SIGNAPPLE, tmp);
	char *x = at(b, "stray.txt");
	cr_assert_eq(tsupport_write(x, "x", 1), 0);
	struct cs_bverify_result r;
	tbv_verify(&r, b, DEEP, NULL);
	cr_expect(r.valid, "not strict: %s", tbv_dump(&r));
	cs_bverify_result_release(&r);
	tbv_verify(&r, b, STRICT, NULL);
	const struct cs_bverify_reason *l = tbv_reason(tbv_comp(&r, ""), CS_BV_LAYOUT, "stray.txt");
	cr_expect(l, "%s", tbv_dump(&r));
	cr_expect(l && strcmp(l->text, "unsealed contents present in the bundle root") == 0);
	cs_bverify_result_release(&r);
	free(x);
	free(b);
}

Test(bverify_corpus, not_a_bundle_could_not_run)
{
	struct cs_bverify_result r;
	cr_expect_neq(cs_bverify_bundle(&r, tmp, NULL), 0);
	cr_expect(strstr(ut_errmsg(), "is not a bundle"), "%s", ut_errmsg());
	cs_bverify_result_release(&r);
	char *missing = at(tmp, "missing.app");
	cr_expect_neq(cs_bverify_bundle(&r, missing, NULL), 0);
	cs_bverify_result_release(&r);
	free(missing);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The set of "<problem> <path>" file findings of the top component, sorted, one per line. */
static void ours(const struct cs_bverify_result *r, char *out, size_t n)
{
	const struct cs_bverify_component *c = tbv_comp(r, "");
	char *lines[256];
	size_t k = 0;
	for (size_t i = 0; i < c->nreasons && k < 256; i++) {
		enum cs_bverify_problem p = c->reasons[i].problem;
		if (p == CS_BV_FILE_ADDED || p == CS_BV_FILE_MISSING || p == CS_BV_FILE_MODIFIED)
			lines[k++] = tsupport_printf("%s %s", c->reasons[i].text, c->reasons[i].path);
	}
	qsort(lines, k, sizeof(*lines), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < k; i++) {
		snprintf(out + strlen(out), n - strlen(out), "%s\n", lines[i]);
		free(lines[i]);
	}
}

static void theirs(const char *bundle, char *out, size_t n)
{
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(bundle, &b), 0, "%s", ut_errmsg());
	struct cs_seal_report rep = { 0 };
	struct cs_seal_verify_opts o = { 0 };
	cr_assert_eq(cs_seal_verify_bundle(b, &o, "", &rep), 0, "%s", ut_errmsg());
	char *lines[256];
	size_t k = 0;
	for (size_t i = 0; i < rep.n && k < 256; i++) {
		enum cs_seal_problem p = rep.v[i].problem;
		if (p == CS_SEAL_ADDED || p == CS_SEAL_MISSING || p == CS_SEAL_MODIFIED)
			lines[k++] = tsupport_printf("%s %s", cs_seal_problem_text(p), rep.v[i].path);
	}
	qsort(lines, k, sizeof(*lines), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < k; i++) {
		snprintf(out + strlen(out), n - strlen(out), "%s\n", lines[i]);
		free(lines[i]);
	}
	cs_seal_report_release(&rep);
	cs_bundle_free(b);
}

/*
 * The parallel seal comparison here and the seal module's cs_seal_verify_bundle
 * find the same files added, missing and modified (v2 and v1 seals, symlinks).
 */
Test(bverify_corpus, file_findings_agree_with_cs_seal_verify_bundle)
{
	static const char *const all[] = { TSB_SPARKLE, TSB_NOTIFIER, TSB_GROWL };
	for (size_t i = 0; i < 3; i++) {
		char *b = tsb_copy_corpus(all[i], tmp);
		/* damage: of the files but Info.plist, every fifth removed and every other third modified; two added */
		char *cmd = tsupport_printf(
			"cd '%s' && n=0; for f in $(find . -type f ! -path '*/_CodeSignature/*' ! -name Info.plist | LC_ALL=C sort); do "
			"n=$((n+1)); if [ $((n %% 5)) -eq 0 ]; then rm \"$f\"; elif [ $((n %% 3)) -eq 0 ]; then "
			"printf x >> \"$f\"; fi; done; d=$(dirname \"$(find . -name Info.plist | head -n 1)\"); "
			"echo new > \"$d/added-one.txt\"; mkdir -p \"$d/added.lproj\" && echo new > \"$d/added.lproj/x.strings\"",
			b);
		cr_assert_eq(system(cmd), 0, "%s", cmd);
		free(cmd);
		struct cs_bverify_result r;
		tbv_verify(&r, b, 0, NULL);
		static char a[16384], t[16384];
		ours(&r, a, sizeof(a));
		theirs(b, t, sizeof(t));
		cr_expect(a[0], "%s: no findings", all[i]);
		cr_expect_str_eq(a, t, "%s:\nours:\n%s\ncs_seal_verify_bundle:\n%s", all[i], a, t);
		cs_bverify_result_release(&r);
		free(b);
	}
}
