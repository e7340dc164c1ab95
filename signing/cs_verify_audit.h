/*
 * cs_verify_audit.h - what `codesign -dvvv` shows about a signature (spec
 * §1.16), per slice, as data: the chosen (best) CodeDirectory, every CD's
 * cdhash, the signature kind and authorities, Info.plist, team, runtime
 * version, executable segment, requirements text and entitlements.  cmd/
 * prints it as text or JSON.  Nothing here writes to the input.
 */
#ifndef CS_VERIFY_AUDIT_H
#define CS_VERIFY_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "cs_embedded.h"
#include "cs_verify.h"
#include "mo_file.h"

struct cs_audit_cd {
	uint32_t slot;
	unsigned hash_type;
	char cdhash[2 * CS_CDHASH_LEN + 1];      /* truncated (CandidateCDHash) */
	char cdhash_full[2 * CS_HASH_MAX_SIZE + 1]; /* full (CandidateCDHashFull) */
};

struct cs_audit_slice {
	char arch[32];
	int has_signature;          /* a readable signature (else: see verify->verdict) */
	/* the best CodeDirectory */
	char identifier[512];
	char team_id[64];           /* "" = not set */
	uint32_t version, size, flags;
	char flag_names[160];       /* "adhoc,runtime" / "none" */
	uint32_t n_code_slots, n_special_slots;
	unsigned hash_type, hash_size;
	uint32_t page_size;         /* bytes; 0 = infinite */
	uint8_t platform;
	int has_exec_seg;
	uint64_t exec_seg_base, exec_seg_limit, exec_seg_flags;
	uint32_t runtime;           /* packed; 0 = none */
	char cdhash[2 * CS_CDHASH_LEN + 1]; /* CDHash= (best, truncated) */
	unsigned ncd;
	struct cs_audit_cd cds[CS_EMB_MAX_CD]; /* sorted by hash type */
	/* LC_BUILD_VERSION / LC_VERSION_MIN (64-bit slices) */
	uint32_t version_platform, version_min, version_sdk;
	/* signature */
	int adhoc;                  /* Signature=adhoc */
	uint32_t cms_size;          /* Signature size= (CMS payload bytes), 0 when none */
	/* Info.plist (slot -1) */
	int info_bound;             /* slot -1 present in the CD */
	int info_entries;           /* entries of the Info.plist we have, -1 when none */
	/* requirements (slot 2) */
	int has_requirements;
	uint32_t req_count, req_size;
	char *req_text;             /* "designated => ...\n" lines (malloc'd), NULL when none / undecodable */
	/* entitlements */
	char *entitlements;         /* XML text (the XML blob's payload, else the DER decoded), malloc'd; NULL when none */
	size_t entitlements_len;
	int entitlements_xml;       /* the XML blob (slot 5) is present */
	int entitlements_der;       /* the DER blob (slot 7) is present */
	const struct cs_verify_slice *verify; /* borrowed: the verdict */
};

/*
 * Describes slice s (vs: its cs_verify_slice result, borrowed by out->verify).
 * info_plist: the caller's Info.plist bytes (p NULL: the slice's __info_plist, if any).
 * An unreadable or missing signature is not an error (has_signature 0).
 */
int cs_audit_slice(struct cs_audit_slice *out, const struct mo_file *f, const struct mo_slice *s,
		   const struct cs_verify_slice *vs, struct ut_span info_plist);
void cs_audit_slice_release(struct cs_audit_slice *a);

/* "Mach-O thin (arm64)" / "Mach-O universal (x86_64 arm64)": architectures in cputype order, as codesign. */
const char *cs_audit_format(const struct mo_file *f, char *buf, size_t n);

#endif
