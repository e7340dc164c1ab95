/*
 * test_fixtures_valid.c - the test inputs themselves: the malformed files are
 * exactly what make-malformed.py writes, the recipes are deterministic, and
 * every valid-but-special file (testdata/malformed/VALID.tsv) parses, with the
 * shapes the generator built them with (the expected numbers are the
 * generator's layout, cross-checked with llvm-objdump-14 --private-headers,
 * and the raw fat_arch bytes read here; none come from the reader).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "mo_format.h"
#include "tsupport.h"
#include "ut_err.h"

static const char *malformed(const char *name)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "testdata/malformed/%s", name);
	return ts_root(rel);
}

static struct mo_file *parse_ok(const char *path, struct ut_src *src)
{
	cr_assert_eq(ut_src_open(src, path), 0, "%s: %s", path, ut_errmsg());
	struct mo_file *f = NULL;
	int rc = mo_file_parse(src, &f);
	cr_assert_eq(rc, 0, "%s: parse failed: %s", path, ut_errmsg());
	cr_assert_not_null(f);
	return f;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

Test(fixtures, malformed_files_match_their_generator, .timeout = 60)
{
	char cmd[1024];
	char *err = NULL;
	snprintf(cmd, sizeof(cmd), "python3 '%s' --check", ts_root("testdata/malformed/make-malformed.py"));
	int rc = ts_sh(cmd, NULL, &err);
	cr_assert_eq(rc, 0, "make-malformed.py --check: %s", err ? err : "");
	free(err);
}

struct names {
	char name[32][128];
	int n;
};

static void collect(char **f, int nf, void *ctx)
{
	struct names *ns = ctx;
	if (nf < 2 || ns->n >= 32 || strcmp(f[0], "file") == 0)
		return;
	snprintf(ns->name[ns->n++], sizeof(ns->name[0]), "%s", f[0]);
}

Test(fixtures, every_valid_file_parses)
{
	struct names ns = { .n = 0 };
	cr_assert_eq(ts_tsv(ts_root("testdata/malformed/VALID.tsv"), collect, &ns), 0);
	cr_assert_geq(ns.n, 5, "VALID.tsv lists %d files", ns.n);
	for (int i = 0; i < ns.n; i++) {
		struct ut_src src;
		struct mo_file *f = parse_ok(malformed(ns.name[i]), &src);
		mo_file_free(f);
		ut_src_release(&src);
	}
}

Test(fixtures, valid_base_shape)
{
	struct ut_src src;
	struct mo_file *f = parse_ok(malformed("valid-base"), &src);
	cr_assert_eq(f->fat, 0);
	cr_assert_eq(f->nslices, 1);
	const struct mo_image *img = f->slices[0].img;
	cr_assert_not_null(img);
	cr_assert_eq(img->cputype, CPU_TYPE_ARM64);
	cr_assert_eq(img->filetype, MH_DYLIB);
	cr_assert_eq(img->ncmds, 12);
	cr_assert_eq(img->sizeofcmds, 632);
	cr_assert(img->has_id);
	cr_assert_str_eq(img->id.name, "/Users/x/UTM/sysroot-macOS-arm64/lib/libvalid.dylib");
	cr_assert_eq(img->ndeps, 1);
	cr_assert_str_eq(img->deps[0].name, "/usr/lib/libSystem.B.dylib");
	cr_assert_eq(img->deps[0].lc_index, 8);
	cr_assert_eq(img->nrpaths, 1);
	cr_assert_str_eq(img->rpaths[0].path, "@loader_path/../lib");
	cr_assert(img->has_codesig);
	cr_assert_eq(img->codesig_lc, 11);
	cr_assert_eq(img->codesig.off, 816);
	cr_assert_eq(img->codesig.size, 160);
	cr_assert_eq(img->cmds_end, 664);
	cr_assert_eq(img->pad_limit, 736, "first section data at 736, got %llu",
		     (unsigned long long)img->pad_limit);
	cr_assert(img->has_symtab);
	cr_assert_eq(img->nsyms, 1);
	mo_file_free(f);
	ut_src_release(&src);
}

Test(fixtures, fat64_has_both_slices)
{
	struct ut_src src;
	struct mo_file *f = parse_ok(malformed("valid-fat64"), &src);
	cr_assert_eq(f->fat, FAT_MAGIC_64);
	cr_assert_eq(f->nslices, 2);
	cr_assert_eq(f->slices[0].cputype, CPU_TYPE_X86_64);
	cr_assert_eq(f->slices[1].cputype, CPU_TYPE_ARM64);
	cr_assert_eq(f->slices[1].offset, 16384);
	cr_assert_not(f->hidden_arm64);
	mo_file_free(f);
	ut_src_release(&src);
}

/* The hidden entry's numbers come straight from the file's bytes (fat_arch[1]). */
Test(fixtures, hidden_arm64_is_reported)
{
	size_t len = 0;
	uint8_t *raw = ts_read(malformed("fat-hidden-arm64"), &len);
	cr_assert_not_null(raw);
	cr_assert_geq(len, 48);
	cr_assert_eq(be32(raw + 4), 1, "nfat_arch");
	cr_assert_eq(be32(raw + 28), CPU_TYPE_ARM64);
	uint32_t off = be32(raw + 36), size = be32(raw + 40);
	free(raw);

	struct ut_src src;
	struct mo_file *f = parse_ok(malformed("fat-hidden-arm64"), &src);
	cr_assert_eq(f->nslices, 1);
	cr_assert_eq(f->slices[0].cputype, CPU_TYPE_X86_64);
	cr_assert(f->hidden_arm64, "hidden arm64 entry not detected");
	cr_assert_eq(f->hidden_offset, off);
	cr_assert_eq(f->hidden_size, size);
	mo_file_free(f);
	ut_src_release(&src);
}

/*
 * build-fixtures.sh once more into a fresh directory: every file byte-identical
 * to the fixtures the suite runs on (the same script built them, into another
 * directory, before the tests started).
 */
Test(fixtures, recipes_are_deterministic, .timeout = 300)
{
	char *a = ts_tmpdir();
	const char *b = ts_fixture("");
	char cmd[2048];
	const char *script = ts_root("testdata/recipes/build-fixtures.sh");
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s'", script, a);
	char *err = NULL;
	cr_assert_eq(ts_sh(cmd, NULL, &err), 0, "build-fixtures.sh: %s", err ? err : "");
	free(err);
	char *list = NULL;
	snprintf(cmd, sizeof(cmd), "cd '%s' && find . -type f | LC_ALL=C sort", a);
	cr_assert_eq(ts_sh(cmd, &list, NULL), 0);
	int n = 0;
	for (char *line = list, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		cr_assert_not_null(nl);
		*nl = '\0';
		char *pa = ts_path(a, line), *pb = ts_path(b, line);
		cr_assert(ts_same_file(pa, pb), "%s differs between two builds", line);
		free(pa);
		free(pb);
		n++;
	}
	cr_assert_geq(n, 50, "only %d fixture files built", n);
	free(list);
	ts_rmtree(a);
	free(a);
}
