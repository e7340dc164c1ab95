/*
 * cs_bverify.h - verify a whole bundle the way `codesign --verify --deep
 * --strict` does (codesign-spec.md §3.5, §8; SEC StaticCode.cpp
 * staticValidate, validateResources, validateNestedCode,
 * validateOtherVersions, bundlediskrep.cpp strictValidate).  Nothing here
 * prints.
 *
 * Components.  The bundle's signable components come from cs_bundle_tree
 * (inside-out): the top bundle, nested code recorded in a seal (bundles under
 * Frameworks/, PlugIns/, XPCServices/, ... and Mach-O files under MacOS/,
 * Frameworks/, ...), bundles sealed file by file because they lie outside
 * the nested locations (Sparkle 1.x's Resources/Autoupdate.app), and, with
 * strict, every framework version other than Versions/Current.  Without deep
 * only the top bundle and the code its seal records are checked (not their
 * seals or what they contain).
 *
 * Each component is judged on its own:
 *  - its code (a bundle's main executable, or the Mach-O file): cs_verify_file
 *    over every slice, with the bundle's Info.plist and CodeResources bytes
 *    for special slots -1 and -3;
 *  - a bundle's seal: every file the seal's rules select must be sealed ("file
 *    added"), every non-optional sealed file must exist ("file missing"), its
 *    digests of every recorded type must match and its kind (file, symlink,
 *    nested code) must not change ("file modified"); a seal file absent while
 *    the signature binds one is "code has no resources but signature
 *    indicates they must be present".  Files are hashed in parallel;
 *  - nested code recorded in the seal ({cdhash, requirement}) must satisfy the
 *    recorded requirement (cs_bverify_req.h), evaluated against each of its
 *    slices, and must itself be valid, else the parent has "nested code is
 *    modified or invalid" naming it.  A requirement we cannot evaluate is a
 *    failure too ("requirement not evaluable"): the verdict cannot be given;
 *  - the code's own explicit designated requirement (codesign -v "satisfies
 *    its Designated Requirement"); ad-hoc code has the implicit cdhash one,
 *    which holds by construction;
 *  - strict: the bundle layout (cs_bundle_check_layout: "unsealed contents
 *    present in the bundle root", ...), weak resource rules and version-1
 *    seals ("resource envelope is obsolete (version 1 signature)", the weak
 *    resource envelope), symlinks that leave the bundle.
 *
 * Paths in reasons are relative to the top bundle's root.
 *
 * Threads: every code file and every sealed file is one job; jobs run largest
 * first on nthreads workers (big Mach-O files hash their pages on all of
 * them).  The progress callback is called from the workers, never two at once.
 */
#ifndef CS_BVERIFY_H
#define CS_BVERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "cs_bundle.h"
#include "cs_pki.h"
#include "cs_verify.h"
#include "cs_verify_audit.h"

enum cs_bverify_problem {
	CS_BV_SIGNATURE = 1,    /* the code's signature (text: cs_problem_text of the verdict) */
	CS_BV_INFO_PLIST,       /* invalid Info.plist (plist or signature have been modified) */
	CS_BV_RESOURCE_DIR,     /* invalid resource directory (directory or signature have been modified) */
	CS_BV_NO_RESOURCES,     /* code has no resources but signature indicates they must be present */
	CS_BV_RESOURCES,        /* a sealed resource is missing or invalid (the files follow) */
	CS_BV_FILE_ADDED,       /* file added */
	CS_BV_FILE_MODIFIED,    /* file modified */
	CS_BV_FILE_MISSING,     /* file missing */
	CS_BV_NESTED,           /* nested code is modified or invalid */
	CS_BV_NOT_EVALUABLE,    /* requirement not evaluable */
	CS_BV_DESIGNATED,       /* the code does not satisfy its designated requirement */
	CS_BV_WEAK_RULES,       /* resource envelope is obsolete (custom omit rules) */
	CS_BV_WEAK_ENVELOPE,    /* resource envelope is obsolete (version 1 signature) */
	CS_BV_SYMLINK,          /* invalid symbolic link */
	CS_BV_LAYOUT,           /* strict layout (text: "unsealed contents present in the bundle root", ...) */
	CS_BV_UNREADABLE,       /* the component could not be read (not a bundle, not a Mach-O, I/O) */
	CS_BV_NOTE,             /* not a failure */
};

struct cs_bverify_reason {
	enum cs_bverify_problem problem;
	char *text;             /* codesign's words */
	char *path;             /* the file concerned, relative to the top bundle's root; NULL: the component */
	char *detail;           /* what exactly ("" when nothing more) */
};

enum cs_bverify_role {
	CS_BV_TOP = 1,          /* the bundle verified */
	CS_BV_ROLE_NESTED,      /* recorded in its parent's seal as nested code */
	CS_BV_ROLE_EMBEDDED,    /* a bundle sealed file by file in its parent (outside the nested locations) */
	CS_BV_ROLE_VERSION,     /* a framework version other than Versions/Current (strict) */
	CS_BV_ROLE_RESOURCE,    /* a Mach-O file sealed as a resource (CS_BVERIFY_ALL_MACHO only; not judged) */
};

struct cs_bverify_component {
	char *rel;              /* relative to the top bundle's root; "" for the top */
	char *path;             /* on disk */
	enum cs_bverify_role role;
	int is_bundle;
	enum cs_bundle_kind kind; /* bundles */
	long parent;            /* index of the bundle holding it, -1 for the top */
	char *code_rel;         /* the Mach-O judged (main executable, or the file), relative to the top root; NULL: none */
	int checked;            /* sig holds the code's verdicts */
	struct cs_verify_result sig;
	char format[512];       /* "Mach-O universal (x86_64 arm64)" when checked */
	struct cs_audit_slice *audit; /* CS_BVERIFY_AUDIT: sig.nslices entries, else NULL */
	int valid;              /* no failure reason (nested code's failures show as CS_BV_NESTED) */
	struct cs_bverify_reason *reasons;
	size_t nreasons, cap;
};

struct cs_bverify_result {
	int valid;              /* every judged component valid */
	struct cs_bverify_component *v; /* inside-out: contents before their bundle, the top last; resources at the end */
	size_t n, cap;
	uint64_t files_hashed, bytes_hashed; /* sealed files and code files read */
};

/* Called with the bytes done so far, the total, and the file just finished (relative to the top root). */
typedef void (*cs_bverify_progress_fn)(void *ctx, uint64_t done, uint64_t total, const char *rel);

enum {
	CS_BVERIFY_DEEP = 1u << 0,      /* codesign --deep */
	CS_BVERIFY_STRICT = 1u << 1,    /* codesign --strict */
	CS_BVERIFY_AUDIT = 1u << 2,     /* fill component.audit (cs_audit_slice per slice) */
	CS_BVERIFY_ALL_MACHO = 1u << 3, /* also list Mach-O files sealed as resources (role RESOURCE) */
};

struct cs_bverify_opts {
	unsigned flags;                 /* CS_BVERIFY_* */
	const struct cs_trust *trust;   /* extra anchors; NULL: Apple roots only */
	unsigned verify_flags;          /* CS_VERIFY_* for every code file */
	unsigned nthreads;              /* 0: ut_ncpu() */
	cs_bverify_progress_fn progress;
	void *progress_ctx;
};

/*
 * Verifies the bundle at path.  Returns 0 when the checks ran (verdicts in
 * *out, valid or not); negative only when they could not run (path is not a
 * bundle, its top level is unreadable, out of memory).  Release *out with
 * cs_bverify_result_release (also after a failure).
 */
int cs_bverify_bundle(struct cs_bverify_result *out, const char *path, const struct cs_bverify_opts *o);
void cs_bverify_result_release(struct cs_bverify_result *r);

/* codesign's words for a problem ("file modified", "nested code is modified or invalid", ...). */
const char *cs_bverify_problem_text(enum cs_bverify_problem p);
/* "bundle", "nested code", "embedded bundle", "framework version", "resource". */
const char *cs_bverify_role_name(enum cs_bverify_role r);
/*
 * The top-level keys of a slice's entitlements (sorted by byte order), for
 * audit tables: *keys is a malloc'd array of malloc'd strings (NULL and 0 when
 * the slice has none); free with cs_bverify_keys_free.  Undecodable
 * entitlements are UT_EMALFORMED.
 */
int cs_bverify_entitlement_keys(const struct cs_audit_slice *a, char ***keys, size_t *n);
void cs_bverify_keys_free(char **keys, size_t n);

/* The first failure reason of a component, or NULL when it is valid. */
const struct cs_bverify_reason *cs_bverify_first_failure(const struct cs_bverify_component *c);

#endif
