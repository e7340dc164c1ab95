/* mo_symbols_priv.h - list building and LEB128 shared by the symbol parsers (not public API). */
#ifndef MO_SYMBOLS_PRIV_H
#define MO_SYMBOLS_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "mo_symbols.h"

#define ULL(x) ((unsigned long long)(x))

/* LEB128 results. */
enum { MO_LEB_OK = 0, MO_LEB_TRUNCATED = 1, MO_LEB_OVERFLOW = 2 };

/* Reads an unsigned / signed LEB128 at *pos of p[0, len); advances *pos on success. */
int mo_uleb(const uint8_t *p, size_t len, size_t *pos, uint64_t *out);
int mo_sleb(const uint8_t *p, size_t len, size_t *pos, int64_t *out);
/* "bad ULEB" wording for a LEB128 result. */
const char *mo_leb_problem(int r);

/* Appends an export (name and re-export name copied); the list is sorted by mo_exports_finish. */
int mo_exports_add(struct mo_exports *e, const char *name, size_t len, const struct mo_export *fields);
void mo_exports_finish(struct mo_exports *e);

/* Appends one use of an import (name copied); mo_imports_finish sorts and merges duplicates. */
int mo_imports_add(struct mo_imports *im, const char *name, size_t len, int32_t ordinal, enum mo_import_kind kind,
		   int weak, int strong_def);
void mo_imports_finish(struct mo_imports *im);

/* Reads [off, off+size) of slice s, refusing more than MO_MAX_SYMDATA; what names it in messages. */
int mo_read_linkedit(const struct mo_file *f, const struct mo_slice *s, uint64_t off, uint64_t size, const char *what,
		     uint8_t **out);

/* mo_symtab.c: the LC_SYMTAB views, appended to e / im (sorted on return). */
int mo_symtab_exports(const struct mo_file *f, const struct mo_slice *s, struct mo_exports *e);
int mo_symtab_imports(const struct mo_file *f, const struct mo_slice *s, struct mo_imports *im);

#endif
