/*
 * test_cms_corpus.c - cs_cms_verify on Apple's real signatures (../shared/corpus).
 *
 * Oracles: MANIFEST.tsv (signer subject, team, which attributes each CMS has,
 * which root the chain ends in), the openssl CLI (asn1parse for attribute
 * bytes and times, pkcs7 -print_certs for the chain by names, ts -reply -text
 * for timestamp times), and digests of the CD bytes computed in the test.
 */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_cms.h"
#include "cs_x509.h"
#include "test_cms_util.h"
#include "tsupport.h"
#include "ut_err.h"

struct ccase {
	const char *path;
	enum cs_signer_kind kind;
};

static const struct ccase cases[] = {
	{ "devid/swiftformat-0.47.8-devid-universal-entxml-only", CS_SIGNER_DEVELOPER_ID },
	{ "devid/libexpat.1.dylib", CS_SIGNER_DEVELOPER_ID },
	{ "devid/seas0npass-genpass", CS_SIGNER_DEVELOPER_ID },
	{ "devid/microsoft-msoab-arm64.dylib", CS_SIGNER_DEVELOPER_ID },
	{ "apple/ls-sequoia", CS_SIGNER_APPLE_PLATFORM },
	{ "apple/chess-x86_64", CS_SIGNER_APPLE_PLATFORM },
	{ "apple/fatmach0-3true", CS_SIGNER_APPLE_PLATFORM },
	{ "appledev/TestSwiftObjc-x86_64", CS_SIGNER_APPLE_DEVELOPMENT },
	{ "appledev/santa-goodcert-selfsigned", CS_SIGNER_OTHER },
	{ "ios/TestRTTI-arm64", CS_SIGNER_APPLE_DEVELOPMENT },
	{ "ios/MASTestApp", CS_SIGNER_APPLE_DEVELOPMENT },
	{ "odd/TestMacOS-arm64e-modified-after-signing", CS_SIGNER_APPLE_DEVELOPMENT },
	{ "bundles/growl-selfsigned-hackerspace/Growl.framework/Versions/A/Growl", CS_SIGNER_OTHER },
	{ "bundles/terminal-notifier-2014/terminal-notifier.app/Contents/MacOS/terminal-notifier",
	  CS_SIGNER_DEVELOPER_ID },
	{ "bundles/signapple-universal-signed/signapple-test.app/Contents/MacOS/signapple-test",
	  CS_SIGNER_APPLE_DEVELOPMENT },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* What MANIFEST.tsv says about one slice. */
struct mslice {
	char team[64];
	unsigned attrs;
	char cn[256];
	char ou[64];
	char root[128]; /* "Apple Root CA" or "non-Apple-root <16 hex>" */
};

/* Copies the value after "CN = " in an openssl one-line name ("..." quoted when it has commas). */
static void cn_value(char out[256], const char *name)
{
	const char *cn = strstr(name, "CN = ");
	size_t k = 0;
	out[0] = '\0';
	if (!cn)
		return;
	cn += 5;
	if (*cn == '"') {
		for (cn++; *cn && *cn != '"' && k < 255; cn++)
			out[k++] = *cn;
	} else {
		for (; *cn && *cn != ']' && strncmp(cn, ", ", 2) && k < 255; cn++)
			out[k++] = *cn;
	}
	out[k] = '\0';
}

struct mfind {
	const char *path;
	char *field;
	char *check;
};

static void manifest_row(char **f, int n, void *ctx)
{
	struct mfind *m = ctx;
	if (n >= 7 && strcmp(f[0], m->path) == 0 && !m->field)
		m->field = strdup(f[6]);
}

/* Parses "cms=N[a,b]" and "signer=[... CN = X, ...]" and "team=T" of the slice entry for arch. */
static int manifest_slice(const char *path, const char *arch, int slice_index, struct mslice *out)
{
	struct mfind m = { path, NULL, NULL };
	memset(out, 0, sizeof(*out));
	if (ts_tsv(ts_corpus("MANIFEST.tsv"), manifest_row, &m) || !m.field)
		return -1;
	/* The slice entries precede "|| CHECK:"; the checks follow, one "||"-separated part per slice. */
	char *check = strstr(m.field, "CHECK:");
	if (!check)
		return -1;
	*check = '\0';
	char key[48];
	snprintf(key, sizeof(key), "%s/", arch);
	char *e = m.field;
	for (;;) {
		e = strstr(e, key);
		if (!e)
			return -1;
		if (e == m.field || e[-1] == ' ' || e[-1] == '|')
			break;
		e++;
	}
	char *end = strstr(e, " | ");
	if (end)
		*end = '\0';
	char *t = strstr(e, " team=");
	if (t)
		sscanf(t + 6, "%63s", out->team);
	char *c = strstr(e, "cms=");
	char *lb = c ? strchr(c, '[') : NULL, *rb = lb ? strchr(lb, ']') : NULL;
	if (!rb)
		return -1;
	*rb = '\0';
	if (strstr(lb, "timestamp"))
		out->attrs |= CS_CMS_ATTR_TIMESTAMP;
	if (strstr(lb, "cdhashes-plist"))
		out->attrs |= CS_CMS_ATTR_CDHASHES_PLIST;
	if (strstr(lb, "cdhashes2"))
		out->attrs |= CS_CMS_ATTR_CDHASHES2;
	if (strstr(lb, "signingTime"))
		out->attrs |= CS_CMS_ATTR_SIGNING_TIME;
	cn_value(out->cn, rb + 1);
	const char *ou = strstr(rb + 1, "OU = ");
	if (ou)
		sscanf(ou + 5, "%63[^,]]", out->ou);
	/* CHECK part for this slice: "... chain-ok:<root>" in the slice_index-th "||" part. */
	char *p = check + 6;
	for (int i = 0; i < slice_index && p; i++) {
		p = strstr(p, "||");
		if (p)
			p += 2;
	}
	char *ch = p ? strstr(p, "chain-ok:") : NULL;
	if (ch) {
		ch += 9;
		size_t k = 0;
		while (ch[k] && ch[k] != '|' && k < sizeof(out->root) - 1)
			k++;
		memcpy(out->root, ch, k);
		while (k && out->root[k - 1] == ' ')
			k--;
		out->root[k] = '\0';
	}
	free(m.field);
	return 0;
}

/* Issuer-by-name chain from `openssl pkcs7 -print_certs`, starting at leaf_cn. */
static int openssl_chain(const char *cms_path, const char *leaf_cn, char names[4][256], int *n)
{
	char *out = NULL;
	if (tc_sh(&out, "openssl pkcs7 -inform DER -in '%s' -print_certs -noout", cms_path) != 0 || !out)
		return -1;
	/* Collect (subject CN, issuer CN) pairs. */
	char subj[8][256], iss[8][256];
	int cnt = 0;
	for (char *line = strtok(out, "\n"); line && cnt < 8; line = strtok(NULL, "\n")) {
		if (strncmp(line, "subject=", 8) == 0)
			cn_value(subj[cnt], line);
		else if (strncmp(line, "issuer=", 7) == 0)
			cn_value(iss[cnt++], line);
	}
	free(out);
	*n = 0;
	const char *cur = leaf_cn;
	for (int depth = 0; depth < 4; depth++) {
		int found = -1;
		for (int i = 0; i < cnt; i++)
			if (strcmp(subj[i], cur) == 0)
				found = i;
		if (found < 0)
			return -1;
		snprintf(names[(*n)++], 256, "%s", subj[found]);
		if (strcmp(iss[found], subj[found]) == 0)
			return 0;
		cur = iss[found];
	}
	return -1;
}

static time_t parse_asn1_time(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	size_t n = strcspn(s, "Z");
	if (n == 12) { /* UTCTime YYMMDDhhmmss */
		sscanf(s, "%2d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
		if (tm.tm_year < 50)
			tm.tm_year += 100;
	} else {
		sscanf(s, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
		tm.tm_year -= 1900;
	}
	tm.tm_mon -= 1;
	return timegm(&tm);
}

/* "Jul 16 10:23:34 2014 GMT" (openssl ts -text) */
static time_t parse_ts_text(const char *s)
{
	static const char *mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char m[4] = "";
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int used = 0;
	if (sscanf(s, "%3s %d %d:%d:%d%n", m, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 5)
		return (time_t)-1;
	s += used + strspn(s + used, ".0123456789"); /* fractional seconds */
	if (sscanf(s, " %d", &tm.tm_year) != 1)
		return (time_t)-1;
	for (int i = 0; i < 12; i++)
		if (strcmp(m, mon[i]) == 0)
			tm.tm_mon = i;
	tm.tm_year -= 1900;
	return timegm(&tm);
}

Test(cms_corpus, every_corpus_cms_verifies_as_the_manifest_says)
{
	int checked = 0;
	for (size_t c = 0; c < NCASES; c++) {
		struct tc_sig *sigs;
		size_t n;
		cr_assert_eq(tc_sigs_load(ts_corpus(cases[c].path), &sigs, &n), 0, "%s: cannot read", cases[c].path);
		for (size_t k = 0; k < n; k++) {
			struct tc_sig *s = &sigs[k];
			cr_assert_not_null(s->cms, "%s %s: no CMS", cases[c].path, s->arch);
			struct mslice ms;
			cr_assert_eq(manifest_slice(cases[c].path, s->arch, (int)s->slice_index, &ms), 0,
				     "%s %s: not in MANIFEST", cases[c].path, s->arch);
			struct cs_cms_result r;
			int rc = cs_cms_verify(&r, s->cms, s->cms_len, s->cd[0], s->cd_len[0], s->cdh, s->ncdh, NULL);
			cr_assert_eq(rc, 0, "%s %s: %s", cases[c].path, s->arch, ut_errmsg());
			cr_expect_eq(r.kind, cases[c].kind, "%s: kind %s", cases[c].path, cs_signer_kind_name(r.kind));
			/* team ID = leaf OU for Apple developer chains; where the CD records one, they agree */
			int dev = cases[c].kind == CS_SIGNER_DEVELOPER_ID || cases[c].kind == CS_SIGNER_APPLE_DEVELOPMENT;
			cr_expect_str_eq(r.team_id, dev ? ms.ou : "", "%s: team", cases[c].path);
			if (ms.team[0])
				cr_expect_str_eq(r.team_id, ms.team, "%s: CD team", cases[c].path);
			cr_expect_str_eq(r.chain.certs[0].cn, ms.cn, "%s: leaf CN", cases[c].path);
			unsigned want = ms.attrs | (strcmp(cases[c].path, "apple/fatmach0-3true") ? CS_CMS_ATTR_SIGNED : 0);
			cr_expect_eq(r.attrs, want, "%s %s: attrs 0x%x, manifest 0x%x", cases[c].path, s->arch, r.attrs, want);
			if (strcmp(ms.root, "Apple Root CA") == 0) {
				cr_expect_eq(r.chain.anchor, CS_ANCHOR_APPLE_ROOT_CA, "%s: anchor", cases[c].path);
				cr_expect(r.trusted);
			} else {
				char want_hex[17];
				cr_assert_eq(sscanf(ms.root, "non-Apple-root %16s", want_hex), 1, "%s: root '%s'",
					     cases[c].path, ms.root);
				char *got = tc_hex_upper(r.chain.certs[r.chain.n - 1].sha256, 8);
				cr_expect_str_eq(got, want_hex, "%s: root fingerprint", cases[c].path);
				free(got);
				cr_expect_eq(r.chain.anchor, CS_ANCHOR_OTHER);
				cr_expect_not(r.trusted);
			}
			checked++;
		}
		tc_sigs_free(sigs, n);
	}
	cr_expect_eq(checked, 18, "slices checked: %d", checked);
}

Test(cms_corpus, authority_chain_matches_openssl_by_names)
{
	char *dir = ts_tmpdir();
	for (size_t c = 0; c < NCASES; c++) {
		struct tc_sig *sigs;
		size_t n;
		struct cs_cms_result r;
		tc_sigs_load_verified(ts_corpus(cases[c].path), &sigs, &n, &r);
		char *p = tc_write(dir, "c.der", sigs[0].cms, sigs[0].cms_len);
		char names[4][256];
		int nn;
		cr_assert_eq(openssl_chain(p, r.chain.certs[0].cn, names, &nn), 0, "%s: openssl chain", cases[c].path);
		cr_expect_eq((int)r.chain.n, nn, "%s: chain length %u vs %d", cases[c].path, r.chain.n, nn);
		for (int i = 0; i < nn && i < (int)r.chain.n; i++)
			cr_expect_str_eq(r.chain.certs[i].cn, names[i], "%s: chain[%d]", cases[c].path, i);
		free(p);
		tc_sigs_free(sigs, n);
	}
	ts_rmtree(dir);
	free(dir);
}

Test(cms_corpus, signing_time_and_timestamp_match_openssl)
{
	char *dir = ts_tmpdir();
	int times = 0, stamps = 0;
	for (size_t c = 0; c < NCASES; c++) {
		struct tc_sig *sigs;
		size_t n;
		struct cs_cms_result r;
		tc_sigs_load_verified(ts_corpus(cases[c].path), &sigs, &n, &r);
		struct tc_a1 *a;
		size_t na;
		char *p = tc_asn1parse_bytes(dir, "c.der", sigs[0].cms, sigs[0].cms_len, &a, &na);
		/* digestAlgorithms: the first OBJECT after the SignedData OID */
		long i = tc_a1_find(a, na, 0, ":pkcs7-signedData");
		long dg = tc_a1_find(a, na, (size_t)i + 1, "OBJECT");
		cr_assert(i >= 0 && dg >= 0);
		cr_expect_str_eq(strrchr(a[dg].text, ':') + 1, r.digest, "%s: digest", cases[c].path);
		i = tc_a1_find(a, na, 0, ":signingTime");
		if (i >= 0) {
			long t = tc_a1_find(a, na, (size_t)i, "TIME ");
			cr_assert(t >= 0);
			const char *v = strchr(strstr(a[t].text, "TIME"), ':') + 1;
			cr_expect_eq(r.signing_time, (int64_t)parse_asn1_time(v), "%s: signing time", cases[c].path);
			cr_expect(r.attrs & CS_CMS_ATTR_SIGNING_TIME);
			times++;
		} else {
			cr_expect_not(r.attrs & CS_CMS_ATTR_SIGNING_TIME);
		}
		i = tc_a1_find(a, na, 0, ":id-smime-aa-timeStampToken");
		if (i >= 0) {
			/* OBJECT, SET, then the token's ContentInfo SEQUENCE */
			const struct tc_a1 *tok = &a[i + 2];
			cr_assert(tok->len > 0);
			char *tp = tc_write(dir, "tst.der", sigs[0].cms + tok->off, (size_t)(tok->hl + tok->len));
			char *out = NULL;
			cr_assert_eq(tc_sh(&out, "openssl ts -reply -token_in -in '%s' -token_out -text", tp), 0);
			const char *ts = strstr(out, "Time stamp: ");
			cr_assert_not_null(ts);
			cr_expect_eq(r.timestamp, (int64_t)parse_ts_text(ts + 12), "%s: timestamp", cases[c].path);
			cr_expect(r.attrs & CS_CMS_ATTR_TIMESTAMP);
			cr_expect_str_neq(r.timestamp_authority, "");
			free(out);
			free(tp);
			stamps++;
		}
		free(a);
		free(p);
		tc_sigs_free(sigs, n);
	}
	cr_expect_eq(times, 13, "files with signingTime: %d", times);
	cr_expect_eq(stamps, 5, "files with a timestamp: %d", stamps);
	ts_rmtree(dir);
	free(dir);
}

Test(cms_corpus, recorded_cdhashes_equal_digests_of_the_code_directories)
{
	char *dir = ts_tmpdir();
	int plists = 0, v2 = 0;
	for (size_t c = 0; c < NCASES; c++) {
		struct tc_sig *sigs;
		size_t n;
		cr_assert_eq(tc_sigs_load(ts_corpus(cases[c].path), &sigs, &n), 0);
		for (size_t k = 0; k < n; k++) {
			struct tc_sig *s = &sigs[k];
			const char *xml;
			size_t xlen;
			tc_check_cdhash_attrs(cases[c].path, s->cms, s->cms_len, s->cdh, s->ncdh, dir, &plists, &v2, &xml,
					      &xlen);
			if (xml) {
				/* our writer produces Apple's plist bytes exactly */
				uint8_t *mine;
				size_t mlen;
				cr_assert_eq(cs_cdhashes_plist(&mine, &mlen, s->cdh, s->ncdh), 0);
				cr_expect(mlen == xlen && memcmp(mine, xml, xlen) == 0, "%s: plist bytes differ",
					  cases[c].path);
				free(mine);
			}
		}
		tc_sigs_free(sigs, n);
	}
	cr_expect_eq(plists, 14, "CMS with cdhashes plists: %d", plists);
	cr_expect_eq(v2, 13, "CMS with cdhashes2: %d", v2);
	ts_rmtree(dir);
	free(dir);
}
