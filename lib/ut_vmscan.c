/*
 * ut_vmscan.c - finding VM bundles: paths given by the user, and UTM's own list.
 *
 * UTM keeps VMs in its sandbox Documents folder and remembers VMs opened from
 * elsewhere in its preferences (utm-domain §3.1): "Registry" maps a UUID to an
 * entry whose Package.Path is the bundle; the older "VMList" holds names in
 * Documents, bookmarks, or {Path, Bookmark} dictionaries.
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700
#define _DARWIN_C_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#ifdef __APPLE__
#include <sys/sysctl.h>
#endif

#include "ut_plist.h"
#include "ut_vm_internal.h"

#define UTM_CONTAINER "/Library/Containers/com.utmapp.UTM/Data"

char *ut_vm_documents_dir(const char *home) { return ui_printf("%s" UTM_CONTAINER "/Documents", home); }

char *ut_vm_preferences_path(const char *home)
{
	return ui_printf("%s" UTM_CONTAINER "/Library/Preferences/com.utmapp.UTM.plist", home);
}

void ut_vm_list_init(struct ut_vm_list *l) { memset(l, 0, sizeof(*l)); }

void ut_vm_list_release(struct ut_vm_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		ut_vmconfig_free(l->vms[i]);
	free(l->vms);
	for (size_t i = 0; i < l->nmissing; i++) {
		free(l->missing[i].path);
		free(l->missing[i].source);
	}
	free(l->missing);
	memset(l, 0, sizeof(*l));
}

/* A name for duplicate detection: the real path of the config (or of its bundle). */
static char *config_key(const char *bundle, const char *config_path)
{
	char buf[PATH_MAX];
	if (realpath(config_path, buf))
		return strdup(buf);
	if (realpath(bundle, buf))
		return ui_printf("%s/config.plist", buf);
	return strdup(config_path);
}

static int add_bundle(struct ut_vm_list *l, const char *bundle, const char *config_path)
{
	char *own = config_path ? NULL : ui_printf("%s/config.plist", bundle);
	const char *cfg = config_path ? config_path : own;
	char *key = cfg ? config_key(bundle, cfg) : NULL;
	if (!key) {
		free(own);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < l->n; i++) {
		char *other = config_key(l->vms[i]->bundle, l->vms[i]->config_path);
		int same = other && strcmp(other, key) == 0;
		free(other);
		if (same) {
			free(key);
			free(own);
			return 0;
		}
	}
	free(key);
	free(own);
	struct ut_vm_config **nv = realloc(l->vms, (l->n + 1) * sizeof(*nv));
	if (!nv)
		return ut_fail(UT_ENOMEM, "out of memory");
	l->vms = nv;
	struct ut_vm_config *vm = NULL;
	int rc = ut_vmconfig_load(&vm, bundle, config_path);
	if (rc)
		return rc;
	l->vms[l->n++] = vm;
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int add_folder(struct ut_vm_list *l, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return ut_fail_errno(UT_EIO, errno, "cannot list '%s'", dir);
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	struct dirent *de;
	while (!rc && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !ends_with(de->d_name, ".utm"))
			continue;
		char *full = ui_printf("%s/%s", dir, de->d_name);
		if (!full) {
			rc = ut_fail(UT_ENOMEM, "out of memory");
			break;
		}
		if (!is_dir(full)) {
			free(full);
			continue;
		}
		char **nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn) {
			free(full);
			rc = ut_fail(UT_ENOMEM, "out of memory");
			break;
		}
		names = nn;
		names[n++] = full;
	}
	closedir(d);
	if (!rc)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (!rc)
			rc = add_bundle(l, names[i], NULL);
		free(names[i]);
	}
	free(names);
	return rc;
}

int ut_vm_list_add_path(struct ut_vm_list *l, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return ut_fail_errno(errno == ENOENT ? UT_ENOTFOUND : UT_EIO, errno, "cannot find '%s'", path);
	if (S_ISREG(st.st_mode)) {
		/* A config file: its directory is the bundle. */
		const char *slash = strrchr(path, '/');
		char *dir = slash ? ui_printf("%.*s", (int)(slash == path ? 1 : slash - path), path) : strdup(".");
		if (!dir)
			return ut_fail(UT_ENOMEM, "out of memory");
		int rc = add_bundle(l, dir, path);
		free(dir);
		return rc;
	}
	if (!S_ISDIR(st.st_mode))
		return ut_fail(UT_EINVAL, "'%s' is not a VM bundle, a config file or a folder", path);
	char *cfg = ui_printf("%s/config.plist", path);
	if (!cfg)
		return ut_fail(UT_ENOMEM, "out of memory");
	struct stat cst;
	int bundle = lstat(cfg, &cst) == 0 || ends_with(path, ".utm") || ends_with(path, ".utm/");
	free(cfg);
	return bundle ? add_bundle(l, path, NULL) : add_folder(l, path);
}

static int add_missing(struct ut_vm_list *l, const char *path, const char *source)
{
	struct ut_vm_missing *nm = realloc(l->missing, (l->nmissing + 1) * sizeof(*nm));
	if (!nm)
		return ut_fail(UT_ENOMEM, "out of memory");
	l->missing = nm;
	nm[l->nmissing].path = strdup(path);
	nm[l->nmissing].source = strdup(source);
	if (!nm[l->nmissing].path || !nm[l->nmissing].source) {
		free(nm[l->nmissing].path);
		free(nm[l->nmissing].source);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	l->nmissing++;
	return 0;
}

static int add_registered(struct ut_vm_list *l, const char *path, const char *source)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return add_missing(l, path, source);
	return ut_vm_list_add_path(l, path);
}

static int add_registry(struct ut_vm_list *l, plist_t reg)
{
	plist_dict_iter it = NULL;
	plist_dict_new_iter(reg, &it);
	if (!it)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = 0;
	for (;;) {
		char *key = NULL;
		plist_t val = NULL;
		plist_dict_next_item(reg, it, &key, &val);
		free(key);
		if (!val)
			break;
		const char *path = ut_plist_dict_str(vm_get(val, "Package"), "Path");
		if (path && (rc = add_registered(l, path, "Registry")) != 0)
			break;
	}
	free(it);
	return rc;
}

static int add_vmlist(struct ut_vm_list *l, plist_t list, const char *docs)
{
	int rc = 0;
	for (uint32_t i = 0; !rc && i < plist_array_get_size(list); i++) {
		plist_t item = plist_array_get_item(list, i);
		const char *name = ut_plist_str(item);
		if (name) { /* a name inside Documents */
			char *p = ui_printf("%s/%s", docs, name);
			rc = p ? add_registered(l, p, "VMList") : ut_fail(UT_ENOMEM, "out of memory");
			free(p);
		} else if (ut_plist_dict_str(item, "Path")) {
			rc = add_registered(l, ut_plist_dict_str(item, "Path"), "VMList");
		} /* bookmarks alone cannot be resolved outside macOS' bookmark APIs */
	}
	return rc;
}

int ut_vm_list_add_defaults(struct ut_vm_list *l, const char *home)
{
	char *docs = ut_vm_documents_dir(home);
	char *prefs = ut_vm_preferences_path(home);
	int rc = !docs || !prefs ? ut_fail(UT_ENOMEM, "out of memory") : 0;
	if (!rc && is_dir(docs))
		rc = add_folder(l, docs);
	struct stat st;
	if (!rc && stat(prefs, &st) == 0) {
		plist_t root = NULL;
		rc = ut_plist_read_file(prefs, &root, NULL);
		if (!rc) {
			plist_t reg = vm_get(root, "Registry");
			plist_t list = vm_get(root, "VMList");
			if (vm_is(reg, PLIST_DICT))
				rc = add_registry(l, reg);
			if (!rc && vm_is(list, PLIST_ARRAY))
				rc = add_vmlist(l, list, docs);
			plist_free(root);
		} else {
			rc = ut_ctx(rc, "UTM preferences");
		}
	}
	free(docs);
	free(prefs);
	return rc;
}

int ut_vm_utm_running(int *running)
{
	*running = 0;
#ifdef __APPLE__
	/* The process list, as ps(1) reads it; UTM's main executable is "UTM". */
	int mib[3] = { CTL_KERN, KERN_PROC, KERN_PROC_ALL };
	size_t len = 0;
	if (sysctl(mib, 3, NULL, &len, NULL, 0) != 0)
		return ut_fail_errno(UT_EIO, errno, "cannot list processes");
	len += len / 4 + 16 * sizeof(struct kinfo_proc);
	struct kinfo_proc *kp = malloc(len);
	if (!kp)
		return ut_fail(UT_ENOMEM, "out of memory");
	if (sysctl(mib, 3, kp, &len, NULL, 0) != 0) {
		int e = errno;
		free(kp);
		return ut_fail_errno(UT_EIO, e, "cannot list processes");
	}
	for (size_t i = 0; i < len / sizeof(*kp); i++)
		if (strncmp(kp[i].kp_proc.p_comm, "UTM", sizeof(kp[i].kp_proc.p_comm)) == 0)
			*running = 1;
	free(kp);
#endif
	return 0;
}
