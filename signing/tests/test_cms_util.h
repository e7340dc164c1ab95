/*
 * test_cms_util.h - helpers for the CMS suites (tests only): code signatures
 * of corpus files, cdhashes computed directly with OpenSSL, the openssl CLI
 * as an oracle (asn1parse listings), temp files.
 */
#ifndef TEST_CMS_UTIL_H
#define TEST_CMS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "cs_cms.h"

#define TC_MAX_CD 6

/* The signature of one 64-bit slice. */
struct tc_sig {
	char arch[32];
	uint32_t slice_index; /* index among all slices of the file (as MANIFEST.tsv counts them) */
	uint8_t *cms;      /* BlobWrapper payload (malloc'd); NULL when the slice has no CMS blob */
	size_t cms_len;
	uint8_t *cd[TC_MAX_CD]; /* CodeDirectories: slot 0 first, then 0x1000.. (malloc'd) */
	size_t cd_len[TC_MAX_CD];
	uint32_t ncd;
	/* cdhashes of every CD, computed here with EVP_Digest (not cs_cdhash_compute), sorted by hash type */
	struct cs_cdhash cdh[TC_MAX_CD];
	uint32_t ncdh;
};

/* Reads the signatures of every 64-bit slice of a Mach-O file (a bounded SuperBlob walk). */
int tc_sigs_load(const char *path, struct tc_sig **out, size_t *n);
void tc_sigs_free(struct tc_sig *s, size_t n);
/* tc_sigs_load, then cs_cms_verify of the first slice's CMS (no extra anchors) into *r; asserts both. */
void tc_sigs_load_verified(const char *path, struct tc_sig **out, size_t *n, struct cs_cms_result *r);

/* One line of `openssl asn1parse -inform DER`. */
struct tc_a1 {
	long off;
	int depth, hl;
	long len;
	char text[256]; /* "prim: OBJECT            :sha256" etc. */
};
/* Runs openssl asn1parse over der_path; *out malloc'd. */
int tc_asn1parse(const char *der_path, struct tc_a1 **out, size_t *n);
/* Index of the first line at or after from whose text contains s, or -1. */
long tc_a1_find(const struct tc_a1 *a, size_t n, size_t from, const char *s);
/* Writes der to dir/name and runs tc_asn1parse over it (asserts); returns the path (malloc'd). */
char *tc_asn1parse_bytes(const char *dir, const char *name, const void *der, size_t len, struct tc_a1 **out,
			 size_t *n);
/*
 * `openssl cms -verify` of a detached DER signature over content, the test
 * root as CA (files written to dir); returns its exit status.
 */
int tc_openssl_cms_verify(const char *dir, const uint8_t *sig, size_t len, const uint8_t *content, size_t clen);

/*
 * The cdhashes attributes of a CMS signature as `openssl asn1parse` shows
 * them, checked against want[0, n) (every CodeDirectory's cdhash, sorted by
 * hash type): each <data> of the 1.2.840.113635.100.9.1 plist is the
 * truncated 20-byte cdhash, each 1.2.840.113635.100.9.2 entry names the
 * hash (sha1 / sha256) and holds the full digest.  what names the signature
 * in messages; dir takes a temporary file.  Adds 1 to *v1 / *v2 when the
 * attribute is present; *xml / *xml_len (may be NULL) receive the plist
 * bytes inside cms, NULL when absent.
 */
void tc_check_cdhash_attrs(const char *what, const uint8_t *cms, size_t cms_len, const struct cs_cdhash *want,
			   unsigned n, const char *dir, int *v1, int *v2, const char **xml, size_t *xml_len);

/* Writes bytes to dir/name; returns the path (malloc'd). */
char *tc_write(const char *dir, const char *name, const void *p, size_t len);
/* Lowercase hex of a byte range into a malloc'd string. */
char *tc_hex(const uint8_t *p, size_t n);
/* Uppercase hex, as `openssl asn1parse` prints [HEX DUMP]s (malloc'd). */
char *tc_hex_upper(const uint8_t *p, size_t n);
/* Runs a shell command; returns its exit status, stdout in *out (malloc'd, may be NULL). */
int tc_sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Test PKI paths (testdata/keys). */
const char *tc_key(const char *name);
/* The test root as an extra anchor (struct cs_trust pointing at static storage). */
const struct cs_trust *tc_test_trust(unsigned flags);

#endif
