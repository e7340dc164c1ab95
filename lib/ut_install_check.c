/*
 * ut_install_check.c - what dyld and QEMULauncher would say about the new
 * framework: the load check of the staged binary as QEMULauncher loads it
 * (mo_load_check), and UTM's entry points (utm-domain §1.4).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "mo_resolve.h"
#include "mo_symbols.h"
#include "ut_file.h"
#include "ut_install_int.h"

/* QEMULauncher's Bootstrap.c loadQemu(): main, or swtpm_main, or all three qemu_* (Mach-O names). */
static const char *const QEMU_ENTRY[] = { "_qemu_init", "_qemu_main_loop", "_qemu_cleanup" };

static int copy_symbols(struct ut_inst_problem *pb, char *const *syms, size_t n)
{
	if (!n)
		return 0;
	if (!(pb->symbols = calloc(n, sizeof(char *))))
		return ut_fail(UT_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (!(pb->symbols[i] = ui_strdup(syms[i])))
			return UT_ENOMEM;
		pb->nsymbols++;
	}
	return 0;
}

/* An unresolved dependency already reported as one UTM does not ship. */
static int reported_unshipped(const struct ut_install *in, const char *arch, const char *install_name)
{
	for (size_t i = 0; i < in->ndeps; i++) {
		const struct ut_inst_dep *d = &in->deps[i];
		if (d->kind == UT_DEP_UNSHIPPED && strcmp(d->arch, arch) == 0 && strcmp(d->install_name, install_name) == 0)
			return 1;
	}
	return 0;
}

static int add_load_problems(struct ut_install *in, const char *arch, const struct mo_load_report *r)
{
	int rc = 0;
	for (uint32_t i = 0; !rc && i < r->nproblems; i++) {
		const struct mo_problem *m = &r->problems[i];
		if (m->kind == MO_PROBLEM_UNRESOLVED && m->install_name && reported_unshipped(in, arch, m->install_name))
			continue;
		const char *subject = m->install_name ? m->install_name : m->image;
		rc = ui_problem(in, UT_IP_LOAD, arch, subject, "%s%s%s", mo_problem_kind_name(m->kind),
				m->detail && m->detail[0] ? ": " : "", m->detail ? m->detail : "");
		if (!rc && m->nsymbols)
			rc = copy_symbols(ui_last_problem(in), m->symbols, m->nsymbols);
	}
	return rc;
}

int ui_load_check(struct ut_install *in, const struct mo_file *dy)
{
	const struct ut_utmapp_comp *launcher = &in->app->v[in->app->launcher];
	const struct ut_utmapp_comp *fw = &in->app->v[in->fw];
	char *lpath = ut_path_join(in->app->path, launcher->exec_rel);
	char *ldir = ui_dirname(launcher->exec_rel);
	struct ut_src src;
	struct mo_file *lf = NULL;
	int rc = !lpath || !ldir ? UT_ENOMEM : mo_file_open(lpath, &src, &lf);
	for (uint32_t i = 0; !rc && i < dy->nslices; i++) {
		const struct mo_slice *ds = &dy->slices[i];
		char arch[32];
		ui_arch(ds, arch);
		const struct mo_slice *ls = mo_file_slice_for(lf, ds->cputype, ds->cpusubtype);
		if (!ls || ls->kind != MO_SLICE_MACHO64) {
			rc = ui_warn(in, "%s: QEMULauncher has no %s slice: this slice of the dylib is never loaded", arch,
				     arch);
			continue;
		}
		struct mo_loader l;
		if ((rc = mo_loader_from_image(&l, ldir, ls->img, NULL)) != 0)
			break;
		struct mo_load_env env = { .root = in->app->path, .cputype = ds->cputype, .cpusubtype = ds->cpusubtype };
		struct mo_load_report *r = NULL;
		rc = mo_load_check(&env, &l, ui_staged_binary(in), fw->exec_rel, 0, &r);
		if (!rc) {
			in->nimages += r->nimages;
			in->nchecked += r->nchecked;
			in->nunchecked += r->nunchecked;
			rc = add_load_problems(in, arch, r);
		} else {
			rc = ut_ctx(rc, "load check (%s)", arch);
		}
		mo_load_report_free(r);
		mo_loader_release(&l);
	}
	if (lf)
		mo_file_close(&src, lf);
	free(lpath);
	free(ldir);
	return rc;
}

const char *ut_utm_qemu_entry(const struct mo_exports *ex, const char *missing[3], size_t *nmissing)
{
	*nmissing = 0;
	for (size_t k = 0; k < 3; k++)
		if (!mo_exports_find(ex, QEMU_ENTRY[k]))
			missing[(*nmissing)++] = QEMU_ENTRY[k] + 1;
	if (*nmissing == 0)
		return "qemu_init, qemu_main_loop, qemu_cleanup";
	if (mo_exports_find(ex, "_main"))
		return "main";
	if (mo_exports_find(ex, "_swtpm_main"))
		return "swtpm_main";
	return NULL;
}

void ut_utm_qemu_entry_why(char out[UT_UTM_ENTRY_WHY_MAX], const char *const missing[3], size_t nmissing)
{
	snprintf(out, UT_UTM_ENTRY_WHY_MAX,
		 "QEMULauncher finds none of its entry points: it needs main, swtpm_main, or all of qemu_init, "
		 "qemu_main_loop and qemu_cleanup (missing: %s%s%s%s%s)",
		 missing[0], nmissing > 1 ? ", " : "", nmissing > 1 ? missing[1] : "", nmissing > 2 ? ", " : "",
		 nmissing > 2 ? missing[2] : "");
}

int ui_entry_points(struct ut_install *in, const struct mo_file *dy)
{
	int rc = 0;
	for (uint32_t i = 0; !rc && i < dy->nslices; i++) {
		const struct mo_slice *s = &dy->slices[i];
		char arch[32];
		ui_arch(s, arch);
		struct mo_exports *ex = NULL;
		if ((rc = mo_exports_parse(dy, s, &ex)) != 0)
			return ut_ctx(rc, "'%s'", in->dylib);
		const char *missing[3];
		size_t nmissing = 0;
		const char *found = ut_utm_qemu_entry(ex, missing, &nmissing);
		if (found) {
			snprintf(in->entry, sizeof(in->entry), "%s", found);
		} else {
			char why[UT_UTM_ENTRY_WHY_MAX];
			ut_utm_qemu_entry_why(why, missing, nmissing);
			rc = ui_problem(in, UT_IP_ENTRY, arch, in->dylib, "UTM's %s", why);
			if (!rc)
				rc = copy_symbols(ui_last_problem(in), (char *const *)missing, nmissing);
		}
		mo_exports_free(ex);
	}
	return rc;
}
