/*
 * utm_ents.h - UTM's entitlement sets as /work/shared/reference/utm-domain.md
 * section 2.2 lists them (tests only): the signed release files with the
 * build settings expanded, and the *-unsigned files as package_mac.sh embeds
 * them (copied raw, so the $(...) settings stay unexpanded).
 */
#ifndef UTM_ENTS_H
#define UTM_ENTS_H

#include <plist/plist.h>

/* One entitlement: true, or an array of one string, or {target: [one string]}. */
struct utm_ent {
	const char *key;
	const char *array1;  /* non-NULL: an array holding exactly this string */
	const char *target;  /* non-NULL: a dict {target: [array1]} */
};

#define UTM_MAX_ENTS 12

struct utm_ent_set {
	const char *component;   /* "UTM.app", "utmctl", "QEMUHelper.xpc", "QEMULauncher.app" */
	const char *file;        /* testdata/demo/entitlements/<file> for the release sets */
	struct utm_ent ents[UTM_MAX_ENTS];
};

extern const struct utm_ent_set utm_release_sets[4];
extern const struct utm_ent_set utm_unsigned_sets[4];

/* The set for a component name, or NULL. */
const struct utm_ent_set *utm_ents_find(const struct utm_ent_set *sets, const char *component);
/* Expects dict to hold exactly the set (Criterion cr_expect; where names it in messages). */
void utm_ents_expect(plist_t dict, const struct utm_ent_set *set, const char *where);

#endif
