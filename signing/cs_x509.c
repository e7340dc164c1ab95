/*
 * cs_x509.c - signer certificates: names, markers, chain building, Apple roots,
 * signer kinds.  See cs_pki.h for the trust model.
 */
#include "cs_x509.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The same table as profiles/apple-roots.tsv (test_cms_roots.c checks that they
 * agree, and that the corpus chains end in these roots).
 */
static const struct cs_root apple_roots[] = {
	{ { 0xb0, 0xb1, 0x73, 0x0e, 0xcb, 0xc7, 0xff, 0x45, 0x05, 0x14, 0x2c, 0x49, 0xf1, 0x29, 0x5e, 0x6e,
	    0xda, 0x6b, 0xca, 0xed, 0x7e, 0x2c, 0x68, 0xc5, 0xbe, 0x91, 0xb5, 0xa1, 0x10, 0x01, 0xf0, 0x24 },
	  "Apple Root CA" },
	{ { 0xc2, 0xb9, 0xb0, 0x42, 0xdd, 0x57, 0x83, 0x0e, 0x7d, 0x11, 0x7d, 0xac, 0x55, 0xac, 0x8a, 0xe1,
	    0x94, 0x07, 0xd3, 0x8e, 0x41, 0xd8, 0x8f, 0x32, 0x15, 0xbc, 0x3a, 0x89, 0x04, 0x44, 0xa0, 0x50 },
	  "Apple Root CA - G2" },
	{ { 0x63, 0x34, 0x3a, 0xbf, 0xb8, 0x9a, 0x6a, 0x03, 0xeb, 0xb5, 0x7e, 0x9b, 0x3f, 0x5f, 0xa7, 0xbe,
	    0x7c, 0x4f, 0x5c, 0x75, 0x6f, 0x30, 0x17, 0xb3, 0xa8, 0xc4, 0x88, 0xc3, 0x65, 0x3e, 0x91, 0x79 },
	  "Apple Root CA - G3" },
};
static const enum cs_anchor apple_anchor[] = { CS_ANCHOR_APPLE_ROOT_CA, CS_ANCHOR_APPLE_ROOT_CA_G2,
					       CS_ANCHOR_APPLE_ROOT_CA_G3 };
#define NAPPLE_ROOTS (sizeof(apple_roots) / sizeof(apple_roots[0]))
#define MAX_ROOTS 1024

int cs_ossl_fail(int code, const char *fmt, ...)
{
	char msg[768];
	char reason[256] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	unsigned long e = ERR_peek_error();
	if (e) {
		const char *r = ERR_reason_error_string(e);
		if (r)
			snprintf(reason, sizeof(reason), "%s", r);
		else
			ERR_error_string_n(e, reason, sizeof(reason));
	}
	ERR_clear_error();
	if (reason[0])
		return ut_fail(code, "%s: %s", msg, reason);
	return ut_fail(code, "%s", msg);
}

int cs_asn1_time_unix(int64_t *out, const ASN1_TIME *t)
{
	int day = 0, sec = 0;
	*out = 0;
	ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
	if (!epoch)
		return cs_ossl_fail(UT_ENOMEM, "cannot allocate a time");
	int ok = t && ASN1_TIME_diff(&day, &sec, epoch, t);
	ASN1_TIME_free(epoch);
	if (!ok) {
		ERR_clear_error();
		return ut_fail(UT_EMALFORMED, "invalid ASN.1 time");
	}
	*out = (int64_t)day * 86400 + sec;
	return 0;
}

const EVP_MD *cs_hashtype_md(uint32_t hash_type)
{
	switch (hash_type) {
	case CS_HASHTYPE_SHA1: return EVP_sha1();
	case CS_HASHTYPE_SHA256:
	case CS_HASHTYPE_SHA256_TRUNCATED: return EVP_sha256();
	case CS_HASHTYPE_SHA384: return EVP_sha384();
	default: return NULL;
	}
}

int cs_hashtype_nid(uint32_t hash_type)
{
	const EVP_MD *md = cs_hashtype_md(hash_type);
	return md ? EVP_MD_get_type(md) : NID_undef;
}

/* Copies the first name entry of nid as UTF-8, cut at a character boundary. */
static int name_entry(char out[CS_NAME_MAX], const X509_NAME *name, int nid)
{
	out[0] = '\0';
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	if (i < 0)
		return 0;
	unsigned char *s = NULL;
	int n = ASN1_STRING_to_UTF8(&s, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n < 0)
		return cs_ossl_fail(UT_EMALFORMED, "certificate subject: unreadable %s", OBJ_nid2sn(nid));
	if (memchr(s, 0, (size_t)n)) {
		OPENSSL_free(s);
		return ut_fail(UT_EMALFORMED, "certificate subject: %s contains a NUL byte", OBJ_nid2sn(nid));
	}
	size_t len = (size_t)n;
	if (len > CS_NAME_MAX - 1) {
		len = CS_NAME_MAX - 1;
		while (len > 0 && (s[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	OPENSSL_free(s);
	return 0;
}

static int has_ext(X509 *x, const char *oid)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	if (!obj)
		return 0;
	int r = X509_get_ext_by_OBJ(x, obj, -1) >= 0;
	ASN1_OBJECT_free(obj);
	return r;
}

int cs_x509_info(struct cs_cert_info *out, X509 *x)
{
	unsigned int n;
	memset(out, 0, sizeof(*out));
	const X509_NAME *subj = X509_get_subject_name(x);
	int rc = name_entry(out->cn, subj, NID_commonName);
	if (!rc)
		rc = name_entry(out->ou, subj, NID_organizationalUnitName);
	if (!rc)
		rc = name_entry(out->o, subj, NID_organizationName);
	if (rc)
		return rc;
	if (!X509_digest(x, EVP_sha1(), out->sha1, &n) || !X509_digest(x, EVP_sha256(), out->sha256, &n))
		return cs_ossl_fail(UT_ECRYPTO, "cannot hash certificate '%s'", out->cn);
	if (has_ext(x, CS_OID_DEVID_CA))
		out->marks |= CS_CERT_DEVID_CA;
	if (has_ext(x, CS_OID_WWDR_CA))
		out->marks |= CS_CERT_WWDR_CA;
	if (has_ext(x, CS_OID_DEVID_LEAF))
		out->marks |= CS_CERT_DEVID_LEAF;
	if (has_ext(x, CS_OID_SOFTWARE_SIGNING))
		out->marks |= CS_CERT_SOFTWARE_SIGNING;
	if (cs_asn1_time_unix(&out->not_before, X509_get0_notBefore(x)) ||
	    cs_asn1_time_unix(&out->not_after, X509_get0_notAfter(x)))
		return ut_ctx(UT_EMALFORMED, "certificate '%s' validity", out->cn);
	return 0;
}

static enum cs_anchor classify_root(const uint8_t sha256[32], const struct cs_trust *trust)
{
	size_t n;
	const struct cs_root *roots = cs_apple_roots(&n);
	for (size_t i = 0; i < n; i++)
		if (memcmp(roots[i].sha256, sha256, 32) == 0)
			return apple_anchor[i];
	for (size_t i = 0; trust && i < trust->nanchors; i++)
		if (memcmp(trust->anchors[i].sha256, sha256, 32) == 0)
			return CS_ANCHOR_LISTED;
	return CS_ANCHOR_OTHER;
}

/*
 * The signature of x verifies with key k.  Checked over the TBS bytes as
 * encoded, with the digest of the outer signature algorithm: X509_verify also
 * wants the inner and outer algorithm identifiers byte-identical, which some
 * real certificates break (NULL parameters present in one, absent in the other).
 */
static int cert_sig_ok(X509 *x, EVP_PKEY *k)
{
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;
	const ASN1_OBJECT *aobj;
	int mdnid = NID_undef, pknid;
	X509_get0_signature(&sig, &alg, x);
	X509_ALGOR_get0(&aobj, NULL, NULL, alg);
	if (!OBJ_find_sigid_algs(OBJ_obj2nid(aobj), &mdnid, &pknid) || mdnid == NID_undef ||
	    !EVP_get_digestbynid(mdnid))
		return X509_verify(x, k) == 1;
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	const unsigned char *p = der, *tbs;
	long clen, tlen;
	int tag, cls, ok = 0;
	if (len > 0 && ASN1_get_object(&p, &clen, &tag, &cls, len) == V_ASN1_CONSTRUCTED && tag == V_ASN1_SEQUENCE) {
		tbs = p;
		if (ASN1_get_object(&p, &tlen, &tag, &cls, clen) == V_ASN1_CONSTRUCTED && tag == V_ASN1_SEQUENCE) {
			EVP_MD_CTX *m = EVP_MD_CTX_new();
			ok = m && EVP_DigestVerifyInit(m, NULL, EVP_get_digestbynid(mdnid), NULL, k) == 1 &&
			     EVP_DigestVerify(m, ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig), tbs,
					      (size_t)(p - tbs) + (size_t)tlen) == 1;
			EVP_MD_CTX_free(m);
		}
	}
	OPENSSL_free(der);
	return ok;
}

/* The certificate of pool that issued cur (names, key identifiers, and the signature verify). */
static X509 *find_issuer(X509 *cur, STACK_OF(X509) *pool, int *name_match)
{
	*name_match = 0;
	for (int i = 0; i < sk_X509_num(pool); i++) {
		X509 *cand = sk_X509_value(pool, i);
		if (cand == cur || X509_cmp(cand, cur) == 0)
			continue;
		if (X509_check_issued(cand, cur) != X509_V_OK)
			continue;
		*name_match = 1;
		EVP_PKEY *k = X509_get0_pubkey(cand);
		if (k && cert_sig_ok(cur, k))
			return cand;
	}
	ERR_clear_error();
	return NULL;
}

/*
 * Subject = issuer and the signature verifies with its own key.  (OpenSSL's
 * X509_self_signed also wants keyCertSign when a key usage is present; real
 * self-signed code-signing certificates carry digitalSignature only.)
 */
static int self_signed(X509 *x)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	int r = k && X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0 && cert_sig_ok(x, k);
	ERR_clear_error();
	return r;
}

static int in_stack(STACK_OF(X509) *s, X509 *x)
{
	for (int i = 0; i < sk_X509_num(s); i++)
		if (X509_cmp(sk_X509_value(s, i), x) == 0)
			return 1;
	return 0;
}

int cs_x509_chain_build(struct cs_chain *out, STACK_OF(X509) **ordered, X509 *leaf, STACK_OF(X509) *pool,
			const struct cs_trust *trust)
{
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (ordered)
		*ordered = NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	if (!chain)
		return cs_ossl_fail(UT_ENOMEM, "cannot allocate a certificate chain");
	X509 *cur = leaf;
	for (;;) {
		if (out->n == CS_CHAIN_MAX) {
			rc = ut_fail(UT_EUNSUPPORTED, "certificate chain longer than %d certificates", CS_CHAIN_MAX);
			goto done;
		}
		struct cs_cert_info *ci = &out->certs[out->n];
		if ((rc = cs_x509_info(ci, cur)))
			goto done;
		if (!X509_up_ref(cur) || !sk_X509_push(chain, cur)) {
			rc = cs_ossl_fail(UT_ENOMEM, "cannot grow a certificate chain");
			goto done;
		}
		out->n++;
		if (self_signed(cur)) {
			ci->marks |= CS_CERT_SELF_SIGNED;
			break;
		}
		int name_match;
		X509 *issuer = find_issuer(cur, pool, &name_match);
		if (!issuer) {
			if (name_match)
				rc = ut_fail(UT_EVERIFY, "certificate '%s' is not validly signed by its issuer", ci->cn);
			else
				rc = ut_fail(UT_EVERIFY,
					     "certificate chain does not end in a trusted anchor: the issuer of '%s' "
					     "is not among the certificates",
					     ci->cn);
			goto done;
		}
		if (in_stack(chain, issuer)) {
			rc = ut_fail(UT_EVERIFY, "certificate chain loops at '%s'", ci->cn);
			goto done;
		}
		cur = issuer;
	}
	out->anchor = classify_root(out->certs[out->n - 1].sha256, trust);
	if (trust && (trust->flags & CS_TRUST_REQUIRE_ANCHOR) && !cs_anchor_trusted(out->anchor)) {
		rc = ut_fail(UT_EVERIFY, "certificate chain does not end in a trusted anchor: root '%s' is not trusted",
			     out->certs[out->n - 1].cn);
		goto done;
	}
done:
	if (rc || !ordered)
		sk_X509_pop_free(chain, X509_free);
	else
		*ordered = chain;
	return rc;
}

static int parse_sha256(uint8_t out[32], const char *s, size_t len)
{
	return len == 64 ? ut_unhex(out, s, 32) : -1;
}

const struct cs_root *cs_apple_roots(size_t *n)
{
	*n = NAPPLE_ROOTS;
	return apple_roots;
}

int cs_roots_parse(struct cs_root **out, size_t *n, const char *text, size_t len, const char *name)
{
	*out = NULL;
	*n = 0;
	struct cs_root *roots = NULL;
	size_t count = 0, line = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		line++;
		size_t l = (size_t)(le - p);
		if (l && p[l - 1] == '\r')
			l--;
		if (l && p[0] != '#') {
			const char *tab = memchr(p, '\t', l);
			const char *nm = tab ? tab + 1 : NULL;
			const char *nend = nm ? memchr(nm, '\t', (size_t)(p + l - nm)) : NULL;
			if (!nend)
				nend = p + l;
			struct cs_root r;
			memset(&r, 0, sizeof(r));
			if (!tab || parse_sha256(r.sha256, p, (size_t)(tab - p)) || nend == nm ||
			    (size_t)(nend - nm) >= sizeof(r.name)) {
				free(roots);
				return ut_fail(UT_EMALFORMED, "'%s' line %zu: expected \"<sha256 hex>\\t<name>\"", name,
					       line);
			}
			if (count == MAX_ROOTS) {
				free(roots);
				return ut_fail(UT_EUNSUPPORTED, "'%s': more than %d roots", name, MAX_ROOTS);
			}
			memcpy(r.name, nm, (size_t)(nend - nm));
			struct cs_root *g = realloc(roots, (count + 1) * sizeof(*roots));
			if (!g) {
				free(roots);
				return ut_fail(UT_ENOMEM, "out of memory");
			}
			roots = g;
			roots[count++] = r;
		}
		p = eol ? eol + 1 : end;
	}
	*out = roots;
	*n = count;
	return 0;
}

const char *cs_anchor_name(enum cs_anchor a)
{
	switch (a) {
	case CS_ANCHOR_APPLE_ROOT_CA: return "Apple Root CA";
	case CS_ANCHOR_APPLE_ROOT_CA_G2: return "Apple Root CA - G2";
	case CS_ANCHOR_APPLE_ROOT_CA_G3: return "Apple Root CA - G3";
	case CS_ANCHOR_LISTED: return "listed anchor";
	default: return "other root";
	}
}

int cs_anchor_trusted(enum cs_anchor a) { return a != CS_ANCHOR_OTHER; }

const char *cs_signer_kind_name(enum cs_signer_kind k)
{
	switch (k) {
	case CS_SIGNER_APPLE_PLATFORM: return "Apple platform";
	case CS_SIGNER_DEVELOPER_ID: return "Developer ID";
	case CS_SIGNER_APPLE_DEVELOPMENT: return "Apple Development";
	case CS_SIGNER_APPLE_OTHER: return "Apple (other)";
	default: return "other certificate";
	}
}

enum cs_signer_kind cs_chain_kind(const struct cs_chain *c)
{
	if (c->n == 0 || !cs_anchor_trusted(c->anchor))
		return CS_SIGNER_OTHER;
	const struct cs_cert_info *leaf = &c->certs[0];
	if (leaf->marks & CS_CERT_SOFTWARE_SIGNING)
		return CS_SIGNER_APPLE_PLATFORM;
	if (c->n >= 2 && strcmp(c->certs[1].cn, "Apple Code Signing Certification Authority") == 0)
		return CS_SIGNER_APPLE_PLATFORM;
	if (c->n == 3 && (c->certs[1].marks & CS_CERT_DEVID_CA) && (leaf->marks & CS_CERT_DEVID_LEAF))
		return CS_SIGNER_DEVELOPER_ID;
	if (c->n == 3 && (c->certs[1].marks & CS_CERT_WWDR_CA))
		return CS_SIGNER_APPLE_DEVELOPMENT;
	return CS_SIGNER_APPLE_OTHER;
}
