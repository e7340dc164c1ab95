/*
 * fuzz_superblob.c - libFuzzer target: SuperBlob parsing and every
 * CodeDirectory / requirements / DER-entitlements blob inside, on raw bytes
 * and on the signatures of any Mach-O the input happens to be.  Checks
 * invariants: a parsed CD rebuilds into a CD that parses; a decompiled
 * requirement that compiles decompiles to the same text; decoded DER
 * entitlements re-encode stably.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs_blob.h"
#include "cs_cd.h"
#include "cs_ent.h"
#include "cs_req.h"
#include "mo_file.h"
#include "ut_file.h"
#include "ut_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cd(const uint8_t *p, size_t n)
{
	struct cs_cd cd;
	if (cs_cd_parse(&cd, p, n) != 0)
		return;
	uint8_t h[CS_HASH_MAX_SIZE];
	size_t hl;
	if (cs_cd_cdhash(&cd, 1, h, &hl) != 0 || hl > CS_CDHASH_LEN)
		abort();
	struct cs_special_slots ss = { .hash_type = cd.hash_type, .count = cd.n_special_slots };
	if (cd.n_special_slots > CS_SPECIAL_SLOT_MAX)
		return;
	for (unsigned k = 1; k <= cd.n_special_slots; k++)
		memcpy(ss.hash[k], cs_cd_special_slot(&cd, k), cd.hash_size);
	(void)cs_cd_special_present(&cd, 1);
	struct cs_cd_params prm = {
		.version = cd.version, .flags = cd.flags, .hash_type = cd.hash_type, .platform = cd.platform,
		.page_shift = cd.page_size, .identifier = cd.identifier, .team_id = cd.team_id,
		.code_limit = cs_cd_code_limit(&cd), .exec_seg_base = cd.exec_seg_base,
		.exec_seg_limit = cd.exec_seg_limit, .exec_seg_flags = cd.exec_seg_flags, .runtime = cd.runtime,
		.special = &ss, .code_hashes = cd.hashes,
	};
	struct ut_buf b;
	ut_buf_init(&b, (size_t)64 << 20);
	if (cs_cd_build(&b, &prm, NULL) == 0) {
		struct cs_cd again;
		if (cs_cd_parse(&again, b.p, b.len) != 0 || again.n_code_slots != cd.n_code_slots ||
		    strcmp(again.identifier, cd.identifier) != 0)
			abort();
	}
	ut_buf_release(&b);
}

/* text(compile(text(r))) == text(r) whenever the text compiles. */
static void check_req(const uint8_t *p, size_t n)
{
	struct ut_buf t1, bin, t2;
	ut_buf_init(&t1, 0);
	ut_buf_init(&bin, 0);
	ut_buf_init(&t2, 0);
	if (cs_req_text(p, n, &t1) == 0 && !strstr((char *)t1.p, "/* opcode") &&
	    cs_req_compile((char *)t1.p, 0, &bin) == 0) {
		if (cs_req_text(bin.p, bin.len, &t2) != 0 || strcmp((char *)t1.p, (char *)t2.p) != 0)
			abort();
	}
	ut_buf_release(&t1);
	ut_buf_release(&bin);
	ut_buf_release(&t2);
}

static void check_der(const uint8_t *p, size_t n)
{
	plist_t a = NULL, b = NULL;
	struct ut_buf e1, e2;
	ut_buf_init(&e1, 0);
	ut_buf_init(&e2, 0);
	if (cs_ent_der_blob_decode(p, n, &a, NULL) == 0) {
		if (cs_ent_der_blob(a, &e1) != 0 || cs_ent_der_blob_decode(e1.p, e1.len, &b, NULL) != 0 ||
		    cs_ent_der_blob(b, &e2) != 0 || e1.len != e2.len || memcmp(e1.p, e2.p, e1.len) != 0)
			abort();
		(void)cs_ent_exec_seg_flags(a);
	}
	plist_free(a);
	plist_free(b);
	ut_buf_release(&e1);
	ut_buf_release(&e2);
}

static void check_sig(const uint8_t *p, size_t n)
{
	struct cs_superblob sb;
	struct ut_buf t;
	check_cd(p, n);
	check_req(p, n);
	if (cs_superblob_parse(&sb, p, n, 0) != 0)
		return;
	for (uint32_t i = 0; i < sb.count; i++) {
		const struct cs_blob *b = &sb.entries[i].blob;
		switch (b->magic) {
		case CSMAGIC_CODEDIRECTORY: check_cd(b->p, b->length); break;
		case CSMAGIC_REQUIREMENT: check_req(b->p, b->length); break;
		case CSMAGIC_EMBEDDED_DER_ENTITLEMENTS: check_der(b->p, b->length); break;
		case CSMAGIC_REQUIREMENTS: {
			struct cs_req_set set;
			ut_buf_init(&t, 0);
			(void)cs_req_set_text(b->p, b->length, &t);
			ut_buf_release(&t);
			if (cs_req_set_parse(&set, b->p, b->length) == 0)
				for (uint32_t k = 0; k < set.count; k++)
					check_req(set.entries[k].blob.p, set.entries[k].blob.length);
			break;
		}
		}
	}
	/* Rebuilding the index gives a SuperBlob that parses the same way. */
	struct cs_blob_in in[UT_MAX_BLOBS];
	for (uint32_t i = 0; i < sb.count; i++)
		in[i] = (struct cs_blob_in){ sb.entries[i].type, sb.entries[i].blob.p, sb.entries[i].blob.length };
	struct ut_buf out;
	ut_buf_init(&out, 0);
	if (cs_superblob_build(&out, sb.magic, in, sb.count, CS_SB_APPLE) == 0) {
		struct cs_superblob again;
		if (cs_superblob_parse(&again, out.p, out.len, sb.magic) != 0 || again.count != sb.count)
			abort();
	}
	ut_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_sig(data, size);
	struct ut_src src;
	struct mo_file *f = NULL;
	if (ut_src_mem(&src, data, size, "fuzz") != 0)
		return 0;
	if (mo_file_parse(&src, &f) == 0) {
		for (uint32_t i = 0; i < f->nslices; i++) {
			const struct mo_image *img = f->slices[i].img;
			if (!img || !img->has_codesig || img->codesig.size > UT_MAX_SIG_SIZE)
				continue;
			uint8_t *sig = malloc(img->codesig.size ? img->codesig.size : 1);
			if (sig && mo_slice_read(f, &f->slices[i], img->codesig.off, sig, img->codesig.size) == 0)
				check_sig(sig, img->codesig.size);
			free(sig);
		}
		mo_file_free(f);
	}
	ut_src_release(&src);
	return 0;
}
