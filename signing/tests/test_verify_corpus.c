/*
 * test_verify_corpus.c - cs_verify on the real Apple-signed corpus, judged by
 * MANIFEST.tsv (what Apple-tool-level verification found for every slice: page
 * counts per CodeDirectory, special slots, CMS signature, chain anchor, team)
 * and by the openssl CLI (the cdhashes Apple recorded in the CMS attributes
 * 100.9.1 and 100.9.2, read with asn1parse).
 */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_verify.h"
#include "tcorpus.h"
#include "test_cms_util.h"
#include "tmanifest.h"
#include "tsupport.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_file.h"

static struct tm_entry *man;
static size_t nman;

static void load_manifest(void)
{
	cr_assert_eq(tm_load(ts_corpus("MANIFEST.tsv"), &man, &nman), 0);
}

static void free_manifest(void) { free(man); }

/* Verifies a file (asserting the checks ran); caller releases r. */
static void verify_path(const char *path, struct cs_verify_result *r, const struct cs_verify_opts *o)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	cr_assert_eq(mo_file_open(path, &src, &f), 0, "%s: %s", path, ut_errmsg());
	cr_assert_eq(cs_verify_file(r, f, o), 0, "%s: %s", path, ut_errmsg());
	cr_assert_eq(r->nslices, f->nslices);
	mo_file_close(&src, f);
}

static void verify_rel(const char *rel, struct cs_verify_result *r)
{
	verify_path(ts_corpus(rel), r, NULL);
}

/* The kind MANIFEST's description implies (flags, signer subject, chain). */
static enum cs_verify_kind expected_kind(const struct tm_slice *m)
{
	if (strstr(m->flags, "linker-signed"))
		return CS_VK_LINKER;
	if (strstr(m->flags, "adhoc"))
		return CS_VK_ADHOC;
	if (strstr(m->chain, "non-Apple-root"))
		return CS_VK_OTHER_CERT;
	if (strstr(m->signer, "CN = Software Signing"))
		return CS_VK_APPLE_PLATFORM;
	if (strstr(m->signer, "Developer ID Application"))
		return CS_VK_DEVELOPER_ID;
	if (strstr(m->signer, "Apple Development"))
		return CS_VK_APPLE_DEVELOPMENT;
	return CS_VK_NO_SIGNER;
}

/* MANIFEST's special-slot words for one CD -> bits (ok) and (bound, unchecked). */
static void expected_specials(const char *w, uint32_t *ok, uint32_t *unchecked)
{
	*ok = *unchecked = 0;
	char buf[160];
	snprintf(buf, sizeof(buf), ",%s,", w);
	if (strstr(buf, ",req=ok,"))
		*ok |= 1u << 2;
	if (strstr(buf, ",ent=ok,"))
		*ok |= 1u << 5;
	if (strstr(buf, ",entDER=ok,"))
		*ok |= 1u << 7;
	if (strstr(buf, ",info-bound,"))
		*unchecked |= 1u << 1;
	if (strstr(buf, ",res-bound,"))
		*unchecked |= 1u << 3;
}

/* The first finding that is not a note. */
static const char *first_failure(const struct cs_verify_slice *vs)
{
	for (unsigned i = 0; i < vs->nfindings; i++)
		if (vs->findings[i].problem != CS_PROB_NOTE)
			return vs->findings[i].detail;
	return "";
}

static void check_against_manifest(const char *rel, const struct tm_slice *m, const struct cs_verify_slice *vs)
{
	cr_assert_eq(vs->ncd, m->ncd, "%s %s: %u CDs, CHECK lists %u", rel, vs->arch, vs->ncd, m->ncd);
	for (unsigned i = 0; i < vs->ncd; i++) {
		const struct cs_verify_cd *c = &vs->cds[i];
		cr_assert_eq(c->pages, m->cd[i].pages, "%s %s CD %u: pages", rel, vs->arch, i);
		cr_assert_eq(c->pages - c->pages_bad, m->cd[i].pages_ok, "%s %s CD %u: %llu bad pages", rel, vs->arch, i,
			     (unsigned long long)c->pages_bad);
		uint32_t ok, unchecked;
		expected_specials(m->cd[i].specials, &ok, &unchecked);
		cr_assert_eq(c->special_ok, ok, "%s %s CD %u: special ok 0x%x, manifest %s", rel, vs->arch, i,
			     c->special_ok, m->cd[i].specials);
		cr_assert_eq(c->special_unchecked, unchecked, "%s %s CD %u: unchecked 0x%x", rel, vs->arch, i,
			     c->special_unchecked);
		cr_assert_eq(c->special_bad, 0u, "%s %s CD %u", rel, vs->arch, i);
	}
	cr_assert_eq(vs->cms_verified, m->cms_sig_ok, "%s %s: CMS verified %d", rel, vs->arch, vs->cms_verified);
	if (vs->cms_verified) {
		enum cs_anchor want = strstr(m->chain, "non-Apple-root") ? CS_ANCHOR_OTHER : CS_ANCHOR_APPLE_ROOT_CA;
		cr_assert_eq(vs->cms.chain.anchor, want, "%s %s: anchor %s", rel, vs->arch,
			     cs_anchor_name(vs->cms.chain.anchor));
	}
	cr_assert_str_eq(vs->team_id, m->team, "%s %s: team", rel, vs->arch);
	cr_assert_str_eq(vs->identifier, m->id, "%s %s: identifier", rel, vs->arch);
}

Test(verify_corpus, every_signed_file_verifies_as_the_manifest_says, .init = load_manifest, .fini = free_manifest,
     .timeout = 180)
{
	unsigned files = 0, slices = 0;
	for (const char *const *fv = tc_signed(); *fv; fv++) {
		const char *rel = *fv;
		if (strncmp(rel, "odd/", 4) == 0)
			continue;
		const struct tm_entry *me = tm_find(man, nman, rel);
		cr_assert_not_null(me, "%s", rel);
		struct cs_verify_result r;
		verify_rel(rel, &r);
		cr_assert_eq(r.nslices, me->nslices);
		for (unsigned i = 0; i < r.nslices; i++) {
			const struct cs_verify_slice *vs = &r.slices[i];
			cr_assert(vs->valid, "%s %s: %s: %s", rel, vs->arch, cs_problem_text(vs->verdict),
				  first_failure(vs));
			cr_assert_str_eq(vs->arch, me->s[i].arch, "%s: slice %u", rel, i);
			cr_assert_eq(vs->kind, expected_kind(&me->s[i]), "%s %s: kind %s", rel, vs->arch,
				     cs_verify_kind_name(vs->kind));
			check_against_manifest(rel, &me->s[i], vs);
			slices++;
		}
		cr_assert(r.valid);
		cs_verify_result_release(&r);
		files++;
	}
	cr_assert_eq(files, 20);
	cr_assert_eq(slices, 30);
}

/* Every odd/ and unsigned/ file is invalid, for the reason it was put there; never a crash. */
Test(verify_corpus, odd_and_unsigned_files_fail_with_the_right_reason, .init = load_manifest, .fini = free_manifest,
     .timeout = 60)
{
	static const struct {
		const char *rel;
		enum cs_problem verdict;
		enum cs_verify_kind kind;
		const char *detail; /* in the first finding */
		uint32_t bad[4];
		unsigned nbad;
	} rows[] = {
		{ "odd/TestMacOS-arm64e-modified-after-signing", CS_PROB_MODIFIED, CS_VK_APPLE_DEVELOPMENT,
		  "code pages 0, 12, 13 of the arm64e slice do not match", { 0, 12, 13 }, 3 },
		{ "odd/r2_hang_test-adhoc-page2-mismatch", CS_PROB_MODIFIED, CS_VK_ADHOC,
		  "code page 2 of the x86_64 slice does not match", { 2 }, 1 },
		{ "odd/TestMethods-empty-codesig", CS_PROB_FORMAT, CS_VK_UNREADABLE, "LC_CODE_SIGNATURE datasize is 0",
		  { 0 }, 0 },
		{ "odd/ls-ios-cd20001", CS_PROB_UNSIGNED, CS_VK_NO_SIGNER, "neither ad-hoc nor backed by a CMS signature",
		  { 0 }, 0 },
		{ "unsigned/hello-osx-x86_64", CS_PROB_UNSIGNED, CS_VK_UNSIGNED, "no LC_CODE_SIGNATURE", { 0 }, 0 },
		{ "unsigned/hello-osx-i386", CS_PROB_UNSIGNED, CS_VK_UNSIGNED, "no LC_CODE_SIGNATURE", { 0 }, 0 },
		{ "unsigned/fat-intel", CS_PROB_UNSIGNED, CS_VK_UNSIGNED, "no LC_CODE_SIGNATURE", { 0 }, 0 },
		{ "unsigned/ppc-ls", CS_PROB_UNSIGNED, CS_VK_UNSIGNED, "no LC_CODE_SIGNATURE", { 0 }, 0 },
		{ "unsigned/hello-mte-arm64e", CS_PROB_UNSIGNED, CS_VK_UNSIGNED, "no LC_CODE_SIGNATURE", { 0 }, 0 },
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		struct cs_verify_result r;
		verify_rel(rows[k].rel, &r);
		cr_assert(!r.valid, "%s", rows[k].rel);
		const struct tm_entry *me = tm_find(man, nman, rows[k].rel);
		cr_assert_not_null(me);
		for (unsigned i = 0; i < r.nslices; i++) {
			const struct cs_verify_slice *vs = &r.slices[i];
			cr_assert(!vs->valid);
			cr_assert_eq(vs->verdict, rows[k].verdict, "%s: %s", rows[k].rel, cs_problem_text(vs->verdict));
			cr_assert_eq(vs->kind, rows[k].kind, "%s: %s", rows[k].rel, cs_verify_kind_name(vs->kind));
			cr_assert(strstr(first_failure(vs), rows[k].detail), "%s: %s", rows[k].rel, first_failure(vs));
			if (me->s[i].ncd)
				check_against_manifest(rows[k].rel, &me->s[i], vs);
			if (rows[k].nbad) {
				cr_assert_eq(vs->cds[0].pages_bad, rows[k].nbad);
				cr_assert_eq(memcmp(vs->cds[0].bad, rows[k].bad, rows[k].nbad * sizeof(uint32_t)), 0);
			}
		}
		cs_verify_result_release(&r);
	}
}

/* The slice's CMS payload, found with a plain index walk over tc_load's signature bytes. */
static const uint8_t *cms_of(const struct tc_slice *s, size_t *len)
{
	const uint8_t *p = s->sig;
	uint32_t count = ut_be32(p + 8);
	for (uint32_t i = 0; i < count; i++) {
		if (ut_be32(p + 12 + 8 * i) != 0x10000)
			continue;
		const uint8_t *b = p + ut_be32(p + 16 + 8 * i);
		*len = ut_be32(b + 4) - 8;
		return *len ? b + 8 : NULL;
	}
	return NULL;
}

/* 100.9.1 (<data> list, truncated) and 100.9.2 (full, hex) equal the verifier's cdhashes, sorted by type. */
static void compare_attrs(const char *rel, const struct cs_verify_slice *vs, const uint8_t *cms, size_t cms_len,
			  const char *dir, int *v1, int *v2)
{
	struct cs_cdhash want[CS_EMB_MAX_CD];
	unsigned n = 0;
	for (unsigned t = 1; t <= 4; t++)
		for (unsigned i = 0; i < vs->ncd; i++)
			if (vs->cds[i].hash_type == t)
				want[n++] = vs->cds[i].cdhash;
	char what[600];
	snprintf(what, sizeof(what), "%s %s", rel, vs->arch);
	tc_check_cdhash_attrs(what, cms, cms_len, want, n, dir, v1, v2, NULL, NULL);
}

Test(verify_corpus, computed_cdhashes_equal_the_cms_attributes, .init = load_manifest, .fini = free_manifest,
     .timeout = 180)
{
	char *dir = ts_tmpdir();
	int v1 = 0, v2 = 0, want1 = 0, want2 = 0;
	for (const char *const *fv = tc_signed(); *fv; fv++) {
		const char *rel = *fv;
		const struct tm_entry *me = tm_find(man, nman, rel);
		struct cs_verify_result r;
		verify_rel(rel, &r);
		struct tc_file tf;
		tc_load(rel, &tf);
		cr_assert_eq(tf.nslices, r.nslices, "%s", rel);
		for (unsigned i = 0; i < r.nslices; i++) {
			size_t len = 0;
			const uint8_t *cms = cms_of(&tf.s[i], &len);
			want1 += strstr(me->s[i].cms_attrs, "cdhashes-plist") != NULL;
			want2 += strstr(me->s[i].cms_attrs, "cdhashes2") != NULL;
			if (cms)
				compare_attrs(rel, &r.slices[i], cms, len, dir, &v1, &v2);
		}
		tc_release(&tf);
		cs_verify_result_release(&r);
	}
	cr_assert_eq(v1, want1, "100.9.1 in %d slices, manifest %d", v1, want1);
	cr_assert_eq(v2, want2, "100.9.2 in %d slices, manifest %d", v2, want2);
	cr_assert_geq(v1, 15);
	cr_assert_geq(v2, 13);
	ts_rmtree(dir);
	free(dir);
}

/* Bundle executables with their bundle's Info.plist and CodeResources: slots -1 and -3 check out. */
Test(verify_corpus, bundle_info_plist_and_resources_slots_match, .timeout = 60)
{
	static const struct {
		const char *exe, *info, *res;
	} b[] = {
		{ "bundles/sparkle1-deadpikle/Sparkle.framework/Versions/A/Sparkle",
		  "bundles/sparkle1-deadpikle/Sparkle.framework/Versions/A/Resources/Info.plist",
		  "bundles/sparkle1-deadpikle/Sparkle.framework/Versions/A/_CodeSignature/CodeResources" },
		{ "bundles/sparkle1-deadpikle/Sparkle.framework/Versions/A/Resources/Autoupdate.app/Contents/MacOS/Autoupdate",
		  "bundles/sparkle1-deadpikle/Sparkle.framework/Versions/A/Resources/Autoupdate.app/Contents/Info.plist",
		  "bundles/sparkle1-deadpikle/Sparkle.framework/Versions/A/Resources/Autoupdate.app/Contents/_CodeSignature/CodeResources" },
		{ "bundles/growl-selfsigned-hackerspace/Growl.framework/Versions/A/Growl",
		  "bundles/growl-selfsigned-hackerspace/Growl.framework/Versions/A/Resources/Info.plist",
		  "bundles/growl-selfsigned-hackerspace/Growl.framework/Versions/A/_CodeSignature/CodeResources" },
		{ "bundles/terminal-notifier-2014/terminal-notifier.app/Contents/MacOS/terminal-notifier",
		  "bundles/terminal-notifier-2014/terminal-notifier.app/Contents/Info.plist",
		  "bundles/terminal-notifier-2014/terminal-notifier.app/Contents/_CodeSignature/CodeResources" },
		{ "bundles/signapple-universal-signed/signapple-test.app/Contents/MacOS/signapple-test",
		  "bundles/signapple-universal-signed/signapple-test.app/Contents/Info.plist",
		  "bundles/signapple-universal-signed/signapple-test.app/Contents/_CodeSignature/CodeResources" },
	};
	size_t nb = sizeof(b) / sizeof(b[0]);
	for (size_t k = 0; k < nb; k++) {
		size_t il, rl;
		uint8_t *info = tc_read_file(ts_corpus(b[k].info), &il);
		uint8_t *res = tc_read_file(ts_corpus(b[k].res), &rl);
		struct cs_verify_opts o = { 0 };
		o.info_plist = ut_span_make(info, il);
		o.resources = ut_span_make(res, rl);
		struct cs_verify_result r;
		verify_path(ts_corpus(b[k].exe), &r, &o);
		cr_assert(r.valid, "%s", b[k].exe);
		for (unsigned i = 0; i < r.nslices; i++)
			for (unsigned c = 0; c < r.slices[i].ncd; c++) {
				cr_assert_eq(r.slices[i].cds[c].special_ok & 0xa, 0xau, "%s", b[k].exe);
				cr_assert_eq(r.slices[i].cds[c].special_unchecked, 0u);
			}
		cs_verify_result_release(&r);
		/* Another bundle's Info.plist and CodeResources do not fit. */
		size_t oil, orl;
		uint8_t *oinfo = tc_read_file(ts_corpus(b[(k + 1) % nb].info), &oil);
		uint8_t *ores = tc_read_file(ts_corpus(b[(k + 1) % nb].res), &orl);
		o.info_plist = ut_span_make(oinfo, oil);
		verify_path(ts_corpus(b[k].exe), &r, &o);
		cr_assert(!r.valid);
		cr_assert_eq(r.slices[0].verdict, CS_PROB_INFO_PLIST, "%s", cs_problem_text(r.slices[0].verdict));
		cr_assert(strstr(first_failure(&r.slices[0]), "Info.plist does not match slot -1"));
		cs_verify_result_release(&r);
		o.info_plist = ut_span_make(info, il);
		o.resources = ut_span_make(ores, orl);
		verify_path(ts_corpus(b[k].exe), &r, &o);
		cr_assert_eq(r.slices[0].verdict, CS_PROB_RESOURCES);
		cs_verify_result_release(&r);
		free(info);
		free(res);
		free(oinfo);
		free(ores);
	}
}
