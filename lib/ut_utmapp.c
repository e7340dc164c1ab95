/* ut_utmapp.c - read a UTM.app: version, components, frameworks, and how each is signed. */
#define _DEFAULT_SOURCE
#include "ut_utmapp.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cs_bundle.h"
#include "mo_file.h"
#include "mo_resolve.h"
#include "ut_file.h"
#include "ut_install_util.h"

const char *ut_utmapp_role_name(enum ut_utmapp_role r)
{
	switch (r) {
	case UT_ROLE_APP: return "app";
	case UT_ROLE_TOOL: return "tool";
	case UT_ROLE_HELPER: return "helper";
	case UT_ROLE_LAUNCHER: return "launcher";
	case UT_ROLE_OTHER: return "component";
	case UT_ROLE_FRAMEWORK: return "framework";
	}
	return "?";
}

int ut_utm_libname(const char *install_name, char **out)
{
	*out = NULL;
	const char *fw = strstr(install_name, ".framework/");
	const char *base;
	size_t n;
	if (fw) {
		/* "@rpath/N.framework/..." -> N */
		const char *start = fw;
		while (start > install_name && start[-1] != '/')
			start--;
		base = start;
		n = (size_t)(fw - start);
	} else {
		const char *slash = strrchr(install_name, '/');
		base = slash ? slash + 1 : install_name;
		n = strlen(base);
		if (n > 6 && strcmp(base + n - 6, ".dylib") == 0)
			n -= 6;
		if (n > 3 && strncmp(base, "lib", 3) == 0)
			base += 3, n -= 3;
	}
	if (n == 0)
		return ut_fail(UT_EINVAL, "no library name in '%s'", install_name);
	if (!(*out = malloc(n + 1)))
		return ut_fail(UT_ENOMEM, "out of memory");
	memcpy(*out, base, n);
	(*out)[n] = '\0';
	return 0;
}

static void comp_release(struct ut_utmapp_comp *c)
{
	free(c->name);
	free(c->rel);
	free(c->exec_rel);
	free(c->signed_rel);
	free(c->bundle_id);
	free(c->install_name);
	free(c->error);
	for (size_t i = 0; i < c->ndeps; i++)
		free(c->deps[i]);
	free(c->deps);
	ut_sig_info_release(&c->sig);
}

void ut_utmapp_free(struct ut_utmapp *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		comp_release(&a->v[i]);
	free(a->v);
	free(a->path);
	free(a->bundle_id);
	free(a->version);
	free(a->build);
	free(a);
}

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static enum ut_utmapp_role role_of(const struct ut_profiles *p, const struct ut_component *c)
{
	if (c->kind == UT_COMP_TOOL)
		return UT_ROLE_TOOL;
	if (c->kind == UT_COMP_XPC)
		return UT_ROLE_HELPER;
	if (c == ut_profiles_qemu_loader(p) || c->loads_qemu)
		return UT_ROLE_LAUNCHER;
	if (c->kind == UT_COMP_APP && c->bundle && strcmp(c->bundle, ".") == 0)
		return UT_ROLE_APP;
	return UT_ROLE_OTHER;
}

static int read_info(const char *plist_path, char **id, char **version, char **build)
{
	plist_t d = NULL;
	int rc = ut_plist_read_file(plist_path, &d, NULL);
	if (rc)
		return rc;
	if (plist_get_node_type(d) != PLIST_DICT) {
		plist_free(d);
		return ut_fail(UT_EMALFORMED, "'%s': not a dictionary", plist_path);
	}
	const char *s;
	if (id && (s = ut_plist_dict_str(d, "CFBundleIdentifier")) && !(*id = ui_strdup(s)))
		rc = UT_ENOMEM;
	if (!rc && version && (s = ut_plist_dict_str(d, "CFBundleShortVersionString")) && !(*version = ui_strdup(s)))
		rc = UT_ENOMEM;
	if (!rc && build && (s = ut_plist_dict_str(d, "CFBundleVersion")) && !(*build = ui_strdup(s)))
		rc = UT_ENOMEM;
	plist_free(d);
	return rc;
}

/* The id (dylibs) and the UTM names of the non-system dependencies of f's host slice. */
static int read_macho_facts(struct ut_utmapp_comp *x, const struct mo_file *f, const char *host_arch)
{
	int rc = 0;
	const struct mo_slice *s = mo_file_host_slice(f, host_arch);
	if (s && s->kind == MO_SLICE_MACHO64 && s->img->has_id) {
		x->current_version = s->img->id.current_version;
		x->compat_version = s->img->id.compat_version;
		if (!(x->install_name = ui_strdup(s->img->id.name)))
			rc = UT_ENOMEM;
	}
	const struct mo_image *img = s && s->kind == MO_SLICE_MACHO64 ? s->img : NULL;
	if (!rc && img && img->ndeps && !(x->deps = calloc(img->ndeps, sizeof(char *))))
		rc = ut_fail(UT_ENOMEM, "out of memory");
	for (uint32_t i = 0; !rc && img && i < img->ndeps; i++) {
		const char *n = img->deps[i].name;
		if (mo_path_is_system(n))
			continue;
		if ((rc = ut_utm_libname(n, &x->deps[x->ndeps])) == 0)
			x->ndeps++;
		else if (rc == UT_EINVAL)
			rc = 0;
	}
	return rc;
}

/* The executable of x, parsed once: how it is signed (x->sig), its id and dependencies. */
static int read_exec(const struct ut_utmapp *a, struct ut_utmapp_comp *x, const char *exec)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	int rc = mo_file_open(exec, &src, &f); /* the reader's messages name the file */
	if (rc)
		return rc;
	rc = ut_sig_info_of(&x->sig, f, a->host_arch);
	if (!rc)
		rc = read_macho_facts(x, f, a->host_arch);
	mo_file_close(&src, f);
	return rc ? ut_ctx(rc, "'%s'", exec) : 0;
}

/* A component whose executable cannot be read: an error, or (UT_UTMAPP_KEEP_BROKEN) kept with the reason. */
static int broken(const struct ut_utmapp *a, struct ut_utmapp_comp *x, int rc)
{
	if (!rc || rc == UT_ENOMEM || !(a->flags & UT_UTMAPP_KEEP_BROKEN))
		return rc;
	ut_sig_info_release(&x->sig);
	memset(&x->sig, 0, sizeof(x->sig));
	return (x->error = ui_strdup(ut_errmsg())) ? 0 : UT_ENOMEM;
}

static int add_profile_comp(struct ut_utmapp *a, size_t *cap, const struct ut_profiles *p, const struct ut_component *c)
{
	struct ut_utmapp_comp *x = ui_vec_push((void **)&a->v, &a->n, cap, sizeof(*x));
	if (!x)
		return UT_ENOMEM;
	x->parent = -1;
	x->prof = c;
	x->role = role_of(p, c);
	x->name = ui_strdup(c->name);
	x->exec_rel = ui_strdup(c->executable);
	if (c->bundle) {
		x->rel = ui_strdup(strcmp(c->bundle, ".") == 0 ? "" : c->bundle);
		x->signed_rel = ui_strdup(x->rel ? x->rel : "");
	}
	if (!x->name || !x->exec_rel || (c->bundle && (!x->rel || !x->signed_rel)))
		return UT_ENOMEM;
	char *exec = ut_path_join(a->path, x->exec_rel);
	if (!exec)
		return UT_ENOMEM;
	int rc = 0;
	if (!is_file(exec))
		rc = ut_fail(UT_ENOTFOUND, "'%s': %s has no '%s' (not a UTM.app, or a damaged one)", a->path, c->name,
			     x->exec_rel);
	if (!rc)
		rc = broken(a, x, read_exec(a, x, exec));
	free(exec);
	if (rc)
		return rc;
	if (x->rel) {
		char *info = ui_printf("%s%s%s/Contents/Info.plist", a->path, x->rel[0] ? "/" : "", x->rel);
		if (!info)
			return UT_ENOMEM;
		rc = is_file(info) ? read_info(info, &x->bundle_id, NULL, NULL) : 0;
		free(info);
	} else if (!(x->bundle_id = ui_strdup(c->bundle_id))) {
		rc = UT_ENOMEM;
	}
	return rc;
}

static int add_framework(struct ut_utmapp *a, size_t *cap, const struct ut_profiles *p, const char *dirname)
{
	size_t len = strlen(dirname) - strlen(".framework");
	struct ut_utmapp_comp *x = ui_vec_push((void **)&a->v, &a->n, cap, sizeof(*x));
	if (!x)
		return UT_ENOMEM;
	x->parent = a->app;
	x->role = UT_ROLE_FRAMEWORK;
	if (!(x->name = malloc(len + 1)))
		return ut_fail(UT_ENOMEM, "out of memory");
	memcpy(x->name, dirname, len);
	x->name[len] = '\0';
	if (!(x->rel = ui_printf("Contents/Frameworks/%s", dirname)))
		return UT_ENOMEM;
	char *abs = ut_path_join(a->path, x->rel);
	struct cs_bundle *b = NULL;
	int rc = abs ? cs_bundle_open(abs, &b) : UT_ENOMEM;
	if (!rc && !b->exec_rel)
		rc = ut_fail(UT_EMALFORMED, "'%s': framework without a main executable", abs);
	if (!rc && (!(x->signed_rel = ut_path_join(x->rel, b->base_rel)) ||
		    !(x->exec_rel = ui_printf("%s/%s", x->signed_rel, b->exec_rel)) ||
		    (b->identifier && !(x->bundle_id = ui_strdup(b->identifier)))))
		rc = UT_ENOMEM;
	x->prof = x->bundle_id ? ut_profiles_component_by_id(p, x->bundle_id) : NULL;
	if (!rc)
		rc = broken(a, x, read_exec(a, x, b->exec_path));
	cs_bundle_free(b);
	free(abs);
	return rc;
}

static int cmp_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int read_frameworks(struct ut_utmapp *a, size_t *cap, const struct ut_profiles *p)
{
	char *dir = ut_path_join(a->path, "Contents/Frameworks");
	if (!dir)
		return UT_ENOMEM;
	DIR *d = opendir(dir);
	if (!d) {
		int rc = errno == ENOENT ? 0 : ut_fail_errno(UT_EIO, errno, "cannot read '%s'", dir);
		free(dir);
		return rc;
	}
	struct ui_strv names = { 0 };
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n <= 10 || strcmp(de->d_name + n - 10, ".framework") != 0)
			continue;
		char *p2 = ut_path_join(dir, de->d_name);
		struct stat st;
		if (!p2)
			rc = UT_ENOMEM;
		else if (lstat(p2, &st) == 0 && S_ISDIR(st.st_mode))
			rc = names.n >= UT_UTMAPP_MAX_FRAMEWORKS
				     ? ut_fail(UT_ENOMEM, "'%s': more than %d frameworks", dir, UT_UTMAPP_MAX_FRAMEWORKS)
				     : ui_strv_add(&names, de->d_name);
		free(p2);
	}
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_name);
	for (size_t i = 0; !rc && i < names.n; i++)
		rc = add_framework(a, cap, p, names.v[i]);
	ui_strv_release(&names);
	free(dir);
	return rc;
}

/* The enclosing bundle: the component whose rel is the longest proper prefix of c's. */
static void link_parents(struct ut_utmapp *a)
{
	for (size_t i = 0; i < a->n; i++) {
		struct ut_utmapp_comp *c = &a->v[i];
		if ((long)i == a->app)
			continue;
		const char *r = c->rel ? c->rel : c->exec_rel;
		size_t best = 0;
		for (size_t j = 0; j < a->n; j++) {
			const char *pr = a->v[j].rel;
			size_t n = pr ? strlen(pr) : 0;
			if (j == i || !pr || !n || n <= best || strncmp(r, pr, n) != 0 || r[n] != '/')
				continue;
			best = n;
			c->parent = (long)j;
		}
		if (!best)
			c->parent = a->app;
	}
}

int ut_utmapp_open(struct ut_utmapp **out, const char *path, const struct ut_profiles *p, const char *host_arch)
{
	return ut_utmapp_open_ex(out, path, p, host_arch, 0);
}

int ut_utmapp_open_ex(struct ut_utmapp **out, const char *path, const struct ut_profiles *p, const char *host_arch,
		      unsigned flags)
{
	*out = NULL;
	struct ut_utmapp *a = calloc(1, sizeof(*a));
	if (!a)
		return ut_fail(UT_ENOMEM, "out of memory");
	a->flags = flags;
	a->app = a->tool = a->helper = a->launcher = -1;
	a->host_arch = host_arch && strcmp(host_arch, "x86_64") == 0 ? "x86_64" : "arm64";
	size_t cap = 0;
	char real[PATH_MAX];
	int rc = 0;
	struct stat st;
	if (!realpath(path, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
		rc = ut_fail(UT_ENOTFOUND, "'%s': no such bundle (give UTM.app with --app)", path);
	char *info = NULL;
	if (!rc && (!(a->path = ui_strdup(real)) || !(info = ut_path_join(a->path, "Contents/Info.plist"))))
		rc = UT_ENOMEM;
	if (!rc && !is_file(info))
		rc = ut_fail(UT_ENOTFOUND, "'%s': not an app bundle (no Contents/Info.plist)", a->path);
	if (!rc)
		rc = read_info(info, &a->bundle_id, &a->version, &a->build);
	free(info);
	for (size_t i = 0; !rc && i < ut_profiles_ncomponents(p); i++) {
		const struct ut_component *c = ut_profiles_component(p, i);
		if (c->is_class)
			continue;
		rc = add_profile_comp(a, &cap, p, c);
		if (!rc) {
			long idx = (long)a->n - 1;
			switch (a->v[idx].role) {
			case UT_ROLE_APP: a->app = idx; break;
			case UT_ROLE_TOOL: a->tool = idx; break;
			case UT_ROLE_HELPER: a->helper = idx; break;
			case UT_ROLE_LAUNCHER: a->launcher = idx; break;
			default: break;
			}
		}
	}
	if (!rc && (a->app < 0 || a->launcher < 0))
		rc = ut_fail(UT_EMALFORMED, "the UTM profile names no app or no QEMU launcher");
	a->first_framework = a->n;
	if (!rc)
		rc = read_frameworks(a, &cap, p);
	if (rc) {
		ut_utmapp_free(a);
		return rc;
	}
	link_parents(a);
	*out = a;
	return 0;
}

const struct ut_utmapp_comp *ut_utmapp_framework(const struct ut_utmapp *a, const char *name)
{
	for (size_t i = a->first_framework; i < a->n; i++)
		if (strcmp(a->v[i].name, name) == 0)
			return &a->v[i];
	return NULL;
}

const struct ut_utmapp_comp *ut_utmapp_role(const struct ut_utmapp *a, enum ut_utmapp_role role)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].role == role)
			return &a->v[i];
	return NULL;
}

static void mark_loads(const struct ut_utmapp *a, size_t i, unsigned char *mask, unsigned depth)
{
	const struct ut_utmapp_comp *c = &a->v[i];
	for (size_t k = 0; k < c->ndeps && depth < 64; k++) {
		const struct ut_utmapp_comp *f = ut_utmapp_framework(a, c->deps[k]);
		size_t fi = f ? (size_t)(f - a->v) : 0;
		if (f && !mask[fi]) {
			mask[fi] = 1;
			mark_loads(a, fi, mask, depth + 1);
		}
	}
}

void ut_utmapp_loads(const struct ut_utmapp *a, size_t comp, long qemu_fw, unsigned char *mask)
{
	if ((long)comp != a->launcher) {
		mark_loads(a, comp, mask, 0);
		return;
	}
	for (size_t i = a->first_framework; i < a->n; i++) {
		if (qemu_fw >= 0 ? (long)i != qemu_fw : strncmp(a->v[i].name, "qemu-", 5) != 0)
			continue;
		mask[i] = 1;
		mark_loads(a, i, mask, 0);
	}
}
