/*
 * ut_state.h - what utmpatch remembers about a bundle it changed, and how to
 * get back: the state directory, status (inspect), recovery and rollback.
 *
 * One state directory (option --state-dir; ut_state_default_dir() gives the
 * default) holds one subdirectory per bundle, keyed by the SHA-256 of the
 * bundle's canonical absolute path.  Layout, file formats and recovery rules:
 * docs/transaction.md.  Changes are made with the transaction API (ut_txn.h).
 *
 * Nothing here prints or reads the environment: callers pass HOME and
 * XDG_STATE_HOME, the test hook (fail_after) and a cdhash callback.
 */
#ifndef UT_STATE_H
#define UT_STATE_H

#include <stddef.h>
#include <stdint.h>

/* What a path is (or was) inside the bundle. */
enum ut_kind {
	UT_KIND_ABSENT = 0, /* does not exist */
	UT_KIND_FILE,
	UT_KIND_SYMLINK,
	UT_KIND_DIR,
};

/* "absent", "file", "symlink", "dir". */
const char *ut_kind_name(int kind);

/* The recorded state of one path. */
struct ut_entry {
	char *path;      /* relative to the bundle root ("Contents/MacOS/UTM") */
	int kind;        /* enum ut_kind */
	unsigned mode;   /* permission bits (07777) of a file or directory */
	uint64_t size;   /* file: byte count */
	char sha256[65]; /* file: lowercase hex SHA-256 of the bytes; "" otherwise */
	char *target;    /* symlink: its target; NULL otherwise */
	char cdhash[41]; /* optional cdhash (lowercase hex) given by the caller; "" when none */
};

void ut_entry_release(struct ut_entry *e);

/* An opaque key/value pair (the caller's description of an install). */
struct ut_kv {
	char *key;
	char *value;
};

/*
 * The default state directory: "<home>/Library/Application Support/utmpatch"
 * on macOS; elsewhere "<xdg_state_home>/utmpatch" when xdg_state_home is an
 * absolute path, else "<home>/.local/state/utmpatch".  home must be an
 * absolute path (UT_EINVAL otherwise).  *out is malloc'd (caller frees).
 */
int ut_state_default_dir(const char *home, const char *xdg_state_home, char **out);

enum ut_state_kind {
	UT_STATE_PRISTINE = 0, /* no install recorded */
	UT_STATE_PATCHED,      /* the installed record matches the bundle */
	UT_STATE_DRIFTED,      /* the bundle changed since the installed record */
	UT_STATE_INTERRUPTED,  /* a journal is present: a transaction or rollback did not finish */
};

/* "pristine", "patched", "drifted", "interrupted". */
const char *ut_state_name(int state);

/* One path that no longer matches the installed record. */
struct ut_drift {
	char *path;
	int kind_recorded; /* enum ut_kind */
	int kind_now;
	const char *what;  /* static: "changed", "missing", "appeared", "kind changed", "target changed" */
};

/* What an interrupted journal says. */
struct ut_interrupted {
	int rollback_only;   /* 1: a rollback was interrupted (no install transaction in the journal) */
	char *txn_id;        /* of the install transaction (or of the rollback) */
	char *what;          /* its description */
	char *tool;          /* tool version that wrote it */
	int verified;        /* VERIFIED reached */
	int committed;       /* COMMIT reached (only cleanup was left) */
	int rolling_back;    /* a rollback or abort started */
	int rollback_done;   /* ... and finished restoring (only cleanup was left) */
	uint64_t records;    /* valid records */
	uint64_t last_step;  /* last STEP number, 0 when none */
	char *last_path;     /* path of the last STEP/BACKUP/RESTORED record, or NULL */
	const char *last_record; /* static: "BEGIN", "BACKUP", "STEP", ... */
	int torn_tail;       /* a torn last record was ignored */
};

struct ut_state_report {
	int state;        /* enum ut_state_kind */
	char *bundle;     /* canonical absolute path of the bundle */
	char *dir;        /* its state subdirectory */
	long locked_by;   /* pid of a live utmpatch holding the lock, 0 when none */
	/* installed record (patched / drifted; also kept when interrupted) */
	char *txn_id;
	int64_t time;     /* commit time (Unix seconds), 0 when unknown */
	struct ut_kv *meta; /* the caller's key/values, in recorded order */
	size_t nmeta;
	size_t nfiles;    /* paths in the installed record */
	/* drifted */
	struct ut_drift *drift;
	size_t ndrift;
	/* interrupted */
	struct ut_interrupted intr;
	/* number of paths with a pristine backup (manifest entries) */
	size_t npristine;
	/* what to run next ("run 'utmpatch rollback'"), static; NULL when nothing */
	const char *hint;
};

/*
 * Reads the state of bundle_root (which must exist) without changing
 * anything.  On success the caller releases *out with
 * ut_state_report_release().  A corrupt state file fails with
 * UT_EMALFORMED naming it.
 */
int ut_state_inspect(struct ut_state_report *out, const char *state_dir, const char *bundle_root);
void ut_state_report_release(struct ut_state_report *r);
/* The meta value for key, or NULL (borrowed from r). */
const char *ut_state_report_meta(const struct ut_state_report *r, const char *key);
/*
 * The meta value for key of the installed record of bundle_root, read alone
 * (no drift check, no journal): *value is malloc'd, or NULL when nothing is
 * installed or the record has no such key.
 */
int ut_state_installed_meta(const char *state_dir, const char *bundle_root, const char *key, char **value);

/*
 * Optional cdhash check: writes the cdhash (40 lowercase hex digits + NUL) of
 * the file at path; returns 0, or a negative UT_E* code with a message.
 */
typedef int (*ut_cdhash_fn)(void *ctx, const char *path, char hex[41]);

struct ut_rollback_opts {
	int dry_run;            /* plan and report, write nothing (no journal either) */
	int force;              /* roll back although the bundle drifted from the installed record */
	unsigned fail_after;    /* test hook: raise(SIGKILL) right after the n-th journal record (0: never) */
	ut_cdhash_fn cdhash_of; /* NULL: recorded cdhashes are reported, not checked */
	void *cdhash_ctx;
	const char *tool_version; /* journaled; NULL: "unknown" */
};

enum ut_restore_action {
	UT_RESTORE_UNCHANGED = 0, /* already pristine */
	UT_RESTORE_WRITTEN,       /* file or symlink written back */
	UT_RESTORE_REMOVED,       /* created by utmpatch, removed */
	UT_RESTORE_MKDIR,         /* directory re-created or its mode restored */
};

/* "unchanged", "written", "removed", "mkdir". */
const char *ut_restore_action_name(int action);

struct ut_restored {
	char *path;
	int kind;          /* pristine kind (enum ut_kind) */
	int action;        /* enum ut_restore_action (what was, or would be, done) */
	char sha256[65];   /* pristine sha256 (files) */
	char cdhash[41];   /* recorded cdhash, "" when none */
	int cdhash_checked; /* 1: cdhash_of() recomputed it and it matched */
};

struct ut_rollback_report {
	int was_pristine;  /* nothing was recorded: nothing to do */
	int finished;      /* an interrupted journal was completed first */
	struct ut_restored *items;
	size_t n;
	size_t nwritten, nremoved, nunchanged, nmkdir;
	size_t ncdhash_checked, ncdhash_unchecked;
};

/*
 * Returns bundle_root to its pristine bytes: completes or undoes an
 * interrupted journal, restores every path in the manifest (file bytes and
 * modes, symlink targets, created paths removed), checks every restored path
 * against the manifest (kind, mode, sha256, target, and cdhash when
 * opts->cdhash_of is given), then forgets the bundle (installed record,
 * manifest, backups).  Every backup is checked before anything is written: a
 * damaged backup fails with UT_EVERIFY naming the path and leaves the bundle
 * untouched.  Crash-safe and idempotent: killed at any point, running it
 * again finishes the job.  A bundle that drifted from the installed record
 * (and no journal) is refused with UT_EREFUSED unless opts->force: its
 * changed files would be overwritten.  opts may be NULL.  *out (may be NULL)
 * is filled on success (and, when filled before the failure, on error);
 * release it with ut_rollback_report_release() in every case.
 */
int ut_rollback(struct ut_rollback_report *out, const char *state_dir, const char *bundle_root,
		const struct ut_rollback_opts *opts);
void ut_rollback_report_release(struct ut_rollback_report *r);

/*
 * Brings an interrupted journal to an end without going back to pristine: a
 * committed transaction is finished, an uncommitted one (or an interrupted
 * abort) is undone to the last committed state.  An interrupted full
 * rollback is finished (the bundle ends pristine).  No journal: nothing to
 * do.  *recovered (may be NULL) is set to 1 when a journal was handled.
 */
int ut_state_recover(int *recovered, const char *state_dir, const char *bundle_root,
		     const struct ut_rollback_opts *opts);

#endif
