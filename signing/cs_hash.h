/*
 * cs_hash.h - the code-signing digests: the only place that calls OpenSSL's
 * digest functions (EVP).
 *
 * Hash types use the code-signing numbering (cs_format.h): 1 SHA-1 (20 bytes),
 * 2 SHA-256 (32), 3 SHA-256 truncated to 20, 4 SHA-384 (48).  Output buffers
 * are always CS_HASH_MAX_SIZE-sized or explicitly sized by cs_hash_size().
 *
 * Page hashing (cs_hash_pages) hashes a range of a ut_src in pages of
 * 1 << page_shift bytes, the last page at its real (short) length, as codesign,
 * ld64 and lld do.  It streams: memory use is bounded (at most ~16 MiB of read
 * buffers in total, whatever the input size), and inputs above 4 MiB are split
 * across threads (one contiguous run of pages each, read with pread).
 * Results do not depend on the thread count.
 */
#ifndef CS_HASH_H
#define CS_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "cs_format.h"
#include "ut_file.h"

/* Digest length of a hash type (20, 32, 20, 48), or 0 when the type is unknown. */
size_t cs_hash_size(unsigned type);
/* "sha1", "sha256", "sha256-truncated", "sha384", or NULL when unknown. */
const char *cs_hash_name(unsigned type);
/* The type for a name above (also accepts "sha256_truncated"); UT_EINVAL when unknown. */
int cs_hash_type_by_name(const char *name, unsigned *type);
/*
 * Preference rank (SEC hashPriorities / XNU hash_rank): sha384 4 > sha256 3 >
 * sha256-truncated 2 > sha1 1; 0 for unknown types.  The "best" CD has the highest rank.
 */
unsigned cs_hash_rank(unsigned type);

/* One-shot digest of p[0, len) into out (cs_hash_size(type) bytes written). */
int cs_hash(unsigned type, const void *p, size_t len, uint8_t out[CS_HASH_MAX_SIZE]);

/* Incremental digest.  cs_hasher_free accepts NULL. */
struct cs_hasher;
int cs_hasher_new(unsigned type, struct cs_hasher **out);
int cs_hasher_update(struct cs_hasher *h, const void *p, size_t len);
/* Writes the digest and resets the hasher for reuse. */
int cs_hasher_final(struct cs_hasher *h, uint8_t out[CS_HASH_MAX_SIZE]);
void cs_hasher_free(struct cs_hasher *h);

/*
 * Digests of src[off, off+len) for ntypes hash types in one read pass
 * (bounded buffer).  out[i] receives the digest of types[i].  ntypes <= 8.
 */
int cs_hash_src(const struct ut_src *src, uint64_t off, uint64_t len, const unsigned *types, unsigned ntypes,
		uint8_t (*out)[CS_HASH_MAX_SIZE]);

/*
 * Number of page slots covering limit bytes: ((limit - 1) >> page_shift) + 1,
 * 0 for limit 0; page_shift 0 means one "infinite" page (1 slot when limit > 0).
 */
uint64_t cs_page_count(uint64_t limit, unsigned page_shift);

/* One requested page-hash array: out holds cs_page_count() * cs_hash_size(type) bytes (caller-owned). */
struct cs_page_hashes {
	unsigned type;
	uint8_t *out;
};

/*
 * Hashes src[base, base+limit) in pages of 1 << page_shift (page_shift 0:
 * the whole range as one page; else 9..30) for nreq hash types (<= 4) into
 * the caller's arrays.  nthreads 0 = automatic (all cores for inputs above
 * 4 MiB, one thread otherwise); 1 forces sequential hashing.
 */
int cs_hash_pages(const struct ut_src *src, uint64_t base, uint64_t limit, unsigned page_shift,
		  const struct cs_page_hashes *req, unsigned nreq, unsigned nthreads);

#endif
