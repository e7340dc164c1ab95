/*
 * ut_install_paths.c - the dylib side of an install plan: target framework,
 * path plan (UTM's name rule), the rewrite into the staging directory,
 * slices kept from the pristine binary, --sysroot lookups.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mo_edit.h"
#include "mo_file.h"
#include "mo_format.h"
#include "mo_resolve.h"
#include "ut_file.h"
#include "ut_limits.h"
#include "ut_install_int.h"
#include "ut_macho_edit.h"

/* The install's private part: the staged binaries. */
struct ui_priv {
	char *rewritten;  /* the dylib with UTM's install names */
	char *merged;     /* + pristine slices (== rewritten when none are kept) */
};

/* A parsed Mach-O file with its source (mo_file_open / mo_file_close). */
struct mach {
	struct ut_src src;
	struct mo_file *f;
};

static int mach_open(struct mach *m, const char *path) { return mo_file_open(path, &m->src, &m->f); }

static void mach_close(struct mach *m)
{
	if (m->f)
		mo_file_close(&m->src, m->f);
	m->f = NULL;
}

const char *ui_staged_binary(const struct ut_install *in)
{
	const struct ui_priv *p = in->priv;
	return p ? p->merged : NULL;
}

/* Target framework: --target, else UTM's name of the dylib's install name; they must agree. */
static int plan_target(struct ut_install *in)
{
	const struct ut_install_opts *o = in->opts;
	char *from_id = NULL;
	int rc = 0;
	if (in->dylib_id && (rc = ut_utm_libname(in->dylib_id, &from_id)) == UT_ENOMEM)
		return rc;
	rc = 0;
	if (o->target) {
		size_t n = strlen(o->target);
		if (n > 10 && strcmp(o->target + n - 10, ".framework") == 0)
			n -= 10;
		if (!(in->target = malloc(n + 1))) {
			free(from_id);
			return ut_fail(UT_ENOMEM, "out of memory");
		}
		memcpy(in->target, o->target, n);
		in->target[n] = '\0';
		in->target_from = "--target";
	} else if (from_id) {
		in->target = from_id;
		from_id = NULL;
		in->target_from = "install name";
	}
	if (!in->target) {
		rc = ui_problem(in, UT_IP_TARGET, NULL, in->dylib, "the dylib has no install name to tell the target "
					"framework from: give --target (e.g. qemu-aarch64-softmmu)");
		free(from_id);
		return rc;
	}
	const struct ut_utmapp_comp *fw = ut_utmapp_framework(in->app, in->target);
	if (!fw) {
		char list[512] = "";
		size_t used = 0;
		for (size_t i = in->app->first_framework; i < in->app->n; i++) {
			const char *nm = in->app->v[i].name;
			if (strncmp(nm, "qemu-", 5) != 0)
				continue;
			int k = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", nm);
			if (k > 0 && (size_t)k < sizeof(list) - used)
				used += (size_t)k;
		}
		rc = ui_problem(in, UT_IP_TARGET, NULL, in->target,
				"no framework '%s.framework' in Contents/Frameworks (from %s; QEMU frameworks there: %s)",
				in->target, in->target_from, used ? list : "none");
	} else if (from_id && strcmp(from_id, in->target) != 0 && ut_utmapp_framework(in->app, from_id)) {
		rc = ui_problem(in, UT_IP_TARGET, NULL, in->target,
				"--target '%s' but the dylib's install name '%s' is UTM's '%s': a QEMU built for one "
				"target cannot replace another",
				in->target, in->dylib_id, from_id);
	} else {
		in->fw = (long)(fw - in->app->v);
		if (!fw->install_name)
			rc = ui_problem(in, UT_IP_TARGET, NULL, fw->exec_rel, "the pristine framework has no LC_ID_DYLIB");
		else if (!(in->pristine_id = ui_strdup(fw->install_name)))
			rc = UT_ENOMEM;
	}
	free(from_id);
	return rc;
}

/* --sysroot: the library the dylib was linked against, by file name. */
static int sysroot_lookup(struct ut_install *in, struct ut_inst_dep *d, uint32_t cputype)
{
	const struct ut_install_opts *o = in->opts;
	const char *slash = strrchr(d->install_name, '/');
	const char *base = slash ? slash + 1 : d->install_name;
	for (size_t i = 0; i < o->nsysroots; i++) {
		char *p = ut_path_join(o->sysroots[i], base);
		struct stat st;
		if (!p)
			return UT_ENOMEM;
		if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		struct mach m;
		int rc = mach_open(&m, p);
		if (rc) {
			int r2 = ui_warn(in, "--sysroot: %s", ut_errmsg());
			free(p);
			return r2;
		}
		for (uint32_t k = 0; k < m.f->nslices; k++) {
			const struct mo_slice *s = &m.f->slices[k];
			if (s->kind != MO_SLICE_MACHO64 || s->cputype != cputype || !s->img->has_id)
				continue;
			d->sysroot_version = s->img->id.current_version;
			d->sysroot_id = ui_strdup(s->img->id.name);
			break;
		}
		mach_close(&m);
		d->sysroot_file = p;
		if (!d->sysroot_id)
			return ui_warn(in, "--sysroot: '%s' has no %s dylib slice", p, d->arch);
		if (d->kind == UT_DEP_BUNDLED && d->bundled_version < d->sysroot_version) {
			char a[24], b[24];
			return ui_warn(in, "%s: the dylib was linked against %s version %s, UTM ships %s.framework "
					   "version %s (older: symbols may be missing)",
				       d->arch, base, mo_version_str(d->sysroot_version, a), d->name,
				       mo_version_str(d->bundled_version, b));
		}
		return 0;
	}
	return 0;
}

static int add_rewrite(struct ut_install *in, int is_id, const char *old_name, const char *new_name, const char *arch)
{
	for (size_t i = 0; i < in->nrewrites; i++) {
		struct ut_inst_rewrite *r = &in->rewrites[i];
		if (r->is_id == is_id && strcmp(r->old_name, old_name) == 0 && strcmp(r->new_name, new_name) == 0) {
			size_t used = strlen(r->archs);
			snprintf(r->archs + used, sizeof(r->archs) - used, " %s", arch);
			return 0;
		}
	}
	struct ut_inst_rewrite *r = ui_vec_push((void **)&in->rewrites, &in->nrewrites, &in->cap_rewrites, sizeof(*r));
	if (!r)
		return UT_ENOMEM;
	r->is_id = is_id;
	snprintf(r->archs, sizeof(r->archs), "%s", arch);
	if (!(r->old_name = ui_strdup(old_name)) || !(r->new_name = ui_strdup(new_name)))
		return UT_ENOMEM;
	return 0;
}

/* Step 3: every dependency of one slice, mapped by UTM's rule. */
static int plan_slice_deps(struct ut_install *in, const struct mo_slice *s)
{
	char arch[32];
	ui_arch(s, arch);
	const struct mo_image *img = s->img;
	int rc = 0;
	if (in->pristine_id && img->has_id && strcmp(img->id.name, in->pristine_id) != 0)
		rc = add_rewrite(in, 1, img->id.name, in->pristine_id, arch);
	for (uint32_t i = 0; !rc && i < img->ndeps; i++) {
		const struct mo_dylib *dl = &img->deps[i];
		struct ut_inst_dep *d = ui_vec_push((void **)&in->deps, &in->ndeps, &in->cap_deps, sizeof(*d));
		if (!d)
			return UT_ENOMEM;
		snprintf(d->arch, sizeof(d->arch), "%s", arch);
		d->weak = dl->cmd == LC_LOAD_WEAK_DYLIB;
		d->compat_version = dl->compat_version;
		d->current_version = dl->current_version;
		if (!(d->install_name = ui_strdup(dl->name)))
			return UT_ENOMEM;
		if (mo_path_is_system(dl->name)) {
			d->kind = UT_DEP_SYSTEM;
			continue;
		}
		if ((rc = ut_utm_libname(dl->name, &d->name)) != 0)
			return rc;
		if (!(d->new_name = ui_printf("@rpath/%s.framework/Versions/A/%s", d->name, d->name)))
			return UT_ENOMEM;
		const struct ut_utmapp_comp *fw = ut_utmapp_framework(in->app, d->name);
		if (fw) {
			d->kind = UT_DEP_BUNDLED;
			d->bundled_version = fw->current_version;
			if (strcmp(dl->name, d->new_name) != 0)
				rc = add_rewrite(in, 0, dl->name, d->new_name, arch);
		} else {
			d->kind = UT_DEP_UNSHIPPED;
			rc = ui_problem(in, UT_IP_UNSHIPPED, arch, dl->name,
					"maps to '%s.framework' (UTM's rule), which UTM.app does not ship in "
					"Contents/Frameworks%s",
					d->name, d->weak ? " (weak dependency)" : "");
		}
		if (!rc && in->opts->nsysroots)
			rc = sysroot_lookup(in, d, s->cputype);
	}
	return rc;
}

/* Step 4: the rewrite into the staging directory; a header too small is a problem. */
static int rewrite(struct ut_install *in, struct ui_priv *p)
{
	struct mo_edit *edits = calloc(in->nrewrites + 1, sizeof(*edits));
	if (!edits)
		return ut_fail(UT_ENOMEM, "out of memory");
	size_t n = 0;
	if (in->pristine_id)
		edits[n++] = (struct mo_edit){ MO_EDIT_ID, in->pristine_id, NULL };
	for (size_t i = 0; i < in->nrewrites; i++) {
		const struct ut_inst_rewrite *r = &in->rewrites[i];
		int dup = 0;
		for (size_t k = 0; k < i; k++)
			dup |= !r->is_id && !in->rewrites[k].is_id && strcmp(in->rewrites[k].old_name, r->old_name) == 0;
		if (!r->is_id && !dup)
			edits[n++] = (struct mo_edit){ MO_EDIT_CHANGE, r->old_name, r->new_name };
	}
	int rc = 0;
	if (!(p->rewritten = ui_stage_path(in, "rewritten", "dylib")))
		rc = UT_ENOMEM;
	struct ut_edit_report rep;
	if (!rc && (rc = ut_macho_edit(in->dylib, p->rewritten, edits, n, &rep)) == UT_ENOSPACE) {
		rc = ui_problem(in, UT_IP_PADDING, NULL, in->dylib,
				"header padding too small for UTM's install names: %s (relink with "
				"-headerpad_max_install_names)",
				ut_errmsg());
		free(p->rewritten);
		p->rewritten = NULL;
	}
	free(edits);
	return rc;
}

static int same_arch(const struct mo_slice *a, const struct mo_slice *b)
{
	return a->cputype == b->cputype &&
	       (a->cpusubtype & ~CPU_SUBTYPE_MASK) == (b->cpusubtype & ~CPU_SUBTYPE_MASK);
}

static const struct mo_slice *find_like(const struct mo_file *f, const struct mo_slice *like)
{
	for (uint32_t i = 0; i < f->nslices; i++)
		if (same_arch(&f->slices[i], like))
			return &f->slices[i];
	return NULL;
}

static int add_slice(struct ut_install *in, const struct mo_slice *s, int from_dylib)
{
	struct ut_inst_slice *x = ui_vec_push((void **)&in->slices, &in->nslices, &in->cap_slices, sizeof(*x));
	if (!x)
		return UT_ENOMEM;
	ui_arch(s, x->arch);
	x->from_dylib = from_dylib;
	x->size = s->size;
	return 0;
}

/* Step 5: which slices the new binary has; pristine ones are kept for architectures the dylib lacks. */
static int plan_slices(struct ut_install *in, struct ui_priv *p, const struct mo_file *dy)
{
	const struct ut_utmapp_comp *fw = &in->app->v[in->fw];
	char *pristine_path = ut_path_join(in->app->path, fw->exec_rel);
	if (!pristine_path)
		return UT_ENOMEM;
	struct mach pr, rw;
	int rc = mach_open(&pr, pristine_path);
	if (rc) {
		free(pristine_path);
		return rc;
	}
	/* The rewritten file's slices (sizes and offsets may differ from the dylib's). */
	if ((rc = mach_open(&rw, p->rewritten)) != 0) {
		mach_close(&pr);
		free(pristine_path);
		return rc;
	}
	dy = rw.f;
	const char *need = in->opts->need_arch;
	if (need && !mo_file_find_arch(dy, need))
		rc = ui_problem(in, UT_IP_ARCH, need, in->dylib,
				"the dylib has no %s slice, the architecture of this Mac", need);
	struct ui_fat_part parts[UT_MAX_SLICES];
	size_t nparts = 0, kept = 0;
	for (uint32_t i = 0; !rc && i < pr.f->nslices && nparts < UT_MAX_SLICES; i++) {
		const struct mo_slice *ps = &pr.f->slices[i];
		const struct mo_slice *ds = find_like(dy, ps);
		char arch[32];
		ui_arch(ps, arch);
		if (!ds && !need && !in->opts->allow_missing_arch) {
			rc = ui_problem(in, UT_IP_ARCH, arch, in->dylib,
					"the dylib has no %s slice and UTM's %s.framework has one (build the dylib for "
					"%s too, or --allow-missing-arch to keep UTM's own %s slice)",
					arch, fw->name, arch, arch);
			continue;
		}
		if (!ds) {
			parts[nparts++] = (struct ui_fat_part){ pristine_path, ps->offset, ps->size, ps->cputype,
								ps->cpusubtype };
			kept++;
			rc = add_slice(in, ps, 0);
		} else {
			parts[nparts++] = (struct ui_fat_part){ p->rewritten, ds->offset, ds->size, ds->cputype,
								ds->cpusubtype };
			rc = add_slice(in, ds, 1);
		}
	}
	for (uint32_t i = 0; !rc && i < dy->nslices && nparts < UT_MAX_SLICES; i++) {
		const struct mo_slice *ds = &dy->slices[i];
		if (find_like(pr.f, ds))
			continue;
		parts[nparts++] = (struct ui_fat_part){ p->rewritten, ds->offset, ds->size, ds->cputype, ds->cpusubtype };
		rc = add_slice(in, ds, 1);
	}
	if (!rc && kept && p->rewritten) {
		if (!(p->merged = ui_stage_path(in, "merged", "dylib")))
			rc = UT_ENOMEM;
		else
			rc = ui_fat_write(p->merged, parts, nparts);
		for (size_t i = 0; !rc && i < in->nslices; i++)
			if (!in->slices[i].from_dylib)
				rc = ui_warn(in, "the dylib has no %s slice: UTM's own %s slice of %s.framework is kept",
					     in->slices[i].arch, in->slices[i].arch, fw->name);
	} else if (!rc && p->rewritten && !(p->merged = ui_strdup(p->rewritten))) {
		rc = UT_ENOMEM;
	}
	mach_close(&rw);
	mach_close(&pr);
	free(pristine_path);
	return rc;
}

int ui_plan_dylib(struct ut_install *in)
{
	double t0 = ui_now();
	struct ui_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return ut_fail(UT_ENOMEM, "out of memory");
	in->priv = p;
	struct mach dy;
	int rc = ui_sha256_file(in->dylib, in->dylib_sha256, &in->dylib_size);
	double th = ui_now();
	in->times.hash += th - t0;
	t0 = th;
	if (!rc)
		rc = mach_open(&dy, in->dylib);
	if (rc)
		return rc;
	int ok = 1;
	for (uint32_t i = 0; i < dy.f->nslices; i++) {
		const struct mo_slice *s = &dy.f->slices[i];
		char arch[32];
		ui_arch(s, arch);
		if (s->kind != MO_SLICE_MACHO64 || s->img->filetype != MH_DYLIB) {
			ok = 0;
			rc = ui_problem(in, UT_IP_NOT_DYLIB, arch, in->dylib, "slice %s is %s, not a 64-bit dylib", arch,
					s->kind != MO_SLICE_MACHO64 ? s->reason : mo_filetype_name(s->img->filetype));
		} else if (!in->dylib_id && s->img->has_id && !(in->dylib_id = ui_strdup(s->img->id.name))) {
			rc = UT_ENOMEM;
		}
		if (rc)
			break;
	}
	if (!rc && ok)
		rc = plan_target(in);
	for (uint32_t i = 0; !rc && ok && i < dy.f->nslices; i++)
		rc = plan_slice_deps(in, &dy.f->slices[i]);
	if (!rc && ok)
		rc = ui_entry_points(in, dy.f);
	double t1 = ui_now();
	if (!rc && ok && in->pristine_id)
		rc = rewrite(in, p);
	if (!rc && ok && p->rewritten)
		rc = plan_slices(in, p, dy.f);
	double t2 = ui_now();
	if (!rc && ok && p->merged)
		rc = ui_load_check(in, dy.f);
	in->times.check += (t1 - t0) + (ui_now() - t2);
	in->times.rewrite += t2 - t1;
	mach_close(&dy);
	return rc;
}

void ui_priv_free(struct ut_install *in)
{
	struct ui_priv *p = in->priv;
	if (!p)
		return;
	free(p->rewritten);
	free(p->merged);
	free(p);
	in->priv = NULL;
}
