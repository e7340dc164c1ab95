/*
 * test_vmconfig.c - the config reader against hand-written expectations.
 *
 * testdata/vmconfigs/EXPECTED.tsv says, for every fixture bundle, what UTM's
 * decoders make of it (utm-domain §3) and the -netdev UTM passes (§3.4);
 * the two real configs in the corpus are checked against values read from
 * the files by eye.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsupport_fs.h"
#include "tsupport_run.h"
#include "ut_plist.h"
#include "ut_vmconfig.h"

#define NCOLS 10

struct row {
	char *col[NCOLS];
};

static char *vmconfigs_dir(void) { return tsupport_printf("%s/testdata/vmconfigs", tsupport_root()); }

static const char *corpus(void)
{
	const char *c = getenv("UTMPATCH_CORPUS");
	return c && *c ? c : "../shared/corpus";
}

/* Rows of EXPECTED.tsv (comment and header lines skipped); the text stays in *buf. */
static size_t read_expected(struct row **rows, char **buf)
{
	char *dir = vmconfigs_dir();
	char *path = tsupport_printf("%s/EXPECTED.tsv", dir);
	size_t len;
	cr_assert_eq(tsupport_read(path, (uint8_t **)buf, &len), 0, "cannot read %s", path);
	free(path);
	free(dir);
	size_t n = 0, cap = 64;
	*rows = calloc(cap, sizeof(**rows));
	for (char *save = NULL, *line = strtok_r(*buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || strncmp(line, "bundle\t", 7) == 0)
			continue;
		if (n == cap)
			*rows = realloc(*rows, (cap *= 2) * sizeof(**rows));
		struct row *r = &(*rows)[n++];
		int c = 0;
		char *p = line;
		while (c < NCOLS) {
			r->col[c++] = p;
			char *tab = strchr(p, '\t');
			if (!tab)
				break;
			*tab = '\0';
			p = tab + 1;
		}
		cr_assert_eq(c, NCOLS, "EXPECTED.tsv row '%s' has %d columns", r->col[0], c);
	}
	return n;
}

static char *join_nics(const struct ut_vm_config *vm)
{
	char *s = strdup("");
	for (size_t i = 0; i < vm->nnics; i++) {
		char *t = tsupport_printf("%s%s%s %s", s, i ? " | " : "", vm->nics[i].mode ? vm->nics[i].mode : "-",
					  vm->nics[i].netdev ? vm->nics[i].netdev : "-");
		free(s);
		s = t;
	}
	if (!*s) {
		free(s);
		s = strdup("-");
	}
	return s;
}

static char *join_args(const struct ut_vm_config *vm)
{
	char *s = strdup("");
	for (size_t i = 0; i < vm->nargs; i++) {
		char *t = tsupport_printf("%s%s%s", s, i ? " | " : "", vm->args[i].netdev);
		free(s);
		s = t;
	}
	if (!*s) {
		free(s);
		s = strdup("-");
	}
	return s;
}

static int has_problem(const struct ut_vm_config *vm, const char *needle)
{
	for (size_t i = 0; i < vm->nproblems; i++)
		if (strstr(vm->problems[i], needle))
			return 1;
	return 0;
}

static void check_row(const struct row *r)
{
	char *dir = vmconfigs_dir();
	char *bundle = tsupport_printf("%s/%s.utm", dir, r->col[0]);
	struct ut_vm_config *vm = NULL;
	cr_assert_eq(ut_vmconfig_load(&vm, bundle, NULL), 0);
	const char *b = r->col[0];
	cr_expect_str_eq(vm->name, r->col[1], "%s: name", b);
	cr_expect_str_eq(ut_vm_status_name(vm->status), r->col[2], "%s: status (problems: %s)", b,
			 vm->nproblems ? vm->problems[0] : "none");
	const char *be = ut_vm_backend_name(vm->backend);
	cr_expect_str_eq(be ? be : "-", r->col[3], "%s: backend", b);
	cr_expect_eq(vm->legacy, atoi(r->col[4]), "%s: legacy", b);
	if (strcmp(r->col[5], "-") == 0) {
		cr_expect_eq(vm->has_version, 0, "%s: version should be absent", b);
	} else {
		cr_expect_eq(vm->has_version, 1, "%s: version missing", b);
		cr_expect_eq(vm->version, atoll(r->col[5]), "%s: version", b);
	}
	const char *fmt = vm->format == UT_PLIST_XML ? "xml" : vm->format == UT_PLIST_BINARY ? "binary" : "-";
	cr_expect_str_eq(fmt, r->col[6], "%s: format", b);
	char *nics = join_nics(vm), *args = join_args(vm);
	cr_expect_str_eq(nics, r->col[7], "%s: nics", b);
	cr_expect_str_eq(args, r->col[8], "%s: args", b);
	if (strcmp(r->col[9], "-") != 0) {
		char *want = strdup(r->col[9]);
		for (char *save = NULL, *p = strtok_r(want, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
			while (*p == ' ')
				p++;
			size_t l = strlen(p);
			while (l && p[l - 1] == ' ')
				p[--l] = '\0';
			if (*p)
				cr_expect(has_problem(vm, p), "%s: no problem mentions \"%s\" (first: %s)", b, p,
					  vm->nproblems ? vm->problems[0] : "none");
		}
		free(want);
	} else if (vm->status == UT_VM_OK) {
		cr_expect_eq(vm->nproblems, 0, "%s: ok VM with problems: %s", b, vm->problems[0]);
	}
	/* vmnet is exactly "some NIC or argument needs it" for loadable configs. */
	if (vm->status != UT_VM_INVALID) {
		int any = vm->nargs > 0;
		for (size_t i = 0; i < vm->nnics; i++)
			any |= vm->nics[i].vmnet;
		cr_expect_eq(any, vm->status == UT_VM_VMNET, "%s: vmnet flags disagree with status", b);
	}
	free(nics);
	free(args);
	ut_vmconfig_free(vm);
	free(bundle);
	free(dir);
}

Test(vmconfig, expected_table)
{
	struct row *rows;
	char *buf;
	size_t n = read_expected(&rows, &buf);
	cr_assert_geq(n, 24, "EXPECTED.tsv has only %zu rows", n);
	for (size_t i = 0; i < n; i++)
		check_row(&rows[i]);
	free(rows);
	free(buf);
}

/* Every bundle in testdata/vmconfigs has a row, and every row a bundle. */
Test(vmconfig, every_fixture_listed)
{
	struct row *rows;
	char *buf;
	size_t n = read_expected(&rows, &buf);
	char *dir = vmconfigs_dir();
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	size_t bundles = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".utm") != 0)
			continue;
		bundles++;
		int found = 0;
		for (size_t i = 0; i < n && !found; i++)
			found = strlen(rows[i].col[0]) == l - 4 && strncmp(rows[i].col[0], de->d_name, l - 4) == 0;
		cr_expect(found, "%s has no row in EXPECTED.tsv", de->d_name);
	}
	closedir(d);
	cr_expect_eq(bundles, n, "%zu bundles but %zu rows", bundles, n);
	free(dir);
	free(rows);
	free(buf);
}

/* The corpus' real v4 x86_64 config: one Emulated vmxnet3 NIC (read from the file). */
Test(vmconfig, corpus_v4_x86_64)
{
	char *bundle = tsupport_printf("%s/utm/macos12-x86_64-v4.utm", corpus());
	struct ut_vm_config *vm = NULL;
	cr_assert_eq(ut_vmconfig_load(&vm, bundle, NULL), 0);
	cr_expect_eq(vm->status, UT_VM_OK, "problems: %s", vm->nproblems ? vm->problems[0] : "none");
	cr_expect_eq(vm->backend, UT_VM_BACKEND_QEMU);
	cr_expect_eq(vm->legacy, 0);
	cr_expect_eq(vm->version, 4);
	cr_expect_eq(vm->format, UT_PLIST_XML);
	cr_expect_str_eq(vm->name, "macOS 12 X86-64 (config only)");
	cr_expect_str_eq(vm->uuid, "183E2C6E-ABAA-49FB-8113-EA76D2D678B6");
	cr_assert_eq(vm->nnics, 1);
	cr_expect_str_eq(vm->nics[0].mode, "Emulated");
	cr_expect_str_eq(vm->nics[0].hardware, "vmxnet3");
	cr_expect_str_eq(vm->nics[0].mac_address, "F2:58:BE:A6:38:B1");
	cr_expect_str_eq(vm->nics[0].netdev, "user,id=net0");
	cr_expect_eq(vm->nics[0].vmnet, 0);
	/* AdditionalArguments holds "-usbdevice keyboard" and five empty strings: no vmnet. */
	cr_expect_eq(vm->nargs, 0);
	ut_vmconfig_free(vm);
	free(bundle);
}

/* The corpus' legacy PowerPC config: Networking.NetworkMode "shared", card sungem. */
Test(vmconfig, corpus_legacy_ppc)
{
	char *bundle = tsupport_printf("%s/utm/osx104-ppc-v2.utm", corpus());
	struct ut_vm_config *vm = NULL;
	cr_assert_eq(ut_vmconfig_load(&vm, bundle, NULL), 0);
	cr_expect_eq(vm->status, UT_VM_VMNET);
	cr_expect_eq(vm->backend, UT_VM_BACKEND_QEMU);
	cr_expect_eq(vm->legacy, 1);
	cr_expect_eq(vm->version, 2);
	cr_expect_str_eq(vm->name, "osx104-ppc-v2");
	cr_expect_str_eq(vm->uuid, "4D6EFE89-3FF4-4110-8E05-7FE7A930FE6D");
	cr_assert_eq(vm->nnics, 1);
	cr_expect_str_eq(vm->nics[0].mode, "shared");
	cr_expect_str_eq(vm->nics[0].hardware, "sungem");
	cr_expect_str_eq(vm->nics[0].mac_address, "A6:70:C3:0F:40:90");
	cr_expect_str_eq(vm->nics[0].netdev, "vmnet-shared,id=net0");
	cr_expect_eq(vm->nics[0].vmnet, 1);
	cr_expect_eq(vm->nargs, 0); /* AddArgs: -g 1280x720x32, -usbdevice tablet */
	ut_vmconfig_free(vm);
	free(bundle);
}

/* Parsing from memory names the VM after the bundle and never fails on garbage. */
Test(vmconfig, parse_memory_garbage)
{
	static const char *const inputs[] = { "", "bplist00", "<plist>", "<?xml version=\"1.0\"?><plist><dict>",
					      "\x00\x01\x02\x03\x04\x05\x06\x07\x08" };
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct ut_vm_config *vm = NULL;
		cr_assert_eq(ut_vmconfig_parse(&vm, inputs[i], strlen(inputs[i]), "/x/My VM.utm"), 0);
		cr_expect_eq(vm->status, UT_VM_INVALID, "input %zu", i);
		cr_expect_gt(vm->nproblems, 0);
		cr_expect_str_eq(vm->name, "My VM");
		ut_vmconfig_free(vm);
	}
}

Test(vmconfig, names)
{
	cr_expect_str_eq(ut_vm_status_name(UT_VM_OK), "ok");
	cr_expect_str_eq(ut_vm_status_name(UT_VM_VMNET), "vmnet");
	cr_expect_str_eq(ut_vm_status_name(UT_VM_INVALID), "invalid");
	cr_expect_str_eq(ut_vm_backend_name(UT_VM_BACKEND_QEMU), "QEMU");
	cr_expect_str_eq(ut_vm_backend_name(UT_VM_BACKEND_APPLE), "Apple");
	cr_expect_null(ut_vm_backend_name(UT_VM_BACKEND_NONE));
}
