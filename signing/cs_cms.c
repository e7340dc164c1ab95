/*
 * cs_cms.c - verifying the CMS of a code signature and of provisioning
 * profiles; the BlobWrapper; cdhashes and the two Apple cdhash attributes.
 *
 * OpenSSL decodes the CMS.  The signature itself is checked here over the
 * signed-attribute bytes exactly as received (cs_cms_raw_signed_attrs walks the
 * BER to find them), because re-encoding may reorder them (spec §10).
 */
#include "cs_x509.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ts.h>
#include <stdlib.h>
#include <string.h>

#include "cs_hash.h"
#include "ut_limits.h"

#define OID_CDHASHES_PLIST "1.2.840.113635.100.9.1"
#define OID_CDHASHES2 "1.2.840.113635.100.9.2"
#define BER_MAX_DEPTH 32
#define MAC_EPOCH_OFFSET 978307200 /* 2001-01-01T00:00:00Z, the plist <date> epoch */

int cs_cdhash_compute(struct cs_cdhash *out, uint32_t hash_type, const uint8_t *cd, size_t len)
{
	unsigned int n = 0;
	memset(out, 0, sizeof(*out));
	const EVP_MD *md = cs_hashtype_md(hash_type);
	if (!md)
		return ut_fail(UT_EUNSUPPORTED, "CodeDirectory hash type %u is not supported", hash_type);
	if (!EVP_Digest(cd, len, out->digest, &n, md, NULL))
		return cs_ossl_fail(UT_ECRYPTO, "cannot hash the CodeDirectory");
	out->hash_type = hash_type;
	out->len = n;
	return 0;
}

int cs_cms_unwrap(struct ut_span *payload, const uint8_t *blob, size_t len)
{
	*payload = ut_span_make(NULL, 0);
	if (len < 8)
		return ut_fail(UT_EMALFORMED, "CMS blob wrapper: %zu bytes, below the 8-byte header", len);
	uint32_t magic = ut_be32(blob), l = ut_be32(blob + 4);
	if (magic != CSMAGIC_BLOBWRAPPER)
		return ut_fail(UT_EMALFORMED, "CMS blob wrapper: magic 0x%08x, expected 0x%08x", magic,
			       CSMAGIC_BLOBWRAPPER);
	if (l < 8 || l > len)
		return ut_fail(UT_EMALFORMED, "CMS blob wrapper: length %u outside 8..%zu", l, len);
	*payload = ut_span_make(blob + 8, l - 8);
	return 0;
}

int cs_cms_wrap(struct ut_buf *out, const uint8_t *payload, size_t len)
{
	if (len > UINT32_MAX - 8)
		return ut_fail(UT_EUNSUPPORTED, "CMS signature of %zu bytes does not fit a blob", len);
	int rc = ut_buf_be32(out, CSMAGIC_BLOBWRAPPER);
	if (!rc)
		rc = ut_buf_be32(out, (uint32_t)len + 8);
	if (!rc)
		rc = ut_buf_append(out, payload, len);
	return rc;
}

/* One BER element: header at hdr, content [content, content+clen), next element at end. */
struct ber {
	const uint8_t *hdr, *content, *end;
	size_t clen;
	int tag, cls, cons, indef;
};

static int ber_read(struct ber *t, const uint8_t *p, const uint8_t *lim, int depth)
{
	if (depth > BER_MAX_DEPTH || p >= lim)
		return -1;
	const unsigned char *q = p;
	long len;
	int r = ASN1_get_object(&q, &len, &t->tag, &t->cls, (long)(lim - p));
	if (r & 0x80) {
		ERR_clear_error();
		return -1;
	}
	t->hdr = p;
	t->content = q;
	t->cons = (r & V_ASN1_CONSTRUCTED) != 0;
	t->indef = r & 1;
	if (!t->indef) {
		t->clen = (size_t)len;
		t->end = q + len;
		return 0;
	}
	/* Indefinite length: the children run up to an end-of-contents octet pair. */
	const uint8_t *c = q;
	while (!(lim - c >= 2 && c[0] == 0 && c[1] == 0)) {
		struct ber ch;
		if (ber_read(&ch, c, lim, depth + 1))
			return -1;
		c = ch.end;
	}
	t->clen = (size_t)(c - q);
	t->end = c + 2;
	return 0;
}

static int ber_child(struct ber *ch, const struct ber *parent, const uint8_t **cur, int depth)
{
	const uint8_t *lim = parent->content + parent->clen;
	if (*cur >= lim)
		return 1;
	if (ber_read(ch, *cur, lim, depth))
		return -1;
	*cur = ch->end;
	return 0;
}

static int is_univ(const struct ber *t, int tag) { return t->cls == V_ASN1_UNIVERSAL && t->tag == tag; }

int cs_cms_raw_signed_attrs(struct ut_span *out, int *present, const uint8_t *der, size_t len)
{
	struct ber ci, oid, ex, sd, el, sis, si, f;
	memset(&sis, 0, sizeof(sis));
	memset(&si, 0, sizeof(si));
	memset(&f, 0, sizeof(f));
	const uint8_t *c;
	*out = ut_span_make(NULL, 0);
	*present = 0;
	if (ber_read(&ci, der, der + len, 0) || !is_univ(&ci, V_ASN1_SEQUENCE))
		goto bad;
	c = ci.content;
	if (ber_child(&oid, &ci, &c, 1) || !is_univ(&oid, V_ASN1_OBJECT) || ber_child(&ex, &ci, &c, 1) ||
	    ex.cls != V_ASN1_CONTEXT_SPECIFIC || ex.tag != 0)
		goto bad;
	c = ex.content;
	if (ber_child(&sd, &ex, &c, 2) || !is_univ(&sd, V_ASN1_SEQUENCE))
		goto bad;
	/* signerInfos is the last field of SignedData. */
	int n = 0, r;
	c = sd.content;
	while ((r = ber_child(&el, &sd, &c, 3)) == 0) {
		sis = el;
		n++;
	}
	if (r < 0 || n < 4 || !is_univ(&sis, V_ASN1_SET))
		goto bad;
	n = 0;
	c = sis.content;
	while ((r = ber_child(&el, &sis, &c, 4)) == 0)
		if (n++ == 0)
			si = el;
	if (r < 0)
		goto bad;
	if (n != 1)
		return ut_fail(UT_EUNSUPPORTED, "CMS signature has %d signers, expected one", n);
	/* SignerInfo: version, sid, digestAlgorithm, [0] IMPLICIT signedAttrs OPTIONAL, ... */
	c = si.content;
	for (int i = 0; i < 4; i++) {
		if (ber_child(&f, &si, &c, 5))
			goto bad;
	}
	if (f.cls != V_ASN1_CONTEXT_SPECIFIC || f.tag != 0)
		return 0;
	if (f.indef || !f.cons || f.hdr[0] != 0xa0)
		return ut_fail(UT_EMALFORMED, "CMS signed attributes are not DER-encoded");
	*present = 1;
	*out = ut_span_make(f.hdr, (size_t)(f.end - f.hdr));
	return 0;
bad:
	return ut_fail(UT_EMALFORMED, "CMS signature is not a well-formed SignedData");
}

/* What one decoded CMS gives the checks below. */
struct vctx {
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	STACK_OF(X509) *certs;
	X509 *leaf;
	const EVP_MD *md;
	struct ut_span raw_attrs;
	int has_attrs;
};

static void vctx_release(struct vctx *v)
{
	CMS_ContentInfo_free(v->cms);
	sk_X509_pop_free(v->certs, X509_free);
	memset(v, 0, sizeof(*v));
}

static int decode(struct vctx *v, const uint8_t *der, size_t len)
{
	memset(v, 0, sizeof(*v));
	if (len > UT_MAX_SIG_SIZE)
		return ut_fail(UT_EUNSUPPORTED, "CMS signature of %zu bytes is larger than %u", len, UT_MAX_SIG_SIZE);
	const unsigned char *p = der;
	v->cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (!v->cms)
		return cs_ossl_fail(UT_EMALFORMED, "CMS signature does not decode");
	size_t used = (size_t)(p - der);
	for (size_t i = used; i < len; i++)
		if (der[i])
			return ut_fail(UT_EMALFORMED, "CMS signature: non-zero bytes after its end at offset %zu", used);
	if (OBJ_obj2nid(CMS_get0_type(v->cms)) != NID_pkcs7_signed)
		return ut_fail(UT_EUNSUPPORTED, "CMS signature is not SignedData");
	if (OBJ_obj2nid(CMS_get0_eContentType(v->cms)) != NID_pkcs7_data)
		return ut_fail(UT_EUNSUPPORTED, "CMS signature: content type is not id-data");
	int rc = cs_cms_raw_signed_attrs(&v->raw_attrs, &v->has_attrs, der, used);
	if (rc)
		return rc;
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(v->cms);
	if (sk_CMS_SignerInfo_num(sis) != 1)
		return ut_fail(UT_EUNSUPPORTED, "CMS signature has %d signers, expected one",
			       sk_CMS_SignerInfo_num(sis));
	v->si = sk_CMS_SignerInfo_value(sis, 0);
	v->certs = CMS_get1_certs(v->cms);
	for (int i = 0; i < sk_X509_num(v->certs) && !v->leaf; i++)
		if (CMS_SignerInfo_cert_cmp(v->si, sk_X509_value(v->certs, i)) == 0)
			v->leaf = sk_X509_value(v->certs, i);
	if (!v->leaf)
		return ut_fail(UT_EVERIFY, "CMS signature does not carry its signer's certificate");
	X509_ALGOR *dig = NULL, *sig = NULL;
	CMS_SignerInfo_get0_algs(v->si, NULL, NULL, &dig, &sig);
	const ASN1_OBJECT *dobj = NULL, *sobj = NULL;
	X509_ALGOR_get0(&dobj, NULL, NULL, dig);
	X509_ALGOR_get0(&sobj, NULL, NULL, sig);
	v->md = EVP_get_digestbyobj(dobj);
	if (!v->md)
		return ut_fail(UT_EUNSUPPORTED, "CMS signer digest algorithm %d is not supported", OBJ_obj2nid(dobj));
	if (OBJ_obj2nid(sobj) == NID_rsassaPss)
		return ut_fail(UT_EUNSUPPORTED, "CMS signature algorithm RSASSA-PSS is not supported");
	return 0;
}

/* The only value of the only instance of attribute obj (*val NULL when absent). */
static int one_attr(const ASN1_TYPE **val, CMS_SignerInfo *si, const ASN1_OBJECT *obj, int is_signed,
		    const char *label)
{
	*val = NULL;
	int i = is_signed ? CMS_signed_get_attr_by_OBJ(si, obj, -1) : CMS_unsigned_get_attr_by_OBJ(si, obj, -1);
	if (i < 0)
		return 0;
	int j = is_signed ? CMS_signed_get_attr_by_OBJ(si, obj, i) : CMS_unsigned_get_attr_by_OBJ(si, obj, i);
	if (j >= 0)
		return ut_fail(UT_EMALFORMED, "CMS %s attribute appears twice", label);
	X509_ATTRIBUTE *a = is_signed ? CMS_signed_get_attr(si, i) : CMS_unsigned_get_attr(si, i);
	if (X509_ATTRIBUTE_count(a) != 1)
		return ut_fail(UT_EMALFORMED, "CMS %s attribute has %d values, expected one", label,
			       X509_ATTRIBUTE_count(a));
	*val = X509_ATTRIBUTE_get0_type(a, 0);
	return 0;
}

static int sig_ok(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *data, size_t len, const ASN1_OCTET_STRING *sig)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int ok = m && EVP_DigestVerifyInit(m, NULL, md, NULL, pk) == 1 &&
		 EVP_DigestVerify(m, ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig), data, len) == 1;
	EVP_MD_CTX_free(m);
	ERR_clear_error();
	return ok;
}

/* Signature, messageDigest, chain, signing time: everything but the code-signing attributes. */
static int verify_signer(struct cs_cms_result *out, struct vctx *v, const uint8_t *content, size_t clen,
			 const struct cs_trust *trust, const char *what)
{
	EVP_PKEY *pk = X509_get0_pubkey(v->leaf);
	const ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(v->si);
	const ASN1_TYPE *val;
	int rc;
	if (!pk)
		return cs_ossl_fail(UT_EUNSUPPORTED, "CMS signer key is not usable");
	snprintf(out->digest, sizeof(out->digest), "%s", OBJ_nid2ln(EVP_MD_get_type(v->md)));
	if (!v->has_attrs) {
		if (!sig_ok(pk, v->md, content, clen, sig))
			return ut_fail(UT_EVERIFY, "CMS signature does not match the %s", what);
	} else {
		out->attrs |= CS_CMS_ATTR_SIGNED;
		uint8_t md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		if ((rc = one_attr(&val, v->si, OBJ_nid2obj(NID_pkcs9_messageDigest), 1, "messageDigest")))
			return rc;
		if (!val || val->type != V_ASN1_OCTET_STRING)
			return ut_fail(UT_EMALFORMED, "CMS messageDigest attribute is missing or not an OCTET STRING");
		if (!EVP_Digest(content, clen, md, &mdlen, v->md, NULL))
			return cs_ossl_fail(UT_ECRYPTO, "cannot hash the %s", what);
		if ((unsigned)ASN1_STRING_length(val->value.octet_string) != mdlen ||
		    memcmp(ASN1_STRING_get0_data(val->value.octet_string), md, mdlen) != 0)
			return ut_fail(UT_EVERIFY, "CMS signature does not match the %s", what);
		if ((rc = one_attr(&val, v->si, OBJ_nid2obj(NID_pkcs9_contentType), 1, "contentType")))
			return rc;
		if (val && (val->type != V_ASN1_OBJECT ||
			    OBJ_cmp(val->value.object, CMS_get0_eContentType(v->cms)) != 0))
			return ut_fail(UT_EVERIFY, "CMS contentType attribute does not match the content type");
		/* The signature covers the attributes as received, with the SET OF tag. */
		uint8_t *buf = malloc(v->raw_attrs.len);
		if (!buf)
			return ut_fail(UT_ENOMEM, "out of memory");
		memcpy(buf, v->raw_attrs.p, v->raw_attrs.len);
		buf[0] = V_ASN1_SET | V_ASN1_CONSTRUCTED;
		int ok = sig_ok(pk, v->md, buf, v->raw_attrs.len, sig);
		free(buf);
		if (!ok)
			return ut_fail(UT_EVERIFY, "CMS signature is invalid: the signed attributes do not verify");
	}
	if ((rc = cs_x509_chain_build(&out->chain, NULL, v->leaf, v->certs, trust)))
		return rc;
	out->trusted = cs_anchor_trusted(out->chain.anchor);
	out->kind = cs_chain_kind(&out->chain);
	if (out->kind == CS_SIGNER_DEVELOPER_ID || out->kind == CS_SIGNER_APPLE_DEVELOPMENT ||
	    out->kind == CS_SIGNER_APPLE_OTHER)
		memcpy(out->team_id, out->chain.certs[0].ou, sizeof(out->team_id));
	if ((rc = one_attr(&val, v->si, OBJ_nid2obj(NID_pkcs9_signingTime), 1, "signingTime")))
		return rc;
	if (val) {
		if ((val->type != V_ASN1_UTCTIME && val->type != V_ASN1_GENERALIZEDTIME) ||
		    cs_asn1_time_unix(&out->signing_time, (const ASN1_TIME *)val->value.asn1_string))
			return ut_fail(UT_EMALFORMED, "CMS signingTime attribute is not a valid time");
		out->attrs |= CS_CMS_ATTR_SIGNING_TIME;
	}
	return 0;
}

/* The RFC 3161 token: its imprint is the digest of our signature value, and it is validly signed. */
static int check_timestamp(struct cs_cms_result *out, CMS_SignerInfo *si)
{
	const ASN1_TYPE *val;
	int rc = one_attr(&val, si, OBJ_nid2obj(NID_id_smime_aa_timeStampToken), 0, "timestamp token");
	if (rc || !val)
		return rc;
	if (val->type != V_ASN1_SEQUENCE)
		return ut_fail(UT_EMALFORMED, "CMS timestamp token is not a SEQUENCE");
	const unsigned char *p = ASN1_STRING_get0_data(val->value.sequence);
	CMS_ContentInfo *tst = d2i_CMS_ContentInfo(NULL, &p, ASN1_STRING_length(val->value.sequence));
	TS_TST_INFO *info = NULL;
	ASN1_OCTET_STRING **pos = tst ? CMS_get0_content(tst) : NULL;
	if (!tst || OBJ_obj2nid(CMS_get0_type(tst)) != NID_pkcs7_signed ||
	    OBJ_obj2nid(CMS_get0_eContentType(tst)) != NID_id_smime_ct_TSTInfo || !pos || !*pos) {
		rc = cs_ossl_fail(UT_EMALFORMED, "CMS timestamp token is not a SignedData TSTInfo");
		goto done;
	}
	const unsigned char *q = ASN1_STRING_get0_data(*pos);
	info = d2i_TS_TST_INFO(NULL, &q, ASN1_STRING_length(*pos));
	if (!info) {
		rc = cs_ossl_fail(UT_EMALFORMED, "CMS timestamp token: TSTInfo does not decode");
		goto done;
	}
	TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(info);
	const ASN1_OBJECT *aobj = NULL;
	X509_ALGOR_get0(&aobj, NULL, NULL, TS_MSG_IMPRINT_get_algo(mi));
	const EVP_MD *md = EVP_get_digestbyobj(aobj);
	const ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
	const ASN1_OCTET_STRING *imprint = TS_MSG_IMPRINT_get_msg(mi);
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	if (!md || !EVP_Digest(ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig), d, &dlen, md, NULL)) {
		rc = cs_ossl_fail(UT_EUNSUPPORTED, "CMS timestamp token: imprint digest is not supported");
		goto done;
	}
	if ((unsigned)ASN1_STRING_length(imprint) != dlen || memcmp(ASN1_STRING_get0_data(imprint), d, dlen)) {
		rc = ut_fail(UT_EVERIFY, "timestamp does not match the CMS signature");
		goto done;
	}
	if (CMS_verify(tst, NULL, NULL, NULL, NULL, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1) {
		rc = cs_ossl_fail(UT_EVERIFY, "timestamp token signature is invalid");
		goto done;
	}
	if (cs_asn1_time_unix(&out->timestamp, TS_TST_INFO_get_time(info))) {
		rc = ut_fail(UT_EMALFORMED, "CMS timestamp token: genTime is not a valid time");
		goto done;
	}
	STACK_OF(X509) *signers = CMS_get0_signers(tst);
	struct cs_cert_info ci;
	if (sk_X509_num(signers) > 0 && cs_x509_info(&ci, sk_X509_value(signers, 0)) == 0)
		memcpy(out->timestamp_authority, ci.cn, sizeof(ci.cn));
	sk_X509_free(signers);
	out->attrs |= CS_CMS_ATTR_TIMESTAMP;
done:
	TS_TST_INFO_free(info);
	CMS_ContentInfo_free(tst);
	ERR_clear_error();
	return rc;
}

static int check_cdhashes_plist(struct cs_cms_result *out, CMS_SignerInfo *si, const struct cs_cdhash *c,
				size_t n)
{
	const ASN1_TYPE *val;
	ASN1_OBJECT *obj = OBJ_txt2obj(OID_CDHASHES_PLIST, 1);
	int rc = obj ? one_attr(&val, si, obj, 1, "cdhashes") : cs_ossl_fail(UT_ENOMEM, "cannot make an OID");
	ASN1_OBJECT_free(obj);
	if (rc || !val)
		return rc;
	if (val->type != V_ASN1_OCTET_STRING)
		return ut_fail(UT_EMALFORMED, "CMS cdhashes attribute is not an OCTET STRING");
	plist_t pl = NULL;
	const ASN1_OCTET_STRING *os = val->value.octet_string;
	if ((rc = ut_plist_parse(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os), "cdhashes attribute",
				 &pl, NULL)))
		return rc;
	plist_t arr = plist_get_node_type(pl) == PLIST_DICT ? plist_dict_get_item(pl, "cdhashes") : NULL;
	if (!arr || plist_get_node_type(arr) != PLIST_ARRAY) {
		plist_free(pl);
		return ut_fail(UT_EMALFORMED, "CMS cdhashes attribute: no 'cdhashes' array");
	}
	uint32_t cnt = plist_array_get_size(arr);
	out->ncdhashes_plist = cnt;
	int match = cnt == n;
	for (uint32_t i = 0; match && i < cnt; i++) {
		plist_t item = plist_array_get_item(arr, i);
		uint64_t len = 0;
		const char *d = plist_get_node_type(item) == PLIST_DATA ? plist_get_data_ptr(item, &len) : NULL;
		match = d && len == CS_CDHASH_LEN && c[i].len >= CS_CDHASH_LEN &&
			memcmp(d, c[i].digest, CS_CDHASH_LEN) == 0;
	}
	plist_free(pl);
	if (!match)
		return ut_fail(UT_EVERIFY, "cdhashes attribute does not match the computed cdhashes");
	out->attrs |= CS_CMS_ATTR_CDHASHES_PLIST;
	return 0;
}

/* One 100.9.2 value: SEQUENCE { OID, OCTET STRING }; *nid NID_undef for an unknown algorithm. */
static int parse_cdhash2(int *nid, uint8_t *dig, size_t *dlen, const ASN1_TYPE *val)
{
	if (val->type != V_ASN1_SEQUENCE)
		return -1;
	const unsigned char *p = ASN1_STRING_get0_data(val->value.sequence);
	long total = ASN1_STRING_length(val->value.sequence), len;
	const unsigned char *end = p + total;
	int tag, cls;
	int r = ASN1_get_object(&p, &len, &tag, &cls, total);
	if (r != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL || p + len != end)
		return -1;
	ASN1_OBJECT *obj = d2i_ASN1_OBJECT(NULL, &p, end - p);
	ASN1_OCTET_STRING *os = obj ? d2i_ASN1_OCTET_STRING(NULL, &p, end - p) : NULL;
	int ok = os && p == end && ASN1_STRING_length(os) <= CS_CMS_DIGEST_MAX;
	if (ok) {
		*nid = OBJ_obj2nid(obj);
		*dlen = (size_t)ASN1_STRING_length(os);
		memcpy(dig, ASN1_STRING_get0_data(os), *dlen);
	}
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(os);
	return ok ? 0 : -1;
}

static int check_cdhashes2(struct cs_cms_result *out, CMS_SignerInfo *si, const struct cs_cdhash *c, size_t n)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(OID_CDHASHES2, 1);
	if (!obj)
		return cs_ossl_fail(UT_ENOMEM, "cannot make an OID");
	int i = CMS_signed_get_attr_by_OBJ(si, obj, -1);
	int dup = i >= 0 && CMS_signed_get_attr_by_OBJ(si, obj, i) >= 0;
	ASN1_OBJECT_free(obj);
	if (i < 0)
		return 0;
	if (dup)
		return ut_fail(UT_EMALFORMED, "CMS cdhashes2 attribute appears twice");
	X509_ATTRIBUTE *a = CMS_signed_get_attr(si, i);
	int cnt = X509_ATTRIBUTE_count(a);
	out->ncdhashes2 = cnt > 0 ? (uint32_t)cnt : 0;
	if (cnt < 0 || (size_t)cnt != n)
		return ut_fail(UT_EVERIFY, "cdhashes2 attribute lists %d cdhashes for %zu CodeDirectories", cnt, n);
	size_t best = 0;
	for (size_t k = 1; k < n; k++)
		if (cs_hash_rank(c[k].hash_type) > cs_hash_rank(c[best].hash_type))
			best = k;
	int covered = 0;
	for (int v = 0; v < cnt; v++) {
		int nid;
		uint8_t dig[CS_CMS_DIGEST_MAX];
		size_t dlen;
		if (parse_cdhash2(&nid, dig, &dlen, X509_ATTRIBUTE_get0_type(a, v))) {
			ERR_clear_error();
			return ut_fail(UT_EMALFORMED, "CMS cdhashes2 attribute: value %d is not SEQUENCE {OID, OCTET STRING}",
				       v);
		}
		int known = 0, found = 0;
		for (size_t k = 0; k < n && !found; k++) {
			if (cs_hashtype_nid(c[k].hash_type) != nid)
				continue;
			known = 1;
			if (c[k].len == dlen && memcmp(c[k].digest, dig, dlen) == 0) {
				found = 1;
				covered |= k == best;
			}
		}
		if (known && !found)
			return ut_fail(UT_EVERIFY, "cdhashes2 attribute does not match the computed cdhashes");
	}
	if (!covered)
		return ut_fail(UT_EVERIFY, "cdhashes2 attribute does not cover the best CodeDirectory");
	out->attrs |= CS_CMS_ATTR_CDHASHES2;
	return 0;
}

int cs_cms_verify(struct cs_cms_result *out, const uint8_t *cms, size_t cms_len, const uint8_t *cd,
		  size_t cd_len, const struct cs_cdhash *cdhashes, size_t ncdhashes,
		  const struct cs_trust *trust)
{
	struct vctx v;
	memset(out, 0, sizeof(*out));
	for (size_t i = 1; i < ncdhashes; i++)
		if (cdhashes[i].hash_type <= cdhashes[i - 1].hash_type)
			return ut_fail(UT_EINVAL, "cdhashes are not sorted by hash type");
	int rc = decode(&v, cms, cms_len);
	if (!rc) {
		ASN1_OCTET_STRING **pos = CMS_get0_content(v.cms);
		if (pos && *pos)
			rc = ut_fail(UT_EMALFORMED, "CMS signature is not detached");
	}
	if (!rc)
		rc = verify_signer(out, &v, cd, cd_len, trust, "CodeDirectory");
	if (!rc)
		rc = check_cdhashes_plist(out, v.si, cdhashes, ncdhashes);
	if (!rc)
		rc = check_cdhashes2(out, v.si, cdhashes, ncdhashes);
	if (!rc)
		rc = check_timestamp(out, v.si);
	vctx_release(&v);
	ERR_clear_error();
	if (rc) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return 0;
}

int cs_profile_parse(struct cs_profile *out, const uint8_t *der, size_t len, const struct cs_trust *trust)
{
	struct vctx v;
	struct cs_trust t = { 0 };
	memset(out, 0, sizeof(*out));
	if (trust)
		t = *trust;
	t.flags |= CS_TRUST_REQUIRE_ANCHOR;
	int rc = decode(&v, der, len);
	ASN1_OCTET_STRING **pos = rc ? NULL : CMS_get0_content(v.cms);
	if (!rc && (!pos || !*pos))
		rc = ut_fail(UT_EMALFORMED, "provisioning profile: the CMS carries no content");
	if (!rc)
		rc = verify_signer(&out->cms, &v, ASN1_STRING_get0_data(*pos), (size_t)ASN1_STRING_length(*pos), &t,
				   "profile content");
	if (!rc)
		rc = ut_plist_parse(ASN1_STRING_get0_data(*pos), (size_t)ASN1_STRING_length(*pos),
				    "provisioning profile", &out->plist, NULL);
	vctx_release(&v);
	ERR_clear_error();
	if (!rc && plist_get_node_type(out->plist) != PLIST_DICT)
		rc = ut_fail(UT_EMALFORMED, "provisioning profile: plist is not a dictionary");
	if (rc) {
		cs_profile_release(out);
		return rc;
	}
	plist_t ent = plist_dict_get_item(out->plist, "Entitlements");
	out->entitlements = ent && plist_get_node_type(ent) == PLIST_DICT ? ent : NULL;
	plist_t teams = plist_dict_get_item(out->plist, "TeamIdentifier");
	if (teams && plist_get_node_type(teams) == PLIST_ARRAY && plist_array_get_size(teams) > 0)
		out->team_id = ut_plist_str(plist_array_get_item(teams, 0));
	out->name = ut_plist_dict_str(out->plist, "Name");
	plist_t exp = plist_dict_get_item(out->plist, "ExpirationDate");
	if (exp && plist_get_node_type(exp) == PLIST_DATE) {
		int32_t sec = 0, usec = 0;
		plist_get_date_val(exp, &sec, &usec);
		out->expiration = (int64_t)sec + MAC_EPOCH_OFFSET;
		out->has_expiration = 1;
	}
	return 0;
}

void cs_profile_release(struct cs_profile *p)
{
	if (!p)
		return;
	plist_free(p->plist);
	memset(p, 0, sizeof(*p));
}
