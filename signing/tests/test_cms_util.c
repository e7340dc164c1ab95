/* test_cms_util.c - see test_cms_util.h (tests only). */
#define _DEFAULT_SOURCE
#include "test_cms_util.h"

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "tsupport.h"
#include "ut_bytes.h"
#include "ut_file.h"
#include "ut_err.h"
#include "ut_limits.h"

#define CSMAGIC_EMBEDDED_SIGNATURE_T 0xfade0cc0u
#define CSMAGIC_CODEDIRECTORY_T 0xfade0c02u

static int add_cdhash(struct tc_sig *s, const uint8_t *cd, size_t len)
{
	if (len < 38 || s->ncdh == TC_MAX_CD)
		return -1;
	uint32_t type = cd[37]; /* CodeDirectory.hashType */
	const EVP_MD *md = type == 1 ? EVP_sha1() : type == 2 || type == 3 ? EVP_sha256() : type == 4 ? EVP_sha384() : NULL;
	if (!md)
		return -1;
	struct cs_cdhash *c = &s->cdh[s->ncdh];
	unsigned int n = 0;
	memset(c, 0, sizeof(*c));
	if (!EVP_Digest(cd, len, c->digest, &n, md, NULL))
		return -1;
	c->hash_type = type;
	c->len = n;
	/* keep sorted by hash type */
	for (uint32_t i = s->ncdh; i > 0 && s->cdh[i - 1].hash_type > s->cdh[i].hash_type; i--) {
		struct cs_cdhash t = s->cdh[i];
		s->cdh[i] = s->cdh[i - 1];
		s->cdh[i - 1] = t;
	}
	s->ncdh++;
	return 0;
}

static int load_slice(const struct mo_file *f, const struct mo_slice *sl, struct tc_sig *s)
{
	const struct mo_image *img = sl->img;
	char buf[32];
	snprintf(s->arch, sizeof(s->arch), "%s", mo_arch_name(sl->cputype, sl->cpusubtype, buf));
	if (!img->has_codesig || img->codesig.size < 12 || img->codesig.size > UT_MAX_SIG_SIZE)
		return 0;
	size_t size = img->codesig.size;
	uint8_t *sig = malloc(size);
	if (!sig || mo_slice_read(f, sl, img->codesig.off, sig, size)) {
		free(sig);
		return -1;
	}
	int rc = 0;
	uint32_t count = ut_be32(sig + 8);
	if (ut_be32(sig) != CSMAGIC_EMBEDDED_SIGNATURE_T || count > UT_MAX_BLOBS || (size - 12) / 8 < count)
		rc = -1;
	for (uint32_t i = 0; !rc && i < count; i++) {
		uint32_t type = ut_be32(sig + 12 + 8 * i), off = ut_be32(sig + 16 + 8 * i);
		if (off > size || size - off < 8) {
			rc = -1;
			break;
		}
		uint32_t len = ut_be32(sig + off + 4);
		if (len < 8 || len > size - off) {
			rc = -1;
			break;
		}
		const uint8_t *b = sig + off;
		if (type == 0x10000) {
			struct ut_span pl;
			if (cs_cms_unwrap(&pl, b, len) || pl.len == 0)
				continue;
			s->cms = malloc(pl.len);
			memcpy(s->cms, pl.p, pl.len);
			s->cms_len = pl.len;
		} else if ((type == 0 || (type >= 0x1000 && type < 0x1005)) && ut_be32(b) == CSMAGIC_CODEDIRECTORY_T) {
			if (s->ncd == TC_MAX_CD) {
				rc = -1;
				break;
			}
			uint32_t k = type == 0 ? 0 : s->ncd;
			if (type == 0 && s->ncd) { /* slot 0 must come first */
				memmove(&s->cd[1], &s->cd[0], s->ncd * sizeof(s->cd[0]));
				memmove(&s->cd_len[1], &s->cd_len[0], s->ncd * sizeof(s->cd_len[0]));
			}
			s->cd[k] = malloc(len);
			memcpy(s->cd[k], b, len);
			s->cd_len[k] = len;
			s->ncd++;
			rc = add_cdhash(s, b, len);
		}
	}
	free(sig);
	return rc;
}

int tc_sigs_load(const char *path, struct tc_sig **out, size_t *n)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	*out = NULL;
	*n = 0;
	if (mo_file_open(path, &src, &f))
		return -1;
	int rc = 0;
	struct tc_sig *sigs = calloc(f->nslices, sizeof(*sigs));
	size_t k = 0;
	for (uint32_t i = 0; sigs && i < f->nslices; i++) {
		if (f->slices[i].kind != MO_SLICE_MACHO64)
			continue;
		sigs[k].slice_index = i;
		if (load_slice(f, &f->slices[i], &sigs[k++])) {
			rc = -1;
			break;
		}
	}
	mo_file_close(&src, f);
	if (rc || !sigs) {
		tc_sigs_free(sigs, k);
		return -1;
	}
	*out = sigs;
	*n = k;
	return 0;
}

void tc_sigs_free(struct tc_sig *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++) {
		free(s[i].cms);
		for (uint32_t j = 0; j < s[i].ncd; j++)
			free(s[i].cd[j]);
	}
	free(s);
}

void tc_sigs_load_verified(const char *path, struct tc_sig **out, size_t *n, struct cs_cms_result *r)
{
	cr_assert_eq(tc_sigs_load(path, out, n), 0, "%s: cannot read", path);
	const struct tc_sig *s = &(*out)[0];
	cr_assert_eq(cs_cms_verify(r, s->cms, s->cms_len, s->cd[0], s->cd_len[0], s->cdh, s->ncdh, NULL), 0, "%s: %s",
		     path, ut_errmsg());
}

int tc_sh(char **out, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	char *o = NULL, *e = NULL;
	int rc = ts_sh(cmd, &o, &e);
	free(e);
	if (out)
		*out = o;
	else
		free(o);
	return rc;
}

int tc_asn1parse(const char *der_path, struct tc_a1 **out, size_t *n)
{
	char *text = NULL;
	*out = NULL;
	*n = 0;
	if (tc_sh(&text, "openssl asn1parse -inform DER -in '%s'", der_path) != 0 || !text) {
		free(text);
		return -1;
	}
	size_t cap = 0, cnt = 0;
	struct tc_a1 *a = NULL;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		struct tc_a1 l;
		int used = 0;
		memset(&l, 0, sizeof(l));
		char lenbuf[16];
		/* "  4104:d=7  hl=2 l=   9 prim: OBJECT :..." ("l=inf" for indefinite lengths) */
		if (sscanf(line, " %ld:d=%d hl=%d l=%15s %n", &l.off, &l.depth, &l.hl, lenbuf, &used) != 4)
			continue; /* continuation lines of printable OCTET STRINGs */
		l.len = strcmp(lenbuf, "inf") == 0 ? -1 : atol(lenbuf);
		snprintf(l.text, sizeof(l.text), "%s", line + used);
		if (cnt == cap) {
			cap = cap ? cap * 2 : 256;
			a = realloc(a, cap * sizeof(*a));
		}
		a[cnt++] = l;
	}
	free(text);
	*out = a;
	*n = cnt;
	return 0;
}

long tc_a1_find(const struct tc_a1 *a, size_t n, size_t from, const char *s)
{
	for (size_t i = from; i < n; i++)
		if (strstr(a[i].text, s))
			return (long)i;
	return -1;
}

char *tc_asn1parse_bytes(const char *dir, const char *name, const void *der, size_t len, struct tc_a1 **out,
			 size_t *n)
{
	char *p = tc_write(dir, name, der, len);
	cr_assert_not_null(p, "cannot write %s", name);
	cr_assert_eq(tc_asn1parse(p, out, n), 0, "openssl asn1parse of %s", name);
	return p;
}

int tc_openssl_cms_verify(const char *dir, const uint8_t *sig, size_t len, const uint8_t *content, size_t clen)
{
	char *s = tc_write(dir, "sig.der", sig, len), *c = tc_write(dir, "cd.bin", content, clen);
	int rc = tc_sh(NULL,
		       "openssl cms -verify -binary -inform DER -in '%s' -content '%s' -CAfile '%s' -purpose any "
		       "-ignore_critical -out /dev/null",
		       s, c, tc_key("root.pem"));
	free(s);
	free(c);
	return rc;
}

char *tc_write(const char *dir, const char *name, const void *p, size_t len)
{
	char *path = ts_path(dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return NULL;
	if (len && fwrite(p, 1, len, f) != len) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	return path;
}

char *tc_hex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	ut_hex(s, p, n);
	return s;
}

char *tc_hex_upper(const uint8_t *p, size_t n)
{
	char *s = tc_hex(p, n);
	for (char *h = s; *h; h++)
		*h = (char)(*h >= 'a' ? *h - 32 : *h);
	return s;
}

const char *tc_key(const char *name)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "testdata/keys/%s", name);
	return ts_root(rel);
}

const struct cs_trust *tc_test_trust(unsigned flags)
{
	static struct cs_trust t;
	static struct cs_root *roots;
	static size_t nroots;
	if (!roots) {
		size_t len;
		uint8_t *text = ts_read(tc_key("roots.tsv"), &len);
		if (!text || cs_roots_parse(&roots, &nroots, (const char *)text, len, "roots.tsv"))
			return NULL;
		free(text);
	}
	t.flags = flags;
	t.anchors = roots;
	t.nanchors = nroots;
	return &t;
}

/* Base64 of a plist <data> element (white space skipped); returns the decoded length. */
static int b64_decode(const char *s, size_t n, uint8_t *out)
{
	char buf[256];
	size_t k = 0;
	for (size_t i = 0; i < n && k < sizeof(buf) - 1; i++)
		if (s[i] != '\n' && s[i] != '\t' && s[i] != ' ')
			buf[k++] = s[i];
	buf[k] = '\0';
	int len = EVP_DecodeBlock(out, (const unsigned char *)buf, (int)k);
	while (len > 0 && k > 0 && buf[--k] == '=')
		len--;
	return len;
}

void tc_check_cdhash_attrs(const char *what, const uint8_t *cms, size_t cms_len, const struct cs_cdhash *want,
			   unsigned n, const char *dir, int *v1, int *v2, const char **xml, size_t *xml_len)
{
	if (xml)
		*xml = NULL;
	if (xml_len)
		*xml_len = 0;
	struct tc_a1 *a;
	size_t na;
	char *p = tc_asn1parse_bytes(dir, "c.der", cms, cms_len, &a, &na);
	long i = tc_a1_find(a, na, 0, ":1.2.840.113635.100.9.1");
	if (i >= 0) {
		long o = tc_a1_find(a, na, (size_t)i, "OCTET STRING");
		cr_assert(o >= 0, "%s: 100.9.1 without an OCTET STRING", what);
		const char *x = (const char *)cms + a[o].off + a[o].hl, *q = x;
		size_t xlen = (size_t)a[o].len;
		unsigned j = 0;
		while ((q = strstr(q, "<data>")) && q < x + xlen) {
			const char *e = strstr(q, "</data>");
			uint8_t d[64];
			cr_assert_eq(b64_decode(q + 6, (size_t)(e - q - 6), d), 20);
			cr_assert(j < n, "%s: more 100.9.1 entries than CDs", what);
			cr_expect_eq(memcmp(d, want[j].digest, 20), 0, "%s: 100.9.1 entry %u", what, j);
			j++;
			q = e;
		}
		cr_expect_eq(j, n, "%s: %u 100.9.1 entries", what, j);
		if (xml)
			*xml = x;
		if (xml_len)
			*xml_len = xlen;
		(*v1)++;
	}
	i = tc_a1_find(a, na, 0, ":1.2.840.113635.100.9.2");
	if (i >= 0) {
		unsigned j = 0;
		for (size_t l = (size_t)i + 2; l < na && a[l].depth > a[i].depth; l++) {
			if (!strstr(a[l].text, "[HEX DUMP]:"))
				continue;
			cr_assert(j < n, "%s: more 100.9.2 entries than CDs", what);
			uint32_t type = strstr(a[l - 1].text, ":sha1") ? CS_HASHTYPE_SHA1 : CS_HASHTYPE_SHA256;
			cr_expect_eq(want[j].hash_type, type, "%s: 100.9.2 entry %u hash", what, j);
			char *hex = tc_hex_upper(want[j].digest, want[j].len);
			cr_expect_str_eq(strstr(a[l].text, "]:") + 2, hex, "%s: 100.9.2 entry %u", what, j);
			free(hex);
			j++;
		}
		cr_expect_eq(j, n, "%s: %u 100.9.2 entries", what, j);
		(*v2)++;
	}
	free(a);
	free(p);
}
