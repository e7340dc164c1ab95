/* cs_tsa.c - RFC 3161 TimeStampReq over HTTP with OpenSSL's client; the reply checked against the request. */
#include "cs_tsa.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/httperr.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>

#include "ut_err.h"

#define NONCE_LEN 8

/* One OpenSSL error as "reason (data)". */
static void describe(char *buf, size_t n, unsigned long e, const char *data, int flags)
{
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	int txt = data && (flags & ERR_TXT_STRING) && data[0];
	snprintf(buf, n, "%s%s%s%s", r ? r : "no reply", txt ? " (" : "", txt ? data : "", txt ? ")" : "");
}

/* The first (innermost) OpenSSL error as "reason (data)" into buf; clears the queue. */
static const char *ossl_reason(char *buf, size_t n)
{
	const char *data = NULL;
	int flags = 0;
	unsigned long e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);
	describe(buf, n, e, data, flags);
	ERR_clear_error();
	return buf;
}

enum http_class { HTTP_UNREACHABLE, HTTP_REFUSED, HTTP_MALFORMED };

static enum http_class http_classify(unsigned long e)
{
	if (ERR_GET_LIB(e) != ERR_LIB_HTTP)
		return HTTP_UNREACHABLE;
	switch (ERR_GET_REASON(e)) {
	case HTTP_R_RECEIVED_ERROR:
	case HTTP_R_STATUS_CODE_UNSUPPORTED:
	case HTTP_R_REDIRECTION_NOT_ENABLED:
		return HTTP_REFUSED;
	case HTTP_R_UNEXPECTED_CONTENT_TYPE:
	case HTTP_R_MISSING_CONTENT_TYPE:
	case HTTP_R_MISSING_ASN1_ENCODING:
	case HTTP_R_ERROR_PARSING_ASN1_LENGTH:
	case HTTP_R_ERROR_PARSING_CONTENT_LENGTH:
	case HTTP_R_HEADER_PARSE_ERROR:
	case HTTP_R_RECEIVED_WRONG_HTTP_VERSION:
	case HTTP_R_RESPONSE_PARSE_ERROR:
	case HTTP_R_RESPONSE_LINE_TOO_LONG:
	case HTTP_R_MAX_RESP_LEN_EXCEEDED:
	case HTTP_R_INCONSISTENT_CONTENT_LENGTH:
	case HTTP_R_ASN1_LEN_EXCEEDS_MAX_RESP_LEN:
		return HTTP_MALFORMED;
	default:
		return HTTP_UNREACHABLE;
	}
}

/*
 * Why OSSL_HTTP_transfer failed: the first queued error that says the server
 * answered (refused / malformed) decides, else the innermost one (connect,
 * send, receive).  Clears the queue.
 */
static enum http_class http_failure(char *buf, size_t n)
{
	const char *data = NULL;
	int flags = 0, found = 0;
	enum http_class cls = HTTP_UNREACHABLE;
	unsigned long e;
	buf[0] = '\0';
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		enum http_class c = http_classify(e);
		if (!found && (c != HTTP_UNREACHABLE || !buf[0])) {
			describe(buf, n, e, data, flags);
			cls = c;
			found = c != HTTP_UNREACHABLE;
		}
	}
	if (!buf[0])
		describe(buf, n, 0, NULL, 0);
	ERR_clear_error();
	return cls;
}

static int build_query(BIO **out, const uint8_t digest[32], ASN1_INTEGER **nonce_out)
{
	int rc = UT_ENOMEM;
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *imp = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = NULL;
	BIGNUM *bn = NULL;
	uint8_t rnd[NONCE_LEN];
	*out = NULL;
	*nonce_out = NULL;
	if (!req || !imp || !alg || RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto done;
	rnd[0] &= 0x7f; /* a positive INTEGER of at most 8 bytes, as openssl ts -query writes */
	rnd[0] |= 0x01;
	if (!(bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) || !(nonce = BN_to_ASN1_INTEGER(bn, NULL)))
		goto done;
	if (!X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) || !TS_MSG_IMPRINT_set_algo(imp, alg) ||
	    !TS_MSG_IMPRINT_set_msg(imp, (unsigned char *)digest, 32) || !TS_REQ_set_version(req, 1) ||
	    !TS_REQ_set_msg_imprint(req, imp) || !TS_REQ_set_nonce(req, nonce) || !TS_REQ_set_cert_req(req, 1))
		goto done;
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		goto done;
	if (i2d_TS_REQ_bio(b, req) != 1) {
		BIO_free(b);
		goto done;
	}
	*out = b;
	*nonce_out = nonce;
	nonce = NULL;
	rc = 0;
done:
	if (rc)
		rc = ut_fail(UT_ENOMEM, "cannot build the timestamp request");
	ERR_clear_error();
	BN_free(bn);
	ASN1_INTEGER_free(nonce);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(imp);
	TS_REQ_free(req);
	return rc;
}

/* POSTs the query; *reply is the body of a 200 application/timestamp-reply answer. */
static int post(const char *url, BIO *query, BIO **reply)
{
	char *host = NULL, *port = NULL, *path = NULL;
	int ssl = 0;
	char why[512];
	*reply = NULL;
	if (strncmp(url, "http://", 7) != 0 ||
	    !OSSL_HTTP_parse_url(url, &ssl, NULL, &host, &port, NULL, &path, NULL, NULL) || ssl) {
		ERR_clear_error();
		OPENSSL_free(host);
		OPENSSL_free(port);
		OPENSSL_free(path);
		return ut_fail(UT_EINVAL, "timestamp URL '%s' is not an http:// URL", url);
	}
	ERR_clear_error();
	BIO *r = OSSL_HTTP_transfer(NULL, host, port, path, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL,
				    "application/timestamp-query", query, "application/timestamp-reply", 1,
				    CS_TSA_MAX_REPLY, CS_TSA_TIMEOUT, 0);
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	if (r) {
		*reply = r;
		return 0;
	}
	switch (http_failure(why, sizeof(why))) {
	case HTTP_REFUSED:
		return ut_fail(UT_EREFUSED, "timestamp authority '%s' refused the request: %s", url, why);
	case HTTP_MALFORMED:
		return ut_fail(UT_EMALFORMED, "timestamp authority '%s' sent a malformed reply: %s", url, why);
	default:
		break;
	}
	return ut_fail(UT_EIO, "cannot reach timestamp authority '%s': %s", url, why);
}

static const char *status_text(long s)
{
	static const char *const t[] = { "granted", "granted with modifications", "rejection", "waiting",
					 "revocation warning", "revocation notification" };
	return s >= 0 && s < (long)(sizeof(t) / sizeof(t[0])) ? t[s] : "unknown status";
}

/* Status granted, imprint and nonce ours, token signature valid; *der the token. */
static int check_reply(const char *url, TS_RESP *resp, const uint8_t digest[32], const ASN1_INTEGER *nonce,
		       uint8_t **der, size_t *der_len)
{
	char why[512];
	TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
	long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
	if (status != TS_STATUS_GRANTED && status != TS_STATUS_GRANTED_WITH_MODS) {
		const STACK_OF(ASN1_UTF8STRING) *text = TS_STATUS_INFO_get0_text(si);
		const ASN1_UTF8STRING *s = text && sk_ASN1_UTF8STRING_num(text) > 0 ? sk_ASN1_UTF8STRING_value(text, 0)
										   : NULL;
		return ut_fail(UT_EREFUSED, "timestamp authority '%s' refused the request: status %ld (%s)%s%.*s", url,
			       status, status_text(status), s ? ": " : "", s ? ASN1_STRING_length(s) : 0,
			       s ? (const char *)ASN1_STRING_get0_data(s) : "");
	}
	PKCS7 *token = TS_RESP_get_token(resp);
	TS_TST_INFO *info = TS_RESP_get_tst_info(resp);
	if (!token || !info)
		return ut_fail(UT_EMALFORMED, "timestamp authority '%s' sent a malformed reply: granted without a token",
			       url);
	TS_MSG_IMPRINT *imp = TS_TST_INFO_get_msg_imprint(info);
	X509_ALGOR *alg = TS_MSG_IMPRINT_get_algo(imp);
	ASN1_OCTET_STRING *msg = TS_MSG_IMPRINT_get_msg(imp);
	if (!alg || OBJ_obj2nid(alg->algorithm) != NID_sha256 || !msg || ASN1_STRING_length(msg) != 32 ||
	    memcmp(ASN1_STRING_get0_data(msg), digest, 32) != 0)
		return ut_fail(UT_EVERIFY, "timestamp authority '%s' sent a token for other data (message imprint "
					   "is not the SHA-256 of the signature)", url);
	const ASN1_INTEGER *got = TS_TST_INFO_get_nonce(info);
	if (!got || ASN1_INTEGER_cmp(got, nonce) != 0)
		return ut_fail(UT_EVERIFY, "timestamp authority '%s' sent a token with another nonce (a replayed or "
					   "mixed-up reply)", url);
	/* The signature with the certificate the token carries; trust in it is the verifier's call. */
	if (PKCS7_verify(token, NULL, NULL, NULL, NULL, PKCS7_NOVERIFY | PKCS7_NOCHAIN) != 1)
		return ut_fail(UT_EVERIFY, "timestamp authority '%s' sent a token whose signature does not verify: %s",
			       url, ossl_reason(why, sizeof(why)));
	unsigned char *p = NULL;
	int n = i2d_PKCS7(token, &p);
	if (n <= 0 || !(*der = malloc((size_t)n))) {
		OPENSSL_free(p);
		ERR_clear_error();
		return ut_fail(UT_ENOMEM, "cannot encode the timestamp token");
	}
	memcpy(*der, p, (size_t)n);
	*der_len = (size_t)n;
	OPENSSL_free(p);
	return 0;
}

int cs_tsa_request(const char *url, const uint8_t *sig, size_t len, uint8_t **tst, size_t *tst_len)
{
	uint8_t digest[32];
	char why[512];
	*tst = NULL;
	*tst_len = 0;
	if (!url || !sig || len == 0)
		return ut_fail(UT_EINVAL, "timestamp request needs a URL and signature bytes");
	if (EVP_Digest(sig, len, digest, NULL, EVP_sha256(), NULL) != 1) {
		ERR_clear_error();
		return ut_fail(UT_ECRYPTO, "cannot hash the signature for the timestamp request");
	}
	BIO *query = NULL, *reply = NULL;
	ASN1_INTEGER *nonce = NULL;
	int rc = build_query(&query, digest, &nonce);
	if (!rc)
		rc = post(url, query, &reply);
	if (!rc) {
		TS_RESP *resp = d2i_TS_RESP_bio(reply, NULL);
		if (!resp)
			rc = ut_fail(UT_EMALFORMED, "timestamp authority '%s' sent a malformed reply: not a "
						    "TimeStampResp (%s)", url, ossl_reason(why, sizeof(why)));
		else
			rc = check_reply(url, resp, digest, nonce, tst, tst_len);
		TS_RESP_free(resp);
	}
	ERR_clear_error();
	BIO_free(query);
	BIO_free(reply);
	ASN1_INTEGER_free(nonce);
	return rc;
}

int cs_tsa_hook(void *ctx, const uint8_t *sig, size_t len, uint8_t **tst, size_t *tst_len)
{
	return cs_tsa_request((const char *)ctx, sig, len, tst, tst_len);
}
