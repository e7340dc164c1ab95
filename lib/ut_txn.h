/*
 * ut_txn.h - the one journaled transaction every bundle change goes through.
 *
 *   struct ut_txn *t;
 *   struct ut_txn_opts o = { .what = "install qemu dylib", .tool_version = VERSION };
 *   rc = ut_txn_begin(&t, state_dir, bundle, &o);       lock, checks
 *   rc = ut_txn_plan_file(t, "Contents/.../qemu", NULL);  back up every path first
 *   rc = ut_txn_replace(t, "Contents/.../qemu", tmp, -1); apply, journaled STEP n
 *   ... the caller deep-verifies the bundle ...
 *   rc = ut_txn_mark_verified(t);
 *   rc = ut_txn_commit(t, meta, nmeta);                   or ut_txn_abort(t)
 *   ut_txn_free(t);
 *
 * Rules: every path is planned before the first change (planning after a
 * change is refused); a change to a path that was not planned is refused;
 * paths are relative to the bundle root, without ".", "..", empty components
 * or symlinked parent directories.  Each change is atomic (temp file in the
 * same directory, fsync, rename) and journaled after it is applied; the
 * journal record is fsync'ed.  Killed at any point, the bundle is either
 * untouched, or recoverable with ut_rollback()/ut_state_recover().
 *
 * A failed step leaves the transaction open: call ut_txn_abort(), which puts
 * every planned path back as it was before ut_txn_begin().
 */
#ifndef UT_TXN_H
#define UT_TXN_H

#include <stddef.h>

#include "ut_state.h"

struct ut_txn_opts {
	const char *what;         /* journaled description ("install qemu dylib"); NULL: "" */
	const char *tool_version; /* journaled; NULL: "unknown" */
	unsigned fail_after;      /* test hook: raise(SIGKILL) right after the n-th journal record of this run */
	int force;                /* proceed although the bundle drifted from the installed record */
};

struct ut_txn;

/*
 * Takes the bundle's lock (UT_EBUSY "another utmpatch (pid N) is working on
 * '<bundle>'"; a stale lock of a dead process is taken over, see
 * ut_txn_note()), then refuses (UT_EREFUSED) when a journal is present
 * ("... run 'utmpatch rollback'") or when the bundle drifted from the
 * installed record, unless opts->force: then the drifted paths' current
 * states become their pristine backups.  Journals BEGIN.  bundle_root must be
 * an existing directory.  On success *out is owned by the caller
 * (ut_txn_free()); on failure it is NULL.
 */
int ut_txn_begin(struct ut_txn **out, const char *state_dir, const char *bundle_root,
		 const struct ut_txn_opts *opts);

/*
 * Declares that relpath will change, appear or disappear.  Backs up its
 * current state (file: zlib-compressed bytes + sha256 + mode; symlink:
 * target; directory: mode; absent), fsync'ed, then journals BACKUP.  cdhash
 * (40 lowercase hex, or NULL) is recorded with a file's pristine state for
 * ut_rollback() to check.  A path planned twice is UT_EINVAL.
 */
int ut_txn_plan_file(struct ut_txn *t, const char *relpath, const char *cdhash);

/* Writes bytes to relpath (mode < 0: keep the current mode, else 0644). */
int ut_txn_write(struct ut_txn *t, const char *relpath, const void *p, size_t len, int mode);
/* Writes a copy of the file src_path (e.g. a temp file) to relpath; mode as above. */
int ut_txn_replace(struct ut_txn *t, const char *relpath, const char *src_path, int mode);
/* Removes relpath (a file, a symlink or an empty directory). */
int ut_txn_delete(struct ut_txn *t, const char *relpath);
/* Makes relpath a symlink to target (replacing a file or symlink). */
int ut_txn_symlink(struct ut_txn *t, const char *relpath, const char *target);
/* Creates the directory relpath (it must not exist). */
int ut_txn_mkdir(struct ut_txn *t, const char *relpath, unsigned mode);

/* Journals VERIFIED: the caller has deep-verified every touched component. */
int ut_txn_mark_verified(struct ut_txn *t);

/*
 * Commits: checks every changed path still holds what was written, records
 * the pristine manifest and the installed record (every recorded path's
 * sha256 now, the caller's meta key/values, the time), journals COMMIT, then
 * removes the journal.  Requires ut_txn_mark_verified().  After COMMIT the
 * transaction stays committed even if a later cleanup step fails (the error
 * is returned; ut_state_recover() finishes it).
 */
int ut_txn_commit(struct ut_txn *t, const struct ut_kv *meta, size_t nmeta);

/*
 * Undoes the transaction: every planned path back to its state before
 * ut_txn_begin() (checked against the backup), journaled as ROLLBACK-BEGIN,
 * RESTORED..., ROLLBACK-DONE; then the journal is removed.  A damaged backup
 * fails before anything is written.
 */
int ut_txn_abort(struct ut_txn *t);

/*
 * Releases the lock and frees t (NULL is fine).  A transaction neither
 * committed nor aborted is aborted first (errors are lost: call
 * ut_txn_abort() to see them; if it fails the journal stays for
 * ut_rollback()).
 */
void ut_txn_free(struct ut_txn *t);

/* A note for the user ("took over the stale lock of pid N"), or NULL; borrowed. */
const char *ut_txn_note(const struct ut_txn *t);
/* The transaction id (journaled in BEGIN); borrowed. */
const char *ut_txn_id(const struct ut_txn *t);

#endif
