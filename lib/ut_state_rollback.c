/*
 * ut_state_rollback.c - finishing interrupted journals and going back to
 * pristine (ut_rollback, ut_state_recover).  Recovery rules:
 * docs/transaction.md.
 *
 * Every cleanup step is idempotent and the journal is removed last, so a
 * crash anywhere leaves a journal that says what is left to do.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ut_file.h"
#include "ut_state_int.h"

int st_finish_commit(const struct st_dir *d)
{
	struct stat st;
	int rc = 0;
	if (lstat(d->installed_new, &st) == 0) {
		if (rename(d->installed_new, d->installed) != 0)
			return ut_fail_errno(UT_EIO, errno, "cannot rename '%s'", d->installed_new);
		rc = ut_fsync_parent(d->installed);
	}
	struct st_manifest m;
	int have;
	if (!rc)
		rc = st_manifest_load(&m, d->manifest, &have);
	if (!rc) {
		rc = st_gc(d, &m);
		st_manifest_release(&m);
	}
	return rc ? rc : st_unlink(d->journal);
}

int st_cleanup_undo(const struct st_dir *d, const struct st_journal *j)
{
	int rc = st_unlink(d->installed_new);
	struct st_manifest m;
	struct st_installed in;
	int have_m = 0, have_in = 0, changed = 0;
	memset(&m, 0, sizeof(m));
	memset(&in, 0, sizeof(in));
	if (!rc)
		rc = st_manifest_load(&m, d->manifest, &have_m);
	if (!rc)
		rc = st_installed_load(&in, d->installed, &have_in);
	/* paths first backed up by this transaction were not pristine-recorded before it */
	for (size_t i = 0; !rc && i < j->n; i++) {
		const struct st_jrec *r = &j->r[i];
		long k;
		if (r->type == ST_J_BACKUP && r->store == ST_STORE_PRISTINE && (k = st_manifest_find(&m, r->e.path)) >= 0) {
			st_manifest_remove(&m, (size_t)k);
			changed = 1;
		}
	}
	if (!rc && have_m && m.n == 0 && !have_in)
		rc = st_unlink(d->manifest);
	else if (!rc && changed)
		rc = st_manifest_save(&m, d->manifest);
	if (!rc)
		rc = st_gc(d, &m);
	st_manifest_release(&m);
	st_installed_release(&in);
	return rc ? rc : st_unlink(d->journal);
}

int st_cleanup_all(const struct st_dir *d)
{
	int rc = st_unlink(d->installed);
	if (!rc)
		rc = st_unlink(d->installed_new);
	if (!rc)
		rc = st_unlink(d->manifest);
	if (!rc)
		rc = st_gc(d, NULL);
	return rc ? rc : st_unlink(d->journal);
}

static void rb_rec(struct st_jrec *r, int type, int mode, const struct st_dir *d, const char *id,
		   const struct ut_rollback_opts *o)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->rbmode = mode;
	r->id = (char *)id;
	r->tool = (char *)(o && o->tool_version ? o->tool_version : "unknown");
	r->bundle = d->bundle;
}

int st_undo(const struct st_dir *d, const struct st_journal *j, struct st_jwriter *w, const struct ut_rollback_opts *o)
{
	struct st_set set;
	memset(&set, 0, sizeof(set));
	int rc = 0;
	for (size_t i = 0; i < j->n && !rc; i++)
		if (j->r[i].type == ST_J_BACKUP)
			rc = st_set_add(&set, &j->r[i].e, j->r[i].store);
	const char *id = j->n ? j->r[0].id : "undo";
	struct st_jrec begin, done;
	rb_rec(&begin, ST_J_ROLLBACK_BEGIN, ST_RB_UNDO, d, id, o);
	rb_rec(&done, ST_J_ROLLBACK_DONE, ST_RB_UNDO, d, id, o);
	struct ut_rollback_opts plain = { 0 };
	if (o) {
		plain = *o;
		plain.dry_run = 0;
	}
	if (!rc)
		rc = st_restore(d, &set, w, NULL, &begin, &plain, NULL);
	if (!rc)
		rc = st_jwriter_add(w, &done);
	st_set_release(&set);
	return rc ? ut_ctx(rc, "undo of transaction '%s'", id) : st_cleanup_undo(d, j);
}

/* Manifest entries plus the pristine backups an unfinished transaction made. */
static int pristine_set(struct st_set *set, const struct st_manifest *m, const struct st_journal *j)
{
	memset(set, 0, sizeof(*set));
	int rc = 0;
	for (size_t i = 0; i < m->n && !rc; i++)
		rc = st_set_add(set, &m->e[i], ST_STORE_PRISTINE);
	for (size_t i = 0; j && i < j->n && !rc; i++)
		if (j->r[i].type == ST_J_BACKUP && j->r[i].store == ST_STORE_PRISTINE)
			rc = st_set_add(set, &j->r[i].e, ST_STORE_PRISTINE);
	return rc;
}

/* Restores the pristine set, appending to j (or a new journal when j is NULL), then forgets the bundle. */
static int to_pristine(const struct st_dir *d, const struct st_manifest *m, const struct st_journal *j,
		       const struct ut_rollback_opts *o, struct ut_rollback_report *rep)
{
	struct st_set set;
	int rc = pristine_set(&set, m, j);
	int dry = o && o->dry_run;
	struct st_jwriter w;
	memset(&w, 0, sizeof(w));
	w.fd = -1;
	char *id = NULL;
	if (!rc && !dry)
		rc = st_new_id(&id);
	struct st_jopen lazy = { d->journal, j, o ? o->fail_after : 0 };
	struct st_jrec begin, done;
	rb_rec(&begin, ST_J_ROLLBACK_BEGIN, ST_RB_PRISTINE, d, id, o);
	rb_rec(&done, ST_J_ROLLBACK_DONE, ST_RB_PRISTINE, d, id, o);
	if (!rc)
		rc = st_restore(d, &set, dry ? NULL : &w, &lazy, &begin, o, rep);
	if (!rc && !dry)
		rc = st_jwriter_add(&w, &done);
	st_jwriter_close(&w);
	if (!rc && !dry)
		rc = st_cleanup_all(d);
	st_set_release(&set);
	free(id);
	return rc;
}

/* Opens the bundle's state (absent: *none = 1), takes the lock, loads the journal. */
static int open_locked(struct st_dir *d, struct ut_lock *l, struct st_journal *j, int *have_j, int *none,
		       const char *state_dir, const char *bundle_root)
{
	*none = 0;
	*have_j = 0;
	memset(j, 0, sizeof(*j));
	l->fd = -1;
	l->path = NULL;
	int rc = st_dir_open(d, state_dir, bundle_root, 0);
	if (rc)
		return rc;
	struct stat st;
	if (stat(d->dir, &st) != 0) {
		*none = 1;
		return 0;
	}
	rc = ut_lock_acquire(l, d->lock, d->bundle);
	if (!rc)
		rc = st_journal_load(j, d->journal, have_j);
	return rc;
}

int ut_rollback(struct ut_rollback_report *out, const char *state_dir, const char *bundle_root,
		const struct ut_rollback_opts *o)
{
	struct ut_rollback_report dummy;
	struct ut_rollback_report *rep = out ? out : &dummy;
	memset(rep, 0, sizeof(*rep));
	int dry = o && o->dry_run;
	struct st_dir d;
	struct ut_lock l;
	struct st_journal j;
	struct st_jstate js;
	struct st_manifest m;
	struct st_installed in;
	int have_j, have_m = 0, have_in = 0, none;
	memset(&m, 0, sizeof(m));
	memset(&in, 0, sizeof(in));
	int rc = open_locked(&d, &l, &j, &have_j, &none, state_dir, bundle_root);
	if (!rc && none) {
		rep->was_pristine = 1;
		goto out;
	}
	if (!rc && have_j && (rc = st_journal_analyze(&j, &js)) == 0 && !dry) {
		/* journals that need no bundle writes are finished first */
		if (!js.begin)
			rc = st_unlink(d.journal);
		else if (js.rb_done && js.rb_mode == ST_RB_UNDO)
			rc = st_cleanup_undo(&d, &j);
		else if (js.rb_done)
			rc = st_cleanup_all(&d);
		else if (js.committed && !js.rb_mode)
			rc = st_finish_commit(&d);
		else
			goto load;
		rep->finished = 1;
		have_j = 0;
		if (!rc && js.rb_done && js.rb_mode == ST_RB_PRISTINE)
			goto out;
	}
load:
	if (!rc)
		rc = st_manifest_load(&m, d.manifest, &have_m);
	if (!rc)
		rc = st_installed_load(&in, d.installed, &have_in);
	if (rc)
		goto out;
	if (have_j) {
		rep->finished = !dry;
		rc = to_pristine(&d, &m, &j, o, rep);
		goto out;
	}
	if (have_in && !have_m) {
		rc = ut_fail(UT_EMALFORMED, "'%s' is missing: the pristine record of '%s' is lost", d.manifest, d.bundle);
		goto out;
	}
	if (!have_in) {
		/* nothing installed: leftovers of an undone transaction are not pristine records */
		rep->was_pristine = 1;
		if (!dry)
			rc = st_cleanup_all(&d);
		goto out;
	}
	if (!(o && o->force)) {
		struct ut_drift *dv = NULL;
		size_t nd = 0;
		rc = st_drift(&d, &in, &dv, &nd);
		if (!rc && nd)
			rc = ut_fail(UT_EREFUSED,
				     "'%s' changed since utmpatch patched it ('%s' %s%s); rolling back would overwrite "
				     "that, use --force to do it anyway",
				     d.bundle, dv[0].path, dv[0].what, nd > 1 ? " and more" : "");
		st_drift_free(dv, nd);
	}
	if (!rc)
		rc = to_pristine(&d, &m, NULL, o, rep);
out:
	if (rep == &dummy)
		ut_rollback_report_release(&dummy);
	st_manifest_release(&m);
	st_installed_release(&in);
	st_journal_release(&j);
	ut_lock_release(&l);
	st_dir_release(&d);
	return rc;
}

int ut_state_recover(int *recovered, const char *state_dir, const char *bundle_root,
		     const struct ut_rollback_opts *o)
{
	if (recovered)
		*recovered = 0;
	struct st_dir d;
	struct ut_lock l;
	struct st_journal j;
	struct st_jstate js;
	int have_j, none;
	int rc = open_locked(&d, &l, &j, &have_j, &none, state_dir, bundle_root);
	if (rc || none || !have_j)
		goto out;
	if ((rc = st_journal_analyze(&j, &js)) != 0)
		goto out;
	if (recovered)
		*recovered = 1;
	if (!js.begin) {
		rc = st_unlink(d.journal);
	} else if (js.rb_done) {
		rc = js.rb_mode == ST_RB_UNDO ? st_cleanup_undo(&d, &j) : st_cleanup_all(&d);
	} else if (js.committed && !js.rb_mode) {
		rc = st_finish_commit(&d);
	} else if (js.rb_mode == ST_RB_PRISTINE) {
		struct st_manifest m;
		int have_m;
		struct ut_rollback_opts plain = { 0 };
		if (o)
			plain = *o;
		plain.dry_run = 0;
		if ((rc = st_manifest_load(&m, d.manifest, &have_m)) == 0)
			rc = to_pristine(&d, &m, &j, &plain, NULL);
		st_manifest_release(&m);
	} else {
		struct st_jwriter w;
		rc = st_jwriter_open(&w, d.journal, &j, o ? o->fail_after : 0);
		if (!rc)
			rc = st_undo(&d, &j, &w, o);
		st_jwriter_close(&w);
	}
out:
	st_journal_release(&j);
	ut_lock_release(&l);
	st_dir_release(&d);
	return rc;
}
