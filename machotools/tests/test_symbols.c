#define _GNU_SOURCE
/*
 * test_symbols.c - exports and imports agree with independent parsers on every
 * fixture and every 64-bit corpus slice:
 *   exports  = llvm-objdump-14 --macho --exports-trie (name, address, flags, re-export source)
 *   binds    = llvm-objdump-14 --macho --bind / --lazy-bind / --weak-bind (symbol, library, weak_import)
 *   chained  = llvm-nm-14 -m undefined externals (llvm-objdump-14 has no chained fixups dump)
 *   ordinals = llvm-nm-14 -m "(from X)" for every import naming a library
 *   symtab   = llvm-nm-14 -g --defined-only for the LC_SYMTAB fallback
 * Libraries are compared by name: llvm prints a short name ("libgmodule-2",
 * "Foundation"), which must begin the base name of the install name our
 * ordinal selects (from the reader's dependency list).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "mo_format.h"
#include "mo_symbols.h"
#include "oracle.h"
#include "test_symbols_macho.h"
#include "tsupport.h"
#include "ut_err.h"

/* Fixtures beyond oracle_fixtures: every Mach-O the recipes build. */
static const char *const extra_fixtures[] = {
	"arm64e-exe", "fat3-exe", "x86_64-deps-plain", "arm64-deps-plain", "fat-deps-plain", NULL,
};

static const char *const stub_names[] = {
	"libpixman-1.0", "libglib-2.0.0", "libgio-2.0.0", "libgobject-2.0.0", "libintl.8", "libiconv.2", "libjpeg.62",
	"libpng16.16", "libslirp.0", "libspice-server.1", "libepoxy.0", "libzstd.1", "libgmodule-2.0.0",
	"libusb-1.0.0", NULL,
};

/* A line-oriented view of a tool's output. */
struct lines {
	char *buf;
	char **v;
	size_t n;
};

static void lines_split(struct lines *l, char *out)
{
	l->buf = out;
	l->v = NULL;
	l->n = 0;
	size_t cap = 0;
	for (char *save = NULL, *s = strtok_r(out, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
		if (l->n == cap) {
			cap = cap ? cap * 2 : 256;
			l->v = realloc(l->v, cap * sizeof(*l->v));
			cr_assert_not_null(l->v);
		}
		l->v[l->n++] = s;
	}
}

static void lines_free(struct lines *l)
{
	free(l->buf);
	free(l->v);
}

static int split_ws(char *s, char **tok, int max)
{
	int n = 0;
	for (char *save = NULL, *t = strtok_r(s, " \t", &save); t && n < max; t = strtok_r(NULL, " \t", &save))
		tok[n++] = t;
	return n;
}

/* llvm's short library name for an ordinal (special names as llvm-objdump prints them). */
static int lib_matches(const struct mo_image *img, int32_t ord, const char *shortname)
{
	switch (ord) {
	case BIND_SPECIAL_DYLIB_SELF: return strcmp(shortname, "this-image") == 0;
	case BIND_SPECIAL_DYLIB_MAIN_EXECUTABLE: return strcmp(shortname, "main-executable") == 0;
	case BIND_SPECIAL_DYLIB_FLAT_LOOKUP: return strcmp(shortname, "flat-namespace") == 0;
	case BIND_SPECIAL_DYLIB_WEAK_LOOKUP: return strcmp(shortname, "weak") == 0;
	default: break;
	}
	if (ord < 1 || (uint32_t)ord > img->ndeps)
		return 0;
	const char *name = img->deps[ord - 1].name, *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	return strncmp(base, shortname, strlen(shortname)) == 0;
}

/* A slice as a thin file for tools that ignore -arch on universal files. */
static char *thin_slice(const char *path, const struct mo_file *f, const struct mo_slice *s, const char *dir)
{
	if (!f->fat)
		return strdup(path);
	char arch[32], *out = NULL, *cmd = NULL;
	const char *an = mo_arch_name(s->cputype, s->cpusubtype, arch);
	cr_assert(asprintf(&out, "%s/%s", dir, an) > 0);
	cr_assert(asprintf(&cmd, "llvm-lipo-14 '%s' -thin %s -output '%s'", path, an, out) > 0);
	cr_assert_eq(ts_sh(cmd, NULL, NULL), 0, "%s", cmd);
	free(cmd);
	return out;
}

static uint64_t base_address(const struct mo_image *img)
{
	for (uint32_t i = 0; i < img->nsegments; i++)
		if (img->segments[i].fileoff == 0 && img->segments[i].filesize != 0)
			return img->segments[i].vmaddr;
	return 0;
}

/* The line llvm-objdump-14 prints for one export (MachODump.cpp printMachOExportsTrie's layout). */
static char *export_line(const struct mo_image *img, const struct mo_export *e)
{
	char *line = NULL, flags[96] = "", from[512] = "";
	uint32_t kind = e->flags & EXPORT_SYMBOL_FLAGS_KIND_MASK;
	const char *parts[4];
	char resolver[40];
	int np = 0;
	if (e->flags & EXPORT_SYMBOL_FLAGS_WEAK_DEFINITION)
		parts[np++] = "weak_def";
	if (kind == EXPORT_SYMBOL_FLAGS_KIND_THREAD_LOCAL)
		parts[np++] = "per-thread";
	if (kind == EXPORT_SYMBOL_FLAGS_KIND_ABSOLUTE)
		parts[np++] = "absolute";
	if (e->flags & EXPORT_SYMBOL_FLAGS_STUB_AND_RESOLVER) {
		snprintf(resolver, sizeof(resolver), "resolver=0x%08llX", (unsigned long long)e->resolver);
		parts[np++] = resolver;
	}
	if (np) {
		strcat(flags, " [");
		for (int i = 0; i < np; i++) {
			if (i)
				strcat(flags, ", ");
			strcat(flags, parts[i]);
		}
		strcat(flags, "]");
	}
	if (e->flags & EXPORT_SYMBOL_FLAGS_REEXPORT) {
		const char *lib = img->deps[e->reexport_ordinal - 1].name, *base = strrchr(lib, '/');
		base = base ? base + 1 : lib;
		if (strcmp(e->reexport_name, e->name) == 0)
			snprintf(from, sizeof(from), " (from %s)", base);
		else
			snprintf(from, sizeof(from), " (%s from %s)", e->reexport_name, base);
		cr_assert(asprintf(&line, "[re-export] %s%s%s", e->name, flags, from) > 0);
	} else {
		cr_assert(asprintf(&line, "0x%08llX  %s%s", (unsigned long long)(e->address + base_address(img)), e->name,
				   flags) > 0);
	}
	return line;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/*
 * Re-export lines name the library by llvm's short name, ours by base name:
 * compare up to " (from " and check the short name begins the base name.
 */
static int export_lines_equal(const char *ours, const char *theirs)
{
	const char *a = strstr(ours, " (from "), *b = strstr(theirs, " (from ");
	if (!a || !b || strncmp(ours, "[re-export]", 11) != 0)
		return strcmp(ours, theirs) == 0;
	if ((size_t)(a - ours) != (size_t)(b - theirs) || strncmp(ours, theirs, (size_t)(a - ours)) != 0)
		return 0;
	size_t blen = strlen(b + 7) - 1; /* drop ")" */
	return strncmp(a + 7, b + 7, blen) == 0;
}

static void compare_exports(const char *label, const struct mo_file *f, const struct mo_slice *s, struct lines *dump,
			    size_t *counted)
{
	struct mo_exports *e = NULL;
	cr_assert_eq(mo_exports_parse(f, s, &e), 0, "%s: %s", label, ut_errmsg());
	cr_assert_eq(e->from_symtab, 0, "%s: every 64-bit test file has a trie", label);
	char **theirs = calloc(dump->n + 1, sizeof(char *));
	size_t nt = 0;
	int in = 0;
	for (size_t i = 0; i < dump->n; i++) {
		if (strcmp(dump->v[i], "Exports trie:") == 0) {
			in = 1;
			continue;
		}
		if (in && (strncmp(dump->v[i], "0x", 2) == 0 || strncmp(dump->v[i], "[re-export]", 11) == 0))
			theirs[nt++] = dump->v[i];
		else if (in)
			break;
	}
	char **ours = calloc(e->n + 1, sizeof(char *));
	for (uint32_t i = 0; i < e->n; i++)
		ours[i] = export_line(s->img, &e->v[i]);
	qsort(theirs, nt, sizeof(char *), cmp_str);
	qsort(ours, e->n, sizeof(char *), cmp_str);
	cr_expect_eq(nt, e->n, "%s: llvm-objdump lists %zu exports, ours %u", label, nt, e->n);
	for (size_t i = 0; i < nt && i < e->n; i++)
		cr_expect(export_lines_equal(ours[i], theirs[i]), "%s: export %zu: ours '%s', llvm-objdump '%s'", label, i,
			  ours[i], theirs[i]);
	for (uint32_t i = 0; i < e->n; i++)
		free(ours[i]);
	*counted += e->n;
	free(ours);
	free(theirs);
	mo_exports_free(e);
}

/* One row of an llvm-objdump bind table, reduced to what we compare. */
struct row {
	const char *lib; /* NULL for weak binds */
	const char *sym;
	int weak, strong;
	int matched;
};

static int find_import(const struct mo_image *img, const struct mo_imports *im, enum mo_import_kind kind,
		       const struct row *r)
{
	for (uint32_t i = 0; i < im->n; i++) {
		const struct mo_import *x = &im->v[i];
		if (x->kind != kind || strcmp(x->name, r->sym) != 0)
			continue;
		if (kind == MO_IMPORT_WEAK_BIND ? x->strong_def == r->strong || (x->strong_def && r->strong)
						: lib_matches(img, x->ordinal, r->lib))
			return (int)i;
	}
	return -1;
}

/* Parses the rows of one table ("Bind table:") into rows; returns their number. */
static size_t table_rows(struct lines *dump, const char *title, enum mo_import_kind kind, struct row *rows)
{
	size_t n = 0;
	int in = 0;
	for (size_t i = 0; i < dump->n; i++) {
		char *l = dump->v[i];
		if (strstr(l, " table:") && l[0] != ' ') {
			in = strcmp(l, title) == 0;
			i++; /* column header */
			continue;
		}
		if (!in || strchr(l, ':'))
			continue;
		char copy[4096], *tok[16];
		snprintf(copy, sizeof(copy), "%s", l);
		int nt = split_ws(copy, tok, 16);
		struct row r = { 0 };
		if (kind == MO_IMPORT_BIND && nt >= 7) {
			int weak = strcmp(tok[nt - 1], "(weak_import)") == 0;
			r.lib = strdup(tok[5]);
			r.sym = strdup(tok[6]);
			r.weak = weak;
		} else if (kind == MO_IMPORT_LAZY_BIND && nt >= 5) {
			r.lib = strdup(tok[3]);
			r.sym = strdup(tok[4]);
		} else if (kind == MO_IMPORT_WEAK_BIND && nt == 2 && strcmp(tok[0], "strong") == 0) {
			r.sym = strdup(tok[1]);
			r.strong = 1;
		} else if (kind == MO_IMPORT_WEAK_BIND && nt >= 6) {
			r.sym = strdup(tok[5]);
		} else {
			cr_assert_fail("unparsed %s row '%s'", title, l);
		}
		rows[n++] = r;
	}
	return n;
}

static void compare_table(const char *label, const struct mo_image *img, const struct mo_imports *im,
			  struct lines *dump, const char *title, enum mo_import_kind kind, size_t *counted)
{
	struct row *rows = calloc(dump->n + 1, sizeof(*rows));
	size_t n = table_rows(dump, title, kind, rows);
	uint8_t *hit = calloc(im->n + 1, 1);
	for (size_t i = 0; i < n; i++) {
		int k = find_import(img, im, kind, &rows[i]);
		cr_expect_geq(k, 0, "%s: %s row '%s' from '%s' not among our imports", label, title, rows[i].sym,
			      rows[i].lib ? rows[i].lib : "-");
		if (k < 0)
			continue;
		hit[k] = 1;
		/* ours is weak only when every bind of it is weak */
		if (kind == MO_IMPORT_BIND && !rows[i].weak)
			cr_expect_eq(im->v[k].weak, 0, "%s: '%s' has a non-weak bind but ours is weak", label, rows[i].sym);
	}
	for (uint32_t i = 0; i < im->n; i++) {
		if (im->v[i].kind != kind)
			continue;
		cr_expect(hit[i], "%s: our %s import '%s' (ordinal %d) is not in llvm-objdump's table", label, title,
			  im->v[i].name, im->v[i].ordinal);
		if (kind == MO_IMPORT_BIND && im->v[i].weak == 0) {
			int strong_row = 0;
			for (size_t j = 0; j < n; j++)
				strong_row |= strcmp(rows[j].sym, im->v[i].name) == 0 && !rows[j].weak;
			cr_expect(strong_row, "%s: '%s' is non-weak in ours, weak_import in every row", label, im->v[i].name);
		}
		(*counted)++;
	}
	for (size_t i = 0; i < n; i++) {
		free((char *)rows[i].lib);
		free((char *)rows[i].sym);
	}
	free(rows);
	free(hit);
}

/* llvm-nm-14 undefined externals: name, "(from X)" short name (-m), n_desc (-x). */
struct nmu {
	char *name, *from;
	unsigned desc;
};

static size_t nm_undefined(const char *thin, struct nmu **out)
{
	char *cmd = NULL, *o = NULL, *ox = NULL;
	cr_assert(asprintf(&cmd, "llvm-nm-14 -m -u '%s'", thin) > 0);
	cr_assert_eq(ts_sh(cmd, &o, NULL), 0, "%s", cmd);
	free(cmd);
	cr_assert(asprintf(&cmd, "llvm-nm-14 -x -m -u '%s'", thin) > 0);
	cr_assert_eq(ts_sh(cmd, &ox, NULL), 0, "%s", cmd);
	free(cmd);
	struct lines l, lx;
	lines_split(&l, o);
	lines_split(&lx, ox);
	struct nmu *v = calloc(l.n + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < l.n; i++) {
		char *s = l.v[i], *ext = strstr(s, "external ");
		if (!strstr(s, "(undefined") || !ext)
			continue;
		char *name = ext + 9, *sp = strchr(name, ' ');
		v[n].name = strndup(name, sp ? (size_t)(sp - name) : strlen(name));
		char *from = strstr(s, "(from ");
		if (from)
			v[n].from = strndup(from + 6, strlen(from + 6) - 1);
		else if (strstr(s, "(dynamically looked up)"))
			v[n].from = strdup("flat-namespace");
		else
			v[n].from = strdup("?");
		/* -x: "value type sect desc strx name" */
		int found = 0;
		for (size_t j = 0; j < lx.n && !found; j++) {
			char copy[4096], *tok[8];
			snprintf(copy, sizeof(copy), "%s", lx.v[j]);
			if (split_ws(copy, tok, 8) == 6 && strcmp(tok[5], v[n].name) == 0) {
				v[n].desc = (unsigned)strtoul(tok[3], NULL, 16);
				found = 1;
			}
		}
		cr_assert(found, "%s: '%s' missing from llvm-nm -x", thin, v[n].name);
		n++;
	}
	lines_free(&l);
	lines_free(&lx);
	*out = v;
	return n;
}

static const char *special_nm(int32_t ord)
{
	return ord == BIND_SPECIAL_DYLIB_FLAT_LOOKUP ? "flat-namespace" : ord == BIND_SPECIAL_DYLIB_MAIN_EXECUTABLE ? "executable" : NULL;
}

/*
 * Chained imports equal nm's undefined externals (the non-weak ones at least:
 * ld64 leaves unused weak references in the symbol table); every library
 * ordinal agrees with the symbol table's n_desc ordinal and nm's "(from X)";
 * chained weak_import agrees with N_WEAK_REF.
 */
static void compare_nm(const char *label, const struct mo_image *img, const struct mo_imports *im, const char *thin,
		       size_t *counted)
{
	struct nmu *u;
	size_t n = nm_undefined(thin, &u);
	for (uint32_t i = 0; i < im->n; i++) {
		const struct mo_import *x = &im->v[i];
		if (x->kind == MO_IMPORT_WEAK_BIND)
			continue;
		size_t j = 0;
		while (j < n && strcmp(u[j].name, x->name) != 0)
			j++;
		if (x->kind == MO_IMPORT_CHAINED)
			cr_expect_lt(j, n, "%s: chained import '%s' is not undefined in llvm-nm", label, x->name);
		if (j == n)
			continue;
		unsigned lib = (u[j].desc >> 8) & 0xff;
		if (x->ordinal >= 1) {
			cr_expect(lib_matches(img, x->ordinal, u[j].from), "%s: '%s' ordinal %d (%s), llvm-nm says from %s",
				  label, x->name, x->ordinal, img->deps[x->ordinal - 1].name, u[j].from);
			cr_expect_eq((int)lib, x->ordinal, "%s: '%s' ordinal %d, n_desc says %u", label, x->name, x->ordinal,
				     lib);
		} else if (special_nm(x->ordinal)) {
			cr_expect_str_eq(u[j].from, special_nm(x->ordinal), "%s: '%s'", label, x->name);
		}
		if (x->kind == MO_IMPORT_CHAINED)
			cr_expect_eq(x->weak, (u[j].desc & 0x40) != 0, "%s: '%s' weak %d, n_desc 0x%x", label, x->name,
				     x->weak, u[j].desc);
		(*counted)++;
	}
	if (img->has_chained_fixups) {
		for (size_t j = 0; j < n; j++) {
			if (u[j].desc & 0x40)
				continue;
			uint32_t i = 0;
			while (i < im->n && !(im->v[i].kind == MO_IMPORT_CHAINED && strcmp(im->v[i].name, u[j].name) == 0))
				i++;
			cr_expect_lt(i, im->n, "%s: llvm-nm's undefined '%s' is not a chained import", label, u[j].name);
		}
	}
	for (size_t j = 0; j < n; j++) {
		free(u[j].name);
		free(u[j].from);
	}
	free(u);
}

/* The LC_SYMTAB fallback equals llvm-nm -g --defined-only. */
static void compare_symtab_exports(const char *label, const struct mo_file *f, const struct mo_slice *s,
				   const char *thin)
{
	struct mo_exports *e = NULL;
	cr_assert_eq(mo_exports_from_symtab(f, s, &e), 0, "%s: %s", label, ut_errmsg());
	char *cmd = NULL, *o = NULL;
	cr_assert(asprintf(&cmd, "llvm-nm-14 -g --defined-only -j '%s'", thin) > 0);
	cr_assert_eq(ts_sh(cmd, &o, NULL), 0, "%s", cmd);
	free(cmd);
	struct lines l;
	lines_split(&l, o);
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(char *), cmp_str);
	cr_expect_eq(l.n, e->n, "%s: llvm-nm -g lists %zu defined externals, our symtab fallback %u", label, l.n, e->n);
	for (size_t i = 0; i < l.n && i < e->n; i++)
		cr_expect_str_eq(e->v[i].name, l.v[i], "%s: defined external %zu", label, i);
	lines_free(&l);
	mo_exports_free(e);
}

/*
 * llvm-objdump-14 does not read LC_DYLD_EXPORTS_TRIE: the trie bytes are
 * copied unchanged into a built image under LC_DYLD_INFO_ONLY's export range,
 * with the same base address and dependency names, and dumped from there.
 */
static void exports_via_dyld_info(const struct mo_file *f, const struct mo_slice *s, const char *dir,
				  struct lines *dump)
{
	const struct mo_image *img = s->img;
	uint8_t *trie = malloc(img->exports_trie.size + 1);
	cr_assert_eq(mo_slice_read(f, s, img->exports_trie.off, trie, img->exports_trie.size), 0);
	const char **names = calloc(img->ndeps + 1, sizeof(char *));
	for (uint32_t i = 0; i < img->ndeps; i++)
		names[i] = img->deps[i].name;
	struct tb_spec spec = { .filetype = img->filetype, .base = base_address(img), .ndeps = img->ndeps,
				.dep_names = names, .dyld_info = 1,
				.exports = { trie, img->exports_trie.size } };
	char *path = tb_write(&spec, dir, "trie-as-dyld-info");
	char *cmd = NULL, *o = NULL;
	cr_assert(asprintf(&cmd, "llvm-objdump-14 --macho --exports-trie '%s'", path) > 0);
	cr_assert_eq(ts_sh(cmd, &o, NULL), 0, "%s", cmd);
	lines_split(dump, o);
	free(cmd);
	free(path);
	free(names);
	free(trie);
}

void symtest_check_file(const char *path, struct symtest_totals *t)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	cr_assert_eq(ut_src_open(&src, path), 0, "%s: %s", path, ut_errmsg());
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s: %s", path, ut_errmsg());
	char *dir = ts_tmpdir();
	for (uint32_t i = 0; i < f->nslices; i++) {
		const struct mo_slice *s = &f->slices[i];
		if (s->kind != MO_SLICE_MACHO64)
			continue;
		char arch[32], label[600];
		snprintf(label, sizeof(label), "%s [%s]", path, mo_arch_name(s->cputype, s->cpusubtype, arch));
		char *thin = thin_slice(path, f, s, dir);
		char *cmd = NULL, *o = NULL, *err = NULL;
		cr_assert(asprintf(&cmd, "llvm-objdump-14 --macho --exports-trie --bind --lazy-bind --weak-bind '%s'",
				   thin) > 0);
		cr_assert_eq(ts_sh(cmd, &o, &err), 0, "%s: %s", cmd, err);
		free(cmd);
		free(err);
		struct lines dump;
		lines_split(&dump, o);
		if (s->img->has_exports_trie) {
			struct lines tdump;
			exports_via_dyld_info(f, s, dir, &tdump);
			compare_exports(label, f, s, &tdump, &t->exports);
			lines_free(&tdump);
		} else {
			compare_exports(label, f, s, &dump, &t->exports);
		}
		struct mo_imports *im = NULL;
		cr_assert_eq(mo_imports_parse(f, s, &im), 0, "%s: %s", label, ut_errmsg());
		compare_table(label, s->img, im, &dump, "Bind table:", MO_IMPORT_BIND, &t->binds);
		compare_table(label, s->img, im, &dump, "Lazy bind table:", MO_IMPORT_LAZY_BIND, &t->binds);
		compare_table(label, s->img, im, &dump, "Weak bind table:", MO_IMPORT_WEAK_BIND, &t->binds);
		compare_nm(label, s->img, im, thin, &t->nm);
		compare_symtab_exports(label, f, s, thin);
		mo_imports_free(im);
		lines_free(&dump);
		free(thin);
		t->slices++;
	}
	t->files++;
	ts_rmtree(dir);
	free(dir);
	mo_file_free(f);
	ut_src_release(&src);
}

Test(mo_symbols, fixtures_agree_with_llvm_objdump_and_nm, .timeout = 600)
{
	struct symtest_totals t = { 0 };
	for (int i = 0; oracle_fixtures[i]; i++)
		symtest_check_file(ts_fixture(oracle_fixtures[i]), &t);
	for (int i = 0; extra_fixtures[i]; i++)
		symtest_check_file(ts_fixture(extra_fixtures[i]), &t);
	for (int a = 0; a < 2; a++)
		for (int i = 0; stub_names[i]; i++) {
			char rel[96];
			snprintf(rel, sizeof(rel), "stubs-%s/%s.dylib", a ? "x86_64" : "arm64", stub_names[i]);
			symtest_check_file(ts_fixture(rel), &t);
		}
	cr_log_info("fixtures: %zu files, %zu slices, %zu exports, %zu bind imports, %zu nm checks", t.files, t.slices,
		    t.exports, t.binds, t.nm);
	cr_expect_geq(t.files, 50u);
	cr_expect_geq(t.binds, 100u);
}

Test(mo_symbols, corpus_agrees_with_llvm_objdump_and_nm, .timeout = 600)
{
	struct symtest_totals t = { 0 };
	for (const char *const *rel = corpus_macho(); *rel; rel++)
		symtest_check_file(ts_corpus(*rel), &t);
	cr_log_info("corpus: %zu files, %zu slices, %zu exports, %zu bind imports, %zu nm checks", t.files, t.slices,
		    t.exports, t.binds, t.nm);
	cr_expect_geq(t.slices, 20u);
}

/* The chained-fixups files of the corpus really exercise the chained path. */
Test(mo_symbols, corpus_chained_fixups_imports)
{
	static const struct {
		const char *file;
		const char *arch;
		const char *symbol;
		const char *lib;
	} cases[] = {
		{ "linker/hello-macos-arm64-chained", "arm64", "_NSLog", "Foundation" },
		{ "apple/ls-sequoia", "arm64e", "___stack_chk_guard", "libSystem.B.dylib" },
		{ "devid/microsoft-msoab-arm64.dylib", "arm64", "_ABGetMe", "AddressBook" },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct ut_src src;
		struct mo_file *f = NULL;
		const char *path = ts_corpus(cases[c].file);
		cr_assert_eq(ut_src_open(&src, path), 0, "%s", ut_errmsg());
		cr_assert_eq(mo_file_parse(&src, &f), 0, "%s", ut_errmsg());
		const struct mo_slice *s = mo_file_find_arch(f, cases[c].arch);
		cr_assert_not_null(s, "%s: no %s slice", path, cases[c].arch);
		cr_assert(s->img->has_chained_fixups);
		struct mo_imports *im = NULL;
		cr_assert_eq(mo_imports_parse(f, s, &im), 0, "%s", ut_errmsg());
		int found = 0;
		for (uint32_t i = 0; i < im->n; i++) {
			cr_expect_eq(im->v[i].kind, MO_IMPORT_CHAINED);
			if (strcmp(im->v[i].name, cases[c].symbol) == 0) {
				found = 1;
				cr_assert_geq(im->v[i].ordinal, 1);
				const char *dep = s->img->deps[im->v[i].ordinal - 1].name;
				cr_expect(strstr(dep, cases[c].lib), "%s: %s from %s", path, cases[c].symbol, dep);
			}
		}
		cr_expect(found, "%s: %s not imported", path, cases[c].symbol);
		mo_imports_free(im);
		mo_file_free(f);
		ut_src_release(&src);
	}
}
