/* ut_install_ents.c - each component's entitlements against UTM's profile. */
#define _POSIX_C_SOURCE 200809L
#include "ut_install_ents.h"

#include <stdlib.h>
#include <string.h>

#include "ut_install_util.h"


void ut_ents_report_release(struct ut_ents_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		for (size_t k = 0; k < r->v[i].nkeys; k++)
			free(r->v[i].keys[k].key);
		free(r->v[i].keys);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static struct ut_ents_key *key_get(struct ut_ents_comp *c, const char *key, const struct ut_profiles *p)
{
	for (size_t i = 0; i < c->nkeys; i++)
		if (strcmp(c->keys[i].key, key) == 0)
			return &c->keys[i];
	struct ut_ents_key *k = ui_vec_push((void **)&c->keys, &c->nkeys, &c->cap, sizeof(*k));
	if (!k || !(k->key = ui_strdup(key))) {
		if (k)
			c->nkeys--;
		return NULL;
	}
	const struct ut_ent_info *info = NULL;
	k->cls = ut_profiles_classify(p, key, &info);
	k->loss = info ? info->loss : NULL;
	return k;
}

/* Calls fn for every key of dict. */
static int each_key(plist_t dict, int (*fn)(void *ctx, const char *key, plist_t v), void *ctx)
{
	if (!dict || plist_get_node_type(dict) != PLIST_DICT)
		return 0;
	plist_dict_iter it = NULL;
	plist_dict_new_iter(dict, &it);
	int rc = 0;
	while (!rc) {
		char *key = NULL;
		plist_t v = NULL;
		plist_dict_next_item(dict, it, &key, &v);
		if (!key)
			break;
		rc = fn(ctx, key, v);
		free(key);
	}
	free(it);
	return rc;
}

struct walk {
	struct ut_ents_comp *c;
	const struct ut_profiles *p;
	int which; /* 0 now, 1 release, 2 unsigned */
};

static int is_on(plist_t v)
{
	if (plist_get_node_type(v) != PLIST_BOOLEAN)
		return 1;
	uint8_t b = 0;
	plist_get_bool_val(v, &b);
	return b != 0;
}

static int mark(void *ctx, const char *key, plist_t v)
{
	struct walk *w = ctx;
	if (w->which == 0 && !is_on(v))
		return 0;
	struct ut_ents_key *k = key_get(w->c, key, w->p);
	if (!k)
		return UT_ENOMEM;
	if (w->which == 0)
		k->now = 1;
	else if (w->which == 1)
		k->release = 1;
	else
		k->unsigned_set = 1;
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	const struct ut_ents_key *x = a, *y = b;
	if (x->now != y->now)
		return y->now - x->now;
	return strcmp(x->key, y->key);
}

/* A framework loaded into component i's process that library validation refuses for its team. */
static int framework_refused(const struct ut_utmapp *a, size_t i, const char **which)
{
	unsigned char *mask = calloc(a->n ? a->n : 1, 1);
	if (!mask)
		return 0;
	ut_utmapp_loads(a, i, -1, mask);
	const char *team = a->v[i].sig.team_id;
	int hit = 0;
	for (size_t k = a->first_framework; !hit && k < a->n; k++) {
		const char *t = a->v[k].sig.team_id;
		if (mask[k] && !a->v[k].error && (!t[0] || !team[0] || strcmp(t, team) != 0)) {
			*which = a->v[k].name;
			hit = 1;
		}
	}
	free(mask);
	return hit;
}

static int build_comp(struct ut_ents_report *out, const struct ut_utmapp *a, const struct ut_profiles *p, size_t i)
{
	const struct ut_utmapp_comp *x = &a->v[i];
	struct ut_ents_comp *c = ui_vec_push((void **)&out->v, &out->n, &out->cap, sizeof(*c));
	if (!c)
		return UT_ENOMEM;
	c->comp = i;
	struct walk w = { c, p, 0 };
	int rc = each_key(x->sig.ents, mark, &w);
	w.which = 1;
	if (!rc && x->prof)
		rc = each_key(x->prof->release_ents, mark, &w);
	w.which = 2;
	if (!rc && x->prof)
		rc = each_key(x->prof->unsigned_ents, mark, &w);
	for (size_t k = 0; !rc && x->prof && k < x->prof->nrequired; k++) {
		struct ut_ents_key *e = key_get(c, x->prof->required[k].key, p);
		if (!e)
			return UT_ENOMEM;
		e->required_why = x->prof->required[k].why;
		if (!e->now)
			c->nmissing_required++;
	}
	c->lv = ut_sig_library_validation(&x->sig);
	if (c->lv)
		c->lv_refuses = framework_refused(a, i, &c->lv_framework);
	if (!rc && c->lv_refuses && !key_get(c, UT_ENT_DISABLE_LV, p))
		rc = UT_ENOMEM;
	c->needs_restore = c->nmissing_required > 0 || c->lv_refuses;
	if (!rc && c->nkeys)
		qsort(c->keys, c->nkeys, sizeof(*c->keys), cmp_key);
	return rc;
}

int ut_ents_report_build(struct ut_ents_report *out, const struct ut_utmapp *a, const struct ut_profiles *p)
{
	memset(out, 0, sizeof(*out));
	int rc = 0;
	for (size_t i = 0; !rc && i < a->first_framework; i++)
		rc = build_comp(out, a, p, i);
	if (rc)
		ut_ents_report_release(out);
	return rc;
}
