/* test_reader.c - the reader on fixtures, on the real corpus, and against LIEF and llvm-otool-14. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "mo_format.h"
#include "oracle.h"
#include "tsupport.h"
#include "tsupport_manifest.h"
#include "ut_err.h"

const char *const oracle_fixtures[] = {
	"arm64-exe", "x86_64-exe", "arm64-dylib", "x86_64-dylib", "arm64-bundle", "arm64-deps", "x86_64-deps",
	"arm64-lazy", "arm64-tight", "x86_64-tight", "arm64-roomy", "fat-dylib", "fat-exe", "fat-deps",
	"qemu-arm64.dylib", "qemu-x86_64.dylib", "qemu-fat.dylib", NULL,
};

/* The hand-kept list corpus_macho() replaced named 29 files; fewer means MANIFEST.tsv was not read right. */
#define MIN_CORPUS_MACHO 29

/* Every Mach-O file of the corpus, as its MANIFEST.tsv lists them (NULL-terminated). */
const char *const *corpus_macho(void)
{
	return tsm_paths_min(TSM_MACHO, MIN_CORPUS_MACHO, "Mach-O files");
}

static struct mo_file *parse(const char *path, struct ut_src *src)
{
	struct mo_file *f = NULL;
	cr_assert_eq(ut_src_open(src, path), 0, "%s: %s", path, ut_errmsg());
	cr_assert_eq(mo_file_parse(src, &f), 0, "%s: %s", path, ut_errmsg());
	return f;
}

Test(mo_reader, every_corpus_file_parses)
{
	for (const char *const *rel = corpus_macho(); *rel; rel++) {
		struct ut_src src;
		struct mo_file *f = parse(ts_corpus(*rel), &src);
		cr_assert_gt(f->nslices, 0);
		mo_file_free(f);
		ut_src_release(&src);
	}
}

/* Which corpus slices are 32-bit or big-endian (from MANIFEST.tsv): reported, not fatal. */
Test(mo_reader, unsupported_slices_reported_not_fatal)
{
	static const struct {
		const char *file;
		const char *arch;
		const char *reason_word;
	} cases[] = {
		{ "unsigned/hello-osx-i386", "i386", "32-bit" },
		{ "unsigned/ppc-ls", "ppc", "big-endian" },
		{ "unsigned/fat-intel", "i386", "32-bit" },
		{ "apple/fatmach0-3true", "i386", "32-bit" },
		{ "apple/fatmach0-3true", "ppc", "big-endian" },
		{ "devid/libexpat.1.dylib", "i386", "32-bit" },
		{ "bundles/growl-selfsigned-hackerspace/Growl.framework/Versions/A/Growl", "i386", "32-bit" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ut_src src;
		struct mo_file *f = parse(ts_corpus(cases[i].file), &src);
		const struct mo_slice *s = mo_file_find_arch(f, cases[i].arch);
		cr_assert_not_null(s, "%s: no %s slice", cases[i].file, cases[i].arch);
		cr_assert_eq(s->kind, MO_SLICE_UNSUPPORTED);
		cr_assert_not_null(strstr(s->reason, cases[i].reason_word), "%s", s->reason);
		for (uint32_t k = 0; k < f->nslices; k++)
			if (f->slices[k].kind == MO_SLICE_MACHO64)
				cr_assert_not_null(f->slices[k].img);
		mo_file_free(f);
		ut_src_release(&src);
	}
}

/* Facts from the corpus MANIFEST: arch lists and install names seen by Apple's tools. */
Test(mo_reader, corpus_facts_match_manifest)
{
	struct ut_src src;
	struct mo_file *f = parse(ts_corpus("apple/ls-sequoia"), &src);
	cr_assert_eq(f->fat, FAT_MAGIC);
	cr_assert_eq(f->nslices, 2);
	char a[32];
	cr_assert_str_eq(mo_arch_name(f->slices[0].cputype, f->slices[0].cpusubtype, a), "x86_64");
	cr_assert_str_eq(mo_arch_name(f->slices[1].cputype, f->slices[1].cpusubtype, a), "arm64e");
	cr_assert(f->slices[1].img->has_chained_fixups);
	cr_assert(f->slices[0].img->has_dyld_info);
	cr_assert(f->slices[0].img->has_codesig);
	mo_file_free(f);
	ut_src_release(&src);

	f = parse(ts_corpus("devid/libexpat.1.dylib"), &src);
	const struct mo_slice *x = mo_file_find_arch(f, "x86_64");
	cr_assert_not_null(x);
	cr_assert(x->img->has_id);
	cr_assert_not_null(strstr(x->img->id.name, "libexpat.1.dylib"), "%s", x->img->id.name);
	mo_file_free(f);
	ut_src_release(&src);

	f = parse(ts_corpus("odd/TestMethods-empty-codesig"), &src);
	cr_assert(f->slices[0].img->has_codesig);
	cr_assert_eq(f->slices[0].img->codesig.size, 0);
	cr_assert_eq(f->slices[0].img->codesig.off, f->slices[0].size);
	mo_file_free(f);
	ut_src_release(&src);
}

Test(mo_reader, corpus_agrees_with_lief)
{
	/* LIEF 0.9 mis-reads big-endian slices; only 64-bit little-endian slices are compared. */
	for (const char *const *rel = corpus_macho(); *rel; rel++)
		oracle_compare_lief(ts_corpus(*rel));
}

Test(mo_reader, corpus_agrees_with_otool)
{
	for (const char *const *rel = corpus_macho(); *rel; rel++)
		oracle_compare_otool(ts_corpus(*rel));
}

Test(mo_reader, fixtures_agree_with_lief_and_otool)
{
	for (int i = 0; oracle_fixtures[i]; i++) {
		const char *p = ts_fixture(oracle_fixtures[i]);
		cr_assert(ts_exists(p), "fixture %s missing (make fixtures)", p);
		oracle_compare_lief(p);
		oracle_compare_otool(p);
	}
}

Test(mo_reader, fixture_shapes)
{
	struct ut_src src;
	struct mo_file *f = parse(ts_fixture("fat-dylib"), &src);
	cr_assert_eq(f->nslices, 2);
	cr_assert_not_null(mo_file_find_arch(f, "arm64"));
	cr_assert_not_null(mo_file_find_arch(f, "x86_64"));
	const struct mo_image *img = mo_file_find_arch(f, "arm64")->img;
	cr_assert(img->has_id);
	cr_assert_str_eq(img->id.name, "/Users/x/UTM/sysroot-macOS-arm64/lib/libfoo.1.dylib");
	mo_file_free(f);
	ut_src_release(&src);

	f = parse(ts_fixture("arm64-exe"), &src);
	img = f->slices[0].img;
	cr_assert_eq(img->filetype, MH_EXECUTE);
	cr_assert_eq(img->nrpaths, 2);
	cr_assert_str_eq(img->rpaths[0].path, "@executable_path/../Frameworks");
	cr_assert(img->has_codesig);
	mo_file_free(f);
	ut_src_release(&src);
}
