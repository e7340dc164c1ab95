/*
 * ut_txn.c - the journaled transaction: begin (lock, refusals, drift),
 * planning (backups), verified, commit, abort.  The changes themselves are in
 * ut_txn_apply.c.  Journal and recovery rules: docs/transaction.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ut_backup.h"
#include "ut_file.h"
#include "ut_txn_int.h"

struct txn_plan *txn_plan_find(struct ut_txn *t, const char *relpath)
{
	for (size_t i = 0; i < t->np; i++)
		if (strcmp(t->p[i].before.path, relpath) == 0)
			return &t->p[i];
	return NULL;
}

const char *ut_txn_note(const struct ut_txn *t) { return t->note[0] ? t->note : NULL; }
const char *ut_txn_id(const struct ut_txn *t) { return t->id; }

static void note_add(struct ut_txn *t, const char *s)
{
	size_t n = strlen(t->note);
	snprintf(t->note + n, sizeof(t->note) - n, "%s%s", n ? "; " : "", s);
}

/*
 * --force on a drifted bundle: each drifted path's current state becomes its
 * pristine record (backup first, then the manifest, atomically), and leaves
 * the installed record.
 */
static int adopt_drift(struct ut_txn *t, struct st_installed *in, const struct ut_drift *dv, size_t nd)
{
	int rc = 0;
	for (size_t i = 0; i < nd && !rc; i++) {
		char *abs = st_dir_abs(&t->d, dv[i].path);
		struct ut_entry now;
		rc = abs ? ut_backup_stat(&now, abs, dv[i].path) : ut_fail(UT_ENOMEM, "out of memory");
		if (!rc) {
			rc = ut_backup_store(t->d.pristine, abs, &now);
			if (!rc)
				rc = st_manifest_set(&t->man, &now);
			ut_entry_release(&now);
		}
		long k = rc ? -1 : st_manifest_find(&in->files, dv[i].path);
		if (k >= 0)
			st_manifest_remove(&in->files, (size_t)k);
		free(abs);
	}
	if (!rc)
		rc = st_manifest_save(&t->man, t->d.manifest);
	if (!rc)
		rc = in->files.n ? st_installed_save(in, t->d.installed) : st_unlink(t->d.installed);
	if (!rc) {
		char msg[160];
		snprintf(msg, sizeof(msg), "adopted %zu changed path%s as pristine (--force)", nd, nd == 1 ? "" : "s");
		note_add(t, msg);
	}
	return rc;
}

/* Refuses a journal; checks drift; loads the manifest. */
static int begin_checks(struct ut_txn *t, int force)
{
	struct st_journal j;
	int have_j, have_m, have_in;
	int rc = st_journal_load(&j, t->d.journal, &have_j);
	if (!rc && have_j) {
		struct st_jstate js;
		if (st_journal_analyze(&j, &js) == 0 && js.begin)
			rc = ut_fail(UT_EREFUSED, "'%s' has an interrupted %s ('%s', last record %s); run 'utmpatch rollback'",
				     t->d.bundle, js.install ? "transaction" : "rollback",
				     js.begin->what ? js.begin->what : "rollback", st_jtype_name(js.last->type));
		else
			rc = ut_fail(UT_EREFUSED, "'%s' has an interrupted transaction; run 'utmpatch rollback'", t->d.bundle);
	}
	st_journal_release(&j);
	if (rc)
		return rc;
	struct st_installed in;
	if ((rc = st_installed_load(&in, t->d.installed, &have_in)) != 0)
		return rc;
	if (!have_in) {
		/* nothing installed: old pristine records are leftovers, not pristine any more */
		rc = st_cleanup_all(&t->d);
		st_installed_release(&in);
		return rc;
	}
	rc = st_manifest_load(&t->man, t->d.manifest, &have_m);
	if (!rc && !have_m)
		rc = ut_fail(UT_EMALFORMED, "'%s' is missing: the pristine record of '%s' is lost", t->d.manifest,
			     t->d.bundle);
	struct ut_drift *dv = NULL;
	size_t nd = 0;
	if (!rc)
		rc = st_drift(&t->d, &in, &dv, &nd);
	if (!rc && nd && !force)
		rc = ut_fail(UT_EREFUSED,
			     "'%s' changed since utmpatch patched it ('%s' %s%s); see 'utmpatch status', or use --force",
			     t->d.bundle, dv[0].path, dv[0].what, nd > 1 ? " and more" : "");
	else if (!rc && nd)
		rc = adopt_drift(t, &in, dv, nd);
	st_drift_free(dv, nd);
	st_installed_release(&in);
	return rc;
}

int ut_txn_begin(struct ut_txn **out, const char *state_dir, const char *bundle_root, const struct ut_txn_opts *opts)
{
	*out = NULL;
	static const struct ut_txn_opts none;
	const struct ut_txn_opts *o = opts ? opts : &none;
	struct ut_txn *t = calloc(1, sizeof(*t));
	if (!t)
		return ut_fail(UT_ENOMEM, "out of memory");
	t->lock.fd = -1;
	t->w.fd = -1;
	int rc = st_dir_open(&t->d, state_dir, bundle_root, 1);
	if (!rc)
		rc = ut_lock_acquire(&t->lock, t->d.lock, t->d.bundle);
	if (!rc && t->lock.note[0])
		note_add(t, t->lock.note);
	if (!rc)
		rc = begin_checks(t, o->force);
	if (!rc)
		rc = st_new_id(&t->id);
	if (!rc)
		rc = st_jwriter_open(&t->w, t->d.journal, NULL, o->fail_after);
	if (!rc) {
		struct st_jrec r;
		memset(&r, 0, sizeof(r));
		r.type = ST_J_BEGIN;
		r.id = t->id;
		r.tool = (char *)(o->tool_version ? o->tool_version : "unknown");
		r.what = (char *)(o->what ? o->what : "");
		r.bundle = t->d.bundle;
		rc = st_jwriter_add(&t->w, &r);
		if (rc)
			st_unlink(t->d.journal); /* nothing was done */
	}
	if (rc) {
		ut_txn_free(t);
		return rc;
	}
	t->state = TXN_OPEN;
	*out = t;
	return 0;
}

/* Refuses paths that go through a symlink or a non-directory inside the bundle. */
static int check_parents(const struct ut_txn *t, const char *rel)
{
	char *abs = st_dir_abs(&t->d, rel);
	if (!abs)
		return ut_fail(UT_ENOMEM, "out of memory");
	size_t base = strlen(t->d.bundle) + 1;
	int rc = 0;
	for (char *p = abs + base; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		struct stat st;
		if (lstat(abs, &st) != 0) {
			if (errno != ENOENT)
				rc = ut_fail_errno(UT_EIO, errno, "cannot stat '%s'", abs);
			*p = '/';
			break;
		}
		if (!S_ISDIR(st.st_mode))
			rc = ut_fail(UT_EREFUSED, "'%s' goes through '%s', which is %s", rel, abs + base,
				     S_ISLNK(st.st_mode) ? "a symlink (name the real path)" : "not a directory");
		*p = '/';
		if (rc)
			break;
	}
	free(abs);
	return rc;
}

int ut_txn_plan_file(struct ut_txn *t, const char *relpath, const char *cdhash)
{
	if (!t || t->state != TXN_OPEN)
		return ut_fail(UT_EINVAL, "the transaction is not open");
	int rc = st_relpath_check(relpath);
	if (rc)
		return rc;
	if (t->step)
		return ut_fail(UT_EINVAL, "'%s' planned after the first change; plan every path first", relpath);
	if (cdhash && !st_is_hex(cdhash, 40))
		return ut_fail(UT_EINVAL, "'%s': cdhash '%s' is not 40 lowercase hex digits", relpath, cdhash);
	if (txn_plan_find(t, relpath))
		return ut_fail(UT_EINVAL, "'%s' planned twice", relpath);
	if ((rc = check_parents(t, relpath)) != 0)
		return rc;
	if (t->np == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct txn_plan *np = realloc(t->p, cap * sizeof(*np));
		if (!np)
			return ut_fail(UT_ENOMEM, "out of memory");
		t->p = np;
		t->cap = cap;
	}
	struct txn_plan *p = &t->p[t->np];
	memset(p, 0, sizeof(*p));
	char *abs = st_dir_abs(&t->d, relpath);
	rc = abs ? ut_backup_stat(&p->before, abs, relpath) : ut_fail(UT_ENOMEM, "out of memory");
	if (!rc) {
		p->store = st_manifest_find(&t->man, relpath) >= 0 ? ST_STORE_UNDO : ST_STORE_PRISTINE;
		if (cdhash && p->before.kind == UT_KIND_FILE)
			memcpy(p->before.cdhash, cdhash, 41);
		rc = ut_backup_store(st_dir_store(&t->d, p->store), abs, &p->before);
	}
	if (!rc) {
		struct st_jrec r;
		memset(&r, 0, sizeof(r));
		r.type = ST_J_BACKUP;
		r.store = p->store;
		r.e = p->before;
		rc = st_jwriter_add(&t->w, &r);
	}
	free(abs);
	if (rc) {
		ut_entry_release(&p->before);
		return rc;
	}
	t->np++;
	return 0;
}

int ut_txn_mark_verified(struct ut_txn *t)
{
	if (!t || t->state != TXN_OPEN)
		return ut_fail(UT_EINVAL, "the transaction is not open");
	if (t->verified)
		return 0;
	struct st_jrec r;
	memset(&r, 0, sizeof(r));
	r.type = ST_J_VERIFIED;
	int rc = st_jwriter_add(&t->w, &r);
	if (!rc)
		t->verified = 1;
	return rc;
}

/* The installed record: every pristine-recorded path as it is now. */
static int build_installed(struct ut_txn *t, const struct st_manifest *m, const struct ut_kv *meta, size_t nmeta,
			   struct st_installed *in)
{
	memset(in, 0, sizeof(*in));
	in->txn_id = ui_strdup(t->id);
	in->time = (int64_t)time(NULL);
	in->meta = calloc(nmeta ? nmeta : 1, sizeof(*in->meta));
	if (!in->txn_id || !in->meta)
		return ut_fail(UT_ENOMEM, "out of memory");
	for (size_t i = 0; i < nmeta; i++) {
		in->meta[i].key = ui_strdup(meta[i].key);
		in->meta[i].value = ui_strdup(meta[i].value);
		in->nmeta++;
		if (!in->meta[i].key || !in->meta[i].value)
			return ut_fail(UT_ENOMEM, "out of memory");
	}
	int rc = 0;
	for (size_t i = 0; i < m->n && !rc; i++) {
		struct txn_plan *p = txn_plan_find(t, m->e[i].path);
		if (p && p->changed) {
			rc = st_manifest_set(&in->files, &p->after);
			continue;
		}
		char *abs = st_dir_abs(&t->d, m->e[i].path);
		struct ut_entry now;
		rc = abs ? ut_backup_stat(&now, abs, m->e[i].path) : ut_fail(UT_ENOMEM, "out of memory");
		if (!rc) {
			rc = st_manifest_set(&in->files, &now);
			ut_entry_release(&now);
		}
		free(abs);
	}
	return rc;
}

static int check_meta(const struct ut_kv *meta, size_t nmeta)
{
	if (nmeta > UT_STATE_MAX_META)
		return ut_fail(UT_EINVAL, "more than %d installed key/values", UT_STATE_MAX_META);
	for (size_t i = 0; i < nmeta; i++) {
		if (!meta[i].key || !*meta[i].key || !meta[i].value)
			return ut_fail(UT_EINVAL, "installed key/value %zu has no key or no value", i);
		for (size_t k = 0; k < i; k++)
			if (strcmp(meta[k].key, meta[i].key) == 0)
				return ut_fail(UT_EINVAL, "installed key '%s' given twice", meta[i].key);
	}
	return 0;
}

int ut_txn_commit(struct ut_txn *t, const struct ut_kv *meta, size_t nmeta)
{
	if (!t || t->state != TXN_OPEN)
		return ut_fail(UT_EINVAL, "the transaction is not open");
	if (!t->verified)
		return ut_fail(UT_EINVAL, "commit before the bundle was verified (ut_txn_mark_verified)");
	int rc = check_meta(meta, nmeta);
	/* what was written must still be there */
	for (size_t i = 0; i < t->np && !rc; i++) {
		if (!t->p[i].changed)
			continue;
		char *abs = st_dir_abs(&t->d, t->p[i].after.path);
		struct ut_entry now;
		rc = abs ? ut_backup_stat(&now, abs, t->p[i].after.path) : ut_fail(UT_ENOMEM, "out of memory");
		if (!rc) {
			if (!st_entry_same(&now, &t->p[i].after))
				rc = ut_fail(UT_EVERIFY, "'%s' changed after this transaction wrote it", now.path);
			ut_entry_release(&now);
		}
		free(abs);
	}
	struct st_manifest m;
	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < t->man.n && !rc; i++)
		rc = st_manifest_set(&m, &t->man.e[i]);
	for (size_t i = 0; i < t->np && !rc; i++)
		if (t->p[i].store == ST_STORE_PRISTINE)
			rc = st_manifest_set(&m, &t->p[i].before);
	struct st_installed in;
	memset(&in, 0, sizeof(in));
	if (!rc)
		rc = st_manifest_save(&m, t->d.manifest);
	if (!rc)
		rc = build_installed(t, &m, meta, nmeta, &in);
	if (!rc)
		rc = st_installed_save(&in, t->d.installed_new);
	st_installed_release(&in);
	st_manifest_release(&m);
	if (rc)
		return ut_ctx(rc, "commit");
	struct st_jrec r;
	memset(&r, 0, sizeof(r));
	r.type = ST_J_COMMIT;
	if ((rc = st_jwriter_add(&t->w, &r)) != 0)
		return ut_ctx(rc, "commit");
	t->state = TXN_COMMITTED;
	st_jwriter_close(&t->w);
	rc = st_finish_commit(&t->d);
	return rc ? ut_ctx(rc, "cleanup after commit (committed; 'utmpatch rollback' or a recovery finishes it)") : 0;
}

int ut_txn_abort(struct ut_txn *t)
{
	if (!t)
		return 0;
	if (t->state == TXN_ABORTED)
		return 0;
	if (t->state != TXN_OPEN)
		return ut_fail(UT_EINVAL, "the transaction is already committed");
	struct st_journal j;
	int have;
	int rc = st_journal_load(&j, t->d.journal, &have);
	if (!rc && !have)
		rc = ut_fail(UT_ENOTFOUND, "the journal '%s' disappeared", t->d.journal);
	if (!rc)
		rc = st_undo(&t->d, &j, &t->w, NULL);
	st_journal_release(&j);
	if (!rc)
		t->state = TXN_ABORTED;
	return rc;
}

void ut_txn_free(struct ut_txn *t)
{
	if (!t)
		return;
	if (t->state == TXN_OPEN)
		(void)ut_txn_abort(t);
	st_jwriter_close(&t->w);
	ut_lock_release(&t->lock);
	for (size_t i = 0; i < t->np; i++) {
		ut_entry_release(&t->p[i].before);
		ut_entry_release(&t->p[i].after);
	}
	free(t->p);
	st_manifest_release(&t->man);
	st_dir_release(&t->d);
	free(t->id);
	free(t);
}
