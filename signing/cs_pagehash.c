/* cs_pagehash.c - the early page-hash entry point, now a thin wrapper over cs_hash_pages. */
#include "cs_pagehash.h"

#include "cs_hash.h"

int cs_pagehash(const struct ut_src *src, uint64_t base, uint64_t limit, unsigned shift, int type, uint8_t *out)
{
	struct cs_page_hashes req = { (unsigned)type, out };
	return cs_hash_pages(src, base, limit, shift, &req, 1, 0);
}
