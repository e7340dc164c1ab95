/*
 * mo_symtab.c - exports and imports from LC_SYMTAB, for files without an
 * export trie / bind information (and as an independent view for tests).
 *
 * nlist_64 entries (16 bytes: n_strx, n_type, n_sect, n_desc, n_value) are
 * read in LC_DYSYMTAB's iextdefsym / iundefsym ranges when it is present,
 * else the whole table.  Exported: N_EXT, not N_PEXT, not a stab, of type
 * N_SECT, N_ABS or N_INDR (a re-export by name, library unknown).  Imported:
 * N_EXT undefined (N_UNDF with value 0, N_PBUD), library ordinal from
 * GET_LIBRARY_ORDINAL(n_desc), weak from N_WEAK_REF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_format.h"
#include "mo_symbols.h"
#include "mo_symbols_priv.h"
#include "ut_err.h"

#define NLIST_64_SIZE 16u

struct symtab {
	uint8_t *syms, *strs;
	uint32_t nsyms, strsize;
	uint32_t first_ext, n_ext, first_undef, n_undef; /* whole table when there is no LC_DYSYMTAB */
};

static void symtab_release(struct symtab *t)
{
	free(t->syms);
	free(t->strs);
}

static int symtab_load(const struct mo_file *f, const struct mo_slice *s, struct symtab *t)
{
	const struct mo_image *img = s->img;
	memset(t, 0, sizeof(*t));
	if (!img->has_symtab)
		return 0;
	t->nsyms = img->nsyms;
	t->strsize = img->strsize;
	t->first_ext = t->first_undef = 0;
	t->n_ext = t->n_undef = img->nsyms;
	for (uint32_t i = 0; i < img->ncmds; i++) {
		if (img->lcs[i].cmd != LC_DYSYMTAB)
			continue;
		const uint8_t *lc = img->hdr + img->lcs[i].off;
		/* iextdefsym, nextdefsym, iundefsym, nundefsym (the reader checked cmdsize 80) */
		uint64_t ie = ut_le32(lc + 16), ne = ut_le32(lc + 20), iu = ut_le32(lc + 24), nu = ut_le32(lc + 28);
		if (ie > img->nsyms || ne > img->nsyms - ie)
			return ut_fail(UT_EMALFORMED, "load command %u (LC_DYSYMTAB): external symbols %llu+%llu past nsyms %u",
				       i, ULL(ie), ULL(ne), img->nsyms);
		if (iu > img->nsyms || nu > img->nsyms - iu)
			return ut_fail(UT_EMALFORMED, "load command %u (LC_DYSYMTAB): undefined symbols %llu+%llu past nsyms %u",
				       i, ULL(iu), ULL(nu), img->nsyms);
		t->first_ext = (uint32_t)ie;
		t->n_ext = (uint32_t)ne;
		t->first_undef = (uint32_t)iu;
		t->n_undef = (uint32_t)nu;
	}
	int rc = mo_read_linkedit(f, s, img->symoff, (uint64_t)img->nsyms * NLIST_64_SIZE, "symbol table", &t->syms);
	if (!rc)
		rc = mo_read_linkedit(f, s, img->stroff, img->strsize, "string table", &t->strs);
	return rc;
}

/* The NUL-terminated string at strx of the string table. */
static int symtab_str(const struct symtab *t, uint32_t sym, uint64_t strx, const char **out, size_t *len)
{
	if (strx >= t->strsize)
		return ut_fail(UT_EMALFORMED, "symbol %u: name offset 0x%llx past the string table (0x%x bytes)", sym,
			       ULL(strx), t->strsize);
	const char *p = (const char *)t->strs + strx;
	const char *nul = memchr(p, 0, t->strsize - strx);
	if (!nul)
		return ut_fail(UT_EMALFORMED, "symbol %u: name at string table offset 0x%llx is not NUL-terminated", sym,
			       ULL(strx));
	*out = p;
	*len = (size_t)(nul - p);
	return 0;
}

int mo_symtab_exports(const struct mo_file *f, const struct mo_slice *s, struct mo_exports *e)
{
	const struct mo_image *img = s->img;
	struct symtab t;
	int rc = symtab_load(f, s, &t);
	uint64_t base = img->text_seg >= 0 ? img->segments[img->text_seg].vmaddr : 0;
	for (uint32_t k = 0; !rc && k < t.n_ext; k++) {
		uint32_t i = t.first_ext + k;
		const uint8_t *n = t.syms + (size_t)i * NLIST_64_SIZE;
		uint8_t type = n[4];
		uint16_t desc = ut_le16(n + 6);
		uint64_t value = ut_le64(n + 8);
		uint8_t ty = type & N_TYPE;
		if ((type & N_STAB) || !(type & N_EXT) || (type & N_PEXT) || (ty != N_SECT && ty != N_ABS && ty != N_INDR))
			continue;
		const char *name, *indr = NULL;
		size_t len, ilen;
		rc = symtab_str(&t, i, ut_le32(n), &name, &len);
		if (rc || len == 0)
			continue;
		struct mo_export x = { 0 };
		if (desc & N_WEAK_DEF)
			x.flags |= EXPORT_SYMBOL_FLAGS_WEAK_DEFINITION;
		if (ty == N_ABS) {
			x.flags |= EXPORT_SYMBOL_FLAGS_KIND_ABSOLUTE;
			x.address = value;
		} else if (ty == N_INDR) {
			rc = symtab_str(&t, i, value, &indr, &ilen);
			if (rc)
				break;
			x.flags |= EXPORT_SYMBOL_FLAGS_REEXPORT;
			x.reexport_name = indr;
		} else {
			x.address = value - base;
		}
		rc = mo_exports_add(e, name, len, &x);
	}
	symtab_release(&t);
	mo_exports_finish(e);
	e->from_symtab = 1;
	return rc;
}

int mo_symtab_imports(const struct mo_file *f, const struct mo_slice *s, struct mo_imports *im)
{
	const struct mo_image *img = s->img;
	struct symtab t;
	int rc = symtab_load(f, s, &t);
	int twolevel = (img->flags & MH_TWOLEVEL) != 0;
	for (uint32_t k = 0; !rc && k < t.n_undef; k++) {
		uint32_t i = t.first_undef + k;
		const uint8_t *n = t.syms + (size_t)i * NLIST_64_SIZE;
		uint8_t type = n[4], ty = type & N_TYPE;
		uint16_t desc = ut_le16(n + 6);
		if ((type & N_STAB) || !(type & N_EXT) || !((ty == N_UNDF && ut_le64(n + 8) == 0) || ty == N_PBUD))
			continue;
		const char *name;
		size_t len;
		rc = symtab_str(&t, i, ut_le32(n), &name, &len);
		if (rc || len == 0)
			continue;
		uint32_t lib = (desc >> 8) & 0xffu;
		int32_t ord = (int32_t)lib;
		if (!twolevel || lib == DYNAMIC_LOOKUP_ORDINAL)
			ord = BIND_SPECIAL_DYLIB_FLAT_LOOKUP;
		else if (lib == EXECUTABLE_ORDINAL)
			ord = BIND_SPECIAL_DYLIB_MAIN_EXECUTABLE;
		else if (lib > img->ndeps)
			rc = ut_fail(UT_EMALFORMED, "symbol %u ('%s'): library ordinal %u but only %u dependencies", i, name,
				     lib, img->ndeps);
		if (!rc)
			rc = mo_imports_add(im, name, len, ord, MO_IMPORT_SYMTAB, (desc & N_WEAK_REF) != 0, 0);
	}
	symtab_release(&t);
	mo_imports_finish(im);
	return rc;
}
