/*
 * fuzz_profiles.c - libFuzzer target: the profiles loader, lookups and the
 * entitlement plan on arbitrary bytes.  The input is split at its first NUL
 * byte: entitlements.plist before, utm-components.plist after.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ut_profiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	if (!nul)
		return 0;
	size_t elen = (size_t)(nul - data);
	struct ut_profiles *p = NULL;
	if (ut_profiles_load_mem(&p, data, elen, nul + 1, size - elen - 1) != 0)
		return 0;
	(void)ut_profiles_classify(p, "com.apple.vm.networking", NULL);
	(void)ut_profiles_component_by_path(p, "Contents/Frameworks/glib-2.0.0.framework/Versions/A/glib-2.0.0");
	(void)ut_profiles_component_by_id(p, "com.utmapp.glib-2.0.0");
	for (size_t i = 0; i < ut_profiles_ncomponents(p); i++) {
		const struct ut_component *c = ut_profiles_component(p, i);
		for (int sign = UT_SIGN_ADHOC; sign <= UT_SIGN_IDENTITY; sign++) {
			struct ut_ent_plan_in in = { c->release_ents, sign, c->unsigned_ents, 1, c };
			struct ut_ent_plan plan;
			if (ut_ent_plan_compute(p, &in, &plan) == 0)
				ut_ent_plan_release(&plan);
		}
	}
	ut_profiles_free(p);
	return 0;
}
