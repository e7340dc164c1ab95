/*
 * test_malformed.c - every hand-made malformed file (testdata/malformed/CASES.tsv)
 * is rejected with one error naming where, by the library and by the CLI
 * (exit 3, one stderr line, input unchanged, no output file).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "mo_format.h"
#include "test_symbols_macho.h"
#include "tsupport.h"
#include "ut_bytes.h"
#include "ut_err.h"

struct row {
	char file[128];
	char defect[256];
	char where[64];
};

struct rows {
	struct row r[128];
	int n;
};

static void collect(char **f, int nf, void *ctx)
{
	struct rows *rs = ctx;
	if (nf < 3 || rs->n >= 128 || strcmp(f[0], "file") == 0)
		return;
	snprintf(rs->r[rs->n].file, sizeof(rs->r[0].file), "%s", f[0]);
	snprintf(rs->r[rs->n].defect, sizeof(rs->r[0].defect), "%s", f[1]);
	snprintf(rs->r[rs->n].where, sizeof(rs->r[0].where), "%s", f[2]);
	rs->n++;
}

static struct rows *load(void)
{
	static struct rows rs;
	rs.n = 0;
	cr_assert_eq(ts_tsv(ts_root("testdata/malformed/CASES.tsv"), collect, &rs), 0, "CASES.tsv missing");
	cr_assert_geq(rs.n, 30, "only %d malformed cases", rs.n);
	return &rs;
}

Test(mo_malformed, library_rejects_each_with_location)
{
	struct rows *rs = load();
	for (int i = 0; i < rs->n; i++) {
		const char *path = ts_root("testdata/malformed/") ;
		char full[512];
		snprintf(full, sizeof(full), "%s%s", path, rs->r[i].file);
		struct ut_src src;
		cr_assert_eq(ut_src_open(&src, full), 0, "%s: %s", full, ut_errmsg());
		struct mo_file *f = NULL;
		int rc = mo_file_parse(&src, &f);
		cr_assert(rc == UT_EMALFORMED || rc == UT_EUNSUPPORTED, "%s (%s): parse returned %d", rs->r[i].file,
			  rs->r[i].defect, rc);
		cr_assert_null(f);
		const char *msg = ut_errmsg();
		cr_assert_not_null(strstr(msg, rs->r[i].where), "%s (%s): message '%s' does not name '%s'",
				   rs->r[i].file, rs->r[i].defect, msg, rs->r[i].where);
		cr_assert_null(strchr(msg, '\n'), "%s: multi-line message", rs->r[i].file);
		ut_src_release(&src);
	}
}

Test(mo_malformed, cli_exit_3_one_line_input_untouched_no_output)
{
	struct rows *rs = load();
	char *dir = ts_tmpdir();
	for (int i = 0; i < rs->n; i++) {
		char src[512];
		snprintf(src, sizeof(src), "%s%s", ts_root("testdata/malformed/"), rs->r[i].file);
		char *in = ts_path(dir, rs->r[i].file), *out = ts_path(dir, "out");
		cr_assert_eq(ts_copy(src, in), 0);
		char before[65], after[65];
		ts_sha256_file(in, before);
		char *err = NULL;
		char *info[] = { (char *)ts_bin(), "macho", "info", in, NULL };
		int rc = ts_run(info, NULL, &err);
		cr_assert_eq(rc, 3, "%s: macho info exit %d", rs->r[i].file, rc);
		cr_assert_not_null(strstr(err, rs->r[i].where), "%s: stderr '%s'", rs->r[i].file, err);
		cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "%s: not one line: '%s'", rs->r[i].file, err);
		free(err);
		char *edit[] = { (char *)ts_bin(), "macho", "edit", in, "--add-rpath", "/opt/x", "-o", out, NULL };
		rc = ts_run(edit, NULL, &err);
		cr_assert_eq(rc, 3, "%s: macho edit exit %d", rs->r[i].file, rc);
		cr_assert_not(ts_exists(out), "%s: output written", rs->r[i].file);
		char *edit2[] = { (char *)ts_bin(), "macho", "edit", in, "--add-rpath", "/opt/x", NULL };
		cr_assert_eq(ts_run(edit2, NULL, NULL), 3);
		ts_sha256_file(in, after);
		cr_assert_str_eq(before, after, "%s: input changed", rs->r[i].file);
		free(err);
		free(in);
		free(out);
	}
	/* Nothing but the copied inputs is left in the directory (no temp files). */
	char *ls = NULL;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	ts_sh(cmd, &ls, NULL);
	cr_assert_eq(atoi(ls), rs->n, "stray files: %s", ls);
	free(ls);
	ts_rmtree(dir);
	free(dir);
}

/* The valid bases the malformed files were cut from, and the special-but-valid layouts (VALID.tsv). */
Test(mo_malformed, valid_bases_parse)
{
	static const char *const valid[] = { "valid-base", "valid-base-x86_64", "valid-fat-base", "valid-fat64",
					     "fat-hidden-arm64", NULL };
	for (int i = 0; valid[i]; i++) {
		char full[512];
		snprintf(full, sizeof(full), "%s%s", ts_root("testdata/malformed/"), valid[i]);
		struct ut_src src;
		struct mo_file *f = NULL;
		cr_assert_eq(ut_src_open(&src, full), 0);
		cr_assert_eq(mo_file_parse(&src, &f), 0, "%s: %s", valid[i], ut_errmsg());
		if (strcmp(valid[i], "fat-hidden-arm64") == 0) {
			cr_assert(f->hidden_arm64);
			cr_assert_eq(f->hidden_offset, 16384);
			cr_assert_eq(f->hidden_size, 984);
		} else {
			cr_assert_not(f->hidden_arm64);
		}
		if (strcmp(valid[i], "valid-fat64") == 0)
			cr_assert_eq(f->fat, 0xcafebabfu);
		mo_file_free(f);
		ut_src_release(&src);
	}
}

/* A minimal image plus 65 LC_FUNCTION_STARTS, the first 64 in __LINKEDIT and the last at last_off. */
static uint8_t *many_function_starts(uint32_t last_off, size_t *len, uint32_t *last_index)
{
	struct tb_spec spec = { 0 };
	uint8_t *p = tb_build(&spec, len);
	uint32_t ncmds = ut_le32(p + 16), sizeofcmds = ut_le32(p + 20);
	size_t at = MO_MACH_HEADER_64_SIZE + sizeofcmds;
	for (uint32_t i = 0; i < 65; i++, at += MO_LINKEDIT_CMD_SIZE) {
		ut_put_le32(p + at, LC_FUNCTION_STARTS);
		ut_put_le32(p + at + 4, MO_LINKEDIT_CMD_SIZE);
		ut_put_le32(p + at + 8, i < 64 ? 0x8000 : last_off); /* tb_build's __LINKEDIT starts at 0x8000 */
		ut_put_le32(p + at + 12, 8);
	}
	ut_put_le32(p + 16, ncmds + 65);
	ut_put_le32(p + 20, sizeofcmds + 65 * MO_LINKEDIT_CMD_SIZE);
	*last_index = ncmds + 64;
	return p;
}

/* Data outside __LINKEDIT is found however many __LINKEDIT ranges come before it. */
Test(mo_malformed, linkedit_check_not_capped_at_64_ranges)
{
	size_t len;
	uint32_t last;
	uint8_t *ok = many_function_starts(0x8000, &len, &last);
	struct ut_src src;
	struct mo_file *f = NULL;
	cr_assert_eq(ut_src_mem(&src, ok, len, "in-linkedit"), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0, "all 65 in __LINKEDIT: %s", ut_errmsg());
	mo_file_free(f);
	ut_src_release(&src);
	free(ok);

	uint8_t *bad = many_function_starts(0x4000, &len, &last); /* __DATA */
	cr_assert_eq(ut_src_mem(&src, bad, len, "65th-in-data"), 0);
	int rc = mo_file_parse(&src, &f);
	cr_assert_eq(rc, UT_EMALFORMED, "parse returned %d", rc);
	cr_assert_null(f);
	char want[64];
	snprintf(want, sizeof(want), "load command %u (LC_FUNCTION_STARTS)", last);
	cr_expect_not_null(strstr(ut_errmsg(), want), "'%s' does not name '%s'", ut_errmsg(), want);
	cr_expect_not_null(strstr(ut_errmsg(), "outside __LINKEDIT"), "%s", ut_errmsg());
	ut_src_release(&src);
	free(bad);
}
