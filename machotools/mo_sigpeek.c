/* mo_sigpeek.c - classify a slice's signature by its flags and CMS size. */
#include "mo_sigpeek.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_limits.h"

/* Blob magics and slots (xnu osfmk/kern/cs_blobs.h). */
#define PEEK_CSMAGIC_EMBEDDED_SIGNATURE 0xfade0cc0u
#define PEEK_CSMAGIC_CODEDIRECTORY 0xfade0c02u
#define PEEK_CSMAGIC_BLOBWRAPPER 0xfade0b01u
#define PEEK_CSSLOT_CODEDIRECTORY 0u
#define PEEK_CSSLOT_SIGNATURESLOT 0x10000u
#define PEEK_CS_ADHOC 0x2u
#define PEEK_CS_LINKER_SIGNED 0x20000u

const char *mo_sig_kind_name(enum mo_sig_kind k)
{
	switch (k) {
	case MO_SIG_NONE: return "none";
	case MO_SIG_LINKER: return "linker-signed";
	case MO_SIG_ADHOC: return "ad-hoc";
	case MO_SIG_CERTIFICATE: return "certificate";
	case MO_SIG_UNREADABLE: return "unreadable";
	}
	return "unknown";
}

static int unreadable(struct mo_sig_peek *out, const char *why)
{
	out->kind = MO_SIG_UNREADABLE;
	snprintf(out->detail, sizeof(out->detail), "%s", why);
	return 0;
}

int mo_sig_peek(const struct mo_file *f, const struct mo_slice *s, struct mo_sig_peek *out)
{
	memset(out, 0, sizeof(*out));
	const struct mo_image *img = s->img;
	if (!img || !img->has_codesig)
		return 0;
	uint32_t size = img->codesig.size;
	if (size < 12)
		return unreadable(out, "signature data too small for a SuperBlob");
	if (size > UT_MAX_SIG_SIZE)
		return unreadable(out, "signature data larger than the limit");
	uint8_t *p;
	int rc = ut_src_read_alloc(f->src, s->offset + img->codesig.off, size, &p);
	if (rc)
		return rc;
	struct ut_span sb = ut_span_make(p, size);
	uint32_t magic = ut_be32(p), len = ut_be32(p + 4), count = ut_be32(p + 8);
	if (magic != PEEK_CSMAGIC_EMBEDDED_SIGNATURE) {
		free(p);
		return unreadable(out, "no embedded signature SuperBlob");
	}
	if (len < 12 || len > size || count > UT_MAX_BLOBS || (len - 12) / 8 < count) {
		free(p);
		return unreadable(out, "SuperBlob header out of range");
	}
	int have_cd = 0;
	uint32_t cms_len = 0;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t type = ut_be32(p + 12 + 8 * i), off = ut_be32(p + 16 + 8 * i);
		struct ut_span b;
		if (ut_span_sub(sb, off, 8, &b) || off >= len || ut_be32(b.p + 4) < 8 || ut_be32(b.p + 4) > len - off)
			continue;
		uint32_t bmagic = ut_be32(b.p), blen = ut_be32(b.p + 4);
		if (type == PEEK_CSSLOT_CODEDIRECTORY && bmagic == PEEK_CSMAGIC_CODEDIRECTORY && blen >= 16) {
			have_cd = 1;
			out->cd_flags = ut_be32(p + off + 12); /* CodeDirectory.flags */
		} else if (type == PEEK_CSSLOT_SIGNATURESLOT && bmagic == PEEK_CSMAGIC_BLOBWRAPPER) {
			cms_len = blen - 8;
		}
	}
	free(p);
	if (!have_cd)
		return unreadable(out, "no CodeDirectory in slot 0");
	if (cms_len > 0)
		out->kind = MO_SIG_CERTIFICATE;
	else if (out->cd_flags & PEEK_CS_LINKER_SIGNED)
		out->kind = MO_SIG_LINKER;
	else if (out->cd_flags & PEEK_CS_ADHOC)
		out->kind = MO_SIG_ADHOC;
	else
		return unreadable(out, "CodeDirectory is neither ad-hoc nor backed by a CMS signature");
	return 0;
}
