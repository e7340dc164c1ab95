/* cs_bverify_cert.c - subject attributes and extension OIDs of a signer chain, for the requirement interpreter. */
#define _POSIX_C_SOURCE 200809L
#include <openssl/cms.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "cs_bverify_req.h"
#include "cs_x509.h"
#include "ut_err.h"
#include "ut_limits.h"

/* Requirement-language subject keys (SEC reqinterp.cpp certFields) and their attribute types. */
static const struct {
	const char *key;
	int nid;
} subject_keys[] = {
	{ "C", NID_countryName },           { "CN", NID_commonName },
	{ "D", NID_description },           { "L", NID_localityName },
	{ "O", NID_organizationName },      { "OU", NID_organizationalUnitName },
	{ "ST", NID_stateOrProvinceName },  { "STREET", NID_streetAddress },
	{ "UID", NID_userId },              { "emailAddress", NID_pkcs9_emailAddress },
};

static int add_attr(struct cs_certx *x, const char *key, const ASN1_STRING *data)
{
	if (x->nattrs == CS_CERTX_MAX_ATTRS) {
		x->truncated = 1;
		return 0;
	}
	unsigned char *s = NULL;
	int n = ASN1_STRING_to_UTF8(&s, data);
	if (n < 0)
		return cs_ossl_fail(UT_EMALFORMED, "certificate subject: unreadable %s", key);
	struct cs_certx_attr *a = &x->attrs[x->nattrs++];
	snprintf(a->key, sizeof(a->key), "%s", key);
	size_t len = memchr(s, 0, (size_t)n) ? strlen((char *)s) : (size_t)n;
	if (len > sizeof(a->value) - 1) {
		len = sizeof(a->value) - 1;
		while (len > 0 && (s[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(a->value, s, len);
	a->value[len] = '\0';
	OPENSSL_free(s);
	return 0;
}

static int fill(struct cs_certx *x, X509 *cert)
{
	memset(x, 0, sizeof(*x));
	const X509_NAME *subj = X509_get_subject_name(cert);
	for (int i = 0; i < X509_NAME_entry_count(subj); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(subj, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		for (size_t k = 0; k < sizeof(subject_keys) / sizeof(subject_keys[0]); k++)
			if (subject_keys[k].nid == nid) {
				int rc = add_attr(x, subject_keys[k].key, X509_NAME_ENTRY_get_data(e));
				if (rc)
					return rc;
			}
	}
	for (int i = 0; i < X509_get_ext_count(cert); i++) {
		if (x->nexts == CS_CERTX_MAX_EXTS) {
			x->truncated = 1;
			break;
		}
		const ASN1_OBJECT *obj = X509_EXTENSION_get_object(X509_get_ext(cert, i));
		if (OBJ_obj2txt(x->exts[x->nexts], CS_CERTX_OID_MAX, obj, 1) <= 0)
			return cs_ossl_fail(UT_EMALFORMED, "certificate extension %d: unreadable OID", i);
		x->nexts++;
	}
	return 0;
}

int cs_certx_read(struct cs_certx *out, const struct cs_chain *chain, const uint8_t *cms, size_t cms_len)
{
	if (cms_len > UT_MAX_SIG_SIZE)
		return ut_fail(UT_EUNSUPPORTED, "CMS signature of %zu bytes is larger than %u", cms_len, UT_MAX_SIG_SIZE);
	const unsigned char *p = cms;
	CMS_ContentInfo *ci = d2i_CMS_ContentInfo(NULL, &p, (long)cms_len);
	if (!ci)
		return cs_ossl_fail(UT_EMALFORMED, "CMS signature does not decode");
	STACK_OF(X509) *certs = CMS_get1_certs(ci);
	int rc = 0;
	for (uint32_t i = 0; i < chain->n && !rc; i++) {
		X509 *found = NULL;
		for (int k = 0; k < sk_X509_num(certs) && !found; k++) {
			uint8_t d[32];
			unsigned n = 0;
			X509 *c = sk_X509_value(certs, k);
			if (X509_digest(c, EVP_sha256(), d, &n) && n == 32 && memcmp(d, chain->certs[i].sha256, 32) == 0)
				found = c;
		}
		if (!found)
			rc = ut_fail(UT_ENOTFOUND, "certificate %u of the chain ('%s') is not in the CMS signature", i,
				     chain->certs[i].cn);
		else
			rc = fill(&out[i], found);
	}
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(ci);
	return rc;
}
