/* test_verify_util.c - a codesign-shaped test signer from the primitives, and verify helpers (tests only). */
#include "test_verify_util.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cs_blob.h"
#include "cs_cd.h"
#include "cs_cms.h"
#include "cs_ent.h"
#include "cs_hash.h"
#include "cs_req.h"
#include "mo_file.h"
#include "mo_format.h"
#include "ut_buf.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_file.h"

#define RESERVE 40960u /* default signature area, like codesign's estimate + 18000 */

struct blobs {
	struct ut_buf req, ent, der, cms;
	struct ut_buf cd[2];
};

static void make_blobs(struct blobs *b, const struct tv_sign_opts *o)
{
	memset(b, 0, sizeof(*b));
	ut_buf_init(&b->req, 0);
	ut_buf_init(&b->ent, 0);
	ut_buf_init(&b->der, 0);
	ut_buf_init(&b->cms, 0);
	ut_buf_init(&b->cd[0], 0);
	ut_buf_init(&b->cd[1], 0);
	if (!o->no_requirements) {
		if (o->dr) {
			struct ut_buf one;
			ut_buf_init(&one, 0);
			cr_assert_eq(cs_req_compile(o->dr, CS_REQ_AND_RIGHT, &one), 0, "%s", ut_errmsg());
			struct cs_req_in in = { kSecDesignatedRequirementType, one.p, one.len };
			cr_assert_eq(cs_req_set_build(&b->req, &in, 1), 0);
			ut_buf_release(&one);
		} else {
			cr_assert_eq(cs_req_set_empty(&b->req), 0);
		}
	}
	if (o->ent_xml) {
		cr_assert_eq(cs_ent_xml_blob(&b->ent, o->ent_xml, strlen(o->ent_xml)), 0);
		cr_assert_eq(cs_ent_der_blob_from_plist(o->ent_xml, strlen(o->ent_xml), &b->der), 0, "%s", ut_errmsg());
	}
}

static void release_blobs(struct blobs *b)
{
	ut_buf_release(&b->req);
	ut_buf_release(&b->ent);
	ut_buf_release(&b->der);
	ut_buf_release(&b->cms);
	ut_buf_release(&b->cd[0]);
	ut_buf_release(&b->cd[1]);
}

/* Grows the signature area to RESERVE: LC_CODE_SIGNATURE.datasize and __LINKEDIT sizes. */
static uint8_t *grow(const uint8_t *in, size_t len, uint32_t reserve, uint64_t *dataoff, uint64_t *text_off, uint64_t *text_size,
		     uint32_t *filetype, size_t *out_len)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	cr_assert_eq(ut_src_mem(&src, in, len, "input"), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s", ut_errmsg());
	cr_assert_eq(f->nslices, 1);
	const struct mo_image *img = f->slices[0].img;
	cr_assert(img && img->has_codesig && img->linkedit_seg >= 0 && img->text_seg >= 0);
	*dataoff = img->codesig.off;
	*text_off = img->segments[img->text_seg].fileoff;
	*text_size = img->segments[img->text_seg].filesize;
	*filetype = img->filetype;
	size_t n = (size_t)*dataoff + reserve;
	uint8_t *out = calloc(1, n);
	cr_assert_not_null(out);
	memcpy(out, in, *dataoff);
	ut_put_le32(out + img->lcs[img->codesig_lc].off + 12, reserve);
	const struct mo_segment *le = &img->segments[img->linkedit_seg];
	uint8_t *seg = out + img->lcs[le->lc_index].off;
	uint64_t filesize = n - le->fileoff;
	ut_put_le64(seg + 48, filesize);
	ut_put_le64(seg + 32, (filesize + 0x3fff) & ~(uint64_t)0x3fff);
	mo_file_free(f);
	ut_src_release(&src);
	*out_len = n;
	return out;
}

uint8_t *tv_sign(const uint8_t *in, size_t len, const struct tv_sign_opts *o, size_t *out_len)
{
	uint64_t dataoff, toff, tsize;
	uint32_t filetype;
	uint32_t reserve = o->reserve ? o->reserve : RESERVE;
	uint8_t *out = grow(in, len, reserve, &dataoff, &toff, &tsize, &filetype, out_len);
	struct blobs b;
	make_blobs(&b, o);
	struct ut_span inputs[CS_SPECIAL_SLOT_MAX + 1];
	memset(inputs, 0, sizeof(inputs));
	if (o->info_plist)
		inputs[CSSLOT_INFOSLOT] = ut_span_make(o->info_plist, o->info_plist_len);
	if (!o->no_requirements)
		inputs[CSSLOT_REQUIREMENTS] = ut_span_make(b.req.p, b.req.len);
	if (o->ent_xml) {
		inputs[CSSLOT_ENTITLEMENTS] = ut_span_make(b.ent.p, b.ent.len);
		inputs[CSSLOT_DER_ENTITLEMENTS] = ut_span_make(b.der.p, b.der.len);
	}
	unsigned types[2] = { o->hash_types[0] ? o->hash_types[0] : CS_HASHTYPE_SHA256, o->hash_types[1] };
	unsigned ntypes = types[1] ? 2 : 1;
	struct ut_src src;
	cr_assert_eq(ut_src_mem(&src, out, dataoff, "signed"), 0);
	struct cs_cdhash cdh[2];
	for (unsigned t = 0; t < ntypes; t++) {
		uint64_t np = cs_page_count(dataoff, 12);
		uint8_t *hashes = malloc(np * cs_hash_size(types[t]));
		struct cs_page_hashes req = { types[t], hashes };
		cr_assert_eq(cs_hash_pages(&src, 0, dataoff, 12, &req, 1, 1), 0);
		struct cs_special_slots sp;
		cr_assert_eq(cs_special_slots_compute(&sp, types[t], inputs), 0);
		struct cs_cd_params p = { .flags = o->flags, .hash_type = types[t], .page_shift = 12,
					  .identifier = o->identifier, .team_id = o->team, .code_limit = dataoff,
					  .exec_seg_base = toff, .exec_seg_limit = tsize,
					  .exec_seg_flags = filetype == MH_EXECUTE ? CS_EXECSEG_MAIN_BINARY : 0,
					  .special = sp.count ? &sp : NULL, .code_hashes = hashes };
		cr_assert_eq(cs_cd_build(&b.cd[t], &p, NULL), 0, "%s", ut_errmsg());
		free(hashes);
		cr_assert_eq(cs_cdhash_compute(&cdh[t], types[t], b.cd[t].p, b.cd[t].len), 0);
	}
	ut_src_release(&src);
	/* cdhashes sorted by hash type for the CMS attributes */
	if (ntypes == 2 && cdh[0].hash_type > cdh[1].hash_type) {
		struct cs_cdhash x = cdh[0];
		cdh[0] = cdh[1];
		cdh[1] = x;
	}
	if (o->id) {
		uint8_t *cms = NULL;
		size_t cms_len = 0;
		struct cs_cms_sign_opts so = { .has_signing_time = 1, .signing_time = 1700000000 };
		cr_assert_eq(cs_cms_sign(&cms, &cms_len, o->id, b.cd[0].p, b.cd[0].len, cdh, ntypes, &so), 0, "%s",
			     ut_errmsg());
		cr_assert_eq(cs_cms_wrap(&b.cms, cms, cms_len), 0);
		free(cms);
	} else {
		cr_assert_eq(cs_cms_wrap(&b.cms, NULL, 0), 0);
	}
	struct cs_blob_in bl[6];
	unsigned n = 0;
	bl[n++] = (struct cs_blob_in){ CSSLOT_CODEDIRECTORY, b.cd[0].p, b.cd[0].len };
	if (!o->no_requirements)
		bl[n++] = (struct cs_blob_in){ CSSLOT_REQUIREMENTS, b.req.p, b.req.len };
	if (o->ent_xml) {
		bl[n++] = (struct cs_blob_in){ CSSLOT_ENTITLEMENTS, b.ent.p, b.ent.len };
		bl[n++] = (struct cs_blob_in){ CSSLOT_DER_ENTITLEMENTS, b.der.p, b.der.len };
	}
	if (ntypes == 2)
		bl[n++] = (struct cs_blob_in){ CSSLOT_ALTERNATE_CODEDIRECTORIES, b.cd[1].p, b.cd[1].len };
	if (!o->no_cms_blob)
		bl[n++] = (struct cs_blob_in){ CSSLOT_SIGNATURESLOT, b.cms.p, b.cms.len };
	struct ut_buf sb;
	ut_buf_init(&sb, 0);
	cr_assert_eq(cs_superblob_build(&sb, CSMAGIC_EMBEDDED_SIGNATURE, bl, n, CS_SB_APPLE), 0, "%s", ut_errmsg());
	cr_assert_leq(sb.len, reserve);
	memcpy(out + dataoff, sb.p, sb.len);
	ut_buf_release(&sb);
	release_blobs(&b);
	return out;
}

void tv_verify_mem(const uint8_t *p, size_t len, const struct cs_verify_opts *o, struct cs_verify_result *r)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	cr_assert_eq(ut_src_mem(&src, p, len, "mem"), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s", ut_errmsg());
	cr_assert_eq(cs_verify_file(r, f, o), 0, "%s", ut_errmsg());
	mo_file_free(f);
	ut_src_release(&src);
}

const char *tv_first_failure(const struct cs_verify_slice *vs)
{
	for (unsigned i = 0; i < vs->nfindings; i++)
		if (vs->findings[i].problem != CS_PROB_NOTE)
			return vs->findings[i].detail;
	return "";
}

size_t tv_find(const uint8_t *hay, size_t n, const void *needle, size_t nl)
{
	for (size_t i = 0; i + nl <= n; i++)
		if (memcmp(hay + i, needle, nl) == 0)
			return i;
	cr_assert_fail("needle not found");
	return 0;
}
