/*
 * test_lock.c - the per-bundle lock: busy while held, stale locks of dead or
 * reused pids taken over, mutual exclusion between racing processes.
 *
 * Oracles: the lock file's bytes (pid written by whom), the wait status of
 * children, /proc/<pid>/stat read by cut(1) for process start times, and a
 * marker file created with O_EXCL inside the critical section.
 */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_txn_util.h"
#include "tsupport.h"
#include "tsupport_fs.h"
#include "ut_err.h"
#include "ut_lock.h"
#include "ut_platform.h"
#include "ut_state.h"
#include "ut_txn.h"

static struct tx_env env;
static char *lockpath;

static void setup(void)
{
	tx_env_init(&env, "lock");
	lockpath = tsupport_printf("%s/test.lock", env.root);
}
static void teardown(void)
{
	free(lockpath);
	tx_env_release(&env);
}

TestSuite(ut_lock, .init = setup, .fini = teardown, .timeout = 120);

static long lock_file_pid(const char *path)
{
	char *s = (char *)ts_read(path, NULL);
	long pid = -1;
	if (s && sscanf(s, "utmpatch-lock pid=%ld", &pid) != 1)
		pid = -1;
	free(s);
	return pid;
}

Test(ut_lock, second_begin_is_busy_naming_the_pid)
{
	char real[PATH_MAX];
	cr_assert(realpath(env.bundle, real));
	struct ut_txn *t1, *t2 = NULL;
	cr_assert_eq(ut_txn_begin(&t1, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_txn_begin(&t2, env.state, env.bundle, NULL), UT_EBUSY);
	char *want = tsupport_printf("another utmpatch (pid %ld) is working on '%s'", (long)getpid(), real);
	cr_expect_str_eq(ut_errmsg(), want);
	cr_expect_null(t2);
	/* status and rollback see it too */
	struct ut_state_report r;
	cr_assert_eq(ut_state_inspect(&r, env.state, env.bundle), 0, "%s", ut_errmsg());
	cr_expect_eq(r.locked_by, (long)getpid());
	ut_state_report_release(&r);
	cr_expect_eq(ut_rollback(NULL, env.state, env.bundle, NULL), UT_EBUSY);
	ut_txn_free(t1);
	cr_assert_eq(ut_txn_begin(&t2, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	cr_expect_null(ut_txn_note(t2));
	ut_txn_free(t2);
	free(want);
}

Test(ut_lock, stale_lock_of_an_exited_child_is_taken_over)
{
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct ut_lock l;
		_exit(ut_lock_acquire(&l, lockpath, "x") == 0 ? 0 : 1); /* exits holding it */
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(lock_file_pid(lockpath), (long)pid, "the child's lock file is left behind");
	long holder = 1;
	cr_assert_eq(ut_lock_probe(lockpath, &holder), 0);
	cr_expect_eq(holder, 0, "a dead holder is not reported");

	struct ut_lock l;
	cr_assert_eq(ut_lock_acquire(&l, lockpath, "x"), 0, "%s", ut_errmsg());
	char *note = tsupport_printf("took over the stale lock of pid %ld", (long)pid);
	cr_expect(strstr(l.note, note), "note: %s", l.note);
	cr_expect_eq(lock_file_pid(lockpath), (long)getpid());
	cr_assert_eq(ut_lock_probe(lockpath, &holder), 0);
	cr_expect_eq(holder, (long)getpid());
	ut_lock_release(&l);
	cr_expect(!ts_exists(lockpath), "released lock file is removed");
	free(note);
}

Test(ut_lock, stale_bundle_lock_reported_by_begin)
{
	cr_assert_eq(tx_run(&env, 0), 0, "%s", ut_errmsg()); /* creates the state subdirectory */
	char *sub = tx_state_subdir(&env);
	char *bl = tsupport_printf("%s/lock", sub);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct ut_lock l;
		_exit(ut_lock_acquire(&l, bl, "x") == 0 ? 0 : 1);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	struct ut_txn *t;
	cr_assert_eq(ut_txn_begin(&t, env.state, env.bundle, NULL), 0, "%s", ut_errmsg());
	char *note = tsupport_printf("stale lock of pid %ld", (long)pid);
	cr_expect(ut_txn_note(t) && strstr(ut_txn_note(t), note), "%s", ut_txn_note(t) ? ut_txn_note(t) : "(none)");
	ut_txn_free(t);
	free(note);
	free(bl);
	free(sub);
}

#if defined(__linux__)
static unsigned long long start_time_by_cut(pid_t pid)
{
	char *cmd = tsupport_printf("cut -d' ' -f22 /proc/%ld/stat", (long)pid);
	char *out = NULL;
	cr_assert_eq(ts_sh(cmd, &out, NULL), 0);
	unsigned long long v = strtoull(out, NULL, 10);
	free(out);
	free(cmd);
	return v;
}

/* A live pid that does not hold the flock: trusted (busy) when its start time matches, stale when not. */
Test(ut_lock, live_pid_busy_reused_pid_stale)
{
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	unsigned long long start = start_time_by_cut(pid);
	uint64_t ours = 0;
	cr_assert_eq(ut_proc_start_time(pid, &ours), 0, "%s", ut_errmsg());
	cr_expect_eq(ours, start, "ut_proc_start_time agrees with /proc read by cut");
	cr_expect_eq(ut_proc_start_time(999999999, &ours), UT_ENOTFOUND);

	char *content = tsupport_printf("utmpatch-lock pid=%ld start=%llu\n", (long)pid, start);
	tx_write(lockpath, content);
	struct ut_lock l;
	cr_assert_eq(ut_lock_acquire(&l, lockpath, "the bundle"), UT_EBUSY);
	char *want = tsupport_printf("another utmpatch (pid %ld) is working on 'the bundle'", (long)pid);
	cr_expect_str_eq(ut_errmsg(), want);
	cr_expect_eq(lock_file_pid(lockpath), (long)pid, "a busy lock is left alone");

	free(content);
	content = tsupport_printf("utmpatch-lock pid=%ld start=%llu\n", (long)pid, start + 1);
	tx_write(lockpath, content);
	cr_assert_eq(ut_lock_acquire(&l, lockpath, "the bundle"), 0, "%s", ut_errmsg());
	cr_expect(strstr(l.note, "stale lock"), "%s", l.note);
	ut_lock_release(&l);

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	free(content);
	free(want);
}
#endif

/* Garbage in the lock file with no holder: taken over. */
Test(ut_lock, unreadable_stale_lock_taken_over)
{
	tx_write(lockpath, "garbage");
	struct ut_lock l;
	cr_assert_eq(ut_lock_acquire(&l, lockpath, "x"), 0, "%s", ut_errmsg());
	cr_expect(strstr(l.note, "unreadable stale lock"), "%s", l.note);
	ut_lock_release(&l);
}

/* Two processes take the lock 150 times each; a marker made with O_EXCL proves nobody else was inside. */
static int racer(const char *marker)
{
	for (int i = 0; i < 150; i++) {
		struct ut_lock l;
		int rc;
		while ((rc = ut_lock_acquire(&l, lockpath, "x")) == UT_EBUSY)
			;
		if (rc)
			return 2;
		int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			return 3; /* someone else is inside */
		close(fd);
		struct timespec ts = { 0, 20000 };
		nanosleep(&ts, NULL);
		unlink(marker);
		ut_lock_release(&l);
	}
	return 0;
}

Test(ut_lock, racing_processes_are_mutually_excluded)
{
	char *marker = tsupport_printf("%s/inside", env.root);
	pid_t kids[3];
	fflush(NULL);
	for (int k = 0; k < 3; k++) {
		kids[k] = fork();
		cr_assert(kids[k] >= 0);
		if (kids[k] == 0)
			_exit(racer(marker));
	}
	for (int k = 0; k < 3; k++) {
		int status;
		cr_assert_eq(waitpid(kids[k], &status, 0), kids[k]);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "racer %d: status 0x%x", k, status);
	}
	cr_expect(!ts_exists(lockpath));
	free(marker);
}
