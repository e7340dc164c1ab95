/* ut_macho_edit.c - stream an edited Mach-O to a temp file, re-sign linker signatures, rename. */
#include "ut_macho_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cs_linker.h"
#include "mo_file.h"
#include "mo_format.h"
#include "mo_sigpeek.h"
#include "ut_buf.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_limits.h"
#include "ut_file.h"
#include "ut_install_util.h"

#define ULL(x) ((unsigned long long)(x))

struct slice_plan {
	uint8_t *hdr;          /* new header + load commands */
	size_t hdr_len;
	int changed;
	int regen;             /* regenerate the linker signature */
	uint64_t copy_end;     /* original bytes copied up to here (slice-relative) */
	uint64_t new_size;     /* size of the slice in the output */
	uint64_t out_offset;   /* where it lands in the output */
	uint32_t align;
	enum ut_edit_sig sig;
};

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* Sets LC_CODE_SIGNATURE.datasize and __LINKEDIT sizes in the new header for a regenerated signature. */
static int plan_regen(const struct mo_image *img, struct slice_plan *sp, const char *ident, const char *where)
{
	const struct mo_segment *le = img->linkedit_seg >= 0 ? &img->segments[img->linkedit_seg] : NULL;
	uint64_t sig_end = (uint64_t)img->codesig.off + img->codesig.size;
	if (!le || le->fileoff + le->filesize != img->size || sig_end != img->size)
		return ut_fail(UT_EUNSUPPORTED,
			       "%s: the linker signature is not at the end of __LINKEDIT and the slice; cannot regenerate it",
			       where);
	uint64_t size = cs_linker_sig_size(ident, img->codesig.off);
	sp->copy_end = img->codesig.off;
	sp->new_size = img->codesig.off + size;
	/* The edited header has the same commands at possibly shifted offsets: find them by walking. */
	uint32_t ncmds = ut_le32(sp->hdr + 16);
	uint64_t off = MO_MACH_HEADER_64_SIZE;
	uint64_t page = img->cputype == CPU_TYPE_ARM64 ? 0x4000 : 0x1000;
	for (uint32_t i = 0; i < ncmds; i++) {
		uint8_t *lc = sp->hdr + off;
		uint32_t cmd = ut_le32(lc), cmdsize = ut_le32(lc + 4);
		if (cmd == LC_CODE_SIGNATURE) {
			ut_put_le32(lc + 12, (uint32_t)size);
		} else if (cmd == LC_SEGMENT_64 && memcmp(lc + 8, "__LINKEDIT\0", 11) == 0) {
			uint64_t filesize = sp->new_size - le->fileoff;
			ut_put_le64(lc + 48, filesize);
			ut_put_le64(lc + 32, align_up(filesize, page));
		}
		off += cmdsize;
	}
	return 0;
}

static int write_slice(struct ut_atomic *a, const struct ut_src *src, const struct mo_slice *s,
		       const struct slice_plan *sp, const char *ident)
{
	const struct mo_image *img = s->img;
	int rc = ut_atomic_write(a, sp->hdr, sp->hdr_len);
	uint64_t pos = sp->hdr_len;
	if (!rc && pos < img->cmds_end) {
		rc = ut_atomic_zeros(a, img->cmds_end - pos); /* commands shrank: the freed bytes become padding */
		pos = img->cmds_end;
	}
	if (!rc && sp->copy_end > pos)
		rc = ut_atomic_copy(a, src, s->offset + pos, sp->copy_end - pos);
	if (rc || !sp->regen)
		return rc;
	/* Hash the slice as written: read back from the temp file. */
	struct ut_src out = { .fd = a->fd, .size = sp->out_offset + sp->copy_end, .name = a->tmp };
	const struct mo_segment *text = img->text_seg >= 0 ? &img->segments[img->text_seg] : NULL;
	struct cs_linker_params p = {
		.identifier = ident,
		.code_limit = img->codesig.off,
		.exec_seg_base = text ? text->fileoff : 0,
		.exec_seg_limit = text ? text->filesize : 0,
		.main_binary = img->filetype == MH_EXECUTE,
	};
	struct ut_buf sig;
	ut_buf_init(&sig, 0);
	rc = cs_linker_sig_build(&out, sp->out_offset, &p, &sig);
	if (!rc)
		rc = ut_atomic_write(a, sig.p, sig.len);
	ut_buf_release(&sig);
	return rc;
}

static int write_fat_header(struct ut_atomic *a, const struct mo_file *f, const struct slice_plan *plans)
{
	struct mo_fat_entry e[UT_MAX_SLICES];
	if (f->nslices > UT_MAX_SLICES)
		return ut_fail(UT_EUNSUPPORTED, "%u slices", f->nslices);
	for (uint32_t i = 0; i < f->nslices; i++)
		e[i] = (struct mo_fat_entry){ f->slices[i].cputype, f->slices[i].cpusubtype, plans[i].out_offset,
					      plans[i].new_size, plans[i].align };
	struct ut_buf b;
	ut_buf_init(&b, 0);
	int rc = mo_fat_header_append(&b, f->fat, e, f->nslices);
	if (!rc)
		rc = ut_atomic_write(a, b.p, b.len);
	ut_buf_release(&b);
	return rc;
}

int ut_macho_edit(const char *in, const char *out, const struct mo_edit *edits, size_t n,
		  struct ut_edit_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	const char *dst = out ? out : in;
	const char *ident = base_name(dst);
	struct ut_src src;
	struct mo_file *f = NULL;
	struct slice_plan *plans = NULL;
	int rc = ut_src_open(&src, in);
	if (rc)
		return rc;
	rc = mo_file_parse(&src, &f);
	if (!rc)
		rc = mo_edit_check(f, edits, n);
	if (!rc) {
		plans = calloc(f->nslices, sizeof(*plans));
		if (!plans)
			rc = ut_fail(UT_ENOMEM, "out of memory");
	}
	uint64_t pos = f && f->fat ? MO_FAT_HEADER_SIZE + (uint64_t)f->nslices *
			(f->fat == FAT_MAGIC_64 ? MO_FAT_ARCH_64_SIZE : MO_FAT_ARCH_SIZE) : 0;
	for (uint32_t i = 0; !rc && i < f->nslices; i++) {
		const struct mo_slice *s = &f->slices[i];
		struct slice_plan *sp = &plans[i];
		char where[64];
		mo_arch_name(s->cputype, s->cpusubtype, rep->slices[i].arch);
		snprintf(where, sizeof(where), "'%s': slice %s", in, rep->slices[i].arch);
		rc = mo_edit_slice(s->img, edits, n, where, &sp->hdr, &sp->hdr_len, &sp->changed);
		if (rc)
			break;
		sp->copy_end = s->size;
		sp->new_size = s->size;
		sp->align = s->align;
		struct mo_sig_peek peek;
		rc = mo_sig_peek(f, s, &peek);
		if (rc)
			break;
		if (peek.kind == MO_SIG_LINKER) {
			sp->regen = 1;
			sp->sig = UT_EDIT_SIG_REGENERATED;
			rc = plan_regen(s->img, sp, ident, where);
		} else if (peek.kind != MO_SIG_NONE) {
			sp->sig = sp->changed ? UT_EDIT_SIG_INVALIDATED : UT_EDIT_SIG_UNCHANGED;
		}
		if (f->fat)
			pos = align_up(pos, 1ull << sp->align);
		sp->out_offset = pos;
		pos += sp->new_size;
		rep->slices[i].changed = sp->changed;
		rep->slices[i].sig = sp->sig;
	}
	if (!rc) {
		rep->nslices = f->nslices;
		struct ut_atomic a;
		struct stat st;
		int mode = stat(in, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
		rc = ut_atomic_open(&a, dst, mode);
		if (!rc) {
			uint64_t wpos = 0;
			if (f->fat) {
				rc = write_fat_header(&a, f, plans);
				wpos = MO_FAT_HEADER_SIZE + (uint64_t)f->nslices *
					(f->fat == FAT_MAGIC_64 ? MO_FAT_ARCH_64_SIZE : MO_FAT_ARCH_SIZE);
			}
			for (uint32_t i = 0; !rc && i < f->nslices; i++) {
				rc = ut_atomic_zeros(&a, plans[i].out_offset - wpos);
				if (!rc)
					rc = write_slice(&a, &src, &f->slices[i], &plans[i], ident);
				wpos = plans[i].out_offset + plans[i].new_size;
			}
			if (rc)
				ut_atomic_abort(&a);
			else
				rc = ut_atomic_commit(&a);
		}
	}
	if (plans)
		for (uint32_t i = 0; i < f->nslices; i++)
			free(plans[i].hdr);
	free(plans);
	mo_file_free(f);
	ut_src_release(&src);
	return rc;
}
