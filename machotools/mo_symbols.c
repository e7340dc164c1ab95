/*
 * mo_symbols.c - export and import lists: storage, LEB128, and the
 * per-slice entry points that pick the right source.
 *
 * The trie walker is in mo_trie.c, the bind opcode interpreter in mo_bind.c,
 * the chained fixups imports table in mo_fixups.c, the LC_SYMTAB fallbacks
 * in mo_symtab.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_format.h"
#include "mo_symbols.h"
#include "mo_symbols_priv.h"
#include "ut_err.h"

#define POOL_BLOCK 65536u

/* ---- LEB128 ---- */

int mo_uleb(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	size_t i = *pos;
	for (;;) {
		if (i >= len)
			return MO_LEB_TRUNCATED;
		uint8_t b = p[i++];
		uint64_t bits = b & 0x7f;
		if (shift >= 64 || (shift == 63 && bits > 1))
			return MO_LEB_OVERFLOW;
		v |= bits << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	*pos = i;
	*out = v;
	return MO_LEB_OK;
}

int mo_sleb(const uint8_t *p, size_t len, size_t *pos, int64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	size_t i = *pos;
	uint8_t b;
	do {
		if (i >= len)
			return MO_LEB_TRUNCATED;
		b = p[i++];
		if (shift >= 64)
			return MO_LEB_OVERFLOW;
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	*pos = i;
	*out = (int64_t)v;
	return MO_LEB_OK;
}

const char *mo_leb_problem(int r)
{
	return r == MO_LEB_TRUNCATED ? "LEB128 runs past the end" : "LEB128 does not fit in 64 bits";
}

/* ---- names ---- */

/* Copies name[0, len) into the pool; *out is NUL-terminated and stable until the pool is released. */
static int strpool_add(struct mo_strpool *pool, const char *name, size_t len, const char **out)
{
	if (len >= MO_MAX_SYMBOL_LEN)
		return ut_fail(UT_EMALFORMED, "symbol name of %zu bytes exceeds the limit of %u", len, MO_MAX_SYMBOL_LEN);
	if (pool->nblocks == 0 || pool->size - pool->used < len + 1) {
		size_t bsize = len + 1 > POOL_BLOCK ? len + 1 : POOL_BLOCK;
		if (pool->total > (size_t)MO_MAX_SYMDATA * 2)
			return ut_fail(UT_ENOMEM, "symbol names exceed %llu bytes", ULL(MO_MAX_SYMDATA) * 2);
		if (pool->nblocks == pool->cap) {
			uint32_t ncap = pool->cap ? pool->cap * 2 : 16;
			char **nb = realloc(pool->blocks, ncap * sizeof(*nb));
			if (!nb)
				return ut_fail(UT_ENOMEM, "out of memory");
			pool->blocks = nb;
			pool->cap = ncap;
		}
		char *b = malloc(bsize);
		if (!b)
			return ut_fail(UT_ENOMEM, "out of memory");
		pool->blocks[pool->nblocks++] = b;
		pool->used = 0;
		pool->size = bsize;
		pool->total += bsize;
	}
	char *dst = pool->blocks[pool->nblocks - 1] + pool->used;
	if (len)
		memcpy(dst, name, len);
	dst[len] = '\0';
	pool->used += len + 1;
	*out = dst;
	return 0;
}

static void strpool_release(struct mo_strpool *pool)
{
	for (uint32_t i = 0; i < pool->nblocks; i++)
		free(pool->blocks[i]);
	free(pool->blocks);
	memset(pool, 0, sizeof(*pool));
}

/* Grows an array of n elements of size el to hold one more. */
static int grow(void **v, uint32_t *cap, uint32_t n, size_t el)
{
	if (n < *cap)
		return 0;
	if (n >= MO_MAX_SYMBOLS)
		return ut_fail(UT_ENOMEM, "more than %u symbols", MO_MAX_SYMBOLS);
	uint32_t ncap = *cap ? *cap * 2 : 64;
	if (ncap > MO_MAX_SYMBOLS)
		ncap = MO_MAX_SYMBOLS;
	void *nv = realloc(*v, (size_t)ncap * el);
	if (!nv)
		return ut_fail(UT_ENOMEM, "out of memory");
	*v = nv;
	*cap = ncap;
	return 0;
}

/* ---- exports ---- */

int mo_exports_add(struct mo_exports *e, const char *name, size_t len, const struct mo_export *fields)
{
	void *v = e->v;
	int rc = grow(&v, &e->cap, e->n, sizeof(*e->v));
	e->v = v;
	if (rc)
		return rc;
	struct mo_export x = *fields;
	rc = strpool_add(&e->pool, name, len, &x.name);
	if (rc)
		return rc;
	if (!(x.flags & EXPORT_SYMBOL_FLAGS_REEXPORT))
		x.reexport_name = NULL;
	else if (!x.reexport_name || !x.reexport_name[0])
		x.reexport_name = x.name;
	else if ((rc = strpool_add(&e->pool, x.reexport_name, strlen(x.reexport_name), &x.reexport_name)) != 0)
		return rc;
	e->v[e->n++] = x;
	return 0;
}

static int cmp_export(const void *a, const void *b)
{
	return strcmp(((const struct mo_export *)a)->name, ((const struct mo_export *)b)->name);
}

void mo_exports_finish(struct mo_exports *e)
{
	if (e->n > 1)
		qsort(e->v, e->n, sizeof(*e->v), cmp_export);
}

const struct mo_export *mo_exports_find(const struct mo_exports *e, const char *name)
{
	if (!e || !e->n)
		return NULL;
	struct mo_export key = { .name = name };
	return bsearch(&key, e->v, e->n, sizeof(*e->v), cmp_export);
}

void mo_exports_release(struct mo_exports *e)
{
	if (!e)
		return;
	free(e->v);
	strpool_release(&e->pool);
	memset(e, 0, sizeof(*e));
}

void mo_exports_free(struct mo_exports *e)
{
	mo_exports_release(e);
	free(e);
}

/* ---- imports ---- */

int mo_imports_add(struct mo_imports *im, const char *name, size_t len, int32_t ordinal, enum mo_import_kind kind,
		   int weak, int strong_def)
{
	if (im->n) {
		struct mo_import *last = &im->v[im->n - 1];
		if (last->kind == kind && last->ordinal == ordinal && strlen(last->name) == len &&
		    memcmp(last->name, name, len) == 0) {
			last->weak = last->weak && weak;
			last->strong_def = last->strong_def || strong_def;
			if (last->uses < UINT32_MAX)
				last->uses++;
			return 0;
		}
	}
	void *v = im->v;
	int rc = grow(&v, &im->cap, im->n, sizeof(*im->v));
	im->v = v;
	if (rc)
		return rc;
	struct mo_import x = { .ordinal = ordinal, .kind = (uint8_t)kind, .weak = !!weak, .strong_def = !!strong_def,
			       .uses = 1 };
	rc = strpool_add(&im->pool, name, len, &x.name);
	if (rc)
		return rc;
	im->v[im->n++] = x;
	return 0;
}

static int cmp_import(const void *a, const void *b)
{
	const struct mo_import *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->ordinal != y->ordinal)
		return x->ordinal < y->ordinal ? -1 : 1;
	return strcmp(x->name, y->name);
}

void mo_imports_finish(struct mo_imports *im)
{
	if (im->n < 2)
		return;
	qsort(im->v, im->n, sizeof(*im->v), cmp_import);
	uint32_t w = 0;
	for (uint32_t r = 1; r < im->n; r++) {
		struct mo_import *a = &im->v[w], *b = &im->v[r];
		if (cmp_import(a, b) == 0) {
			a->weak = a->weak && b->weak;
			a->strong_def = a->strong_def || b->strong_def;
			a->uses = b->uses > UINT32_MAX - a->uses ? UINT32_MAX : a->uses + b->uses;
		} else {
			im->v[++w] = *b;
		}
	}
	im->n = w + 1;
}

void mo_imports_release(struct mo_imports *im)
{
	if (!im)
		return;
	free(im->v);
	strpool_release(&im->pool);
	memset(im, 0, sizeof(*im));
}

void mo_imports_free(struct mo_imports *im)
{
	mo_imports_release(im);
	free(im);
}

const char *mo_ordinal_special_name(int32_t ordinal)
{
	switch (ordinal) {
	case BIND_SPECIAL_DYLIB_SELF: return "self";
	case BIND_SPECIAL_DYLIB_MAIN_EXECUTABLE: return "main-executable";
	case BIND_SPECIAL_DYLIB_FLAT_LOOKUP: return "flat-lookup";
	case BIND_SPECIAL_DYLIB_WEAK_LOOKUP: return "weak-lookup";
	default: return NULL;
	}
}

/* ---- reading ---- */

int mo_read_linkedit(const struct mo_file *f, const struct mo_slice *s, uint64_t off, uint64_t size, const char *what,
		     uint8_t **out)
{
	*out = NULL;
	if (size > MO_MAX_SYMDATA)
		return ut_fail(UT_EUNSUPPORTED, "%s at 0x%llx: %llu bytes exceed the limit of %u", what, ULL(off),
			       ULL(size), MO_MAX_SYMDATA);
	uint8_t *p = malloc(size ? (size_t)size : 1);
	if (!p)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = size ? mo_slice_read(f, s, off, p, (size_t)size) : 0;
	if (rc) {
		free(p);
		return ut_ctx(rc, "%s at 0x%llx", what, ULL(off));
	}
	*out = p;
	return 0;
}

static const struct mo_image *slice_image(const struct mo_slice *s, char where[48])
{
	char arch[32];
	snprintf(where, 48, "slice %s", mo_arch_name(s->cputype, s->cpusubtype, arch));
	if (s->kind != MO_SLICE_MACHO64 || !s->img) {
		ut_fail(UT_EUNSUPPORTED, "%s: %s", where, s->reason ? s->reason : "not a 64-bit little-endian slice");
		return NULL;
	}
	return s->img;
}

/* ---- entry points ---- */

/* The exports of slice s: from LC_SYMTAB when symtab is set or the slice has no trie, else from its trie. */
static int exports_build(const struct mo_file *f, const struct mo_slice *s, int symtab, struct mo_exports **out)
{
	char where[48];
	*out = NULL;
	const struct mo_image *img = slice_image(s, where);
	if (!img)
		return UT_EUNSUPPORTED;
	struct mo_exports *e = calloc(1, sizeof(*e));
	if (!e)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc;
	if (symtab || (!img->has_exports_trie && !img->has_dyld_info)) {
		rc = mo_symtab_exports(f, s, e);
	} else {
		struct mo_range r = img->has_exports_trie ? img->exports_trie : img->export_info;
		uint8_t *p = NULL;
		rc = mo_read_linkedit(f, s, r.off, r.size, "export trie", &p);
		if (!rc)
			rc = mo_trie_parse(ut_span_make(p, r.size), r.off, img->ndeps, e);
		free(p);
	}
	if (rc) {
		mo_exports_free(e);
		return ut_ctx(rc, "%s", where);
	}
	*out = e;
	return 0;
}

int mo_exports_parse(const struct mo_file *f, const struct mo_slice *s, struct mo_exports **out)
{
	return exports_build(f, s, 0, out);
}

int mo_exports_from_symtab(const struct mo_file *f, const struct mo_slice *s, struct mo_exports **out)
{
	return exports_build(f, s, 1, out);
}

/* Reads one opcode range and interprets it. */
static int bind_range(const struct mo_file *f, const struct mo_slice *s, struct mo_range r, enum mo_import_kind kind,
		      struct mo_imports *im)
{
	static const char *what[] = { "", "bind opcodes", "weak bind opcodes", "lazy bind opcodes" };
	if (r.size == 0)
		return 0;
	uint8_t *p = NULL;
	int rc = mo_read_linkedit(f, s, r.off, r.size, what[kind], &p);
	if (!rc)
		rc = mo_bind_parse(s->img, kind, ut_span_make(p, r.size), r.off, im);
	free(p);
	return rc;
}

/* The bind opcode streams and the chained fixups imports of slice s. */
static int dyld_imports(const struct mo_file *f, const struct mo_slice *s, struct mo_imports *im)
{
	const struct mo_image *img = s->img;
	int rc = 0;
	if (img->has_dyld_info) {
		rc = bind_range(f, s, img->bind, MO_IMPORT_BIND, im);
		if (!rc)
			rc = bind_range(f, s, img->weak_bind, MO_IMPORT_WEAK_BIND, im);
		if (!rc)
			rc = bind_range(f, s, img->lazy_bind, MO_IMPORT_LAZY_BIND, im);
	}
	if (!rc && img->has_chained_fixups) {
		uint8_t *p = NULL;
		struct mo_range r = img->chained_fixups;
		rc = mo_read_linkedit(f, s, r.off, r.size, "chained fixups", &p);
		if (!rc)
			rc = mo_fixups_parse(img, ut_span_make(p, r.size), r.off, im);
		free(p);
	}
	return rc;
}

/* The imports of slice s: from LC_SYMTAB when symtab is set or the slice has neither dyld info nor chained fixups. */
static int imports_build(const struct mo_file *f, const struct mo_slice *s, int symtab, struct mo_imports **out)
{
	char where[48];
	*out = NULL;
	const struct mo_image *img = slice_image(s, where);
	if (!img)
		return UT_EUNSUPPORTED;
	struct mo_imports *im = calloc(1, sizeof(*im));
	if (!im)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = symtab || (!img->has_dyld_info && !img->has_chained_fixups) ? mo_symtab_imports(f, s, im)
									      : dyld_imports(f, s, im);
	if (rc) {
		mo_imports_free(im);
		return ut_ctx(rc, "%s", where);
	}
	*out = im;
	return 0;
}

int mo_imports_parse(const struct mo_file *f, const struct mo_slice *s, struct mo_imports **out)
{
	return imports_build(f, s, 0, out);
}

int mo_imports_from_symtab(const struct mo_file *f, const struct mo_slice *s, struct mo_imports **out)
{
	return imports_build(f, s, 1, out);
}
