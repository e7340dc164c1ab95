/* cs_seal_read.c - parse CodeResources (v2 and v1-only seals), every entry validated. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cs_hash.h"
#include "cs_seal_priv.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_limits.h"
#include "ut_plist.h"

static int read_data(plist_t v, const char *what, const char *path, const char *key, size_t want, uint8_t *out)
{
	if (plist_get_node_type(v) != PLIST_DATA)
		return ut_fail(UT_EMALFORMED, "%s entry '%s': '%s' is not data", what, path, key);
	uint64_t len = 0;
	const char *p = plist_get_data_ptr(v, &len);
	if (len != want)
		return ut_fail(UT_EMALFORMED, "%s entry '%s': '%s' has %llu bytes, expected %zu", what, path, key,
			       (unsigned long long)len, want);
	memcpy(out, p, want);
	return 0;
}

static int read_string(plist_t v, const char *what, const char *path, const char *key, char **out)
{
	const char *s = ut_plist_str(v);
	if (!s)
		return ut_fail(UT_EMALFORMED, "%s entry '%s': '%s' is not a string", what, path, key);
	if (!(*out = strdup(s)))
		return ut_fail(UT_ENOMEM, "out of memory");
	return 0;
}

static int read_hashes(struct cs_seal_entry *e, plist_t dict, const char *what)
{
	for (unsigned t = 1; t < CS_SEAL_HASH_SLOTS; t++) {
		const char *key = cs_seal_hash_key(t);
		plist_t v = plist_dict_get_item(dict, key);
		if (!v)
			continue;
		int rc = read_data(v, what, e->path, key, cs_hash_size(t), e->hash[t]);
		if (rc)
			return rc;
		e->hash_mask |= 1u << t;
	}
	return 0;
}

static int read_dict_entry(struct cs_seal_entry *e, plist_t d, const char *what, int v1)
{
	int rc;
	plist_t opt = plist_dict_get_item(d, "optional");
	if (opt) {
		if (plist_get_node_type(opt) != PLIST_BOOLEAN)
			return ut_fail(UT_EMALFORMED, "%s entry '%s': 'optional' is not a boolean", what, e->path);
		uint8_t b = 0;
		plist_get_bool_val(opt, &b);
		e->optional = b != 0;
	}
	if ((rc = read_hashes(e, d, what)) != 0)
		return rc;
	plist_t link = plist_dict_get_item(d, "symlink");
	plist_t req = plist_dict_get_item(d, "requirement");
	plist_t cdh = plist_dict_get_item(d, "cdhash");
	int kinds = (e->hash_mask != 0) + (link != NULL) + (req != NULL || cdh != NULL);
	if (kinds == 0)
		return ut_fail(UT_EMALFORMED, "%s entry '%s': no hash, symlink or requirement", what, e->path);
	if (kinds > 1)
		return ut_fail(UT_EMALFORMED, "%s entry '%s': mixes a hash, a symlink and nested code", what, e->path);
	if (v1 && !(e->hash_mask & (1u << CS_HASHTYPE_SHA1)))
		return ut_fail(UT_EMALFORMED, "%s entry '%s': no SHA-1 'hash'", what, e->path);
	if (e->hash_mask) {
		e->kind = CS_SEAL_FILE;
		return 0;
	}
	if (link) {
		e->kind = CS_SEAL_SYMLINK;
		return read_string(link, what, e->path, "symlink", &e->symlink);
	}
	e->kind = CS_SEAL_NESTED;
	if (!req)
		return ut_fail(UT_EMALFORMED, "%s entry '%s': nested code without a requirement", what, e->path);
	if ((rc = read_string(req, what, e->path, "requirement", &e->requirement)) != 0)
		return rc;
	if (cdh) {
		if ((rc = read_data(cdh, what, e->path, "cdhash", CS_CDHASH_LEN, e->cdhash)) != 0)
			return rc;
		e->has_cdhash = 1;
	}
	return 0;
}

static int read_table(struct cs_seal_files *t, plist_t dict, const char *what, int v1)
{
	if (plist_get_node_type(dict) != PLIST_DICT)
		return ut_fail(UT_EMALFORMED, "'%s' is not a dictionary", what);
	plist_dict_iter it = NULL;
	plist_dict_new_iter(dict, &it);
	if (!it)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = 0;
	for (;;) {
		char *key = NULL;
		plist_t v = NULL;
		plist_dict_next_item(dict, it, &key, &v);
		if (!v) {
			free(key);
			break;
		}
		struct cs_seal_entry *e = NULL;
		if (!key || !key[0])
			rc = ut_fail(UT_EMALFORMED, "%s: entry with an empty path", what);
		else if (!(e = cs_seal_files_add(t, key)))
			rc = UT_ENOMEM;
		free(key);
		if (rc)
			break;
		plist_type ty = plist_get_node_type(v);
		if (ty == PLIST_DATA) {
			/* The simple form: a bare SHA-1. */
			e->kind = CS_SEAL_FILE;
			rc = read_data(v, what, e->path, "hash", CS_SHA1_LEN, e->hash[CS_HASHTYPE_SHA1]);
			e->hash_mask = 1u << CS_HASHTYPE_SHA1;
		} else if (ty == PLIST_DICT) {
			rc = read_dict_entry(e, v, what, v1);
		} else {
			rc = ut_fail(UT_EMALFORMED, "%s entry '%s': neither data nor a dictionary", what, e->path);
		}
		if (rc)
			break;
	}
	free(it);
	return rc ? rc : cs_seal_files_sort(t, what);
}

/*
 * codesign writes XML; a binary CodeResources is read through libplist's XML
 * form.  libplist 2.2 asserts (aborts) when a dictionary key of a binary plist
 * holds a NUL character and the key is read; its XML writer stops such keys at
 * the NUL, so the re-parsed tree is safe to walk.
 */
static int via_xml(plist_t *root, const char *name)
{
	char *x = NULL;
	uint32_t n = 0;
	plist_to_xml(*root, &x, &n);
	plist_free(*root);
	*root = NULL;
	if (!x)
		return ut_fail(UT_ENOMEM, "'%s': cannot convert the binary plist", name);
	int rc = ut_plist_parse(x, n, name, root, NULL);
	free(x);
	return rc;
}

int cs_seal_parse(struct cs_seal *s, const uint8_t *p, size_t len, const char *name)
{
	cs_seal_init(s);
	plist_t root = NULL;
	enum ut_plist_format fmt;
	int rc = ut_plist_parse(p, len, name, &root, &fmt);
	if (rc)
		return rc;
	if (fmt == UT_PLIST_BINARY && (rc = via_xml(&root, name)) != 0)
		return rc;
	if (plist_get_node_type(root) != PLIST_DICT) {
		plist_free(root);
		return ut_fail(UT_EMALFORMED, "'%s': CodeResources is not a dictionary", name);
	}
	plist_t files = plist_dict_get_item(root, "files"), files2 = plist_dict_get_item(root, "files2");
	plist_t rules = plist_dict_get_item(root, "rules"), rules2 = plist_dict_get_item(root, "rules2");
	if (!files && !files2)
		rc = ut_fail(UT_EMALFORMED, "no 'files2' or 'files' table");
	else if (files2 && !rules2)
		rc = ut_fail(UT_EMALFORMED, "'files2' without 'rules2'");
	else if (files && !rules)
		rc = ut_fail(UT_EMALFORMED, "'files' without 'rules'");
	if (!rc && rules && !(rc = cs_rules_from_plist(&s->rules, rules, "rules")))
		s->has_rules = 1;
	if (!rc && rules2 && !(rc = cs_rules_from_plist(&s->rules2, rules2, "rules2")))
		s->has_rules2 = 1;
	if (!rc && files && !(rc = read_table(&s->files, files, "files", 1)))
		s->has_files = 1;
	if (!rc && files2 && !(rc = read_table(&s->files2, files2, "files2", 0)))
		s->has_files2 = 1;
	plist_free(root);
	if (rc) {
		cs_seal_release(s);
		cs_seal_init(s);
		return ut_ctx(rc, "'%s'", name);
	}
	return 0;
}

int cs_seal_read_file(struct cs_seal *s, const char *path)
{
	uint8_t *p = NULL;
	size_t len = 0;
	cs_seal_init(s);
	int rc = ut_file_read(path, UT_MAX_PLIST_SIZE, &p, &len);
	if (rc)
		return rc;
	rc = cs_seal_parse(s, p, len, path);
	free(p);
	return rc;
}
