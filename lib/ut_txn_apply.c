/*
 * ut_txn_apply.c - the changes of a transaction.  Each one is atomic (temp
 * in the same directory + rename, or a single unlink/rmdir/mkdir), fsync'ed
 * with its directory, then journaled as STEP n with the new state.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_format.h"
#include "cs_hash.h"
#include "ut_backup.h"
#include "ut_bytes.h"
#include "ut_file.h"
#include "ut_limits.h"
#include "ut_platform.h"
#include "ut_txn_int.h"

/* The plan of relpath, its absolute path and current state, after the common checks. */
static int step_start(struct ut_txn *t, const char *relpath, struct txn_plan **p, char **abs, struct ut_entry *cur)
{
	*abs = NULL;
	memset(cur, 0, sizeof(*cur));
	if (!t || t->state != TXN_OPEN)
		return ut_fail(UT_EINVAL, "the transaction is not open");
	if (t->verified)
		return ut_fail(UT_EINVAL, "'%s' changed after the bundle was verified", relpath ? relpath : "");
	int rc = st_relpath_check(relpath);
	if (rc)
		return rc;
	*p = txn_plan_find(t, relpath);
	if (!*p)
		return ut_fail(UT_EINVAL, "'%s' was not planned (ut_txn_plan_file) before being changed", relpath);
	*abs = st_dir_abs(&t->d, relpath);
	if (!*abs)
		return ut_fail(UT_ENOMEM, "out of memory");
	rc = ut_backup_stat(cur, *abs, relpath);
	if (rc) {
		free(*abs);
		*abs = NULL;
	}
	return rc;
}

/* Records the new state of the plan and journals STEP n. */
static int step_done(struct ut_txn *t, struct txn_plan *p, int action, struct ut_entry *after)
{
	ut_entry_release(&p->after);
	p->after = *after; /* takes ownership */
	memset(after, 0, sizeof(*after));
	p->changed = 1;
	struct st_jrec r;
	memset(&r, 0, sizeof(r));
	r.type = ST_J_STEP;
	r.step = t->step + 1;
	r.action = action;
	r.e = p->after;
	int rc = st_jwriter_add(&t->w, &r);
	if (!rc)
		t->step++;
	return rc;
}

/* One change in progress: its path, absolute path, state before, and the state it leaves. */
struct step {
	const char *relpath;
	char *abs;
	struct ut_entry cur, after;
};

/*
 * The frame of every change: the common checks (step_start), fn making the
 * change on disk and describing it in s->after (all but the path), then
 * STEP n in the journal (step_done).
 */
static int run_step(struct ut_txn *t, const char *relpath, int action,
		    int (*fn)(struct step *s, const void *arg), const void *arg)
{
	struct txn_plan *pl = NULL;
	struct step s;
	memset(&s, 0, sizeof(s));
	s.relpath = relpath;
	int rc = step_start(t, relpath, &pl, &s.abs, &s.cur);
	if (rc)
		return rc;
	rc = fn(&s, arg);
	if (!rc && !(s.after.path = strdup(relpath)))
		rc = ut_fail(UT_ENOMEM, "out of memory");
	if (!rc)
		rc = step_done(t, pl, action, &s.after);
	ut_entry_release(&s.after);
	ut_entry_release(&s.cur);
	free(s.abs);
	return rc;
}

static int refuse_dir(const struct step *s)
{
	return s->cur.kind == UT_KIND_DIR ? ut_fail(UT_EREFUSED, "'%s' is a directory", s->relpath) : 0;
}

static int file_mode(const struct ut_entry *cur, int mode)
{
	if (mode >= 0)
		return mode & 07777;
	return cur->kind == UT_KIND_FILE ? (int)cur->mode : 0644;
}

struct write_arg {
	const void *p;          /* the bytes, or NULL: the file src_path */
	size_t len;
	const char *src_path;
	int mode;
};

/* Writes the bytes (or the file) to s->abs atomically. */
static int do_write(struct step *s, const void *varg)
{
	const struct write_arg *w = varg;
	int rc = refuse_dir(s);
	struct ut_src src;
	memset(&src, 0, sizeof(src));
	src.fd = -1;
	if (!rc && w->src_path)
		rc = ut_src_open(&src, w->src_path);
	else if (!rc)
		rc = ut_src_mem(&src, w->p, w->len, s->relpath);
	unsigned type = CS_HASHTYPE_SHA256;
	uint8_t md[1][CS_HASH_MAX_SIZE];
	if (!rc)
		rc = cs_hash_src(&src, 0, src.size, &type, 1, md);
	struct ut_atomic a;
	int m = file_mode(&s->cur, w->mode);
	if (!rc && (rc = ut_atomic_open(&a, s->abs, m)) == 0) {
		rc = ut_atomic_copy(&a, &src, 0, src.size);
		if (!rc)
			rc = ut_atomic_commit(&a);
		else
			ut_atomic_abort(&a);
	}
	if (!rc)
		rc = ut_strip_xattrs(s->abs);
	if (!rc) {
		s->after.kind = UT_KIND_FILE;
		s->after.mode = (unsigned)m;
		s->after.size = src.size;
		ut_hex(s->after.sha256, md[0], 32);
	}
	ut_src_release(&src);
	return rc;
}

int ut_txn_write(struct ut_txn *t, const char *relpath, const void *p, size_t len, int mode)
{
	if (!p && len)
		return ut_fail(UT_EINVAL, "no bytes to write to '%s'", relpath ? relpath : "");
	struct write_arg w = { .p = p ? p : "", .len = len, .mode = mode };
	return run_step(t, relpath, ST_ACT_WRITE, do_write, &w);
}

int ut_txn_replace(struct ut_txn *t, const char *relpath, const char *src_path, int mode)
{
	if (!src_path)
		return ut_fail(UT_EINVAL, "no source file for '%s'", relpath ? relpath : "");
	struct write_arg w = { .src_path = src_path, .mode = mode };
	return run_step(t, relpath, ST_ACT_REPLACE, do_write, &w);
}

/* Removes the file, symlink or (empty) directory; after stays UT_KIND_ABSENT. */
static int do_delete(struct step *s, const void *arg)
{
	(void)arg;
	if (s->cur.kind == UT_KIND_ABSENT)
		return ut_fail(UT_ENOTFOUND, "cannot delete '%s': it does not exist", s->relpath);
	if (s->cur.kind != UT_KIND_DIR)
		return st_unlink(s->abs);
	if (rmdir(s->abs) != 0)
		return ut_fail_errno(UT_EIO, errno, "cannot remove directory '%s'", s->abs);
	return ut_fsync_parent(s->abs);
}

int ut_txn_delete(struct ut_txn *t, const char *relpath)
{
	return run_step(t, relpath, ST_ACT_DELETE, do_delete, NULL);
}

static int do_symlink(struct step *s, const void *target)
{
	int rc = refuse_dir(s);
	if (!rc)
		rc = ut_backup_symlink(s->abs, target);
	if (!rc) {
		s->after.kind = UT_KIND_SYMLINK;
		if (!(s->after.target = strdup(target)))
			rc = ut_fail(UT_ENOMEM, "out of memory");
	}
	return rc;
}

int ut_txn_symlink(struct ut_txn *t, const char *relpath, const char *target)
{
	if (!target || !*target || strlen(target) > UT_MAX_PATH_STR)
		return ut_fail(UT_EINVAL, "bad symlink target for '%s'", relpath ? relpath : "");
	return run_step(t, relpath, ST_ACT_SYMLINK, do_symlink, target);
}

static int do_mkdir(struct step *s, const void *arg)
{
	unsigned mode = *(const unsigned *)arg;
	if (s->cur.kind != UT_KIND_ABSENT)
		return ut_fail(UT_EEXIST, "cannot create directory '%s': it exists", s->relpath);
	if (mkdir(s->abs, mode) != 0 || chmod(s->abs, mode) != 0)
		return ut_fail_errno(UT_EIO, errno, "cannot create directory '%s'", s->abs);
	int rc = ut_fsync_parent(s->abs);
	if (!rc) {
		s->after.kind = UT_KIND_DIR;
		s->after.mode = mode;
	}
	return rc;
}

int ut_txn_mkdir(struct ut_txn *t, const char *relpath, unsigned mode)
{
	mode &= 07777;
	return run_step(t, relpath, ST_ACT_MKDIR, do_mkdir, &mode);
}
