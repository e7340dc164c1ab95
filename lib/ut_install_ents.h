/*
 * ut_install_ents.h - each UTM component's entitlements against UTM's
 * profile (profiles/utm-components.plist): what it has now, what UTM's
 * release and unsigned sets have, which required keys are missing, and
 * whether QEMULauncher would refuse the frameworks of this bundle (library
 * validation).  The report `utmpatch entitlements` prints and
 * ut_restore_plan() acts on.
 *
 * Ownership: the report owns its arrays and key strings; the strings it
 * borrows (why, loss, framework names) live as long as the profiles and the
 * ut_utmapp it was built from.
 */
#ifndef UT_INSTALL_ENTS_H
#define UT_INSTALL_ENTS_H

#include <stddef.h>

#include "ut_profiles.h"
#include "ut_utmapp.h"

struct ut_ents_key {
	char *key;
	enum ut_ent_class cls;
	int now;                  /* in the current signature (booleans: true) */
	int release;              /* in UTM's release set (the profile's ReleaseEntitlements) */
	int unsigned_set;         /* in UTM's *-unsigned set */
	const char *required_why; /* required by UTM in this component: why; else NULL */
	const char *loss;         /* what the user loses without it (entitlements.plist), or NULL */
};

struct ut_ents_comp {
	size_t comp;              /* index into the ut_utmapp */
	struct ut_ents_key *keys; /* current keys first (key order), then the missing release/required ones */
	size_t nkeys, cap;
	size_t nmissing_required;
	int lv;                   /* enforces library validation (ut_sig_library_validation) */
	int lv_refuses;           /* a framework its process loads has no Team ID or another team's */
	const char *lv_framework; /* the first such framework */
	int needs_restore;        /* missing required keys, or lv_refuses */
};

struct ut_ents_report {
	struct ut_ents_comp *v;   /* the executables of the profile, in profile order */
	size_t n, cap;
};

int ut_ents_report_build(struct ut_ents_report *out, const struct ut_utmapp *a, const struct ut_profiles *p);
void ut_ents_report_release(struct ut_ents_report *r);

#endif
