/*
 * test_sign_util.h - helpers for the signer suites (tests only).
 *
 * tsg_load() reads a signed Mach-O with its own small byte walk (not the
 * project's reader) and tsg_check() verifies every signature in it
 * independently: page hashes recomputed with OpenSSL EVP over the file bytes
 * (and the first and last page of every CodeDirectory with the `openssl
 * dgst` CLI), special slots against the blobs, CodeDirectory layout fields,
 * SuperBlob layout, LC_CODE_SIGNATURE / __LINKEDIT / fat layout rules.
 */
#ifndef TEST_SIGN_UTIL_H
#define TEST_SIGN_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define TSG_MAX_SLICES 8
#define TSG_MAX_BLOBS 8

struct tsg_blob {
	uint32_t type;
	const uint8_t *p; /* whole blob, header included */
	uint32_t len;
};

struct tsg_slice {
	uint32_t cputype, cpusubtype, filetype;
	uint64_t off, size; /* in the file */
	uint32_t align;     /* fat_arch.align (0 thin) */
	uint32_t ncmds, sizeofcmds;
	int has_sig;
	uint32_t dataoff, datasize;
	uint64_t le_fileoff, le_filesize, le_vmsize;
	uint64_t text_fileoff, text_filesize;
	uint32_t platform, minos, sdk;
	uint8_t uuid[16];
	int has_uuid;
	uint32_t sb_len, nblobs;
	struct tsg_blob blobs[TSG_MAX_BLOBS];
};

struct tsg_file {
	uint8_t *data;
	size_t len;
	uint32_t fat_magic; /* 0 thin */
	unsigned n;
	struct tsg_slice s[TSG_MAX_SLICES];
};

/* Reads and walks a file (asserts on anything unexpected). */
void tsg_load(const char *path, struct tsg_file *f);
void tsg_free(struct tsg_file *f);
/* The blob of a type in a slice's SuperBlob, or NULL. */
const struct tsg_blob *tsg_blob(const struct tsg_slice *s, uint32_t type);

/* Big-endian field of a CodeDirectory. */
uint32_t tsg_cd32(const struct tsg_blob *cd, unsigned off);
uint64_t tsg_cd64(const struct tsg_blob *cd, unsigned off);
const char *tsg_cd_ident(const struct tsg_blob *cd);
/* Special slot k (1..nSpecial) of a CD, or NULL. */
const uint8_t *tsg_cd_special(const struct tsg_blob *cd, unsigned k);

enum {
	TSG_CODESIGN = 1u << 0, /* codesign's layout rules (else lld's) */
	TSG_NO_CLI = 1u << 1,   /* skip the openssl dgst CLI samples */
};

/*
 * Verifies every slice's signature (asserts).  Returns the number of
 * CodeDirectories checked.
 */
unsigned tsg_check(const struct tsg_file *f, unsigned flags);

/* Digest with OpenSSL EVP (type 1 SHA-1, 2 SHA-256); returns the length. */
unsigned tsg_digest(unsigned type, const void *p, size_t len, uint8_t out[64]);
/* Hex of `openssl dgst -<alg>` over bytes (written to a temp file); malloc'd. */
char *tsg_openssl_dgst(const char *alg, const void *p, size_t len);

/* A fresh copy of src in dir (mode u+w); returns the path (malloc'd). */
char *tsg_copy(const char *dir, const char *src, const char *name);
/* The identifier of a slice's slot-0 CodeDirectory (static buffer). */
const char *tsg_identifier_of(const char *path, unsigned slice);

#endif
