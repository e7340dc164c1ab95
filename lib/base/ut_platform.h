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

#endif
