/*
 * test_install_cli.c - `utmpatch install`, `status` and `rollback` on copies
 * of the signed demo UTM.app.  Oracles: llvm-otool-14 and llvm-lipo-14 for
 * install names and slices, Python reading the signature bytes for
 * entitlements, diff -r / a tree hash for byte identity, the demo bundle as
 * built for what "pristine" is.
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

#define FW "Contents/Frameworks/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu"
#define LAUNCHER "Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMULauncher.app/Contents/MacOS/QEMULauncher"

/* Python: the x86_64 slices of two files agree everywhere but where a new signature must differ. */
static const char py_same_slice[] =
	"import struct, sys\n"
	"def slice_of(path, cpu):\n"
	"    d = open(path, 'rb').read()\n"
	"    n = struct.unpack('>I', d[4:8])[0]\n"
	"    for i in range(n):\n"
	"        c, s, o, z, a = struct.unpack('>5I', d[8 + 20 * i: 28 + 20 * i])\n"
	"        if c == cpu: return bytearray(d[o:o + z])\n"
	"    raise SystemExit('no slice')\n"
	"def masked(m):\n"
	"    ncmds = struct.unpack('<I', m[16:20])[0]; p = 32; sigoff = None\n"
	"    for i in range(ncmds):\n"
	"        cmd, cs = struct.unpack('<II', m[p:p + 8])\n"
	"        if cmd == 0x19 and m[p + 8:p + 24].rstrip(b'\\0') == b'__LINKEDIT':\n"
	"            m[p + 32:p + 40] = bytes(8); m[p + 48:p + 56] = bytes(8)\n"
	"        if cmd == 0x1d:\n"
	"            sigoff = struct.unpack('<I', m[p + 8:p + 12])[0]; m[p + 12:p + 16] = bytes(4)\n"
	"        p += cs\n"
	"    return m[:sigoff]\n"
	"a = masked(slice_of(sys.argv[1], 0x01000007)); b = masked(slice_of(sys.argv[2], 0x01000007))\n"
	"print(len(a)); sys.exit(0 if a == b else 1)\n";

Test(install_cli, demo_story_install_status_rollback, .timeout = 300)
{
	struct scratch s;
	scratch_make(&s);
	struct tsupport_out o;
	int st = install(&o, &s, s.dylib, NULL, NULL);
	cr_assert_eq(st, 0, "install: %s%s", o.out, o.err);
	cr_expect(strstr(o.out, "installed: "), "%s", o.out);
	tsupport_out_release(&o);

	/* verify --deep --strict (the test PKI's root as an anchor: the untouched code is Developer ID) */
	st = ui_run(&o, NULL, "verify", "--deep", "--strict", "--anchors", ts_root("testdata/keys/roots.tsv"), s.app, NULL);
	cr_expect_eq(st, 0, "verify --deep --strict: %s%s", o.out, o.err);
	tsupport_out_release(&o);

	/* no absolute sysroot path left, the pristine id (llvm-otool-14) */
	char *ids = sh_out("llvm-otool-14 -arch all -D '%s/%s' | grep -v ':$' | sort -u", s.app, FW);
	char *pristine_ids = sh_out("llvm-otool-14 -arch all -D '%s/%s' | grep -v ':$' | sort -u", tdemo_app(), FW);
	cr_expect_str_eq(ids, pristine_ids);
	cr_expect(strstr(ids, "@rpath/qemu-aarch64-softmmu.framework/qemu-aarch64-softmmu"), "%s", ids);
	char *deps = sh_out("llvm-otool-14 -arch all -L '%s/%s'", s.app, FW);
	cr_expect(!strstr(deps, "/Users/x"), "absolute sysroot path left: %s", deps);
	cr_expect(strstr(deps, "@rpath/pixman-1.0.framework/Versions/A/pixman-1.0"), "%s", deps);
	cr_expect_eq(sh_status("! grep -c sysroot-macOS '%s/%s'", s.app, FW), 0, "a sysroot string is left in the binary");
	/* the x86_64 slice is UTM's, the arm64 one is the dylib's (llvm-lipo-14) */
	char *archs = sh_out("llvm-lipo-14 -archs '%s/%s'", s.app, FW);
	cr_expect(strstr(archs, "x86_64") && strstr(archs, "arm64"), "%s", archs);
	const char *argv[] = { "python3", "-c", py_same_slice, "", "", NULL };
	char *a1 = tsupport_printf("%s/%s", tdemo_app(), FW), *a2 = tsupport_printf("%s/%s", s.app, FW);
	argv[3] = a1;
	argv[4] = a2;
	cr_assert_eq(tsupport_run(&o, argv, NULL, NULL), 0);
	cr_expect_eq(o.status, 0, "the x86_64 slice changed beyond its signature: %s%s", o.out, o.err);
	tsupport_out_release(&o);

	/* the launcher: the pristine set minus vm.networking plus disable-library-validation */
	char *lpath = tsupport_printf("%s/%s", s.app, LAUNCHER);
	char *keys = py_entitlement_keys(lpath, "arm64");
	cr_expect_str_eq(keys, "com.apple.security.app-sandbox com.apple.security.cs.allow-jit "
			       "com.apple.security.cs.disable-library-validation com.apple.security.hypervisor "
			       "com.apple.security.inherit");
	char *keys86 = py_entitlement_keys(lpath, "x86_64");
	cr_expect_str_eq(keys86, keys);
	char *pristine_l = tsupport_printf("%s/%s", tdemo_app(), LAUNCHER);
	char *pkeys = py_entitlement_keys(pristine_l, "arm64");
	cr_expect_str_eq(pkeys, "com.apple.security.app-sandbox com.apple.security.cs.allow-jit "
				"com.apple.security.hypervisor com.apple.security.inherit com.apple.vm.networking");

	/* every untouched framework byte-identical; the changed files are exactly the closure's */
	cr_expect_eq(sh_status("cd '%s' && for f in Contents/Frameworks/*.framework; do "
			       "[ \"$f\" = Contents/Frameworks/qemu-aarch64-softmmu.framework ] && continue; "
			       "diff -r \"$f\" '%s'/\"$f\" || exit 1; done",
			       tdemo_app(), s.app),
		     0, "an untouched framework changed");
	char *changed = sh_out("diff -rq --no-dereference '%s' '%s' | sed 's|%s/||; s| and .*||; s|^Files ||' | LC_ALL=C sort",
			       tdemo_app(), s.app, tdemo_app());
	cr_expect_str_eq(changed, FW "\nContents/MacOS/UTM\n"
				     "Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMUHelper\n" LAUNCHER "\n"
				     "Contents/XPCServices/QEMUHelper.xpc/Contents/_CodeSignature/CodeResources\n"
				     "Contents/_CodeSignature/CodeResources\n");

	/* status says patched, with the target and the dylib's sha256 (sha256sum) */
	st = ui_run(&o, NULL, "status", "--app", s.app, "--state-dir", s.state, NULL);
	cr_expect_eq(st, 0);
	char *sum = sh_out("sha256sum '%s' | cut -d' ' -f1 | tr -d '\\n'", s.dylib);
	cr_expect(strstr(o.out, "state: patched") && strstr(o.out, "qemu-aarch64-softmmu") && strstr(o.out, sum),
		  "status: %s", o.out);
	tsupport_out_release(&o);
	st = ui_run(&o, NULL, "status", "--app", s.app, "--state-dir", s.state, "--json", NULL);
	cr_expect_eq(st, 0);
	expect_schema_valid(o.out, o.outlen, s.dir, "status");
	char *pj = tsupport_printf("%s/status.json", s.dir);
	cr_expect_eq(sh_status("python3 -c \"import json,sys; d=json.load(open('%s')); "
			       "sys.exit(0 if d['state']=='patched' and d['install']['meta']['dylib_sha256']=='%s' "
			       "and d['install']['meta']['target']=='qemu-aarch64-softmmu' else 1)\"",
			       pj, sum),
		     0, "status --json: %s", o.out);
	tsupport_out_release(&o);

	/* rollback: byte for byte */
	st = ui_run(&o, NULL, "rollback", "--app", s.app, "--state-dir", s.state, NULL);
	cr_expect_eq(st, 0, "rollback: %s%s", o.out, o.err);
	cr_expect(strstr(o.out, "4 cdhashes checked"), "%s", o.out);
	tsupport_out_release(&o);
	scratch_expect_pristine(&s, "after rollback");
	cr_expect_eq(sh_status("diff -r '%s' '%s'", tdemo_app(), s.app), 0);
	st = ui_run(&o, NULL, "status", "--app", s.app, "--state-dir", s.state, NULL);
	cr_expect(strstr(o.out, "state: pristine"), "%s", o.out);
	tsupport_out_release(&o);
	free(ids), free(pristine_ids), free(deps), free(archs), free(a1), free(a2), free(lpath), free(keys);
	free(keys86), free(pristine_l), free(pkeys), free(changed), free(sum), free(pj);
	scratch_free(&s);
}

Test(install_cli, dry_run_prints_the_plan_and_changes_nothing, .timeout = 120)
{
	struct scratch s;
	scratch_make(&s);
	struct tsupport_out o;
	int st = install(&o, &s, s.dylib, NULL, "--dry-run", NULL);
	cr_assert_eq(st, 0, "%s%s", o.out, o.err);
	static const char *const sections[] = { "install names (rewritten):", "slices of the new framework binary:",
						"load check (as QEMULauncher loads it)", "entry points: qemu_init",
						"signing closure (inside-out, never --deep):", "drop com.apple.vm.networking",
						"add  com.apple.security.cs.disable-library-validation",
						"files changed (each backed up first", "dry run: nothing was changed" };
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		cr_expect(strstr(o.out, sections[i]), "dry run lacks '%s':\n%s", sections[i], o.out);
	tsupport_out_release(&o);
	scratch_expect_pristine(&s, "after --dry-run");
	cr_expect(!ts_exists(s.state) || sh_status("[ -z \"$(ls -A '%s/bundles' 2>/dev/null)\" ]", s.state) == 0,
		  "the dry run left state behind");
	/* JSON, checked against the schema's required keys by Python */
	st = install(&o, &s, s.dylib, NULL, "--dry-run", "--json", NULL);
	cr_assert_eq(st, 0);
	expect_schema_valid(o.out, o.outlen, s.dir, "plan");
	char *pj = tsupport_printf("%s/plan.json", s.dir);
	cr_expect_eq(sh_status("python3 -c \"import json,sys; d=json.load(open('%s')); "
			       "a=[c['action'] for c in d['closure']]; "
			       "sys.exit(0 if a==['framework','re-sign','reseal','reseal'] and "
			       "d['result']=='planned' and len(d['files'])==6 else 1)\"",
			       pj),
		     0, "install --dry-run --json: %s", o.out);
	tsupport_out_release(&o);
	free(pj);
	scratch_free(&s);
}

/* One refusal: exit 3, each of whats in the message, the bundle unchanged, no install recorded. */
static void expect_refused(const struct scratch *s, const char *dylib, const char *const *whats)
{
	struct tsupport_out o;
	int st = install(&o, s, dylib, NULL, NULL);
	cr_expect_eq(st, 3, "%s: exit %d: %s%s", whats[0], st, o.out, o.err);
	cr_expect(strstr(o.err, "install refused (nothing was changed)"), "%s: %s", whats[0], o.err);
	for (const char *const *w = whats; *w; w++)
		cr_expect(strstr(o.err, *w), "%s: stderr lacks it: %s", *w, o.err);
	tsupport_out_release(&o);
	scratch_expect_pristine(s, whats[0]);
	ui_run(&o, NULL, "status", "--app", s->app, "--state-dir", s->state, NULL);
	cr_expect(strstr(o.out, "state: pristine"), "%s: %s", whats[0], o.out);
	tsupport_out_release(&o);
}

/* An install of a dylib variant (build_variant) refused with each of whats. */
static void expect_variant_refused(const char *variant, const char *const *whats)
{
	struct scratch s;
	scratch_make(&s);
	char *d = build_variant(&s, variant);
	expect_refused(&s, d, whats);
	free(d);
	scratch_free(&s);
}

#define WHATS(...) ((const char *const[]){ __VA_ARGS__, NULL })

Test(install_cli, refuses_a_dependency_utm_does_not_ship, .timeout = 120)
{
	expect_variant_refused("unshipped",
			       WHATS("/Users/x/UTM/sysroot-macOS-arm64/lib/libgnutls.30.dylib: maps to 'gnutls.30.framework'"));
}

Test(install_cli, refuses_missing_entry_points, .timeout = 120)
{
	expect_variant_refused("noentry",
			       WHATS("entry points [arm64]", "missing: qemu_init, qemu_main_loop, qemu_cleanup"));
}

Test(install_cli, refuses_a_symbol_no_bundled_framework_exports, .timeout = 120)
{
	expect_variant_refused("nosym", WHATS("load check [arm64]: @rpath/glib-2.0.0.framework/Versions/A/glib-2.0.0: "
					      "missing symbols",
					      "      _g_not_in_utm"));
}

Test(install_cli, refuses_header_padding_too_small, .timeout = 120)
{
	expect_variant_refused("tight", WHATS("header padding: ", "relink with -headerpad_max_install_names"));
}

Test(install_cli, refuses_a_wrong_target, .timeout = 120)
{
	struct scratch s;
	scratch_make(&s);
	struct tsupport_out o;
	int st = install(&o, &s, s.dylib, NULL, "--target", "qemu-riscv64-softmmu", NULL);
	cr_expect_eq(st, 3);
	cr_expect(strstr(o.err, "no framework 'qemu-riscv64-softmmu.framework' in Contents/Frameworks (from --target; "
				"QEMU frameworks there: qemu-aarch64-softmmu, qemu-x86_64-softmmu)"),
		  "%s", o.err);
	tsupport_out_release(&o);
	st = install(&o, &s, s.dylib, NULL, "--target", "qemu-x86_64-softmmu", NULL);
	cr_expect_eq(st, 3);
	cr_expect(strstr(o.err, "--target 'qemu-x86_64-softmmu' but the dylib's install name"), "%s", o.err);
	tsupport_out_release(&o);
	scratch_expect_pristine(&s, "wrong --target");
	scratch_free(&s);
}

Test(install_cli, refuses_a_missing_slice_without_allow_missing_arch, .timeout = 120)
{
	struct scratch s;
	scratch_make(&s);
	struct tsupport_out o;
	const char *argv[] = { ts_bin(), "install", s.dylib, "--app", s.app, "--state-dir", s.state, NULL };
	cr_assert_eq(tsupport_run(&o, argv, NULL, NULL), 0);
	cr_expect_eq(o.status, 3);
	cr_expect(strstr(o.err, "the dylib has no x86_64 slice and UTM's qemu-aarch64-softmmu.framework has one"), "%s",
		  o.err);
	tsupport_out_release(&o);
	const char *argv2[] = { ts_bin(), "install", s.dylib, "--app", s.app, "--state-dir", s.state, "--arch", "x86_64",
				NULL };
	cr_assert_eq(tsupport_run(&o, argv2, NULL, NULL), 0);
	cr_expect_eq(o.status, 3);
	cr_expect(strstr(o.err, "the dylib has no x86_64 slice, the architecture of this Mac"), "%s", o.err);
	tsupport_out_release(&o);
	scratch_expect_pristine(&s, "missing slice");
	scratch_free(&s);
}

Test(install_cli, usage_errors_exit_2)
{
	struct tsupport_out o;
	cr_expect_eq(ui_run(&o, NULL, "install", NULL), 2);
	cr_expect(strstr(o.err, "install: missing DYLIB"), "%s", o.err);
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "install", "a", "b", NULL), 2);
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "install", "a", "--bogus", NULL), 2);
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "install", "-h", NULL), 0);
	cr_expect(strstr(o.out, "usage: utmpatch install DYLIB"), "%s", o.out);
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "rollback", "--bogus", NULL), 2);
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "status", "--app", NULL), 2);
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "entitlements", "--dry-run", NULL), 2);
	tsupport_out_release(&o);
}

Test(install_cli, missing_app_is_a_clear_error, .timeout = 60)
{
	struct tsupport_out o;
	char *dir = tsupport_tmpdir("noapp");
	char *app = tsupport_printf("%s/UTM.app", dir), *state = tsupport_printf("%s/state", dir);
	int st = ui_run(&o, NULL, "install", ts_fixture("qemu-arm64.dylib"), "--app", app, "--state-dir", state, NULL);
	cr_expect_eq(st, 3);
	cr_expect(strstr(o.err, "no such bundle (give UTM.app with --app)"), "%s", o.err);
	tsupport_out_release(&o);
	ts_rmtree(dir);
	free(dir), free(app), free(state);
}
