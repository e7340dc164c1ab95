/* cs_embedded.c - locate and load the embedded signature of one slice, every blob bounds-checked. */
#include "cs_embedded.h"

#include <stdlib.h>
#include <string.h>

#include "cs_hash.h"
#include "cs_req.h"
#include "mo_format.h"
#include "ut_err.h"
#include "ut_limits.h"

#define ULL(x) ((unsigned long long)(x))

/* 32-bit load command sizes (Apple loader.h: segment_command, section). */
#define SEGMENT_32_SIZE 56u
#define SECTION_32_SIZE 68u

static int name_is(const uint8_t *p, const char *name)
{
	size_t n = strlen(name);
	return memcmp(p, name, n) == 0 && (n == 16 || p[n] == '\0');
}

/* ---- layout of 64-bit slices: from the Mach-O reader ---- */

static void layout_from_image(struct cs_slice_layout *out, const struct mo_image *img)
{
	out->filetype = img->filetype;
	out->has_codesig = img->has_codesig;
	out->codesig_off = img->codesig.off;
	out->codesig_size = img->codesig.size;
	if (img->linkedit_seg >= 0) {
		out->has_linkedit = 1;
		out->linkedit_fileoff = img->segments[img->linkedit_seg].fileoff;
		out->linkedit_filesize = img->segments[img->linkedit_seg].filesize;
	}
	if (img->text_seg >= 0) {
		out->has_text = 1;
		out->text_fileoff = img->segments[img->text_seg].fileoff;
		out->text_filesize = img->segments[img->text_seg].filesize;
	}
	for (uint32_t i = 0; i < img->nsections; i++) {
		const struct mo_section *sec = &img->sections[i];
		if (strcmp(sec->segname, "__TEXT") == 0 && strcmp(sec->sectname, "__info_plist") == 0) {
			out->has_info_plist = 1;
			out->info_plist_off = sec->offset;
			out->info_plist_size = sec->size;
			break;
		}
	}
	if (img->version_cmd) {
		out->platform = img->platform;
		out->minos = img->minos;
		out->sdk = img->sdk;
	}
}

/* ---- layout of 32-bit / big-endian slices: a bounded walk ---- */

struct walk {
	const uint8_t *cmds; /* load command area */
	uint32_t ncmds, sizeofcmds;
	uint32_t (*ld)(const uint8_t *);
	uint64_t (*ld64)(const uint8_t *);
	int is64;
	uint64_t slice_size;
};

static int walk_segment(const struct walk *w, struct cs_slice_layout *out, const uint8_t *c, uint32_t size,
			uint32_t i)
{
	uint32_t head = w->is64 ? MO_SEGMENT_64_SIZE : SEGMENT_32_SIZE;
	uint32_t secsz = w->is64 ? MO_SECTION_64_SIZE : SECTION_32_SIZE;
	if (size < head)
		return ut_fail(UT_EMALFORMED, "load command %u: segment cmdsize %u below %u", i, size, head);
	uint64_t fileoff, filesize;
	uint32_t nsects;
	if (w->is64) {
		fileoff = w->ld64(c + 40);
		filesize = w->ld64(c + 48);
		nsects = w->ld(c + 64);
	} else {
		fileoff = w->ld(c + 32);
		filesize = w->ld(c + 36);
		nsects = w->ld(c + 48);
	}
	if ((size - head) / secsz < nsects)
		return ut_fail(UT_EMALFORMED, "load command %u: %u sections do not fit in cmdsize %u", i, nsects, size);
	if (!ut_range_ok(fileoff, filesize, w->slice_size))
		return ut_fail(UT_EMALFORMED, "load command %u: segment file range 0x%llx+0x%llx outside the slice", i,
			       ULL(fileoff), ULL(filesize));
	if (name_is(c + 8, "__LINKEDIT")) {
		out->has_linkedit = 1;
		out->linkedit_fileoff = fileoff;
		out->linkedit_filesize = filesize;
	} else if (name_is(c + 8, "__TEXT")) {
		out->has_text = 1;
		out->text_fileoff = fileoff;
		out->text_filesize = filesize;
	}
	for (uint32_t k = 0; k < nsects; k++) {
		const uint8_t *sec = c + head + (size_t)k * secsz;
		if (!name_is(sec, "__info_plist") || !name_is(sec + 16, "__TEXT"))
			continue;
		uint64_t ssize = w->is64 ? w->ld64(sec + 40) : w->ld(sec + 36);
		uint32_t soff = w->ld(sec + (w->is64 ? 48 : 40));
		if (!ut_range_ok(soff, ssize, w->slice_size))
			return ut_fail(UT_EMALFORMED, "load command %u: section __info_plist outside the slice", i);
		out->has_info_plist = 1;
		out->info_plist_off = soff;
		out->info_plist_size = ssize;
	}
	return 0;
}

static int walk_cmds(const struct walk *w, struct cs_slice_layout *out)
{
	uint32_t off = 0;
	for (uint32_t i = 0; i < w->ncmds; i++) {
		if (w->sizeofcmds - off < 8)
			return ut_fail(UT_EMALFORMED, "load command %u at offset %u: past sizeofcmds %u", i, off,
				       w->sizeofcmds);
		const uint8_t *c = w->cmds + off;
		uint32_t cmd = w->ld(c), size = w->ld(c + 4);
		if (size < 8 || size > w->sizeofcmds - off)
			return ut_fail(UT_EMALFORMED, "load command %u at offset %u: cmdsize %u outside sizeofcmds %u", i,
				       off, size, w->sizeofcmds);
		int rc = 0;
		if (cmd == LC_SEGMENT || cmd == LC_SEGMENT_64) {
			if ((cmd == LC_SEGMENT_64) != w->is64)
				return ut_fail(UT_EMALFORMED, "load command %u: segment of the wrong width", i);
			rc = walk_segment(w, out, c, size, i);
		} else if (cmd == LC_CODE_SIGNATURE) {
			if (size != MO_LINKEDIT_CMD_SIZE)
				return ut_fail(UT_EMALFORMED, "load command %u: LC_CODE_SIGNATURE cmdsize %u, expected %u", i,
					       size, MO_LINKEDIT_CMD_SIZE);
			if (out->has_codesig)
				return ut_fail(UT_EMALFORMED, "load command %u: second LC_CODE_SIGNATURE", i);
			out->has_codesig = 1;
			out->codesig_off = w->ld(c + 8);
			out->codesig_size = w->ld(c + 12);
			if (!ut_range_ok(out->codesig_off, out->codesig_size, w->slice_size))
				return ut_fail(UT_EMALFORMED,
					       "load command %u: LC_CODE_SIGNATURE 0x%x+0x%x outside the slice (0x%llx bytes)", i,
					       out->codesig_off, out->codesig_size, ULL(w->slice_size));
		}
		if (rc)
			return rc;
		off += size;
	}
	return 0;
}

static int layout_walk(struct cs_slice_layout *out, const struct mo_file *f, const struct mo_slice *s)
{
	struct walk w = { 0 };
	w.is64 = s->bits == 64;
	w.ld = s->big_endian ? ut_be32 : ut_le32;
	w.ld64 = s->big_endian ? ut_be64 : ut_le64;
	w.ncmds = s->ncmds;
	w.sizeofcmds = s->sizeofcmds;
	w.slice_size = s->size;
	uint32_t hs = w.is64 ? MO_MACH_HEADER_64_SIZE : MO_MACH_HEADER_SIZE;
	if (w.ncmds > UT_MAX_LOAD_CMDS || w.sizeofcmds > UT_MAX_SIZEOFCMDS)
		return ut_fail(UT_EUNSUPPORTED, "header: %u load commands of %u bytes above the limits", w.ncmds,
			       w.sizeofcmds);
	if (!ut_range_ok(hs, w.sizeofcmds, s->size))
		return ut_fail(UT_EMALFORMED, "header: sizeofcmds %u past the end of the slice", w.sizeofcmds);
	uint8_t *cmds = malloc(w.sizeofcmds ? w.sizeofcmds : 1);
	if (!cmds)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = mo_slice_read(f, s, hs, cmds, w.sizeofcmds);
	if (!rc) {
		w.cmds = cmds;
		rc = walk_cmds(&w, out);
	}
	free(cmds);
	return rc;
}

int cs_slice_layout_read(struct cs_slice_layout *out, const struct mo_file *f, const struct mo_slice *s)
{
	memset(out, 0, sizeof(*out));
	out->cputype = s->cputype;
	out->cpusubtype = s->cpusubtype;
	out->bits = s->bits;
	out->big_endian = s->big_endian;
	out->size = s->size;
	out->filetype = s->filetype;
	if (s->kind == MO_SLICE_MACHO64 && s->img) {
		layout_from_image(out, s->img);
		return 0;
	}
	char arch[32];
	int rc = layout_walk(out, f, s);
	return rc ? ut_ctx(rc, "slice %s", mo_arch_name(s->cputype, s->cpusubtype, arch)) : 0;
}

/* ---- the signature ---- */

void cs_embedded_release(struct cs_embedded *e)
{
	if (!e)
		return;
	free(e->owned);
	memset(e, 0, sizeof(*e));
}

static int load_cd(struct cs_embedded *e, const struct cs_blob_entry *ent)
{
	struct cs_embedded_cd *c = &e->cds[e->ncd];
	c->slot = ent->type;
	int rc = cs_cd_parse(&c->cd, ent->blob.p, ent->blob.length);
	if (!rc)
		rc = cs_cdhash_compute(&c->cdhash, c->cd.hash_type, c->cd.blob, c->cd.length);
	if (rc)
		return ut_ctx(rc, "%s (slot 0x%x)", c->slot ? "alternate code directory" : "code directory", c->slot);
	e->ncd++;
	return 0;
}

/* Slot 0, then 0x1000.. without gaps. */
static int load_cds(struct cs_embedded *e)
{
	const struct cs_blob_entry *cd0 = cs_superblob_find(&e->sb, CSSLOT_CODEDIRECTORY);
	if (!cd0)
		return ut_fail(UT_EMALFORMED, "no code directory in slot 0");
	int rc = load_cd(e, cd0);
	uint32_t last = CSSLOT_ALTERNATE_CODEDIRECTORIES;
	for (uint32_t slot = CSSLOT_ALTERNATE_CODEDIRECTORIES; !rc && slot < CSSLOT_ALTERNATE_CODEDIRECTORY_LIMIT;
	     slot++) {
		const struct cs_blob_entry *alt = cs_superblob_find(&e->sb, slot);
		if (!alt)
			continue;
		if (slot != last)
			return ut_fail(UT_EMALFORMED, "alternate code directory in slot 0x%x without one in slot 0x%x",
				       slot, last);
		last = slot + 1;
		rc = load_cd(e, alt);
	}
	if (rc)
		return rc;
	/* Rank, and order by hash type (insertion sort of at most 6). */
	for (unsigned i = 0; i < e->ncd; i++) {
		if (cs_hash_rank(e->cds[i].cd.hash_type) > cs_hash_rank(e->cds[e->best].cd.hash_type))
			e->best = i;
		unsigned j = i;
		for (; j > 0 && e->cds[e->by_type[j - 1]].cd.hash_type > e->cds[i].cd.hash_type; j--)
			e->by_type[j] = e->by_type[j - 1];
		e->by_type[j] = i;
	}
	return 0;
}

static int load_blobs(struct cs_embedded *e)
{
	const struct cs_blob_entry *b = cs_superblob_find(&e->sb, CSSLOT_REQUIREMENTS);
	if (b) {
		struct cs_req_set set;
		int rc = cs_req_set_parse(&set, b->blob.p, b->blob.length);
		if (rc)
			return ut_ctx(rc, "slot 2");
		e->requirements = b->blob;
	}
	b = cs_superblob_find(&e->sb, CSSLOT_ENTITLEMENTS);
	if (b)
		e->entitlements = b->blob;
	b = cs_superblob_find(&e->sb, CSSLOT_DER_ENTITLEMENTS);
	if (b)
		e->der_entitlements = b->blob;
	b = cs_superblob_find(&e->sb, CSSLOT_SIGNATURESLOT);
	if (b) {
		int rc = cs_cms_unwrap(&e->cms, b->blob.p, b->blob.length);
		if (rc)
			return ut_ctx(rc, "slot 0x%x (CMS signature)", CSSLOT_SIGNATURESLOT);
		e->has_cms = 1;
		e->cms_blob_len = b->blob.length;
	}
	return 0;
}

int cs_embedded_parse(struct cs_embedded *e, const uint8_t *p, size_t len)
{
	memset(e, 0, sizeof(*e));
	e->p = p;
	e->len = len;
	int rc = cs_superblob_parse(&e->sb, p, len, CSMAGIC_EMBEDDED_SIGNATURE);
	if (rc)
		rc = ut_ctx(rc, "embedded signature");
	if (!rc)
		rc = load_cds(e);
	if (!rc)
		rc = load_blobs(e);
	if (rc)
		memset(e, 0, sizeof(*e));
	return rc;
}

int cs_embedded_load(struct cs_embedded *e, const struct mo_file *f, const struct mo_slice *s,
		     const struct cs_slice_layout *lay)
{
	memset(e, 0, sizeof(*e));
	if (!lay->has_codesig)
		return ut_fail(UT_ENOTFOUND, "code object is not signed at all");
	if (lay->codesig_size == 0)
		return ut_fail(UT_EMALFORMED, "LC_CODE_SIGNATURE datasize is 0 (no signature data at offset 0x%x)",
			       lay->codesig_off);
	if (lay->codesig_size > UT_MAX_SIG_SIZE)
		return ut_fail(UT_EUNSUPPORTED, "signature of %u bytes above the limit of %u", lay->codesig_size,
			       UT_MAX_SIG_SIZE);
	uint8_t *buf = malloc(lay->codesig_size);
	if (!buf)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = mo_slice_read(f, s, lay->codesig_off, buf, lay->codesig_size);
	if (!rc)
		rc = cs_embedded_parse(e, buf, lay->codesig_size);
	if (rc) {
		free(buf);
		return rc;
	}
	e->owned = buf;
	return 0;
}

const struct cs_embedded_cd *cs_embedded_primary(const struct cs_embedded *e)
{
	return e->ncd ? &e->cds[0] : NULL;
}

const struct cs_embedded_cd *cs_embedded_best(const struct cs_embedded *e)
{
	return e->ncd ? &e->cds[e->best] : NULL;
}

size_t cs_embedded_cdhashes(const struct cs_embedded *e, struct cs_cdhash out[CS_EMB_MAX_CD])
{
	for (unsigned i = 0; i < e->ncd; i++)
		out[i] = e->cds[e->by_type[i]].cdhash;
	return e->ncd;
}
