/* ut_lock.c - the per-bundle lock file (see ut_lock.h). */
#define _POSIX_C_SOURCE 200809L
#include "ut_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ut_err.h"
#include "ut_file.h"
#include "ut_platform.h"

struct holder {
	long pid;
	uint64_t start; /* 0: unknown */
};

/* Parses "utmpatch-lock pid=N start=N\n"; 0 when it does not parse. */
static int parse_holder(const char *s, struct holder *h)
{
	unsigned long long start = 0;
	long pid = 0;
	if (sscanf(s, "utmpatch-lock pid=%ld start=%llu", &pid, &start) < 1 || pid <= 0)
		return 0;
	h->pid = pid;
	h->start = start;
	return 1;
}

static int read_holder(int fd, struct holder *h)
{
	char buf[128];
	memset(h, 0, sizeof(*h));
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return parse_holder(buf, h);
}

/* 1 when the holder's process is alive (and is the same process, when the start time is known). */
static int holder_alive(const struct holder *h)
{
	if (kill((pid_t)h->pid, 0) != 0 && errno == ESRCH)
		return 0;
	uint64_t now;
	if (h->start && ut_proc_start_time(h->pid, &now) == 0 && now != h->start)
		return 0; /* the pid was reused */
	ut_err_clear();
	return 1;
}

static int write_holder(int fd)
{
	uint64_t start = 0;
	if (ut_proc_start_time((long)getpid(), &start) != 0)
		start = 0;
	ut_err_clear();
	char buf[96];
	int n = snprintf(buf, sizeof(buf), "utmpatch-lock pid=%ld start=%llu\n", (long)getpid(),
			 (unsigned long long)start);
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n || fsync(fd) != 0)
		return ut_fail_errno(UT_EIO, errno, "cannot write the lock file");
	return 0;
}

static int busy(const struct holder *h, const char *what)
{
	if (h->pid > 0)
		return ut_fail(UT_EBUSY, "another utmpatch (pid %ld) is working on '%s'", h->pid, what);
	return ut_fail(UT_EBUSY, "another utmpatch is working on '%s'", what);
}

/* A new lock file with our pid, flock'ed, linked into place.  1: created; 0: one exists. */
static int create_lock(struct ut_lock *l, int *created)
{
	*created = 0;
	char *tmp = NULL;
	size_t n = strlen(l->path) + 48;
	tmp = malloc(n);
	if (!tmp)
		return ut_fail(UT_ENOMEM, "out of memory");
	snprintf(tmp, n, "%s-%ld.tmp", l->path, (long)getpid());
	unlink(tmp); /* our own leftover */
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		free(tmp);
		return ut_fail_errno(UT_EIO, e, "cannot create lock file '%s'", l->path);
	}
	int rc = ut_flock_try(fd);
	if (rc == UT_EUNSUPPORTED)
		rc = 0;
	if (!rc)
		rc = write_holder(fd);
	if (!rc) {
		if (link(tmp, l->path) == 0) {
			*created = 1;
			rc = ut_fsync_parent(l->path);
		} else if (errno != EEXIST) {
			rc = ut_fail_errno(UT_EIO, errno, "cannot create lock file '%s'", l->path);
		}
	}
	unlink(tmp);
	free(tmp);
	if (rc || !*created) {
		close(fd);
		return rc;
	}
	l->fd = fd;
	return 0;
}

int ut_lock_acquire(struct ut_lock *l, const char *path, const char *what)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->path = strdup(path);
	if (!l->path)
		return ut_fail(UT_ENOMEM, "out of memory");
	for (int attempt = 0; attempt < 20; attempt++) {
		int created;
		int rc = create_lock(l, &created);
		if (rc || created) {
			if (rc)
				ut_lock_release(l);
			return rc;
		}
		/* A lock exists: is its holder alive? */
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue; /* released meanwhile */
			rc = ut_fail_errno(UT_EIO, errno, "cannot open lock file '%s'", path);
			ut_lock_release(l);
			return rc;
		}
		struct holder h;
		rc = ut_flock_try(fd);
		int flock_ok = rc != UT_EUNSUPPORTED;
		if (rc == UT_EBUSY) {
			read_holder(fd, &h);
			close(fd);
			rc = busy(&h, what);
			ut_lock_release(l);
			return rc;
		}
		ut_err_clear();
		/* We hold its flock (or flock does not work here): make sure it is still the lock file. */
		struct stat a, b;
		if (fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
			close(fd);
			continue;
		}
		int known = read_holder(fd, &h);
		if (known && holder_alive(&h)) {
			/* alive without its flock: a file system without flock, so trust the pid */
			close(fd);
			rc = busy(&h, what);
			ut_lock_release(l);
			return rc;
		}
		if (!known && !flock_ok) {
			close(fd);
			rc = busy(&h, what);
			ut_lock_release(l);
			return rc;
		}
		rc = write_holder(fd);
		if (rc) {
			close(fd);
			ut_lock_release(l);
			return rc;
		}
		if (known)
			snprintf(l->note, sizeof(l->note), "took over the stale lock of pid %ld (no longer running)", h.pid);
		else
			snprintf(l->note, sizeof(l->note), "took over an unreadable stale lock");
		l->fd = fd;
		return 0;
	}
	ut_lock_release(l);
	return ut_fail(UT_EBUSY, "cannot take the lock '%s' (it keeps changing)", path);
}

void ut_lock_release(struct ut_lock *l)
{
	if (!l)
		return;
	if (l->fd >= 0 && l->path) {
		unlink(l->path); /* while holding the flock: late openers see another inode and retry */
		close(l->fd);
	}
	free(l->path);
	l->path = NULL;
	l->fd = -1;
}

int ut_lock_probe(const char *path, long *pid)
{
	*pid = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : ut_fail_errno(UT_EIO, errno, "cannot open lock file '%s'", path);
	struct holder h;
	int known = read_holder(fd, &h);
	int rc = ut_flock_try(fd);
	ut_err_clear();
	if (rc == UT_EBUSY)
		*pid = known ? h.pid : -1;
	else if (known && holder_alive(&h))
		*pid = h.pid; /* alive without its flock: ut_lock_acquire() would say busy too */
	close(fd); /* drops the flock we may have taken */
	return 0;
}
