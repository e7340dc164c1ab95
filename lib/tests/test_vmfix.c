/*
 * test_vmfix.c - vmcheck --fix in the library: what changes, what must not,
 * and the backup.
 *
 * Oracles: Python's plistlib (testdata/vmconfigs/tools/plistdiff.py) lists
 * every difference between the config before and after, and each one must be
 * a networking key the fix is allowed to touch (utm-domain §3.3); openssl
 * dgst hashes the original for the manifest; the expected extra arguments
 * after the fix are written out by hand.
 */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tsupport_fs.h"
#include "tsupport_run.h"
#include "ut_err.h"
#include "ut_plist.h"
#include "ut_vmconfig.h"

static char *fixture(const char *name)
{
	return tsupport_printf("%s/testdata/vmconfigs/%s.utm", tsupport_root(), name);
}

static char *read_text(const char *path, size_t *len)
{
	uint8_t *p;
	size_t n;
	cr_assert_eq(tsupport_read(path, &p, &n), 0, "cannot read %s", path);
	if (len)
		*len = n;
	return (char *)p;
}

/* Differences the fix may make, per kind of config (fnmatch patterns over plistdiff lines). */
static const char *const allowed_qemu_v4[] = {
	"changed /Network/*/Mode 'Shared' 'Emulated'", "changed /Network/*/Mode 'Host' 'Emulated'",
	"changed /Network/*/Mode 'Bridged' 'Emulated'", "removed /Network/*/BridgeInterface",
	"removed /Network/*/HostNetUuid", "changed /QEMU/AdditionalArguments/*",
	"removed /QEMU/AdditionalArguments/*", "added /QEMU/AdditionalArguments/*", NULL,
};
static const char *const allowed_apple_v4[] = {
	"changed /Network/*/Mode 'Bridged' 'Shared'", "removed /Network/*/BridgeInterface", NULL,
};
static const char *const allowed_qemu_legacy[] = {
	"changed /Networking/NetworkMode 'shared' 'emulated'", "changed /Networking/NetworkMode 'host' 'emulated'",
	"changed /Networking/NetworkMode 'bridged' 'emulated'", "removed /Networking/NetworkBridgeInterface",
	"changed /System/AddArgs *", "changed /System/AddArgs/*", "removed /System/AddArgs/*",
	"added /System/AddArgs/*", NULL,
};
static const char *const allowed_apple_legacy[] = {
	"changed /networkDevices/*/networkMode 'Bridged' 'Shared'",
	"removed /networkDevices/*/bridgeInterfaceIdentifier", NULL,
};

/* Runs the plistlib oracle; returns its output lines (caller frees). */
static char *plistdiff(const char *before, const char *after)
{
	char *script = tsupport_printf("%s/testdata/vmconfigs/tools/plistdiff.py", tsupport_root());
	const char *argv[] = { "python3", script, before, after, NULL };
	struct tsupport_out o;
	cr_assert_eq(tsupport_run(&o, argv, NULL, NULL), 0, "cannot run python3");
	cr_assert_eq(o.status, 0, "plistdiff failed: %s", o.err);
	char *out = strdup(o.out);
	tsupport_out_release(&o);
	free(script);
	return out;
}

static void check_diff_allowed(const char *name, const char *diff, const char *const *allowed)
{
	char *copy = strdup(diff);
	size_t lines = 0;
	for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		lines++;
		int ok = 0;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = fnmatch(allowed[i], l, 0) == 0;
		cr_expect(ok, "%s: the fix changed something it must not: %s", name, l);
	}
	cr_expect_gt(lines, 0, "%s: the fix changed nothing", name);
	free(copy);
}

struct fixcase {
	const char *name;
	const char *const *allowed;
};

static const struct fixcase vmnet_fixtures[] = {
	{ "qemu-v4-shared", allowed_qemu_v4 },
	{ "qemu-v4-shared-bin", allowed_qemu_v4 },
	{ "qemu-v4-shared-subnet", allowed_qemu_v4 },
	{ "qemu-v4-shared-portfwd-camel", allowed_qemu_v4 },
	{ "qemu-v4-host", allowed_qemu_v4 },
	{ "qemu-v4-host-bin", allowed_qemu_v4 },
	{ "qemu-v4-bridged", allowed_qemu_v4 },
	{ "qemu-v4-bridged-default-bin", allowed_qemu_v4 },
	{ "qemu-v4-multi", allowed_qemu_v4 },
	{ "qemu-v4-args-netdev-pair", allowed_qemu_v4 },
	{ "qemu-v4-args-netdev-one-bin", allowed_qemu_v4 },
	{ "qemu-v4-args-nic", allowed_qemu_v4 },
	{ "qemu-v4-args-equals", allowed_qemu_v4 },
	{ "qemu-v4-args-chain", allowed_qemu_v4 },
	{ "apple-v4-bridged", allowed_apple_v4 },
	{ "apple-v4-multi-bin", allowed_apple_v4 },
	{ "legacy-qemu-v2-shared", allowed_qemu_legacy },
	{ "legacy-qemu-v2-bridged-bin", allowed_qemu_legacy },
	{ "legacy-qemu-v2-host-addargs-string", allowed_qemu_legacy },
	{ "legacy-apple-v3-bridged", allowed_apple_legacy },
	{ "legacy-apple-v2-bridged-bin", allowed_apple_legacy },
};

/* Fixes the bytes of a config file; returns the fix (asserts it changed something). */
static void fix_path(const char *name, const char *bundle, const char *cfg, struct ut_vm_fix *fix,
		     uint8_t **orig, size_t *olen)
{
	*orig = (uint8_t *)read_text(cfg, olen);
	int rc = ut_vmconfig_fix_bytes(fix, *orig, *olen, bundle);
	cr_assert_eq(rc, 0, "%s: %s", name, ut_errmsg());
	cr_assert_not_null(fix->out, "%s: nothing to fix", name);
	cr_expect_gt(fix->nchanges, 0);
}

Test(vmfix, roundtrip_every_vmnet_fixture)
{
	char *tmp = tsupport_tmpdir("vmfix");
	cr_assert_not_null(tmp);
	for (size_t k = 0; k < sizeof(vmnet_fixtures) / sizeof(vmnet_fixtures[0]); k++) {
		const struct fixcase *c = &vmnet_fixtures[k];
		char *bundle = fixture(c->name);
		char *cfg = tsupport_printf("%s/config.plist", bundle);
		struct ut_vm_fix fix;
		uint8_t *orig;
		size_t olen;
		fix_path(c->name, bundle, cfg, &fix, &orig, &olen);
		/* The format is kept. */
		int was_bin = olen >= 8 && memcmp(orig, "bplist00", 8) == 0;
		int is_bin = fix.outlen >= 8 && memcmp(fix.out, "bplist00", 8) == 0;
		cr_expect_eq(is_bin, was_bin, "%s: format changed", c->name);
		/* Only networking keys differ (plistlib oracle). */
		char *after = tsupport_printf("%s/%s.after.plist", tmp, c->name);
		cr_assert_eq(tsupport_write(after, fix.out, fix.outlen), 0);
		char *diff = plistdiff(cfg, after);
		check_diff_allowed(c->name, diff, c->allowed);
		cr_expect_null(strstr(diff, "format "), "%s: %s", c->name, diff);
		/* The result checks out ok, keeps its NICs, and a second fix has nothing to do. */
		struct ut_vm_config *vm = NULL;
		cr_assert_eq(ut_vmconfig_parse(&vm, fix.out, fix.outlen, bundle), 0);
		cr_expect_eq(vm->status, UT_VM_OK, "%s after fix: %s", c->name,
			     vm->nproblems ? vm->problems[0] : "");
		struct ut_vm_config *before = NULL;
		cr_assert_eq(ut_vmconfig_parse(&before, orig, olen, bundle), 0);
		cr_expect_eq(vm->nnics, before->nnics, "%s: NIC count changed", c->name);
		cr_expect_eq(vm->legacy, before->legacy);
		cr_expect_eq(vm->backend, before->backend);
		struct ut_vm_fix again;
		cr_assert_eq(ut_vmconfig_fix_bytes(&again, fix.out, fix.outlen, bundle), 0);
		cr_expect_null(again.out, "%s: second fix still changes something", c->name);
		cr_expect_eq(again.nchanges, 0);
		ut_vm_fix_release(&again);
		ut_vmconfig_free(before);
		ut_vmconfig_free(vm);
		free(diff);
		free(after);
		ut_vm_fix_release(&fix);
		free(orig);
		free(cfg);
		free(bundle);
	}
	tsupport_rmtree(tmp);
	free(tmp);
}

/* The real legacy PowerPC config: exactly one key changes, and it stays a legacy v2 XML config. */
Test(vmfix, corpus_legacy_ppc)
{
	const char *c = getenv("UTMPATCH_CORPUS");
	char *bundle = tsupport_printf("%s/utm/osx104-ppc-v2.utm", c && *c ? c : "../shared/corpus");
	char *cfg = tsupport_printf("%s/config.plist", bundle);
	struct ut_vm_fix fix;
	uint8_t *orig;
	size_t olen;
	fix_path("osx104-ppc-v2", bundle, cfg, &fix, &orig, &olen);
	char *tmp = tsupport_tmpdir("vmfix-ppc");
	char *after = tsupport_printf("%s/after.plist", tmp);
	cr_assert_eq(tsupport_write(after, fix.out, fix.outlen), 0);
	char *diff = plistdiff(cfg, after);
	cr_expect_str_eq(diff, "changed /Networking/NetworkMode 'shared' 'emulated'\n");
	cr_assert_eq(fix.nchanges, 1);
	cr_expect_str_eq(fix.changes[0], "Networking.NetworkMode: 'shared' -> 'emulated'");
	free(diff);
	free(after);
	tsupport_rmtree(tmp);
	free(tmp);
	ut_vm_fix_release(&fix);
	free(orig);
	free(cfg);
	free(bundle);
}

/* Reads an array (or string) of strings at root[k1][k2] of a plist in memory, joined by '\n'. */
static char *strings_at(const uint8_t *p, size_t len, const char *k1, const char *k2)
{
	plist_t root = NULL;
	cr_assert_eq(ut_plist_parse(p, len, "after", &root, NULL), 0);
	plist_t node = plist_dict_get_item(plist_dict_get_item(root, k1), k2);
	cr_assert_not_null(node);
	char *s = strdup("");
	if (plist_get_node_type(node) == PLIST_STRING) {
		free(s);
		s = tsupport_printf("%s", ut_plist_str(node));
	} else {
		for (uint32_t i = 0; i < plist_array_get_size(node); i++) {
			char *t = tsupport_printf("%s%s%s", s, i ? "\n" : "", ut_plist_str(plist_array_get_item(node, i)));
			free(s);
			s = t;
		}
	}
	plist_free(root);
	return s;
}

static void expect_args_after(const char *name, const char *k1, const char *k2, const char *want)
{
	char *bundle = fixture(name);
	char *cfg = tsupport_printf("%s/config.plist", bundle);
	struct ut_vm_fix fix;
	uint8_t *orig;
	size_t olen;
	fix_path(name, bundle, cfg, &fix, &orig, &olen);
	char *got = strings_at(fix.out, fix.outlen, k1, k2);
	cr_expect_str_eq(got, want, "%s: %s.%s after the fix", name, k1, k2);
	free(got);
	ut_vm_fix_release(&fix);
	free(orig);
	free(cfg);
	free(bundle);
}

Test(vmfix, extra_arguments_after_fix)
{
	/* "-nic -netdev vmnet-a x,type=vmnet-b": once the -netdev pair is gone, -nic takes the next value. */
	expect_args_after("qemu-v4-args-chain", "QEMU", "AdditionalArguments", "-nic\nuser\n-m 1G");
	expect_args_after("qemu-v4-args-netdev-pair", "QEMU", "AdditionalArguments",
			  "-netdev\nuser,id=vnet1\n-device\nvirtio-net-pci,netdev=vnet1,mac=02:00:00:00:00:01");
	expect_args_after("qemu-v4-args-netdev-one-bin", "QEMU", "AdditionalArguments", "-usbdevice tablet\n");
	expect_args_after("qemu-v4-args-nic", "QEMU", "AdditionalArguments",
			  "-nic user,model=virtio-net-pci,mac=02:11:22:33:44:55 -rtc base=localtime");
	expect_args_after("qemu-v4-args-equals", "QEMU", "AdditionalArguments", "-m 2G");
	expect_args_after("legacy-qemu-v2-bridged-bin", "System", "AddArgs", "-m 1G");
	expect_args_after("legacy-qemu-v2-host-addargs-string", "System", "AddArgs",
			  "-netdev user,id=s1 -device rtl8139,netdev=s1");
}

/* Shared with camelCase forwards: after the fix the NIC is Emulated and the forwards apply. */
Test(vmfix, port_forwards_kept)
{
	char *bundle = fixture("qemu-v4-shared-portfwd-camel");
	char *cfg = tsupport_printf("%s/config.plist", bundle);
	struct ut_vm_fix fix;
	uint8_t *orig;
	size_t olen;
	fix_path("qemu-v4-shared-portfwd-camel", bundle, cfg, &fix, &orig, &olen);
	struct ut_vm_config *vm = NULL;
	cr_assert_eq(ut_vmconfig_parse(&vm, fix.out, fix.outlen, bundle), 0);
	cr_assert_eq(vm->nnics, 1);
	cr_expect_str_eq(vm->nics[0].mode, "Emulated");
	cr_expect_str_eq(vm->nics[0].netdev,
			 "user,id=net0,hostfwd=tcp::13389-:3389,hostfwd=udp:127.0.0.1:15353-:5353");
	ut_vmconfig_free(vm);
	ut_vm_fix_release(&fix);
	free(orig);
	free(cfg);
	free(bundle);
}

Test(vmfix, invalid_refused_ok_untouched)
{
	static const char *const invalid[] = { "invalid-v4-no-mac", "invalid-v4-bridged-no-mac", "invalid-args-dict",
					       "invalid-not-plist", "invalid-legacy-no-system" };
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		char *bundle = fixture(invalid[i]);
		char *cfg = tsupport_printf("%s/config.plist", bundle);
		size_t len;
		char *p = read_text(cfg, &len);
		struct ut_vm_fix fix;
		cr_expect_eq(ut_vmconfig_fix_bytes(&fix, p, len, bundle), UT_EREFUSED, "%s", invalid[i]);
		cr_expect_null(fix.out);
		cr_expect(strstr(ut_errmsg(), "not rewritten") != NULL, "%s", ut_errmsg());
		free(p);
		free(cfg);
		free(bundle);
	}
	static const char *const ok[] = { "qemu-v4-emulated", "apple-v4-shared", "legacy-qemu-v1-enabled",
					  "qemu-v4-args-benign" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *bundle = fixture(ok[i]);
		char *cfg = tsupport_printf("%s/config.plist", bundle);
		size_t len;
		char *p = read_text(cfg, &len);
		struct ut_vm_fix fix;
		cr_expect_eq(ut_vmconfig_fix_bytes(&fix, p, len, bundle), 0, "%s", ok[i]);
		cr_expect_null(fix.out, "%s", ok[i]);
		cr_expect_eq(fix.nchanges, 0);
		free(p);
		free(cfg);
		free(bundle);
	}
}

/* Copies a fixture bundle into dir; returns the new bundle path. */
static char *copy_fixture(const char *dir, const char *name)
{
	char *src = fixture(name);
	char *dst = tsupport_printf("%s/%s.utm", dir, name);
	cr_assert_eq(tsupport_copytree(src, dst), 0);
	free(src);
	return dst;
}

static char *sha256_openssl(const char *path)
{
	const char *argv[] = { "openssl", "dgst", "-sha256", "-r", path, NULL };
	struct tsupport_out o;
	cr_assert_eq(tsupport_run(&o, argv, NULL, NULL), 0);
	cr_assert_eq(o.status, 0, "openssl: %s", o.err);
	cr_assert_geq(o.outlen, 64);
	char *h = strndup(o.out, 64);
	tsupport_out_release(&o);
	return h;
}

Test(vmfix, file_backup_and_restore)
{
	char *tmp = tsupport_tmpdir("vmfix-file");
	char *bundle = copy_fixture(tmp, "qemu-v4-shared-bin");
	char *cfg = tsupport_printf("%s/config.plist", bundle);
	cr_assert_eq(chmod(cfg, 0640), 0);
	size_t olen;
	char *orig = read_text(cfg, &olen);
	char *state = tsupport_printf("%s/state", tmp);
	struct ut_vm_config *vm = NULL;
	cr_assert_eq(ut_vmconfig_load(&vm, bundle, NULL), 0);
	struct ut_vm_fix_opts o = { state, 1700000000, 0 }; /* 2023-11-14T22:13:20Z */
	struct ut_vm_fix_result res;
	cr_assert_eq(ut_vmconfig_fix_file(&res, vm, &o), 0, "%s", ut_errmsg());
	cr_expect_eq(res.written, 1);
	char *want_dir = tsupport_printf("%s/vmcheck-backups/20231114T221320Z-qemu-v4-shared-bin.utm", state);
	cr_assert_not_null(res.backup_dir);
	cr_expect_str_eq(res.backup_dir, want_dir);

	/* The live config: rewritten, still binary, same mode, checks out ok. */
	size_t nlen;
	char *now = read_text(cfg, &nlen);
	cr_expect_eq(memcmp(now, "bplist00", 8), 0);
	cr_expect(nlen != olen || memcmp(now, orig, olen) != 0);
	struct stat st;
	cr_assert_eq(stat(cfg, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0640);
	struct ut_vm_config *after = NULL;
	cr_assert_eq(ut_vmconfig_load(&after, bundle, NULL), 0);
	cr_expect_eq(after->status, UT_VM_OK);
	ut_vmconfig_free(after);

	/* The backup is the original byte for byte, and the manifest says so (openssl as the hash oracle). */
	char *bcfg = tsupport_printf("%s/config.plist", want_dir);
	size_t blen;
	char *backup = read_text(bcfg, &blen);
	cr_assert_eq(blen, olen);
	cr_expect_eq(memcmp(backup, orig, olen), 0);
	char *manifest_path = tsupport_printf("%s/manifest.json", want_dir);
	char *manifest = read_text(manifest_path, NULL);
	char *hash = sha256_openssl(bcfg);
	char *hash_line = tsupport_printf("\"sha256\": \"%s\"", hash);
	cr_expect(strstr(manifest, hash_line) != NULL, "manifest lacks %s:\n%s", hash_line, manifest);
	char real[PATH_MAX];
	cr_assert_not_null(realpath(cfg, real));
	char *orig_line = tsupport_printf("\"original\": \"%s\"", real);
	cr_expect(strstr(manifest, orig_line) != NULL, "manifest lacks %s", orig_line);
	char *size_line = tsupport_printf("\"size\": %zu", olen);
	cr_expect(strstr(manifest, size_line) != NULL);
	cr_expect(strstr(manifest, "\"format\": \"binary\"") != NULL);

	/* Restoring is a copy back: the VM is as before. */
	cr_assert_eq(tsupport_write(cfg, backup, blen), 0);
	size_t rlen;
	char *restored = read_text(cfg, &rlen);
	cr_expect(rlen == olen && memcmp(restored, orig, olen) == 0);
	struct ut_vm_config *back = NULL;
	cr_assert_eq(ut_vmconfig_load(&back, bundle, NULL), 0);
	cr_expect_eq(back->status, UT_VM_VMNET);
	ut_vmconfig_free(back);

	/* A second fix in the same second gets its own backup directory. */
	struct ut_vm_fix_result res2;
	cr_assert_eq(ut_vmconfig_fix_file(&res2, vm, &o), 0, "%s", ut_errmsg());
	char *want2 = tsupport_printf("%s/vmcheck-backups/20231114T221320Z-qemu-v4-shared-bin-2.utm", state);
	cr_expect_str_eq(res2.backup_dir, want2);
	ut_vm_fix_result_release(&res2);

	char *to_free[] = { want2,    restored, size_line, orig_line, hash_line, hash, manifest,
			    manifest_path, backup, bcfg, now, want_dir, state, orig, cfg, bundle };
	for (size_t i = 0; i < sizeof(to_free) / sizeof(to_free[0]); i++)
		free(to_free[i]);
	ut_vm_fix_result_release(&res);
	ut_vmconfig_free(vm);
	tsupport_rmtree(tmp);
	free(tmp);
}

Test(vmfix, dry_run_writes_nothing)
{
	char *tmp = tsupport_tmpdir("vmfix-dry");
	char *bundle = copy_fixture(tmp, "legacy-qemu-v2-shared");
	char *cfg = tsupport_printf("%s/config.plist", bundle);
	size_t olen;
	char *orig = read_text(cfg, &olen);
	char *state = tsupport_printf("%s/state", tmp);
	struct ut_vm_config *vm = NULL;
	cr_assert_eq(ut_vmconfig_load(&vm, bundle, NULL), 0);
	struct ut_vm_fix_opts o = { state, 1700000000, 1 };
	struct ut_vm_fix_result res;
	cr_assert_eq(ut_vmconfig_fix_file(&res, vm, &o), 0);
	cr_expect_eq(res.written, 0);
	cr_expect_null(res.backup_dir);
	cr_assert_eq(res.fix.nchanges, 1);
	cr_expect_str_eq(res.fix.changes[0], "Networking.NetworkMode: 'shared' -> 'emulated'");
	size_t nlen;
	char *now = read_text(cfg, &nlen);
	cr_expect(nlen == olen && memcmp(now, orig, olen) == 0);
	struct stat st;
	cr_expect_neq(stat(state, &st), 0, "dry run created the state directory");
	ut_vm_fix_result_release(&res);
	ut_vmconfig_free(vm);
	free(now);
	free(state);
	free(orig);
	free(cfg);
	free(bundle);
	tsupport_rmtree(tmp);
	free(tmp);
}

Test(vmfix, refuses_symlink_and_invalid)
{
	char *tmp = tsupport_tmpdir("vmfix-refuse");
	char *bundle = copy_fixture(tmp, "qemu-v4-shared");
	char *cfg = tsupport_printf("%s/config.plist", bundle);
	char *real = tsupport_printf("%s/real.plist", tmp);
	cr_assert_eq(rename(cfg, real), 0);
	cr_assert_eq(symlink(real, cfg), 0);
	struct ut_vm_config *vm = NULL;
	cr_assert_eq(ut_vmconfig_load(&vm, bundle, NULL), 0);
	cr_expect_eq(vm->status, UT_VM_VMNET);
	struct ut_vm_fix_opts o = { tmp, 1700000000, 0 };
	struct ut_vm_fix_result res;
	cr_expect_eq(ut_vmconfig_fix_file(&res, vm, &o), UT_EREFUSED);
	cr_expect(strstr(ut_errmsg(), "symbolic link") != NULL, "%s", ut_errmsg());
	ut_vm_fix_result_release(&res);
	ut_vmconfig_free(vm);

	char *bad = copy_fixture(tmp, "invalid-v4-bridged-no-mac");
	char *badcfg = tsupport_printf("%s/config.plist", bad);
	size_t olen;
	char *orig = read_text(badcfg, &olen);
	cr_assert_eq(ut_vmconfig_load(&vm, bad, NULL), 0);
	cr_expect_eq(ut_vmconfig_fix_file(&res, vm, &o), UT_EREFUSED);
	size_t nlen;
	char *now = read_text(badcfg, &nlen);
	cr_expect(nlen == olen && memcmp(now, orig, olen) == 0);
	ut_vm_fix_result_release(&res);
	ut_vmconfig_free(vm);
	free(now);
	free(orig);
	free(badcfg);
	free(bad);
	free(real);
	free(cfg);
	free(bundle);
	tsupport_rmtree(tmp);
	free(tmp);
}

/*
 * Found by fuzz_vmconfig: a binary plist libplist 2.2 reads but cannot write
 * back in a form it reads again.  The fix must refuse (UT_EVERIFY) and leave
 * the file alone rather than write a config nobody can load.
 */
Test(vmfix, unreadable_rewrite_refused)
{
	char *src = tsupport_printf("%s/testdata/vmconfigs/regress/libplist-binary-roundtrip.plist", tsupport_root());
	size_t len;
	char *p = read_text(src, &len);
	struct ut_vm_config *vm = NULL;
	cr_assert_eq(ut_vmconfig_parse(&vm, p, len, "regress"), 0);
	if (vm->status != UT_VM_VMNET) {
		/* A libplist that rejects this input outright is fine too. */
		cr_expect_eq(vm->status, UT_VM_INVALID);
	} else {
		struct ut_vm_fix fix;
		int rc = ut_vmconfig_fix_bytes(&fix, p, len, "regress");
		if (rc == 0) { /* a libplist that round-trips it: the result must check out */
			struct ut_vm_config *after = NULL;
			cr_assert_eq(ut_vmconfig_parse(&after, fix.out, fix.outlen, "regress"), 0);
			cr_expect_eq(after->status, UT_VM_OK);
			ut_vmconfig_free(after);
			ut_vm_fix_release(&fix);
		} else {
			cr_expect_eq(rc, UT_EVERIFY, "%s", ut_errmsg());
			cr_expect_null(fix.out);
		}
	}
	char *tmp = tsupport_tmpdir("vmfix-regress");
	char *bundle = tsupport_printf("%s/x.utm", tmp);
	char *cfg = tsupport_printf("%s/config.plist", bundle);
	cr_assert_eq(mkdir(bundle, 0755), 0);
	cr_assert_eq(tsupport_write(cfg, p, len), 0);
	struct ut_vm_config *fvm = NULL;
	cr_assert_eq(ut_vmconfig_load(&fvm, bundle, NULL), 0);
	if (fvm->status == UT_VM_VMNET) {
		char *state = tsupport_printf("%s/state", tmp);
		struct ut_vm_fix_opts o = { state, 1700000000, 0 };
		struct ut_vm_fix_result res;
		if (ut_vmconfig_fix_file(&res, fvm, &o) != 0) {
			size_t nlen;
			char *now = read_text(cfg, &nlen);
			cr_expect(nlen == len && memcmp(now, p, len) == 0, "refused fix changed the file");
			cr_expect_null(res.backup_dir);
			free(now);
		}
		ut_vm_fix_result_release(&res);
		free(state);
	}
	ut_vmconfig_free(fvm);
	ut_vmconfig_free(vm);
	free(cfg);
	free(bundle);
	tsupport_rmtree(tmp);
	free(tmp);
	free(p);
	free(src);
}
