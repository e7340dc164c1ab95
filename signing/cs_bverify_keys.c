/* cs_bverify_keys.c - the entitlement keys of an audited slice (for bundle audit tables). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cs_bverify.h"
#include "ut_err.h"
#include "ut_plist.h"

void cs_bverify_keys_free(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

static int by_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int cs_bverify_entitlement_keys(const struct cs_audit_slice *a, char ***keys, size_t *n)
{
	*keys = NULL;
	*n = 0;
	if (!a->entitlements)
		return 0;
	plist_t d = NULL;
	int rc = ut_plist_parse(a->entitlements, a->entitlements_len, "entitlements", &d, NULL);
	if (rc)
		return rc;
	if (plist_get_node_type(d) != PLIST_DICT) {
		plist_free(d);
		return ut_fail(UT_EMALFORMED, "entitlements are not a dictionary");
	}
	uint32_t cnt = plist_dict_get_size(d);
	char **v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (!v) {
		plist_free(d);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	plist_dict_iter it = NULL;
	plist_dict_new_iter(d, &it);
	size_t k = 0;
	for (; it && k < cnt;) {
		char *key = NULL;
		plist_t val = NULL;
		plist_dict_next_item(d, it, &key, &val);
		if (!key)
			break;
		v[k++] = key; /* libplist allocates it with malloc */
	}
	free(it);
	plist_free(d);
	qsort(v, k, sizeof(*v), by_str);
	*keys = v;
	*n = k;
	return 0;
}
