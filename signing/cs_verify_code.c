/*
 * cs_verify_code.c - what a signature covers: code pages, special slots,
 * entitlement blobs, the __LINKEDIT / LC_CODE_SIGNATURE structure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_ent.h"
#include "cs_hash.h"
#include "cs_verify_priv.h"
#include "ut_limits.h"
#include "ut_plist.h"

#define ULL(x) ((unsigned long long)(x))

void cs_vs_add(struct cs_verify_slice *vs, enum cs_problem p, const char *fmt, ...)
{
	if (vs->nfindings >= CS_VERIFY_MAX_FINDINGS) {
		vs->dropped++;
		return;
	}
	struct cs_finding *fd = &vs->findings[vs->nfindings++];
	fd->problem = p;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fd->detail, sizeof(fd->detail), fmt, ap);
	va_end(ap);
}

static const char *cd_name(const struct cs_embedded_cd *c)
{
	const char *n = cs_hash_name(c->cd.hash_type);
	return n ? n : "unknown";
}

/* ---- code pages ---- */

/* "code page 12 of the arm64 slice does not match" / "code pages 0, 12, 13 of ... do not match" */
static void report_pages(struct cs_verify_slice *vs, const struct cs_embedded_cd *c, const struct cs_verify_cd *r)
{
	char list[160] = "";
	size_t used = 0;
	unsigned shown = r->pages_bad < 8 ? (unsigned)r->pages_bad : 8;
	for (unsigned i = 0; i < shown; i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%u", i ? ", " : "", r->bad[i]);
	if (r->pages_bad > shown)
		snprintf(list + used, sizeof(list) - used, ", ... (%llu in all)", ULL(r->pages_bad));
	cs_vs_add(vs, CS_PROB_MODIFIED, "code page%s %s of the %s slice %s (%s CodeDirectory: %llu of %llu pages valid)",
		  r->pages_bad == 1 ? "" : "s", list, vs->arch, r->pages_bad == 1 ? "does not match" : "do not match",
		  cd_name(c), ULL(r->pages - r->pages_bad), ULL(r->pages));
}

/* Hashes the code of every CD sharing page size and code limit with cds[first] in one pass. */
static int hash_group(struct cs_verify_slice *vs, const struct mo_file *f, const struct mo_slice *s,
		      const struct cs_embedded *e, unsigned first, unsigned *done, unsigned nthreads)
{
	const struct cs_cd *c0 = &e->cds[first].cd;
	uint64_t limit = cs_cd_code_limit(c0);
	uint64_t avail = limit < s->size ? limit : s->size;
	uint64_t navail = cs_page_count(avail, c0->page_size);
	struct cs_page_hashes req[4];
	unsigned idx[4], nreq = 0;
	int rc = 0;
	for (unsigned i = first; i < e->ncd && nreq < 4; i++) {
		const struct cs_cd *c = &e->cds[i].cd;
		if ((*done >> i) & 1u || c->page_size != c0->page_size || cs_cd_code_limit(c) != limit)
			continue;
		*done |= 1u << i;
		idx[nreq] = i;
		req[nreq].type = c->hash_type;
		req[nreq].out = malloc(navail ? navail * c->hash_size : 1);
		if (!req[nreq++].out) {
			rc = ut_fail(UT_ENOMEM, "out of memory for %llu page hashes", ULL(navail));
			break;
		}
	}
	if (!rc && avail)
		rc = cs_hash_pages(f->src, s->offset, avail, c0->page_size, req, nreq, nthreads);
	for (unsigned k = 0; k < nreq && !rc; k++) {
		const struct cs_embedded_cd *c = &e->cds[idx[k]];
		struct cs_verify_cd *r = &vs->cds[idx[k]];
		r->pages = c->cd.n_code_slots;
		for (uint32_t p = 0; p < c->cd.n_code_slots; p++) {
			if (p < navail && memcmp(req[k].out + (size_t)p * c->cd.hash_size, cs_cd_code_slot(&c->cd, p),
						 c->cd.hash_size) == 0)
				continue;
			if (r->pages_bad < CS_VERIFY_MAX_BAD_PAGES)
				r->bad[r->pages_bad] = p;
			r->pages_bad++;
		}
		if (r->pages_bad)
			report_pages(vs, c, r);
	}
	for (unsigned k = 0; k < nreq; k++)
		free(req[k].out);
	return rc;
}

int cs_verify_pages(struct cs_verify_slice *vs, const struct mo_file *f, const struct mo_slice *s,
		    const struct cs_embedded *e, unsigned nthreads)
{
	unsigned done = 0;
	for (unsigned i = 0; i < e->ncd; i++) {
		if ((done >> i) & 1u)
			continue;
		int rc = hash_group(vs, f, s, e, i, &done, nthreads);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- special slots ---- */

static const char *slot_what(unsigned k)
{
	switch (k) {
	case CSSLOT_INFOSLOT: return "Info.plist";
	case CSSLOT_REQUIREMENTS: return "requirements blob";
	case CSSLOT_RESOURCEDIR: return "resource directory (CodeResources)";
	case CSSLOT_ENTITLEMENTS: return "entitlements blob";
	case CSSLOT_DER_ENTITLEMENTS: return "DER entitlements blob";
	}
	const char *n = cs_slot_name(k);
	return n ? n : "component";
}

static enum cs_problem slot_problem(unsigned k)
{
	return k == CSSLOT_INFOSLOT ? CS_PROB_INFO_PLIST : k == CSSLOT_RESOURCEDIR ? CS_PROB_RESOURCES : CS_PROB_MODIFIED;
}

/* The bytes slot k covers (p NULL when there are none); *owned receives a buffer to free. */
static int slot_data(struct ut_span *out, uint8_t **owned, unsigned k, const struct mo_file *f,
		     const struct mo_slice *s, const struct cs_slice_layout *lay, const struct cs_embedded *e,
		     const struct cs_verify_opts *o)
{
	*out = ut_span_make(NULL, 0);
	*owned = NULL;
	if (k == CSSLOT_RESOURCEDIR) {
		*out = o->resources;
		return 0;
	}
	if (k == CSSLOT_INFOSLOT) {
		if (o->info_plist.p) {
			*out = o->info_plist;
			return 0;
		}
		if (!lay->has_info_plist)
			return 0;
		if (lay->info_plist_size > UT_MAX_PLIST_SIZE)
			return ut_fail(UT_EUNSUPPORTED, "__info_plist of %llu bytes above the limit", ULL(lay->info_plist_size));
		uint8_t *buf = malloc(lay->info_plist_size ? lay->info_plist_size : 1);
		if (!buf)
			return ut_fail(UT_ENOMEM, "out of memory");
		int rc = mo_slice_read(f, s, lay->info_plist_off, buf, lay->info_plist_size);
		if (rc) {
			free(buf);
			return rc;
		}
		*owned = buf;
		*out = ut_span_make(buf, lay->info_plist_size);
		return 0;
	}
	const struct cs_blob_entry *b = cs_superblob_find(&e->sb, k);
	if (b)
		*out = ut_span_make(b->blob.p, b->blob.length);
	return 0;
}

static void check_slot(struct cs_verify_slice *vs, unsigned ci, const struct cs_embedded_cd *c, unsigned k,
		       struct ut_span data, int *noted)
{
	struct cs_verify_cd *r = &vs->cds[ci];
	int bound = cs_cd_special_present(&c->cd, k);
	if (data.p) {
		uint8_t h[CS_HASH_MAX_SIZE];
		if (cs_hash(c->cd.hash_type, data.p, data.len, h) == 0 &&
		    memcmp(h, cs_cd_special_slot(&c->cd, k), c->cd.hash_size) == 0) {
			r->special_ok |= 1u << k;
			return;
		}
		r->special_bad |= 1u << k;
		if (!bound)
			cs_vs_add(vs, slot_problem(k), "the %s is present but slot -%u of the %s CodeDirectory is empty",
				  slot_what(k), k, cd_name(c));
		else
			cs_vs_add(vs, slot_problem(k), "the %s does not match slot -%u of the %s CodeDirectory", slot_what(k),
				  k, cd_name(c));
		return;
	}
	if (!bound)
		return;
	if (k == CSSLOT_INFOSLOT || k == CSSLOT_RESOURCEDIR) {
		r->special_unchecked |= 1u << k;
		if (!(*noted & (1 << k)))
			cs_vs_add(vs, CS_PROB_NOTE, "%s bound (slot -%u) but not checked (not a bundle)",
				  k == CSSLOT_INFOSLOT ? "Info.plist" : "resources", k);
		*noted |= 1 << k;
		return;
	}
	r->special_bad |= 1u << k;
	cs_vs_add(vs, CS_PROB_MODIFIED, "slot -%u of the %s CodeDirectory binds a %s that is missing", k, cd_name(c),
		  slot_what(k));
}

int cs_verify_specials(struct cs_verify_slice *vs, const struct mo_file *f, const struct mo_slice *s,
		       const struct cs_slice_layout *lay, const struct cs_embedded *e, const struct cs_verify_opts *o)
{
	int noted = 0;
	for (unsigned k = 1; k <= CS_SPECIAL_SLOT_MAX; k++) {
		struct ut_span data;
		uint8_t *owned;
		int rc = slot_data(&data, &owned, k, f, s, lay, e, o);
		if (rc)
			return ut_ctx(rc, "slot -%u", k);
		for (unsigned i = 0; i < e->ncd; i++) {
			const struct cs_embedded_cd *c = &e->cds[i];
			if (k <= c->cd.n_special_slots) {
				check_slot(vs, i, c, k, data, &noted);
			} else if (data.p && k != CSSLOT_INFOSLOT && k != CSSLOT_RESOURCEDIR && k != CSSLOT_REQUIREMENTS) {
				/* The kernel refuses entitlement / constraint blobs its CD does not hash. */
				vs->cds[i].special_bad |= 1u << k;
				cs_vs_add(vs, CS_PROB_FORMAT, "the %s is not bound by the %s CodeDirectory (%u special slots)",
					  slot_what(k), cd_name(c), c->cd.n_special_slots);
			}
		}
		free(owned);
	}
	return 0;
}

/* ---- entitlements ---- */

/* Deep equality of two plist values (dict key order ignored). */
int cs_verify_entitlements(struct cs_verify_slice *vs, const struct cs_embedded *e)
{
	plist_t xml = NULL, der = NULL;
	int rc;
	if (e->entitlements.p) {
		rc = cs_ent_xml_blob_parse(e->entitlements.p, e->entitlements.length, &xml);
		if (rc == UT_ENOMEM)
			return rc;
		if (rc)
			cs_vs_add(vs, CS_PROB_ENTITLEMENTS, "XML entitlements blob: %s", ut_errmsg());
	}
	if (e->der_entitlements.p) {
		rc = cs_ent_der_blob_decode(e->der_entitlements.p, e->der_entitlements.length, &der, NULL);
		if (rc == UT_ENOMEM) {
			plist_free(xml);
			return rc;
		}
		if (rc)
			cs_vs_add(vs, CS_PROB_ENTITLEMENTS, "DER entitlements blob: %s", ut_errmsg());
	}
	if (xml && der && !ut_plist_equal(xml, der))
		cs_vs_add(vs, CS_PROB_NOTE, "the XML and DER entitlements differ");
	plist_free(xml);
	plist_free(der);
	return 0;
}

/* ---- structure ---- */

void cs_verify_structure(struct cs_verify_slice *vs, const struct cs_slice_layout *lay, const struct cs_embedded *e)
{
	uint64_t sig_end = (uint64_t)lay->codesig_off + lay->codesig_size;
	if (!lay->has_linkedit) {
		cs_vs_add(vs, CS_PROB_STRICT, "the %s slice has no __LINKEDIT segment", vs->arch);
	} else {
		uint64_t le_end = lay->linkedit_fileoff + lay->linkedit_filesize;
		if (le_end != lay->size)
			cs_vs_add(vs, CS_PROB_STRICT, "__LINKEDIT of the %s slice ends at 0x%llx, not at the end of the slice (0x%llx)",
				  vs->arch, ULL(le_end), ULL(lay->size));
		if (lay->codesig_off < lay->linkedit_fileoff || sig_end > le_end)
			cs_vs_add(vs, CS_PROB_STRICT, "the signature 0x%x+0x%x of the %s slice lies outside __LINKEDIT (0x%llx+0x%llx)",
				  lay->codesig_off, lay->codesig_size, vs->arch, ULL(lay->linkedit_fileoff),
				  ULL(lay->linkedit_filesize));
	}
	for (unsigned i = 0; i < e->ncd; i++) {
		uint64_t limit = cs_cd_code_limit(&e->cds[i].cd);
		if (limit != lay->codesig_off)
			cs_vs_add(vs, CS_PROB_STRICT, "the %s CodeDirectory covers code up to %llu, but the signature starts at %u",
				  cd_name(&e->cds[i]), ULL(limit), lay->codesig_off);
	}
}
