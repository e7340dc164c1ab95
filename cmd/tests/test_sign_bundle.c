/*
 * test_sign_bundle.c - `utmpatch sign BUNDLE`: exit codes, one error line,
 * the bundle untouched on failure, one output line per component, and the
 * result judged by `utmpatch verify` given each bundle's Info.plist and
 * CodeResources (the verifier module), by diff -r between the two ways of
 * naming a framework, and by the test PKI's team ID.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_install_util.h"
#include "tsupport.h"

static char *dir;
static void setup(void) { dir = ts_tmpdir(); }
static void teardown(void)
{
	ts_rmtree(dir);
	free(dir);
}

TestSuite(sign_bundle_cli, .init = setup, .fini = teardown);

static const char ENT[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
			  "\t<key>com.apple.security.cs.allow-jit</key>\n\t<true/>\n</dict>\n</plist>\n";

static void plist(const char *path, const char *exe, const char *id, const char *type)
{
	free(sh_out("mkdir -p \"$(dirname '%s')\" && printf '<?xml version=\"1.0\" encoding=\"UTF-8\"?>\\n<plist "
		"version=\"1.0\">\\n<dict>\\n<key>CFBundleExecutable</key><string>%s</string>\\n"
		"<key>CFBundleIdentifier</key><string>%s</string>\\n<key>CFBundlePackageType</key>"
		"<string>%s</string>\\n</dict>\\n</plist>\\n' > '%s'",
		path, exe, id, type, path));
}

/* dir/App.app: fat main executable, a pre-signed helper tool, a framework, an XPC service. */
static char *make_app(const char *name)
{
	char *app = ts_path(dir, name);
	char p[4096];
	snprintf(p, sizeof(p), "%s/Contents/Info.plist", app);
	plist(p, "App", "org.test.app", "APPL");
	snprintf(p, sizeof(p), "%s/Contents/Frameworks/F.framework/Versions/A/Resources/Info.plist", app);
	plist(p, "F", "org.test.F", "FMWK");
	snprintf(p, sizeof(p), "%s/Contents/XPCServices/H.xpc/Contents/Info.plist", app);
	plist(p, "H", "org.test.H", "XPC!");
	free(sh_out("cd '%s/Contents' && mkdir -p MacOS Resources XPCServices/H.xpc/Contents/MacOS && cp '%s' MacOS/App && "
		"cp '%s' MacOS/tool && cp '%s' XPCServices/H.xpc/Contents/MacOS/H && echo hi > Resources/a.txt && "
		"cd Frameworks/F.framework && cp '%s' Versions/A/F && ln -s A Versions/Current && "
		"ln -s Versions/Current/F F && ln -s Versions/Current/Resources Resources",
		app, ts_fixture("fat-exe"), ts_fixture("arm64-exe"), ts_fixture("arm64-exe"), ts_fixture("fat-dylib")));
	free(sh_out("'%s' sign '%s/Contents/MacOS/tool' --identifier org.test.tool", ts_bin(), app));
	return app;
}

static char *write_ent(const char *name)
{
	char *p = ts_path(dir, name);
	FILE *f = fopen(p, "w");
	cr_assert(f && fputs(ENT, f) >= 0 && fclose(f) == 0);
	return p;
}

static int run(const char *const *args, char **out, char **err)
{
	char *argv[40];
	int n = 0;
	argv[n++] = (char *)ts_bin();
	for (int i = 0; args[i] && n < 39; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	return ts_run(argv, out, err);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* utmpatch verify on a bundle's main executable with its Info.plist and CodeResources: exit status. */
static int verify(const char *base, const char *exe, const char *extra)
{
	char *cmd = NULL;
	cr_assert(asprintf(&cmd, "'%s' verify '%s/%s' --info-plist '%s/%s' --resources '%s/_CodeSignature/CodeResources' %s",
			   ts_bin(), base, exe, base, strstr(base, "Versions") ? "Resources/Info.plist" : "Info.plist",
			   base, extra) > 0);
	char *out = NULL, *err = NULL;
	int rc = ts_sh(cmd, &out, &err);
	if (rc)
		cr_log_error("%s:\n%s%s", cmd, out ? out : "", err ? err : "");
	free(cmd);
	free(out);
	free(err);
	return rc;
}

Test(sign_bundle_cli, nested_signs_every_component_inside_out)
{
	char *app = make_app("App.app"), *ent = write_ent("app.ent");
	char *comp = NULL;
	cr_assert(asprintf(&comp, "Contents/XPCServices/H.xpc=%s", ent) > 0);
	char *out = NULL, *err = NULL;
	int rc = run(ARGS("sign", app, "--nested", "--runtime", "--entitlements", ent, "--component-entitlements", comp),
		     &out, &err);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	cr_expect_str_eq(err, "");
	/* One line per component, inside-out, then the summary. */
	const char *lines[] = {
		"[1/4] Contents/Frameworks/F.framework: signed, identifier org.test.F, cdhash ",
		"[2/4] Contents/MacOS/tool: signed, identifier org.test.tool, cdhash ",
		"[3/4] Contents/XPCServices/H.xpc: signed, identifier org.test.H, cdhash ",
		"[4/4] ",
	};
	char *p = out;
	for (size_t i = 0; i < 4; i++) {
		cr_assert(p && !strncmp(p, lines[i], strlen(lines[i])), "line %zu: %s", i + 1, p);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	cr_expect(strstr(out, ": signed, identifier org.test.app, cdhash "), "%s", out);
	cr_expect(strstr(out, "1 sealed file\n"), "the framework seals its Info.plist: %s", out);
	char *last = NULL;
	cr_assert(asprintf(&last, "%s: signed 4 components\n", app) > 0);
	cr_expect(strstr(out, last), "%s", out);

	char *c = ts_path(app, "Contents");
	char *fw = ts_path(app, "Contents/Frameworks/F.framework/Versions/A");
	char *xpc = ts_path(app, "Contents/XPCServices/H.xpc/Contents");
	cr_expect_eq(verify(c, "MacOS/App", ""), 0);
	cr_expect_eq(verify(fw, "F", ""), 0);
	cr_expect_eq(verify(xpc, "MacOS/H", ""), 0);
	char *tool = ts_path(app, "Contents/MacOS/tool");
	char *argv[] = { (char *)ts_bin(), "verify", tool, NULL };
	cr_expect_eq(ts_run(argv, NULL, NULL), 0);
	/*
	 * Re-signing the top alone after a resource changed (nested code now signed, sealed as it is):
	 * the seal records the new file's SHA-256 (openssl dgst), and the app verifies with it.
	 */
	free(sh_out("echo changed > '%s/Resources/a.txt'", c));
	free(sh_out("'%s' sign '%s' >/dev/null", ts_bin(), app));
	char *b64 = sh_out("openssl dgst -sha256 -binary '%s/Resources/a.txt' | base64", c);
	*strchr(b64, '\n') = '\0';
	char *seal = sh_out("cat '%s/_CodeSignature/CodeResources'", c);
	cr_expect(strstr(seal, b64), "the seal lacks the new digest %s", b64);
	cr_expect_eq(verify(c, "MacOS/App", ""), 0);
	free(seal);
	free(b64);
	free(tool);
	free(c);
	free(fw);
	free(xpc);
	free(last);
	free(out);
	free(err);
	free(comp);
	free(ent);
	free(app);
}

Test(sign_bundle_cli, framework_root_and_version_directory_agree)
{
	char *a = make_app("A.app"), *b = make_app("B.app");
	char *fa = ts_path(a, "Contents/Frameworks/F.framework"), *fb = ts_path(b, "Contents/Frameworks/F.framework/Versions/A");
	char *out = NULL;
	cr_assert_eq(run(ARGS("sign", fa), &out, NULL), 0);
	cr_expect(strstr(out, "signed 1 component\n"), "%s", out);
	free(out);
	cr_assert_eq(run(ARGS("sign", fb), NULL, NULL), 0);
	char *cmd = NULL;
	cr_assert(asprintf(&cmd, "diff -r '%s' '%s'", a, b) > 0);
	cr_expect_eq(ts_sh(cmd, NULL, NULL), 0, "the two ways of naming the framework give different bundles");
	free(cmd);
	free(fa);
	free(fb);
	free(a);
	free(b);
}

/* The bundle as it was: the listing and every file's bytes. */
static char *snapshot(const char *app)
{
	return sh_out("cd '%s' && find . -printf '%%y %%p %%l\\n' | LC_ALL=C sort && find . -type f | LC_ALL=C sort | "
		  "xargs sha256sum",
		  app);
}

static void expect_exit(int want, const char *app, const char *const *args, const char *words)
{
	char *before = snapshot(app), *err = NULL;
	int rc = run(args, NULL, &err);
	cr_expect_eq(rc, want, "exit %d, stderr: %s", rc, err);
	cr_expect(err && strstr(err, words), "stderr '%s' lacks '%s'", err, words);
	if (want == 3)
		cr_expect_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s", err);
	char *after = snapshot(app);
	cr_expect_str_eq(after, before, "the bundle changed although the command failed");
	free(before);
	free(after);
	free(err);
}

Test(sign_bundle_cli, usage_errors_exit_2)
{
	char *app = make_app("App.app"), *ent = write_ent("e.ent");
	char *tool = ts_path(app, "Contents/MacOS/tool"), *c1 = NULL, *c2 = NULL;
	cr_assert(asprintf(&c1, "Contents/MacOS/nothing=%s", ent) > 0 && asprintf(&c2, "=%s", ent) > 0);
	expect_exit(2, app, ARGS("sign", app, "-o", "x"), "for single files, not bundles");
	expect_exit(2, app, ARGS("sign", app, "--info-plist", ent), "for single files, not bundles");
	expect_exit(2, app, ARGS("sign", app, "--linker-signed"), "for single files, not bundles");
	expect_exit(2, app, ARGS("sign", tool, "--nested"), "are for bundles");
	expect_exit(2, app, ARGS("sign", app, "--component-entitlements", "Contents/MacOS/tool"), "needs REL=FILE");
	expect_exit(2, app, ARGS("sign", app, "--nested", "--component-entitlements", c1),
		    "'Contents/MacOS/nothing', which is not a component signed here");
	expect_exit(2, app, ARGS("sign", app, "--entitlements", ent, "--component-entitlements", c2), "given twice");
	free(c1);
	free(c2);
	free(tool);
	free(ent);
	free(app);
}

Test(sign_bundle_cli, failures_exit_3_and_leave_the_bundle)
{
	char *app = make_app("App.app");
	/* Without --nested, the framework (x86_64 slice unsigned) cannot be sealed as it is. */
	expect_exit(3, app, ARGS("sign", app), "code object is not signed at all (nested code is sealed as it is; "
					       "sign with nested");
	/* A wrong password for the identity. */
	char *bad = ts_path(dir, "bad.pass");
	free(sh_out("echo wrong > '%s'", bad));
	expect_exit(3, app,
		    ARGS("sign", app, "--nested", "--identity", ts_root("testdata/keys/identity.p12"), "--password-file",
			 bad),
		    "identity.p12");
	/* An entitlements file that is no plist. */
	char *junk = ts_path(dir, "junk.ent"), *c = NULL;
	free(sh_out("echo 'not a plist' > '%s'", junk));
	cr_assert(asprintf(&c, "Contents/MacOS/tool=%s", junk) > 0);
	expect_exit(3, app, ARGS("sign", app, "--nested", "--component-entitlements", c), "entitlements for 'Contents/MacOS/tool'");
	free(c);
	free(junk);
	free(bad);
	free(app);
}

Test(sign_bundle_cli, identity_gives_the_team_and_dash_removes_entitlements)
{
	char *app = make_app("App.app"), *ent = write_ent("e.ent");
	/* The tool first gets entitlements, then '-' takes them away in the nested run. */
	char *tool = ts_path(app, "Contents/MacOS/tool");
	free(sh_out("'%s' sign '%s' --identifier org.test.tool --entitlements '%s' >/dev/null", ts_bin(), tool, ent));
	char *out = NULL, *err = NULL;
	int rc = run(ARGS("sign", app, "--nested", "--runtime", "--identity", ts_root("testdata/keys/identity.p12"),
			  "--password-file", ts_root("testdata/keys/identity.pass"), "--anchors",
			  ts_root("testdata/keys/roots.tsv"), "--signing-time", "1700000000", "--component-entitlements",
			  "Contents/MacOS/tool=-"),
		     &out, &err);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	size_t n = 0;
	for (char *p = out; (p = strstr(p, ", team UTMTEST123, cdhash ")); p++)
		n++;
	cr_expect_eq(n, 4, "every component signed with the team: %s", out);
	free(out);
	char *argv[] = { (char *)ts_bin(), "audit", tool, NULL };
	cr_assert_eq(ts_run(argv, &out, NULL), 0);
	cr_expect(strstr(out, "TeamIdentifier=UTMTEST123"), "%s", out);
	cr_expect(!strstr(out, "Entitlements=XML"), "the tool kept its entitlements: %s", out);
	char *c = ts_path(app, "Contents");
	cr_expect_eq(verify(c, "MacOS/App", "--anchors testdata/keys/roots.tsv"), 0);
	free(c);
	free(out);
	free(err);
	free(tool);
	free(ent);
	free(app);
}
