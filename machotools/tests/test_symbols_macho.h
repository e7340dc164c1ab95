/*
 * test_symbols_macho.h - builds small arm64 Mach-O images around hand-made
 * __LINKEDIT blobs (export trie, bind opcodes, chained fixups, symbol table)
 * so the symbol parsers can be fed exact bytes, and llvm-objdump-14 can judge
 * the same bytes (tests only).
 *
 * Layout: mach header, load commands, __TEXT [0, 0x4000) at vmaddr base
 * (section __text from 0x1000), __DATA [0x4000, 0x8000) (one section __data), __LINKEDIT from 0x8000 holding the blobs in order
 * (8-aligned).  Commands: the three segments, LC_ID_DYLIB (dylibs), one
 * LC_LOAD_DYLIB per dependency, then the optional LC_DYLD_INFO_ONLY,
 * LC_DYLD_EXPORTS_TRIE, LC_DYLD_CHAINED_FIXUPS, LC_SYMTAB, LC_DYSYMTAB.
 */
#ifndef TEST_SYMBOLS_MACHO_H
#define TEST_SYMBOLS_MACHO_H

#include <stddef.h>
#include <stdint.h>

struct tb_blob {
	const void *p;
	size_t len;
};

struct tb_spec {
	uint32_t filetype;               /* 0 = MH_DYLIB */
	uint64_t base;                   /* __TEXT vmaddr (0 for dylibs by default) */
	uint32_t ndeps;
	const char *const *dep_names;    /* NULL: "/usr/lib/libdep<N>.dylib" */
	int dyld_info;                   /* LC_DYLD_INFO_ONLY with these four */
	struct tb_blob bind, weak_bind, lazy_bind, exports;
	int exports_trie_cmd;            /* exports go to LC_DYLD_EXPORTS_TRIE instead */
	struct tb_blob chained;          /* LC_DYLD_CHAINED_FIXUPS when len != 0 */
	struct tb_blob syms, strs;       /* LC_SYMTAB when nsyms or strs.len */
	uint32_t nsyms;
	int dysymtab;                    /* LC_DYSYMTAB with these ranges */
	uint32_t iextdef, nextdef, iundef, nundef;
};

/* The file bytes (malloc'd); *len set. */
uint8_t *tb_build(const struct tb_spec *s, size_t *len);
/* Writes the file to dir/name; returns the path (malloc'd). */
char *tb_write(const struct tb_spec *s, const char *dir, const char *name);

/* One temporary directory per test (Criterion runs each test in its own process); tb_tmpdir_done removes it. */
char *tb_tmpdir(void);
void tb_tmpdir_done(void);

/* Appends an unsigned LEB128 to p at *n. */
void tb_uleb(uint8_t *p, size_t *n, uint64_t v);
/* Appends bytes / a NUL-terminated string. */
void tb_bytes(uint8_t *p, size_t *n, const void *src, size_t len);
void tb_str(uint8_t *p, size_t *n, const char *s);

/* test_symbols.c: compares every 64-bit slice of path with llvm-objdump-14 and llvm-nm-14. */
struct symtest_totals {
	size_t files, slices, exports, binds, nm;
};
void symtest_check_file(const char *path, struct symtest_totals *t);

#endif
