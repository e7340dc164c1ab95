/* cmd_install.c - `utmpatch install`: put a custom QEMU dylib into UTM.app, re-signing what must be. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cmd.h"
#include "cmd_env.h"
#include "ut_buf.h"
#include "ut_err.h"
#include "ut_install.h"
#include "ut_report.h"

static const char usage[] =
	"usage: utmpatch install DYLIB [--app PATH] [--target NAME] [--sysroot DIR]...\n"
	"                        [--identity F.p12 [--password-file F]] [--profile FILE]... [--anchors ROOTS.tsv]\n"
	"                        [--minimal] [--dry-run] [--json] [--state-dir DIR] [--force]\n"
	"                        [--arch ARCH] [--allow-missing-arch] [--signing-time SECONDS] [--profiles DIR]\n"
	"\n"
	"Replaces one QEMU framework of UTM.app with DYLIB (a libqemu-<target>-softmmu.dylib built against\n"
	"UTM's sysroot): rewrites its install names to UTM's framework form, checks that dyld would load it\n"
	"in QEMULauncher (dependencies, architectures, versions, every imported symbol, UTM's entry points),\n"
	"signs it, re-signs QEMULauncher when library validation would refuse it, reseals the enclosing\n"
	"bundles inside-out, backs up every file it changes and applies everything in one journaled\n"
	"transaction that is undone on any failure ('utmpatch rollback' returns to the pristine bytes).\n"
	"\n"
	"  --app PATH            UTM.app (default /Applications/UTM.app)\n"
	"  --target NAME         framework to replace (qemu-aarch64-softmmu); default: from DYLIB's install name\n"
	"  --sysroot DIR         the lib directory of the sysroot DYLIB was built against (repeatable):\n"
	"                        each dependency is looked up there, its install name and version shown\n"
	"                        next to the bundled framework's, and an older bundled framework is a warning\n"
	"  --identity F.p12      sign with this certificate instead of ad hoc (--password-file F)\n"
	"  --profile FILE        a provisioning profile of the identity's team: it grants its restricted\n"
	"                        entitlements to the component its application identifier names, and\n"
	"                        replaces that component's embedded.provisionprofile (repeatable)\n"
	"  --anchors F           extra trusted roots for the verify step and profiles (test PKIs)\n"
	"  --minimal             re-sign only the framework (warns what breaks on a library-validating UTM)\n"
	"  --dry-run             print the whole plan; change nothing\n"
	"  --json                the plan and result as JSON (docs/schemas/install.schema.json)\n"
	"  --state-dir DIR       backups and records (default: ~/Library/Application Support/utmpatch on\n"
	"                        macOS, $XDG_STATE_HOME/utmpatch or ~/.local/state/utmpatch elsewhere)\n"
	"  --force               proceed although the bundle changed since utmpatch last wrote it\n"
	"  --arch ARCH           the Mac's architecture: DYLIB must have it (default on macOS: this Mac's;\n"
	"                        elsewhere every architecture of UTM's framework is needed)\n"
	"  --allow-missing-arch  keep UTM's own slices for the architectures DYLIB lacks\n"
	"  --signing-time S      CMS signing time with --identity (seconds since 1970)\n"
	"  --profiles DIR        utmpatch's profiles/ data (default: next to the program)\n"
	"\n"
	"exit: 0 installed (or planned), 2 usage, 3 refused or failed (the bundle unchanged)\n";

#define MAX_LIST 16

struct install_args {
	struct ut_install_opts o;
	const char *sysroots[MAX_LIST], *profiles[UT_INSTALL_MAX_PROFILES];
	const char *p12, *password, *anchors, *profiles_dir, *arch;
	int json;
};

static int parse_list(const char **list, size_t *n, size_t max, const char *v)
{
	if (*n >= max)
		return -1;
	list[(*n)++] = v;
	return 0;
}

static int parse(int argc, char **argv, struct install_args *a)
{
	struct ut_install_opts *o = &a->o;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v = NULL;
		if (cmd_is(arg, "-h") || cmd_is(arg, "--help"))
			return cmd_help(usage) == EXIT_OK ? 1 : EXIT_FAIL;
		static const char *const valued[] = { "--app", "--target", "--sysroot", "--identity", "--password-file",
						      "--profile", "--anchors", "--state-dir", "--arch", "--signing-time",
						      "--profiles" };
		for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
			if (cmd_is(arg, valued[k]) && (!(v = cmd_value(argc, argv, &i)) || !*v))
				return cmd_usage_error(usage, "install: %s needs a value", arg);
		if (cmd_is(arg, "--app")) {
			o->app = v;
		} else if (cmd_is(arg, "--target")) {
			o->target = v;
		} else if (cmd_is(arg, "--sysroot")) {
			if (parse_list(a->sysroots, &o->nsysroots, MAX_LIST, v))
				return cmd_usage_error(usage, "install: at most %d --sysroot", MAX_LIST);
		} else if (cmd_is(arg, "--profile")) {
			if (parse_list(a->profiles, &o->nprofiles, UT_INSTALL_MAX_PROFILES, v))
				return cmd_usage_error(usage, "install: at most %d --profile", UT_INSTALL_MAX_PROFILES);
		} else if (cmd_is(arg, "--identity")) {
			a->p12 = v;
		} else if (cmd_is(arg, "--password-file")) {
			a->password = v;
		} else if (cmd_is(arg, "--anchors")) {
			a->anchors = v;
		} else if (cmd_is(arg, "--state-dir")) {
			o->state_dir = v;
		} else if (cmd_is(arg, "--arch")) {
			if (strcmp(v, "arm64") && strcmp(v, "x86_64"))
				return cmd_usage_error(usage, "install: --arch is arm64 or x86_64");
			a->arch = v;
		} else if (cmd_is(arg, "--signing-time")) {
			char *end;
			long long t = strtoll(v, &end, 10);
			if (*end || t <= 0)
				return cmd_usage_error(usage, "install: --signing-time needs seconds since 1970");
			o->signing_time = t;
		} else if (cmd_is(arg, "--profiles")) {
			a->profiles_dir = v;
		} else if (cmd_is(arg, "--minimal")) {
			o->minimal = 1;
		} else if (cmd_is(arg, "--dry-run")) {
			o->dry_run = 1;
		} else if (cmd_is(arg, "--json")) {
			a->json = 1;
		} else if (cmd_is(arg, "--force")) {
			o->force = 1;
		} else if (cmd_is(arg, "--allow-missing-arch")) {
			o->allow_missing_arch = 1;
		} else if (arg[0] == '-' && arg[1]) {
			return cmd_usage_error(usage, "install: unknown option '%s'", arg);
		} else if (!o->dylib) {
			o->dylib = arg;
		} else {
			return cmd_usage_error(usage, "install: more than one DYLIB");
		}
	}
	if (!o->dylib)
		return cmd_usage_error(usage, "install: missing DYLIB");
	if (a->password && !a->p12)
		return cmd_usage_error(usage, "install: --password-file goes with --identity");
	if (o->nprofiles && !a->p12)
		return cmd_usage_error(usage, "install: --profile needs --identity");
	o->sysroots = a->sysroots;
	o->profiles = a->profiles;
	return 0;
}

/* The Mac's architecture: --arch, else this machine's on macOS, else none (every slice needed). */
static const char *mac_arch(const char *given)
{
	if (given)
		return given;
#ifdef __APPLE__
	struct utsname u;
	if (uname(&u) == 0)
		return strcmp(u.machine, "x86_64") == 0 ? "x86_64" : "arm64";
	return "arm64";
#else
	return NULL;
#endif
}

static void print_result(const struct ut_install *in, int json, enum ut_report_result res, const char *error)
{
	if (json) {
		struct ut_buf b;
		ut_buf_init(&b, 0);
		if (!ut_report_install_json(&b, in, res, error))
			fwrite(b.p, 1, b.len, stdout);
		ut_buf_release(&b);
	}
	cmd_install_print(in, res, json, "install");
}

int cmd_install(int argc, char **argv)
{
	struct install_args a;
	memset(&a, 0, sizeof(a));
	int prc = parse(argc, argv, &a);
	if (prc)
		return prc == 1 ? EXIT_OK : prc;
	a.o.need_arch = mac_arch(a.arch);
	struct cmd_env e;
	struct ut_install *in = NULL;
	const struct cmd_env_args ea = { a.anchors, a.p12, a.password, a.profiles_dir, 0 };
	int rc = cmd_env_load_install(&e, &a.o, &ea);
	if (cmd_progress_wanted(a.json)) {
		a.o.progress = cmd_progress_cb;
		a.o.progress_ctx = "install";
	}
	if (!rc)
		rc = ut_install_plan(&in, &a.o, e.profiles);
	if (!rc && !a.o.dry_run)
		rc = ut_install_apply(in);
	if (a.o.progress)
		cmd_progress_text(NULL);
	int code = EXIT_OK;
	if (in && (in->app || rc == 0 || (rc == UT_EREFUSED && in->nproblems))) {
		enum ut_report_result res = rc == UT_EREFUSED && in->nproblems ? UT_RESULT_REFUSED
					    : rc                              ? UT_RESULT_FAILED
					    : a.o.dry_run                     ? UT_RESULT_PLANNED
					    : in->applied                     ? UT_RESULT_APPLIED
									      : UT_RESULT_NOTHING;
		char *err = rc && res != UT_RESULT_REFUSED ? strdup(ut_errmsg()) : NULL;
		print_result(in, a.json, res, err);
		if (err)
			ut_fail(rc, "%s", err);
		free(err);
	}
	if (rc == UT_EREFUSED && in && in->nproblems)
		code = EXIT_FAIL;
	else if (rc)
		code = cmd_fail(rc);
	ut_install_free(in);
	cmd_env_release(&e);
	return cmd_finish(code);
}
