/* cs_seal_walk.c - the resource scan: a physical walk of a bundle's resource base through its rules. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cs_bundle_priv.h"
#include "cs_seal.h"
#include "ut_err.h"

struct walk {
	const struct cs_rules *rules;
	cs_seal_walk_fn fn;
	void *ctx;
	char abs[CS_SEAL_PATH_MAX + 1];
	size_t base_len;          /* abs[0, base_len) is the base; rel starts after the '/' */
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct names {
	char **v;
	size_t n, cap;
};

static int add_name(void *ctx, const char *dir, const char *name)
{
	struct names *l = ctx;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 32;
		char **nv = l->n >= CS_SEAL_MAX_ENTRIES ? NULL : realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return ut_fail(UT_ENOMEM, "directory '%s': too many entries", dir);
		l->v = nv;
		l->cap = nc;
	}
	if (!(l->v[l->n] = strdup(name)))
		return ut_fail(UT_ENOMEM, "out of memory");
	l->n++;
	return 0;
}

/* The directory's entry names (without . and ..), sorted. */
static int list_dir(const char *path, char ***out, size_t *count)
{
	struct names l = { 0 };
	*out = NULL;
	*count = 0;
	int rc = cs_dir_each(path, 0, add_name, &l);
	if (rc) {
		for (size_t i = 0; i < l.n; i++)
			free(l.v[i]);
		free(l.v);
		return rc;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), name_cmp);
	*out = l.v;
	*count = l.n;
	return 0;
}

static int walk_dir(struct walk *w, size_t len, unsigned depth);

static int visit(struct walk *w, size_t len, const char *name, unsigned depth)
{
	size_t nl = strlen(name);
	if (len + 1 + nl > CS_SEAL_PATH_MAX)
		return ut_fail(UT_EUNSUPPORTED, "path '%.*s/%s' longer than %d bytes", (int)len, w->abs, name,
			       CS_SEAL_PATH_MAX);
	w->abs[len] = '/';
	memcpy(w->abs + len + 1, name, nl + 1);
	size_t end = len + 1 + nl;
	const char *rel = w->abs + w->base_len + 1;
	const struct cs_rule *rule = cs_rules_match(w->rules, rel);
	uint32_t flags = rule ? rule->flags : 0;
	int rc = 0;
	switch (cs_ftype_of(w->abs)) {
	case CS_FT_DIR:
		if (flags & CS_RULE_EXCLUSION)
			break;
		if ((flags & CS_RULE_NESTED) && strchr(name, '.')) {
			rc = w->fn(w->ctx, w->abs, rel, CS_WALK_NESTED_DIR, flags);
			break;
		}
		if ((rc = w->fn(w->ctx, w->abs, rel, CS_WALK_DIR, 0)) == 0)
			rc = walk_dir(w, end, depth + 1);
		break;
	case CS_FT_FILE:
		if (rule && !(flags & (CS_RULE_OMITTED | CS_RULE_EXCLUSION)))
			rc = w->fn(w->ctx, w->abs, rel, CS_WALK_FILE, flags);
		break;
	case CS_FT_LINK:
		if (rule && !(flags & (CS_RULE_OMITTED | CS_RULE_EXCLUSION)))
			rc = w->fn(w->ctx, w->abs, rel, CS_WALK_SYMLINK, flags & ~CS_RULE_NESTED);
		break;
	case CS_FT_OTHER:
		if (rule && !(flags & (CS_RULE_OMITTED | CS_RULE_EXCLUSION)))
			rc = ut_fail(UT_EUNSUPPORTED, "'%s': not a regular file, directory or symlink", w->abs);
		break;
	case CS_FT_NONE:
		break; /* vanished since the listing */
	case CS_FT_ERROR:
		rc = ut_fail_errno(UT_EIO, errno, "cannot stat '%s'", w->abs);
		break;
	}
	w->abs[len] = '\0';
	return rc;
}

static int walk_dir(struct walk *w, size_t len, unsigned depth)
{
	if (depth > CS_SEAL_DEPTH_MAX)
		return ut_fail(UT_EUNSUPPORTED, "'%s': directories nested deeper than %d", w->abs, CS_SEAL_DEPTH_MAX);
	char **names;
	size_t n;
	int rc = list_dir(w->abs, &names, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++)
		rc = visit(w, len, names[i], depth);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int cs_seal_walk(const char *base, const struct cs_rules *rules, cs_seal_walk_fn fn, void *ctx)
{
	struct walk *w = calloc(1, sizeof(*w));
	if (!w)
		return ut_fail(UT_ENOMEM, "out of memory");
	size_t bl = strlen(base);
	while (bl > 1 && base[bl - 1] == '/')
		bl--;
	if (bl > CS_SEAL_PATH_MAX / 2) {
		free(w);
		return ut_fail(UT_EUNSUPPORTED, "bundle path '%s' too long", base);
	}
	memcpy(w->abs, base, bl);
	w->abs[bl] = '\0';
	w->base_len = bl;
	w->rules = rules;
	w->fn = fn;
	w->ctx = ctx;
	int rc = cs_ftype_of(w->abs) == CS_FT_DIR ? walk_dir(w, bl, 0)
						  : ut_fail(UT_ENOTFOUND, "'%s' is not a directory", w->abs);
	free(w);
	return rc;
}
