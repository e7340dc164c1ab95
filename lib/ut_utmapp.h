/*
 * ut_utmapp.h - what a UTM.app is made of: its version, its components
 * (UTM.app, utmctl, QEMUHelper.xpc, QEMULauncher.app from
 * profiles/utm-components.plist, and every framework in Contents/Frameworks)
 * and how each component's main executable is signed now.
 *
 * Facts: utm-domain.md §1.1 (targets and where they are embedded), §1.2
 * (frameworks), §1.3 (how a dylib becomes a framework), §2.3 (signing).
 *
 * Reading never writes.  A component the profile lists but the bundle lacks
 * is an error naming it (a UTM.app without its launcher is not one we can
 * patch).  The signature of a component is read from the slice a Mac of
 * host_arch would run (cs_nested_info_read's choice: that arch, else the
 * first slice of the same CPU type, else the first slice).
 *
 * Ownership: *out is owned by the caller (ut_utmapp_free); every string and
 * plist inside lives until then.  The profiles passed in are borrowed and
 * must outlive the handle.
 */
#ifndef UT_UTMAPP_H
#define UT_UTMAPP_H

#include <stddef.h>
#include <stdint.h>

#include "ut_plist.h"
#include "ut_profiles.h"

#define UT_UTMAPP_MAX_FRAMEWORKS 1024

/* How one Mach-O file is signed (its host slice). */
struct ut_sig_info {
	int is_signed;          /* an LC_CODE_SIGNATURE with a readable signature */
	int adhoc;              /* CS_ADHOC */
	int linker;             /* CS_LINKER_SIGNED */
	char identifier[512];
	char team_id[64];       /* "" when none */
	uint32_t flags;         /* CodeDirectory flags of the best CD */
	char cdhash[41];        /* best CD, truncated, lowercase hex; "" when unsigned */
	char arch[32];          /* the slice read */
	char archs[128];        /* every slice, space-separated ("x86_64 arm64") */
	plist_t ents;           /* entitlements dict (owned), NULL when none */
};

void ut_sig_info_release(struct ut_sig_info *s);

/*
 * Reads the signature of the Mach-O file at path.  An unsigned file is not an
 * error (is_signed 0); an unreadable or malformed one is.
 */
int ut_sig_info_read(struct ut_sig_info *out, const char *path, const char *host_arch);
/* The same for a file already parsed (f borrowed); failures name no file. */
struct mo_file;
int ut_sig_info_of(struct ut_sig_info *out, const struct mo_file *f, const char *host_arch);

/* True when the signature enforces library validation: hardened runtime or CS_REQUIRE_LV, without the entitlement that disables it. */
int ut_sig_library_validation(const struct ut_sig_info *s);

enum ut_utmapp_role {
	UT_ROLE_APP = 1,        /* UTM.app itself */
	UT_ROLE_TOOL,           /* utmctl */
	UT_ROLE_HELPER,         /* QEMUHelper.xpc */
	UT_ROLE_LAUNCHER,       /* QEMULauncher.app: loads the QEMU framework */
	UT_ROLE_OTHER,          /* a component of the profile with no role above */
	UT_ROLE_FRAMEWORK,      /* Contents/Frameworks/N.framework */
};

struct ut_utmapp_comp {
	enum ut_utmapp_role role;
	const struct ut_component *prof; /* its profile entry (borrowed); frameworks: the class entry */
	char *name;             /* "UTM.app", "utmctl", "QEMULauncher.app", "pixman-1.0" (frameworks: N) */
	char *rel;              /* bundle directory relative to UTM.app ("" for UTM.app); NULL for utmctl */
	char *exec_rel;         /* main executable relative to UTM.app */
	char *signed_rel;       /* what codesign signs: rel, or rel + "/Versions/A" for frameworks; NULL for utmctl */
	char *bundle_id;        /* CFBundleIdentifier of its Info.plist (utmctl: the profile's), or NULL */
	long parent;            /* index of the enclosing bundle component, -1 for UTM.app */
	struct ut_sig_info sig;
	char **deps;            /* UTM names of its non-system dependencies (host slice), e.g. "glib-2.0.0" */
	size_t ndeps;
	char *error;            /* UT_UTMAPP_KEEP_BROKEN: why its executable could not be read (sig empty); else NULL */
	/* frameworks */
	char *install_name;     /* LC_ID_DYLIB of the host slice, or NULL */
	uint32_t current_version, compat_version;
};

struct ut_utmapp {
	char *path;             /* canonical absolute path of UTM.app */
	char *bundle_id;        /* CFBundleIdentifier */
	char *version;          /* CFBundleShortVersionString, or NULL */
	char *build;            /* CFBundleVersion, or NULL */
	const char *host_arch;  /* the arch signatures were read for (static) */
	struct ut_utmapp_comp *v; /* profile components in profile order, then frameworks by name */
	size_t n;
	long app, tool, helper, launcher; /* indexes into v, -1 when the profile has no such component */
	size_t first_framework; /* index of the first framework */
	unsigned flags;         /* UT_UTMAPP_* given to ut_utmapp_open_ex */
};

#define UT_UTMAPP_KEEP_BROKEN 1u /* a component whose executable is malformed is kept, with error set */

/*
 * Reads UTM.app at path.  host_arch: the Mac's architecture ("arm64" or
 * "x86_64"; NULL: "arm64").  Fails with UT_ENOTFOUND naming the path when it
 * is not a bundle, or a listed component is missing.
 */
int ut_utmapp_open(struct ut_utmapp **out, const char *path, const struct ut_profiles *p, const char *host_arch);
/* The same, with UT_UTMAPP_* flags (the verify gate reports a malformed component instead of stopping). */
int ut_utmapp_open_ex(struct ut_utmapp **out, const char *path, const struct ut_profiles *p, const char *host_arch,
		      unsigned flags);
void ut_utmapp_free(struct ut_utmapp *a);

/* The framework named name ("qemu-aarch64-softmmu", without ".framework"), or NULL. */
const struct ut_utmapp_comp *ut_utmapp_framework(const struct ut_utmapp *a, const char *name);
/* The component with this role, or NULL. */
const struct ut_utmapp_comp *ut_utmapp_role(const struct ut_utmapp *a, enum ut_utmapp_role role);
/*
 * Marks in mask (a->n entries, zeroed by the caller) every framework loaded
 * into the process of component comp: its dependencies that are frameworks
 * of the bundle, transitively.  For the QEMU loader, which dlopens a QEMU
 * framework named at run time, the roots are qemu_fw when it is >= 0, else
 * every qemu-* framework.
 */
void ut_utmapp_loads(const struct ut_utmapp *a, size_t comp, long qemu_fw, unsigned char *mask);

/* "app", "tool", "helper", "launcher", "component", "framework". */
const char *ut_utmapp_role_name(enum ut_utmapp_role r);

/*
 * UTM's name rule (build_dependencies.sh fixup(), utm-domain §1.3): the last
 * path component, its final ".dylib" dropped, then a leading "lib":
 * "/x/lib/libglib-2.0.0.dylib" -> "glib-2.0.0"; an install name already in
 * framework form ("@rpath/N.framework/Versions/A/N", "@rpath/N.framework/N")
 * gives N.  *out is malloc'd.  An empty result is UT_EINVAL.
 */
int ut_utm_libname(const char *install_name, char **out);

/*
 * QEMULauncher's entry points (utm-domain §1.4; Bootstrap.c loadQemu()): it
 * calls main, or swtpm_main, or all of qemu_init, qemu_main_loop and
 * qemu_cleanup.  Returns which one the exports ex provide ("qemu_init,
 * qemu_main_loop, qemu_cleanup", "main", "swtpm_main"), or NULL with the
 * missing qemu_* names (without '_') in missing[0..*nmissing).
 */
struct mo_exports;
const char *ut_utm_qemu_entry(const struct mo_exports *ex, const char *missing[3], size_t *nmissing);
/*
 * Why QEMULauncher cannot start a framework ut_utm_qemu_entry found nothing
 * in: "QEMULauncher finds none of its entry points: it needs ... (missing:
 * qemu_init, ...)", for the install's refusal and the verify gate alike.
 */
#define UT_UTM_ENTRY_WHY_MAX 256
void ut_utm_qemu_entry_why(char out[UT_UTM_ENTRY_WHY_MAX], const char *const missing[3], size_t nmissing);

#endif
