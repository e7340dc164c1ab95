/* cs_bundle.c - open and classify a bundle: layout, kind, base, Info.plist, main executable. */
#define _POSIX_C_SOURCE 200809L
#include "cs_bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_bundle_priv.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_limits.h"
#include "ut_plist.h"

enum cs_ftype cs_ftype_of(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT || errno == ENOTDIR ? CS_FT_NONE : CS_FT_ERROR;
	if (S_ISREG(st.st_mode))
		return CS_FT_FILE;
	if (S_ISDIR(st.st_mode))
		return CS_FT_DIR;
	if (S_ISLNK(st.st_mode))
		return CS_FT_LINK;
	return CS_FT_OTHER;
}

enum cs_ftype cs_ftype_in(const char *dir, const char *name)
{
	char *p = ut_path_join(dir, name);
	enum cs_ftype t = p ? cs_ftype_of(p) : CS_FT_ERROR;
	free(p);
	return t;
}

char *cs_path_join3(const char *a, const char *b, const char *c)
{
	char *ab = ut_path_join(a, b);
	if (!ab)
		return NULL;
	char *abc = ut_path_join(ab, c);
	free(ab);
	return abc;
}

char *cs_readlink(const char *path)
{
	char *buf = malloc(CS_PATH_MAX + 1);
	if (!buf) {
		ut_fail(UT_ENOMEM, "out of memory");
		return NULL;
	}
	ssize_t n = readlink(path, buf, CS_PATH_MAX + 1);
	if (n < 0 || n > CS_PATH_MAX) {
		if (n < 0)
			ut_fail_errno(UT_EIO, errno, "cannot read symlink '%s'", path);
		else
			ut_fail(UT_EUNSUPPORTED, "symlink '%s': target longer than %d bytes", path, CS_PATH_MAX);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

int cs_dir_each(const char *dir, int missing_ok, int (*fn)(void *ctx, const char *dir, const char *name),
		void *ctx)
{
	DIR *d = opendir(dir);
	if (!d && missing_ok && errno == ENOENT)
		return 0;
	if (!d)
		return ut_fail_errno(UT_EIO, errno, "cannot open directory '%s'", dir);
	int rc = 0;
	for (;;) {
		errno = 0;
		struct dirent *e = readdir(d);
		if (!e) {
			if (errno)
				rc = ut_fail_errno(UT_EIO, errno, "cannot read directory '%s'", dir);
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((rc = fn(ctx, dir, e->d_name)) != 0)
			break;
	}
	closedir(d);
	return rc;
}

const char *cs_bundle_kind_name(enum cs_bundle_kind k)
{
	switch (k) {
	case CS_BUNDLE_APP: return "app";
	case CS_BUNDLE_XPC: return "XPC service";
	case CS_BUNDLE_FRAMEWORK: return "framework";
	case CS_BUNDLE_PLUGIN: return "bundle";
	}
	return "?";
}

const char *cs_bundle_layout_name(enum cs_bundle_layout l)
{
	switch (l) {
	case CS_BUNDLE_DEEP: return "deep";
	case CS_BUNDLE_VERSIONED: return "versioned";
	case CS_BUNDLE_SHALLOW: return "shallow";
	}
	return "?";
}

void cs_bundle_free(struct cs_bundle *b)
{
	if (!b)
		return;
	free(b->root);
	free(b->name);
	free(b->base);
	free(b->base_rel);
	free(b->version);
	free(b->info_rel);
	free(b->info_path);
	free(b->info_data);
	if (b->info)
		plist_free(b->info);
	free(b->exec_rel);
	free(b->exec_path);
	free(b->seal_rel);
	free(b->seal_path);
	free(b);
}

static int is_dir(const char *dir, const char *rel) { return cs_ftype_in(dir, rel) == CS_FT_DIR; }
static int is_file(const char *dir, const char *rel) { return cs_ftype_in(dir, rel) == CS_FT_FILE; }

int cs_bundle_looks_like(const char *path)
{
	if (cs_ftype_of(path) != CS_FT_DIR)
		return 0;
	return is_dir(path, "Contents") || is_file(path, "Info.plist") || is_file(path, "Resources/Info.plist");
}

int cs_is_macho_file(const char *path)
{
	uint8_t h[8];
	int fd = open(path, O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, h, sizeof(h));
	close(fd);
	if (n < 8)
		return 0;
	uint32_t le = ut_le32(h), be = ut_be32(h);
	if (le == 0xfeedfaceu || le == 0xfeedfacfu || be == 0xfeedfaceu || be == 0xfeedfacfu)
		return 1;
	/* A fat header with a small arch count; a Java class file has its version (>= 45) there. */
	if (be == 0xcafebabeu || be == 0xcafebabfu)
		return ut_be32(h + 4) > 0 && ut_be32(h + 4) < 45;
	return 0;
}

/* The Current version of a versioned bundle: a symlink naming a directory directly inside Versions. */
static int current_version(const char *root, char **out)
{
	*out = NULL;
	char *cur = ut_path_join(root, "Versions/Current");
	if (!cur)
		return ut_fail(UT_ENOMEM, "out of memory");
	enum cs_ftype t = cs_ftype_of(cur);
	if (t != CS_FT_LINK) {
		free(cur);
		return ut_fail(UT_EMALFORMED, "'%s': framework has Versions but 'Versions/Current' is %s", root,
			       t == CS_FT_NONE ? "missing" : "not a symlink");
	}
	char *target = cs_readlink(cur);
	free(cur);
	if (!target)
		return ut_ctx(UT_EIO, "'%s'", root);
	/* SEC validateFrameworkRoot accepts "A" and "./A". */
	if (strncmp(target, "./", 2) == 0)
		memmove(target, target + 2, strlen(target + 2) + 1);
	size_t n = strlen(target);
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	if (!n || strchr(target, '/') || strcmp(target, ".") == 0 || strcmp(target, "..") == 0 ||
	    strcmp(target, "Current") == 0) {
		int rc = ut_fail(UT_EMALFORMED, "'%s': 'Versions/Current' points to '%s', not to a version directory",
				 root, target);
		free(target);
		return rc;
	}
	char *vdir = cs_path_join3(root, "Versions", target);
	int ok = vdir && cs_ftype_of(vdir) == CS_FT_DIR;
	free(vdir);
	if (!ok) {
		int rc = ut_fail(UT_EMALFORMED, "'%s': version 'Versions/%s' named by Versions/Current is not a directory",
				 root, target);
		free(target);
		return rc;
	}
	*out = target;
	return 0;
}

static enum cs_bundle_kind kind_of(const char *package_type, const char *name)
{
	if (package_type) {
		if (strcmp(package_type, "APPL") == 0)
			return CS_BUNDLE_APP;
		if (strcmp(package_type, "XPC!") == 0)
			return CS_BUNDLE_XPC;
		if (strcmp(package_type, "FMWK") == 0)
			return CS_BUNDLE_FRAMEWORK;
		if (strcmp(package_type, "BNDL") == 0)
			return CS_BUNDLE_PLUGIN;
	}
	const char *dot = strrchr(name, '.');
	if (dot && strcmp(dot, ".app") == 0)
		return CS_BUNDLE_APP;
	if (dot && strcmp(dot, ".xpc") == 0)
		return CS_BUNDLE_XPC;
	if (dot && strcmp(dot, ".framework") == 0)
		return CS_BUNDLE_FRAMEWORK;
	return CS_BUNDLE_PLUGIN;
}

static int set_layout(struct cs_bundle *b)
{
	int contents = is_dir(b->root, "Contents"), versions = is_dir(b->root, "Versions");
	if (contents && versions)
		return ut_fail(UT_EMALFORMED, "'%s': bundle format is ambiguous (could be app or framework)", b->root);
	if (contents) {
		b->layout = CS_BUNDLE_DEEP;
		b->base_rel = strdup("Contents");
		b->resources = "Resources/";
		b->info_rel = strdup("Info.plist");
	} else if (versions) {
		int rc = current_version(b->root, &b->version);
		if (rc)
			return rc;
		b->layout = CS_BUNDLE_VERSIONED;
		b->base_rel = ut_path_join("Versions", b->version);
	} else {
		b->layout = CS_BUNDLE_SHALLOW;
		b->base_rel = strdup("");
	}
	if (!b->base_rel || !(b->base = ut_path_join(b->root, b->base_rel)))
		return ut_fail(UT_ENOMEM, "out of memory");
	if (b->layout != CS_BUNDLE_DEEP) {
		int res = is_dir(b->base, "Resources");
		b->resources = res ? "Resources/" : "";
		if (b->layout == CS_BUNDLE_VERSIONED || (res && !is_file(b->base, "Info.plist") &&
							 is_file(b->base, "Resources/Info.plist")))
			b->info_rel = strdup("Resources/Info.plist");
		else
			b->info_rel = strdup("Info.plist");
	}
	if (!b->info_rel)
		return ut_fail(UT_ENOMEM, "out of memory");
	return 0;
}

static int read_info(struct cs_bundle *b)
{
	if (!(b->info_path = ut_path_join(b->base, b->info_rel)))
		return ut_fail(UT_ENOMEM, "out of memory");
	enum cs_ftype t = cs_ftype_of(b->info_path);
	if (t == CS_FT_NONE)
		return 0;
	if (t != CS_FT_FILE)
		return ut_fail(UT_EMALFORMED, "'%s': Info.plist is not a regular file", b->info_path);
	b->has_info = 1;
	/* Read once: the parsed dictionary and the bytes a signature binds are the same file contents. */
	int rc = ut_file_read(b->info_path, UT_MAX_PLIST_SIZE, &b->info_data, &b->info_len);
	if (!rc)
		rc = ut_plist_parse(b->info_data, b->info_len, b->info_path, &b->info, NULL);
	if (rc)
		return rc;
	if (plist_get_node_type(b->info) != PLIST_DICT)
		return ut_fail(UT_EMALFORMED, "'%s': Info.plist is not a dictionary", b->info_path);
	b->identifier = ut_plist_dict_str(b->info, "CFBundleIdentifier");
	b->package_type = ut_plist_dict_str(b->info, "CFBundlePackageType");
	const char *exe = ut_plist_dict_str(b->info, "CFBundleExecutable");
	if (!exe)
		return 0;
	if (!exe[0] || strchr(exe, '/') || strcmp(exe, ".") == 0 || strcmp(exe, "..") == 0)
		return ut_fail(UT_EMALFORMED, "'%s': CFBundleExecutable '%s' is not a file name", b->info_path, exe);
	b->exec_rel = b->layout == CS_BUNDLE_DEEP ? ut_path_join("MacOS", exe) : strdup(exe);
	if (!b->exec_rel || !(b->exec_path = ut_path_join(b->base, b->exec_rel)))
		return ut_fail(UT_ENOMEM, "out of memory");
	return 0;
}

int cs_bundle_open(const char *path, struct cs_bundle **out)
{
	*out = NULL;
	if (cs_ftype_of(path) != CS_FT_DIR)
		return ut_fail(UT_EINVAL, "'%s': not a bundle directory", path);
	struct cs_bundle *b = calloc(1, sizeof(*b));
	if (!b || !(b->root = strdup(path))) {
		free(b);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	size_t n = strlen(b->root);
	while (n > 1 && b->root[n - 1] == '/')
		b->root[--n] = '\0';
	const char *slash = strrchr(b->root, '/');
	int rc = 0;
	if (!(b->name = strdup(slash ? slash + 1 : b->root)))
		rc = ut_fail(UT_ENOMEM, "out of memory");
	if (!rc)
		rc = set_layout(b);
	if (!rc)
		rc = read_info(b);
	if (!rc) {
		b->kind = kind_of(b->package_type, b->name);
		b->seal_rel = strdup("_CodeSignature/CodeResources");
		if (!b->seal_rel || !(b->seal_path = ut_path_join(b->base, b->seal_rel)))
			rc = ut_fail(UT_ENOMEM, "out of memory");
	}
	if (rc) {
		cs_bundle_free(b);
		return rc;
	}
	*out = b;
	return 0;
}
