/*
 * test_progress.c - progress lines: on stderr only when it is a terminal
 * (script(1) gives the command one), never with --json, never on stdout, and
 * without any escape sequence under NO_COLOR.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdemo.h"
#include "test_install_util.h"
#include "tsupport.h"
#include "tsupport_fs.h"

/* Runs cmdline under script(1) with stdout to dir/out; returns what the terminal got (stderr), malloc'd. */
static char *on_tty(const char *dir, const char *env, const char *cmdline, char **stdout_text)
{
	char *out = tsupport_printf("%s/out", dir);
	char *sh = tsupport_printf("%s script -qec \"%s >'%s'\" /dev/null", env, cmdline, out);
	char *tty = NULL;
	cr_assert_eq(ts_sh(sh, &tty, NULL), 0, "%s", sh);
	size_t len = 0;
	uint8_t *o = ts_read(out, &len);
	cr_assert_not_null(o);
	*stdout_text = (char *)o;
	free(sh);
	free(out);
	return tty;
}

Test(progress, gate_and_install_on_a_terminal_only, .timeout = 240)
{
	struct scratch s;
	scratch_make(&s);
	char *gate = tsupport_printf("'%s' verify --app '%s' --anchors '%s'", ts_bin(), s.app,
				     ts_root("testdata/keys/roots.tsv"));
	char *so = NULL;
	char *tty = on_tty(s.dir, "", gate, &so);
	cr_expect(strstr(tty, "verify: signature"), "progress on the terminal: %s", tty);
	cr_expect(strstr(tty, "\033[K"), "the line is erased with EL when colors are allowed");
	cr_expect(!strchr(so, '\r') && strstr(so, "PASS"), "stdout has the report and no progress: %s", so);
	free(tty);
	free(so);

	tty = on_tty(s.dir, "NO_COLOR=1", gate, &so);
	cr_expect(strstr(tty, "verify: signature"), "%s", tty);
	cr_expect(!strchr(tty, '\033') && !strchr(so, '\033'), "NO_COLOR: no escape sequence at all");
	free(tty);
	free(so);

	/* the report itself on a terminal: colored verdicts, none under NO_COLOR */
	char *sh = tsupport_printf("script -qec \"%s\" /dev/null", gate);
	cr_assert_eq(ts_sh(sh, &tty, NULL), 0);
	cr_expect(strstr(tty, "\033[32mPASS\033[0m"), "a terminal gets colored verdicts");
	free(tty);
	free(sh);
	sh = tsupport_printf("NO_COLOR=1 script -qec \"%s\" /dev/null", gate);
	cr_assert_eq(ts_sh(sh, &tty, NULL), 0);
	cr_expect(strstr(tty, "PASS") && !strchr(tty, '\033'), "NO_COLOR: plain verdicts");
	free(tty);
	free(sh);

	char *json = tsupport_printf("%s --format json", gate);
	tty = on_tty(s.dir, "", json, &so);
	cr_expect(!strstr(tty, "verify:"), "--format json: silent on the terminal: %s", tty);
	free(tty);
	free(so);

	/* not a terminal: nothing */
	struct tsupport_out o;
	cr_expect_eq(ui_run(&o, NULL, "verify", "--app", s.app, "--anchors", ts_root("testdata/keys/roots.tsv"), NULL), 0);
	cr_expect_str_eq(o.err, "", "no terminal, no progress");
	tsupport_out_release(&o);

	char *inst = tsupport_printf("'%s' install '%s' --app '%s' --state-dir '%s' --anchors '%s' --allow-missing-arch",
				     ts_bin(), s.dylib, s.app, s.state, ts_root("testdata/keys/roots.tsv"));
	tty = on_tty(s.dir, "", inst, &so);
	cr_expect(strstr(tty, "install: signing") && strstr(tty, "install: verifying"), "install steps: %s", tty);
	cr_expect(strstr(so, "installed") || strstr(so, "files changed"), "%s", so);
	free(tty);
	free(so);
	free(inst);
	free(json);
	free(gate);
	scratch_free(&s);
}
