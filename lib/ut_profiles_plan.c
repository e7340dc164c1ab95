/*
 * ut_profiles_plan.c - the entitlement plan for re-signing one UTM component:
 * which of its entitlements the new signature keeps, which it must drop (and
 * what the user loses), which it must add.  Pure: inputs in, plan out.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdlib.h>
#include <string.h>

#include "ut_err.h"
#include "ut_limits.h"
#include "ut_profiles.h"

#define MAX_KEYS 4096 /* entitlements in one signature */

static const char WHY_ADHOC_OK[] = "any signature may carry it";
static const char WHY_GRANTED[] = "granted by the provisioning profile";
static const char WHY_UNKNOWN[] = "unknown key: kept as it is (not in profiles/entitlements.plist)";
static const char WHY_DROP_ADHOC[] =
	"restricted: an ad-hoc signature cannot carry it (macOS refuses to launch the process)";
static const char WHY_DROP_NO_PROFILE[] =
	"restricted: needs a provisioning profile that grants it, and the new signature has none";
static const char WHY_DROP_NOT_GRANTED[] = "restricted: the provisioning profile does not grant it";
static const char WHY_DROP_APPLE[] = "Apple-only: no provisioning profile grants it";
static const char WHY_ADD_DLV[] = "ad-hoc framework in a library-validating process: without it dyld refuses "
				  "frameworks that have no Team ID or another team's";
static const char WHY_ADD_REQUIRED[] = "required for UTM to work";

/* A key the plan must leave set to true (need_dlv, required keys). */
struct forced {
	const char *key;
	const char *why;
	const char *detail;
};

struct builder {
	struct ut_ent_plan *plan;
	size_t cap;
};

static int push(struct builder *b, const char *key, enum ut_plan_action action, enum ut_ent_class cls,
		const char *why, const char *loss, const char *detail)
{
	struct ut_ent_plan *plan = b->plan;
	if (plan->nitems == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct ut_ent_plan_item *items = realloc(plan->items, cap * sizeof(*items));
		if (!items)
			return ut_fail(UT_ENOMEM, "out of memory");
		plan->items = items;
		b->cap = cap;
	}
	char *k = strdup(key);
	if (!k)
		return ut_fail(UT_ENOMEM, "out of memory");
	plan->items[plan->nitems++] = (struct ut_ent_plan_item){ k, action, cls, why, loss, detail };
	if (action == UT_PLAN_KEEP)
		plan->nkept++;
	else if (action == UT_PLAN_DROP)
		plan->ndropped++;
	else
		plan->nadded++;
	return 0;
}

static int granted_by(plist_t granted, const char *key)
{
	if (!granted || plist_get_node_type(granted) != PLIST_DICT)
		return 0;
	plist_t v = plist_dict_get_item(granted, key);
	if (!v)
		return 0;
	if (plist_get_node_type(v) == PLIST_BOOLEAN) {
		uint8_t b = 0;
		plist_get_bool_val(v, &b);
		return b != 0;
	}
	return 1;
}

static const struct forced *find_forced(const struct forced *f, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].key, key))
			return &f[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The keys of dict, sorted (each malloc'd; caller frees keys and array). */
static int sorted_keys(plist_t dict, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	uint32_t m = dict ? plist_dict_get_size(dict) : 0;
	if (m > MAX_KEYS)
		return ut_fail(UT_EUNSUPPORTED, "entitlements: %u keys, more than %d", m, MAX_KEYS);
	if (m == 0)
		return 0;
	char **keys = calloc(m, sizeof(*keys));
	if (!keys)
		return ut_fail(UT_ENOMEM, "out of memory");
	plist_dict_iter it = NULL;
	plist_dict_new_iter(dict, &it);
	for (uint32_t i = 0; i < m; i++) {
		char *k = NULL;
		plist_t v = NULL;
		plist_dict_next_item(dict, it, &k, &v);
		if (!k)
			break;
		keys[(*n)++] = k;
	}
	free(it);
	qsort(keys, *n, sizeof(*keys), cmp_str);
	*out = keys;
	return 0;
}

static int set_true(plist_t dict, const char *key)
{
	plist_t t = plist_new_bool(1);
	if (!t)
		return ut_fail(UT_ENOMEM, "out of memory");
	plist_dict_set_item(dict, key, t);
	return 0;
}

/* The decision for one current key; adds it to the plan and, when kept, to result. */
static int decide(const struct ut_profiles *p, const struct ut_ent_plan_in *in, struct builder *b,
		  const struct forced *forced, size_t nforced, const char *key)
{
	plist_t value = plist_dict_get_item(in->current, key);
	const struct ut_ent_info *info = NULL;
	enum ut_ent_class cls = ut_profiles_classify(p, key, &info);
	const struct forced *f = find_forced(forced, nforced, key);
	if (f) {
		/* Kept when already true, else replaced by true. */
		int rc = ut_plist_dict_true(in->current, key)
				 ? push(b, key, UT_PLAN_KEEP, cls, WHY_ADHOC_OK, NULL, info ? info->caveat : NULL)
				 : push(b, key, UT_PLAN_ADD, cls, f->why, NULL, f->detail);
		return rc ? rc : set_true(b->plan->result, key);
	}
	const char *why = NULL;
	switch (cls) {
	case UT_ENT_ADHOC_OK:
		why = WHY_ADHOC_OK;
		break;
	case UT_ENT_UNKNOWN:
		why = WHY_UNKNOWN;
		b->plan->nunknown++;
		break;
	case UT_ENT_RESTRICTED:
		if (in->sign == UT_SIGN_IDENTITY && granted_by(in->granted, key))
			why = WHY_GRANTED;
		else
			return push(b, key, UT_PLAN_DROP, cls,
				    in->sign == UT_SIGN_ADHOC ? WHY_DROP_ADHOC
				    : in->granted	      ? WHY_DROP_NOT_GRANTED
							      : WHY_DROP_NO_PROFILE,
				    info->loss, NULL);
		break;
	case UT_ENT_APPLE_ONLY:
		return push(b, key, UT_PLAN_DROP, cls, WHY_DROP_APPLE, info->loss, NULL);
	}
	plist_t copy = plist_copy(value);
	if (!copy)
		return ut_fail(UT_ENOMEM, "out of memory");
	plist_dict_set_item(b->plan->result, key, copy);
	return push(b, key, UT_PLAN_KEEP, cls, why, NULL, info ? info->caveat : NULL);
}

static int compute(const struct ut_profiles *p, const struct ut_ent_plan_in *in, struct builder *b,
		   const struct forced *forced, size_t nforced)
{
	char **keys = NULL;
	size_t nkeys = 0;
	int rc = sorted_keys(in->current, &keys, &nkeys);
	for (size_t i = 0; !rc && i < nkeys; i++)
		rc = decide(p, in, b, forced, nforced, keys[i]);
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	/* Forced keys the component does not have yet. */
	for (size_t i = 0; !rc && i < nforced; i++) {
		if (in->current && plist_dict_get_item(in->current, forced[i].key))
			continue;
		enum ut_ent_class cls = ut_profiles_classify(p, forced[i].key, NULL);
		rc = push(b, forced[i].key, UT_PLAN_ADD, cls, forced[i].why, NULL, forced[i].detail);
		if (!rc)
			rc = set_true(b->plan->result, forced[i].key);
	}
	return rc;
}

int ut_ent_plan_compute(const struct ut_profiles *p, const struct ut_ent_plan_in *in, struct ut_ent_plan *out)
{
	memset(out, 0, sizeof(*out));
	if (in->current && plist_get_node_type(in->current) != PLIST_DICT)
		return ut_fail(UT_EINVAL, "entitlements: not a dictionary");
	if (in->sign != UT_SIGN_ADHOC && in->sign != UT_SIGN_IDENTITY)
		return ut_fail(UT_EINVAL, "entitlement plan: unknown signature kind %d", (int)in->sign);
	if (in->granted && plist_get_node_type(in->granted) != PLIST_DICT)
		return ut_fail(UT_EINVAL, "provisioning profile entitlements: not a dictionary");

	const struct ut_component *c = in->component;
	size_t nforced = 0, max = 1 + (c ? c->nrequired : 0);
	struct forced *forced = calloc(max, sizeof(*forced));
	if (!forced)
		return ut_fail(UT_ENOMEM, "out of memory");
	if (in->need_dlv)
		forced[nforced++] = (struct forced){ UT_ENT_DISABLE_LV, WHY_ADD_DLV, NULL };
	for (size_t i = 0; c && i < c->nrequired; i++)
		if (!find_forced(forced, nforced, c->required[i].key))
			forced[nforced++] = (struct forced){ c->required[i].key, WHY_ADD_REQUIRED, c->required[i].why };

	out->result = plist_new_dict();
	struct builder b = { out, 0 };
	int rc = out->result ? compute(p, in, &b, forced, nforced) : ut_fail(UT_ENOMEM, "out of memory");
	free(forced);
	if (rc)
		ut_ent_plan_release(out);
	return rc;
}

void ut_ent_plan_release(struct ut_ent_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->nitems; i++)
		free(plan->items[i].key);
	free(plan->items);
	plist_free(plan->result);
	memset(plan, 0, sizeof(*plan));
}

const struct ut_ent_plan_item *ut_ent_plan_find(const struct ut_ent_plan *plan, const char *key)
{
	for (size_t i = 0; i < plan->nitems; i++)
		if (!strcmp(plan->items[i].key, key))
			return &plan->items[i];
	return NULL;
}
