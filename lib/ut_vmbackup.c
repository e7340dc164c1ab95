/*
 * ut_vmbackup.c - the copy of a config kept before vmcheck --fix rewrites it.
 *
 *   <state_dir>/vmcheck-backups/<YYYYMMDDTHHMMSSZ>-<name>.utm/config.plist
 *   <state_dir>/vmcheck-backups/<YYYYMMDDTHHMMSSZ>-<name>.utm/manifest.json
 *
 * The manifest records where the file came from, its size and SHA-256, so a
 * restore (copy it back) can be checked.
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ut_buf.h"
#include "ut_file.h"
#include "ut_install_util.h"
#include "ut_json.h"
#include "ut_plist.h"
#include "ut_vm_internal.h"

/* Last path component of an absolute path, with ".utm" ensured. */
static char *backup_name(const char *abs)
{
	size_t n = strlen(abs);
	while (n > 1 && abs[n - 1] == '/')
		n--;
	size_t b = n;
	while (b > 0 && abs[b - 1] != '/')
		b--;
	int has_ext = n - b > 4 && strncmp(abs + n - 4, ".utm", 4) == 0;
	size_t stem = has_ext ? n - b - 4 : n - b;
	return ui_printf("%.*s", (int)stem, abs + b);
}

static int write_manifest(const char *dir, const char *created, const char *bundle, const char *original,
			  const uint8_t *p, size_t len, int format)
{
	char hex[65];
	int rc = ui_sha256_hex(hex, p, len);
	if (rc)
		return rc;
	struct ut_buf b;
	ut_buf_init(&b, 1u << 20);
	struct ut_json j;
	ut_json_init(&j, &b, 1);
	ut_json_obj(&j);
	ut_json_kstr(&j, "tool", "utmpatch vmcheck --fix");
	ut_json_kstr(&j, "created", created);
	ut_json_kstr(&j, "bundle", bundle);
	ut_json_kstr(&j, "original", original);
	ut_json_kstr(&j, "backup", "config.plist");
	ut_json_kuint(&j, "size", len);
	ut_json_kstr(&j, "sha256", hex);
	ut_json_kstr(&j, "format", format == UT_PLIST_BINARY ? "binary" : "xml");
	ut_json_end(&j);
	rc = ut_json_finish(&j);
	char *path = ui_printf("%s/manifest.json", dir);
	if (!rc && !path)
		rc = ut_fail(UT_ENOMEM, "out of memory");
	if (!rc)
		rc = ut_file_write_atomic(path, b.p, b.len, 0600);
	free(path);
	ut_buf_release(&b);
	return rc;
}

int vm_backup_write(char **dir, const char *state_dir, int64_t now, const char *bundle, const char *config_path,
		    const uint8_t *p, size_t len, int format)
{
	*dir = NULL;
	char abs_bundle[PATH_MAX], abs_config[PATH_MAX];
	if (!realpath(bundle, abs_bundle))
		return ut_fail_errno(UT_EIO, errno, "cannot resolve '%s'", bundle);
	if (!realpath(config_path, abs_config))
		return ut_fail_errno(UT_EIO, errno, "cannot resolve '%s'", config_path);
	time_t t = (time_t)now;
	struct tm tm;
	char stamp[32], created[32];
	if (!gmtime_r(&t, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) ||
	    !strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return ut_fail(UT_EINVAL, "bad time %lld", (long long)now);
	char *base = ui_printf("%s/vmcheck-backups", state_dir);
	char *name = backup_name(abs_bundle);
	int rc = !base || !name ? ut_fail(UT_ENOMEM, "out of memory") : ui_mkdirs(base, 0700);
	char *d = NULL;
	for (int k = 1; !rc && k < 1000; k++) {
		d = k == 1 ? ui_printf("%s/%s-%s.utm", base, stamp, name)
			   : ui_printf("%s/%s-%s-%d.utm", base, stamp, name, k);
		if (!d) {
			rc = ut_fail(UT_ENOMEM, "out of memory");
			break;
		}
		if (mkdir(d, 0700) == 0)
			break;
		if (errno != EEXIST)
			rc = ut_fail_errno(UT_EIO, errno, "cannot create directory '%s'", d);
		free(d);
		d = NULL;
	}
	if (!rc && !d)
		rc = ut_fail(UT_EEXIST, "too many backups named '%s' in '%s'", name, base);
	char *copy = d ? ui_printf("%s/config.plist", d) : NULL;
	if (!rc && !copy)
		rc = ut_fail(UT_ENOMEM, "out of memory");
	if (!rc)
		rc = ut_file_write_atomic(copy, p, len, 0600);
	if (!rc)
		rc = write_manifest(d, created, abs_bundle, abs_config, p, len, format);
	free(copy);
	free(base);
	free(name);
	if (rc) {
		free(d);
		return ut_ctx(rc, "backup of '%s'", config_path);
	}
	*dir = d;
	return 0;
}
