/*
 * cs_sign_layout.c - room for the signature, as codesign_allocate makes it
 * (SEC codesign_alloc.cpp assure_signature_space / code_sign_allocate), or
 * exactly as lld does: LC_CODE_SIGNATURE, __LINKEDIT sizes, fat re-layout.
 */
#include <stdlib.h>
#include <string.h>

#include "cs_blob.h"
#include "cs_linker.h"
#include "cs_sign_priv.h"
#include "mo_format.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_limits.h"

#define ULL(x) ((unsigned long long)(x))
#define CS_ALIGN 16u            /* SEC signerutils csAlign */
#define FAT_SLICE_ALIGN 0x4000u /* codesign_allocate: 16 KiB slices, fat_arch.align 14 */

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

int sign_layout_check(const struct sign_ctx *c, struct sign_slice *s)
{
	const struct mo_image *img = s->img;
	switch (img->filetype) {
	case MH_EXECUTE:
	case MH_DYLIB:
	case MH_BUNDLE:
	case MH_KEXT_BUNDLE:
	case MH_DYLINKER:
		break;
	default:
		return ut_fail(UT_EUNSUPPORTED, "%s: file type %s (%u) does not support code signing", s->where,
			       mo_filetype_name(img->filetype), img->filetype);
	}
	if (img->linkedit_seg < 0)
		return ut_fail(UT_EUNSUPPORTED, "%s: no __LINKEDIT segment", s->where);
	if (!c->o->linker_signed)
		for (uint32_t i = 0; i < img->ncmds; i++)
			if (img->lcs[i].cmd == LC_DYLIB_CODE_SIGN_DRS)
				return ut_fail(UT_EUNSUPPORTED,
					       "%s: load command %u: LC_DYLIB_CODE_SIGN_DRS (library requirements) is not supported",
					       s->where, i);
	s->has_lc = img->has_codesig;
	if (s->has_lc) {
		uint64_t end = (uint64_t)img->codesig.off + img->codesig.size;
		if (end + 7 < img->size)
			return ut_fail(UT_EUNSUPPORTED,
				       "%s: load command %u: LC_CODE_SIGNATURE (data at %u, %u bytes) does not point to the end of the file (%llu bytes)",
				       s->where, img->codesig_lc, img->codesig.off, img->codesig.size, ULL(img->size));
		s->dataoff = img->codesig.off;
		if (s->dataoff < img->cmds_end)
			return ut_fail(UT_EMALFORMED, "%s: load command %u: LC_CODE_SIGNATURE data at %u overlaps the load commands",
				       s->where, img->codesig_lc, img->codesig.off);
	} else {
		uint64_t need = img->cmds_end + MO_LINKEDIT_CMD_SIZE;
		if (need > img->pad_limit)
			return ut_fail(UT_ENOSPACE,
				       "%s: not enough room in load commands to add LC_CODE_SIGNATURE (needs %u bytes, %llu free)",
				       s->where, MO_LINKEDIT_CMD_SIZE, ULL(img->pad_limit - img->cmds_end));
		s->dataoff = align_up(img->size, CS_ALIGN);
	}
	const struct mo_segment *le = &img->segments[img->linkedit_seg];
	if (le->fileoff > s->dataoff)
		return ut_fail(UT_EUNSUPPORTED, "%s: __LINKEDIT starts at %llu, after the signature at %llu", s->where,
			       ULL(le->fileoff), ULL(s->dataoff));
	return 0;
}

static int set_size(struct sign_slice *s, uint64_t reserved)
{
	s->reserved = reserved;
	s->new_size = s->dataoff + reserved;
	if (reserved > UINT32_MAX || s->new_size > UINT32_MAX)
		return ut_fail(UT_EUNSUPPORTED, "%s: a signed slice of %llu bytes is over 4 GiB", s->where,
			       ULL(s->new_size));
	return 0;
}

int sign_layout_reserve(const struct sign_ctx *c, struct sign_slice *s)
{
	/* Every blob the signature will carry, each CodeDirectory sized as version 0x20500. */
	unsigned count = c->nhash + 2; /* CodeDirectories, requirements, CMS */
	uint64_t total = c->reqs.len + c->cms_size;
	if (s->attach_ent) {
		count += 2;
		total += c->ent_xml.len + c->ent_der.len;
	}
	for (unsigned i = 0; i < c->nhash; i++) {
		struct cs_special_slots ss;
		struct cs_cd_params p;
		int rc = sign_meta_cd_params(c, s, c->hash_types[i], &ss, &p);
		if (rc)
			return ut_ctx(rc, "%s", s->where);
		uint64_t n = cs_cd_size(&p, CS_SUPPORTSRUNTIME);
		if (!n)
			return ut_ctx(UT_EINVAL, "%s", s->where);
		total += n;
	}
	return set_size(s, align_up(cs_superblob_size(count, total), CS_ALIGN));
}

int sign_layout_reserve_linker(const struct sign_ctx *c, struct sign_slice *s)
{
	uint64_t n = cs_linker_sig_size(c->identifier, s->dataoff);
	if (!n)
		return ut_ctx(UT_EINVAL, "%s: linker signature", s->where);
	return set_size(s, n);
}

int sign_layout_header(const struct sign_ctx *c, struct sign_slice *s)
{
	const struct mo_image *img = s->img;
	size_t len = (size_t)img->cmds_end + (s->has_lc ? 0 : MO_LINKEDIT_CMD_SIZE);
	uint8_t *h = malloc(len);
	if (!h)
		return ut_fail(UT_ENOMEM, "out of memory");
	memcpy(h, img->hdr, (size_t)img->cmds_end);
	if (s->has_lc) {
		ut_put_le32(h + img->lcs[img->codesig_lc].off + 12, (uint32_t)s->reserved);
	} else {
		uint8_t *lc = h + img->cmds_end;
		ut_put_le32(lc, LC_CODE_SIGNATURE);
		ut_put_le32(lc + 4, MO_LINKEDIT_CMD_SIZE);
		ut_put_le32(lc + 8, (uint32_t)s->dataoff);
		ut_put_le32(lc + 12, (uint32_t)s->reserved);
		ut_put_le32(h + 16, img->ncmds + 1);
		ut_put_le32(h + 20, img->sizeofcmds + MO_LINKEDIT_CMD_SIZE);
	}
	const struct mo_segment *le = &img->segments[img->linkedit_seg];
	uint8_t *seg = h + img->lcs[le->lc_index].off;
	uint64_t filesize = s->new_size - le->fileoff;
	uint64_t vmsize = align_up(filesize, 0x4000); /* codesign_allocate: 16 KiB for every architecture */
	if (c->o->linker_signed)
		vmsize = filesize; /* lld-14 leaves __LINKEDIT's vmsize at its file size */
	ut_put_le64(seg + 32, vmsize);
	ut_put_le64(seg + 48, filesize);
	free(s->hdr);
	s->hdr = h;
	s->hdr_len = len;
	return 0;
}

static uint64_t fat_header_size(const struct mo_file *f)
{
	return MO_FAT_HEADER_SIZE + (uint64_t)f->nslices * (f->fat == FAT_MAGIC_64 ? MO_FAT_ARCH_64_SIZE : MO_FAT_ARCH_SIZE);
}

int sign_layout_file(struct sign_ctx *c)
{
	const struct mo_file *f = c->f;
	if (!f->fat) {
		c->sl[0].out_offset = 0;
		c->sl[0].align = 0;
		return 0;
	}
	uint64_t pos = c->o->linker_signed ? fat_header_size(f) : FAT_SLICE_ALIGN;
	for (uint32_t i = 0; i < c->nsl; i++) {
		struct sign_slice *s = &c->sl[i];
		if (c->o->linker_signed) {
			/* Keep each slice at its own alignment, as lipo lays them out. */
			s->align = s->s->align;
			pos = align_up(pos, (uint64_t)1 << s->align);
			s->out_offset = pos;
			pos += s->new_size;
		} else {
			s->align = 14;
			s->out_offset = pos;
			pos = align_up(pos + s->new_size, FAT_SLICE_ALIGN);
		}
		if (f->fat == FAT_MAGIC && (s->out_offset > UINT32_MAX || s->new_size > UINT32_MAX))
			return ut_fail(UT_EUNSUPPORTED, "%s: slice beyond 4 GiB needs a 64-bit fat header", s->where);
	}
	return 0;
}

int sign_layout_fat_header(const struct sign_ctx *c, struct ut_buf *out)
{
	if (!c->f->fat)
		return 0;
	struct mo_fat_entry e[UT_MAX_SLICES];
	if (c->nsl > UT_MAX_SLICES)
		return ut_fail(UT_EUNSUPPORTED, "%u slices", c->nsl);
	for (uint32_t i = 0; i < c->nsl; i++) {
		const struct sign_slice *s = &c->sl[i];
		e[i] = (struct mo_fat_entry){ s->s->cputype, s->s->cpusubtype, s->out_offset, s->new_size, s->align };
	}
	return mo_fat_header_append(out, c->f->fat, e, c->nsl);
}
