/*
 * demo_check_macho.c - the Mach-O side of the demo UTM.app: both arches in
 * every binary, UTM's install names and rpaths (utm-domain 1.3), and every
 * imported symbol bound to a framework of the bundle that exports it.
 *
 * Oracles: the reader (machotools/mo_file.h) for load commands, llvm-nm-14
 * for symbols (-m names the library each undefined symbol binds to), and the
 * file system for path resolution (realpath of the rpath-expanded names).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "demo_check.h"
#include "mo_file.h"
#include "mo_format.h"
#include "tsupport.h"
#include "ut_err.h"
#include "ut_plist.h"

#define VERSION(maj, min) ((uint32_t)(maj) << 16 | (uint32_t)(min) << 8)

static const char *const ARCHS[] = { "arm64", "x86_64" };

struct macho {
	struct ut_src src;
	struct mo_file *f;
};

/* Opens and parses path; on failure reports it and returns -1. */
static int macho_open(struct macho *m, const char *path)
{
	memset(m, 0, sizeof(*m));
	if (ut_src_open(&m->src, path) != 0) {
		cr_expect_fail("%s: %s", path, ut_errmsg());
		return -1;
	}
	if (mo_file_parse(&m->src, &m->f) != 0) {
		cr_expect_fail("%s: parse: %s", path, ut_errmsg());
		ut_src_release(&m->src);
		return -1;
	}
	return 0;
}

static void macho_close(struct macho *m)
{
	mo_file_free(m->f);
	ut_src_release(&m->src);
}

/* Universal with exactly an arm64 and an x86_64 slice, both 64-bit images of filetype. */
static int expect_universal(const struct macho *m, const char *what, uint32_t filetype)
{
	int ok = 1;
	cr_expect_neq(m->f->fat, 0, "%s: not a universal file", what);
	cr_expect_eq(m->f->nslices, 2, "%s: %u slices, want arm64 + x86_64", what, m->f->nslices);
	for (size_t a = 0; a < 2; a++) {
		const struct mo_slice *s = mo_file_find_arch(m->f, ARCHS[a]);
		cr_expect_not_null(s, "%s: no %s slice", what, ARCHS[a]);
		if (!s || s->kind != MO_SLICE_MACHO64) {
			ok = 0;
			continue;
		}
		cr_expect_eq(s->img->filetype, filetype, "%s %s: filetype %u, want %u", what, ARCHS[a],
			     s->img->filetype, filetype);
	}
	return ok;
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_regular(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * A dependency of a framework must be a system library or UTM's
 * "@rpath/M.framework/Versions/A/M" with M.framework in Contents/Frameworks.
 */
static void expect_framework_dep(const char *app, const char *who, const char *arch, const char *dep)
{
	if (starts_with(dep, "/usr/lib/") || starts_with(dep, "/System/Library/"))
		return;
	const char *fw = strstr(dep, ".framework/Versions/A/");
	if (!starts_with(dep, "@rpath/") || !fw) {
		cr_expect_fail("%s %s: dependency '%s' is not @rpath/M.framework/Versions/A/M", who, arch, dep);
		return;
	}
	char m[256];
	size_t mlen = (size_t)(fw - (dep + 7));
	snprintf(m, sizeof(m), "%.*s", (int)mlen, dep + 7);
	const char *leaf = fw + strlen(".framework/Versions/A/");
	cr_expect_str_eq(leaf, m, "%s %s: dependency '%s': binary name differs from framework name", who, arch, dep);
	cr_expect_str_neq(m, who, "%s %s: depends on itself", who, arch);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/Contents/Frameworks/%s.framework/Versions/A/%s", app, m, m);
	cr_expect(is_regular(path), "%s %s: dependency '%s' does not resolve to a framework of the bundle", who,
		  arch, dep);
}

void demo_check_framework_macho(const char *app, const char *name)
{
	char path[PATH_MAX], want_id[512];
	snprintf(path, sizeof(path), "%s/Contents/Frameworks/%s.framework/Versions/A/%s", app, name, name);
	snprintf(want_id, sizeof(want_id), "@rpath/%s.framework/%s", name, name);
	struct macho m;
	if (macho_open(&m, path) != 0)
		return;
	expect_universal(&m, name, MH_DYLIB);
	for (uint32_t i = 0; i < m.f->nslices; i++) {
		const struct mo_slice *s = &m.f->slices[i];
		if (s->kind != MO_SLICE_MACHO64)
			continue;
		const struct mo_image *img = s->img;
		char ab[32];
		const char *arch = mo_arch_name(s->cputype, s->cpusubtype, ab);
		cr_expect(img->has_id, "%s %s: no LC_ID_DYLIB", name, arch);
		if (img->has_id)
			cr_expect_str_eq(img->id.name, want_id, "%s %s: install name", name, arch);
		/* fixup() adds no rpath to frameworks; the executables carry them. */
		cr_expect_eq(img->nrpaths, 0, "%s %s: %u rpaths, want none", name, arch, img->nrpaths);
		cr_expect_eq(img->platform, PLATFORM_MACOS, "%s %s: platform %u", name, arch, img->platform);
		cr_expect_eq(img->minos, VERSION(11, 0), "%s %s: minos 0x%x, want 11.0", name, arch, img->minos);
		cr_expect_geq(img->ndeps, 1, "%s %s: no dependencies", name, arch);
		for (uint32_t d = 0; d < img->ndeps; d++)
			expect_framework_dep(app, name, arch, img->deps[d].name);
	}
	macho_close(&m);
}

/* Expands an @executable_path rpath for the executable at exe. */
static void expand_rpath(const char *exe, const char *rpath, char *out, size_t cap)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", exe);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (starts_with(rpath, "@executable_path"))
		snprintf(out, cap, "%s%s", dir, rpath + strlen("@executable_path"));
	else
		snprintf(out, cap, "%s", rpath);
}

struct exe_spec {
	const char *rel;        /* path inside UTM.app */
	const char *rpath;      /* the one LC_RPATH, or NULL for none */
	const char *links[4];   /* frameworks linked directly (NULL-terminated) */
};

/* utm-domain 1.1-1.3: rpaths from LD_RUNPATH_SEARCH_PATHS; only UTM links frameworks. */
static const struct exe_spec EXES[] = {
	{ "Contents/MacOS/UTM", "@executable_path/../Frameworks",
	  { "spice-server.1", "glib-2.0.0", "pixman-1.0", "slirp.0" } },
	{ "Contents/MacOS/utmctl", NULL, { NULL } },
	{ "Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMUHelper", "@executable_path/../../../../Frameworks",
	  { NULL } },
	{ "Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMULauncher.app/Contents/MacOS/QEMULauncher",
	  "@executable_path/../../../../../../../Frameworks", { NULL } },
};

static int linked(const struct exe_spec *e, const char *dep)
{
	for (size_t i = 0; i < 4 && e->links[i]; i++) {
		char want[512];
		snprintf(want, sizeof(want), "@rpath/%s.framework/%s", e->links[i], e->links[i]);
		if (strcmp(dep, want) == 0)
			return 1;
	}
	return 0;
}

static void expect_exe_slice(const char *app, const struct exe_spec *e, const char *exe, const char *arch,
			     const struct mo_image *img)
{
	char frameworks[PATH_MAX], want_dir[PATH_MAX];
	snprintf(frameworks, sizeof(frameworks), "%s/Contents/Frameworks", app);
	cr_assert_not_null(realpath(frameworks, want_dir), "%s: no Contents/Frameworks", app);

	cr_expect(img->has_main, "%s %s: no LC_MAIN", e->rel, arch);
	cr_expect_eq(img->minos, VERSION(11, 3), "%s %s: minos 0x%x, want 11.3 (UTM's deployment target)", e->rel,
		     arch, img->minos);
	cr_expect_eq(img->nrpaths, e->rpath ? 1u : 0u, "%s %s: %u rpaths", e->rel, arch, img->nrpaths);
	if (e->rpath && img->nrpaths == 1) {
		cr_expect_str_eq(img->rpaths[0].path, e->rpath, "%s %s: rpath", e->rel, arch);
		char expanded[PATH_MAX], real[PATH_MAX];
		expand_rpath(exe, img->rpaths[0].path, expanded, sizeof(expanded));
		cr_expect(realpath(expanded, real) && strcmp(real, want_dir) == 0,
			  "%s %s: rpath '%s' does not lead to UTM.app/Contents/Frameworks", e->rel, arch,
			  img->rpaths[0].path);
	}
	size_t nlinks = 0;
	while (nlinks < 4 && e->links[nlinks])
		nlinks++;
	size_t seen = 0;
	for (uint32_t d = 0; d < img->ndeps; d++) {
		const char *dep = img->deps[d].name;
		if (starts_with(dep, "/usr/lib/"))
			continue;
		cr_expect(linked(e, dep), "%s %s: unexpected dependency '%s'", e->rel, arch, dep);
		seen++;
		/* dyld: @rpath/... found through the executable's rpath. */
		char expanded[PATH_MAX], real[PATH_MAX];
		if (!e->rpath || img->nrpaths != 1 || !starts_with(dep, "@rpath/"))
			continue;
		expand_rpath(exe, img->rpaths[0].path, expanded, sizeof(expanded));
		size_t n = strlen(expanded);
		snprintf(expanded + n, sizeof(expanded) - n, "%s", dep + strlen("@rpath"));
		cr_expect(realpath(expanded, real) && starts_with(real, want_dir) && is_regular(real),
			  "%s %s: '%s' does not resolve inside Contents/Frameworks", e->rel, arch, dep);
	}
	cr_expect_eq(seen, nlinks, "%s %s: links %zu frameworks, want %zu", e->rel, arch, seen, nlinks);
}

/* utmctl carries its Info.plist in __TEXT,__info_plist, as Xcode builds command-line tools. */
static void expect_info_section(const struct macho *m, const struct mo_slice *s, const char *arch)
{
	const struct mo_image *img = s->img;
	const struct mo_section *sec = NULL;
	for (uint32_t i = 0; i < img->nsections; i++)
		if (!strcmp(img->sections[i].segname, "__TEXT") && !strcmp(img->sections[i].sectname, "__info_plist"))
			sec = &img->sections[i];
	cr_expect_not_null(sec, "utmctl %s: no __TEXT,__info_plist section", arch);
	if (!sec || sec->size == 0 || sec->size > 65536)
		return;
	uint8_t *buf = malloc(sec->size);
	cr_assert_not_null(buf);
	cr_assert_eq(mo_slice_read(m->f, s, sec->offset, buf, sec->size), 0, "%s", ut_errmsg());
	plist_t pl = NULL;
	int rc = ut_plist_parse(buf, sec->size, "utmctl __info_plist", &pl, NULL);
	cr_expect_eq(rc, 0, "utmctl %s: __info_plist: %s", arch, ut_errmsg());
	if (rc == 0) {
		const char *id = ut_plist_dict_str(pl, "CFBundleIdentifier");
		cr_expect(id && !strcmp(id, "com.utmapp.utmctl"), "utmctl %s: CFBundleIdentifier %s", arch,
			  id ? id : "(none)");
	}
	plist_free(pl);
	free(buf);
}

void demo_check_executables(const char *app)
{
	for (size_t i = 0; i < sizeof(EXES) / sizeof(EXES[0]); i++) {
		const struct exe_spec *e = &EXES[i];
		char exe[PATH_MAX];
		snprintf(exe, sizeof(exe), "%s/%s", app, e->rel);
		struct stat st;
		cr_expect(lstat(exe, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) == 0111,
			  "%s: not an executable file", e->rel);
		struct macho m;
		if (macho_open(&m, exe) != 0)
			continue;
		expect_universal(&m, e->rel, MH_EXECUTE);
		for (uint32_t s = 0; s < m.f->nslices; s++) {
			if (m.f->slices[s].kind != MO_SLICE_MACHO64)
				continue;
			char ab[32];
			const char *arch = mo_arch_name(m.f->slices[s].cputype, m.f->slices[s].cpusubtype, ab);
			expect_exe_slice(app, e, exe, arch, m.f->slices[s].img);
			if (strstr(e->rel, "/utmctl"))
				expect_info_section(&m, &m.f->slices[s], arch);
		}
		macho_close(&m);
	}
}

/* llvm-nm-14 ARGS on path for one arch; returns malloc'd stdout or NULL (reported). */
static char *nm(const char *args, const char *arch, const char *path)
{
	char cmd[PATH_MAX + 256];
	snprintf(cmd, sizeof(cmd), "llvm-nm-14 %s --arch=%s '%s'", args, arch, path);
	char *out = NULL, *err = NULL;
	int rc = ts_sh(cmd, &out, &err);
	cr_expect_eq(rc, 0, "%s: %s", cmd, err ? err : "");
	free(err);
	if (rc != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* 1 if llvm-nm -g --defined-only output lists sym as a defined text symbol. */
static int nm_defines(const char *out, const char *sym)
{
	char needle[300];
	snprintf(needle, sizeof(needle), " T %s\n", sym);
	return out && strstr(out, needle) != NULL;
}

void demo_check_qemu_exports(const char *app, const char *name)
{
	static const char *const ENTRY[] = { "_qemu_init", "_qemu_main_loop", "_qemu_cleanup" };
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/Contents/Frameworks/%s.framework/Versions/A/%s", app, name, name);
	for (size_t a = 0; a < 2; a++) {
		char *out = nm("-g --defined-only", ARCHS[a], path);
		for (size_t i = 0; i < 3; i++)
			cr_expect(nm_defines(out, ENTRY[i]), "%s %s: does not export %s (QEMULauncher needs it)",
				  name, ARCHS[a], ENTRY[i]);
		free(out);
	}
}

/*
 * Every undefined symbol of the binary at app/rel binds (two-level namespace,
 * as llvm-nm -m reports it) either to libSystem or to a framework of the
 * bundle whose same-arch slice exports it.  dyld would refuse the image
 * otherwise ("Symbol not found").  Returns how many such imports both slices have.
 */
int demo_check_imports_resolve(const char *app, const char *rel)
{
	int total = 0;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", app, rel);
	for (size_t a = 0; a < 2; a++) {
		char *out = nm("-m --undefined-only", ARCHS[a], path);
		if (!out)
			continue;
		int nimports = 0;
		for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char sym[256], from[256];
			if (sscanf(line, " (undefined) external %255s (from %255[^)])", sym, from) != 2) {
				cr_expect_fail("%s %s: unexpected llvm-nm line '%s'", rel, ARCHS[a], line);
				continue;
			}
			if (!strcmp(from, "libSystem"))
				continue;
			nimports++;
			char dep[PATH_MAX];
			snprintf(dep, sizeof(dep), "%s/Contents/Frameworks/%s.framework/Versions/A/%s", app, from, from);
			if (!is_regular(dep)) {
				cr_expect_fail("%s %s: %s binds to '%s', not a framework of the bundle", rel, ARCHS[a],
					       sym, from);
				continue;
			}
			char *defs = nm("-g --defined-only", ARCHS[a], dep);
			cr_expect(nm_defines(defs, sym), "%s %s: imports %s from %s, which does not export it", rel,
				  ARCHS[a], sym, from);
			free(defs);
		}
		total += nimports;
		free(out);
	}
	return total;
}
