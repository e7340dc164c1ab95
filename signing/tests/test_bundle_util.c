/* test_bundle_util.c - corpus bundle copies, synthetic bundles, plist comparison (tests only). */
#define _GNU_SOURCE
#include "test_bundle_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tsupport.h"

char *tb_join(const char *dir, const char *rel)
{
	char *p = NULL;
	cr_assert(asprintf(&p, "%s/%s", dir, rel) >= 0);
	return p;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *p = ts_read(path, len);
	cr_assert(p, "cannot read %s", path);
	return p;
}

char *tb_tmp_bundle(const char *name)
{
	char *tmp = ts_tmpdir();
	char *p = tb_join(tmp, name);
	free(tmp);
	return p;
}

char *tb_copy_corpus(const char *rel)
{
	char *tmp = ts_tmpdir();
	char *dst = tsb_copy_corpus(rel, tmp);
	free(tmp);
	return dst;
}

void tb_cleanup(char *path)
{
	if (!path)
		return;
	char *slash = strrchr(path, '/');
	if (slash && strncmp(path, "/tmp/utmpatch-test-", 19) == 0) {
		*slash = '\0';
		char *cmd = NULL;
		if (asprintf(&cmd, "chmod -R u+w '%s'; rm -rf '%s'", path, path) >= 0)
			ts_sh(cmd, NULL, NULL);
		free(cmd);
	}
	free(path);
}

void tb_mkdirs(const char *dir, const char *rel)
{
	char *p = tb_join(dir, rel);
	mkdir(dir, 0755);
	for (char *s = p + strlen(dir) + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	mkdir(p, 0755);
	free(p);
}

static void mkparents(const char *dir, const char *rel)
{
	char *r = strdup(rel);
	char *slash = strrchr(r, '/');
	if (slash) {
		*slash = '\0';
		tb_mkdirs(dir, r);
	} else {
		mkdir(dir, 0755);
	}
	free(r);
}

void tb_write(const char *dir, const char *rel, const void *content, size_t len)
{
	mkparents(dir, rel);
	char *p = tb_join(dir, rel);
	FILE *f = fopen(p, "wb");
	cr_assert(f, "cannot write %s", p);
	cr_assert_eq(fwrite(content, 1, len, f), len);
	fclose(f);
	free(p);
}

void tb_write_str(const char *dir, const char *rel, const char *content)
{
	tb_write(dir, rel, content, strlen(content));
}

void tb_copy_file(const char *src, const char *dir, const char *rel)
{
	size_t len;
	uint8_t *p = slurp(src, &len);
	tb_write(dir, rel, p, len);
	free(p);
	char *dst = tb_join(dir, rel);
	chmod(dst, 0755);
	free(dst);
}

void tb_symlink(const char *target, const char *dir, const char *rel)
{
	mkparents(dir, rel);
	char *p = tb_join(dir, rel);
	unlink(p);
	cr_assert_eq(symlink(target, p), 0, "symlink %s", p);
	free(p);
}

void tb_info_plist(const char *dir, const char *rel, const char *exe, const char *ident, const char *ptype)
{
	plist_t d = plist_new_dict();
	if (exe)
		plist_dict_set_item(d, "CFBundleExecutable", plist_new_string(exe));
	if (ident)
		plist_dict_set_item(d, "CFBundleIdentifier", plist_new_string(ident));
	if (ptype)
		plist_dict_set_item(d, "CFBundlePackageType", plist_new_string(ptype));
	char *x = NULL;
	uint32_t n = 0;
	plist_to_xml(d, &x, &n);
	tb_write(dir, rel, x, n);
	free(x);
	plist_free(d);
}

plist_t tb_plist_file(const char *path)
{
	size_t len;
	uint8_t *p = slurp(path, &len);
	plist_t root = NULL;
	plist_from_xml((const char *)p, (uint32_t)len, &root);
	free(p);
	cr_assert(root, "%s: not an XML plist", path);
	return root;
}

int tb_plist_equal(plist_t a, plist_t b, char *why, size_t n)
{
	plist_type ta = plist_get_node_type(a), tb = plist_get_node_type(b);
	if (ta != tb) {
		snprintf(why, n, "types %d and %d", ta, tb);
		return 0;
	}
	switch (ta) {
	case PLIST_DICT: {
		if (plist_dict_get_size(a) != plist_dict_get_size(b)) {
			snprintf(why, n, "dict sizes %u and %u", plist_dict_get_size(a), plist_dict_get_size(b));
			return 0;
		}
		plist_dict_iter it = NULL;
		plist_dict_new_iter(a, &it);
		int ok = 1;
		while (ok) {
			char *key = NULL;
			plist_t va = NULL;
			plist_dict_next_item(a, it, &key, &va);
			if (!va)
				break;
			plist_t vb = plist_dict_get_item(b, key);
			if (!vb) {
				snprintf(why, n, "key '%s' missing", key);
				ok = 0;
			} else if (!tb_plist_equal(va, vb, why, n)) {
				char *inner = strdup(why);
				snprintf(why, n, "'%s': %s", key, inner);
				free(inner);
				ok = 0;
			}
			free(key);
		}
		free(it);
		return ok;
	}
	case PLIST_ARRAY:
		if (plist_array_get_size(a) != plist_array_get_size(b)) {
			snprintf(why, n, "array sizes differ");
			return 0;
		}
		for (uint32_t i = 0; i < plist_array_get_size(a); i++)
			if (!tb_plist_equal(plist_array_get_item(a, i), plist_array_get_item(b, i), why, n))
				return 0;
		return 1;
	case PLIST_DATA: {
		uint64_t la = 0, lb = 0;
		const char *pa = plist_get_data_ptr(a, &la), *pb = plist_get_data_ptr(b, &lb);
		if (la != lb || memcmp(pa, pb, la) != 0) {
			snprintf(why, n, "data differs");
			return 0;
		}
		return 1;
	}
	case PLIST_STRING:
		if (strcmp(plist_get_string_ptr(a, NULL), plist_get_string_ptr(b, NULL)) != 0) {
			snprintf(why, n, "'%s' != '%s'", plist_get_string_ptr(a, NULL), plist_get_string_ptr(b, NULL));
			return 0;
		}
		return 1;
	case PLIST_BOOLEAN: {
		uint8_t x = 0, y = 0;
		plist_get_bool_val(a, &x);
		plist_get_bool_val(b, &y);
		if (!x != !y) {
			snprintf(why, n, "booleans differ");
			return 0;
		}
		return 1;
	}
	case PLIST_REAL: {
		double x = 0, y = 0;
		plist_get_real_val(a, &x);
		plist_get_real_val(b, &y);
		if (x != y) {
			snprintf(why, n, "%g != %g", x, y);
			return 0;
		}
		return 1;
	}
	case PLIST_UINT: {
		uint64_t x = 0, y = 0;
		plist_get_uint_val(a, &x);
		plist_get_uint_val(b, &y);
		if (x != y) {
			snprintf(why, n, "%llu != %llu", (unsigned long long)x, (unsigned long long)y);
			return 0;
		}
		return 1;
	}
	default:
		snprintf(why, n, "unsupported node type %d", ta);
		return 0;
	}
}
