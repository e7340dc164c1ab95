/* cs_linker.c - lld's linker signature, byte for byte. */
#include "cs_linker.h"

#include <stdlib.h>
#include <string.h>

#include "cs_pagehash.h"
#include "ut_bytes.h"
#include "ut_err.h"

#define LINKER_BLOB_HEADERS 24u  /* alignTo<8>(SuperBlob 12 + BlobIndex 8) */
#define LINKER_CD_SIZE 88u       /* CodeDirectory through execSegFlags (version 0x20400) */
#define LINKER_PAGE_SHIFT 12u
#define LINKER_HASH_SIZE 32u

static uint64_t headers_size(const char *identifier)
{
	uint64_t fixed = LINKER_BLOB_HEADERS + LINKER_CD_SIZE;
	return (fixed + strlen(identifier) + 1 + 15) & ~(uint64_t)15;
}

static uint64_t page_count(uint64_t code_limit)
{
	return (code_limit + (1u << LINKER_PAGE_SHIFT) - 1) >> LINKER_PAGE_SHIFT;
}

uint64_t cs_linker_sig_size(const char *identifier, uint64_t code_limit)
{
	return headers_size(identifier) + page_count(code_limit) * LINKER_HASH_SIZE;
}

int cs_linker_sig_build(const struct ut_src *src, uint64_t base, const struct cs_linker_params *p,
			struct ut_buf *out)
{
	uint64_t size = cs_linker_sig_size(p->identifier, p->code_limit);
	uint64_t hdrs = headers_size(p->identifier);
	uint64_t pages = page_count(p->code_limit);
	if (size > 0xffffffffu || p->code_limit > 0xffffffffu)
		return ut_fail(UT_EUNSUPPORTED, "linker signature over %llu bytes is too large",
			       (unsigned long long)p->code_limit);
	size_t start = out->len;
	int rc = ut_buf_zeros(out, (size_t)size);
	if (rc)
		return rc;
	uint8_t *s = out->p + start;
	ut_put_be32(s, 0xfade0cc0u);        /* CSMAGIC_EMBEDDED_SIGNATURE */
	ut_put_be32(s + 4, (uint32_t)size);
	ut_put_be32(s + 8, 1);
	ut_put_be32(s + 12, 0);              /* CSSLOT_CODEDIRECTORY */
	ut_put_be32(s + 16, LINKER_BLOB_HEADERS);
	uint8_t *cd = s + LINKER_BLOB_HEADERS;
	ut_put_be32(cd, 0xfade0c02u);        /* CSMAGIC_CODEDIRECTORY */
	ut_put_be32(cd + 4, (uint32_t)(size - LINKER_BLOB_HEADERS));
	ut_put_be32(cd + 8, 0x20400);        /* CS_SUPPORTSEXECSEG */
	ut_put_be32(cd + 12, 0x20002);       /* CS_ADHOC | CS_LINKER_SIGNED */
	ut_put_be32(cd + 16, (uint32_t)(hdrs - LINKER_BLOB_HEADERS)); /* hashOffset */
	ut_put_be32(cd + 20, LINKER_CD_SIZE); /* identOffset */
	ut_put_be32(cd + 24, 0);             /* nSpecialSlots */
	ut_put_be32(cd + 28, (uint32_t)pages);
	ut_put_be32(cd + 32, (uint32_t)p->code_limit);
	cd[36] = LINKER_HASH_SIZE;
	cd[37] = 2;                          /* CS_HASHTYPE_SHA256 */
	cd[38] = 0;
	cd[39] = LINKER_PAGE_SHIFT;
	ut_put_be64(cd + 64, p->exec_seg_base);
	ut_put_be64(cd + 72, p->exec_seg_limit);
	ut_put_be64(cd + 80, p->main_binary ? 1 : 0); /* CS_EXECSEG_MAIN_BINARY */
	memcpy(cd + LINKER_CD_SIZE, p->identifier, strlen(p->identifier));
	return cs_pagehash(src, base, p->code_limit, LINKER_PAGE_SHIFT, CS_PH_SHA256, s + hdrs);
}
