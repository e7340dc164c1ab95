/*
 * test_sign_apple.c - what we write against what Apple's codesign wrote
 * (../shared/corpus, MANIFEST.tsv).
 *
 * adhoc/InsecurePasswordStore-x86_64 and adhoc/WheresMyBrowser-arm64 are
 * `codesign -s -` output for app-bundle executables (iOS simulator, SHA-256,
 * CD 0x20400, XML + DER entitlements, empty requirements and CMS).  Their
 * CodeDirectories bind slot -1 (the app's Info.plist) and slot -3 (its
 * CodeResources); the binaries have no __info_plist, so those two digests
 * are the only input not in the file: given them (as a bundle signer would
 * give the files), re-signing reproduces Apple's file byte for byte.
 *
 * The Sparkle framework binary (universal, SHA-1 + SHA-256, runtime) comes
 * with its bundle's real Info.plist and CodeResources: re-signed with those
 * files, every slice equals Apple's except execSegLimit, which the older
 * codesign that signed it left 0 for macOS binaries (macOS 26's fills it).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_sign.h"
#include "test_sign_util.h"
#include "tsupport.h"
#include "ut_bytes.h"
#include "ut_err.h"

static char *dir;
static void setup(void) { dir = ts_tmpdir(); }
static void teardown(void)
{
	ts_rmtree(dir);
	free(dir);
}

TestSuite(sign_apple, .init = setup, .fini = teardown);

#define PRESERVE_ALL (CS_PRESERVE_IDENTIFIER | CS_PRESERVE_ENTITLEMENTS | CS_PRESERVE_FLAGS | CS_PRESERVE_RUNTIME)

/* Slots -1 and -3 of Apple's slot-0 CodeDirectory, as slot digests. */
static size_t bound_slots(const char *apple, struct cs_slot_digest d[2])
{
	struct tsg_file f;
	tsg_load(apple, &f);
	const struct tsg_blob *cd = tsg_blob(&f.s[0], 0);
	cr_assert(cd);
	size_t n = 0;
	for (unsigned slot = 1; slot <= 3; slot += 2) {
		const uint8_t *h = tsg_cd_special(cd, slot);
		cr_assert(h, "slot -%u", slot);
		int zero = 1;
		for (unsigned i = 0; i < cd->p[36]; i++)
			zero &= h[i] == 0;
		cr_assert(!zero, "Apple's slot -%u is bound", slot);
		memset(&d[n], 0, sizeof(d[n]));
		d[n].slot = slot;
		d[n].hash_type = cd->p[37];
		memcpy(d[n].digest, h, cd->p[36]);
		n++;
	}
	tsg_free(&f);
	return n;
}

static void reproduce(const char *rel)
{
	const char *apple = ts_corpus(rel);
	const char *name = strrchr(rel, '/') + 1;
	struct cs_slot_digest d[2];
	struct cs_sign_opts o = { 0 };
	o.preserve = PRESERVE_ALL;
	o.slot_digests = d;
	o.nslot_digests = bound_slots(apple, d);
	char *copy = tsg_copy(dir, apple, name);
	struct cs_sign_report rep;
	cr_assert_eq(cs_sign_file(copy, NULL, &o, &rep), 0, "%s", ut_errmsg());
	cr_expect(ts_same_file(copy, apple), "%s: not Apple's bytes", rel);
	struct tsg_file f;
	tsg_load(copy, &f);
	cr_expect_eq(tsg_check(&f, TSG_CODESIGN), 1);
	tsg_free(&f);
	free(copy);
}

Test(sign_apple, insecure_password_store_x86_64_byte_identical) { reproduce("adhoc/InsecurePasswordStore-x86_64"); }
Test(sign_apple, wheres_my_browser_arm64_byte_identical) { reproduce("adhoc/WheresMyBrowser-arm64"); }

/* The same bytes from explicit options: the identifier and the entitlements file (Apple's XML payload). */
Test(sign_apple, explicit_identifier_and_entitlements_file_byte_identical)
{
	const char *apple = ts_corpus("adhoc/WheresMyBrowser-arm64");
	struct tsg_file f;
	tsg_load(apple, &f);
	const struct tsg_blob *ent = tsg_blob(&f.s[0], 5);
	cr_assert(ent);
	struct cs_slot_digest d[2];
	struct cs_sign_opts o = { 0 };
	o.identifier = "com.authenticationfailure.WheresMyBrowser";
	o.entitlements = ent->p + 8;
	o.entitlements_len = ent->len - 8;
	o.slot_digests = d;
	o.nslot_digests = bound_slots(apple, d);
	char *out = ts_path(dir, "out");
	cr_assert_eq(cs_sign_file(apple, out, &o, NULL), 0, "%s", ut_errmsg());
	cr_expect(ts_same_file(out, apple));
	tsg_free(&f);
}

/* Without the bundle's digests only slots -1 and -3 (and so the page-free CD bytes) differ. */
Test(sign_apple, bare_file_leaves_bundle_slots_empty)
{
	const char *apple = ts_corpus("adhoc/InsecurePasswordStore-x86_64");
	struct cs_sign_opts o = { 0 };
	o.preserve = PRESERVE_ALL;
	char *out = ts_path(dir, "out");
	cr_assert_eq(cs_sign_file(apple, out, &o, NULL), 0, "%s", ut_errmsg());
	struct tsg_file a, b;
	tsg_load(apple, &a);
	tsg_load(out, &b);
	cr_assert_eq(a.len, b.len);
	const struct tsg_blob *ca = tsg_blob(&a.s[0], 0), *cb = tsg_blob(&b.s[0], 0);
	cr_assert_eq(ca->len, cb->len);
	size_t hs = ca->p[36], ho = ut_be32(ca->p + 16);
	size_t s1 = ho - hs, s3 = ho - 3 * hs;
	for (size_t i = 0; i < a.len; i++) {
		size_t cdoff = (size_t)(cb->p - b.data);
		int in1 = i >= cdoff + s1 && i < cdoff + s1 + hs, in3 = i >= cdoff + s3 && i < cdoff + s3 + hs;
		if (in1 || in3)
			cr_assert_eq(b.data[i], 0, "slot byte %zu not empty", i);
		else
			cr_assert_eq(a.data[i], b.data[i], "byte %zu differs outside slots -1/-3", i);
	}
	tsg_free(&a);
	tsg_free(&b);
}

/* The identifier suffix from LC_UUID matches what codesign derived for a bare ad-hoc binary. */
Test(sign_apple, identifier_suffix_matches_codesign)
{
	const char *apple = ts_corpus("odd/r2_hang_test-adhoc-page2-mismatch");
	char *copy = tsg_copy(dir, apple, "r2_hang_test");
	struct cs_sign_report rep;
	cr_assert_eq(cs_sign_file(copy, NULL, NULL, &rep), 0, "%s", ut_errmsg());
	cr_expect_str_eq(rep.identifier, "r2_hang_test-55554944054645894ce33f2f92270b21227f3949");
	cr_expect_str_eq(tsg_identifier_of(apple, 0), rep.identifier);
	free(copy);
}

/*
 * A universal ad-hoc binary signed on an Intel Mac: codesign took the suffix
 * from the x86_64 slice's UUID (its host's slice).  --host-arch x86_64 gives
 * Apple's identifier; the default (an arm64 host) takes the arm64 UUID.
 */
Test(sign_apple, universal_identifier_follows_the_host_slice)
{
	const char *apple = ts_corpus("bundles/sparkle1-deadpikle/Sparkle.framework/Versions/A/Resources/"
				      "Autoupdate.app/Contents/MacOS/fileop");
	char *copy = tsg_copy(dir, apple, "fileop");
	struct cs_sign_opts o = { 0 };
	o.host_arch = "x86_64";
	struct cs_sign_report rep;
	cr_assert_eq(cs_sign_file(copy, NULL, &o, &rep), 0, "%s", ut_errmsg());
	cr_expect_str_eq(rep.identifier, tsg_identifier_of(apple, 0));
	cr_expect_str_eq(rep.identifier, "fileop-555549447bd11a30f33c3bc896ebd0acf2f06b2c");
	/* Apple's hash set too: the x86_64 slice targets macOS 10.9, so both slices get SHA-1 + SHA-256. */
	cr_expect_eq(rep.slices[0].nhash, 2);
	cr_expect_eq(rep.slices[1].nhash, 2);
	cr_expect_eq(rep.slices[1].hash_types[0], 1);
	cr_assert_eq(cs_sign_file(copy, NULL, NULL, &rep), 0, "%s", ut_errmsg());
	cr_expect_str_eq(rep.identifier, "fileop-555549443bff756e1c503dc8955fd978f9c6088e");
	struct tsg_file f;
	tsg_load(copy, &f);
	cr_expect_eq(tsg_check(&f, TSG_CODESIGN | TSG_NO_CLI), 4);
	tsg_free(&f);
	free(copy);
}

Test(sign_apple, sparkle_framework_matches_apple_except_exec_seg_limit)
{
	const char *base = "bundles/sparkle1-deadpikle/Sparkle.framework/Versions/A/";
	char rel[512];
	snprintf(rel, sizeof(rel), "%sSparkle", base);
	const char *apple = ts_corpus(rel);
	size_t ilen, rlen;
	snprintf(rel, sizeof(rel), "%sResources/Info.plist", base);
	uint8_t *info = ts_read(ts_corpus(rel), &ilen);
	snprintf(rel, sizeof(rel), "%s_CodeSignature/CodeResources", base);
	uint8_t *res = ts_read(ts_corpus(rel), &rlen);
	cr_assert(info && res);
	struct cs_sign_opts o = { 0 };
	o.preserve = PRESERVE_ALL;
	o.info_plist = info;
	o.info_plist_len = ilen;
	o.resources = res;
	o.resources_len = rlen;
	char *out = ts_path(dir, "Sparkle");
	struct cs_sign_report rep;
	cr_assert_eq(cs_sign_file(apple, out, &o, &rep), 0, "%s", ut_errmsg());
	cr_expect_str_eq(rep.identifier, "org.sparkle-project.Sparkle");
	struct tsg_file a, b;
	tsg_load(apple, &a);
	tsg_load(out, &b);
	cr_assert_eq(a.n, 2);
	cr_assert_eq(b.n, 2);
	unsigned patched = 0;
	for (unsigned i = 0; i < 2; i++) {
		struct tsg_slice *sa = &a.s[i], *sb = &b.s[i];
		cr_assert_eq(sa->size, sb->size, "slice %u size (reservation)", i);
		uint8_t *pa = a.data + sa->off;
		/* Apple's CDs with execSegLimit = __TEXT filesize, as macOS 26 codesign writes it. */
		for (uint32_t k = 0; k < sa->nblobs; k++) {
			const struct tsg_blob *cd = &sa->blobs[k];
			if (cd->type != 0 && cd->type != 0x1000)
				continue;
			cr_assert_eq(tsg_cd64(cd, 72), 0, "Apple left execSegLimit 0");
			ut_put_be64((uint8_t *)cd->p + 72, sa->text_filesize);
			patched++;
		}
		cr_expect(!memcmp(pa, b.data + sb->off, sa->size), "slice %u differs beyond execSegLimit", i);
	}
	cr_expect_eq(patched, 4);
	cr_expect_eq(tsg_check(&b, TSG_CODESIGN | TSG_NO_CLI), 4);
	tsg_free(&a);
	tsg_free(&b);
	free(info);
	free(res);
}
