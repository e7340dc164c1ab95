/* ut_report.c - an install / restore plan as text and as JSON (docs/schemas/install.schema.json). */
#include "ut_report.h"

#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "ut_json.h"
#include "ut_report_vm.h"

const char *ut_report_result_name(enum ut_report_result r)
{
	switch (r) {
	case UT_RESULT_PLANNED: return "planned";
	case UT_RESULT_APPLIED: return "applied";
	case UT_RESULT_NOTHING: return "nothing to do";
	case UT_RESULT_REFUSED: return "refused";
	case UT_RESULT_FAILED: return "failed";
	}
	return "?";
}

static const char *dep_kind(enum ut_dep_kind k)
{
	return k == UT_DEP_SYSTEM ? "system" : k == UT_DEP_BUNDLED ? "bundled" : "unshipped";
}

static const char *plan_word(enum ut_plan_action a)
{
	return a == UT_PLAN_KEEP ? "keep" : a == UT_PLAN_DROP ? "drop" : "add";
}

static const char *comp_path(const struct ut_install *in, const struct ut_inst_comp *c)
{
	const struct ut_utmapp_comp *x = &in->app->v[c->comp];
	return x->rel ? (x->rel[0] ? x->rel : ".") : x->exec_rel;
}

/* ---- text ---- */

static void text_head(struct ut_buf *b, const struct ut_install *in)
{
	const struct ut_utmapp *a = in->app;
	if (!a)
		return;
	ut_buf_printf(b, "UTM.app: %s (version %s, build %s), state: %s\n", a->path, a->version ? a->version : "?",
		      a->build ? a->build : "?", ut_state_name(in->state.state));
	if (in->dylib)
		ut_buf_printf(b, "dylib: %s (%llu bytes, sha256 %s)\n", in->dylib, (unsigned long long)in->dylib_size,
			      in->dylib_sha256);
	if (in->target)
		ut_buf_printf(b, "target: %s.framework (from %s)%s\n", in->target, in->target_from,
			      in->fw < 0 ? ": not in the bundle" : "");
}

static void text_paths(struct ut_buf *b, const struct ut_install *in)
{
	if (in->nrewrites) {
		ut_buf_printf(b, "\ninstall names (rewritten):\n");
		for (size_t i = 0; i < in->nrewrites; i++) {
			const struct ut_inst_rewrite *r = &in->rewrites[i];
			ut_buf_printf(b, "  %-4s %s\n    -> %s  [%s]\n", r->is_id ? "id" : "dep", r->old_name, r->new_name,
				      r->archs);
		}
	}
	size_t nsys = 0, nbundled = 0;
	for (size_t i = 0; i < in->ndeps; i++) {
		const struct ut_inst_dep *d = &in->deps[i];
		nsys += d->kind == UT_DEP_SYSTEM;
		nbundled += d->kind == UT_DEP_BUNDLED;
		if (d->sysroot_file) {
			char v1[24], v2[24];
			ut_buf_printf(b, "  sysroot [%s]: %s (id %s, version %s); UTM ships %s.framework version %s\n",
				      d->arch, d->sysroot_file, d->sysroot_id ? d->sysroot_id : "?",
				      mo_version_str(d->sysroot_version, v1), d->name ? d->name : "?",
				      mo_version_str(d->bundled_version, v2));
		}
	}
	if (in->ndeps)
		ut_buf_printf(b, "dependencies: %zu bundled, %zu system, %zu not shipped by UTM\n", nbundled, nsys,
			      in->ndeps - nbundled - nsys);
	if (in->nslices) {
		ut_buf_printf(b, "\nslices of the new framework binary:\n");
		for (size_t i = 0; i < in->nslices; i++)
			ut_buf_printf(b, "  %-8s %s (%llu bytes)\n", in->slices[i].arch,
				      in->slices[i].from_dylib ? "from the dylib" : "UTM's pristine slice, kept",
				      (unsigned long long)in->slices[i].size);
	}
	if (in->nimages)
		ut_buf_printf(b, "load check (as QEMULauncher loads it): %u imports found in bundled frameworks, %u left "
				 "to macOS: %s\n",
			      in->nchecked, in->nunchecked, in->nproblems ? "see problems" : "ok");
	if (in->entry[0])
		ut_buf_printf(b, "entry points: %s\n", in->entry);
}

static void text_plan(struct ut_buf *b, const struct ut_ent_plan *p)
{
	for (size_t k = 0; k < p->nitems; k++) {
		const struct ut_ent_plan_item *it = &p->items[k];
		ut_buf_printf(b, "       %-4s %s (%s)\n", plan_word(it->action), it->key, it->why);
		if (it->action == UT_PLAN_DROP && it->loss)
			ut_buf_printf(b, "            loss: %s\n", it->loss);
	}
}

static void text_closure(struct ut_buf *b, const struct ut_install *in)
{
	if (!in->nclosure)
		return;
	ut_buf_printf(b, "\nsigning closure (inside-out, never --deep):\n");
	for (size_t i = 0; i < in->nclosure; i++) {
		const struct ut_inst_comp *c = &in->closure[i];
		ut_buf_printf(b, "  %zu. %-9s %s: %s, %s\n", i + 1, ut_inst_action_name(c->action), comp_path(in, c),
			      c->signer, c->why);
		if (c->new_cdhash[0])
			ut_buf_printf(b, "     cdhash %s -> %s\n", c->old_cdhash[0] ? c->old_cdhash : "(none)", c->new_cdhash);
		if (c->profile)
			ut_buf_printf(b, "     provisioning profile: %s\n", c->profile);
		if (c->has_plan) {
			ut_buf_printf(b, "     entitlements (from the %s): %zu kept, %zu dropped, %zu added\n", c->base_from,
				      c->plan.nkept, c->plan.ndropped, c->plan.nadded);
			text_plan(b, &c->plan);
		}
	}
}

static void text_files(struct ut_buf *b, const struct ut_install *in)
{
	if (!in->nfiles)
		return;
	ut_buf_printf(b, "\nfiles changed (each backed up first, zlib + sha256%s):\n", " + cdhash");
	for (size_t i = 0; i < in->nfiles; i++) {
		const struct ut_inst_file *f = &in->files[i];
		ut_buf_printf(b, "  %s\n    %llu -> %llu bytes, sha256 %.16s.. -> %.16s..\n", f->rel,
			      (unsigned long long)f->old_size, (unsigned long long)f->new_size,
			      f->existed ? f->old_sha256 : "(new)", f->new_sha256);
	}
}

int ut_report_install_text(struct ut_buf *b, const struct ut_install *in, enum ut_report_result res)
{
	text_head(b, in);
	text_paths(b, in);
	text_closure(b, in);
	text_files(b, in);
	if (in->nwarnings) {
		ut_buf_printf(b, "\nwarnings:\n");
		for (size_t i = 0; i < in->nwarnings; i++)
			ut_buf_printf(b, "  %s\n", in->warnings[i]);
	}
	const struct ut_inst_times *t = &in->times;
	switch (res) {
	case UT_RESULT_PLANNED:
		ut_buf_printf(b, "\ndry run: nothing was changed\n");
		break;
	case UT_RESULT_APPLIED:
		ut_buf_printf(b, "\n%s: %zu file%s replaced, verified (--deep --strict%s), committed (transaction %s)\n",
			      in->restore ? "restored" : "installed", in->nfiles, in->nfiles == 1 ? "" : "s",
			      in->minimal ? ", framework only" : "", in->txn_id ? in->txn_id : "?");
		ut_buf_printf(b, "time: %.3f s (check %.3f, rewrite %.3f, hash %.3f, sign %.3f, reseal %.3f, backup %.3f, "
				 "apply %.3f, verify %.3f, commit %.3f)\n",
			      t->total, t->check, t->rewrite, t->hash, t->sign, t->reseal, t->backup, t->apply, t->verify,
			      t->commit);
		break;
	case UT_RESULT_NOTHING:
		ut_buf_printf(b, "\nnothing to change\n");
		break;
	default:
		break;
	}
	return ut_buf_cstr(b);
}

int ut_report_problems_text(struct ut_buf *b, const struct ut_install *in)
{
	for (size_t i = 0; i < in->nproblems; i++) {
		const struct ut_inst_problem *p = &in->problems[i];
		ut_buf_printf(b, "  %s%s%s%s: %s%s%s\n", ut_inst_problem_kind_name(p->kind), p->arch ? " [" : "",
			      p->arch ? p->arch : "", p->arch ? "]" : "", p->subject ? p->subject : "",
			      p->subject ? ": " : "", p->detail);
		for (size_t k = 0; k < p->nsymbols; k++)
			ut_buf_printf(b, "      %s\n", p->symbols[k]);
	}
	return ut_buf_cstr(b);
}

/* ---- JSON ---- */

static void json_kstr_or_null(struct ut_json *j, const char *k, const char *v)
{
	ut_json_key(j, k);
	ut_json_str(j, v && v[0] ? v : NULL);
}

static void json_paths(struct ut_json *j, const struct ut_install *in)
{
	ut_json_key(j, "rewrites");
	ut_json_arr(j);
	for (size_t i = 0; i < in->nrewrites; i++) {
		const struct ut_inst_rewrite *r = &in->rewrites[i];
		ut_json_obj(j);
		ut_json_kstr(j, "kind", r->is_id ? "id" : "dependency");
		ut_json_kstr(j, "old", r->old_name);
		ut_json_kstr(j, "new", r->new_name);
		ut_json_kstr(j, "archs", r->archs);
		ut_json_end(j);
	}
	ut_json_end(j);
	ut_json_key(j, "dependencies");
	ut_json_arr(j);
	for (size_t i = 0; i < in->ndeps; i++) {
		const struct ut_inst_dep *d = &in->deps[i];
		char v[24];
		ut_json_obj(j);
		ut_json_kstr(j, "arch", d->arch);
		ut_json_kstr(j, "install_name", d->install_name);
		ut_json_kstr(j, "kind", dep_kind(d->kind));
		ut_json_kbool(j, "weak", d->weak);
		json_kstr_or_null(j, "framework", d->name);
		json_kstr_or_null(j, "new_name", d->new_name);
		ut_json_kstr(j, "compatibility_version", mo_version_str(d->compat_version, v));
		ut_json_key(j, "sysroot");
		if (d->sysroot_file) {
			ut_json_obj(j);
			ut_json_kstr(j, "file", d->sysroot_file);
			json_kstr_or_null(j, "id", d->sysroot_id);
			ut_json_kstr(j, "current_version", mo_version_str(d->sysroot_version, v));
			ut_json_end(j);
		} else {
			ut_json_null(j);
		}
		ut_json_end(j);
	}
	ut_json_end(j);
	ut_json_key(j, "slices");
	ut_json_arr(j);
	for (size_t i = 0; i < in->nslices; i++) {
		ut_json_obj(j);
		ut_json_kstr(j, "arch", in->slices[i].arch);
		ut_json_kstr(j, "source", in->slices[i].from_dylib ? "dylib" : "pristine");
		ut_json_kuint(j, "size", in->slices[i].size);
		ut_json_end(j);
	}
	ut_json_end(j);
	ut_json_key(j, "load_check");
	ut_json_obj(j);
	ut_json_kuint(j, "images", in->nimages);
	ut_json_kuint(j, "checked_imports", in->nchecked);
	ut_json_kuint(j, "unchecked_imports", in->nunchecked);
	ut_json_end(j);
	json_kstr_or_null(j, "entry_points", in->entry);
}

static void json_plan(struct ut_json *j, const struct ut_inst_comp *c)
{
	ut_json_key(j, "entitlements");
	if (!c->has_plan) {
		ut_json_null(j);
		return;
	}
	ut_json_obj(j);
	ut_json_kstr(j, "from", c->base_from);
	static const enum ut_plan_action acts[] = { UT_PLAN_KEEP, UT_PLAN_DROP, UT_PLAN_ADD };
	static const char *const names[] = { "kept", "dropped", "added" };
	for (int a = 0; a < 3; a++) {
		ut_json_key(j, names[a]);
		ut_json_arr(j);
		for (size_t k = 0; k < c->plan.nitems; k++) {
			const struct ut_ent_plan_item *it = &c->plan.items[k];
			if (it->action != acts[a])
				continue;
			ut_json_obj(j);
			ut_json_kstr(j, "key", it->key);
			ut_json_kstr(j, "class", ut_ent_class_name(it->cls));
			ut_json_kstr(j, "why", it->why);
			json_kstr_or_null(j, "loss", it->action == UT_PLAN_DROP ? it->loss : NULL);
			json_kstr_or_null(j, "detail", it->detail);
			ut_json_end(j);
		}
		ut_json_end(j);
	}
	ut_json_end(j);
}

static void json_closure(struct ut_json *j, const struct ut_install *in)
{
	ut_json_key(j, "closure");
	ut_json_arr(j);
	for (size_t i = 0; i < in->nclosure; i++) {
		const struct ut_inst_comp *c = &in->closure[i];
		const struct ut_utmapp_comp *x = &in->app->v[c->comp];
		ut_json_obj(j);
		ut_json_kstr(j, "component", x->name);
		ut_json_kstr(j, "path", comp_path(in, c));
		ut_json_kstr(j, "executable", x->exec_rel);
		ut_json_kstr(j, "action", ut_inst_action_name(c->action));
		ut_json_kstr(j, "why", c->why);
		ut_json_kstr(j, "signer", c->signer);
		json_kstr_or_null(j, "old_cdhash", c->old_cdhash);
		json_kstr_or_null(j, "new_cdhash", c->new_cdhash);
		json_kstr_or_null(j, "requirement", c->requirement);
		json_kstr_or_null(j, "profile", c->profile);
		json_plan(j, c);
		ut_json_end(j);
	}
	ut_json_end(j);
	ut_json_key(j, "files");
	ut_json_arr(j);
	for (size_t i = 0; i < in->nfiles; i++) {
		const struct ut_inst_file *f = &in->files[i];
		ut_json_obj(j);
		ut_json_kstr(j, "path", f->rel);
		ut_json_kbool(j, "existed", f->existed);
		ut_json_kuint(j, "old_size", f->old_size);
		ut_json_kuint(j, "new_size", f->new_size);
		json_kstr_or_null(j, "old_sha256", f->old_sha256);
		ut_json_kstr(j, "new_sha256", f->new_sha256);
		json_kstr_or_null(j, "old_cdhash", f->old_cdhash);
		json_kstr_or_null(j, "new_cdhash", f->new_cdhash);
		ut_json_end(j);
	}
	ut_json_end(j);
}

static void json_findings(struct ut_json *j, const struct ut_install *in)
{
	ut_json_key(j, "problems");
	ut_json_arr(j);
	for (size_t i = 0; i < in->nproblems; i++) {
		const struct ut_inst_problem *p = &in->problems[i];
		ut_json_obj(j);
		ut_json_kstr(j, "kind", ut_inst_problem_kind_name(p->kind));
		json_kstr_or_null(j, "arch", p->arch);
		json_kstr_or_null(j, "subject", p->subject);
		ut_json_kstr(j, "detail", p->detail);
		ut_report_json_strs(j, "symbols", p->symbols, p->nsymbols);
		ut_json_end(j);
	}
	ut_json_end(j);
	ut_report_json_strs(j, "warnings", in->warnings, in->nwarnings);
	ut_report_json_strs(j, "verify_failures", in->verify_failures, in->nverify_failures);
}

static void json_times(struct ut_json *j, const struct ut_inst_times *t)
{
	ut_json_key(j, "timings_ms");
	ut_json_obj(j);
	const double v[] = { t->check, t->rewrite, t->hash, t->sign, t->reseal, t->backup, t->apply, t->verify, t->commit,
			     t->total };
	static const char *const k[] = { "check", "rewrite", "hash", "sign", "reseal", "backup", "apply", "verify", "commit",
					 "total" };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ut_json_kuint(j, k[i], (uint64_t)(v[i] * 1000.0 + 0.5));
	ut_json_end(j);
}

void ut_report_install_members(struct ut_json *j, const struct ut_install *in, enum ut_report_result res,
			       const char *error)
{
	const struct ut_utmapp *a = in->app;
	ut_json_kstr(j, "operation", in->restore ? "restore-entitlements" : "install");
	ut_json_kstr(j, "result", ut_report_result_name(res));
	json_kstr_or_null(j, "error", error);
	ut_json_kbool(j, "dry_run", in->dry_run);
	ut_json_kbool(j, "minimal", in->minimal);
	ut_json_key(j, "app");
	ut_json_obj(j);
	ut_json_kstr(j, "path", a ? a->path : NULL);
	json_kstr_or_null(j, "version", a ? a->version : NULL);
	json_kstr_or_null(j, "build", a ? a->build : NULL);
	ut_json_kstr(j, "state", ut_state_name(in->state.state));
	ut_json_end(j);
	ut_json_key(j, "dylib");
	if (in->dylib) {
		ut_json_obj(j);
		ut_json_kstr(j, "path", in->dylib);
		json_kstr_or_null(j, "sha256", in->dylib_sha256);
		ut_json_kuint(j, "size", in->dylib_size);
		json_kstr_or_null(j, "install_name", in->dylib_id);
		ut_json_end(j);
	} else {
		ut_json_null(j);
	}
	ut_json_key(j, "target");
	if (in->target) {
		ut_json_obj(j);
		ut_json_kstr(j, "name", in->target);
		ut_json_kstr(j, "from", in->target_from);
		json_kstr_or_null(j, "executable", in->fw >= 0 ? a->v[in->fw].exec_rel : NULL);
		json_kstr_or_null(j, "pristine_id", in->pristine_id);
		ut_json_end(j);
	} else {
		ut_json_null(j);
	}
	json_paths(j, in);
	ut_json_kbool(j, "launcher_library_validation", in->launcher_lv);
	json_closure(j, in);
	json_findings(j, in);
	ut_json_key(j, "transaction");
	if (in->txn_id) {
		ut_json_obj(j);
		ut_json_kstr(j, "id", in->txn_id);
		ut_json_kbool(j, "committed", in->applied);
		ut_json_kbool(j, "rolled_back", in->rolled_back);
		ut_json_end(j);
	} else {
		ut_json_null(j);
	}
	json_times(j, &in->times);
}

int ut_report_install_json(struct ut_buf *out, const struct ut_install *in, enum ut_report_result res,
			   const char *error)
{
	struct ut_json j;
	ut_json_init(&j, out, 1);
	ut_json_obj(&j);
	ut_json_kstr(&j, "command", in->restore ? "entitlements" : "install");
	ut_report_install_members(&j, in, res, error);
	ut_json_end(&j);
	return ut_json_finish(&j);
}
