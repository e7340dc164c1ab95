/* cs_seal_rules.c - CodeResources rules: defaults, plist form, matching, weak-rule check. */
#define _POSIX_C_SOURCE 200809L
#include "cs_seal_rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut_err.h"

void cs_rules_init(struct cs_rules *r) { memset(r, 0, sizeof(*r)); }

void cs_rules_release(struct cs_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].pattern);
		regfree(&r->v[i].re);
		if (r->v[i].src)
			plist_free(r->v[i].src);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static int rules_push(struct cs_rules *r, const char *pattern, double weight, uint32_t flags, plist_t src)
{
	if (r->n >= CS_RULES_MAX)
		return ut_fail(UT_EUNSUPPORTED, "more than %d resource rules", CS_RULES_MAX);
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct cs_rule *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return ut_fail(UT_ENOMEM, "out of memory");
		r->v = v;
		r->cap = cap;
	}
	struct cs_rule *x = &r->v[r->n];
	memset(x, 0, sizeof(*x));
	int e = regcomp(&x->re, pattern, REG_EXTENDED | REG_NOSUB);
	if (e != 0) {
		char msg[128];
		regerror(e, &x->re, msg, sizeof(msg));
		return ut_fail(UT_EMALFORMED, "resource rule '%s': bad regular expression (%s)", pattern, msg);
	}
	if (!(x->pattern = strdup(pattern))) {
		regfree(&x->re);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	x->weight = weight;
	x->flags = flags;
	x->src = src;
	r->n++;
	return 0;
}

int cs_rules_add(struct cs_rules *r, const char *pattern, double weight, uint32_t flags)
{
	return rules_push(r, pattern, weight, flags, NULL);
}

int cs_rules_copy(struct cs_rules *dst, const struct cs_rules *src)
{
	for (size_t i = 0; i < src->n; i++) {
		const struct cs_rule *x = &src->v[i];
		plist_t copy = x->src ? plist_copy(x->src) : NULL;
		if (x->src && !copy)
			return ut_fail(UT_ENOMEM, "out of memory");
		int rc = rules_push(dst, x->pattern, x->weight, x->flags, copy);
		if (rc) {
			if (copy)
				plist_free(copy);
			return rc;
		}
	}
	return 0;
}

struct rule_def {
	const char *pattern; /* "%s" stands for the resources prefix */
	double weight;
	uint32_t flags;
};

/* SEC bundlediskrep.cpp defaultResourceRules; codesign-spec.md §3.3. */
static const struct rule_def v1_rules[] = {
	{ "^version.plist$", 1, 0 },
	{ "^%s", 1, 0 },
	{ "^%s.*\\.lproj/", 1000, CS_RULE_OPTIONAL },
	{ "^%sBase\\.lproj/", 1010, 0 },
	{ "^%s.*\\.lproj/locversion.plist$", 1100, CS_RULE_OMITTED },
};

static const struct rule_def v1_flat_rules[] = {
	{ "^version.plist$", 1, 0 },
	{ "^.*", 1, 0 },
	{ "^.*\\.lproj/", 1000, CS_RULE_OPTIONAL },
	{ "^Base\\.lproj/", 1010, 0 },
	{ "^.*\\.lproj/locversion.plist$", 1100, CS_RULE_OMITTED },
};

static const struct rule_def v2_rules[] = {
	{ "^.*", 1, 0 },
	{ "^[^/]+$", 10, CS_RULE_NESTED },
	{ "^(Frameworks|SharedFrameworks|PlugIns|Plug-ins|XPCServices|Helpers|MacOS|Library/(Automator|Spotlight|LoginItems))/",
	  10, CS_RULE_NESTED },
	{ ".*\\.dSYM($|/)", 11, 0 },
	{ "^(.*/)?\\.DS_Store$", 2000, CS_RULE_OMITTED },
	{ "^Info\\.plist$", 20, CS_RULE_OMITTED },
	{ "^version\\.plist$", 20, 0 },
	{ "^embedded\\.provisionprofile$", 20, 0 },
	{ "^PkgInfo$", 20, CS_RULE_OMITTED },
	{ "^%s", 20, 0 },
	{ "^%s.*\\.lproj/", 1000, CS_RULE_OPTIONAL },
	{ "^%sBase\\.lproj/", 1010, 0 },
	{ "^%s.*\\.lproj/locversion.plist$", 1100, CS_RULE_OMITTED },
};

static const struct rule_def v2_flat_rules[] = {
	{ "^.*", 1, 0 },
	{ ".*\\.dSYM($|/)", 11, 0 },
	{ "^(.*/)?\\.DS_Store$", 2000, CS_RULE_OMITTED },
	{ "^Info\\.plist$", 20, CS_RULE_OMITTED },
	{ "^version\\.plist$", 20, 0 },
	{ "^embedded\\.provisionprofile$", 20, 0 },
	{ "^PkgInfo$", 20, CS_RULE_OMITTED },
	{ "^.*\\.lproj/", 1000, CS_RULE_OPTIONAL },
	{ "^Base\\.lproj/", 1010, 0 },
	{ "^.*\\.lproj/locversion.plist$", 1100, CS_RULE_OMITTED },
};

static int add_defs(struct cs_rules *r, const struct rule_def *d, size_t n, const char *resources)
{
	for (size_t i = 0; i < n; i++) {
		char pat[256];
		const char *s = strstr(d[i].pattern, "%s");
		if (s)
			snprintf(pat, sizeof(pat), "%.*s%s%s", (int)(s - d[i].pattern), d[i].pattern, resources, s + 2);
		else
			snprintf(pat, sizeof(pat), "%s", d[i].pattern);
		int rc = cs_rules_add(r, pat, d[i].weight, d[i].flags);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_resources(const char *resources)
{
	if (!resources || (strcmp(resources, "Resources/") != 0 && resources[0] != '\0'))
		return ut_fail(UT_EINVAL, "resources directory '%s' is neither \"Resources/\" nor \"\"",
			       resources ? resources : "(null)");
	return 0;
}

int cs_rules_default_v1(struct cs_rules *r, const char *resources)
{
	int rc = check_resources(resources);
	if (rc)
		return rc;
	if (!resources[0])
		return add_defs(r, v1_flat_rules, sizeof(v1_flat_rules) / sizeof(v1_flat_rules[0]), "");
	return add_defs(r, v1_rules, sizeof(v1_rules) / sizeof(v1_rules[0]), resources);
}

int cs_rules_default_v2(struct cs_rules *r, const char *resources)
{
	int rc = check_resources(resources);
	if (rc)
		return rc;
	if (!resources[0])
		return add_defs(r, v2_flat_rules, sizeof(v2_flat_rules) / sizeof(v2_flat_rules[0]), "");
	return add_defs(r, v2_rules, sizeof(v2_rules) / sizeof(v2_rules[0]), resources);
}

int cs_rules_escape(const char *s, char *out, size_t n)
{
	size_t o = 0;
	for (; *s; s++) {
		if (strchr("\\[]{}().*+?^$|", *s)) {
			if (o + 1 >= n)
				break;
			out[o++] = '\\';
		}
		if (o + 1 >= n)
			break;
		out[o++] = *s;
	}
	if (*s || n == 0)
		return ut_fail(UT_EINVAL, "path too long for a resource rule");
	out[o] = '\0';
	return 0;
}

int cs_rules_add_exclusions(struct cs_rules *r, const char *main_exec)
{
	static const char *const fixed[] = { "^_CodeSignature$", "^CodeResources$", "^_MASReceipt$" };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		int rc = cs_rules_add(r, fixed[i], 0, CS_RULE_EXCLUSION);
		if (rc)
			return rc;
	}
	if (!main_exec)
		return 0;
	size_t n = strlen(main_exec) * 2 + 3;
	char *pat = malloc(n);
	if (!pat)
		return ut_fail(UT_ENOMEM, "out of memory");
	pat[0] = '^';
	int rc = cs_rules_escape(main_exec, pat + 1, n - 2);
	if (!rc) {
		strcat(pat, "$");
		rc = cs_rules_add(r, pat, 0, CS_RULE_EXCLUSION | CS_RULE_SOFT_TARGET);
	}
	free(pat);
	return rc;
}

static int read_flag(plist_t dict, const char *key, uint32_t bit, uint32_t *flags, const char *what,
		     const char *pattern)
{
	plist_t v = plist_dict_get_item(dict, key);
	if (!v)
		return 0;
	if (plist_get_node_type(v) != PLIST_BOOLEAN)
		return ut_fail(UT_EMALFORMED, "%s rule '%s': '%s' is not a boolean", what, pattern, key);
	uint8_t b = 0;
	plist_get_bool_val(v, &b);
	if (b)
		*flags |= bit;
	return 0;
}

static int rule_from_value(plist_t v, const char *what, const char *pattern, double *weight, uint32_t *flags)
{
	*weight = 1;
	*flags = 0;
	if (plist_get_node_type(v) == PLIST_BOOLEAN) {
		uint8_t b = 0;
		plist_get_bool_val(v, &b);
		if (!b)
			*flags = CS_RULE_OMITTED;
		return 0;
	}
	if (plist_get_node_type(v) != PLIST_DICT)
		return ut_fail(UT_EMALFORMED, "%s rule '%s': value is neither a boolean nor a dictionary", what, pattern);
	int rc;
	if ((rc = read_flag(v, "optional", CS_RULE_OPTIONAL, flags, what, pattern)) ||
	    (rc = read_flag(v, "omit", CS_RULE_OMITTED, flags, what, pattern)) ||
	    (rc = read_flag(v, "nested", CS_RULE_NESTED, flags, what, pattern)))
		return rc;
	plist_t w = plist_dict_get_item(v, "weight");
	if (w) {
		if (plist_get_node_type(w) == PLIST_REAL) {
			plist_get_real_val(w, weight);
		} else if (plist_get_node_type(w) == PLIST_UINT) {
			uint64_t u = 0;
			plist_get_uint_val(w, &u);
			*weight = (double)u;
		} else {
			return ut_fail(UT_EMALFORMED, "%s rule '%s': weight is not a number", what, pattern);
		}
		if (!isfinite(*weight) || *weight < 0 || *weight > 4294967295.0)
			return ut_fail(UT_EMALFORMED, "%s rule '%s': weight out of range", what, pattern);
	}
	return 0;
}

int cs_rules_from_plist(struct cs_rules *r, plist_t dict, const char *what)
{
	if (!dict || plist_get_node_type(dict) != PLIST_DICT)
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
		double weight;
		uint32_t flags;
		rc = key ? rule_from_value(v, what, key, &weight, &flags)
			 : ut_fail(UT_EMALFORMED, "'%s': rule without a pattern", what);
		plist_t src = rc ? NULL : plist_copy(v);
		if (!rc && !src)
			rc = ut_fail(UT_ENOMEM, "out of memory");
		if (!rc && (rc = rules_push(r, key, weight, flags, src)) != 0) {
			plist_free(src);
			rc = ut_ctx(rc, "'%s'", what);
		}
		free(key);
		if (rc)
			break;
	}
	free(it);
	return rc;
}

static plist_t rule_value(const struct cs_rule *x)
{
	if (x->src)
		return plist_copy(x->src);
	if (x->weight == 1 && x->flags == 0)
		return plist_new_bool(1);
	plist_t d = plist_new_dict();
	if (!d)
		return NULL;
	/* Keys in Apple's order: nested, omit, optional, weight. */
	if (x->flags & CS_RULE_NESTED)
		plist_dict_set_item(d, "nested", plist_new_bool(1));
	if (x->flags & CS_RULE_OMITTED)
		plist_dict_set_item(d, "omit", plist_new_bool(1));
	if (x->flags & CS_RULE_OPTIONAL)
		plist_dict_set_item(d, "optional", plist_new_bool(1));
	plist_dict_set_item(d, "weight", plist_new_real(x->weight));
	return d;
}

static int rule_ptr_cmp(const void *a, const void *b)
{
	const struct cs_rule *x = *(const struct cs_rule *const *)a, *y = *(const struct cs_rule *const *)b;
	return cs_plist_key_cmp(x->pattern, y->pattern);
}

int cs_rules_to_plist(const struct cs_rules *r, plist_t *out)
{
	*out = NULL;
	const struct cs_rule **order = malloc((r->n ? r->n : 1) * sizeof(*order));
	plist_t d = plist_new_dict();
	if (!order || !d) {
		free(order);
		plist_free(d);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (!(r->v[i].flags & CS_RULE_EXCLUSION))
			order[n++] = &r->v[i];
	qsort(order, n, sizeof(*order), rule_ptr_cmp);
	for (size_t i = 0; i < n; i++) {
		plist_t v = rule_value(order[i]);
		if (!v) {
			free(order);
			plist_free(d);
			return ut_fail(UT_ENOMEM, "out of memory");
		}
		plist_dict_set_item(d, order[i]->pattern, v);
	}
	free(order);
	*out = d;
	return 0;
}

const struct cs_rule *cs_rules_match(const struct cs_rules *r, const char *path)
{
	const struct cs_rule *best = NULL;
	for (size_t i = 0; i < r->n; i++) {
		const struct cs_rule *x = &r->v[i];
		if (regexec(&x->re, path, 0, NULL, 0) != 0)
			continue;
		if (x->flags & CS_RULE_EXCLUSION)
			return x;
		if (!best || x->weight > best->weight)
			best = x;
	}
	return best;
}

static const char *const allowed_omissions[] = {
	"^(.*/)?\\.DS_Store$",
	"^Info\\.plist$",
	"^PkgInfo$",
	"^Resources/.*\\.lproj/locversion.plist$",
	"^.*\\.lproj/locversion.plist$",
};

static int is_true_value(const struct cs_rule *x)
{
	if (x->src) {
		if (plist_get_node_type(x->src) != PLIST_BOOLEAN)
			return 0;
		uint8_t b = 0;
		plist_get_bool_val(x->src, &b);
		return b != 0;
	}
	return x->weight == 1 && x->flags == 0;
}

int cs_rules_weak(const struct cs_rules *r, int version, char *why, size_t n)
{
	const char *catch_all = version == 1 ? "^Resources/" : "^.*";
	int covers = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct cs_rule *x = &r->v[i];
		if (x->flags & CS_RULE_EXCLUSION)
			continue;
		if (strcmp(x->pattern, catch_all) == 0 && is_true_value(x)) {
			covers = 1;
			continue;
		}
		if (!(x->flags & CS_RULE_OMITTED))
			continue;
		int ok = 0;
		for (size_t k = 0; k < sizeof(allowed_omissions) / sizeof(allowed_omissions[0]); k++)
			ok |= strcmp(x->pattern, allowed_omissions[k]) == 0;
		if (!ok) {
			snprintf(why, n, "rule '%s' omits files and is not an allowed omission", x->pattern);
			return 1;
		}
	}
	if (!covers) {
		snprintf(why, n, "no catch-all rule '%s' = true", catch_all);
		return 1;
	}
	return 0;
}

/*
 * The UTF-16 ordering key of the character at *p (advances p).  A byte that
 * does not start a valid UTF-8 sequence is one token sorting after every
 * character, so that the order stays total on any bytes.
 */
static long utf16_key(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	unsigned long cp;
	int extra;
	if (p[0] < 0x80) {
		cp = p[0];
		extra = 0;
	} else if ((p[0] & 0xE0) == 0xC0) {
		cp = p[0] & 0x1F;
		extra = 1;
	} else if ((p[0] & 0xF0) == 0xE0) {
		cp = p[0] & 0x0F;
		extra = 2;
	} else if ((p[0] & 0xF8) == 0xF0) {
		cp = p[0] & 0x07;
		extra = 3;
	} else {
		goto invalid;
	}
	for (int i = 1; i <= extra; i++) {
		if ((p[i] & 0xC0) != 0x80)
			goto invalid;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if (cp > 0x10FFFF)
		goto invalid;
	*pp = p + 1 + extra;
	/* Supplementary characters sort by their high surrogate (0xD800..0xDBFF), below 0xE000. */
	if (cp >= 0x10000)
		return (long)(0xD800 + ((cp - 0x10000) >> 10)) * 0x400 + (long)((cp - 0x10000) & 0x3FF);
	return (long)cp * 0x400;
invalid:
	*pp = p + 1;
	return (long)(0x110000 + p[0]) * 0x400;
}

int cs_plist_key_cmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
	while (*p && *q) {
		long x = utf16_key(&p), y = utf16_key(&q);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return (*p != 0) - (*q != 0);
}
