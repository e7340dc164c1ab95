/* ut_state_inspect.c - status of a bundle: pristine, patched, drifted or interrupted. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ut_backup.h"
#include "ut_state_int.h"

void st_drift_free(struct ut_drift *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].path);
	free(v);
}

static const char *drift_what(const struct ut_entry *rec, const struct ut_entry *now)
{
	if (rec->kind != now->kind)
		return now->kind == UT_KIND_ABSENT ? "missing" : rec->kind == UT_KIND_ABSENT ? "appeared" : "kind changed";
	if (rec->kind == UT_KIND_SYMLINK)
		return "target changed";
	if (rec->kind == UT_KIND_FILE && (rec->size != now->size || strcmp(rec->sha256, now->sha256) != 0))
		return "changed";
	return "mode changed";
}

int st_drift(const struct st_dir *d, const struct st_installed *in, struct ut_drift **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	const struct st_manifest *f = &in->files;
	struct ut_drift *v = calloc(f->n ? f->n : 1, sizeof(*v));
	if (!v)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = 0;
	size_t k = 0;
	for (size_t i = 0; i < f->n && !rc; i++) {
		char *abs = st_dir_abs(d, f->e[i].path);
		struct ut_entry now;
		rc = abs ? ut_backup_stat(&now, abs, f->e[i].path) : ut_fail(UT_ENOMEM, "out of memory");
		free(abs);
		if (rc)
			break;
		if (!st_entry_same(&f->e[i], &now)) {
			v[k].path = strdup(f->e[i].path);
			v[k].kind_recorded = f->e[i].kind;
			v[k].kind_now = now.kind;
			v[k].what = drift_what(&f->e[i], &now);
			if (!v[k++].path)
				rc = ut_fail(UT_ENOMEM, "out of memory");
		}
		ut_entry_release(&now);
	}
	if (rc) {
		st_drift_free(v, k);
		return rc;
	}
	*out = v;
	*n = k;
	return 0;
}

void ut_state_report_release(struct ut_state_report *r)
{
	if (!r)
		return;
	free(r->bundle);
	free(r->dir);
	free(r->txn_id);
	for (size_t i = 0; i < r->nmeta; i++) {
		free(r->meta[i].key);
		free(r->meta[i].value);
	}
	free(r->meta);
	st_drift_free(r->drift, r->ndrift);
	free(r->intr.txn_id);
	free(r->intr.what);
	free(r->intr.tool);
	free(r->intr.last_path);
	memset(r, 0, sizeof(*r));
}

const char *ut_state_report_meta(const struct ut_state_report *r, const char *key)
{
	for (size_t i = 0; i < r->nmeta; i++)
		if (strcmp(r->meta[i].key, key) == 0)
			return r->meta[i].value;
	return NULL;
}

static int take_installed(struct ut_state_report *r, struct st_installed *in)
{
	r->txn_id = in->txn_id;
	in->txn_id = NULL;
	r->time = in->time;
	r->meta = in->meta;
	r->nmeta = in->nmeta;
	in->meta = NULL;
	in->nmeta = 0;
	r->nfiles = in->files.n;
	return 0;
}

static int fill_interrupted(struct ut_state_report *r, const struct st_journal *j)
{
	struct st_jstate js;
	int rc = st_journal_analyze(j, &js);
	if (rc)
		return rc;
	struct ut_interrupted *x = &r->intr;
	x->rollback_only = js.begin && !js.install;
	x->verified = js.verified;
	x->committed = js.committed;
	x->rolling_back = js.rb_mode != 0;
	x->rollback_done = js.rb_done;
	x->records = j->n;
	x->torn_tail = j->torn;
	x->last_record = js.last ? st_jtype_name(js.last->type) : "none";
	x->last_step = js.last_step ? js.last_step->step : 0;
	if (js.begin) {
		x->txn_id = ui_strdup(js.begin->id);
		x->what = ui_strdup(js.begin->what ? js.begin->what : "rollback");
		x->tool = ui_strdup(js.begin->tool);
		if (!x->txn_id || !x->what || !x->tool)
			return ut_fail(UT_ENOMEM, "out of memory");
	}
	if (js.last_path && !(x->last_path = ui_strdup(js.last_path->e.path)))
		return ut_fail(UT_ENOMEM, "out of memory");
	if (js.rb_done || (js.committed && !js.rb_mode))
		r->hint = "run 'utmpatch rollback' (only cleanup is left; it returns the bundle to pristine)";
	else
		r->hint = "run 'utmpatch rollback'";
	return 0;
}

int ut_state_installed_meta(const char *state_dir, const char *bundle_root, const char *key, char **value)
{
	*value = NULL;
	struct st_dir d;
	struct st_installed in;
	memset(&in, 0, sizeof(in));
	int present = 0;
	int rc = st_dir_open(&d, state_dir, bundle_root, 0);
	if (rc)
		return rc;
	rc = st_installed_load(&in, d.installed, &present);
	for (size_t i = 0; !rc && present && i < in.nmeta && !*value; i++)
		if (strcmp(in.meta[i].key, key) == 0 && !(*value = ui_strdup(in.meta[i].value)))
			rc = ut_fail(UT_ENOMEM, "out of memory");
	st_installed_release(&in);
	st_dir_release(&d);
	return rc;
}

int ut_state_inspect(struct ut_state_report *out, const char *state_dir, const char *bundle_root)
{
	memset(out, 0, sizeof(*out));
	struct st_dir d;
	int rc = st_dir_open(&d, state_dir, bundle_root, 0);
	if (rc)
		return rc;
	out->bundle = strdup(d.bundle);
	out->dir = strdup(d.dir);
	if (!out->bundle || !out->dir) {
		st_dir_release(&d);
		ut_state_report_release(out);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	struct stat st;
	if (stat(d.dir, &st) != 0) {
		st_dir_release(&d);
		out->state = UT_STATE_PRISTINE;
		return 0;
	}
	struct st_journal j;
	struct st_manifest m;
	struct st_installed in;
	int have_j = 0, have_m = 0, have_in = 0;
	memset(&j, 0, sizeof(j));
	memset(&m, 0, sizeof(m));
	memset(&in, 0, sizeof(in));
	rc = ut_lock_probe(d.lock, &out->locked_by);
	if (!rc)
		rc = st_journal_load(&j, d.journal, &have_j);
	if (!rc)
		rc = st_manifest_load(&m, d.manifest, &have_m);
	if (!rc)
		rc = st_installed_load(&in, d.installed, &have_in);
	if (!rc && have_in)
		rc = take_installed(out, &in);
	out->npristine = m.n;
	if (!rc && have_j) {
		out->state = UT_STATE_INTERRUPTED;
		rc = fill_interrupted(out, &j);
	} else if (!rc && have_in) {
		rc = st_drift(&d, &in, &out->drift, &out->ndrift);
		out->state = out->ndrift ? UT_STATE_DRIFTED : UT_STATE_PATCHED;
		if (out->ndrift)
			out->hint = "the bundle changed since it was patched; 'utmpatch rollback --force' restores pristine";
	} else {
		out->state = UT_STATE_PRISTINE;
	}
	st_journal_release(&j);
	st_manifest_release(&m);
	st_installed_release(&in);
	st_dir_release(&d);
	if (rc)
		ut_state_report_release(out);
	return rc;
}
