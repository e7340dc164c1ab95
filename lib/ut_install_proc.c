/*
 * ut_install_proc.c - the two questions install asks the OS: is a
 * QEMULauncher of this bundle running (macOS: proc_listallpids +
 * proc_pidpath; Linux: /proc/<pid>/exe), and can a file be created where
 * the transaction will write (on macOS, App Management refuses writes into
 * an app signed by another team with EPERM, utm-domain §5).
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ut_install_int.h"

#ifdef __APPLE__
#include <libproc.h>

int ui_running(const char *path, long *pids, size_t max, size_t *n)
{
	*n = 0;
	char want[PATH_MAX];
	if (!realpath(path, want))
		return 0;
	int cnt = proc_listallpids(NULL, 0);
	if (cnt <= 0)
		return 0;
	pid_t *all = calloc((size_t)cnt + 16, sizeof(pid_t));
	if (!all)
		return ut_fail(UT_ENOMEM, "out of memory");
	cnt = proc_listallpids(all, (int)(((size_t)cnt + 16) * sizeof(pid_t)));
	for (int i = 0; i < cnt && *n < max; i++) {
		char p[PROC_PIDPATHINFO_MAXSIZE];
		if (all[i] > 0 && proc_pidpath(all[i], p, sizeof(p)) > 0 && strcmp(p, want) == 0)
			pids[(*n)++] = all[i];
	}
	free(all);
	return 0;
}
#else
int ui_running(const char *path, long *pids, size_t max, size_t *n)
{
	*n = 0;
	char want[PATH_MAX];
	if (!realpath(path, want))
		return 0;
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	struct dirent *de;
	while (*n < max && (de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid == (long)getpid())
			continue;
		char link[64], target[PATH_MAX];
		snprintf(link, sizeof(link), "/proc/%ld/exe", pid);
		ssize_t k = readlink(link, target, sizeof(target) - 1);
		if (k <= 0)
			continue;
		target[k] = '\0';
		if (strcmp(target, want) == 0)
			pids[(*n)++] = pid;
	}
	closedir(d);
	return 0;
}
#endif

int ui_probe_dir(const char *dir)
{
	char *tmpl = ui_printf("%s/.utmpatch-probe-XXXXXX", dir);
	if (!tmpl)
		return UT_ENOMEM;
	int fd = mkstemp(tmpl);
	int rc = 0;
	if (fd < 0) {
		int e = errno;
#ifdef __APPLE__
		if (e == EPERM)
			rc = ut_fail(UT_EREFUSED,
				     "cannot write into '%s': operation not permitted - macOS protects apps signed by "
				     "another team: allow your terminal under System Settings > Privacy & Security > App "
				     "Management (or Full Disk Access), then run again",
				     dir);
		else
#endif
			rc = ut_fail_errno(UT_EREFUSED, e, "cannot write into '%s'", dir);
	} else {
		close(fd);
		unlink(tmpl);
	}
	free(tmpl);
	return rc;
}

#ifdef __APPLE__
#include <mach-o/dyld.h>
static int self_exe(char *buf, size_t n)
{
	uint32_t size = (uint32_t)n;
	char tmp[PATH_MAX];
	if (_NSGetExecutablePath(tmp, &size) != 0 || !realpath(tmp, buf))
		return -1;
	return 0;
}
#else
static int self_exe(char *buf, size_t n)
{
	ssize_t k = readlink("/proc/self/exe", buf, n - 1);
	if (k <= 0)
		return -1;
	buf[k] = '\0';
	return 0;
}
#endif

int ut_install_find_profiles(char **out, const char *given)
{
	*out = NULL;
	if (given) {
		*out = ui_strdup(given);
		return *out ? 0 : UT_ENOMEM;
	}
	char exe[PATH_MAX];
	if (self_exe(exe, sizeof(exe)) == 0) {
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		static const char *const rel[] = { "../profiles", "../../profiles", "../share/utmpatch/profiles" };
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			char *p = ui_printf("%s/%s/utm-components.plist", exe, rel[i]);
			if (!p)
				return UT_ENOMEM;
			int found = access(p, R_OK) == 0;
			free(p);
			if (found) {
				*out = ui_printf("%s/%s", exe, rel[i]);
				return *out ? 0 : UT_ENOMEM;
			}
		}
	}
	return ut_fail(UT_ENOTFOUND, "cannot find utmpatch's profiles/ directory next to the program: give --profiles DIR "
				     "(or UTMPATCH_PROFILES)");
}
