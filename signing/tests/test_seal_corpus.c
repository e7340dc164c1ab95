/*
 * test_seal_corpus.c - the seal against Apple's own CodeResources files.
 *
 *  (a) every corpus CodeResources parses; scanning the (symlink-restored)
 *      corpus bundle with the rules recorded in it gives Apple's files and
 *      files2 (dictionaries compared with libplist), nested entries included
 *      (Autoupdate.app's MacOS/fileop: cdhash and requirement string);
 *  (b) Apple's CodeResources bytes hash to special slot -3 and the Info.plist
 *      bytes to slot -1 of every CodeDirectory of every slice of the main
 *      executable (digests computed with OpenSSL EVP here, CDs read with cs_cd);
 *  (d) the XML we write is byte-identical to Apple's file.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_blob.h"
#include "cs_cd.h"
#include "cs_seal.h"
#include "tcorpus.h"
#include "test_bundle_util.h"
#include "tsupport.h"
#include "ut_err.h"

struct seal_case {
	const char *bundle;     /* corpus bundle copied */
	const char *inner;      /* bundle inside the copy ("" = itself) */
	unsigned types[2], ntypes;
	int v1_only;
	size_t nfiles, nfiles2; /* entry counts in Apple's file */
};

static const struct seal_case cases[] = {
	{ TB_SPARKLE, "", { 1, 2 }, 2, 0, 170, 189 },
	{ TB_SPARKLE, TB_AUTOUPDATE, { 1, 2 }, 2, 0, 34, 35 },
	{ TB_SIGNAPPLE, "", { 2 }, 1, 0, 0, 0 },
	{ TB_GROWL, "", { 1 }, 1, 1, 1, 0 },
	{ TB_NOTIFIER, "", { 1 }, 1, 1, 4, 0 },
};

static struct cs_bundle *open_case(const struct seal_case *c, char **copy)
{
	*copy = tb_copy_corpus(c->bundle);
	char *path = c->inner[0] ? tb_join(*copy, c->inner) : strdup(*copy);
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(path, &b), 0, "%s: %s", path, ut_errmsg());
	free(path);
	return b;
}

/* Scans with the rules recorded in Apple's seal, as codesign would on an Intel host. */
static void build_like_apple(const struct cs_bundle *b, const struct seal_case *c, const struct cs_seal *apple,
			     struct cs_seal *out)
{
	struct cs_seal_opts o = { .nhash = 0 };
	memcpy(o.hash_types, c->types, sizeof(c->types));
	o.nhash = c->ntypes;
	o.v1_only = c->v1_only;
	o.rules = &apple->rules;
	o.rules2 = apple->has_rules2 ? &apple->rules2 : NULL;
	o.host_arch = "x86_64";
	cr_assert_eq(cs_seal_build_bundle(out, b, &o), 0, "%s", ut_errmsg());
}

Test(seal_corpus, every_codeResources_parses)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rel[512];
		snprintf(rel, sizeof(rel), "%s%s%s/%s", cases[i].bundle, cases[i].inner[0] ? "/" : "", cases[i].inner,
			 strstr(cases[i].bundle, ".framework") && !cases[i].inner[0] ? "Versions/A/_CodeSignature/CodeResources"
										  : "Contents/_CodeSignature/CodeResources");
		struct cs_seal s;
		cr_assert_eq(cs_seal_read_file(&s, ts_corpus(rel)), 0, "%s: %s", rel, ut_errmsg());
		cr_expect_eq(s.files.n, cases[i].nfiles, "%s files", rel);
		cr_expect_eq(s.files2.n, cases[i].nfiles2, "%s files2", rel);
		cr_expect_eq(s.has_files2, !cases[i].v1_only);
		cr_expect_eq(cs_seal_version(&s), cases[i].v1_only ? 1 : 2);
		cr_expect(s.has_files && s.has_rules);
		cs_seal_release(&s);
	}
}

Test(seal_corpus, scan_equals_apple_files_and_files2)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct seal_case *c = &cases[i];
		char *copy;
		struct cs_bundle *b = open_case(c, &copy);
		struct cs_seal apple, mine;
		cr_assert_eq(cs_seal_read_file(&apple, b->seal_path), 0, "%s", ut_errmsg());
		build_like_apple(b, c, &apple, &mine);
		plist_t ours = NULL;
		cr_assert_eq(cs_seal_to_plist(&mine, &ours), 0);
		plist_t theirs = tb_plist_file(b->seal_path);
		const char *tables[] = { "files", "files2" };
		for (int k = 0; k < 2; k++) {
			plist_t a = plist_dict_get_item(theirs, tables[k]), m = plist_dict_get_item(ours, tables[k]);
			cr_expect_eq(a == NULL, m == NULL, "%s%s: %s presence", c->bundle, c->inner, tables[k]);
			char why[512] = "";
			if (a && m)
				cr_expect(tb_plist_equal(m, a, why, sizeof(why)), "%s/%s %s: %s", c->bundle, c->inner,
					  tables[k], why);
		}
		plist_free(ours);
		plist_free(theirs);
		cs_seal_release(&mine);
		cs_seal_release(&apple);
		cs_bundle_free(b);
		tb_cleanup(copy);
	}
}

/* SHA-1 / SHA-256 of a CodeDirectory with OpenSSL, truncated to 20 bytes. */
static void cdhash20(const struct cs_cd *cd, uint8_t out[20])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_Digest(cd->blob, cd->length, md, &len, cd->hash_type == 1 ? EVP_sha1() : EVP_sha256(), NULL);
	memcpy(out, md, 20);
}

Test(seal_corpus, fileop_nested_entry_is_the_x86_64_sha256_cdhash_and_all_cdhashes)
{
	/* Apple's Autoupdate.app seal records MacOS/fileop by the cdhash of its x86_64 slice's best (SHA-256)
	 * CodeDirectory and the ad-hoc requirement over every CD: x86_64 SHA-1, SHA-256, arm64 SHA-1, SHA-256. */
	struct tc_file f;
	tc_load(TB_SPARKLE "/" TB_AUTOUPDATE "/Contents/MacOS/fileop", &f);
	char expect_req[1024] = "";
	uint8_t x86_best[20] = { 0 };
	for (unsigned i = 0; i < f.nslices; i++) {
		struct cs_superblob sb;
		cr_assert_eq(cs_superblob_parse(&sb, f.s[i].sig, f.s[i].sig_size, CSMAGIC_EMBEDDED_SIGNATURE), 0);
		for (unsigned k = 0; k < sb.count; k++) {
			if (!cs_slot_is_cd(sb.entries[k].type))
				continue;
			struct cs_cd cd;
			cr_assert_eq(cs_cd_parse(&cd, sb.entries[k].blob.p, sb.entries[k].blob.length), 0);
			uint8_t h[20];
			char hex[41];
			cdhash20(&cd, h);
			for (int j = 0; j < 20; j++)
				sprintf(hex + 2 * j, "%02x", h[j]);
			snprintf(expect_req + strlen(expect_req), sizeof(expect_req) - strlen(expect_req), "%scdhash H\"%s\"",
				 expect_req[0] ? " or " : "", hex);
			if (f.s[i].cputype == 0x01000007 && cd.hash_type == 2)
				memcpy(x86_best, h, 20);
		}
	}
	tc_release(&f);

	char *copy;
	struct cs_bundle *b = open_case(&cases[1], &copy);
	struct cs_seal apple, mine;
	cr_assert_eq(cs_seal_read_file(&apple, b->seal_path), 0);
	const struct cs_seal_entry *a = cs_seal_find(&apple.files2, "MacOS/fileop");
	cr_assert_not_null(a);
	cr_expect_eq(a->kind, CS_SEAL_NESTED);
	cr_expect_str_eq(a->requirement, expect_req);
	cr_expect_eq(memcmp(a->cdhash, x86_best, 20), 0);
	build_like_apple(b, &cases[1], &apple, &mine);
	const struct cs_seal_entry *m = cs_seal_find(&mine.files2, "MacOS/fileop");
	cr_assert_not_null(m);
	cr_expect_eq(m->kind, CS_SEAL_NESTED);
	cr_expect_str_eq(m->requirement, a->requirement);
	cr_expect_eq(memcmp(m->cdhash, a->cdhash, 20), 0);
	cs_seal_release(&mine);

	/* An Apple silicon host records the arm64 slice first. */
	struct cs_nested_info n;
	char *fileop = tb_join(b->base, "MacOS/fileop");
	cr_assert_eq(cs_nested_info_read(&n, fileop, 0, "arm64"), 0, "%s", ut_errmsg());
	cr_expect(n.adhoc);
	cr_expect_eq(n.ncdhashes, 4);
	cr_expect_eq(memcmp(n.cdhash, n.cdhashes[1], 20), 0, "best CD of the host slice");
	cr_expect(strncmp(n.requirement, "cdhash H\"1d7111839ed3e5be48ac5bfa7a0b97d1a78ba7b5\" or ", 54) == 0, "%s",
		  n.requirement);
	cs_nested_info_release(&n);
	free(fileop);
	cs_seal_release(&apple);
	cs_bundle_free(b);
	tb_cleanup(copy);
}

/* Digest of bytes with OpenSSL, by code-signing hash type. */
static void digest(unsigned type, const uint8_t *p, size_t n, uint8_t *out)
{
	unsigned len = 0;
	cr_assert(type == 1 || type == 2);
	EVP_Digest(p, n, out, &len, type == 1 ? EVP_sha1() : EVP_sha256(), NULL);
}

Test(seal_corpus, slot_minus3_and_minus1_bind_apple_files)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct seal_case *c = &cases[i];
		char *copy;
		struct cs_bundle *b = open_case(c, &copy);
		size_t nres, ninfo;
		uint8_t *res = ts_read(b->seal_path, &nres), *info = ts_read(b->info_path, &ninfo);
		cr_assert(res && info);
		struct tc_file f;
		tc_load_path(b->exec_path, &f);
		unsigned ncd = 0;
		for (unsigned s = 0; s < f.nslices; s++) {
			struct cs_superblob sb;
			cr_assert_eq(cs_superblob_parse(&sb, f.s[s].sig, f.s[s].sig_size, CSMAGIC_EMBEDDED_SIGNATURE), 0);
			for (unsigned k = 0; k < sb.count; k++) {
				if (!cs_slot_is_cd(sb.entries[k].type))
					continue;
				struct cs_cd cd;
				cr_assert_eq(cs_cd_parse(&cd, sb.entries[k].blob.p, sb.entries[k].blob.length), 0);
				uint8_t h[64];
				digest(cd.hash_type, res, nres, h);
				cr_assert_not_null(cs_cd_special_slot(&cd, 3), "%s: slot -3 absent", b->exec_path);
				cr_expect_eq(memcmp(cs_cd_special_slot(&cd, 3), h, cd.hash_size), 0, "%s slice %u CD %u: slot -3",
					     b->exec_path, s, k);
				digest(cd.hash_type, info, ninfo, h);
				cr_expect_eq(memcmp(cs_cd_special_slot(&cd, 1), h, cd.hash_size), 0, "%s slice %u CD %u: slot -1",
					     b->exec_path, s, k);
				ncd++;
			}
		}
		cr_expect_geq(ncd, 1);
		tc_release(&f);
		/* The library's check agrees: no findings. */
		struct cs_seal_report rep = { 0 };
		cr_assert_eq(cs_bundle_check_slots(b, "", &rep), 0, "%s", ut_errmsg());
		cr_expect_eq(rep.n, 0, "%s: %s %s", c->bundle, rep.n ? rep.v[0].path : "", rep.n ? rep.v[0].detail : "");
		cs_seal_report_release(&rep);
		free(res);
		free(info);
		cs_bundle_free(b);
		tb_cleanup(copy);
	}
}

Test(seal_corpus, written_xml_is_byte_identical_to_apple)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct seal_case *c = &cases[i];
		char *copy;
		struct cs_bundle *b = open_case(c, &copy);
		struct cs_seal apple, mine;
		cr_assert_eq(cs_seal_read_file(&apple, b->seal_path), 0);
		build_like_apple(b, c, &apple, &mine);
		uint8_t *x;
		size_t n, an;
		cr_assert_eq(cs_seal_serialize(&mine, &x, &n), 0);
		uint8_t *a = ts_read(b->seal_path, &an);
		size_t off = 0;
		while (off < n && off < an && x[off] == a[off])
			off++;
		cr_expect(n == an && off == n, "%s%s: %zu vs %zu bytes, first difference at %zu", c->bundle, c->inner, n,
			  an, off);
		/* Writing the parsed seal back (no scan) is byte-identical as well. */
		uint8_t *y;
		size_t yn;
		cr_assert_eq(cs_seal_serialize(&apple, &y, &yn), 0);
		cr_expect(yn == an && memcmp(y, a, an) == 0, "%s: re-serialized parse differs", c->bundle);
		free(y);
		free(a);
		free(x);
		cs_seal_release(&mine);
		cs_seal_release(&apple);
		cs_bundle_free(b);
		tb_cleanup(copy);
	}
}

Test(seal_corpus, default_rules_scan_equals_apple_for_v2_bundles)
{
	/* No recorded rules given: the defaults for the bundle's resources directory. */
	for (size_t i = 0; i < 3; i++) {
		const struct seal_case *c = &cases[i];
		char *copy;
		struct cs_bundle *b = open_case(c, &copy);
		struct cs_seal_opts o = { .nhash = c->ntypes, .host_arch = "x86_64" };
		memcpy(o.hash_types, c->types, sizeof(c->types));
		struct cs_seal mine;
		cr_assert_eq(cs_seal_build_bundle(&mine, b, &o), 0, "%s", ut_errmsg());
		uint8_t *x, *a;
		size_t n, an;
		cr_assert_eq(cs_seal_serialize(&mine, &x, &n), 0);
		a = ts_read(b->seal_path, &an);
		cr_expect(n == an && memcmp(x, a, n) == 0, "%s%s", c->bundle, c->inner);
		free(x);
		free(a);
		cs_seal_release(&mine);
		cs_bundle_free(b);
		tb_cleanup(copy);
	}
}

Test(seal_corpus, untouched_bundles_verify_clean)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct seal_case *c = &cases[i];
		char *copy;
		struct cs_bundle *b = open_case(c, &copy);
		struct cs_seal_report rep = { 0 };
		struct cs_seal_verify_opts o = { .deep = 1 };
		cr_assert_eq(cs_seal_verify_bundle(b, &o, "", &rep), 0, "%s", ut_errmsg());
		cr_expect_eq(rep.n, 0, "%s%s: %s: %s (%s)", c->bundle, c->inner, rep.n ? cs_seal_problem_text(rep.v[0].problem) : "",
			     rep.n ? rep.v[0].path : "", rep.n ? rep.v[0].detail : "");
		cs_seal_report_release(&rep);
		/* Strict: v1-only seals are a weak resource envelope, nothing else is reported. */
		o.strict = 1;
		cr_assert_eq(cs_seal_verify_bundle(b, &o, "", &rep), 0);
		if (c->v1_only) {
			cr_expect_eq(rep.n, 1);
			cr_expect_eq(rep.n ? rep.v[0].problem : 0, CS_SEAL_WEAK_ENVELOPE);
		} else {
			cr_expect_eq(rep.n, 0, "%s: %s %s", c->bundle, rep.n ? rep.v[0].path : "", rep.n ? rep.v[0].detail : "");
		}
		cs_seal_report_release(&rep);
		cs_bundle_free(b);
		tb_cleanup(copy);
	}
}
