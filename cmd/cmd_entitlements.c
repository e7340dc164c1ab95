/* cmd_entitlements.c - `utmpatch entitlements`: each component's entitlements against UTM's profile; --restore. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_env.h"
#include "cs_format.h"
#include "ut_buf.h"
#include "ut_err.h"
#include "ut_install.h"
#include "ut_install_ents.h"
#include "ut_json.h"
#include "ut_report.h"

static const char usage[] =
	"usage: utmpatch entitlements [--app PATH] [--json] [--profiles DIR]\n"
	"       utmpatch entitlements --restore [--app PATH] [--dry-run] [--json] [--state-dir DIR] [--force]\n"
	"                             [--identity F.p12 [--password-file F]] [--profile FILE]... [--anchors F]\n"
	"\n"
	"Shows each UTM component's entitlements (UTM.app, utmctl, QEMUHelper.xpc, QEMULauncher.app)\n"
	"against UTM's profile: what it has, what UTM's release has, what UTM requires, and whether\n"
	"QEMULauncher's library validation would refuse the frameworks of this bundle.\n"
	"\n"
	"--restore re-signs the components that lost entitlements UTM needs (e.g. after a\n"
	"`codesign --force --deep --sign -` over the app) with the entitlements of the pristine record,\n"
	"else UTM's release set, minus what the new signature cannot carry, plus the required ones;\n"
	"then reseals their enclosing bundles inside-out.  Framework binaries are not touched.  One\n"
	"journaled transaction, backed up, verified, undone on failure; 'utmpatch rollback' undoes it.\n"
	"\n"
	"exit: 0 nothing missing (or restored), 1 a component lacks entitlements UTM needs,\n"
	"      2 usage, 3 refused or failed\n";

#define MAX_PROFILES UT_INSTALL_MAX_PROFILES

struct ents_args {
	struct ut_install_opts o;
	const char *profiles[MAX_PROFILES];
	const char *p12, *password, *anchors, *profiles_dir;
	int json, restore;
};

static int parse(int argc, char **argv, struct ents_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v = NULL;
		if (cmd_is(arg, "-h") || cmd_is(arg, "--help"))
			return cmd_help(usage) == EXIT_OK ? 1 : EXIT_FAIL;
		static const char *const valued[] = { "--app", "--state-dir", "--identity", "--password-file",
						      "--anchors", "--profile", "--profiles" };
		for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
			if (cmd_is(arg, valued[k]) && (!(v = cmd_value(argc, argv, &i)) || !*v))
				return cmd_usage_error(usage, "entitlements: %s needs a value", arg);
		if (cmd_is(arg, "--app"))
			a->o.app = v;
		else if (cmd_is(arg, "--state-dir"))
			a->o.state_dir = v;
		else if (cmd_is(arg, "--identity"))
			a->p12 = v;
		else if (cmd_is(arg, "--password-file"))
			a->password = v;
		else if (cmd_is(arg, "--anchors"))
			a->anchors = v;
		else if (cmd_is(arg, "--profiles"))
			a->profiles_dir = v;
		else if (cmd_is(arg, "--profile")) {
			if (a->o.nprofiles >= MAX_PROFILES)
				return cmd_usage_error(usage, "entitlements: at most %d --profile", MAX_PROFILES);
			a->profiles[a->o.nprofiles++] = v;
		} else if (cmd_is(arg, "--json"))
			a->json = 1;
		else if (cmd_is(arg, "--restore"))
			a->restore = 1;
		else if (cmd_is(arg, "--dry-run"))
			a->o.dry_run = 1;
		else if (cmd_is(arg, "--force"))
			a->o.force = 1;
		else
			return cmd_usage_error(usage, "entitlements: unknown argument '%s'", arg);
	}
	if (!a->restore && (a->o.dry_run || a->o.force || a->p12 || a->o.nprofiles))
		return cmd_usage_error(usage, "entitlements: --dry-run, --force, --identity and --profile go with --restore");
	if (a->o.nprofiles && !a->p12)
		return cmd_usage_error(usage, "entitlements: --profile needs --identity");
	a->o.profiles = a->profiles;
	return 0;
}

static void signer(const struct ut_sig_info *s, char *out, size_t n)
{
	if (!s->is_signed)
		snprintf(out, n, "unsigned");
	else
		snprintf(out, n, "%s%s%s%s", s->linker ? "linker-signed" : s->adhoc ? "ad hoc" : "certificate",
			 s->team_id[0] ? ", team " : "", s->team_id, (s->flags & CS_RUNTIME) ? ", hardened runtime" : "");
}

/* How many components lack entitlements UTM needs. */
static size_t lacking(const struct ut_ents_report *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += (size_t)r->v[i].needs_restore;
	return n;
}

static void print_text(const struct ut_utmapp *a, const struct ut_ents_report *r)
{
	printf("UTM.app: %s (version %s)\n", a->path, a->version ? a->version : "?");
	for (size_t i = 0; i < r->n; i++) {
		const struct ut_ents_comp *c = &r->v[i];
		const struct ut_utmapp_comp *x = &a->v[c->comp];
		char s[160];
		signer(&x->sig, s, sizeof(s));
		printf("\n%s (%s): %s\n", x->name, x->exec_rel, s);
		printf("  %-52s %-4s %-8s %-8s %s\n", "entitlement", "now", "release", "required", "class");
		for (size_t k = 0; k < c->nkeys; k++) {
			const struct ut_ents_key *e = &c->keys[k];
			printf("  %-52s %-4s %-8s %-8s %s\n", e->key, e->now ? "yes" : "-", e->release ? "yes" : "-",
			       e->required_why ? "yes" : "-", ut_ent_class_name(e->cls));
		}
		for (size_t k = 0; k < c->nkeys; k++) {
			const struct ut_ents_key *e = &c->keys[k];
			if (e->required_why && !e->now)
				printf("  missing required %s: %s\n", e->key, e->required_why);
			else if (e->release && !e->now && e->loss)
				printf("  not carried %s: %s\n", e->key, e->loss);
		}
		if (c->lv)
			printf("  library validation: on%s%s%s\n", c->lv_refuses ? "; it would refuse " : "",
			       c->lv_refuses ? c->lv_framework : "",
			       c->lv_refuses ? ".framework (no Team ID or another team's): needs "
					       UT_ENT_DISABLE_LV : "");
	}
	size_t bad = lacking(r);
	if (bad)
		printf("\n%zu component%s lack%s entitlements UTM needs: run 'utmpatch entitlements --restore'\n", bad,
		       bad == 1 ? "" : "s", bad == 1 ? "s" : "");
	else
		printf("\nevery component has the entitlements UTM needs\n");
}

static void json_components(struct ut_json *j, const struct ut_utmapp *a, const struct ut_ents_report *r)
{
	ut_json_key(j, "components");
	ut_json_arr(j);
	for (size_t i = 0; i < r->n; i++) {
		const struct ut_ents_comp *c = &r->v[i];
		const struct ut_utmapp_comp *x = &a->v[c->comp];
		char s[160];
		signer(&x->sig, s, sizeof(s));
		ut_json_obj(j);
		ut_json_kstr(j, "component", x->name);
		ut_json_kstr(j, "role", ut_utmapp_role_name(x->role));
		ut_json_kstr(j, "executable", x->exec_rel);
		ut_json_kstr(j, "signature", s);
		ut_json_kstr(j, "team", x->sig.team_id[0] ? x->sig.team_id : NULL);
		ut_json_kbool(j, "library_validation", c->lv);
		ut_json_key(j, "refused_framework");
		ut_json_str(j, c->lv_refuses ? c->lv_framework : NULL);
		ut_json_kbool(j, "needs_restore", c->needs_restore);
		ut_json_key(j, "entitlements");
		ut_json_arr(j);
		for (size_t k = 0; k < c->nkeys; k++) {
			const struct ut_ents_key *e = &c->keys[k];
			ut_json_obj(j);
			ut_json_kstr(j, "key", e->key);
			ut_json_kstr(j, "class", ut_ent_class_name(e->cls));
			ut_json_kbool(j, "now", e->now);
			ut_json_kbool(j, "release", e->release);
			ut_json_kbool(j, "unsigned", e->unsigned_set);
			ut_json_kbool(j, "required", e->required_why != NULL);
			ut_json_kstr(j, "why_required", e->required_why);
			ut_json_kstr(j, "loss", e->loss);
			ut_json_end(j);
		}
		ut_json_end(j);
		ut_json_end(j);
	}
	ut_json_end(j);
}

static int print_json(const struct ut_utmapp *a, const struct ut_ents_report *r, const struct ut_install *in,
		      enum ut_report_result res, const char *err)
{
	struct ut_buf b;
	struct ut_json j;
	ut_buf_init(&b, 0);
	ut_json_init(&j, &b, 1);
	ut_json_obj(&j);
	ut_json_kstr(&j, "command", "entitlements");
	ut_json_kstr(&j, "app", a->path);
	json_components(&j, a, r);
	ut_json_key(&j, "restore");
	if (in) {
		ut_json_obj(&j);
		ut_report_install_members(&j, in, res, err);
		ut_json_end(&j);
	} else {
		ut_json_null(&j);
	}
	ut_json_end(&j);
	return cmd_json_print(&j, &b);
}

/* --restore: plan, apply, print; returns the exit code. */
static int restore(struct ents_args *a, struct cmd_env *e, const struct ut_utmapp *app, const struct ut_ents_report *r)
{
	struct ut_install *in = NULL;
	if (cmd_progress_wanted(a->json)) {
		a->o.progress = cmd_progress_cb;
		a->o.progress_ctx = "entitlements";
	}
	int rc = ut_restore_plan(&in, &a->o, e->profiles);
	if (!rc && !a->o.dry_run)
		rc = ut_install_apply(in);
	if (a->o.progress)
		cmd_progress_text(NULL);
	enum ut_report_result res = rc == UT_EREFUSED && in && in->nproblems ? UT_RESULT_REFUSED
				    : rc                                       ? UT_RESULT_FAILED
				    : a->o.dry_run && in->nclosure             ? UT_RESULT_PLANNED
				    : in->applied                              ? UT_RESULT_APPLIED
									       : UT_RESULT_NOTHING;
	char *err = rc && res != UT_RESULT_REFUSED ? strdup(ut_errmsg()) : NULL;
	if (in && (in->app || res == UT_RESULT_REFUSED)) {
		if (a->json)
			print_json(app, r, in, res, err);
		cmd_install_print(in, res, a->json, "restore");
	}
	int code = EXIT_OK;
	if (res == UT_RESULT_REFUSED)
		code = EXIT_FAIL;
	else if (rc) {
		ut_fail(rc, "%s", err ? err : "");
		code = cmd_fail(rc);
	}
	free(err);
	ut_install_free(in);
	return code;
}

int cmd_entitlements(int argc, char **argv)
{
	struct ents_args a;
	memset(&a, 0, sizeof(a));
	int prc = parse(argc, argv, &a);
	if (prc)
		return prc == 1 ? EXIT_OK : prc;
	struct cmd_env e;
	struct ut_utmapp *app = NULL;
	struct ut_ents_report r;
	memset(&r, 0, sizeof(r));
	const struct cmd_env_args ea = { a.anchors, a.p12, a.password, a.profiles_dir, 0 };
	int rc = cmd_env_load_install(&e, &a.o, &ea);
	if (!rc)
		rc = ut_utmapp_open(&app, a.o.app, e.profiles, NULL);
	if (!rc)
		rc = ut_ents_report_build(&r, app, e.profiles);
	int code;
	if (rc) {
		code = cmd_fail(rc);
	} else if (a.restore) {
		if (!a.json) {
			print_text(app, &r);
			printf("\n");
		}
		code = restore(&a, &e, app, &r);
	} else {
		code = lacking(&r) ? EXIT_BAD : EXIT_OK;
		if (!a.json)
			print_text(app, &r);
		else if (print_json(app, &r, NULL, UT_RESULT_NOTHING, NULL))
			code = EXIT_FAIL;
	}
	ut_ents_report_release(&r);
	ut_utmapp_free(app);
	cmd_env_release(&e);
	return cmd_finish(code);
}
