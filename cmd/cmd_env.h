/*
 * cmd_env.h - what commands load before they run: extra trust anchors, a
 * signing identity, the default state directory (from HOME / XDG_STATE_HOME),
 * UTM's profiles (--profiles or UTMPATCH_PROFILES) and the VMs to check; and
 * what install and entitlements --restore share (their options, their report).
 */
#ifndef CMD_ENV_H
#define CMD_ENV_H

#include "cs_cms.h"
#include "cs_pki.h"
#include "ut_profiles.h"
#include "ut_report.h"
#include "ut_vmconfig.h"

#define CMD_DEFAULT_APP "/Applications/UTM.app"

struct cmd_env {
	struct cs_trust trust;     /* anchors malloc'd (empty when no --anchors) */
	struct cs_identity *id;    /* NULL when no --identity */
	struct ut_profiles *profiles;
	char *state_dir;           /* the default, when none was given */
	char *profiles_dir;
};

struct cmd_env_args {
	const char *anchors, *p12, *password, *profiles_dir;
	int want_state_dir;        /* compute the default state directory */
};

int cmd_env_load(struct cmd_env *e, const struct cmd_env_args *a);
void cmd_env_release(struct cmd_env *e);
/*
 * The transaction options install and entitlements --restore share, set in o:
 * the default app, the UTM-running check, the journaled tool version,
 * UTMPATCH_FAIL_AFTER, TMPDIR (else /tmp) as the work directory; then
 * cmd_env_load (the default state directory only when o has none) and what it
 * loaded: trust (with --anchors), identity, state directory.  e is released
 * by the caller in every case.
 */
struct ut_install_opts;
int cmd_env_load_install(struct cmd_env *e, struct ut_install_opts *o, const struct cmd_env_args *a);
/* The plan/result text on stdout (unless json), then, when refused, the problems on stderr:
 * "utmpatch: <what> refused (nothing was changed):". */
struct ut_install;
void cmd_install_print(const struct ut_install *in, enum ut_report_result res, int json, const char *what);
/* Shared with cmd_audit.c / cmd_verify.c: an anchors file into *trust (free trust->anchors). */
int cmd_verify_load_anchors(const char *path, struct cs_trust *trust);

/* The test hook UTMPATCH_FAIL_AFTER=N: SIGKILL after the N-th journal record (0: unset or invalid). */
unsigned cmd_fail_after(void);
/* utmpatch's state directory when --state-dir is not given (from HOME / XDG_STATE_HOME); *out malloc'd. */
int cmd_default_state_dir(char **out);
/*
 * --app and --state-dir when they were not given: CMD_DEFAULT_APP and
 * cmd_default_state_dir (into *owned, NULL when not needed; the caller frees it).
 */
int cmd_app_defaults(const char **app, const char **state_dir, char **owned);
/* The VMs at paths (see ut_vm_list_add_path), or with none UTM's own (ut_vm_list_add_defaults under HOME). */
int cmd_vm_collect(struct ut_vm_list *l, const char *const *paths, int npaths);

#endif
