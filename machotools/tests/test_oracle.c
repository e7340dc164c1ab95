#define _GNU_SOURCE
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

/* Parses `llvm-otool-14 [-arch A] -l` for one slice and compares commands, sizes and strings. */
static void compare_otool_slice(const char *path, const struct mo_slice *s, int fat)
{
	char arch[32], *cmd = NULL, *out = NULL;
	const char *an = mo_arch_name(s->cputype, s->cpusubtype, arch);
	/* llvm-otool-14 ignores -arch on universal files, so each slice is extracted with llvm-lipo-14 first. */
	char *dir = ts_tmpdir();
	if (fat)
		cr_assert(asprintf(&cmd, "llvm-lipo-14 '%s' -thin %s -output '%s/slice' && llvm-otool-14 -l '%s/slice'",
				   path, an, dir, dir) > 0);
	else
		cr_assert(asprintf(&cmd, "llvm-otool-14 -l '%s'", path) > 0);
	int rc = ts_sh(cmd, &out, NULL);
	cr_assert_eq(rc, 0, "%s failed", cmd);
	free(cmd);
	ts_rmtree(dir);
	free(dir);
	const struct mo_image *img = s->img;
	uint32_t lcn = 0, seen = 0, headers = 0;
	char *save = NULL;
	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		unsigned v;
		char name[256];
		if (strncmp(line, "Mach header", 11) == 0) {
			headers++;
		} else if (sscanf(line, "Load command %u", &v) == 1) {
			lcn = v;
			cr_assert_eq(lcn, seen, "%s (%s): otool load command order", path, an);
			cr_assert_lt(lcn, img->ncmds, "%s (%s): otool shows load command %u", path, an, lcn);
			seen++;
		} else if (sscanf(line, "cmd %255s", name) == 1 && strncmp(name, "LC_", 3) == 0) {
			const char *ours = mo_lc_name(img->lcs[lcn].cmd);
			cr_assert_str_eq(name, ours ? ours : "?", "%s (%s): load command %u type", path, an, lcn);
		} else if (sscanf(line, "cmdsize %u", &v) == 1) {
			cr_assert_eq(v, img->lcs[lcn].cmdsize, "%s (%s): load command %u cmdsize", path, an, lcn);
		} else if ((strncmp(line, "name ", 5) == 0 || strncmp(line, "path ", 5) == 0) &&
			   (img->lcs[lcn].cmd == LC_RPATH || img->lcs[lcn].cmd == LC_ID_DYLIB ||
			    mo_is_dep_cmd(img->lcs[lcn].cmd))) {
			const uint8_t *p = img->hdr + img->lcs[lcn].off;
			const char *ours = (const char *)p + ut_le32(p + 8);
			char *paren = strstr(line, " (offset ");
			cr_assert_not_null(paren);
			*paren = '\0';
			cr_assert_str_eq(line + 5, ours, "%s (%s): load command %u string", path, an, lcn);
		}
	}
	cr_assert_eq(headers, 1, "%s (%s): otool printed %u headers", path, an, headers);
	cr_assert_eq(seen, img->ncmds, "%s (%s): otool shows %u load commands, ours %u", path, an, seen, img->ncmds);
	free(out);
}

void oracle_compare_otool(const char *path)
{
	struct ut_src src;
	struct mo_file *f;
	cr_assert_eq(ut_src_open(&src, path), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s: %s", path, ut_errmsg());
	for (uint32_t i = 0; i < f->nslices; i++)
		if (f->slices[i].kind == MO_SLICE_MACHO64)
			compare_otool_slice(path, &f->slices[i], f->fat != 0);
	mo_file_free(f);
	ut_src_release(&src);
}
