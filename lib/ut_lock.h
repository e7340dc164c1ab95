/*
 * ut_lock.h - an exclusive lock per bundle, safe against dead holders.
 *
 * The lock is a file "utmpatch-lock pid=<pid> start=<process start time>\n".
 * It is written under a temporary name, flock()ed, then link()ed into place,
 * so a lock file that exists always has its content and (where flock works)
 * its holder's flock.  A lock is stale when its pid is dead (kill(pid, 0)
 * fails with ESRCH) or belongs to a process that started at another time
 * (pid reused); a stale lock is taken over in place, under flock, and the
 * takeover is reported in note.  A live holder gives UT_EBUSY "another
 * utmpatch (pid N) is working on '<what>'".
 */
#ifndef UT_LOCK_H
#define UT_LOCK_H

struct ut_lock {
	int fd;       /* -1 when not held */
	char *path;
	char note[160]; /* "took over the stale lock of pid N (...)" or "" */
};

/* Takes the lock at path; what names the locked thing in messages. */
int ut_lock_acquire(struct ut_lock *l, const char *path, const char *what);
/* Removes the lock file and releases it (no-op when not held). */
void ut_lock_release(struct ut_lock *l);
/*
 * Without taking it: the pid of a live process holding the lock at path
 * (*pid > 0), or *pid = 0 when there is no lock or it is stale.
 */
int ut_lock_probe(const char *path, long *pid);

#endif
