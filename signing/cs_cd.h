/*
 * cs_cd.h - CodeDirectory: parse (with Apple's integrity rules), build (as
 * codesign and as lld write it), cdhash, special-slot hashes, flag names.
 *
 * Parsing applies both SEC CodeDirectory::checkIntegrity and XNU
 * cs_validate_codedirectory: magic; version in [0x20001, 0x2F000]; the fixed
 * header of that version inside the blob; a known hash type whose size equals
 * hashSize; page size 2^12 or 2^14 (the kernel's rule); identifier (and team
 * ID when version >= 0x20200 and its offset is non-zero) NUL-terminated inside
 * the blob; special and code hash slots inside the blob; a scatter vector, if
 * any, terminated inside the blob; nCodeSlots == ((limit - 1) >> pageSize) + 1
 * with limit > 0 (limit = codeLimit64 when version >= 0x20300 and it is
 * non-zero, else codeLimit); pre-encrypt hashes and linkage data inside.
 *
 * Building follows SEC cdbuilder.cpp: the version is the lowest that carries
 * what is set (cs_cd_pick_version), the fixed header is truncated to that
 * version's size, then [identifier\0][teamID\0][pre-encrypt hashes][special
 * slots -n..-1][code slots 0..n-1] with no padding.  lld writes version 0x20400,
 * flags adhoc|linker-signed, and pads the identifier with zeros so that the
 * hashes start 16-aligned counting from the start of its SuperBlob.
 */
#ifndef CS_CD_H
#define CS_CD_H

#include <stddef.h>
#include <stdint.h>

#include "cs_format.h"
#include "ut_buf.h"
#include "ut_bytes.h"

/*
 * A parsed CodeDirectory.  Fields a version does not have are 0.  Pointers
 * borrow the parsed bytes and are valid while they are.
 */
struct cs_cd {
	uint32_t length, version, flags, hash_offset, ident_offset, n_special_slots, n_code_slots, code_limit;
	uint8_t hash_size, hash_type, platform, page_size;
	uint32_t spare2, scatter_offset, team_offset, spare3;
	uint64_t code_limit64, exec_seg_base, exec_seg_limit, exec_seg_flags;
	uint32_t runtime, pre_encrypt_offset;
	uint8_t linkage_hash_type, linkage_application_type;
	uint16_t linkage_application_sub_type;
	uint32_t linkage_offset, linkage_size;

	uint32_t header_size;               /* fixed header size of this version */
	const uint8_t *blob;                /* the CodeDirectory, blob[0, length) */
	const char *identifier;             /* NUL-terminated inside blob */
	const char *team_id;                /* NULL when absent */
	const uint8_t *hashes;              /* code slot 0; special slot k is at hashes - k * hash_size */
	const uint8_t *pre_encrypt_hashes;  /* n_code_slots hashes, or NULL */
};

/* Parses and validates the CodeDirectory at p[0, len) (trailing bytes allowed). */
int cs_cd_parse(struct cs_cd *cd, const uint8_t *p, size_t len);
/* Hash of special slot k (1..n_special_slots), or NULL outside that range. */
const uint8_t *cs_cd_special_slot(const struct cs_cd *cd, unsigned k);
/* Hash of code slot i (< n_code_slots), or NULL. */
const uint8_t *cs_cd_code_slot(const struct cs_cd *cd, uint32_t i);
/* SEC slotIsPresent: the special slot k exists and its hash is not all zero. */
int cs_cd_special_present(const struct cs_cd *cd, unsigned k);
/* SEC signingLimit(): codeLimit64 when version >= 0x20300 and non-zero, else codeLimit. */
uint64_t cs_cd_code_limit(const struct cs_cd *cd);
/* Fixed header size of a version (44 .. 108). */
uint32_t cs_cd_header_size(uint32_t version);

/*
 * cdhash: the CD's own hash type over blob[0, length).  truncate: first
 * CS_CDHASH_LEN (20) bytes, as the kernel and CMS v1 plist use; else the full
 * digest (CMS v2 attribute).  *len receives the byte count.
 */
int cs_cd_cdhash(const struct cs_cd *cd, int truncate, uint8_t out[CS_HASH_MAX_SIZE], size_t *len);

/*
 * The special-slot hashes of one CD.  hash[k] is slot -k; slots not filled
 * stay all zero ("absent").  count = the highest filled slot = nSpecialSlots.
 */
struct cs_special_slots {
	unsigned hash_type;
	uint32_t count;
	uint32_t present; /* bit k set when slot k was filled */
	uint8_t hash[CS_SPECIAL_SLOT_MAX + 1][CS_HASH_MAX_SIZE];
};

/*
 * Hashes the special-slot inputs with hash_type.  inputs[k] (k = 1..11) is the
 * data slot k covers (1 Info.plist bytes, 2 requirements blob, 3 CodeResources
 * bytes, 5 entitlements blob, 7 DER entitlements blob, ...); inputs[k].p ==
 * NULL leaves slot k empty.  inputs[0] is ignored.
 */
int cs_special_slots_compute(struct cs_special_slots *out, unsigned hash_type,
			     const struct ut_span inputs[CS_SPECIAL_SLOT_MAX + 1]);

/* What to put into a CodeDirectory (codesign's builder inputs). */
struct cs_cd_params {
	uint32_t version;          /* 0: cs_cd_pick_version(); else forced (>= 0x20001) */
	uint32_t flags;
	unsigned hash_type;
	uint8_t platform;
	unsigned page_shift;       /* 12 or 14 */
	const char *identifier;    /* required */
	const char *team_id;       /* NULL or "" for none */
	uint64_t code_limit;       /* code covered: [0, code_limit) of the slice */
	uint64_t exec_seg_base, exec_seg_limit, exec_seg_flags;
	uint32_t runtime;          /* packed runtime version; non-zero selects 0x20500 */
	int pre_encrypt;           /* also store pre-encrypt hashes (copies of the code hashes) */
	const struct cs_special_slots *special; /* NULL: no special slots; else same hash_type */
	const uint8_t *code_hashes; /* page hashes, n_code * hash size; NULL: zeros, filled later by the caller */
};

/*
 * codesign's version choice (SEC cdbuilder.cpp build): 0x20500 with pre-encrypt
 * hashes or a non-zero runtime; else 0x20400 when exec_seg_limit > 0; else
 * 0x20300 when code_limit > UINT32_MAX; else 0x20200 with a team ID; else 0x20100.
 */
uint32_t cs_cd_pick_version(const struct cs_cd_params *p);

/* Where things go in a built CodeDirectory. */
struct cs_cd_layout {
	uint32_t version, header_size;
	uint32_t ident_offset, team_offset, pre_encrypt_offset, hash_offset;
	uint32_t n_special_slots, n_code_slots, hash_size;
	uint32_t length;
};

/*
 * The layout of p at a given version (0 = the version cs_cd_build would pick).
 * cs_cd_size(p, CS_SUPPORTSRUNTIME) is the size codesign's LC_CODE_SIGNATURE
 * estimate uses for each CD (SEC codesign_alloc: every CD sized as 0x20500).
 */
int cs_cd_layout(const struct cs_cd_params *p, uint32_t version, struct cs_cd_layout *out);
uint64_t cs_cd_size(const struct cs_cd_params *p, uint32_t version); /* 0 when p is invalid */

/* Appends the CodeDirectory (codesign's form); layout (may be NULL) receives its layout. */
int cs_cd_build(struct ut_buf *out, const struct cs_cd_params *p, struct cs_cd_layout *layout);

/* lld's linker signature (lld MachO CodeSignatureSection). */
struct cs_cd_lld_params {
	const char *identifier;    /* lld: the output file name */
	uint64_t code_limit;       /* LC_CODE_SIGNATURE dataoff; <= UINT32_MAX */
	uint64_t exec_seg_base, exec_seg_limit, exec_seg_flags;
	const uint8_t *code_hashes; /* SHA-256, 4 KiB pages; NULL: zeros */
};
/* Size lld reserves for the SuperBlob header + index: 20 padded to 8. */
#define CS_LLD_BLOB_HEADERS_SIZE 24u
/* The layout of lld's CodeDirectory for p (code_hashes unused). */
int cs_cd_layout_lld(const struct cs_cd_lld_params *p, struct cs_cd_layout *out);
/* Appends lld's CodeDirectory (SHA-256, pages of 4 KiB, version 0x20400, flags 0x20002). */
int cs_cd_build_lld(struct ut_buf *out, const struct cs_cd_lld_params *p);

/*
 * CD flag names in codesign's order (host, adhoc, hard, kill, expires,
 * restrict, enforcement, library-validation, runtime, linker-signed), joined
 * by commas: "adhoc,runtime"; "none" when no known bit is set.  Unknown bits
 * are left out.  Returns buf.
 */
const char *cs_flags_names(uint32_t flags, char *buf, size_t n);
/* Flag value for one name above; UT_EINVAL when unknown. */
int cs_flag_by_name(const char *name, uint32_t *flag);

#endif
