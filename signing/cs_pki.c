/*
 * cs_pki.c - the signing side: identities (PKCS#12 or PEM), the designated
 * requirement codesign derives from a chain, the encoders of the two Apple
 * cdhash attributes, and cs_cms_sign.
 */
#include "cs_x509.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <stdlib.h>
#include <string.h>

#include "ut_file.h"

#define OID_CDHASHES_PLIST "1.2.840.113635.100.9.1"
#define OID_CDHASHES2 "1.2.840.113635.100.9.2"
#define MAX_KEY_FILE (1u << 20)
#define MAX_PASSWORD 1024
#define MAX_DR_TEXT (64u << 10)

struct cs_identity {
	EVP_PKEY *key;
	STACK_OF(X509) *chain; /* leaf first, up to the root */
	struct cs_chain info;
};

void cs_identity_free(struct cs_identity *id)
{
	if (!id)
		return;
	EVP_PKEY_free(id->key);
	sk_X509_pop_free(id->chain, X509_free);
	free(id);
}

const struct cs_chain *cs_identity_chain(const struct cs_identity *id) { return &id->info; }

/* Reads a whole file whose contents are secret; the caller wipes and frees it with wipe_free. */
static int read_secret(const char *path, size_t max, uint8_t **out, size_t *len)
{
	return ut_file_read(path, max, out, len);
}

static void wipe_free(uint8_t *p, size_t len)
{
	if (p)
		OPENSSL_cleanse(p, len);
	free(p);
}

/* The first line of password_path (NULL: no password); wipe_free(*pass, *cap) it. */
static int read_password(char **pass, size_t *cap, const char *password_path)
{
	uint8_t *p = NULL;
	size_t len = 0;
	*pass = NULL;
	*cap = 0;
	if (!password_path)
		return 0;
	int rc = read_secret(password_path, MAX_PASSWORD, &p, &len);
	if (rc)
		return rc;
	size_t n = 0;
	while (n < len && p[n] != '\n' && p[n] != '\r')
		n++;
	if (memchr(p, 0, n)) {
		wipe_free(p, len + 1);
		return ut_fail(UT_EINVAL, "'%s': password contains a NUL byte", password_path);
	}
	p[n] = '\0';
	*pass = (char *)p;
	*cap = len + 1;
	return 0;
}

/* PEM password callback: never prompts; u is the password or NULL. */
static int pem_pass(char *buf, int size, int rwflag, void *u)
{
	(void)rwflag;
	if (!u)
		return -1;
	size_t n = strlen(u);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, u, n);
	return (int)n;
}

/* Checks key and leaf, builds the chain from pool, and takes ownership of key. */
static int identity_finish(struct cs_identity **out, EVP_PKEY *key, X509 *leaf, STACK_OF(X509) *pool,
			   const struct cs_trust *trust, const char *name)
{
	struct cs_identity *id = calloc(1, sizeof(*id));
	if (!id) {
		EVP_PKEY_free(key);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	id->key = key;
	int rc = 0;
	if (X509_check_private_key(leaf, key) != 1)
		rc = cs_ossl_fail(UT_EINVAL, "'%s': the private key does not match the certificate", name);
	if (!rc)
		rc = cs_x509_chain_build(&id->info, &id->chain, leaf, pool, trust);
	if (rc) {
		cs_identity_free(id);
		return rc ? ut_ctx(rc, "'%s'", name) : rc;
	}
	*out = id;
	return 0;
}

int cs_identity_load_p12(struct cs_identity **out, const char *p12_path, const char *password_path,
			 const struct cs_trust *trust)
{
	uint8_t *der = NULL;
	size_t len = 0, cap = 0;
	char *pass = NULL;
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;
	STACK_OF(X509) *ca = NULL;
	*out = NULL;
	int rc = read_secret(p12_path, MAX_KEY_FILE, &der, &len);
	if (!rc)
		rc = read_password(&pass, &cap, password_path);
	if (!rc) {
		const unsigned char *p = der;
		PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
		if (!p12)
			rc = cs_ossl_fail(UT_EMALFORMED, "'%s': not a PKCS#12 file", p12_path);
		else if (!PKCS12_parse(p12, pass ? pass : "", &key, &leaf, &ca) || !key || !leaf)
			rc = cs_ossl_fail(UT_EINVAL, "'%s': cannot open the PKCS#12 identity (wrong password?)",
					  p12_path);
		PKCS12_free(p12);
	}
	wipe_free((uint8_t *)pass, cap);
	wipe_free(der, len + 1);
	if (!rc) {
		rc = identity_finish(out, key, leaf, ca, trust, p12_path);
		key = NULL;
	}
	EVP_PKEY_free(key);
	X509_free(leaf);
	sk_X509_pop_free(ca, X509_free);
	ERR_clear_error();
	return rc;
}

/* Every certificate of a PEM file. */
static int read_pem_certs(STACK_OF(X509) **out, const char *path)
{
	uint8_t *p = NULL;
	size_t len = 0;
	*out = NULL;
	int rc = ut_file_read(path, MAX_KEY_FILE, &p, &len);
	if (rc)
		return rc;
	BIO *bio = BIO_new_mem_buf(p, (int)len);
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509 *x;
	while (bio && certs && (x = PEM_read_bio_X509(bio, NULL, pem_pass, NULL)) != NULL)
		if (!sk_X509_push(certs, x)) {
			X509_free(x);
			break;
		}
	unsigned long e = ERR_peek_last_error();
	if (!bio || !certs)
		rc = cs_ossl_fail(UT_ENOMEM, "out of memory");
	else if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
		rc = cs_ossl_fail(UT_EMALFORMED, "'%s': unreadable PEM certificate", path);
	else if (sk_X509_num(certs) == 0)
		rc = ut_fail(UT_EMALFORMED, "'%s': no PEM certificate", path);
	ERR_clear_error();
	BIO_free(bio);
	free(p);
	if (rc)
		sk_X509_pop_free(certs, X509_free);
	else
		*out = certs;
	return rc;
}

int cs_identity_load_pem(struct cs_identity **out, const char *key_path, const char *cert_path,
			 const char *chain_path, const char *password_path, const struct cs_trust *trust)
{
	uint8_t *kp = NULL;
	size_t klen = 0, cap = 0;
	char *pass = NULL;
	EVP_PKEY *key = NULL;
	STACK_OF(X509) *leafs = NULL, *pool = NULL;
	*out = NULL;
	int rc = read_secret(key_path, MAX_KEY_FILE, &kp, &klen);
	if (!rc)
		rc = read_password(&pass, &cap, password_path);
	if (!rc) {
		BIO *bio = BIO_new_mem_buf(kp, (int)klen);
		key = bio ? PEM_read_bio_PrivateKey(bio, NULL, pem_pass, pass) : NULL;
		BIO_free(bio);
		if (!key)
			rc = cs_ossl_fail(UT_EINVAL, "'%s': cannot read the private key%s", key_path,
					  pass ? " (wrong password?)" : "");
	}
	wipe_free((uint8_t *)pass, cap);
	wipe_free(kp, klen + 1);
	if (!rc)
		rc = read_pem_certs(&leafs, cert_path);
	if (!rc && chain_path)
		rc = read_pem_certs(&pool, chain_path);
	if (!rc) {
		rc = identity_finish(out, key, sk_X509_value(leafs, 0), pool, trust, cert_path);
		key = NULL;
	}
	EVP_PKEY_free(key);
	sk_X509_pop_free(leafs, X509_free);
	sk_X509_pop_free(pool, X509_free);
	ERR_clear_error();
	return rc;
}

/* A requirement-language string: bare when a letter followed by letters/digits, else quoted. */
static int put_string(struct ut_buf *b, const char *s)
{
	int bare = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z');
	for (const char *p = s; bare && *p; p++)
		bare = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
	if (bare)
		return ut_buf_printf(b, "%s", s);
	int rc = ut_buf_u8(b, '"');
	for (const char *p = s; !rc && *p; p++) {
		if (*p == '"' || *p == '\\')
			rc = ut_buf_u8(b, '\\');
		if (!rc)
			rc = ut_buf_u8(b, (uint8_t)*p);
	}
	return rc ? rc : ut_buf_u8(b, '"');
}

static int put_hash(struct ut_buf *b, const char *slot, const uint8_t sha1[20])
{
	char hex[41];
	ut_hex(hex, sha1, 20);
	return ut_buf_printf(b, " and certificate %s = H\"%s\"", slot, hex);
}

int cs_chain_designated_requirement(char **out, const struct cs_chain *c, const char *identifier)
{
	struct ut_buf b;
	*out = NULL;
	if (!c || c->n == 0 || !identifier)
		return ut_fail(UT_EINVAL, "designated requirement needs an identifier and a certificate chain");
	ut_buf_init(&b, MAX_DR_TEXT);
	const struct cs_cert_info *leaf = &c->certs[0];
	int rc = ut_buf_printf(&b, "identifier ");
	if (!rc)
		rc = put_string(&b, identifier);
	if (rc)
		goto done;
	if (cs_anchor_trusted(c->anchor)) {
		if (c->n == 3 && (c->certs[1].marks & CS_CERT_WWDR_CA)) {
			rc = ut_buf_printf(&b, " and anchor apple generic and certificate leaf[subject.CN] = ");
			if (!rc)
				rc = put_string(&b, leaf->cn);
			if (!rc)
				rc = ut_buf_printf(&b, " and certificate 1[field.%s] /* exists */", CS_OID_WWDR_CA);
		} else if (c->n == 3 && (c->certs[1].marks & CS_CERT_DEVID_CA)) {
			rc = ut_buf_printf(&b,
					   " and anchor apple generic and certificate 1[field.%s] /* exists */"
					   " and certificate leaf[field.%s] /* exists */ and certificate leaf[subject.OU] = ",
					   CS_OID_DEVID_CA, CS_OID_DEVID_LEAF);
			if (!rc)
				rc = put_string(&b, leaf->ou);
		} else {
			rc = ut_buf_printf(&b, " and anchor apple");
		}
	} else {
		/* Pin the highest certificate that shares the leaf's organization (SEC drmaker.cpp). */
		uint32_t slot = 0;
		int root = 0;
		if (leaf->o[0]) {
			while (slot + 1 < c->n && strcmp(c->certs[slot + 1].o, leaf->o) == 0)
				slot++;
			root = slot == c->n - 1;
		}
		char name[16];
		snprintf(name, sizeof(name), "%u", slot);
		rc = put_hash(&b, root ? "root" : slot == 0 ? "leaf" : name, c->certs[slot].sha1);
	}
done:
	if (!rc)
		rc = ut_buf_cstr(&b);
	if (rc) {
		ut_buf_release(&b);
		return rc;
	}
	size_t len;
	*out = (char *)ut_buf_detach(&b, &len);
	return 0;
}

/* The 100.9.1 plist and 100.9.2 values (shared with the verifier through cs_x509.h). */
int cs_cdhashes_plist(uint8_t **xml, size_t *len, const struct cs_cdhash *c, size_t n)
{
	*xml = NULL;
	*len = 0;
	plist_t dict = plist_new_dict();
	plist_t arr = plist_new_array();
	if (!dict || !arr) {
		plist_free(dict);
		plist_free(arr);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	plist_dict_set_item(dict, "cdhashes", arr);
	for (size_t i = 0; i < n; i++) {
		if (c[i].len < CS_CDHASH_LEN) {
			plist_free(dict);
			return ut_fail(UT_EINVAL, "cdhash %zu has %zu bytes", i, c[i].len);
		}
		plist_array_append_item(arr, plist_new_data((const char *)c[i].digest, CS_CDHASH_LEN));
	}
	int rc = ut_plist_serialize(dict, UT_PLIST_XML, xml, len);
	plist_free(dict);
	return rc;
}

int cs_cdhash2_der(uint8_t **der, size_t *len, const struct cs_cdhash *c)
{
	*der = NULL;
	*len = 0;
	int nid = cs_hashtype_nid(c->hash_type);
	if (nid == NID_undef)
		return ut_fail(UT_EUNSUPPORTED, "CodeDirectory hash type %u is not supported", c->hash_type);
	const ASN1_OBJECT *obj = OBJ_nid2obj(nid);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	if (!os || !ASN1_OCTET_STRING_set(os, c->digest, (int)c->len)) {
		ASN1_OCTET_STRING_free(os);
		return cs_ossl_fail(UT_ENOMEM, "cannot encode a cdhash");
	}
	int lo = i2d_ASN1_OBJECT(obj, NULL), ls = i2d_ASN1_OCTET_STRING(os, NULL);
	int total = lo > 0 && ls > 0 ? ASN1_object_size(1, lo + ls, V_ASN1_SEQUENCE) : -1;
	uint8_t *buf = total > 0 ? malloc((size_t)total) : NULL;
	if (!buf) {
		ASN1_OCTET_STRING_free(os);
		return cs_ossl_fail(UT_ENOMEM, "cannot encode a cdhash");
	}
	unsigned char *p = buf;
	ASN1_put_object(&p, 1, lo + ls, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	i2d_ASN1_OBJECT(obj, &p);
	i2d_ASN1_OCTET_STRING(os, &p);
	ASN1_OCTET_STRING_free(os);
	*der = buf;
	*len = (size_t)(p - buf);
	return 0;
}

/* Adds 100.9.1 and 100.9.2 for every CD. */
static int add_cdhash_attrs(CMS_SignerInfo *si, const struct cs_cdhash *c, size_t n)
{
	uint8_t *xml = NULL, *der = NULL;
	size_t xlen = 0, dlen = 0;
	X509_ATTRIBUTE *attr = NULL;
	ASN1_OBJECT *o1 = OBJ_txt2obj(OID_CDHASHES_PLIST, 1), *o2 = OBJ_txt2obj(OID_CDHASHES2, 1);
	int rc = o1 && o2 ? 0 : cs_ossl_fail(UT_ENOMEM, "cannot make an OID");
	if (!rc)
		rc = cs_cdhashes_plist(&xml, &xlen, c, n);
	if (!rc && !CMS_signed_add1_attr_by_OBJ(si, o1, V_ASN1_OCTET_STRING, xml, (int)xlen))
		rc = cs_ossl_fail(UT_ECRYPTO, "cannot add the cdhashes attribute");
	for (size_t i = 0; !rc && i < n; i++) {
		if ((rc = cs_cdhash2_der(&der, &dlen, &c[i])))
			break;
		int ok = attr ? X509_ATTRIBUTE_set1_data(attr, V_ASN1_SEQUENCE, der, (int)dlen)
			      : (attr = X509_ATTRIBUTE_create_by_OBJ(NULL, o2, V_ASN1_SEQUENCE, der, (int)dlen)) != NULL;
		free(der);
		if (!ok)
			rc = cs_ossl_fail(UT_ECRYPTO, "cannot build the cdhashes2 attribute");
	}
	if (!rc && attr && !CMS_signed_add1_attr(si, attr))
		rc = cs_ossl_fail(UT_ECRYPTO, "cannot add the cdhashes2 attribute");
	X509_ATTRIBUTE_free(attr);
	ASN1_OBJECT_free(o1);
	ASN1_OBJECT_free(o2);
	free(xml);
	return rc;
}

/* Signs the signed attributes again as they will be encoded (after OpenSSL's own signingTime is gone). */
static int resign(CMS_ContentInfo *cms, CMS_SignerInfo *si, EVP_PKEY *key)
{
	unsigned char *der = NULL;
	int len = i2d_CMS_ContentInfo(cms, &der);
	if (len <= 0)
		return cs_ossl_fail(UT_ECRYPTO, "cannot encode the CMS signature");
	struct ut_span raw;
	int present;
	int rc = cs_cms_raw_signed_attrs(&raw, &present, der, (size_t)len);
	uint8_t *buf = !rc && present ? malloc(raw.len) : NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	EVP_MD_CTX *m = NULL;
	if (!rc && !buf)
		rc = ut_fail(UT_ENOMEM, "out of memory");
	if (!rc) {
		memcpy(buf, raw.p, raw.len);
		buf[0] = V_ASN1_SET | V_ASN1_CONSTRUCTED;
		m = EVP_MD_CTX_new();
		if (!m || EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, key) != 1 ||
		    EVP_DigestSign(m, NULL, &siglen, buf, raw.len) != 1 || !(sig = malloc(siglen)) ||
		    EVP_DigestSign(m, sig, &siglen, buf, raw.len) != 1 ||
		    !ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, (int)siglen))
			rc = cs_ossl_fail(UT_ECRYPTO, "cannot sign the CMS attributes");
	}
	EVP_MD_CTX_free(m);
	free(sig);
	free(buf);
	OPENSSL_free(der);
	return rc;
}

static int add_timestamp(CMS_SignerInfo *si, const struct cs_cms_sign_opts *opts)
{
	const ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
	uint8_t *tst = NULL;
	size_t tlen = 0;
	int rc = opts->timestamp(opts->timestamp_ctx, ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig),
				 &tst, &tlen);
	if (rc)
		return ut_ctx(rc, "timestamp");
	if (!tst || tlen == 0 || tlen > INT32_MAX)
		rc = ut_fail(UT_EMALFORMED, "timestamp: the hook returned no token");
	else if (!CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE, tst, (int)tlen))
		rc = cs_ossl_fail(UT_ECRYPTO, "cannot add the timestamp token");
	free(tst);
	return rc;
}

int cs_cms_sign(uint8_t **out, size_t *out_len, const struct cs_identity *id, const uint8_t *cd,
		size_t cd_len, const struct cs_cdhash *cdhashes, size_t ncdhashes,
		const struct cs_cms_sign_opts *opts)
{
	const unsigned flags = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP;
	*out = NULL;
	*out_len = 0;
	if (!id || !cd || cd_len > INT32_MAX || ncdhashes == 0)
		return ut_fail(UT_EINVAL, "signing needs an identity, a CodeDirectory and its cdhashes");
	for (size_t i = 1; i < ncdhashes; i++)
		if (cdhashes[i].hash_type <= cdhashes[i - 1].hash_type)
			return ut_fail(UT_EINVAL, "cdhashes are not sorted by hash type");
	int rc = 0;
	BIO *in = NULL;
	ASN1_TIME *when = NULL;
	unsigned char *der = NULL;
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	CMS_SignerInfo *si = NULL;
	X509 *leaf = sk_X509_value(id->chain, 0);
	if (!cms || !(si = CMS_add1_signer(cms, leaf, id->key, EVP_sha256(), flags))) {
		rc = cs_ossl_fail(UT_ECRYPTO, "cannot start the CMS signature");
		goto done;
	}
	for (int i = 1; i < sk_X509_num(id->chain); i++)
		if (!CMS_add1_cert(cms, sk_X509_value(id->chain, i))) {
			rc = cs_ossl_fail(UT_ECRYPTO, "cannot add a chain certificate");
			goto done;
		}
	if (opts && opts->has_signing_time) {
		when = ASN1_TIME_adj(NULL, 0, (int)(opts->signing_time / 86400), (long)(opts->signing_time % 86400));
		if (!when || !CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, when->type, when, -1)) {
			rc = cs_ossl_fail(UT_ECRYPTO, "cannot add the signing time");
			goto done;
		}
	}
	if ((rc = add_cdhash_attrs(si, cdhashes, ncdhashes)))
		goto done;
	in = BIO_new_mem_buf(cd, (int)cd_len);
	if (!in || CMS_final(cms, in, NULL, flags) != 1) {
		rc = cs_ossl_fail(UT_ECRYPTO, "cannot sign the CodeDirectory");
		goto done;
	}
	if (!(opts && opts->has_signing_time)) {
		/* OpenSSL always adds a signingTime; codesign can omit it. */
		int i = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
		if (i >= 0) {
			X509_ATTRIBUTE_free(CMS_signed_delete_attr(si, i));
			if ((rc = resign(cms, si, id->key)))
				goto done;
		}
	}
	if (opts && opts->timestamp && (rc = add_timestamp(si, opts)))
		goto done;
	int len = i2d_CMS_ContentInfo(cms, &der);
	if (len <= 0 || !(*out = malloc((size_t)len))) {
		rc = cs_ossl_fail(UT_ENOMEM, "cannot encode the CMS signature");
		goto done;
	}
	memcpy(*out, der, (size_t)len);
	*out_len = (size_t)len;
done:
	OPENSSL_free(der);
	ASN1_TIME_free(when);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return rc;
}
