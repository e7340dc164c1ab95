/*
 * ut_gate_app.c - the gate's checks of a UTM.app: signature (deep, strict),
 * install names, the QEMU frameworks' load check and entry points, and each
 * executable's entitlements (see ut_gate.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_bverify.h"
#include "mo_file.h"
#include "mo_resolve.h"
#include "mo_symbols.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_gate.h"
#include "ut_install_ents.h"
#include "ut_install_util.h"
#include "ut_utmapp.h"

#define MAX_SYMBOLS_SHOWN 8

struct gate_app {
	struct ut_gate *g;
	const struct ut_gate_app_opts *o;
	struct ut_utmapp *a;
	const char *top;          /* the bundle's own name ("UTM.app") */
};

/* A component's name in the report: its path inside UTM.app, the bundle's own name for the top. */
static const char *comp_name(const struct gate_app *ga, const char *rel)
{
	return rel && rel[0] ? rel : ga->top;
}

static const char *utm_comp_name(const struct gate_app *ga, const struct ut_utmapp_comp *x)
{
	return x->rel ? comp_name(ga, x->rel) : x->exec_rel;
}

/* ---- signature ---- */

static void bverify_progress(void *ctx, uint64_t done, uint64_t total, const char *rel)
{
	const struct ut_gate_app_opts *o = ctx;
	(void)rel;
	o->progress(o->progress_ctx, "signature", done, total);
}

static int by_rel(const void *x, const void *y)
{
	const struct cs_bverify_component *const *p = x, *const *q = y;
	return strcmp((*p)->rel, (*q)->rel);
}

static int signature_one(struct gate_app *ga, const struct cs_bverify_component *bc)
{
	struct ut_gate_check *c = ut_gate_add(ga->g, "app", "signature", comp_name(ga, bc->rel), bc->path);
	if (!c)
		return UT_ENOMEM;
	int rc = 0;
	for (size_t k = 0; !rc && k < bc->nreasons; k++) {
		const struct cs_bverify_reason *r = &bc->reasons[k];
		if (r->problem == CS_BV_NOTE)
			continue;
		rc = ut_gate_fail(c, "%s%s%s%s%s%s", r->text, r->path ? ": " : "", r->path ? r->path : "",
				  r->detail[0] ? " (" : "", r->detail, r->detail[0] ? ")" : "");
	}
	if (!rc && !bc->valid && c->status != UT_GATE_FAIL)
		rc = ut_gate_fail(c, "not validly signed");
	if (!rc && c->status == UT_GATE_PASS && bc->checked && bc->sig.nslices) {
		const struct cs_verify_slice *s = &bc->sig.slices[0];
		rc = ut_gate_note(c, "%s, %s%s%s%s%s", bc->format, cs_verify_kind_name(s->kind),
				  s->identifier[0] ? ", identifier " : "", s->identifier, s->team_id[0] ? ", team " : "",
				  s->team_id);
	}
	return rc;
}

static int check_signatures(struct gate_app *ga)
{
	struct cs_bverify_opts bo = { .flags = CS_BVERIFY_DEEP | CS_BVERIFY_STRICT, .trust = ga->o->trust };
	if (ga->o->progress) {
		bo.progress = bverify_progress;
		bo.progress_ctx = (void *)ga->o;
	}
	struct cs_bverify_result r;
	int rc = cs_bverify_bundle(&r, ga->a->path, &bo);
	const struct cs_bverify_component **v = NULL;
	size_t n = 0;
	if (!rc && r.n && !(v = calloc(r.n, sizeof(*v))))
		rc = ut_fail(UT_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < r.n; i++)
		if (r.v[i].role != CS_BV_ROLE_RESOURCE)
			v[n++] = &r.v[i];
	if (!rc)
		qsort(v, n, sizeof(*v), by_rel);
	for (size_t i = 0; !rc && i < n; i++)
		rc = signature_one(ga, v[i]);
	free(v);
	cs_bverify_result_release(&r);
	return rc;
}

/* ---- install names ---- */

static int absolute_outside(const char *p) { return p && p[0] == '/' && !mo_path_is_system(p); }

static int names_of_slice(struct ut_gate_check *c, const struct ut_utmapp_comp *x, const struct mo_slice *s)
{
	char arch[32];
	ui_arch(s, arch);
	const struct mo_image *img = s->img;
	int rc = 0;
	if (img->has_id && absolute_outside(img->id.name))
		rc = ut_gate_fail(c, "%s: LC_ID_DYLIB '%s' is an absolute path outside the bundle: UTM names it "
				     "@rpath/%s.framework/Versions/A/%s",
				  arch, img->id.name, x->name, x->name);
	for (uint32_t i = 0; !rc && i < img->ndeps; i++) {
		const struct mo_dylib *d = &img->deps[i];
		if (absolute_outside(d->name))
			rc = ut_gate_fail(c, "%s: load command %u (%s) '%s' is an absolute path outside the bundle: dyld "
					     "looks for it on the Mac, where it is not (a build machine's sysroot)",
					  arch, d->lc_index, mo_lc_name(d->cmd), d->name);
	}
	for (uint32_t i = 0; !rc && i < img->nrpaths; i++)
		if (absolute_outside(img->rpaths[i].path))
			rc = ut_gate_fail(c, "%s: load command %u (LC_RPATH) '%s' is an absolute path outside the bundle",
					  arch, img->rpaths[i].lc_index, img->rpaths[i].path);
	return rc;
}

static int check_install_names(struct gate_app *ga, const struct ut_utmapp_comp *x)
{
	char *exec = ut_path_join(ga->a->path, x->exec_rel);
	struct ut_gate_check *c = exec ? ut_gate_add(ga->g, "app", "install-names", utm_comp_name(ga, x), exec) : NULL;
	if (!c) {
		free(exec);
		return UT_ENOMEM;
	}
	struct ut_src src;
	struct mo_file *f = NULL;
	int rc = mo_file_open(exec, &src, &f);
	if (rc == 0) {
		for (uint32_t i = 0; !rc && i < f->nslices; i++)
			if (f->slices[i].kind == MO_SLICE_MACHO64)
				rc = names_of_slice(c, x, &f->slices[i]);
		mo_file_close(&src, f);
	}
	if (rc && rc != UT_ENOMEM)
		rc = ut_gate_fail(c, "cannot read it: %s", ut_errmsg());
	free(exec);
	return rc;
}

/* ---- load check and entry points of the QEMU frameworks ---- */

static int is_qemu(const struct ut_utmapp_comp *x)
{
	return x->role == UT_ROLE_FRAMEWORK && strncmp(x->name, "qemu-", 5) == 0;
}

static int report_problems(struct ut_gate_check *c, const char *arch, const struct mo_load_report *r)
{
	int rc = 0;
	for (uint32_t i = 0; !rc && i < r->nproblems; i++) {
		const struct mo_problem *m = &r->problems[i];
		rc = ut_gate_fail(c, "%s: %s: %s%s%s%s%s", arch, m->image, mo_problem_kind_name(m->kind),
				  m->install_name ? " " : "", m->install_name ? m->install_name : "",
				  m->detail && m->detail[0] ? ": " : "", m->detail ? m->detail : "");
		if (!rc && m->nsymbols) {
			struct ut_buf b;
			ut_buf_init(&b, 0);
			for (uint32_t k = 0; !rc && k < m->nsymbols && k < MAX_SYMBOLS_SHOWN; k++)
				rc = ut_buf_printf(&b, "%s%s", k ? ", " : "", m->symbols[k]);
			if (!rc && m->nsymbols > MAX_SYMBOLS_SHOWN)
				rc = ut_buf_printf(&b, " (+%u more)", m->nsymbols - MAX_SYMBOLS_SHOWN);
			if (!rc && !(rc = ut_buf_cstr(&b)))
				rc = ut_gate_fail(c, "%s: %u symbol%s not exported by %s: %s", arch, m->nsymbols,
						  m->nsymbols == 1 ? "" : "s", m->path ? m->path : m->install_name,
						  (const char *)b.p);
			ut_buf_release(&b);
		}
	}
	return rc;
}

/* The load check of framework x for one slice of the launcher; entry points of that slice of x. */
static int load_slice(struct gate_app *ga, struct ut_gate_check *load, struct ut_gate_check *entry,
		      const struct ut_utmapp_comp *x, const struct mo_file *ff, const struct mo_slice *ls,
		      const char *ldir)
{
	char arch[32];
	ui_arch(ls, arch);
	const struct mo_slice *fs = mo_file_slice_for(ff, ls->cputype, ls->cpusubtype);
	if (!fs || fs->kind != MO_SLICE_MACHO64) {
		if (strcmp(arch, ga->a->host_arch) == 0) {
			int rc = ut_gate_fail(load, "%s: the framework has no %s slice: QEMULauncher cannot load it on "
						    "this Mac",
					      arch, arch);
			return rc ? rc : ut_gate_skip(entry, "no %s slice", arch);
		}
		return ut_gate_note(load, "%s: no %s slice: this QEMU does not run on %s Macs", arch, arch, arch);
	}
	struct mo_loader l;
	int rc = mo_loader_from_image(&l, ldir, ls->img, NULL);
	if (rc)
		return rc;
	struct mo_load_env env = { .root = ga->a->path, .cputype = ls->cputype, .cpusubtype = ls->cpusubtype };
	struct mo_load_report *r = NULL;
	rc = mo_load_check(&env, &l, NULL, x->exec_rel, MO_LOAD_CLOSURE, &r);
	if (rc == 0) {
		rc = report_problems(load, arch, r);
		if (!rc && load->status != UT_GATE_FAIL)
			rc = ut_gate_note(load, "%s: %u images, %u imports found in the bundle, %u left to macOS", arch,
					  r->nimages, r->nchecked, r->nunchecked);
	} else if (rc != UT_ENOMEM) {
		rc = ut_gate_fail(load, "%s: %s", arch, ut_errmsg());
	}
	mo_load_report_free(r);
	mo_loader_release(&l);
	if (rc)
		return rc;

	struct mo_exports *ex = NULL;
	if ((rc = mo_exports_parse(ff, fs, &ex)) != 0)
		return rc == UT_ENOMEM ? rc : ut_gate_fail(entry, "%s: cannot read the exports: %s", arch, ut_errmsg());
	const char *missing[3];
	size_t nmissing;
	const char *found = ut_utm_qemu_entry(ex, missing, &nmissing);
	char why[UT_UTM_ENTRY_WHY_MAX];
	if (found) {
		rc = ut_gate_note(entry, "%s: %s", arch, found);
	} else {
		ut_utm_qemu_entry_why(why, missing, nmissing);
		rc = ut_gate_fail(entry, "%s: %s", arch, why);
	}
	mo_exports_free(ex);
	return rc;
}

static int check_qemu(struct gate_app *ga, const struct ut_utmapp_comp *x, const struct mo_file *lf,
		      const char *ldir)
{
	char *exec = ut_path_join(ga->a->path, x->exec_rel);
	const char *name = utm_comp_name(ga, x);
	struct ut_gate_check *load = exec ? ut_gate_add(ga->g, "app", "load", name, exec) : NULL;
	struct ut_gate_check *entry = load ? ut_gate_add(ga->g, "app", "entry-points", name, exec) : NULL;
	if (!entry) {
		free(exec);
		return UT_ENOMEM;
	}
	load = &ga->g->v[ga->g->n - 2]; /* the vector may have moved */
	struct ut_src src;
	struct mo_file *ff = NULL;
	int rc = mo_file_open(exec, &src, &ff);
	if (rc == 0) {
		for (uint32_t i = 0; !rc && i < lf->nslices; i++)
			if (lf->slices[i].kind == MO_SLICE_MACHO64)
				rc = load_slice(ga, load, entry, x, ff, &lf->slices[i], ldir);
		mo_file_close(&src, ff);
	}
	if (rc && rc != UT_ENOMEM) {
		const char *why = ut_errmsg();
		if ((rc = ut_gate_fail(load, "cannot read it: %s", why)) == 0)
			rc = ut_gate_skip(entry, "cannot read it");
	}
	free(exec);
	return rc;
}

static int check_frameworks_load(struct gate_app *ga)
{
	const struct ut_utmapp *a = ga->a;
	if (a->launcher < 0)
		return 0;
	const struct ut_utmapp_comp *launcher = &a->v[a->launcher];
	char *lpath = ut_path_join(a->path, launcher->exec_rel);
	char *ldir = lpath ? ui_dirname(launcher->exec_rel) : NULL;
	struct ut_src src;
	struct mo_file *lf = NULL;
	int rc = !ldir ? UT_ENOMEM : mo_file_open(lpath, &src, &lf);
	if (rc && rc != UT_ENOMEM) {
		/* the launcher is unreadable: every QEMU framework's load check says so */
		char *why = ui_strdup(ut_errmsg());
		rc = why ? 0 : UT_ENOMEM;
		for (size_t i = a->first_framework; !rc && i < a->n; i++) {
			if (!is_qemu(&a->v[i]))
				continue;
			struct ut_gate_check *c = ut_gate_add(ga->g, "app", "load", utm_comp_name(ga, &a->v[i]), lpath);
			rc = c ? ut_gate_fail(c, "QEMULauncher cannot be read: %s", why) : UT_ENOMEM;
		}
		free(why);
		free(lpath);
		free(ldir);
		return rc;
	}
	for (size_t i = a->first_framework; !rc && i < a->n; i++)
		if (is_qemu(&a->v[i]))
			rc = check_qemu(ga, &a->v[i], lf, ldir);
	if (lf)
		mo_file_close(&src, lf);
	free(lpath);
	free(ldir);
	return rc;
}

/* ---- entitlements ---- */

static int check_entitlements_one(struct gate_app *ga, const struct ut_ents_comp *ec)
{
	const struct ut_utmapp_comp *x = &ga->a->v[ec->comp];
	char *exec = ut_path_join(ga->a->path, x->exec_rel);
	struct ut_gate_check *c = exec ? ut_gate_add(ga->g, "app", "entitlements", utm_comp_name(ga, x), exec) : NULL;
	free(exec);
	if (!c)
		return UT_ENOMEM;
	if (x->error)
		return ut_gate_fail(c, "cannot be read: %s", x->error);
	if (!x->sig.is_signed)
		return ut_gate_skip(c, "not signed (see the signature check)");
	int adhoc = x->sig.adhoc || x->sig.linker;
	int rc = 0;
	for (size_t k = 0; !rc && k < ec->nkeys; k++) {
		const struct ut_ents_key *e = &ec->keys[k];
		if (e->required_why && !e->now)
			rc = ut_gate_fail(c, "%s is missing: %s", e->key, e->required_why);
		else if (e->now && adhoc && (e->cls == UT_ENT_RESTRICTED || e->cls == UT_ENT_APPLE_ONLY))
			rc = ut_gate_fail(c, "%s is %s: an ad-hoc signature cannot carry it (macOS refuses to launch "
					     "the program); sign without it%s%s",
					  e->key, e->cls == UT_ENT_RESTRICTED ? "granted by Apple only (restricted)"
									    : "Apple-only",
					  e->loss ? ", and the user loses: " : "", e->loss ? e->loss : "");
	}
	if (!rc && ec->lv_refuses)
		rc = ut_gate_fail(c, "library validation is enforced (hardened runtime without "
				     "com.apple.security.cs.disable-library-validation) and it loads %s, signed without "
				     "its Team ID: dyld refuses it ('utmpatch entitlements --restore' re-signs it)",
				  ec->lv_framework ? ec->lv_framework : "a framework");
	if (!rc && c->status == UT_GATE_PASS) {
		size_t now = 0;
		for (size_t k = 0; k < ec->nkeys; k++)
			now += ec->keys[k].now;
		rc = ut_gate_note(c, "%zu entitlement%s, every one UTM requires here present; %s signature", now,
				  now == 1 ? "" : "s", adhoc ? "ad-hoc" : "certificate");
	}
	return rc;
}

static int check_entitlements(struct gate_app *ga)
{
	struct ut_ents_report er;
	int rc = ut_ents_report_build(&er, ga->a, ga->o->profiles);
	for (size_t i = 0; !rc && i < er.n; i++)
		rc = check_entitlements_one(ga, &er.v[i]);
	ut_ents_report_release(&er);
	return rc;
}

/* The component carries com.apple.vm.networking under a certificate signature (Apple granted it). */
static int has_vmnet(const struct ut_utmapp_comp *x)
{
	return x->sig.is_signed && !x->sig.adhoc && !x->sig.linker && x->sig.ents &&
	       ut_plist_dict_true(x->sig.ents, "com.apple.vm.networking");
}

int ut_gate_app(struct ut_gate *g, const struct ut_gate_app_opts *o)
{
	struct gate_app ga = { .g = g, .o = o };
	int rc = ut_utmapp_open_ex(&ga.a, o->app, o->profiles, o->host_arch ? o->host_arch : "arm64",
				   UT_UTMAPP_KEEP_BROKEN);
	if (rc)
		return rc;
	const char *slash = strrchr(ga.a->path, '/');
	ga.top = slash && slash[1] ? slash + 1 : ga.a->path;
	g->host_arch = ga.a->host_arch;
	if (!(g->app = ui_strdup(ga.a->path)))
		rc = UT_ENOMEM;
	if (!rc && ga.a->version)
		g->app_version = ga.a->build ? ui_printf("%s (%s)", ga.a->version, ga.a->build) : ui_strdup(ga.a->version);
	if (!rc && ga.a->version && !g->app_version)
		rc = UT_ENOMEM;
	if (!rc && ga.a->launcher >= 0 && has_vmnet(&ga.a->v[ga.a->launcher]))
		g->vmnet_by[UT_VM_BACKEND_QEMU] = "QEMULauncher.app";
	if (!rc && ga.a->app >= 0 && has_vmnet(&ga.a->v[ga.a->app]))
		g->vmnet_by[UT_VM_BACKEND_APPLE] = "UTM.app";
	if (!rc)
		rc = check_signatures(&ga);
	for (size_t i = 0; !rc && i < ga.a->n; i++)
		rc = check_install_names(&ga, &ga.a->v[i]);
	if (!rc)
		rc = check_frameworks_load(&ga);
	if (!rc)
		rc = check_entitlements(&ga);
	ut_utmapp_free(ga.a);
	return rc;
}
