/*
 * cs_bsign.h - sign a bundle the way `codesign --force --sign` does: seal its
 * resources into _CodeSignature/CodeResources, then sign its main executable
 * with the Info.plist (slot -1) and the seal (slot -3) bound; with `nested`,
 * every nested component first, inside-out (`codesign --deep`, done right:
 * each component keeps its own identifier and entitlements).
 *
 * Facts: codesign-spec.md §3 (seal, nested code), §4.3 (designated
 * requirements), utm-domain.md §2.3 / §5 (UTM's components and how its
 * releases are signed); SEC signer.cpp (sign, prepare, buildResources,
 * signNested).
 *
 * The signed unit is the bundle's resource base (cs_bundle.h): Contents/ for
 * apps, XPC services and plug-ins, the Current version directory for a
 * framework.  A framework may be given as X.framework or as its version
 * directory X.framework/Versions/A; both give the same result.
 *
 * One bundle, in order:
 *  1. the digest set: SHA-1 + SHA-256 when the main executable targets an old
 *     OS (cs_sign.h, "hash types"), else SHA-256; the seal uses the same set as
 *     the CodeDirectories (SEC prepare -> buildResources);
 *  2. the seal (cs_seal_build_bundle, default rules, files + files2); nested
 *     code is recorded as {cdhash, requirement}: for code signed in this run,
 *     what was just signed (the host slice's best cdhash from the signer's
 *     report, the requirement read back and, for certificate signatures,
 *     checked against the one derived for the identity); for code left as it
 *     is, read from disk (cs_nested_info_read).  Unsigned nested code is an
 *     error that names it ("sign with nested");
 *  3. _CodeSignature/CodeResources written atomically (the XML codesign
 *     writes);
 *  4. the main executable signed in place (cs_sign_file) with those exact
 *     CodeResources bytes and the Info.plist bytes; identifier: given, else
 *     preserved (CS_PRESERVE_IDENTIFIER), else CFBundleIdentifier.
 *
 * Nested components (opts.nested; cs_bundle_tree order, so everything inside
 * a component is signed before it):
 *  - nested bundles are signed as above; nested bare Mach-O files (helper
 *    tools like MacOS/utmctl, loose dylibs) are signed as Mach-O files;
 *  - each keeps its identifier and entitlements: identifier and entitlements
 *    are preserved from its current signature (never from a linker
 *    signature), unless an entry of opts.ents names the component; one
 *    entitlements file is never applied to every component;
 *  - identity, runtime, flags, preserve (flags / runtime), signing time, host
 *    architecture, page size apply to every component.
 *
 * Writes and failures: every file is replaced atomically (temp file +
 * rename), never half-written.  Before the first write everything that can be
 * checked is checked: the bundle tree, each component's Info.plist and main
 * executable (a Mach-O file that parses), the entitlement entries (each names a
 * component signed in this run and parses as a plist).  A failure after the
 * first write (a refused Mach-O, an I/O error) leaves the components signed so
 * far re-signed and the rest as they were; the message names the component and
 * says how many were done.  Signing again completes the job.  A transaction
 * with a journal around it is the caller's (the install command's) business.
 *
 * Nothing here prints.
 */
#ifndef CS_BSIGN_H
#define CS_BSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "cs_format.h"
#include "cs_sign.h"

/* Entitlements for one component, overriding what it would keep. */
struct cs_bsign_ent {
	const char *rel;             /* the component as cs_bundle_tree names it, relative to the
					signed bundle's root ("Contents/MacOS/utmctl"); "" = the bundle itself */
	const uint8_t *data;         /* entitlements plist (XML or binary) or 0xfade7171 blob; NULL: none */
	size_t len;
};

struct cs_bsign_item;

struct cs_bsign_opts {
	/*
	 * Options for every component.  identifier and entitlements apply to the
	 * top bundle only.  info_plist, resources, slot_digests, name and
	 * linker_signed must be unset (the bundle supplies them; UT_EINVAL).
	 */
	struct cs_sign_opts sign;
	int nested;                  /* sign nested code first (else it is sealed as it is on disk) */
	const struct cs_bsign_ent *ents; /* per-component entitlements (the top may be listed as "") */
	size_t nents;
	/* Called after each component is signed (may be NULL). */
	void (*progress)(void *ctx, const struct cs_bsign_item *it, size_t index, size_t count);
	void *progress_ctx;
};

/* One component signed. */
struct cs_bsign_item {
	char *path;                  /* as found (the bundle root given + rel) */
	char *rel;                   /* relative to the signed bundle's root; "" for the top */
	int is_bundle;
	size_t nseal;                /* bundles: files2 entries written */
	uint8_t cdhash[CS_CDHASH_LEN]; /* what a parent seal records: the host slice's best cdhash */
	char *requirement;           /* and the designated requirement text */
	struct cs_sign_report sign;  /* the main executable's signature */
};

struct cs_bsign_report {
	struct cs_bsign_item *v;     /* in signing order (inside-out, the top last) */
	size_t n, cap;
};

void cs_bsign_report_release(struct cs_bsign_report *r);

/*
 * Signs the bundle at path.  rep (may be NULL) receives every component
 * signed; release it with cs_bsign_report_release (also after a failure: it
 * then lists what was signed before the failure).
 */
int cs_bsign_bundle(const char *path, const struct cs_bsign_opts *o, struct cs_bsign_report *rep);

/*
 * The digest set codesign uses for a main executable (and so for its bundle's
 * seal): {SHA-1, SHA-256} when any slice targets macOS < 10.11.4, iOS/tvOS <
 * 11 or watchOS < 12 (SEC machorep.cpp prepareForSigning), else {SHA-256}.
 */
int cs_bsign_hash_types(const char *exec_path, unsigned types[2], unsigned *n);

#endif
