/*
 * test_profiles_plan.c - the entitlement plan for re-signing a UTM component.
 *
 * The strongest oracle is UTM's own: re-signing the launcher's release set ad
 * hoc for an ad-hoc QEMU framework must give exactly what UTM ships in
 * QEMULauncher-unsigned.entitlements (utm-domain 2.2), the set UTM's authors
 * made for that very case.  The other expectations are the reference's words
 * (2.3: vm.networking and vm.device-access need a profile, hypervisor does not).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "tsupport.h"
#include "ut_err.h"
#include "ut_profiles.h"
#include "utm_ents.h"

#define SEC "com.apple.security."
#define DLV SEC "cs.disable-library-validation"

static struct ut_profiles *profiles;

static void setup(void)
{
	cr_assert_eq(ut_profiles_load(&profiles, ts_root("profiles")), 0, "%s", ut_errmsg());
}

static void teardown(void)
{
	ut_profiles_free(profiles);
}

TestSuite(plan, .init = setup, .fini = teardown);

static const struct ut_component *comp(const char *id)
{
	const struct ut_component *c = ut_profiles_component_by_id(profiles, id);
	cr_assert_not_null(c, "%s", id);
	return c;
}

static struct ut_ent_plan plan_for(plist_t current, enum ut_sign_kind sign, plist_t granted, int need_dlv,
				   const struct ut_component *c)
{
	struct ut_ent_plan_in in = { current, sign, granted, need_dlv, c };
	struct ut_ent_plan plan;
	int rc = ut_ent_plan_compute(profiles, &in, &plan);
	cr_assert_eq(rc, 0, "plan: %s", ut_errmsg());
	cr_assert_eq(plan.nkept + plan.ndropped + plan.nadded, plan.nitems);
	return plan;
}

static const struct ut_ent_plan_item *item(const struct ut_ent_plan *plan, const char *key,
					   enum ut_plan_action action)
{
	const struct ut_ent_plan_item *it = ut_ent_plan_find(plan, key);
	cr_expect_not_null(it, "%s: not in the plan", key);
	if (it)
		cr_expect_eq(it->action, action, "%s: action %d, want %d", key, it->action, action);
	return it;
}

Test(plan, launcher_release_adhoc_gives_utms_unsigned_launcher)
{
	const struct ut_component *l = comp("com.utmapp.QEMULauncher");
	struct ut_ent_plan plan = plan_for(l->release_ents, UT_SIGN_ADHOC, NULL, 1, l);

	const struct ut_ent_plan_item *net = item(&plan, "com.apple.vm.networking", UT_PLAN_DROP);
	if (net) {
		cr_expect_eq(net->cls, UT_ENT_RESTRICTED);
		cr_expect(net->loss && strstr(net->loss, "cannot create vmnet interface"), "loss: %s",
			  net->loss ? net->loss : "(none)");
		cr_expect(strstr(net->why, "ad-hoc"), "why: %s", net->why);
	}
	const struct ut_ent_plan_item *dlv = item(&plan, DLV, UT_PLAN_ADD);
	if (dlv)
		cr_expect(strstr(dlv->why, "ad-hoc framework in a library-validating process"), "why: %s", dlv->why);
	item(&plan, SEC "hypervisor", UT_PLAN_KEEP);
	item(&plan, SEC "cs.allow-jit", UT_PLAN_KEEP);
	item(&plan, SEC "inherit", UT_PLAN_KEEP);
	item(&plan, SEC "app-sandbox", UT_PLAN_KEEP);
	cr_expect_eq(plan.ndropped, 1);
	cr_expect_eq(plan.nadded, 1);
	cr_expect_eq(plan.nkept, 4);
	cr_expect_eq(plan.nunknown, 0);
	utm_ents_expect(plan.result, utm_ents_find(utm_unsigned_sets, "QEMULauncher.app"), "plan result");
	ut_ent_plan_release(&plan);
}

Test(plan, app_release_adhoc_drops_vmnet_and_device_access)
{
	const struct ut_component *app = comp("com.utmapp.UTM");
	struct ut_ent_plan plan = plan_for(app->release_ents, UT_SIGN_ADHOC, NULL, 0, app);
	const struct ut_ent_plan_item *dev = item(&plan, "com.apple.vm.device-access", UT_PLAN_DROP);
	if (dev)
		cr_expect(dev->loss && strstr(dev->loss, "USB"), "loss: %s", dev->loss ? dev->loss : "(none)");
	item(&plan, "com.apple.vm.networking", UT_PLAN_DROP);
	cr_expect_eq(plan.ndropped, 2);
	cr_expect_eq(plan.nadded, 0);
	cr_expect_eq(plan.nkept, 8);
	/* The app group keeps its value, with the Team ID caveat. */
	const struct ut_ent_plan_item *grp = item(&plan, SEC "application-groups", UT_PLAN_KEEP);
	if (grp)
		cr_expect(grp->detail && strstr(grp->detail, "Team ID"), "application-groups: no caveat");
	plist_t v = plist_dict_get_item(plan.result, SEC "application-groups");
	cr_expect(v && ut_plist_equal(v, plist_dict_get_item(app->release_ents, SEC "application-groups")),
		  "application-groups value not kept");
	cr_expect_null(plist_dict_get_item(plan.result, "com.apple.vm.networking"));
	cr_expect_null(plist_dict_get_item(plan.result, "com.apple.vm.device-access"));
	cr_expect_eq(plist_dict_get_size(plan.result), 8);
	ut_ent_plan_release(&plan);
}

Test(plan, helper_and_utmctl_release_adhoc)
{
	const struct ut_component *h = comp("com.utmapp.QEMUHelper");
	struct ut_ent_plan plan = plan_for(h->release_ents, UT_SIGN_ADHOC, NULL, 0, h);
	item(&plan, "com.apple.vm.networking", UT_PLAN_DROP);
	cr_expect_eq(plan.ndropped, 1);
	cr_expect_eq(plan.nkept, 8);
	ut_ent_plan_release(&plan);

	const struct ut_component *ctl = comp("com.utmapp.utmctl");
	plan = plan_for(ctl->release_ents, UT_SIGN_ADHOC, NULL, 0, ctl);
	cr_expect_eq(plan.ndropped, 0, "utmctl has nothing restricted");
	cr_expect_eq(plan.nkept, 4);
	cr_expect(ut_plist_equal(plan.result, ctl->release_ents), "utmctl: result differs from its set");
	ut_ent_plan_release(&plan);
}

static plist_t profile_granting(const char *key)
{
	plist_t d = plist_new_dict();
	plist_dict_set_item(d, "com.apple.application-identifier", plist_new_string("WDNLXAD4W8.com.utmapp.QEMULauncher"));
	plist_dict_set_item(d, "com.apple.developer.team-identifier", plist_new_string("WDNLXAD4W8"));
	if (key)
		plist_dict_set_item(d, key, plist_new_bool(1));
	return d;
}

Test(plan, a_profile_granting_vmnet_keeps_it)
{
	const struct ut_component *l = comp("com.utmapp.QEMULauncher");
	plist_t granted = profile_granting("com.apple.vm.networking");
	struct ut_ent_plan plan = plan_for(l->release_ents, UT_SIGN_IDENTITY, granted, 1, l);
	const struct ut_ent_plan_item *net = item(&plan, "com.apple.vm.networking", UT_PLAN_KEEP);
	if (net)
		cr_expect(strstr(net->why, "granted by the provisioning profile"), "why: %s", net->why);
	item(&plan, DLV, UT_PLAN_ADD);
	cr_expect_eq(plan.ndropped, 0);
	cr_expect(ut_plist_dict_true(plan.result, "com.apple.vm.networking"));
	ut_ent_plan_release(&plan);
	plist_free(granted);
}

Test(plan, identity_without_the_grant_drops_restricted_keys)
{
	const struct ut_component *l = comp("com.utmapp.QEMULauncher");
	/* A profile that does not grant vmnet. */
	plist_t granted = profile_granting(NULL);
	struct ut_ent_plan plan = plan_for(l->release_ents, UT_SIGN_IDENTITY, granted, 0, l);
	const struct ut_ent_plan_item *net = item(&plan, "com.apple.vm.networking", UT_PLAN_DROP);
	if (net)
		cr_expect(strstr(net->why, "does not grant"), "why: %s", net->why);
	ut_ent_plan_release(&plan);
	/* A grant set to false is no grant. */
	plist_dict_set_item(granted, "com.apple.vm.networking", plist_new_bool(0));
	plan = plan_for(l->release_ents, UT_SIGN_IDENTITY, granted, 0, l);
	item(&plan, "com.apple.vm.networking", UT_PLAN_DROP);
	ut_ent_plan_release(&plan);
	plist_free(granted);
	/* No profile at all. */
	plan = plan_for(l->release_ents, UT_SIGN_IDENTITY, NULL, 0, l);
	net = item(&plan, "com.apple.vm.networking", UT_PLAN_DROP);
	if (net)
		cr_expect(strstr(net->why, "has none"), "why: %s", net->why);
	/* Without need_dlv nothing is added: the launcher's set has everything it requires. */
	cr_expect_eq(plan.nadded, 0);
	ut_ent_plan_release(&plan);
}

/*
 * Unknown keys are kept and counted: AMFI refuses a signature over keys from
 * the restricted namespaces (all listed in entitlements.plist as patterns),
 * not over arbitrary ones, so dropping an unknown key would silently take
 * away something that most likely still works.
 */
Test(plan, unknown_keys_are_kept_and_flagged)
{
	plist_t cur = plist_new_dict();
	plist_dict_set_item(cur, "com.example.custom", plist_new_string("value"));
	plist_dict_set_item(cur, "com.apple.private.hypervisor", plist_new_bool(1));
	plist_dict_set_item(cur, "com.apple.developer.networking.networkextension", plist_new_array());
	plist_dict_set_item(cur, SEC "personal-information.location", plist_new_bool(1));
	struct ut_ent_plan plan = plan_for(cur, UT_SIGN_ADHOC, NULL, 0, NULL);
	const struct ut_ent_plan_item *u = item(&plan, "com.example.custom", UT_PLAN_KEEP);
	if (u) {
		cr_expect_eq(u->cls, UT_ENT_UNKNOWN);
		cr_expect(strstr(u->why, "unknown"), "why: %s", u->why);
	}
	cr_expect_eq(plan.nunknown, 1);
	cr_expect_str_eq(ut_plist_dict_str(plan.result, "com.example.custom"), "value");
	const struct ut_ent_plan_item *priv = item(&plan, "com.apple.private.hypervisor", UT_PLAN_DROP);
	if (priv)
		cr_expect_eq(priv->cls, UT_ENT_APPLE_ONLY);
	item(&plan, "com.apple.developer.networking.networkextension", UT_PLAN_DROP);
	item(&plan, SEC "personal-information.location", UT_PLAN_KEEP);
	/* Items come in key order. */
	for (size_t i = 1; i < plan.nitems; i++)
		cr_expect_lt(strcmp(plan.items[i - 1].key, plan.items[i].key), 0, "order at %zu", i);
	ut_ent_plan_release(&plan);
	plist_free(cur);
}

Test(plan, missing_required_keys_are_added_with_the_reason)
{
	const struct ut_component *l = comp("com.utmapp.QEMULauncher");
	struct ut_ent_plan plan = plan_for(NULL, UT_SIGN_ADHOC, NULL, 0, l);
	cr_expect_eq(plan.nadded, 4);
	cr_expect_eq(plan.nitems, 4);
	const struct ut_ent_plan_item *hv = item(&plan, SEC "hypervisor", UT_PLAN_ADD);
	if (hv) {
		cr_expect(strstr(hv->why, "required"), "why: %s", hv->why);
		cr_expect(hv->detail && strstr(hv->detail, "hvf"), "detail: %s", hv->detail ? hv->detail : "(none)");
	}
	cr_expect(ut_plist_dict_true(plan.result, SEC "inherit"));
	ut_ent_plan_release(&plan);

	/* A required key present but false is set to true. */
	plist_t cur = plist_copy(l->release_ents);
	plist_dict_set_item(cur, SEC "cs.allow-jit", plist_new_bool(0));
	plan = plan_for(cur, UT_SIGN_ADHOC, NULL, 0, l);
	item(&plan, SEC "cs.allow-jit", UT_PLAN_ADD);
	cr_expect(ut_plist_dict_true(plan.result, SEC "cs.allow-jit"));
	ut_ent_plan_release(&plan);
	plist_free(cur);
}

Test(plan, disable_library_validation_already_there_is_kept)
{
	const struct ut_component *l = comp("com.utmapp.QEMULauncher");
	struct ut_ent_plan plan = plan_for(l->unsigned_ents, UT_SIGN_ADHOC, NULL, 1, l);
	item(&plan, DLV, UT_PLAN_KEEP);
	cr_expect_eq(plan.nadded, 0);
	cr_expect_eq(plan.ndropped, 0);
	cr_expect(ut_plist_equal(plan.result, l->unsigned_ents), "unsigned set changed");
	ut_ent_plan_release(&plan);
}

Test(plan, bad_inputs_are_refused)
{
	struct ut_ent_plan plan;
	plist_t arr = plist_new_array();
	struct ut_ent_plan_in in = { arr, UT_SIGN_ADHOC, NULL, 0, NULL };
	cr_expect_eq(ut_ent_plan_compute(profiles, &in, &plan), UT_EINVAL);
	cr_expect(strstr(ut_errmsg(), "not a dictionary"), "%s", ut_errmsg());
	cr_expect_null(plan.items);
	cr_expect_null(plan.result);
	in = (struct ut_ent_plan_in){ NULL, 0, NULL, 0, NULL };
	cr_expect_eq(ut_ent_plan_compute(profiles, &in, &plan), UT_EINVAL);
	in = (struct ut_ent_plan_in){ NULL, UT_SIGN_IDENTITY, arr, 0, NULL };
	cr_expect_eq(ut_ent_plan_compute(profiles, &in, &plan), UT_EINVAL);
	plist_free(arr);
	ut_ent_plan_release(NULL);
}
