/*
 * cs_pagehash.h - code page hashing over a source range (temporary minimal
 * version; the parallel streaming hasher in cs_hash replaces it).
 */
#ifndef CS_PAGEHASH_H
#define CS_PAGEHASH_H

#include <stdint.h>

#include "ut_file.h"

enum { CS_PH_SHA256 = 2 };

/* Hashes [base, base+limit) of src in pages of 1<<shift (last one short) into out (npages*32 bytes). */
int cs_pagehash(const struct ut_src *src, uint64_t base, uint64_t limit, unsigned shift, int type, uint8_t *out);

#endif
