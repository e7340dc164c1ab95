/* ut_platform.c - OS-specific pieces behind one header. */
#if defined(__linux__)
#define _GNU_SOURCE
#else
#define _DARWIN_C_SOURCE
#endif
#include "ut_platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(__APPLE__)
#include <sys/xattr.h>
#endif

#include "ut_err.h"

static int copy_by_pread(int in_fd, uint64_t in_off, int out_fd, uint64_t len, const char *in_name,
			 const char *out_name)
{
	enum { CHUNK = 1 << 20 };
	uint8_t *buf = malloc(CHUNK);
	if (!buf)
		return ut_fail(UT_ENOMEM, "cannot allocate a copy buffer");
	int rc = 0;
	while (len && !rc) {
		size_t want = len < CHUNK ? (size_t)len : CHUNK;
		ssize_t n = pread(in_fd, buf, want, (off_t)in_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? ut_fail_errno(UT_EIO, errno, "cannot read '%s'", in_name)
				   : ut_fail(UT_EIO, "'%s' shrank while being copied", in_name);
			break;
		}
		size_t done = 0;
		while (done < (size_t)n) {
			ssize_t w = write(out_fd, buf + done, (size_t)n - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rc = ut_fail_errno(UT_EIO, errno, "cannot write '%s'", out_name);
				break;
			}
			done += (size_t)w;
		}
		in_off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	free(buf);
	return rc;
}

int ut_copy_range(int in_fd, uint64_t in_off, int out_fd, uint64_t len, const char *in_name,
		  const char *out_name)
{
#if defined(__linux__)
	while (len) {
		loff_t off = (loff_t)in_off;
		size_t want = len > (1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t n = copy_file_range(in_fd, &off, out_fd, NULL, want, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return copy_by_pread(in_fd, in_off, out_fd, len, in_name, out_name);
		in_off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
#else
	return copy_by_pread(in_fd, in_off, out_fd, len, in_name, out_name);
#endif
}

int ut_ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

uint64_t ut_peak_rss(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
#if defined(__APPLE__)
	return (uint64_t)ru.ru_maxrss;
#else
	return (uint64_t)ru.ru_maxrss * 1024;
#endif
}

int ut_strip_xattrs(const char *path)
{
#if defined(__APPLE__)
	ssize_t n = listxattr(path, NULL, 0, XATTR_NOFOLLOW);
	if (n <= 0)
		return 0;
	char *names = malloc((size_t)n);
	if (!names)
		return ut_fail(UT_ENOMEM, "out of memory");
	n = listxattr(path, names, (size_t)n, XATTR_NOFOLLOW);
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
		if (removexattr(path, names + i, XATTR_NOFOLLOW) != 0 && errno != ENOATTR) {
			int e = errno;
			free(names);
			return ut_fail_errno(UT_EIO, e, "cannot remove extended attribute from '%s'", path);
		}
	}
	free(names);
	return 0;
#else
	(void)path;
	return 0;
#endif
}

#if defined(__linux__)
#include <stdio.h>
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#endif
#include <sys/file.h>

int ut_proc_start_time(long pid, uint64_t *out)
{
	*out = 0;
	if (pid <= 0)
		return ut_fail(UT_EINVAL, "bad pid %ld", pid);
#if defined(__linux__)
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? ut_fail(UT_ENOTFOUND, "no process %ld", pid)
				       : ut_fail_errno(UT_EUNSUPPORTED, errno, "cannot read '%s'", path);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name "(...)": state is field 3, starttime field 22. */
	char *p = strrchr(buf, ')');
	if (!p)
		return ut_fail(UT_EUNSUPPORTED, "unexpected '%s'", path);
	p++;
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return ut_fail(UT_EUNSUPPORTED, "unexpected '%s'", path);
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p + 1, &end, 10);
	if (errno || end == p + 1)
		return ut_fail(UT_EUNSUPPORTED, "unexpected '%s'", path);
	*out = v;
	return 0;
#elif defined(__APPLE__)
	int mib[4] = { CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)pid };
	struct kinfo_proc kp;
	size_t len = sizeof(kp);
	memset(&kp, 0, sizeof(kp));
	if (sysctl(mib, 4, &kp, &len, NULL, 0) != 0)
		return ut_fail_errno(UT_EUNSUPPORTED, errno, "cannot query process %ld", pid);
	if (len == 0)
		return ut_fail(UT_ENOTFOUND, "no process %ld", pid);
	*out = (uint64_t)kp.kp_proc.p_starttime.tv_sec * 1000000u + (uint64_t)kp.kp_proc.p_starttime.tv_usec;
	return 0;
#else
	return ut_fail(UT_EUNSUPPORTED, "process start times are not known on this system");
#endif
}

int ut_flock_try(int fd)
{
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			return ut_fail(UT_EBUSY, "locked by another process");
		return ut_fail_errno(UT_EUNSUPPORTED, errno, "cannot flock");
	}
}
