/*
 * cs_bverify_seal.c - compare a bundle on disk with its CodeResources (SEC
 * StaticCode.cpp validateResources / validateResource / validateSymlinkResource),
 * queueing the digests of sealed files as jobs so that they can be computed in
 * parallel.  The rules are those of cs_seal_verify (cs_seal.h); this copy exists
 * because cs_seal_verify hashes inside its directory walk, one file at a time.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_bverify_priv.h"
#include "cs_hash.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_limits.h"

struct walk {
	struct bv_ctx *x;
	size_t i;                   /* the bundle component */
	const struct cs_seal_files *table;
	int v1, strict;
	unsigned char *seen;
	int base_depth;             /* components from the top root down to the resource base */
};

static struct cs_bverify_component *comp(struct walk *w) { return &w->x->r->v[w->i]; }

/* The top-relative path of a base-relative one (malloc'd). */
static char *top_rel(struct walk *w, const char *rel) { return bv_cat(w->x->c[w->i].base_rel, rel); }

static int file_reason(struct walk *w, enum cs_bverify_problem p, const char *rel, const char *fmt, const char *arg)
{
	char *path = top_rel(w, rel);
	if (!path)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = bv_reason_add(comp(w), p, NULL, path, fmt, arg);
	free(path);
	return rc;
}

static int queue_hash(struct walk *w, const char *abs, const char *rel, const struct cs_seal_entry *e)
{
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
	h->rel = top_rel(w, rel);
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

static char *read_link(const char *abs)
{
	char *buf = malloc(CS_SEAL_PATH_MAX + 1);
	if (!buf) {
		ut_fail(UT_ENOMEM, "out of memory");
		return NULL;
	}
	ssize_t n = readlink(abs, buf, CS_SEAL_PATH_MAX);
	if (n < 0 || n >= CS_SEAL_PATH_MAX) {
		ut_fail_errno(UT_EIO, n < 0 ? errno : ENAMETOOLONG, "cannot read symlink '%s'", abs);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Lexical resolution of a symlink target from its directory: 1 when it leaves the top bundle. */
static int link_escapes(const struct walk *w, const char *rel, const char *target)
{
	if (target[0] == '/')
		return strncmp(target, "/System/", 8) != 0 && strncmp(target, "/Library/", 9) != 0;
	int depth = w->base_depth;
	for (const char *p = rel; *p; p++)
		depth += *p == '/';
	for (const char *p = target; *p;) {
		const char *q = strchr(p, '/');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return 1;
		} else if (n && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n + (q != NULL);
	}
	return 0;
}

static int check_symlink(struct walk *w, const char *abs, const char *rel, const struct cs_seal_entry *e)
{
	char *target = read_link(abs);
	if (!target)
		return file_reason(w, CS_BV_FILE_MODIFIED, rel, "%s", ut_errmsg());
	int rc = 0;
	if (e && strcmp(target, e->symlink) != 0) {
		size_t n = strlen(target) + strlen(e->symlink) + 64;
		char *d = malloc(n);
		if (!d)
			rc = ut_fail(UT_ENOMEM, "out of memory");
		else {
			snprintf(d, n, "symlink target '%s', sealed '%s'", target, e->symlink);
			rc = file_reason(w, CS_BV_FILE_MODIFIED, rel, "%s", d);
			free(d);
		}
	}
	if (!rc && w->strict && link_escapes(w, rel, target))
		rc = file_reason(w, CS_BV_SYMLINK, rel, "symlink target '%s' leaves the bundle", target);
	free(target);
	return rc;
}

static int add_nested(struct walk *w, const char *rel, const struct cs_seal_entry *e, int is_bundle)
{
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

static const char *kind_word(enum cs_seal_kind k)
{
	return k == CS_SEAL_FILE ? "a file" : k == CS_SEAL_SYMLINK ? "a symlink" : "nested code";
}

static int on_item(void *ctx, const char *abs, const char *rel, enum cs_walk_kind kind, uint32_t flags)
{
	struct walk *w = ctx;
	(void)flags;
	if (kind == CS_WALK_DIR || (w->v1 && kind != CS_WALK_FILE))
		return 0;
	const struct cs_seal_entry *e = cs_seal_find(w->table, rel);
	if (!e) {
		int rc = file_reason(w, CS_BV_FILE_ADDED, rel, "%s",
				     kind == CS_WALK_NESTED_DIR ? "nested code not in the seal" : "");
		if (!rc && kind == CS_WALK_SYMLINK && w->strict)
			rc = check_symlink(w, abs, rel, NULL);
		return rc;
	}
	w->seen[e - w->table->v] = 1;
	enum cs_seal_kind disk = kind == CS_WALK_SYMLINK ? CS_SEAL_SYMLINK
			       : kind == CS_WALK_NESTED_DIR ? CS_SEAL_NESTED : CS_SEAL_FILE;
	/* Like Security, the seal decides how a regular file is judged: by digest or as nested code. */
	if (e->kind == CS_SEAL_NESTED && disk != CS_SEAL_SYMLINK)
		return add_nested(w, rel, e, disk == CS_SEAL_NESTED);
	if (e->kind != disk) {
		char d[96];
		snprintf(d, sizeof(d), "sealed as %s, now %s", kind_word(e->kind),
			 kind == CS_WALK_NESTED_DIR ? "a directory" : kind_word(disk));
		return file_reason(w, CS_BV_FILE_MODIFIED, rel, "%s", d);
	}
	if (disk == CS_SEAL_SYMLINK)
		return check_symlink(w, abs, rel, e);
	return queue_hash(w, abs, rel, e);
}

/* Non-empty components of a relative path ("Contents/Frameworks/" -> 2). */
static int depth_of(const char *rel)
{
	int d = 0;
	for (const char *p = rel; *p; p++)
		d += *p != '/' && (p[1] == '/' || p[1] == '\0');
	return d;
}

static int compare(struct bv_ctx *x, size_t i)
{
	struct bv_comp *bc = &x->c[i];
	const struct cs_seal *s = &bc->seal;
	struct walk w = { .x = x, .i = i, .strict = (x->o->flags & CS_BVERIFY_STRICT) != 0 };
	w.v1 = !s->has_files2;
	w.table = w.v1 ? &s->files : &s->files2;
	w.base_depth = depth_of(bc->base_rel);
	w.seen = calloc(w.table->n ? w.table->n : 1, 1);
	if (!w.seen)
		return ut_fail(UT_ENOMEM, "out of memory");
	struct cs_rules rules;
	cs_rules_init(&rules);
	int rc = cs_rules_copy(&rules, w.v1 ? &s->rules : &s->rules2);
	if (!rc)
		rc = cs_rules_add_exclusions(&rules, bc->b->exec_rel);
	int walked = 0;
	if (!rc) {
		rc = cs_seal_walk(bc->b->base, &rules, on_item, &w);
		walked = !rc;
		if (rc && rc != UT_ENOMEM) {
			/* An unreadable directory or an unsupported file type: the seal cannot be confirmed. */
			char *msg = strdup(ut_errmsg());
			rc = bv_reason_add(comp(&w), CS_BV_RESOURCES, NULL, NULL, "%s", msg ? msg : "");
			free(msg);
		}
	}
	for (size_t k = 0; k < w.table->n && !rc && walked; k++)
		if (!w.seen[k] && !w.table->v[k].optional)
			rc = file_reason(&w, CS_BV_FILE_MISSING, w.table->v[k].path, "%s", "");
	cs_rules_release(&rules);
	free(w.seen);
	return rc;
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
		char *path = bv_cat3(x->r->v[i].rel, x->r->v[i].rel[0] ? "/" : "", lr.v[k].path);
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
		char *path = bv_cat3(x->c[i].b->base, "/", n->key);
		char *rel = bv_cat(x->c[i].base_rel, n->key);
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
		char *path = bv_cat(x->c[i].base_rel, x->c[i].b->seal_rel);
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
	size_t nf = 0, first = c->nreasons;
	for (size_t k = 0; k < c->nreasons; k++)
		if (is_file_problem(c->reasons[k].problem)) {
			nf++;
			if (first == c->nreasons)
				first = k;
		}
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
