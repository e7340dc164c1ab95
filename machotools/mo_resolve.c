/*
 * mo_resolve.c - dyld's search for one dependency inside a bundle: candidate
 * paths (@rpath, @executable_path, @loader_path, absolute), then the first
 * candidate that exists inside the bundle, has the process's architecture and
 * is a dylib, then the compatibility version check.  See mo_resolve.h.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_format.h"
#include "mo_resolve.h"
#include "ut_buf.h"
#include "ut_err.h"
#include "ut_limits.h"

/* ---- loaders ---- */

int mo_loader_from_image(struct mo_loader *l, const char *dir, const struct mo_image *img,
			 const struct mo_loader *parent)
{
	memset(l, 0, sizeof(*l));
	l->dir = dir;
	l->parent = parent;
	if (!img || img->nrpaths == 0)
		return 0;
	const char **v = calloc(img->nrpaths, sizeof(*v));
	if (!v)
		return ut_fail(UT_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < img->nrpaths; i++)
		v[i] = img->rpaths[i].path;
	l->rpaths = v;
	l->nrpaths = img->nrpaths;
	return 0;
}

void mo_loader_release(struct mo_loader *l)
{
	if (!l)
		return;
	free((void *)l->rpaths);
	l->rpaths = NULL;
	l->nrpaths = 0;
}

/* ---- architectures ---- */

/* 2: same subtype, 1: loadable, 0: not. */
static int arch_score(uint32_t cputype, uint32_t cpusubtype, const struct mo_slice *s)
{
	if (s->cputype != cputype)
		return 0;
	uint32_t want = cpusubtype & ~CPU_SUBTYPE_MASK, have = s->cpusubtype & ~CPU_SUBTYPE_MASK;
	if (want == have)
		return 2;
	if (cputype == CPU_TYPE_ARM64) {
		int plain = have == CPU_SUBTYPE_ARM64_ALL || have == CPU_SUBTYPE_ARM64_V8;
		/* an arm64 process loads arm64 (ALL or v8); an arm64e process also takes them */
		return plain && (want == CPU_SUBTYPE_ARM64_ALL || want == CPU_SUBTYPE_ARM64_V8 || want == CPU_SUBTYPE_ARM64E);
	}
	if (cputype == CPU_TYPE_X86_64)
		return have == CPU_SUBTYPE_X86_64_ALL || have == CPU_SUBTYPE_X86_64_H;
	return 0;
}

const struct mo_slice *mo_file_slice_for(const struct mo_file *f, uint32_t cputype, uint32_t cpusubtype)
{
	const struct mo_slice *best = NULL;
	int best_score = 0;
	for (uint32_t i = 0; i < f->nslices; i++) {
		const struct mo_slice *s = &f->slices[i];
		int sc = s->kind == MO_SLICE_MACHO64 ? arch_score(cputype, cpusubtype, s) : 0;
		if (sc > best_score) {
			best = s;
			best_score = sc;
		}
	}
	return best;
}

/* ---- paths ---- */

/*
 * Normalises a + "/" + b (either may be empty) as a bundle path: "." and
 * empty components dropped, ".." removes one.  *climbs is set when ".." goes
 * above the root (the result is then meaningless for reading).
 */
static int norm_join(const char *a, const char *b, char **out, int *climbs)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la + lb + 2 > UT_MAX_PATH_STR * 2)
		return ut_fail(UT_EINVAL, "path of %zu bytes too long", la + lb + 1);
	char *in = malloc(la + lb + 2), *res = malloc(la + lb + 2);
	if (!in || !res) {
		free(in);
		free(res);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	snprintf(in, la + lb + 2, "%s/%s", a, b);
	size_t n = 0;
	*climbs = 0;
	for (char *save = NULL, *c = strtok_r(in, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			if (n == 0) {
				*climbs = 1;
				continue;
			}
			while (n > 0 && res[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
			continue;
		}
		if (n)
			res[n++] = '/';
		size_t lc = strlen(c);
		memcpy(res + n, c, lc);
		n += lc;
	}
	res[n] = '\0';
	free(in);
	*out = res;
	return 0;
}

int mo_path_is_system(const char *p)
{
	return strncmp(p, "/usr/lib/", 9) == 0 || strncmp(p, "/System/", 8) == 0;
}

static int add_cand(struct mo_candidates *c, enum mo_cand_kind kind, char *path, const char *why)
{
	if (!path)
		return ut_fail(UT_ENOMEM, "out of memory");
	if (c->n >= 4096) {
		free(path);
		return ut_fail(UT_ENOMEM, "more than 4096 candidate paths");
	}
	struct mo_candidate *v = realloc(c->v, (c->n + 1) * sizeof(*v));
	if (!v) {
		free(path);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	c->v = v;
	c->v[c->n].kind = kind;
	c->v[c->n].path = path;
	c->v[c->n].why = why;
	c->n++;
	return 0;
}

/* A bundle-relative join; climbing above the root makes it OUTSIDE. */
static int add_bundle(struct mo_candidates *c, const char *dir, const char *rest)
{
	char *p = NULL;
	int climbs = 0;
	int rc = norm_join(dir, rest, &p, &climbs);
	if (rc)
		return rc;
	if (!climbs)
		return add_cand(c, MO_CAND_BUNDLE, p, NULL);
	free(p);
	size_t len = strlen(dir) + strlen(rest) + 2;
	char *raw = malloc(len);
	if (raw)
		snprintf(raw, len, "%s/%s", dir, rest);
	return add_cand(c, MO_CAND_OUTSIDE, raw, "climbs above the bundle root");
}

static int add_absolute_norm(const struct mo_load_env *env, struct mo_candidates *c, const char *p);

/*
 * An absolute path, normalised first (".." at "/" stays there, as in the
 * kernel) so that "/usr/lib/../../x" is not taken for a system path: system,
 * under install_root (mapped into the bundle), or outside.
 */
static int add_absolute(const struct mo_load_env *env, struct mo_candidates *c, const char *raw)
{
	char *norm = NULL;
	int climbs = 0;
	int rc = norm_join("", raw, &norm, &climbs);
	if (rc)
		return rc;
	size_t ln = strlen(norm);
	char *p = malloc(ln + 2);
	if (!p) {
		free(norm);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	snprintf(p, ln + 2, "/%s", norm);
	free(norm);
	rc = add_absolute_norm(env, c, p);
	free(p);
	return rc;
}

static int add_absolute_norm(const struct mo_load_env *env, struct mo_candidates *c, const char *p)
{
	if (mo_path_is_system(p))
		return add_cand(c, MO_CAND_SYSTEM, strdup(p), NULL);
	if (env->install_root && env->install_root[0]) {
		size_t lr = strlen(env->install_root);
		while (lr > 1 && env->install_root[lr - 1] == '/')
			lr--;
		if (strncmp(p, env->install_root, lr) == 0 && p[lr] == '/')
			return add_bundle(c, "", p + lr + 1);
	}
	return add_cand(c, MO_CAND_OUTSIDE, strdup(p), "absolute path outside the bundle");
}

static const char *exe_dir(const struct mo_loader *l)
{
	while (l->parent)
		l = l->parent;
	return l->dir ? l->dir : "";
}

/* Expands one path that may start with @executable_path or @loader_path (owner: the image holding it). */
static int add_expanded(const struct mo_load_env *env, struct mo_candidates *c, const struct mo_loader *owner,
			const struct mo_loader *chain, const char *p, const char *tail)
{
	char *joined = NULL;
	const char *rest = NULL, *dir = NULL;
	if (strncmp(p, "@executable_path", 16) == 0 && (p[16] == '/' || p[16] == '\0')) {
		dir = exe_dir(chain);
		rest = p + 16;
	} else if (strncmp(p, "@loader_path", 12) == 0 && (p[12] == '/' || p[12] == '\0')) {
		dir = owner->dir ? owner->dir : "";
		rest = p + 12;
	}
	size_t len = strlen(p) + strlen(tail) + 2;
	if (dir) {
		joined = malloc(len);
		if (!joined)
			return ut_fail(UT_ENOMEM, "out of memory");
		while (*rest == '/')
			rest++;
		snprintf(joined, len, "%s%s%s", rest, rest[0] && tail[0] ? "/" : "", tail);
		int rc = add_bundle(c, dir, joined);
		free(joined);
		return rc;
	}
	joined = malloc(len);
	if (!joined)
		return ut_fail(UT_ENOMEM, "out of memory");
	snprintf(joined, len, "%s%s%s", p, tail[0] ? "/" : "", tail);
	if (p[0] == '/') {
		int rc = add_absolute(env, c, joined);
		free(joined);
		return rc;
	}
	return add_cand(c, MO_CAND_OUTSIDE, joined, p[0] == '@' ? "unknown @ prefix" : "relative path (dyld resolves it from the current directory)");
}

int mo_resolve_candidates(const struct mo_load_env *env, const struct mo_loader *loader, const char *install_name,
			  struct mo_candidates *out)
{
	memset(out, 0, sizeof(*out));
	if (!env || !env->root || !loader || !install_name)
		return ut_fail(UT_EINVAL, "mo_resolve_candidates: missing argument");
	int rc = 0;
	if (strncmp(install_name, "@rpath/", 7) == 0) {
		const char *tail = install_name + 7;
		uint32_t depth = 0;
		for (const struct mo_loader *l = loader; l && !rc; l = l->parent) {
			if (++depth > MO_MAX_LOAD_IMAGES)
				return ut_fail(UT_EINVAL, "loader chain longer than %u", MO_MAX_LOAD_IMAGES);
			for (uint32_t i = 0; i < l->nrpaths && !rc; i++)
				rc = add_expanded(env, out, l, loader, l->rpaths[i], tail);
		}
	} else {
		rc = add_expanded(env, out, loader, loader, install_name, "");
	}
	if (rc)
		mo_candidates_release(out);
	return rc;
}

void mo_candidates_release(struct mo_candidates *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* ---- one candidate ---- */

enum verdict { V_LOADS, V_MISSING, V_ARCH, V_UNLOADABLE, V_OUTSIDE };

struct probe {
	const struct mo_load_env *env;
	const char *real_root;
	struct ut_buf tried;
	int ntried;
};

static void note(struct probe *pr, const char *path, const char *fmt, ...) UT_PRINTF(3, 4);
static void note(struct probe *pr, const char *path, const char *fmt, ...)
{
	char why[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	(void)ut_buf_printf(&pr->tried, "%s'%s' (%s)", pr->ntried++ ? ", " : "", path, why);
}

/* The architectures of a file, "x86_64,i386". */
static void arch_list(const struct mo_file *f, char *buf, size_t len)
{
	buf[0] = '\0';
	for (uint32_t i = 0; i < f->nslices; i++) {
		char a[32];
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, "%s%s", i ? "," : "", mo_arch_name(f->slices[i].cputype, f->slices[i].cpusubtype, a));
	}
}

/* Checks bundle path rel; on V_LOADS sets *real (bundle path, symlinks resolved) and *version. */
static enum verdict probe_one(struct probe *pr, const char *rel, char **real, uint32_t *version)
{
	char *host = ut_path_join(pr->env->root, rel);
	if (!host)
		return V_MISSING;
	char *rp = realpath(host, NULL);
	free(host);
	if (!rp) {
		if (errno == ENOENT || errno == ENOTDIR)
			note(pr, rel, "no such file");
		else
			note(pr, rel, "cannot resolve: %s", strerror(errno));
		return V_MISSING;
	}
	size_t lroot = strlen(pr->real_root);
	if (strncmp(rp, pr->real_root, lroot) != 0 || (rp[lroot] != '/' && strcmp(pr->real_root, "/") != 0)) {
		note(pr, rel, "a symlink leads out of the bundle, to '%s'", rp);
		free(rp);
		return V_OUTSIDE;
	}
	enum verdict v = V_UNLOADABLE;
	struct ut_src src;
	struct mo_file *f = NULL;
	char arch[32], have[256];
	const char *need = mo_arch_name(pr->env->cputype, pr->env->cpusubtype, arch);
	if (ut_src_open(&src, rp) != 0) {
		note(pr, rel, "cannot open: %s", ut_errmsg());
		free(rp);
		return V_UNLOADABLE;
	}
	if (mo_file_parse(&src, &f) != 0) {
		note(pr, rel, "not a loadable Mach-O file: %s", ut_errmsg());
	} else if (f->hidden_arm64) {
		note(pr, rel, "fat file hides an arm64 slice after its last fat_arch");
	} else {
		const struct mo_slice *s = mo_file_slice_for(f, pr->env->cputype, pr->env->cpusubtype);
		arch_list(f, have, sizeof(have));
		if (!s) {
			if (f->fat)
				note(pr, rel, "fat file, but missing compatible architecture (have '%s', need '%s')", have, need);
			else
				note(pr, rel, "mach-o file, but is an incompatible architecture (have '%s', need '%s')", have,
				     need);
			v = V_ARCH;
		} else if (s->img->filetype != MH_DYLIB) {
			note(pr, rel, "mach-o file, but is not a dylib (%s)", mo_filetype_name(s->img->filetype));
		} else {
			v = V_LOADS;
			*version = s->img->id.current_version;
			const char *r = rp + lroot + (strcmp(pr->real_root, "/") != 0);
			*real = strdup(r);
		}
	}
	mo_file_free(f);
	ut_src_release(&src);
	free(rp);
	return v;
}

static int result_fail(struct mo_dep_result *out, int rc)
{
	mo_dep_result_release(out);
	return rc;
}

int mo_resolve_dylib(const struct mo_load_env *env, const struct mo_loader *loader, const struct mo_dylib *dep,
		     struct mo_dep_result *out)
{
	memset(out, 0, sizeof(*out));
	struct mo_candidates c;
	int rc = mo_resolve_candidates(env, loader, dep->name, &c);
	if (rc)
		return rc;
	struct probe pr = { .env = env };
	ut_buf_init(&pr.tried, 64 * 1024);
	char *real_root = realpath(env->root, NULL);
	if (!real_root) {
		rc = ut_fail_errno(UT_EIO, errno, "bundle root '%s'", env->root);
		mo_candidates_release(&c);
		return rc;
	}
	pr.real_root = real_root;
	int saw_arch = 0, saw_bad = 0;
	out->state = MO_DEP_NOT_FOUND;
	for (uint32_t i = 0; i < c.n; i++) {
		const struct mo_candidate *k = &c.v[i];
		if (k->kind == MO_CAND_SYSTEM) {
			note(&pr, k->path, "system library, not checked");
			out->state = MO_DEP_SYSTEM;
			break;
		}
		if (k->kind == MO_CAND_OUTSIDE) {
			note(&pr, k->path, "outside the bundle: %s", k->why);
			continue;
		}
		uint32_t ver = 0;
		char *real = NULL;
		enum verdict v = probe_one(&pr, k->path, &real, &ver);
		saw_arch |= v == V_ARCH;
		saw_bad |= v == V_UNLOADABLE;
		if (v != V_LOADS)
			continue;
		if (!real) {
			rc = ut_fail(UT_ENOMEM, "out of memory");
			break;
		}
		out->path = real;
		out->have_version = ver;
		out->state = ver < dep->compat_version ? MO_DEP_INCOMPATIBLE : MO_DEP_FOUND;
		break;
	}
	if (!rc && out->state == MO_DEP_NOT_FOUND)
		out->state = saw_arch ? MO_DEP_WRONG_ARCH : saw_bad ? MO_DEP_NOT_LOADABLE : MO_DEP_NOT_FOUND;
	if (!rc && c.n == 0)
		(void)ut_buf_printf(&pr.tried, "no LC_RPATH in the loader chain");
	if (!rc && (rc = ut_buf_cstr(&pr.tried)) == 0)
		out->tried = (char *)ut_buf_detach(&pr.tried, NULL);
	ut_buf_release(&pr.tried);
	free(real_root);
	mo_candidates_release(&c);
	return rc ? result_fail(out, rc) : 0;
}

void mo_dep_result_release(struct mo_dep_result *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->tried);
	memset(r, 0, sizeof(*r));
}
