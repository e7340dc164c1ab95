/*
 * test_sign_cli.c - `utmpatch sign` and `macho edit --sign`: exit codes, one
 * error line, input untouched on failure, and results judged by oracles
 * (Apple's bytes, lld's bytes, page hashes recomputed with OpenSSL EVP).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cs_blob.h"
#include "cs_cd.h"
#include "mo_file.h"
#include "tsupport.h"
#include "ut_err.h"

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static char *dir;
static void setup(void) { dir = ts_tmpdir(); }
static void teardown(void)
{
	ts_rmtree(dir);
	free(dir);
}

TestSuite(sign_cli, .init = setup, .fini = teardown);

static int count_entries(void)
{
	char cmd[600], *ls = NULL;
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	ts_sh(cmd, &ls, NULL);
	int n = atoi(ls);
	free(ls);
	return n;
}

/* Runs utmpatch with "@IN" replaced by a fresh copy of src named name; the copy's path in *in. */
static int run(const char *src, const char *name, const char *const *args, char **in, char **out, char **err)
{
	char *p = ts_path(dir, name);
	cr_assert_eq(ts_copy(src, p), 0, "copy %s", src);
	chmod(p, 0755);
	char before[65], after[65];
	ts_sha256_file(p, before);
	int entries = count_entries();
	char *argv[40];
	int n = 0;
	argv[n++] = (char *)ts_bin();
	for (int i = 0; args[i]; i++)
		argv[n++] = !strcmp(args[i], "@IN") ? p : (char *)args[i];
	argv[n] = NULL;
	int rc = ts_run(argv, out, err);
	if (rc != 0) {
		ts_sha256_file(p, after);
		cr_assert_str_eq(before, after, "input changed although the command failed");
		cr_assert_eq(count_entries(), entries, "stray files left");
	}
	if (in)
		*in = p;
	return rc;
}

static void expect_exit(int want, const char *src, const char *const *args, const char *words)
{
	char *err = NULL;
	int rc = run(src, "input", args, NULL, NULL, &err);
	cr_assert_eq(rc, want, "exit %d, stderr: %s", rc, err);
	cr_assert(strstr(err, words), "stderr '%s' lacks '%s'", err, words);
	if (want == 3)
		cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s", err);
	free(err);
}

Test(sign_cli, usage_errors_exit_2)
{
	const char *exe = ts_fixture("arm64-exe");
	expect_exit(2, exe, ARGS("sign"), "missing FILE");
	expect_exit(2, exe, ARGS("sign", "@IN", "--bogus"), "unknown option '--bogus'");
	expect_exit(2, exe, ARGS("sign", "@IN", "--page-size", "8192"), "4096 or 16384");
	expect_exit(2, exe, ARGS("sign", "@IN", "--preserve-metadata", "identifier,teamid"), "'teamid'");
	expect_exit(2, exe, ARGS("sign", "@IN", "--identity", "x.p12", "--key", "k.pem", "--cert", "c.pem"),
		    "exclude each other");
	expect_exit(2, exe, ARGS("sign", "@IN", "--info-plist-hash", "abc"), "40 or 64 hex digits");
	expect_exit(2, exe, ARGS("sign", "@IN", "--options", "runtime,adhoc"), "unknown flag");
	expect_exit(2, exe, ARGS("sign", "@IN", "--linker-signed", "--runtime"), "linker signature takes only");
	char *out = NULL, *err = NULL;
	char *dargv[] = { (char *)ts_bin(), "sign", dir, NULL };
	cr_assert_eq(ts_run(dargv, NULL, &err), 2);
	cr_assert(strstr(err, "is a directory but not a bundle"), "%s", err);
	free(err);
	char *argv[] = { (char *)ts_bin(), "sign", "-h", NULL };
	cr_assert_eq(ts_run(argv, &out, NULL), 0);
	cr_assert(strstr(out, "usage: utmpatch sign"));
	free(out);
}

Test(sign_cli, refusals_exit_3_with_one_line)
{
	expect_exit(3, ts_fixture("x86_64-tight"), ARGS("sign", "@IN"), "not enough room in load commands");
	expect_exit(3, ts_corpus("unsigned/hello-osx-i386"), ARGS("sign", "@IN"), "slice i386");
	expect_exit(3, ts_fixture("arm64-exe"), ARGS("sign", "@IN", "--entitlements", "/nonexistent/ent.plist"),
		    "/nonexistent/ent.plist");
	expect_exit(3, ts_root("testdata/malformed/cmdsize-zero"), ARGS("sign", "@IN"), "load command 9");
}

Test(sign_cli, apple_bytes_from_the_cli)
{
	char *in = NULL, *out = NULL, *err = NULL;
	int rc = run(ts_corpus("adhoc/WheresMyBrowser-arm64"), "WheresMyBrowser",
		     ARGS("sign", "--preserve-metadata", "identifier,entitlements,flags,runtime", "--info-plist-hash",
			  "8877fe00231bf1acb66289454b64575424e95f3461f26de1bc56b5ecb9b067ec", "--resource-dir-hash",
			  "061239edc5b49ce35d1b51fa28e885be053a25293eb22caca5d9bb8927a85a44", "@IN"),
		     &in, &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_expect(ts_same_file(in, ts_corpus("adhoc/WheresMyBrowser-arm64")));
	cr_expect(strstr(out, "identifier com.authenticationfailure.WheresMyBrowser"), "%s", out);
	cr_expect(strstr(out, "v=20400 flags=0x2(adhoc) hashes=sha256"), "%s", out);
	free(out);
	free(err);
}

Test(sign_cli, linker_form_to_an_output_path)
{
	char *in = NULL, *err = NULL;
	char *o = ts_path(dir, "out");
	int rc = run(ts_fixture("arm64-exe"), "renamed",
		     ARGS("sign", "--linker-signed", "--identifier", "arm64-exe", "-o", o, "@IN"), &in, NULL, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_expect(ts_same_file(o, ts_fixture("arm64-exe")), "lld's bytes");
	cr_expect(ts_same_file(in, ts_fixture("arm64-exe")), "input untouched");
	free(err);
}

Test(sign_cli, identity_options)
{
	char *out = NULL, *err = NULL;
	const char *k = ts_root("testdata/keys");
	char p12[512], pass[512], roots[512], key[512], cert[512], chain[512];
	snprintf(p12, sizeof(p12), "%s/identity.p12", k);
	snprintf(pass, sizeof(pass), "%s/identity.pass", k);
	snprintf(roots, sizeof(roots), "%s/roots.tsv", k);
	snprintf(key, sizeof(key), "%s/leaf.key", k);
	snprintf(cert, sizeof(cert), "%s/leaf.pem", k);
	snprintf(chain, sizeof(chain), "%s/chain.pem", k);
	int rc = run(ts_fixture("arm64-exe"), "tool",
		     ARGS("sign", "--identity", p12, "--password-file", pass, "--anchors", roots, "--runtime", "@IN"), NULL,
		     &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_expect(strstr(out, "identifier tool, team UTMTEST123"), "%s", out);
	cr_expect(strstr(out, "v=20500 flags=0x10000(runtime)"), "%s", out);
	free(out);
	free(err);
	rc = run(ts_fixture("arm64-exe"), "tool2",
		 ARGS("sign", "--key", key, "--cert", cert, "--chain", chain, "--signing-time", "1700000000", "@IN"), NULL,
		 &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_expect(strstr(out, "identifier tool2\n"), "no team ID without a trusted Apple-like anchor: %s", out);
	free(out);
	free(err);
	expect_exit(3, ts_fixture("arm64-exe"), ARGS("sign", "--identity", p12, "@IN"), "identity.p12");
}

/* Every CodeDirectory of every slice: page hashes recomputed with EVP over the file's bytes. */
static void verify_pages(const char *path, const char **ident)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	cr_assert_eq(ut_src_open(&src, path), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s", ut_errmsg());
	size_t len;
	uint8_t *all = ts_read(path, &len);
	static char id[256];
	for (uint32_t i = 0; i < f->nslices; i++) {
		const struct mo_slice *s = &f->slices[i];
		const struct mo_image *img = s->img;
		cr_assert(img->has_codesig);
		const uint8_t *sig = all + s->offset + img->codesig.off;
		struct cs_superblob sb;
		cr_assert_eq(cs_superblob_parse(&sb, sig, img->codesig.size, CSMAGIC_EMBEDDED_SIGNATURE), 0);
		const struct cs_blob_entry *e = cs_superblob_find(&sb, 0);
		struct cs_cd cd;
		cr_assert_eq(cs_cd_parse(&cd, e->blob.p, e->blob.length), 0);
		cr_assert_eq(cs_cd_code_limit(&cd), img->codesig.off);
		uint32_t ps = 1u << cd.page_size;
		for (uint32_t p = 0; p < cd.n_code_slots; p++) {
			uint32_t off = p * ps, n = img->codesig.off - off < ps ? img->codesig.off - off : ps;
			uint8_t d[64];
			unsigned dl;
			EVP_Digest(all + s->offset + off, n, d, &dl, cd.hash_type == 1 ? EVP_sha1() : EVP_sha256(), NULL);
			cr_assert(!memcmp(d, cs_cd_code_slot(&cd, p), cd.hash_size), "slice %u page %u", i, p);
		}
		snprintf(id, sizeof(id), "%s", cd.identifier);
	}
	*ident = id;
	free(all);
	mo_file_free(f);
	ut_src_release(&src);
}

Test(sign_cli, macho_edit_sign_resigns_adhoc)
{
	char *in = NULL, *err = NULL, *otool = NULL;
	int rc = run(ts_fixture("qemu-fat.dylib"), "libqemu.dylib",
		     ARGS("macho", "edit", "@IN", "--add-rpath", "/opt/qemu/lib", "--sign"), &in, NULL, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_expect_eq(strlen(err), 0, "no stale-signature warning: %s", err);
	const char *ident;
	verify_pages(in, &ident);
	cr_expect(!strncmp(ident, "libqemu-55554944", 16), "identifier from the file name: %s", ident);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "llvm-objdump-14 --macho --private-headers --arch=all '%s' | grep -c /opt/qemu/lib", in);
	ts_sh(cmd, &otool, NULL);
	cr_expect_eq(atoi(otool), 2, "rpath in both slices");
	cr_expect_eq(count_entries(), 1, "no temp file left");
	free(otool);
	free(err);
	/* An ad-hoc Apple signature keeps its identifier and entitlements. */
	rc = run(ts_corpus("adhoc/WheresMyBrowser-arm64"), "wmb", ARGS("macho", "edit", "@IN", "--add-rpath", "/x", "--sign"),
		 &in, NULL, &err);
	cr_assert_eq(rc, 0, "%s", err);
	verify_pages(in, &ident);
	cr_expect_str_eq(ident, "com.authenticationfailure.WheresMyBrowser");
	free(err);
	/* A refused edit leaves the input and the directory as they were (checked by run()). */
	static char longp[200];
	memset(longp, 'p', sizeof(longp) - 1);
	longp[0] = '/';
	expect_exit(3, ts_fixture("arm64-tight"), ARGS("macho", "edit", "@IN", "--add-rpath", longp, "--sign"),
		    "more needed");
}
