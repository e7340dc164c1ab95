/*
 * mo_symbols.h - what a 64-bit slice exports and what it imports, as dyld sees it.
 *
 * Exports come from the export trie (LC_DYLD_EXPORTS_TRIE, else the export
 * range of LC_DYLD_INFO(_ONLY)); a file with neither falls back to the
 * external defined symbols of LC_SYMTAB (LC_DYSYMTAB's iextdefsym range when
 * present).  Imports come from the bind, weak bind and lazy bind opcode
 * streams of LC_DYLD_INFO(_ONLY) and from the imports table of
 * LC_DYLD_CHAINED_FIXUPS; a file with neither falls back to the undefined
 * externals of LC_SYMTAB.
 *
 * Every byte is bounds-checked; malformed input fails the whole parse with
 * UT_EMALFORMED and one message naming the slice, the structure and the
 * slice-relative offset ("slice arm64: bind opcodes at 0x10038: ordinal 17
 * but only 15 dependencies").  Nothing here prints.
 *
 * Ownership: *out is owned by the caller (mo_exports_free / mo_imports_free);
 * on failure *out is NULL.  Names are owned by their list and live until it is
 * freed.  The mo_file passed in is borrowed and only read during the call.
 */
#ifndef MO_SYMBOLS_H
#define MO_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

#include "mo_file.h"
#include "ut_bytes.h"

/* Format constants, Apple's names (<mach-o/loader.h>, <mach-o/nlist.h>, <mach-o/fixup-chains.h>). */
#define EXPORT_SYMBOL_FLAGS_KIND_MASK         0x03u
#define EXPORT_SYMBOL_FLAGS_KIND_REGULAR      0x00u
#define EXPORT_SYMBOL_FLAGS_KIND_THREAD_LOCAL 0x01u
#define EXPORT_SYMBOL_FLAGS_KIND_ABSOLUTE     0x02u
#define EXPORT_SYMBOL_FLAGS_WEAK_DEFINITION   0x04u
#define EXPORT_SYMBOL_FLAGS_REEXPORT          0x08u
#define EXPORT_SYMBOL_FLAGS_STUB_AND_RESOLVER 0x10u
#define EXPORT_SYMBOL_FLAGS_STATIC_RESOLVER   0x20u

#define BIND_TYPE_POINTER        1u
#define BIND_TYPE_TEXT_ABSOLUTE32 2u
#define BIND_TYPE_TEXT_PCREL32   3u
#define BIND_SPECIAL_DYLIB_SELF            0
#define BIND_SPECIAL_DYLIB_MAIN_EXECUTABLE (-1)
#define BIND_SPECIAL_DYLIB_FLAT_LOOKUP     (-2)
#define BIND_SPECIAL_DYLIB_WEAK_LOOKUP     (-3)
#define BIND_SYMBOL_FLAGS_WEAK_IMPORT         0x1u
#define BIND_SYMBOL_FLAGS_NON_WEAK_DEFINITION 0x8u
#define BIND_OPCODE_MASK      0xF0u
#define BIND_IMMEDIATE_MASK   0x0Fu
#define BIND_OPCODE_DONE                             0x00u
#define BIND_OPCODE_SET_DYLIB_ORDINAL_IMM            0x10u
#define BIND_OPCODE_SET_DYLIB_ORDINAL_ULEB           0x20u
#define BIND_OPCODE_SET_DYLIB_SPECIAL_IMM            0x30u
#define BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM    0x40u
#define BIND_OPCODE_SET_TYPE_IMM                     0x50u
#define BIND_OPCODE_SET_ADDEND_SLEB                  0x60u
#define BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB      0x70u
#define BIND_OPCODE_ADD_ADDR_ULEB                    0x80u
#define BIND_OPCODE_DO_BIND                          0x90u
#define BIND_OPCODE_DO_BIND_ADD_ADDR_ULEB            0xA0u
#define BIND_OPCODE_DO_BIND_ADD_ADDR_IMM_SCALED      0xB0u
#define BIND_OPCODE_DO_BIND_ULEB_TIMES_SKIPPING_ULEB 0xC0u
#define BIND_OPCODE_THREADED                         0xD0u
#define BIND_SUBOPCODE_THREADED_SET_BIND_ORDINAL_TABLE_SIZE_ULEB 0x00u
#define BIND_SUBOPCODE_THREADED_APPLY                            0x01u

#define DYLD_CHAINED_IMPORT          1u
#define DYLD_CHAINED_IMPORT_ADDEND   2u
#define DYLD_CHAINED_IMPORT_ADDEND64 3u

#define N_STAB 0xe0u
#define N_PEXT 0x10u
#define N_TYPE 0x0eu
#define N_EXT  0x01u
#define N_UNDF 0x0u
#define N_ABS  0x2u
#define N_SECT 0xeu
#define N_PBUD 0xcu
#define N_INDR 0xau
#define N_WEAK_REF 0x0040u
#define N_WEAK_DEF 0x0080u
#define SELF_LIBRARY_ORDINAL   0x0u
#define DYNAMIC_LOOKUP_ORDINAL 0xfeu
#define EXECUTABLE_ORDINAL     0xffu

/* Ceilings of this layer (ut_limits.h holds the file-level ones). */
#define MO_MAX_SYMBOL_LEN   32768u          /* one symbol name, trie edges concatenated */
#define MO_MAX_TRIE_DEPTH   4096u           /* edges from the root to a node */
#define MO_MAX_SYMBOLS      (4u << 20)      /* entries in one list */
#define MO_MAX_SYMDATA      (512u << 20)    /* one trie, opcode stream, fixups blob or symbol table read */

/* Names of a list: blocks that never move, so pointers stay valid while the list grows (private). */
struct mo_strpool {
	char **blocks;
	uint32_t nblocks, cap;
	size_t used, size, total; /* bytes used in / size of the last block; all blocks */
};

/* One exported symbol. */
struct mo_export {
	const char *name;
	uint32_t flags;           /* EXPORT_SYMBOL_FLAGS_*; from symtab: WEAK_DEFINITION / KIND_ABSOLUTE / REEXPORT */
	uint64_t address;         /* offset from the image's base address (not for REEXPORT) */
	uint64_t resolver;        /* STUB_AND_RESOLVER: the resolver's offset */
	uint32_t reexport_ordinal;/* REEXPORT: 1-based dependency index (0 = N_INDR from symtab, library unknown) */
	const char *reexport_name;/* REEXPORT: the name to look up there (== name when the trie leaves it empty) */
};

struct mo_exports {
	struct mo_export *v;      /* sorted by name (strcmp) */
	uint32_t n;
	int from_symtab;          /* 1: no trie in the file, taken from LC_SYMTAB */
	uint32_t cap;             /* private */
	struct mo_strpool pool;   /* private */
};

enum mo_import_kind {
	MO_IMPORT_BIND = 1,      /* bind opcodes (non-lazy) */
	MO_IMPORT_WEAK_BIND,     /* weak bind opcodes: coalesced by name, ordinal WEAK_LOOKUP */
	MO_IMPORT_LAZY_BIND,     /* lazy bind opcodes */
	MO_IMPORT_CHAINED,       /* LC_DYLD_CHAINED_FIXUPS imports table */
	MO_IMPORT_SYMTAB,        /* undefined external in LC_SYMTAB (files without either) */
};

/*
 * One imported symbol, unique per (kind, ordinal, name).  ordinal is the
 * two-level namespace library: 1..ndeps indexes mo_image.deps (ordinal-1), or
 * BIND_SPECIAL_DYLIB_SELF / _MAIN_EXECUTABLE / _FLAT_LOOKUP / _WEAK_LOOKUP.
 */
struct mo_import {
	const char *name;
	int32_t ordinal;
	uint8_t kind;             /* enum mo_import_kind */
	uint8_t weak;             /* weak import: every use of it is marked weak, dyld tolerates its absence */
	uint8_t strong_def;       /* MO_IMPORT_WEAK_BIND only: BIND_SYMBOL_FLAGS_NON_WEAK_DEFINITION (a definition, not a use) */
	uint32_t uses;            /* bind opcodes / fixup imports / nlists naming it (a repeated bind counts once; saturating) */
};

struct mo_imports {
	struct mo_import *v;      /* sorted by kind, ordinal, name */
	uint32_t n;
	uint32_t cap;             /* private */
	struct mo_strpool pool;   /* private */
};

/* Exports of slice s (MO_SLICE_MACHO64) of f: trie, else LC_SYMTAB. */
int mo_exports_parse(const struct mo_file *f, const struct mo_slice *s, struct mo_exports **out);
/* The LC_SYMTAB fallback alone (also on files that have a trie); an image without LC_SYMTAB has none. */
int mo_exports_from_symtab(const struct mo_file *f, const struct mo_slice *s, struct mo_exports **out);
/* The export named name, or NULL (binary search). */
const struct mo_export *mo_exports_find(const struct mo_exports *e, const char *name);
void mo_exports_free(struct mo_exports *e);

/* Imports of slice s of f: bind + weak bind + lazy bind opcodes and chained fixups, else LC_SYMTAB. */
int mo_imports_parse(const struct mo_file *f, const struct mo_slice *s, struct mo_imports **out);
/* The LC_SYMTAB undefined externals alone (library ordinal from n_desc). */
int mo_imports_from_symtab(const struct mo_file *f, const struct mo_slice *s, struct mo_imports **out);
void mo_imports_free(struct mo_imports *im);

/*
 * Lower level, on bytes already read (fuzzing, tests).  base is the slice
 * offset of the first byte, for messages.  img supplies ndeps (ordinal range)
 * and segments (bind addresses); nothing else of it is read.  These append to
 * *acc, which starts zeroed ({0}) and is released with mo_*_release.
 */
int mo_trie_parse(struct ut_span trie, uint64_t base, uint32_t ndeps, struct mo_exports *acc);
int mo_bind_parse(const struct mo_image *img, enum mo_import_kind kind, struct ut_span ops, uint64_t base,
		  struct mo_imports *acc);
int mo_fixups_parse(const struct mo_image *img, struct ut_span blob, uint64_t base, struct mo_imports *acc);
void mo_exports_release(struct mo_exports *e);
void mo_imports_release(struct mo_imports *im);

/* "self", "main-executable", "flat-lookup", "weak-lookup", or NULL for a library ordinal. */
const char *mo_ordinal_special_name(int32_t ordinal);

#endif
