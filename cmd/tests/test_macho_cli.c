/* test_macho_cli.c - `utmpatch macho` exit codes, refusals and atomicity. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsupport.h"

/* Runs utmpatch with args on a copy of fixture; returns exit code, stderr in *err; checks the copy is untouched when rc != 0. */
static int run_on_copy(const char *fixture_path, const char *const *args, char **err, char **out)
{
	char *dir = ts_tmpdir();
	const char *base = strrchr(fixture_path, '/');
	char *in = ts_path(dir, base ? base + 1 : fixture_path);
	cr_assert_eq(ts_copy(fixture_path, in), 0, "cannot copy %s", fixture_path);
	char before[65], after[65];
	ts_sha256_file(in, before);
	char *argv[32];
	int n = 0;
	argv[n++] = (char *)ts_bin();
	for (int i = 0; args[i]; i++)
		argv[n++] = strcmp(args[i], "@IN") == 0 ? in : (char *)args[i];
	argv[n] = NULL;
	int rc = ts_run(argv, out, err);
	if (rc != 0) {
		ts_sha256_file(in, after);
		cr_assert_str_eq(before, after, "input changed although the command failed");
		char *ls = NULL, cmd[600];
		snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
		ts_sh(cmd, &ls, NULL);
		cr_assert_eq(atoi(ls), 1, "stray files left: %s", ls);
		free(ls);
	}
	ts_rmtree(dir);
	free(in);
	free(dir);
	return rc;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void expect_refusal(const char *fixture, const char *const *args, const char *words)
{
	char *err = NULL;
	int rc = run_on_copy(fixture, args, &err, NULL);
	cr_assert_eq(rc, 3, "%s: exit %d (%s)", fixture, rc, err);
	cr_assert_not_null(strstr(err, words), "%s: stderr '%s' lacks '%s'", fixture, err, words);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s", err);
	free(err);
}

Test(macho_cli, refuses_when_header_padding_too_small)
{
	static char longp[200];
	memset(longp, 'p', sizeof(longp) - 1);
	longp[0] = '/';
	expect_refusal(ts_fixture("arm64-tight"), ARGS("macho", "edit", "@IN", "--add-rpath", longp), "more needed");
	expect_refusal(ts_fixture("x86_64-tight"), ARGS("macho", "edit", "@IN", "--add-rpath", longp), "not enough header padding");
}

Test(macho_cli, refuses_bad_plans)
{
	const char *exe = ts_fixture("arm64-exe");
	expect_refusal(exe, ARGS("macho", "edit", "@IN", "--delete-rpath", "/not/there"), "no LC_RPATH with path '/not/there'");
	expect_refusal(exe, ARGS("macho", "edit", "@IN", "--add-rpath", "@executable_path/../Frameworks"), "already exists");
	expect_refusal(exe, ARGS("macho", "edit", "@IN", "--rpath", "/nope", "/x"), "no LC_RPATH");
	expect_refusal(exe, ARGS("macho", "edit", "@IN", "--rpath", "@executable_path/../Frameworks", "@loader_path/../lib"),
		       "already exists");
	expect_refusal(exe, ARGS("macho", "edit", "@IN", "--id", "x"), "not a dynamic library");
	/* One bad edit among good ones: nothing at all is written. */
	expect_refusal(exe, ARGS("macho", "edit", "@IN", "--add-rpath", "/ok", "--delete-rpath", "/not/there"), "no LC_RPATH");
	expect_refusal(ts_corpus("unsigned/hello-osx-i386"), ARGS("macho", "edit", "@IN", "--add-rpath", "/x"),
		       "32-bit Mach-O is not supported for editing");
	expect_refusal(ts_corpus("unsigned/fat-intel"), ARGS("macho", "edit", "@IN", "--add-rpath", "/x"),
		       "slice i386");
}

Test(macho_cli, conflicting_options_are_usage_errors)
{
	char *err = NULL;
	int rc = run_on_copy(ts_fixture("arm64-exe"), ARGS("macho", "edit", "@IN", "--add-rpath", "/a", "--delete-rpath", "/a"),
			     &err, NULL);
	cr_assert_eq(rc, 2, "exit %d: %s", rc, err);
	cr_assert_not_null(strstr(err, "cannot specify both"));
	free(err);
	rc = run_on_copy(ts_fixture("arm64-exe"), ARGS("macho", "edit", "@IN"), &err, NULL);
	cr_assert_eq(rc, 2);
	free(err);
	rc = run_on_copy(ts_fixture("arm64-exe"), ARGS("macho", "frobnicate", "@IN"), &err, NULL);
	cr_assert_eq(rc, 2);
	free(err);
}

Test(macho_cli, hidden_arm64_read_but_not_edited)
{
	const char *f = ts_root("testdata/malformed/fat-hidden-arm64");
	char *out = NULL, *err = NULL;
	int rc = run_on_copy(f, ARGS("macho", "info", "@IN"), &err, &out);
	cr_assert_eq(rc, 0, "info exit %d: %s", rc, err);
	cr_assert_not_null(strstr(out, "hidden"), "%s", out);
	free(out);
	free(err);
	expect_refusal(f, ARGS("macho", "edit", "@IN", "--add-rpath", "/x"), "hidden");
}

Test(macho_cli, info_and_deps_on_fixtures)
{
	char *out = NULL, *err = NULL;
	int rc = run_on_copy(ts_fixture("fat-dylib"), ARGS("macho", "info", "@IN", "--json"), &err, &out);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_not_null(strstr(out, "\"install_name\""));
	cr_assert_not_null(strstr(out, "/Users/x/UTM/sysroot-macOS-arm64/lib/libfoo.1.dylib"));
	/* JSON is well-formed (python's parser as the oracle). */
	char *dir = ts_tmpdir(), *j = ts_path(dir, "info.json"), cmd[700];
	FILE *fp = fopen(j, "w");
	fputs(out, fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d[\"slices\"])==2' '%s'", j);
	cr_assert_eq(ts_sh(cmd, NULL, NULL), 0, "JSON not valid");
	ts_rmtree(dir);
	free(j);
	free(dir);
	free(out);
	free(err);
	/* deps agrees with llvm-otool-14 -L line for line (names and versions). */
	char *ours = NULL, *theirs = NULL;
	const char *fx = ts_fixture("arm64-deps");
	rc = run_on_copy(fx, ARGS("macho", "deps", "@IN"), NULL, &ours);
	cr_assert_eq(rc, 0);
	snprintf(cmd, sizeof(cmd), "llvm-otool-14 -L '%s' | tail -n +2", fx);
	ts_sh(cmd, &theirs, NULL);
	char *body = strchr(ours, '\n');
	cr_assert_not_null(body);
	/* otool prints the same name and versions; we add ", weak" etc. for non-plain kinds. */
	char *save = NULL;
	for (char *line = strtok_r(theirs, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[512];
		cr_assert_eq(sscanf(line, " %511s", name), 1);
		cr_assert_not_null(strstr(body, name), "deps lacks %s", name);
	}
	free(ours);
	free(theirs);
}
