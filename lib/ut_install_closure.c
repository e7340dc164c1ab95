/*
 * ut_install_closure.c - the signing closure (which components are signed,
 * inside-out, never --deep) and each executable's entitlement plan.
 *
 * Library validation (utm-domain §2.3): a process with hardened runtime (or
 * CS_REQUIRE_LV) and without cs.disable-library-validation loads only
 * frameworks signed by Apple or by its own team.  QEMULauncher is the only
 * process that loads a QEMU framework (§1.4); it is re-signed when it
 * enforces library validation and a framework it would load (the new one,
 * or a bundled dependency of it) has no Team ID or another team's.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_cms.h"
#include "cs_format.h"
#include "ut_file.h"
#include "ut_install_ents.h"
#include "ut_install_int.h"
#include "ut_limits.h"


const char *ui_new_team(const struct ut_install *in)
{
	const struct cs_identity *id = in->opts->identity;
	if (!id)
		return "";
	const struct cs_chain *c = cs_identity_chain(id);
	enum cs_signer_kind k = cs_chain_kind(c);
	if (k == CS_SIGNER_DEVELOPER_ID || k == CS_SIGNER_APPLE_DEVELOPMENT)
		return c->certs[0].ou;
	return "";
}

static void signer_text(const struct ut_install *in, char *out, size_t n)
{
	const struct cs_identity *id = in->opts->identity;
	if (!id) {
		snprintf(out, n, "ad hoc");
		return;
	}
	const char *team = ui_new_team(in);
	snprintf(out, n, "identity '%s'%s%s%s", cs_identity_chain(id)->certs[0].cn, team[0] ? " (team " : "", team,
		 team[0] ? ")" : "");
}

static int team_differs(const char *a, const char *b) { return !a[0] || !b[0] || strcmp(a, b) != 0; }

/*
 * A framework loaded into the process of component comp that library
 * validation refuses in a process of team `team`; the target framework
 * counts with the new signature's team, and the launcher also loads the
 * bundled dependencies of the new dylib.  *which gets its name.
 */
static int loads_conflict(const struct ut_install *in, size_t comp, const char *team, const char **which)
{
	const struct ut_utmapp *a = in->app;
	unsigned char *mask = calloc(a->n ? a->n : 1, 1);
	if (!mask)
		return 1; /* out of memory: assume the worst (adds the key) */
	int install = !in->restore && in->fw >= 0;
	ut_utmapp_loads(a, comp, install ? in->fw : -1, mask);
	for (size_t i = 0; install && (long)comp == a->launcher && i < in->ndeps; i++) {
		const struct ut_utmapp_comp *f =
			in->deps[i].kind == UT_DEP_BUNDLED ? ut_utmapp_framework(a, in->deps[i].name) : NULL;
		if (f && !mask[f - a->v]) {
			mask[f - a->v] = 1;
			ut_utmapp_loads(a, (size_t)(f - a->v), -1, mask);
		}
	}
	int hit = 0;
	for (size_t i = a->first_framework; !hit && i < a->n; i++) {
		if (!mask[i])
			continue;
		const char *t = install && (long)i == in->fw ? ui_new_team(in) : a->v[i].sig.team_id;
		if (team_differs(t, team)) {
			*which = a->v[i].name;
			hit = 1;
		}
	}
	free(mask);
	return hit;
}

/* Whether the new signature of comp needs cs.disable-library-validation. */
static int needs_dlv(const struct ut_install *in, size_t comp)
{
	const struct ut_utmapp_comp *x = &in->app->v[comp];
	int runtime = (x->sig.flags & (CS_RUNTIME | CS_REQUIRE_LV)) != 0 ||
		      (in->restore && x->prof && x->prof->hardened_runtime);
	const char *which = NULL;
	return runtime && loads_conflict(in, comp, ui_new_team(in), &which);
}

static struct ut_inst_comp *closure_add(struct ut_install *in, size_t comp, enum ut_inst_action act, const char *why)
{
	for (size_t i = 0; i < in->nclosure; i++)
		if (in->closure[i].comp == comp)
			return &in->closure[i];
	struct ut_inst_comp *c = ui_vec_push((void **)&in->closure, &in->nclosure, &in->cap_closure, sizeof(*c));
	if (!c)
		return NULL;
	c->comp = comp;
	c->action = act;
	c->why = why;
	snprintf(c->old_cdhash, sizeof(c->old_cdhash), "%s", in->app->v[comp].sig.cdhash);
	signer_text(in, c->signer, sizeof(c->signer));
	return c;
}

static unsigned depth_of(const struct ut_utmapp *a, size_t i)
{
	unsigned d = 0;
	for (long p = a->v[i].parent; p >= 0 && d < 64; p = a->v[p].parent)
		d++;
	return d;
}

/* Adds every enclosing bundle of the closure so far, deepest first (inside-out). */
static int add_ancestors(struct ut_install *in)
{
	size_t n0 = in->nclosure;
	size_t anc[64];
	size_t nanc = 0;
	for (size_t i = 0; i < n0; i++)
		for (long p = in->app->v[in->closure[i].comp].parent; p >= 0; p = in->app->v[p].parent) {
			int seen = 0;
			for (size_t k = 0; k < n0; k++)
				seen |= in->closure[k].comp == (size_t)p;
			for (size_t k = 0; k < nanc; k++)
				seen |= anc[k] == (size_t)p;
			if (!seen && nanc < 64)
				anc[nanc++] = (size_t)p;
		}
	for (size_t i = 1; i < nanc; i++)
		for (size_t k = i; k > 0 && depth_of(in->app, anc[k]) > depth_of(in->app, anc[k - 1]); k--) {
			size_t t = anc[k];
			anc[k] = anc[k - 1];
			anc[k - 1] = t;
		}
	for (size_t i = 0; i < nanc; i++)
		if (!closure_add(in, anc[i], UT_ACT_RESEAL, "nested code inside it changes: its seal records the new cdhash"))
			return UT_ENOMEM;
	return 0;
}

/* The pristine entitlements recorded by an earlier install, or NULL. */
static int recorded_ents(const struct ut_install *in, const char *exec_rel, plist_t *out)
{
	*out = NULL;
	char *key = ui_printf("%s%s", UT_META_PRISTINE_ENTS, exec_rel);
	if (!key)
		return UT_ENOMEM;
	const char *hex = in->state.state == UT_STATE_PRISTINE ? NULL : ut_state_report_meta(&in->state, key);
	free(key);
	if (!hex)
		return 0;
	uint8_t *xml = NULL;
	size_t len = 0;
	int rc = ui_hex_decode(hex, &xml, &len);
	if (!rc && len)
		rc = ut_plist_parse(xml, len, "recorded pristine entitlements", out, NULL);
	free(xml);
	return rc;
}

/* Profiles given with --profile, parsed. */
struct profiles {
	struct cs_profile v[UT_INSTALL_MAX_PROFILES];
	const char *path[UT_INSTALL_MAX_PROFILES];
	int used[UT_INSTALL_MAX_PROFILES];
	size_t n;
};

static int profiles_load(struct ut_install *in, struct profiles *ps)
{
	const struct ut_install_opts *o = in->opts;
	memset(ps, 0, sizeof(*ps));
	if (o->nprofiles && !o->identity)
		return ui_problem(in, UT_IP_SIGNING, NULL, o->profiles[0],
				  "a provisioning profile needs --identity (an ad-hoc signature has no team to match it)");
	for (size_t i = 0; i < o->nprofiles && i < UT_INSTALL_MAX_PROFILES; i++) {
		uint8_t *der = NULL;
		size_t len = 0;
		int rc = ut_file_read(o->profiles[i], UT_MAX_PLIST_SIZE, &der, &len);
		if (!rc)
			rc = cs_profile_parse(&ps->v[ps->n], der, len, o->trust);
		free(der);
		if (rc)
			return ut_ctx(rc, "'%s'", o->profiles[i]);
		ps->path[ps->n++] = o->profiles[i];
		const char *team = ps->v[ps->n - 1].team_id;
		if (!team || strcmp(team, ui_new_team(in)) != 0)
			rc = ui_problem(in, UT_IP_SIGNING, NULL, o->profiles[i],
					"the provisioning profile is for team %s, the identity's team is %s",
					team ? team : "(none)", ui_new_team(in)[0] ? ui_new_team(in) : "(none)");
		if (rc)
			return rc;
	}
	return 0;
}

static void profiles_release(struct profiles *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		cs_profile_release(&ps->v[i]);
}

/* The profile whose application-identifier names bundle_id (exact, then TEAM.*), or -1. */
static long profile_for(const struct profiles *ps, const char *bundle_id)
{
	for (int wild = 0; wild < 2 && bundle_id; wild++)
		for (size_t i = 0; i < ps->n; i++) {
			plist_t e = ps->v[i].entitlements;
			const char *aid = e ? ut_plist_dict_str(e, "com.apple.application-identifier") : NULL;
			if (!aid && e)
				aid = ut_plist_dict_str(e, "application-identifier");
			const char *dot = aid ? strchr(aid, '.') : NULL;
			if (dot && (wild ? strcmp(dot + 1, "*") == 0 : strcmp(dot + 1, bundle_id) == 0))
				return (long)i;
		}
	return -1;
}

/* base: the dict the plan starts from (taken); need_dlv, add_required as in ut_ent_plan_in. */
static int make_plan(struct ut_install *in, struct ut_inst_comp *c, plist_t base, const char *from, int need_dlv,
		     int add_required, struct profiles *ps)
{
	const struct ut_utmapp_comp *x = &in->app->v[c->comp];
	c->base = base;
	c->base_from = from;
	long pi = in->opts->identity ? profile_for(ps, x->bundle_id) : -1;
	if (pi >= 0) {
		ps->used[pi] = 1;
		if (!(c->profile = ui_strdup(ps->path[pi])))
			return UT_ENOMEM;
	}
	struct ut_ent_plan_in pin = {
		.current = base,
		.sign = in->opts->identity ? UT_SIGN_IDENTITY : UT_SIGN_ADHOC,
		.granted = pi >= 0 ? ps->v[pi].entitlements : NULL,
		.need_dlv = need_dlv,
		.component = add_required ? x->prof : NULL,
	};
	int rc = ut_ent_plan_compute(in->profiles, &pin, &c->plan);
	if (rc)
		return ut_ctx(rc, "entitlements of %s", x->name);
	c->has_plan = 1;
	return 0;
}

static int copy_dict(plist_t src, plist_t *out)
{
	*out = src ? plist_copy(src) : plist_new_dict();
	return *out ? 0 : ut_fail(UT_ENOMEM, "out of memory");
}

/* Plans for every executable in the closure but the ones already planned and the framework. */
static int plan_rest(struct ut_install *in, struct profiles *ps, int add_required)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < in->nclosure; i++) {
		struct ut_inst_comp *c = &in->closure[i];
		if (c->has_plan || c->action == UT_ACT_FRAMEWORK)
			continue;
		const struct ut_utmapp_comp *x = &in->app->v[c->comp];
		plist_t base = NULL;
		const char *from = "pristine record";
		if ((rc = recorded_ents(in, x->exec_rel, &base)) != 0)
			break;
		if (!base) {
			from = "current signature";
			if ((rc = copy_dict(x->sig.ents, &base)) != 0)
				break;
		}
		rc = make_plan(in, c, base, from, needs_dlv(in, c->comp), add_required, ps);
	}
	return rc;
}

static int warn_unused_profiles(struct ut_install *in, const struct profiles *ps)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < ps->n; i++)
		if (!ps->used[i])
			rc = ui_warn(in, "provisioning profile '%s' matches no component that is re-signed", ps->path[i]);
	return rc;
}

int ui_closure_install(struct ut_install *in)
{
	if (in->fw < 0)
		return 0;
	const struct ut_utmapp *a = in->app;
	const struct ut_utmapp_comp *launcher = &a->v[a->launcher];
	struct profiles ps;
	int rc = profiles_load(in, &ps);
	if (rc) {
		profiles_release(&ps);
		return rc;
	}
	if (!closure_add(in, (size_t)in->fw, UT_ACT_FRAMEWORK, "the new QEMU framework"))
		rc = UT_ENOMEM;
	const char *which = NULL;
	in->launcher_lv = ut_sig_library_validation(&launcher->sig);
	int conflict = in->launcher_lv && loads_conflict(in, (size_t)a->launcher, launcher->sig.team_id, &which);
	if (!rc && conflict && in->minimal) {
		rc = ui_warn(in, "--minimal: QEMULauncher enforces library validation (hardened runtime, team %s): dyld "
				 "will refuse %s.framework (\"not valid for use in process: mapping process and mapped "
				 "file (non-platform) have different Team IDs\"), so VMs using %s will not start",
			     launcher->sig.team_id[0] ? launcher->sig.team_id : "none", which, in->target);
	} else if (!rc && conflict &&
		   !closure_add(in, (size_t)a->launcher, UT_ACT_RESIGN,
				"it enforces library validation and would refuse the new framework")) {
		rc = UT_ENOMEM;
	}
	if (!rc && !in->minimal)
		rc = add_ancestors(in);
	/* The launcher's plan too: its new signature keeps hardened runtime, so library validation stays on
	   unless needs_dlv adds the key. */
	if (!rc)
		rc = plan_rest(in, &ps, 0);
	if (!rc && in->minimal && in->fw >= 0)
		rc = ui_warn(in, "--minimal: UTM.app's seal still records the old %s.framework: `codesign --verify --deep "
				 "--strict` fails on UTM.app and Gatekeeper may refuse to open it",
			     in->target);
	if (!rc)
		rc = warn_unused_profiles(in, &ps);
	profiles_release(&ps);
	return rc;
}

/* UTM's release set with the current entitlements on top. */
static int restore_base(const struct ut_utmapp_comp *x, plist_t *out)
{
	if (copy_dict(x->prof ? x->prof->release_ents : NULL, out))
		return UT_ENOMEM;
	if (!x->sig.ents)
		return 0;
	plist_dict_iter it = NULL;
	plist_dict_new_iter(x->sig.ents, &it);
	for (;;) {
		char *key = NULL;
		plist_t v = NULL;
		plist_dict_next_item(x->sig.ents, it, &key, &v);
		if (!key)
			break;
		plist_dict_set_item(*out, key, plist_copy(v));
		free(key);
	}
	free(it);
	return 0;
}

int ui_closure_restore(struct ut_install *in)
{
	const struct ut_utmapp *a = in->app;
	struct profiles ps;
	struct ut_ents_report er;
	int rc = profiles_load(in, &ps);
	if (!rc)
		rc = ut_ents_report_build(&er, a, in->profiles);
	else
		memset(&er, 0, sizeof(er));
	for (size_t i = 0; !rc && i < er.n; i++) {
		const struct ut_ents_comp *ec = &er.v[i];
		const struct ut_utmapp_comp *x = &a->v[ec->comp];
		if (!ec->needs_restore)
			continue;
		char keys[512] = "";
		for (size_t k = 0; k < ec->nkeys; k++)
			if ((ec->keys[k].required_why && !ec->keys[k].now) ||
			    (ec->lv_refuses && strcmp(ec->keys[k].key, UT_ENT_DISABLE_LV) == 0))
				snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%s%s", keys[0] ? ", " : "",
					 ec->keys[k].key);
		rc = ui_warn(in, "%s lacks entitlements UTM needs: %s", x->name, keys);
		struct ut_inst_comp *c = closure_add(in, ec->comp, UT_ACT_RESIGN, "it lacks entitlements UTM needs");
		plist_t base = NULL;
		const char *from = "pristine record";
		if (!rc && !c)
			rc = UT_ENOMEM;
		if (!rc && (rc = recorded_ents(in, x->exec_rel, &base)) == 0 && !base) {
			from = "UTM's release set + current";
			rc = restore_base(x, &base);
		}
		if (!rc)
			rc = make_plan(in, c, base, from, needs_dlv(in, ec->comp), 1, &ps);
	}
	ut_ents_report_release(&er);
	if (!rc)
		rc = add_ancestors(in);
	/* Inside-out: deeper components first (a stable insertion sort; the closure is small). */
	for (size_t i = 1; !rc && i < in->nclosure; i++)
		for (size_t k = i; k > 0 && depth_of(a, in->closure[k].comp) > depth_of(a, in->closure[k - 1].comp); k--) {
			struct ut_inst_comp t = in->closure[k];
			in->closure[k] = in->closure[k - 1];
			in->closure[k - 1] = t;
		}
	if (!rc)
		rc = plan_rest(in, &ps, 0);
	if (!rc)
		rc = warn_unused_profiles(in, &ps);
	profiles_release(&ps);
	return rc;
}
