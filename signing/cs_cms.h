/*
 * cs_cms.h - the CMS signature of a code signature (slot 0x10000, BlobWrapper
 * 0xfade0b01) and provisioning profiles: verify, sign, read.
 *
 * Facts: codesign-spec.md §1.7, §4, §10.  The CMS is a detached SignedData over
 * the bytes of the slot-0 CodeDirectory.  Signed attributes codesign writes:
 * contentType, signingTime (optional), messageDigest (SHA-256 of the CD),
 * 1.2.840.113635.100.9.1 (OCTET STRING holding an XML plist {cdhashes = [<data>]},
 * the truncated cdhashes of all CDs in hash-type order) and
 * 1.2.840.113635.100.9.2 (one SEQUENCE {digest OID, OCTET STRING full cdhash}
 * per CD).  Developer ID signatures add an RFC 3161 timestamp token as the
 * unsigned attribute 1.2.840.113549.1.9.16.2.14.
 *
 * Verification checks the signature over the signed-attribute bytes exactly as
 * received (some Apple blobs are not in DER SET OF order, so re-encoding breaks
 * them), or over the content itself when there are no signed attributes (old
 * Apple signatures).  Nothing here prints.
 */
#ifndef CS_CMS_H
#define CS_CMS_H

#include <stddef.h>
#include <stdint.h>

#include "cs_pki.h"
#include "ut_buf.h"
#include "ut_bytes.h"
#include "ut_plist.h"

/* XNU cs_blobs.h; token-identical to signing/cs_format.h so that both headers can be included. */
#ifndef CSMAGIC_BLOBWRAPPER
#define CSMAGIC_BLOBWRAPPER 0xfade0b01u
#endif
#ifndef CS_HASHTYPE_SHA1
#define CS_HASHTYPE_SHA1 1u
#define CS_HASHTYPE_SHA256 2u
#define CS_HASHTYPE_SHA256_TRUNCATED 3u
#define CS_HASHTYPE_SHA384 4u
#endif
#ifndef CS_CDHASH_LEN
#define CS_CDHASH_LEN 20u
#endif
#define CS_CMS_DIGEST_MAX 64

/* The cdhash of one CodeDirectory: the full digest of the CD blob with the CD's own hash type. */
struct cs_cdhash {
	uint32_t hash_type;                /* CS_HASHTYPE_* of the CD */
	uint8_t digest[CS_CMS_DIGEST_MAX]; /* full length; SHA-256 for CS_HASHTYPE_SHA256_TRUNCATED */
	size_t len;                        /* 20, 32 or 48 */
};

/* Computes the cdhash of the CD bytes [cd, cd+len) (hash types 1-4; else UT_EUNSUPPORTED). */
int cs_cdhash_compute(struct cs_cdhash *out, uint32_t hash_type, const uint8_t *cd, size_t len);

/*
 * The CMS payload of a BlobWrapper (magic 0xfade0b01, big-endian length
 * including the 8-byte header).  An empty wrapper (ad-hoc) gives len 0.
 * payload borrows from blob.
 */
int cs_cms_unwrap(struct ut_span *payload, const uint8_t *blob, size_t len);
/* Appends a BlobWrapper around payload to out. */
int cs_cms_wrap(struct ut_buf *out, const uint8_t *payload, size_t len);

/* What a verified CMS carried (cs_cms_result.attrs). */
enum {
	CS_CMS_ATTR_SIGNED = 1u << 0,          /* signed attributes present (else: signature over the content) */
	CS_CMS_ATTR_SIGNING_TIME = 1u << 1,    /* signingTime */
	CS_CMS_ATTR_CDHASHES_PLIST = 1u << 2,  /* 1.2.840.113635.100.9.1 */
	CS_CMS_ATTR_CDHASHES2 = 1u << 3,       /* 1.2.840.113635.100.9.2 */
	CS_CMS_ATTR_TIMESTAMP = 1u << 4,       /* unsigned RFC 3161 timestamp token */
};

struct cs_cms_result {
	enum cs_signer_kind kind;
	struct cs_chain chain;         /* leaf first; chain.anchor classifies the root */
	int trusted;                   /* the root is an Apple root or a listed anchor */
	unsigned attrs;                /* CS_CMS_ATTR_* */
	char digest[16];               /* signer digest algorithm: "sha256", "sha1", ... */
	char team_id[CS_NAME_MAX];     /* leaf subject OU for Apple developer kinds, else "" */
	int64_t signing_time;          /* signingTime, seconds since the epoch (CS_CMS_ATTR_SIGNING_TIME) */
	int64_t timestamp;             /* timestamp token genTime (CS_CMS_ATTR_TIMESTAMP) */
	char timestamp_authority[CS_NAME_MAX]; /* CN of the timestamp token's signer */
	uint32_t ncdhashes_plist;      /* entries in 100.9.1 */
	uint32_t ncdhashes2;           /* entries in 100.9.2 */
};

/*
 * Verifies a code-signature CMS (the BlobWrapper payload, DER or BER).
 *   cd          the detached content: bytes of the slot-0 CodeDirectory
 *   cdhashes    the cdhashes computed over every CD of the signature, sorted by hash type
 *   trust       extra anchors and CS_TRUST_* flags; NULL = Apple roots, no anchor required
 * Checks: one SignedData signer whose certificate is in the CMS; messageDigest =
 * digest of cd; the signature (over the raw signed attributes, or over cd when
 * there are none) with the leaf key; the leaf's chain up to a self-signed root,
 * every link verified; 100.9.1 equals the truncated cdhashes exactly; 100.9.2 has
 * one entry per CD, each known-algorithm entry equals a CD's full cdhash and the
 * best CD is covered (spec §4.2); a timestamp token's imprint is the digest of the
 * signature and its own signature verifies.
 * Returns 0 and fills *out, or UT_EVERIFY ("CMS signature does not match the
 * CodeDirectory", "cdhashes attribute does not match the computed cdhashes",
 * "certificate chain does not end in a trusted anchor", ...), UT_EMALFORMED,
 * UT_EUNSUPPORTED or UT_ENOMEM with a message.
 */
int cs_cms_verify(struct cs_cms_result *out, const uint8_t *cms, size_t cms_len, const uint8_t *cd,
		  size_t cd_len, const struct cs_cdhash *cdhashes, size_t ncdhashes,
		  const struct cs_trust *trust);

struct cs_cms_sign_opts {
	int has_signing_time;  /* write signingTime = signing_time; 0: omit the attribute */
	int64_t signing_time;  /* seconds since the epoch, UTC */
	/*
	 * Optional RFC 3161 hook (default NULL: no timestamp).  Called with the
	 * signature value; returns a malloc'd DER TimeStampToken (ContentInfo), added
	 * as the unsigned attribute 1.2.840.113549.1.9.16.2.14.
	 */
	int (*timestamp)(void *ctx, const uint8_t *sig, size_t sig_len, uint8_t **tst, size_t *tst_len);
	void *timestamp_ctx;
};

/*
 * Signs like codesign: detached SignedData over cd (the slot-0 CD), SHA-256,
 * eContentType id-data, every certificate of the identity's chain including
 * the root, signed attributes contentType, signingTime (opts), messageDigest,
 * 100.9.1 (libplist XML, Apple's writer form) and 100.9.2 from cdhashes (all
 * CDs, sorted by hash type).  *out is the DER CMS (malloc'd, caller frees);
 * wrap it with cs_cms_wrap.  opts may be NULL (no signingTime, no timestamp).
 */
int cs_cms_sign(uint8_t **out, size_t *out_len, const struct cs_identity *id, const uint8_t *cd,
		size_t cd_len, const struct cs_cdhash *cdhashes, size_t ncdhashes,
		const struct cs_cms_sign_opts *opts);

/* A provisioning profile (embedded.provisionprofile): CMS SignedData with the plist attached. */
struct cs_profile {
	plist_t plist;             /* owned: the profile dictionary */
	plist_t entitlements;      /* borrowed from plist: Entitlements dict, or NULL */
	const char *team_id;       /* borrowed: TeamIdentifier[0], or NULL */
	const char *name;          /* borrowed: Name, or NULL */
	int has_expiration;
	int64_t expiration;        /* ExpirationDate, seconds since the epoch */
	struct cs_cms_result cms;  /* the profile signer */
};

/*
 * Verifies the profile's CMS (signature, messageDigest, chain; the root must be
 * an Apple root or listed in trust, whatever trust->flags say) and parses its
 * plist.  Dates are reported, not checked.  Release with cs_profile_release.
 */
int cs_profile_parse(struct cs_profile *out, const uint8_t *der, size_t len, const struct cs_trust *trust);
void cs_profile_release(struct cs_profile *p);

#endif
