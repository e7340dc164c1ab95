/*
 * cs_seal.h - the bundle seal, _CodeSignature/CodeResources: scan a bundle
 * into `files` / `files2`, write the XML plist codesign writes, read one
 * back (v2 and v1-only seals), and verify a bundle against it.
 *
 * Facts: codesign-spec.md §3 (SEC resources.cpp scan, signer.cpp
 * buildResources, StaticCode.cpp validateResources / validateResource /
 * validateNestedCode / validateSymlinkResource / hasWeakResourceRules).
 *
 * Scan (cs_seal_walk): a physical walk of the resource base (symlinks never
 * followed), each path relative to the base matched against the rules plus
 * the signer's exclusions (cs_seal_rules.h):
 *  - a directory matching an exclusion is skipped; one matching a nested rule
 *    whose name contains '.' is a nested bundle (not descended); others are
 *    descended;
 *  - a regular file or symlink with no rule, or an omitting / excluding best
 *    rule, is skipped; symlinks lose the nested flag ("symlinks cannot ever be
 *    nested code").
 * Entries (cs_seal_build):
 *  - files2 regular file: {hash = SHA-1 when SHA-1 is in the digest set,
 *    hash2 = SHA-256, hash3/hash4 for the other types} (+ optional = true),
 *    the bare <data> form when only `hash` would be written;
 *  - files2 symlink: {symlink = "<target>"} (+ optional);
 *  - files2 nested code (a nested bundle, or a Mach-O regular file under a
 *    nested rule): {cdhash = 20 bytes, requirement = "<DR text>"} (+ optional),
 *    both supplied by a callback.  A non-Mach-O file under a nested rule is
 *    sealed by hash (codesign would sign it with extended attributes; the
 *    hash is what cross-platform signers write and Apple's verifier accepts);
 *  - files (v1, `rules`): regular files only, SHA-1; bare <data>, or
 *    {hash, optional = true} for optional rules.
 *
 * Written XML (cs_seal_serialize): libplist's XML writer, which for these
 * tables produces codesign's bytes (tab indentation, <real> weights printed
 * as integers, base64 on one line, trailing newline); dictionary keys in
 * Apple's order (cs_plist_key_cmp).
 *
 * Ownership: struct cs_seal owns everything in it (cs_seal_release).
 */
#ifndef CS_SEAL_H
#define CS_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "cs_bundle.h"
#include "cs_format.h"
#include "cs_seal_rules.h"
#include "ut_err.h"

/* Hash slots of an entry, indexed by CS_HASHTYPE_* (1..4). */
#define CS_SEAL_HASH_SLOTS 5
/* Most entries in one table. */
#define CS_SEAL_MAX_ENTRIES 1000000

enum cs_seal_kind {
	CS_SEAL_FILE = 1,
	CS_SEAL_SYMLINK,
	CS_SEAL_NESTED,
};

struct cs_seal_entry {
	char *path;                /* relative to the resource base */
	enum cs_seal_kind kind;
	int optional;
	unsigned hash_mask;        /* bit t set: hash[t] holds the CS_HASHTYPE t digest */
	uint8_t hash[CS_SEAL_HASH_SLOTS][CS_HASH_MAX_SIZE];
	char *symlink;             /* CS_SEAL_SYMLINK: the target */
	int has_cdhash;
	uint8_t cdhash[CS_CDHASH_LEN]; /* CS_SEAL_NESTED */
	char *requirement;         /* CS_SEAL_NESTED: designated requirement text */
};

/* A table of entries sorted by path (strcmp) with unique paths. */
struct cs_seal_files {
	struct cs_seal_entry *v;
	size_t n, cap;
};

struct cs_seal {
	int has_files, has_files2;
	int has_rules, has_rules2;
	struct cs_rules rules, rules2;
	struct cs_seal_files files, files2;
};

void cs_seal_init(struct cs_seal *s);
void cs_seal_release(struct cs_seal *s);
/* 2 when the seal has files2 (what a verifier uses), else 1. */
int cs_seal_version(const struct cs_seal *s);
/* The entry for a path, or NULL. */
const struct cs_seal_entry *cs_seal_find(const struct cs_seal_files *t, const char *path);

/* ---- walk ---- */

enum cs_walk_kind {
	CS_WALK_FILE = 1,          /* regular file selected by the rules */
	CS_WALK_SYMLINK,           /* symlink selected by the rules (nested flag stripped) */
	CS_WALK_NESTED_DIR,        /* directory matching a nested rule, name with '.' (not descended) */
	CS_WALK_DIR,               /* directory descended into (informational) */
};

/* abs = base + "/" + rel; flags = the best rule's flags (0 for CS_WALK_DIR). Non-zero return stops the walk. */
typedef int (*cs_seal_walk_fn)(void *ctx, const char *abs, const char *rel, enum cs_walk_kind kind,
			       uint32_t flags);

/*
 * Walks base in byte order of names.  Fifos, sockets and devices selected by
 * the rules are UT_EUNSUPPORTED; paths longer than CS_SEAL_PATH_MAX or deeper
 * than CS_SEAL_DEPTH_MAX are refused.
 */
#define CS_SEAL_PATH_MAX  4096
#define CS_SEAL_DEPTH_MAX 128
int cs_seal_walk(const char *base, const struct cs_rules *rules, cs_seal_walk_fn fn, void *ctx);

/* ---- build ---- */

/*
 * Supplies the seal of nested code at path (a bundle directory when
 * is_bundle, else a Mach-O file); rel is its files2 key.  Writes the 20-byte
 * cdhash and a malloc'd requirement text.  Returns 0 or a negative code with
 * a message.
 */
typedef int (*cs_seal_nested_fn)(void *ctx, const char *path, const char *rel, int is_bundle,
				 uint8_t cdhash[CS_CDHASH_LEN], char **requirement);

struct cs_seal_opts {
	unsigned hash_types[4];    /* digest set (CS_HASHTYPE_*), e.g. {1, 2} or {2}; nhash 0: {2} */
	unsigned nhash;
	int no_v1;                 /* leave out files (kSecCSSignNoV1); rules is still written */
	int v1_only;               /* leave out files2 / rules2 (kSecCSSignV1) */
	const struct cs_rules *rules;  /* NULL: the defaults for the bundle's resources directory */
	const struct cs_rules *rules2;
	cs_seal_nested_fn nested;  /* NULL: cs_nested_info_read on the code as it is on disk */
	void *nested_ctx;
	const char *host_arch;     /* for the default nested callback (see cs_nested_info_read) */
};

/*
 * Scans base (the resource base; main_exec relative to it, excluded, may be
 * NULL) and fills *out (initialised here).  resources selects the default
 * rules ("Resources/" or "").
 */
int cs_seal_build(struct cs_seal *out, const char *base, const char *resources, const char *main_exec,
		  const struct cs_seal_opts *o);
/* The same for an opened bundle (its base, resources directory and main executable). */
int cs_seal_build_bundle(struct cs_seal *out, const struct cs_bundle *b, const struct cs_seal_opts *o);

/* ---- read / write ---- */

/*
 * Parses CodeResources bytes (XML or binary plist).  The root must be a
 * dictionary with files2 + rules2 and/or files + rules (each table needs its
 * rules).  Entries are validated: data / dictionary forms only, `hash` 20
 * bytes, `hash2` 32, `hash3` 20, `hash4` 48, `cdhash` 20, `requirement` and
 * `symlink` strings, `optional` a boolean, one kind per entry (hash, symlink
 * or requirement).  Unknown keys are ignored.  Errors name the table and path.
 * A binary plist is read through its XML form (libplist asserts on NUL
 * characters in binary-plist keys; the XML round trip cuts them there).
 */
int cs_seal_parse(struct cs_seal *s, const uint8_t *p, size_t len, const char *name);
int cs_seal_read_file(struct cs_seal *s, const char *path);

/* Builds the plist codesign writes (files, files2, rules, rules2 as present). Caller plist_free()s. */
int cs_seal_to_plist(const struct cs_seal *s, plist_t *out);
/* The XML bytes (malloc'd, caller frees). */
int cs_seal_serialize(const struct cs_seal *s, uint8_t **out, size_t *len);
/* Writes the XML atomically to path (creating the parent directory when missing). */
int cs_seal_write_file(const struct cs_seal *s, const char *path);

/* ---- nested code as it is on disk ---- */

#define CS_NESTED_MAX_CDHASHES 64

struct cs_nested_info {
	uint8_t cdhash[CS_CDHASH_LEN]; /* best CodeDirectory of the host slice, truncated */
	char *requirement;         /* designated requirement text (malloc'd) */
	int adhoc;                 /* the host slice's best CD has CS_ADHOC */
	unsigned ncdhashes;        /* every CD of every slice, host slice first, then by cputype */
	uint8_t cdhashes[CS_NESTED_MAX_CDHASHES][CS_CDHASH_LEN];
};

/*
 * Reads nested code (a bundle: its main executable; else the Mach-O file).
 * host_arch chooses the slice whose best CodeDirectory gives cdhash, like
 * codesign's host (spec §1.15c): the slice of that name, else the first slice
 * of the same CPU type, else the first slice; NULL means "arm64" (an Apple
 * silicon host, as cs_sign's default).  Files signed on an Intel host (the
 * corpus) record the x86_64 slice: pass "x86_64" to reproduce them.  The
 * requirement is the embedded designated requirement (slot 2, type 3) as
 * text, or for ad-hoc code without one `cdhash H"<hex>" or cdhash H"<hex>"
 * ...` over every CodeDirectory (slot order) of every slice (host first,
 * then by cputype) - what codesign writes.  Signed code without an explicit
 * designated requirement is UT_EUNSUPPORTED.
 */
int cs_nested_info_read(struct cs_nested_info *out, const char *path, int is_bundle, const char *host_arch);
void cs_nested_info_release(struct cs_nested_info *n);

/* A cs_seal_nested_fn over cs_nested_info_read; ctx is the host_arch string (or NULL). */
int cs_seal_nested_from_disk(void *ctx, const char *path, const char *rel, int is_bundle,
			     uint8_t cdhash[CS_CDHASH_LEN], char **requirement);

/* ---- verify ---- */

enum cs_seal_problem {
	CS_SEAL_ADDED = 1,         /* file added */
	CS_SEAL_MISSING,           /* file missing */
	CS_SEAL_MODIFIED,          /* file modified: hash, symlink target or type differs */
	CS_SEAL_NESTED_INVALID,    /* nested code is modified or invalid */
	CS_SEAL_WEAK_RULES,        /* strict: weak resource rules */
	CS_SEAL_WEAK_ENVELOPE,     /* strict: v1-only seal */
	CS_SEAL_SYMLINK_ESCAPES,   /* strict: a symlink leaves the bundle (or is absolute outside /System, /Library) */
	CS_SEAL_LAYOUT,            /* strict: bundle structure (cs_bundle_check_layout) */
	CS_SEAL_INFO_PLIST,        /* slot -1 does not match the Info.plist bytes */
	CS_SEAL_RESOURCE_DIR,      /* slot -3 does not match the CodeResources bytes */
	CS_SEAL_NO_RESOURCES,      /* seal missing or unreadable while the signature binds one (or the reverse) */
};

struct cs_seal_finding {
	enum cs_seal_problem problem;
	char *path;                /* relative to the verified bundle's root (nested findings prefixed) */
	char *detail;
};

struct cs_seal_report {
	struct cs_seal_finding *v;
	size_t n, cap;
	size_t dropped;            /* findings not kept past CS_SEAL_MAX_FINDINGS */
};
#define CS_SEAL_MAX_FINDINGS 100000

/* codesign's words: "file added", "file missing", "file modified", ... */
const char *cs_seal_problem_text(enum cs_seal_problem p);
int cs_seal_report_add(struct cs_seal_report *r, enum cs_seal_problem p, const char *path, const char *fmt, ...)
	UT_PRINTF(4, 5);
void cs_seal_report_release(struct cs_seal_report *r);

/*
 * Checks nested code at path (rel: its files2 key) against its recorded
 * entry, adding findings to rep with paths prefixed by prefix.  Returns 0
 * when the check ran, negative when it could not.
 */
struct cs_seal_verify_opts;
typedef int (*cs_seal_nested_check_fn)(void *ctx, const char *path, const char *rel, int is_bundle,
				       const struct cs_seal_entry *recorded, const struct cs_seal_verify_opts *o,
				       const char *prefix, struct cs_seal_report *rep);

/* A finding of cs_seal_verify (path: prefix + key) for a caller that keeps its own findings. */
typedef int (*cs_seal_finding_fn)(void *ctx, enum cs_seal_problem p, const char *path, const char *detail);
/* A sealed regular file at abs (path: prefix + key) whose digests must match e; 0 when accepted. */
typedef int (*cs_seal_file_check_fn)(void *ctx, const char *abs, const char *path,
				     const struct cs_seal_entry *e);
/* The directory walk stopped with err (not UT_ENOMEM); returns the code cs_seal_verify returns instead. */
typedef int (*cs_seal_walk_failed_fn)(void *ctx, int err);

struct cs_seal_verify_opts {
	int strict;                /* weak rules, v1-only seals, symlink containment, layout */
	int deep;                  /* verify nested bundles' seals recursively (codesign --deep) */
	cs_seal_nested_check_fn nested; /* NULL: cs_seal_nested_check_default */
	void *nested_ctx;
	const char *stack_root;    /* strict symlinks must resolve inside this directory; NULL: the bundle root */
	/*
	 * Hooks for a caller that collects its own findings and hashes later
	 * (cs_bverify), all given hook_ctx.  NULL: findings go to rep; files are
	 * hashed now ("<hash> digest differs"); a failed walk is returned as it
	 * is.  After a failed walk the missing-file pass never runs.
	 */
	cs_seal_finding_fn finding;
	cs_seal_file_check_fn file;
	cs_seal_walk_failed_fn walk_failed;
	void *hook_ctx;
};

/*
 * Compares base against the seal: with files2/rules2 when present, else
 * files/rules (regular files only).  Every path the rules select must have
 * an entry (else "file added"), every non-optional entry must be found
 * ("file missing"), hashes of every type an entry carries must match, kinds
 * must agree (file / symlink / nested), symlink targets must be equal, and
 * nested entries are handed to o->nested.  Findings carry prefix + path.
 * A symlink that cannot be read is a CS_SEAL_MODIFIED finding.  rep may be
 * NULL when o->finding is set.  Returns 0 when the comparison ran.
 */
int cs_seal_verify(const struct cs_seal *s, const char *base, const char *main_exec,
		   const struct cs_seal_verify_opts *o, const char *prefix, struct cs_seal_report *rep);

/*
 * Whole bundle: reads its CodeResources, compares the seal (cs_seal_verify),
 * checks the main executable's special slots (cs_bundle_check_slots) and,
 * when strict, weak rules, v1-only seals and the layout.  Paths in findings
 * are relative to the bundle root, after prefix.
 */
int cs_seal_verify_bundle(const struct cs_bundle *b, const struct cs_seal_verify_opts *o, const char *prefix,
			  struct cs_seal_report *rep);

/*
 * Slots -1 and -3 of every CodeDirectory of every slice of the bundle's main
 * executable against the Info.plist and CodeResources bytes: data present
 * must hash (with the CD's hash type) to the slot, data absent must leave the
 * slot absent (all zero or beyond nSpecialSlots).  Findings CS_SEAL_INFO_PLIST
 * / CS_SEAL_RESOURCE_DIR name the file and the slice.  A main executable that
 * cannot be read or has no signature is an error (negative return).
 */
int cs_bundle_check_slots(const struct cs_bundle *b, const char *prefix, struct cs_seal_report *rep);

/*
 * The default nested check: the recorded requirement must be the nested
 * code's designated requirement text, or (ad-hoc form) list one of its
 * current cdhashes; the nested code's own signature must verify (cs_verify_file,
 * every slice; a nested bundle with its Info.plist and CodeResources bytes);
 * with o->deep a nested bundle's seal is verified recursively.
 */
int cs_seal_nested_check_default(void *ctx, const char *path, const char *rel, int is_bundle,
				 const struct cs_seal_entry *recorded, const struct cs_seal_verify_opts *o,
				 const char *prefix, struct cs_seal_report *rep);

#endif
