/*
 * test_vmcheck.c - the utmpatch vmcheck command line: exit codes, JSON output
 * (well-formed per Python's json module, valid per the published schema via
 * python3-jsonschema), --fix with backups, and the default VM locations.
 */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tsupport.h"
#include "tsupport_fs.h"
#include "tsupport_run.h"

static char *fixture(const char *name)
{
	return tsupport_printf("%s/testdata/vmconfigs/%s.utm", tsupport_root(), name);
}

/* Runs "utmpatch vmcheck <args...>" with an optional environment. */
static void vmcheck(struct tsupport_out *o, const char *const *env, const char *a0, const char *a1, const char *a2,
		    const char *a3, const char *a4)
{
	const char *argv[8] = { ts_bin(), "vmcheck", a0, a1, a2, a3, a4, NULL };
	cr_assert_eq(tsupport_run(o, argv, env, NULL), 0, "cannot run %s", ts_bin());
}

/* The schema check: Python's json parses it, and it validates against docs/schemas/vmcheck.schema.json. */
static void expect_valid_json(const char *doc)
{
	const char *parse[] = { "python3", "-c", "import json,sys; json.load(sys.stdin)", NULL };
	struct tsupport_out o;
	cr_assert_eq(tsupport_run(&o, parse, NULL, doc), 0);
	cr_expect_eq(o.status, 0, "not JSON: %s", o.err);
	tsupport_out_release(&o);
	char *script = tsupport_printf("%s/testdata/vmconfigs/tools/validate_json.py", tsupport_root());
	char *schema = tsupport_printf("%s/docs/schemas/vmcheck.schema.json", tsupport_root());
	const char *val[] = { "python3", script, schema, NULL };
	cr_assert_eq(tsupport_run(&o, val, NULL, doc), 0);
	cr_expect_eq(o.status, 0, "schema: %s%s", o.out, o.err);
	tsupport_out_release(&o);
	free(script);
	free(schema);
}

/* Evaluates a Python expression over the parsed JSON document d; returns its printed value. */
static char *json_query(const char *doc, const char *expr)
{
	char *code = tsupport_printf("import json,sys; d=json.load(sys.stdin); print(%s)", expr);
	const char *argv[] = { "python3", "-c", code, NULL };
	struct tsupport_out o;
	cr_assert_eq(tsupport_run(&o, argv, NULL, doc), 0);
	cr_assert_eq(o.status, 0, "query %s: %s", expr, o.err);
	char *r = strdup(o.out);
	size_t n = strlen(r);
	if (n && r[n - 1] == '\n')
		r[n - 1] = '\0';
	tsupport_out_release(&o);
	free(code);
	return r;
}

static void expect_query(const char *doc, const char *expr, const char *want)
{
	char *got = json_query(doc, expr);
	cr_expect_str_eq(got, want, "%s", expr);
	free(got);
}

Test(vmcheck_cli, exit_codes)
{
	struct tsupport_out o;
	char *ok = fixture("qemu-v4-emulated"), *vmnet = fixture("qemu-v4-shared"), *bad = fixture("invalid-v4-no-mac");
	vmcheck(&o, NULL, ok, NULL, NULL, NULL, NULL);
	cr_expect_eq(o.status, 0, "ok VM: %s", o.err);
	tsupport_out_release(&o);
	vmcheck(&o, NULL, ok, vmnet, NULL, NULL, NULL);
	cr_expect_eq(o.status, 1);
	tsupport_out_release(&o);
	vmcheck(&o, NULL, bad, NULL, NULL, NULL, NULL);
	cr_expect_eq(o.status, 1);
	tsupport_out_release(&o);
	vmcheck(&o, NULL, ok, "/nonexistent/utmpatch/x.utm", NULL, NULL, NULL);
	cr_expect_eq(o.status, 3);
	cr_expect(strstr(o.err, "utmpatch: cannot find '/nonexistent/utmpatch/x.utm'") != NULL, "%s", o.err);
	cr_expect_eq(o.outlen, 0, "output despite the error: %s", o.out);
	tsupport_out_release(&o);
	vmcheck(&o, NULL, "--frobnicate", NULL, NULL, NULL, NULL);
	cr_expect_eq(o.status, 2);
	cr_expect(strstr(o.err, "usage: utmpatch vmcheck") != NULL);
	tsupport_out_release(&o);
	vmcheck(&o, NULL, "--dry-run", ok, NULL, NULL, NULL);
	cr_expect_eq(o.status, 2);
	tsupport_out_release(&o);
	vmcheck(&o, NULL, "--state-dir", NULL, NULL, NULL, NULL);
	cr_expect_eq(o.status, 2);
	tsupport_out_release(&o);
	vmcheck(&o, NULL, "-h", NULL, NULL, NULL, NULL);
	cr_expect_eq(o.status, 0);
	cr_expect(strstr(o.out, "usage: utmpatch vmcheck") != NULL);
	tsupport_out_release(&o);
	free(ok);
	free(vmnet);
	free(bad);
}

Test(vmcheck_cli, text_output)
{
	struct tsupport_out o;
	char *b = fixture("qemu-v4-multi");
	vmcheck(&o, NULL, b, NULL, NULL, NULL, NULL);
	cr_expect_eq(o.status, 1);
	cr_expect(strstr(o.out, "Three NICs: needs vmnet") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "-netdev vmnet-shared,id=net1") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "-netdev vmnet-bridged,id=net2,ifname=en0") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "-netdev user,id=net0") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "utmpatch vmcheck --fix") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "1 VM: 0 ok, 1 needs vmnet, 0 invalid") != NULL, "%s", o.out);
	tsupport_out_release(&o);
	free(b);
}

Test(vmcheck_cli, json_whole_corpus)
{
	struct tsupport_out o;
	char *dir = tsupport_printf("%s/testdata/vmconfigs", tsupport_root());
	vmcheck(&o, NULL, "--json", dir, NULL, NULL, NULL);
	cr_expect_eq(o.status, 1);
	cr_expect_eq(o.errlen, 0, "stderr: %s", o.err);
	expect_valid_json(o.out);
	expect_query(o.out, "d['summary']['total'] == len(d['vms'])", "True");
	expect_query(o.out, "len(d['vms']) >= 24", "True");
	expect_query(o.out, "sorted(set(v['status'] for v in d['vms']))", "['invalid', 'ok', 'vmnet']");
	expect_query(o.out, "[v['nics'] for v in d['vms'] if v['path'].endswith('/qemu-v4-host.utm')][0][0]['netdev']",
		     "vmnet-host,id=net0,net-uuid=5D1F6C1E-8A4B-4C7D-9E0F-123456789ABC");
	expect_query(o.out, "all(('fix' in v) == False for v in d['vms'])", "True");
	tsupport_out_release(&o);
	free(dir);
}

Test(vmcheck_cli, json_real_corpus)
{
	const char *c = getenv("UTMPATCH_CORPUS");
	char *dir = tsupport_printf("%s/utm", c && *c ? c : "../shared/corpus");
	struct tsupport_out o;
	vmcheck(&o, NULL, "--json", dir, NULL, NULL, NULL);
	cr_expect_eq(o.status, 1); /* the PowerPC VM uses Shared */
	expect_valid_json(o.out);
	expect_query(o.out, "[(v['name'], v['status'], v['nics'][0]['netdev']) for v in d['vms']]",
		     "[('macOS 12 X86-64 (config only)', 'ok', 'user,id=net0'), "
		     "('osx104-ppc-v2', 'vmnet', 'vmnet-shared,id=net0')]");
	tsupport_out_release(&o);
	free(dir);
}

static char *hash_file(const char *path)
{
	const char *argv[] = { "openssl", "dgst", "-sha256", "-r", path, NULL };
	struct tsupport_out o;
	cr_assert_eq(tsupport_run(&o, argv, NULL, NULL), 0);
	char *h = strndup(o.out, 64);
	tsupport_out_release(&o);
	return h;
}

Test(vmcheck_cli, fix_dry_run_then_fix)
{
	char *tmp = tsupport_tmpdir("vmcheck-cli");
	char *vms = tsupport_printf("%s/vms", tmp);
	cr_assert_eq(mkdir(vms, 0755), 0);
	static const char *const names[] = { "qemu-v4-shared-bin", "apple-v4-bridged", "legacy-qemu-v2-shared",
					     "qemu-v4-emulated", "qemu-v4-args-nic" };
	char *cfgs[5], *hashes[5];
	for (int i = 0; i < 5; i++) {
		char *src = fixture(names[i]);
		char *dst = tsupport_printf("%s/%s.utm", vms, names[i]);
		cr_assert_eq(tsupport_copytree(src, dst), 0);
		cfgs[i] = tsupport_printf("%s/config.plist", dst);
		hashes[i] = hash_file(cfgs[i]);
		free(src);
		free(dst);
	}
	char *state = tsupport_printf("%s/state", tmp);
	struct tsupport_out o;

	/* --dry-run: reports the changes, writes nothing, exits 1 (still vmnet on disk). */
	const char *argv[] = { ts_bin(), "vmcheck", "--fix", "--dry-run", "--json", "--state-dir", state, vms, NULL };
	cr_assert_eq(tsupport_run(&o, argv, NULL, NULL), 0);
	cr_expect_eq(o.status, 1, "%s", o.err);
	expect_valid_json(o.out);
	expect_query(o.out, "sum(len(v['fix']['changes']) > 0 for v in d['vms'])", "4");
	expect_query(o.out, "any(v['fix']['written'] for v in d['vms'])", "False");
	tsupport_out_release(&o);
	for (int i = 0; i < 5; i++) {
		char *h = hash_file(cfgs[i]);
		cr_expect_str_eq(h, hashes[i], "%s changed by --dry-run", names[i]);
		free(h);
	}
	struct stat st;
	cr_expect_neq(stat(state, &st), 0);

	/* --fix: every VM ok afterwards, exit 0, one backup per fixed VM. */
	const char *argv2[] = { ts_bin(), "vmcheck", "--fix", "--force", "--json", "--state-dir", state, vms, NULL };
	cr_assert_eq(tsupport_run(&o, argv2, NULL, NULL), 0);
	cr_expect_eq(o.status, 0, "%s", o.err);
	expect_valid_json(o.out);
	expect_query(o.out, "[v['fix']['status'] for v in d['vms']]", "['ok', 'ok', 'ok', 'ok', 'ok']");
	expect_query(o.out, "sum(v['fix']['written'] for v in d['vms'])", "4");
	char *q = tsupport_printf("all(v['fix']['backup'].startswith('%s/vmcheck-backups/') "
				  "for v in d['vms'] if v['fix']['written'])", state);
	expect_query(o.out, q, "True");
	free(q);
	expect_query(o.out, "d['summary']", "{'total': 5, 'ok': 5, 'vmnet': 0, 'invalid': 0}");
	tsupport_out_release(&o);
	/* The Emulated VM was not touched. */
	char *h = hash_file(cfgs[3]);
	cr_expect_str_eq(h, hashes[3]);
	free(h);

	/* A second run finds nothing to do. */
	cr_assert_eq(tsupport_run(&o, argv2, NULL, NULL), 0);
	cr_expect_eq(o.status, 0);
	expect_query(o.out, "sum(v['fix']['written'] for v in d['vms'])", "0");
	tsupport_out_release(&o);

	for (int i = 0; i < 5; i++) {
		free(cfgs[i]);
		free(hashes[i]);
	}
	free(state);
	free(vms);
	tsupport_rmtree(tmp);
	free(tmp);
}

Test(vmcheck_cli, fix_leaves_invalid_alone)
{
	char *tmp = tsupport_tmpdir("vmcheck-cli-inv");
	char *src = fixture("invalid-v4-bridged-no-mac");
	char *dst = tsupport_printf("%s/bad.utm", tmp);
	cr_assert_eq(tsupport_copytree(src, dst), 0);
	char *cfg = tsupport_printf("%s/config.plist", dst);
	char *before = hash_file(cfg);
	char *state = tsupport_printf("%s/state", tmp);
	struct tsupport_out o;
	vmcheck(&o, NULL, "--fix", "--force", "--state-dir", state, dst);
	cr_expect_eq(o.status, 1);
	cr_expect(strstr(o.out, "invalid: UTM would not load it") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "missing required key 'Network[0].MacAddress'") != NULL, "%s", o.out);
	tsupport_out_release(&o);
	char *after = hash_file(cfg);
	cr_expect_str_eq(after, before);
	free(after);
	free(before);
	free(state);
	free(cfg);
	free(dst);
	free(src);
	tsupport_rmtree(tmp);
	free(tmp);
}

/*
 * No PATH: UTM's Documents folder under $HOME; --fix backups default to
 * $XDG_STATE_HOME/utmpatch (macOS: ~/Library/Application Support/utmpatch).
 */
Test(vmcheck_cli, defaults_from_home)
{
	char *home = tsupport_tmpdir("vmcheck-home");
	char *docs = tsupport_printf("%s/Library/Containers/com.utmapp.UTM/Data/Documents", home);
	char *p = tsupport_printf("%s", docs);
	for (char *s = p + strlen(home) + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	mkdir(p, 0755);
	free(p);
	char *src = fixture("qemu-v4-bridged");
	char *dst = tsupport_printf("%s/Bridged.utm", docs);
	cr_assert_eq(tsupport_copytree(src, dst), 0);
	char *henv = tsupport_printf("HOME=%s", home);
	char *xdg = tsupport_printf("XDG_STATE_HOME=%s/xdg", home);
	const char *env[] = { henv, xdg, NULL };
	struct tsupport_out o;
	vmcheck(&o, env, "--json", NULL, NULL, NULL, NULL);
	cr_expect_eq(o.status, 1, "%s", o.err);
	expect_valid_json(o.out);
	expect_query(o.out, "[v['name'] for v in d['vms']]", "['Bridged']");
	tsupport_out_release(&o);
	vmcheck(&o, env, "--fix", "--force", NULL, NULL, NULL); /* --force: a UTM running on a Mac is not ours */
	cr_expect_eq(o.status, 0, "%s %s", o.out, o.err);
	cr_expect(strstr(o.out, "Network[0].Mode: 'Bridged' -> 'Emulated'") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "Network[0]: removed BridgeInterface 'en1'") != NULL, "%s", o.out);
#ifdef __APPLE__
	char *backups = tsupport_printf("%s/Library/Application Support/utmpatch/vmcheck-backups", home);
#else
	char *backups = tsupport_printf("%s/xdg/utmpatch/vmcheck-backups", home);
#endif
	struct stat st;
	cr_expect_eq(stat(backups, &st), 0, "no backups under %s", backups);
	tsupport_out_release(&o);

	/* Without HOME there is nothing to scan: could not run. */
	const char *noenv[] = { "HOME", NULL };
	vmcheck(&o, noenv, NULL, NULL, NULL, NULL, NULL);
	cr_expect_eq(o.status, 3);
	tsupport_out_release(&o);
	free(backups);
	free(henv);
	free(xdg);
	free(src);
	free(dst);
	free(docs);
	tsupport_rmtree(home);
	free(home);
}
