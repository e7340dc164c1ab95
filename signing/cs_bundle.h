/*
 * cs_bundle.h - the model of a code bundle on disk: what kind it is, where
 * its resource base, Info.plist, main executable and seal are, the nested
 * code inside it in inside-out signing order, and the strict layout checks.
 *
 * Facts: codesign-spec.md §3.1 (where things live), §3.4 (nested code),
 * §3.5 / §8 (strict structure); SEC bundlediskrep.cpp setup,
 * resourcesRelativePath, validateFrameworkRoot, adjustResources.
 *
 * Layouts:
 *  - deep (macOS):   X/Contents/{Info.plist, MacOS/<exe>, Resources/...};
 *                    resource base X/Contents
 *  - versioned:      X.framework/Versions/<v>/{<exe>, Resources/Info.plist};
 *                    <v> is the target of the Versions/Current symlink and the
 *                    signed unit; resource base X.framework/Versions/<v>
 *  - shallow (flat): X/{Info.plist, <exe>} (iOS style); resource base X.
 *                    A shallow bundle with a Resources directory and no
 *                    top-level Info.plist keeps it in Resources/ (old style).
 * A directory with both Contents and Versions is refused as ambiguous
 * (errSecCSAmbiguousBundleFormat: "bundle format is ambiguous (could be app
 * or framework)").
 *
 * The resources directory that selects the default rules (cs_seal_rules.h)
 * is "Resources/" for deep bundles (CFBundle version 2: always Contents/
 * Resources, present or not) and for versioned / shallow bundles that have a
 * Resources directory in the base, "" (flat rules) otherwise.
 *
 * Symlinks are recorded, never followed out of the bundle: Versions/Current
 * must be a symlink naming a directory directly inside Versions, and nothing
 * else is resolved through a symlink.
 *
 * Ownership: cs_bundle_open allocates *out (cs_bundle_free); every string in
 * it is owned by the bundle.
 */
#ifndef CS_BUNDLE_H
#define CS_BUNDLE_H

#include <plist/plist.h>
#include <stddef.h>
#include <stdint.h>

enum cs_bundle_layout {
	CS_BUNDLE_DEEP = 1,      /* X/Contents/... */
	CS_BUNDLE_VERSIONED,     /* X.framework/Versions/<v>/... */
	CS_BUNDLE_SHALLOW,       /* Info.plist and executable at the root */
};

enum cs_bundle_kind {
	CS_BUNDLE_APP = 1,       /* CFBundlePackageType APPL, else extension .app */
	CS_BUNDLE_XPC,           /* XPC!, else .xpc */
	CS_BUNDLE_FRAMEWORK,     /* FMWK, else .framework */
	CS_BUNDLE_PLUGIN,        /* BNDL or any other bundle (.appex, .plugin, .bundle, ...) */
};

struct cs_bundle {
	char *root;              /* the bundle directory as given, without a trailing '/' */
	char *name;              /* its last path component ("UTM.app") */
	enum cs_bundle_layout layout;
	enum cs_bundle_kind kind;
	char *base;              /* resource base directory (absolute or as given) */
	char *base_rel;          /* base relative to root: "Contents", "Versions/A", "" */
	char *version;           /* versioned: the Current version ("A"); else NULL */
	const char *resources;   /* "Resources/" or "" (default-rule variant, static string) */
	char *info_rel;          /* Info.plist relative to base: "Info.plist" or "Resources/Info.plist" */
	char *info_path;         /* base + "/" + info_rel */
	int has_info;            /* the Info.plist exists (regular file) */
	uint8_t *info_data;      /* its bytes as read (what slot -1 binds), or NULL */
	size_t info_len;
	plist_t info;            /* parsed from info_data, or NULL */
	const char *identifier;  /* CFBundleIdentifier (borrowed from info), or NULL */
	const char *package_type;/* CFBundlePackageType, or NULL */
	char *exec_rel;          /* main executable relative to base ("MacOS/UTM", "X"), or NULL when none declared */
	char *exec_path;         /* base + "/" + exec_rel, or NULL */
	char *seal_rel;          /* "_CodeSignature/CodeResources" */
	char *seal_path;         /* base + "/_CodeSignature/CodeResources" */
};

/*
 * Opens and classifies the bundle at path.  A missing Info.plist is allowed
 * (no main executable then); an unreadable one, a CFBundleExecutable that is
 * not a plain file name, a versioned bundle without a usable Versions/Current
 * symlink, or an ambiguous layout fail with a message naming the path.
 */
int cs_bundle_open(const char *path, struct cs_bundle **out);
void cs_bundle_free(struct cs_bundle *b);

/* "app", "XPC service", "framework", "bundle". */
const char *cs_bundle_kind_name(enum cs_bundle_kind k);
/* "deep", "versioned", "shallow". */
const char *cs_bundle_layout_name(enum cs_bundle_layout l);

/* 1 when path is a directory that looks like a bundle (Contents/, Versions/Current, or a top-level Info.plist). */
int cs_bundle_looks_like(const char *path);

/* 1 when the regular file at path starts with a Mach-O or fat Mach-O magic (not a Java class file). */
int cs_is_macho_file(const char *path);

/*
 * One signable component of a bundle tree.  The tree lists them inside-out:
 * every component comes after everything it contains (post-order, siblings
 * in byte order), the top bundle last.
 */
struct cs_component {
	char *path;              /* absolute (or as given): a bundle root or a Mach-O file */
	char *rel;               /* relative to the top bundle's root; "" for the top */
	char *seal_rel;          /* relative to the parent's resource base (its files2 key); NULL for the top */
	int is_bundle;
	unsigned depth;          /* 0 for the top */
	long parent;             /* index of the containing bundle, -1 for the top */
	/*
	 * 1: the parent's seal records it as nested code ({cdhash, requirement});
	 * 0: the top, or a bundle sealed file by file because it lies outside the
	 *    nested locations (Sparkle 1.x's Versions/A/Resources/Autoupdate.app),
	 *    which still has to be signed before its parent.
	 */
	int nested;
};

struct cs_bundle_tree {
	struct cs_component *v;
	size_t n, cap;
};

/*
 * Finds every signable component under the bundle at root, with the default
 * rules2 of each bundle (cs_seal_walk: a directory matching a nested rule
 * whose name contains '.' is a nested bundle; a Mach-O regular file matching
 * a nested rule is nested code), plus bundles with a main executable found
 * outside the nested locations.  Depth is limited (CS_BUNDLE_MAX_DEPTH).
 */
#define CS_BUNDLE_MAX_DEPTH 16
int cs_bundle_tree_build(struct cs_bundle_tree *t, const char *root);
void cs_bundle_tree_release(struct cs_bundle_tree *t);

/* One strict-layout violation (SEC errSecCSUnsealedAppRoot, errSecCSUnsealedFrameworkRoot, ...). */
struct cs_layout_issue {
	char *path;              /* relative to the bundle root */
	char *what;              /* e.g. "unsealed contents present in the bundle root" */
};

struct cs_layout_report {
	struct cs_layout_issue *v;
	size_t n, cap;
};

/*
 * Strict structure checks (codesign --strict): the root of a deep app holds
 * only Contents (+ .DS_Store, .LSOverride, "Icon\r", .SoftwareDepot.tracking);
 * a framework root holds only Versions and symlinks X -> Versions/Current/X
 * whose target exists, Versions holds version directories and the Current
 * symlink to one of them; _CodeSignature holds only CodeResources (and an
 * empty CodeSignature file); the main executable is a regular file.  Returns
 * 0 when the checks ran (violations, if any, in rep), negative on I/O errors.
 */
int cs_bundle_check_layout(const struct cs_bundle *b, struct cs_layout_report *rep);
void cs_layout_report_release(struct cs_layout_report *rep);

#endif
