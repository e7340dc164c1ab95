/* cmd_rollback.c - `utmpatch rollback`: back to the pristine bytes, checked. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_env.h"
#include "ut_err.h"
#include "ut_install.h"
#include "ut_state.h"

static const char usage[] =
	"usage: utmpatch rollback [--app PATH] [--state-dir DIR] [--dry-run] [--force]\n"
	"\n"
	"Returns UTM.app to the bytes it had before utmpatch first changed it: an interrupted\n"
	"transaction is completed or undone first, then every file utmpatch changed is restored\n"
	"from its backup and checked against the manifest (kind, mode, sha256, and the cdhash of\n"
	"Mach-O files); files utmpatch created are removed.  Killed at any point, running it again\n"
	"finishes the job.\n"
	"\n"
	"  --app PATH       UTM.app (default /Applications/UTM.app)\n"
	"  --state-dir DIR  utmpatch's records (default as for install)\n"
	"  --dry-run        say what would be restored; change nothing\n"
	"  --force          roll back although the bundle changed since utmpatch wrote it\n"
	"                   (those changes are overwritten)\n"
	"\n"
	"exit: 0 byte-identical to the pristine record (or nothing to do), 2 usage, 3 refused or failed\n";

struct rb_args {
	const char *app, *state_dir;
	int dry_run, force;
};

static int parse(int argc, char **argv, struct rb_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (cmd_is(arg, "-h") || cmd_is(arg, "--help"))
			return cmd_help(usage) == EXIT_OK ? 1 : EXIT_FAIL;
		if (cmd_is(arg, "--app") || cmd_is(arg, "--state-dir")) {
			const char *v = cmd_value(argc, argv, &i);
			if (!v || !*v)
				return cmd_usage_error(usage, "rollback: %s needs a value", arg);
			*(cmd_is(arg, "--app") ? &a->app : &a->state_dir) = v;
		} else if (cmd_is(arg, "--dry-run")) {
			a->dry_run = 1;
		} else if (cmd_is(arg, "--force")) {
			a->force = 1;
		} else {
			return cmd_usage_error(usage, "rollback: unknown argument '%s'", arg);
		}
	}
	return 0;
}

static void print_report(const struct ut_rollback_report *r, int dry_run)
{
	if (r->finished)
		printf("an interrupted run was completed first\n");
	if (r->was_pristine) {
		printf("nothing to roll back: utmpatch has no record of changing this bundle\n");
		return;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct ut_restored *it = &r->items[i];
		printf("  %-9s %s", ut_restore_action_name(it->action), it->path);
		if (it->sha256[0])
			printf("  sha256 %.16s..", it->sha256);
		if (it->cdhash[0])
			printf("  cdhash %s%s", it->cdhash, it->cdhash_checked ? " (checked)" : "");
		printf("\n");
	}
	if (dry_run)
		printf("dry run: %zu path%s would be restored (%zu written, %zu removed, %zu already pristine); nothing "
		       "was changed\n",
		       r->n, r->n == 1 ? "" : "s", r->nwritten, r->nremoved, r->nunchanged);
	else
		printf("rolled back: %zu path%s byte for byte as recorded (%zu written, %zu removed, %zu already "
		       "pristine; sha256 of every file and %zu cdhash%s checked)\n",
		       r->n, r->n == 1 ? "" : "s", r->nwritten, r->nremoved, r->nunchanged, r->ncdhash_checked,
		       r->ncdhash_checked == 1 ? "" : "es");
}

int cmd_rollback(int argc, char **argv)
{
	struct rb_args a = { 0 };
	int prc = parse(argc, argv, &a);
	if (prc)
		return prc == 1 ? EXIT_OK : prc;
	char *dflt;
	int rc = cmd_app_defaults(&a.app, &a.state_dir, &dflt);
	if (rc)
		return cmd_fail(rc);
	/* The slice the install recorded cdhashes of (the installed record alone: ut_rollback checks drift). */
	char host[16] = "arm64";
	char *h = NULL;
	rc = ut_state_installed_meta(a.state_dir, a.app, UT_META_HOST_ARCH, &h);
	if (h && strlen(h) < sizeof(host))
		snprintf(host, sizeof(host), "%s", h);
	free(h);
	struct ut_rollback_opts o = {
		.dry_run = a.dry_run,
		.force = a.force,
		.fail_after = cmd_fail_after(),
		.cdhash_of = ut_install_cdhash_of,
		.cdhash_ctx = host,
		.tool_version = UTMPATCH_VERSION,
	};
	struct ut_rollback_report r;
	memset(&r, 0, sizeof(r));
	if (!rc)
		rc = ut_rollback(&r, a.state_dir, a.app, &o);
	for (size_t i = 0; !rc && !a.dry_run && i < r.n; i++)
		if (r.items[i].cdhash[0] && !r.items[i].cdhash_checked)
			rc = ut_fail(UT_EVERIFY, "'%s': its cdhash was not checked", r.items[i].path);
	if (!rc)
		print_report(&r, a.dry_run);
	ut_rollback_report_release(&r);
	free(dflt);
	if (rc)
		return cmd_fail(rc);
	return cmd_finish(EXIT_OK);
}
