/*
 * test_verify_gate.c - `utmpatch verify --app/--vms`, the CI gate: the demo
 * UTM.app passes before and after `install`; each deliberate break (a
 * framework byte changed, an absolute install name left by
 * llvm-install-name-tool-14, QEMULauncher re-signed without the hypervisor
 * entitlement) fails the gate naming the component and the check; VM checks
 * follow testdata/vmconfigs/EXPECTED.tsv (written by hand).  Every report is
 * checked independently: JSON by python3-jsonschema against
 * docs/schemas/verify.schema.json, JUnit by xmllint against
 * testdata/junit/junit.xsd and by ElementTree against the JSON
 * (testdata/junit/gate_oracle.py).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdemo.h"
#include "test_install_util.h"
#include "tsupport.h"
#include "tsupport_fs.h"

#define LAUNCHER "Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMULauncher.app"
#define QEMU_FW "Contents/Frameworks/qemu-aarch64-softmmu.framework"
#define QEMU_BIN QEMU_FW "/Versions/A/qemu-aarch64-softmmu"

static int oracle(const char *a0, const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
		  const char *a6)
{
	const char *argv[] = { "/usr/bin/python3", ts_root("testdata/junit/gate_oracle.py"), a0, a1, a2, a3, a4, a5,
			       a6, NULL };
	struct tsupport_out o;
	cr_assert_eq(tsupport_run(&o, argv, NULL, NULL), 0);
	if (o.status != 0)
		cr_log_error("gate_oracle.py %s: %s%s", a0, o.out, o.err);
	int st = o.status;
	tsupport_out_release(&o);
	return st;
}

/* Runs the gate on app (and vms, may be NULL) writing dir/<tag>.json and dir/<tag>.xml; returns the exit status,
 * after checking both reports independently and that the two runs agree. */
static int gate(const char *dir, const char *tag, const char *app, const char *vms, char **json_path)
{
	char *json = tsupport_printf("%s/%s.json", dir, tag), *xml = tsupport_printf("%s/%s.xml", dir, tag);
	const char *anchors = ts_root("testdata/keys/roots.tsv");
	struct tsupport_out o;
	const char *argv1[] = { ts_bin(), "verify", "--app", app, "--anchors", anchors, "--format", "json", "-o", json,
				vms ? "--vms" : NULL, vms, NULL };
	const char *argv2[] = { ts_bin(), "verify", "--app", app, "--anchors", anchors, "--format", "junit", "-o", xml,
				vms ? "--vms" : NULL, vms, NULL };
	cr_assert_eq(tsupport_run(&o, argv1, NULL, NULL), 0);
	int st = o.status;
	cr_expect_str_eq(o.out, "", "-o: nothing on stdout");
	cr_log_info("%s: %s", tag, o.err);
	tsupport_out_release(&o);
	cr_assert_eq(tsupport_run(&o, argv2, NULL, NULL), 0);
	cr_expect_eq(o.status, st, "%s: junit run exit %d, json run %d", tag, o.status, st);
	tsupport_out_release(&o);
	cr_assert(st == 0 || st == 1, "%s: exit %d", tag, st);
	cr_expect_eq(oracle("schema", json, NULL, NULL, NULL, NULL, NULL), 0, "%s: JSON schema", tag);
	cr_expect_eq(oracle("junit", xml, json, NULL, NULL, NULL, NULL), 0, "%s: JUnit vs JSON", tag);
	cr_expect_eq(sh_status("xmllint --noout --schema '%s' '%s'", ts_root("testdata/junit/junit.xsd"), xml), 0,
		     "%s: xmllint --schema junit.xsd", tag);
	free(xml);
	if (json_path)
		*json_path = json;
	else
		free(json);
	return st;
}

static void expect_check(const char *json, const char *suite, const char *check, const char *component,
			 const char *status, const char *sub)
{
	cr_expect_eq(oracle("expect", json, suite, check, component, status, sub), 0, "%s %s %s: expected %s%s%s",
		     suite, check, component, status, sub ? " with " : "", sub ? sub : "");
}

static void installed(struct scratch *s)
{
	scratch_make(s);
	struct tsupport_out o;
	int st = install(&o, s, s->dylib, NULL, NULL);
	cr_assert_eq(st, 0, "install: %s%s", o.out, o.err);
	tsupport_out_release(&o);
}

Test(verify_gate, pristine_demo_and_after_install_pass, .timeout = 300)
{
	struct scratch s;
	scratch_make(&s);
	char *json = NULL;
	cr_expect_eq(gate(s.dir, "pristine", s.app, NULL, &json), 0, "the pristine demo must pass");
	/* one install-names check per framework directory, one load check per qemu-* framework (ls, not utmpatch) */
	char *out = sh_out("ls '%s/Contents/Frameworks'", s.app);
	int nfw = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		char *dot = strstr(line, ".framework");
		cr_assert_not_null(dot, "%s", line);
		char *comp = tsupport_printf("Contents/Frameworks/%s", line);
		expect_check(json, "app", "install-names", comp, "pass", NULL);
		expect_check(json, "app", "signature", comp, "pass", NULL);
		if (strncmp(line, "qemu-", 5) == 0) {
			expect_check(json, "app", "load", comp, "pass", NULL);
			expect_check(json, "app", "entry-points", comp, "pass", NULL);
		}
		free(comp);
		nfw++;
	}
	cr_expect_geq(nfw, 10);
	expect_check(json, "app", "entitlements", LAUNCHER, "pass", NULL);
	expect_check(json, "app", "entitlements", "UTM.app", "pass", NULL);
	free(out);
	free(json);

	struct tsupport_out o;
	int st = install(&o, &s, s.dylib, NULL, NULL);
	cr_assert_eq(st, 0, "install: %s%s", o.out, o.err);
	tsupport_out_release(&o);
	cr_expect_eq(gate(s.dir, "installed", s.app, NULL, &json), 0, "the installed demo must pass");
	expect_check(json, "app", "signature", QEMU_FW, "pass", "ad-hoc");
	expect_check(json, "app", "load", QEMU_FW, "pass", NULL);
	free(json);

	/* after install QEMULauncher is ad hoc: a Shared (vmnet) VM fails, an Emulated one passes */
	char *vms = tsupport_printf("%s/vms", s.dir);
	cr_assert_eq(sh_status("mkdir -p '%s' && cp -R '%s' '%s' '%s'", vms, ts_root("testdata/vmconfigs/qemu-v4-shared.utm"),
			       ts_root("testdata/vmconfigs/qemu-v4-emulated.utm"), vms), 0);
	cr_expect_eq(gate(s.dir, "installed-vms", s.app, vms, &json), 1);
	expect_check(json, "vms", "networking", "Shared", "fail", "com.apple.vm.networking");
	expect_check(json, "vms", "networking", "Emulated", "pass", NULL);
	expect_check(json, "app", "signature", "UTM.app", "pass", NULL);
	free(json);
	free(vms);
	scratch_free(&s);
}

Test(verify_gate, a_changed_framework_byte_fails_its_signature, .timeout = 300)
{
	struct scratch s;
	installed(&s);
	char *bin = tsupport_printf("%s/%s", s.app, QEMU_BIN);
	/* flip the last byte of the arm64 slice's first page (header padding: hashed, harmless to the parser); the
	 * slice's offset is read from the fat header by Python, not by utmpatch */
	char *out = sh_out("python3 -c \"import struct,sys; d=open(sys.argv[1],'rb').read(); "
			   "n=struct.unpack('>I',d[4:8])[0]; "
			   "print([struct.unpack('>iiIII',d[8+20*i:28+20*i])[2] for i in range(n) "
			   "if struct.unpack('>i',d[8+20*i:12+20*i])[0]==0x0100000c][0])\" '%s'",
			   bin);
	long off = strtol(out, NULL, 10) + 0xfff;
	cr_assert_gt(off, 0xfff);
	int fd = open(bin, O_RDWR);
	cr_assert_geq(fd, 0);
	unsigned char b;
	cr_assert_eq(pread(fd, &b, 1, off), 1);
	b ^= 0x01;
	cr_assert_eq(pwrite(fd, &b, 1, off), 1);
	close(fd);
	char *json = NULL;
	cr_expect_eq(gate(s.dir, "byte", s.app, NULL, &json), 1);
	expect_check(json, "app", "signature", QEMU_FW, "fail", NULL);
	expect_check(json, "app", "signature", "UTM.app", "fail", "nested code is modified or invalid");
	expect_check(json, "app", "install-names", QEMU_FW, "pass", NULL);
	free(json);
	free(bin);
	free(out);
	scratch_free(&s);
}

Test(verify_gate, an_absolute_install_name_left_fails_install_names_and_load, .timeout = 300)
{
	struct scratch s;
	installed(&s);
	char *bin = tsupport_printf("%s/%s", s.app, QEMU_BIN);
	/* the installed framework names pixman by @rpath; put the sysroot path back with llvm's tool */
	const char *sysroot = "/Users/x/UTM/sysroot-macOS-arm64/lib/libpixman-1.0.dylib";
	char *out = sh_out("llvm-otool-14 -L '%s' | awk '/pixman/ {print $1; exit}'", bin);
	out[strcspn(out, "\n")] = '\0';
	cr_assert(strncmp(out, "@rpath/", 7) == 0, "pixman dependency: '%s'", out);
	cr_assert_eq(sh_status("llvm-install-name-tool-14 -change '%s' '%s' '%s'", out, sysroot, bin), 0);
	char *json = NULL;
	cr_expect_eq(gate(s.dir, "abs", s.app, NULL, &json), 1);
	expect_check(json, "app", "install-names", QEMU_FW, "fail", sysroot);
	expect_check(json, "app", "load", QEMU_FW, "fail", sysroot);
	expect_check(json, "app", "install-names", "Contents/Frameworks/pixman-1.0.framework", "pass", NULL);
	free(json);
	free(out);
	free(bin);
	scratch_free(&s);
}

Test(verify_gate, a_launcher_without_hypervisor_fails_its_entitlements, .timeout = 300)
{
	struct scratch s;
	installed(&s);
	char *launcher = tsupport_printf("%s/%s", s.app, LAUNCHER);
	char *exec = tsupport_printf("%s/Contents/MacOS/QEMULauncher", launcher);
	char *before = py_entitlement_keys(exec, "arm64");
	cr_assert(strstr(before, "com.apple.security.hypervisor"), "installed launcher: %s", before);
	/* what it had, minus hypervisor */
	char *ents = tsupport_printf("%s/ents.plist", s.dir);
	FILE *f = fopen(ents, "w");
	cr_assert_not_null(f);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>\n", f);
	for (char *k = strtok(before, " "); k; k = strtok(NULL, " "))
		if (strcmp(k, "com.apple.security.hypervisor") != 0)
			fprintf(f, "<key>%s</key><true/>\n", k);
	fputs("</dict></plist>\n", f);
	fclose(f);
	struct tsupport_out o;
	cr_assert_eq(ui_run(&o, NULL, "sign", "--entitlements", ents, "--preserve-metadata", "identifier,flags,runtime",
			    launcher, NULL), 0, "sign: %s", o.err);
	tsupport_out_release(&o);
	char *after = py_entitlement_keys(exec, "arm64");
	cr_assert(!strstr(after, "com.apple.security.hypervisor"), "re-signed launcher: %s", after);
	char *json = NULL;
	cr_expect_eq(gate(s.dir, "hv", s.app, NULL, &json), 1);
	expect_check(json, "app", "entitlements", LAUNCHER, "fail", "com.apple.security.hypervisor is missing");
	expect_check(json, "app", "signature", LAUNCHER, "pass", NULL);
	free(json);
	free(after);
	free(before);
	free(ents);
	free(exec);
	free(launcher);
	scratch_free(&s);
}

Test(verify_gate, vm_checks_follow_expected_tsv, .timeout = 120)
{
	char *dir = tsupport_tmpdir("gate-vms");
	char *json = tsupport_printf("%s/vms.json", dir), *xml = tsupport_printf("%s/vms.xml", dir);
	const char *vms = ts_root("testdata/vmconfigs");
	struct tsupport_out o;
	cr_assert_eq(ui_run(&o, NULL, "verify", "--vms", vms, "--json", "-o", json, NULL), 1, "%s", o.err);
	tsupport_out_release(&o);
	cr_assert_eq(ui_run(&o, NULL, "verify", "--format", "junit", "--vms", vms, "-o", xml, NULL), 1, "%s", o.err);
	tsupport_out_release(&o);
	cr_expect_eq(oracle("vms", json, ts_root("testdata/vmconfigs/EXPECTED.tsv"), NULL, NULL, NULL, NULL), 0);
	cr_expect_eq(oracle("schema", json, NULL, NULL, NULL, NULL, NULL), 0);
	cr_expect_eq(oracle("junit", xml, json, NULL, NULL, NULL, NULL), 0);
	cr_expect_eq(sh_status("xmllint --noout --schema '%s' '%s'", ts_root("testdata/junit/junit.xsd"), xml), 0);
	/* the corpus' real configs: the x86_64 v4 VM is Emulated, the legacy PowerPC one Shared (vmnet) */
	char *cjson = tsupport_printf("%s/corpus.json", dir);
	cr_assert_eq(ui_run(&o, NULL, "verify", "--vms", ts_corpus("utm"), "--json", "-o", cjson, NULL), 1, "%s", o.err);
	tsupport_out_release(&o);
	cr_expect_eq(oracle("schema", cjson, NULL, NULL, NULL, NULL, NULL), 0);
	const char *py = "import json,sys,os; d=json.load(open(sys.argv[1]));"
			 "print(' '.join(sorted(os.path.basename(os.path.dirname(c['path']))+':'+c['check']+':'+c['status']"
			 " for c in d['checks'])))";
	const char *argv[] = { "python3", "-c", py, cjson, NULL };
	cr_assert_eq(tsupport_run(&o, argv, NULL, NULL), 0);
	cr_expect_str_eq(o.out, "macos12-x86_64-v4.utm:config:pass macos12-x86_64-v4.utm:networking:pass "
				"osx104-ppc-v2.utm:config:pass osx104-ppc-v2.utm:networking:fail\n");
	tsupport_out_release(&o);
	free(cjson);
	/* only good VMs: exit 0 */
	cr_expect_eq(ui_run(&o, NULL, "verify", "--vms", ts_root("testdata/vmconfigs/qemu-v4-emulated.utm"),
			    ts_root("testdata/vmconfigs/apple-v4-shared.utm"), NULL), 0, "%s%s", o.out, o.err);
	cr_expect(strstr(o.out, "PASS"), "%s", o.out);
	tsupport_out_release(&o);
	ts_rmtree(dir);
	free(json);
	free(xml);
	free(dir);
}

Test(verify_gate, could_not_run_is_exit_3_and_writes_nothing, .timeout = 60)
{
	char *dir = tsupport_tmpdir("gate-err");
	char *out = tsupport_printf("%s/report.xml", dir), *bad_out = tsupport_printf("%s/no/such/dir/r.xml", dir);
	char *nodir = tsupport_printf("%s/missing.app", dir);
	struct tsupport_out o;
	cr_expect_eq(ui_run(&o, NULL, "verify", "--app", nodir, "--format", "junit", "-o", out, NULL), 3);
	cr_expect_eq(ts_exists(out), 0, "no report when the gate could not run");
	cr_expect_str_eq(o.out, "");
	cr_expect(strchr(o.err, '\n') == o.err + strlen(o.err) - 1, "one error line: %s", o.err);
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "verify", "--vms", nodir, NULL), 3, "%s", o.err);
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "verify", "--vms", ts_root("testdata/vmconfigs/qemu-v4-emulated.utm"), "-o", bad_out,
			    NULL), 3, "%s", o.err);
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "verify", "--vms", "--format", "yaml", NULL), 2);
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "verify", "--format", "json", NULL), 2, "the gate needs --app or --vms");
	tsupport_out_release(&o);
	cr_expect_eq(ui_run(&o, NULL, "verify", "--vms", "--anchors", "x", NULL), 2);
	tsupport_out_release(&o);
	ts_rmtree(dir);
	free(out);
	free(bad_out);
	free(nodir);
}

Test(verify_gate, a_malformed_component_is_a_failed_check_not_a_crash, .timeout = 120)
{
	char *dir = tsupport_tmpdir("gate-bad");
	char *app = tdemo_copy(dir);
	char *zstd = tsupport_printf("%s/Contents/Frameworks/zstd.1.framework/Versions/A/zstd.1", app);
	cr_assert_eq(tsupport_write(zstd, "not a Mach-O file", 17), 0);
	char *json = NULL;
	cr_expect_eq(gate(dir, "bad", app, NULL, &json), 1);
	expect_check(json, "app", "install-names", "Contents/Frameworks/zstd.1.framework", "fail", "not a Mach-O file");
	expect_check(json, "app", "signature", "Contents/Frameworks/zstd.1.framework", "fail", NULL);
	expect_check(json, "app", "entitlements", "UTM.app", "pass", NULL);
	free(json);
	free(zstd);
	free(app);
	ts_rmtree(dir);
	free(dir);
}
