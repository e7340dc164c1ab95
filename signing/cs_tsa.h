/*
 * cs_tsa.h - RFC 3161 timestamps from a timestamp authority over HTTP, for the
 * unsigned attribute id-smime-aa-timeStampToken of a code-signature CMS.
 *
 * Facts: RFC 3161 §2.4 (TimeStampReq / TimeStampResp), §3.4 (HTTP transport:
 * POST, Content-Type application/timestamp-query, reply
 * application/timestamp-reply).  codesign --timestamp asks Apple's TSA for a
 * token over the SHA-256 of the CMS signature value; the token is a CMS
 * SignedData (ContentInfo) whose TSTInfo carries that imprint.
 *
 * Only http:// URLs: the token is signed, so TLS adds nothing to its
 * integrity (Apple's own TSA URL is http).  A proxy named by the environment
 * (http_proxy / no_proxy) is honoured by OpenSSL's HTTP client.  Nothing
 * here prints.
 */
#ifndef CS_TSA_H
#define CS_TSA_H

#include <stddef.h>
#include <stdint.h>

#define CS_TSA_TIMEOUT 30              /* seconds for the whole exchange */
#define CS_TSA_MAX_REPLY (1u << 20)    /* bytes */

/*
 * Asks the TSA at url for a token over sig (the signature value): a
 * TimeStampReq with the SHA-256 imprint of sig, a random 64-bit nonce and
 * certReq true.  Checks the reply: status granted (or granted with mods), the
 * token's imprint is SHA-256 of sig, its nonce is ours, and its signature
 * verifies with the TSA certificate it carries (the chain is not judged here;
 * cs_cms_verify reports the authority).  *tst receives the DER TimeStampToken
 * (malloc'd, caller frees).
 * Errors (nothing allocated): UT_EINVAL "timestamp URL '...' is not an http://
 * URL", UT_EIO "cannot reach timestamp authority '...': ...", UT_EREFUSED
 * "timestamp authority '...' refused the request: ...", UT_EMALFORMED
 * "timestamp authority '...' sent a malformed reply: ...", UT_EVERIFY
 * "timestamp authority '...' sent a token for other data" / "... nonce ...".
 */
int cs_tsa_request(const char *url, const uint8_t *sig, size_t len, uint8_t **tst, size_t *tst_len);

/* cs_cms_sign_opts.timestamp hook: ctx is the URL (const char *). */
int cs_tsa_hook(void *ctx, const uint8_t *sig, size_t len, uint8_t **tst, size_t *tst_len);

#endif
