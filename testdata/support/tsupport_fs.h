/*
 * tsupport_fs.h - scratch directories and file helpers for tests.
 */
#ifndef TSUPPORT_FS_H
#define TSUPPORT_FS_H

#include <stddef.h>
#include <stdint.h>

/* Creates a fresh directory under $TMPDIR (or /tmp); returns a malloc'd path or NULL. */
char *tsupport_tmpdir(const char *tag);
/* rm -rf path (does not follow symlinks).  0 on success. */
int tsupport_rmtree(const char *path);
/* cp -R src dst (dst must not exist; regular files, directories and symlinks).  0 on success. */
int tsupport_copytree(const char *src, const char *dst);
/* Reads a whole file; *out is NUL-terminated and malloc'd.  0 on success. */
int tsupport_read(const char *path, uint8_t **out, size_t *len);
/* Writes a whole file (not atomically).  0 on success. */
int tsupport_write(const char *path, const void *p, size_t len);
/* malloc'd printf, never NULL (aborts on out of memory). */
char *tsupport_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
