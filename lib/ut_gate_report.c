/* ut_gate_report.c - the gate's report as text, JSON (docs/schemas/verify.schema.json) and JUnit XML. */
#include <stdio.h>
#include <string.h>

#include "ut_err.h"
#include "ut_gate.h"
#include "ut_json.h"
#include "ut_report_vm.h"
#include "ut_xml.h"

static const char *const SUITES[] = { "app", "vms" };

static int has_suite(const struct ut_gate *g, const char *suite)
{
	if (strcmp(suite, "app") == 0)
		return g->app != NULL;
	return g->vms != NULL;
}

/* ---- text ---- */

int ut_gate_text(struct ut_buf *out, const struct ut_gate *g, int color)
{
	static const char *const word[] = { "PASS", "FAIL", "SKIP" };
	static const char *const on[] = { "\033[32m", "\033[1;31m", "\033[33m" };
	int rc = 0;
	if (g->app)
		rc = ut_buf_printf(out, "UTM.app: %s%s%s, checked for %s Macs\n", g->app, g->app_version ? ", version " : "",
				   g->app_version ? g->app_version : "", g->host_arch);
	if (!rc && g->vms)
		rc = ut_buf_printf(out, "VMs: %zu\n", g->vms->n + g->vms->nmissing);
	for (size_t i = 0; !rc && i < g->n; i++) {
		const struct ut_gate_check *c = &g->v[i];
		rc = ut_buf_printf(out, "%s%s%s  %s %s: %s\n", color ? on[c->status] : "", word[c->status],
				   color ? "\033[0m" : "", c->suite, c->check, c->component);
		for (size_t k = 0; !rc && k < c->nmessages && c->status != UT_GATE_PASS; k++)
			rc = ut_buf_printf(out, "      %s\n", c->messages[k]);
	}
	size_t fail = ut_gate_count(g, NULL, UT_GATE_FAIL), skip = ut_gate_count(g, NULL, UT_GATE_SKIP);
	if (!rc)
		rc = ut_buf_printf(out, "verify: %zu checks, %zu passed, %zu failed, %zu skipped: %s\n", g->n,
				   ut_gate_count(g, NULL, UT_GATE_PASS), fail, skip, fail ? "FAIL" : "PASS");
	return rc ? ut_fail(UT_ENOMEM, "out of memory") : 0;
}

/* ---- JSON ---- */

static void json_counts(struct ut_json *j, const struct ut_gate *g, const char *suite)
{
	size_t pass = ut_gate_count(g, suite, UT_GATE_PASS), fail = ut_gate_count(g, suite, UT_GATE_FAIL),
	       skip = ut_gate_count(g, suite, UT_GATE_SKIP);
	ut_json_obj(j);
	ut_json_kuint(j, "checks", pass + fail + skip);
	ut_json_kuint(j, "passed", pass);
	ut_json_kuint(j, "failed", fail);
	ut_json_kuint(j, "skipped", skip);
	ut_json_end(j);
}

int ut_gate_json(struct ut_buf *out, const struct ut_gate *g)
{
	struct ut_json j;
	ut_json_init(&j, out, 1);
	ut_json_obj(&j);
	ut_json_kstr(&j, "command", "verify");
	ut_json_kstr(&j, "result", ut_gate_verdict(g) ? "fail" : "pass");
	ut_json_key(&j, "app");
	if (g->app) {
		ut_json_obj(&j);
		ut_json_kstr(&j, "path", g->app);
		ut_json_kstr(&j, "version", g->app_version);
		ut_json_kstr(&j, "arch", g->host_arch);
		ut_json_end(&j);
	} else {
		ut_json_null(&j);
	}
	ut_json_key(&j, "summary");
	json_counts(&j, g, NULL);
	ut_json_key(&j, "checks");
	ut_json_arr(&j);
	for (size_t i = 0; i < g->n; i++) {
		const struct ut_gate_check *c = &g->v[i];
		ut_json_obj(&j);
		ut_json_kstr(&j, "suite", c->suite);
		ut_json_kstr(&j, "check", c->check);
		ut_json_kstr(&j, "component", c->component);
		ut_json_kstr(&j, "path", c->path);
		ut_json_kstr(&j, "status", ut_gate_status_name(c->status));
		ut_report_json_strs(&j, "messages", c->messages, c->nmessages);
		ut_json_end(&j);
	}
	ut_json_end(&j);
	ut_json_key(&j, "vms");
	if (g->vms) {
		ut_json_arr(&j);
		for (size_t i = 0; i < g->vms->n; i++) {
			ut_json_obj(&j);
			ut_report_vm_members(&j, g->vms->vms[i]);
			ut_json_end(&j);
		}
		ut_json_end(&j);
		ut_report_vm_missing(&j, g->vms);
	} else {
		ut_json_null(&j);
	}
	ut_json_end(&j);
	return ut_json_finish(&j);
}

/* ---- JUnit ---- */

static void junit_counts(struct ut_xml *x, const struct ut_gate *g, const char *suite)
{
	size_t pass = ut_gate_count(g, suite, UT_GATE_PASS), fail = ut_gate_count(g, suite, UT_GATE_FAIL),
	       skip = ut_gate_count(g, suite, UT_GATE_SKIP);
	ut_xml_attr_uint(x, "tests", pass + fail + skip);
	ut_xml_attr_uint(x, "failures", fail);
	ut_xml_attr_uint(x, "errors", 0);
	ut_xml_attr_uint(x, "skipped", skip);
}

static void junit_property(struct ut_xml *x, const char *name, const char *value)
{
	ut_xml_start(x, "property");
	ut_xml_attr(x, "name", name);
	ut_xml_attr(x, "value", value);
	ut_xml_end(x);
}

/* The messages, one per line. */
static int joined(struct ut_buf *b, const struct ut_gate_check *c)
{
	ut_buf_init(b, 0);
	int rc = 0;
	for (size_t k = 0; !rc && k < c->nmessages; k++)
		rc = ut_buf_printf(b, "%s%s", k ? "\n" : "", c->messages[k]);
	return rc ? rc : ut_buf_cstr(b);
}

static int junit_case(struct ut_xml *x, const struct ut_gate_check *c)
{
	ut_xml_start(x, "testcase");
	ut_xml_attr(x, "classname", c->component);
	ut_xml_attr(x, "name", c->check);
	if (c->path)
		ut_xml_attr(x, "file", c->path);
	if (c->nmessages || c->status != UT_GATE_PASS) {
		struct ut_buf b;
		if (joined(&b, c)) {
			ut_buf_release(&b);
			return UT_ENOMEM;
		}
		const char *text = b.len ? (const char *)b.p : "";
		if (c->status == UT_GATE_FAIL) {
			ut_xml_start(x, "failure");
			ut_xml_attr(x, "message", c->nmessages ? c->messages[0] : "failed");
			ut_xml_attr(x, "type", c->check);
			ut_xml_text(x, text);
			ut_xml_end(x);
		} else if (c->status == UT_GATE_SKIP) {
			ut_xml_start(x, "skipped");
			ut_xml_attr(x, "message", c->nmessages ? c->messages[0] : "skipped");
			ut_xml_end(x);
		} else {
			ut_xml_start(x, "system-out");
			ut_xml_text(x, text);
			ut_xml_end(x);
		}
		ut_buf_release(&b);
	}
	ut_xml_end(x);
	return 0;
}

int ut_gate_junit(struct ut_buf *out, const struct ut_gate *g)
{
	struct ut_xml x;
	ut_xml_init(&x, out);
	ut_xml_start(&x, "testsuites");
	ut_xml_attr(&x, "name", "utmpatch verify");
	junit_counts(&x, g, NULL);
	int rc = 0;
	for (size_t s = 0; !rc && s < sizeof(SUITES) / sizeof(SUITES[0]); s++) {
		const char *suite = SUITES[s];
		if (!has_suite(g, suite))
			continue;
		ut_xml_start(&x, "testsuite");
		ut_xml_attr(&x, "name", strcmp(suite, "app") == 0 ? "app" : "vms");
		junit_counts(&x, g, suite);
		ut_xml_start(&x, "properties");
		if (strcmp(suite, "app") == 0) {
			junit_property(&x, "path", g->app);
			if (g->app_version)
				junit_property(&x, "version", g->app_version);
			junit_property(&x, "arch", g->host_arch);
		} else {
			char n[32];
			snprintf(n, sizeof(n), "%zu", g->vms->n + g->vms->nmissing);
			junit_property(&x, "vms", n);
		}
		ut_xml_end(&x);
		for (size_t i = 0; !rc && i < g->n; i++)
			if (strcmp(g->v[i].suite, suite) == 0)
				rc = junit_case(&x, &g->v[i]);
		ut_xml_end(&x);
	}
	ut_xml_end(&x);
	int xrc = ut_xml_finish(&x);
	return rc ? ut_fail(UT_ENOMEM, "out of memory") : xrc;
}
