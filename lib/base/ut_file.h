/*
 * ut_file.h - input sources, whole-file reads and atomic writes.
 *
 * A ut_src is random-access input: a file read with pread (so large inputs are
 * never held in memory whole) or a memory range (tests, fuzzing).  Every read
 * is bounds-checked against the source size.
 *
 * A ut_atomic writer creates "<dir>/.<name>.utmpatch-XXXXXX" next to the
 * destination, and on commit: fsync, chmod, rename over the destination, fsync
 * the directory.  Until commit the destination is untouched; abort unlinks the
 * temp file.
 */
#ifndef UT_FILE_H
#define UT_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ut_src {
	int fd;                 /* -1 for memory sources */
	const uint8_t *mem;     /* memory sources only (borrowed) */
	uint64_t size;
	char *name;             /* for messages; owned */
};

/* Opens path read-only.  Refuses non-regular files and files over UT_MAX_INPUT_SIZE. */
int ut_src_open(struct ut_src *s, const char *path);
/* A source over borrowed memory; p must outlive s. */
int ut_src_mem(struct ut_src *s, const void *p, size_t len, const char *name);
void ut_src_release(struct ut_src *s);
/* Reads exactly len bytes at off; UT_EMALFORMED ("... past end of file") when out of range. */
int ut_src_read(const struct ut_src *s, uint64_t off, void *buf, size_t len);
/* Allocates and reads [off, off+len) into *out (caller frees). */
int ut_src_read_alloc(const struct ut_src *s, uint64_t off, size_t len, uint8_t **out);

/* Reads a whole file of at most max bytes.  *out is NUL-terminated (not counted in *len). */
int ut_file_read(const char *path, size_t max, uint8_t **out, size_t *len);

struct ut_atomic {
	int fd;
	char *tmp;
	char *dst;
	mode_t mode;
};

/*
 * Starts writing dst.  mode < 0 keeps the mode of an existing dst (else 0644);
 * otherwise mode is used.
 */
int ut_atomic_open(struct ut_atomic *a, const char *dst, int mode);
int ut_atomic_write(struct ut_atomic *a, const void *p, size_t len);
/* Appends n zero bytes (padding between slices, freed header space). */
int ut_atomic_zeros(struct ut_atomic *a, uint64_t n);
/* Writes at an absolute offset of the temp file (for patching headers). */
int ut_atomic_pwrite(struct ut_atomic *a, uint64_t off, const void *p, size_t len);
/* Copies len bytes from s at off to the current end of the temp file. */
int ut_atomic_copy(struct ut_atomic *a, const struct ut_src *s, uint64_t off, uint64_t len);
int ut_atomic_commit(struct ut_atomic *a);
void ut_atomic_abort(struct ut_atomic *a);

/* Writes a whole file atomically (mode as in ut_atomic_open). */
int ut_file_write_atomic(const char *dst, const void *p, size_t len, int mode);

/* a + "/" + b, malloc'd; an empty a or b gives a copy of the other.  NULL (UT_ENOMEM recorded) when out of memory. */
char *ut_path_join(const char *a, const char *b);

/* fsyncs the directory holding path. */
int ut_fsync_parent(const char *path);

#endif
