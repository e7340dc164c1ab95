/*
 * test_profiles.c - the two profiles files load, and say what the reference says:
 * classes of entitlement keys (utm-domain 2.3, 4), UTM's components with
 * their paths, ids, rpaths and entitlement sets (utm-domain 1, 2.2), looked
 * up by path and by bundle id.  Expected values are written here from the
 * reference, not read back from the data files.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsupport.h"
#include "ut_err.h"
#include "ut_profiles.h"
#include "utm_ents.h"

static struct ut_profiles *load(void)
{
	struct ut_profiles *p = NULL;
	int rc = ut_profiles_load(&p, ts_root("profiles"));
	cr_assert_eq(rc, 0, "profiles: %s", ut_errmsg());
	cr_assert_not_null(p);
	return p;
}

#define SEC "com.apple.security."

static const struct {
	const char *key;
	enum ut_ent_class cls;
} CLASSES[] = {
	/* utm-domain 2.3: vmnet is restricted; hypervisor is not, an ad-hoc signature may carry it. */
	{ "com.apple.vm.networking", UT_ENT_RESTRICTED },
	{ "com.apple.vm.device-access", UT_ENT_RESTRICTED },
	{ SEC "hypervisor", UT_ENT_ADHOC_OK },
	/* UTM's *-unsigned files (ad-hoc signed by package_mac.sh) carry all of these. */
	{ SEC "virtualization", UT_ENT_ADHOC_OK },
	{ SEC "cs.allow-jit", UT_ENT_ADHOC_OK },
	{ SEC "cs.disable-library-validation", UT_ENT_ADHOC_OK },
	{ SEC "app-sandbox", UT_ENT_ADHOC_OK },
	{ SEC "inherit", UT_ENT_ADHOC_OK },
	{ SEC "network.client", UT_ENT_ADHOC_OK },
	{ SEC "network.server", UT_ENT_ADHOC_OK },
	{ SEC "files.user-selected.read-write", UT_ENT_ADHOC_OK },
	{ SEC "files.bookmarks.app-scope", UT_ENT_ADHOC_OK },
	{ SEC "device.audio-input", UT_ENT_ADHOC_OK },
	{ SEC "device.usb", UT_ENT_ADHOC_OK },
	{ SEC "temporary-exception.sbpl", UT_ENT_ADHOC_OK },
	{ SEC "scripting-targets", UT_ENT_ADHOC_OK },
	{ SEC "application-groups", UT_ENT_ADHOC_OK },
	{ SEC "get-task-allow", UT_ENT_ADHOC_OK },
	/* Through patterns. */
	{ SEC "network.something-new", UT_ENT_ADHOC_OK },
	{ SEC "cs.allow-unsigned-executable-memory", UT_ENT_ADHOC_OK },
	{ SEC "personal-information.location", UT_ENT_ADHOC_OK },
	{ "com.apple.developer.networking.networkextension", UT_ENT_RESTRICTED },
	{ "com.apple.developer.team-identifier", UT_ENT_RESTRICTED },
	{ "com.apple.application-identifier", UT_ENT_RESTRICTED },
	{ "keychain-access-groups", UT_ENT_RESTRICTED },
	{ "com.apple.vm.something-new", UT_ENT_RESTRICTED },
	{ "com.apple.private.hypervisor", UT_ENT_APPLE_ONLY },
	/* Not known: a pattern needs something after its prefix. */
	{ "com.example.custom", UT_ENT_UNKNOWN },
	{ "com.apple.developer.", UT_ENT_UNKNOWN },
	{ "com.apple.security", UT_ENT_UNKNOWN },
	{ "", UT_ENT_UNKNOWN },
};

Test(profiles, keys_are_classified_as_the_reference_says)
{
	struct ut_profiles *p = load();
	for (size_t i = 0; i < sizeof(CLASSES) / sizeof(CLASSES[0]); i++) {
		const struct ut_ent_info *info = NULL;
		enum ut_ent_class c = ut_profiles_classify(p, CLASSES[i].key, &info);
		cr_expect_eq(c, CLASSES[i].cls, "'%s': %s, want %s", CLASSES[i].key, ut_ent_class_name(c),
			     ut_ent_class_name(CLASSES[i].cls));
		cr_expect_eq(info == NULL, CLASSES[i].cls == UT_ENT_UNKNOWN, "'%s': info", CLASSES[i].key);
		if (info && info->cls != UT_ENT_ADHOC_OK)
			cr_expect(info->loss && info->loss[0], "'%s': restricted without a loss text", CLASSES[i].key);
	}
	ut_profiles_free(p);
}

Test(profiles, exact_entry_beats_pattern_and_longest_pattern_wins)
{
	struct ut_profiles *p = load();
	const struct ut_ent_info *info = NULL;
	ut_profiles_classify(p, SEC "cs.allow-jit", &info);
	cr_assert_not_null(info);
	cr_expect_str_eq(info->key, SEC "cs.allow-jit");
	cr_expect_eq(info->is_pattern, 0);
	ut_profiles_classify(p, SEC "cs.debugger", &info);
	cr_assert_not_null(info);
	cr_expect_str_eq(info->key, SEC "cs.*", "longest pattern: got '%s'", info->key);
	ut_profiles_classify(p, SEC "print", &info);
	cr_assert_not_null(info);
	cr_expect_str_eq(info->key, SEC "*");
	ut_profiles_free(p);
}

/* The loss texts say what a user sees (utm-domain 3.4 and 4: issues #4139, #4324). */
Test(profiles, loss_texts_speak_the_users_language)
{
	struct ut_profiles *p = load();
	const struct ut_ent_info *info = NULL;
	ut_profiles_classify(p, "com.apple.vm.networking", &info);
	cr_assert_not_null(info);
	cr_expect(strstr(info->loss, "Shared, Bridged and Host networking"), "%s", info->loss);
	cr_expect(strstr(info->loss, "cannot create vmnet interface"), "%s", info->loss);
	cr_expect(strstr(info->loss, "Emulated VLAN"), "%s", info->loss);
	ut_profiles_classify(p, "com.apple.vm.device-access", &info);
	cr_assert_not_null(info);
	cr_expect(strstr(info->loss, "USB"), "%s", info->loss);
	ut_profiles_classify(p, SEC "hypervisor", &info);
	cr_assert_not_null(info);
	cr_expect(strstr(info->loss, "HV_DENIED"), "%s", info->loss);
	ut_profiles_classify(p, SEC "cs.disable-library-validation", &info);
	cr_assert_not_null(info);
	cr_expect(strstr(info->loss, "no Team ID"), "%s", info->loss);
	ut_profiles_classify(p, SEC "application-groups", &info);
	cr_assert_not_null(info);
	cr_expect(info->caveat && strstr(info->caveat, "Team ID"), "application-groups: the team-prefix caveat");
	ut_profiles_free(p);
}

struct comp_want {
	const char *name, *bundle, *executable, *id;
	int sign_order, profile, loads_qemu;
	const char *rpath;
};

/* utm-domain 1.1-1.4 and 2.3 (inside-out signing, profiles for app, helper, launcher). */
static const struct comp_want COMPS[] = {
	{ "UTM.app", ".", "Contents/MacOS/UTM", "com.utmapp.UTM", 5, 1, 0, "@executable_path/../Frameworks" },
	{ "utmctl", NULL, "Contents/MacOS/utmctl", "com.utmapp.utmctl", 4, 0, 0, NULL },
	{ "QEMUHelper.xpc", "Contents/XPCServices/QEMUHelper.xpc",
	  "Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMUHelper", "com.utmapp.QEMUHelper", 3, 1, 0,
	  "@executable_path/../../../../Frameworks" },
	{ "QEMULauncher.app", "Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMULauncher.app",
	  "Contents/XPCServices/QEMUHelper.xpc/Contents/MacOS/QEMULauncher.app/Contents/MacOS/QEMULauncher",
	  "com.utmapp.QEMULauncher", 2, 1, 1, "@executable_path/../../../../../../../Frameworks" },
};

Test(profiles, components_match_the_utm_layout)
{
	struct ut_profiles *p = load();
	cr_expect_eq(ut_profiles_ncomponents(p), 5);
	for (size_t i = 0; i < sizeof(COMPS) / sizeof(COMPS[0]); i++) {
		const struct comp_want *w = &COMPS[i];
		const struct ut_component *c = ut_profiles_component_by_id(p, w->id);
		cr_assert_not_null(c, "%s: not found by id", w->name);
		cr_expect_str_eq(c->name, w->name);
		cr_expect_eq(c->is_class, 0);
		cr_expect(w->bundle ? c->bundle && !strcmp(c->bundle, w->bundle) : c->bundle == NULL, "%s: bundle",
			  w->name);
		cr_expect_str_eq(c->executable, w->executable, "%s: executable", w->name);
		cr_expect_eq(c->sign_order, w->sign_order, "%s: sign order", w->name);
		cr_expect_eq(c->embedded_profile, w->profile, "%s: embedded.provisionprofile", w->name);
		cr_expect_eq(c->loads_qemu, w->loads_qemu, "%s: loads QEMU", w->name);
		cr_expect_eq(c->hardened_runtime, 1, "%s: hardened runtime", w->name);
		cr_expect_eq(c->nrpaths, w->rpath ? 1u : 0u, "%s: rpaths", w->name);
		if (w->rpath && c->nrpaths == 1)
			cr_expect_str_eq(c->rpaths[0], w->rpath, "%s: rpath", w->name);
		cr_expect_eq(ut_profiles_component_by_path(p, w->executable), c, "%s: by executable", w->name);
		if (w->bundle)
			cr_expect_eq(ut_profiles_component_by_path(p, w->bundle), c, "%s: by bundle path", w->name);
		utm_ents_expect(c->release_ents, utm_ents_find(utm_release_sets, w->name), w->name);
		utm_ents_expect(c->unsigned_ents, utm_ents_find(utm_unsigned_sets, w->name), w->name);
	}
	const struct ut_component *loader = ut_profiles_qemu_loader(p);
	cr_assert_not_null(loader);
	cr_expect_str_eq(loader->name, "QEMULauncher.app");
	ut_profiles_free(p);
}

Test(profiles, required_keys_are_what_utm_needs_to_run)
{
	struct ut_profiles *p = load();
	const struct ut_component *l = ut_profiles_component_by_id(p, "com.utmapp.QEMULauncher");
	cr_assert_not_null(l);
	static const char *const WANT[] = { SEC "hypervisor", SEC "cs.allow-jit", SEC "inherit", SEC "app-sandbox" };
	cr_expect_eq(l->nrequired, 4);
	for (size_t i = 0; i < 4; i++) {
		int found = 0;
		for (size_t j = 0; j < l->nrequired; j++)
			found |= !strcmp(l->required[j].key, WANT[i]) && l->required[j].why[0];
		cr_expect(found, "QEMULauncher: %s not required", WANT[i]);
	}
	const struct ut_component *app = ut_profiles_component_by_id(p, "com.utmapp.UTM");
	cr_assert_not_null(app);
	int virt = 0;
	for (size_t j = 0; j < app->nrequired; j++)
		virt |= !strcmp(app->required[j].key, SEC "virtualization");
	cr_expect(virt, "UTM.app: virtualization not required");
	/* Every key any component has, release or unsigned, is known. */
	for (size_t i = 0; i < ut_profiles_ncomponents(p); i++) {
		const struct ut_component *c = ut_profiles_component(p, i);
		plist_t sets[2] = { c->release_ents, c->unsigned_ents };
		for (int s = 0; s < 2; s++) {
			plist_dict_iter it = NULL;
			plist_dict_new_iter(sets[s], &it);
			for (;;) {
				char *k = NULL;
				plist_t v = NULL;
				plist_dict_next_item(sets[s], it, &k, &v);
				if (!k)
					break;
				cr_expect_neq(ut_profiles_classify(p, k, NULL), UT_ENT_UNKNOWN, "%s: '%s' unknown", c->name,
					      k);
				free(k);
			}
			free(it);
		}
	}
	ut_profiles_free(p);
}

/* utm-domain 1.3: every framework, one class; '*' is the same name in each place. */
Test(profiles, frameworks_are_one_class)
{
	struct ut_profiles *p = load();
	const struct ut_component *fw =
		ut_profiles_component_by_path(p, "Contents/Frameworks/qemu-aarch64-softmmu.framework");
	cr_assert_not_null(fw);
	cr_expect_str_eq(fw->name, "Frameworks");
	cr_expect_eq(fw->kind, UT_COMP_FRAMEWORK);
	cr_expect_eq(fw->is_class, 1);
	cr_expect_str_eq(fw->signed_path, "Versions/A");
	cr_expect_eq(fw->sign_order, 1, "frameworks are signed first (inside-out)");
	cr_expect_eq(plist_dict_get_size(fw->release_ents), 0, "frameworks carry no entitlements");
	cr_expect_eq(ut_profiles_component_by_path(p, "Contents/Frameworks/glib-2.0.0.framework/Versions/A/glib-2.0.0"),
		     fw);
	cr_expect_eq(ut_profiles_component_by_path(p, "./Contents/Frameworks/vulkan_kosmickrisp.framework/"), fw);
	cr_expect_null(ut_profiles_component_by_path(p, "Contents/Frameworks/a.framework/Versions/A/b"),
		       "a framework binary must carry the framework's name");
	cr_expect_null(ut_profiles_component_by_path(p, "Contents/Frameworks/.framework"));
	cr_expect_null(ut_profiles_component_by_path(p, "Contents/Frameworks/x/y.framework"));
	cr_expect_eq(ut_profiles_component_by_id(p, "com.utmapp.glib-2.0.0"), fw);
	cr_expect_eq(ut_profiles_component_by_id(p, "com.utmapp.vulkan-kosmickrisp"), fw);
	cr_expect_str_eq(ut_profiles_component_by_id(p, "com.utmapp.UTM")->name, "UTM.app",
			 "exact ids win over the class pattern");
	cr_expect_null(ut_profiles_component_by_id(p, "org.example.UTM"));
	cr_expect_null(ut_profiles_component_by_id(p, "com.utmapp."));
	cr_expect_str_eq(ut_profiles_component_by_path(p, "")->name, "UTM.app");
	cr_expect_str_eq(ut_profiles_component_by_path(p, "./")->name, "UTM.app");
	cr_expect_null(ut_profiles_component_by_path(p, "Contents/MacOS"));
	ut_profiles_free(p);
}

Test(profiles, missing_directory_is_an_error_naming_the_file)
{
	struct ut_profiles *p = (struct ut_profiles *)1;
	int rc = ut_profiles_load(&p, "/nonexistent/profiles");
	cr_expect_lt(rc, 0);
	cr_expect_null(p);
	cr_expect(strstr(ut_errmsg(), "/nonexistent/profiles/entitlements.plist"), "message: %s", ut_errmsg());
}

/* The same data as binary plists loads the same. */
Test(profiles, binary_plists_load_too)
{
	const char *names[2] = { "profiles/entitlements.plist", "profiles/utm-components.plist" };
	uint8_t *bin[2];
	size_t len[2];
	for (int i = 0; i < 2; i++) {
		plist_t pl = NULL;
		cr_assert_eq(ut_plist_read_file(ts_root(names[i]), &pl, NULL), 0, "%s", ut_errmsg());
		cr_assert_eq(ut_plist_serialize(pl, UT_PLIST_BINARY, &bin[i], &len[i]), 0);
		plist_free(pl);
	}
	struct ut_profiles *p = NULL;
	cr_assert_eq(ut_profiles_load_mem(&p, bin[0], len[0], bin[1], len[1]), 0, "%s", ut_errmsg());
	cr_expect_eq(ut_profiles_classify(p, "com.apple.vm.networking", NULL), UT_ENT_RESTRICTED);
	cr_expect_eq(ut_profiles_ncomponents(p), 5);
	ut_profiles_free(p);
	free(bin[0]);
	free(bin[1]);
}
