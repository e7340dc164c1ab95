/* ut_profiles.c - loads and validates the profiles data files; entitlement and component lookups. */
#include "ut_profiles.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut_err.h"
#include "ut_file.h"
#include "ut_limits.h"

#define ENT_FILE "entitlements.plist"
#define COMP_FILE "utm-components.plist"
#define FORMAT_VERSION 1u
#define MAX_ENTRIES 4096 /* entries in entitlements.plist */
#define MAX_COMPONENTS 64
#define MAX_LIST 256     /* rpaths or required keys of one component */

struct ut_profiles {
	plist_t ent_root;  /* owned; every string below is borrowed from these two */
	plist_t comp_root;
	struct ut_ent_info *ents;
	size_t nents;
	struct ut_component *comps;
	size_t ncomps;
	const struct ut_component *loader;
};

static const struct {
	const char *name;
	enum ut_ent_class cls;
} CLASSES[] = {
	{ "adhoc-ok", UT_ENT_ADHOC_OK },
	{ "restricted", UT_ENT_RESTRICTED },
	{ "apple-only", UT_ENT_APPLE_ONLY },
};

static const struct {
	const char *name;
	enum ut_component_kind kind;
} KINDS[] = {
	{ "app", UT_COMP_APP },
	{ "xpc", UT_COMP_XPC },
	{ "tool", UT_COMP_TOOL },
	{ "framework", UT_COMP_FRAMEWORK },
};

const char *ut_ent_class_name(enum ut_ent_class c)
{
	for (size_t i = 0; i < sizeof(CLASSES) / sizeof(CLASSES[0]); i++)
		if (CLASSES[i].cls == c)
			return CLASSES[i].name;
	return "unknown";
}

/* ---- typed field access: each returns 0, or UT_EMALFORMED naming the field ---- */

static int field_str(plist_t dict, const char *key, int required, const char **out)
{
	plist_t v = plist_dict_get_item(dict, key);
	*out = NULL;
	if (!v)
		return required ? ut_fail(UT_EMALFORMED, "'%s' missing", key) : 0;
	const char *s = ut_plist_str(v);
	if (!s)
		return ut_fail(UT_EMALFORMED, "'%s' is not a string", key);
	if (!s[0] || strlen(s) > UT_MAX_PATH_STR)
		return ut_fail(UT_EMALFORMED, "'%s' is empty or longer than %d bytes", key, UT_MAX_PATH_STR);
	*out = s;
	return 0;
}

static int field_bool(plist_t dict, const char *key, int *out)
{
	plist_t v = plist_dict_get_item(dict, key);
	*out = 0;
	if (!v)
		return 0;
	if (plist_get_node_type(v) != PLIST_BOOLEAN)
		return ut_fail(UT_EMALFORMED, "'%s' is not a boolean", key);
	uint8_t b = 0;
	plist_get_bool_val(v, &b);
	*out = b != 0;
	return 0;
}

static int field_uint(plist_t dict, const char *key, uint64_t max, uint64_t *out)
{
	plist_t v = plist_dict_get_item(dict, key);
	*out = 0;
	if (!v)
		return ut_fail(UT_EMALFORMED, "'%s' missing", key);
	if (plist_get_node_type(v) != PLIST_UINT)
		return ut_fail(UT_EMALFORMED, "'%s' is not an integer", key);
	plist_get_uint_val(v, out);
	if (*out > max)
		return ut_fail(UT_EMALFORMED, "'%s' is %llu, above %llu", key, (unsigned long long)*out,
			       (unsigned long long)max);
	return 0;
}

static int field_node(plist_t dict, const char *key, plist_type type, int required, plist_t *out)
{
	plist_t v = plist_dict_get_item(dict, key);
	*out = NULL;
	if (!v)
		return required ? ut_fail(UT_EMALFORMED, "'%s' missing", key) : 0;
	if (plist_get_node_type(v) != type)
		return ut_fail(UT_EMALFORMED, "'%s' is not %s", key, type == PLIST_DICT ? "a dictionary" : "an array");
	*out = v;
	return 0;
}

static int check_version(plist_t root, const char *file)
{
	if (plist_get_node_type(root) != PLIST_DICT)
		return ut_fail(UT_EMALFORMED, "'%s': top level is not a dictionary", file);
	uint64_t v;
	if (field_uint(root, "FormatVersion", UINT32_MAX, &v))
		return ut_ctx(UT_EMALFORMED, "'%s'", file);
	if (v != FORMAT_VERSION)
		return ut_fail(UT_EUNSUPPORTED, "'%s': FormatVersion %llu unsupported (this build reads %u)", file,
			       (unsigned long long)v, FORMAT_VERSION);
	return 0;
}

/* ---- entitlements.plist ---- */

/* A key, or "prefix.*" with no other '*'. */
static int check_key_form(const char *key, int *is_pattern)
{
	size_t n = strlen(key);
	const char *star = strchr(key, '*');
	*is_pattern = star != NULL;
	if (!star)
		return 0;
	if (star != key + n - 1 || n < 3 || key[n - 2] != '.')
		return ut_fail(UT_EMALFORMED, "pattern '%s': '*' allowed only as a trailing '.*'", key);
	return 0;
}

static int parse_ent(plist_t d, struct ut_ent_info *e)
{
	const char *cls;
	if (plist_get_node_type(d) != PLIST_DICT)
		return ut_fail(UT_EMALFORMED, "not a dictionary");
	if (field_str(d, "Key", 1, &e->key) || field_str(d, "Class", 1, &cls) ||
	    field_str(d, "Purpose", 1, &e->purpose) || field_str(d, "Loss", 0, &e->loss) ||
	    field_str(d, "Caveat", 0, &e->caveat) || field_str(d, "Source", 0, &e->source))
		return UT_EMALFORMED;
	if (check_key_form(e->key, &e->is_pattern))
		return UT_EMALFORMED;
	e->cls = UT_ENT_UNKNOWN;
	for (size_t i = 0; i < sizeof(CLASSES) / sizeof(CLASSES[0]); i++)
		if (!strcmp(cls, CLASSES[i].name))
			e->cls = CLASSES[i].cls;
	if (e->cls == UT_ENT_UNKNOWN)
		return ut_fail(UT_EMALFORMED, "'%s': unknown class '%s'", e->key, cls);
	/* What a user loses is the point of a restricted entry. */
	if (e->cls != UT_ENT_ADHOC_OK && !e->loss)
		return ut_fail(UT_EMALFORMED, "'%s': %s entry without 'Loss'", e->key, cls);
	return 0;
}

static int load_ents(struct ut_profiles *p)
{
	plist_t arr;
	int rc = check_version(p->ent_root, ENT_FILE);
	if (rc)
		return rc;
	if (field_node(p->ent_root, "Entitlements", PLIST_ARRAY, 1, &arr))
		return ut_ctx(UT_EMALFORMED, "'%s'", ENT_FILE);
	uint32_t n = plist_array_get_size(arr);
	if (n == 0 || n > MAX_ENTRIES)
		return ut_fail(UT_EMALFORMED, "'%s': %u entries (want 1 to %d)", ENT_FILE, n, MAX_ENTRIES);
	p->ents = calloc(n, sizeof(*p->ents));
	if (!p->ents)
		return ut_fail(UT_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		struct ut_ent_info *e = &p->ents[i];
		if (parse_ent(plist_array_get_item(arr, i), e))
			return ut_ctx(UT_EMALFORMED, "'%s': entry %u", ENT_FILE, i);
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(p->ents[j].key, e->key))
				return ut_fail(UT_EMALFORMED, "'%s': duplicate key '%s' (entries %u and %u)", ENT_FILE,
					       e->key, j, i);
		p->nents++;
	}
	return 0;
}

enum ut_ent_class ut_profiles_classify(const struct ut_profiles *p, const char *key, const struct ut_ent_info **info)
{
	const struct ut_ent_info *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; key && i < p->nents; i++) {
		const struct ut_ent_info *e = &p->ents[i];
		if (!e->is_pattern) {
			if (!strcmp(e->key, key)) {
				best = e;
				break;
			}
			continue;
		}
		size_t plen = strlen(e->key) - 1; /* "prefix." */
		if (strlen(key) > plen && !strncmp(key, e->key, plen) && plen > best_len) {
			best = e;
			best_len = plen;
		}
	}
	if (info)
		*info = best;
	return best ? best->cls : UT_ENT_UNKNOWN;
}

/* ---- utm-components.plist ---- */

/* A relative path without ".." components or an absolute start. */
static int check_rel_path(const char *key, const char *s)
{
	if (s[0] == '/')
		return ut_fail(UT_EMALFORMED, "'%s' '%s' is absolute", key, s);
	for (const char *c = s; (c = strstr(c, "..")); c += 2)
		if ((c == s || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
			return ut_fail(UT_EMALFORMED, "'%s' '%s' leaves the bundle", key, s);
	return 0;
}

static int parse_strings(plist_t d, const char *key, const char *const **out, size_t *n)
{
	plist_t arr;
	*out = NULL;
	*n = 0;
	if (field_node(d, key, PLIST_ARRAY, 0, &arr))
		return UT_EMALFORMED;
	uint32_t m = arr ? plist_array_get_size(arr) : 0;
	if (m > MAX_LIST)
		return ut_fail(UT_EMALFORMED, "'%s': more than %d entries", key, MAX_LIST);
	if (m == 0)
		return 0;
	const char **v = calloc(m, sizeof(*v));
	if (!v)
		return ut_fail(UT_ENOMEM, "out of memory");
	*out = v;
	for (uint32_t i = 0; i < m; i++) {
		v[i] = ut_plist_str(plist_array_get_item(arr, i));
		if (!v[i] || !v[i][0])
			return ut_fail(UT_EMALFORMED, "'%s' entry %u is not a non-empty string", key, i);
		(*n)++;
	}
	return 0;
}

static int parse_required(const struct ut_profiles *p, plist_t d, struct ut_component *c)
{
	plist_t arr;
	if (field_node(d, "Required", PLIST_ARRAY, 0, &arr))
		return UT_EMALFORMED;
	uint32_t m = arr ? plist_array_get_size(arr) : 0;
	if (m > MAX_LIST)
		return ut_fail(UT_EMALFORMED, "'Required': more than %d entries", MAX_LIST);
	if (m == 0)
		return 0;
	struct ut_required *r = calloc(m, sizeof(*r));
	if (!r)
		return ut_fail(UT_ENOMEM, "out of memory");
	c->required = r;
	for (uint32_t i = 0; i < m; i++) {
		plist_t e = plist_array_get_item(arr, i);
		if (plist_get_node_type(e) != PLIST_DICT)
			return ut_fail(UT_EMALFORMED, "'Required' entry %u is not a dictionary", i);
		if (field_str(e, "Key", 1, &r[i].key) || field_str(e, "Why", 1, &r[i].why))
			return ut_ctx(UT_EMALFORMED, "'Required' entry %u", i);
		/* Required keys are added to ad-hoc signatures, so they must be allowed there. */
		enum ut_ent_class cls = ut_profiles_classify(p, r[i].key, NULL);
		if (cls != UT_ENT_ADHOC_OK)
			return ut_fail(UT_EMALFORMED, "required key '%s' is %s, not adhoc-ok", r[i].key,
				       ut_ent_class_name(cls));
		c->nrequired++;
	}
	return 0;
}

static int parse_component(const struct ut_profiles *p, plist_t d, struct ut_component *c)
{
	const char *kind;
	uint64_t order;
	if (plist_get_node_type(d) != PLIST_DICT)
		return ut_fail(UT_EMALFORMED, "not a dictionary");
	if (field_str(d, "Name", 1, &c->name))
		return UT_EMALFORMED;
	if (field_str(d, "Kind", 1, &kind) || field_bool(d, "Class", &c->is_class) ||
	    field_str(d, "Bundle", 0, &c->bundle) || field_str(d, "Executable", 1, &c->executable) ||
	    field_str(d, "BundleIdentifier", 1, &c->bundle_id) || field_str(d, "SignedPath", 0, &c->signed_path) ||
	    field_uint(d, "SignOrder", MAX_COMPONENTS, &order) ||
	    field_bool(d, "HardenedRuntime", &c->hardened_runtime) ||
	    field_bool(d, "EmbeddedProvisioningProfile", &c->embedded_profile) ||
	    field_bool(d, "LoadsQEMU", &c->loads_qemu) || field_str(d, "Note", 0, &c->note) ||
	    field_node(d, "ReleaseEntitlements", PLIST_DICT, 1, &c->release_ents) ||
	    field_node(d, "UnsignedEntitlements", PLIST_DICT, 1, &c->unsigned_ents) ||
	    parse_strings(d, "Rpaths", &c->rpaths, &c->nrpaths) || parse_required(p, d, c))
		return ut_ctx(UT_EMALFORMED, "'%s'", c->name);
	for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++)
		if (!strcmp(kind, KINDS[i].name))
			c->kind = KINDS[i].kind;
	if (!c->kind)
		return ut_fail(UT_EMALFORMED, "'%s': unknown kind '%s'", c->name, kind);
	if (order == 0)
		return ut_fail(UT_EMALFORMED, "'%s': 'SignOrder' 0 (first is 1)", c->name);
	c->sign_order = (int)order;
	if (!c->bundle && c->kind != UT_COMP_TOOL)
		return ut_fail(UT_EMALFORMED, "'%s': 'Bundle' missing", c->name);
	if ((c->bundle && check_rel_path("Bundle", c->bundle)) || check_rel_path("Executable", c->executable))
		return ut_ctx(UT_EMALFORMED, "'%s'", c->name);
	int starred = strchr(c->executable, '*') || (c->bundle && strchr(c->bundle, '*')) || strchr(c->bundle_id, '*');
	if (starred != c->is_class)
		return ut_fail(UT_EMALFORMED, "'%s': %s", c->name,
			       c->is_class ? "a class without '*' patterns" : "'*' in a component that is not a class");
	return 0;
}

static int check_components(struct ut_profiles *p)
{
	const char *loader;
	if (field_str(p->comp_root, "QEMULoader", 1, &loader))
		return ut_ctx(UT_EMALFORMED, "'%s'", COMP_FILE);
	for (size_t i = 0; i < p->ncomps; i++) {
		const struct ut_component *c = &p->comps[i];
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(c->name, p->comps[j].name) || !strcmp(c->bundle_id, p->comps[j].bundle_id))
				return ut_fail(UT_EMALFORMED, "'%s': components %zu and %zu have the same name or bundle id",
					       COMP_FILE, j, i);
			if (c->sign_order == p->comps[j].sign_order)
				return ut_fail(UT_EMALFORMED, "'%s': '%s' and '%s' have the same SignOrder %d", COMP_FILE,
					       p->comps[j].name, c->name, c->sign_order);
		}
		if (c->loads_qemu && p->loader)
			return ut_fail(UT_EMALFORMED, "'%s': more than one component loads QEMU", COMP_FILE);
		if (c->loads_qemu)
			p->loader = c;
	}
	if (!p->loader || strcmp(p->loader->name, loader) != 0)
		return ut_fail(UT_EMALFORMED, "'%s': QEMULoader '%s' is not the component with LoadsQEMU", COMP_FILE,
			       loader);
	return 0;
}

static int load_components(struct ut_profiles *p)
{
	plist_t arr;
	int rc = check_version(p->comp_root, COMP_FILE);
	if (rc)
		return rc;
	if (field_node(p->comp_root, "Components", PLIST_ARRAY, 1, &arr))
		return ut_ctx(UT_EMALFORMED, "'%s'", COMP_FILE);
	uint32_t n = plist_array_get_size(arr);
	if (n == 0 || n > MAX_COMPONENTS)
		return ut_fail(UT_EMALFORMED, "'%s': %u components (want 1 to %d)", COMP_FILE, n, MAX_COMPONENTS);
	p->comps = calloc(n, sizeof(*p->comps));
	if (!p->comps)
		return ut_fail(UT_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		p->ncomps++; /* counted first, so that free releases a half-parsed entry */
		if (parse_component(p, plist_array_get_item(arr, i), &p->comps[i]))
			return ut_ctx(UT_EMALFORMED, "'%s': component %u", COMP_FILE, i);
	}
	return check_components(p);
}

void ut_profiles_free(struct ut_profiles *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ncomps; i++) {
		free((void *)p->comps[i].rpaths);
		free((void *)p->comps[i].required);
	}
	free(p->comps);
	free(p->ents);
	plist_free(p->ent_root);
	plist_free(p->comp_root);
	free(p);
}

int ut_profiles_load_mem(struct ut_profiles **out, const void *ent, size_t ent_len, const void *comp,
			 size_t comp_len)
{
	*out = NULL;
	struct ut_profiles *p = calloc(1, sizeof(*p));
	if (!p)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = ut_plist_parse(ent, ent_len, ENT_FILE, &p->ent_root, NULL);
	if (!rc)
		rc = ut_plist_parse(comp, comp_len, COMP_FILE, &p->comp_root, NULL);
	if (!rc)
		rc = load_ents(p);
	if (!rc)
		rc = load_components(p);
	if (rc) {
		ut_profiles_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int ut_profiles_load(struct ut_profiles **out, const char *dir)
{
	char path[2][UT_MAX_PATH_STR + 64];
	uint8_t *data[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 };
	*out = NULL;
	if (strlen(dir) > UT_MAX_PATH_STR)
		return ut_fail(UT_EINVAL, "profiles directory name too long");
	snprintf(path[0], sizeof(path[0]), "%s/%s", dir, ENT_FILE);
	snprintf(path[1], sizeof(path[1]), "%s/%s", dir, COMP_FILE);
	int rc = 0;
	for (int i = 0; i < 2 && !rc; i++)
		rc = ut_file_read(path[i], UT_MAX_PLIST_SIZE, &data[i], &len[i]);
	if (!rc) {
		rc = ut_profiles_load_mem(out, data[0], len[0], data[1], len[1]);
		if (rc)
			ut_ctx(rc, "'%s'", dir);
	}
	free(data[0]);
	free(data[1]);
	return rc;
}

/* ---- component lookups ---- */

/*
 * Matches s against pattern, where each '*' stands for one non-empty run
 * without '/', and every '*' of the pattern for the same run (a framework
 * name).  *cap / *caplen hold the first capture.
 */
static int glob_same(const char *pat, const char *s, const char **cap, size_t *caplen)
{
	for (; *pat; pat++, s++) {
		if (*pat == '*') {
			for (size_t n = 1; s[n - 1] && s[n - 1] != '/'; n++) {
				if (*cap && (n != *caplen || strncmp(s, *cap, n) != 0))
					continue;
				const char *save = *cap;
				size_t save_len = *caplen;
				*cap = s;
				*caplen = n;
				if (glob_same(pat + 1, s + n, cap, caplen))
					return 1;
				*cap = save;
				*caplen = save_len;
			}
			return 0;
		}
		if (*pat != *s)
			return 0;
	}
	return *s == '\0';
}

static int path_is(const char *pattern, const char *path)
{
	const char *cap = NULL;
	size_t caplen = 0;
	return pattern && glob_same(pattern, path, &cap, &caplen);
}

const struct ut_component *ut_profiles_component_by_path(const struct ut_profiles *p, const char *relpath)
{
	char norm[UT_MAX_PATH_STR + 1];
	while (relpath[0] == '.' && relpath[1] == '/')
		relpath += 2;
	size_t n = strlen(relpath);
	while (n > 0 && relpath[n - 1] == '/')
		n--;
	if (n > UT_MAX_PATH_STR)
		return NULL;
	if (n == 0)
		relpath = ".", n = 1;
	memcpy(norm, relpath, n);
	norm[n] = '\0';
	/* Exact components first: a class pattern must not shadow them. */
	for (int cls = 0; cls < 2; cls++)
		for (size_t i = 0; i < p->ncomps; i++) {
			const struct ut_component *c = &p->comps[i];
			if (c->is_class == cls && (path_is(c->bundle, norm) || path_is(c->executable, norm)))
				return c;
		}
	return NULL;
}

const struct ut_component *ut_profiles_component_by_id(const struct ut_profiles *p, const char *bundle_id)
{
	for (int cls = 0; cls < 2; cls++)
		for (size_t i = 0; i < p->ncomps; i++) {
			const struct ut_component *c = &p->comps[i];
			if (c->is_class != cls)
				continue;
			if (!cls && !strcmp(c->bundle_id, bundle_id))
				return c;
			/* A bundle id may hold dots, never '/': one '*' covers the rest. */
			if (cls && path_is(c->bundle_id, bundle_id))
				return c;
		}
	return NULL;
}

const struct ut_component *ut_profiles_qemu_loader(const struct ut_profiles *p)
{
	return p->loader;
}

size_t ut_profiles_ncomponents(const struct ut_profiles *p)
{
	return p->ncomps;
}

const struct ut_component *ut_profiles_component(const struct ut_profiles *p, size_t i)
{
	return i < p->ncomps ? &p->comps[i] : NULL;
}
