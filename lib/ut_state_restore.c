/*
 * ut_state_restore.c - puts a set of paths back to recorded states (the undo
 * of a transaction, or the pristine state).  Idempotent: a path already in
 * its recorded state is left alone, so running it again after a crash
 * finishes the job.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ut_backup.h"
#include "ut_file.h"
#include "ut_platform.h"
#include "ut_state_int.h"

const char *ut_restore_action_name(int action)
{
	switch (action) {
	case UT_RESTORE_UNCHANGED: return "unchanged";
	case UT_RESTORE_WRITTEN: return "written";
	case UT_RESTORE_REMOVED: return "removed";
	case UT_RESTORE_MKDIR: return "mkdir";
	}
	return "?";
}

int st_set_add(struct st_set *s, const struct ut_entry *e, int store)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->it[i].e.path, e->path) == 0)
			return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct st_item *ni = realloc(s->it, cap * sizeof(*ni));
		if (!ni)
			return ut_fail(UT_ENOMEM, "out of memory");
		s->it = ni;
		s->cap = cap;
	}
	struct st_item *it = &s->it[s->n];
	memset(it, 0, sizeof(*it));
	int rc = st_entry_copy(&it->e, e);
	if (rc)
		return rc;
	it->store = store;
	s->n++;
	return 0;
}

void st_set_release(struct st_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		ut_entry_release(&s->it[i].e);
	free(s->it);
	memset(s, 0, sizeof(*s));
}

/* What it takes to bring cur to e; fails on a kind change we do not undo blindly. */
static int plan_item(const struct ut_entry *e, const struct ut_entry *cur, int *action)
{
	if (st_entry_same(e, cur)) {
		*action = UT_RESTORE_UNCHANGED;
		return 0;
	}
	if (e->kind == UT_KIND_DIR) {
		if (cur->kind != UT_KIND_ABSENT && cur->kind != UT_KIND_DIR)
			return ut_fail(UT_EREFUSED, "'%s' is now a %s, its pristine state is a directory", e->path,
				       ut_kind_name(cur->kind));
		*action = UT_RESTORE_MKDIR;
		return 0;
	}
	if (e->kind == UT_KIND_ABSENT) {
		*action = UT_RESTORE_REMOVED;
		return 0;
	}
	if (cur->kind == UT_KIND_DIR)
		return ut_fail(UT_EREFUSED, "'%s' is now a directory, its pristine state is a %s", e->path,
			       ut_kind_name(e->kind));
	*action = UT_RESTORE_WRITTEN;
	return 0;
}

static int cmp_path_up(const void *a, const void *b)
{
	return strcmp((*(struct st_item *const *)a)->e.path, (*(struct st_item *const *)b)->e.path);
}

static int cmp_path_down(const void *a, const void *b) { return -cmp_path_up(a, b); }

/* Applies one planned item (cur_kind: what is there now). */
static int apply_item(const struct st_dir *d, const struct st_item *it, int cur_kind, const char *abs)
{
	const struct ut_entry *e = &it->e;
	int rc = 0;
	switch (it->action) {
	case UT_RESTORE_MKDIR:
		if (cur_kind == UT_KIND_ABSENT && mkdir(abs, e->mode) != 0)
			return ut_fail_errno(UT_EIO, errno, "cannot create directory '%s'", abs);
		if (chmod(abs, e->mode) != 0)
			return ut_fail_errno(UT_EIO, errno, "cannot set the mode of '%s'", abs);
		return ut_fsync_parent(abs);
	case UT_RESTORE_REMOVED:
		if (cur_kind == UT_KIND_DIR) {
			if (rmdir(abs) != 0)
				return ut_fail_errno(UT_EREFUSED, errno,
						     "cannot remove directory '%s' (utmpatch created it; it holds other files now?)",
						     abs);
			return ut_fsync_parent(abs);
		}
		return st_unlink(abs);
	case UT_RESTORE_WRITTEN:
		if ((rc = ut_backup_sweep_temps(abs)) != 0)
			return rc;
		if (e->kind == UT_KIND_SYMLINK)
			return ut_backup_symlink(abs, e->target);
		rc = ut_backup_restore_file(st_dir_store(d, it->store), e, abs);
		if (!rc)
			rc = ut_strip_xattrs(abs);
		return rc;
	}
	return ut_backup_sweep_temps(abs);
}

static int journal_restored(struct st_jwriter *w, const struct st_item *it)
{
	struct st_jrec r;
	memset(&r, 0, sizeof(r));
	r.type = ST_J_RESTORED;
	r.e.path = it->e.path;
	r.action = it->action;
	return st_jwriter_add(w, &r);
}

/* Checks the restored state of it against its record; cdhash through the callback. */
static int check_item(const struct st_dir *d, const struct st_item *it, const struct ut_rollback_opts *o,
		      struct ut_restored *out)
{
	char *abs = st_dir_abs(d, it->e.path);
	if (!abs)
		return ut_fail(UT_ENOMEM, "out of memory");
	struct ut_entry now;
	int rc = ut_backup_stat(&now, abs, it->e.path);
	if (!rc && !st_entry_same(&it->e, &now))
		rc = ut_fail(UT_EVERIFY, "'%s' does not match its recorded state after restoring it (%s%s%s, expected %s%s%s)",
			     it->e.path, ut_kind_name(now.kind), now.kind == UT_KIND_FILE ? " sha256 " : "",
			     now.kind == UT_KIND_FILE ? now.sha256 : "", ut_kind_name(it->e.kind),
			     it->e.kind == UT_KIND_FILE ? " sha256 " : "", it->e.kind == UT_KIND_FILE ? it->e.sha256 : "");
	if (!rc && it->e.cdhash[0] && o && o->cdhash_of) {
		char hex[41] = "";
		rc = o->cdhash_of(o->cdhash_ctx, abs, hex);
		if (rc)
			rc = ut_ctx(rc, "cdhash of '%s'", it->e.path);
		else if (strcmp(hex, it->e.cdhash) != 0)
			rc = ut_fail(UT_EVERIFY, "'%s' has cdhash %.40s after restoring it, the manifest says %s", it->e.path,
				     hex, it->e.cdhash);
		else if (out)
			out->cdhash_checked = 1;
	}
	ut_entry_release(&now);
	free(abs);
	return rc;
}

static int fill_report(const struct st_set *s, struct ut_rollback_report *rep)
{
	if (!rep)
		return 0;
	rep->items = calloc(s->n ? s->n : 1, sizeof(*rep->items));
	if (!rep->items)
		return ut_fail(UT_ENOMEM, "out of memory");
	rep->n = s->n;
	for (size_t i = 0; i < s->n; i++) {
		const struct st_item *it = &s->it[i];
		struct ut_restored *r = &rep->items[i];
		if (!(r->path = strdup(it->e.path)))
			return ut_fail(UT_ENOMEM, "out of memory");
		r->kind = it->e.kind;
		r->action = it->action;
		memcpy(r->sha256, it->e.sha256, sizeof(r->sha256));
		memcpy(r->cdhash, it->e.cdhash, sizeof(r->cdhash));
		rep->nwritten += it->action == UT_RESTORE_WRITTEN;
		rep->nremoved += it->action == UT_RESTORE_REMOVED;
		rep->nunchanged += it->action == UT_RESTORE_UNCHANGED;
		rep->nmkdir += it->action == UT_RESTORE_MKDIR;
	}
	return 0;
}

/* Plans every item and checks the backups it needs; curkind[i] receives the current kind. */
static int plan_all(const struct st_dir *d, struct st_set *s, int *curkind)
{
	int rc = 0;
	for (size_t i = 0; i < s->n && !rc; i++) {
		struct st_item *it = &s->it[i];
		char *abs = st_dir_abs(d, it->e.path);
		struct ut_entry cur;
		rc = abs ? ut_backup_stat(&cur, abs, it->e.path) : ut_fail(UT_ENOMEM, "out of memory");
		if (!rc) {
			rc = plan_item(&it->e, &cur, &it->action);
			curkind[i] = cur.kind;
			ut_entry_release(&cur);
		}
		if (!rc && it->action == UT_RESTORE_WRITTEN && it->e.kind == UT_KIND_FILE)
			rc = ut_backup_check(st_dir_store(d, it->store), &it->e);
		free(abs);
	}
	return rc;
}

int st_restore(const struct st_dir *d, struct st_set *s, struct st_jwriter *w, const struct st_jopen *lazy,
	       struct st_jrec *first, const struct ut_rollback_opts *o, struct ut_rollback_report *rep)
{
	int *curkind = calloc(s->n ? s->n : 1, sizeof(int));
	struct st_item **order = calloc(s->n ? s->n : 1, sizeof(*order));
	int rc = !curkind || !order ? ut_fail(UT_ENOMEM, "out of memory") : plan_all(d, s, curkind);
	if (!rc)
		rc = fill_report(s, rep);
	if (rc || (o && o->dry_run) || !w)
		goto out;
	if (w->fd < 0 && lazy && (rc = st_jwriter_open(w, lazy->path, lazy->j, lazy->fail_after)) != 0)
		goto out;
	if (first && (rc = st_jwriter_add(w, first)) != 0)
		goto out;
	/* pass 1: directories, parents first; 2: files, symlinks, removals; 3: created directories, deepest first */
	for (int pass = 1; pass <= 3 && !rc; pass++) {
		size_t n = 0;
		for (size_t i = 0; i < s->n; i++) {
			const struct st_item *it = &s->it[i];
			int dirpass = it->action == UT_RESTORE_MKDIR ? 1
				      : it->action == UT_RESTORE_REMOVED && curkind[i] == UT_KIND_DIR ? 3
													      : 2;
			if (dirpass == pass)
				order[n++] = &s->it[i];
		}
		qsort(order, n, sizeof(*order), pass == 3 ? cmp_path_down : cmp_path_up);
		for (size_t k = 0; k < n && !rc; k++) {
			size_t i = (size_t)(order[k] - s->it);
			char *abs = st_dir_abs(d, order[k]->e.path);
			rc = abs ? apply_item(d, order[k], curkind[i], abs) : ut_fail(UT_ENOMEM, "out of memory");
			if (!rc)
				rc = journal_restored(w, order[k]);
			free(abs);
		}
	}
	for (size_t i = 0; i < s->n && !rc; i++) {
		rc = check_item(d, &s->it[i], o, rep ? &rep->items[i] : NULL);
		if (rep && !rc && s->it[i].e.cdhash[0]) {
			rep->ncdhash_checked += rep->items[i].cdhash_checked;
			rep->ncdhash_unchecked += !rep->items[i].cdhash_checked;
		}
	}
out:
	free(curkind);
	free(order);
	return rc;
}

void ut_rollback_report_release(struct ut_rollback_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->items && i < r->n; i++)
		free(r->items[i].path);
	free(r->items);
	memset(r, 0, sizeof(*r));
}
