/*
 * cs_bverify_seal.c - compare a bundle on disk with its CodeResources (SEC
 * StaticCode.cpp validateResources / validateResource / validateSymlinkResource),
 * through cs_seal_verify, whose hooks turn its findings into reasons and queue
 * the digests of sealed files as jobs so that they can be computed in parallel.
 */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cs_bverify_priv.h"
#include "cs_hash.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_limits.h"

/* One bundle component's comparison: the hooks of cs_seal_verify route its findings and files here. */
struct walk {
	struct bv_ctx *x;
	size_t i;                   /* the bundle component */
};

static struct cs_bverify_component *comp(struct walk *w) { return &w->x->r->v[w->i]; }

static int on_finding(void *ctx, enum cs_seal_problem p, const char *path, const char *detail)
{
	enum cs_bverify_problem bp;
	switch (p) {
	case CS_SEAL_ADDED: bp = CS_BV_FILE_ADDED; break;
	case CS_SEAL_MISSING: bp = CS_BV_FILE_MISSING; break;
	case CS_SEAL_SYMLINK_ESCAPES: bp = CS_BV_SYMLINK; break;
	default: assert(p == CS_SEAL_MODIFIED); bp = CS_BV_FILE_MODIFIED; break;
	}
	return bv_reason_add(comp(ctx), bp, NULL, path, "%s", detail);
}

/* A sealed file: its digests are computed later, in parallel (bv_hash_run). */
static int on_file(void *ctx, const char *abs, const char *path, const struct cs_seal_entry *e)
{
	struct walk *w = ctx;
	struct bv_ctx *x = w->x;
	if (x->nh == x->hcap) {
		size_t cap = x->hcap ? x->hcap * 2 : 256;
		struct bv_hash *v = x->nh >= CS_SEAL_MAX_ENTRIES * (size_t)4 ? NULL : realloc(x->h, cap * sizeof(*v));
		if (!v)
			return ut_fail(UT_ENOMEM, "too many sealed files");
		x->h = v;
		x->hcap = cap;
	}
	struct bv_hash *h = &x->h[x->nh];
	memset(h, 0, sizeof(*h));
	struct stat st;
	h->size = lstat(abs, &st) == 0 ? (uint64_t)st.st_size : 0;
	h->abs = strdup(abs);
	h->rel = strdup(path);
	if (!h->abs || !h->rel) {
		free(h->abs);
		free(h->rel);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	h->comp = w->i;
	h->e = e;
	x->nh++;
	return 0;
}

/* Nested code: recorded now, matched with a component and judged once every code job has run. */
static int on_nested(void *ctx, const char *path, const char *rel, int is_bundle,
		     const struct cs_seal_entry *e, const struct cs_seal_verify_opts *o, const char *prefix,
		     struct cs_seal_report *rep)
{
	struct walk *w = ctx;
	(void)path, (void)o, (void)prefix, (void)rep;
	struct bv_comp *bc = &w->x->c[w->i];
	if (bc->nnested == bc->nested_cap) {
		size_t cap = bc->nested_cap ? bc->nested_cap * 2 : 8;
		struct bv_nested *v = realloc(bc->nested, cap * sizeof(*v));
		if (!v)
			return ut_fail(UT_ENOMEM, "out of memory");
		bc->nested = v;
		bc->nested_cap = cap;
	}
	struct bv_nested *n = &bc->nested[bc->nnested];
	if (!(n->key = strdup(rel)))
		return ut_fail(UT_ENOMEM, "out of memory");
	n->e = e;
	n->is_bundle = is_bundle;
	n->child = -1;
	bc->nnested++;
	return 0;
}

/* An unreadable directory or an unsupported file type: the seal cannot be confirmed. */
static int on_walk_failed(void *ctx, int err)
{
	(void)err;
	char *msg = strdup(ut_errmsg());
	int rc = bv_reason_add(comp(ctx), CS_BV_RESOURCES, NULL, NULL, "%s", msg ? msg : "");
	free(msg);
	return rc;
}

/* Bundle component i's files against its seal (cs_seal_verify), with paths relative to the top bundle. */
static int compare(struct bv_ctx *x, size_t i)
{
	struct bv_comp *bc = &x->c[i];
	struct walk w = { .x = x, .i = i };
	struct cs_seal_verify_opts o = {
		.strict = (x->o->flags & CS_BVERIFY_STRICT) != 0,
		.nested = on_nested,
		.nested_ctx = &w,
		.stack_root = x->root,
		.finding = on_finding,
		.file = on_file,
		.walk_failed = on_walk_failed,
		.hook_ctx = &w,
	};
	return cs_seal_verify(&bc->seal, bc->b->base, bc->b->exec_rel, &o, bc->base_rel, NULL);
}

int bv_seal_read(struct bv_ctx *x, size_t i)
{
	struct bv_comp *bc = &x->c[i];
	struct stat st;
	if (lstat(bc->b->seal_path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return bv_reason_add(&x->r->v[i], CS_BV_RESOURCE_DIR, NULL, NULL, "cannot read '%s': %s",
				     bc->b->seal_path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode)) {
		bc->seal_state = -1;
		return bv_reason_add(&x->r->v[i], CS_BV_RESOURCE_DIR, NULL, NULL, "%s is not a regular file",
				     bc->b->seal_rel);
	}
	int rc = ut_file_read(bc->b->seal_path, UT_MAX_PLIST_SIZE, &bc->res, &bc->res_len);
	if (!rc)
		rc = cs_seal_parse(&bc->seal, bc->res, bc->res_len, bc->b->seal_rel);
	if (rc == UT_ENOMEM)
		return rc;
	if (rc) {
		bc->seal_state = -1;
		char *msg = strdup(ut_errmsg());
		rc = bv_reason_add(&x->r->v[i], CS_BV_RESOURCE_DIR, NULL, NULL, "%s", msg ? msg : "");
		free(msg);
		return rc;
	}
	bc->seal_state = 1;
	return 0;
}

static int check_layout(struct bv_ctx *x, size_t i)
{
	struct cs_layout_report lr = { 0 };
	int rc = cs_bundle_check_layout(x->c[i].b, &lr);
	for (size_t k = 0; k < lr.n && !rc; k++) {
		char *path = cs_seal_cat3(x->r->v[i].rel, x->r->v[i].rel[0] ? "/" : "", lr.v[k].path);
		rc = path ? bv_reason_add(&x->r->v[i], CS_BV_LAYOUT, lr.v[k].what, path, "%s", "")
			  : ut_fail(UT_ENOMEM, "out of memory");
		free(path);
	}
	cs_layout_report_release(&lr);
	return rc;
}

/* Matches the nested code recorded in bundle i's seal with components, adding those the tree did not list. */
static int match_nested(struct bv_ctx *x, size_t i)
{
	for (size_t k = 0; k < x->c[i].nnested; k++) {
		struct bv_nested *n = &x->c[i].nested[k];
		for (size_t j = 0; j < x->r->n && n->child < 0; j++)
			if (x->r->v[j].parent == (long)i && x->c[j].seal_key && strcmp(x->c[j].seal_key, n->key) == 0)
				n->child = (long)j;
		if (n->child >= 0) {
			x->r->v[n->child].role = CS_BV_ROLE_NESTED;
			continue;
		}
		char *path = cs_seal_cat3(x->c[i].b->base, "/", n->key);
		char *rel = cs_seal_prefixed(x->c[i].base_rel, n->key);
		long j = path && rel ? bv_component_add(x, path, rel, CS_BV_ROLE_NESTED, n->is_bundle, (long)i, n->key)
				     : ut_fail(UT_ENOMEM, "out of memory");
		free(path);
		free(rel);
		if (j < 0)
			return (int)j;
		x->c[i].nested[k].child = j; /* x->c may have moved */
	}
	return 0;
}

int bv_seal_plan(struct bv_ctx *x, size_t i)
{
	unsigned fl = x->o->flags;
	int rc = 0;
	if (fl & CS_BVERIFY_STRICT)
		rc = check_layout(x, i);
	if (!rc)
		rc = bv_seal_read(x, i);
	if (rc || x->c[i].seal_state != 1)
		return rc;
	const struct cs_seal *s = &x->c[i].seal;
	char why[256];
	if (fl & CS_BVERIFY_STRICT) {
		char *path = cs_seal_prefixed(x->c[i].base_rel, x->c[i].b->seal_rel);
		if (!path)
			return ut_fail(UT_ENOMEM, "out of memory");
		if (!s->has_files2)
			rc = bv_reason_add(&x->r->v[i], CS_BV_WEAK_ENVELOPE, NULL, path, "%s",
					   "weak resource envelope: version 1 seal only");
		else if (cs_rules_weak(&s->rules2, 2, why, sizeof(why)))
			rc = bv_reason_add(&x->r->v[i], CS_BV_WEAK_RULES, NULL, path, "%s", why);
		free(path);
	}
	if (!rc && !s->has_files2 && !s->has_files)
		rc = bv_reason_add(&x->r->v[i], CS_BV_RESOURCE_DIR, NULL, NULL, "%s", "the seal has no files table");
	else if (!rc)
		rc = compare(x, i);
	if (!rc)
		rc = match_nested(x, i);
	return rc;
}

static int cmp_reason(const void *a, const void *b)
{
	const struct cs_bverify_reason *p = a, *q = b;
	return strcmp(p->path ? p->path : "", q->path ? q->path : "");
}

static int is_file_problem(enum cs_bverify_problem p)
{
	return p == CS_BV_FILE_ADDED || p == CS_BV_FILE_MODIFIED || p == CS_BV_FILE_MISSING;
}

/* Sorts the file findings of a component by path, after a headline "a sealed resource is missing or invalid". */
static int headline(struct cs_bverify_component *c)
{
	size_t nf = 0;
	for (size_t k = 0; k < c->nreasons; k++)
		nf += is_file_problem(c->reasons[k].problem);
	if (!nf)
		return 0;
	/* Move file findings to the end, keep the others' order. */
	struct cs_bverify_reason *tmp = malloc(c->nreasons * sizeof(*tmp));
	if (!tmp)
		return ut_fail(UT_ENOMEM, "out of memory");
	size_t a = 0, b = c->nreasons - nf;
	for (size_t k = 0; k < c->nreasons; k++)
		tmp[is_file_problem(c->reasons[k].problem) ? b++ : a++] = c->reasons[k];
	memcpy(c->reasons, tmp, c->nreasons * sizeof(*tmp));
	free(tmp);
	qsort(c->reasons + c->nreasons - nf, nf, sizeof(*c->reasons), cmp_reason);
	int rc = bv_reason_add(c, CS_BV_RESOURCES, NULL, NULL, "%zu file%s", nf, nf == 1 ? "" : "s");
	if (rc)
		return rc;
	/* Put the headline before the files. */
	struct cs_bverify_reason h = c->reasons[c->nreasons - 1];
	memmove(c->reasons + c->nreasons - nf, c->reasons + c->nreasons - nf - 1, nf * sizeof(h));
	c->reasons[c->nreasons - nf - 1] = h;
	return 0;
}

int bv_seal_results(struct bv_ctx *x)
{
	int rc = 0;
	for (size_t k = 0; k < x->nh && !rc; k++) {
		struct bv_hash *h = &x->h[k];
		struct cs_bverify_component *c = &x->r->v[h->comp];
		if (h->rc)
			rc = bv_reason_add(c, CS_BV_FILE_MODIFIED, NULL, h->rel, "%s", h->msg ? h->msg : "unreadable");
		else if (h->bad_type)
			rc = bv_reason_add(c, CS_BV_FILE_MODIFIED, NULL, h->rel, "%s digest differs",
					   cs_hash_name(h->bad_type));
	}
	for (size_t i = 0; i < x->r->n && !rc; i++)
		rc = headline(&x->r->v[i]);
	return rc;
}
