/* ut_install.c - install and restore plans: the bundle, its state, problems, staging; names. */
#define _XOPEN_SOURCE 700
#include "ut_install.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ut_bytes.h"
#include "ut_install_int.h"

#define STAGE_PREFIX "utmpatch-stage-"

const char *ut_inst_problem_kind_name(enum ut_inst_problem_kind k)
{
	switch (k) {
	case UT_IP_STATE: return "bundle state";
	case UT_IP_RUNNING: return "running";
	case UT_IP_TARGET: return "target";
	case UT_IP_NOT_DYLIB: return "not a dylib";
	case UT_IP_UNSHIPPED: return "dependency UTM does not ship";
	case UT_IP_PADDING: return "header padding";
	case UT_IP_ARCH: return "architecture";
	case UT_IP_LOAD: return "load check";
	case UT_IP_ENTRY: return "entry points";
	case UT_IP_SIGNING: return "signing";
	case UT_IP_PERMISSION: return "permission";
	}
	return "problem";
}

const char *ut_inst_action_name(enum ut_inst_action a)
{
	switch (a) {
	case UT_ACT_FRAMEWORK: return "framework";
	case UT_ACT_RESIGN: return "re-sign";
	case UT_ACT_RESEAL: return "reseal";
	}
	return "?";
}

int ui_problem(struct ut_install *in, enum ut_inst_problem_kind kind, const char *arch, const char *subject,
	       const char *fmt, ...)
{
	struct ut_inst_problem *p = ui_vec_push((void **)&in->problems, &in->nproblems, &in->cap_problems, sizeof(*p));
	if (!p)
		return UT_ENOMEM;
	p->kind = kind;
	va_list ap;
	va_start(ap, fmt);
	p->detail = ui_vprintf(fmt, ap);
	va_end(ap);
	if (!p->detail)
		return UT_ENOMEM;
	if ((arch && !(p->arch = ui_strdup(arch))) || (subject && !(p->subject = ui_strdup(subject))))
		return UT_ENOMEM;
	return 0;
}

struct ut_inst_problem *ui_last_problem(struct ut_install *in)
{
	return in->nproblems ? &in->problems[in->nproblems - 1] : NULL;
}

int ui_warn(struct ut_install *in, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = ui_vprintf(fmt, ap);
	va_end(ap);
	if (!s)
		return UT_ENOMEM;
	for (size_t i = 0; i < in->nwarnings; i++)
		if (strcmp(in->warnings[i], s) == 0) {
			free(s);
			return 0;
		}
	char **slot = ui_vec_push((void **)&in->warnings, &in->nwarnings, &in->cap_warnings, sizeof(char *));
	if (!slot) {
		free(s);
		return UT_ENOMEM;
	}
	*slot = s;
	return 0;
}

char *ui_stage_path(struct ut_install *in, const char *what, const char *rel)
{
	char *p = ui_printf("%s/%s/%s", in->stage, what, rel);
	if (!p)
		return NULL;
	char *slash = strrchr(p, '/');
	*slash = '\0';
	int rc = ui_mkdirs(p, 0700);
	*slash = '/';
	if (rc) {
		free(p);
		return NULL;
	}
	return p;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw);

/* Staging directories of runs that were killed: "utmpatch-stage-<pid>-XXXXXX" whose pid is gone. */
static void sweep_stale(const char *base)
{
	DIR *d = opendir(base);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, STAGE_PREFIX, strlen(STAGE_PREFIX)) != 0)
			continue;
		char *end;
		long pid = strtol(de->d_name + strlen(STAGE_PREFIX), &end, 10);
		if (pid <= 0 || *end != '-' || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char *p = ut_path_join(base, de->d_name);
		if (p)
			nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(p);
	}
	closedir(d);
}

static int make_stage(struct ut_install *in)
{
	const struct ut_install_opts *o = in->opts;
	const char *base = o->work_dir ? o->work_dir : o->state_dir;
	int rc = ui_mkdirs(base, 0700);
	if (!rc)
		sweep_stale(base);
	char *tmpl = rc ? NULL : ui_printf("%s/" STAGE_PREFIX "%ld-XXXXXX", base, (long)getpid());
	if (!rc && !tmpl)
		rc = UT_ENOMEM;
	if (!rc && !mkdtemp(tmpl))
		rc = ut_fail_errno(UT_EIO, errno, "cannot create a staging directory in '%s'", base);
	if (rc)
		free(tmpl);
	else
		in->stage = tmpl;
	return rc;
}

static int state_problems(struct ut_install *in)
{
	const struct ut_state_report *s = &in->state;
	if (s->locked_by)
		return ui_problem(in, UT_IP_STATE, NULL, in->app->path, "another utmpatch (pid %ld) is working on '%s'",
				  s->locked_by, in->app->path);
	if (s->state == UT_STATE_INTERRUPTED)
		return ui_problem(in, UT_IP_STATE, NULL, in->app->path,
				  "an earlier utmpatch run on this bundle did not finish (%s%s): run 'utmpatch rollback'",
				  s->intr.what ? s->intr.what : "journal present", s->intr.rolling_back ? ", rolling back" : "");
	if (s->state == UT_STATE_DRIFTED && !in->force)
		return ui_problem(in, UT_IP_STATE, NULL, in->app->path,
				  "the bundle changed since utmpatch last wrote it (%zu path%s, e.g. '%s' %s): "
				  "'utmpatch rollback --force' restores it, --force keeps the changes as the new "
				  "pristine state",
				  s->ndrift, s->ndrift == 1 ? "" : "s", s->ndrift ? s->drift[0].path : "?",
				  s->ndrift ? s->drift[0].what : "");
	return 0;
}

/* A QEMULauncher of the bundle at app (as the profile places it) that is running. */
static int running_problems(struct ut_install *in, const char *app)
{
	const struct ut_component *l = ut_profiles_qemu_loader(in->profiles);
	if (!l || !l->executable)
		return 0;
	char *path = ut_path_join(app, l->executable);
	long pids[8];
	size_t n = 0;
	int rc = path ? ui_running(path, pids, 8, &n) : UT_ENOMEM;
	if (!rc && n)
		rc = ui_problem(in, UT_IP_RUNNING, NULL, l->executable,
				"QEMULauncher of this bundle is running (pid %ld%s): shut down its VMs and quit UTM first",
				pids[0], n > 1 ? " and others" : "");
	free(path);
	return rc;
}

void ui_step(const struct ut_install *in, const char *step, uint64_t done, uint64_t total)
{
	if (in->opts->progress)
		in->opts->progress(in->opts->progress_ctx, step, done, total);
}

int ui_new(struct ut_install **out, const struct ut_install_opts *o, const struct ut_profiles *p, int restore)
{
	*out = NULL;
	if (!o->app || !o->state_dir || (!restore && !o->dylib))
		return ut_fail(UT_EINVAL, "install: app, state directory%s are required", restore ? "" : " and dylib");
	struct ut_install *in = calloc(1, sizeof(*in));
	if (!in)
		return ut_fail(UT_ENOMEM, "out of memory");
	*out = in;
	in->opts = o;
	in->profiles = p;
	in->fw = -1;
	in->restore = restore;
	in->minimal = o->minimal;
	in->dry_run = o->dry_run;
	in->force = o->force;
	double t0 = ui_now();
	if (o->dylib && !(in->dylib = ui_strdup(o->dylib)))
		return UT_ENOMEM;
	const char *host = o->host_arch ? o->host_arch : o->need_arch ? o->need_arch : "arm64";
	/* First: nothing is read from a bundle whose QEMU is running. */
	int rc = o->check_processes ? running_problems(in, o->app) : 0;
	if (!rc && in->nproblems)
		return ut_fail(UT_EREFUSED, "refused: the bundle is in use");
	ui_step(in, "reading UTM.app", 0, 0);
	if (!rc)
		rc = ut_utmapp_open(&in->app, o->app, p, host);
	if (!rc)
		rc = ut_state_inspect(&in->state, o->state_dir, in->app->path);
	if (!rc)
		rc = state_problems(in);
	if (!rc)
		rc = make_stage(in);
	in->times.check += ui_now() - t0;
	return rc;
}

static int finish(struct ut_install *in, int rc, double t0)
{
	in->times.total = ui_now() - t0;
	ui_step(in, NULL, 0, 0);
	if (!rc && in->nproblems)
		rc = ut_fail(UT_EREFUSED, "refused: %zu problem%s", in->nproblems, in->nproblems == 1 ? "" : "s");
	return rc;
}

int ut_install_plan(struct ut_install **out, const struct ut_install_opts *o, const struct ut_profiles *p)
{
	double t0 = ui_now();
	int rc = ui_new(out, o, p, 0);
	struct ut_install *in = *out;
	if (in)
		ui_step(in, "checking the dylib", 0, 0);
	if (!rc)
		rc = ui_plan_dylib(in);
	if (!rc)
		rc = ui_closure_install(in);
	if (!rc && !in->nproblems) {
		ui_step(in, "signing (staged)", 0, 0);
		rc = ui_stage_sign(in);
	}
	return in ? finish(in, rc, t0) : rc;
}

int ut_restore_plan(struct ut_install **out, const struct ut_install_opts *o, const struct ut_profiles *p)
{
	double t0 = ui_now();
	int rc = ui_new(out, o, p, 1);
	struct ut_install *in = *out;
	if (!rc)
		rc = ui_closure_restore(in);
	if (!rc && !in->nproblems && in->nclosure) {
		ui_step(in, "signing (staged)", 0, 0);
		rc = ui_stage_sign(in);
	}
	return in ? finish(in, rc, t0) : rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void ut_install_free(struct ut_install *in)
{
	if (!in)
		return;
	if (in->stage)
		nftw(in->stage, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(in->stage);
	ui_priv_free(in);
	free(in->dylib);
	ut_utmapp_free(in->app);
	ut_state_report_release(&in->state);
	free(in->target);
	free(in->pristine_id);
	free(in->dylib_id);
	for (size_t i = 0; i < in->ndeps; i++) {
		struct ut_inst_dep *d = &in->deps[i];
		free(d->install_name);
		free(d->name);
		free(d->new_name);
		free(d->sysroot_file);
		free(d->sysroot_id);
	}
	free(in->deps);
	for (size_t i = 0; i < in->nrewrites; i++) {
		free(in->rewrites[i].old_name);
		free(in->rewrites[i].new_name);
	}
	free(in->rewrites);
	free(in->slices);
	for (size_t i = 0; i < in->nclosure; i++) {
		struct ut_inst_comp *c = &in->closure[i];
		if (c->has_plan)
			ut_ent_plan_release(&c->plan);
		if (c->base)
			plist_free(c->base);
		free(c->profile);
		free(c->requirement);
	}
	free(in->closure);
	for (size_t i = 0; i < in->nfiles; i++) {
		free(in->files[i].rel);
		free(in->files[i].staged);
	}
	free(in->files);
	for (size_t i = 0; i < in->nproblems; i++) {
		struct ut_inst_problem *p = &in->problems[i];
		free(p->arch);
		free(p->subject);
		free(p->detail);
		for (size_t k = 0; k < p->nsymbols; k++)
			free(p->symbols[k]);
		free(p->symbols);
	}
	free(in->problems);
	for (size_t i = 0; i < in->nwarnings; i++)
		free(in->warnings[i]);
	free(in->warnings);
	for (size_t i = 0; i < in->nverify_failures; i++)
		free(in->verify_failures[i]);
	free(in->verify_failures);
	free(in->txn_id);
	free(in);
}

int ut_install_cdhash_of(void *ctx, const char *path, char hex[41])
{
	struct ut_sig_info s;
	int rc = ut_sig_info_read(&s, path, (const char *)ctx);
	if (rc)
		return rc;
	if (!s.is_signed)
		rc = ut_fail(UT_EVERIFY, "'%s': not signed (no cdhash)", path);
	else
		memcpy(hex, s.cdhash, 41);
	ut_sig_info_release(&s);
	return rc;
}

char *ui_hex_encode(const uint8_t *p, size_t len)
{
	char *s = len > ((size_t)-1) / 2 - 1 ? NULL : malloc(2 * len + 1);
	if (!s) {
		ut_fail(UT_ENOMEM, "out of memory");
		return NULL;
	}
	ut_hex(s, p, len);
	return s;
}

int ui_hex_decode(const char *hex, uint8_t **out, size_t *len)
{
	size_t n = strlen(hex);
	*out = NULL;
	*len = 0;
	if (n % 2)
		return ut_fail(UT_EMALFORMED, "odd number of hex digits");
	uint8_t *b = malloc(n / 2 + 1);
	if (!b)
		return ut_fail(UT_ENOMEM, "out of memory");
	if (ut_unhex(b, hex, n / 2)) {
		size_t i = 0;
		while (ut_hexval((unsigned char)hex[i]) >= 0)
			i++;
		free(b);
		return ut_fail(UT_EMALFORMED, "not a hex digit at %zu", i);
	}
	*out = b;
	*len = n / 2;
	return 0;
}
