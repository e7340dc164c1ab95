/*
 * mo_loadcheck.c - the whole load check of one image (and optionally every
 * bundled dylib it pulls in): dependencies resolved with mo_resolve_dylib,
 * then every non-weak import bound from a bundled library looked up in that
 * library's exports, following re-exports.  Problems are collected, never
 * stopped at: the report lists all of them.  See mo_resolve.h.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_format.h"
#include "mo_resolve.h"
#include "mo_symbols.h"
#include "ut_err.h"

/* A loaded image: its file, slice, loader (for its own dependencies) and lazily its tables. */
struct node {
	char *path;                 /* bundle path (key) */
	char *dir;                  /* its directory: @loader_path */
	struct ut_src src;
	struct mo_file *f;
	const struct mo_slice *slice;
	struct mo_loader loader;
	struct mo_exports *exports;
	int exports_bad;            /* exports could not be parsed (reported once) */
	struct mo_dep_result *deps; /* per dependency, resolved on first use */
	uint8_t *deps_done;
	int queued;
};

struct graph {
	const struct mo_load_env *env;
	struct node **v;
	uint32_t n, cap;
	struct mo_load_report *rep;
	uint32_t cap_problems;
};

enum found { F_MISSING, F_FOUND, F_UNKNOWN };

static void node_free(struct node *nd)
{
	if (!nd)
		return;
	if (nd->deps && nd->slice)
		for (uint32_t i = 0; i < nd->slice->img->ndeps; i++)
			mo_dep_result_release(&nd->deps[i]);
	free(nd->deps);
	free(nd->deps_done);
	mo_exports_free(nd->exports);
	mo_loader_release(&nd->loader);
	mo_file_close(&nd->src, nd->f);
	free(nd->path);
	free(nd->dir);
	free(nd);
}

static struct mo_problem *add_problem(struct graph *g, enum mo_problem_kind kind, const struct node *nd,
				      uint32_t ordinal)
{
	struct mo_load_report *r = g->rep;
	if (r->nproblems == g->cap_problems) {
		uint32_t ncap = g->cap_problems ? g->cap_problems * 2 : 16;
		struct mo_problem *v = realloc(r->problems, ncap * sizeof(*v));
		if (!v)
			return NULL;
		r->problems = v;
		g->cap_problems = ncap;
	}
	struct mo_problem *p = &r->problems[r->nproblems++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->ordinal = ordinal;
	p->image = strdup(nd->path);
	if (ordinal)
		p->install_name = strdup(nd->slice->img->deps[ordinal - 1].name);
	return p;
}

static int set_detail(struct mo_problem *p, const char *fmt, ...) UT_PRINTF(2, 3);
static int set_detail(struct mo_problem *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	p->detail = malloc((size_t)n + 1);
	if (!p->detail)
		return ut_fail(UT_ENOMEM, "out of memory");
	va_start(ap, fmt);
	vsnprintf(p->detail, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return 0;
}

static char *dirname_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? strndup(path, (size_t)(slash - path)) : strdup("");
}

/* Opens host file as the image at bundle path, loaded by parent.  (*out)->slice is NULL when the arch is missing. */
static int node_open(struct graph *g, const char *host, const char *path, const struct mo_loader *parent,
		     struct node **out)
{
	*out = NULL;
	if (g->n >= MO_MAX_LOAD_IMAGES)
		return ut_fail(UT_ENOMEM, "more than %u images to check", MO_MAX_LOAD_IMAGES);
	struct node *nd = calloc(1, sizeof(*nd));
	if (!nd)
		return ut_fail(UT_ENOMEM, "out of memory");
	nd->src.fd = -1;
	nd->path = strdup(path);
	nd->dir = dirname_of(path);
	int rc = (nd->path && nd->dir) ? 0 : ut_fail(UT_ENOMEM, "out of memory");
	if (!rc)
		rc = mo_file_open(host, &nd->src, &nd->f);
	if (!rc) {
		nd->slice = mo_file_slice_for(nd->f, g->env->cputype, g->env->cpusubtype);
		if (nd->slice)
			rc = mo_loader_from_image(&nd->loader, nd->dir, nd->slice->img, parent);
	}
	if (!rc && nd->slice) {
		uint32_t nd_deps = nd->slice->img->ndeps;
		nd->deps = calloc(nd_deps + 1, sizeof(*nd->deps));
		nd->deps_done = calloc(nd_deps + 1, 1);
		if (!nd->deps || !nd->deps_done)
			rc = ut_fail(UT_ENOMEM, "out of memory");
	}
	if (!rc && g->n == g->cap) {
		uint32_t ncap = g->cap ? g->cap * 2 : 16;
		struct node **v = realloc(g->v, ncap * sizeof(*v));
		if (!v)
			rc = ut_fail(UT_ENOMEM, "out of memory");
		else {
			g->v = v;
			g->cap = ncap;
		}
	}
	if (rc) {
		node_free(nd);
		return rc;
	}
	g->v[g->n++] = nd;
	*out = nd;
	return 0;
}

/* The node for a bundle path that resolution found loadable (opened once). */
static int node_get(struct graph *g, const char *path, const struct mo_loader *parent, struct node **out)
{
	for (uint32_t i = 0; i < g->n; i++)
		if (strcmp(g->v[i]->path, path) == 0) {
			*out = g->v[i];
			return 0;
		}
	char *host = ut_path_join(g->env->root, path);
	if (!host)
		return UT_ENOMEM;
	int rc = node_open(g, host, path, parent, out);
	free(host);
	/* resolution saw the arch in this file; without it every later use of the node would crash */
	if (!rc && !(*out)->slice)
		rc = ut_fail(UT_EIO, "changed while being checked (no longer has the process's architecture)");
	return rc ? ut_ctx(rc, "'%s'", path) : 0;
}

static int node_dep(struct graph *g, struct node *nd, uint32_t i, const struct mo_dep_result **out)
{
	if (!nd->deps_done[i]) {
		int rc = mo_resolve_dylib(g->env, &nd->loader, &nd->slice->img->deps[i], &nd->deps[i]);
		if (rc)
			return rc;
		nd->deps_done[i] = 1;
	}
	*out = &nd->deps[i];
	return 0;
}

/* Exports of nd; a malformed table is reported once as NOT_LOADABLE and makes lookups unknown. */
static int node_exports(struct graph *g, struct node *nd, const struct mo_exports **out)
{
	*out = NULL;
	if (nd->exports_bad)
		return 0;
	if (!nd->exports) {
		int rc = mo_exports_parse(nd->f, nd->slice, &nd->exports);
		if (rc == UT_ENOMEM)
			return rc;
		if (rc) {
			nd->exports_bad = 1;
			struct mo_problem *p = add_problem(g, MO_PROBLEM_NOT_LOADABLE, nd, 0);
			if (!p)
				return ut_fail(UT_ENOMEM, "out of memory");
			p->path = strdup(nd->path);
			return set_detail(p, "exports: %s", ut_errmsg());
		}
	}
	*out = nd->exports;
	return 0;
}

static int lookup(struct graph *g, struct node *nd, const char *name, uint32_t depth, enum found *res);

/* Looks name up in nd's dependency i (a re-export). */
static int lookup_dep(struct graph *g, struct node *nd, uint32_t i, const char *name, uint32_t depth,
		      enum found *res)
{
	const struct mo_dep_result *r;
	int rc = node_dep(g, nd, i, &r);
	if (rc)
		return rc;
	if (r->state == MO_DEP_SYSTEM) {
		*res = F_UNKNOWN;
		return 0;
	}
	if (r->state != MO_DEP_FOUND) {
		*res = F_MISSING;
		return 0;
	}
	struct node *t;
	rc = node_get(g, r->path, &nd->loader, &t);
	return rc ? rc : lookup(g, t, name, depth + 1, res);
}

static int lookup(struct graph *g, struct node *nd, const char *name, uint32_t depth, enum found *res)
{
	*res = F_UNKNOWN;
	if (depth > MO_MAX_REEXPORT_DEPTH)
		return 0;
	const struct mo_exports *e;
	int rc = node_exports(g, nd, &e);
	if (rc || !e)
		return rc;
	const struct mo_export *x = mo_exports_find(e, name);
	if (x && !(x->flags & EXPORT_SYMBOL_FLAGS_REEXPORT)) {
		*res = F_FOUND;
		return 0;
	}
	if (x) {
		if (x->reexport_ordinal == 0) /* N_INDR: library not recorded */
			return 0;
		return lookup_dep(g, nd, x->reexport_ordinal - 1, x->reexport_name, depth, res);
	}
	int unknown = 0;
	const struct mo_image *img = nd->slice->img;
	for (uint32_t i = 0; i < img->ndeps; i++) {
		if (img->deps[i].cmd != LC_REEXPORT_DYLIB)
			continue;
		enum found sub;
		rc = lookup_dep(g, nd, i, name, depth, &sub);
		if (rc)
			return rc;
		if (sub == F_FOUND) {
			*res = F_FOUND;
			return 0;
		}
		unknown |= sub == F_UNKNOWN;
	}
	*res = unknown ? F_UNKNOWN : F_MISSING;
	return 0;
}

static int copy_detail(struct mo_problem *p, const char *s)
{
	p->detail = strdup(s ? s : "");
	return p->detail ? 0 : ut_fail(UT_ENOMEM, "out of memory");
}

/* Dependency problems of nd; queues loadable bundled dependencies when closure is wanted. */
static int check_deps(struct graph *g, struct node *nd, struct node **queue, uint32_t *nq, int closure)
{
	const struct mo_image *img = nd->slice->img;
	for (uint32_t i = 0; i < img->ndeps; i++) {
		const struct mo_dep_result *r;
		int rc = node_dep(g, nd, i, &r);
		if (rc)
			return rc;
		int weak = img->deps[i].cmd == LC_LOAD_WEAK_DYLIB;
		if (r->state == MO_DEP_SYSTEM) {
			g->rep->nsystem++;
			continue;
		}
		if (r->state == MO_DEP_FOUND) {
			if (!closure)
				continue;
			struct node *t;
			rc = node_get(g, r->path, &nd->loader, &t);
			if (rc)
				return rc;
			if (!t->queued) {
				t->queued = 1;
				queue[(*nq)++] = t;
			}
			continue;
		}
		if (weak) /* dyld carries on without a weak dependency that does not load */
			continue;
		static const enum mo_problem_kind kinds[] = {
			[MO_DEP_NOT_FOUND] = MO_PROBLEM_UNRESOLVED, [MO_DEP_WRONG_ARCH] = MO_PROBLEM_MISSING_ARCH,
			[MO_DEP_NOT_LOADABLE] = MO_PROBLEM_NOT_LOADABLE, [MO_DEP_INCOMPATIBLE] = MO_PROBLEM_INCOMPATIBLE_VERSION,
		};
		struct mo_problem *p = add_problem(g, kinds[r->state], nd, i + 1);
		if (!p)
			return ut_fail(UT_ENOMEM, "out of memory");
		if (r->state == MO_DEP_INCOMPATIBLE) {
			char need[24], have[24];
			p->need_version = img->deps[i].compat_version;
			p->have_version = r->have_version;
			p->path = strdup(r->path);
			rc = set_detail(p, "'%s' requires version %s or later, but '%s' provides version %s", nd->path,
					mo_version_str(p->need_version, need), r->path, mo_version_str(p->have_version, have));
		} else {
			rc = copy_detail(p, r->tried);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* One MISSING_SYMBOLS problem for ordinal ord from the missing names (borrowed from im). */
static int report_missing(struct graph *g, struct node *nd, uint32_t ord, const char **names, uint32_t n)
{
	qsort(names, n, sizeof(*names), cmp_cstr);
	struct mo_problem *p = add_problem(g, MO_PROBLEM_MISSING_SYMBOLS, nd, ord);
	if (!p || !(p->symbols = calloc(n, sizeof(char *))))
		return ut_fail(UT_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		if (p->nsymbols && strcmp(p->symbols[p->nsymbols - 1], names[i]) == 0)
			continue;
		if (!(p->symbols[p->nsymbols++] = strdup(names[i])))
			return ut_fail(UT_ENOMEM, "out of memory");
	}
	p->path = strdup(nd->deps[ord - 1].path);
	return set_detail(p, "%u symbol%s not exported by '%s'", p->nsymbols, p->nsymbols == 1 ? "" : "s",
			  nd->deps[ord - 1].path);
}

/* Every non-weak import of nd bound from a loadable bundled library must be exported there. */
static int check_imports(struct graph *g, struct node *nd, int is_root)
{
	struct mo_imports *im = NULL;
	int rc = mo_imports_parse(nd->f, nd->slice, &im);
	if (rc) {
		if (is_root || rc == UT_ENOMEM)
			return rc;
		struct mo_problem *p = add_problem(g, MO_PROBLEM_NOT_LOADABLE, nd, 0);
		if (!p)
			return ut_fail(UT_ENOMEM, "out of memory");
		p->path = strdup(nd->path);
		return set_detail(p, "imports: %s", ut_errmsg());
	}
	const char **missing = calloc(im->n + 1, sizeof(char *));
	if (!missing) {
		mo_imports_free(im);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	uint32_t nmiss = 0;
	/* imports are sorted by kind, then ordinal: collect per ordinal across kinds */
	for (uint32_t ord = 1; !rc && ord <= nd->slice->img->ndeps; ord++) {
		nmiss = 0;
		const struct mo_dep_result *r;
		rc = node_dep(g, nd, ord - 1, &r);
		struct node *t = NULL;
		if (!rc && r->state == MO_DEP_FOUND)
			rc = node_get(g, r->path, &nd->loader, &t);
		for (uint32_t i = 0; !rc && i < im->n; i++) {
			const struct mo_import *x = &im->v[i];
			if (x->ordinal != (int32_t)ord || x->kind == MO_IMPORT_WEAK_BIND)
				continue;
			if (!t) {
				g->rep->nunchecked++;
				continue;
			}
			if (x->weak)
				continue;
			enum found f;
			rc = lookup(g, t, x->name, 0, &f);
			g->rep->nchecked++;
			if (!rc && f == F_MISSING)
				missing[nmiss++] = x->name;
		}
		if (!rc && nmiss)
			rc = report_missing(g, nd, ord, missing, nmiss);
	}
	for (uint32_t i = 0; i < im->n; i++)
		if (im->v[i].ordinal < 0 && im->v[i].kind != MO_IMPORT_WEAK_BIND)
			g->rep->nunchecked++;
	free(missing);
	mo_imports_free(im);
	return rc;
}

static void problem_release(struct mo_problem *p)
{
	free(p->image);
	free(p->install_name);
	free(p->path);
	free(p->detail);
	for (uint32_t i = 0; i < p->nsymbols; i++)
		free(p->symbols[i]);
	free(p->symbols);
}

void mo_load_report_free(struct mo_load_report *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->nproblems; i++)
		problem_release(&r->problems[i]);
	free(r->problems);
	free(r);
}

static int run(struct graph *g, struct node *root, unsigned flags)
{
	struct node **queue = calloc(MO_MAX_LOAD_IMAGES + 1, sizeof(*queue));
	if (!queue)
		return ut_fail(UT_ENOMEM, "out of memory");
	uint32_t nq = 0, head = 0;
	root->queued = 1;
	queue[nq++] = root;
	int rc = 0;
	while (!rc && head < nq) {
		struct node *nd = queue[head++];
		uint32_t first = g->rep->nproblems;
		g->rep->nimages++;
		rc = check_deps(g, nd, queue, &nq, (flags & MO_LOAD_CLOSURE) != 0);
		if (!rc)
			rc = check_imports(g, nd, nd == root);
		/* this image's problems by ordinal (stable: insertion sort) */
		struct mo_problem *v = g->rep->problems;
		for (uint32_t i = first + 1; !rc && i < g->rep->nproblems; i++) {
			struct mo_problem x = v[i];
			uint32_t j = i;
			for (; j > first && v[j - 1].ordinal > x.ordinal; j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
	}
	free(queue);
	return rc;
}

int mo_load_check(const struct mo_load_env *env, const struct mo_loader *parent, const char *file,
		  const char *bundle_path, unsigned flags, struct mo_load_report **out)
{
	*out = NULL;
	if (!env || !env->root || !bundle_path)
		return ut_fail(UT_EINVAL, "mo_load_check: missing argument");
	struct graph g = { .env = env };
	g.rep = calloc(1, sizeof(*g.rep));
	if (!g.rep)
		return ut_fail(UT_ENOMEM, "out of memory");
	char *host = file ? NULL : ut_path_join(env->root, bundle_path);
	struct node *root = NULL;
	int rc = (file || host) ? node_open(&g, file ? file : host, bundle_path, parent, &root) : UT_ENOMEM;
	free(host);
	if (!rc && !root->slice) {
		char arch[32];
		struct mo_problem *p = add_problem(&g, MO_PROBLEM_IMAGE_ARCH, root, 0);
		if (!p)
			rc = ut_fail(UT_ENOMEM, "out of memory");
		else
			rc = set_detail(p, "no %s slice", mo_arch_name(env->cputype, env->cpusubtype, arch));
		g.rep->nimages = 1;
	} else if (!rc) {
		rc = run(&g, root, flags);
	}
	if (rc && g.n == 0)
		rc = ut_ctx(rc, "'%s'", file ? file : bundle_path);
	for (uint32_t i = 0; i < g.n; i++)
		node_free(g.v[i]);
	free(g.v);
	if (rc) {
		mo_load_report_free(g.rep);
		return rc;
	}
	*out = g.rep;
	return 0;
}

const char *mo_problem_kind_name(enum mo_problem_kind k)
{
	switch (k) {
	case MO_PROBLEM_IMAGE_ARCH: return "image lacks the architecture";
	case MO_PROBLEM_UNRESOLVED: return "unresolved dependency";
	case MO_PROBLEM_MISSING_ARCH: return "missing architecture";
	case MO_PROBLEM_NOT_LOADABLE: return "not loadable";
	case MO_PROBLEM_INCOMPATIBLE_VERSION: return "incompatible version";
	case MO_PROBLEM_MISSING_SYMBOLS: return "missing symbols";
	}
	return "unknown problem";
}
