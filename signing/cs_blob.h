/*
 * cs_blob.h - generic code-signing blobs and SuperBlobs: parse and build.
 *
 * A blob is `u32 magic; u32 length; data[]` (length includes the 8-byte
 * header); a SuperBlob is `u32 magic; u32 length; u32 count; {u32 type;
 * u32 offset}[count]` followed by its blobs, offsets relative to the SuperBlob
 * start.  All big-endian.
 *
 * cs_superblob_parse() validates the whole structure before returning: the
 * SuperBlob length fits the input, count <= UT_MAX_BLOBS and the index fits,
 * every offset leaves room for a blob header inside the SuperBlob, every
 * sub-blob's length is at least 8 and ends inside the SuperBlob.  For an
 * embedded signature (CSMAGIC_EMBEDDED_SIGNATURE) it also applies the kernel's
 * rules (XNU cs_validate_csblob): code-directory slots (0, 0x1000..0x1004)
 * must hold CodeDirectory blobs with distinct hash types, slot 5 / 7 / 8..11
 * must carry the entitlements / DER entitlements / launch-constraint magic and
 * appear once, and at least one CodeDirectory must be present.  The full
 * CodeDirectory checks are in cs_cd.h.
 *
 * Parsed entries borrow the input bytes: they are valid while the input is.
 */
#ifndef CS_BLOB_H
#define CS_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "cs_format.h"
#include "ut_buf.h"
#include "ut_limits.h"

/* A validated generic blob (borrowed). */
struct cs_blob {
	uint32_t magic;
	uint32_t length; /* whole blob including the header */
	const uint8_t *p; /* the blob bytes, p[0, length) */
};

/*
 * Reads the blob header at p[0, len): length >= 8 and length <= len.
 * If magic is non-zero the blob must carry it.  Trailing bytes after the blob are allowed.
 */
int cs_blob_parse(struct cs_blob *out, const uint8_t *p, size_t len, uint32_t magic);

struct cs_blob_entry {
	uint32_t type;   /* index type (slot) */
	uint32_t offset; /* from the SuperBlob start */
	struct cs_blob blob;
};

struct cs_superblob {
	uint32_t magic;
	uint32_t length;
	uint32_t count;
	struct cs_blob_entry entries[UT_MAX_BLOBS]; /* index order as stored */
};

/*
 * Parses a SuperBlob at p[0, len) (trailing bytes such as the zero padding of
 * a reserved LC_CODE_SIGNATURE area are allowed).  magic 0 accepts any magic;
 * otherwise the SuperBlob must carry it.  The kernel rules above are applied
 * when the magic is CSMAGIC_EMBEDDED_SIGNATURE.
 */
int cs_superblob_parse(struct cs_superblob *sb, const uint8_t *p, size_t len, uint32_t magic);
/* The first entry of a type, or NULL. */
const struct cs_blob_entry *cs_superblob_find(const struct cs_superblob *sb, uint32_t type);

/* Appends a generic blob: magic, 8 + len, payload (e.g. XML entitlements, an empty CMS wrapper). */
int cs_blob_build(struct ut_buf *out, uint32_t magic, const void *payload, size_t len);

/* One blob to put into a SuperBlob: complete blob bytes (with their own header). */
struct cs_blob_in {
	uint32_t type;
	const uint8_t *p;
	size_t len;
};

enum cs_sb_layout {
	/* Apple (SEC superblob.h Maker): index sorted by type, blobs back to back right after the index. */
	CS_SB_APPLE = 0,
	/* lld: header and index padded with zeros to a multiple of 8, then the blobs in the order given. */
	CS_SB_LLD = 1,
};

/*
 * Appends a SuperBlob of n blobs (n <= UT_MAX_BLOBS, types distinct).  Each
 * blob must start with a header whose length equals its len.
 */
int cs_superblob_build(struct ut_buf *out, uint32_t magic, const struct cs_blob_in *blobs, unsigned n,
		       enum cs_sb_layout layout);
/* Size of an Apple-layout SuperBlob holding count blobs of total_blob_bytes: 12 + 8*count + total. */
uint64_t cs_superblob_size(unsigned count, uint64_t total_blob_bytes);

/* True for the code-directory slots 0 and 0x1000..0x1004. */
int cs_slot_is_cd(uint32_t type);
/* "CodeDirectory", "Requirements", "Entitlements", "DER Entitlements", "CMS Signature", ... or NULL. */
const char *cs_slot_name(uint32_t type);

#endif
