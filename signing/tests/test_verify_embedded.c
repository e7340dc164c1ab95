/*
 * test_verify_embedded.c - cs_embedded on every signed corpus file: what it
 * loads (CodeDirectories in slot order, hash types, versions, flags,
 * identifiers, team IDs, runtime versions, slots, CMS size) equals what
 * MANIFEST.tsv recorded for each slice (another tool's reading of Apple's files).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_embedded.h"
#include "cs_hash.h"
#include "tcorpus.h"
#include "tmanifest.h"
#include "tsupport.h"
#include "ut_err.h"
#include "ut_file.h"

static struct tm_entry *man;
static size_t nman;

static void load_manifest(void)
{
	cr_assert_eq(tm_load(ts_corpus("MANIFEST.tsv"), &man, &nman), 0, "cannot read MANIFEST.tsv");
	cr_assert_gt(nman, 20);
}

static void free_manifest(void) { free(man); }

static const char *slot_word(uint32_t t)
{
	switch (t) {
	case 0: return "CD";
	case 2: return "req";
	case 5: return "ent";
	case 7: return "entDER";
	case 0x10000: return "CMS";
	}
	if (t >= 0x1000 && t < 0x1005) {
		static char alt[5][8];
		snprintf(alt[t - 0x1000], 8, "altCD%u", t - 0x1000);
		return alt[t - 0x1000];
	}
	return "?";
}

static void flags_word(uint32_t f, char *out, size_t n)
{
	out[0] = '\0';
	if (f & 0x2)
		snprintf(out + strlen(out), n - strlen(out), "adhoc");
	if (f & 0x20000)
		snprintf(out + strlen(out), n - strlen(out), "%slinker-signed", out[0] ? "+" : "");
	if (f & 0x10000)
		snprintf(out + strlen(out), n - strlen(out), "%sruntime", out[0] ? "+" : "");
	if (!out[0])
		snprintf(out, n, "none");
}

static void check_slice(const char *rel, unsigned si, const struct tm_slice *m, const struct cs_embedded *e)
{
	char words[256] = "", buf[64];
	cr_assert_eq(e->ncd, strlen(m->hashes) ? 1 + (unsigned)(strchr(m->hashes, '/') != NULL) : 0,
		     "%s slice %u: %u CDs, manifest says %s", rel, si, e->ncd, m->hashes);
	for (unsigned i = 0; i < e->ncd; i++) {
		snprintf(words + strlen(words), sizeof(words) - strlen(words), "%s%s", i ? "/" : "",
			 cs_hash_name(e->cds[i].cd.hash_type));
		cr_assert_eq(e->cds[i].slot, i ? 0x1000 + i - 1 : 0);
	}
	cr_assert_str_eq(words, m->hashes, "%s slice %u: hash types", rel, si);
	const struct cs_cd *cd = &cs_embedded_primary(e)->cd;
	cr_assert_eq(cd->version, m->cd_version, "%s slice %u: version 0x%x vs 0x%x", rel, si, cd->version,
		     m->cd_version);
	flags_word(cd->flags, buf, sizeof(buf));
	cr_assert_str_eq(buf, m->flags, "%s slice %u: flags", rel, si);
	cr_assert_str_eq(cd->identifier, m->id, "%s slice %u: identifier", rel, si);
	cr_assert_str_eq(cd->team_id ? cd->team_id : "", m->team, "%s slice %u: team", rel, si);
	cr_assert_eq(cd->runtime, m->has_rt ? m->rt : 0, "%s slice %u: runtime", rel, si);
	words[0] = '\0';
	for (uint32_t i = 0; i < e->sb.count; i++)
		snprintf(words + strlen(words), sizeof(words) - strlen(words), "%s%s", i ? "," : "",
			 slot_word(e->sb.entries[i].type));
	cr_assert_str_eq(words, m->slots, "%s slice %u: slots", rel, si);
	cr_assert_eq(e->has_cms ? (long)e->cms.len : -1L, m->cms, "%s slice %u: CMS size", rel, si);
	cr_assert_eq(e->requirements.p != NULL, strstr(m->slots, "req") != NULL);
	cr_assert_eq(e->entitlements.p != NULL, strstr(m->slots, "ent") != NULL && strstr(m->slots, "ent,") != NULL);
	cr_assert_eq(e->der_entitlements.p != NULL, strstr(m->slots, "entDER") != NULL);
	/* best = highest rank; by_type sorted; cdhashes sorted by type */
	struct cs_cdhash h[CS_EMB_MAX_CD];
	size_t nh = cs_embedded_cdhashes(e, h);
	cr_assert_eq(nh, e->ncd);
	for (size_t i = 1; i < nh; i++)
		cr_assert_lt(h[i - 1].hash_type, h[i].hash_type);
	for (unsigned i = 0; i < e->ncd; i++)
		cr_assert_leq(cs_hash_rank(e->cds[i].cd.hash_type), cs_hash_rank(cs_embedded_best(e)->cd.hash_type));
}

Test(verify_embedded, corpus_signatures_match_manifest, .init = load_manifest, .fini = free_manifest,
     .timeout = 120)
{
	unsigned nslices = 0;
	for (const char *const *fv = tc_signed(); *fv; fv++) {
		const char *rel = *fv;
		const struct tm_entry *me = tm_find(man, nman, rel);
		cr_assert_not_null(me, "%s not in MANIFEST", rel);
		struct ut_src src;
		struct mo_file *f = NULL;
		cr_assert_eq(mo_file_open(ts_corpus(rel), &src, &f), 0, "%s: %s", rel, ut_errmsg());
		cr_assert_eq(f->nslices, me->nslices, "%s: slice count", rel);
		for (uint32_t i = 0; i < f->nslices; i++) {
			struct cs_slice_layout lay;
			struct cs_embedded e;
			cr_assert_eq(cs_slice_layout_read(&lay, f, &f->slices[i]), 0, "%s: %s", rel, ut_errmsg());
			cr_assert(lay.has_codesig, "%s slice %u: no LC_CODE_SIGNATURE", rel, i);
			cr_assert(lay.has_linkedit, "%s slice %u: no __LINKEDIT", rel, i);
			int rc = cs_embedded_load(&e, f, &f->slices[i], &lay);
			cr_assert_eq(rc, 0, "%s slice %u: %s", rel, i, ut_errmsg());
			check_slice(rel, i, &me->s[i], &e);
			cs_embedded_release(&e);
			nslices++;
		}
		mo_file_close(&src, f);
	}
	cr_assert_eq(nslices, 33, "%u slices", nslices);
}

Test(verify_embedded, empty_codesig_and_unsigned_are_reported)
{
	struct {
		const char *rel;
		int code;
		const char *msg;
	} rows[] = {
		{ "odd/TestMethods-empty-codesig", UT_EMALFORMED, "datasize is 0" },
		{ "unsigned/hello-osx-x86_64", UT_ENOTFOUND, "not signed at all" },
		{ "unsigned/hello-osx-i386", UT_ENOTFOUND, "not signed at all" },
		{ "unsigned/ppc-ls", UT_ENOTFOUND, "not signed at all" },
	};
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ut_src src;
		struct mo_file *f = NULL;
		cr_assert_eq(mo_file_open(ts_corpus(rows[r].rel), &src, &f), 0, "%s", ut_errmsg());
		struct cs_slice_layout lay;
		struct cs_embedded e;
		cr_assert_eq(cs_slice_layout_read(&lay, f, &f->slices[0]), 0, "%s", ut_errmsg());
		cr_assert_eq(cs_embedded_load(&e, f, &f->slices[0], &lay), rows[r].code, "%s", rows[r].rel);
		cr_assert(strstr(ut_errmsg(), rows[r].msg), "%s: %s", rows[r].rel, ut_errmsg());
		mo_file_close(&src, f);
	}
}
