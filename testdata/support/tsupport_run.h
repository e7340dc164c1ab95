/*
 * tsupport_run.h - run a program (usually the utmpatch CLI) and capture its
 * stdout, stderr and exit status.  Test helper; not part of the library.
 *
 *   struct tsupport_out o;
 *   const char *argv[] = { ts_bin(), "vmcheck", "--json", path, NULL };
 *   cr_assert_eq(tsupport_run(&o, argv, NULL, NULL), 0);
 *   cr_assert_eq(o.status, 1);
 *   tsupport_out_release(&o);
 */
#ifndef TSUPPORT_RUN_H
#define TSUPPORT_RUN_H

#include <stddef.h>

struct tsupport_out {
	int status; /* exit code; 128 + signal number when killed */
	char *out;  /* stdout, NUL-terminated */
	size_t outlen;
	char *err; /* stderr, NUL-terminated */
	size_t errlen;
};

/*
 * Runs argv[0] (searched in PATH when it has no '/') with argv.  env lists
 * "NAME=value" entries to set and "NAME" entries to remove, on top of the
 * current environment (NULL: unchanged).  stdin_data (NULL: empty) is fed to
 * standard input.  Returns 0 when the program ran (see o->status), -1 when it
 * could not be started.
 */
int tsupport_run(struct tsupport_out *o, const char *const *argv, const char *const *env, const char *stdin_data);
void tsupport_out_release(struct tsupport_out *o);

/* $UTMPATCH_ROOT, else "." (tsupport.c; ts_root(rel) joins a path to it).  The program is ts_bin(). */
const char *tsupport_root(void);

#endif
