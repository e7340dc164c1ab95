/* tsupport_fs.c - scratch directories and file helpers for tests. */
#define _XOPEN_SOURCE 700
#include "tsupport_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tsupport_printf(const char *fmt, ...)
{
	va_list ap, aq;
	va_start(ap, fmt);
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (!s)
		abort();
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

char *tsupport_tmpdir(const char *tag)
{
	const char *t = getenv("TMPDIR");
	char *tmpl = tsupport_printf("%s/utmpatch-%s-XXXXXX", t && *t ? t : "/tmp", tag ? tag : "test");
	if (!mkdtemp(tmpl)) {
		free(tmpl);
		return NULL;
	}
	return tmpl;
}

/* fn(dir/name, name, ctx) for every entry of dir but . and ..: the OR of the results (0 or -1); -1 when dir cannot be read. */
static int each_entry(const char *dir, int (*fn)(const char *path, const char *name, void *ctx), void *ctx)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *p = tsupport_printf("%s/%s", dir, de->d_name);
		rc |= fn(p, de->d_name, ctx);
		free(p);
	}
	closedir(d);
	return rc;
}

static int rm_entry(const char *path, const char *name, void *ctx)
{
	(void)name, (void)ctx;
	return tsupport_rmtree(path);
}

static int copy_entry(const char *path, const char *name, void *dst)
{
	char *t = tsupport_printf("%s/%s", (const char *)dst, name);
	int rc = tsupport_copytree(path, t);
	free(t);
	return rc;
}

int tsupport_rmtree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	chmod(path, 0700);
	int rc = each_entry(path, rm_entry, NULL); /* the entries first, then the directory */
	return rc | rmdir(path);
}

int tsupport_read(const char *path, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t cap = 4096, n = 0;
	uint8_t *b = malloc(cap + 1);
	for (size_t r; b && (r = fread(b + n, 1, cap - n, f)) > 0;) {
		n += r;
		if (n == cap) {
			uint8_t *nb = realloc(b, cap * 2 + 1);
			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (!b || bad) {
		free(b);
		return -1;
	}
	b[n] = 0;
	*out = b;
	*len = n;
	return 0;
}

int tsupport_write(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int rc = fwrite(p, 1, len, f) == len ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

int tsupport_copytree(const char *src, const char *dst)
{
	struct stat st;
	if (lstat(src, &st) != 0)
		return -1;
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(src, target, sizeof(target) - 1);
		if (n < 0)
			return -1;
		target[n] = '\0';
		return symlink(target, dst);
	}
	if (S_ISREG(st.st_mode)) {
		uint8_t *p;
		size_t len;
		if (tsupport_read(src, &p, &len) != 0)
			return -1;
		int rc = tsupport_write(dst, p, len);
		free(p);
		return rc ? rc : chmod(dst, (st.st_mode & 0777) | 0200);
	}
	if (!S_ISDIR(st.st_mode) || mkdir(dst, 0755) != 0)
		return -1;
	return each_entry(src, copy_entry, (void *)dst);
}
