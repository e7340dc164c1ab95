/*
 * ut_install_apply.c - apply a staged plan in one transaction: probe, lock,
 * back up, replace, deep-verify, commit; any failure after the transaction
 * began is undone (ut_txn_abort).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_bverify.h"
#include "ut_install_int.h"
#include "ut_txn.h"

#define MAX_VERIFY_LINES 200

static int add_verify_line(struct ut_install *in, char *line)
{
	if (!line)
		return UT_ENOMEM;
	if (in->nverify_failures >= MAX_VERIFY_LINES) {
		free(line);
		return 0;
	}
	char **slot = ui_vec_push((void **)&in->verify_failures, &in->nverify_failures, &in->cap_verify, sizeof(char *));
	if (!slot) {
		free(line);
		return UT_ENOMEM;
	}
	*slot = line;
	return 0;
}

static void verify_progress(void *ctx, uint64_t done, uint64_t total, const char *rel)
{
	(void)rel;
	ui_step(ctx, "verifying (deep, strict)", done, total);
}

/* cs_bverify_bundle over what changed: UTM.app deep+strict, or (minimal) the framework. */
static int verify(struct ut_install *in)
{
	const struct ut_utmapp *a = in->app;
	int top_only_fw = in->minimal && in->fw >= 0;
	char *path = top_only_fw ? ut_path_join(a->path, a->v[in->fw].rel) : ui_strdup(a->path);
	if (!path)
		return UT_ENOMEM;
	struct cs_bverify_opts vo = { .flags = CS_BVERIFY_DEEP | CS_BVERIFY_STRICT, .trust = in->opts->trust,
				      .progress = in->opts->progress ? verify_progress : NULL, .progress_ctx = in };
	struct cs_bverify_result r;
	memset(&r, 0, sizeof(r));
	int rc = cs_bverify_bundle(&r, path, &vo);
	const char *top = top_only_fw ? a->v[in->fw].rel : "UTM.app";
	for (size_t i = 0; !rc && i < r.n; i++) {
		const struct cs_bverify_component *c = &r.v[i];
		for (size_t k = 0; !rc && !c->valid && k < c->nreasons; k++) {
			const struct cs_bverify_reason *why = &c->reasons[k];
			if (why->problem == CS_BV_NOTE)
				continue;
			rc = add_verify_line(in, ui_printf("%s: %s%s%s%s%s", c->rel[0] ? c->rel : top, why->text,
							   why->path ? ": " : "", why->path ? why->path : "",
							   why->detail && why->detail[0] ? " - " : "",
							   why->detail ? why->detail : ""));
		}
	}
	if (!rc && !r.valid)
		rc = ut_fail(UT_EVERIFY, "'%s' does not verify (--deep --strict) after the change: %s", path,
			     in->nverify_failures ? in->verify_failures[0] : "invalid");
	cs_bverify_result_release(&r);
	free(path);
	return rc;
}

static int probe(struct ut_install *in)
{
	struct ui_strv dirs = { 0 };
	int rc = 0;
	for (size_t i = 0; !rc && i < in->nfiles; i++) {
		char *abs = ut_path_join(in->app->path, in->files[i].rel);
		if (!abs) {
			rc = UT_ENOMEM;
			break;
		}
		*strrchr(abs, '/') = '\0';
		if (!ui_strv_has(&dirs, abs)) {
			rc = ui_probe_dir(abs);
			if (rc == UT_EREFUSED) {
				rc = ui_problem(in, UT_IP_PERMISSION, NULL, abs, "%s", ut_errmsg());
				if (!rc)
					rc = UT_EREFUSED;
			}
			if (!rc || rc == UT_EREFUSED)
				ui_strv_add(&dirs, abs);
		}
		free(abs);
	}
	ui_strv_release(&dirs);
	return rc == UT_EREFUSED ? ut_fail(UT_EREFUSED, "refused: the bundle cannot be written") : rc;
}

static int meta_add(struct ut_kv *m, size_t *n, size_t max, const char *k, const char *v)
{
	if (*n >= max)
		return ut_fail(UT_ENOMEM, "too many install record entries");
	if (!(m[*n].key = ui_strdup(k)) || !(m[*n].value = ui_strdup(v))) {
		free(m[*n].key);
		return UT_ENOMEM;
	}
	(*n)++;
	return 0;
}

static int meta_has(const struct ut_kv *m, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].key, k) == 0)
			return 1;
	return 0;
}

/* The pristine entitlements of a re-signed executable: recorded before, else what it has now. */
static int meta_pristine_ents(struct ut_install *in, struct ut_kv *m, size_t *n, size_t max,
			      const struct ut_inst_comp *c)
{
	const struct ut_utmapp_comp *x = &in->app->v[c->comp];
	char *key = ui_printf("%s%s", UT_META_PRISTINE_ENTS, x->exec_rel);
	if (!key)
		return UT_ENOMEM;
	int rc = 0;
	const char *old = in->state.state == UT_STATE_PRISTINE ? NULL : ut_state_report_meta(&in->state, key);
	if (old) {
		rc = meta_add(m, n, max, key, old);
	} else if (x->sig.ents) {
		uint8_t *xml = NULL;
		size_t len = 0;
		rc = ut_plist_serialize(x->sig.ents, UT_PLIST_XML, &xml, &len);
		char *hex = rc ? NULL : ui_hex_encode(xml, len);
		if (!rc && !hex)
			rc = UT_ENOMEM;
		if (!rc)
			rc = meta_add(m, n, max, key, hex);
		free(hex);
		free(xml);
	}
	free(key);
	return rc;
}

#define MAX_META 64

static int build_meta(struct ut_install *in, struct ut_kv *m, size_t *n)
{
	int rc = 0;
	char closure[1024] = "";
	for (size_t i = 0; i < in->nclosure; i++) {
		const struct ut_inst_comp *c = &in->closure[i];
		size_t used = strlen(closure);
		snprintf(closure + used, sizeof(closure) - used, "%s%s:%s", i ? "," : "", in->app->v[c->comp].name,
			 ut_inst_action_name(c->action));
	}
	if (!in->restore) {
		rc = meta_add(m, n, MAX_META, UT_META_OPERATION, "install");
		if (!rc)
			rc = meta_add(m, n, MAX_META, UT_META_TARGET, in->target);
		if (!rc)
			rc = meta_add(m, n, MAX_META, UT_META_FRAMEWORK, in->app->v[in->fw].exec_rel);
		if (!rc)
			rc = meta_add(m, n, MAX_META, UT_META_DYLIB, in->dylib);
		if (!rc)
			rc = meta_add(m, n, MAX_META, UT_META_DYLIB_SHA256, in->dylib_sha256);
		if (!rc)
			rc = meta_add(m, n, MAX_META, UT_META_MINIMAL, in->minimal ? "1" : "0");
		if (!rc)
			rc = meta_add(m, n, MAX_META, UT_META_CLOSURE, closure);
	} else {
		rc = meta_add(m, n, MAX_META, "restored", closure);
	}
	if (!rc && in->nclosure)
		rc = meta_add(m, n, MAX_META, UT_META_SIGNER, in->closure[0].signer);
	if (!rc)
		rc = meta_add(m, n, MAX_META, UT_META_HOST_ARCH, in->app->host_arch);
	for (size_t i = 0; !rc && i < in->nclosure; i++)
		if (in->closure[i].action != UT_ACT_FRAMEWORK)
			rc = meta_pristine_ents(in, m, n, MAX_META, &in->closure[i]);
	/* What an earlier run recorded and this one does not replace. */
	for (size_t i = 0; !rc && in->state.state != UT_STATE_PRISTINE && i < in->state.nmeta; i++) {
		const struct ut_kv *kv = &in->state.meta[i];
		if (!meta_has(m, *n, kv->key))
			rc = meta_add(m, n, MAX_META, kv->key, kv->value);
	}
	return rc;
}

static void meta_free(struct ut_kv *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].key);
		free(m[i].value);
	}
}

/* The transaction proper; t is begun.  Returns the first error. */
static int run(struct ut_install *in, struct ut_txn *t)
{
	int rc = 0;
	double t0 = ui_now();
	ui_step(in, "backing up", 0, 0);
	for (size_t i = 0; !rc && i < in->nfiles; i++) {
		const struct ut_inst_file *f = &in->files[i];
		rc = ut_txn_plan_file(t, f->rel, f->old_cdhash[0] ? f->old_cdhash : NULL);
	}
	double t1 = ui_now();
	in->times.backup += t1 - t0;
	ui_step(in, "writing", 0, 0);
	for (size_t i = 0; !rc && i < in->nfiles; i++)
		rc = ut_txn_replace(t, in->files[i].rel, in->files[i].staged, -1);
	double t2 = ui_now();
	in->times.apply += t2 - t1;
	if (!rc)
		rc = verify(in);
	double t3 = ui_now();
	in->times.verify += t3 - t2;
	struct ut_kv meta[MAX_META];
	size_t nmeta = 0;
	if (!rc)
		rc = build_meta(in, meta, &nmeta);
	ui_step(in, "committing", 0, 0);
	if (!rc)
		rc = ut_txn_mark_verified(t);
	if (!rc)
		rc = ut_txn_commit(t, meta, nmeta);
	meta_free(meta, nmeta);
	in->times.commit += ui_now() - t3;
	return rc;
}

/* macOS refuses writes into an app of another team with EPERM unless the terminal may manage apps. */
static const char *permission_hint(const char *msg)
{
#ifdef __APPLE__
	if (msg && strstr(msg, "Operation not permitted"))
		return " - macOS protects apps signed by another team: allow your terminal under System Settings > "
		       "Privacy & Security > App Management (or Full Disk Access), then run again";
#else
	(void)msg;
#endif
	return "";
}

int ut_install_apply(struct ut_install *in)
{
	if (in->dry_run || in->nproblems)
		return ut_fail(UT_EINVAL, "install: a dry run or a refused plan cannot be applied");
	if (!in->nfiles)
		return 0;
	double t0 = ui_now();
	int rc = probe(in);
	if (rc)
		return rc;
	const struct ut_install_opts *o = in->opts;
	char what[256];
	if (in->restore)
		snprintf(what, sizeof(what), "restore entitlements");
	else
		snprintf(what, sizeof(what), "install %s into %s.framework", in->dylib, in->target);
	struct ut_txn_opts to = { .what = what, .tool_version = o->tool_version, .fail_after = o->fail_after,
				  .force = o->force };
	struct ut_txn *t = NULL;
	if ((rc = ut_txn_begin(&t, o->state_dir, in->app->path, &to)) != 0) {
		const char *hint = permission_hint(ut_errmsg());
		return hint[0] ? ut_ctx(rc, "%s", hint + 3) : rc;
	}
	if (!(in->txn_id = ui_strdup(ut_txn_id(t))))
		rc = UT_ENOMEM;
	if (!rc)
		rc = run(in, t);
	if (!rc) {
		in->applied = 1;
	} else {
		char *msg = ui_strdup(ut_errmsg());
		int arc = ut_txn_abort(t);
		if (!arc) {
			in->rolled_back = 1;
			ut_fail(rc, "%s%s (undone: the bundle is as it was before)", msg ? msg : "", permission_hint(msg));
		} else {
			char *amsg = ui_strdup(ut_errmsg());
			ut_fail(rc, "%s; undoing it failed too (%s): run 'utmpatch rollback'", msg ? msg : "",
				amsg ? amsg : "");
			free(amsg);
		}
		free(msg);
	}
	ut_txn_free(t);
	in->times.total += ui_now() - t0;
	return rc;
}
