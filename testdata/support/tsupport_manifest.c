/* tsupport_manifest.c - corpus file lists from MANIFEST.tsv (tests only). */
#define _POSIX_C_SOURCE 200809L
#include "tsupport_manifest.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "tmanifest.h"
#include "tsupport.h"

struct list {
	int loaded;
	const char **v; /* count + 1 entries, NULL last */
	size_t n;
};

static int has_cd(const struct tm_entry *e)
{
	for (unsigned i = 0; i < e->nslices; i++)
		if (e->s[i].cd_version)
			return 1;
	return 0;
}

static void load(struct list *l, enum tsm_kind kind)
{
	struct tm_entry *e = NULL;
	size_t ne = 0;
	l->loaded = 1;
	if (tm_load(ts_corpus("MANIFEST.tsv"), &e, &ne) != 0)
		ne = 0;
	l->v = calloc(ne + 1, sizeof(*l->v));
	if (!l->v)
		abort();
	for (size_t i = 0; i < ne; i++) {
		if (kind == TSM_MACHO_SIGNED && !has_cd(&e[i]))
			continue;
		if (!(l->v[l->n++] = strdup(e[i].path)))
			abort();
	}
	free(e);
}

const char *const *tsm_paths(enum tsm_kind kind, size_t *n)
{
	static struct list lists[TSM_MACHO_SIGNED + 1];
	struct list *l = &lists[kind];
	if (!l->loaded)
		load(l, kind);
	if (n)
		*n = l->n;
	return l->v;
}

const char *const *tsm_paths_min(enum tsm_kind kind, size_t min, const char *what)
{
	size_t n = 0;
	const char *const *v = tsm_paths(kind, &n);
	cr_assert_geq(n, min, "%s lists %zu %s, expected at least %zu", ts_corpus("MANIFEST.tsv"), n, what, min);
	return v;
}
