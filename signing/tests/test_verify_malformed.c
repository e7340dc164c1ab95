/*
 * test_verify_malformed.c - one defect per row in the signature data of an
 * otherwise valid agile ad-hoc signature (sha1 CD in slot 0, sha256 in 0x1000,
 * requirements, XML + DER entitlements, empty CMS wrapper): every row gives an
 * invalid slice with the expected problem and a message naming the defect,
 * never a crash (the suite also runs under ASan/UBSan).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_format.h"
#include "cs_hash.h"
#include "cs_verify.h"
#include "mo_file.h"
#include "tcorpus.h"
#include "test_verify_util.h"
#include "tsupport.h"
#include "ut_bytes.h"
#include "ut_err.h"

static const char ent[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
			  "\t<key>com.apple.security.get-task-allow</key>\n\t<true/>\n</dict>\n</plist>\n";

/* The signature being broken: sb points at the SuperBlob inside the file bytes. */
struct sig {
	uint8_t *sb;
	uint32_t area;          /* LC_CODE_SIGNATURE datasize */
	uint8_t *lc;            /* the LC_CODE_SIGNATURE command */
};

static uint8_t *entry(struct sig *s, uint32_t type)
{
	uint32_t count = ut_be32(s->sb + 8);
	for (uint32_t i = 0; i < count; i++)
		if (ut_be32(s->sb + 12 + 8 * i) == type)
			return s->sb + ut_be32(s->sb + 16 + 8 * i);
	cr_assert_fail("no slot 0x%x", type);
	return NULL;
}

static uint8_t *index_of(struct sig *s, uint32_t type)
{
	uint32_t count = ut_be32(s->sb + 8);
	for (uint32_t i = 0; i < count; i++)
		if (ut_be32(s->sb + 12 + 8 * i) == type)
			return s->sb + 12 + 8 * i;
	cr_assert_fail("no slot 0x%x", type);
	return NULL;
}

/* Re-hashes special slot k of a CD after its data changed (ad-hoc: nothing else covers the CD). */
static void rehash(struct sig *s, uint32_t cdslot, unsigned k, const uint8_t *data, size_t len)
{
	uint8_t *cd = entry(s, cdslot);
	uint8_t h[CS_HASH_MAX_SIZE];
	cr_assert_eq(cs_hash(cd[37], data, len, h), 0);
	memcpy(cd + ut_be32(cd + 16) - (size_t)k * cd[36], h, cd[36]);
}

static void sb_length_past_area(struct sig *s) { ut_put_be32(s->sb + 4, s->area + 1); }
static void sb_bad_magic(struct sig *s) { ut_put_be32(s->sb, CSMAGIC_EMBEDDED_SIGNATURE_OLD); }
static void sb_count_huge(struct sig *s) { ut_put_be32(s->sb + 8, 100000); }
static void sb_index_past_length(struct sig *s) { ut_put_be32(s->sb + 4, 12 + 8); }
static void index_offset_past_end(struct sig *s) { ut_put_be32(index_of(s, 2) + 4, ut_be32(s->sb + 4) + 16); }
static void blob_length_past_end(struct sig *s) { ut_put_be32(entry(s, 0x10000) + 4, 0x7fffffff); }
static void blob_length_below_header(struct sig *s) { ut_put_be32(entry(s, 0x10000) + 4, 4); }
static void cd_hash_offset_past_end(struct sig *s) { ut_put_be32(entry(s, 0) + 16, 0x7ffffff0); }
static void cd_special_slots_huge(struct sig *s) { ut_put_be32(entry(s, 0) + 24, 0x1000000); }
static void cd_code_slots_wrong(struct sig *s) { ut_put_be32(entry(s, 0x1000) + 28, ut_be32(entry(s, 0x1000) + 28) + 1); }
static void cd_code_limit_zero(struct sig *s) { ut_put_be32(entry(s, 0) + 32, 0); }
static void cd_version_unsupported(struct sig *s) { ut_put_be32(entry(s, 0) + 8, 0x30000); }
static void cd_version_too_old(struct sig *s) { ut_put_be32(entry(s, 0) + 8, 0x10000); }
static void cd_page_size_13(struct sig *s) { entry(s, 0)[39] = 13; }
static void cd_hash_type_unknown(struct sig *s) { entry(s, 0x1000)[37] = 5; }
static void cd_hash_size_wrong(struct sig *s) { entry(s, 0x1000)[36] = 20; }
static void cd_ident_unterminated(struct sig *s) { ut_put_be32(entry(s, 0) + 20, ut_be32(entry(s, 0) + 4) - 1); entry(s, 0)[ut_be32(entry(s, 0) + 4) - 1] = 'x'; }
static void cd_length_past_blob(struct sig *s) { ut_put_be32(entry(s, 0) + 4, ut_be32(entry(s, 0) + 4) + 4096); }
static void cd_length_below_header(struct sig *s) { ut_put_be32(entry(s, 0) + 4, 40); }
static void duplicate_hash_types(struct sig *s)
{
	uint8_t *alt = entry(s, 0x1000);
	alt[37] = CS_HASHTYPE_SHA1;
	alt[36] = 20;
}
static void no_cd_in_slot_0(struct sig *s) { ut_put_be32(index_of(s, 0), 0x1001); }
static void alternate_gap(struct sig *s) { ut_put_be32(index_of(s, 0x1000), 0x1002); }
static void cd_slot_not_a_cd(struct sig *s) { ut_put_be32(entry(s, 0x1000), CSMAGIC_REQUIREMENT); }
static void ent_slot_wrong_magic(struct sig *s) { ut_put_be32(entry(s, 5), CSMAGIC_EMBEDDED_DER_ENTITLEMENTS); }
static void duplicate_ent_slot(struct sig *s)
{
	ut_put_be32(entry(s, 7), CSMAGIC_EMBEDDED_ENTITLEMENTS);
	ut_put_be32(index_of(s, 7), 5);
}
static void req_wrong_magic(struct sig *s) { ut_put_be32(entry(s, 2), CSMAGIC_REQUIREMENT); }
static void req_set_count_past_end(struct sig *s)
{
	uint8_t *r = entry(s, 2);
	ut_put_be32(r + 8, 3);
}
static void cms_wrong_magic(struct sig *s) { ut_put_be32(entry(s, 0x10000), 0xfade0b02); }
static void lc_datasize_zero(struct sig *s) { ut_put_le32(s->lc + 12, 0); }
static void xml_entitlements_not_a_plist(struct sig *s)
{
	uint8_t *e = entry(s, 5);
	uint32_t len = ut_be32(e + 4);
	memset(e + 8, 'x', len - 8);
	rehash(s, 0, 5, e, len);
	rehash(s, 0x1000, 5, e, len);
}
static void der_entitlements_garbage(struct sig *s)
{
	uint8_t *e = entry(s, 7);
	uint32_t len = ut_be32(e + 4);
	e[8] = 0x04; /* OCTET STRING where the 0x70 wrapper belongs */
	rehash(s, 0, 7, e, len);
	rehash(s, 0x1000, 7, e, len);
}
static void cd_flags_disagree(struct sig *s)
{
	uint8_t *alt = entry(s, 0x1000);
	ut_put_be32(alt + 12, ut_be32(alt + 12) | CS_RUNTIME);
}

static const struct row {
	const char *name;
	void (*fn)(struct sig *);
	enum cs_problem problem;
	const char *msg;
} rows[] = {
	{ "superblob length past the area", sb_length_past_area, CS_PROB_FORMAT, "superblob length" },
	{ "superblob magic", sb_bad_magic, CS_PROB_FORMAT, "superblob magic 0xfade0b02" },
	{ "superblob count above the limit", sb_count_huge, CS_PROB_UNSUPPORTED, "superblob count 100000" },
	{ "index past the superblob length", sb_index_past_length, CS_PROB_FORMAT, "index of 6 entries past its length 20" },
	{ "index offset past end", index_offset_past_end, CS_PROB_FORMAT, "offset" },
	{ "blob length past end", blob_length_past_end, CS_PROB_FORMAT, "past end of data" },
	{ "blob length below its header", blob_length_below_header, CS_PROB_FORMAT, "below its 8-byte header" },
	{ "CD hashOffset past end", cd_hash_offset_past_end, CS_PROB_FORMAT, "hash offset" },
	{ "CD nSpecialSlots huge", cd_special_slots_huge, CS_PROB_FORMAT, "special slots do not fit" },
	{ "CD nCodeSlots wrong", cd_code_slots_wrong, CS_PROB_FORMAT, "code slots" },
	{ "CD codeLimit 0", cd_code_limit_zero, CS_PROB_FORMAT, "code limit 0" },
	{ "CD version unsupported", cd_version_unsupported, CS_PROB_UNSUPPORTED, "version 0x30000" },
	{ "CD version too old", cd_version_too_old, CS_PROB_UNSUPPORTED, "version 0x10000" },
	{ "CD page size 2^13", cd_page_size_13, CS_PROB_UNSUPPORTED, "page size" },
	{ "CD hash type unknown", cd_hash_type_unknown, CS_PROB_UNSUPPORTED, "hash type 5" },
	{ "CD hash size wrong", cd_hash_size_wrong, CS_PROB_FORMAT, "hash size 20" },
	{ "CD identifier not terminated", cd_ident_unterminated, CS_PROB_FORMAT, "not NUL-terminated" },
	{ "CD length past its blob", cd_length_past_blob, CS_PROB_FORMAT, "past end of data" },
	{ "CD length below its header", cd_length_below_header, CS_PROB_FORMAT, "truncated" },
	{ "duplicate CD hash types", duplicate_hash_types, CS_PROB_FORMAT, "multiple hash=1 code directories" },
	{ "no CD in slot 0", no_cd_in_slot_0, CS_PROB_FORMAT, "no code directory in slot 0" },
	{ "alternate CD gap", alternate_gap, CS_PROB_FORMAT, "slot 0x1002 without one in slot 0x1000" },
	{ "CD slot holds another blob", cd_slot_not_a_cd, CS_PROB_FORMAT, "slot 0x1000 holds a blob with magic" },
	{ "entitlements slot wrong magic", ent_slot_wrong_magic, CS_PROB_FORMAT, "slot 0x5 holds a blob" },
	{ "entitlements slot twice", duplicate_ent_slot, CS_PROB_FORMAT, "multiple Entitlements blobs" },
	{ "requirements wrong magic", req_wrong_magic, CS_PROB_FORMAT, "requirements" },
	{ "requirements index past end", req_set_count_past_end, CS_PROB_FORMAT, "requirements" },
	{ "CMS wrapper wrong magic", cms_wrong_magic, CS_PROB_FORMAT, "CMS signature" },
	{ "LC_CODE_SIGNATURE datasize 0", lc_datasize_zero, CS_PROB_FORMAT, "datasize is 0" },
	{ "XML entitlements not a plist", xml_entitlements_not_a_plist, CS_PROB_ENTITLEMENTS, "XML entitlements blob" },
	{ "DER entitlements garbage", der_entitlements_garbage, CS_PROB_ENTITLEMENTS, "DER entitlements blob" },
	{ "CDs disagree on flags", cd_flags_disagree, CS_PROB_FORMAT, "disagree on flags" },
};

static uint8_t *base(size_t *n, struct sig *s)
{
	size_t len;
	uint8_t *in = tc_read_file(ts_fixture("arm64-exe"), &len);
	struct tv_sign_opts o = { .identifier = "com.utmpatch.malformed", .flags = CS_ADHOC, .ent_xml = ent,
				  .hash_types = { CS_HASHTYPE_SHA1, CS_HASHTYPE_SHA256 } };
	uint8_t *d = tv_sign(in, len, &o, n);
	free(in);
	struct ut_src src;
	struct mo_file *f = NULL;
	cr_assert_eq(ut_src_mem(&src, d, *n, "base"), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0);
	const struct mo_image *img = f->slices[0].img;
	s->sb = d + img->codesig.off;
	s->area = img->codesig.size;
	s->lc = d + img->lcs[img->codesig_lc].off;
	mo_file_free(f);
	ut_src_release(&src);
	return d;
}

Test(verify_malformed, one_defect_per_row, .timeout = 60)
{
	size_t n;
	struct sig s;
	uint8_t *d = base(&n, &s);
	struct cs_verify_result r;
	tv_verify_mem(d, n, NULL, &r);
	cr_assert(r.valid, "base: %s", tv_first_failure(&r.slices[0]));
	cs_verify_result_release(&r);
	free(d);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		d = base(&n, &s);
		rows[i].fn(&s);
		tv_verify_mem(d, n, NULL, &r);
		const struct cs_verify_slice *vs = &r.slices[0];
		cr_assert(!vs->valid, "%s: still valid", rows[i].name);
		cr_assert_eq(vs->verdict, rows[i].problem, "%s: %s (%s)", rows[i].name, cs_problem_text(vs->verdict),
			     tv_first_failure(vs));
		cr_assert(strstr(tv_first_failure(vs), rows[i].msg), "%s: '%s'", rows[i].name, tv_first_failure(vs));
		cs_verify_result_release(&r);
		free(d);
	}
}
