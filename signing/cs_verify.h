/*
 * cs_verify.h - judge the embedded code signatures of a Mach-O file, every
 * slice, like `codesign --verify --strict --all-architectures` does for a
 * single file (spec §4.2, §8).  Nothing here prints.
 *
 * Per slice, in order:
 *   1. the signature is located and loaded (cs_embedded.h): no
 *      LC_CODE_SIGNATURE is "code object is not signed at all"; any structural
 *      defect of the signature data (SuperBlob, CodeDirectory integrity,
 *      duplicate hash types, ...) is "invalid or unsupported format for
 *      signature" with the defect named;
 *   2. strict structure: __LINKEDIT extends to the end of the slice, the
 *      signature lies inside it, and every CodeDirectory's code limit is the
 *      signature offset;
 *   3. code pages, with every CodeDirectory (codesign uses only the best one;
 *      we check all, so that no CD the kernel might pick is stale);
 *   4. special slots of every CodeDirectory, 1..min(nSpecialSlots, 11), with
 *      Security's rule (SEC StaticCode.cpp component): data present must hash
 *      to the slot, data absent must leave the slot all zero.  -2, -5, -7, -8..-11
 *      are the blobs of the SuperBlob; -1 is the caller's Info.plist, else the
 *      __TEXT,__info_plist section; -3 is the caller's CodeResources bytes.
 *      A bound -1 or -3 with nothing to check it against is a note ("bound but
 *      not checked (not a bundle)"), not a failure: codesign would fail such a
 *      file (errSecCSInfoPlistFailed / errSecCSResourceDirectoryFailed) because
 *      it was sealed as part of a bundle, which is checked at the bundle level;
 *   5. entitlement blobs must decode (XML plist dict, DER either shape) and
 *      must be bound by every CodeDirectory (the kernel refuses unbound ones);
 *      XML and DER that say different things are a note;
 *   6. unless the CodeDirectory has the ad-hoc flag: the CMS signature (slot
 *      0x10000) through cs_cms_verify over the slot-0 CodeDirectory with the
 *      cdhashes of all CDs; a missing or empty CMS is "code object is not
 *      signed at all" (SEC signature() -> errSecCSUnsigned); then the team ID
 *      check (§4.2 step 5) for Apple developer chains.  Like codesign (implicit
 *      anchors) a chain ending at a self-signed non-Apple root is valid; its kind
 *      is "other certificate".  cs_verify_opts.trust adds anchors (test PKIs).
 *
 * 32-bit and big-endian slices are verified in full: the signature format does
 * not depend on the Mach-O width, only finding LC_CODE_SIGNATURE does.
 */
#ifndef CS_VERIFY_H
#define CS_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "cs_cms.h"
#include "cs_embedded.h"
#include "cs_pki.h"
#include "mo_file.h"
#include "ut_bytes.h"

/* What a slice is signed with. */
enum cs_verify_kind {
	CS_VK_UNSIGNED = 0,        /* no LC_CODE_SIGNATURE */
	CS_VK_UNREADABLE,          /* signature data malformed or unsupported */
	CS_VK_NO_SIGNER,           /* neither ad-hoc nor a CMS signature */
	CS_VK_LINKER,              /* ad-hoc + linker-signed (ld64, lld) */
	CS_VK_ADHOC,               /* ad-hoc */
	CS_VK_APPLE_PLATFORM,      /* Apple Software Signing */
	CS_VK_DEVELOPER_ID,
	CS_VK_APPLE_DEVELOPMENT,   /* Apple Development / iOS (WWDR CA) */
	CS_VK_APPLE_OTHER,         /* an Apple (or listed) root, none of the above */
	CS_VK_OTHER_CERT,          /* a chain to a root that is neither Apple's nor listed */
	CS_VK_CERT_UNVERIFIED,     /* a CMS signature that did not verify */
};

/* A finding; every one but CS_PROB_NOTE makes the slice invalid. The texts are codesign's. */
enum cs_problem {
	CS_PROB_NONE = 0,
	CS_PROB_UNSIGNED,      /* code object is not signed at all */
	CS_PROB_FORMAT,        /* invalid or unsupported format for signature */
	CS_PROB_UNSUPPORTED,   /* unsupported type or version of signature */
	CS_PROB_MODIFIED,      /* invalid signature (code or signature have been modified) */
	CS_PROB_INFO_PLIST,    /* invalid Info.plist (plist or signature have been modified) */
	CS_PROB_RESOURCES,     /* invalid resource directory (directory or signature have been modified) */
	CS_PROB_TEAM,          /* a Team Identifier is wrong or inappropriate */
	CS_PROB_ENTITLEMENTS,  /* invalid entitlements blob */
	CS_PROB_STRICT,        /* main executable failed strict validation */
	CS_PROB_TRUST,         /* certificate chain does not end in a trusted anchor (only when required) */
	CS_PROB_NOTE,          /* not a failure */
};

#define CS_VERIFY_MAX_FINDINGS  24
#define CS_VERIFY_MAX_BAD_PAGES 32
#define CS_VERIFY_DETAIL_MAX    256

struct cs_finding {
	enum cs_problem problem;
	char detail[CS_VERIFY_DETAIL_MAX]; /* what exactly, e.g. "code pages 0, 12, 13 of the arm64e slice do not match" */
};

/* What one CodeDirectory was checked against. */
struct cs_verify_cd {
	uint32_t slot;
	unsigned hash_type;
	uint64_t pages, pages_bad;
	uint32_t bad[CS_VERIFY_MAX_BAD_PAGES]; /* the first bad page indexes */
	uint32_t special_ok;      /* bit k: slot -k matched its data */
	uint32_t special_bad;     /* bit k: slot -k mismatched or its data is missing */
	uint32_t special_unchecked; /* bit k: bound, nothing to check it against (-1, -3) */
	struct cs_cdhash cdhash;  /* full */
};

struct cs_verify_slice {
	char arch[32];
	uint32_t cputype, cpusubtype;
	uint64_t offset, size;            /* in the file */
	enum cs_verify_kind kind;
	int valid;                        /* no failure finding */
	enum cs_problem verdict;          /* the first failure, CS_PROB_NONE when valid */
	char identifier[512];             /* best CD; "" when none */
	char team_id[64];                 /* best CD; "" when none */
	uint32_t cd_flags;                /* best CD */
	unsigned ncd, best;
	struct cs_verify_cd cds[CS_EMB_MAX_CD]; /* slot order, as cs_embedded */
	int cms_verified;                 /* cms holds a verified signer */
	struct cs_cms_result cms;
	unsigned nfindings, dropped;
	struct cs_finding findings[CS_VERIFY_MAX_FINDINGS];
};

struct cs_verify_result {
	int valid;                        /* every slice valid */
	unsigned nslices;
	struct cs_verify_slice *slices;   /* owned */
};

enum {
	/* Fail slices whose certificate chain does not end at an Apple root or a listed anchor. */
	CS_VERIFY_REQUIRE_ANCHOR = 1u << 0,
};

struct cs_verify_opts {
	const struct cs_trust *trust;     /* extra anchors; NULL: Apple roots only */
	unsigned flags;                   /* CS_VERIFY_* */
	struct ut_span info_plist;        /* the bundle's Info.plist bytes (p NULL: none given) */
	struct ut_span resources;         /* the bundle's CodeResources bytes (p NULL: none given) */
	unsigned nthreads;                /* page hashing; 0 = automatic */
};

/*
 * Verifies every slice of f.  Returns 0 when the checks ran (the verdicts are
 * in *out, valid or not); a negative code only when they could not run (I/O,
 * out of memory, a malformed 32-bit slice header).  opts may be NULL.
 * Release *out with cs_verify_result_release (also after a failure).
 */
int cs_verify_file(struct cs_verify_result *out, const struct mo_file *f, const struct cs_verify_opts *opts);
void cs_verify_result_release(struct cs_verify_result *r);

/* One slice (what cs_verify_file does for each). */
int cs_verify_slice(struct cs_verify_slice *out, const struct mo_file *f, const struct mo_slice *s,
		    const struct cs_verify_opts *opts);

/* "unsigned", "ad-hoc", "linker-signed", "Developer ID", ... */
const char *cs_verify_kind_name(enum cs_verify_kind k);
/* codesign's text for a problem ("invalid signature (code or signature have been modified)"); "note" for notes. */
const char *cs_problem_text(enum cs_problem p);

#endif
