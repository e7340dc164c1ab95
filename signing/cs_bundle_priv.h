/* cs_bundle_priv.h - path helpers shared by the bundle and seal files (not a public API). */
#ifndef CS_BUNDLE_PRIV_H
#define CS_BUNDLE_PRIV_H

#include <stddef.h>

#include "ut_file.h"

/* What lstat says a path is (symlinks are never followed). */
enum cs_ftype {
	CS_FT_NONE = 0,  /* does not exist */
	CS_FT_FILE,
	CS_FT_DIR,
	CS_FT_LINK,
	CS_FT_OTHER,     /* fifo, socket, device */
	CS_FT_ERROR,     /* lstat failed for another reason (errno kept) */
};

enum cs_ftype cs_ftype_of(const char *path);
/* The same for dir + "/" + name (CS_FT_ERROR when out of memory). */
enum cs_ftype cs_ftype_in(const char *dir, const char *name);

/* a + "/" + b + "/" + c, skipping empty parts. */
char *cs_path_join3(const char *a, const char *b, const char *c);

/* readlink into a new string (bounded by CS_PATH_MAX); NULL with a message on failure. */
char *cs_readlink(const char *path);

/*
 * Calls fn(ctx, dir, name) for each entry of dir but . and .. (readdir
 * order) and stops at the first non-zero return, which it returns.  A dir
 * that cannot be opened is UT_EIO naming it, or nothing when missing_ok and
 * it does not exist.
 */
int cs_dir_each(const char *dir, int missing_ok, int (*fn)(void *ctx, const char *dir, const char *name),
		void *ctx);

/* Longest path handled. */
#define CS_PATH_MAX 4096

#endif
