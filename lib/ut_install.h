/*
 * ut_install.h - install a user's QEMU dylib into UTM.app, and re-sign
 * components whose entitlements were lost: plan every change, stage it,
 * then apply it in one journaled transaction (ut_txn.h).
 *
 *   struct ut_install *in = NULL;
 *   rc = ut_install_plan(&in, &opts, profiles);   reads, checks, stages; writes nothing in the bundle
 *   (print in: the plan, or in->problems when rc == UT_EREFUSED)
 *   if (!rc && !opts.dry_run) rc = ut_install_apply(in);
 *   ut_install_free(in);                           removes the staging directory
 *
 * Planning (ut_install_plan), in order; every check runs and every problem
 * is collected, then UT_EREFUSED ("refused: N problems") when there is any:
 *  1. the bundle: UTM.app read (ut_utmapp.h); its state (ut_state_inspect):
 *     interrupted, locked by a live utmpatch, or drifted from the installed
 *     record (unless force) are problems; a QEMULauncher of this bundle that
 *     is running (opts.check_processes) is one;
 *  2. the target framework: opts.target, else from the dylib's install name
 *     by UTM's rule (ut_utm_libname); it must exist in Contents/Frameworks,
 *     and when both are known they must agree;
 *  3. the path plan, per slice of the dylib: the new id is exactly the
 *     pristine framework's LC_ID_DYLIB; every dependency outside /usr/lib and
 *     /System maps to @rpath/N.framework/Versions/A/N, and N.framework must be
 *     in Contents/Frameworks (each one missing is a problem);
 *  4. the rewrite (ut_macho_edit into the staging directory): a header too
 *     small for the new names is a problem naming bytes needed and available;
 *  5. slices: every architecture opts.need_arch names (NULL: every slice of
 *     the pristine binary) must be in the dylib unless allow_missing_arch;
 *     pristine slices of architectures the dylib lacks are kept (a universal
 *     file is written, pristine order);
 *  6. the load check (mo_load_check) per slice of the dylib, as QEMULauncher
 *     of that architecture loads it (its LC_RPATHs): every dependency found
 *     in the bundle with the architecture and a compatible version, every
 *     symbol imported from a bundled framework exported there;
 *  7. entry points (utm-domain §1.4): main, or swtpm_main, or all of
 *     qemu_init, qemu_main_loop and qemu_cleanup, in every slice of the dylib;
 *  8. --sysroot: each dependency looked up by file name in the given
 *     directories; found, its LC_ID_DYLIB and current version are shown next
 *     to the bundled framework's, and a bundled framework older than the
 *     library the dylib was linked against is a warning (symbols the dylib
 *     imports are checked by 6 either way);
 *  9. the signing closure (never --deep): the framework (ad hoc or
 *     identity); when QEMULauncher enforces library validation (hardened
 *     runtime or CS_REQUIRE_LV, no disable-library-validation) and a
 *     framework it would load has no Team ID or another team's, QEMULauncher
 *     is re-signed with its pristine entitlements minus the unattainable ones
 *     plus cs.disable-library-validation; then every enclosing bundle is
 *     resealed inside-out (QEMUHelper.xpc when QEMULauncher changed, UTM.app),
 *     each with its pristine entitlements minus the unattainable ones.
 *     minimal: the framework only, with a warning per thing that breaks;
 * 10. the entitlement plan of each re-signed executable (ut_ent_plan_compute,
 *     profiles/); a provisioning profile given for an identity grants its
 *     restricted keys to the component whose bundle id its
 *     application-identifier names, and replaces that component's
 *     embedded.provisionprofile;
 * 11. staging: the closure is signed into a private directory under
 *     opts.work_dir (cs_sign_file writes there; seals are built from the
 *     bundle with the staged nested code's cdhash and requirement); the files
 *     whose bytes differ from the bundle's are the ones the transaction
 *     changes (in->files).
 *
 * Applying (ut_install_apply): every directory written is probed first (a
 * refusal explains macOS's App Management permission on EPERM); then one
 * transaction: lock, back up every file in in->files (ut_txn_plan_file, with
 * its pristine cdhash), replace each from the staging directory, deep+strict
 * verify (cs_bverify_bundle; minimal: the framework only), commit with the
 * install's description (target, dylib sha256, signer, pristine
 * entitlements of the re-signed executables).  Any failure after the
 * transaction began undoes it (ut_txn_abort): the bundle is back to its bytes
 * before the run, and the error says so.
 *
 * Nothing here prints or reads the environment (opts carries the test hook,
 * the work directory and the state directory).
 */
#ifndef UT_INSTALL_H
#define UT_INSTALL_H

#include <stddef.h>
#include <stdint.h>

#include "cs_pki.h"
#include "ut_profiles.h"
#include "ut_state.h"
#include "ut_utmapp.h"

#define UT_INSTALL_MAX_SYSROOTS 16
#define UT_INSTALL_MAX_PROFILES 8

struct ut_install_opts {
	const char *app;             /* UTM.app */
	const char *dylib;           /* install: the user's QEMU build; NULL for ut_restore_plan */
	const char *target;          /* framework name ("qemu-aarch64-softmmu"), or NULL: from the install name */
	const char *const *sysroots; /* lib directories of the user's sysroot (extra checks), may be NULL */
	size_t nsysroots;
	const struct cs_identity *identity; /* NULL: ad hoc */
	const char *const *profiles; /* provisioning profile files (with an identity) */
	size_t nprofiles;
	const struct cs_trust *trust; /* extra anchors for the verify step and the profiles; NULL: Apple's only */
	int minimal;                 /* re-sign only the framework */
	int dry_run;                 /* ut_install_apply refuses */
	int force;                   /* proceed although the bundle drifted from the installed record */
	int allow_missing_arch;      /* keep pristine slices for architectures the dylib lacks */
	const char *need_arch;       /* the Mac's architecture; NULL: every slice of the pristine binary */
	const char *host_arch;       /* whose slice gives cdhashes and signature facts; NULL: need_arch, else "arm64" */
	int check_processes;         /* refuse while a QEMULauncher of this bundle runs */
	const char *state_dir;       /* required */
	const char *work_dir;        /* staging goes into a new directory here; NULL: the state directory */
	unsigned fail_after;         /* test hook: SIGKILL after the n-th journal record */
	const char *tool_version;    /* journaled */
	int64_t signing_time;        /* identity: CMS signing time; 0: now */
	/* optional: told of each long step ("signing", "verifying", ...); done/total count bytes where the
	   step hashes files, else both 0 */
	void (*progress)(void *ctx, const char *step, uint64_t done, uint64_t total);
	void *progress_ctx;
};

enum ut_inst_problem_kind {
	UT_IP_STATE = 1,    /* interrupted, locked or drifted bundle */
	UT_IP_RUNNING,      /* a QEMULauncher of this bundle runs */
	UT_IP_TARGET,       /* no such framework, unknown target, target and install name disagree */
	UT_IP_NOT_DYLIB,    /* the file is not a 64-bit dylib */
	UT_IP_UNSHIPPED,    /* a dependency UTM does not ship */
	UT_IP_PADDING,      /* the new install names do not fit the header padding */
	UT_IP_ARCH,         /* a needed slice is missing (or QEMULauncher lacks the dylib's) */
	UT_IP_LOAD,         /* what dyld would refuse (load check) */
	UT_IP_ENTRY,        /* UTM's entry points are not exported */
	UT_IP_SIGNING,      /* a provisioning profile that does not fit, a component that cannot be signed */
	UT_IP_PERMISSION,   /* the bundle cannot be written */
};

struct ut_inst_problem {
	enum ut_inst_problem_kind kind;
	char *arch;            /* the slice, or NULL */
	char *subject;         /* the library, framework, file or component concerned */
	char *detail;          /* one line */
	char **symbols;        /* UT_IP_LOAD missing symbols / UT_IP_ENTRY missing entry points */
	size_t nsymbols;
};

/* "bundle state", "running", "target", ... */
const char *ut_inst_problem_kind_name(enum ut_inst_problem_kind k);

enum ut_dep_kind {
	UT_DEP_SYSTEM = 1,  /* /usr/lib, /System: left as it is */
	UT_DEP_BUNDLED,     /* maps to a framework UTM ships */
	UT_DEP_UNSHIPPED,   /* maps to a framework UTM does not ship */
};

struct ut_inst_dep {
	char arch[32];
	char *install_name;    /* as written in the dylib */
	enum ut_dep_kind kind;
	int weak;
	char *name;            /* UTM's name N (not for system libraries) */
	char *new_name;        /* @rpath/N.framework/Versions/A/N (not for system libraries) */
	uint32_t compat_version, current_version; /* as the dylib records them */
	uint32_t bundled_version; /* BUNDLED: the framework's current_version */
	char *sysroot_file;    /* --sysroot: the library found, or NULL */
	char *sysroot_id;      /* its LC_ID_DYLIB */
	uint32_t sysroot_version;
};

/* One install-name change, for every slice it applies to. */
struct ut_inst_rewrite {
	int is_id;             /* LC_ID_DYLIB, else a dependency */
	char *old_name, *new_name;
	char archs[64];        /* "arm64 x86_64" */
};

struct ut_inst_slice {
	char arch[32];
	int from_dylib;        /* 0: the pristine slice, kept */
	uint64_t size;
};

enum ut_inst_action {
	UT_ACT_FRAMEWORK = 1,  /* the new framework binary, signed */
	UT_ACT_RESIGN,         /* re-signed with a new entitlement set */
	UT_ACT_RESEAL,         /* resealed: nested code inside it changed */
};

/* "framework", "re-sign", "reseal". */
const char *ut_inst_action_name(enum ut_inst_action a);

struct ut_inst_comp {
	size_t comp;           /* index into app->v */
	enum ut_inst_action action;
	const char *why;       /* static */
	int has_plan;          /* executables: the entitlement plan */
	struct ut_ent_plan plan;
	plist_t base;          /* the entitlements the plan started from (owned) */
	const char *base_from; /* "pristine record", "current signature", "UTM's release set + current" (static) */
	char *profile;         /* provisioning profile installed as its embedded.provisionprofile, or NULL */
	char signer[96];       /* "ad hoc" / "identity 'CN' (team T)" */
	char old_cdhash[41], new_cdhash[41]; /* host slice; new one "" until staged */
	char *requirement;     /* designated requirement of the staged code */
};

/* A file the transaction replaces. */
struct ut_inst_file {
	char *rel;             /* relative to UTM.app */
	char *staged;          /* the new bytes */
	int existed;
	uint64_t old_size, new_size;
	char old_sha256[65], new_sha256[65];
	char old_cdhash[41], new_cdhash[41]; /* Mach-O files: host slice; "" otherwise */
};

struct ut_inst_times {
	double check;          /* reading the bundle, load check, entry points (seconds) */
	double rewrite;        /* install names and the universal merge */
	double hash;           /* sha256 of the dylib, staged files compared with and hashed against the bundle's */
	double sign;           /* the framework's code signature (page hashing) */
	double reseal;         /* seals and signatures of the other components */
	double backup;         /* compressed backups of every changed file */
	double apply;          /* files replaced */
	double verify;         /* deep+strict verify */
	double commit;
	double total;
};

struct ut_install {
	/* inputs (copies) */
	char *dylib;           /* NULL for a restore */
	char dylib_sha256[65];
	uint64_t dylib_size;
	int minimal, dry_run, force, restore;
	/* the bundle */
	struct ut_utmapp *app;
	struct ut_state_report state;
	/* target */
	char *target;          /* framework name */
	const char *target_from; /* "--target", "install name" (static) */
	long fw;               /* index of the target framework in app->v, -1 */
	char *pristine_id;     /* its LC_ID_DYLIB */
	char *dylib_id;        /* the dylib's LC_ID_DYLIB */
	/* path plan, slices, load check */
	struct ut_inst_dep *deps;
	size_t ndeps, cap_deps;
	struct ut_inst_rewrite *rewrites;
	size_t nrewrites, cap_rewrites;
	struct ut_inst_slice *slices;  /* of the new framework binary */
	size_t nslices, cap_slices;
	char entry[96];        /* the entry points found ("qemu_init, qemu_main_loop, qemu_cleanup") */
	uint32_t nchecked, nunchecked, nimages; /* load check totals over the slices */
	/* signing */
	int launcher_lv;       /* QEMULauncher enforces library validation now */
	struct ut_inst_comp *closure;  /* inside-out */
	size_t nclosure, cap_closure;
	struct ut_inst_file *files;
	size_t nfiles, cap_files;
	/* findings */
	struct ut_inst_problem *problems;
	size_t nproblems, cap_problems;
	char **warnings;
	size_t nwarnings, cap_warnings;
	/* result of ut_install_apply */
	char *txn_id;
	int applied;           /* committed */
	int rolled_back;       /* a failure after the transaction began was undone */
	char **verify_failures;/* deep verify: "component: problem: file" lines */
	size_t nverify_failures, cap_verify;
	struct ut_inst_times times;
	/* private */
	char *stage;
	const struct ut_install_opts *opts; /* borrowed from the plan call; ut_install_apply uses it */
	const struct ut_profiles *profiles;
	void *priv;
};

/*
 * Plans an install of opts->dylib into opts->app (see above).  Returns 0 (a
 * plan to apply, or to print for a dry run), UT_EREFUSED (in->problems lists
 * why), or another error (message recorded).  *out is set whenever it could
 * be allocated, also on failure; release it with ut_install_free().  opts and
 * profiles are borrowed until then.
 */
int ut_install_plan(struct ut_install **out, const struct ut_install_opts *opts, const struct ut_profiles *profiles);

/*
 * Plans `entitlements --restore`: every component (executable) missing a
 * key UTM's profile requires - QEMULauncher also cs.disable-library-validation
 * when it enforces library validation while a framework it loads has no Team
 * ID or another team's - is re-signed with the entitlements of the pristine
 * record (when utmpatch installed something), else UTM's release set merged
 * with its current ones, minus the unattainable ones plus the missing
 * required keys; then its enclosing bundles are resealed inside-out.  No
 * framework binary changes.  No component to restore: 0 with an empty
 * closure.  Same conventions as ut_install_plan.
 */
int ut_restore_plan(struct ut_install **out, const struct ut_install_opts *opts, const struct ut_profiles *profiles);

/* Applies a plan (see above).  UT_EINVAL for a dry run or a refused plan. */
int ut_install_apply(struct ut_install *in);

void ut_install_free(struct ut_install *in);

/*
 * A ut_cdhash_fn for ut_rollback (ctx: the host arch string or NULL):
 * the cdhash of a Mach-O file's host slice, as install records it.
 */
int ut_install_cdhash_of(void *ctx, const char *path, char hex[41]);

/*
 * The profiles/ data directory: given (--profiles, or $UTMPATCH_PROFILES as
 * the caller reads it) when not NULL; else found next to the running
 * program: <bin>/../profiles, <bin>/../../profiles (build trees),
 * <bin>/../share/utmpatch/profiles.  *out is malloc'd.
 */
int ut_install_find_profiles(char **out, const char *given);

/* Meta keys of the installed record. */
#define UT_META_TARGET "target"
#define UT_META_FRAMEWORK "framework"
#define UT_META_DYLIB "dylib"
#define UT_META_DYLIB_SHA256 "dylib_sha256"
#define UT_META_SIGNER "signer"
#define UT_META_MINIMAL "minimal"
#define UT_META_CLOSURE "closure"
#define UT_META_OPERATION "operation"        /* "install" (a restore adds "restored") */
#define UT_META_HOST_ARCH "host_arch"        /* the slice recorded cdhashes are of */
#define UT_META_PRISTINE_ENTS "pristine_entitlements:" /* + executable rel; value: hex of the XML plist */

#endif
