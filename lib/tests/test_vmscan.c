/*
 * test_vmscan.c - finding VMs: folders, bundles, config files, and UTM's own
 * list (sandbox Documents + Registry/VMList in its preferences, utm-domain §3.1).
 */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tsupport_fs.h"
#include "tsupport_run.h"
#include "ut_err.h"
#include "ut_plist.h"
#include "ut_vmconfig.h"

static size_t count_bundles(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		n += l > 4 && strcmp(de->d_name + l - 4, ".utm") == 0;
	}
	closedir(d);
	return n;
}

Test(vmscan, folder_sorted_without_duplicates)
{
	char *dir = tsupport_printf("%s/testdata/vmconfigs", tsupport_root());
	struct ut_vm_list l;
	ut_vm_list_init(&l);
	cr_assert_eq(ut_vm_list_add_path(&l, dir), 0, "%s", ut_errmsg());
	size_t n = count_bundles(dir);
	cr_expect_eq(l.n, n);
	for (size_t i = 1; i < l.n; i++)
		cr_expect_lt(strcmp(l.vms[i - 1]->bundle, l.vms[i]->bundle), 0, "not sorted at %zu", i);
	/* The same VMs again, by folder, by bundle, and by config file: nothing new. */
	cr_assert_eq(ut_vm_list_add_path(&l, dir), 0);
	char *b = tsupport_printf("%s/qemu-v4-shared.utm", dir);
	char *c = tsupport_printf("%s/qemu-v4-shared.utm/config.plist", dir);
	cr_assert_eq(ut_vm_list_add_path(&l, b), 0);
	cr_assert_eq(ut_vm_list_add_path(&l, c), 0);
	cr_expect_eq(l.n, n);
	ut_vm_list_release(&l);
	free(b);
	free(c);
	free(dir);
}

Test(vmscan, config_file_and_missing_path)
{
	char *c = tsupport_printf("%s/testdata/vmconfigs/apple-v4-bridged.utm/config.plist", tsupport_root());
	struct ut_vm_list l;
	ut_vm_list_init(&l);
	cr_assert_eq(ut_vm_list_add_path(&l, c), 0);
	cr_assert_eq(l.n, 1);
	cr_expect_str_eq(l.vms[0]->config_path, c);
	cr_expect_eq(l.vms[0]->status, UT_VM_VMNET);
	cr_expect_eq(ut_vm_list_add_path(&l, "/nonexistent/utmpatch/none.utm"), UT_ENOTFOUND);
	cr_expect(strstr(ut_errmsg(), "/nonexistent/utmpatch/none.utm") != NULL);
	ut_vm_list_release(&l);
	free(c);
}

static void mkdirs(const char *path)
{
	char *cmd = strdup(path);
	for (char *p = cmd + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(cmd, 0755);
			*p = '/';
		}
	}
	mkdir(cmd, 0755);
	free(cmd);
}

static void copy_fixture(const char *name, const char *dst)
{
	char *src = tsupport_printf("%s/testdata/vmconfigs/%s.utm", tsupport_root(), name);
	cr_assert_eq(tsupport_copytree(src, dst), 0);
	free(src);
}

static plist_t registry_entry(const char *path)
{
	plist_t pkg = plist_new_dict();
	plist_dict_set_item(pkg, "Path", plist_new_string(path));
	plist_dict_set_item(pkg, "Bookmark", plist_new_data("book", 4));
	plist_t e = plist_new_dict();
	plist_dict_set_item(e, "Name", plist_new_string("x"));
	plist_dict_set_item(e, "Package", pkg);
	return e;
}

/* A fake home: two VMs in Documents, one registered elsewhere, stale entries in both lists. */
Test(vmscan, defaults_documents_and_registry)
{
	char *home = tsupport_tmpdir("vmscan-home");
	char *docs = ut_vm_documents_dir(home);
	char *prefs = ut_vm_preferences_path(home);
	cr_expect(strstr(docs, "/Library/Containers/com.utmapp.UTM/Data/Documents") != NULL);
	mkdirs(docs);
	char *a = tsupport_printf("%s/qemu-v4-shared.utm", docs);
	char *b = tsupport_printf("%s/apple-v4-shared.utm", docs);
	char *elsewhere = tsupport_printf("%s/VMs/External.utm", home);
	char *vms = tsupport_printf("%s/VMs", home);
	mkdirs(vms);
	free(vms);
	copy_fixture("qemu-v4-shared", a);
	copy_fixture("apple-v4-shared", b);
	copy_fixture("legacy-qemu-v2-shared", elsewhere);

	plist_t reg = plist_new_dict();
	plist_dict_set_item(reg, "11111111-1111-4111-8111-111111111111", registry_entry(elsewhere));
	plist_dict_set_item(reg, "22222222-2222-4222-8222-222222222222", registry_entry("/nonexistent/Gone.utm"));
	plist_dict_set_item(reg, "33333333-3333-4333-8333-333333333333", registry_entry(a)); /* also in Documents */
	plist_t list = plist_new_array();
	plist_array_append_item(list, plist_new_string("apple-v4-shared.utm"));
	plist_array_append_item(list, plist_new_string("Deleted.utm"));
	plist_array_append_item(list, plist_new_data("bookmark", 8));
	plist_t root = plist_new_dict();
	plist_dict_set_item(root, "Registry", reg);
	plist_dict_set_item(root, "VMList", list);
	plist_dict_set_item(root, "VMEntryList", plist_new_array());
	uint8_t *bin;
	size_t blen;
	cr_assert_eq(ut_plist_serialize(root, UT_PLIST_BINARY, &bin, &blen), 0);
	plist_free(root);
	char *prefdir = strdup(prefs);
	*strrchr(prefdir, '/') = '\0';
	mkdirs(prefdir);
	cr_assert_eq(tsupport_write(prefs, bin, blen), 0);

	struct ut_vm_list l;
	ut_vm_list_init(&l);
	cr_assert_eq(ut_vm_list_add_defaults(&l, home), 0, "%s", ut_errmsg());
	cr_expect_eq(l.n, 3);
	int seen_external = 0;
	for (size_t i = 0; i < l.n; i++)
		seen_external |= strcmp(l.vms[i]->bundle, elsewhere) == 0;
	cr_expect(seen_external, "the registered VM outside Documents was not found");
	cr_assert_eq(l.nmissing, 2);
	cr_expect_str_eq(l.missing[0].path, "/nonexistent/Gone.utm");
	cr_expect_str_eq(l.missing[0].source, "Registry");
	char *deleted = tsupport_printf("%s/Deleted.utm", docs);
	cr_expect_str_eq(l.missing[1].path, deleted);
	cr_expect_str_eq(l.missing[1].source, "VMList");
	ut_vm_list_release(&l);
	free(deleted);
	free(prefdir);
	free(bin);
	free(a);
	free(b);
	free(elsewhere);
	free(docs);
	free(prefs);
	tsupport_rmtree(home);
	free(home);
}

Test(vmscan, defaults_nothing_there)
{
	char *home = tsupport_tmpdir("vmscan-empty");
	struct ut_vm_list l;
	ut_vm_list_init(&l);
	cr_expect_eq(ut_vm_list_add_defaults(&l, home), 0);
	cr_expect_eq(l.n, 0);
	cr_expect_eq(l.nmissing, 0);
	ut_vm_list_release(&l);
	tsupport_rmtree(home);
	free(home);
}

Test(vmscan, utm_running_check)
{
	int running = -1;
	cr_assert_eq(ut_vm_utm_running(&running), 0);
#ifndef __APPLE__
	cr_expect_eq(running, 0);
#else
	cr_expect(running == 0 || running == 1);
#endif
}
