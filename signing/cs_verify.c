/* cs_verify.c - per-slice verification driver: load, check, classify, judge (see cs_verify.h). */
#include "cs_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_hash.h"
#include "cs_verify_priv.h"
#include "ut_err.h"

const char *cs_verify_kind_name(enum cs_verify_kind k)
{
	switch (k) {
	case CS_VK_UNSIGNED: return "unsigned";
	case CS_VK_UNREADABLE: return "unreadable signature";
	case CS_VK_NO_SIGNER: return "no signer (neither ad-hoc nor CMS)";
	case CS_VK_LINKER: return "linker-signed";
	case CS_VK_ADHOC: return "ad-hoc";
	case CS_VK_APPLE_PLATFORM: return "Apple platform";
	case CS_VK_DEVELOPER_ID: return "Developer ID";
	case CS_VK_APPLE_DEVELOPMENT: return "Apple Development";
	case CS_VK_APPLE_OTHER: return "Apple (other)";
	case CS_VK_OTHER_CERT: return "other certificate";
	case CS_VK_CERT_UNVERIFIED: return "certificate (not verified)";
	}
	return "unknown";
}

const char *cs_problem_text(enum cs_problem p)
{
	switch (p) {
	case CS_PROB_NONE: return "valid";
	case CS_PROB_UNSIGNED: return "code object is not signed at all";
	case CS_PROB_FORMAT: return "invalid or unsupported format for signature";
	case CS_PROB_UNSUPPORTED: return "unsupported type or version of signature";
	case CS_PROB_MODIFIED: return "invalid signature (code or signature have been modified)";
	case CS_PROB_INFO_PLIST: return "invalid Info.plist (plist or signature have been modified)";
	case CS_PROB_RESOURCES: return "invalid resource directory (directory or signature have been modified)";
	case CS_PROB_TEAM: return "a Team Identifier is wrong or inappropriate";
	case CS_PROB_ENTITLEMENTS: return "invalid entitlements blob";
	case CS_PROB_STRICT: return "main executable failed strict validation";
	case CS_PROB_TRUST: return "certificate chain does not end in a trusted anchor";
	case CS_PROB_NOTE: return "note";
	}
	return "unknown problem";
}

static enum cs_verify_kind kind_of_signer(enum cs_signer_kind k)
{
	switch (k) {
	case CS_SIGNER_APPLE_PLATFORM: return CS_VK_APPLE_PLATFORM;
	case CS_SIGNER_DEVELOPER_ID: return CS_VK_DEVELOPER_ID;
	case CS_SIGNER_APPLE_DEVELOPMENT: return CS_VK_APPLE_DEVELOPMENT;
	case CS_SIGNER_APPLE_OTHER: return CS_VK_APPLE_OTHER;
	case CS_SIGNER_OTHER: return CS_VK_OTHER_CERT;
	}
	return CS_VK_OTHER_CERT;
}

/* The problem a failed cs_cms_verify stands for. */
static enum cs_problem cms_problem(int rc)
{
	switch (rc) {
	case UT_EMALFORMED: return CS_PROB_FORMAT;
	case UT_EUNSUPPORTED: return CS_PROB_UNSUPPORTED;
	}
	return CS_PROB_MODIFIED;
}

/* The CMS signature of a non-ad-hoc signature, then the team ID (spec §4.2). */
static int check_cms(struct cs_verify_slice *vs, const struct cs_embedded *e, const struct cs_verify_opts *o)
{
	if (!e->has_cms || e->cms.len == 0) {
		vs->kind = CS_VK_NO_SIGNER;
		cs_vs_add(vs, CS_PROB_UNSIGNED, "the %s slice's CodeDirectory is neither ad-hoc nor backed by a CMS signature%s",
			  vs->arch, e->has_cms ? " (the CMS blob is empty)" : "");
		return 0;
	}
	struct cs_cdhash h[CS_EMB_MAX_CD];
	size_t nh = cs_embedded_cdhashes(e, h);
	const struct cs_embedded_cd *p = cs_embedded_primary(e);
	int rc = cs_cms_verify(&vs->cms, e->cms.p, e->cms.len, p->cd.blob, p->cd.length, h, nh, o->trust);
	if (rc == UT_ENOMEM)
		return rc;
	if (rc) {
		vs->kind = CS_VK_CERT_UNVERIFIED;
		cs_vs_add(vs, cms_problem(rc), "CMS signature of the %s slice: %s", vs->arch, ut_errmsg());
		return 0;
	}
	vs->cms_verified = 1;
	vs->kind = kind_of_signer(vs->cms.kind);
	if ((o->flags & CS_VERIFY_REQUIRE_ANCHOR) && !vs->cms.trusted)
		cs_vs_add(vs, CS_PROB_TRUST, "the %s slice is signed by a chain ending at %s", vs->arch,
			  vs->cms.chain.n ? vs->cms.chain.certs[vs->cms.chain.n - 1].cn : "an unknown root");
	const char *team = p->cd.team_id;
	const char *ou = vs->cms.chain.n ? vs->cms.chain.certs[0].ou : "";
	int developer = vs->kind == CS_VK_DEVELOPER_ID || vs->kind == CS_VK_APPLE_DEVELOPMENT;
	if (developer && team && ou[0] && strcmp(team, ou) != 0)
		cs_vs_add(vs, CS_PROB_TEAM, "the CodeDirectory's team identifier '%s' is not the signing certificate's '%s'",
			  team, ou);
	return 0;
}

/* CDs of one signature must agree on what the kernel and Security read from "the" CD. */
static void check_cd_agreement(struct cs_verify_slice *vs, const struct cs_embedded *e)
{
	const struct cs_cd *a = &e->cds[0].cd;
	for (unsigned i = 1; i < e->ncd; i++) {
		const struct cs_cd *b = &e->cds[i].cd;
		const char *ta = a->team_id ? a->team_id : "", *tb = b->team_id ? b->team_id : "";
		if (a->flags != b->flags || strcmp(a->identifier, b->identifier) != 0 || strcmp(ta, tb) != 0)
			cs_vs_add(vs, CS_PROB_FORMAT, "the %s and %s CodeDirectories disagree on flags, identifier or team",
				  cs_hash_name(a->hash_type), cs_hash_name(b->hash_type));
	}
}

static void fill_summary(struct cs_verify_slice *vs, const struct cs_embedded *e)
{
	const struct cs_embedded_cd *b = cs_embedded_best(e);
	vs->ncd = e->ncd;
	vs->best = e->best;
	snprintf(vs->identifier, sizeof(vs->identifier), "%s", b->cd.identifier);
	snprintf(vs->team_id, sizeof(vs->team_id), "%s", b->cd.team_id ? b->cd.team_id : "");
	vs->cd_flags = cs_embedded_primary(e)->cd.flags;
	for (unsigned i = 0; i < e->ncd; i++) {
		vs->cds[i].slot = e->cds[i].slot;
		vs->cds[i].hash_type = e->cds[i].cd.hash_type;
		vs->cds[i].cdhash = e->cds[i].cdhash;
	}
}

static enum cs_problem load_problem(int rc)
{
	switch (rc) {
	case UT_ENOTFOUND: return CS_PROB_UNSIGNED;
	case UT_EUNSUPPORTED: return CS_PROB_UNSUPPORTED;
	}
	return CS_PROB_FORMAT;
}

static int check_signed(struct cs_verify_slice *vs, const struct mo_file *f, const struct mo_slice *s,
			const struct cs_slice_layout *lay, const struct cs_embedded *e, const struct cs_verify_opts *o)
{
	fill_summary(vs, e);
	int adhoc = (vs->cd_flags & CS_ADHOC) != 0;
	vs->kind = !adhoc ? CS_VK_CERT_UNVERIFIED : (vs->cd_flags & CS_LINKER_SIGNED) ? CS_VK_LINKER : CS_VK_ADHOC;
	check_cd_agreement(vs, e);
	/* Security's order, so that the first failure is the one codesign reports: the signature,
	 * the special slots, the code pages, then the strict structure checks. */
	int rc = 0;
	if (!adhoc)
		rc = check_cms(vs, e, o);
	else if (e->has_cms && e->cms.len)
		cs_vs_add(vs, CS_PROB_NOTE, "a CMS signature is present but not used (the CodeDirectory is ad-hoc)");
	if (!rc)
		rc = cs_verify_specials(vs, f, s, lay, e, o);
	if (!rc)
		rc = cs_verify_entitlements(vs, e);
	if (!rc)
		rc = cs_verify_pages(vs, f, s, e, o->nthreads);
	if (rc)
		return rc;
	cs_verify_structure(vs, lay, e);
	return 0;
}

static void judge(struct cs_verify_slice *vs)
{
	vs->verdict = CS_PROB_NONE;
	for (unsigned i = 0; i < vs->nfindings; i++)
		if (vs->findings[i].problem != CS_PROB_NOTE) {
			vs->verdict = vs->findings[i].problem;
			break;
		}
	if (vs->verdict == CS_PROB_NONE && vs->dropped)
		vs->verdict = CS_PROB_MODIFIED; /* cannot happen with notes alone; be safe */
	vs->valid = vs->verdict == CS_PROB_NONE;
}

int cs_verify_slice(struct cs_verify_slice *vs, const struct mo_file *f, const struct mo_slice *s,
		    const struct cs_verify_opts *opts)
{
	static const struct cs_verify_opts none = { 0 };
	const struct cs_verify_opts *o = opts ? opts : &none;
	memset(vs, 0, sizeof(*vs));
	char arch[32];
	snprintf(vs->arch, sizeof(vs->arch), "%s", mo_arch_name(s->cputype, s->cpusubtype, arch));
	vs->cputype = s->cputype;
	vs->cpusubtype = s->cpusubtype;
	vs->offset = s->offset;
	vs->size = s->size;
	struct cs_slice_layout lay;
	int rc = cs_slice_layout_read(&lay, f, s);
	if (rc)
		return rc;
	struct cs_embedded e;
	rc = cs_embedded_load(&e, f, s, &lay);
	if (rc == UT_ENOMEM || rc == UT_EIO)
		return ut_ctx(rc, "slice %s", vs->arch);
	if (rc) {
		vs->kind = rc == UT_ENOTFOUND ? CS_VK_UNSIGNED : CS_VK_UNREADABLE;
		if (rc == UT_ENOTFOUND)
			cs_vs_add(vs, CS_PROB_UNSIGNED, "the %s slice has no LC_CODE_SIGNATURE", vs->arch);
		else
			cs_vs_add(vs, load_problem(rc), "signature of the %s slice: %s", vs->arch, ut_errmsg());
		judge(vs);
		return 0;
	}
	rc = check_signed(vs, f, s, &lay, &e, o);
	cs_embedded_release(&e);
	if (rc)
		return ut_ctx(rc, "slice %s", vs->arch);
	judge(vs);
	return 0;
}

void cs_verify_result_release(struct cs_verify_result *r)
{
	if (!r)
		return;
	free(r->slices);
	memset(r, 0, sizeof(*r));
}

int cs_verify_file(struct cs_verify_result *out, const struct mo_file *f, const struct cs_verify_opts *opts)
{
	memset(out, 0, sizeof(*out));
	out->slices = calloc(f->nslices ? f->nslices : 1, sizeof(*out->slices));
	if (!out->slices)
		return ut_fail(UT_ENOMEM, "out of memory");
	out->valid = f->nslices > 0;
	for (uint32_t i = 0; i < f->nslices; i++) {
		int rc = cs_verify_slice(&out->slices[i], f, &f->slices[i], opts);
		if (rc) {
			cs_verify_result_release(out);
			return rc;
		}
		out->nslices++;
		out->valid &= out->slices[i].valid;
	}
	return 0;
}
