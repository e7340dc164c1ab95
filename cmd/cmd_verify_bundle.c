/* cmd_verify_bundle.c - the bundle half of `utmpatch verify`: codesign --verify [--deep] [--strict] on a directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_bundle.h"
#include "cs_bverify.h"
#include "ut_err.h"

static void progress(void *ctx, uint64_t done, uint64_t total, const char *rel)
{
	(void)rel;
	cmd_progress(ctx, done, total);
}

void cmd_bundle_progress(struct cs_bverify_opts *o, const char *what, int json)
{
	if (cmd_progress_wanted(json)) {
		o->progress = progress;
		o->progress_ctx = (void *)what;
	}
}

/* The bundle path for display: the top as given, a component below it joined with '/'. */
void cmd_bundle_name(char *out, size_t n, const char *bundle, const char *rel)
{
	size_t bl = strlen(bundle);
	while (bl > 1 && bundle[bl - 1] == '/')
		bl--;
	snprintf(out, n, "%.*s%s%s", (int)bl, bundle, rel[0] ? "/" : "", rel);
}

static void print_reason(const char *name, const struct cs_bverify_reason *r)
{
	printf("%s: %s", name, r->problem == CS_BV_NOTE ? "note: " : "");
	printf("%s", r->text);
	if (r->path)
		printf(": %s", r->path);
	if (r->detail[0])
		printf(" (%s)", r->detail);
	printf("\n");
}

static int by_rel(const void *a, const void *b)
{
	const struct cs_bverify_component *const *p = a, *const *q = b;
	return strcmp((*p)->rel, (*q)->rel);
}

/* Components in path order (the top first), resources left out. */
const struct cs_bverify_component **cmd_bundle_sorted(const struct cs_bverify_result *r, size_t *n)
{
	const struct cs_bverify_component **v = calloc(r->n ? r->n : 1, sizeof(*v));
	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].role != CS_BV_ROLE_RESOURCE)
			v[(*n)++] = &r->v[i];
	qsort(v, *n, sizeof(*v), by_rel);
	return v;
}

static void print_component(const char *bundle, const struct cs_bverify_component *c, int verbose)
{
	char name[4096];
	cmd_bundle_name(name, sizeof(name), bundle, c->rel);
	if (verbose) {
		const struct cs_verify_slice *s = c->checked && c->sig.nslices ? &c->sig.slices[0] : NULL;
		printf("%s: %s, %s", name, cs_bverify_role_name(c->role), c->valid ? "valid" : "invalid");
		if (s)
			printf("; %s, %s%s%s%s%s", c->format, cs_verify_kind_name(s->kind), s->identifier[0] ? ", identifier " : "",
			       s->identifier, s->team_id[0] ? ", team " : "", s->team_id);
		printf("\n");
	}
	for (size_t k = 0; k < c->nreasons; k++)
		if (verbose || c->reasons[k].problem != CS_BV_NOTE)
			print_reason(name, &c->reasons[k]);
}

int cmd_verify_bundle(const char *bundle, unsigned flags, const struct cs_trust *trust, int verbose)
{
	struct cs_bverify_opts o = { .flags = flags, .trust = trust };
	cmd_bundle_progress(&o, "verify", 0);
	struct cs_bverify_result r;
	int rc = cs_bverify_bundle(&r, bundle, &o);
	if (rc) {
		cs_bverify_result_release(&r);
		return cmd_fail(rc);
	}
	size_t n;
	const struct cs_bverify_component **v = cmd_bundle_sorted(&r, &n);
	if (!v) {
		cs_bverify_result_release(&r);
		return cmd_fail(ut_fail(UT_ENOMEM, "out of memory"));
	}
	for (size_t i = 0; i < n; i++)
		print_component(bundle, v[i], verbose);
	char name[4096];
	cmd_bundle_name(name, sizeof(name), bundle, "");
	if (r.valid)
		printf("%s: valid on disk (%zu component%s%s%s)\n", name, n, n == 1 ? "" : "s",
		       flags & CS_BVERIFY_DEEP ? ", deep" : "", flags & CS_BVERIFY_STRICT ? ", strict" : "");
	int code = r.valid ? EXIT_OK : EXIT_BAD;
	free(v);
	cs_bverify_result_release(&r);
	return code;
}
