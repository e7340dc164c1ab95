/*
 * test_txn_crash.c - killed at every journaled step (SIGKILL through the
 * fail_after hook, in a forked child), the bundle always comes back.
 *
 * Oracles: the child's wait status (killed by SIGKILL, or exited 0 when N is
 * past the last record); the bundle against its `cp -a` copy (diff -r, find
 * -printf); every backup journaled so far decompressed by Python's zlib and
 * compared with the original file, named by OpenSSL's SHA-256.
 */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_txn_util.h"
#include "tsupport.h"
#include "tsupport_fs.h"
#include "ut_err.h"
#include "ut_state.h"
#include "ut_txn.h"

static struct tx_env env;

static void setup(void) { tx_env_init(&env, "crash"); }
static void teardown(void) { tx_env_release(&env); }

TestSuite(ut_txn_crash, .init = setup, .fini = teardown, .timeout = 300);

static int child_txn(void *ctx, unsigned n)
{
	(void)ctx;
	return tx_run(&env, n);
}

static int child_rollback(void *ctx, unsigned m)
{
	(void)ctx;
	struct ut_rollback_opts o = { .fail_after = m };
	return ut_rollback(NULL, env.state, env.bundle, &o);
}

static int child_recover(void *ctx, unsigned m)
{
	(void)ctx;
	struct ut_rollback_opts o = { .fail_after = m };
	return ut_state_recover(NULL, env.state, env.bundle, &o);
}

static void expect_killed(int status, const char *what, unsigned n)
{
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "%s with fail_after=%u: status 0x%x, not SIGKILL",
		  what, n, status);
}

static void expect_exit0(int status, const char *what, unsigned n)
{
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s with fail_after=%u: status 0x%x", what, n, status);
}

static void back_to_pristine(const char *when)
{
	struct ut_rollback_report rep;
	cr_assert_eq(ut_rollback(&rep, env.state, env.bundle, NULL), 0, "%s: %s", when, ut_errmsg());
	ut_rollback_report_release(&rep);
	cr_assert(tx_same_tree(env.bundle, env.saved), "%s: not pristine", when);
	struct ut_state_report r;
	cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "%s", ut_errmsg());
	cr_assert_eq(r.state, UT_STATE_PRISTINE, "%s: %s", when, ut_state_name(r.state));
	ut_state_report_release(&r);
}

/* The record type journaled as record n of the standard transaction. */
static const char *record_type(unsigned n)
{
	if (n == 1)
		return "BEGIN";
	if (n <= 1 + TX_NPLANNED)
		return "BACKUP";
	if (n <= 1 + TX_NPLANNED + 7)
		return "STEP";
	return n == TX_NRECORDS - 1 ? "VERIFIED" : "COMMIT";
}

/* Every backup journaled so far is there and decompresses to the original bytes. */
static void expect_backups(unsigned n)
{
	static const char *const files[] = { "Contents/MacOS/UTM", "Contents/Frameworks/qemu.framework/Versions/A/qemu",
					     "Contents/Resources/old.txt" };
	char *sub = tx_state_subdir(&env);
	char *store = tsupport_printf("%s/pristine", sub);
	for (unsigned i = 0; i < 3; i++) {
		if (n < 2 + i) /* BACKUP of planned path i is record i + 2 */
			continue;
		char *orig = tsupport_printf("%s/%s", env.saved, files[i]);
		cr_assert(tx_blob_matches(store, orig), "N=%u: backup of %s missing or wrong", n, files[i]);
		free(orig);
	}
	free(store);
	free(sub);
}

Test(ut_txn_crash, killed_after_every_journaled_step_then_rolled_back)
{
	for (unsigned n = 1; n <= TX_NRECORDS + 1; n++) {
		int status = tx_fork(child_txn, NULL, n);
		struct ut_state_report r;
		cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "N=%u: %s", n, ut_errmsg());
		if (n <= TX_NRECORDS) {
			expect_killed(status, "transaction", n);
			cr_assert_eq(r.state, UT_STATE_INTERRUPTED, "N=%u: %s", n, ut_state_name(r.state));
			cr_expect_eq(r.intr.records, n, "N=%u", n);
			cr_expect_str_eq(r.intr.last_record, record_type(n), "N=%u", n);
			cr_expect_str_eq(r.intr.what, "test install");
			cr_expect(r.hint && strstr(r.hint, "utmpatch rollback"));
			cr_expect_eq(r.locked_by, 0, "the dead child's lock is stale");
			struct ut_txn *t = NULL;
			cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), UT_EREFUSED, "N=%u", n);
			cr_expect(strstr(ut_errmsg(), "run 'utmpatch rollback'"), "%s", ut_errmsg());
			expect_backups(n);
		} else {
			expect_exit0(status, "transaction", n);
			cr_assert_eq(r.state, UT_STATE_PATCHED, "N=%u: %s", n, ut_state_name(r.state));
		}
		ut_state_report_release(&r);
		char when[32];
		snprintf(when, sizeof(when), "N=%u", n);
		back_to_pristine(when);
	}
}

/* A committed install, rollback killed at every one of its records, then rollback again. */
Test(ut_txn_crash, rollback_killed_at_every_step_then_finished)
{
	for (unsigned m = 1; m <= TX_NROLLBACK + 1; m++) {
		cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg());
		int status = tx_fork(child_rollback, NULL, m);
		if (m <= TX_NROLLBACK) {
			expect_killed(status, "rollback", m);
			struct ut_state_report r;
			cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "%s", ut_errmsg());
			cr_assert_eq(r.state, UT_STATE_INTERRUPTED, "M=%u", m);
			cr_expect(r.intr.rolling_back && r.intr.rollback_only, "M=%u", m);
			cr_expect_eq(r.intr.rollback_done, m == TX_NROLLBACK, "M=%u", m);
			ut_state_report_release(&r);
			struct ut_txn *t = NULL;
			cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), UT_EREFUSED, "M=%u", m);
		} else {
			expect_exit0(status, "rollback", m);
		}
		char when[32];
		snprintf(when, sizeof(when), "M=%u", m);
		back_to_pristine(when);
	}
}

/* A transaction killed at N, its rollback killed at M, then rollback again. */
Test(ut_txn_crash, rollback_of_interrupted_transaction_killed_at_every_step)
{
	static const unsigned ns[] = { 4, 10, TX_NRECORDS - 1, TX_NRECORDS };
	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		for (unsigned m = 1; m <= TX_NROLLBACK + 1; m++) {
			expect_killed(tx_fork(child_txn, NULL, ns[k]), "transaction", ns[k]);
			int status = tx_fork(child_rollback, NULL, m);
			if (!WIFSIGNALED(status))
				expect_exit0(status, "rollback", m);
			char when[48];
			snprintf(when, sizeof(when), "N=%u M=%u", ns[k], m);
			back_to_pristine(when);
		}
	}
}

/* ut_state_recover: uncommitted work is undone, committed work is finished. */
Test(ut_txn_crash, recover_undoes_uncommitted_and_finishes_committed)
{
	for (unsigned n = 1; n <= TX_NRECORDS; n++) {
		expect_killed(tx_fork(child_txn, NULL, n), "transaction", n);
		int recovered = 0;
		cr_assert_eq(ut_state_recover(&recovered, env.state, env.bundle, NULL), 0, "N=%u: %s", n, ut_errmsg());
		cr_expect(recovered);
		struct ut_state_report r;
		cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "%s", ut_errmsg());
		if (n == TX_NRECORDS) {
			cr_assert_eq(r.state, UT_STATE_PATCHED, "N=%u: %s", n, ut_state_name(r.state));
			cr_expect_str_eq(ut_state_report_meta(&r, "target"), "qemu-aarch64-softmmu");
			char *p = tsupport_printf("%s/Contents/Resources/new.dylib", env.bundle);
			char *s = (char *)ts_read(p, NULL);
			cr_expect(s && strcmp(s, "new dylib\n") == 0);
			free(s);
			free(p);
			ut_state_report_release(&r);
			back_to_pristine("after recover");
		} else {
			cr_assert_eq(r.state, UT_STATE_PRISTINE, "N=%u: %s", n, ut_state_name(r.state));
			ut_state_report_release(&r);
			cr_assert(tx_same_tree(env.bundle, env.saved), "N=%u", n);
		}
		cr_assert_eq(ut_state_recover(&recovered, env.state, env.bundle, NULL), 0);
		cr_expect(!recovered, "nothing left to recover");
	}
}

/* The in-process abort killed at each of its records; recover or rollback finishes it. */
static int child_abort(void *ctx, unsigned m)
{
	(void)ctx;
	struct ut_txn *t;
	struct ut_txn_opts o = { .fail_after = m };
	int rc = ut_txn_begin(&t, env.state, env.bundle, &o);
	for (int i = 0; !rc && tx_planned[i]; i++)
		rc = ut_txn_plan_file(t, tx_planned[i], NULL);
	if (!rc)
		rc = ut_txn_write(t, "Contents/MacOS/UTM", "x", 1, -1);
	if (!rc)
		rc = ut_txn_delete(t, "Contents/Resources/old.txt");
	if (!rc)
		rc = ut_txn_abort(t); /* records 1 + 7 + 2 = 10 so far */
	ut_txn_free(t);
	return rc;
}

Test(ut_txn_crash, abort_killed_at_every_step)
{
	for (unsigned m = 11; m <= 11 + TX_NROLLBACK; m++) {
		int status = tx_fork(child_abort, NULL, m);
		if (m < 11 + TX_NROLLBACK) {
			expect_killed(status, "abort", m);
			struct ut_state_report r;
			cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "%s", ut_errmsg());
			cr_assert_eq(r.state, UT_STATE_INTERRUPTED);
			cr_expect(r.intr.rolling_back && !r.intr.rollback_only);
			ut_state_report_release(&r);
			if (m % 2 || m == 10 + TX_NROLLBACK) {
				cr_assert_eq(ut_state_recover(NULL, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
				cr_assert(tx_same_tree(env.bundle, env.saved), "M=%u", m);
			}
		} else {
			expect_exit0(status, "abort", m);
			cr_assert(tx_same_tree(env.bundle, env.saved));
		}
		back_to_pristine("abort");
	}
}

/* Both a recovery and a second rollback can also be killed; a third run finishes. */
Test(ut_txn_crash, recover_killed_then_rollback_killed_then_done)
{
	expect_killed(tx_fork(child_txn, NULL, 12), "transaction", 12);
	expect_killed(tx_fork(child_recover, NULL, 3), "recover", 3);
	expect_killed(tx_fork(child_rollback, NULL, 2), "rollback", 2);
	expect_killed(tx_fork(child_rollback, NULL, 5), "rollback", 5);
	back_to_pristine("third run");
}

/* A full rollback killed half way is finished by ut_state_recover too. */
Test(ut_txn_crash, recover_finishes_an_interrupted_rollback)
{
	cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg());
	expect_killed(tx_fork(child_rollback, NULL, 4), "rollback", 4);
	int recovered = 0;
	cr_assert_eq(ut_state_recover(&recovered, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_expect(recovered);
	cr_assert(tx_same_tree(env.bundle, env.saved));
	struct ut_state_report r;
	cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "%s", ut_errmsg());
	cr_expect_eq(r.state, UT_STATE_PRISTINE);
	ut_state_report_release(&r);
}

/* An abort killed after ROLLBACK-DONE: rollback cleans it up and has nothing left to restore. */
Test(ut_txn_crash, abort_done_then_rollback)
{
	expect_killed(tx_fork(child_abort, NULL, 10 + TX_NROLLBACK), "abort", 10 + TX_NROLLBACK);
	struct ut_rollback_report rep;
	cr_assert_eq(ut_rollback(&rep, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_expect(rep.finished && rep.was_pristine);
	ut_rollback_report_release(&rep);
	cr_assert(tx_same_tree(env.bundle, env.saved));
}
