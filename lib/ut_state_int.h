/*
 * ut_state_int.h - shared by ut_state*.c, ut_txn*.c, ut_backup.c and their
 * tests/fuzz target; not API.  Formats: docs/transaction.md.
 */
#ifndef UT_STATE_INT_H
#define UT_STATE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ut_buf.h"
#include "ut_err.h"
#include "ut_install_util.h"
#include "ut_lock.h"
#include "ut_state.h"

#define UT_STATE_MAX_FILE   ((size_t)64 << 20) /* manifest, installed, journal */
#define UT_STATE_MAX_LINE   (32u << 10)        /* one record */
#define UT_STATE_MAX_FIELDS 16                 /* key=value fields in one record */
#define UT_STATE_MAX_ENTRIES 100000            /* paths in one manifest / installed record */
#define UT_STATE_MAX_META   256                /* caller key/values in installed */
#define UT_STATE_MAX_RECORDS 1000000           /* journal records */

/* ---- strings ---- */

/* 1 when s is exactly n lowercase hex digits. */
int st_is_hex(const char *s, size_t n);
/*
 * A relative bundle path: not empty, not absolute, no "", "." or ".."
 * component, no trailing '/', at most UT_MAX_PATH_STR bytes.
 */
int st_relpath_check(const char *rel);

/* ---- one record: "<word> key=value key=value" with %XX-escaped values ---- */

struct st_line {
	char *buf; /* decoded copy; fields point into it */
	const char *word;
	size_t n;
	const char *key[UT_STATE_MAX_FIELDS];
	const char *val[UT_STATE_MAX_FIELDS];
};

/* Parses one line (without '\n'); UT_EMALFORMED with a message (no location). */
int st_line_parse(struct st_line *l, const char *p, size_t len);
void st_line_release(struct st_line *l);
/* Value of key, or NULL. */
const char *st_line_get(const struct st_line *l, const char *key);
/* Appends " key=<escaped value>". */
int st_put(struct ut_buf *b, const char *key, const char *value);
int st_put_u64(struct ut_buf *b, const char *key, uint64_t v);
/* A decimal field <= max; UT_EMALFORMED when missing or bad. */
int st_get_u64(const struct st_line *l, const char *key, uint64_t max, uint64_t *out);
/* Fails on a key not in the space-separated list allowed. */
int st_line_allow(const struct st_line *l, const char *allowed);
/* The "mode" field: 1 to 4 octal digits. */
int st_get_mode(const struct st_line *l, unsigned *out);
/* The "crc" field: 8 lowercase hex digits. */
int st_get_crc(const struct st_line *l, uint32_t *out);

/* ---- entries ---- */

/* Appends the fields of e (path kind mode size sha256 target cdhash). */
int st_entry_put(struct ut_buf *b, const struct ut_entry *e);
/* Reads the fields of an entry; every field is checked against its kind. */
int st_entry_get(struct ut_entry *e, const struct st_line *l);
int st_entry_copy(struct ut_entry *dst, const struct ut_entry *src);
/* 1 when both describe the same content (kind, mode, sha256/size, target; not cdhash). */
int st_entry_same(const struct ut_entry *a, const struct ut_entry *b);

/* ---- manifest: the pristine state of every path utmpatch changed ---- */

struct st_manifest {
	struct ut_entry *e;
	size_t n, cap;
};

int st_manifest_parse(struct st_manifest *m, const uint8_t *p, size_t len);
int st_manifest_format(const struct st_manifest *m, struct ut_buf *out);
void st_manifest_release(struct st_manifest *m);
/* Index of path, or -1. */
long st_manifest_find(const struct st_manifest *m, const char *path);
/* Appends a copy of e, or replaces the entry with the same path. */
int st_manifest_set(struct st_manifest *m, const struct ut_entry *e);
void st_manifest_remove(struct st_manifest *m, size_t i);

/* ---- installed: the committed state ---- */

struct st_installed {
	char *txn_id;
	int64_t time;
	struct ut_kv *meta;
	size_t nmeta;
	struct st_manifest files; /* state after the change */
};

int st_installed_parse(struct st_installed *in, const uint8_t *p, size_t len);
int st_installed_format(const struct st_installed *in, struct ut_buf *out);
void st_installed_release(struct st_installed *in);

/* ---- journal ---- */

enum st_jtype {
	ST_J_BEGIN = 1,
	ST_J_BACKUP,
	ST_J_STEP,
	ST_J_VERIFIED,
	ST_J_COMMIT,
	ST_J_ROLLBACK_BEGIN,
	ST_J_RESTORED,
	ST_J_ROLLBACK_DONE,
};
const char *st_jtype_name(int type);

enum st_store { ST_STORE_PRISTINE = 1, ST_STORE_UNDO };
enum st_rbmode { ST_RB_UNDO = 1, ST_RB_PRISTINE };
enum st_action { ST_ACT_WRITE = 1, ST_ACT_REPLACE, ST_ACT_DELETE, ST_ACT_SYMLINK, ST_ACT_MKDIR };
const char *st_action_name(int action);

struct st_jrec {
	int type;            /* enum st_jtype */
	uint64_t seq;        /* 1, 2, ... */
	char *id;            /* BEGIN, ROLLBACK-BEGIN */
	char *tool;          /* BEGIN, ROLLBACK-BEGIN */
	char *what;          /* BEGIN */
	char *bundle;        /* BEGIN, ROLLBACK-BEGIN */
	int store;           /* BACKUP: enum st_store */
	struct ut_entry e;   /* BACKUP: state before; STEP/RESTORED: path (+ STEP: new state) */
	uint64_t step;       /* STEP */
	int action;          /* STEP: enum st_action; RESTORED: enum ut_restore_action */
	int rbmode;          /* ROLLBACK-BEGIN, ROLLBACK-DONE: enum st_rbmode */
};

struct st_journal {
	struct st_jrec *r;
	size_t n, cap;
	uint64_t valid_len; /* bytes up to the end of the last valid record */
	int torn;           /* a torn last record was ignored */
};

/*
 * Parses a journal: records must be numbered 1, 2, ... with good checksums;
 * a last record without its newline or with a bad checksum is torn and
 * ignored (torn = 1); any other defect is UT_EMALFORMED "record N: ...".
 */
int st_journal_parse(struct st_journal *j, const uint8_t *p, size_t len);
void st_journal_release(struct st_journal *j);
/* Formats one record (with its checksum and newline). */
int st_jrec_format(const struct st_jrec *r, struct ut_buf *out);

/* What a journal means; validates record order. */
struct st_jstate {
	int install;          /* starts with BEGIN (else ROLLBACK-BEGIN) */
	const struct st_jrec *begin; /* BEGIN or the first ROLLBACK-BEGIN */
	int verified, committed;
	int rb_mode;          /* mode of the last ROLLBACK-BEGIN, 0 when none */
	int rb_done;          /* the last ROLLBACK-BEGIN reached ROLLBACK-DONE */
	size_t nbackup;
	const struct st_jrec *last;      /* last record */
	const struct st_jrec *last_step; /* last STEP, or NULL */
	const struct st_jrec *last_path; /* last record naming a path, or NULL */
};
int st_journal_analyze(const struct st_journal *j, struct st_jstate *s);

/* ---- the per-bundle state directory ---- */

struct st_dir {
	char *bundle;    /* canonical absolute bundle path */
	char *dir;       /* <state_dir>/bundles/<key> */
	char *journal, *manifest, *installed, *installed_new, *lock, *pristine, *undo, *bundle_path;
};

/*
 * Resolves bundle_root (must be an existing directory) and names the state
 * paths.  create: makes the directories (0700) and writes bundle.path;
 * otherwise nothing is created.  A bundle.path naming another bundle is
 * UT_EREFUSED.
 */
int st_dir_open(struct st_dir *d, const char *state_dir, const char *bundle_root, int create);
void st_dir_release(struct st_dir *d);
/* bundle + "/" + rel (malloc'd), NULL on ENOMEM. */
char *st_dir_abs(const struct st_dir *d, const char *rel);
/* Store directory for a store id. */
const char *st_dir_store(const struct st_dir *d, int store);

/* Loads each file; a missing file gives an empty structure and *present = 0. */
int st_manifest_load(struct st_manifest *m, const char *path, int *present);
int st_installed_load(struct st_installed *in, const char *path, int *present);
int st_journal_load(struct st_journal *j, const char *path, int *present);
int st_manifest_save(const struct st_manifest *m, const char *path);
int st_installed_save(const struct st_installed *in, const char *path);

/* A journal to open only when the first record is about to be written. */
struct st_jopen {
	const char *path;
	const struct st_journal *j; /* NULL: a new journal */
	unsigned fail_after;
};

/* Appends records to a journal, each fsync'ed; counts them for fail_after. */
struct st_jwriter {
	int fd;
	char *path;
	uint64_t next_seq;
	unsigned written;
	unsigned fail_after;
};

/*
 * Opens path for appending after j's valid records (a torn tail is cut off
 * first); j NULL creates a new journal (which must not exist).
 */
int st_jwriter_open(struct st_jwriter *w, const char *path, const struct st_journal *j, unsigned fail_after);
/* Sets r->seq, appends, fsyncs; then raise(SIGKILL) when written == fail_after. */
int st_jwriter_add(struct st_jwriter *w, struct st_jrec *r);
void st_jwriter_close(struct st_jwriter *w);

/* Deletes every blob of the pristine store not named by m, and the undo store. */
int st_gc(const struct st_dir *d, const struct st_manifest *m);
/* unlink() that accepts ENOENT; fsyncs the parent when something was removed. */
int st_unlink(const char *path);

/* ---- restoring (ut_state_restore.c) ---- */

struct st_item {
	struct ut_entry e; /* the state to restore */
	int store;         /* enum st_store of its backup */
	int action;        /* enum ut_restore_action, set by st_restore() */
};

struct st_set {
	struct st_item *it;
	size_t n, cap;
};

/* Adds a copy of e unless its path is already in the set (first one wins). */
int st_set_add(struct st_set *s, const struct ut_entry *e, int store);
void st_set_release(struct st_set *s);

/*
 * Puts every path of s back: plans each action from the current state, checks
 * every backup that will be written (nothing is written when one is bad),
 * then (unless o->dry_run, or w is NULL) opens w from lazy when it is not
 * open yet (so nothing is created when a check fails), journals first (when
 * not NULL),
 * creates directories, writes files
 * and symlinks, removes created paths (directories last, deepest first),
 * journals RESTORED for each path, and checks the result (kind, mode,
 * sha256, target; cdhash through o->cdhash_of).  rep (may be NULL) receives
 * the items.
 */
int st_restore(const struct st_dir *d, struct st_set *s, struct st_jwriter *w, const struct st_jopen *lazy,
	       struct st_jrec *first, const struct ut_rollback_opts *o, struct ut_rollback_report *rep);

/* ---- drift (ut_state_inspect.c) ---- */

/* Paths whose current state differs from the installed record; *out malloc'd (ut_state_report-style). */
int st_drift(const struct st_dir *d, const struct st_installed *in, struct ut_drift **out, size_t *n);
void st_drift_free(struct ut_drift *v, size_t n);

/* ---- finishing journals (ut_state_rollback.c) ---- */

/* Undoes an uncommitted transaction with the writer w (ROLLBACK-BEGIN undo ... DONE), then cleans up. */
int st_undo(const struct st_dir *d, const struct st_journal *j, struct st_jwriter *w, const struct ut_rollback_opts *o);
/* After ROLLBACK-DONE undo: drops the transaction's new pristine entries, installed.new, unreferenced blobs, the journal. */
int st_cleanup_undo(const struct st_dir *d, const struct st_journal *j);
/* After COMMIT: installed.new becomes installed, unreferenced blobs go, then the journal. */
int st_finish_commit(const struct st_dir *d);
/* After a full rollback: forgets the bundle (installed, manifest, blobs), the journal last. */
int st_cleanup_all(const struct st_dir *d);

/* A lowercase-hex id from the time, pid and a counter. */
int st_new_id(char **out);

#endif
