/* test_bverify_util.c - helpers for the deep bundle verification tests. */
#include "test_bverify_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ut_err.h"

void tbv_verify(struct cs_bverify_result *r, const char *path, unsigned flags, const struct cs_trust *trust)
{
	struct cs_bverify_opts o = { .flags = flags, .trust = trust };
	int rc = cs_bverify_bundle(r, path, &o);
	cr_assert_eq(rc, 0, "%s: %s", path, ut_errmsg());
}

const struct cs_bverify_component *tbv_comp(const struct cs_bverify_result *r, const char *rel)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].rel, rel) == 0)
			return &r->v[i];
	cr_assert_fail("no component '%s' in\n%s", rel, tbv_dump(r));
	return NULL;
}

const struct cs_bverify_reason *tbv_reason(const struct cs_bverify_component *c, enum cs_bverify_problem p,
					   const char *path)
{
	for (size_t k = 0; k < c->nreasons; k++) {
		const struct cs_bverify_reason *x = &c->reasons[k];
		if (x->problem != p)
			continue;
		if (!path || (path[0] == '\0' && !x->path) || (x->path && strcmp(x->path, path) == 0))
			return x;
	}
	return NULL;
}

const char *tbv_dump(const struct cs_bverify_result *r)
{
	static char buf[16384];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < r->n && n < sizeof(buf) - 1; i++) {
		const struct cs_bverify_component *c = &r->v[i];
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "[%s] %s %s\n", c->rel, cs_bverify_role_name(c->role),
				      c->valid ? "valid" : "INVALID");
		for (size_t k = 0; k < c->nreasons && n < sizeof(buf) - 1; k++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "    %s: %s (%s)\n", c->reasons[k].text,
					      c->reasons[k].path ? c->reasons[k].path : "-", c->reasons[k].detail);
	}
	return buf;
}

size_t tbv_failures(const struct cs_bverify_result *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		for (size_t k = 0; k < r->v[i].nreasons; k++)
			n += r->v[i].reasons[k].problem != CS_BV_NOTE;
	return n;
}
