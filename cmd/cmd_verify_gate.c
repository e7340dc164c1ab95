/* cmd_verify_gate.c - `utmpatch verify --app/--vms`: the CI gate (lib/ut_gate.h), as text, JSON or JUnit. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "cmd_env.h"
#include "ut_buf.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_gate.h"

enum gate_format { FMT_TEXT = 0, FMT_JSON, FMT_JUNIT };

struct gate_args {
	const char *app, *out, *anchors, *profiles, *arch;
	const char **vms;
	int nvms, want_vms;
	enum gate_format format;
};

int cmd_verify_is_gate(int argc, char **argv)
{
	static const char *const opts[] = { "--app", "--vms", "--format", "-o", "--output", "--json", "--arch", "--profiles" };
	for (int i = 1; i < argc; i++)
		for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (cmd_is(argv[i], opts[k]))
				return 1;
	return 0;
}

static int parse(int argc, char **argv, struct gate_args *a, const char *usage)
{
	if (!(a->vms = calloc((size_t)argc, sizeof(*a->vms)))) {
		fprintf(stderr, "utmpatch: out of memory\n");
		return EXIT_FAIL;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (cmd_is(arg, "-h") || cmd_is(arg, "--help"))
			return cmd_help(usage) == EXIT_OK ? -1 : EXIT_FAIL;
		if (cmd_is(arg, "--vms")) {
			a->want_vms = 1;
			while (i + 1 < argc && (argv[i + 1][0] != '-' || argv[i + 1][1] == '\0'))
				a->vms[a->nvms++] = argv[++i];
		} else if (cmd_is(arg, "--json")) {
			a->format = FMT_JSON;
		} else if (cmd_is(arg, "--app") || cmd_is(arg, "--format") || cmd_is(arg, "-o") || cmd_is(arg, "--output") ||
			   cmd_is(arg, "--anchors") || cmd_is(arg, "--profiles") || cmd_is(arg, "--arch")) {
			const char *v = cmd_value(argc, argv, &i);
			if (!v || !*v)
				return cmd_usage_error(usage, "verify: %s needs a value", arg);
			if (cmd_is(arg, "--app"))
				a->app = v;
			else if (cmd_is(arg, "--anchors"))
				a->anchors = v;
			else if (cmd_is(arg, "--profiles"))
				a->profiles = v;
			else if (cmd_is(arg, "--arch"))
				a->arch = v;
			else if (cmd_is(arg, "--format"))
				a->format = cmd_is(v, "text") ? FMT_TEXT : cmd_is(v, "json") ? FMT_JSON
					  : cmd_is(v, "junit") ? FMT_JUNIT : (enum gate_format)-1;
			else
				a->out = v;
			if ((int)a->format < 0)
				return cmd_usage_error(usage, "verify: --format is text, json or junit, not '%s'", v);
		} else {
			return cmd_usage_error(usage, "verify: '%s' does not go with --app/--vms", arg);
		}
	}
	if (a->arch && !cmd_is(a->arch, "arm64") && !cmd_is(a->arch, "x86_64"))
		return cmd_usage_error(usage, "verify: --arch is arm64 or x86_64, not '%s'", a->arch);
	if (!a->app && !a->want_vms)
		return cmd_usage_error(usage, "verify: the gate needs --app PATH, --vms [PATH...], or both");
	if (!a->app && (a->anchors || a->profiles || a->arch))
		return cmd_usage_error(usage, "verify: --anchors, --profiles and --arch go with --app");
	return 0;
}

static int run(const struct gate_args *a, struct ut_gate *g, struct ut_vm_list *l)
{
	int rc = 0;
	if (a->app) {
		struct cmd_env env;
		struct cmd_env_args ea = { .anchors = a->anchors, .profiles_dir = a->profiles };
		rc = cmd_env_load(&env, &ea);
		struct ut_gate_app_opts o = { .app = a->app, .profiles = env.profiles, .trust = &env.trust,
					      .host_arch = a->arch };
		if (cmd_progress_wanted(a->format != FMT_TEXT)) {
			o.progress = cmd_progress_cb;
			o.progress_ctx = "verify";
		}
		if (!rc)
			rc = ut_gate_app(g, &o);
		if (o.progress)
			cmd_progress_text(NULL);
		cmd_env_release(&env);
	}
	if (!rc && a->want_vms && (rc = cmd_vm_collect(l, a->vms, a->nvms)) == 0)
		rc = ut_gate_vms(g, l);
	return rc;
}

static int emit(const struct gate_args *a, const struct ut_gate *g)
{
	struct ut_buf b;
	ut_buf_init(&b, 0);
	int color = a->format == FMT_TEXT && !a->out && cmd_color_wanted(stdout);
	int rc = a->format == FMT_JSON ? ut_gate_json(&b, g) : a->format == FMT_JUNIT ? ut_gate_junit(&b, g)
										   : ut_gate_text(&b, g, color);
	if (!rc && a->out)
		rc = ut_file_write_atomic(a->out, b.p, b.len, 0644);
	else if (!rc)
		fwrite(b.p, 1, b.len, stdout);
	ut_buf_release(&b);
	if (!rc && a->out)
		fprintf(stderr, "verify: %zu checks, %zu failed, %zu skipped: %s (report in %s)\n", g->n,
			ut_gate_count(g, NULL, UT_GATE_FAIL), ut_gate_count(g, NULL, UT_GATE_SKIP),
			ut_gate_verdict(g) ? "FAIL" : "PASS", a->out);
	return rc;
}

int cmd_verify_gate(int argc, char **argv, const char *usage)
{
	struct gate_args a = { 0 };
	int code = parse(argc, argv, &a, usage);
	if (code) {
		free(a.vms);
		return code < 0 ? EXIT_OK : code;
	}
	struct ut_gate g;
	ut_gate_init(&g);
	struct ut_vm_list l;
	ut_vm_list_init(&l);
	int rc = run(&a, &g, &l);
	if (!rc)
		rc = emit(&a, &g);
	code = rc ? cmd_fail(rc) : ut_gate_verdict(&g) ? EXIT_BAD : EXIT_OK;
	ut_gate_release(&g);
	ut_vm_list_release(&l);
	free(a.vms);
	return cmd_finish(code);
}
