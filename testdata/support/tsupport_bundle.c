/* tsupport_bundle.c - corpus bundle copies, a fixture-built app and an inside-out bundle signer (tests only). */
#define _DEFAULT_SOURCE
#include "tsupport_bundle.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_bundle.h"
#include "cs_seal.h"
#include "cs_sign.h"
#include "mo_file.h"
#include "tsupport.h"
#include "tsupport_fs.h"
#include "ut_err.h"
#include "ut_file.h"

/* ---- symlink stand-ins ---- */

static int restore_if(const char *path, const char *target)
{
	struct stat st;
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size != strlen(target))
		return 0;
	uint8_t *p = NULL;
	size_t n = 0;
	if (tsupport_read(path, &p, &n) != 0)
		return 0;
	int same = n == strlen(target) && memcmp(p, target, n) == 0;
	free(p);
	if (!same)
		return 0;
	cr_assert_eq(unlink(path), 0, "%s", path);
	cr_assert_eq(symlink(target, path), 0, "%s", path);
	return 1;
}

static int restore_seal(const char *seal_path, const char *base)
{
	struct cs_seal s;
	if (cs_seal_read_file(&s, seal_path) != 0) {
		ut_err_clear();
		return 0;
	}
	int n = 0;
	for (size_t i = 0; i < s.files2.n; i++)
		if (s.files2.v[i].kind == CS_SEAL_SYMLINK) {
			char *p = tsupport_printf("%s/%s", base, s.files2.v[i].path);
			n += restore_if(p, s.files2.v[i].symlink);
			free(p);
		}
	cs_seal_release(&s);
	return n;
}

static int restore_framework(const char *fw)
{
	int n = 0;
	char *cur = tsupport_printf("%s/Versions/Current", fw);
	uint8_t *t = NULL;
	size_t len = 0;
	struct stat st;
	if (lstat(cur, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < 64 && tsupport_read(cur, &t, &len) == 0) {
		char *target = strndup((char *)t, len);
		char *vdir = tsupport_printf("%s/Versions/%s", fw, target);
		if (!strchr(target, '/') && stat(vdir, &st) == 0 && S_ISDIR(st.st_mode))
			n += restore_if(cur, target);
		free(vdir);
		free(target);
		free(t);
	}
	free(cur);
	DIR *d = opendir(fw);
	for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "Versions") == 0)
			continue;
		char *p = tsupport_printf("%s/%s", fw, e->d_name);
		char *target = tsupport_printf("Versions/Current/%s", e->d_name);
		n += restore_if(p, target);
		free(p);
		free(target);
	}
	if (d)
		closedir(d);
	return n;
}

static int ends_with(const char *s, const char *x)
{
	size_t a = strlen(s), b = strlen(x);
	return a >= b && strcmp(s + a - b, x) == 0;
}

static int restore_walk(const char *dir)
{
	int n = 0;
	if (ends_with(dir, ".framework"))
		n += restore_framework(dir);
	if (ends_with(dir, "/_CodeSignature")) {
		char *seal = tsupport_printf("%s/CodeResources", dir);
		char *base = strndup(dir, strlen(dir) - strlen("/_CodeSignature"));
		n += restore_seal(seal, base);
		free(seal);
		free(base);
	}
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *p = tsupport_printf("%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			n += restore_walk(p);
		free(p);
	}
	if (d)
		closedir(d);
	return n;
}

int tsb_restore_symlinks(const char *root)
{
	/* Frameworks' Versions/Current first, so that seals under it are found through the real directory. */
	return restore_walk(root);
}

static void make_writable(const char *dir)
{
	char *cmd = tsupport_printf("chmod -R u+w '%s'", dir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(cmd);
}

char *tsb_copy_corpus(const char *rel, const char *dir)
{
	const char *src = ts_corpus(rel);
	const char *name = strrchr(rel, '/');
	char *dst = tsupport_printf("%s/%s", dir, name ? name + 1 : rel);
	cr_assert_eq(tsupport_copytree(src, dst), 0, "copy %s", src);
	make_writable(dst);
	cr_assert_geq(tsb_restore_symlinks(dst), 0);
	return dst;
}

/* ---- a fixture-built app ---- */

static void mkdirs(const char *path)
{
	char *p = strdup(path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	mkdir(p, 0755);
	free(p);
}

static void put(const char *root, const char *rel, const char *text)
{
	char *p = tsupport_printf("%s/%s", root, rel);
	char *d = strdup(p);
	*strrchr(d, '/') = '\0';
	mkdirs(d);
	cr_assert_eq(tsupport_write(p, text, strlen(text)), 0, "%s", p);
	free(d);
	free(p);
}

static void put_fixture(const char *root, const char *rel, const char *fixture)
{
	char *p = tsupport_printf("%s/%s", root, rel);
	char *d = strdup(p);
	*strrchr(d, '/') = '\0';
	mkdirs(d);
	cr_assert_eq(ts_copy(ts_fixture(fixture), p), 0, "%s", fixture);
	chmod(p, 0755);
	free(d);
	free(p);
}

static void link_at(const char *root, const char *rel, const char *target)
{
	char *p = tsupport_printf("%s/%s", root, rel);
	cr_assert_eq(symlink(target, p), 0, "%s", p);
	free(p);
}

static char *info_plist(const char *exe, const char *id, const char *type)
{
	return tsupport_printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			       "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
			       "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
			       "<plist version=\"1.0\">\n<dict>\n"
			       "\t<key>CFBundleExecutable</key>\n\t<string>%s</string>\n"
			       "\t<key>CFBundleIdentifier</key>\n\t<string>%s</string>\n"
			       "\t<key>CFBundlePackageType</key>\n\t<string>%s</string>\n"
			       "\t<key>CFBundleVersion</key>\n\t<string>1</string>\n"
			       "</dict>\n</plist>\n",
			       exe, id, type);
}

static void put_info(const char *root, const char *rel, const char *exe, const char *id, const char *type)
{
	char *t = info_plist(exe, id, type);
	put(root, rel, t);
	free(t);
}

char *tsb_build_app(const char *dir)
{
	char *app = tsupport_printf("%s/Demo.app", dir);
	put_info(app, "Contents/Info.plist", "Demo", "com.example.demo", "APPL");
	put(app, "Contents/PkgInfo", "APPL????");
	put_fixture(app, "Contents/MacOS/Demo", "fat-exe");
	put_fixture(app, "Contents/MacOS/helper", "arm64-exe");
	const char *fw = "Contents/Frameworks/Foo.framework";
	char *p = tsupport_printf("%s/%s/Versions/A/Foo", app, fw);
	put_fixture(app, p + strlen(app) + 1, "fat-dylib");
	free(p);
	char *fwabs = tsupport_printf("%s/%s", app, fw);
	put_info(fwabs, "Versions/A/Resources/Info.plist", "Foo", "com.example.foo", "FMWK");
	put(fwabs, "Versions/A/Resources/foo.txt", "foo resource\n");
	link_at(fwabs, "Versions/Current", "A");
	link_at(fwabs, "Foo", "Versions/Current/Foo");
	link_at(fwabs, "Resources", "Versions/Current/Resources");
	free(fwabs);
	put_fixture(app, "Contents/Frameworks/libbar.dylib", "arm64-dylib");
	put_info(app, "Contents/PlugIns/Plug.bundle/Contents/Info.plist", "Plug", "com.example.plug", "BNDL");
	put_fixture(app, "Contents/PlugIns/Plug.bundle/Contents/MacOS/Plug", "x86_64-dylib");
	put_info(app, "Contents/XPCServices/Svc.xpc/Contents/Info.plist", "Svc", "com.example.svc", "XPC!");
	put_fixture(app, "Contents/XPCServices/Svc.xpc/Contents/MacOS/Svc", "arm64-exe");
	put(app, "Contents/XPCServices/Svc.xpc/Contents/Resources/en.lproj/Localizable.strings", "\"a\" = \"b\";\n");
	put(app, "Contents/Resources/en.lproj/Localizable.strings", "\"hello\" = \"Hello\";\n");
	put(app, "Contents/Resources/Base.lproj/Main.txt", "main\n");
	put(app, "Contents/Resources/data.bin", "0123456789abcdef\n");
	link_at(app, "Contents/Resources/link.txt", "data.bin");
	return app;
}

/* ---- signing ---- */

static int read_opt(const char *path, uint8_t **p, size_t *n)
{
	*p = NULL;
	*n = 0;
	struct stat st;
	if (!path || lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	return ut_file_read(path, 16u << 20, p, n);
}

int tsb_sign_one(const char *path, int is_bundle, const struct cs_identity *id)
{
	struct cs_sign_opts so = { .identity = id, .signing_time = 1700000000 };
	if (!is_bundle)
		return cs_sign_file(path, NULL, &so, NULL);
	struct cs_bundle *b = NULL;
	int rc = cs_bundle_open(path, &b);
	if (rc)
		return rc;
	struct cs_seal seal;
	struct cs_seal_opts o = { .nhash = 0 };
	uint8_t *info = NULL, *res = NULL;
	size_t info_len = 0, res_len = 0;
	rc = cs_seal_build_bundle(&seal, b, &o);
	if (!rc)
		rc = cs_seal_write_file(&seal, b->seal_path);
	cs_seal_release(&seal);
	if (!rc)
		rc = read_opt(b->info_path, &info, &info_len);
	if (!rc)
		rc = read_opt(b->seal_path, &res, &res_len);
	if (!rc && b->exec_path) {
		so.info_plist = info;
		so.info_plist_len = info_len;
		so.resources = res;
		so.resources_len = res_len;
		rc = cs_sign_file(b->exec_path, NULL, &so, NULL);
	}
	free(info);
	free(res);
	cs_bundle_free(b);
	return rc;
}

int tsb_sign_bundle(const char *root, const struct cs_identity *id)
{
	struct cs_bundle_tree t;
	int rc = cs_bundle_tree_build(&t, root);
	if (rc)
		return rc;
	for (size_t i = 0; i < t.n && !rc; i++)
		rc = tsb_sign_one(t.v[i].path, t.v[i].is_bundle, id);
	cs_bundle_tree_release(&t);
	return rc;
}

void tsb_flip(const char *path, uint64_t off)
{
	FILE *f = fopen(path, "r+b");
	cr_assert(f, "%s", path);
	cr_assert_eq(fseeko(f, (off_t)off, SEEK_SET), 0);
	int c = fgetc(f);
	cr_assert_neq(c, EOF, "%s: offset %llu past the end", path, (unsigned long long)off);
	cr_assert_eq(fseeko(f, (off_t)off, SEEK_SET), 0);
	fputc(c ^ 0x5a, f);
	cr_assert_eq(fclose(f), 0);
}

uint64_t tsb_text_offset(const char *path)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	cr_assert_eq(ut_src_open(&src, path), 0, "%s", ut_errmsg());
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s", ut_errmsg());
	const struct mo_slice *s = &f->slices[0];
	cr_assert(s->img, "%s: first slice not 64-bit", path);
	uint64_t off = 0;
	for (uint32_t i = 0; i < s->img->nsections && !off; i++)
		if (strcmp(s->img->sections[i].sectname, "__text") == 0 && s->img->sections[i].size)
			off = s->offset + s->img->sections[i].offset + s->img->sections[i].size / 2;
	cr_assert(off, "%s: no __text", path);
	mo_file_free(f);
	ut_src_release(&src);
	return off;
}
