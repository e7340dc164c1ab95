/*
 * ut_install_util.h - small helpers shared by the lib/ modules (install,
 * utmapp, gate, state, vm): paths, strings, lists, SHA-256 of a file or of
 * bytes, directories; not API.
 */
#ifndef UT_INSTALL_UTIL_H
#define UT_INSTALL_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ut_err.h"
#include "ut_file.h"

/* malloc'd printf; NULL (with a recorded UT_ENOMEM message) on failure. */
char *ui_printf(const char *fmt, ...) UT_PRINTF(1, 2);
char *ui_vprintf(const char *fmt, va_list ap) UT_PRINTF(1, 0);
/* The directory part of a relative path ("a/b/c" -> "a/b", "c" -> ""), malloc'd; NULL on out of memory. */
char *ui_dirname(const char *rel);
/* strdup that records UT_ENOMEM; NULL in gives NULL without error. */
char *ui_strdup(const char *s);

/* A growable list of malloc'd strings. */
struct ui_strv {
	char **v;
	size_t n, cap;
};
/* Appends a copy of s. */
int ui_strv_add(struct ui_strv *l, const char *s);
/* Takes ownership of s (freed on failure). */
int ui_strv_take(struct ui_strv *l, char *s);
int ui_strv_has(const struct ui_strv *l, const char *s);
void ui_strv_release(struct ui_strv *l);

/* Grows a vector of elem-size items to hold one more; zeroes the new item, returns it or NULL (UT_ENOMEM). */
void *ui_vec_push(void **v, size_t *n, size_t *cap, size_t elem);

/* Lowercase hex SHA-256 of a whole file (streamed); size (may be NULL) gets its size. */
int ui_sha256_file(const char *path, char out[65], uint64_t *size);
/* Lowercase hex SHA-256 of len bytes at p. */
int ui_sha256_hex(char out[65], const void *p, size_t len);
/* mkdir -p: creates the missing directories of path with mode; a part that is not a directory is UT_EIO. */
int ui_mkdirs(const char *path, unsigned mode);

/* The name of a slice's architecture into out[32] ("arm64", "x86_64"). */
struct mo_slice;
void ui_arch(const struct mo_slice *s, char out[32]);

/* Seconds on a monotonic clock. */
double ui_now(void);

#endif
