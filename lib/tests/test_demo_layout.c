/*
 * test_demo_layout.c - `make demo-bundle` (testdata/demo/build-demo.sh) builds
 * a UTM.app shaped like the official UTM 5.0.3 release, the same bytes every
 * time, and leaves nothing half-made behind.  The checks themselves are in
 * demo_check_files.c and demo_check_macho.c.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "demo_check.h"
#include "tsupport.h"

static char *build_into(const char *dir)
{
	char *out = NULL, *err = NULL;
	int rc = demo_build(dir, &out, &err);
	cr_assert_eq(rc, 0, "build-demo.sh %s: exit %d: %s", dir, rc, err ? err : "");
	cr_expect(out && strstr(out, "signing: UTM.app: signed 20 components"), "build-demo.sh: no signing line");
	free(out);
	free(err);
	char *app = NULL;
	cr_assert(asprintf(&app, "%s/UTM.app", dir) > 0);
	return app;
}

static int is_qemu(const char *name)
{
	return strncmp(name, "qemu-", 5) == 0;
}

Test(demo_bundle, layout_matches_the_utm_release, .timeout = 300)
{
	char *tmp = ts_tmpdir();
	char *app = build_into(tmp);

	demo_check_app_plist(app);
	demo_check_nested_plists(app);
	demo_check_resources(app);
	demo_check_executables(app);
	cr_expect_gt(demo_check_imports_resolve(app, "Contents/MacOS/UTM"), 0, "UTM imports nothing");
	for (size_t i = 0; i < demo_nframeworks; i++) {
		const char *n = demo_frameworks[i];
		demo_check_framework_tree(app, n);
		demo_check_framework_macho(app, n);
		char rel[PATH_MAX];
		snprintf(rel, sizeof(rel), "Contents/Frameworks/%s.framework/Versions/A/%s", n, n);
		int imports = demo_check_imports_resolve(app, rel);
		if (is_qemu(n)) {
			demo_check_qemu_exports(app, n);
			/* qemu.c imports from all 14 dependency frameworks, in both slices. */
			cr_expect_geq(imports, 2 * 14, "%s: %d imports from the frameworks", n, imports);
		}
	}
	free(app);
	ts_rmtree(tmp);
	free(tmp);
}

static char *sh_out(const char *cmd)
{
	char *out = NULL, *err = NULL;
	int rc = ts_sh(cmd, &out, &err);
	cr_assert_eq(rc, 0, "%s: %s", cmd, err ? err : "");
	free(err);
	return out;
}

/* Two builds in directories of different names and lengths: same tree, same bytes, no build path inside. */
Test(demo_bundle, two_builds_are_byte_identical, .timeout = 300)
{
	char *tmp = ts_tmpdir();
	char a[PATH_MAX], b[PATH_MAX], cmd[4 * PATH_MAX];
	snprintf(a, sizeof(a), "%s/a", tmp);
	snprintf(b, sizeof(b), "%s/a-much-longer-output-directory", tmp);
	/* Side by side, to keep the suite quick. */
	snprintf(cmd, sizeof(cmd),
		 "UTMPATCH='%s' sh '%s' '%s' >/dev/null & p=$!; UTMPATCH='%s' sh '%s' '%s' >/dev/null || exit 1; "
		 "wait $p",
		 ts_bin(), ts_root("testdata/demo/build-demo.sh"), a, ts_bin(), ts_root("testdata/demo/build-demo.sh"),
		 b);
	free(sh_out(cmd));

	char *tree[2], *sums[2];
	const char *dirs[2] = { a, b };
	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd), "cd '%s' && find . -printf '%%y %%m %%p %%l\\n' | LC_ALL=C sort", dirs[i]);
		tree[i] = sh_out(cmd);
		snprintf(cmd, sizeof(cmd), "cd '%s' && find . -type f | LC_ALL=C sort | xargs sha256sum", dirs[i]);
		sums[i] = sh_out(cmd);
	}
	cr_expect_gt(strlen(sums[0]), 0);
	cr_expect_str_eq(tree[0], tree[1], "file types, modes or symlinks differ between two builds");
	cr_expect_str_eq(sums[0], sums[1], "file contents differ between two builds");
	snprintf(cmd, sizeof(cmd), "grep -rlF '%s' '%s' '%s'", tmp, a, b);
	char *hits = NULL;
	int rc = ts_sh(cmd, &hits, NULL);
	cr_expect_eq(rc, 1, "the build directory leaks into: %s", hits ? hits : "");
	free(hits);
	for (int i = 0; i < 2; i++) {
		free(tree[i]);
		free(sums[i]);
	}
	ts_rmtree(tmp);
	free(tmp);
}

Test(demo_bundle, usage_without_outdir)
{
	char cmd[PATH_MAX + 32], *err = NULL;
	snprintf(cmd, sizeof(cmd), "sh '%s'", ts_root("testdata/demo/build-demo.sh"));
	int rc = ts_sh(cmd, NULL, &err);
	cr_expect_eq(rc, 2);
	cr_expect(err && strstr(err, "usage: build-demo.sh OUTDIR"), "stderr: %s", err ? err : "");
	free(err);
}

/* A failed build leaves an existing UTM.app as it was and no work files. */
Test(demo_bundle, failure_keeps_the_previous_bundle, .timeout = 120)
{
	char *tmp = ts_tmpdir();
	char cmd[3 * PATH_MAX], marker[PATH_MAX];
	snprintf(marker, sizeof(marker), "%s/UTM.app/Contents/marker", tmp);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/UTM.app/Contents' && echo old > '%s'", tmp, marker);
	free(sh_out(cmd));
	/* A utmpatch that fails every edit: the first fixup stops the build. */
	snprintf(cmd, sizeof(cmd), "printf '#!/bin/sh\\nexit 3\\n' > '%s/fail' && chmod +x '%s/fail' && "
				   "UTMPATCH='%s/fail' sh '%s' '%s'",
		 tmp, tmp, tmp, ts_root("testdata/demo/build-demo.sh"), tmp);
	char *err = NULL;
	int rc = ts_sh(cmd, NULL, &err);
	cr_expect_neq(rc, 0, "build with a failing utmpatch succeeded");
	free(err);
	size_t n = 0;
	uint8_t *p = ts_read(marker, &n);
	cr_expect(p && n == 4 && !memcmp(p, "old\n", 4), "the previous UTM.app was touched");
	free(p);
	snprintf(cmd, sizeof(cmd), "%s/.tmp-demo", tmp);
	cr_expect(!ts_exists(cmd), "work directory %s left behind", cmd);
	ts_rmtree(tmp);
	free(tmp);
}

Test(demo_bundle, entitlement_files_are_utms_release_set)
{
	demo_check_entitlement_files();
}
