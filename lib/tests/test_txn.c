/*
 * test_txn.c - the transaction end to end on a synthetic bundle: commit,
 * status, drift, rollback, abort, re-install, --force, dry run, refusals.
 *
 * Oracles: the bundle is compared with a `cp -a` copy taken before anything
 * ran, by `diff -r --no-dereference` and `find -printf '%y %m %p %l'` (names,
 * kinds, modes, symlink targets, bytes, nothing extra); backups are
 * decompressed by Python's zlib and named by OpenSSL's SHA-256 of the
 * original file.
 */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "test_txn_util.h"
#include "tsupport.h"
#include "tsupport_fs.h"
#include "ut_err.h"
#include "ut_state.h"
#include "ut_txn.h"

static struct tx_env env;

static void setup(void) { tx_env_init(&env, "txn"); }
static void teardown(void) { tx_env_release(&env); }

TestSuite(ut_txn, .init = setup, .fini = teardown);

static char *bpath(const char *rel) { return tsupport_printf("%s/%s", env.bundle, rel); }

static void expect_state(int want, struct ut_state_report *r)
{
	cr_assert_eq(ut_state_inspect(r, env.state, env.bundle), 0, "%s", ut_errmsg());
	cr_assert_eq(r->state, want, "state %s, expected %s", ut_state_name(r->state), ut_state_name(want));
}

Test(ut_txn, commit_status_drift_rollback_back_to_pristine)
{
	struct ut_state_report r;
	expect_state(UT_STATE_PRISTINE, &r);
	ut_state_report_release(&r);

	cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg());
	expect_state(UT_STATE_PATCHED, &r);
	cr_expect_str_eq(ut_state_report_meta(&r, "target"), "qemu-aarch64-softmmu");
	cr_expect_str_eq(ut_state_report_meta(&r, "when"), "now");
	cr_expect_eq(r.nfiles, TX_NPLANNED);
	cr_expect_eq(r.npristine, TX_NPLANNED);
	cr_expect_eq(r.locked_by, 0);
	cr_expect(r.time > 0);
	ut_state_report_release(&r);

	/* the changes are really there */
	char *utm = bpath("Contents/MacOS/UTM");
	cr_expect(!ts_same_file(utm, tsupport_printf("%s/Contents/MacOS/UTM", env.saved)));
	cr_expect(!ts_exists(tsupport_printf("%s/Contents/Resources/old.txt", env.bundle)));
	cr_expect(ts_exists(tsupport_printf("%s/Contents/Resources/newdir/inner.txt", env.bundle)));

	/* pristine backups: one per file that existed, named by OpenSSL's sha256, Python's zlib reads them */
	char *sub = tx_state_subdir(&env);
	char *store = tsupport_printf("%s/pristine", sub);
	cr_expect(tx_blob_matches(store, tsupport_printf("%s/Contents/MacOS/UTM", env.saved)));
	cr_expect(tx_blob_matches(store, tsupport_printf("%s/Contents/Frameworks/qemu.framework/Versions/A/qemu", env.saved)));
	cr_expect(tx_blob_matches(store, tsupport_printf("%s/Contents/Resources/old.txt", env.saved)));
	cr_expect(!ts_exists(tsupport_printf("%s/journal", sub)), "journal removed at commit");

	/* drift: change one file, remove a created one */
	tx_write(utm, "changed by someone\n");
	cr_assert_eq(unlink(tsupport_printf("%s/Contents/Resources/new.dylib", env.bundle)), 0);
	expect_state(UT_STATE_DRIFTED, &r);
	cr_assert_eq(r.ndrift, 2);
	int seen_utm = 0, seen_new = 0;
	for (size_t i = 0; i < r.ndrift; i++) {
		if (strcmp(r.drift[i].path, "Contents/MacOS/UTM") == 0)
			seen_utm = strcmp(r.drift[i].what, "changed") == 0;
		if (strcmp(r.drift[i].path, "Contents/Resources/new.dylib") == 0)
			seen_new = strcmp(r.drift[i].what, "missing") == 0;
	}
	cr_expect(seen_utm && seen_new);
	cr_expect(r.hint != NULL);
	ut_state_report_release(&r);

	/* a drifted bundle is refused by begin and by rollback without force */
	struct ut_txn *t = NULL;
	cr_expect_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), UT_EREFUSED);
	cr_expect(strstr(ut_errmsg(), "changed since utmpatch patched it") != NULL, "%s", ut_errmsg());
	cr_expect_null(t);
	cr_expect_eq(ut_rollback(NULL, env.state, env.bundle, NULL), UT_EREFUSED);
	cr_expect(strstr(ut_errmsg(), "--force") != NULL, "%s", ut_errmsg());

	struct ut_rollback_opts ro = { .force = 1 };
	struct ut_rollback_report rep;
	cr_assert_eq(ut_rollback(&rep, env.state, env.bundle, &ro), 0, "%s", ut_errmsg());
	cr_expect_eq(rep.n, TX_NPLANNED);
	cr_expect_eq(rep.nremoved, 2, "newdir and inner.txt (new.dylib was already gone)");
	cr_expect_eq(rep.nunchanged, 1);
	cr_expect_eq(rep.nwritten, 4, "UTM, qemu, old.txt and the qemu symlink");
	ut_rollback_report_release(&rep);
	cr_assert(tx_same_tree(env.bundle, env.saved));
	expect_state(UT_STATE_PRISTINE, &r);
	cr_expect_eq(r.npristine, 0, "pristine records forgotten after success");
	ut_state_report_release(&r);
	cr_expect(!ts_exists(tsupport_printf("%s/installed", sub)));
	cr_expect(!ts_exists(tsupport_printf("%s/journal", sub)));
	cr_expect(!ts_exists(tsupport_printf("%s/manifest", sub)));

	/* rollback again: nothing to do */
	cr_assert_eq(ut_rollback(&rep, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_expect(rep.was_pristine);
	ut_rollback_report_release(&rep);
	cr_assert(tx_same_tree(env.bundle, env.saved));
}

Test(ut_txn, rollback_without_drift_restores_every_byte)
{
	cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg());
	struct ut_rollback_report rep;
	cr_assert_eq(ut_rollback(&rep, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_expect_eq(rep.nwritten, 4, "UTM, qemu, old.txt and the qemu symlink");
	cr_expect_eq(rep.nremoved, 3, "new.dylib, newdir, inner.txt");
	ut_rollback_report_release(&rep);
	cr_assert(tx_same_tree(env.bundle, env.saved));
}

Test(ut_txn, abort_restores_the_state_before_begin)
{
	struct ut_txn *t;
	cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	for (int i = 0; tx_planned[i]; i++)
		cr_assert_eq(ut_txn_plan_file(t, tx_planned[i], NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/MacOS/UTM", "x", 1, -1), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_delete(t, "Contents/Resources/old.txt"), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_mkdir(t, "Contents/Resources/newdir", 0700), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/Resources/newdir/inner.txt", "i", 1, 0644), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_symlink(t, "Contents/Frameworks/qemu.framework/qemu", "elsewhere"), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_abort(t), 0, "%s", ut_errmsg());
	ut_txn_free(t);
	cr_assert(tx_same_tree(env.bundle, env.saved));
	struct ut_state_report r;
	expect_state(UT_STATE_PRISTINE, &r);
	cr_expect_eq(r.npristine, 0);
	ut_state_report_release(&r);
	/* a new transaction starts cleanly */
	cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg());
}

Test(ut_txn, free_without_commit_aborts)
{
	struct ut_txn *t;
	cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_plan_file(t, "Contents/MacOS/UTM", NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/MacOS/UTM", "x", 1, -1), 0, "%s", ut_errmsg());
	ut_txn_free(t);
	cr_assert(tx_same_tree(env.bundle, env.saved));
}

/* A second install on top of the first: abort goes back to the first, rollback to pristine. */
Test(ut_txn, reinstall_abort_keeps_first_install_rollback_reaches_pristine)
{
	cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg());
	char *patched = tsupport_printf("%s/patched.app", env.root);
	tx_copy_tree(env.bundle, patched);

	struct ut_txn *t;
	cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_plan_file(t, "Contents/MacOS/UTM", NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_plan_file(t, "Contents/Info.plist", NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_plan_file(t, "Contents/Resources/second", NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/MacOS/UTM", "second", 6, -1), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/Info.plist", "<plist/>", 8, -1), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/Resources/second", "2", 1, 0644), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_abort(t), 0, "%s", ut_errmsg());
	ut_txn_free(t);
	cr_assert(tx_same_tree(env.bundle, patched), "abort returns to the first install");
	struct ut_state_report r;
	expect_state(UT_STATE_PATCHED, &r);
	cr_expect_eq(r.npristine, TX_NPLANNED, "the aborted transaction left no pristine record");
	ut_state_report_release(&r);

	/* now commit a second install, then roll back everything */
	cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_plan_file(t, "Contents/MacOS/UTM", NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_plan_file(t, "Contents/Info.plist", NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_plan_file(t, "Contents/Resources/second", NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/MacOS/UTM", "second", 6, -1), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/Info.plist", "<plist/>", 8, -1), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/Resources/second", "2", 1, 0644), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_mark_verified(t), 0, "%s", ut_errmsg());
	struct ut_kv meta[] = { { "target", "second" } };
	cr_assert_eq(ut_txn_commit(t, meta, 1), 0, "%s", ut_errmsg());
	ut_txn_free(t);
	expect_state(UT_STATE_PATCHED, &r);
	cr_expect_str_eq(ut_state_report_meta(&r, "target"), "second");
	cr_expect_eq(r.npristine, TX_NPLANNED + 2);
	cr_expect_eq(r.nfiles, TX_NPLANNED + 2);
	ut_state_report_release(&r);
	cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert(tx_same_tree(env.bundle, env.saved), "pristine, not the first install");
}

/* --force on a drifted bundle: the drifted file's current bytes become its pristine state. */
Test(ut_txn, force_adopts_drifted_files_as_pristine)
{
	cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg());
	char *utm = bpath("Contents/MacOS/UTM");
	tx_write(utm, "an updated UTM binary\n");
	cr_assert_eq(chmod(utm, 0755), 0);
	char *expected = tsupport_printf("%s/expected.app", env.root);
	tx_copy_tree(env.saved, expected);
	char *exp_utm = tsupport_printf("%s/Contents/MacOS/UTM", expected);
	tx_write(exp_utm, "an updated UTM binary\n");

	struct ut_txn *t;
	struct ut_txn_opts o = { .force = 1, .what = "forced" };
	cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, &o), 0, "%s", ut_errmsg());
	cr_assert(ut_txn_note(t) && strstr(ut_txn_note(t), "adopted 1 changed path"), "%s",
		  ut_txn_note(t) ? ut_txn_note(t) : "(none)");
	cr_assert_eq(ut_txn_plan_file(t, "Contents/MacOS/UTM", NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/MacOS/UTM", "patched again", 13, -1), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_mark_verified(t), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_commit(t, NULL, 0), 0, "%s", ut_errmsg());
	ut_txn_free(t);
	struct ut_state_report r;
	expect_state(UT_STATE_PATCHED, &r);
	ut_state_report_release(&r);
	cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert(tx_same_tree(env.bundle, expected));
}

Test(ut_txn, dry_run_rollback_reports_and_writes_nothing)
{
	cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg());
	char *patched = tsupport_printf("%s/patched.app", env.root);
	tx_copy_tree(env.bundle, patched);
	struct ut_rollback_opts ro = { .dry_run = 1 };
	struct ut_rollback_report rep;
	cr_assert_eq(ut_rollback(&rep, env.state, env.bundle, &ro), 0, "%s", ut_errmsg());
	cr_expect_eq(rep.n, TX_NPLANNED);
	for (size_t i = 0; i < rep.n; i++) {
		const char *p = rep.items[i].path;
		int want = strcmp(p, "Contents/Resources/new.dylib") == 0 || strcmp(p, "Contents/Resources/newdir") == 0 ||
				   strcmp(p, "Contents/Resources/newdir/inner.txt") == 0
			   ? UT_RESTORE_REMOVED
			   : UT_RESTORE_WRITTEN;
		cr_expect_eq(rep.items[i].action, want, "%s: %s", p, ut_restore_action_name(rep.items[i].action));
	}
	ut_rollback_report_release(&rep);
	cr_assert(tx_same_tree(env.bundle, patched));
	struct ut_state_report r;
	expect_state(UT_STATE_PATCHED, &r);
	ut_state_report_release(&r);
}

/* cdhash recorded at plan time, checked by the caller's callback after rollback. */
static int fake_cdhash(void *ctx, const char *path, char hex[41])
{
	char sha[65];
	if (ts_sha256_file(path, sha) != 0)
		return UT_EIO;
	memcpy(hex, sha, 40);
	hex[40] = '\0';
	if (ctx)
		hex[0] = hex[0] == '0' ? '1' : '0'; /* a lying signer */
	return 0;
}

Test(ut_txn, cdhash_checked_by_callback)
{
	char *utm = bpath("Contents/MacOS/UTM");
	char cd[41];
	cr_assert_eq(fake_cdhash(NULL, utm, cd), 0);
	struct ut_txn *t;
	cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_plan_file(t, "Contents/MacOS/UTM", "XYZ"), UT_EINVAL);
	cr_assert_eq(ut_txn_plan_file(t, "Contents/MacOS/UTM", cd), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/MacOS/UTM", "x", 1, -1), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_mark_verified(t), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_commit(t, NULL, 0), 0, "%s", ut_errmsg());
	ut_txn_free(t);

	char *manifest = tsupport_printf("%s/manifest", tx_state_subdir(&env));
	char *m = (char *)ts_read(manifest, NULL);
	cr_expect(m && strstr(m, cd), "manifest records the cdhash");

	struct ut_rollback_opts lying = { .cdhash_of = fake_cdhash, .cdhash_ctx = (void *)1 };
	cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, &lying), UT_EVERIFY);
	cr_expect(strstr(ut_errmsg(), "cdhash") && strstr(ut_errmsg(), "Contents/MacOS/UTM"), "%s", ut_errmsg());
	/* the bytes are back even so; the state stays until a rollback succeeds */
	cr_assert(tx_same_tree(env.bundle, env.saved));
	struct ut_rollback_opts good = { .cdhash_of = fake_cdhash };
	struct ut_rollback_report rep;
	cr_assert_eq(ut_rollback(&rep, env.state, env.bundle, &good), 0, "%s", ut_errmsg());
	cr_expect_eq(rep.ncdhash_checked, 1);
	cr_expect_eq(rep.nunchanged, 1);
	ut_rollback_report_release(&rep);
	struct ut_state_report r;
	expect_state(UT_STATE_PRISTINE, &r);
	ut_state_report_release(&r);
}

Test(ut_txn, api_misuse_refused)
{
	struct ut_txn *t;
	cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_expect_eq(ut_txn_plan_file(t, "../outside", NULL), UT_EINVAL);
	cr_expect_eq(ut_txn_plan_file(t, "/etc/passwd", NULL), UT_EINVAL);
	cr_expect_eq(ut_txn_plan_file(t, "Contents//MacOS", NULL), UT_EINVAL);
	cr_expect_eq(ut_txn_plan_file(t, "Contents/./MacOS", NULL), UT_EINVAL);
	cr_expect_eq(ut_txn_plan_file(t, "", NULL), UT_EINVAL);
	cr_expect_eq(ut_txn_plan_file(t, "Contents/Frameworks/qemu.framework/Versions/Current/qemu", NULL), UT_EREFUSED);
	cr_expect(strstr(ut_errmsg(), "symlink"), "%s", ut_errmsg());
	cr_expect_eq(ut_txn_plan_file(t, "Contents/Info.plist/x", NULL), UT_EREFUSED);
	cr_assert_eq(ut_txn_plan_file(t, "Contents/MacOS/UTM", NULL), 0, "%s", ut_errmsg());
	cr_expect_eq(ut_txn_plan_file(t, "Contents/MacOS/UTM", NULL), UT_EINVAL);
	cr_expect(strstr(ut_errmsg(), "planned twice"), "%s", ut_errmsg());
	cr_expect_eq(ut_txn_write(t, "Contents/Info.plist", "x", 1, -1), UT_EINVAL);
	cr_expect(strstr(ut_errmsg(), "was not planned"), "%s", ut_errmsg());
	cr_expect_eq(ut_txn_mark_verified(t) == 0 && ut_txn_commit(t, NULL, 0) == 0, 1, "%s", ut_errmsg());
	ut_txn_free(t);

	cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_plan_file(t, "Contents/MacOS/UTM", NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/MacOS/UTM", "y", 1, -1), 0, "%s", ut_errmsg());
	cr_expect_eq(ut_txn_plan_file(t, "Contents/Info.plist", NULL), UT_EINVAL);
	cr_expect(strstr(ut_errmsg(), "after the first change"), "%s", ut_errmsg());
	cr_expect_eq(ut_txn_commit(t, NULL, 0), UT_EINVAL);
	cr_expect(strstr(ut_errmsg(), "verified"), "%s", ut_errmsg());
	cr_expect_eq(ut_txn_mkdir(t, "Contents/MacOS/UTM", 0755), UT_EEXIST);
	cr_expect_eq(ut_txn_delete(t, "Contents/MacOS/UTM"), 0, "%s", ut_errmsg());
	cr_expect_eq(ut_txn_delete(t, "Contents/MacOS/UTM"), UT_ENOTFOUND);
	cr_assert_eq(ut_txn_mark_verified(t), 0);
	cr_expect_eq(ut_txn_write(t, "Contents/MacOS/UTM", "z", 1, -1), UT_EINVAL, "no change after verification");
	struct ut_kv dup[] = { { "a", "1" }, { "a", "2" } };
	cr_expect_eq(ut_txn_commit(t, dup, 2), UT_EINVAL);
	/* someone else touched a written path before commit */
	cr_assert_eq(ut_txn_abort(t), 0, "%s", ut_errmsg());
	cr_expect_eq(ut_txn_abort(t), 0, "abort twice is fine");
	cr_expect_eq(ut_txn_commit(t, NULL, 0), UT_EINVAL);
	ut_txn_free(t);
	cr_assert(tx_same_tree(env.bundle, env.saved));
}

Test(ut_txn, commit_refuses_a_path_changed_behind_its_back)
{
	struct ut_txn *t;
	cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_plan_file(t, "Contents/MacOS/UTM", NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/MacOS/UTM", "mine", 4, -1), 0, "%s", ut_errmsg());
	tx_write(bpath("Contents/MacOS/UTM"), "theirs");
	cr_assert_eq(ut_txn_mark_verified(t), 0);
	cr_assert_eq(ut_txn_commit(t, NULL, 0), UT_EVERIFY);
	cr_expect(strstr(ut_errmsg(), "'Contents/MacOS/UTM' changed after this transaction wrote it"), "%s", ut_errmsg());
	cr_assert_eq(ut_txn_abort(t), 0, "%s", ut_errmsg());
	ut_txn_free(t);
	cr_assert(tx_same_tree(env.bundle, env.saved));
}

Test(ut_txn, default_state_dir)
{
	char *d = NULL;
#if defined(__APPLE__)
	cr_assert_eq(ut_state_default_dir("/Users/me", "/x", &d), 0);
	cr_expect_str_eq(d, "/Users/me/Library/Application Support/utmpatch");
#else
	cr_assert_eq(ut_state_default_dir("/home/me", "/xdg/state", &d), 0);
	cr_expect_str_eq(d, "/xdg/state/utmpatch");
	free(d);
	cr_assert_eq(ut_state_default_dir("/home/me", "relative", &d), 0);
	cr_expect_str_eq(d, "/home/me/.local/state/utmpatch");
	free(d);
	cr_assert_eq(ut_state_default_dir("/home/me", NULL, &d), 0);
	cr_expect_str_eq(d, "/home/me/.local/state/utmpatch");
#endif
	free(d);
	cr_expect_eq(ut_state_default_dir(NULL, NULL, &d), UT_EINVAL);
	cr_expect_null(d);
	cr_expect_eq(ut_state_default_dir("", "", &d), UT_EINVAL);
}

/* A deleted directory comes back with its mode; a created one that now holds a stranger's file is not removed. */
Test(ut_txn, directories_restored_and_strangers_kept)
{
	char *dir = bpath("Contents/Resources/emptydir");
	cr_assert_eq(mkdir(dir, 0700), 0);
	tsupport_rmtree(env.saved);
	tx_copy_tree(env.bundle, env.saved);

	struct ut_txn *t;
	cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_plan_file(t, "Contents/Resources/emptydir", NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_plan_file(t, "Contents/Resources/nd", NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_plan_file(t, "Contents/Info.plist", NULL), 0, "%s", ut_errmsg());
	cr_expect_eq(ut_txn_write(t, "Contents/Resources/emptydir", "x", 1, -1), UT_EREFUSED, "a directory");
	cr_expect_eq(ut_txn_symlink(t, "Contents/Resources/emptydir", "x"), UT_EREFUSED, "a directory");
	cr_expect_eq(ut_txn_symlink(t, "Contents/Resources/nd", ""), UT_EINVAL);
	cr_assert_eq(ut_txn_delete(t, "Contents/Resources/emptydir"), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_mkdir(t, "Contents/Resources/nd", 0755), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/Info.plist", "<plist/>", 8, -1), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_mark_verified(t), 0);
	cr_assert_eq(ut_txn_commit(t, NULL, 0), 0, "%s", ut_errmsg());
	ut_txn_free(t);
	cr_assert(!ts_exists(dir));

	char *stranger = bpath("Contents/Resources/nd/user.txt");
	tx_write(stranger, "mine");
	struct ut_state_report r;
	cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "%s", ut_errmsg());
	cr_expect_eq(r.state, UT_STATE_PATCHED, "a new file inside is not a recorded path");
	ut_state_report_release(&r);
	cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, NULL), UT_EREFUSED);
	cr_expect(strstr(ut_errmsg(), "cannot remove directory") && strstr(ut_errmsg(), "Contents/Resources/nd"), "%s",
		  ut_errmsg());
	cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "%s", ut_errmsg());
	cr_expect_eq(r.state, UT_STATE_INTERRUPTED, "the rollback stopped half way and says so");
	ut_state_report_release(&r);
	cr_assert_eq(unlink(stranger), 0);
	cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert(tx_same_tree(env.bundle, env.saved));
	free(stranger);
	free(dir);
}

/* Drift kinds, and a kind change that rollback will not undo blindly. */
Test(ut_txn, drift_kinds_and_kind_change_refused)
{
	cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg());
	cr_assert_eq(chmod(bpath("Contents/MacOS/UTM"), 0700), 0);
	char *link = bpath("Contents/Frameworks/qemu.framework/qemu");
	cr_assert_eq(unlink(link), 0);
	cr_assert_eq(symlink("elsewhere", link), 0);
	char *newdylib = bpath("Contents/Frameworks/qemu.framework/Versions/A/qemu");
	cr_assert_eq(unlink(newdylib), 0);
	cr_assert_eq(mkdir(newdylib, 0755), 0);
	struct ut_state_report r;
	cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "%s", ut_errmsg());
	cr_assert_eq(r.state, UT_STATE_DRIFTED);
	cr_assert_eq(r.ndrift, 3);
	for (size_t i = 0; i < r.ndrift; i++) {
		const char *want = strstr(r.drift[i].path, "UTM") ? "mode changed"
				   : strstr(r.drift[i].path, "Versions/A/qemu") ? "kind changed"
									  : "target changed";
		cr_expect_str_eq(r.drift[i].what, want, "%s", r.drift[i].path);
	}
	ut_state_report_release(&r);
	char *snap = tsupport_printf("%s/drifted.app", env.root);
	tx_copy_tree(env.bundle, snap);
	struct ut_rollback_opts force = { .force = 1 };
	cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, &force), UT_EREFUSED);
	cr_expect(strstr(ut_errmsg(), "'Contents/Frameworks/qemu.framework/Versions/A/qemu' is now a directory"), "%s",
		  ut_errmsg());
	cr_assert(tx_same_tree(env.bundle, snap), "refused before writing anything");
	cr_assert_eq(rmdir(newdylib), 0);
	cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, &force), 0, "%s", ut_errmsg());
	cr_assert(tx_same_tree(env.bundle, env.saved));
	free(snap);
	free(newdylib);
	free(link);
}

/* A commit that fails after writing the manifest: the abort takes this transaction's entries out again. */
Test(ut_txn, failed_commit_then_abort_drops_new_pristine_records)
{
	cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg());
	struct ut_txn *t;
	cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_plan_file(t, "Contents/Resources/extra", NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_write(t, "Contents/Resources/extra", "e", 1, 0644), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_mark_verified(t), 0);
	/* a recorded path that is not a file, a symlink or a directory makes the installed record fail */
	char *inner = bpath("Contents/Resources/newdir/inner.txt");
	cr_assert_eq(unlink(inner), 0);
	cr_assert_eq(mkfifo(inner, 0600), 0);
	cr_assert_eq(ut_txn_commit(t, NULL, 0), UT_EUNSUPPORTED);
	cr_expect(strstr(ut_errmsg(), "commit") && strstr(ut_errmsg(), "not a file, a symlink or a directory"), "%s",
		  ut_errmsg());
	char *manifest = tsupport_printf("%s/manifest", tx_state_subdir(&env));
	char *m = (char *)ts_read(manifest, NULL);
	cr_assert(m && strstr(m, "Contents/Resources/extra"), "the manifest was written before the failure");
	free(m);
	cr_assert_eq(ut_txn_abort(t), 0, "%s", ut_errmsg());
	ut_txn_free(t);
	m = (char *)ts_read(manifest, NULL);
	cr_assert(m && !strstr(m, "Contents/Resources/extra"), "the aborted transaction's record is gone");
	free(m);
	cr_expect(!ts_exists(bpath("Contents/Resources/extra")));
	cr_assert_eq(unlink(inner), 0);
	tx_write(inner, "inner\n");
	cr_assert_eq(chmod(inner, 0600), 0);
	struct ut_state_report r;
	cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "%s", ut_errmsg());
	cr_expect_eq(r.state, UT_STATE_PATCHED);
	cr_expect_eq(r.npristine, TX_NPLANNED);
	ut_state_report_release(&r);
	cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert(tx_same_tree(env.bundle, env.saved));
	free(manifest);
	free(inner);
}

/* Odd arguments and odd state directories. */
Test(ut_txn, bad_bundle_and_state_refused)
{
	struct ut_rollback_report rep;
	cr_assert_eq(ut_rollback(&rep, env.state, env.bundle, NULL), 0, "never touched: %s", ut_errmsg());
	cr_expect(rep.was_pristine);
	ut_rollback_report_release(&rep);
	struct ut_state_report r;
	char *missing = tsupport_printf("%s/Nope.app", env.root);
	cr_expect_eq(ut_state_inspect(&r, env.state, missing), UT_ENOTFOUND);
	cr_expect(strstr(ut_errmsg(), "Nope.app"), "%s", ut_errmsg());
	struct ut_txn *t = NULL;
	cr_expect_eq(ut_txn_begin(&t, env.state, bpath("Contents/Info.plist"), NULL), UT_EINVAL);
	cr_expect_eq(ut_txn_begin(&t, "", env.bundle, NULL), UT_EINVAL);
	cr_expect_null(t);

	cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg());
	char *sub = tx_state_subdir(&env);
	char *bp = tsupport_printf("%s/bundle.path", sub);
	char *keep = (char *)ts_read(bp, NULL);
	tx_write(bp, "/some/other/UTM.app\n");
	cr_expect_eq(ut_state_inspect(&r, env.state, env.bundle), UT_EREFUSED);
	cr_expect(strstr(ut_errmsg(), "belongs to another bundle"), "%s", ut_errmsg());
	cr_expect_eq(ut_rollback(NULL, env.state, env.bundle, NULL), UT_EREFUSED);
	tx_write(bp, keep);

	/* an empty journal (killed while writing BEGIN): interrupted, nothing to undo */
	char *j = tsupport_printf("%s/journal", sub);
	tx_write(j, "");
	cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "%s", ut_errmsg());
	cr_expect_eq(r.state, UT_STATE_INTERRUPTED);
	cr_expect_eq(r.intr.records, 0);
	ut_state_report_release(&r);
	cr_expect_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), UT_EREFUSED);
	int recovered = 0;
	cr_assert_eq(ut_state_recover(&recovered, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_expect(recovered && !ts_exists(j));
	cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "%s", ut_errmsg());
	cr_expect_eq(r.state, UT_STATE_PATCHED);
	ut_state_report_release(&r);
	tx_write(j, "");
	cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert(tx_same_tree(env.bundle, env.saved));
	free(j);
	free(keep);
	free(bp);
	free(sub);
	free(missing);
}
