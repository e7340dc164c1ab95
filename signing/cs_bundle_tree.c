/* cs_bundle_tree.c - every signable component of a bundle, inside-out (children before their parent). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cs_bundle.h"
#include "cs_bundle_priv.h"
#include "cs_seal.h"
#include "ut_err.h"

void cs_bundle_tree_release(struct cs_bundle_tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].path);
		free(t->v[i].rel);
		free(t->v[i].seal_rel);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* Takes ownership of path, rel and seal_rel. */
static int push(struct cs_bundle_tree *t, char *path, char *rel, char *seal_rel, int is_bundle, unsigned depth,
		int nested)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct cs_component *v = t->n >= 100000 ? NULL : realloc(t->v, cap * sizeof(*v));
		if (!v) {
			free(path);
			free(rel);
			free(seal_rel);
			return ut_fail(UT_ENOMEM, "too many components");
		}
		t->v = v;
		t->cap = cap;
	}
	struct cs_component *c = &t->v[t->n++];
	c->path = path;
	c->rel = rel;
	c->seal_rel = seal_rel;
	c->is_bundle = is_bundle;
	c->depth = depth;
	c->parent = -1;
	c->nested = nested;
	return 0;
}

/* A child found by the walk, visited after the walk. */
struct child {
	char *rel;                /* relative to the parent's base */
	int is_bundle, nested;
};

struct found {
	struct child *v;
	size_t n, cap;
	char *skip;               /* rel of an embedded bundle whose contents belong to it */
};

static int found_add(struct found *f, const char *rel, int is_bundle, int nested)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct child *v = realloc(f->v, cap * sizeof(*v));
		if (!v)
			return ut_fail(UT_ENOMEM, "out of memory");
		f->v = v;
		f->cap = cap;
	}
	if (!(f->v[f->n].rel = strdup(rel)))
		return ut_fail(UT_ENOMEM, "out of memory");
	f->v[f->n].is_bundle = is_bundle;
	f->v[f->n].nested = nested;
	f->n++;
	return 0;
}

/* A bundle with a Mach-O main executable (worth signing) found outside the nested locations. */
static int signable_bundle(const char *abs)
{
	const char *name = strrchr(abs, '/');
	if (!strchr(name ? name + 1 : abs, '.') || !cs_bundle_looks_like(abs))
		return 0;
	struct cs_bundle *b = NULL;
	if (cs_bundle_open(abs, &b) != 0) {
		ut_err_clear();
		return 0;
	}
	int ok = b->exec_path && cs_ftype_of(b->exec_path) == CS_FT_FILE && cs_is_macho_file(b->exec_path);
	cs_bundle_free(b);
	return ok;
}

static int on_item(void *ctx, const char *abs, const char *rel, enum cs_walk_kind kind, uint32_t flags)
{
	struct found *f = ctx;
	if (f->skip) {
		size_t n = strlen(f->skip);
		if (strncmp(rel, f->skip, n) == 0 && rel[n] == '/')
			return 0;
		free(f->skip);
		f->skip = NULL;
	}
	switch (kind) {
	case CS_WALK_NESTED_DIR:
		return found_add(f, rel, 1, 1);
	case CS_WALK_FILE:
		if ((flags & CS_RULE_NESTED) && cs_is_macho_file(abs))
			return found_add(f, rel, 0, 1);
		return 0;
	case CS_WALK_DIR:
		if (!signable_bundle(abs))
			return 0;
		if (!(f->skip = strdup(rel)))
			return ut_fail(UT_ENOMEM, "out of memory");
		return found_add(f, rel, 1, 0);
	case CS_WALK_SYMLINK:
		return 0;
	}
	return 0;
}

static int find_children(const struct cs_bundle *b, struct found *f)
{
	struct cs_rules rules;
	cs_rules_init(&rules);
	int rc = cs_rules_default_v2(&rules, b->resources);
	if (!rc)
		rc = cs_rules_add_exclusions(&rules, b->exec_rel);
	if (!rc)
		rc = cs_seal_walk(b->base, &rules, on_item, f);
	cs_rules_release(&rules);
	free(f->skip);
	f->skip = NULL;
	return rc;
}

static int visit(struct cs_bundle_tree *t, const char *path, const char *rel, char *seal_rel, unsigned depth,
		 int nested)
{
	if (depth > CS_BUNDLE_MAX_DEPTH) {
		free(seal_rel);
		return ut_fail(UT_EUNSUPPORTED, "'%s': bundles nested deeper than %d", path, CS_BUNDLE_MAX_DEPTH);
	}
	struct cs_bundle *b = NULL;
	int rc = cs_bundle_open(path, &b);
	struct found f = { 0 };
	if (!rc)
		rc = find_children(b, &f);
	size_t *kids = calloc(f.n ? f.n : 1, sizeof(*kids));
	if (!rc && !kids)
		rc = ut_fail(UT_ENOMEM, "out of memory");
	for (size_t i = 0; i < f.n && !rc; i++) {
		char *cpath = ut_path_join(b->base, f.v[i].rel);
		char *crel = cs_path_join3(rel, b->base_rel, f.v[i].rel);
		char *csrel = strdup(f.v[i].rel);
		if (!cpath || !crel || !csrel) {
			free(cpath);
			free(crel);
			free(csrel);
			rc = ut_fail(UT_ENOMEM, "out of memory");
			break;
		}
		if (f.v[i].is_bundle) {
			rc = visit(t, cpath, crel, csrel, depth + 1, f.v[i].nested);
			free(cpath);
			free(crel);
		} else {
			rc = push(t, cpath, crel, csrel, 0, depth + 1, f.v[i].nested);
		}
		kids[i] = t->n - 1;
	}
	for (size_t i = 0; i < f.n; i++)
		free(f.v[i].rel);
	free(f.v);
	cs_bundle_free(b);
	if (!rc) {
		char *p = strdup(path), *r = strdup(rel);
		if (!p || !r) {
			free(p);
			free(r);
			rc = ut_fail(UT_ENOMEM, "out of memory");
		} else {
			rc = push(t, p, r, seal_rel, 1, depth, nested);
			seal_rel = NULL; /* push owns it, even on failure */
		}
	}
	if (!rc)
		for (size_t i = 0; i < f.n; i++)
			t->v[kids[i]].parent = (long)(t->n - 1);
	free(kids);
	free(seal_rel);
	return rc;
}

int cs_bundle_tree_build(struct cs_bundle_tree *t, const char *root)
{
	memset(t, 0, sizeof(*t));
	int rc = visit(t, root, "", NULL, 0, 0);
	if (rc)
		cs_bundle_tree_release(t);
	return rc;
}
