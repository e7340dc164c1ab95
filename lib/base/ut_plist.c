/* ut_plist.c - libplist behind one helper. */
#include "ut_plist.h"

#include <stdlib.h>
#include <string.h>

#include "ut_err.h"
#include "ut_file.h"
#include "ut_limits.h"

int ut_plist_parse(const void *p, size_t len, const char *name, plist_t *out, enum ut_plist_format *fmt)
{
	*out = NULL;
	if (len > UT_MAX_PLIST_SIZE)
		return ut_fail(UT_EUNSUPPORTED, "'%s': plist larger than %u bytes", name, UT_MAX_PLIST_SIZE);
	if (len < 8)
		return ut_fail(UT_EMALFORMED, "'%s': not a property list (%zu bytes)", name, len);
	int binary = memcmp(p, "bplist00", 8) == 0;
	plist_t root = NULL;
	if (binary)
		plist_from_bin(p, (uint32_t)len, &root);
	else
		plist_from_xml(p, (uint32_t)len, &root);
	if (!root)
		return ut_fail(UT_EMALFORMED, "'%s': not a valid %s property list", name, binary ? "binary" : "XML");
	if (fmt)
		*fmt = binary ? UT_PLIST_BINARY : UT_PLIST_XML;
	*out = root;
	return 0;
}

int ut_plist_read_file(const char *path, plist_t *out, enum ut_plist_format *fmt)
{
	uint8_t *p;
	size_t len;
	*out = NULL;
	int rc = ut_file_read(path, UT_MAX_PLIST_SIZE, &p, &len);
	if (rc)
		return rc;
	rc = ut_plist_parse(p, len, path, out, fmt);
	free(p);
	return rc;
}

int ut_plist_serialize(plist_t node, enum ut_plist_format fmt, uint8_t **out, size_t *len)
{
	char *p = NULL;
	uint32_t n = 0;
	*out = NULL;
	*len = 0;
	if (fmt == UT_PLIST_BINARY)
		plist_to_bin(node, &p, &n);
	else
		plist_to_xml(node, &p, &n);
	if (!p)
		return ut_fail(UT_ENOMEM, "cannot serialize property list");
	uint8_t *q = malloc((size_t)n + 1);
	if (!q) {
		free(p);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	memcpy(q, p, n);
	q[n] = '\0';
	free(p);
	*out = q;
	*len = n;
	return 0;
}

const char *ut_plist_str(plist_t node)
{
	if (!node || plist_get_node_type(node) != PLIST_STRING)
		return NULL;
	return plist_get_string_ptr(node, NULL);
}

const char *ut_plist_dict_str(plist_t dict, const char *key)
{
	if (!dict || plist_get_node_type(dict) != PLIST_DICT)
		return NULL;
	return ut_plist_str(plist_dict_get_item(dict, key));
}

int ut_plist_dict_true(plist_t dict, const char *key)
{
	if (!dict || plist_get_node_type(dict) != PLIST_DICT)
		return 0;
	plist_t v = plist_dict_get_item(dict, key);
	if (!v || plist_get_node_type(v) != PLIST_BOOLEAN)
		return 0;
	uint8_t b = 0;
	plist_get_bool_val(v, &b);
	return b != 0;
}

static int plist_equal_at(plist_t a, plist_t b, int depth)
{
	if (!a || !b)
		return a == b;
	plist_type t = plist_get_node_type(a);
	if (depth > 64 || t != plist_get_node_type(b))
		return 0;
	if (t == PLIST_ARRAY) {
		uint32_t n = plist_array_get_size(a);
		if (n != plist_array_get_size(b))
			return 0;
		for (uint32_t i = 0; i < n; i++)
			if (!plist_equal_at(plist_array_get_item(a, i), plist_array_get_item(b, i), depth + 1))
				return 0;
		return 1;
	}
	if (t == PLIST_DICT) {
		if (plist_dict_get_size(a) != plist_dict_get_size(b))
			return 0;
		plist_dict_iter it = NULL;
		plist_dict_new_iter(a, &it);
		int eq = 1;
		while (eq) {
			char *key = NULL;
			plist_t va = NULL;
			plist_dict_next_item(a, it, &key, &va);
			if (!key)
				break;
			eq = plist_equal_at(va, plist_dict_get_item(b, key), depth + 1);
			free(key);
		}
		free(it);
		return eq;
	}
	return plist_compare_node_value(a, b) ? 1 : 0;
}

int ut_plist_equal(plist_t a, plist_t b) { return plist_equal_at(a, b, 0); }
