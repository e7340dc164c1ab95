/*
 * ut_profiles.h - what utmpatch knows about entitlements and UTM's components
 * (profiles/entitlements.plist, profiles/utm-components.plist; the format is
 * in profiles/README.md), and the entitlement plan for re-signing one
 * component.
 *
 * Loading validates both files whole (types, known classes, no duplicate
 * keys, patterns only as a trailing ".*", every required key of a component
 * classified adhoc-ok) before returning a handle.  Lookups and the plan are
 * pure: no I/O, no global state.
 *
 * Ownership: *out of ut_profiles_load* is owned by the caller
 * (ut_profiles_free).  Every pointer a lookup returns (ut_ent_info,
 * ut_component and the strings and plist nodes inside them) is borrowed from
 * the profiles and lives until ut_profiles_free.
 */
#ifndef UT_PROFILES_H
#define UT_PROFILES_H

#include <stddef.h>

#include "ut_plist.h"

/* The entitlement that turns library validation off (utm-domain §2.3). */
#define UT_ENT_DISABLE_LV "com.apple.security.cs.disable-library-validation"

enum ut_ent_class {
	UT_ENT_UNKNOWN = 0,  /* not in entitlements.plist */
	UT_ENT_ADHOC_OK,     /* any signature, ad hoc included, may carry it */
	UT_ENT_RESTRICTED,   /* needs a provisioning profile from Apple that grants it */
	UT_ENT_APPLE_ONLY,   /* com.apple.private.*: no profile grants it */
};

/* One entry of entitlements.plist. */
struct ut_ent_info {
	const char *key;     /* an entitlement key, or a pattern "prefix.*" */
	int is_pattern;
	enum ut_ent_class cls;
	const char *purpose; /* what it grants, in a user's words */
	const char *loss;    /* what the user loses without it, or NULL */
	const char *caveat;  /* something to know even when it is kept, or NULL */
	const char *source;  /* where the facts come from, or NULL */
};

enum ut_component_kind { UT_COMP_APP = 1, UT_COMP_XPC, UT_COMP_TOOL, UT_COMP_FRAMEWORK };

struct ut_required {
	const char *key;
	const char *why;
};

/* One entry of utm-components.plist.  Paths are relative to UTM.app. */
struct ut_component {
	const char *name;           /* "QEMULauncher.app", "Frameworks" */
	enum ut_component_kind kind;
	int is_class;               /* paths and id are patterns: '*' = the framework name */
	const char *bundle;         /* "." for UTM.app itself; NULL for utmctl */
	const char *executable;
	const char *bundle_id;
	const char *signed_path;    /* what codesign signs inside the bundle ("Versions/A"), or NULL */
	int sign_order;             /* 1 = first (inside-out) */
	int hardened_runtime;
	int embedded_profile;       /* the release has Contents/embedded.provisionprofile */
	int loads_qemu;
	const char *const *rpaths;
	size_t nrpaths;
	plist_t release_ents;       /* dict: the signed release's entitlements */
	plist_t unsigned_ents;      /* dict: UTM's *-unsigned.entitlements, as embedded */
	const struct ut_required *required;
	size_t nrequired;
	const char *note;           /* or NULL */
};

struct ut_profiles;

/* Reads dir/entitlements.plist and dir/utm-components.plist. */
int ut_profiles_load(struct ut_profiles **out, const char *dir);
/* Same from memory (names are for messages). */
int ut_profiles_load_mem(struct ut_profiles **out, const void *ent, size_t ent_len, const void *comp,
			 size_t comp_len);
void ut_profiles_free(struct ut_profiles *p);

/*
 * The class of an entitlement key: an exact entry wins, else the longest
 * matching "prefix.*" pattern, else UT_ENT_UNKNOWN.  *info (may be NULL) gets
 * the entry, or NULL when unknown.
 */
enum ut_ent_class ut_profiles_classify(const struct ut_profiles *p, const char *key, const struct ut_ent_info **info);
/* "adhoc-ok", "restricted", "apple-only", "unknown". */
const char *ut_ent_class_name(enum ut_ent_class c);

/* The component whose bundle or executable is relpath ("./" and a trailing "/" ignored), or NULL. */
const struct ut_component *ut_profiles_component_by_path(const struct ut_profiles *p, const char *relpath);
/* The component with this bundle id (exact entries before patterns), or NULL. */
const struct ut_component *ut_profiles_component_by_id(const struct ut_profiles *p, const char *bundle_id);
/* The component that loads the QEMU framework (QEMULauncher.app). */
const struct ut_component *ut_profiles_qemu_loader(const struct ut_profiles *p);
size_t ut_profiles_ncomponents(const struct ut_profiles *p);
const struct ut_component *ut_profiles_component(const struct ut_profiles *p, size_t i);

/* ---- entitlement plan ---- */

enum ut_sign_kind {
	UT_SIGN_ADHOC = 1,  /* codesign -s -: no Team ID, no provisioning profile */
	UT_SIGN_IDENTITY,   /* a certificate; granted = what its provisioning profile allows */
};

struct ut_ent_plan_in {
	plist_t current;            /* dict: the component's entitlements now (borrowed; NULL = none) */
	enum ut_sign_kind sign;
	plist_t granted;            /* UT_SIGN_IDENTITY: the profile's Entitlements dict, or NULL (no profile) */
	int need_dlv;               /* the process must load a framework signed ad hoc or by another team */
	const struct ut_component *component; /* optional: its missing required keys are added */
};

enum ut_plan_action { UT_PLAN_KEEP = 1, UT_PLAN_DROP, UT_PLAN_ADD };

struct ut_ent_plan_item {
	char *key;                  /* owned by the plan */
	enum ut_plan_action action;
	enum ut_ent_class cls;
	const char *why;            /* one line, static */
	const char *loss;           /* DROP: what the user loses (from entitlements.plist), or NULL */
	const char *detail;         /* ADD of a required key: the component's reason; KEEP: the caveat; or NULL */
};

struct ut_ent_plan {
	struct ut_ent_plan_item *items; /* the current keys in key order, then the added ones */
	size_t nitems;
	size_t nkept, ndropped, nadded, nunknown;
	plist_t result;             /* dict: the entitlements to sign with (owned) */
};

/*
 * Computes what to keep, drop and add.  Rules (profiles/README.md):
 * adhoc-ok keys are kept; restricted keys are kept only when signing with an
 * identity whose profile grants them; apple-only keys are dropped; unknown
 * keys are kept and counted in nunknown; with need_dlv,
 * cs.disable-library-validation is added; with a component, its required
 * keys that are missing are added.  Release with ut_ent_plan_release.
 */
int ut_ent_plan_compute(const struct ut_profiles *p, const struct ut_ent_plan_in *in, struct ut_ent_plan *out);
void ut_ent_plan_release(struct ut_ent_plan *plan);
/* The item for key, or NULL. */
const struct ut_ent_plan_item *ut_ent_plan_find(const struct ut_ent_plan *plan, const char *key);

#endif
