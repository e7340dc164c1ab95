/* cs_seal_nested_check.c - the default check of nested code against its seal entry (SEC validateNestedCode). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_bundle_priv.h"
#include "cs_seal_priv.h"
#include "cs_verify.h"
#include "mo_file.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_bytes.h"
#include "ut_limits.h"

/*
 * An ad-hoc requirement `cdhash H"<40 hex>" or cdhash H"..."`: 1 when one of
 * its hashes is one of the code's, 0 when none is, -1 when the text has another form.
 */
static int cdhash_list_matches(const char *req, const struct cs_nested_info *n)
{
	const char *p = req;
	int any = 0;
	for (;;) {
		while (*p == ' ')
			p++;
		if (strncmp(p, "cdhash H\"", 9) != 0)
			return -1;
		p += 9;
		uint8_t h[CS_CDHASH_LEN];
		if (ut_unhex(h, p, CS_CDHASH_LEN))
			return -1;
		p += 2 * CS_CDHASH_LEN;
		if (*p++ != '"')
			return -1;
		for (unsigned i = 0; i < n->ncdhashes; i++)
			any |= memcmp(h, n->cdhashes[i], CS_CDHASH_LEN) == 0;
		while (*p == ' ')
			p++;
		if (!*p)
			return any;
		if (strncmp(p, "or ", 3) != 0)
			return -1;
		p += 3;
	}
}

static int add(struct cs_seal_report *rep, const char *prefix, const char *detail)
{
	/* prefix ends with '/': the finding names the nested code itself. */
	char *path = cs_seal_prefixed(prefix, "");
	if (!path)
		return ut_fail(UT_ENOMEM, "out of memory");
	size_t n = strlen(path);
	if (n && path[n - 1] == '/')
		path[n - 1] = '\0';
	int rc = cs_seal_report_add(rep, CS_SEAL_NESTED_INVALID, path, "%s", detail);
	free(path);
	return rc;
}

static int check_requirement(const char *path, int is_bundle, const struct cs_seal_entry *recorded,
			     const char *prefix, struct cs_seal_report *rep)
{
	struct cs_nested_info n;
	if (cs_nested_info_read(&n, path, is_bundle, NULL) != 0)
		return add(rep, prefix, ut_errmsg());
	int rc = 0;
	if (strcmp(recorded->requirement, n.requirement) != 0) {
		int m = cdhash_list_matches(recorded->requirement, &n);
		if (m == 0)
			rc = add(rep, prefix, "none of the cdhashes of the recorded requirement is the code's");
		else if (m < 0) {
			char *d = malloc(strlen(recorded->requirement) + strlen(n.requirement) + 96);
			if (!d)
				rc = ut_fail(UT_ENOMEM, "out of memory");
			else {
				sprintf(d, "recorded requirement '%s' is not the code's designated requirement '%s'",
					recorded->requirement, n.requirement);
				rc = add(rep, prefix, d);
				free(d);
			}
		}
	}
	cs_nested_info_release(&n);
	return rc;
}

static int read_span(const char *path, struct ut_span *s, uint8_t **owned)
{
	*owned = NULL;
	s->p = NULL;
	s->len = 0;
	if (!path || cs_ftype_of(path) != CS_FT_FILE)
		return 0;
	size_t len;
	int rc = ut_file_read(path, UT_MAX_PLIST_SIZE, owned, &len);
	if (!rc)
		*s = ut_span_make(*owned, len);
	return rc;
}

/* The code's own signature, every slice (pages, special slots, CMS). */
static int check_signature(const char *exec, const struct cs_bundle *b, const char *prefix,
			   struct cs_seal_report *rep)
{
	struct cs_verify_opts vo = { 0 };
	uint8_t *res = NULL;
	int rc = 0;
	if (b) {
		vo.info_plist = ut_span_make(b->info_data, b->info_len);
		if ((rc = read_span(b->seal_path, &vo.resources, &res)) != 0)
			return rc;
	}
	struct ut_src src;
	struct mo_file *f = NULL;
	if (mo_file_open(exec, &src, &f) != 0) {
		rc = add(rep, prefix, ut_errmsg());
		goto out;
	}
	struct cs_verify_result r;
	if (cs_verify_file(&r, f, &vo) != 0) {
		rc = add(rep, prefix, ut_errmsg());
	} else {
		for (unsigned i = 0; i < r.nslices && !rc; i++) {
			const struct cs_verify_slice *s = &r.slices[i];
			if (s->valid)
				continue;
			const char *first = "";
			for (unsigned k = 0; k < s->nfindings; k++)
				if (s->findings[k].problem == s->verdict) {
					first = s->findings[k].detail;
					break;
				}
			char d[CS_VERIFY_DETAIL_MAX + 256];
			snprintf(d, sizeof(d), "slice %s: %s%s%s", s->arch, cs_problem_text(s->verdict), first[0] ? ": " : "",
				 first);
			rc = add(rep, prefix, d);
		}
		cs_verify_result_release(&r);
	}
	mo_file_close(&src, f);
out:
	free(res);
	return rc;
}

int cs_seal_nested_check_default(void *ctx, const char *path, const char *rel, int is_bundle,
				 const struct cs_seal_entry *recorded, const struct cs_seal_verify_opts *o,
				 const char *prefix, struct cs_seal_report *rep)
{
	(void)ctx;
	(void)rel;
	size_t before = rep->n;
	int rc = check_requirement(path, is_bundle, recorded, prefix, rep);
	if (rc || rep->n != before)
		return rc; /* unreadable or not the recorded code: nothing more to say */
	if (!is_bundle)
		return check_signature(path, NULL, prefix, rep);
	struct cs_bundle *b = NULL;
	if (cs_bundle_open(path, &b) != 0)
		return add(rep, prefix, ut_errmsg());
	rc = check_signature(b->exec_path, b, prefix, rep);
	/* Its signature (with slots -1 / -3) was judged above; with --deep its seal too. */
	if (!rc && o && o->deep)
		rc = cs_seal_verify_bundle_seal(b, o, prefix, rep);
	cs_bundle_free(b);
	return rc;
}
