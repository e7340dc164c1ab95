/*
 * cs_bverify_req.h - evaluate a code requirement (the binary form cs_req
 * compiles, or its text) against one architecture of signed code: what
 * Security's requirement interpreter does when a bundle seal's recorded
 * requirement is checked against nested code (SEC reqinterp.cpp,
 * StaticCode.cpp validateNestedCode), and when code is checked against its
 * own designated requirement (codesign -v "satisfies its Designated
 * Requirement").
 *
 * The result has three values: true, false, or "not evaluable" when the
 * requirement uses something we cannot judge offline (trust settings
 * `anchor trusted` / `certificate N trusted`, named anchors and code,
 * `notarized`, `legacy`, timestamps, certificate policies, certificate
 * fields other than the subject names below, a field compared by value).
 * `and` / `or` combine the three values the usual way (false and x = false,
 * true or x = true); `!` keeps "not evaluable".
 *
 * What each operation compares (SEC reqinterp.cpp):
 *   identifier "x"           the best CodeDirectory's identifier, exactly
 *   cdhash H"..."            the best CodeDirectory's cdhash (20 bytes)
 *   platform = N             the best CodeDirectory's platform byte
 *   anchor apple generic     the chain ends at an Apple root (or a listed
 *                            anchor standing in for one, cs_pki.h)
 *   anchor apple             the same, and the certificate below the root is
 *                            "Apple Code Signing Certification Authority", O "Apple Inc."
 *   certificate S = H"..."   SHA-1 of certificate S's DER (S: leaf = 0, 1, 2 ...
 *                            from the leaf; root = -1, -2 ... from the root)
 *   certificate S[subject.K] the subject attribute K of certificate S: C, CN,
 *                            D, L, O, OU, ST, STREET, UID, emailAddress
 *                            (any value of a repeated attribute may match)
 *   certificate S[field.OID] exists / absent: the certificate has an
 *                            extension with that OID
 *   info[key], entitlement[key]  the Info.plist / entitlements dictionary:
 *                            string values (or any string of an array),
 *                            exists / absent for any value
 * String matches: = (equal), ~ (contains), = x* (begins), = *x (ends),
 * < > <= >= (byte order).  Code without a verified certificate chain (ad-hoc)
 * fails every certificate and anchor clause.
 *
 * Nothing here prints; no I/O.
 */
#ifndef CS_BVERIFY_REQ_H
#define CS_BVERIFY_REQ_H

#include <plist/plist.h>
#include <stddef.h>
#include <stdint.h>

#include "cs_format.h"
#include "cs_pki.h"

/* Subject attributes and extension OIDs of one certificate, beyond struct cs_cert_info. */
#define CS_CERTX_MAX_ATTRS 16
#define CS_CERTX_MAX_EXTS 32
#define CS_CERTX_OID_MAX 80

struct cs_certx_attr {
	char key[16];               /* requirement-language name: "CN", "OU", "emailAddress", ... */
	char value[CS_NAME_MAX];    /* UTF-8 (longer values are cut) */
};

struct cs_certx {
	unsigned nattrs, nexts;
	struct cs_certx_attr attrs[CS_CERTX_MAX_ATTRS]; /* subject, in certificate order */
	char exts[CS_CERTX_MAX_EXTS][CS_CERTX_OID_MAX]; /* extension OIDs, dotted */
	int truncated;              /* more attributes or extensions than fit: "absent" is not decidable */
};

/*
 * The certificates of a chain (leaf first, as struct cs_chain) read from a
 * code-signature CMS (the BlobWrapper payload): each chain certificate is
 * found in the CMS by its SHA-256.  out receives chain->n entries.  A
 * certificate missing from the CMS (the root of an older signature, say)
 * is UT_ENOTFOUND.
 */
int cs_certx_read(struct cs_certx *out, const struct cs_chain *chain, const uint8_t *cms, size_t cms_len);

/* What a requirement is evaluated against: one architecture of the code. */
struct cs_req_code {
	const char *identifier;     /* best CodeDirectory's identifier */
	const uint8_t *cdhash;      /* its cdhash, CS_CDHASH_LEN bytes; NULL when unknown */
	int platform;               /* its platform byte */
	const struct cs_chain *chain; /* verified signer chain; NULL when none (ad-hoc) */
	const struct cs_certx *certx; /* chain->n entries, or NULL (only struct cs_cert_info fields known) */
	plist_t info;               /* Info.plist dictionary, or NULL */
	plist_t entitlements;       /* entitlements dictionary, or NULL */
};

enum cs_req_verdict {
	CS_REQ_FALSE = 0,
	CS_REQ_TRUE = 1,
	CS_REQ_UNKNOWN = 2,          /* not evaluable */
};

/* "satisfied", "not satisfied", "not evaluable". */
const char *cs_req_verdict_name(enum cs_req_verdict v);

/*
 * Evaluates a requirement blob (0xfade0c00, expression form).  *why receives
 * (at most n bytes, may be NULL) for false the first clause that failed and
 * what the code has instead, for "not evaluable" the operation that could
 * not be judged.  Returns 0 with *out set, or UT_EMALFORMED /
 * UT_EUNSUPPORTED for a requirement that does not decode.
 */
int cs_req_eval(enum cs_req_verdict *out, const uint8_t *req, size_t len, const struct cs_req_code *code,
		char *why, size_t n);

/* The same for requirement text (compiled with cs_req_compile). */
int cs_req_eval_text(enum cs_req_verdict *out, const char *text, const struct cs_req_code *code, char *why,
		     size_t n);

#endif
