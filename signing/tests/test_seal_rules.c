/*
 * test_seal_rules.c - resource rules: the defaults equal the rules in Apple's
 * own CodeResources files (parsed with libplist, compared as dictionaries),
 * rule matching as codesign-spec §3.3 states it, weak-rule detection, key order.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cs_seal_rules.h"
#include "test_bundle_util.h"
#include "tsupport.h"
#include "ut_err.h"

static plist_t defaults_plist(int v2, const char *resources)
{
	struct cs_rules r;
	cs_rules_init(&r);
	cr_assert_eq(v2 ? cs_rules_default_v2(&r, resources) : cs_rules_default_v1(&r, resources), 0, "%s", ut_errmsg());
	plist_t p = NULL;
	cr_assert_eq(cs_rules_to_plist(&r, &p), 0);
	cs_rules_release(&r);
	return p;
}

/* Apple's v2 seals: codesign of the Xcode 12 era (Sparkle) and of a 2021 Xcode (signapple). */
static const char *const v2_seals[] = {
	TB_SPARKLE "/Versions/A/_CodeSignature/CodeResources",
	TB_SPARKLE "/" TB_AUTOUPDATE "/Contents/_CodeSignature/CodeResources",
	TB_SIGNAPPLE "/Contents/_CodeSignature/CodeResources",
};

Test(seal_rules, defaults_equal_apple_rules_and_rules2)
{
	plist_t mine1 = defaults_plist(0, "Resources/"), mine2 = defaults_plist(1, "Resources/");
	cr_expect_eq(plist_dict_get_size(mine2), 13, "rules=13 for macOS bundles (codesign -dvvv)");
	for (size_t i = 0; i < sizeof(v2_seals) / sizeof(v2_seals[0]); i++) {
		plist_t apple = tb_plist_file(ts_corpus(v2_seals[i]));
		char why[512] = "";
		cr_expect(tb_plist_equal(mine1, plist_dict_get_item(apple, "rules"), why, sizeof(why)), "%s rules: %s",
			  v2_seals[i], why);
		cr_expect(tb_plist_equal(mine2, plist_dict_get_item(apple, "rules2"), why, sizeof(why)), "%s rules2: %s",
			  v2_seals[i], why);
		plist_free(apple);
	}
	plist_free(mine1);
	plist_free(mine2);
}

Test(seal_rules, old_v1_seals_predate_base_lproj)
{
	/* 2014-era codesign wrote 4 v1 rules: today's 5 minus ^Resources/Base\.lproj/ (Growl, terminal-notifier). */
	plist_t mine1 = defaults_plist(0, "Resources/");
	plist_dict_remove_item(mine1, "^Resources/Base\\.lproj/");
	const char *seals[] = { TB_GROWL "/Versions/A/_CodeSignature/CodeResources",
				TB_NOTIFIER "/Contents/_CodeSignature/CodeResources" };
	for (size_t i = 0; i < 2; i++) {
		plist_t apple = tb_plist_file(ts_corpus(seals[i]));
		char why[512] = "";
		cr_expect(tb_plist_equal(mine1, plist_dict_get_item(apple, "rules"), why, sizeof(why)), "%s: %s", seals[i],
			  why);
		cr_expect_null(plist_dict_get_item(apple, "rules2"));
		plist_free(apple);
	}
	plist_free(mine1);
}

Test(seal_rules, flat_defaults)
{
	/* codesign-spec §3.3: flat bundles get 10 rules2 without nested rules, 5 rules. */
	plist_t r2 = defaults_plist(1, ""), r1 = defaults_plist(0, "");
	cr_expect_eq(plist_dict_get_size(r2), 10);
	cr_expect_eq(plist_dict_get_size(r1), 5);
	const char *keys2[] = { "^.*", ".*\\.dSYM($|/)", "^(.*/)?\\.DS_Store$", "^Info\\.plist$", "^version\\.plist$",
				"^embedded\\.provisionprofile$", "^PkgInfo$", "^.*\\.lproj/", "^Base\\.lproj/",
				"^.*\\.lproj/locversion.plist$" };
	for (size_t i = 0; i < 10; i++)
		cr_expect_not_null(plist_dict_get_item(r2, keys2[i]), "%s", keys2[i]);
	const char *keys1[] = { "^version.plist$", "^.*", "^.*\\.lproj/", "^Base\\.lproj/", "^.*\\.lproj/locversion.plist$" };
	for (size_t i = 0; i < 5; i++)
		cr_expect_not_null(plist_dict_get_item(r1, keys1[i]), "%s", keys1[i]);
	plist_free(r1);
	plist_free(r2);
	struct cs_rules r;
	cs_rules_init(&r);
	cr_expect_eq(cs_rules_default_v2(&r, "Contents/Resources/"), UT_EINVAL);
	cs_rules_release(&r);
}

Test(seal_rules, matching)
{
	struct cs_rules r;
	cs_rules_init(&r);
	cr_assert_eq(cs_rules_default_v2(&r, "Resources/"), 0);
	cr_assert_eq(cs_rules_add_exclusions(&r, "MacOS/U.T+M"), 0);
	const struct {
		const char *path;
		double weight;
		uint32_t flags;
	} t[] = {
		{ "Info.plist", 20, CS_RULE_OMITTED },
		{ "PkgInfo", 20, CS_RULE_OMITTED },
		{ "version.plist", 20, 0 },
		{ "embedded.provisionprofile", 20, 0 },
		{ "Resources/en.lproj/Localizable.strings", 1000, CS_RULE_OPTIONAL },
		{ "Resources/Base.lproj/Main.nib", 1010, 0 },
		{ "Resources/de.lproj/locversion.plist", 1100, CS_RULE_OMITTED },
		{ "Resources/AppIcon.icns", 20, 0 },
		{ "Resources/qemu/.DS_Store", 2000, CS_RULE_OMITTED },
		{ ".DS_Store", 2000, CS_RULE_OMITTED },
		{ "MacOS/utmctl", 10, CS_RULE_NESTED },
		{ "Frameworks/glib-2.0.0.framework", 10, CS_RULE_NESTED },
		{ "XPCServices/QEMUHelper.xpc", 10, CS_RULE_NESTED },
		{ "Library/LoginItems/Helper.app", 10, CS_RULE_NESTED },
		{ "Library/Other/file", 1, 0 },
		{ "Plug-ins/x.plugin", 10, CS_RULE_NESTED },
		{ "toplevel-file", 10, CS_RULE_NESTED },
		{ "Foo.dSYM/Contents/Info.plist", 11, 0 },
		{ "_CodeSignature", 0, CS_RULE_EXCLUSION },
		{ "CodeResources", 0, CS_RULE_EXCLUSION },
		{ "_MASReceipt", 0, CS_RULE_EXCLUSION },
		{ "MacOS/U.T+M", 0, CS_RULE_EXCLUSION | CS_RULE_SOFT_TARGET },
		{ "MacOS/UxT+M", 10, CS_RULE_NESTED }, /* the escaped '.' no longer matches any character */
		{ "Resources/_CodeSignature", 20, 0 },  /* exclusions are anchored at the base */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const struct cs_rule *x = cs_rules_match(&r, t[i].path);
		cr_assert_not_null(x, "%s", t[i].path);
		cr_expect_eq(x->weight, t[i].weight, "%s: weight %g (rule %s)", t[i].path, x->weight, x->pattern);
		cr_expect_eq(x->flags, t[i].flags, "%s: flags %#x (rule %s)", t[i].path, x->flags, x->pattern);
	}
	cs_rules_release(&r);
	/* v1 rules select only Resources/ and version.plist. */
	cs_rules_init(&r);
	cr_assert_eq(cs_rules_default_v1(&r, "Resources/"), 0);
	cr_expect_null(cs_rules_match(&r, "MacOS/helper"));
	cr_expect_null(cs_rules_match(&r, "Info.plist"));
	cr_expect_not_null(cs_rules_match(&r, "Resources/Info.plist"));
	cs_rules_release(&r);
}

Test(seal_rules, escape)
{
	char out[64];
	cr_assert_eq(cs_rules_escape("MacOS/a.b+c(1)[x]^$|*?{}\\", out, sizeof(out)), 0);
	cr_expect_str_eq(out, "MacOS/a\\.b\\+c\\(1\\)\\[x\\]\\^\\$\\|\\*\\?\\{\\}\\\\");
	cr_expect_eq(cs_rules_escape("a.b.c.d", out, 8), UT_EINVAL);
}

static struct cs_rules from_apple(const char *seal, const char *key)
{
	plist_t apple = tb_plist_file(ts_corpus(seal));
	struct cs_rules r;
	cs_rules_init(&r);
	cr_assert_eq(cs_rules_from_plist(&r, plist_dict_get_item(apple, key), key), 0, "%s", ut_errmsg());
	plist_free(apple);
	return r;
}

Test(seal_rules, weak_rules)
{
	char why[256];
	struct cs_rules r = from_apple(v2_seals[0], "rules2");
	cr_expect_eq(cs_rules_weak(&r, 2, why, sizeof(why)), 0, "Apple's rules2 are not weak: %s", why);
	cr_assert_eq(cs_rules_add(&r, "^Resources/secret/", 30, CS_RULE_OMITTED), 0);
	cr_expect_eq(cs_rules_weak(&r, 2, why, sizeof(why)), 1);
	cr_expect(strstr(why, "^Resources/secret/"), "%s", why);
	cs_rules_release(&r);

	r = from_apple(TB_GROWL "/Versions/A/_CodeSignature/CodeResources", "rules");
	cr_expect_eq(cs_rules_weak(&r, 1, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(cs_rules_weak(&r, 2, why, sizeof(why)), 1, "v1 rules lack '^.*'");
	cs_rules_release(&r);

	/* '^.*' must be the boolean true, not an equivalent dictionary. */
	plist_t d = plist_new_dict(), w = plist_new_dict();
	plist_dict_set_item(w, "weight", plist_new_real(1));
	plist_dict_set_item(d, "^.*", w);
	cs_rules_init(&r);
	cr_assert_eq(cs_rules_from_plist(&r, d, "rules2"), 0);
	cr_expect_eq(cs_rules_weak(&r, 2, why, sizeof(why)), 1);
	cs_rules_release(&r);
	/* A bare false rule omits too. */
	plist_dict_set_item(d, "^.*", plist_new_bool(1));
	plist_dict_set_item(d, "^Resources/x$", plist_new_bool(0));
	cs_rules_init(&r);
	cr_assert_eq(cs_rules_from_plist(&r, d, "rules2"), 0);
	cr_expect_eq(cs_rules_weak(&r, 2, why, sizeof(why)), 1);
	cs_rules_release(&r);
	plist_free(d);
}

Test(seal_rules, rules_read_back_as_written)
{
	/* Reading Apple's rules2 and writing them again gives the same dictionary (values kept as read). */
	plist_t apple = tb_plist_file(ts_corpus(v2_seals[2]));
	struct cs_rules r;
	cs_rules_init(&r);
	cr_assert_eq(cs_rules_from_plist(&r, plist_dict_get_item(apple, "rules2"), "rules2"), 0);
	cr_expect_eq(r.n, 13);
	plist_t back = NULL;
	cr_assert_eq(cs_rules_to_plist(&r, &back), 0);
	char why[256] = "";
	cr_expect(tb_plist_equal(back, plist_dict_get_item(apple, "rules2"), why, sizeof(why)), "%s", why);
	plist_free(back);
	plist_free(apple);
	cs_rules_release(&r);
}

Test(seal_rules, key_order_is_utf16)
{
	/* CFString literal comparison: UTF-16 code units.  ASCII in byte order; U+1F600 (surrogates D83D..)
	 * before U+FF01 in UTF-16, although its UTF-8 bytes (F0..) sort after EF BC 81. */
	cr_expect_lt(cs_plist_key_cmp("^Resources/", "^Resources/.*\\.lproj/"), 0);
	cr_expect_lt(cs_plist_key_cmp("^Resources/.*\\.lproj/locversion.plist$", "^Resources/Base\\.lproj/"), 0);
	cr_expect_lt(cs_plist_key_cmp("Z", "a"), 0);
	cr_expect_lt(cs_plist_key_cmp("a", "ab"), 0);
	cr_expect_eq(cs_plist_key_cmp("\xc3\xa9", "\xc3\xa9"), 0);
	cr_expect_lt(cs_plist_key_cmp("z", "\xc3\xa9"), 0);
	cr_expect_lt(cs_plist_key_cmp("\xf0\x9f\x98\x80", "\xef\xbc\x81"), 0);
	cr_expect_gt(strcmp("\xf0\x9f\x98\x80", "\xef\xbc\x81"), 0);
}
