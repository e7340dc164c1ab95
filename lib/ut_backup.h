/*
 * ut_backup.h - the state of one path on disk, and its compressed backup.
 *
 * A file's backup is "<store>/<sha256 of its bytes>.z": its bytes as one zlib
 * stream (RFC 1950, readable by any zlib), written atomically and fsync'ed,
 * then read back and checked.  The sha256, size and mode live in the record
 * that names the backup (manifest or journal), not in the blob.
 */
#ifndef UT_BACKUP_H
#define UT_BACKUP_H

#include "ut_state.h"

/*
 * The current state of abs (lstat, not following a final symlink): kind,
 * mode, size and sha256 of a file, target of a symlink.  A missing path (or a
 * missing parent) is UT_KIND_ABSENT.  e->path is set to a copy of rel.
 * Release with ut_entry_release().
 */
int ut_backup_stat(struct ut_entry *e, const char *abs, const char *rel);

/* "<store>/<sha256>.z" (malloc'd), NULL on ENOMEM. */
char *ut_backup_blob_path(const char *store, const char *sha256);

/*
 * Writes the backup of the file abs whose state e was just read by
 * ut_backup_stat(), then checks it.  UT_EVERIFY when the file changed in
 * between.
 */
int ut_backup_store(const char *store, const char *abs, const struct ut_entry *e);

/* Decompresses the backup of e and checks its size and sha256 (UT_EVERIFY / UT_ENOTFOUND naming e->path). */
int ut_backup_check(const char *store, const struct ut_entry *e);

/*
 * Writes the backup of e to abs atomically with mode e->mode.  The bytes are
 * checked against e before the rename: a damaged backup fails with
 * UT_EVERIFY and abs is untouched.
 */
int ut_backup_restore_file(const char *store, const struct ut_entry *e, const char *abs);

/*
 * Makes abs a symlink to target atomically: a symlink under a temporary name
 * in the same directory, renamed over abs, directory fsync'ed.
 */
int ut_backup_symlink(const char *abs, const char *target);

/*
 * Removes leftovers of interrupted atomic writes next to abs
 * (".<name>.utmpatch-XXXXXX" in its directory).
 */
int ut_backup_sweep_temps(const char *abs);

#endif
