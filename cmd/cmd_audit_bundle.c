/*
 * cmd_audit_bundle.c - the bundle half of `utmpatch audit`: a table of every
 * Mach-O file in a bundle (path, architectures, signature kind, identifier,
 * team, flags, entitlement keys, verdict) after a deep, strict verification;
 * --json follows docs/schemas/audit-bundle.schema.json.  Read-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "mo_file.h"
#include "cmd_bundle.h"
#include "cs_bverify.h"
#include "cs_format.h"
#include "cs_hash.h"
#include "ut_buf.h"
#include "ut_err.h"
#include "ut_json.h"

#define AUDIT_FLAGS (CS_BVERIFY_DEEP | CS_BVERIFY_STRICT | CS_BVERIFY_AUDIT | CS_BVERIFY_ALL_MACHO)

/* One table row: a code file. */
struct row {
	const struct cs_bverify_component *c;
	const char *component;    /* the component it is the code of (resources: the bundle holding it) */
	char cols[7][1024];       /* path, arches, kind, identifier, team, flags, entitlements */
	char verdict[2048];
	int valid;
};

enum { C_PATH, C_ARCH, C_KIND, C_ID, C_TEAM, C_FLAGS, C_ENT };

/* Appends v to a "/"-separated list of distinct values. */
static void add_unique(char *list, size_t n, const char *v)
{
	size_t vl = strlen(v);
	for (const char *p = list; *p;) {
		const char *q = strchr(p, '/');
		size_t l = q ? (size_t)(q - p) : strlen(p);
		if (l == vl && strncmp(p, v, l) == 0)
			return;
		p += l + (q != NULL);
	}
	size_t cur = strlen(list);
	snprintf(list + cur, n - cur, "%s%s", cur ? "/" : "", v);
}

static const char *verdict_of(const struct cs_bverify_component *c, char *buf, size_t n, int *valid)
{
	if (c->role == CS_BV_ROLE_RESOURCE) {
		/* Not judged as part of the bundle: its own signature's verdict. */
		for (unsigned k = 0; k < c->sig.nslices; k++)
			if (!c->sig.slices[k].valid) {
				*valid = 0;
				snprintf(buf, n, "%s (slice %s; sealed as a resource)", cs_problem_text(c->sig.slices[k].verdict),
					 c->sig.slices[k].arch);
				return buf;
			}
		const struct cs_bverify_reason *f = cs_bverify_first_failure(c);
		*valid = f == NULL;
		snprintf(buf, n, "%s", f ? f->text : "valid (sealed as a resource)");
		return buf;
	}
	const struct cs_bverify_reason *f = cs_bverify_first_failure(c);
	*valid = f == NULL;
	if (!f)
		snprintf(buf, n, "valid");
	else
		snprintf(buf, n, "%s%s%s", f->text, f->path ? ": " : "", f->path ? f->path : "");
	return buf;
}

static void fill_row(struct row *w, const struct cs_bverify_result *r, const struct cs_bverify_component *c)
{
	memset(w, 0, sizeof(*w));
	w->c = c;
	w->component = c->role == CS_BV_ROLE_RESOURCE && c->parent >= 0 ? r->v[c->parent].rel : c->rel;
	snprintf(w->cols[C_PATH], sizeof(w->cols[C_PATH]), "%s", c->code_rel);
	for (unsigned k = 0; k < c->sig.nslices; k++) {
		const struct cs_verify_slice *s = &c->sig.slices[k];
		const struct cs_audit_slice *a = c->audit ? &c->audit[k] : NULL;
		add_unique(w->cols[C_ARCH], sizeof(w->cols[C_ARCH]), s->arch);
		add_unique(w->cols[C_KIND], sizeof(w->cols[C_KIND]), cs_verify_kind_name(s->kind));
		add_unique(w->cols[C_ID], sizeof(w->cols[C_ID]), s->identifier[0] ? s->identifier : "-");
		add_unique(w->cols[C_TEAM], sizeof(w->cols[C_TEAM]), s->team_id[0] ? s->team_id : "-");
		add_unique(w->cols[C_FLAGS], sizeof(w->cols[C_FLAGS]), a && a->has_signature ? a->flag_names : "-");
		char **keys = NULL;
		size_t nk = 0;
		char ent[1024] = "";
		if (a && cs_bverify_entitlement_keys(a, &keys, &nk) == 0) {
			for (size_t i = 0; i < nk; i++)
				snprintf(ent + strlen(ent), sizeof(ent) - strlen(ent), "%s%s", i ? "," : "", keys[i]);
			cs_bverify_keys_free(keys, nk);
		} else if (a) {
			snprintf(ent, sizeof(ent), "(undecodable)");
		}
		add_unique(w->cols[C_ENT], sizeof(w->cols[C_ENT]), ent[0] ? ent : "-");
	}
	if (!c->checked)
		for (int i = C_ARCH; i <= C_ENT; i++)
			snprintf(w->cols[i], sizeof(w->cols[i]), "-");
	verdict_of(c, w->verdict, sizeof(w->verdict), &w->valid);
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->cols[C_PATH], ((const struct row *)b)->cols[C_PATH]);
}

static struct row *rows_of(const struct cs_bverify_result *r, size_t *n)
{
	struct row *v = calloc(r->n ? r->n : 1, sizeof(*v));
	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].code_rel)
			fill_row(&v[(*n)++], r, &r->v[i]);
	qsort(v, *n, sizeof(*v), by_path);
	return v;
}

/* ---- text ---- */

static void text_report(const char *bundle, const struct cs_bverify_result *r, const struct row *v, size_t n)
{
	static const char *const head[] = { "PATH", "ARCHS", "SIGNATURE", "IDENTIFIER", "TEAM", "FLAGS",
					    "ENTITLEMENTS" };
	size_t width[7];
	for (int i = 0; i < 7; i++) {
		width[i] = strlen(head[i]);
		for (size_t k = 0; k < n; k++)
			if (strlen(v[k].cols[i]) > width[i])
				width[i] = strlen(v[k].cols[i]);
		if (width[i] > 100) /* longer cells push their row out rather than every row */
			width[i] = 100;
	}
	for (int i = 0; i < 7; i++)
		printf("%-*s  ", (int)width[i], head[i]);
	printf("VERDICT\n");
	for (size_t k = 0; k < n; k++) {
		for (int i = 0; i < 7; i++)
			printf("%-*s  ", (int)width[i], v[k].cols[i]);
		printf("%s\n", v[k].verdict);
	}
	size_t nc = 0;
	const struct cs_bverify_component **comps = cmd_bundle_sorted(r, &nc);
	char name[4096];
	for (size_t i = 0; comps && i < nc; i++) {
		if (comps[i]->valid)
			continue;
		cmd_bundle_name(name, sizeof(name), bundle, comps[i]->rel);
		for (size_t k = 0; k < comps[i]->nreasons; k++) {
			const struct cs_bverify_reason *x = &comps[i]->reasons[k];
			if (x->problem == CS_BV_NOTE)
				continue;
			printf("%s: %s%s%s%s%s%s\n", name, x->text, x->path ? ": " : "", x->path ? x->path : "",
			       x->detail[0] ? " (" : "", x->detail, x->detail[0] ? ")" : "");
		}
	}
	cmd_bundle_name(name, sizeof(name), bundle, "");
	printf("%s: %zu Mach-O file%s, %zu component%s; %s (deep, strict)\n", name, n, n == 1 ? "" : "s", nc,
	       nc == 1 ? "" : "s", r->valid ? "valid on disk" : "not valid");
	free(comps);
}

/* ---- JSON ---- */

static void json_reason(struct ut_json *j, const struct cs_bverify_reason *x)
{
	ut_json_obj(j);
	ut_json_kbool(j, "fatal", x->problem != CS_BV_NOTE);
	ut_json_kstr(j, "problem", x->text);
	ut_json_kstr(j, "path", x->path);
	ut_json_kstr(j, "detail", x->detail);
	ut_json_end(j);
}

static void json_component(struct ut_json *j, const struct cs_bverify_component *c)
{
	ut_json_obj(j);
	ut_json_kstr(j, "path", c->rel);
	ut_json_kstr(j, "role", cs_bverify_role_name(c->role));
	ut_json_kstr(j, "kind", c->is_bundle ? cs_bundle_kind_name(c->kind) : "code");
	ut_json_kstr(j, "code", c->code_rel);
	ut_json_kbool(j, "valid", c->valid);
	ut_json_key(j, "reasons");
	ut_json_arr(j);
	for (size_t k = 0; k < c->nreasons; k++)
		json_reason(j, &c->reasons[k]);
	ut_json_end(j);
	ut_json_end(j);
}

static void json_slice(struct ut_json *j, const struct cs_verify_slice *s, const struct cs_audit_slice *a)
{
	char buf[24];
	ut_json_obj(j);
	ut_json_kstr(j, "arch", s->arch);
	ut_json_kstr(j, "kind", cs_verify_kind_name(s->kind));
	ut_json_kbool(j, "valid", s->valid);
	ut_json_kstr(j, "verdict", s->valid ? NULL : cs_problem_text(s->verdict));
	int sig = a && a->has_signature;
	ut_json_kbool(j, "signed", sig);
	ut_json_kstr(j, "identifier", sig ? a->identifier : NULL);
	ut_json_kstr(j, "team_id", sig && a->team_id[0] ? a->team_id : NULL);
	ut_json_kuint(j, "flags", sig ? a->flags : 0);
	ut_json_kstr(j, "flag_names", sig ? a->flag_names : NULL);
	ut_json_kbool(j, "runtime", sig && (a->flags & CS_RUNTIME));
	ut_json_kstr(j, "runtime_version", sig && a->runtime ? mo_version_str(a->runtime, buf) : NULL);
	ut_json_kstr(j, "hash_type", sig ? cs_hash_name(a->hash_type) : NULL);
	ut_json_kstr(j, "cdhash", sig ? a->cdhash : NULL);
	char **keys = NULL;
	size_t nk = 0;
	int ent_ok = a && cs_bverify_entitlement_keys(a, &keys, &nk) == 0;
	ut_json_key(j, "entitlement_keys");
	if (ent_ok && a->entitlements) {
		ut_json_arr(j);
		for (size_t i = 0; i < nk; i++)
			ut_json_str(j, keys[i]);
		ut_json_end(j);
	} else {
		ut_json_null(j);
	}
	cs_bverify_keys_free(keys, nk);
	ut_json_end(j);
}

static void json_macho(struct ut_json *j, const struct row *w)
{
	const struct cs_bverify_component *c = w->c;
	ut_json_obj(j);
	ut_json_kstr(j, "path", c->code_rel);
	ut_json_kstr(j, "component", w->component);
	ut_json_kstr(j, "role", cs_bverify_role_name(c->role));
	ut_json_kstr(j, "format", c->checked ? c->format : NULL);
	ut_json_kbool(j, "valid", w->valid);
	ut_json_kstr(j, "verdict", w->valid ? NULL : w->verdict);
	ut_json_key(j, "slices");
	ut_json_arr(j);
	for (unsigned k = 0; c->checked && k < c->sig.nslices; k++)
		json_slice(j, &c->sig.slices[k], c->audit ? &c->audit[k] : NULL);
	ut_json_end(j);
	ut_json_end(j);
}

static int json_report(const char *bundle, const struct cs_bverify_result *r, const struct row *v, size_t n)
{
	struct ut_buf b;
	struct ut_json j;
	ut_buf_init(&b, 0);
	ut_json_init(&j, &b, 1);
	ut_json_obj(&j);
	ut_json_kstr(&j, "bundle", bundle);
	ut_json_kbool(&j, "valid", r->valid);
	ut_json_key(&j, "checks");
	ut_json_obj(&j);
	ut_json_kbool(&j, "deep", 1);
	ut_json_kbool(&j, "strict", 1);
	ut_json_end(&j);
	size_t nc = 0;
	const struct cs_bverify_component **comps = cmd_bundle_sorted(r, &nc);
	ut_json_key(&j, "components");
	ut_json_arr(&j);
	for (size_t i = 0; comps && i < nc; i++)
		json_component(&j, comps[i]);
	ut_json_end(&j);
	free(comps);
	ut_json_key(&j, "macho");
	ut_json_arr(&j);
	for (size_t k = 0; k < n; k++)
		json_macho(&j, &v[k]);
	ut_json_end(&j);
	ut_json_end(&j);
	return cmd_json_print(&j, &b);
}

int cmd_audit_bundle(const char *bundle, int json, const struct cs_trust *trust)
{
	struct cs_bverify_opts o = { .flags = AUDIT_FLAGS, .trust = trust };
	cmd_bundle_progress(&o, "audit", json);
	struct cs_bverify_result r;
	int rc = cs_bverify_bundle(&r, bundle, &o);
	if (rc) {
		cs_bverify_result_release(&r);
		return cmd_fail(rc);
	}
	size_t n = 0;
	struct row *v = rows_of(&r, &n);
	int code;
	if (!v)
		code = cmd_fail(ut_fail(UT_ENOMEM, "out of memory"));
	else if (json)
		code = json_report(bundle, &r, v, n) ? cmd_fail(UT_ENOMEM) : r.valid ? EXIT_OK : EXIT_BAD;
	else {
		text_report(bundle, &r, v, n);
		code = r.valid ? EXIT_OK : EXIT_BAD;
	}
	free(v);
	cs_bverify_result_release(&r);
	return code;
}
