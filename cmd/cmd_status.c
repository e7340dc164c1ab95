/* cmd_status.c - `utmpatch status`: pristine, patched, drifted or interrupted. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "cmd_env.h"
#include "ut_buf.h"
#include "ut_err.h"
#include "ut_install.h"
#include "ut_json.h"
#include "ut_state.h"

static const char usage[] =
	"usage: utmpatch status [--app PATH] [--state-dir DIR] [--json]\n"
	"\n"
	"What utmpatch knows about UTM.app:\n"
	"  pristine     nothing installed (or everything rolled back)\n"
	"  patched      as utmpatch left it: the target, the dylib's sha256, when\n"
	"  drifted      changed since utmpatch wrote it: each path and how\n"
	"  interrupted  a transaction or rollback did not finish: what to run\n"
	"\n"
	"  --app PATH       UTM.app (default /Applications/UTM.app)\n"
	"  --state-dir DIR  utmpatch's records (default as for install)\n"
	"  --json           the report as JSON (docs/schemas/install.schema.json, command \"status\")\n"
	"\n"
	"exit: 0 pristine or patched, 1 drifted or interrupted, 2 usage, 3 could not read\n";

struct status_args {
	const char *app, *state_dir;
	int json;
};

static int parse(int argc, char **argv, struct status_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (cmd_is(arg, "-h") || cmd_is(arg, "--help"))
			return cmd_help(usage) == EXIT_OK ? 1 : EXIT_FAIL;
		if (cmd_is(arg, "--app") || cmd_is(arg, "--state-dir")) {
			const char *v = cmd_value(argc, argv, &i);
			if (!v || !*v)
				return cmd_usage_error(usage, "status: %s needs a value", arg);
			*(cmd_is(arg, "--app") ? &a->app : &a->state_dir) = v;
		} else if (cmd_is(arg, "--json")) {
			a->json = 1;
		} else {
			return cmd_usage_error(usage, "status: unknown argument '%s'", arg);
		}
	}
	return 0;
}

static void when(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	snprintf(out, 32, "unknown");
	if (t > 0 && gmtime_r(&tt, &tm))
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void print_text(const struct ut_state_report *r)
{
	char t[32];
	printf("UTM.app: %s\nstate: %s\n", r->bundle, ut_state_name(r->state));
	const char *target = ut_state_report_meta(r, UT_META_TARGET);
	const char *sha = ut_state_report_meta(r, UT_META_DYLIB_SHA256);
	const char *dylib = ut_state_report_meta(r, UT_META_DYLIB);
	const char *restored = ut_state_report_meta(r, "restored");
	if (r->txn_id) {
		when(r->time, t);
		if (target)
			printf("target: %s.framework\ndylib: %s\ndylib sha256: %s\n", target, dylib ? dylib : "?",
			       sha ? sha : "?");
		if (restored)
			printf("entitlements restored: %s\n", restored);
		const char *signer = ut_state_report_meta(r, UT_META_SIGNER);
		if (signer)
			printf("signed: %s\n", signer);
		printf("when: %s (transaction %s)\nfiles recorded: %zu, pristine backups: %zu\n", t, r->txn_id, r->nfiles,
		       r->npristine);
	}
	for (size_t i = 0; i < r->ndrift; i++)
		printf("  %s: %s (%s -> %s)\n", r->drift[i].what, r->drift[i].path, ut_kind_name(r->drift[i].kind_recorded),
		       ut_kind_name(r->drift[i].kind_now));
	if (r->state == UT_STATE_INTERRUPTED) {
		const struct ut_interrupted *x = &r->intr;
		printf("interrupted: %s; %llu journal records, the last %s%s%s; committed: %s, rolling back: %s\n",
		       x->rollback_only ? "a rollback" : x->what ? x->what : "a transaction",
		       (unsigned long long)x->records, x->last_record ? x->last_record : "?", x->last_path ? " " : "",
		       x->last_path ? x->last_path : "", x->committed ? "yes" : "no", x->rolling_back ? "yes" : "no");
	}
	if (r->locked_by)
		printf("locked by: utmpatch pid %ld (working on it now)\n", r->locked_by);
	if (r->hint)
		printf("next: %s\n", r->hint);
	else if (r->state == UT_STATE_INTERRUPTED)
		printf("next: run 'utmpatch rollback'\n");
}

static int print_json(const struct ut_state_report *r)
{
	struct ut_buf b;
	struct ut_json j;
	char t[32];
	ut_buf_init(&b, 0);
	ut_json_init(&j, &b, 1);
	ut_json_obj(&j);
	ut_json_kstr(&j, "command", "status");
	ut_json_kstr(&j, "app", r->bundle);
	ut_json_kstr(&j, "state", ut_state_name(r->state));
	ut_json_key(&j, "install");
	if (r->txn_id) {
		when(r->time, t);
		ut_json_obj(&j);
		ut_json_kstr(&j, "transaction", r->txn_id);
		ut_json_kstr(&j, "time", r->time > 0 ? t : NULL);
		ut_json_key(&j, "meta");
		ut_json_obj(&j);
		for (size_t i = 0; i < r->nmeta; i++)
			if (strncmp(r->meta[i].key, UT_META_PRISTINE_ENTS, strlen(UT_META_PRISTINE_ENTS)) != 0)
				ut_json_kstr(&j, r->meta[i].key, r->meta[i].value);
		ut_json_end(&j);
		ut_json_kuint(&j, "files", r->nfiles);
		ut_json_kuint(&j, "pristine_backups", r->npristine);
		ut_json_end(&j);
	} else {
		ut_json_null(&j);
	}
	ut_json_key(&j, "drift");
	ut_json_arr(&j);
	for (size_t i = 0; i < r->ndrift; i++) {
		ut_json_obj(&j);
		ut_json_kstr(&j, "path", r->drift[i].path);
		ut_json_kstr(&j, "what", r->drift[i].what);
		ut_json_kstr(&j, "recorded", ut_kind_name(r->drift[i].kind_recorded));
		ut_json_kstr(&j, "now", ut_kind_name(r->drift[i].kind_now));
		ut_json_end(&j);
	}
	ut_json_end(&j);
	ut_json_key(&j, "interrupted");
	if (r->state == UT_STATE_INTERRUPTED) {
		const struct ut_interrupted *x = &r->intr;
		ut_json_obj(&j);
		ut_json_kbool(&j, "rollback_only", x->rollback_only);
		ut_json_kstr(&j, "what", x->what);
		ut_json_kbool(&j, "committed", x->committed);
		ut_json_kbool(&j, "rolling_back", x->rolling_back);
		ut_json_kuint(&j, "records", x->records);
		ut_json_kstr(&j, "last_record", x->last_record);
		ut_json_kstr(&j, "last_path", x->last_path);
		ut_json_end(&j);
	} else {
		ut_json_null(&j);
	}
	ut_json_key(&j, "locked_by");
	if (r->locked_by)
		ut_json_int(&j, r->locked_by);
	else
		ut_json_null(&j);
	ut_json_kstr(&j, "next", r->hint ? r->hint : r->state == UT_STATE_INTERRUPTED ? "run 'utmpatch rollback'" : NULL);
	ut_json_end(&j);
	return cmd_json_print(&j, &b);
}

int cmd_status(int argc, char **argv)
{
	struct status_args a = { 0 };
	int prc = parse(argc, argv, &a);
	if (prc)
		return prc == 1 ? EXIT_OK : prc;
	char *dflt;
	int rc = cmd_app_defaults(&a.app, &a.state_dir, &dflt);
	if (rc)
		return cmd_fail(rc);
	struct ut_state_report r;
	rc = ut_state_inspect(&r, a.state_dir, a.app);
	free(dflt);
	if (rc) {
		cmd_fail(rc);
		return EXIT_FAIL; /* could not read, even for UT_EINVAL */
	}
	if (a.json)
		rc = print_json(&r);
	else
		print_text(&r);
	int code = rc ? EXIT_FAIL
		   : r.state == UT_STATE_DRIFTED || r.state == UT_STATE_INTERRUPTED ? EXIT_BAD
										     : EXIT_OK;
	if (rc)
		cmd_fail(rc);
	ut_state_report_release(&r);
	return cmd_finish(code);
}
