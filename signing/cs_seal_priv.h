/* cs_seal_priv.h - helpers shared by the cs_seal*.c files (not a public API). */
#ifndef CS_SEAL_PRIV_H
#define CS_SEAL_PRIV_H

#include "cs_seal.h"

/* Appends an entry for path (zeroed but for the path); NULL with a message on failure. */
struct cs_seal_entry *cs_seal_files_add(struct cs_seal_files *t, const char *path);
/* Sorts by path; a duplicate path is UT_EMALFORMED naming what. */
int cs_seal_files_sort(struct cs_seal_files *t, const char *what);
void cs_seal_files_release(struct cs_seal_files *t);
/* "hash", "hash2", "hash3", "hash4" for CS_HASHTYPE_* 1..4, else NULL (SEC: "hash%d" for types >= 2). */
const char *cs_seal_hash_key(unsigned type);
/* The hash types an entry carries (hash_mask), lowest first; returns how many (at most 4). */
unsigned cs_seal_entry_types(const struct cs_seal_entry *e, unsigned types[4]);
/* Digests of the whole regular file at path: out[i] for types[i] (n <= 4), the file read once. */
int cs_seal_hash_file(const char *path, const unsigned *types, unsigned n, uint8_t (*out)[CS_HASH_MAX_SIZE]);
/* a + b + c, malloc'd (NULL when out of memory); a NULL a is "". */
char *cs_seal_cat3(const char *a, const char *b, const char *c);
/* prefix + path (cs_seal_cat3). */
char *cs_seal_prefixed(const char *prefix, const char *path);

/* prefix + base_rel + "/" (just prefix when base_rel is ""), malloc'd. */
char *cs_seal_base_prefix(const char *prefix, const char *base_rel);

/* cs_seal_verify_bundle without the special-slot check (for nested bundles whose signature is verified whole). */
int cs_seal_verify_bundle_seal(const struct cs_bundle *b, const struct cs_seal_verify_opts *o, const char *prefix,
			       struct cs_seal_report *rep);

#endif
