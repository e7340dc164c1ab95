/*
 * cs_pki.h - signer certificates: chains, Apple roots, signer kinds,
 * signing identities and the designated requirement codesign derives.
 *
 * No OpenSSL types here (signing/cs_x509.h has the OpenSSL-facing helpers).
 *
 * Trust model.  A chain is built leaf -> issuer -> ... from the certificates at
 * hand, every link's signature verified, and must end in a self-signed root.
 * The root is classified by the SHA-256 of its DER: one of the pinned Apple
 * roots (profiles/apple-roots.tsv; the same table is built in, see
 * cs_apple_roots), one of the caller's extra anchors (struct cs_trust; they
 * stand in for Apple roots, like Security's TEST_APPLE_ANCHOR builds, so a
 * test PKI can imitate Developer ID), or "other".  Validity dates are recorded,
 * not enforced: codesign tolerates expired signer certificates.  Apple's
 * critical private extensions are tolerated.
 */
#ifndef CS_PKI_H
#define CS_PKI_H

#include <stddef.h>
#include <stdint.h>

#define CS_CHAIN_MAX 8  /* certificates in one chain, root included */
#define CS_NAME_MAX 256 /* one subject attribute, UTF-8, NUL-terminated (longer values are cut) */

/* Apple markers (certificate extensions) recorded in cs_cert_info.marks. */
enum {
	CS_CERT_DEVID_CA = 1u << 0,         /* 1.2.840.113635.100.6.2.6: Developer ID CA */
	CS_CERT_WWDR_CA = 1u << 1,          /* 1.2.840.113635.100.6.2.1: WWDR CA (Apple Development, iOS) */
	CS_CERT_DEVID_LEAF = 1u << 2,       /* 1.2.840.113635.100.6.1.13: Developer ID Application leaf */
	CS_CERT_SOFTWARE_SIGNING = 1u << 3, /* 1.2.840.113635.100.6.22: Apple Software Signing leaf */
	CS_CERT_SELF_SIGNED = 1u << 4,      /* issuer = subject and the signature verifies with its own key */
};

#define CS_OID_DEVID_CA "1.2.840.113635.100.6.2.6"
#define CS_OID_WWDR_CA "1.2.840.113635.100.6.2.1"
#define CS_OID_DEVID_LEAF "1.2.840.113635.100.6.1.13"
#define CS_OID_SOFTWARE_SIGNING "1.2.840.113635.100.6.22"

struct cs_cert_info {
	char cn[CS_NAME_MAX]; /* subject commonName ("" when absent) */
	char ou[CS_NAME_MAX]; /* first subject organizationalUnitName */
	char o[CS_NAME_MAX];  /* first subject organizationName */
	uint8_t sha1[20];     /* of the certificate DER (requirement "certificate N = H\"..\"") */
	uint8_t sha256[32];
	unsigned marks;       /* CS_CERT_* */
	int64_t not_before, not_after; /* seconds since the epoch, UTC */
};

enum cs_anchor {
	CS_ANCHOR_OTHER = 0,        /* a self-signed root that is not pinned */
	CS_ANCHOR_APPLE_ROOT_CA,    /* Apple Root CA */
	CS_ANCHOR_APPLE_ROOT_CA_G2, /* Apple Root CA - G2 */
	CS_ANCHOR_APPLE_ROOT_CA_G3, /* Apple Root CA - G3 */
	CS_ANCHOR_LISTED,           /* one of struct cs_trust.anchors */
};

/* A verified chain: certs[0] is the leaf, certs[n-1] the self-signed root. */
struct cs_chain {
	uint32_t n;
	struct cs_cert_info certs[CS_CHAIN_MAX];
	enum cs_anchor anchor;
};

enum cs_signer_kind {
	CS_SIGNER_OTHER = 0,         /* chain to a root that is neither Apple's nor listed */
	CS_SIGNER_APPLE_PLATFORM,    /* Apple "Software Signing" (leaf 100.6.22 or the Apple Code Signing CA) */
	CS_SIGNER_DEVELOPER_ID,      /* 3 certificates, CA has 100.6.2.6, leaf has 100.6.1.13 */
	CS_SIGNER_APPLE_DEVELOPMENT, /* 3 certificates, CA has 100.6.2.1 (Apple Development, iOS) */
	CS_SIGNER_APPLE_OTHER,       /* Apple (or listed) root, none of the above */
};

/* A pinned root: SHA-256 of its DER and a display name. */
struct cs_root {
	uint8_t sha256[32];
	char name[64];
};

/* What a verifier or identity loader trusts beyond the built-in Apple roots. */
struct cs_trust {
	unsigned flags;               /* CS_TRUST_* */
	const struct cs_root *anchors; /* extra roots that stand in for Apple's (tests); may be NULL */
	size_t nanchors;
};

enum {
	/* Fail ("certificate chain does not end in a trusted anchor") unless the root is Apple's or listed. */
	CS_TRUST_REQUIRE_ANCHOR = 1u << 0,
};

/* "Apple Root CA", "Apple Root CA - G2", "Apple Root CA - G3", "listed anchor", "other root". */
const char *cs_anchor_name(enum cs_anchor a);
/* "Apple platform", "Developer ID", "Apple Development", "Apple (other)", "other certificate". */
const char *cs_signer_kind_name(enum cs_signer_kind k);
/* True for the Apple roots and listed anchors. */
int cs_anchor_trusted(enum cs_anchor a);
/* Classifies a chain (see enum cs_signer_kind). */
enum cs_signer_kind cs_chain_kind(const struct cs_chain *c);

/* The built-in Apple roots, identical to profiles/apple-roots.tsv (a test checks it); *n gets the count. */
const struct cs_root *cs_apple_roots(size_t *n);

/*
 * Parses a roots file: '#' comments and blank lines skipped; each other line is
 * "<64 hex sha256>\t<name>[\t<anything>]".  *out is malloc'd (caller frees).
 * name is for messages.
 */
int cs_roots_parse(struct cs_root **out, size_t *n, const char *text, size_t len, const char *name);

/*
 * The designated requirement codesign derives for code signed with this chain,
 * as requirement-language text without "designated =>" (SEC drmaker.cpp rules):
 *   Apple (or listed) root, 3 certificates, CA with 100.6.2.1:
 *     identifier "<id>" and anchor apple generic and certificate leaf[subject.CN] = "<CN>"
 *     and certificate 1[field.1.2.840.113635.100.6.2.1] exists
 *   Apple (or listed) root, 3 certificates, CA with 100.6.2.6:
 *     identifier "<id>" and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] exists
 *     and certificate leaf[field.1.2.840.113635.100.6.1.13] exists and certificate leaf[subject.OU] = <TEAM>
 *   other Apple chains: identifier "<id>" and anchor apple
 *   non-Apple root: identifier "<id>" and certificate <slot> = H"<sha1>", slot = the highest
 *     certificate whose O equals the leaf's (contiguously from the leaf), "root" when that is the
 *     root, "leaf" when the leaf has no O.
 * Each "exists" above is printed the way codesign prints it, as a C-style comment after the field.
 * Strings are written bare when they are a letter followed by letters and digits, else quoted
 * with \" and \\ escaped.  *out is malloc'd (caller frees).
 */
int cs_chain_designated_requirement(char **out, const struct cs_chain *c, const char *identifier);

/* A signing identity: private key, leaf certificate and its chain up to a root. */
struct cs_identity;

/*
 * Loads a PKCS#12 file whose password is the first line of password_path (NULL:
 * empty password).  The chain is built from the certificates in the file and must
 * reach a self-signed root (codesign includes the root).  Password and key
 * material are wiped from our buffers.  trust may be NULL.
 */
int cs_identity_load_p12(struct cs_identity **out, const char *p12_path, const char *password_path,
			 const struct cs_trust *trust);
/*
 * Loads a PEM private key (encrypted if password_path is given), a PEM leaf
 * certificate and optional PEM chain certificates (any order).
 */
int cs_identity_load_pem(struct cs_identity **out, const char *key_path, const char *cert_path,
			 const char *chain_path, const char *password_path, const struct cs_trust *trust);
void cs_identity_free(struct cs_identity *id);
/* The identity's verified chain (leaf first); borrowed until cs_identity_free. */
const struct cs_chain *cs_identity_chain(const struct cs_identity *id);

#endif
