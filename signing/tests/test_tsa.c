/*
 * test_tsa.c - RFC 3161 timestamps (cs_tsa.h, sign --timestamp-url) against a
 * TEST-ONLY authority on the loopback: testdata/keys/tsa/tsa_server.py, whose
 * replies come from `openssl ts -reply` with a key and certificate
 * (timeStamping EKU) issued by the test root.  No network beyond 127.0.0.1.
 *
 * Oracles: `openssl cms -cmsout -print` shows the unsigned attribute
 * id-smime-aa-timeStampToken on the CMS we extract ourselves; `openssl ts
 * -verify` checks the token we pull out with OpenSSL's CMS API against the
 * signature value bytes and the test root; the server's own failures (HTTP
 * 500, garbage, rejection, a token for other data, nobody listening) must give
 * exit 3, one clear message and the input untouched.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/objects.h>

#include "cs_cms.h"
#include "cs_tsa.h"
#include "test_cms_util.h"
#include "test_sign_util.h"
#include "tsupport.h"
#include "tsupport_bundle.h"
#include "ut_err.h"

static char *dir;
static pid_t server = -1;

static void setup(void)
{
	dir = ts_tmpdir();
}

static void teardown(void)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		server = -1;
	}
	ts_rmtree(dir);
	free(dir);
}

TestSuite(tsa, .init = setup, .fini = teardown, .timeout = 120);

/* Starts tsa_server.py in MODE for COUNT requests; returns "http://127.0.0.1:PORT/" (static). */
static const char *start_server(const char *mode, int count)
{
	static char url[64];
	char *portfile = ts_path(dir, "tsa.port"), n[16];
	snprintf(n, sizeof(n), "%d", count);
	unlink(portfile);
	server = fork();
	cr_assert(server >= 0);
	if (server == 0) {
		execlp("python3", "python3", ts_root("testdata/keys/tsa/tsa_server.py"), portfile, mode, n, (char *)NULL);
		_exit(127);
	}
	int port = 0;
	for (int i = 0; i < 200 && !port; i++) {
		FILE *f = fopen(portfile, "r");
		if (f) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (!port)
			usleep(50 * 1000);
	}
	free(portfile);
	cr_assert(port > 0, "tsa_server.py did not start");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	return url;
}

/* A loopback port nobody listens on (bound, read, closed). */
static int dead_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		  getsockname(s, (struct sockaddr *)&a, &len) == 0);
	close(s);
	return ntohs(a.sin_port);
}

static int sign(const char *path, const char *url, const char *extra, char **err)
{
	char *argv[12];
	int n = 0;
	argv[n++] = (char *)ts_bin();
	argv[n++] = "sign";
	argv[n++] = "--identity";
	argv[n++] = (char *)tc_key("identity.p12");
	argv[n++] = "--password-file";
	argv[n++] = (char *)tc_key("identity.pass");
	argv[n++] = "--timestamp-url";
	argv[n++] = (char *)url;
	if (extra)
		argv[n++] = (char *)extra;
	argv[n++] = (char *)path;
	argv[n] = NULL;
	char *out = NULL;
	int rc = ts_run(argv, &out, err);
	free(out);
	return rc;
}

/* The token and the signature value of a slice's CMS (OpenSSL's CMS API), written to files. */
static void extract(const struct tsg_slice *s, char **cms, char **tok, char **sigval)
{
	const struct tsg_blob *w = tsg_blob(s, 0x10000);
	cr_assert(w && w->len > 8);
	*cms = tc_write(dir, "cms.der", w->p + 8, w->len - 8);
	const unsigned char *p = w->p + 8;
	CMS_ContentInfo *ci = d2i_CMS_ContentInfo(NULL, &p, w->len - 8);
	cr_assert(ci);
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(ci);
	cr_assert_eq(sk_CMS_SignerInfo_num(sis), 1);
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);
	ASN1_STRING *t = CMS_unsigned_get0_data_by_OBJ(si, OBJ_nid2obj(NID_id_smime_aa_timeStampToken), -3,
						       V_ASN1_SEQUENCE);
	cr_assert(t, "no timeStampToken attribute");
	*tok = tc_write(dir, "token.der", ASN1_STRING_get0_data(t), (size_t)ASN1_STRING_length(t));
	ASN1_OCTET_STRING *sv = CMS_SignerInfo_get0_signature(si);
	*sigval = tc_write(dir, "sigval.bin", ASN1_STRING_get0_data(sv), (size_t)ASN1_STRING_length(sv));
	CMS_ContentInfo_free(ci);
}

static int ts_verify(const char *tok, const char *data)
{
	return tc_sh(NULL, "openssl ts -verify -token_in -in '%s' -data '%s' -CAfile '%s' 2>/dev/null", tok, data,
		     tc_key("root.pem"));
}

/* Every slice: the attribute printed by openssl cms, the token verified by openssl ts. */
static void check_file(const char *path, unsigned nslices)
{
	struct tsg_file f;
	tsg_load(path, &f);
	cr_assert_eq(f.n, nslices);
	for (unsigned i = 0; i < f.n; i++) {
		char *cms, *tok, *sigval, *txt = NULL;
		extract(&f.s[i], &cms, &tok, &sigval);
		cr_assert_eq(tc_sh(&txt, "openssl cms -cmsout -print -inform DER -in '%s'", cms), 0);
		cr_expect(txt && strstr(txt, "id-smime-aa-timeStampToken"), "slice %u: openssl cms shows no token", i);
		cr_expect_eq(ts_verify(tok, sigval), 0, "slice %u: openssl ts -verify over the signature value", i);
		/* the oracle can fail: one flipped byte of the data is refused */
		size_t len;
		uint8_t *b = ts_read(sigval, &len);
		b[len / 2] ^= 1;
		char *bad = tc_write(dir, "sigval-bad.bin", b, len);
		cr_expect_neq(ts_verify(tok, bad), 0, "slice %u: a changed signature value still verifies", i);
		free(b);
		free(bad);
		free(txt);
		free(cms);
		free(tok);
		free(sigval);
	}
	tsg_free(&f);
}

static void check_verify_audit(const char *path, const char *verify_flag)
{
	char *argv[] = { (char *)ts_bin(), "verify", "--anchors", (char *)tc_key("roots.tsv"), (char *)verify_flag,
			 (char *)path, NULL };
	if (!verify_flag) {
		argv[4] = (char *)path;
		argv[5] = NULL;
	}
	char *out = NULL, *err = NULL;
	cr_expect_eq(ts_run(argv, &out, &err), 0, "verify: %s%s", out, err);
	free(out);
	free(err);
}

static void check_audit_timestamp(const char *path, time_t before)
{
	char *argv[] = { (char *)ts_bin(), "audit", "--anchors", (char *)tc_key("roots.tsv"), (char *)path, NULL };
	char *out = NULL, *err = NULL;
	cr_expect_eq(ts_run(argv, &out, &err), 0, "audit: %s", err);
	const char *t = out ? strstr(out, "\nTimestamp=") : NULL;
	cr_assert(t, "audit shows no Timestamp=: %s", out);
	struct tm tm = { 0 };
	cr_assert(strptime(t + 11, "%Y-%m-%dT%H:%M:%SZ", &tm));
	time_t at = timegm(&tm);
	cr_expect(at >= before - 2 && at <= time(NULL) + 2, "genTime %lld not within the run", (long long)at);
	cr_expect(strstr(out, "Verdict=valid"), "%s", out);
	free(out);
	free(err);
}

Test(tsa, thin_file_timestamped)
{
	const char *url = start_server("ok", 1);
	char *p = tsg_copy(dir, ts_fixture("arm64-exe"), "tool");
	time_t before = time(NULL);
	char *err = NULL;
	cr_assert_eq(sign(p, url, NULL, &err), 0, "sign: %s", err);
	free(err);
	check_file(p, 1);
	check_verify_audit(p, NULL);
	check_audit_timestamp(p, before);
	free(p);
}

Test(tsa, fat_file_one_token_per_slice)
{
	const char *url = start_server("ok", 2);
	char *p = tsg_copy(dir, ts_fixture("fat-exe"), "fat");
	char *err = NULL;
	cr_assert_eq(sign(p, url, NULL, &err), 0, "sign: %s", err);
	free(err);
	check_file(p, 2);
	check_verify_audit(p, NULL);
	free(p);
}

Test(tsa, bundle_components_timestamped)
{
	const char *url = start_server("ok", 64);
	char *app = tsb_build_app(dir);
	char *err = NULL;
	cr_assert_eq(sign(app, url, "--nested", &err), 0, "sign: %s", err);
	free(err);
	check_verify_audit(app, "--deep");
	char *exe = ts_path(app, "Contents/MacOS/helper");
	check_file(exe, 1);
	free(exe);
	free(app);
}

/* A failing authority: exit 3, the message, the input byte-identical. */
static void refused(const char *mode, const char *want)
{
	char url[64];
	if (mode)
		snprintf(url, sizeof(url), "%s", start_server(mode, 1));
	else
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/", dead_port());
	char *p = tsg_copy(dir, ts_fixture("arm64-exe"), "tool");
	char *orig = tsg_copy(dir, ts_fixture("arm64-exe"), "orig");
	char *err = NULL;
	cr_expect_eq(sign(p, url, NULL, &err), 3, "mode %s: %s", mode ? mode : "dead", err);
	cr_expect(err && strstr(err, want), "mode %s: stderr '%s' lacks '%s'", mode ? mode : "dead", err, want);
	cr_expect(err && strstr(err, url), "the message names the URL: %s", err);
	cr_expect(err && !strchr(strchr(err, '\n') ? strchr(err, '\n') + 1 : "", '\n'), "one line: %s", err);
	cr_expect(ts_same_file(p, orig), "mode %s: input changed", mode ? mode : "dead");
	free(err);
	free(p);
	free(orig);
}

Test(tsa, http_500_refused)
{
	refused("500", "refused the request");
}

Test(tsa, garbage_reply)
{
	refused("garbage", "malformed reply");
}

Test(tsa, status_rejection)
{
	refused("reject", "refused the request: status 2 (rejection)");
}

Test(tsa, token_for_other_data)
{
	refused("other", "token for other data");
}

Test(tsa, nobody_listening)
{
	refused(NULL, "cannot reach timestamp authority");
}

Test(tsa, usage)
{
	char *p = tsg_copy(dir, ts_fixture("arm64-exe"), "tool");
	char *argv[] = { (char *)ts_bin(), "sign", "--timestamp-url", "http://127.0.0.1:1/", p, NULL };
	char *out = NULL, *err = NULL;
	cr_expect_eq(ts_run(argv, &out, &err), 2, "ad-hoc with a TSA is a usage error");
	cr_expect(err && strstr(err, "needs an identity"), "%s", err);
	free(out);
	free(err);
	err = NULL;
	cr_expect_eq(sign(p, "https://127.0.0.1:1/", NULL, &err), 2, "https is refused as usage");
	cr_expect(err && strstr(err, "not an http:// URL"), "%s", err);
	free(err);
	free(p);
}

Test(tsa, api_checks)
{
	uint8_t sig[256], *tst = (uint8_t *)1;
	size_t len = 7;
	memset(sig, 0xa5, sizeof(sig));
	cr_expect_eq(cs_tsa_request("ftp://x/", sig, sizeof(sig), &tst, &len), UT_EINVAL);
	cr_expect(tst == NULL && len == 0);
	const char *url = start_server("ok", 1);
	cr_assert_eq(cs_tsa_request(url, sig, sizeof(sig), &tst, &len), 0, "%s", ut_errmsg());
	char *tok = tc_write(dir, "api-token.der", tst, len), *data = tc_write(dir, "api-sig.bin", sig, sizeof(sig));
	cr_expect_eq(ts_verify(tok, data), 0, "openssl ts -verify of the returned token");
	free(tst);
	free(tok);
	free(data);
}
