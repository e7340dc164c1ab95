/*
 * demo_check_files.c - the file side of the demo UTM.app: Info.plists and
 * PkgInfo, the versioned framework trees fixup() makes, resources, and the
 * release entitlements kept for the signer.  Expected values are UTM's
 * (utm-domain 1 and 2, and the UTM 5.0.3 project files it cites); plists are
 * read with libplist through ut_plist_read_file.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "demo_check.h"
#include "tsupport.h"
#include "ut_err.h"
#include "ut_plist.h"
#include "utm_ents.h"

const char *const demo_frameworks[] = {
	"qemu-aarch64-softmmu", "qemu-x86_64-softmmu", "pixman-1.0", "glib-2.0.0", "gio-2.0.0", "gobject-2.0.0",
	"gmodule-2.0.0", "intl.8", "iconv.2", "jpeg.62", "png16.16", "slirp.0", "spice-server.1", "epoxy.0",
	"zstd.1", "usb-1.0.0",
};
const size_t demo_nframeworks = sizeof(demo_frameworks) / sizeof(demo_frameworks[0]);

int demo_build(const char *dir, char **out, char **err)
{
	char cmd[3 * PATH_MAX];
	snprintf(cmd, sizeof(cmd), "UTMPATCH='%s' sh '%s' '%s'", ts_bin(), ts_root("testdata/demo/build-demo.sh"),
		 dir);
	return ts_sh(cmd, out, err);
}

/* Reads an XML plist dict; reports and returns NULL on failure. */
static plist_t read_xml_dict(const char *path)
{
	plist_t pl = NULL;
	enum ut_plist_format fmt = 0;
	if (ut_plist_read_file(path, &pl, &fmt) != 0) {
		cr_expect_fail("%s: %s", path, ut_errmsg());
		return NULL;
	}
	cr_expect_eq(fmt, UT_PLIST_XML, "%s: not an XML plist", path);
	if (plist_get_node_type(pl) != PLIST_DICT) {
		cr_expect_fail("%s: not a dictionary", path);
		plist_free(pl);
		return NULL;
	}
	return pl;
}

static void expect_str(plist_t dict, const char *where, const char *key, const char *want)
{
	const char *got = ut_plist_dict_str(dict, key);
	cr_expect(got && !strcmp(got, want), "%s: %s is '%s', want '%s'", where, key, got ? got : "(missing)", want);
}

static int is_type(const char *path, mode_t type)
{
	struct stat st;
	return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == type;
}

static void expect_link(const char *path, const char *target)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	cr_expect(n > 0, "%s: not a symlink", path);
	if (n <= 0)
		return;
	buf[n] = '\0';
	cr_expect_str_eq(buf, target, "%s: points to '%s', want '%s'", path, buf, target);
}

/* The directory holds exactly the names in want (NULL-terminated). */
static void expect_entries(const char *dir, const char *const *want)
{
	size_t nwant = 0;
	while (want[nwant])
		nwant++;
	DIR *d = opendir(dir);
	cr_expect_not_null(d, "%s: cannot open", dir);
	if (!d)
		return;
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		int found = 0;
		for (size_t i = 0; i < nwant; i++)
			found |= !strcmp(e->d_name, want[i]);
		cr_expect(found, "%s: unexpected entry '%s'", dir, e->d_name);
	}
	closedir(d);
	cr_expect_eq(n, nwant, "%s: %zu entries, want %zu", dir, n, nwant);
}

/* The executable CFBundleExecutable names exists in dir with exec bits. */
static void expect_executable(const char *dir, plist_t info, const char *where)
{
	const char *exe = ut_plist_dict_str(info, "CFBundleExecutable");
	if (!exe)
		return;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, exe);
	struct stat st;
	cr_expect(lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111),
		  "%s: CFBundleExecutable '%s' is not an executable in %s", where, exe, dir);
}

void demo_check_app_plist(const char *app)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/Contents/Info.plist", app);
	plist_t info = read_xml_dict(path);
	if (!info)
		return;
	expect_str(info, "UTM.app", "CFBundleIdentifier", "com.utmapp.UTM");
	expect_str(info, "UTM.app", "CFBundleExecutable", "UTM");
	expect_str(info, "UTM.app", "CFBundleName", "UTM");
	expect_str(info, "UTM.app", "CFBundlePackageType", "APPL");
	expect_str(info, "UTM.app", "CFBundleShortVersionString", "5.0.3");
	expect_str(info, "UTM.app", "CFBundleVersion", "122");
	expect_str(info, "UTM.app", "HelperIdentifier", "com.utmapp.QEMUHelper");
	expect_str(info, "UTM.app", "AppGroupIdentifier", "WDNLXAD4W8.com.utmapp.UTM");
	/* MACOSX_DEPLOYMENT_TARGET = 11.3 in UTM.xcodeproj at 5.0.3. */
	expect_str(info, "UTM.app", "LSMinimumSystemVersion", "11.3");
	snprintf(path, sizeof(path), "%s/Contents/MacOS", app);
	expect_executable(path, info, "UTM.app");

	/* Files the Info.plist refers to. */
	const char *icon = ut_plist_dict_str(info, "CFBundleIconFile");
	const char *sdef = ut_plist_dict_str(info, "OSAScriptingDefinition");
	cr_expect(icon && sdef, "UTM.app: CFBundleIconFile or OSAScriptingDefinition missing");
	if (icon) {
		snprintf(path, sizeof(path), "%s/Contents/Resources/%s.icns", app, icon);
		cr_expect(is_type(path, S_IFREG), "%s: missing", path);
	}
	if (sdef) {
		snprintf(path, sizeof(path), "%s/Contents/Resources/%s", app, sdef);
		cr_expect(is_type(path, S_IFREG), "%s: missing", path);
	}
	plist_free(info);

	snprintf(path, sizeof(path), "%s/Contents/PkgInfo", app);
	size_t n = 0;
	uint8_t *p = ts_read(path, &n);
	cr_expect(p && n == 8 && !memcmp(p, "APPL????", 8), "%s: want exactly 'APPL\?\?\?\?'", path);
	free(p);
}

void demo_check_nested_plists(const char *app)
{
	char path[PATH_MAX], dir[PATH_MAX];
	const char *helper = "Contents/XPCServices/QEMUHelper.xpc/Contents";
	snprintf(path, sizeof(path), "%s/%s/Info.plist", app, helper);
	plist_t info = read_xml_dict(path);
	if (info) {
		expect_str(info, "QEMUHelper.xpc", "CFBundleIdentifier", "com.utmapp.QEMUHelper");
		expect_str(info, "QEMUHelper.xpc", "CFBundleExecutable", "QEMUHelper");
		expect_str(info, "QEMUHelper.xpc", "CFBundlePackageType", "XPC!");
		plist_t xpc = plist_dict_get_item(info, "XPCService");
		cr_expect(xpc && plist_get_node_type(xpc) == PLIST_DICT, "QEMUHelper.xpc: no XPCService dict");
		if (xpc && plist_get_node_type(xpc) == PLIST_DICT)
			expect_str(xpc, "QEMUHelper.xpc XPCService", "ServiceType", "Application");
		snprintf(dir, sizeof(dir), "%s/%s/MacOS", app, helper);
		expect_executable(dir, info, "QEMUHelper.xpc");
		plist_free(info);
	}
	snprintf(path, sizeof(path), "%s/%s/MacOS/QEMULauncher.app/Contents/Info.plist", app, helper);
	info = read_xml_dict(path);
	if (info) {
		expect_str(info, "QEMULauncher.app", "CFBundleIdentifier", "com.utmapp.QEMULauncher");
		expect_str(info, "QEMULauncher.app", "CFBundleExecutable", "QEMULauncher");
		expect_str(info, "QEMULauncher.app", "CFBundlePackageType", "APPL");
		snprintf(dir, sizeof(dir), "%s/%s/MacOS/QEMULauncher.app/Contents/MacOS", app, helper);
		expect_executable(dir, info, "QEMULauncher.app");
		plist_free(info);
	}
}

/*
 * N.framework exactly as fixup() leaves it on macOS: Versions/A/N,
 * Versions/A/Resources/Info.plist (five keys), Current -> A, and the
 * top-level Resources and N symlinks through Current.
 */
void demo_check_framework_tree(const char *app, const char *name)
{
	char fw[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
	snprintf(fw, sizeof(fw), "%s/Contents/Frameworks/%s.framework", app, name);
	cr_expect(is_type(fw, S_IFDIR), "%s: missing", fw);
	if (!is_type(fw, S_IFDIR))
		return;
	const char *top[] = { name, "Resources", "Versions", NULL };
	expect_entries(fw, top);
	snprintf(path, sizeof(path), "%s/Versions", fw);
	expect_entries(path, (const char *const[]){ "A", "Current", NULL });
	snprintf(path, sizeof(path), "%s/Versions/A", fw);
	cr_expect(is_type(path, S_IFDIR), "%s: not a directory", path);
	expect_entries(path, (const char *const[]){ name, "Resources", "_CodeSignature", NULL });
	snprintf(path, sizeof(path), "%s/Versions/A/Resources", fw);
	expect_entries(path, (const char *const[]){ "Info.plist", NULL });
	snprintf(path, sizeof(path), "%s/Versions/A/%s", fw, name);
	cr_expect(is_type(path, S_IFREG), "%s: not a regular file", path);

	snprintf(path, sizeof(path), "%s/Versions/Current", fw);
	expect_link(path, "A");
	snprintf(path, sizeof(path), "%s/Resources", fw);
	expect_link(path, "Versions/Current/Resources");
	snprintf(path, sizeof(path), "%s/%s", fw, name);
	snprintf(target, sizeof(target), "Versions/Current/%s", name);
	expect_link(path, target);

	snprintf(path, sizeof(path), "%s/Resources/Info.plist", fw); /* through the symlinks */
	plist_t info = read_xml_dict(path);
	if (!info)
		return;
	char id[256];
	snprintf(id, sizeof(id), "com.utmapp.%s", name);
	for (char *c = id; *c; c++)
		if (*c == '_')
			*c = '-';
	cr_expect_eq(plist_dict_get_size(info), 5, "%s: %u keys, fixup() writes exactly 5", path,
		     plist_dict_get_size(info));
	expect_str(info, name, "CFBundleExecutable", name);
	expect_str(info, name, "CFBundleIdentifier", id);
	expect_str(info, name, "MinimumOSVersion", "11.0");
	expect_str(info, name, "CFBundleVersion", "1");
	expect_str(info, name, "CFBundleShortVersionString", "1.0");
	plist_free(info);
}

/* Counts regular files under dir (recursively, not following symlinks). */
static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (is_type(p, S_IFREG))
			n++;
		else if (is_type(p, S_IFDIR))
			n += count_files(p);
	}
	closedir(d);
	return n;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void demo_check_resources(const char *app)
{
	char path[PATH_MAX];
	expect_entries(app, (const char *const[]){ "Contents", NULL });
	snprintf(path, sizeof(path), "%s/Contents", app);
	expect_entries(path, (const char *const[]){ "Info.plist", "PkgInfo", "MacOS", "Resources", "Frameworks",
						    "XPCServices", "_CodeSignature", "embedded.provisionprofile", NULL });
	snprintf(path, sizeof(path), "%s/Contents/MacOS", app);
	expect_entries(path, (const char *const[]){ "UTM", "utmctl", NULL });
	snprintf(path, sizeof(path), "%s/Contents/XPCServices", app);
	expect_entries(path, (const char *const[]){ "QEMUHelper.xpc", NULL });

	snprintf(path, sizeof(path), "%s/Contents/Resources/AppIcon.icns", app);
	size_t n = 0;
	uint8_t *p = ts_read(path, &n);
	cr_expect(p && n >= 8 && !memcmp(p, "icns", 4) && be32(p + 4) == n,
		  "%s: not an icns container whose length field is its size", path);
	free(p);
	snprintf(path, sizeof(path), "%s/Contents/Resources/qemu", app);
	cr_expect_geq(count_files(path), 1, "%s: no firmware stand-ins", path);
	snprintf(path, sizeof(path), "%s/Contents/Resources/en.lproj/Localizable.strings", app);
	cr_expect(is_type(path, S_IFREG), "%s: missing", path);
	snprintf(path, sizeof(path), "%s/Contents/Resources/Base.lproj", app);
	cr_expect_geq(count_files(path), 1, "%s: empty", path);
}

void demo_check_entitlement_files(void)
{
	for (size_t i = 0; i < 4; i++) {
		const struct utm_ent_set *set = &utm_release_sets[i];
		char rel[256];
		snprintf(rel, sizeof(rel), "testdata/demo/entitlements/%s", set->file);
		const char *path = ts_root(rel);
		size_t len = 0;
		uint8_t *raw = ts_read(path, &len);
		cr_expect(raw && !strstr((const char *)raw, "$("), "%s: unexpanded build setting", path);
		free(raw);
		plist_t dict = read_xml_dict(path);
		if (!dict)
			continue;
		utm_ents_expect(dict, set, set->file);
		plist_free(dict);
	}
}
