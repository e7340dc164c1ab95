/*
 * cs_bverify_code.c - the jobs (one code file verified, one sealed file
 * hashed) and the judgement of code: its signature verdicts, its designated
 * requirement, and nested code against the requirement its parent recorded.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_bverify_priv.h"
#include "cs_embedded.h"
#include "cs_hash.h"
#include "cs_req.h"
#include "mo_file.h"
#include "ut_buf.h"
#include "ut_err.h"
#include "ut_file.h"

static char *dup_msg(void)
{
	const char *m = ut_errmsg();
	return strdup(m[0] ? m : "unknown error");
}

void bv_hash_run(struct bv_ctx *x, size_t k)
{
	struct bv_hash *h = &x->h[k];
	unsigned types[4], n = cs_seal_entry_types(h->e, types);
	uint8_t out[4][CS_HASH_MAX_SIZE];
	int rc = cs_seal_hash_file(h->abs, types, n, out);
	if (rc) {
		h->rc = rc;
		h->msg = dup_msg();
		return;
	}
	/* Name the strongest digest that differs (SHA-256 rather than SHA-1 when both do). */
	for (unsigned i = 0; i < n; i++)
		if (memcmp(out[i], h->e->hash[types[i]], cs_hash_size(types[i])) != 0 &&
		    cs_hash_rank(types[i]) > cs_hash_rank(h->bad_type))
			h->bad_type = types[i];
}

/* The designated requirement blob of a requirement set (copied), or NULL. */
static int copy_dr(struct bv_slice_x *sx, const struct cs_blob *reqs)
{
	if (!reqs->p)
		return 0;
	struct cs_req_set set;
	if (cs_req_set_parse(&set, reqs->p, reqs->length) != 0)
		return 0; /* the verifier has reported it */
	for (uint32_t i = 0; i < set.count; i++)
		if (set.entries[i].type == kSecDesignatedRequirementType) {
			if (!(sx->dr = malloc(set.entries[i].blob.length)))
				return ut_fail(UT_ENOMEM, "out of memory");
			memcpy(sx->dr, set.entries[i].blob.p, set.entries[i].blob.length);
			sx->dr_len = set.entries[i].blob.length;
		}
	return 0;
}

/* Designated requirement, platform and certificate details of one slice (best effort). */
static int slice_extras(struct bv_slice_x *sx, const struct mo_file *f, const struct mo_slice *s,
			const struct cs_verify_slice *vs)
{
	struct cs_slice_layout lay;
	struct cs_embedded e;
	if (cs_slice_layout_read(&lay, f, s) != 0 || cs_embedded_load(&e, f, s, &lay) != 0) {
		ut_err_clear();
		return 0;
	}
	sx->platform = cs_embedded_best(&e)->cd.platform;
	int rc = copy_dr(sx, &e.requirements);
	if (!rc && vs->cms_verified && e.cms.len && vs->cms.chain.n) {
		sx->certx = calloc(vs->cms.chain.n, sizeof(*sx->certx));
		if (!sx->certx)
			rc = ut_fail(UT_ENOMEM, "out of memory");
		else if (cs_certx_read(sx->certx, &vs->cms.chain, e.cms.p, e.cms.len) != 0) {
			free(sx->certx); /* fall back to the chain's own fields */
			sx->certx = NULL;
			ut_err_clear();
		}
	}
	cs_embedded_release(&e);
	return rc;
}

static int code_run(struct bv_ctx *x, size_t i, unsigned nthreads, const struct mo_file *f)
{
	struct bv_comp *bc = &x->c[i];
	struct cs_bverify_component *c = &x->r->v[i];
	int rc;
	struct cs_verify_opts vo = { .trust = x->o->trust, .flags = x->o->verify_flags, .nthreads = nthreads };
	if (bc->b)
		vo.info_plist = ut_span_make(bc->b->info_data, bc->b->info_len);
	vo.resources = ut_span_make(bc->res, bc->res_len);
	if ((rc = cs_verify_file(&c->sig, f, &vo)) != 0)
		return rc;
	c->checked = 1;
	cs_audit_format(f, c->format, sizeof(c->format));
	bc->sx = calloc(c->sig.nslices ? c->sig.nslices : 1, sizeof(*bc->sx));
	if (!bc->sx)
		return ut_fail(UT_ENOMEM, "out of memory");
	bc->nsx = c->sig.nslices;
	for (unsigned k = 0; k < c->sig.nslices && !rc; k++)
		rc = slice_extras(&bc->sx[k], f, &f->slices[k], &c->sig.slices[k]);
	if (!rc && (x->o->flags & CS_BVERIFY_AUDIT)) {
		c->audit = calloc(c->sig.nslices ? c->sig.nslices : 1, sizeof(*c->audit));
		if (!c->audit)
			return ut_fail(UT_ENOMEM, "out of memory");
		for (unsigned k = 0; k < c->sig.nslices && !rc; k++)
			rc = cs_audit_slice(&c->audit[k], f, &f->slices[k], &c->sig.slices[k], vo.info_plist);
	}
	return rc;
}

void bv_code_run(struct bv_ctx *x, size_t i, unsigned nthreads)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	int rc = mo_file_open(x->c[i].code_path, &src, &f);
	if (!rc) {
		rc = code_run(x, i, nthreads, f);
		mo_file_close(&src, f);
	}
	if (rc) {
		x->c[i].code_rc = rc;
		x->c[i].code_msg = dup_msg();
	}
}

/* ---- judgement ---- */

static enum cs_bverify_problem problem_of(enum cs_problem p)
{
	return p == CS_PROB_INFO_PLIST ? CS_BV_INFO_PLIST : p == CS_PROB_RESOURCES ? CS_BV_RESOURCE_DIR : CS_BV_SIGNATURE;
}

static const char *finding_detail(const struct cs_verify_slice *s, enum cs_problem p)
{
	for (unsigned k = 0; k < s->nfindings; k++)
		if (s->findings[k].problem == p)
			return s->findings[k].detail;
	return "";
}

static int bound_unchecked(const struct cs_verify_result *r, unsigned slot)
{
	for (unsigned i = 0; i < r->nslices; i++)
		for (unsigned k = 0; k < r->slices[i].ncd; k++)
			if (r->slices[i].cds[k].special_unchecked & (1u << slot))
				return 1;
	return 0;
}

/* What a requirement is evaluated against: slice s of component bc (its Info.plist when it is a bundle). */
static void code_of(struct cs_req_code *rc, const struct cs_verify_slice *s, const struct bv_slice_x *sx,
		    const struct bv_comp *bc)
{
	memset(rc, 0, sizeof(*rc));
	rc->identifier = s->identifier;
	rc->cdhash = s->ncd ? s->cds[s->best].cdhash.digest : NULL;
	rc->platform = sx ? sx->platform : 0;
	rc->chain = s->cms_verified ? &s->cms.chain : NULL;
	rc->certx = sx && rc->chain ? sx->certx : NULL;
	rc->info = bc->b ? bc->b->info : NULL;
}

static int designated(struct bv_ctx *x, size_t i)
{
	struct bv_comp *bc = &x->c[i];
	struct cs_bverify_component *c = &x->r->v[i];
	int rc = 0;
	for (unsigned k = 0; k < c->sig.nslices && k < bc->nsx && !rc; k++) {
		const struct cs_verify_slice *s = &c->sig.slices[k];
		if (!s->valid || !bc->sx[k].dr)
			continue;
		struct cs_req_code code;
		code_of(&code, s, &bc->sx[k], bc);
		enum cs_req_verdict v;
		char why[512];
		if (cs_req_eval(&v, bc->sx[k].dr, bc->sx[k].dr_len, &code, why, sizeof(why)) != 0) {
			char *msg = dup_msg();
			rc = bv_reason_add(c, CS_BV_DESIGNATED, NULL, c->code_rel, "slice %s: %s", s->arch, msg ? msg : "");
			free(msg);
		} else if (v == CS_REQ_FALSE) {
			rc = bv_reason_add(c, CS_BV_DESIGNATED, NULL, c->code_rel, "slice %s: %s", s->arch, why);
		} else if (v == CS_REQ_UNKNOWN) {
			rc = bv_reason_add(c, CS_BV_NOTE, "designated requirement not evaluable", c->code_rel,
					   "slice %s: %s", s->arch, why);
		}
	}
	return rc;
}

int bv_code_judge(struct bv_ctx *x, size_t i)
{
	struct bv_comp *bc = &x->c[i];
	struct cs_bverify_component *c = &x->r->v[i];
	if (!bc->code_path)
		return 0; /* the planner said why */
	if (bc->code_rc == UT_ENOMEM)
		return ut_fail(UT_ENOMEM, "%s", bc->code_msg ? bc->code_msg : "out of memory");
	if (bc->code_rc)
		return bv_reason_add(c, CS_BV_UNREADABLE, NULL, c->code_rel, "%s", bc->code_msg ? bc->code_msg : "");
	int rc = 0;
	for (unsigned k = 0; k < c->sig.nslices && !rc; k++) {
		const struct cs_verify_slice *s = &c->sig.slices[k];
		if (s->valid)
			continue;
		const char *d = finding_detail(s, s->verdict);
		rc = bv_reason_add(c, problem_of(s->verdict), cs_problem_text(s->verdict), c->code_rel, "slice %s%s%s",
				   s->arch, d[0] ? ": " : "", d);
	}
	if (!rc && c->is_bundle && bc->seal_state == 0 && bound_unchecked(&c->sig, 3))
		rc = bv_reason_add(c, CS_BV_NO_RESOURCES, NULL, NULL, "%s is missing", bc->b->seal_rel);
	if (!rc && c->is_bundle && !bc->b->info_data && bound_unchecked(&c->sig, 1))
		rc = bv_reason_add(c, CS_BV_INFO_PLIST, NULL, NULL, "the signature binds an Info.plist; %s is missing",
				   bc->b->info_rel);
	if (!rc)
		rc = designated(x, i);
	return rc;
}

int bv_nested_judge(struct bv_ctx *x, size_t parent, const struct bv_nested *n)
{
	struct cs_bverify_component *p = &x->r->v[parent];
	struct cs_bverify_component *c = &x->r->v[n->child];
	struct bv_comp *cc = &x->c[n->child];
	if (!c->checked)
		return 0; /* unreadable: its own reason, and the validity check below */
	struct ut_buf req;
	ut_buf_init(&req, 1u << 20);
	int rc = cs_req_compile(n->e->requirement, 0, &req);
	if (rc) {
		ut_buf_release(&req);
		if (rc == UT_ENOMEM)
			return rc;
		char *msg = dup_msg();
		rc = bv_reason_add(p, CS_BV_NESTED, NULL, c->rel, "the recorded requirement does not compile: %s",
				   msg ? msg : "");
		free(msg);
		return rc;
	}
	for (unsigned k = 0; k < c->sig.nslices && !rc; k++) {
		const struct cs_verify_slice *s = &c->sig.slices[k];
		struct cs_req_code code;
		code_of(&code, s, k < cc->nsx ? &cc->sx[k] : NULL, cc);
		enum cs_req_verdict v;
		char why[512];
		if (cs_req_eval(&v, req.p, req.len, &code, why, sizeof(why)) != 0) {
			char *msg = dup_msg();
			rc = bv_reason_add(p, CS_BV_NESTED, NULL, c->rel, "slice %s: %s", s->arch, msg ? msg : "");
			free(msg);
		} else if (v == CS_REQ_FALSE) {
			rc = bv_reason_add(p, CS_BV_NESTED, NULL, c->rel,
					   "slice %s does not satisfy the requirement recorded in the seal: %s", s->arch, why);
		} else if (v == CS_REQ_UNKNOWN) {
			rc = bv_reason_add(p, CS_BV_NOT_EVALUABLE, NULL, c->rel, "slice %s: %s (recorded: %s)", s->arch, why,
					   n->e->requirement);
		}
	}
	ut_buf_release(&req);
	return rc;
}

void bv_comp_release(struct bv_comp *c)
{
	cs_bundle_free(c->b);
	free(c->seal_key);
	free(c->base_rel);
	cs_seal_release(&c->seal);
	free(c->res);
	for (size_t k = 0; k < c->nnested; k++)
		free(c->nested[k].key);
	free(c->nested);
	free(c->code_path);
	free(c->code_msg);
	for (unsigned k = 0; k < c->nsx; k++) {
		free(c->sx[k].dr);
		free(c->sx[k].certx);
	}
	free(c->sx);
	memset(c, 0, sizeof(*c));
}
