/* cmd_env.c - what commands load before they run, and what install and entitlements --restore share (cmd_env.h). */
#include "cmd_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ut_buf.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_limits.h"
#include "ut_install.h"
#include "ut_state.h"

int cmd_env_load(struct cmd_env *e, const struct cmd_env_args *a)
{
	memset(e, 0, sizeof(*e));
	int rc = a->anchors ? cmd_verify_load_anchors(a->anchors, &e->trust) : 0;
	if (!rc && a->p12)
		rc = cs_identity_load_p12(&e->id, a->p12, a->password, &e->trust);
	if (!rc && a->want_state_dir)
		rc = cmd_default_state_dir(&e->state_dir);
	if (!rc)
		rc = ut_install_find_profiles(&e->profiles_dir,
					      a->profiles_dir ? a->profiles_dir : getenv("UTMPATCH_PROFILES"));
	if (!rc)
		rc = ut_profiles_load(&e->profiles, e->profiles_dir);
	return rc;
}

int cmd_env_load_install(struct cmd_env *e, struct ut_install_opts *o, const struct cmd_env_args *a)
{
	if (!o->app)
		o->app = CMD_DEFAULT_APP;
	o->check_processes = 1;
	o->tool_version = UTMPATCH_VERSION;
	o->fail_after = cmd_fail_after();
	const char *tmp = getenv("TMPDIR");
	o->work_dir = tmp && *tmp ? tmp : "/tmp";
	struct cmd_env_args ea = *a;
	ea.want_state_dir = !o->state_dir;
	int rc = cmd_env_load(e, &ea);
	if (a->anchors)
		o->trust = &e->trust;
	o->identity = e->id;
	if (!o->state_dir)
		o->state_dir = e->state_dir;
	return rc;
}

void cmd_install_print(const struct ut_install *in, enum ut_report_result res, int json, const char *what)
{
	struct ut_buf b;
	ut_buf_init(&b, 0);
	if (!json && !ut_report_install_text(&b, in, res))
		fwrite(b.p, 1, b.len, stdout);
	ut_buf_release(&b);
	if (res != UT_RESULT_REFUSED)
		return;
	ut_buf_init(&b, 0);
	if (!ut_report_problems_text(&b, in))
		fprintf(stderr, "utmpatch: %s refused (nothing was changed):\n%s", what, (const char *)b.p);
	ut_buf_release(&b);
}

void cmd_env_release(struct cmd_env *e)
{
	cs_identity_free(e->id);
	free((void *)e->trust.anchors);
	ut_profiles_free(e->profiles);
	free(e->state_dir);
	free(e->profiles_dir);
	memset(e, 0, sizeof(*e));
}

/* An anchors file into *trust (anchors malloc'd; free trust->anchors). */
int cmd_verify_load_anchors(const char *path, struct cs_trust *trust)
{
	memset(trust, 0, sizeof(*trust));
	uint8_t *text = NULL;
	size_t len = 0;
	int rc = ut_file_read(path, UT_MAX_PLIST_SIZE, &text, &len);
	if (rc)
		return rc;
	struct cs_root *roots = NULL;
	size_t n = 0;
	rc = cs_roots_parse(&roots, &n, (const char *)text, len, path);
	free(text);
	if (rc)
		return rc;
	trust->anchors = roots;
	trust->nanchors = n;
	return 0;
}

unsigned cmd_fail_after(void)
{
	const char *s = getenv("UTMPATCH_FAIL_AFTER");
	if (!s || !*s)
		return 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	return *end || v > 1000000 ? 0 : (unsigned)v;
}

int cmd_default_state_dir(char **out)
{
	const char *home = getenv("HOME");
	if (!home || !*home)
		return ut_fail(UT_EINVAL, "no HOME for the default state directory: give --state-dir");
	return ut_state_default_dir(home, getenv("XDG_STATE_HOME"), out);
}

int cmd_app_defaults(const char **app, const char **state_dir, char **owned)
{
	*owned = NULL;
	if (!*app)
		*app = CMD_DEFAULT_APP;
	if (*state_dir)
		return 0;
	int rc = cmd_default_state_dir(owned);
	*state_dir = *owned;
	return rc;
}

int cmd_vm_collect(struct ut_vm_list *l, const char *const *paths, int npaths)
{
	for (int i = 0; i < npaths; i++) {
		int rc = ut_vm_list_add_path(l, paths[i]);
		if (rc)
			return rc;
	}
	if (npaths)
		return 0;
	const char *home = getenv("HOME");
	if (!home || !*home)
		return ut_fail(UT_ENOTFOUND, "HOME is not set; name the VMs to check");
	return ut_vm_list_add_defaults(l, home);
}
