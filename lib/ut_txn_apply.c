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

static int file_mode(const struct ut_entry *cur, int mode)
{
	if (mode >= 0)
		return mode & 07777;
	return cur->kind == UT_KIND_FILE ? (int)cur->mode : 0644;
}

static int new_file_entry(struct ut_entry *e, const char *relpath, unsigned mode, uint64_t size, const uint8_t *md)
{
	memset(e, 0, sizeof(*e));
	e->path = strdup(relpath);
	if (!e->path)
		return ut_fail(UT_ENOMEM, "out of memory");
	e->kind = UT_KIND_FILE;
	e->mode = mode;
	e->size = size;
	ut_hex(e->sha256, md, 32);
	return 0;
}

/* Writes len bytes from p, or from src when p is NULL, to abs atomically. */
static int write_common(struct ut_txn *t, const char *relpath, const void *p, size_t len, const char *src_path,
			int mode, int action)
{
	struct txn_plan *pl;
	char *abs;
	struct ut_entry cur, after;
	memset(&after, 0, sizeof(after));
	int rc = step_start(t, relpath, &pl, &abs, &cur);
	if (rc)
		return rc;
	if (cur.kind == UT_KIND_DIR)
		rc = ut_fail(UT_EREFUSED, "'%s' is a directory", relpath);
	struct ut_src s;
	memset(&s, 0, sizeof(s));
	s.fd = -1;
	if (!rc)
		rc = src_path ? ut_src_open(&s, src_path) : ut_src_mem(&s, p, len, relpath);
	unsigned type = CS_HASHTYPE_SHA256;
	uint8_t md[1][CS_HASH_MAX_SIZE];
	if (!rc)
		rc = cs_hash_src(&s, 0, s.size, &type, 1, md);
	struct ut_atomic a;
	int m = file_mode(&cur, mode);
	if (!rc && (rc = ut_atomic_open(&a, abs, m)) == 0) {
		rc = ut_atomic_copy(&a, &s, 0, s.size);
		if (!rc)
			rc = ut_atomic_commit(&a);
		else
			ut_atomic_abort(&a);
	}
	if (!rc)
		rc = ut_strip_xattrs(abs);
	if (!rc)
		rc = new_file_entry(&after, relpath, (unsigned)m, s.size, md[0]);
	ut_src_release(&s);
	if (!rc)
		rc = step_done(t, pl, action, &after);
	ut_entry_release(&after);
	ut_entry_release(&cur);
	free(abs);
	return rc;
}

int ut_txn_write(struct ut_txn *t, const char *relpath, const void *p, size_t len, int mode)
{
	if (!p && len)
		return ut_fail(UT_EINVAL, "no bytes to write to '%s'", relpath ? relpath : "");
	return write_common(t, relpath, p ? p : "", len, NULL, mode, ST_ACT_WRITE);
}

int ut_txn_replace(struct ut_txn *t, const char *relpath, const char *src_path, int mode)
{
	if (!src_path)
		return ut_fail(UT_EINVAL, "no source file for '%s'", relpath ? relpath : "");
	return write_common(t, relpath, NULL, 0, src_path, mode, ST_ACT_REPLACE);
}

int ut_txn_delete(struct ut_txn *t, const char *relpath)
{
	struct txn_plan *pl;
	char *abs;
	struct ut_entry cur, after;
	memset(&after, 0, sizeof(after));
	int rc = step_start(t, relpath, &pl, &abs, &cur);
	if (rc)
		return rc;
	if (cur.kind == UT_KIND_ABSENT)
		rc = ut_fail(UT_ENOTFOUND, "cannot delete '%s': it does not exist", relpath);
	else if (cur.kind == UT_KIND_DIR && rmdir(abs) != 0)
		rc = ut_fail_errno(UT_EIO, errno, "cannot remove directory '%s'", abs);
	else if (cur.kind == UT_KIND_DIR)
		rc = ut_fsync_parent(abs);
	else
		rc = st_unlink(abs);
	if (!rc && !(after.path = strdup(relpath)))
		rc = ut_fail(UT_ENOMEM, "out of memory");
	if (!rc)
		rc = step_done(t, pl, ST_ACT_DELETE, &after); /* after.kind is UT_KIND_ABSENT */
	ut_entry_release(&after);
	ut_entry_release(&cur);
	free(abs);
	return rc;
}

int ut_txn_symlink(struct ut_txn *t, const char *relpath, const char *target)
{
	if (!target || !*target || strlen(target) > UT_MAX_PATH_STR)
		return ut_fail(UT_EINVAL, "bad symlink target for '%s'", relpath ? relpath : "");
	struct txn_plan *pl;
	char *abs;
	struct ut_entry cur, after;
	memset(&after, 0, sizeof(after));
	int rc = step_start(t, relpath, &pl, &abs, &cur);
	if (rc)
		return rc;
	if (cur.kind == UT_KIND_DIR)
		rc = ut_fail(UT_EREFUSED, "'%s' is a directory", relpath);
	if (!rc)
		rc = ut_backup_symlink(abs, target);
	if (!rc) {
		after.kind = UT_KIND_SYMLINK;
		after.path = strdup(relpath);
		after.target = strdup(target);
		if (!after.path || !after.target)
			rc = ut_fail(UT_ENOMEM, "out of memory");
	}
	if (!rc)
		rc = step_done(t, pl, ST_ACT_SYMLINK, &after);
	ut_entry_release(&after);
	ut_entry_release(&cur);
	free(abs);
	return rc;
}

int ut_txn_mkdir(struct ut_txn *t, const char *relpath, unsigned mode)
{
	struct txn_plan *pl;
	char *abs;
	struct ut_entry cur, after;
	memset(&after, 0, sizeof(after));
	int rc = step_start(t, relpath, &pl, &abs, &cur);
	if (rc)
		return rc;
	mode &= 07777;
	if (cur.kind != UT_KIND_ABSENT)
		rc = ut_fail(UT_EEXIST, "cannot create directory '%s': it exists", relpath);
	else if (mkdir(abs, mode) != 0 || chmod(abs, mode) != 0)
		rc = ut_fail_errno(UT_EIO, errno, "cannot create directory '%s'", abs);
	else
		rc = ut_fsync_parent(abs);
	if (!rc) {
		after.kind = UT_KIND_DIR;
		after.mode = mode;
		if (!(after.path = strdup(relpath)))
			rc = ut_fail(UT_ENOMEM, "out of memory");
	}
	if (!rc)
		rc = step_done(t, pl, ST_ACT_MKDIR, &after);
	ut_entry_release(&after);
	ut_entry_release(&cur);
	free(abs);
	return rc;
}
