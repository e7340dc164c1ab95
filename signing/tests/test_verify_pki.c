/*
 * test_verify_pki.c - signatures made with the TEST-ONLY PKI (testdata/keys)
 * over lld-linked fixtures: kinds (Developer ID when the test root is a listed
 * anchor, other certificate when it is not), the team ID check, an anchor
 * requirement, no signer at all, agile ad-hoc signatures with entitlements,
 * unbound entitlements, and an embedded __info_plist bound in slot -1.  Plus
 * every lld-made signature in build/fixtures verifies as linker-signed.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_format.h"
#include "cs_pki.h"
#include "cs_verify.h"
#include "tcorpus.h"
#include "test_cms_util.h"
#include "test_verify_util.h"
#include "tsupport.h"
#include "ut_bytes.h"
#include "ut_err.h"

static const char ent[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			  "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
			  "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
			  "<plist version=\"1.0\">\n<dict>\n"
			  "\t<key>com.apple.security.cs.allow-jit</key>\n\t<true/>\n"
			  "\t<key>com.apple.security.hypervisor</key>\n\t<true/>\n"
			  "</dict>\n</plist>\n";

static struct cs_identity *devid(void)
{
	struct cs_identity *id = NULL;
	cr_assert_eq(cs_identity_load_p12(&id, tc_key("identity.p12"), tc_key("identity.pass"), tc_test_trust(0)), 0,
		     "%s", ut_errmsg());
	return id;
}

static uint8_t *sign_fixture(const char *name, const struct tv_sign_opts *o, size_t *n)
{
	size_t len;
	uint8_t *in = tc_read_file(ts_fixture(name), &len);
	uint8_t *out = tv_sign(in, len, o, n);
	free(in);
	return out;
}

Test(verify_pki, developer_id_kind_depends_on_the_listed_anchor, .timeout = 60)
{
	struct cs_identity *id = devid();
	struct tv_sign_opts o = { .identifier = "com.utmpatch.test", .team = "UTMTEST123", .flags = CS_RUNTIME,
				  .ent_xml = ent, .id = id,
				  .dr = "identifier \"com.utmpatch.test\" and anchor apple generic" };
	size_t n;
	uint8_t *d = sign_fixture("arm64-exe", &o, &n);
	struct cs_verify_result r;
	struct cs_verify_opts vo = { .trust = tc_test_trust(0) };
	tv_verify_mem(d, n, &vo, &r);
	const struct cs_verify_slice *vs = &r.slices[0];
	cr_assert(vs->valid, "%s", tv_first_failure(vs));
	cr_assert_eq(vs->kind, CS_VK_DEVELOPER_ID, "%s", cs_verify_kind_name(vs->kind));
	cr_assert_str_eq(vs->team_id, "UTMTEST123");
	cr_assert_eq(vs->cms.chain.anchor, CS_ANCHOR_LISTED);
	cr_assert_eq(vs->cds[0].special_ok, (1u << 2) | (1u << 5) | (1u << 7));
	cs_verify_result_release(&r);
	/* Without the anchor: still a valid signature (codesign's implicit anchors), another kind. */
	tv_verify_mem(d, n, NULL, &r);
	cr_assert(r.valid, "%s", tv_first_failure(&r.slices[0]));
	cr_assert_eq(r.slices[0].kind, CS_VK_OTHER_CERT);
	cr_assert_eq(r.slices[0].cms.chain.anchor, CS_ANCHOR_OTHER);
	cs_verify_result_release(&r);
	/* ... unless an anchor is required. */
	vo.trust = NULL;
	vo.flags = CS_VERIFY_REQUIRE_ANCHOR;
	tv_verify_mem(d, n, &vo, &r);
	cr_assert(!r.valid);
	cr_assert_eq(r.slices[0].verdict, CS_PROB_TRUST);
	cs_verify_result_release(&r);
	free(d);
	cs_identity_free(id);
}

Test(verify_pki, team_identifier_must_match_the_leaf, .timeout = 60)
{
	struct cs_identity *id = devid();
	struct tv_sign_opts o = { .identifier = "com.utmpatch.test", .team = "WRONGTEAM1", .id = id };
	size_t n;
	uint8_t *d = sign_fixture("arm64-dylib", &o, &n);
	struct cs_verify_result r;
	struct cs_verify_opts vo = { .trust = tc_test_trust(0) };
	tv_verify_mem(d, n, &vo, &r);
	cr_assert(!r.valid);
	cr_assert_eq(r.slices[0].verdict, CS_PROB_TEAM, "%s", cs_problem_text(r.slices[0].verdict));
	cr_assert(strstr(tv_first_failure(&r.slices[0]), "'WRONGTEAM1' is not the signing certificate's 'UTMTEST123'"),
		  "%s", tv_first_failure(&r.slices[0]));
	cs_verify_result_release(&r);
	free(d);
	cs_identity_free(id);
}

Test(verify_pki, self_signed_identity_is_other_certificate, .timeout = 60)
{
	struct cs_identity *id = NULL;
	cr_assert_eq(cs_identity_load_pem(&id, tc_key("other.key"), tc_key("other.pem"), NULL, NULL, NULL), 0, "%s",
		     ut_errmsg());
	struct tv_sign_opts o = { .identifier = "com.utmpatch.other", .id = id, .hash_types = { 1, 2 } };
	size_t n;
	uint8_t *d = sign_fixture("arm64-exe", &o, &n);
	struct cs_verify_result r;
	tv_verify_mem(d, n, NULL, &r);
	cr_assert(r.valid, "%s", tv_first_failure(&r.slices[0]));
	cr_assert_eq(r.slices[0].kind, CS_VK_OTHER_CERT);
	cr_assert_eq(r.slices[0].ncd, 2);
	cr_assert_eq(r.slices[0].cms.ncdhashes_plist, 2);
	cs_verify_result_release(&r);
	free(d);
	cs_identity_free(id);
}

Test(verify_pki, neither_adhoc_nor_cms_is_not_signed)
{
	struct tv_sign_opts o = { .identifier = "x" };
	size_t n;
	uint8_t *d = sign_fixture("arm64-exe", &o, &n);
	struct cs_verify_result r;
	tv_verify_mem(d, n, NULL, &r);
	cr_assert_eq(r.slices[0].verdict, CS_PROB_UNSIGNED);
	cr_assert_eq(r.slices[0].kind, CS_VK_NO_SIGNER);
	cr_assert(strstr(tv_first_failure(&r.slices[0]), "the CMS blob is empty"));
	cs_verify_result_release(&r);
	free(d);
	o.no_cms_blob = 1;
	d = sign_fixture("arm64-exe", &o, &n);
	tv_verify_mem(d, n, NULL, &r);
	cr_assert_eq(r.slices[0].verdict, CS_PROB_UNSIGNED);
	cs_verify_result_release(&r);
	free(d);
}

Test(verify_pki, agile_adhoc_with_entitlements_and_unbound_entitlements)
{
	struct tv_sign_opts o = { .identifier = "com.utmpatch.adhoc", .flags = CS_ADHOC | CS_RUNTIME, .ent_xml = ent,
				  .hash_types = { 1, 2 } };
	size_t n;
	uint8_t *d = sign_fixture("arm64-exe", &o, &n);
	struct cs_verify_result r;
	tv_verify_mem(d, n, NULL, &r);
	const struct cs_verify_slice *vs = &r.slices[0];
	cr_assert(vs->valid, "%s", tv_first_failure(vs));
	cr_assert_eq(vs->kind, CS_VK_ADHOC);
	cr_assert_eq(vs->ncd, 2);
	cr_assert_eq(vs->best, 1);
	for (unsigned i = 0; i < 2; i++)
		cr_assert_eq(vs->cds[i].special_ok, (1u << 2) | (1u << 5) | (1u << 7));
	cs_verify_result_release(&r);
	/* nSpecialSlots of the slot-0 CD cut to 2: the entitlement blobs are no longer bound by it. */
	uint8_t m[4];
	ut_put_be32(m, CSMAGIC_CODEDIRECTORY);
	size_t cd = tv_find(d, n, m, 4);
	ut_put_be32(d + cd + 24, 2);
	tv_verify_mem(d, n, NULL, &r);
	vs = &r.slices[0];
	cr_assert_eq(vs->verdict, CS_PROB_FORMAT, "%s", cs_problem_text(vs->verdict));
	cr_assert(strstr(tv_first_failure(vs), "the entitlements blob is not bound by the sha1 CodeDirectory"), "%s",
		  tv_first_failure(vs));
	cs_verify_result_release(&r);
	free(d);
}

Test(verify_pki, embedded_info_plist_is_slot_1, .timeout = 60)
{
	char *dir = ts_tmpdir();
	char cmd[4096];
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && printf '<plist version=\"1.0\"><dict><key>CFBundleIdentifier</key>"
		 "<string>com.utmpatch.tool</string></dict></plist>\\n' > Info.plist && "
		 "echo 'int main(void){return 0;}' > m.c && clang-14 -target arm64-apple-macos11 -c m.c -o m.o && "
		 "ld64.lld-14 -arch arm64 -platform_version macos 11.0 12.0 -sectcreate __TEXT __info_plist Info.plist "
		 "-o tool m.o '%s'",
		 dir, ts_root("testdata/recipes/src/libSystem.tbd"));
	char *err = NULL;
	cr_assert_eq(ts_sh(cmd, NULL, &err), 0, "%s", err);
	free(err);
	size_t len, il;
	uint8_t *in = tc_read_file(ts_path(dir, "tool"), &len);
	uint8_t *info = tc_read_file(ts_path(dir, "Info.plist"), &il);
	struct tv_sign_opts o = { .identifier = "com.utmpatch.tool", .flags = CS_ADHOC, .info_plist = info,
				  .info_plist_len = il };
	size_t n;
	uint8_t *d = tv_sign(in, len, &o, &n);
	struct cs_verify_result r;
	tv_verify_mem(d, n, NULL, &r);
	cr_assert(r.valid, "%s", tv_first_failure(&r.slices[0]));
	cr_assert_eq(r.slices[0].cds[0].special_ok, (1u << 1) | (1u << 2));
	cr_assert_eq(r.slices[0].nfindings, 0);
	cs_verify_result_release(&r);
	/* A changed plist byte: codesign's first complaint is the Info.plist (before the pages). */
	size_t at = tv_find(d, n, "com.utmpatch.tool</string>", 26);
	d[at] ^= 0x01;
	tv_verify_mem(d, n, NULL, &r);
	cr_assert_eq(r.slices[0].verdict, CS_PROB_INFO_PLIST);
	cr_assert_eq(r.slices[0].cds[0].pages_bad, 1);
	cs_verify_result_release(&r);
	free(d);
	free(in);
	free(info);
	ts_rmtree(dir);
	free(dir);
}

Test(verify_pki, lld_signatures_are_linker_signed)
{
	DIR *dp = opendir(ts_fixture(""));
	cr_assert_not_null(dp);
	unsigned n = 0;
	struct dirent *de;
	while ((de = readdir(dp))) {
		if (strncmp(de->d_name, "arm64", 5) != 0)
			continue;
		size_t len;
		uint8_t *d = tc_read_file(ts_fixture(de->d_name), &len);
		struct cs_verify_result r;
		tv_verify_mem(d, len, NULL, &r);
		cr_assert(r.valid, "%s: %s", de->d_name, tv_first_failure(&r.slices[0]));
		cr_assert_eq(r.slices[0].kind, CS_VK_LINKER, "%s", de->d_name);
		cr_assert_eq(r.slices[0].cd_flags, CS_ADHOC | CS_LINKER_SIGNED);
		cr_assert_str_eq(r.slices[0].identifier, de->d_name);
		cs_verify_result_release(&r);
		free(d);
		n++;
	}
	closedir(dp);
	cr_assert_geq(n, 9);
}

/*
 * The spec quotes a real `codesign -dv` line: "CodeDirectory v=20400 size=939 flags=0x2(adhoc)
 * hashes=23+2" (= 88 + a 51-byte identifier + 25 * 32).  A file of that shape (150 exported
 * functions and 64 KiB of __DATA put LC_CODE_SIGNATURE at 0x16870: 23 pages), signed the way
 * codesign -s - does, gets exactly that line from `utmpatch audit`.
 */
Test(verify_pki, audit_prints_codesigns_quoted_line, .timeout = 60)
{
	char *dir = ts_tmpdir();
	char cmd[4096];
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && seq 0 149 | awk '{printf \"int exported_function_with_a_long_name_%%04d(void){return %%d;}\\n\", $1, $1}'"
		 " > m.c && echo 'int main(void){return 0;}' >> m.c && clang-14 -target arm64-apple-macos11 -c m.c -o m.o"
		 " && head -c 65536 /dev/zero > pad && ld64.lld-14 -arch arm64 -platform_version macos 11.0 12.0 "
		 "-sectcreate __DATA __pad pad -o big m.o '%s'",
		 dir, ts_root("testdata/recipes/src/libSystem.tbd"));
	char *err = NULL;
	cr_assert_eq(ts_sh(cmd, NULL, &err), 0, "%s", err);
	free(err);
	size_t len, n;
	uint8_t *in = tc_read_file(ts_path(dir, "big"), &len);
	char ident[51];
	memset(ident, 'a', 50);
	ident[50] = '\0';
	struct tv_sign_opts o = { .identifier = ident, .flags = CS_ADHOC };
	uint8_t *d = tv_sign(in, len, &o, &n);
	char *out_path = ts_path(dir, "signed");
	FILE *f = fopen(out_path, "wb");
	cr_assert_not_null(f);
	fwrite(d, 1, n, f);
	fclose(f);
	char *argv[] = { (char *)ts_bin(), "audit", out_path, NULL };
	char *out = NULL;
	cr_assert_eq(ts_run(argv, &out, NULL), 0, "%s", out);
	cr_assert(strstr(out, "\nCodeDirectory v=20400 size=939 flags=0x2(adhoc) hashes=23+2 location=embedded\n"), "%s",
		  out);
	cr_assert(strstr(out, "\nSignature=adhoc\n") && strstr(out, "\nInternal requirements count=0 size=12\n"), "%s",
		  out);
	free(out);
	free(d);
	free(in);
	ts_rmtree(dir);
	free(dir);
}
