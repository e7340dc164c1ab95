/*
 * test_install_crash.c - crash safety and concurrency of install: killed
 * (SIGKILL, UTMPATCH_FAIL_AFTER=N) after every journaled step, `rollback`
 * returns the bundle to byte-identical pristine and the backups are never
 * lost; a second run while one holds the bundle's lock is refused; a
 * QEMULauncher of the bundle that is running is refused; an install over a
 * bundle changed behind utmpatch's back is refused unless --force;
 * re-installing over an install works and one rollback still returns to
 * pristine; --minimal touches the framework only.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tdemo.h"
#include "test_install_util.h"
#include "tsupport.h"
#include "tsupport_fs.h"
#include "ut_err.h"
#include "ut_txn.h"

#define LAUNCHER "Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMULauncher.app/Contents/MacOS/QEMULauncher"

static void expect_status(const struct scratch *s, const char *state)
{
	struct tsupport_out o;
	ui_run(&o, NULL, "status", "--app", s->app, "--state-dir", s->state, NULL);
	char *want = tsupport_printf("state: %s\n", state);
	cr_expect(strstr(o.out, want), "status: want %s: %s", state, o.out);
	free(want);
	tsupport_out_release(&o);
}

Test(install_crash, killed_after_every_journaled_step_then_rollback_is_pristine, .timeout = 900)
{
	struct scratch s;
	scratch_make(&s);
	unsigned n;
	int completed = 0;
	for (n = 1; n < 64 && !completed; n++) {
		char env_fail[64];
		snprintf(env_fail, sizeof(env_fail), "UTMPATCH_FAIL_AFTER=%u", n);
		const char *env[] = { env_fail, NULL };
		struct tsupport_out o;
		int st = install(&o, &s, s.dylib, env, NULL);
		if (st == 0) {
			completed = 1;
		} else {
			cr_expect_eq(st, 128 + SIGKILL, "N=%u: exit %d: %s", n, st, o.err);
			expect_status(&s, "interrupted");
			/* the backups are there: every blob named by the journal's BACKUP records exists */
			cr_expect_eq(sh_status("cd '%s'/bundles/* && for h in $(sed -n 's/.* BACKUP .*sha256=\\([0-9a-f]*\\).*/\\1/p' "
					       "journal); do [ -s pristine/$h.z ] || exit 1; done",
					       s.state),
				     0, "N=%u: a backup named in the journal is missing", n);
			/* a second install is refused while the journal is there */
			struct tsupport_out o2;
			cr_expect_eq(install(&o2, &s, s.dylib, NULL, NULL), 3, "N=%u", n);
			cr_expect(strstr(o2.err, "did not finish") && strstr(o2.err, "run 'utmpatch rollback'"), "%s", o2.err);
			tsupport_out_release(&o2);
		}
		tsupport_out_release(&o);
		/* rollback (also killed once, in its own journal, for odd N) */
		if (n % 2) {
			const char *env1[] = { "UTMPATCH_FAIL_AFTER=1", NULL };
			ui_run(&o, env1, "rollback", "--app", s.app, "--state-dir", s.state, NULL);
			tsupport_out_release(&o);
		}
		st = ui_run(&o, NULL, "rollback", "--app", s.app, "--state-dir", s.state, NULL);
		cr_expect_eq(st, 0, "N=%u: rollback: %s%s", n, o.out, o.err);
		tsupport_out_release(&o);
		char what[64];
		snprintf(what, sizeof(what), "killed after record %u, then rollback", n);
		scratch_expect_pristine(&s, what);
		expect_status(&s, "pristine");
	}
	cr_expect(completed, "install never completed");
	/* BEGIN + 6 BACKUP + 6 STEP + VERIFIED + COMMIT */
	cr_expect_eq(n - 1, 16u, "the install completed at N=%u, expected 16 (15 records)", n - 1);
	scratch_free(&s);
}

Test(install_crash, a_second_concurrent_run_is_refused, .timeout = 120)
{
	struct scratch s;
	scratch_make(&s);
	/* This process holds the bundle's transaction (lock + journal). */
	struct ut_txn *t = NULL;
	struct ut_txn_opts to = { .what = "test holds the lock" };
	cr_assert_eq(ut_txn_begin(&t, s.state, s.app, &to), 0, "%s", ut_errmsg());
	struct tsupport_out o;
	int st = install(&o, &s, s.dylib, NULL, NULL);
	cr_expect_eq(st, 3, "%s%s", o.out, o.err);
	char *want = tsupport_printf("another utmpatch (pid %ld) is working on", (long)getpid());
	cr_expect(strstr(o.err, want), "%s", o.err);
	tsupport_out_release(&o);
	cr_assert_eq(ut_txn_abort(t), 0, "%s", ut_errmsg());
	ut_txn_free(t);
	scratch_expect_pristine(&s, "second concurrent run");
	/* and with the lock gone, it works */
	cr_expect_eq(install(&o, &s, s.dylib, NULL, NULL), 0, "%s", o.err);
	tsupport_out_release(&o);
	free(want);
	scratch_free(&s);
}

Test(install_crash, a_running_launcher_of_the_bundle_is_refused, .timeout = 120)
{
	struct scratch s;
	scratch_make(&s);
	/* Stand-in: a program running from the launcher's path (/bin/sleep copied there). */
	char *lp = tsupport_printf("%s/%s", s.app, LAUNCHER);
	char *saved = tsupport_printf("%s/launcher.saved", s.dir);
	cr_assert_eq(ts_copy(lp, saved), 0);
	cr_assert_eq(sh_status("cp /bin/sleep '%s' && chmod 755 '%s'", lp, lp), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		execl(lp, "QEMULauncher", "30", (char *)NULL);
		_exit(127);
	}
	usleep(200000);
	struct tsupport_out o;
	int st = install(&o, &s, s.dylib, NULL, NULL);
	cr_expect_eq(st, 3);
	char *want = tsupport_printf("QEMULauncher of this bundle is running (pid %ld)", (long)pid);
	cr_expect(strstr(o.err, want), "%s", o.err);
	tsupport_out_release(&o);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_eq(sh_status("cp '%s' '%s'", saved, lp), 0);
	scratch_expect_pristine(&s, "running launcher");
	free(want), free(lp), free(saved);
	scratch_free(&s);
}

Test(install_crash, drifted_bundle_refused_unless_force, .timeout = 180)
{
	struct scratch s;
	scratch_make(&s);
	struct tsupport_out o;
	cr_assert_eq(install(&o, &s, s.dylib, NULL, NULL), 0, "%s", o.err);
	tsupport_out_release(&o);
	/* someone changes a file utmpatch wrote */
	cr_assert_eq(sh_status("printf x >> '%s/Contents/MacOS/UTM'", s.app), 0);
	expect_status(&s, "drifted");
	char before[65], after[65];
	tdemo_tree_hash(s.app, before);
	cr_expect_eq(install(&o, &s, s.dylib, NULL, NULL), 3);
	cr_expect(strstr(o.err, "the bundle changed since utmpatch last wrote it") && strstr(o.err, "Contents/MacOS/UTM"),
		  "%s", o.err);
	tsupport_out_release(&o);
	tdemo_tree_hash(s.app, after);
	cr_expect_str_eq(after, before, "a refused install changed the bundle");
	/* rollback refuses too, --force overwrites the change: back to pristine */
	cr_expect_eq(ui_run(&o, NULL, "rollback", "--app", s.app, "--state-dir", s.state, NULL), 3);
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "rollback", "--force", "--app", s.app, "--state-dir", s.state, NULL), 0, "%s", o.err);
	tsupport_out_release(&o);
	scratch_expect_pristine(&s, "rollback --force of a drifted bundle");
	scratch_free(&s);
}

Test(install_crash, reinstall_then_one_rollback_is_pristine, .timeout = 180)
{
	struct scratch s;
	scratch_make(&s);
	struct tsupport_out o;
	cr_assert_eq(install(&o, &s, s.dylib, NULL, NULL), 0, "%s", o.err);
	tsupport_out_release(&o);
	/* the universal fixture next: both slices from the dylib now */
	char *fat = tsupport_printf("%s/fat/libqemu-aarch64-softmmu.dylib", s.dir);
	cr_assert_eq(sh_status("mkdir -p '%s/fat' && cp '%s' '%s'", s.dir, ts_fixture("qemu-fat.dylib"), fat), 0);
	cr_assert_eq(install(&o, &s, fat, NULL, NULL), 0, "%s", o.err);
	/* the launcher already carries disable-library-validation: only the framework and UTM.app change */
	cr_expect(strstr(o.out, "1. framework") && strstr(o.out, "2. reseal    .:") && !strstr(o.out, "3. "), "%s", o.out);
	tsupport_out_release(&o);
	expect_status(&s, "patched");
	cr_expect_eq(ui_run(&o, NULL, "rollback", "--app", s.app, "--state-dir", s.state, NULL), 0, "%s", o.err);
	tsupport_out_release(&o);
	scratch_expect_pristine(&s, "install, re-install, rollback");
	free(fat);
	scratch_free(&s);
}

Test(install_crash, minimal_touches_the_framework_only, .timeout = 180)
{
	struct scratch s;
	scratch_make(&s);
	struct tsupport_out o;
	cr_assert_eq(install(&o, &s, s.dylib, NULL, "--minimal", NULL), 0, "%s%s", o.out, o.err);
	cr_expect(strstr(o.out, "--minimal: QEMULauncher enforces library validation"), "%s", o.out);
	cr_expect(strstr(o.out, "--minimal: UTM.app's seal still records the old"), "%s", o.out);
	tsupport_out_release(&o);
	cr_expect_eq(sh_status("diff -rq --no-dereference '%s' '%s' | grep -v qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu | "
			       "grep -q .",
			       tdemo_app(), s.app),
		     1, "--minimal changed more than the framework binary");
	/* the framework verifies on its own; UTM.app does not (its seal records the old framework) */
	char *fw = tsupport_printf("%s/Contents/Frameworks/qemu-aarch64-softmmu.framework", s.app);
	cr_expect_eq(ui_run(&o, NULL, "verify", "--deep", "--strict", fw, NULL), 0, "%s%s", o.out, o.err);
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "verify", "--deep", "--strict", "--anchors", ts_root("testdata/keys/roots.tsv"), s.app,
			    NULL),
		     1);
	cr_expect(strstr(o.out, "qemu-aarch64-softmmu.framework"), "%s", o.out);
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "rollback", "--app", s.app, "--state-dir", s.state, NULL), 0, "%s", o.err);
	tsupport_out_release(&o);
	scratch_expect_pristine(&s, "--minimal then rollback");
	free(fw);
	scratch_free(&s);
}
