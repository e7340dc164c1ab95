/* test_hash.c - digests and page hashing against published vectors, openssl(1) and zero-page constants. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_hash.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_platform.h"

static void hex_of(const uint8_t *p, size_t n, char *out) { ut_hex(out, p, n); }

static void expect_hash(unsigned type, const void *p, size_t n, const char *hex)
{
	uint8_t md[CS_HASH_MAX_SIZE];
	char got[2 * CS_HASH_MAX_SIZE + 1];
	cr_assert_eq(cs_hash(type, p, n, md), 0);
	hex_of(md, cs_hash_size(type), got);
	cr_assert_str_eq(got, hex, "type %u", type);
}

Test(cs_hash, published_vectors)
{
	static const uint8_t empty_reqs[] = { 0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 0x0c, 0, 0, 0, 0 };
	uint8_t *zeros = calloc(1, 16384);
	/* FIPS 180 "abc" vectors. */
	expect_hash(CS_HASHTYPE_SHA1, "abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	expect_hash(CS_HASHTYPE_SHA256, "abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect_hash(CS_HASHTYPE_SHA256_TRUNCATED, "abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a3");
	expect_hash(CS_HASHTYPE_SHA384, "abc", 3,
		    "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
	/* Code-signing constants seen in real signatures (spec 1.8, 1.13). */
	expect_hash(CS_HASHTYPE_SHA256, zeros, 4096, "ad7facb2586fc6e966c004d7d1d16b024f5805ff7cb47c7a85dabd8b48892ca7");
	expect_hash(CS_HASHTYPE_SHA256, zeros, 16384, "4fe7b59af6de3b665b67788cc2f99892ab827efae3a467342b3bb4e3bc8e5bfe");
	expect_hash(CS_HASHTYPE_SHA256, empty_reqs, 12, "987920904eab650e75788c054aa0b0524e6a80bfc71aa32df8d237a61743f986");
	expect_hash(CS_HASHTYPE_SHA1, empty_reqs, 12, "3a75f6db058529148e14dd7ea1b4729cc09ec973");
	free(zeros);
}

Test(cs_hash, names_sizes_ranks)
{
	unsigned t = 0;
	cr_assert_eq(cs_hash_size(CS_HASHTYPE_SHA1), 20);
	cr_assert_eq(cs_hash_size(CS_HASHTYPE_SHA256), 32);
	cr_assert_eq(cs_hash_size(CS_HASHTYPE_SHA256_TRUNCATED), 20);
	cr_assert_eq(cs_hash_size(CS_HASHTYPE_SHA384), 48);
	cr_assert_eq(cs_hash_size(5), 0);
	cr_assert_str_eq(cs_hash_name(CS_HASHTYPE_SHA256), "sha256");
	cr_assert_eq(cs_hash_type_by_name("sha384", &t), 0);
	cr_assert_eq(t, CS_HASHTYPE_SHA384);
	cr_assert_eq(cs_hash_type_by_name("md5", &t), UT_EINVAL);
	cr_assert(cs_hash_rank(CS_HASHTYPE_SHA384) > cs_hash_rank(CS_HASHTYPE_SHA256));
	cr_assert(cs_hash_rank(CS_HASHTYPE_SHA256) > cs_hash_rank(CS_HASHTYPE_SHA256_TRUNCATED));
	cr_assert(cs_hash_rank(CS_HASHTYPE_SHA256_TRUNCATED) > cs_hash_rank(CS_HASHTYPE_SHA1));
	cr_assert_eq(cs_hash_rank(9), 0);
	cr_assert_eq(cs_page_count(0, 12), 0);
	cr_assert_eq(cs_page_count(1, 12), 1);
	cr_assert_eq(cs_page_count(4096, 12), 1);
	cr_assert_eq(cs_page_count(4097, 12), 2);
	cr_assert_eq(cs_page_count(123456, 0), 1);
}

/* A temp file of n pseudo-random bytes; returns its path (static buffer per call site). */
static void make_file(char *path, size_t pathlen, size_t n, uint32_t seed)
{
	snprintf(path, pathlen, "/tmp/cs_hash_test_XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	uint8_t *b = malloc(n);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
	cr_assert_eq(write(fd, b, n), (ssize_t)n);
	close(fd);
	free(b);
}

/* openssl dgst of bytes [off, off+len) of path (an independent implementation). */
static void openssl_dgst(const char *path, uint64_t off, uint64_t len, const char *alg, char *hex)
{
	char piece[64], cmd[512];
	snprintf(piece, sizeof(piece), "/tmp/cs_hash_piece_XXXXXX");
	int fd = mkstemp(piece);
	cr_assert(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "tail -c +%llu '%s' | head -c %llu > '%s' && openssl dgst -%s -r '%s'",
		 (unsigned long long)off + 1, path, (unsigned long long)len, piece, alg, piece);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_eq(fscanf(p, "%128s", hex), 1);
	pclose(p);
	unlink(piece);
}

Test(cs_hash, multi_digest_one_pass_matches_openssl)
{
	char path[64], want[129];
	uint8_t out[3][CS_HASH_MAX_SIZE];
	char got[129];
	const unsigned types[3] = { CS_HASHTYPE_SHA1, CS_HASHTYPE_SHA256, CS_HASHTYPE_SHA384 };
	const char *algs[3] = { "sha1", "sha256", "sha384" };
	make_file(path, sizeof(path), 5 * 1024 * 1024 + 77, 7);
	struct ut_src src;
	cr_assert_eq(ut_src_open(&src, path), 0);
	cr_assert_eq(cs_hash_src(&src, 1000, 5 * 1024 * 1024 + 70 - 1000, types, 3, out), 0, "%s", ut_errmsg());
	for (int i = 0; i < 3; i++) {
		openssl_dgst(path, 1000, 5 * 1024 * 1024 + 70 - 1000, algs[i], want);
		hex_of(out[i], cs_hash_size(types[i]), got);
		cr_assert_str_eq(got, want, "%s", algs[i]);
	}
	cr_assert_eq(cs_hash_src(&src, src.size - 10, 11, types, 1, out), UT_EMALFORMED);
	ut_src_release(&src);
	unlink(path);
}

Test(cs_hash, pages_parallel_equal_sequential_and_openssl)
{
	char path[64], want[129], got[129];
	const size_t n = 9 * 1024 * 1024 + 123; /* last 4 KiB page is short */
	make_file(path, sizeof(path), n, 99);
	struct ut_src src;
	cr_assert_eq(ut_src_open(&src, path), 0);
	uint64_t base = 4096 * 3 + 17, limit = n - base;
	uint64_t pages = cs_page_count(limit, 12);
	uint8_t *ref1 = malloc(pages * 20), *ref2 = malloc(pages * 32), *ref3 = malloc(pages * 48);
	struct cs_page_hashes req[3] = { { CS_HASHTYPE_SHA1, ref1 }, { CS_HASHTYPE_SHA256, ref2 },
					 { CS_HASHTYPE_SHA384, ref3 } };
	cr_assert_eq(cs_hash_pages(&src, base, limit, 12, req, 3, 1), 0, "%s", ut_errmsg());
	/* First, a middle and the short last page against openssl. */
	uint64_t check[3] = { 0, pages / 2, pages - 1 };
	for (int i = 0; i < 3; i++) {
		uint64_t off = check[i] * 4096, len = limit - off < 4096 ? limit - off : 4096;
		openssl_dgst(path, base + off, len, "sha256", want);
		hex_of(ref2 + check[i] * 32, 32, got);
		cr_assert_str_eq(got, want, "page %llu", (unsigned long long)check[i]);
		openssl_dgst(path, base + off, len, "sha1", want);
		hex_of(ref1 + check[i] * 20, 20, got);
		cr_assert_str_eq(got, want, "page %llu", (unsigned long long)check[i]);
	}
	/* Any thread count, file or memory source: the same bytes. */
	size_t dlen = 0;
	uint8_t *mem = NULL;
	cr_assert_eq(ut_src_read_alloc(&src, 0, n, &mem), 0);
	dlen = n;
	struct ut_src msrc;
	cr_assert_eq(ut_src_mem(&msrc, mem, dlen, "mem"), 0);
	unsigned threads[] = { 0, 2, 3, 7 };
	for (int s = 0; s < 2; s++)
		for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
			uint8_t *a = malloc(pages * 20), *b = malloc(pages * 32), *c = malloc(pages * 48);
			struct cs_page_hashes r2[3] = { { CS_HASHTYPE_SHA1, a }, { CS_HASHTYPE_SHA256, b },
							{ CS_HASHTYPE_SHA384, c } };
			cr_assert_eq(cs_hash_pages(s ? &msrc : &src, base, limit, 12, r2, 3, threads[t]), 0);
			cr_assert(memcmp(a, ref1, pages * 20) == 0 && memcmp(b, ref2, pages * 32) == 0 &&
				  memcmp(c, ref3, pages * 48) == 0, "threads %u source %d", threads[t], s);
			free(a);
			free(b);
			free(c);
		}
	/* 16 KiB pages: each equals openssl over that page. */
	uint64_t p14 = cs_page_count(limit, 14);
	uint8_t *h14 = malloc(p14 * 32);
	struct cs_page_hashes r14 = { CS_HASHTYPE_SHA256, h14 };
	cr_assert_eq(cs_hash_pages(&src, base, limit, 14, &r14, 1, 0), 0);
	uint64_t off = (p14 - 1) * 16384;
	openssl_dgst(path, base + off, limit - off, "sha256", want);
	hex_of(h14 + (p14 - 1) * 32, 32, got);
	cr_assert_str_eq(got, want);
	/* One infinite page: the digest of the whole range. */
	struct cs_page_hashes r0 = { CS_HASHTYPE_SHA256, h14 };
	cr_assert_eq(cs_hash_pages(&src, base, limit, 0, &r0, 1, 0), 0);
	openssl_dgst(path, base, limit, "sha256", want);
	hex_of(h14, 32, got);
	cr_assert_str_eq(got, want);
	free(h14);
	free(ref1);
	free(ref2);
	free(ref3);
	ut_src_release(&msrc);
	free(mem);
	ut_src_release(&src);
	unlink(path);
}

/* 64 MiB of zeros: every 4 KiB slot is the published zero-page digest, with bounded memory. */
Test(cs_hash, pages_64mib_bounded_memory)
{
	char path[] = "/tmp/cs_hash_big_XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	const uint64_t n = (uint64_t)64 << 20;
	cr_assert_eq(ftruncate(fd, (off_t)n), 0);
	close(fd);
	struct ut_src src;
	cr_assert_eq(ut_src_open(&src, path), 0);
	uint64_t pages = cs_page_count(n, 12);
	uint8_t *h = malloc(pages * 32);
	memset(h, 0xaa, pages * 32);
	uint64_t before = ut_peak_rss();
	struct cs_page_hashes r = { CS_HASHTYPE_SHA256, h };
	cr_assert_eq(cs_hash_pages(&src, 0, n, 12, &r, 1, 0), 0, "%s", ut_errmsg());
	uint64_t after = ut_peak_rss();
	char got[65];
	for (uint64_t i = 0; i < pages; i++) {
		hex_of(h + i * 32, 32, got);
		cr_assert_str_eq(got, "ad7facb2586fc6e966c004d7d1d16b024f5805ff7cb47c7a85dabd8b48892ca7", "page %llu",
				 (unsigned long long)i);
	}
	if (before && after)
		cr_assert_lt(after - before, (uint64_t)24 << 20, "peak RSS grew by %llu bytes",
			     (unsigned long long)(after - before));
	free(h);
	ut_src_release(&src);
	unlink(path);
}

Test(cs_hash, worker_errors_reach_the_caller)
{
	char path[64];
	make_file(path, sizeof(path), 6 * 1024 * 1024, 3);
	struct ut_src src;
	cr_assert_eq(ut_src_open(&src, path), 0);
	src.size += 8 * 1024 * 1024; /* the file "shrank": workers past its end fail */
	uint64_t pages = cs_page_count(src.size, 12);
	uint8_t *h = malloc(pages * 32);
	struct cs_page_hashes r = { CS_HASHTYPE_SHA256, h };
	cr_assert_eq(cs_hash_pages(&src, 0, src.size, 12, &r, 1, 4), UT_EIO);
	cr_assert(strstr(ut_errmsg(), "shrank") != NULL, "%s", ut_errmsg());
	cr_assert_eq(cs_hash_pages(&src, 0, src.size + 1, 12, &r, 1, 0), UT_EMALFORMED);
	cr_assert_eq(cs_hash_pages(&src, 0, 100, 8, &r, 1, 0), UT_EUNSUPPORTED);
	struct cs_page_hashes bad = { 5, h };
	cr_assert_eq(cs_hash_pages(&src, 0, 100, 12, &bad, 1, 0), UT_EUNSUPPORTED);
	cr_assert_eq(cs_hash_pages(&src, 0, 100, 12, &r, 0, 0), UT_EINVAL);
	free(h);
	ut_src_release(&src);
	unlink(path);
}

Test(cs_hash, incremental_equals_one_shot)
{
	struct cs_hasher *h = NULL;
	uint8_t a[CS_HASH_MAX_SIZE], b[CS_HASH_MAX_SIZE];
	cr_assert_eq(cs_hasher_new(CS_HASHTYPE_SHA384, &h), 0);
	cr_assert_eq(cs_hasher_update(h, "ab", 2), 0);
	cr_assert_eq(cs_hasher_update(h, "c", 1), 0);
	cr_assert_eq(cs_hasher_final(h, a), 0);
	cr_assert_eq(cs_hash(CS_HASHTYPE_SHA384, "abc", 3, b), 0);
	cr_assert(memcmp(a, b, 48) == 0);
	/* final resets for reuse */
	cr_assert_eq(cs_hasher_update(h, "abc", 3), 0);
	cr_assert_eq(cs_hasher_final(h, a), 0);
	cr_assert(memcmp(a, b, 48) == 0);
	cs_hasher_free(h);
	cs_hasher_free(NULL);
	cr_assert_eq(cs_hasher_new(9, &h), UT_EUNSUPPORTED);
	cr_assert_null(h);
}
