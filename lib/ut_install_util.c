/* ut_install_util.c - paths, strings, lists and file hashing for the install module. */
#define _POSIX_C_SOURCE 200809L
#include "ut_install_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cs_hash.h"
#include "mo_file.h"
#include "ut_bytes.h"
#include "ut_file.h"

char *ui_vprintf(const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	char *s = n < 0 ? NULL : malloc((size_t)n + 1);
	if (!s) {
		ut_fail(UT_ENOMEM, "out of memory");
		return NULL;
	}
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

char *ui_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = ui_vprintf(fmt, ap);
	va_end(ap);
	return s;
}

char *ui_dirname(const char *rel)
{
	const char *slash = strrchr(rel, '/');
	size_t n = slash ? (size_t)(slash - rel) : 0;
	char *d = malloc(n + 1);
	if (!d) {
		ut_fail(UT_ENOMEM, "out of memory");
		return NULL;
	}
	memcpy(d, rel, n);
	d[n] = '\0';
	return d;
}

char *ui_strdup(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		ut_fail(UT_ENOMEM, "out of memory");
	return d;
}

int ui_strv_take(struct ui_strv *l, char *s)
{
	if (!s)
		return ut_fail(UT_ENOMEM, "out of memory");
	char **slot = ui_vec_push((void **)&l->v, &l->n, &l->cap, sizeof(char *));
	if (!slot) {
		free(s);
		return UT_ENOMEM;
	}
	*slot = s;
	return 0;
}

int ui_strv_add(struct ui_strv *l, const char *s) { return ui_strv_take(l, strdup(s)); }

int ui_strv_has(const struct ui_strv *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

void ui_strv_release(struct ui_strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void *ui_vec_push(void **v, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 8;
		if (c > ((size_t)-1) / elem) {
			ut_fail(UT_ENOMEM, "out of memory");
			return NULL;
		}
		void *p = realloc(*v, c * elem);
		if (!p) {
			ut_fail(UT_ENOMEM, "out of memory");
			return NULL;
		}
		*v = p;
		*cap = c;
	}
	char *item = (char *)*v + *n * elem;
	memset(item, 0, elem);
	(*n)++;
	return item;
}

int ui_sha256_file(const char *path, char out[65], uint64_t *size)
{
	struct ut_src s;
	int rc = ut_src_open(&s, path);
	if (rc)
		return rc;
	unsigned type = CS_HASHTYPE_SHA256;
	uint8_t md[1][CS_HASH_MAX_SIZE];
	rc = cs_hash_src(&s, 0, s.size, &type, 1, md);
	if (!rc) {
		ut_hex(out, md[0], CS_SHA256_LEN);
		if (size)
			*size = s.size;
	}
	ut_src_release(&s);
	return rc;
}

int ui_sha256_hex(char out[65], const void *p, size_t len)
{
	uint8_t md[CS_HASH_MAX_SIZE];
	int rc = cs_hash(CS_HASHTYPE_SHA256, p, len, md);
	if (!rc)
		ut_hex(out, md, CS_SHA256_LEN);
	return rc;
}

int ui_mkdirs(const char *path, unsigned mode)
{
	char *s = ui_strdup(path);
	if (!s)
		return UT_ENOMEM;
	int rc = 0;
	for (char *p = s; !rc; p++) {
		if ((*p != '/' || p == s) && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		struct stat st;
		if (mkdir(s, (mode_t)mode) != 0 && errno != EEXIST)
			rc = ut_fail_errno(UT_EIO, errno, "cannot create directory '%s'", s);
		else if (stat(s, &st) != 0 || !S_ISDIR(st.st_mode))
			rc = ut_fail(UT_EIO, "'%s' is not a directory", s);
		*p = c;
		if (c == '\0')
			break;
	}
	free(s);
	return rc;
}

double ui_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ui_arch(const struct mo_slice *s, char out[32])
{
	char buf[32];
	snprintf(out, 32, "%s", mo_arch_name(s->cputype, s->cpusubtype, buf));
}
