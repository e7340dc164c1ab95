/*
 * cs_bverify.c - deep bundle verification: list the components, plan their
 * checks (seals compared, jobs queued), run the jobs, then judge every
 * component inside-out so that nested code is judged before the bundle that
 * records it.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cs_bverify_priv.h"
#include "ut_err.h"
#include "ut_platform.h"

#define MAX_REASONS 1000000
#define MAX_COMPONENTS 100000

const char *cs_bverify_problem_text(enum cs_bverify_problem p)
{
	switch (p) {
	case CS_BV_SIGNATURE: return "invalid signature (code or signature have been modified)";
	case CS_BV_INFO_PLIST: return "invalid Info.plist (plist or signature have been modified)";
	case CS_BV_RESOURCE_DIR: return "invalid resource directory (directory or signature have been modified)";
	case CS_BV_NO_RESOURCES: return "code has no resources but signature indicates they must be present";
	case CS_BV_RESOURCES: return "a sealed resource is missing or invalid";
	case CS_BV_FILE_ADDED: return "file added";
	case CS_BV_FILE_MODIFIED: return "file modified";
	case CS_BV_FILE_MISSING: return "file missing";
	case CS_BV_NESTED: return "nested code is modified or invalid";
	case CS_BV_NOT_EVALUABLE: return "requirement not evaluable";
	case CS_BV_DESIGNATED: return "the code does not satisfy its designated requirement";
	case CS_BV_WEAK_RULES: return "resource envelope is obsolete (custom omit rules)";
	case CS_BV_WEAK_ENVELOPE: return "resource envelope is obsolete (version 1 signature)";
	case CS_BV_SYMLINK: return "invalid symbolic link";
	case CS_BV_LAYOUT: return "unsealed contents present in the bundle";
	case CS_BV_UNREADABLE: return "code could not be read";
	case CS_BV_NOTE: return "note";
	}
	return "?";
}

const char *cs_bverify_role_name(enum cs_bverify_role r)
{
	switch (r) {
	case CS_BV_TOP: return "bundle";
	case CS_BV_ROLE_NESTED: return "nested code";
	case CS_BV_ROLE_EMBEDDED: return "embedded bundle";
	case CS_BV_ROLE_VERSION: return "framework version";
	case CS_BV_ROLE_RESOURCE: return "resource";
	}
	return "?";
}

const struct cs_bverify_reason *cs_bverify_first_failure(const struct cs_bverify_component *c)
{
	for (size_t k = 0; k < c->nreasons; k++)
		if (c->reasons[k].problem != CS_BV_NOTE)
			return &c->reasons[k];
	return NULL;
}

int bv_reason_add(struct cs_bverify_component *c, enum cs_bverify_problem p, const char *text, const char *path,
		  const char *fmt, ...)
{
	if (c->nreasons == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4;
		struct cs_bverify_reason *v = c->nreasons >= MAX_REASONS ? NULL : realloc(c->reasons, cap * sizeof(*v));
		if (!v)
			return ut_fail(UT_ENOMEM, "too many findings");
		c->reasons = v;
		c->cap = cap;
	}
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	struct cs_bverify_reason *r = &c->reasons[c->nreasons];
	r->problem = p;
	r->text = strdup(text ? text : cs_bverify_problem_text(p));
	r->path = path ? strdup(path) : NULL;
	r->detail = strdup(buf);
	if (!r->text || (path && !r->path) || !r->detail) {
		free(r->text);
		free(r->path);
		free(r->detail);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	c->nreasons++;
	return 0;
}

long bv_component_add(struct bv_ctx *x, const char *path, const char *rel, enum cs_bverify_role role, int is_bundle,
		      long parent, const char *seal_key)
{
	struct cs_bverify_result *r = x->r;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		if (r->n >= MAX_COMPONENTS)
			return ut_fail(UT_EUNSUPPORTED, "more than %d components", MAX_COMPONENTS);
		struct cs_bverify_component *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return ut_fail(UT_ENOMEM, "out of memory");
		r->v = v;
		r->cap = cap;
		struct bv_comp *w = realloc(x->c, cap * sizeof(*w));
		if (!w)
			return ut_fail(UT_ENOMEM, "out of memory");
		x->c = w;
	}
	struct cs_bverify_component *c = &r->v[r->n];
	struct bv_comp *bc = &x->c[r->n];
	memset(c, 0, sizeof(*c));
	memset(bc, 0, sizeof(*bc));
	cs_seal_init(&bc->seal);
	c->path = strdup(path);
	c->rel = strdup(rel);
	bc->seal_key = seal_key ? strdup(seal_key) : NULL;
	if (!c->path || !c->rel || (seal_key && !bc->seal_key)) {
		free(c->path);
		free(c->rel);
		free(bc->seal_key);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	c->role = role;
	c->is_bundle = is_bundle;
	c->parent = parent;
	return (long)r->n++;
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
}

static int is_regular(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The framework versions other than Versions/Current, as components (strict). */
static int add_versions(struct bv_ctx *x, size_t i)
{
	const struct cs_bundle *b = x->c[i].b;
	char *dir = cs_seal_prefixed(x->r->v[i].path, "/Versions");
	if (!dir)
		return ut_fail(UT_ENOMEM, "out of memory");
	DIR *d = opendir(dir);
	if (!d) {
		free(dir);
		return 0; /* the layout check reports it */
	}
	int rc = 0;
	char **names = NULL;
	size_t n = 0;
	for (struct dirent *e; !rc && (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "Current") == 0 || strcmp(e->d_name, b->version) == 0)
			continue;
		char *p = cs_seal_cat3(dir, "/", e->d_name);
		struct stat st;
		int isdir = p && lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
		free(p);
		if (!isdir)
			continue;
		char **v = realloc(names, (n + 1) * sizeof(*v));
		if (!v || !(v[n] = strdup(e->d_name))) {
			names = v ? v : names;
			rc = ut_fail(UT_ENOMEM, "out of memory");
			break;
		}
		names = v;
		n++;
	}
	closedir(d);
	for (size_t k = 0; k < n; k++) {
		char *path = cs_seal_cat3(dir, "/", names[k]);
		char *rel = cs_seal_cat3(x->r->v[i].rel, x->r->v[i].rel[0] ? "/Versions/" : "Versions/", names[k]);
		long j = rc || !path || !rel ? (rc ? rc : ut_fail(UT_ENOMEM, "out of memory"))
					 : bv_component_add(x, path, rel, CS_BV_ROLE_VERSION, 1, (long)i, NULL);
		if (j < 0 && !rc)
			rc = (int)j;
		free(path);
		free(rel);
		free(names[k]);
	}
	free(names);
	free(dir);
	return rc;
}

static int plan_bundle(struct bv_ctx *x, size_t i)
{
	struct cs_bverify_component *c = &x->r->v[i];
	struct bv_comp *bc = &x->c[i];
	if (cs_bundle_open(c->path, &bc->b) != 0) {
		bc->b = NULL;
		return bv_reason_add(c, CS_BV_UNREADABLE, "bundle could not be read", NULL, "%s", ut_errmsg());
	}
	const struct cs_bundle *b = bc->b;
	c->kind = b->kind;
	bc->base_rel = cs_seal_cat3(c->rel, c->rel[0] && b->base_rel[0] ? "/" : "", b->base_rel);
	char *t = bc->base_rel ? cs_seal_prefixed(bc->base_rel, bc->base_rel[0] ? "/" : "") : NULL;
	free(bc->base_rel);
	if (!(bc->base_rel = t))
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = 0;
	if (!b->exec_path)
		rc = bv_reason_add(c, CS_BV_UNREADABLE, "bundle has no main executable", NULL, "%s",
				   "no CFBundleExecutable: bundles signed without code are not supported");
	else if (!(c->code_rel = cs_seal_prefixed(bc->base_rel, b->exec_rel)))
		return ut_fail(UT_ENOMEM, "out of memory");
	else if (!is_regular(b->exec_path))
		rc = bv_reason_add(c, CS_BV_SIGNATURE, "code object is not signed at all", c->code_rel, "%s",
				   "main executable missing or not a regular file");
	else if (!(bc->code_path = strdup(b->exec_path)))
		return ut_fail(UT_ENOMEM, "out of memory");
	else
		bc->code_size = file_size(b->exec_path);
	unsigned fl = x->o->flags;
	int compare = c->role == CS_BV_TOP || (fl & CS_BVERIFY_DEEP);
	if (!rc)
		rc = compare ? bv_seal_plan(x, i) : bv_seal_read(x, i);
	/* x->c may have moved (nested code added) */
	if (!rc && (fl & CS_BVERIFY_DEEP) && (fl & CS_BVERIFY_STRICT) && x->c[i].b->layout == CS_BUNDLE_VERSIONED &&
	    x->r->v[i].role != CS_BV_ROLE_VERSION)
		rc = add_versions(x, i);
	return rc;
}

static int plan(struct bv_ctx *x, size_t i)
{
	struct cs_bverify_component *c = &x->r->v[i];
	if (c->is_bundle)
		return plan_bundle(x, i);
	struct bv_comp *bc = &x->c[i];
	if (!(c->code_rel = strdup(c->rel)) || !(bc->code_path = strdup(c->path)))
		return ut_fail(UT_ENOMEM, "out of memory");
	bc->code_size = file_size(c->path);
	return 0;
}

static int add_tree(struct bv_ctx *x, const char *root)
{
	struct cs_bundle_tree t;
	int rc = cs_bundle_tree_build(&t, root);
	if (rc) {
		if (rc == UT_ENOMEM)
			return rc;
		/* The top alone; the seal still finds the nested code it records. */
		char *msg = strdup(ut_errmsg());
		long top = bv_component_add(x, root, "", CS_BV_TOP, 1, -1, NULL);
		rc = top < 0 ? (int)top
			     : bv_reason_add(&x->r->v[top], CS_BV_UNREADABLE, "nested code could not be listed", NULL,
					     "%s", msg ? msg : "");
		free(msg);
		return rc;
	}
	for (size_t k = 0; k < t.n && !rc; k++) {
		const struct cs_component *tc = &t.v[k];
		enum cs_bverify_role role = tc->depth == 0 ? CS_BV_TOP : tc->nested ? CS_BV_ROLE_NESTED : CS_BV_ROLE_EMBEDDED;
		long j = bv_component_add(x, tc->path, tc->rel, role, tc->is_bundle, tc->parent, tc->seal_rel);
		if (j < 0)
			rc = (int)j;
	}
	cs_bundle_tree_release(&t);
	return rc;
}

/* The bundle component holding path most closely (by path prefix), else the top. */
static long holder(const struct bv_ctx *x, const char *rel)
{
	long best = -1;
	size_t bestlen = 0;
	for (size_t i = 0; i < x->r->n; i++) {
		const struct cs_bverify_component *c = &x->r->v[i];
		size_t n = strlen(c->rel);
		if (!c->is_bundle || c->role == CS_BV_ROLE_RESOURCE)
			continue;
		if ((n == 0 || (strncmp(rel, c->rel, n) == 0 && rel[n] == '/')) && (best < 0 || n > bestlen)) {
			best = (long)i;
			bestlen = n;
		}
	}
	return best;
}

static int covered(const struct bv_ctx *x, const char *path)
{
	for (size_t i = 0; i < x->r->n; i++)
		if (x->c[i].code_path && strcmp(x->c[i].code_path, path) == 0)
			return 1;
	return 0;
}

/* Every Mach-O file under dir that no component judges (CS_BVERIFY_ALL_MACHO). */
static int add_resources(struct bv_ctx *x, const char *dir, const char *rel, int depth)
{
	if (depth > CS_SEAL_DEPTH_MAX)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int rc = 0;
	for (struct dirent *e; !rc && (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *p = cs_seal_cat3(dir, "/", e->d_name);
		char *r = cs_seal_cat3(rel, rel[0] ? "/" : "", e->d_name);
		struct stat st;
		if (!p || !r)
			rc = ut_fail(UT_ENOMEM, "out of memory");
		else if (lstat(p, &st) != 0)
			;
		else if (S_ISDIR(st.st_mode))
			rc = add_resources(x, p, r, depth + 1);
		else if (S_ISREG(st.st_mode) && !covered(x, p) && cs_is_macho_file(p)) {
			long j = bv_component_add(x, p, r, CS_BV_ROLE_RESOURCE, 0, holder(x, r), NULL);
			if (j < 0)
				rc = (int)j;
			else
				rc = plan(x, (size_t)j);
		}
		free(p);
		free(r);
	}
	closedir(d);
	return rc;
}

static int has_failure(const struct cs_bverify_component *c) { return cs_bverify_first_failure(c) != NULL; }

static int judge(struct bv_ctx *x, size_t i, int depth)
{
	if (x->c[i].judged || depth > CS_BUNDLE_MAX_DEPTH + 2)
		return 0;
	x->c[i].judged = 1;
	int rc = 0;
	for (size_t j = 0; j < x->r->n && !rc; j++)
		if (x->r->v[j].parent == (long)i)
			rc = judge(x, j, depth + 1);
	if (!rc)
		rc = bv_code_judge(x, i);
	for (size_t k = 0; k < x->c[i].nnested && !rc; k++) {
		const struct bv_nested *n = &x->c[i].nested[k];
		if (n->child < 0)
			continue;
		rc = bv_nested_judge(x, i, n);
		const struct cs_bverify_reason *f = cs_bverify_first_failure(&x->r->v[n->child]);
		if (!rc && f)
			rc = bv_reason_add(&x->r->v[i], CS_BV_NESTED, NULL, x->r->v[n->child].rel, "%s%s%s", f->text,
					   f->path ? ": " : "", f->path ? f->path : "");
	}
	for (size_t j = 0; j < x->r->n && !rc; j++) {
		const struct cs_bverify_component *v = &x->r->v[j];
		const struct cs_bverify_reason *f = v->parent == (long)i && v->role == CS_BV_ROLE_VERSION
							    ? cs_bverify_first_failure(v) : NULL;
		if (f)
			rc = bv_reason_add(&x->r->v[i], CS_BV_NESTED, NULL, v->rel, "framework version: %s", f->text);
	}
	x->r->v[i].valid = !has_failure(&x->r->v[i]);
	return rc;
}

static char *trimmed(const char *path)
{
	char *s = strdup(path);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

static int run(struct bv_ctx *x)
{
	struct stat st;
	if (stat(x->root, &st) != 0)
		return ut_fail_errno(UT_EIO, errno, "cannot open '%s'", x->root);
	if (!S_ISDIR(st.st_mode) || !cs_bundle_looks_like(x->root))
		return ut_fail(UT_EMALFORMED, "'%s' is not a bundle (no Contents/, Info.plist or Resources/Info.plist)",
			       x->root);
	struct cs_bundle *probe = NULL;
	int rc = cs_bundle_open(x->root, &probe); /* a top level we cannot read: nothing to judge */
	cs_bundle_free(probe);
	if (rc)
		return rc;
	if (x->o->flags & CS_BVERIFY_DEEP)
		rc = add_tree(x, x->root);
	else
		rc = bv_component_add(x, x->root, "", CS_BV_TOP, 1, -1, NULL) < 0 ? UT_ENOMEM : 0;
	for (size_t i = 0; i < x->r->n && !rc; i++)
		rc = plan(x, i);
	if (!rc && (x->o->flags & CS_BVERIFY_ALL_MACHO))
		rc = add_resources(x, x->root, "", 0);
	if (!rc)
		rc = bv_run_jobs(x);
	if (!rc)
		rc = bv_seal_results(x);
	for (size_t i = 0; i < x->r->n && !rc; i++)
		if (x->r->v[i].parent < 0 || x->r->v[i].role == CS_BV_TOP)
			rc = judge(x, i, 0);
	for (size_t i = 0; i < x->r->n && !rc; i++)
		rc = judge(x, i, 0); /* anything not reached from the top */
	if (rc)
		return rc;
	x->r->valid = 1;
	for (size_t i = 0; i < x->r->n; i++)
		if (x->r->v[i].role != CS_BV_ROLE_RESOURCE && !x->r->v[i].valid)
			x->r->valid = 0;
	return 0;
}

int cs_bverify_bundle(struct cs_bverify_result *out, const char *path, const struct cs_bverify_opts *o)
{
	static const struct cs_bverify_opts none;
	memset(out, 0, sizeof(*out));
	struct bv_ctx x = { .o = o ? o : &none, .r = out };
	x.nthreads = x.o->nthreads ? x.o->nthreads : (unsigned)ut_ncpu();
	char *root = trimmed(path);
	if (!root)
		return ut_fail(UT_ENOMEM, "out of memory");
	x.root = root;
	int rc = run(&x);
	for (size_t i = 0; i < out->n; i++)
		bv_comp_release(&x.c[i]);
	free(x.c);
	for (size_t k = 0; k < x.nh; k++) {
		free(x.h[k].abs);
		free(x.h[k].rel);
		free(x.h[k].msg);
	}
	free(x.h);
	free(root);
	if (rc)
		out->valid = 0;
	return rc;
}

void cs_bverify_result_release(struct cs_bverify_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		struct cs_bverify_component *c = &r->v[i];
		for (size_t k = 0; k < c->nreasons; k++) {
			free(c->reasons[k].text);
			free(c->reasons[k].path);
			free(c->reasons[k].detail);
		}
		free(c->reasons);
		if (c->audit)
			for (unsigned k = 0; k < c->sig.nslices; k++)
				cs_audit_slice_release(&c->audit[k]);
		free(c->audit);
		cs_verify_result_release(&c->sig);
		free(c->rel);
		free(c->path);
		free(c->code_rel);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}
