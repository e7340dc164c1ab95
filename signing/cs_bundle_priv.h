/* cs_bundle_priv.h - path helpers shared by the bundle and seal files (not a public API). */
#ifndef CS_BUNDLE_PRIV_H
#define CS_BUNDLE_PRIV_H

#include <stddef.h>

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

/* a + "/" + b (an empty part gives a copy of the other); NULL when out of memory. */
char *cs_path_join(const char *a, const char *b);
/* a + "/" + b + "/" + c, skipping empty parts. */
char *cs_path_join3(const char *a, const char *b, const char *c);

/* readlink into a new string (bounded by CS_PATH_MAX); NULL with a message on failure. */
char *cs_readlink(const char *path);

/* Longest path handled. */
#define CS_PATH_MAX 4096

#endif
