/*
 * ut_plist.h - the one boundary to libplist.
 *
 * Every plist the project reads or writes goes through here.  Nodes are
 * libplist's plist_t; ownership follows libplist (plist_free the root).
 */
#ifndef UT_PLIST_H
#define UT_PLIST_H

#include <plist/plist.h>
#include <stddef.h>
#include <stdint.h>

enum ut_plist_format { UT_PLIST_XML = 1, UT_PLIST_BINARY = 2 };

/* Parses XML or binary plist bytes; *fmt (may be NULL) says which.  name is for messages. */
int ut_plist_parse(const void *p, size_t len, const char *name, plist_t *out, enum ut_plist_format *fmt);
/* Reads and parses a plist file (at most UT_MAX_PLIST_SIZE bytes). */
int ut_plist_read_file(const char *path, plist_t *out, enum ut_plist_format *fmt);
/* Serializes; *out is malloc'd (caller frees). */
int ut_plist_serialize(plist_t node, enum ut_plist_format fmt, uint8_t **out, size_t *len);

/* Borrowed string value of dict[key], or NULL when absent or not a string. */
const char *ut_plist_dict_str(plist_t dict, const char *key);
/*
 * 1 when a and b are the same plist: same types, equal values, arrays in the
 * same order, dictionaries with the same keys (any order); two NULLs are
 * equal.  Nesting deeper than 64 levels compares unequal.
 */
int ut_plist_equal(plist_t a, plist_t b);
/* 1 if dict[key] is boolean true, 0 otherwise. */
int ut_plist_dict_true(plist_t dict, const char *key);
/* Borrowed string of a string node (NULL otherwise); valid while the node lives. */
const char *ut_plist_str(plist_t node);

#endif
