/*
 * test_cms_profile.c - cs_profile_parse on the TEST-ONLY stand-in profile
 * (testdata/keys/embedded.provisionprofile) and on the real Apple-signed one
 * in the corpus.  Oracles: the plist source the stand-in was made from (read
 * with xmllint), MANIFEST.tsv for the real profile.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_cms.h"
#include "test_cms_util.h"
#include "tsupport.h"
#include "ut_err.h"

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d, tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = s;
	return timegm(&tm);
}

static char *xpath(const char *file, const char *expr)
{
	char *out = NULL;
	cr_assert_eq(tc_sh(&out, "xmllint --xpath '%s' '%s'", expr, file), 0);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

Test(cms_profile, stand_in_profile_parses_with_the_test_anchor)
{
	size_t len;
	uint8_t *der = ts_read(tc_key("embedded.provisionprofile"), &len);
	cr_assert_not_null(der);
	struct cs_profile p;
	int rc = cs_profile_parse(&p, der, len, tc_test_trust(0));
	cr_assert_eq(rc, 0, "%s", ut_errmsg());
	const char *src = tc_key("profile.plist");
	char *team = xpath(src, "string(//key[.=\"TeamIdentifier\"]/following-sibling::array[1]/string[1])");
	char *name = xpath(src, "string(//key[.=\"Name\"]/following-sibling::string[1])");
	char *exp = xpath(src, "string(//key[.=\"ExpirationDate\"]/following-sibling::date[1])");
	cr_expect_str_eq(p.team_id, team);
	cr_expect_str_eq(p.name, name);
	int y, mo, d, h, mi, s;
	cr_assert_eq(sscanf(exp, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s), 6);
	cr_expect(p.has_expiration);
	cr_expect_eq(p.expiration, (int64_t)utc(y, mo, d, h, mi, s));
	cr_assert_not_null(p.entitlements);
	cr_expect(ut_plist_dict_true(p.entitlements, "com.apple.vm.networking"));
	cr_expect(ut_plist_dict_true(p.entitlements, "com.apple.security.hypervisor"));
	cr_expect_str_eq(ut_plist_dict_str(p.entitlements, "com.apple.developer.team-identifier"), "UTMTEST123");
	cr_expect(ut_plist_dict_true(p.plist, "ProvisionsAllDevices"));
	cr_expect_eq(p.cms.chain.anchor, CS_ANCHOR_LISTED);
	cr_expect_str_eq(p.cms.chain.certs[0].cn, "utmpatch TEST Provisioning Profile Signing");
	cr_expect(p.cms.attrs & CS_CMS_ATTR_SIGNED);
	cs_profile_release(&p);
	cs_profile_release(&p); /* idempotent */
	free(team);
	free(name);
	free(exp);
	free(der);
}

Test(cms_profile, stand_in_profile_needs_a_trusted_anchor)
{
	size_t len;
	uint8_t *der = ts_read(tc_key("embedded.provisionprofile"), &len);
	struct cs_profile p;
	cr_expect_eq(cs_profile_parse(&p, der, len, NULL), UT_EVERIFY);
	cr_expect(strstr(ut_errmsg(), "does not end in a trusted anchor"), "%s", ut_errmsg());
	cr_expect_null(p.plist);
	free(der);
}

Test(cms_profile, tampered_profile_content_is_refused)
{
	size_t len;
	uint8_t *der = ts_read(tc_key("embedded.provisionprofile"), &len);
	/* flip one byte of "UTMTEST123" inside the attached plist */
	uint8_t *hit = memmem(der, len, "<string>UTMTEST123</string>", 27);
	cr_assert_not_null(hit);
	hit[10] ^= 1;
	struct cs_profile p;
	cr_expect_eq(cs_profile_parse(&p, der, len, tc_test_trust(0)), UT_EVERIFY);
	cr_expect_str_eq(ut_errmsg(), "CMS signature does not match the profile content");
	free(der);
}

Test(cms_profile, real_corpus_profile_chains_to_apple)
{
	size_t len;
	uint8_t *der = ts_read(ts_corpus("profiles/credctl-mac-team-dev.provisionprofile"), &len);
	cr_assert_not_null(der);
	struct cs_profile p;
	struct cs_trust strict = { CS_TRUST_REQUIRE_ANCHOR, NULL, 0 };
	int rc = cs_profile_parse(&p, der, len, &strict);
	cr_assert_eq(rc, 0, "%s", ut_errmsg());
	/* MANIFEST.tsv: Name='Mac Team Provisioning Profile: com.crzy.credctl' TeamIdentifier=['JWR3NGC3Z6']
	 * Entitlements keys=[application-identifier, team-identifier, keychain-access-groups]
	 * Expires=2026-03-06 15:45:11, signed by 'Mac OS X Provisioning Profile Signing' */
	cr_expect_str_eq(p.name, "Mac Team Provisioning Profile: com.crzy.credctl");
	cr_expect_str_eq(p.team_id, "JWR3NGC3Z6");
	cr_expect_eq(p.expiration, (int64_t)utc(2026, 3, 6, 15, 45, 11));
	cr_assert_not_null(p.entitlements);
	cr_expect_eq(plist_dict_get_size(p.entitlements), 3);
	cr_expect_str_eq(ut_plist_dict_str(p.entitlements, "com.apple.application-identifier"),
			 "JWR3NGC3Z6.com.crzy.credctl");
	cr_expect_eq(p.cms.chain.anchor, CS_ANCHOR_APPLE_ROOT_CA);
	cr_assert_eq(p.cms.chain.n, 3);
	cr_expect_str_eq(p.cms.chain.certs[0].cn, "Mac OS X Provisioning Profile Signing");
	cr_expect_str_eq(p.cms.chain.certs[1].cn, "Apple Worldwide Developer Relations Certification Authority");
	cr_expect_str_eq(p.cms.chain.certs[2].cn, "Apple Root CA");
	cs_profile_release(&p);
	free(der);
}

Test(cms_profile, a_code_signature_is_not_a_profile)
{
	/* detached: no content to parse */
	struct tc_sig *sigs;
	size_t n;
	cr_assert_eq(tc_sigs_load(ts_corpus("apple/ls-sequoia"), &sigs, &n), 0);
	struct cs_profile p;
	cr_expect_eq(cs_profile_parse(&p, sigs[0].cms, sigs[0].cms_len, NULL), UT_EMALFORMED);
	cr_expect_str_eq(ut_errmsg(), "provisioning profile: the CMS carries no content");
	tc_sigs_free(sigs, n);
}
