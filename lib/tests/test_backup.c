/*
 * test_backup.c - damaged backups and journals: rollback refuses with the
 * file named and leaves the bundle as it is; a torn journal tail is ignored
 * and rollback still works.
 *
 * Oracles: the bundle compared with `cp -a` snapshots (diff -r, find
 * -printf); damaged blobs made with python3 (zlib.compress for a valid
 * stream of other bytes) and truncate(1); backups of odd files decompressed
 * by Python's zlib.
 */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_txn_util.h"
#include "tsupport.h"
#include "tsupport_fs.h"
#include "ut_backup.h"
#include "ut_err.h"
#include "ut_state.h"
#include "ut_txn.h"

static struct tx_env env;

static void setup(void) { tx_env_init(&env, "backup"); }
static void teardown(void) { tx_env_release(&env); }

TestSuite(ut_backup, .init = setup, .fini = teardown, .timeout = 120);

static void sh(const char *cmd)
{
	char *err = NULL;
	int rc = ts_sh(cmd, NULL, &err);
	cr_assert_eq(rc, 0, "%s: %s", cmd, err ? err : "");
	free(err);
}

/* Path of the pristine backup of a file of the saved copy. */
static char *blob_of(const char *rel)
{
	char sha[65];
	char *orig = tsupport_printf("%s/%s", env.saved, rel);
	cr_assert_eq(ts_sha256_file(orig, sha), 0);
	char *sub = tx_state_subdir(&env);
	char *p = tsupport_printf("%s/pristine/%s.z", sub, sha);
	cr_assert(ts_exists(p), "%s", p);
	free(sub);
	free(orig);
	return p;
}

struct damage {
	const char *name;
	const char *cmd; /* %s = blob path */
	int code;
	const char *msg;
};

static const struct damage damages[] = {
	{ "flipped byte", "python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,\"rb\").read()); "
			  "b[len(b)//2]^=0x40; open(p,\"wb\").write(b)' '%s'",
	  UT_EVERIFY, "backup of 'Contents/MacOS/UTM'" },
	{ "truncated", "truncate -s 1000 '%s'", UT_EVERIFY, "backup of 'Contents/MacOS/UTM' is truncated" },
	{ "missing", "rm '%s'", UT_ENOTFOUND, "backup of 'Contents/MacOS/UTM' is missing" },
	{ "trailing bytes", "printf xyz >> '%s'", UT_EVERIFY, "backup of 'Contents/MacOS/UTM' has bytes after its end" },
	{ "other valid stream", "python3 -c 'import sys,zlib; open(sys.argv[1],\"wb\").write(zlib.compress(b\"evil\"*1000))' '%s'",
	  UT_EVERIFY, "backup of 'Contents/MacOS/UTM' holds 4000 bytes, expected 300000" },
	{ "longer valid stream", "python3 -c 'import sys,zlib; open(sys.argv[1],\"wb\").write(zlib.compress(bytes(300001)))' '%s'",
	  UT_EVERIFY, "backup of 'Contents/MacOS/UTM' holds more than 300000 bytes" },
	{ "same size other bytes",
	  "python3 -c 'import sys,zlib; open(sys.argv[1],\"wb\").write(zlib.compress(bytes(300000)))' '%s'", UT_EVERIFY,
	  "backup of 'Contents/MacOS/UTM' does not match its sha256" },
	{ "not zlib", "printf 'not a zlib stream' > '%s'", UT_EVERIFY, "backup of 'Contents/MacOS/UTM' is damaged" },
};

Test(ut_backup, damaged_backup_refused_bundle_untouched)
{
	cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg());
	for (size_t i = 0; i < sizeof(damages) / sizeof(damages[0]); i++) {
		const struct damage *d = &damages[i];
		char *blob = blob_of("Contents/MacOS/UTM");
		char *keep = tsupport_printf("%s/blob.keep", env.root);
		char *snap = tsupport_printf("%s/before-%zu.app", env.root, i);
		tx_copy_tree(env.bundle, snap);
		cr_assert_eq(ts_copy(blob, keep), 0);
		char *cmd = tsupport_printf(d->cmd, blob);
		sh(cmd);
		struct ut_rollback_report rep;
		cr_assert_eq(ut_rollback(&rep, env.state, env.bundle, NULL), d->code, "%s: %s", d->name, ut_errmsg());
		ut_rollback_report_release(&rep);
		cr_expect(strstr(ut_errmsg(), d->msg), "%s: message '%s' lacks '%s'", d->name, ut_errmsg(), d->msg);
		cr_assert(tx_same_tree(env.bundle, snap), "%s: the bundle was touched", d->name);
		struct ut_state_report r;
		cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "%s", ut_errmsg());
		cr_expect_eq(r.state, UT_STATE_PATCHED, "%s: state kept", d->name);
		ut_state_report_release(&r);
		/* mended, the rollback goes through; then install again for the next row */
		cr_assert_eq(ts_copy(keep, blob), 0);
		cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, NULL), 0, "%s: %s", d->name, ut_errmsg());
		cr_assert(tx_same_tree(env.bundle, env.saved), "%s", d->name);
		cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg());
		free(cmd);
		free(snap);
		free(keep);
		free(blob);
	}
}

static int child_txn(void *ctx, unsigned n)
{
	(void)ctx;
	return tx_run(&env, n);
}

/* Same for a transaction killed half way: the crashed bundle stays as it is. */
Test(ut_backup, damaged_backup_of_interrupted_transaction_refused)
{
	cr_assert(tx_fork(child_txn, NULL, 12) != 0);
	char *blob = blob_of("Contents/MacOS/UTM");
	char *keep = tsupport_printf("%s/blob.keep", env.root);
	char *snap = tsupport_printf("%s/crashed.app", env.root);
	tx_copy_tree(env.bundle, snap);
	cr_assert_eq(ts_copy(blob, keep), 0);
	char *cmd = tsupport_printf(damages[0].cmd, blob);
	sh(cmd);
	cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, NULL), UT_EVERIFY);
	cr_expect(strstr(ut_errmsg(), "'Contents/MacOS/UTM'"), "%s", ut_errmsg());
	cr_assert(tx_same_tree(env.bundle, snap));
	cr_assert_eq(ut_state_recover(NULL, env.state, env.bundle, NULL), UT_EVERIFY);
	cr_assert(tx_same_tree(env.bundle, snap));
	cr_assert_eq(ts_copy(keep, blob), 0);
	cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert(tx_same_tree(env.bundle, env.saved));
	free(cmd);
	free(snap);
	free(keep);
	free(blob);
}

static char *journal_path(void)
{
	char *sub = tx_state_subdir(&env);
	char *p = tsupport_printf("%s/journal", sub);
	free(sub);
	return p;
}

/* A journal whose last record was cut anywhere (or has a bad checksum) is read without it. */
Test(ut_backup, torn_journal_tail_ignored)
{
	static const char *const cuts[] = {
		"truncate -s -1 '%s'",  /* only the newline */
		"truncate -s -9 '%s'",  /* inside the checksum */
		"truncate -s -40 '%s'", /* inside the fields */
		"python3 -c 'import sys; p=sys.argv[1]; b=open(p,\"rb\").read(); i=b.rstrip(b\"\\n\").rfind(b\"\\n\")+1; "
		"open(p,\"wb\").write(b[:i+3])' '%s'", /* just the sequence number */
		"python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,\"rb\").read()); b[-20]^=1; "
		"open(p,\"wb\").write(b)' '%s'", /* complete line, bad checksum */
	};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		cr_assert(tx_fork(child_txn, NULL, 12) != 0);
		char *j = journal_path();
		char *cmd = tsupport_printf(cuts[i], j);
		sh(cmd);
		struct ut_state_report r;
		cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "cut %zu: %s", i, ut_errmsg());
		cr_assert_eq(r.state, UT_STATE_INTERRUPTED);
		cr_expect(r.intr.torn_tail, "cut %zu", i);
		cr_expect_eq(r.intr.records, 11, "cut %zu", i);
		cr_expect_str_eq(r.intr.last_record, "STEP");
		cr_expect_eq(r.intr.last_step, 3, "record 12 was STEP 4");
		ut_state_report_release(&r);
		/* a rollback killed after its first record appends after the cut: the journal stays readable */
		struct ut_rollback_opts o = { .fail_after = 2 };
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0)
			_exit(ut_rollback(NULL, env.state, env.bundle, &o));
		cr_assert(pid > 0);
		waitpid(pid, NULL, 0);
		cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "cut %zu: %s", i, ut_errmsg());
		cr_expect(!r.intr.torn_tail && r.intr.records == 13, "cut %zu: torn %d records %llu", i, r.intr.torn_tail,
			  (unsigned long long)r.intr.records);
		ut_state_report_release(&r);
		cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, NULL), 0, "cut %zu: %s", i, ut_errmsg());
		cr_assert(tx_same_tree(env.bundle, env.saved), "cut %zu", i);
		free(cmd);
		free(j);
	}
}

/* A damaged record that is not the last one is corruption, not a crash: refused, nothing written. */
Test(ut_backup, corrupt_journal_middle_refused)
{
	cr_assert(tx_fork(child_txn, NULL, 12) != 0);
	char *snap = tsupport_printf("%s/crashed.app", env.root);
	tx_copy_tree(env.bundle, snap);
	char *j = journal_path();
	char *cmd = tsupport_printf("sed -i '3s/kind=file/kind=fil3/' '%s'", j);
	sh(cmd);
	struct ut_state_report r;
	cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), UT_EMALFORMED);
	cr_expect(strstr(ut_errmsg(), "journal record 3: checksum mismatch") && strstr(ut_errmsg(), j), "%s",
		  ut_errmsg());
	cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, NULL), UT_EMALFORMED);
	struct ut_txn *t = NULL;
	cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), UT_EMALFORMED);
	cr_assert(tx_same_tree(env.bundle, snap));
	free(cmd);
	free(snap);
	free(j);
}

/* Corrupt manifest and installed record: named, refused. */
Test(ut_backup, corrupt_manifest_and_installed_refused)
{
	cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg());
	char *snap = tsupport_printf("%s/patched.app", env.root);
	tx_copy_tree(env.bundle, snap);
	char *sub = tx_state_subdir(&env);
	static const char *const files[] = { "manifest", "installed" };
	for (int i = 0; i < 2; i++) {
		char *f = tsupport_printf("%s/%s", sub, files[i]);
		char *keep = tsupport_printf("%s.keep", f);
		cr_assert_eq(ts_copy(f, keep), 0);
		char *cmd = tsupport_printf("sed -i '0,/kind=file/s//kind=dir/' '%s'", f);
		sh(cmd);
		cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, NULL), UT_EMALFORMED, "%s", files[i]);
		cr_expect(strstr(ut_errmsg(), f) && strstr(ut_errmsg(), "checksum mismatch"), "%s", ut_errmsg());
		struct ut_state_report r;
		cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), UT_EMALFORMED);
		cr_assert(tx_same_tree(env.bundle, snap));
		cr_assert_eq(ts_copy(keep, f), 0);
		free(cmd);
		free(keep);
		free(f);
	}
	/* a lost manifest: nothing would be restored, so it is refused rather than "done" */
	char *m = tsupport_printf("%s/manifest", sub);
	char *mkeep = tsupport_printf("%s.keep", m);
	cr_assert_eq(rename(m, mkeep), 0);
	cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, NULL), UT_EMALFORMED);
	cr_expect(strstr(ut_errmsg(), "pristine record") && strstr(ut_errmsg(), "is missing"), "%s", ut_errmsg());
	struct ut_txn *t = NULL;
	cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), UT_EMALFORMED, "a re-install would back up patched bytes as pristine");
	cr_assert(tx_same_tree(env.bundle, snap));
	cr_assert_eq(rename(mkeep, m), 0);
	cr_assert_eq(ut_rollback(NULL, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert(tx_same_tree(env.bundle, env.saved));
	free(mkeep);
	free(m);
	free(sub);
	free(snap);
}

/* ut_backup_store on its own: empty and large files, read back by Python's zlib. */
Test(ut_backup, store_and_check_roundtrip)
{
	char *store = tsupport_printf("%s/store", env.root);
	cr_assert_eq(mkdir(store, 0700), 0);
	static const char *const rels[] = { "Contents/Resources/empty", "Contents/Frameworks/qemu.framework/Versions/A/qemu" };
	for (int i = 0; i < 2; i++) {
		char *abs = tsupport_printf("%s/%s", env.bundle, rels[i]);
		struct ut_entry e;
		cr_assert_eq(ut_backup_stat(&e, abs, rels[i]), 0, "%s", ut_errmsg());
		cr_assert_eq(e.kind, UT_KIND_FILE);
		char sha[65];
		cr_assert_eq(ts_sha256_file(abs, sha), 0);
		cr_expect_str_eq(e.sha256, sha);
		cr_assert_eq(ut_backup_store(store, abs, &e), 0, "%s", ut_errmsg());
		cr_expect(tx_blob_matches(store, abs), "%s", rels[i]);
		cr_expect_eq(ut_backup_check(store, &e), 0, "%s", ut_errmsg());
		char *out = tsupport_printf("%s/out-%d", env.root, i);
		cr_assert_eq(ut_backup_restore_file(store, &e, out), 0, "%s", ut_errmsg());
		cr_expect(ts_same_file(abs, out));
		struct stat st;
		cr_assert_eq(stat(out, &st), 0);
		cr_expect_eq(st.st_mode & 07777, e.mode);
		ut_entry_release(&e);
		free(out);
		free(abs);
	}
	struct ut_entry s;
	char *link = tsupport_printf("%s/Contents/Frameworks/qemu.framework/qemu", env.bundle);
	cr_assert_eq(ut_backup_stat(&s, link, "q"), 0);
	cr_expect_eq(s.kind, UT_KIND_SYMLINK);
	cr_expect_str_eq(s.target, "Versions/Current/qemu");
	ut_entry_release(&s);
	char *none = tsupport_printf("%s/nope/x", env.bundle);
	cr_assert_eq(ut_backup_stat(&s, none, "nope/x"), 0);
	cr_expect_eq(s.kind, UT_KIND_ABSENT);
	ut_entry_release(&s);
	free(none);
	free(link);
	free(store);
}
