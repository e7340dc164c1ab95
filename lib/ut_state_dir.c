/*
 * ut_state_dir.c - the per-bundle state directory: its location, loading and
 * saving its files, removing what is no longer referenced.
 *
 *   <state_dir>/bundles/<key>/          key: first 32 hex digits of SHA-256(canonical bundle path)
 *       bundle.path   manifest   installed   journal   lock
 *       pristine/<sha256>.z   undo/<sha256>.z
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ut_file.h"
#include "ut_install_util.h"
#include "ut_limits.h"
#include "ut_state_int.h"

int ut_state_default_dir(const char *home, const char *xdg_state_home, char **out)
{
	*out = NULL;
#if defined(__APPLE__)
	(void)xdg_state_home;
#else
	if (xdg_state_home && xdg_state_home[0] == '/') {
		*out = ui_printf("%s/utmpatch", xdg_state_home);
		return *out ? 0 : ut_fail(UT_ENOMEM, "out of memory");
	}
#endif
	if (!home || home[0] != '/')
		return ut_fail(UT_EINVAL, "no state directory: HOME is not an absolute path (use --state-dir)");
#if defined(__APPLE__)
	*out = ui_printf("%s/Library/Application Support/utmpatch", home);
#else
	*out = ui_printf("%s/.local/state/utmpatch", home);
#endif
	return *out ? 0 : ut_fail(UT_ENOMEM, "out of memory");
}

const char *ut_state_name(int state)
{
	switch (state) {
	case UT_STATE_PRISTINE: return "pristine";
	case UT_STATE_PATCHED: return "patched";
	case UT_STATE_DRIFTED: return "drifted";
	case UT_STATE_INTERRUPTED: return "interrupted";
	}
	return "?";
}

void st_dir_release(struct st_dir *d)
{
	if (!d)
		return;
	free(d->bundle);
	free(d->dir);
	free(d->journal);
	free(d->manifest);
	free(d->installed);
	free(d->installed_new);
	free(d->lock);
	free(d->pristine);
	free(d->undo);
	free(d->bundle_path);
	memset(d, 0, sizeof(*d));
}

/* Checks or writes bundle.path. */
static int check_bundle_path(const struct st_dir *d, int create)
{
	uint8_t *p;
	size_t len;
	int rc = ut_file_read(d->bundle_path, UT_MAX_PATH_STR + 2, &p, &len);
	if (rc == UT_ENOTFOUND) {
		if (!create)
			return 0;
		char *line = ui_printf("%s\n", d->bundle);
		rc = line ? ut_file_write_atomic(d->bundle_path, line, strlen(line), 0600)
			  : ut_fail(UT_ENOMEM, "out of memory");
		free(line);
		return rc;
	}
	if (rc)
		return rc;
	size_t bl = strlen(d->bundle);
	if (len != bl + 1 || memcmp(p, d->bundle, bl) != 0 || p[bl] != '\n')
		rc = ut_fail(UT_EREFUSED, "state directory '%s' belongs to another bundle (see '%s')", d->dir,
			     d->bundle_path);
	free(p);
	return rc;
}

int st_dir_open(struct st_dir *d, const char *state_dir, const char *bundle_root, int create)
{
	memset(d, 0, sizeof(*d));
	if (!state_dir || !*state_dir)
		return ut_fail(UT_EINVAL, "no state directory given");
	char real[PATH_MAX];
	if (!realpath(bundle_root, real))
		return ut_fail_errno(errno == ENOENT ? UT_ENOTFOUND : UT_EIO, errno, "cannot resolve bundle '%s'",
				     bundle_root);
	struct stat st;
	if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
		return ut_fail(UT_EINVAL, "bundle '%s' is not a directory", bundle_root);
	char hex[65];
	int rc = ui_sha256_hex(hex, real, strlen(real));
	if (rc)
		return rc;
	hex[32] = '\0';
	d->bundle = strdup(real);
	d->dir = ui_printf("%s/bundles/%s", state_dir, hex);
	if (!d->bundle || !d->dir) {
		st_dir_release(d);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	d->journal = ui_printf("%s/journal", d->dir);
	d->manifest = ui_printf("%s/manifest", d->dir);
	d->installed = ui_printf("%s/installed", d->dir);
	d->installed_new = ui_printf("%s/installed.new", d->dir);
	d->lock = ui_printf("%s/lock", d->dir);
	d->pristine = ui_printf("%s/pristine", d->dir);
	d->undo = ui_printf("%s/undo", d->dir);
	d->bundle_path = ui_printf("%s/bundle.path", d->dir);
	if (!d->journal || !d->manifest || !d->installed || !d->installed_new || !d->lock || !d->pristine ||
	    !d->undo || !d->bundle_path) {
		st_dir_release(d);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	if (create && !(rc = ui_mkdirs(d->pristine, 0700)))
		rc = ui_mkdirs(d->undo, 0700);
	if (!rc)
		rc = check_bundle_path(d, create);
	if (rc)
		st_dir_release(d);
	return rc;
}

char *st_dir_abs(const struct st_dir *d, const char *rel) { return ui_printf("%s/%s", d->bundle, rel); }

const char *st_dir_store(const struct st_dir *d, int store) { return store == ST_STORE_UNDO ? d->undo : d->pristine; }

/* ---- load / save ---- */

static int load(const char *path, int *present, uint8_t **p, size_t *len)
{
	*present = 0;
	int rc = ut_file_read(path, UT_STATE_MAX_FILE, p, len);
	if (rc == UT_ENOTFOUND) {
		ut_err_clear();
		return 0;
	}
	if (rc == UT_EUNSUPPORTED)
		rc = UT_EMALFORMED;
	if (!rc)
		*present = 1;
	return rc;
}

int st_manifest_load(struct st_manifest *m, const char *path, int *present)
{
	memset(m, 0, sizeof(*m));
	uint8_t *p = NULL;
	size_t len;
	int rc = load(path, present, &p, &len);
	if (!rc && *present && (rc = st_manifest_parse(m, p, len)) != 0)
		rc = ut_ctx(rc, "'%s'", path);
	free(p);
	return rc;
}

int st_installed_load(struct st_installed *in, const char *path, int *present)
{
	memset(in, 0, sizeof(*in));
	uint8_t *p = NULL;
	size_t len;
	int rc = load(path, present, &p, &len);
	if (!rc && *present && (rc = st_installed_parse(in, p, len)) != 0)
		rc = ut_ctx(rc, "'%s'", path);
	free(p);
	return rc;
}

int st_journal_load(struct st_journal *j, const char *path, int *present)
{
	memset(j, 0, sizeof(*j));
	uint8_t *p = NULL;
	size_t len;
	int rc = load(path, present, &p, &len);
	if (!rc && *present && (rc = st_journal_parse(j, p, len)) != 0)
		rc = ut_ctx(rc, "'%s'", path);
	free(p);
	return rc;
}

int st_manifest_save(const struct st_manifest *m, const char *path)
{
	struct ut_buf b;
	ut_buf_init(&b, UT_STATE_MAX_FILE);
	int rc = st_manifest_format(m, &b);
	if (!rc)
		rc = ut_file_write_atomic(path, b.p, b.len, 0600);
	ut_buf_release(&b);
	return rc;
}

int st_installed_save(const struct st_installed *in, const char *path)
{
	struct ut_buf b;
	ut_buf_init(&b, UT_STATE_MAX_FILE);
	int rc = st_installed_format(in, &b);
	if (!rc)
		rc = ut_file_write_atomic(path, b.p, b.len, 0600);
	ut_buf_release(&b);
	return rc;
}

/* ---- cleanup ---- */

int st_unlink(const char *path)
{
	if (unlink(path) != 0) {
		if (errno == ENOENT)
			return 0;
		return ut_fail_errno(UT_EIO, errno, "cannot remove '%s'", path);
	}
	return ut_fsync_parent(path);
}

/* 1 when name is "<64 hex>.z" */
static int blob_name(const char *name, char sha[65])
{
	if (strlen(name) != 66 || strcmp(name + 64, ".z") != 0)
		return 0;
	memcpy(sha, name, 64);
	sha[64] = '\0';
	return st_is_hex(sha, 64);
}

/* Removes blobs of dir not referenced by m (m NULL: all) and leftover temp files. */
static int sweep(const char *dir, const struct st_manifest *m)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return errno == ENOENT ? 0 : ut_fail_errno(UT_EIO, errno, "cannot read directory '%s'", dir);
	int rc = 0, removed = 0;
	struct dirent *de;
	while (!rc && (de = readdir(dp)) != NULL) {
		char sha[65];
		int drop;
		if (blob_name(de->d_name, sha)) {
			drop = 1;
			for (size_t i = 0; m && i < m->n && drop; i++)
				drop = !(m->e[i].kind == UT_KIND_FILE && strcmp(m->e[i].sha256, sha) == 0);
		} else {
			drop = de->d_name[0] == '.' && strstr(de->d_name, ".utmpatch-") != NULL;
		}
		if (!drop)
			continue;
		char *p = ui_printf("%s/%s", dir, de->d_name);
		if (!p)
			rc = ut_fail(UT_ENOMEM, "out of memory");
		else if (unlink(p) != 0 && errno != ENOENT)
			rc = ut_fail_errno(UT_EIO, errno, "cannot remove '%s'", p);
		else
			removed = 1;
		free(p);
	}
	closedir(dp);
	if (!rc && removed) {
		char *probe = ui_printf("%s/.", dir);
		rc = probe ? ut_fsync_parent(probe) : ut_fail(UT_ENOMEM, "out of memory");
		free(probe);
	}
	return rc;
}

int st_gc(const struct st_dir *d, const struct st_manifest *m)
{
	static const struct st_manifest none;
	int rc = sweep(d->pristine, m ? m : &none);
	if (!rc)
		rc = sweep(d->undo, NULL);
	if (!rc)
		rc = sweep(d->dir, &none); /* only temp files: the dir holds no blobs */
	return rc;
}

int st_new_id(char **out)
{
	static unsigned counter;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	*out = ui_printf("%llx-%lx-%lx-%x", (unsigned long long)ts.tv_sec, (unsigned long)ts.tv_nsec,
			 (unsigned long)getpid(), ++counter);
	return *out ? 0 : ut_fail(UT_ENOMEM, "out of memory");
}
