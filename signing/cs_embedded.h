/*
 * cs_embedded.h - the embedded code signature of one Mach-O slice: where it
 * is, and what it holds.
 *
 * cs_slice_layout_read() finds, for any slice (64-bit slices through the
 * Mach-O reader; 32-bit and big-endian slices, which the reader keeps as
 * "unsupported", through a small bounded load-command walk), the ranges a
 * verifier judges: LC_CODE_SIGNATURE, __LINKEDIT, __TEXT and the
 * __TEXT,__info_plist section (slot -1 of a bare Mach-O, SEC machorep.cpp).
 *
 * cs_embedded_parse() validates a whole signature before returning:
 *   - the SuperBlob (magic 0xfade0cc0, index and every blob inside it) with
 *     the kernel's rules (cs_blob.h: CD slots carry CDs of distinct hash types,
 *     entitlement slots carry their magic, no duplicates);
 *   - a CodeDirectory in slot 0; alternates 0x1000.. contiguous from 0x1000
 *     (Security stops at the first missing one, the kernel does not: a gap
 *     would let the two disagree, so it is refused);
 *   - every CodeDirectory with Apple's integrity rules (cs_cd.h);
 *   - slot 2 a requirement set (cs_req.h), slot 0x10000 a BlobWrapper.
 * The first defect fails the parse with a message naming the slot.
 *
 * Ownership: cs_embedded_parse borrows p (the struct points into it);
 * cs_embedded_load reads the bytes into memory the struct owns.  Release
 * either with cs_embedded_release.
 */
#ifndef CS_EMBEDDED_H
#define CS_EMBEDDED_H

#include <stddef.h>
#include <stdint.h>

#include "cs_blob.h"
#include "cs_cd.h"
#include "cs_cms.h"
#include "cs_format.h"
#include "mo_file.h"
#include "ut_bytes.h"

/* Slot 0 plus CSSLOT_ALTERNATE_CODEDIRECTORY_MAX alternates. */
#define CS_EMB_MAX_CD (1u + CSSLOT_ALTERNATE_CODEDIRECTORY_MAX)

/* What a verifier needs to know about one slice; offsets are slice-relative. */
struct cs_slice_layout {
	uint32_t cputype, cpusubtype, filetype;
	int bits, big_endian;
	uint64_t size;                     /* slice size */
	int has_codesig;
	uint32_t codesig_off, codesig_size; /* LC_CODE_SIGNATURE dataoff / datasize */
	int has_linkedit;
	uint64_t linkedit_fileoff, linkedit_filesize;
	int has_text;
	uint64_t text_fileoff, text_filesize;
	int has_info_plist;
	uint64_t info_plist_off, info_plist_size; /* __TEXT,__info_plist */
	uint32_t platform, minos, sdk;      /* LC_BUILD_VERSION / LC_VERSION_MIN_* (64-bit slices), 0 when absent */
};

/*
 * Fills *out for slice s of f.  For unsupported slices the load commands are
 * walked with bounds checks (cmdsize, segments and sections inside their
 * command, ranges inside the slice, at most one LC_CODE_SIGNATURE); a defect
 * is UT_EMALFORMED naming the load command.
 */
int cs_slice_layout_read(struct cs_slice_layout *out, const struct mo_file *f, const struct mo_slice *s);

/* One CodeDirectory of a signature. */
struct cs_embedded_cd {
	uint32_t slot;            /* 0 or 0x1000.. */
	struct cs_cd cd;          /* parsed; borrows the signature bytes */
	struct cs_cdhash cdhash;  /* full digest with the CD's own hash type */
};

struct cs_embedded {
	uint8_t *owned;           /* bytes read by cs_embedded_load (else NULL) */
	const uint8_t *p;         /* the signature area, p[0, len) */
	size_t len;
	struct cs_superblob sb;
	unsigned ncd;
	struct cs_embedded_cd cds[CS_EMB_MAX_CD]; /* slot 0 first, then 0x1000, 0x1001, ... */
	unsigned best;            /* index into cds of the highest-ranked hash type (cs_hash_rank) */
	unsigned by_type[CS_EMB_MAX_CD]; /* indexes into cds, sorted by hash type */
	/* Blobs by value (p == NULL when absent); they point into the signature bytes. */
	struct cs_blob requirements;     /* slot 2 */
	struct cs_blob entitlements;     /* slot 5 (XML) */
	struct cs_blob der_entitlements; /* slot 7 */
	int has_cms;              /* slot 0x10000 present */
	uint32_t cms_blob_len;    /* whole BlobWrapper length (8 for an empty one) */
	struct ut_span cms;       /* its payload; len 0 for an empty wrapper (ad-hoc) */
};

/* Parses and validates the signature area p[0, len) (trailing zero padding allowed). Borrows p. */
int cs_embedded_parse(struct cs_embedded *e, const uint8_t *p, size_t len);
/*
 * Reads and parses the signature of a slice.  UT_ENOTFOUND (with a message)
 * when the slice has no LC_CODE_SIGNATURE; an empty or oversized area is
 * UT_EMALFORMED / UT_EUNSUPPORTED.  On failure *e is released.
 */
int cs_embedded_load(struct cs_embedded *e, const struct mo_file *f, const struct mo_slice *s,
		     const struct cs_slice_layout *lay);
void cs_embedded_release(struct cs_embedded *e);

/* The CodeDirectory in slot 0 (what the CMS signs). */
const struct cs_embedded_cd *cs_embedded_primary(const struct cs_embedded *e);
/* The CodeDirectory of the best hash type (what codesign displays and the kernel uses). */
const struct cs_embedded_cd *cs_embedded_best(const struct cs_embedded *e);
/* The full cdhashes of every CD sorted by hash type into out[CS_EMB_MAX_CD]; returns the count. */
size_t cs_embedded_cdhashes(const struct cs_embedded *e, struct cs_cdhash out[CS_EMB_MAX_CD]);

#endif
