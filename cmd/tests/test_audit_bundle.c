/*
 * test_audit_bundle.c - `utmpatch audit BUNDLE [--json]`: one row per Mach-O
 * file with its signature, the verdict of a deep strict verification, JSON
 * valid against docs/schemas/audit-bundle.schema.json (python3 jsonschema).
 * Oracles: the corpus MANIFEST.tsv (identifier, team, flags, hash types of
 * every slice, as another tool read them) and the entitlements blob read
 * straight from the file by python's plistlib.
 */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmanifest.h"
#include "tsupport.h"
#include "tsupport_bundle.h"
#include "tsupport_fs.h"
#include "ut_err.h"

static char *tmp;

static void setup(void) { tmp = tsupport_tmpdir("audit-bundle"); }
static void teardown(void)
{
	tsupport_rmtree(tmp);
	free(tmp);
}

TestSuite(audit_bundle, .init = setup, .fini = teardown, .timeout = 120);

static void check_schema(const char *bundle, int want_status)
{
	char *cmd = tsupport_printf("'%s' audit --json '%s' > '%s/out.json'; echo $? > '%s/status'; "
				    "/usr/bin/python3 -c 'import json,sys,jsonschema; s=json.load(open(sys.argv[1])); "
				    "d=json.load(open(sys.argv[2])); "
				    "jsonschema.validate(d, s, cls=jsonschema.Draft202012Validator)' '%s' '%s/out.json'",
				    ts_bin(), bundle, tmp, tmp, ts_root("docs/schemas/audit-bundle.schema.json"), tmp);
	char *out = NULL, *err = NULL;
	int rc = ts_sh(cmd, &out, &err);
	cr_expect_eq(rc, 0, "%s: schema validation failed: %s", bundle, err);
	free(cmd);
	free(out);
	free(err);
	char *sp = tsupport_printf("%s/status", tmp);
	uint8_t *st = NULL;
	size_t n = 0;
	cr_assert_eq(tsupport_read(sp, &st, &n), 0);
	cr_expect_eq(atoi((char *)st), want_status, "%s: exit %s", bundle, (char *)st);
	free(st);
	free(sp);
}

Test(audit_bundle, json_matches_schema)
{
	static const struct {
		const char *rel;
		int status;
	} rows[] = { { TSB_SPARKLE, 0 }, { TSB_SIGNAPPLE, 0 }, { TSB_GROWL, 1 }, { TSB_NOTIFIER, 1 } };
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *b = tsb_copy_corpus(rows[i].rel, tmp);
		check_schema(b, rows[i].status);
		free(b);
	}
	char *app = tsb_build_app(tmp);
	char *cmd = tsupport_printf("cp '%s' '%s/Contents/Resources/tool.dylib'", ts_fixture("arm64-dylib"), app);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	cr_assert_eq(tsb_sign_bundle(app, NULL), 0, "%s", ut_errmsg());
	check_schema(app, 0);
	char *fw = tsupport_printf("%s/Contents/PlugIns/Plug.bundle/Contents/MacOS/Plug", app);
	tsb_flip(fw, tsb_text_offset(fw));
	check_schema(app, 1);
	free(fw);
	free(app);
}

/* path, arch, identifier, team, flag names, hash type, entitlement keys, valid: one line per slice. */
static char *json_lines(const char *bundle)
{
	char *cmd = tsupport_printf(
		"'%s' audit --json '%s' | /usr/bin/python3 -c 'import json,sys\n"
		"d=json.load(sys.stdin)\n"
		"for m in d[\"macho\"]:\n"
		"  for s in m[\"slices\"]:\n"
		"    print(\"|\".join([m[\"path\"], m[\"role\"], s[\"arch\"], s[\"identifier\"] or \"\", s[\"team_id\"] or \"\", "
		"s[\"flag_names\"] or \"\", s[\"hash_type\"] or \"\", \",\".join(s[\"entitlement_keys\"] or []), "
		"str(m[\"valid\"])]))'",
		ts_bin(), bundle);
	char *out = NULL, *err = NULL;
	ts_sh(cmd, &out, &err);
	free(cmd);
	free(err);
	return out;
}

/* The entitlement keys of the first slice of a file, read by python from the 0xfade7171 blob. */
static char *python_ent_keys(const char *file)
{
	char *cmd = tsupport_printf("/usr/bin/python3 -c 'import sys,plistlib,struct\n"
				    "d=open(sys.argv[1],\"rb\").read()\n"
				    "i=d.find(bytes.fromhex(\"fade7171\"))\n"
				    "n=struct.unpack(\">I\",d[i+4:i+8])[0] if i>=0 else 0\n"
				    "print(\",\".join(sorted(plistlib.loads(d[i+8:i+n]).keys())) if i>=0 else \"\")' '%s'",
				    file);
	char *out = NULL, *err = NULL;
	cr_assert_eq(ts_sh(cmd, &out, &err), 0, "%s", err);
	free(cmd);
	free(err);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static void flags_of(const char *manifest_flags, char *out, size_t n)
{
	snprintf(out, n, "%s", manifest_flags);
	for (char *p = out; *p; p++)
		if (*p == '+')
			*p = ',';
}

Test(audit_bundle, rows_agree_with_the_manifest)
{
	struct tm_entry *m;
	size_t nm;
	cr_assert_eq(tm_load(ts_corpus("MANIFEST.tsv"), &m, &nm), 0);
	static const char *const bundles[] = { TSB_SPARKLE, TSB_SIGNAPPLE, TSB_GROWL, TSB_NOTIFIER };
	unsigned checked = 0;
	for (size_t i = 0; i < 4; i++) {
		char *b = tsb_copy_corpus(bundles[i], tmp);
		char *lines = json_lines(b);
		cr_assert(lines && lines[0], "%s: no rows", bundles[i]);
		for (char *line = strtok(lines, "\n"); line; line = strtok(NULL, "\n")) {
			char *f[9];
			int nf = 0;
			for (char *p = line; nf < 9; nf++) {
				f[nf] = p;
				char *q = strchr(p, '|');
				if (!q) {
					nf++;
					break;
				}
				*q = '\0';
				p = q + 1;
			}
			cr_assert_eq(nf, 9, "%s", line);
			char *rel = tsupport_printf("%s/%s", bundles[i], f[0]);
			const struct tm_entry *e = tm_find(m, nm, rel);
			cr_assert(e, "%s not in MANIFEST", rel);
			const struct tm_slice *s = NULL;
			for (unsigned k = 0; k < e->nslices; k++)
				if (strcmp(e->s[k].arch, f[2]) == 0)
					s = &e->s[k];
			cr_assert(s, "%s: slice %s not in MANIFEST", rel, f[2]);
			cr_expect_str_eq(f[3], s->id, "%s %s identifier", rel, f[2]);
			cr_expect_str_eq(f[4], s->team, "%s %s team", rel, f[2]);
			char want[64];
			flags_of(s->flags, want, sizeof(want));
			cr_expect_str_eq(f[5], want, "%s %s flags", rel, f[2]);
			const char *best = strstr(s->hashes, "sha256") ? "sha256" : "sha1";
			cr_expect_str_eq(f[6], best, "%s %s hash type", rel, f[2]);
			char *file = tsupport_printf("%s/%s", b, f[0]);
			char *keys = python_ent_keys(file);
			cr_expect_str_eq(f[7], keys, "%s entitlement keys", rel);
			free(keys);
			free(file);
			free(rel);
			checked++;
		}
		free(lines);
		free(b);
	}
	cr_expect_eq(checked, 11, "slices: Sparkle 3 files x 2, signapple-test 2, Growl 2, terminal-notifier 1; got %u", checked);
	free(m);
}

/* The text table: a header, a row per Mach-O (resources included, marked), the problems, a summary. */
Test(audit_bundle, text_table_lists_every_macho)
{
	char *app = tsb_build_app(tmp);
	char *cmd = tsupport_printf("cp '%s' '%s/Contents/Resources/tool.dylib'", ts_fixture("arm64-dylib"), app);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	cr_assert_eq(tsb_sign_bundle(app, NULL), 0, "%s", ut_errmsg());
	char *lib = tsupport_printf("%s/Contents/Frameworks/libbar.dylib", app);
	tsb_flip(lib, tsb_text_offset(lib));
	cmd = tsupport_printf("'%s' audit '%s'", ts_bin(), app);
	char *out = NULL, *err = NULL;
	int rc = ts_sh(cmd, &out, &err);
	cr_expect_eq(rc, 1, "exit %d\n%s%s", rc, out, err);
	cr_expect(strncmp(out, "PATH ", 5) == 0, "%s", out);
	static const char *const files[] = { "Contents/MacOS/Demo", "Contents/MacOS/helper",
					     "Contents/Frameworks/Foo.framework/Versions/A/Foo",
					     "Contents/Frameworks/libbar.dylib",
					     "Contents/PlugIns/Plug.bundle/Contents/MacOS/Plug",
					     "Contents/XPCServices/Svc.xpc/Contents/MacOS/Svc", "Contents/Resources/tool.dylib" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *row = tsupport_printf("\n%s ", files[i]);
		cr_expect(strstr(out, row), "no row for %s:\n%s", files[i], out);
		free(row);
	}
	cr_expect(strstr(out, "valid (sealed as a resource)"), "%s", out);
	cr_expect(strstr(out, "x86_64/arm64  ad-hoc") || strstr(out, "arm64/x86_64  ad-hoc"), "%s", out);
	char *bad = tsupport_printf("%s/Contents/Frameworks/libbar.dylib: invalid signature (code or signature have been "
				    "modified)",
				    app);
	cr_expect(strstr(out, bad), "%s", out);
	char *nested = tsupport_printf("%s: nested code is modified or invalid: Contents/Frameworks/libbar.dylib", app);
	cr_expect(strstr(out, nested), "%s", out);
	char *sum = tsupport_printf("%s: 7 Mach-O files, 6 components; not valid (deep, strict)\n", app);
	cr_expect(strstr(out, sum), "%s", out);
	cr_expect_str_empty(err, "%s", err);
	free(sum);
	free(bad);
	free(nested);
	free(out);
	free(err);
	free(cmd);
	free(lib);
	free(app);
}
