/*
 * cs_x509.h - OpenSSL-facing helpers shared by the signing/ crypto files
 * (cs_x509.c, cs_cms.c, cs_pki.c).  Internal: other modules use cs_pki.h and
 * cs_cms.h, which carry no OpenSSL types.
 */
#ifndef CS_X509_H
#define CS_X509_H

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cs_cms.h"
#include "cs_pki.h"
#include "ut_err.h"

/* ut_fail() with ": <first OpenSSL reason>" appended; clears OpenSSL's error queue. */
int cs_ossl_fail(int code, const char *fmt, ...) UT_PRINTF(2, 3);

/* Seconds since the epoch of an ASN.1 UTCTime / GeneralizedTime. */
int cs_asn1_time_unix(int64_t *out, const ASN1_TIME *t);

/* The digest for a CodeDirectory hash type, or NULL. */
const EVP_MD *cs_hashtype_md(uint32_t hash_type);
/* Its OpenSSL NID (the digest OID of the cdhashes2 attribute), or NID_undef. */
int cs_hashtype_nid(uint32_t hash_type);

/* Subject names, digests, Apple markers and dates of x (marks without CS_CERT_SELF_SIGNED). */
int cs_x509_info(struct cs_cert_info *out, X509 *x);

/*
 * Builds leaf -> ... -> self-signed root from the certificates of pool (leaf
 * need not be in it), verifying each link's signature, and classifies the root
 * (Apple roots, then trust->anchors).  With CS_TRUST_REQUIRE_ANCHOR an
 * untrusted root fails.  If ordered is not NULL it receives the chain as a new
 * stack holding references (leaf first; free with sk_X509_pop_free(.., X509_free)).
 */
int cs_x509_chain_build(struct cs_chain *out, STACK_OF(X509) **ordered, X509 *leaf, STACK_OF(X509) *pool,
			const struct cs_trust *trust);

/* The XML plist of the 100.9.1 attribute: {cdhashes = [<20-byte data>...]} (libplist XML). */
int cs_cdhashes_plist(uint8_t **xml, size_t *len, const struct cs_cdhash *c, size_t n);
/* One 100.9.2 value: DER SEQUENCE { digest OID, OCTET STRING full cdhash }. */
int cs_cdhash2_der(uint8_t **der, size_t *len, const struct cs_cdhash *c);

/*
 * Finds the SignerInfo's [0] IMPLICIT signedAttrs in a BER/DER SignedData
 * ContentInfo exactly as encoded.  *present = 0 when the signer has none.
 * Fails unless there is exactly one SignerInfo.  out borrows from der.
 */
int cs_cms_raw_signed_attrs(struct ut_span *out, int *present, const uint8_t *der, size_t len);

#endif
