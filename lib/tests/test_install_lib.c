/*
 * test_install_lib.c - the install library on its own: UTM's name rule
 * (utm-domain §1.3 examples), the universal-file writer (llvm-lipo-14 reads
 * it back), the UTM.app reader on the demo bundle (values from the demo's
 * README and the test PKI's leaf certificate via openssl), and an install
 * plan whose launcher entitlements equal UTM's QEMULauncher-unsigned set
 * (utm_ents.c, written from utm-domain §2.2).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_check.h"
#include "tdemo.h"
#include "tsupport.h"
#include "tsupport_fs.h"
#include "ut_err.h"
#include "ut_install.h"
#include "ut_install_ents.h"
#include "ut_install_int.h"
#include "ut_utmapp.h"
#include "utm_ents.h"

Test(install_lib, utm_name_rule_matches_build_dependencies_sh)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		/* utm-domain §1.3: BASE=$(basename FILE); ${BASE%.*}; ${BASEFILENAME#lib*} */
		{ "/Users/x/UTM/sysroot-macOS-arm64/lib/libpixman-1.0.dylib", "pixman-1.0" },
		{ "/x/lib/libglib-2.0.0.dylib", "glib-2.0.0" },
		{ "libqemu-aarch64-softmmu.dylib", "qemu-aarch64-softmmu" },
		{ "/p/lib/libspice-server.1.dylib", "spice-server.1" },
		{ "/p/lib/libslirp.0.dylib", "slirp.0" },
		{ "/p/lib/libssl.1.1.dylib", "ssl.1.1" },
		{ "/p/lib/libvulkan_kosmickrisp.dylib", "vulkan_kosmickrisp" },
		/* already in framework form */
		{ "@rpath/pixman-1.0.framework/Versions/A/pixman-1.0", "pixman-1.0" },
		{ "@rpath/qemu-aarch64-softmmu.framework/qemu-aarch64-softmmu", "qemu-aarch64-softmmu" },
		/* no lib prefix, no .dylib */
		{ "/opt/x/MoltenVK", "MoltenVK" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *n = NULL;
		cr_assert_eq(ut_utm_libname(t[i].in, &n), 0, "%s: %s", t[i].in, ut_errmsg());
		cr_expect_str_eq(n, t[i].out, "%s", t[i].in);
		free(n);
	}
	char *n = NULL;
	cr_expect_eq(ut_utm_libname("/x/lib/", &n), UT_EINVAL);
	cr_expect_null(n);
}

Test(install_lib, fat_writer_is_read_back_by_llvm_lipo, .timeout = 60)
{
	char *dir = ts_tmpdir();
	char *out = tsupport_printf("%s/fat.dylib", dir);
	const char *a = ts_fixture("arm64-dylib"), *x = ts_fixture("x86_64-dylib");
	size_t la = 0, lx = 0;
	free(ts_read(a, &la));
	free(ts_read(x, &lx));
	struct ui_fat_part parts[] = {
		{ x, 0, lx, 0x01000007u, 3 },
		{ a, 0, la, 0x0100000cu, 0 },
	};
	cr_assert_eq(ui_fat_write(out, parts, 2), 0, "%s", ut_errmsg());
	char *cmd = tsupport_printf("llvm-lipo-14 -archs '%s'", out), *o = NULL;
	cr_expect_eq(ts_sh(cmd, &o, NULL), 0);
	cr_expect_str_eq(o, "x86_64 arm64 \n");
	free(o), free(cmd);
	static const char *const archs[] = { "x86_64", "arm64" };
	const char *src[] = { x, a };
	for (int i = 0; i < 2; i++) {
		cmd = tsupport_printf("llvm-lipo-14 -thin %s '%s' -output '%s/thin' && cmp '%s/thin' '%s' && "
				      "python3 -c \"import struct,sys; d=open('%s','rb').read(); "
				      "sys.exit(0 if struct.unpack('>I', d[8+20*%d+8:8+20*%d+12])[0] %% 16384 == 0 else 1)\"",
				      archs[i], out, dir, dir, src[i], out, i, i);
		cr_expect_eq(ts_sh(cmd, NULL, NULL), 0, "%s slice", archs[i]);
		free(cmd);
	}
	cr_expect_eq(ui_fat_write(out, parts, 0), UT_EINVAL);
	ts_rmtree(dir);
	free(dir), free(out);
}

Test(install_lib, utmapp_reads_the_demo_bundle, .timeout = 300)
{
	struct ut_profiles *p = NULL;
	cr_assert_eq(ut_profiles_load(&p, ts_root("profiles")), 0, "%s", ut_errmsg());
	struct ut_utmapp *a = NULL;
	cr_assert_eq(ut_utmapp_open(&a, tdemo_app(), p, "arm64"), 0, "%s", ut_errmsg());
	cr_expect_str_eq(a->version, "5.0.3");
	cr_expect_str_eq(a->build, "122");
	cr_expect_str_eq(a->bundle_id, "com.utmapp.UTM");
	const struct ut_utmapp_comp *l = ut_utmapp_role(a, UT_ROLE_LAUNCHER);
	cr_assert_not_null(l);
	cr_expect_str_eq(l->exec_rel,
			 "Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMULauncher.app/Contents/MacOS/QEMULauncher");
	cr_expect_str_eq(l->bundle_id, "com.utmapp.QEMULauncher");
	cr_expect_str_eq(a->v[l->parent].name, "QEMUHelper.xpc");
	/* the leaf certificate's OU is the team (openssl) */
	char *ou = NULL;
	char *cmd = tsupport_printf("openssl x509 -noout -subject -nameopt multiline -in '%s' | "
				    "sed -n 's/^ *organizationalUnitName *= *//p' | tr -d '\\n'",
				    ts_root("testdata/keys/leaf.pem"));
	cr_assert_eq(ts_sh(cmd, &ou, NULL), 0);
	cr_expect_str_eq(l->sig.team_id, ou);
	cr_expect(l->sig.is_signed && !l->sig.adhoc && (l->sig.flags & 0x10000), "flags 0x%x", l->sig.flags);
	cr_expect(ut_sig_library_validation(&l->sig));
	/* its entitlements are the release file's */
	plist_t want = NULL;
	cr_assert_eq(ut_plist_read_file(ts_root("testdata/demo/entitlements/QEMULauncher.entitlements"), &want, NULL), 0);
	cr_expect(ut_plist_equal(l->sig.ents, want), "launcher entitlements differ from the release file");
	plist_free(want);
	/* every framework of the demo, with UTM's id form */
	cr_expect_eq(a->n - a->first_framework, demo_nframeworks);
	for (size_t i = 0; i < demo_nframeworks; i++) {
		const struct ut_utmapp_comp *f = ut_utmapp_framework(a, demo_frameworks[i]);
		cr_assert_not_null(f, "%s", demo_frameworks[i]);
		char *id = tsupport_printf("@rpath/%s.framework/%s", demo_frameworks[i], demo_frameworks[i]);
		cr_expect_str_eq(f->install_name, id);
		cr_expect_str_eq(f->sig.team_id, ou);
		free(id);
	}
	/* UTM links spice-server and friends: their frameworks are loaded into its process */
	unsigned char *mask = calloc(a->n, 1);
	ut_utmapp_loads(a, (size_t)a->app, -1, mask);
	const struct ut_utmapp_comp *spice = ut_utmapp_framework(a, "spice-server.1");
	const struct ut_utmapp_comp *jpeg = ut_utmapp_framework(a, "jpeg.62");
	cr_expect(mask[spice - a->v] && mask[jpeg - a->v], "UTM's load closure misses spice-server or its jpeg");
	free(mask);
	/* the entitlements report of the pristine demo: nothing to restore */
	struct ut_ents_report r;
	cr_assert_eq(ut_ents_report_build(&r, a, p), 0);
	for (size_t i = 0; i < r.n; i++)
		cr_expect(!r.v[i].needs_restore, "%s needs a restore", a->v[r.v[i].comp].name);
	ut_ents_report_release(&r);
	free(ou), free(cmd);
	ut_utmapp_free(a);
	ut_profiles_free(p);
}

Test(install_lib, plan_gives_the_launcher_utms_unsigned_set, .timeout = 300)
{
	struct ut_profiles *p = NULL;
	cr_assert_eq(ut_profiles_load(&p, ts_root("profiles")), 0, "%s", ut_errmsg());
	char *dir = ts_tmpdir();
	char *state = tsupport_printf("%s/state", dir);
	struct ut_install_opts o = {
		.app = tdemo_app(),
		.dylib = ts_fixture("qemu-arm64.dylib"),
		.allow_missing_arch = 1,
		.dry_run = 1,
		.state_dir = state,
		.work_dir = dir,
	};
	char before[65], after[65];
	cr_assert_eq(tdemo_tree_hash(tdemo_app(), before), 0);
	struct ut_install *in = NULL;
	int rc = ut_install_plan(&in, &o, p);
	cr_assert_eq(rc, 0, "%s", ut_errmsg());
	cr_expect_str_eq(in->target, "qemu-aarch64-softmmu");
	cr_expect_str_eq(in->pristine_id, "@rpath/qemu-aarch64-softmmu.framework/qemu-aarch64-softmmu");
	cr_assert_eq(in->nclosure, 4u);
	static const enum ut_inst_action acts[] = { UT_ACT_FRAMEWORK, UT_ACT_RESIGN, UT_ACT_RESEAL, UT_ACT_RESEAL };
	static const char *const names[] = { "qemu-aarch64-softmmu", "QEMULauncher.app", "QEMUHelper.xpc", "UTM.app" };
	for (size_t i = 0; i < 4; i++) {
		cr_expect_eq(in->closure[i].action, acts[i], "closure %zu", i);
		cr_expect_str_eq(in->app->v[in->closure[i].comp].name, names[i]);
	}
	/* the ad-hoc launcher's set is UTM's own QEMULauncher-unsigned.entitlements */
	cr_assert(in->closure[1].has_plan);
	utm_ents_expect(in->closure[1].plan.result, utm_ents_find(utm_unsigned_sets, "QEMULauncher.app"), "launcher");
	/* 14 bundled dependencies and libSystem; x86_64 kept from the pristine framework */
	size_t bundled = 0;
	for (size_t i = 0; i < in->ndeps; i++)
		bundled += in->deps[i].kind == UT_DEP_BUNDLED;
	cr_expect_eq(bundled, 14u);
	cr_assert_eq(in->nslices, 2u);
	cr_expect(!in->slices[0].from_dylib && strcmp(in->slices[0].arch, "x86_64") == 0);
	cr_expect(in->slices[1].from_dylib && strcmp(in->slices[1].arch, "arm64") == 0);
	cr_expect_eq(in->nfiles, 6u);
	cr_expect_eq(ut_install_apply(in), UT_EINVAL, "a dry run must not apply");
	ut_install_free(in);
	cr_assert_eq(tdemo_tree_hash(tdemo_app(), after), 0);
	cr_expect_str_eq(after, before, "planning changed the bundle");
	/* the staging directory is gone */
	char *cmd = tsupport_printf("[ -z \"$(ls '%s' | grep utmpatch-stage)\" ]", dir);
	cr_expect_eq(ts_sh(cmd, NULL, NULL), 0, "staging directory left behind");
	free(cmd);
	ts_rmtree(dir);
	free(dir), free(state);
	ut_profiles_free(p);
}

/* A dylib that is not Mach-O: one error line that names the file once (the reader already names it). */
Test(install_lib, not_macho_dylib_named_once, .timeout = 300)
{
	struct ut_profiles *p = NULL;
	cr_assert_eq(ut_profiles_load(&p, ts_root("profiles")), 0, "%s", ut_errmsg());
	char *dir = ts_tmpdir();
	char *state = tsupport_printf("%s/state", dir);
	char *dylib = tsupport_printf("%s/garbage.dylib", dir);
	cr_assert_eq(tsupport_write(dylib, "not a Mach-O file", 17), 0);
	struct ut_install_opts o = { .app = tdemo_app(), .dylib = dylib, .dry_run = 1, .state_dir = state,
				     .work_dir = dir };
	struct ut_install *in = NULL;
	cr_assert_eq(ut_install_plan(&in, &o, p), UT_EMALFORMED);
	char *want = tsupport_printf("'%s': header: not a Mach-O file (magic 0x6e6f7420)", dylib);
	cr_expect_str_eq(ut_errmsg(), want);
	ut_install_free(in);
	ts_rmtree(dir);
	free(want), free(dylib), free(dir), free(state);
	ut_profiles_free(p);
}
