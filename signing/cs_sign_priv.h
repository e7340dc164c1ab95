/*
 * cs_sign_priv.h - the signer's internal state, shared by cs_sign.c
 * (orchestration, writing), cs_sign_meta.c (identifier, flags, hash types,
 * entitlements, requirements, preserved metadata) and cs_sign_layout.c
 * (LC_CODE_SIGNATURE reservation, __LINKEDIT, fat layout).  Not installed.
 */
#ifndef CS_SIGN_PRIV_H
#define CS_SIGN_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "cs_blob.h"
#include "cs_cd.h"
#include "cs_sign.h"
#include "mo_file.h"
#include "ut_buf.h"
#include "ut_file.h"

/* One slice: what it had and what it becomes. */
struct sign_slice {
	const struct mo_slice *s;
	const struct mo_image *img;
	char arch[32];
	char where[96];           /* "'file': slice arm64" for messages */

	/* The existing signature (LC_CODE_SIGNATURE data), read only when metadata is preserved. */
	uint8_t *old_sig;
	size_t old_sig_len;
	uint32_t old_runtime[CS_HASHTYPE_SHA384 + 1]; /* by hash type; 0 = none */

	/* Plan. */
	int has_lc;               /* the input has LC_CODE_SIGNATURE */
	uint64_t dataoff;         /* slice-relative */
	uint64_t reserved;        /* LC_CODE_SIGNATURE datasize */
	uint64_t new_size;        /* dataoff + reserved */
	uint64_t out_offset;      /* in the output file */
	uint32_t align;           /* fat_arch.align in the output */
	uint8_t *hdr;             /* new mach header + load commands (owned) */
	size_t hdr_len;
	unsigned page_shift;
	int attach_ent;           /* MH_EXECUTE: entitlement blobs go here */
	uint64_t exec_seg[3];     /* base, limit, flags */
	uint32_t runtime[CS_HASHTYPE_SHA384 + 1]; /* runtime field by hash type */
};

struct sign_ctx {
	const struct cs_sign_opts *o;
	const char *in, *dst;
	struct ut_src src;
	struct mo_file *f;
	struct sign_slice *sl;
	uint32_t nsl;
	uint32_t main;            /* index of the main slice */

	/* File-wide decisions. */
	unsigned inherit;         /* CS_PRESERVE_* in effect: nothing when the main slice is unsigned or linker-signed */
	struct cs_superblob old_sb; /* the main slice's old signature when inherit is set (borrows its old_sig) */
	struct cs_cd old_cd;      /* its slot-0 CodeDirectory */
	char identifier[CS_SIGN_IDENT_MAX];
	char team_id[CS_NAME_MAX];
	uint32_t flags;
	unsigned hash_types[2];   /* slot 0 first */
	unsigned nhash;
	struct ut_buf ent_xml;    /* 0xfade7171 blob, empty when none */
	struct ut_buf ent_der;    /* 0xfade7172 blob */
	uint64_t ent_exec_flags;
	struct ut_buf reqs;       /* requirements set blob */
	uint8_t *info;            /* Info.plist bytes for slot 1 (owned), or NULL */
	size_t info_len;
	unsigned cms_size;
	int64_t signing_time;
};

/* cs_sign_meta.c */
/* Reads the existing signatures needed for preserve (parsed lazily by the helpers below). */
int sign_meta_load_old(struct sign_ctx *c);
/* Decides identifier, team ID, flags, hash types, entitlements, requirements, Info.plist. */
int sign_meta_decide(struct sign_ctx *c);
/* Per-slice decisions: page size, exec segment, runtime, entitlements attachment. */
int sign_meta_slice(struct sign_ctx *c, struct sign_slice *s);
/*
 * The CodeDirectory parameters of one slice for one hash type; ss receives its
 * special slots.  code_hashes are left NULL (filled by the caller).
 */
int sign_meta_cd_params(const struct sign_ctx *c, const struct sign_slice *s, unsigned hash_type,
			struct cs_special_slots *ss, struct cs_cd_params *p);

/* cs_sign_write.c */
/*
 * Writes one slice at the temp file's current end (= its out_offset): the new
 * header, the input's bytes, the signature, the rest of the reserved area.
 */
int sign_write_slice(const struct sign_ctx *c, struct ut_atomic *a, const struct sign_slice *s,
		     struct cs_sign_slice_report *r);

/* cs_sign_layout.c */
/* dataoff and the checks codesign_allocate makes (end of file, room for a new command, file type). */
int sign_layout_check(const struct sign_ctx *c, struct sign_slice *s);
/* codesign_allocate's size: the non-CD blobs, every CD as 0x20500 and cms_size, aligned to 16. */
int sign_layout_reserve(const struct sign_ctx *c, struct sign_slice *s);
/* lld's exact size. */
int sign_layout_reserve_linker(const struct sign_ctx *c, struct sign_slice *s);
/* The new mach header + load commands (LC_CODE_SIGNATURE, __LINKEDIT). */
int sign_layout_header(const struct sign_ctx *c, struct sign_slice *s);
/* Output offsets of every slice (fat re-layout). */
int sign_layout_file(struct sign_ctx *c);
/* Bytes of the fat header of the output (appended to out); nothing for a thin file. */
int sign_layout_fat_header(const struct sign_ctx *c, struct ut_buf *out);

#endif
