/*
 * test_install_ents.c - `utmpatch entitlements` and `--restore`, and signing
 * with an identity and a provisioning profile.  The "codesign --deep"
 * mistake is made with `utmpatch sign --nested` and every component's
 * entitlements removed; entitlements are read back by Python from the
 * signature bytes; expected sets are UTM's (utm-domain §2.2), written here.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdemo.h"
#include "test_install_util.h"
#include "tsupport.h"
#include "tsupport_fs.h"

#define HELPER_DIR "Contents/XPCServices/QEMUHelper.xpc"
#define HELPER HELPER_DIR "/Contents/MacOS/QEMUHelper"
#define LAUNCHER_DIR HELPER_DIR "/Contents/MacOS/QEMULauncher.app"
#define LAUNCHER LAUNCHER_DIR "/Contents/MacOS/QEMULauncher"

static const char LAUNCHER_UNSIGNED[] = "com.apple.security.app-sandbox com.apple.security.cs.allow-jit "
					"com.apple.security.cs.disable-library-validation com.apple.security.hypervisor "
					"com.apple.security.inherit";

/* The mistake: every component re-signed ad hoc, inside-out, without entitlements. */
static void strip_all(const struct scratch *s, const char *only)
{
	if (only)
		cr_assert_eq(sh_status("'%s' sign '%s' --nested --component-entitlements '%s=-' >/dev/null", ts_bin(),
				       s->app, only),
			     0);
	else
		cr_assert_eq(sh_status("'%s' sign '%s' --nested --component-entitlements '%s=-' "
				       "--component-entitlements '%s=-' --component-entitlements 'Contents/MacOS/utmctl=-' "
				       ">/dev/null",
				       ts_bin(), s->app, LAUNCHER_DIR, HELPER_DIR),
			     0);
}

static char *keys_of(const struct scratch *s, const char *rel)
{
	char *p = tsupport_printf("%s/%s", s->app, rel);
	char *k = py_entitlement_keys(p, "arm64");
	free(p);
	return k;
}

Test(install_ents, report_on_the_pristine_demo, .timeout = 120)
{
	struct scratch s;
	scratch_make(&s);
	struct tsupport_out o;
	int st = ui_run(&o, NULL, "entitlements", "--app", s.app, NULL);
	cr_expect_eq(st, 0, "%s%s", o.out, o.err);
	cr_expect(strstr(o.out, "every component has the entitlements UTM needs"), "%s", o.out);
	tsupport_out_release(&o);
	st = ui_run(&o, NULL, "entitlements", "--app", s.app, "--json", NULL);
	cr_expect_eq(st, 0);
	expect_schema_valid(o.out, o.outlen, s.dir, "entitlements");
	tsupport_out_release(&o);
	scratch_expect_pristine(&s, "entitlements report");
	scratch_free(&s);
}

Test(install_ents, restore_after_a_codesign_deep_mistake, .timeout = 240)
{
	struct scratch s;
	scratch_make(&s);
	strip_all(&s, NULL);
	char *k = keys_of(&s, LAUNCHER);
	cr_assert_str_eq(k, "", "the mistake did not strip the launcher's entitlements");
	free(k);
	char stripped[65], fw_before[65];
	tdemo_tree_hash(s.app, stripped);
	char *fws = tsupport_printf("%s/Contents/Frameworks", s.app);
	tdemo_tree_hash(fws, fw_before);

	struct tsupport_out o;
	int st = ui_run(&o, NULL, "entitlements", "--app", s.app, NULL);
	cr_expect_eq(st, 1, "%s", o.out);
	cr_expect(strstr(o.out, "missing required com.apple.security.hypervisor"), "%s", o.out);
	cr_expect(strstr(o.out, "lack entitlements UTM needs: run 'utmpatch entitlements --restore'"), "%s", o.out);
	tsupport_out_release(&o);

	/* dry run first: nothing changes */
	st = ui_run(&o, NULL, "entitlements", "--restore", "--dry-run", "--app", s.app, "--state-dir", s.state, NULL);
	cr_expect_eq(st, 0, "%s%s", o.out, o.err);
	cr_expect(strstr(o.out, "dry run: nothing was changed"), "%s", o.out);
	tsupport_out_release(&o);
	char now[65];
	tdemo_tree_hash(s.app, now);
	cr_expect_str_eq(now, stripped);

	st = ui_run(&o, NULL, "entitlements", "--restore", "--app", s.app, "--state-dir", s.state, "--anchors",
		    ts_root("testdata/keys/roots.tsv"), "--json", NULL);
	cr_expect_eq(st, 0, "%s%s", o.out, o.err);
	expect_schema_valid(o.out, o.outlen, s.dir, "restore");
	tsupport_out_release(&o);
	/* UTM's unsigned sets: the launcher's exactly (no vm.networking, disable-library-validation) */
	k = keys_of(&s, LAUNCHER);
	cr_expect_str_eq(k, LAUNCHER_UNSIGNED);
	free(k);
	k = keys_of(&s, HELPER);
	cr_expect_str_eq(k, "com.apple.security.app-sandbox com.apple.security.application-groups "
			    "com.apple.security.cs.allow-jit com.apple.security.device.audio-input "
			    "com.apple.security.files.bookmarks.app-scope com.apple.security.hypervisor "
			    "com.apple.security.network.client com.apple.security.network.server");
	free(k);
	k = keys_of(&s, "Contents/MacOS/utmctl");
	cr_expect_str_eq(k, "com.apple.security.app-sandbox com.apple.security.application-groups "
			    "com.apple.security.network.client com.apple.security.scripting-targets");
	free(k);
	/* no framework was touched by the restore */
	char fw_after[65];
	tdemo_tree_hash(fws, fw_after);
	cr_expect_str_eq(fw_after, fw_before, "the restore changed Contents/Frameworks");
	st = ui_run(&o, NULL, "entitlements", "--app", s.app, NULL);
	cr_expect_eq(st, 0, "%s", o.out);
	tsupport_out_release(&o);
	st = ui_run(&o, NULL, "verify", "--deep", "--strict", s.app, NULL);
	cr_expect_eq(st, 0, "%s%s", o.out, o.err);
	tsupport_out_release(&o);
	/* rollback returns to what the bundle was before utmpatch touched it: the stripped state */
	st = ui_run(&o, NULL, "rollback", "--app", s.app, "--state-dir", s.state, NULL);
	cr_expect_eq(st, 0, "%s", o.err);
	tsupport_out_release(&o);
	tdemo_tree_hash(s.app, now);
	cr_expect_str_eq(now, stripped);
	free(fws);
	scratch_free(&s);
}

Test(install_ents, identity_with_a_profile_keeps_the_restricted_key_it_grants, .timeout = 240)
{
	struct scratch s;
	scratch_make(&s);
	/* Only QEMUHelper loses its entitlements; the test profile grants vm.networking to com.utmapp.QEMUHelper. */
	strip_all(&s, HELPER_DIR);
	struct tsupport_out o;
	int st = ui_run(&o, NULL, "entitlements", "--restore", "--app", s.app, "--state-dir", s.state, "--identity",
			ts_root("testdata/keys/identity.p12"), "--password-file", ts_root("testdata/keys/identity.pass"),
			"--anchors", ts_root("testdata/keys/roots.tsv"), "--profile",
			ts_root("testdata/keys/embedded.provisionprofile"), NULL);
	cr_expect_eq(st, 0, "%s%s", o.out, o.err);
	cr_expect(strstr(o.out, "keep com.apple.vm.networking (granted by the provisioning profile)"), "%s", o.out);
	tsupport_out_release(&o);
	char *k = keys_of(&s, HELPER);
	cr_expect(strstr(k, "com.apple.vm.networking"), "the helper lost vm.networking: %s", k);
	free(k);
	/* the profile is sealed: a deep verify with the test anchor passes */
	st = ui_run(&o, NULL, "verify", "--deep", "--strict", "--anchors", ts_root("testdata/keys/roots.tsv"), s.app, NULL);
	cr_expect_eq(st, 0, "%s%s", o.out, o.err);
	tsupport_out_release(&o);
	/* without the profile the same restore drops it */
	cr_expect_eq(ui_run(&o, NULL, "rollback", "--app", s.app, "--state-dir", s.state, NULL), 0, "%s", o.err);
	tsupport_out_release(&o);
	st = ui_run(&o, NULL, "entitlements", "--restore", "--dry-run", "--app", s.app, "--state-dir", s.state,
		    "--identity", ts_root("testdata/keys/identity.p12"), "--password-file",
		    ts_root("testdata/keys/identity.pass"), "--anchors", ts_root("testdata/keys/roots.tsv"), NULL);
	cr_expect_eq(st, 0, "%s%s", o.out, o.err);
	cr_expect(strstr(o.out, "drop com.apple.vm.networking (restricted: needs a provisioning profile"), "%s", o.out);
	tsupport_out_release(&o);
	scratch_free(&s);
}

Test(install_ents, install_with_an_identity_of_the_frameworks_team, .timeout = 240)
{
	struct scratch s;
	scratch_make(&s);
	struct tsupport_out o;
	/* The test identity's team (UTMTEST123) is the demo's: library validation passes, the launcher stays. */
	int st = install(&o, &s, s.dylib, NULL, "--identity", ts_root("testdata/keys/identity.p12"), "--password-file",
			 ts_root("testdata/keys/identity.pass"), NULL);
	cr_expect_eq(st, 0, "%s%s", o.out, o.err);
	cr_expect(strstr(o.out, "1. framework") && strstr(o.out, "2. reseal    .:") && !strstr(o.out, "3. "), "%s", o.out);
	cr_expect(strstr(o.out, "identity 'Developer ID Application: utmpatch Test (UTMTEST123)' (team UTMTEST123)"),
		  "%s", o.out);
	tsupport_out_release(&o);
	char *l = tsupport_printf("%s/%s", s.app, LAUNCHER), *pl = tsupport_printf("%s/%s", tdemo_app(), LAUNCHER);
	cr_expect(ts_same_file(l, pl), "the launcher changed");
	st = ui_run(&o, NULL, "verify", "--deep", "--strict", "--anchors", ts_root("testdata/keys/roots.tsv"), s.app, NULL);
	cr_expect_eq(st, 0, "%s%s", o.out, o.err);
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "rollback", "--app", s.app, "--state-dir", s.state, NULL), 0, "%s", o.err);
	tsupport_out_release(&o);
	scratch_expect_pristine(&s, "identity install then rollback");
	free(l), free(pl);
	scratch_free(&s);
}

/* entitlements --restore is one journaled transaction too: killed after every record, rollback returns the bundle
 * to its bytes before the restore; the completed restore passes the CI gate. */
Test(install_ents, restore_killed_after_every_step_then_rollback, .timeout = 900)
{
	struct scratch s;
	scratch_make(&s);
	strip_all(&s, NULL);
	char stripped[65];
	tdemo_tree_hash(s.app, stripped);
	const char *anchors = ts_root("testdata/keys/roots.tsv");
	int completed = 0;
	unsigned n;
	for (n = 1; n < 64 && !completed; n++) {
		char env_fail[64];
		snprintf(env_fail, sizeof(env_fail), "UTMPATCH_FAIL_AFTER=%u", n);
		const char *env[] = { env_fail, NULL };
		struct tsupport_out o;
		int st = ui_run(&o, env, "entitlements", "--restore", "--app", s.app, "--state-dir", s.state, "--anchors",
				anchors, NULL);
		tsupport_out_release(&o);
		if (st == 0) {
			completed = 1;
			break;
		}
		cr_expect_eq(st, 128 + 9, "N=%u: exit %d (expected SIGKILL)", n, st);
		st = ui_run(&o, NULL, "rollback", "--app", s.app, "--state-dir", s.state, NULL);
		cr_expect_eq(st, 0, "N=%u: rollback: %s%s", n, o.out, o.err);
		tsupport_out_release(&o);
		char now[65];
		tdemo_tree_hash(s.app, now);
		cr_expect_str_eq(now, stripped, "N=%u: after rollback the bundle is not as before the restore", n);
	}
	cr_assert(completed, "the restore never completed");
	cr_expect_gt(n, 3u, "the restore journaled only %u records", n - 1);
	cr_log_info("restore: completed at UTMPATCH_FAIL_AFTER=%u", n);
	struct tsupport_out o;
	int st = ui_run(&o, NULL, "verify", "--app", s.app, "--anchors", anchors, NULL);
	cr_expect_eq(st, 0, "the gate after the restore: %s%s", o.out, o.err);
	tsupport_out_release(&o);
	scratch_free(&s);
}
