/* utm_ents.c - UTM's entitlement sets (utm-domain 2.2) and a checker, for tests. */
#include "utm_ents.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ut_plist.h"

#define SEC "com.apple.security."
#define GROUP "WDNLXAD4W8.com.utmapp.UTM"
#define GROUP_RAW "$(TeamIdentifierPrefix)$(PRODUCT_BUNDLE_PREFIX:default=com.utmapp).UTM"
#define VM_ACCESS "com.utmapp.UTM.vm-access"
#define B(k) { k, NULL, NULL }          /* true */
#define A(k, v) { k, v, NULL }        /* [v] */
#define T(k, v, t) { k, v, t }        /* {t: [v]} */

const struct utm_ent_set utm_release_sets[4] = {
	{ "UTM.app", "UTM.entitlements",
	  { B(SEC "app-sandbox"), A(SEC "application-groups", GROUP), B(SEC "device.audio-input"),
	    B(SEC "device.usb"), B(SEC "files.user-selected.read-write"), B(SEC "network.client"),
	    B(SEC "network.server"), B(SEC "virtualization"), B("com.apple.vm.device-access"),
	    B("com.apple.vm.networking") } },
	{ "QEMUHelper.xpc", "QEMUHelper.entitlements",
	  { B(SEC "app-sandbox"), A(SEC "application-groups", GROUP), B(SEC "device.audio-input"),
	    B(SEC "cs.allow-jit"), B(SEC "files.bookmarks.app-scope"), B(SEC "hypervisor"),
	    B(SEC "network.client"), B(SEC "network.server"), B("com.apple.vm.networking") } },
	{ "QEMULauncher.app", "QEMULauncher.entitlements",
	  { B(SEC "app-sandbox"), B(SEC "cs.allow-jit"), B(SEC "inherit"), B(SEC "hypervisor"),
	    B("com.apple.vm.networking") } },
	{ "utmctl", "utmctl.entitlements",
	  { A(SEC "application-groups", GROUP), B(SEC "app-sandbox"), B(SEC "network.client"),
	    T(SEC "scripting-targets", VM_ACCESS, "com.utmapp.UTM") } },
};

const struct utm_ent_set utm_unsigned_sets[4] = {
	{ "UTM.app", NULL,
	  { B(SEC "app-sandbox"), A(SEC "application-groups", GROUP_RAW), B(SEC "cs.disable-library-validation"),
	    B(SEC "device.audio-input"), B(SEC "device.usb"), B(SEC "files.user-selected.read-write"),
	    B(SEC "network.client"), B(SEC "network.server"),
	    A(SEC "temporary-exception.sbpl", "(allow network-outbound)"), B(SEC "virtualization") } },
	{ "QEMUHelper.xpc", NULL,
	  { B(SEC "app-sandbox"), A(SEC "application-groups", GROUP_RAW), B(SEC "device.audio-input"),
	    B(SEC "cs.allow-jit"), B(SEC "cs.disable-library-validation"), B(SEC "files.bookmarks.app-scope"),
	    B(SEC "hypervisor"), B(SEC "network.client"), B(SEC "network.server") } },
	{ "QEMULauncher.app", NULL,
	  { B(SEC "app-sandbox"), B(SEC "cs.allow-jit"), B(SEC "cs.disable-library-validation"),
	    B(SEC "inherit"), B(SEC "hypervisor") } },
	{ "utmctl", NULL,
	  { B(SEC "app-sandbox"), B(SEC "network.client"),
	    T(SEC "scripting-targets", VM_ACCESS, "$(PRODUCT_BUNDLE_PREFIX:default=com.utmapp).UTM") } },
};

const struct utm_ent_set *utm_ents_find(const struct utm_ent_set *sets, const char *component)
{
	for (size_t i = 0; i < 4; i++)
		if (!strcmp(sets[i].component, component))
			return &sets[i];
	return NULL;
}

/* The one string of a one-element array, or NULL. */
static const char *array1(plist_t v)
{
	if (!v || plist_get_node_type(v) != PLIST_ARRAY || plist_array_get_size(v) != 1)
		return NULL;
	return ut_plist_str(plist_array_get_item(v, 0));
}

void utm_ents_expect(plist_t dict, const struct utm_ent_set *set, const char *where)
{
	cr_expect(dict && plist_get_node_type(dict) == PLIST_DICT, "%s: not a dictionary", where);
	if (!dict || plist_get_node_type(dict) != PLIST_DICT)
		return;
	uint32_t n = 0;
	for (; n < UTM_MAX_ENTS && set->ents[n].key; n++) {
		const struct utm_ent *e = &set->ents[n];
		plist_t v = plist_dict_get_item(dict, e->key);
		cr_expect_not_null(v, "%s: %s missing", where, e->key);
		if (!v)
			continue;
		if (e->target) {
			plist_t t = plist_get_node_type(v) == PLIST_DICT ? plist_dict_get_item(v, e->target) : NULL;
			const char *s = array1(t);
			cr_expect(s && !strcmp(s, e->array1) && plist_dict_get_size(v) == 1,
				  "%s: %s is not {%s: [%s]}", where, e->key, e->target, e->array1);
		} else if (e->array1) {
			const char *s = array1(v);
			cr_expect(s && !strcmp(s, e->array1), "%s: %s is not ['%s']", where, e->key, e->array1);
		} else {
			cr_expect(ut_plist_dict_true(dict, e->key), "%s: %s is not true", where, e->key);
		}
	}
	cr_expect_eq(plist_dict_get_size(dict), n, "%s: %u keys, want %u", where, plist_dict_get_size(dict), n);
}

