/* cs_seal_write.c - CodeResources as codesign writes it (XML plist, keys in Apple's order). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cs_hash.h"
#include "cs_seal_priv.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_plist.h"

static plist_t data_node(const uint8_t *p, size_t len) { return plist_new_data((const char *)p, len); }

/* One files2 value; keys sorted: cdhash, hash, hash2.., optional, requirement, symlink. */
static plist_t entry_v2(const struct cs_seal_entry *e)
{
	if (e->kind == CS_SEAL_FILE && e->hash_mask == (1u << CS_HASHTYPE_SHA1) && !e->optional)
		return data_node(e->hash[CS_HASHTYPE_SHA1], CS_SHA1_LEN);
	plist_t d = plist_new_dict();
	if (!d)
		return NULL;
	if (e->kind == CS_SEAL_NESTED && e->has_cdhash)
		plist_dict_set_item(d, "cdhash", data_node(e->cdhash, CS_CDHASH_LEN));
	if (e->kind == CS_SEAL_FILE)
		for (unsigned t = 1; t < CS_SEAL_HASH_SLOTS; t++)
			if (e->hash_mask & (1u << t))
				plist_dict_set_item(d, cs_seal_hash_key(t), data_node(e->hash[t], cs_hash_size(t)));
	if (e->optional)
		plist_dict_set_item(d, "optional", plist_new_bool(1));
	if (e->kind == CS_SEAL_NESTED)
		plist_dict_set_item(d, "requirement", plist_new_string(e->requirement ? e->requirement : ""));
	if (e->kind == CS_SEAL_SYMLINK)
		plist_dict_set_item(d, "symlink", plist_new_string(e->symlink ? e->symlink : ""));
	return d;
}

/* One files (v1) value: bare SHA-1, or {hash, optional}. */
static plist_t entry_v1(const struct cs_seal_entry *e)
{
	if (!e->optional)
		return data_node(e->hash[CS_HASHTYPE_SHA1], CS_SHA1_LEN);
	plist_t d = plist_new_dict();
	if (!d)
		return NULL;
	plist_dict_set_item(d, "hash", data_node(e->hash[CS_HASHTYPE_SHA1], CS_SHA1_LEN));
	plist_dict_set_item(d, "optional", plist_new_bool(1));
	return d;
}

static int entry_ptr_cmp(const void *a, const void *b)
{
	return cs_plist_key_cmp((*(const struct cs_seal_entry *const *)a)->path,
				(*(const struct cs_seal_entry *const *)b)->path);
}

static int table_to_plist(const struct cs_seal_files *t, int v1, plist_t *out)
{
	*out = NULL;
	const struct cs_seal_entry **order = malloc((t->n ? t->n : 1) * sizeof(*order));
	plist_t d = plist_new_dict();
	if (!order || !d)
		goto oom;
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (!v1 || t->v[i].kind == CS_SEAL_FILE)
			order[n++] = &t->v[i];
	if (n > 1)
		qsort(order, n, sizeof(*order), entry_ptr_cmp);
	for (size_t i = 0; i < n; i++) {
		if (v1 && !(order[i]->hash_mask & (1u << CS_HASHTYPE_SHA1))) {
			int rc = ut_fail(UT_EINVAL, "files entry '%s' has no SHA-1 hash", order[i]->path);
			free(order);
			plist_free(d);
			return rc;
		}
		plist_t v = v1 ? entry_v1(order[i]) : entry_v2(order[i]);
		if (!v)
			goto oom;
		plist_dict_set_item(d, order[i]->path, v);
	}
	free(order);
	*out = d;
	return 0;
oom:
	free(order);
	plist_free(d);
	return ut_fail(UT_ENOMEM, "out of memory");
}

int cs_seal_to_plist(const struct cs_seal *s, plist_t *out)
{
	*out = NULL;
	plist_t root = plist_new_dict();
	if (!root)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = 0;
	plist_t v;
	/* Keys in order: files, files2, rules, rules2. */
	if (!rc && s->has_files && !(rc = table_to_plist(&s->files, 1, &v)))
		plist_dict_set_item(root, "files", v);
	if (!rc && s->has_files2 && !(rc = table_to_plist(&s->files2, 0, &v)))
		plist_dict_set_item(root, "files2", v);
	if (!rc && s->has_rules && !(rc = cs_rules_to_plist(&s->rules, &v)))
		plist_dict_set_item(root, "rules", v);
	if (!rc && s->has_rules2 && !(rc = cs_rules_to_plist(&s->rules2, &v)))
		plist_dict_set_item(root, "rules2", v);
	if (rc) {
		plist_free(root);
		return rc;
	}
	*out = root;
	return 0;
}

int cs_seal_serialize(const struct cs_seal *s, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	plist_t root;
	int rc = cs_seal_to_plist(s, &root);
	if (rc)
		return rc;
	rc = ut_plist_serialize(root, UT_PLIST_XML, out, len);
	plist_free(root);
	return rc;
}

int cs_seal_write_file(const struct cs_seal *s, const char *path)
{
	uint8_t *p;
	size_t len;
	int rc = cs_seal_serialize(s, &p, &len);
	if (rc)
		return rc;
	char *dir = strdup(path);
	if (!dir) {
		free(p);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			rc = ut_fail_errno(UT_EIO, errno, "cannot create directory '%s'", dir);
	}
	free(dir);
	if (!rc)
		rc = ut_file_write_atomic(path, p, len, 0644);
	free(p);
	return rc;
}
