/* cs_verify_audit.c - the fields of `codesign -dvvv` for one slice, as data. */
#include "cs_verify_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_ent.h"
#include "cs_hash.h"
#include "cs_req.h"
#include "ut_buf.h"
#include "ut_err.h"
#include "ut_limits.h"
#include "ut_plist.h"


const char *cs_audit_format(const struct mo_file *f, char *buf, size_t n)
{
	uint32_t order[UT_MAX_SLICES + 1];
	uint32_t ns = f->nslices <= UT_MAX_SLICES ? f->nslices : UT_MAX_SLICES;
	for (uint32_t i = 0; i < ns; i++) {
		/* std::set<Architecture> order: cputype, then cpusubtype without the capability bits */
		uint32_t j = i;
		const struct mo_slice *s = &f->slices[i];
		for (; j > 0; j--) {
			const struct mo_slice *p = &f->slices[order[j - 1]];
			if (p->cputype < s->cputype ||
			    (p->cputype == s->cputype && (p->cpusubtype & 0x00ffffffu) <= (s->cpusubtype & 0x00ffffffu)))
				break;
			order[j] = order[j - 1];
		}
		order[j] = i;
	}
	size_t used = (size_t)snprintf(buf, n, "Mach-O %s (", f->fat ? "universal" : "thin");
	for (uint32_t i = 0; i < ns && used < n; i++) {
		char arch[32];
		const struct mo_slice *s = &f->slices[order[i]];
		used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? " " : "",
					 mo_arch_name(s->cputype, s->cpusubtype, arch));
	}
	if (used < n)
		snprintf(buf + used, n - used, ")");
	return buf;
}

static void describe_cds(struct cs_audit_slice *a, const struct cs_embedded *e)
{
	const struct cs_cd *cd = &cs_embedded_best(e)->cd;
	snprintf(a->identifier, sizeof(a->identifier), "%s", cd->identifier);
	snprintf(a->team_id, sizeof(a->team_id), "%s", cd->team_id ? cd->team_id : "");
	a->version = cd->version;
	a->size = cd->length;
	a->flags = cd->flags;
	cs_flags_names(cd->flags, a->flag_names, sizeof(a->flag_names));
	a->n_code_slots = cd->n_code_slots;
	a->n_special_slots = cd->n_special_slots;
	a->hash_type = cd->hash_type;
	a->hash_size = cd->hash_size;
	a->page_size = cd->page_size ? 1u << cd->page_size : 0;
	a->platform = cd->platform;
	a->has_exec_seg = cd->version >= CS_SUPPORTSEXECSEG;
	a->exec_seg_base = cd->exec_seg_base;
	a->exec_seg_limit = cd->exec_seg_limit;
	a->exec_seg_flags = cd->exec_seg_flags;
	a->runtime = cd->runtime;
	a->info_bound = cs_cd_special_present(cd, CSSLOT_INFOSLOT);
	ut_hex(a->cdhash, cs_embedded_best(e)->cdhash.digest, CS_CDHASH_LEN);
	a->ncd = e->ncd;
	for (unsigned i = 0; i < e->ncd; i++) {
		const struct cs_embedded_cd *c = &e->cds[e->by_type[i]];
		struct cs_audit_cd *o = &a->cds[i];
		o->slot = c->slot;
		o->hash_type = c->cd.hash_type;
		ut_hex(o->cdhash, c->cdhash.digest, CS_CDHASH_LEN);
		ut_hex(o->cdhash_full, c->cdhash.digest, c->cdhash.len);
	}
	a->adhoc = (cs_embedded_primary(e)->cd.flags & CS_ADHOC) != 0;
	a->cms_size = e->has_cms ? (uint32_t)e->cms.len : 0;
}

static int describe_requirements(struct cs_audit_slice *a, const struct cs_embedded *e)
{
	if (!e->requirements.p)
		return 0;
	a->has_requirements = 1;
	a->req_size = e->requirements.length;
	a->req_count = ut_be32(e->requirements.p + 8);
	struct ut_buf b;
	ut_buf_init(&b, 0);
	int rc = cs_req_set_text(e->requirements.p, e->requirements.length, &b);
	if (rc == 0 && b.p) {
		size_t len;
		a->req_text = (char *)ut_buf_detach(&b, &len);
	} else if (rc == 0) {
		a->req_text = calloc(1, 1);
		if (!a->req_text)
			rc = ut_fail(UT_ENOMEM, "out of memory");
	}
	ut_buf_release(&b);
	return rc == UT_ENOMEM ? rc : 0; /* an undecodable requirement leaves req_text NULL */
}

static int describe_entitlements(struct cs_audit_slice *a, const struct cs_embedded *e)
{
	a->entitlements_xml = e->entitlements.p != NULL;
	a->entitlements_der = e->der_entitlements.p != NULL;
	if (e->entitlements.p) {
		size_t len = e->entitlements.length - CS_BLOB_HEADER_SIZE;
		a->entitlements = malloc(len + 1);
		if (!a->entitlements)
			return ut_fail(UT_ENOMEM, "out of memory");
		memcpy(a->entitlements, e->entitlements.p + CS_BLOB_HEADER_SIZE, len);
		a->entitlements[len] = '\0';
		a->entitlements_len = len;
		return 0;
	}
	if (!e->der_entitlements.p)
		return 0;
	plist_t dict = NULL;
	if (cs_ent_der_blob_decode(e->der_entitlements.p, e->der_entitlements.length, &dict, NULL) != 0)
		return 0; /* shown as undecodable by the verdict */
	uint8_t *xml = NULL;
	size_t len = 0;
	int rc = ut_plist_serialize(dict, UT_PLIST_XML, &xml, &len);
	plist_free(dict);
	if (rc)
		return rc;
	a->entitlements = malloc(len + 1);
	if (!a->entitlements) {
		free(xml);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	memcpy(a->entitlements, xml, len);
	a->entitlements[len] = '\0';
	a->entitlements_len = len;
	free(xml);
	return 0;
}

/* Entries of the Info.plist we can see: the caller's, else __TEXT,__info_plist. */
static int describe_info(struct cs_audit_slice *a, const struct mo_file *f, const struct mo_slice *s,
			 const struct cs_slice_layout *lay, struct ut_span given)
{
	a->info_entries = -1;
	uint8_t *owned = NULL;
	struct ut_span p = given;
	if (!p.p && lay->has_info_plist && lay->info_plist_size <= UT_MAX_PLIST_SIZE) {
		owned = malloc(lay->info_plist_size ? lay->info_plist_size : 1);
		if (!owned)
			return ut_fail(UT_ENOMEM, "out of memory");
		int rc = mo_slice_read(f, s, lay->info_plist_off, owned, lay->info_plist_size);
		if (rc) {
			free(owned);
			return rc;
		}
		p = ut_span_make(owned, lay->info_plist_size);
	}
	plist_t root = NULL;
	if (p.p && ut_plist_parse(p.p, p.len, "Info.plist", &root, NULL) == 0) {
		if (plist_get_node_type(root) == PLIST_DICT)
			a->info_entries = (int)plist_dict_get_size(root);
		plist_free(root);
	}
	free(owned);
	return 0;
}

void cs_audit_slice_release(struct cs_audit_slice *a)
{
	if (!a)
		return;
	free(a->req_text);
	free(a->entitlements);
	memset(a, 0, sizeof(*a));
}

int cs_audit_slice(struct cs_audit_slice *out, const struct mo_file *f, const struct mo_slice *s,
		   const struct cs_verify_slice *vs, struct ut_span info_plist)
{
	memset(out, 0, sizeof(*out));
	out->verify = vs;
	out->info_entries = -1;
	char arch[32];
	snprintf(out->arch, sizeof(out->arch), "%s", mo_arch_name(s->cputype, s->cpusubtype, arch));
	struct cs_slice_layout lay;
	int rc = cs_slice_layout_read(&lay, f, s);
	if (rc)
		return rc;
	out->version_platform = lay.platform;
	out->version_min = lay.minos;
	out->version_sdk = lay.sdk;
	struct cs_embedded e;
	rc = cs_embedded_load(&e, f, s, &lay);
	if (rc == UT_ENOMEM || rc == UT_EIO)
		return rc;
	if (rc)
		return describe_info(out, f, s, &lay, info_plist);
	out->has_signature = 1;
	describe_cds(out, &e);
	rc = describe_requirements(out, &e);
	if (!rc)
		rc = describe_entitlements(out, &e);
	if (!rc)
		rc = describe_info(out, f, s, &lay, info_plist);
	cs_embedded_release(&e);
	if (rc) {
		const struct cs_verify_slice *keep = out->verify;
		cs_audit_slice_release(out);
		out->verify = keep;
	}
	return rc;
}
