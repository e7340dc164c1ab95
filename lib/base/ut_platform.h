/*
 * ut_platform.h - the only place with OS-specific calls (Linux / macOS).
 */
#ifndef UT_PLATFORM_H
#define UT_PLATFORM_H

#include <stdint.h>

/* Copies len bytes from in_fd at in_off to the current position of out_fd. */
int ut_copy_range(int in_fd, uint64_t in_off, int out_fd, uint64_t len, const char *in_name,
		  const char *out_name);
/* Number of online CPUs (at least 1). */
int ut_ncpu(void);
/* Peak resident set size of this process in bytes (0 when unknown). */
uint64_t ut_peak_rss(void);
/* Removes every extended attribute of path (macOS: quarantine etc.); no-op elsewhere. */
int ut_strip_xattrs(const char *path);
/*
 * Start time of process pid in an OS-specific unit (Linux: clock ticks since
 * boot; macOS: microseconds since the epoch), to tell a reused pid from the
 * original process.  UT_ENOTFOUND when there is no such process,
 * UT_EUNSUPPORTED when the OS does not say.
 */
int ut_proc_start_time(long pid, uint64_t *out);
/*
 * flock(LOCK_EX | LOCK_NB) on fd: 0 when taken, UT_EBUSY when another open
 * file holds it, UT_EUNSUPPORTED when the file system cannot lock.
 */
int ut_flock_try(int fd);

#endif
