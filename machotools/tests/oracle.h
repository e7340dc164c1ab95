/* oracle.h - comparisons of the reader with LIEF and llvm-otool-14 (tests only). */
#ifndef ORACLE_H
#define ORACLE_H

/* Asserts our parse of path equals LIEF's (commands, sizes, offsets, strings) for every supported slice. */
void oracle_compare_lief(const char *path);
/* Asserts our parse of path equals `llvm-otool-14 -arch all -l` (commands, sizes, strings). */
void oracle_compare_otool(const char *path);

/* The Mach-O fixtures the recipes build (names in testdata/MANIFEST.md). */
extern const char *const oracle_fixtures[];
/* The Mach-O files of ../shared/corpus MANIFEST.tsv lists, relative to the corpus root (NULL-terminated; asserts the list is not short). */
const char *const *corpus_macho(void);

#endif
