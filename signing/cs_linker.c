/* cs_linker.c - lld's linker signature, byte for byte, from the CodeDirectory and SuperBlob builders. */
#include "cs_linker.h"

#include <stdlib.h>

#include "cs_blob.h"
#include "cs_cd.h"
#include "cs_hash.h"
#include "ut_err.h"

uint64_t cs_linker_sig_size(const char *identifier, uint64_t code_limit)
{
	struct cs_cd_lld_params p = { identifier, code_limit, 0, 0, 0, NULL };
	struct cs_cd_layout l;
	return cs_cd_layout_lld(&p, &l) ? 0 : CS_LLD_BLOB_HEADERS_SIZE + (uint64_t)l.length;
}

int cs_linker_sig_build(const struct ut_src *src, uint64_t base, const struct cs_linker_params *p,
			struct ut_buf *out)
{
	uint64_t pages = cs_page_count(p->code_limit, 12);
	if (p->code_limit > UINT32_MAX)
		return ut_fail(UT_EUNSUPPORTED, "linker signature over %llu bytes is too large",
			       (unsigned long long)p->code_limit);
	uint8_t *hashes = malloc(pages ? (size_t)pages * CS_SHA256_LEN : 1);
	if (!hashes)
		return ut_fail(UT_ENOMEM, "cannot allocate %llu page hashes", (unsigned long long)pages);
	struct cs_page_hashes req = { CS_HASHTYPE_SHA256, hashes };
	int rc = cs_hash_pages(src, base, p->code_limit, 12, &req, 1, 0);
	struct ut_buf cd;
	ut_buf_init(&cd, 0);
	struct cs_cd_lld_params lp = { p->identifier, p->code_limit, p->exec_seg_base, p->exec_seg_limit,
				       p->main_binary ? CS_EXECSEG_MAIN_BINARY : 0, hashes };
	if (!rc)
		rc = cs_cd_build_lld(&cd, &lp);
	if (!rc) {
		struct cs_blob_in in = { CSSLOT_CODEDIRECTORY, cd.p, cd.len };
		rc = cs_superblob_build(out, CSMAGIC_EMBEDDED_SIGNATURE, &in, 1, CS_SB_LLD);
	}
	ut_buf_release(&cd);
	free(hashes);
	return rc;
}
