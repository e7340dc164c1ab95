/* cs_hash.c - code-signing digests over OpenSSL EVP; streamed, parallel page hashing. */
#define _POSIX_C_SOURCE 200809L
#include "cs_hash.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_platform.h"

#define PAR_THRESHOLD   ((uint64_t)4 << 20)  /* hash sequentially up to this many bytes */
#define BUF_BUDGET      ((size_t)16 << 20)   /* all read buffers of one call together */
#define CHUNK_MAX       ((size_t)4 << 20)
#define CHUNK_MIN       ((size_t)256 << 10)
#define MAX_THREADS     64u
#define MAX_REQ         4u
#define SRC_MAX_TYPES   8u

size_t cs_hash_size(unsigned type)
{
	switch (type) {
	case CS_HASHTYPE_SHA1: return CS_SHA1_LEN;
	case CS_HASHTYPE_SHA256: return CS_SHA256_LEN;
	case CS_HASHTYPE_SHA256_TRUNCATED: return CS_SHA256_TRUNCATED_LEN;
	case CS_HASHTYPE_SHA384: return CS_SHA384_LEN;
	}
	return 0;
}

const char *cs_hash_name(unsigned type)
{
	switch (type) {
	case CS_HASHTYPE_SHA1: return "sha1";
	case CS_HASHTYPE_SHA256: return "sha256";
	case CS_HASHTYPE_SHA256_TRUNCATED: return "sha256-truncated";
	case CS_HASHTYPE_SHA384: return "sha384";
	}
	return NULL;
}

int cs_hash_type_by_name(const char *name, unsigned *type)
{
	for (unsigned t = CS_HASHTYPE_SHA1; t <= CS_HASHTYPE_SHA384; t++) {
		if (strcmp(name, cs_hash_name(t)) == 0) {
			*type = t;
			return 0;
		}
	}
	if (strcmp(name, "sha256_truncated") == 0) {
		*type = CS_HASHTYPE_SHA256_TRUNCATED;
		return 0;
	}
	return ut_fail(UT_EINVAL, "unknown hash type '%s'", name);
}

unsigned cs_hash_rank(unsigned type)
{
	switch (type) {
	case CS_HASHTYPE_SHA1: return 1;
	case CS_HASHTYPE_SHA256_TRUNCATED: return 2;
	case CS_HASHTYPE_SHA256: return 3;
	case CS_HASHTYPE_SHA384: return 4;
	}
	return 0;
}

static const EVP_MD *evp_md(unsigned type)
{
	switch (type) {
	case CS_HASHTYPE_SHA1: return EVP_sha1();
	case CS_HASHTYPE_SHA256:
	case CS_HASHTYPE_SHA256_TRUNCATED: return EVP_sha256();
	case CS_HASHTYPE_SHA384: return EVP_sha384();
	}
	return NULL;
}

struct cs_hasher {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	EVP_MD *fetched; /* OpenSSL 3: fetched once, so restarting a page skips the provider lookup */
	unsigned type;
};

static void hasher_release(struct cs_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MD_free(h->fetched);
#endif
	h->fetched = NULL;
}

static int hasher_init(struct cs_hasher *h, unsigned type)
{
	h->type = type;
	h->md = evp_md(type);
	h->fetched = NULL;
	if (!h->md)
		return ut_fail(UT_EUNSUPPORTED, "unsupported hash type %u", type);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	h->fetched = EVP_MD_fetch(NULL, EVP_MD_get0_name(h->md), NULL);
	if (h->fetched)
		h->md = h->fetched;
#endif
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1) {
		int nomem = !h->ctx;
		hasher_release(h);
		return nomem ? ut_fail(UT_ENOMEM, "cannot allocate a digest context")
			     : ut_fail(UT_ECRYPTO, "cannot start a %s digest", cs_hash_name(type));
	}
	return 0;
}

static int hasher_update(struct cs_hasher *h, const void *p, size_t len)
{
	if (len && EVP_DigestUpdate(h->ctx, p, len) != 1)
		return ut_fail(UT_ECRYPTO, "%s digest update failed", cs_hash_name(h->type));
	return 0;
}

/* Writes the (possibly truncated) digest and restarts the context. */
static int hasher_final(struct cs_hasher *h, uint8_t *out)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1)
		return ut_fail(UT_ECRYPTO, "%s digest failed", cs_hash_name(h->type));
	memcpy(out, md, cs_hash_size(h->type));
	return 0;
}

int cs_hasher_new(unsigned type, struct cs_hasher **out)
{
	*out = NULL;
	struct cs_hasher *h = calloc(1, sizeof(*h));
	if (!h)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = hasher_init(h, type);
	if (rc) {
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

int cs_hasher_update(struct cs_hasher *h, const void *p, size_t len) { return hasher_update(h, p, len); }

int cs_hasher_final(struct cs_hasher *h, uint8_t out[CS_HASH_MAX_SIZE]) { return hasher_final(h, out); }

void cs_hasher_free(struct cs_hasher *h)
{
	if (!h)
		return;
	hasher_release(h);
	free(h);
}

int cs_hash(unsigned type, const void *p, size_t len, uint8_t out[CS_HASH_MAX_SIZE])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	const EVP_MD *m = evp_md(type);
	if (!m)
		return ut_fail(UT_EUNSUPPORTED, "unsupported hash type %u", type);
	if (EVP_Digest(p, len, md, &n, m, NULL) != 1)
		return ut_fail(UT_ECRYPTO, "%s digest failed", cs_hash_name(type));
	memcpy(out, md, cs_hash_size(type));
	return 0;
}

int cs_hash_src(const struct ut_src *src, uint64_t off, uint64_t len, const unsigned *types, unsigned ntypes,
		uint8_t (*out)[CS_HASH_MAX_SIZE])
{
	struct cs_hasher h[SRC_MAX_TYPES];
	unsigned ready = 0;
	uint8_t *buf = NULL;
	int rc = 0;
	if (ntypes == 0 || ntypes > SRC_MAX_TYPES)
		return ut_fail(UT_EINVAL, "cannot compute %u digests in one pass", ntypes);
	if (!ut_range_ok(off, len, src->size))
		return ut_fail(UT_EMALFORMED, "'%s': range %llu+%llu past end of file (size %llu)", src->name,
			       (unsigned long long)off, (unsigned long long)len, (unsigned long long)src->size);
	for (; ready < ntypes; ready++)
		if ((rc = hasher_init(&h[ready], types[ready])) != 0)
			goto out;
	size_t chunk = len < CHUNK_MAX ? (size_t)len : CHUNK_MAX;
	if (src->fd >= 0 && !(buf = malloc(chunk ? chunk : 1))) {
		rc = ut_fail(UT_ENOMEM, "cannot allocate %zu bytes", chunk);
		goto out;
	}
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < chunk ? (size_t)(len - done) : chunk;
		const uint8_t *p = src->mem + off + done;
		if (src->fd >= 0) {
			if ((rc = ut_src_read(src, off + done, buf, n)) != 0)
				goto out;
			p = buf;
		}
		for (unsigned i = 0; i < ntypes; i++)
			if ((rc = hasher_update(&h[i], p, n)) != 0)
				goto out;
		done += n;
	}
	for (unsigned i = 0; i < ntypes; i++)
		if ((rc = hasher_final(&h[i], out[i])) != 0)
			goto out;
out:
	for (unsigned i = 0; i < ready; i++)
		hasher_release(&h[i]);
	free(buf);
	return rc;
}

uint64_t cs_page_count(uint64_t limit, unsigned page_shift)
{
	if (limit == 0)
		return 0;
	if (page_shift == 0)
		return 1;
	return ((limit - 1) >> page_shift) + 1;
}

/* One worker: pages [first, end) of the range. */
struct page_job {
	const struct ut_src *src;
	uint64_t base, limit, page_size;
	uint64_t first, end;
	const struct cs_page_hashes *req;
	unsigned nreq;
	size_t chunk;
	int rc;
	char msg[512];
};

static int hash_run(struct page_job *j, struct cs_hasher *h, uint8_t *buf)
{
	uint64_t off = j->first * j->page_size;
	uint64_t end = j->end * j->page_size;
	if (end > j->limit || end / j->page_size != j->end)
		end = j->limit;
	uint64_t page = j->first;
	uint64_t page_left = j->limit - off < j->page_size ? j->limit - off : j->page_size;
	int rc;
	while (off < end) {
		size_t n = end - off < j->chunk ? (size_t)(end - off) : j->chunk;
		const uint8_t *p = j->src->mem + j->base + off;
		if (j->src->fd >= 0) {
			if ((rc = ut_src_read(j->src, j->base + off, buf, n)) != 0)
				return rc;
			p = buf;
		}
		off += n;
		while (n) {
			size_t take = n < page_left ? n : (size_t)page_left;
			for (unsigned i = 0; i < j->nreq; i++)
				if ((rc = hasher_update(&h[i], p, take)) != 0)
					return rc;
			p += take;
			n -= take;
			page_left -= take;
			if (page_left)
				continue;
			for (unsigned i = 0; i < j->nreq; i++) {
				size_t hs = cs_hash_size(j->req[i].type);
				if ((rc = hasher_final(&h[i], j->req[i].out + page * hs)) != 0)
					return rc;
			}
			page++;
			uint64_t pos = page * j->page_size;
			page_left = pos < j->limit ? (j->limit - pos < j->page_size ? j->limit - pos : j->page_size) : 0;
		}
	}
	return 0;
}

static void *page_worker(void *arg)
{
	struct page_job *j = arg;
	struct cs_hasher h[MAX_REQ];
	unsigned ready = 0;
	uint8_t *buf = NULL;
	int rc = 0;
	for (; ready < j->nreq; ready++)
		if ((rc = hasher_init(&h[ready], j->req[ready].type)) != 0)
			goto out;
	if (j->src->fd >= 0 && !(buf = malloc(j->chunk))) {
		rc = ut_fail(UT_ENOMEM, "cannot allocate %zu bytes", j->chunk);
		goto out;
	}
	rc = hash_run(j, h, buf);
out:
	for (unsigned i = 0; i < ready; i++)
		hasher_release(&h[i]);
	free(buf);
	j->rc = rc;
	if (rc)
		snprintf(j->msg, sizeof(j->msg), "%s", ut_errmsg());
	return NULL;
}

static unsigned pick_threads(uint64_t limit, uint64_t pages, unsigned nthreads)
{
	unsigned t = nthreads;
	if (t == 0)
		t = limit > PAR_THRESHOLD ? (unsigned)ut_ncpu() : 1;
	if (t > MAX_THREADS)
		t = MAX_THREADS;
	if (t > pages)
		t = (unsigned)pages;
	return t ? t : 1;
}

int cs_hash_pages(const struct ut_src *src, uint64_t base, uint64_t limit, unsigned page_shift,
		  const struct cs_page_hashes *req, unsigned nreq, unsigned nthreads)
{
	if (nreq == 0 || nreq > MAX_REQ)
		return ut_fail(UT_EINVAL, "cannot compute %u page-hash types at once", nreq);
	for (unsigned i = 0; i < nreq; i++)
		if (!cs_hash_size(req[i].type))
			return ut_fail(UT_EUNSUPPORTED, "unsupported hash type %u", req[i].type);
	if (page_shift != 0 && (page_shift < 9 || page_shift > 30))
		return ut_fail(UT_EUNSUPPORTED, "unsupported page size 2^%u", page_shift);
	if (!ut_range_ok(base, limit, src->size))
		return ut_fail(UT_EMALFORMED, "'%s': code range %llu+%llu past end of file (size %llu)", src->name,
			       (unsigned long long)base, (unsigned long long)limit, (unsigned long long)src->size);
	uint64_t pages = cs_page_count(limit, page_shift);
	if (pages == 0)
		return 0;
	uint64_t page_size = page_shift ? (uint64_t)1 << page_shift : limit;
	unsigned t = page_shift ? pick_threads(limit, pages, nthreads) : 1;
	size_t chunk = BUF_BUDGET / t;
	if (chunk > CHUNK_MAX)
		chunk = CHUNK_MAX;
	if (chunk < CHUNK_MIN)
		chunk = CHUNK_MIN;
	struct page_job jobs[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	unsigned started = 0;
	uint64_t per = pages / t, extra = pages % t, first = 0;
	for (unsigned i = 0; i < t; i++) {
		uint64_t n = per + (i < extra);
		jobs[i] = (struct page_job){ src, base, limit, page_size, first, first + n, req, nreq, chunk, 0, "" };
		first += n;
	}
	/* Workers 1..t-1 on new threads, worker 0 (and any that could not start) here. */
	for (unsigned i = 1; i < t; i++, started++)
		if (pthread_create(&tid[i], NULL, page_worker, &jobs[i]) != 0)
			break;
	page_worker(&jobs[0]);
	for (unsigned i = started + 1; i < t; i++)
		page_worker(&jobs[i]);
	for (unsigned i = 1; i <= started; i++)
		pthread_join(tid[i], NULL);
	for (unsigned i = 0; i < t; i++)
		if (jobs[i].rc)
			return ut_fail(jobs[i].rc, "%s", jobs[i].msg);
	return 0;
}
