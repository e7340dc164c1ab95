#define _GNU_SOURCE
/*
 * test_resolve.c - dyld's dependency search and the load check, on a UTM.app
 * tree built in a temporary directory from the fixtures:
 *   Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMULauncher.app/Contents/MacOS/QEMULauncher
 *       (loadres/QEMULauncher: LC_RPATH @executable_path/../../../../../../../Frameworks)
 *   Contents/Frameworks/<N>.framework/Versions/A/<N>  (+ Versions/Current, <N> symlinks)
 *       the 14 stubs and the custom QEMU, universal, given UTM's install names
 *       with `utmpatch macho edit` (id @rpath/N.framework/N, dependencies
 *       @rpath/N.framework/Versions/A/N), as scripts/build_dependencies.sh does.
 * Each scenario breaks one thing (or several) and asserts the problems listed;
 * the symbols a library lacks are computed independently with llvm-nm-14.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mo_file.h"
#include "mo_format.h"
#include "mo_resolve.h"
#include "mo_symbols.h"
#include "test_symbols_macho.h"
#include "tsupport.h"
#include "ut_err.h"

static const char *const stubs[] = {
	"pixman-1.0", "glib-2.0.0", "gio-2.0.0", "gobject-2.0.0", "intl.8", "iconv.2", "jpeg.62",
	"png16.16", "slirp.0", "spice-server.1", "epoxy.0", "zstd.1", "gmodule-2.0.0", "usb-1.0.0", NULL,
};

#define LAUNCHER_DIR "Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMULauncher.app/Contents/MacOS"
#define QEMU "qemu-aarch64-softmmu"

static char *fw(const char *name)
{
	char *p = NULL;
	cr_assert(asprintf(&p, "Contents/Frameworks/%s.framework/Versions/A/%s", name, name) > 0);
	return p;
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd = NULL, *err = NULL;
	va_start(ap, fmt);
	cr_assert(vasprintf(&cmd, fmt, ap) > 0);
	va_end(ap);
	int rc = ts_sh(cmd, NULL, &err);
	cr_assert_eq(rc, 0, "%s: %s", cmd, err);
	free(cmd);
	free(err);
}

/* The --change arguments that give every sysroot install name (both arches) UTM's framework form. */
static char *changes(void)
{
	static const char *const extra[] = { "umbrella", NULL };
	size_t cap = 16384, n = 0;
	char *s = malloc(cap);
	s[0] = '\0';
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; (pass ? extra : stubs)[i]; i++)
			for (int a = 0; a < 2; a++) {
				const char *name = (pass ? extra : stubs)[i];
				n += (size_t)snprintf(s + n, cap - n,
						      " --change /Users/x/UTM/sysroot-macOS-%s/lib/lib%s.dylib @rpath/%s.framework/Versions/A/%s",
						      a ? "x86_64" : "arm64", name, name, name);
			}
	return s;
}

/* Installs src as framework name under root, the way UTM's build does. */
static void install(const char *root, const char *src, const char *name)
{
	char *rel = fw(name), *ch = changes();
	sh("mkdir -p '%s/Contents/Frameworks/%s.framework/Versions/A'", root, name);
	sh("'%s' macho edit '%s' --id @rpath/%s.framework/%s%s -o '%s/%s'", ts_bin(), src, name, name, ch, root, rel);
	sh("cd '%s/Contents/Frameworks/%s.framework' && ln -sfn A Versions/Current && ln -sfn Versions/Current/%s %s",
	   root, name, name, name);
	free(rel);
	free(ch);
}

struct tree {
	char *dir, *root;
};

static void tree_make(struct tree *t)
{
	t->dir = ts_tmpdir();
	cr_assert(asprintf(&t->root, "%s/UTM.app", t->dir) > 0);
	sh("mkdir -p '%s/%s' '%s/fat'", t->root, LAUNCHER_DIR, t->dir);
	sh("cp '%s' '%s/%s/QEMULauncher'", ts_fixture("loadres/QEMULauncher"), t->root, LAUNCHER_DIR);
	for (int i = 0; stubs[i]; i++) {
		char *fat = NULL;
		cr_assert(asprintf(&fat, "%s/fat/lib%s.dylib", t->dir, stubs[i]) > 0);
		sh("llvm-lipo-14 -create '%s/stubs-arm64/lib%s.dylib' '%s/stubs-x86_64/lib%s.dylib' -output '%s'",
		   ts_fixture(""), stubs[i], ts_fixture(""), stubs[i], fat);
		install(t->root, fat, stubs[i]);
		free(fat);
	}
	install(t->root, ts_fixture("qemu-fat.dylib"), QEMU);
}

static void tree_free(struct tree *t)
{
	ts_rmtree(t->dir);
	free(t->dir);
	free(t->root);
}

static void dump(const struct mo_load_report *r)
{
	for (uint32_t i = 0; i < r->nproblems; i++) {
		const struct mo_problem *p = &r->problems[i];
		cr_log_info("problem %u: %s: %s needs %s: %s", i, mo_problem_kind_name(p->kind), p->image,
			    p->install_name ? p->install_name : "-", p->detail ? p->detail : "");
	}
}

/* Runs the load check of framework image as QEMULauncher (arch) would load it; logs the problems. */
static struct mo_load_report *check_as(const struct tree *t, const char *arch, const char *image, unsigned flags)
{
	char *launcher = NULL;
	cr_assert(asprintf(&launcher, "%s/%s/QEMULauncher", t->root, LAUNCHER_DIR) > 0);
	struct ut_src src;
	struct mo_file *f = NULL;
	cr_assert_eq(ut_src_open(&src, launcher), 0, "%s", ut_errmsg());
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s", ut_errmsg());
	const struct mo_slice *s = mo_file_find_arch(f, arch);
	cr_assert_not_null(s);
	struct mo_loader l;
	cr_assert_eq(mo_loader_from_image(&l, LAUNCHER_DIR, s->img, NULL), 0);
	cr_assert_eq(l.nrpaths, 1u);
	cr_assert_str_eq(l.rpaths[0], "@executable_path/../../../../../../../Frameworks");
	struct mo_load_env env = { .root = t->root, .cputype = s->cputype, .cpusubtype = s->cpusubtype };
	char *rel = fw(image);
	struct mo_load_report *r = NULL;
	int rc = mo_load_check(&env, &l, NULL, rel, flags, &r);
	cr_assert_eq(rc, 0, "%s", ut_errmsg());
	cr_assert_not_null(r);
	free(rel);
	mo_loader_release(&l);
	mo_file_free(f);
	ut_src_release(&src);
	free(launcher);
	dump(r);
	return r;
}

/* The first problem of kind k with the dependency @rpath/<name>.framework/Versions/A/<name>, or NULL. */
static const struct mo_problem *find_problem(const struct mo_load_report *r, enum mo_problem_kind k, const char *name)
{
	char *dep = NULL;
	cr_assert(asprintf(&dep, "@rpath/%s.framework/Versions/A/%s", name, name) > 0);
	const struct mo_problem *p = NULL;
	for (uint32_t i = 0; i < r->nproblems && !p; i++)
		if (r->problems[i].kind == k && r->problems[i].install_name &&
		    strcmp(r->problems[i].install_name, dep) == 0)
			p = &r->problems[i];
	free(dep);
	return p;
}

Test(mo_resolve, all_good_no_problems, .timeout = 120)
{
	struct tree t;
	tree_make(&t);
	const char *arches[] = { "arm64", "x86_64" };
	for (int a = 0; a < 2; a++) {
		struct mo_load_report *r = check_as(&t, arches[a], QEMU, MO_LOAD_CLOSURE);
		cr_expect_eq(r->nproblems, 0u, "%s: %u problems", arches[a], r->nproblems);
		cr_expect_eq(r->nimages, 15u, "%s: qemu + 14 frameworks, got %u", arches[a], r->nimages);
		cr_expect_eq(r->nsystem, 15u, "%s: libSystem from each image", arches[a]);
		cr_expect_geq(r->nchecked, 16u, "%s: every stub import looked up (%u)", arches[a], r->nchecked);
		mo_load_report_free(r);
	}
	tree_free(&t);
}

/* llvm-nm-14: the undefined symbols of a thin file that come "(from short)", sorted. */
static size_t nm_imports_from(const char *thin, const char *shortname, char ***out)
{
	char *cmd = NULL, *o = NULL;
	cr_assert(asprintf(&cmd, "llvm-nm-14 -m -u '%s' | grep ' (from %s)$' | sed 's/.* external \\([^ ]*\\) (from .*/\\1/' | sort -u",
			   thin, shortname) > 0);
	cr_assert_eq(ts_sh(cmd, &o, NULL), 0, "%s", cmd);
	free(cmd);
	char **v = calloc(256, sizeof(char *));
	size_t n = 0;
	for (char *save = NULL, *s = strtok_r(o, "\n", &save); s && n < 255; s = strtok_r(NULL, "\n", &save))
		v[n++] = strdup(s);
	free(o);
	*out = v;
	return n;
}

/* llvm-nm-14: whether the arch slice of file defines name as an external. */
static int nm_defines(const char *file, const char *arch, const char *name)
{
	char *cmd = NULL, *o = NULL;
	cr_assert(asprintf(&cmd, "llvm-nm-14 --arch=%s -g --defined-only -j '%s'", arch, file) > 0);
	cr_assert_eq(ts_sh(cmd, &o, NULL), 0, "%s", cmd);
	free(cmd);
	int found = 0;
	for (char *save = NULL, *s = strtok_r(o, "\n", &save); s && !found; s = strtok_r(NULL, "\n", &save))
		found = strcmp(s, name) == 0;
	free(o);
	return found;
}

/* The symbols qemu-arm64.dylib imports from lib (llvm short name) that file's arm64 slice does not define. */
static size_t nm_expected_missing(const char *shortname, const char *file, char ***out)
{
	char **imp;
	size_t n = nm_imports_from(ts_fixture("qemu-arm64.dylib"), shortname, &imp), k = 0;
	cr_assert_gt(n, 0u, "qemu imports nothing from %s", shortname);
	for (size_t i = 0; i < n; i++) {
		if (!nm_defines(file, "arm64", imp[i]))
			imp[k++] = imp[i];
		else
			free(imp[i]);
	}
	imp[k] = NULL;
	*out = imp;
	return k;
}

/* Frees what nm_imports_from / nm_expected_missing returned (names past n were moved or are already freed). */
static void strv_free(char **v)
{
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

static void expect_symbols(const struct mo_problem *p, char **want, size_t n)
{
	cr_assert_not_null(p);
	cr_expect_eq(p->nsymbols, n, "%u missing symbols, llvm-nm says %zu", p->nsymbols, n);
	for (size_t i = 0; i < n && i < p->nsymbols; i++)
		cr_expect_str_eq(p->symbols[i], want[i]);
}

Test(mo_resolve, missing_framework_is_unresolved, .timeout = 120)
{
	struct tree t;
	tree_make(&t);
	sh("rm -rf '%s/Contents/Frameworks/spice-server.1.framework'", t.root);
	struct mo_load_report *r = check_as(&t, "arm64", QEMU, MO_LOAD_CLOSURE);
	cr_expect_eq(r->nproblems, 1u);
	const struct mo_problem *p = find_problem(r, MO_PROBLEM_UNRESOLVED, "spice-server.1");
	cr_assert_not_null(p);
	cr_expect_str_eq(p->image, "Contents/Frameworks/" QEMU ".framework/Versions/A/" QEMU);
	cr_expect_eq(p->ordinal, 10u, "spice-server is the 10th dependency");
	cr_expect(strstr(p->detail, "'Contents/Frameworks/spice-server.1.framework/Versions/A/spice-server.1' (no such file)"),
		  "%s", p->detail);
	cr_expect_null(p->path);
	mo_load_report_free(r);
	tree_free(&t);
}

Test(mo_resolve, missing_symbol_listed, .timeout = 120)
{
	struct tree t;
	tree_make(&t);
	install(t.root, ts_fixture("loadres/libpixman-nounref.dylib"), "pixman-1.0");
	struct mo_load_report *r = check_as(&t, "arm64", QEMU, MO_LOAD_CLOSURE);
	cr_expect_eq(r->nproblems, 1u);
	char **want;
	size_t n = nm_expected_missing("libpixman-1", ts_fixture("loadres/libpixman-nounref.dylib"), &want);
	cr_expect_eq(n, 1u, "llvm-nm: one pixman symbol lacking");
	const struct mo_problem *p = find_problem(r, MO_PROBLEM_MISSING_SYMBOLS, "pixman-1.0");
	expect_symbols(p, want, n);
	cr_expect_str_eq(p->symbols[0], "_pixman_image_unref");
	cr_expect_str_eq(p->path, "Contents/Frameworks/pixman-1.0.framework/Versions/A/pixman-1.0");
	mo_load_report_free(r);
	strv_free(want);
	tree_free(&t);
}

Test(mo_resolve, x86_64_only_framework_missing_arch, .timeout = 120)
{
	struct tree t;
	tree_make(&t);
	install(t.root, ts_fixture("stubs-x86_64/libzstd.1.dylib"), "zstd.1");
	struct mo_load_report *r = check_as(&t, "arm64", QEMU, MO_LOAD_CLOSURE);
	cr_expect_eq(r->nproblems, 1u);
	const struct mo_problem *p = find_problem(r, MO_PROBLEM_MISSING_ARCH, "zstd.1");
	cr_assert_not_null(p);
	cr_expect(strstr(p->detail, "(mach-o file, but is an incompatible architecture (have 'x86_64', need 'arm64'))"),
		  "%s", p->detail);
	mo_load_report_free(r);
	r = check_as(&t, "x86_64", QEMU, MO_LOAD_CLOSURE);
	cr_expect_eq(r->nproblems, 0u, "an x86_64 process loads it");
	mo_load_report_free(r);
	tree_free(&t);
}

Test(mo_resolve, compat_version_too_new_incompatible, .timeout = 120)
{
	struct tree t;
	tree_make(&t);
	install(t.root, ts_fixture("loadres/libjpeg-0.9.dylib"), "jpeg.62");
	struct mo_load_report *r = check_as(&t, "arm64", QEMU, MO_LOAD_CLOSURE);
	cr_expect_eq(r->nproblems, 1u);
	const struct mo_problem *p = find_problem(r, MO_PROBLEM_INCOMPATIBLE_VERSION, "jpeg.62");
	cr_assert_not_null(p);
	cr_expect_eq(p->need_version, 0x10000u, "qemu links jpeg with compatibility version 1.0.0");
	cr_expect_eq(p->have_version, 0x900u, "0.9.0");
	cr_expect(strstr(p->detail, "requires version 1.0.0 or later, but 'Contents/Frameworks/jpeg.62.framework/Versions/A/jpeg.62' provides version 0.9.0"),
		  "%s", p->detail);
	mo_load_report_free(r);
	tree_free(&t);
}

Test(mo_resolve, every_problem_listed_not_just_the_first, .timeout = 120)
{
	struct tree t;
	tree_make(&t);
	sh("rm -rf '%s/Contents/Frameworks/spice-server.1.framework'", t.root);
	install(t.root, ts_fixture("loadres/libpixman-nounref.dylib"), "pixman-1.0");
	install(t.root, ts_fixture("stubs-x86_64/libzstd.1.dylib"), "zstd.1");
	install(t.root, ts_fixture("loadres/libjpeg-0.9.dylib"), "jpeg.62");
	struct mo_load_report *r = check_as(&t, "arm64", QEMU, MO_LOAD_CLOSURE);
	cr_expect_eq(r->nproblems, 4u);
	/* in dependency order: pixman (1), jpeg (7), spice-server (10), zstd (12) */
	static const enum mo_problem_kind want[] = { MO_PROBLEM_MISSING_SYMBOLS, MO_PROBLEM_INCOMPATIBLE_VERSION,
						     MO_PROBLEM_UNRESOLVED, MO_PROBLEM_MISSING_ARCH };
	static const uint32_t ords[] = { 1, 7, 10, 12 };
	for (uint32_t i = 0; i < 4 && i < r->nproblems; i++) {
		cr_expect_eq(r->problems[i].kind, want[i], "problem %u", i);
		cr_expect_eq(r->problems[i].ordinal, ords[i], "problem %u", i);
	}
	mo_load_report_free(r);
	tree_free(&t);
}

Test(mo_resolve, image_without_the_arch, .timeout = 120)
{
	struct tree t;
	tree_make(&t);
	install(t.root, ts_fixture("qemu-x86_64.dylib"), QEMU);
	struct mo_load_report *r = check_as(&t, "arm64", QEMU, MO_LOAD_CLOSURE);
	cr_assert_eq(r->nproblems, 1u);
	cr_expect_eq(r->problems[0].kind, MO_PROBLEM_IMAGE_ARCH);
	cr_expect_null(r->problems[0].install_name);
	cr_expect_str_eq(r->problems[0].detail, "no arm64 slice");
	mo_load_report_free(r);
	tree_free(&t);
}

/* The user's build before fixup: sysroot install names are absolute paths outside the bundle. */
Test(mo_resolve, sysroot_install_names_unresolved, .timeout = 120)
{
	struct tree t;
	tree_make(&t);
	char *rel = fw(QEMU);
	sh("cp '%s' '%s/%s'", ts_fixture("qemu-fat.dylib"), t.root, rel);
	struct mo_load_report *r = check_as(&t, "arm64", QEMU, 0);
	cr_expect_eq(r->nproblems, 14u);
	for (uint32_t i = 0; i < r->nproblems; i++) {
		cr_expect_eq(r->problems[i].kind, MO_PROBLEM_UNRESOLVED);
		cr_expect(strncmp(r->problems[i].install_name, "/Users/x/UTM/sysroot-macOS-arm64/lib/lib", 40) == 0);
		cr_expect(strstr(r->problems[i].detail, "(outside the bundle: absolute path outside the bundle)"), "%s",
			  r->problems[i].detail);
	}
	/* the same file checked from outside the bundle, once edited: nothing wrong */
	char *outside = NULL, *ch = changes();
	cr_assert(asprintf(&outside, "%s/qemu-edited", t.dir) > 0);
	sh("'%s' macho edit '%s' --id @rpath/%s.framework/%s%s -o '%s'", ts_bin(), ts_fixture("qemu-fat.dylib"), QEMU,
	   QEMU, ch, outside);
	mo_load_report_free(r);
	struct mo_load_env env = { .root = t.root, .cputype = CPU_TYPE_ARM64, .cpusubtype = CPU_SUBTYPE_ARM64_ALL };
	const char *const rp[] = { "@executable_path/../../../../../../../Frameworks" };
	struct mo_loader l = { .dir = LAUNCHER_DIR, .rpaths = rp, .nrpaths = 1 };
	cr_assert_eq(mo_load_check(&env, &l, outside, rel, MO_LOAD_CLOSURE, &r), 0, "%s", ut_errmsg());
	dump(r);
	cr_expect_eq(r->nproblems, 0u);
	mo_load_report_free(r);
	free(outside);
	free(ch);
	free(rel);
	tree_free(&t);
}

/* Points qemu's libintl dependency at another framework, in place. */
static void repoint_intl(const struct tree *t, const char *name)
{
	char *rel = fw(QEMU);
	sh("'%s' macho edit '%s/%s' --change @rpath/intl.8.framework/Versions/A/intl.8 @rpath/%s.framework/Versions/A/%s",
	   ts_bin(), t->root, rel, name, name);
	free(rel);
}

Test(mo_resolve, reexported_dylib_followed, .timeout = 120)
{
	struct tree t;
	tree_make(&t);
	repoint_intl(&t, "umbrella");
	install(t.root, ts_fixture("loadres/libumbrella.dylib"), "umbrella");
	struct mo_load_report *r = check_as(&t, "arm64", QEMU, MO_LOAD_CLOSURE);
	cr_expect_eq(r->nproblems, 0u, "libintl_textdomain comes through umbrella's LC_REEXPORT_DYLIB");
	cr_expect_eq(r->nimages, 16u);
	mo_load_report_free(r);

	/* without intl.8.framework: umbrella's own dependency fails, and the symbol is missing */
	sh("rm -rf '%s/Contents/Frameworks/intl.8.framework'", t.root);
	r = check_as(&t, "arm64", QEMU, MO_LOAD_CLOSURE);
	char **want;
	const struct mo_problem *p = find_problem(r, MO_PROBLEM_MISSING_SYMBOLS, "umbrella");
	size_t n = nm_expected_missing("libintl", ts_fixture("loadres/libumbrella-plain.dylib"), &want);
	expect_symbols(p, want, n);
	p = find_problem(r, MO_PROBLEM_UNRESOLVED, "intl.8");
	cr_assert_not_null(p);
	cr_expect_str_eq(p->image, "Contents/Frameworks/umbrella.framework/Versions/A/umbrella");
	cr_expect_eq(r->nproblems, 3u, "missing symbols + umbrella's LC_LOAD_DYLIB and LC_REEXPORT_DYLIB of intl");
	mo_load_report_free(r);

	/* an umbrella that does not re-export: the symbols are missing (llvm-nm decides which) */
	install(t.root, ts_fixture("loadres/libumbrella-plain.dylib"), "umbrella");
	r = check_as(&t, "arm64", QEMU, MO_LOAD_CLOSURE);
	cr_expect_eq(r->nproblems, 1u);
	expect_symbols(find_problem(r, MO_PROBLEM_MISSING_SYMBOLS, "umbrella"), want, n);
	mo_load_report_free(r);
	strv_free(want);
	tree_free(&t);
}

/* A hand-made umbrella whose export trie re-exports single symbols from intl. */
static void trie_umbrella(const struct tree *t, const char *target_name)
{
	uint8_t trie[128];
	size_t n = 0;
	const char *name = "_libintl_textdomain";
	trie[n++] = 0;
	trie[n++] = 1;
	tb_str(trie, &n, name);
	size_t child = n + 1;
	tb_uleb(trie, &n, child);
	size_t tstart = n++;
	tb_uleb(trie, &n, EXPORT_SYMBOL_FLAGS_REEXPORT);
	tb_uleb(trie, &n, 1);
	tb_str(trie, &n, target_name);
	trie[tstart] = (uint8_t)(n - tstart - 1);
	trie[n++] = 0;
	static const char *const deps[] = { "@rpath/intl.8.framework/Versions/A/intl.8" };
	struct tb_spec spec = { .ndeps = 1, .dep_names = deps, .dyld_info = 1, .exports = { trie, n } };
	sh("mkdir -p '%s/Contents/Frameworks/tumbrella.framework/Versions/A'", t->root);
	char *dir = NULL;
	cr_assert(asprintf(&dir, "%s/Contents/Frameworks/tumbrella.framework/Versions/A", t->root) > 0);
	free(tb_write(&spec, dir, "tumbrella"));
	free(dir);
}

Test(mo_resolve, trie_reexport_entries_followed, .timeout = 120)
{
	struct tree t;
	tree_make(&t);
	repoint_intl(&t, "tumbrella");
	trie_umbrella(&t, "");
	struct mo_load_report *r = check_as(&t, "arm64", QEMU, MO_LOAD_CLOSURE);
	cr_expect_eq(r->nproblems, 0u);
	mo_load_report_free(r);
	/* re-exported under another name that intl does not have */
	trie_umbrella(&t, "_no_such_symbol");
	r = check_as(&t, "arm64", QEMU, MO_LOAD_CLOSURE);
	cr_assert_eq(r->nproblems, 1u);
	cr_expect_eq(r->problems[0].kind, MO_PROBLEM_MISSING_SYMBOLS);
	cr_assert_eq(r->problems[0].nsymbols, 1u);
	cr_expect_str_eq(r->problems[0].symbols[0], "_libintl_textdomain");
	mo_load_report_free(r);
	tree_free(&t);
}

Test(mo_resolve, weak_dependency_may_be_missing, .timeout = 120)
{
	struct tree t;
	tree_make(&t);
	install(t.root, ts_fixture("fat-deps"), "deps");
	struct mo_load_report *r = check_as(&t, "arm64", "deps", MO_LOAD_CLOSURE);
	cr_expect_eq(r->nproblems, 0u);
	mo_load_report_free(r);
	sh("rm -rf '%s/Contents/Frameworks/usb-1.0.0.framework'", t.root);
	r = check_as(&t, "arm64", "deps", MO_LOAD_CLOSURE);
	cr_expect_eq(r->nproblems, 0u, "libusb is LC_LOAD_WEAK_DYLIB: dyld carries on");
	mo_load_report_free(r);
	sh("rm -rf '%s/Contents/Frameworks/glib-2.0.0.framework'", t.root);
	r = check_as(&t, "arm64", "deps", MO_LOAD_CLOSURE);
	cr_expect_eq(r->nproblems, 1u, "glib is not weak");
	mo_load_report_free(r);
	tree_free(&t);
}

Test(mo_resolve, symlink_out_of_the_bundle_not_followed, .timeout = 120)
{
	struct tree t;
	tree_make(&t);
	char *rel = fw("zstd.1");
	sh("rm '%s/%s' && ln -s '%s' '%s/%s'", t.root, rel, ts_fixture("stubs-arm64/libzstd.1.dylib"), t.root, rel);
	struct mo_load_report *r = check_as(&t, "arm64", QEMU, 0);
	cr_assert_eq(r->nproblems, 1u);
	cr_expect_eq(r->problems[0].kind, MO_PROBLEM_UNRESOLVED);
	cr_expect(strstr(r->problems[0].detail, "a symlink leads out of the bundle"), "%s", r->problems[0].detail);
	mo_load_report_free(r);
	free(rel);
	tree_free(&t);
}

/* ---- candidate paths, no files involved ---- */

struct want_cand {
	enum mo_cand_kind kind;
	const char *path;
};

static void expect_cands(const struct mo_load_env *env, const struct mo_loader *l, const char *name,
			 const struct want_cand *w, uint32_t n)
{
	struct mo_candidates c;
	cr_assert_eq(mo_resolve_candidates(env, l, name, &c), 0, "%s", ut_errmsg());
	cr_expect_eq(c.n, n, "%s: %u candidates", name, c.n);
	for (uint32_t i = 0; i < n && i < c.n; i++) {
		cr_expect_eq(c.v[i].kind, w[i].kind, "%s: candidate %u '%s'", name, i, c.v[i].path);
		cr_expect_str_eq(c.v[i].path, w[i].path, "%s: candidate %u", name, i);
	}
	mo_candidates_release(&c);
}

Test(mo_resolve, candidate_paths_like_dyld)
{
	struct mo_load_env env = { .root = "/nonexistent" };
	const char *const exe_rp[] = { "@executable_path/../Frameworks", "/usr/lib/swift", "@loader_path/../lib" };
	const char *const fw_rp[] = { "@loader_path/../../../" };
	struct mo_loader exe = { .dir = "Contents/MacOS", .rpaths = exe_rp, .nrpaths = 3 };
	struct mo_loader fwk = { .dir = "Contents/Frameworks/a.framework/Versions/A", .rpaths = fw_rp, .nrpaths = 1,
				 .parent = &exe };
	/* the loader's own rpaths first, then its parent's; @loader_path is the rpath owner's directory */
	const struct want_cand rpath[] = {
		{ MO_CAND_BUNDLE, "Contents/Frameworks/b.dylib" },
		{ MO_CAND_BUNDLE, "Contents/Frameworks/b.dylib" },
		{ MO_CAND_SYSTEM, "/usr/lib/swift/b.dylib" },
		{ MO_CAND_BUNDLE, "Contents/lib/b.dylib" },
	};
	expect_cands(&env, &fwk, "@rpath/b.dylib", rpath, 4);
	const struct want_cand ep[] = { { MO_CAND_BUNDLE, "Contents/Frameworks/x.dylib" } };
	expect_cands(&env, &fwk, "@executable_path/../Frameworks/x.dylib", ep, 1);
	const struct want_cand lp[] = { { MO_CAND_BUNDLE, "Contents/Frameworks/a.framework/Versions/A/sub/x.dylib" } };
	expect_cands(&env, &fwk, "@loader_path/./sub//x.dylib", lp, 1);
	const struct want_cand climb[] = { { MO_CAND_OUTSIDE, "Contents/MacOS/../../../x" } };
	expect_cands(&env, &fwk, "@executable_path/../../../x", climb, 1);
	const struct want_cand sys[] = { { MO_CAND_SYSTEM, "/System/Library/Frameworks/Foundation.framework/Foundation" } };
	expect_cands(&env, &fwk, "/System/Library/Frameworks/Foundation.framework/Foundation", sys, 1);
	const struct want_cand abs_out[] = { { MO_CAND_OUTSIDE, "/Applications/UTM.app/Contents/Frameworks/x" } };
	expect_cands(&env, &fwk, "/Applications/UTM.app/Contents/Frameworks/x", abs_out, 1);
	env.install_root = "/Applications/UTM.app/";
	const struct want_cand abs_in[] = { { MO_CAND_BUNDLE, "Contents/Frameworks/x" } };
	expect_cands(&env, &fwk, "/Applications/UTM.app/Contents/Frameworks/x", abs_in, 1);
	/* absolute paths are normalised before they are classified */
	const struct want_cand sneaky[] = { { MO_CAND_OUTSIDE, "/Users/x/lib/libz.dylib" } };
	expect_cands(&env, &fwk, "/usr/lib/../../Users/x/lib/libz.dylib", sneaky, 1);
	const struct want_cand rel[] = { { MO_CAND_OUTSIDE, "libfoo.dylib" } };
	expect_cands(&env, &fwk, "libfoo.dylib", rel, 1);
	/* ".." in the @rpath tail is applied after the rpath */
	const struct want_cand tail[] = {
		{ MO_CAND_BUNDLE, "Contents/y" },
		{ MO_CAND_BUNDLE, "Contents/y" },
		{ MO_CAND_SYSTEM, "/usr/lib/y" },
		{ MO_CAND_BUNDLE, "Contents/y" },
	};
	expect_cands(&env, &fwk, "@rpath/x/../../y", tail, 4);
	/* no rpaths at all: nothing to try, and the result says so */
	struct mo_loader bare = { .dir = "Contents/MacOS" };
	expect_cands(&env, &bare, "@rpath/z.dylib", NULL, 0);
}

Test(mo_resolve, no_rpath_not_found_and_says_why)
{
	char *dir = ts_tmpdir();
	struct mo_load_env env = { .root = dir, .cputype = CPU_TYPE_ARM64 };
	struct mo_loader bare = { .dir = "Contents/MacOS" };
	struct mo_dylib dep = { .name = "@rpath/z.dylib", .cmd = LC_LOAD_DYLIB };
	struct mo_dep_result r;
	cr_assert_eq(mo_resolve_dylib(&env, &bare, &dep, &r), 0, "%s", ut_errmsg());
	cr_expect_eq(r.state, MO_DEP_NOT_FOUND);
	cr_expect_str_eq(r.tried, "no LC_RPATH in the loader chain");
	mo_dep_result_release(&r);
	dep.name = "/usr/lib/libSystem.B.dylib";
	cr_assert_eq(mo_resolve_dylib(&env, &bare, &dep, &r), 0, "%s", ut_errmsg());
	cr_expect_eq(r.state, MO_DEP_SYSTEM);
	mo_dep_result_release(&r);
	ts_rmtree(dir);
	free(dir);
}

Test(mo_resolve, slice_for_process_arch)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	cr_assert_eq(ut_src_open(&src, ts_fixture("fat3-exe")), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s", ut_errmsg());
	char a[32];
	const struct mo_slice *s = mo_file_slice_for(f, CPU_TYPE_ARM64, CPU_SUBTYPE_ARM64E | CPU_SUBTYPE_PTRAUTH_ABI);
	cr_assert_not_null(s);
	cr_expect_str_eq(mo_arch_name(s->cputype, s->cpusubtype, a), "arm64e");
	s = mo_file_slice_for(f, CPU_TYPE_ARM64, CPU_SUBTYPE_ARM64_ALL);
	cr_assert_not_null(s);
	cr_expect_str_eq(mo_arch_name(s->cputype, s->cpusubtype, a), "arm64");
	s = mo_file_slice_for(f, CPU_TYPE_X86_64, CPU_SUBTYPE_X86_64_ALL);
	cr_assert_not_null(s);
	cr_expect_eq(s->cputype, CPU_TYPE_X86_64);
	cr_expect_null(mo_file_slice_for(f, CPU_TYPE_I386, 3));
	mo_file_free(f);
	ut_src_release(&src);
	/* an arm64 process cannot load an arm64e-only image; an arm64e process takes plain arm64 */
	cr_assert_eq(ut_src_open(&src, ts_fixture("arm64e-exe")), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s", ut_errmsg());
	cr_expect_null(mo_file_slice_for(f, CPU_TYPE_ARM64, CPU_SUBTYPE_ARM64_ALL));
	mo_file_free(f);
	ut_src_release(&src);
	cr_assert_eq(ut_src_open(&src, ts_fixture("arm64-exe")), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s", ut_errmsg());
	cr_expect_not_null(mo_file_slice_for(f, CPU_TYPE_ARM64, CPU_SUBTYPE_ARM64E));
	mo_file_free(f);
	ut_src_release(&src);
}
