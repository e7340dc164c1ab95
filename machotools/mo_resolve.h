/*
 * mo_resolve.h - what dyld would do when an image inside a bundle is loaded:
 * where each dependency is found, whether that file can be loaded into the
 * process, and whether every symbol the image imports is exported there.
 *
 * Paths inside the bundle are "bundle paths": relative to the bundle root,
 * '/'-separated, no leading '/', normalised ("Contents/Frameworks/x.framework/
 * Versions/A/x"; "" is the root itself).  Nothing outside env->root is ever
 * read: ".." that climbs above the root, absolute paths that are not under
 * env->install_root and symlinks that lead out are reported, not followed.
 *
 * dyld's rules implemented here (from dyld's documented behaviour and its
 * error messages):
 *  - @rpath/X: for each image of the loader chain, innermost first, each of
 *    its LC_RPATH in order, with @loader_path = that image's directory and
 *    @executable_path = the main executable's directory; then X is appended.
 *    @executable_path/X and @loader_path/X expand directly.
 *  - a candidate that does not exist, lacks the process's architecture, or is
 *    not a loadable dylib is skipped and the next one tried; the first that
 *    loads wins; its LC_ID_DYLIB current_version must be >= the dependency's
 *    compatibility_version.
 *  - /usr/lib/... and /System/... are macOS's: reported as system, not
 *    checked (their files are not on this machine).  The search stops at the
 *    first system candidate (dyld would find it in the shared cache).
 *  - LC_LOAD_WEAK_DYLIB dependencies that do not load are not problems, nor
 *    are the imports bound from them; weak imports may be missing.
 *  - a symbol is found in a library when its export trie has it (following a
 *    re-export entry to the library it names) or, failing that, when one of
 *    its LC_REEXPORT_DYLIB libraries exports it, recursively up to
 *    MO_MAX_REEXPORT_DEPTH.  A re-exported system library may export
 *    anything (not checkable): such symbols count as found.
 * Not modelled: DYLD_* environment variables, fallback paths for leaf
 * names, flat-namespace and main-executable lookups (counted as unchecked),
 * the shared cache's contents, symlinks resolved by the kernel after "..".
 *
 * Ownership: results are owned by the caller and released with the matching
 * *_release / *_free; every input is borrowed for the duration of the call.
 * Nothing here prints.
 */
#ifndef MO_RESOLVE_H
#define MO_RESOLVE_H

#include <stdint.h>

#include "mo_file.h"

#define MO_MAX_REEXPORT_DEPTH 16u   /* re-export hops followed for one symbol */
#define MO_MAX_LOAD_IMAGES    4096u /* images in one closure */

/* The process and the bundle. */
struct mo_load_env {
	const char *root;            /* the bundle directory on this machine ("/tmp/t/UTM.app") */
	const char *install_root;    /* optional: where the bundle lives at run time ("/Applications/UTM.app");
					absolute install names below it map into root.  NULL: none */
	uint32_t cputype, cpusubtype; /* the process's architecture */
};

/* An image that loads others, with the chain of images that loaded it. */
struct mo_loader {
	const char *dir;               /* bundle path of its directory: @loader_path */
	const char *const *rpaths;     /* its LC_RPATH strings as written */
	uint32_t nrpaths;
	const struct mo_loader *parent;/* who loaded it; NULL for the main executable, whose dir is @executable_path */
};

/* A loader for img at bundle directory dir: rpaths borrowed from img (which must outlive l). */
int mo_loader_from_image(struct mo_loader *l, const char *dir, const struct mo_image *img,
			 const struct mo_loader *parent);
void mo_loader_release(struct mo_loader *l);

/* The slice dyld would load into a process of cputype/cpusubtype (exact subtype first), or NULL. */
const struct mo_slice *mo_file_slice_for(const struct mo_file *f, uint32_t cputype, uint32_t cpusubtype);

enum mo_cand_kind {
	MO_CAND_BUNDLE = 1, /* path is a bundle path */
	MO_CAND_SYSTEM,     /* /usr/lib/..., /System/...: macOS's */
	MO_CAND_OUTSIDE,    /* leaves the bundle, or cannot be located in it: never read */
};

struct mo_candidate {
	enum mo_cand_kind kind;
	char *path;         /* BUNDLE: bundle path; otherwise the path as dyld would try it */
	const char *why;    /* OUTSIDE: "climbs above the bundle root", "absolute path outside the bundle", ... (static) */
};

struct mo_candidates {
	struct mo_candidate *v;
	uint32_t n;
};

/* The paths dyld would try for install_name, in order.  *out starts zeroed. */
int mo_resolve_candidates(const struct mo_load_env *env, const struct mo_loader *loader, const char *install_name,
			  struct mo_candidates *out);
void mo_candidates_release(struct mo_candidates *c);

enum mo_dep_state {
	MO_DEP_FOUND = 1,    /* loads from path */
	MO_DEP_SYSTEM,       /* a system library: assumed present */
	MO_DEP_NOT_FOUND,    /* no candidate exists in the bundle */
	MO_DEP_WRONG_ARCH,   /* a candidate exists, none has the process's architecture */
	MO_DEP_NOT_LOADABLE, /* a candidate exists, none is a loadable dylib (malformed, not a dylib, hidden slice) */
	MO_DEP_INCOMPATIBLE, /* found, but its current_version is below the required compatibility_version */
};

struct mo_dep_result {
	enum mo_dep_state state;
	char *path;            /* FOUND, INCOMPATIBLE: bundle path of the file (symlinks resolved) */
	char *tried;           /* dyld-style: "'p' (no such file), 'q' (mach-o file, but is an incompatible architecture (have 'x86_64', need 'arm64'))" */
	uint32_t have_version; /* FOUND, INCOMPATIBLE: its LC_ID_DYLIB current_version */
};

/* Resolves one dependency of the image that loader describes.  *out starts zeroed. */
int mo_resolve_dylib(const struct mo_load_env *env, const struct mo_loader *loader, const struct mo_dylib *dep,
		     struct mo_dep_result *out);
void mo_dep_result_release(struct mo_dep_result *r);

enum mo_problem_kind {
	MO_PROBLEM_IMAGE_ARCH = 1,       /* the checked image has no slice for the process */
	MO_PROBLEM_UNRESOLVED,           /* a dependency is not in the bundle */
	MO_PROBLEM_MISSING_ARCH,         /* found, but without the process's architecture */
	MO_PROBLEM_NOT_LOADABLE,         /* found, but not a loadable dylib; or an image's symbol tables are malformed */
	MO_PROBLEM_INCOMPATIBLE_VERSION, /* found, current_version < compatibility_version */
	MO_PROBLEM_MISSING_SYMBOLS,      /* non-weak imports that the library does not export */
};

struct mo_problem {
	enum mo_problem_kind kind;
	char *image;           /* bundle path of the image whose dependency (or itself) has the problem */
	char *install_name;    /* the dependency as written; NULL for problems of the image itself */
	uint32_t ordinal;      /* 1-based dependency index in image; 0 for the image itself */
	char *path;            /* bundle path of the file dyld would load, when one was found */
	char *detail;          /* one line: paths tried, versions, the parse error */
	uint32_t need_version, have_version; /* INCOMPATIBLE_VERSION: compatibility_version wanted, current_version found */
	char **symbols;        /* MISSING_SYMBOLS: sorted, unique */
	uint32_t nsymbols;
};

struct mo_load_report {
	struct mo_problem *problems; /* in the order the images were checked, then by ordinal */
	uint32_t nproblems;
	uint32_t nimages;            /* images checked */
	uint32_t nsystem;            /* dependencies left to macOS */
	uint32_t nchecked;           /* imports looked up in a bundled library */
	uint32_t nunchecked;         /* imports not checkable: system libraries, flat/main-executable lookups */
};

#define MO_LOAD_CLOSURE 1u /* also check every bundled dylib the image loads, transitively */

/*
 * Checks what dyld checks when the image at bundle path bundle_path is loaded
 * by parent (NULL: it is the main executable).  The image is read from file
 * (a host path, e.g. a build not yet installed), or from root/bundle_path when
 * file is NULL.  Returns 0 with every problem found in *out (none: it would
 * load); an error only when the image itself cannot be read or parsed, or on
 * a bad argument or resource limit.
 */
int mo_load_check(const struct mo_load_env *env, const struct mo_loader *parent, const char *file,
		  const char *bundle_path, unsigned flags, struct mo_load_report **out);
void mo_load_report_free(struct mo_load_report *r);
/* True for /usr/lib/... and /System/...: macOS's own libraries (dyld's shared cache), not the bundle's. */
int mo_path_is_system(const char *path);
/* "unresolved dependency", "missing architecture", ... */
const char *mo_problem_kind_name(enum mo_problem_kind k);

#endif
