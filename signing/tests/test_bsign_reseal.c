/*
 * test_bsign_reseal.c - resealing the corpus bundles (temp copies, symlinks
 * restored) ad-hoc with preserved metadata, compared with what Apple's
 * codesign left in them: the parsed CodeResources, the XML bytes, the
 * identifiers and flags (MANIFEST.tsv), the nested entries against cdhashes
 * computed here with OpenSSL over the CodeDirectories (test_cms_util's own
 * SuperBlob walk), and every component verified (cs_verify_file with the
 * Info.plist and CodeResources bytes, cs_seal_verify_bundle strict + deep).
 *
 * The corpus bundles were signed on Intel hosts, so host_arch is "x86_64"
 * (the nested cdhash is the x86_64 slice's, the ad-hoc requirement lists the
 * x86_64 CodeDirectories first).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_bsign.h"
#include "test_bsign_util.h"
#include "test_bundle_util.h"
#include "test_cms_util.h"
#include "tsupport.h"
#include "ut_bytes.h"
#include "ut_err.h"

#define ALL_META (CS_PRESERVE_IDENTIFIER | CS_PRESERVE_ENTITLEMENTS | CS_PRESERVE_FLAGS | CS_PRESERVE_RUNTIME)
#define AU "Versions/A/Resources/Autoupdate.app"

static struct cs_bsign_opts reseal_opts(int nested)
{
	struct cs_bsign_opts o;
	memset(&o, 0, sizeof(o));
	o.nested = nested;
	o.sign.preserve = ALL_META;
	o.sign.host_arch = "x86_64";
	return o;
}

/* `cdhash H"..." or ...` over every CD of every slice, file order (x86_64 first in these files), computed here. */
static char *adhoc_requirement(const char *macho)
{
	struct tc_sig *s = NULL;
	size_t n = 0;
	cr_assert_eq(tc_sigs_load(macho, &s, &n), 0, "%s", macho);
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	int first = 1;
	for (size_t i = 0; i < n; i++)
		for (uint32_t k = 0; k < s[i].ncdh; k++) {
			char hex[41];
			ut_hex(hex, s[i].cdh[k].digest, 20);
			fprintf(m, "%scdhash H\"%s\"", first ? "" : " or ", hex);
			first = 0;
		}
	fclose(m);
	tc_sigs_free(s, n);
	return out;
}

/* The truncated SHA-256 cdhash of the x86_64 slice, computed here. */
static void x86_cdhash(const char *macho, uint8_t out[20])
{
	struct tc_sig *s = NULL;
	size_t n = 0;
	cr_assert_eq(tc_sigs_load(macho, &s, &n), 0, "%s", macho);
	int found = 0;
	for (size_t i = 0; i < n; i++)
		for (uint32_t k = 0; k < s[i].ncdh && !strcmp(s[i].arch, "x86_64"); k++)
			if (s[i].cdh[k].hash_type == CS_HASHTYPE_SHA256) {
				memcpy(out, s[i].cdh[k].digest, 20);
				found = 1;
			}
	cr_assert(found, "%s: no x86_64 SHA-256 CodeDirectory", macho);
	tc_sigs_free(s, n);
}

static plist_t data_of(plist_t entry, const char *key)
{
	if (plist_get_node_type(entry) == PLIST_DATA)
		return !strcmp(key, "hash") ? entry : NULL;
	return plist_dict_get_item(entry, key);
}

static int data_eq(plist_t node, const uint8_t *want, size_t n)
{
	uint64_t len = 0;
	const char *p = node ? plist_get_data_ptr(node, &len) : NULL;
	return p && len == n && !memcmp(p, want, n);
}

struct cmp_stats {
	size_t entries, same, changed;
};

/*
 * One files / files2 table: the same paths as Apple's; an entry equals
 * Apple's exactly when the file it seals (or the nested code) is
 * byte-identical to Apple's; a changed entry holds the digests of our file
 * (OpenSSL) or our nested code's cdhash and ad-hoc requirement.
 */
static void compare_table(const char *what, plist_t apple, plist_t ours, const char *apple_base, const char *our_base,
			  struct cmp_stats *st)
{
	cr_assert(apple && ours, "%s: table missing", what);
	cr_expect_eq(plist_dict_get_size(ours), plist_dict_get_size(apple), "%s: %u entries, Apple has %u", what,
		     plist_dict_get_size(ours), plist_dict_get_size(apple));
	plist_dict_iter it = NULL;
	plist_dict_new_iter(apple, &it);
	for (;;) {
		char *key = NULL;
		plist_t a = NULL;
		plist_dict_next_item(apple, it, &key, &a);
		if (!a)
			break;
		plist_t o = plist_dict_get_item(ours, key);
		st->entries++;
		cr_expect(o, "%s: '%s' missing", what, key);
		char *ap = tb_join(apple_base, key), *op = tb_join(our_base, key);
		plist_t cd = plist_get_node_type(a) == PLIST_DICT ? plist_dict_get_item(a, "cdhash") : NULL;
		char *aexe = cd ? tb_join(ap, "Contents/MacOS/fileop") : NULL;
		int same_file = ts_same_file(ap, op);
		char why[256] = "";
		int equal = o && tb_plist_equal(a, o, why, sizeof(why));
		if (o && same_file) {
			cr_expect(equal, "%s: '%s': file unchanged, entry differs: %s", what, key, why);
			st->same += equal;
		} else if (o && !cd) {
			uint8_t h1[20], h2[32];
			bs_sha1_file(op, h1);
			bs_sha256_file(op, h2);
			cr_expect(!equal, "%s: '%s': file changed, entry still Apple's", what, key);
			cr_expect(data_eq(data_of(o, "hash"), h1, 20), "%s: '%s': hash is not SHA-1 of the file", what, key);
			if (!strcmp(what, "files2"))
				cr_expect(data_eq(data_of(o, "hash2"), h2, 32), "%s: '%s': hash2 is not SHA-256", what, key);
			else /* v1: SHA-1 only, the bare <data> form */
				cr_expect_eq(plist_get_node_type(o), PLIST_DATA, "%s: '%s': not bare data", what, key);
			st->changed++;
		} else if (o) {
			/* Nested code (here the bare tool MacOS/fileop): Apple's entry from Apple's file, ours from ours. */
			char *areq = adhoc_requirement(ap), *oreq = adhoc_requirement(op);
			uint8_t ach[20], och[20];
			x86_cdhash(ap, ach);
			x86_cdhash(op, och);
			cr_expect(data_eq(cd, ach, 20), "%s: '%s': Apple's cdhash is not its x86_64 SHA-256 cdhash", what, key);
			cr_expect_str_eq(plist_get_string_ptr(plist_dict_get_item(a, "requirement"), NULL), areq,
					 "%s: '%s': Apple's requirement is not the cdhash list computed here", what, key);
			cr_expect(data_eq(plist_dict_get_item(o, "cdhash"), och, 20), "%s: '%s': our cdhash", what, key);
			cr_expect_str_eq(plist_get_string_ptr(plist_dict_get_item(o, "requirement"), NULL), oreq,
					 "%s: '%s': our requirement", what, key);
			st->changed++;
			free(areq);
			free(oreq);
		}
		free(aexe);
		free(ap);
		free(op);
		free(key);
	}
	free(it);
}

/* A resealed CodeResources against Apple's: rules equal, tables compared entry by entry. */
static void compare_seal(const char *apple_base, const char *our_base, struct cmp_stats *st)
{
	char *ap = tb_join(apple_base, "_CodeSignature/CodeResources"), *op = tb_join(our_base, "_CodeSignature/CodeResources");
	plist_t a = tb_plist_file(ap), o = tb_plist_file(op);
	cr_expect_eq(plist_dict_get_size(o), plist_dict_get_size(a), "%s: top-level keys", op);
	char why[256];
	for (const char *const *k = (const char *const[]){ "rules", "rules2", NULL }; *k; k++)
		cr_expect(tb_plist_equal(plist_dict_get_item(a, *k), plist_dict_get_item(o, *k), why, sizeof(why)),
			  "%s: %s differ: %s", op, *k, why);
	for (const char *const *k = (const char *const[]){ "files", "files2", NULL }; *k; k++) {
		char what[64];
		snprintf(what, sizeof(what), "%s", *k);
		compare_table(what, plist_dict_get_item(a, *k), plist_dict_get_item(o, *k), apple_base, our_base, st);
	}
	plist_free(a);
	plist_free(o);
	free(ap);
	free(op);
}

Test(bsign_reseal, sparkle_nested_seals_equal_apples, .timeout = 120)
{
	char *dir = tb_copy_corpus(TB_SPARKLE);
	const char *apple = ts_corpus(TB_SPARKLE);
	struct cs_bsign_opts o = reseal_opts(1);
	struct cs_bsign_report rep;
	cr_assert_eq(cs_bsign_bundle(dir, &o, &rep), 0, "%s", ut_errmsg());

	/* Inside-out, each with Apple's identifier and flags (MANIFEST.tsv). */
	static const struct {
		const char *rel, *identifier;
		int is_bundle;
	} want[] = {
		{ AU "/Contents/MacOS/fileop", "fileop-555549447bd11a30f33c3bc896ebd0acf2f06b2c", 0 },
		{ AU, "org.sparkle-project.Sparkle.Autoupdate", 1 },
		{ "", "org.sparkle-project.Sparkle", 1 },
	};
	cr_assert_eq(rep.n, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_expect_str_eq(rep.v[i].rel, want[i].rel);
		cr_expect_str_eq(rep.v[i].sign.identifier, want[i].identifier);
		cr_expect_eq(rep.v[i].is_bundle, want[i].is_bundle);
		cr_expect_eq(rep.v[i].sign.nslices, 2);
		for (uint32_t k = 0; k < rep.v[i].sign.nslices; k++) {
			cr_expect_eq(rep.v[i].sign.slices[k].cd_flags, CS_ADHOC | CS_RUNTIME, "%s", rep.v[i].rel);
			cr_expect_eq(rep.v[i].sign.slices[k].nhash, 2, "%s: SHA-1 + SHA-256 as Apple's", rep.v[i].rel);
		}
		bs_expect_valid(rep.v[i].path, rep.v[i].is_bundle, NULL);
	}

	struct cmp_stats top = { 0 }, au = { 0 };
	char *a = tb_join(apple, "Versions/A"), *d = tb_join(dir, "Versions/A");
	compare_seal(a, d, &top);
	char *aa = tb_join(apple, AU "/Contents"), *da = tb_join(dir, AU "/Contents");
	compare_seal(aa, da, &au);
	/* What changed: the three re-signed binaries, and so Autoupdate's seal (sealed by hash in the top). */
	cr_expect_eq(top.changed, 2 * 3, "Sparkle: files + files2 entries changed");
	cr_expect_eq(au.changed, 1, "Autoupdate: only MacOS/fileop (nested) changed");

	size_t total = 0, same = bs_count_identical(a, d, &total);
	cr_log_info("Sparkle reseal (nested): %zu of %zu files byte-identical to Apple's; Sparkle seal %zu of %zu "
		    "entries equal, Autoupdate seal %zu of %zu",
		    same, total, top.same, top.entries, au.same, au.entries);
	cr_expect_eq(total - same, 5, "3 binaries and 2 CodeResources change, nothing else");

	cs_bsign_report_release(&rep);
	free(a);
	free(d);
	free(aa);
	free(da);
	tb_cleanup(dir);
}

/* Without nested code re-signed, each seal is Apple's byte for byte. */
Test(bsign_reseal, sparkle_one_bundle_at_a_time_gives_apples_bytes, .timeout = 120)
{
	const char *apple = ts_corpus(TB_SPARKLE);
	struct cs_bsign_opts o = reseal_opts(0);
	const char *units[] = { AU, "", "Versions/A" };
	const char *seals[] = { AU "/Contents", "Versions/A", "Versions/A" };
	for (size_t i = 0; i < 3; i++) {
		char *dir = tb_copy_corpus(TB_SPARKLE);
		char *path = units[i][0] ? tb_join(dir, units[i]) : strdup(dir);
		struct cs_bsign_report rep;
		cr_assert_eq(cs_bsign_bundle(path, &o, &rep), 0, "%s: %s", units[i], ut_errmsg());
		cr_expect_eq(rep.n, 1);
		char *rel = tb_join(seals[i], "_CodeSignature/CodeResources");
		char *ours = tb_join(dir, rel), *theirs = tb_join(apple, rel);
		cr_expect(ts_same_file(ours, theirs), "%s: CodeResources differs from Apple's", units[i][0] ? units[i] : ".");
		bs_expect_valid(path, 1, NULL);
		cs_bsign_report_release(&rep);
		free(rel);
		free(ours);
		free(theirs);
		free(path);
		tb_cleanup(dir);
	}
}

/* A certificate-signed app resealed ad-hoc: the seal does not depend on the signature. */
Test(bsign_reseal, signapple_seal_bytes_survive_an_adhoc_reseal)
{
	char *dir = tb_copy_corpus(TB_SIGNAPPLE);
	struct cs_bsign_opts o = reseal_opts(1);
	o.sign.host_arch = NULL;
	struct cs_bsign_report rep;
	cr_assert_eq(cs_bsign_bundle(dir, &o, &rep), 0, "%s", ut_errmsg());
	cr_assert_eq(rep.n, 1);
	cr_expect_str_eq(rep.v[0].sign.identifier, "com.achow101.signapple-test");
	/* Apple's flags were runtime; ad-hoc adds adhoc. */
	cr_expect_eq(rep.v[0].sign.slices[0].cd_flags, CS_ADHOC | CS_RUNTIME);
	char *ours = tb_join(dir, "Contents/_CodeSignature/CodeResources");
	cr_expect(ts_same_file(ours, ts_corpus(TB_SIGNAPPLE "/Contents/_CodeSignature/CodeResources")));
	bs_expect_valid(dir, 1, NULL);
	/* The ad-hoc designated requirement is the cdhash list of both slices (computed here). */
	char *exe = tb_join(dir, "Contents/MacOS/signapple-test");
	char *req = adhoc_requirement(exe);
	/* Host arm64 first: the list computed in file order (x86_64, arm64) holds the same four in another order. */
	cr_expect_eq(strlen(rep.v[0].requirement), strlen(req));
	for (char *p = req; (p = strstr(p, "H\"")); p += 2) {
		char hex[41];
		memcpy(hex, p + 2, 40);
		hex[40] = '\0';
		cr_expect(strstr(rep.v[0].requirement, hex), "cdhash %s not in '%s'", hex, rep.v[0].requirement);
	}
	free(req);
	free(exe);
	free(ours);
	cs_bsign_report_release(&rep);
	tb_cleanup(dir);
}

/* Bundles the signer cannot sign are refused before anything is written. */
Test(bsign_reseal, refused_bundles_are_left_untouched)
{
	static const struct {
		const char *rel, *why;
	} t[] = {
		{ TB_GROWL, "slice i386: only 64-bit little-endian slices can be signed" },
		{ TB_NOTIFIER, "LC_DYLIB_CODE_SIGN_DRS" },
	};
	for (size_t i = 0; i < 2; i++) {
		char *dir = tb_copy_corpus(t[i].rel), *copy = tb_copy_corpus(t[i].rel);
		char *before = bs_list_files(dir);
		struct cs_bsign_opts o = reseal_opts(1);
		struct cs_bsign_report rep;
		int rc = cs_bsign_bundle(dir, &o, &rep);
		cr_expect_eq(rc, UT_EUNSUPPORTED, "%s: rc %d", t[i].rel, rc);
		cr_expect(strstr(ut_errmsg(), t[i].why), "%s: %s", t[i].rel, ut_errmsg());
		cr_expect_eq(rep.n, 0);
		char *after = bs_list_files(dir);
		cr_expect_str_eq(after, before, "%s: files added or removed", t[i].rel);
		size_t total = 0;
		cr_expect_eq(bs_count_identical(copy, dir, &total), total, "%s: a file changed", t[i].rel);
		cs_bsign_report_release(&rep);
		free(before);
		free(after);
		tb_cleanup(dir);
		tb_cleanup(copy);
	}
}
