/* cs_bundle_layout.c - strict bundle structure (SEC bundlediskrep.cpp strictValidate, validateFrameworkRoot). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cs_bundle.h"
#include "cs_bundle_priv.h"
#include "ut_err.h"

void cs_layout_report_release(struct cs_layout_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->n; i++) {
		free(rep->v[i].path);
		free(rep->v[i].what);
	}
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

static int issue(struct cs_layout_report *rep, const char *dir_rel, const char *name, const char *what)
{
	if (rep->n == rep->cap) {
		size_t cap = rep->cap ? rep->cap * 2 : 8;
		struct cs_layout_issue *v = realloc(rep->v, cap * sizeof(*v));
		if (!v)
			return ut_fail(UT_ENOMEM, "out of memory");
		rep->v = v;
		rep->cap = cap;
	}
	char *path = ut_path_join(dir_rel, name);
	char *w = strdup(what);
	if (!path || !w) {
		free(path);
		free(w);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	rep->v[rep->n].path = path;
	rep->v[rep->n].what = w;
	rep->n++;
	return 0;
}

struct ctx {
	const struct cs_bundle *b;
	struct cs_layout_report *rep;
	const char *rel;          /* the listed directory relative to the root */
};

static int app_root_entry(void *c, const char *dir, const char *name)
{
	struct ctx *x = c;
	static const char *const allowed[] = { ".DS_Store", ".LSOverride", "Icon\r", ".SoftwareDepot.tracking" };
	if (strcmp(name, "Contents") == 0 && cs_ftype_in(dir, name) == CS_FT_DIR)
		return 0;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(name, allowed[i]) == 0)
			return 0;
	return issue(x->rep, "", name, "unsealed contents present in the bundle root");
}

static int framework_root_entry(void *c, const char *dir, const char *name)
{
	struct ctx *x = c;
	enum cs_ftype t = cs_ftype_in(dir, name);
	if (strcmp(name, "Versions") == 0 && t == CS_FT_DIR)
		return 0;
	if (strcmp(name, ".DS_Store") == 0 && t == CS_FT_FILE)
		return 0;
	if (t == CS_FT_LINK) {
		char *p = ut_path_join(dir, name);
		char *target = p ? cs_readlink(p) : NULL;
		free(p);
		if (!target)
			return UT_EIO;
		const char *q = strncmp(target, "./", 2) == 0 ? target + 2 : target;
		int ok = strncmp(q, "Versions/Current/", 17) == 0 && q[17];
		free(target);
		if (ok)
			return 0;
		return issue(x->rep, "", name, "framework root symlink does not point into Versions/Current/");
	}
	return issue(x->rep, "", name, "unsealed contents present in the root directory of a framework");
}

static int versions_entry(void *c, const char *dir, const char *name)
{
	struct ctx *x = c;
	enum cs_ftype t = cs_ftype_in(dir, name);
	if (strcmp(name, "Current") == 0 && t == CS_FT_LINK)
		return 0; /* its target was checked when the bundle was opened */
	if (strcmp(name, ".DS_Store") == 0 && t == CS_FT_FILE)
		return 0;
	if (t == CS_FT_DIR)
		return 0;
	return issue(x->rep, "Versions", name, "framework Versions holds something other than version directories");
}

static int codesig_entry(void *c, const char *dir, const char *name)
{
	struct ctx *x = c;
	enum cs_ftype t = cs_ftype_in(dir, name);
	if (strcmp(name, "CodeResources") == 0 && t == CS_FT_FILE)
		return 0;
	if (strcmp(name, "CodeSignature") == 0 && t == CS_FT_FILE) {
		struct stat st;
		char *p = ut_path_join(dir, name);
		int empty = p && lstat(p, &st) == 0 && st.st_size == 0;
		free(p);
		if (empty)
			return 0; /* tolerated by Security */
	}
	return issue(x->rep, x->rel, name, "_CodeSignature holds a file the signature does not use");
}

int cs_bundle_check_layout(const struct cs_bundle *b, struct cs_layout_report *rep)
{
	struct ctx x = { b, rep, "" };
	int rc = 0;
	if (b->layout == CS_BUNDLE_DEEP) {
		rc = cs_dir_each(b->root, 1, app_root_entry, &x);
	} else if (b->layout == CS_BUNDLE_VERSIONED) {
		rc = cs_dir_each(b->root, 1, framework_root_entry, &x);
		if (!rc) {
			char *v = ut_path_join(b->root, "Versions");
			rc = v ? cs_dir_each(v, 1, versions_entry, &x) : ut_fail(UT_ENOMEM, "out of memory");
			free(v);
		}
	}
	char *rel = ut_path_join(b->base_rel, "_CodeSignature");
	char *dir = ut_path_join(b->base, "_CodeSignature");
	if (!rc && (!rel || !dir))
		rc = ut_fail(UT_ENOMEM, "out of memory");
	if (!rc) {
		x.rel = rel;
		rc = cs_dir_each(dir, 1, codesig_entry, &x);
	}
	free(rel);
	free(dir);
	if (!rc && b->exec_path) {
		enum cs_ftype t = cs_ftype_of(b->exec_path);
		if (t != CS_FT_NONE && t != CS_FT_FILE) {
			char *p = ut_path_join(b->base_rel, b->exec_rel);
			rc = p ? issue(rep, "", p, "main executable is not a regular file")
			       : ut_fail(UT_ENOMEM, "out of memory");
			free(p);
		}
	}
	return rc;
}
