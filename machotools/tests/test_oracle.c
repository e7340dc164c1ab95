/*
 * test_oracle.c - the reader agrees with two independent parsers: LIEF's C API
 * and llvm-otool-14 -l (load command types, sizes, offsets, install names,
 * dependencies, rpaths) on every fixture and on the corpus Mach-O files.
 */
#include <LIEF/MachO.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "mo_format.h"
#include "oracle.h"
#include "tsupport.h"
#include "ut_bytes.h"
#include "ut_err.h"

/* Compares one supported slice with LIEF's view of the same slice. */
static void compare_lief_slice(const char *path, const struct mo_slice *s, Macho_Binary_t *lb)
{
	const struct mo_image *img = s->img;
	cr_assert_eq(lb->header.nb_cmds, img->ncmds, "%s: LIEF ncmds %u, ours %u", path, lb->header.nb_cmds,
		     img->ncmds);
	cr_assert_eq(lb->header.sizeof_cmds, img->sizeofcmds, "%s: sizeofcmds", path);
	cr_assert_eq((uint32_t)lb->header.cpu_type, img->cputype, "%s: cputype", path);
	cr_assert_eq((uint32_t)lb->header.file_type, img->filetype, "%s: filetype", path);
	uint32_t k = 0;
	for (; lb->commands[k]; k++) {
		const Macho_Command_t *c = lb->commands[k];
		cr_assert_lt(k, img->ncmds, "%s: LIEF has more commands", path);
		cr_assert_eq((uint32_t)c->command, img->lcs[k].cmd, "%s: command %u type", path, k);
		cr_assert_eq(c->size, img->lcs[k].cmdsize, "%s: command %u size", path, k);
		cr_assert_eq(c->offset, img->lcs[k].off, "%s: command %u offset", path, k);
		/* String payloads from LIEF's raw command bytes. */
		if (mo_is_dep_cmd(c->command) || c->command == LC_ID_DYLIB || c->command == LC_RPATH) {
			uint32_t so = ut_le32(c->data + 8);
			cr_assert_lt(so, c->size);
			const char *ls = (const char *)c->data + so;
			const char *ours = (const char *)img->hdr + img->lcs[k].off + so;
			cr_assert_str_eq(ls, ours, "%s: command %u string", path, k);
		}
	}
	cr_assert_eq(k, img->ncmds, "%s: LIEF has %u commands, ours %u", path, k, img->ncmds);
}

void oracle_compare_lief(const char *path)
{
	struct ut_src src;
	struct mo_file *f;
	cr_assert_eq(ut_src_open(&src, path), 0, "%s: %s", path, ut_errmsg());
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s: %s", path, ut_errmsg());
	Macho_Binary_t **lb = macho_parse(path);
	cr_assert_not_null(lb, "LIEF cannot parse %s", path);
	uint32_t n = 0;
	while (lb[n])
		n++;
	cr_assert_eq(n, f->nslices, "%s: LIEF sees %u slices, ours %u", path, n, f->nslices);
	for (uint32_t i = 0; i < f->nslices; i++)
		if (f->slices[i].kind == MO_SLICE_MACHO64)
			compare_lief_slice(path, &f->slices[i], lb[i]);
	macho_binaries_destroy(lb);
	mo_file_free(f);
	ut_src_release(&src);
}

/* Parses `llvm-otool-14 -l` into per-slice lists of "cmd size [string]" lines and compares. */
void oracle_compare_otool(const char *path)
{
	char *cmd = NULL, *out = NULL;
	cr_assert(asprintf(&cmd, "llvm-otool-14 -arch all -l '%s'", path) > 0);
	int rc = ts_sh(cmd, &out, NULL);
	free(cmd);
	cr_assert_eq(rc, 0, "llvm-otool-14 failed on %s", path);

	struct ut_src src;
	struct mo_file *f;
	cr_assert_eq(ut_src_open(&src, path), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s: %s", path, ut_errmsg());

	/* Walk otool's output: "Load command N", "cmd LC_X", "cmdsize N", "name S (offset N)", "path S (offset N)". */
	int slice = f->nslices == 1 ? 0 : -1;
	uint32_t lcn = 0;
	uint32_t seen[64] = { 0 };
	char *save = NULL;
	const struct mo_image *img = NULL;
	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (strstr(line, "(architecture ")) {
			slice++;
			cr_assert_lt((uint32_t)slice, f->nslices, "%s: otool shows more slices", path);
			continue;
		}
		if (slice < 0)
			continue;
		img = f->slices[slice].img;
		if (!img)
			continue;
		unsigned v;
		char name[256];
		if (sscanf(line, "Load command %u", &v) == 1) {
			lcn = v;
			cr_assert_lt(lcn, img->ncmds, "%s: otool shows load command %u", path, lcn);
			cr_assert_eq(lcn, seen[slice], "%s: otool load command order", path);
			seen[slice]++;
		} else if (sscanf(line, "cmd %255s", name) == 1 && strncmp(name, "LC_", 3) == 0) {
			const char *ours = mo_lc_name(img->lcs[lcn].cmd);
			cr_assert_str_eq(name, ours ? ours : "?", "%s: load command %u type", path, lcn);
		} else if (sscanf(line, "cmdsize %u", &v) == 1) {
			cr_assert_eq(v, img->lcs[lcn].cmdsize, "%s: load command %u cmdsize", path, lcn);
		} else if ((strncmp(line, "name ", 5) == 0 || strncmp(line, "path ", 5) == 0) &&
			   (img->lcs[lcn].cmd == LC_RPATH || img->lcs[lcn].cmd == LC_ID_DYLIB ||
			    mo_is_dep_cmd(img->lcs[lcn].cmd))) {
			const uint8_t *p = img->hdr + img->lcs[lcn].off;
			const char *ours = (const char *)p + ut_le32(p + 8);
			char *paren = strstr(line, " (offset ");
			cr_assert_not_null(paren);
			*paren = '\0';
			cr_assert_str_eq(line + 5, ours, "%s: load command %u string", path, lcn);
		}
	}
	for (uint32_t i = 0; i < f->nslices && i < 64; i++)
		if (f->slices[i].img)
			cr_assert_eq(seen[i], f->slices[i].img->ncmds, "%s: slice %u: otool shows %u load commands, ours %u",
				     path, i, seen[i], f->slices[i].img->ncmds);
	free(out);
	mo_file_free(f);
	ut_src_release(&src);
}
