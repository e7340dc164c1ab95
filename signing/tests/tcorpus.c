/* tcorpus.c - corpus signatures for the signing tests. */
#include "tcorpus.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "mo_format.h"
#include "tsupport.h"
#include "tsupport_manifest.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_file.h"

/* The hand-kept list this replaced named 23 files; fewer means MANIFEST.tsv was not read right. */
#define TC_MIN_SIGNED 23

const char *const *tc_signed(void)
{
	return tsm_paths_min(TSM_MACHO_SIGNED, TC_MIN_SIGNED, "signed Mach-O files");
}

const char *tc_path(const char *rel, char *buf, size_t n)
{
	snprintf(buf, n, "%s", ts_corpus(rel));
	return buf;
}

uint8_t *tc_read_file(const char *path, size_t *len)
{
	uint8_t *p = NULL;
	int rc = ut_file_read(path, (size_t)1 << 30, &p, len);
	cr_assert_eq(rc, 0, "%s: %s", path, ut_errmsg());
	return p;
}

/* LC_CODE_SIGNATURE of a 32-bit or big-endian slice: a bounded load-command walk. */
static void walk_small(const uint8_t *d, size_t dlen, struct tc_slice *s)
{
	const uint8_t *h = d + s->slice_off;
	uint32_t magic = ut_le32(h);
	int be = magic == MH_CIGAM || magic == MH_CIGAM_64;
	uint32_t (*ld)(const uint8_t *) = be ? ut_be32 : ut_le32;
	size_t hs = (magic == MH_MAGIC_64 || magic == MH_CIGAM_64) ? 32 : 28;
	uint32_t ncmds = ld(h + 16);
	s->cputype = ld(h + 4);
	s->filetype = ld(h + 12);
	size_t off = hs;
	for (uint32_t i = 0; i < ncmds; i++) {
		cr_assert(off + 8 <= s->slice_size && s->slice_off + off + 8 <= dlen);
		uint32_t cmd = ld(h + off), size = ld(h + off + 4);
		cr_assert(size >= 8 && off + size <= s->slice_size);
		if (cmd == LC_CODE_SIGNATURE) {
			s->sig_off = ld(h + off + 8);
			s->sig_size = ld(h + off + 12);
		}
		off += size;
	}
}

void tc_load(const char *rel, struct tc_file *f)
{
	tc_load_path(ts_corpus(rel), f);
}

void tc_load_path(const char *rel, struct tc_file *f)
{
	struct ut_src src;
	struct mo_file *mf = NULL;
	size_t dlen = 0;
	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s", rel);
	uint8_t *d = tc_read_file(f->path, &dlen);
	cr_assert_eq(ut_src_mem(&src, d, dlen, f->path), 0);
	cr_assert_eq(mo_file_parse(&src, &mf), 0, "%s: %s", rel, ut_errmsg());
	for (uint32_t i = 0; i < mf->nslices && f->nslices < TC_MAX_SLICES; i++) {
		const struct mo_slice *ms = &mf->slices[i];
		struct tc_slice *s = &f->s[f->nslices];
		memset(s, 0, sizeof(*s));
		s->slice_off = ms->offset;
		s->slice_size = ms->size;
		if (ms->kind == MO_SLICE_MACHO64) {
			const struct mo_image *img = ms->img;
			s->cputype = img->cputype;
			s->filetype = img->filetype;
			if (img->has_codesig) {
				s->sig_off = img->codesig.off;
				s->sig_size = img->codesig.size;
			}
			if (img->text_seg >= 0) {
				s->has_text = 1;
				s->text_fileoff = img->segments[img->text_seg].fileoff;
				s->text_filesize = img->segments[img->text_seg].filesize;
			}
		} else {
			walk_small(d, dlen, s);
		}
		if (s->sig_size == 0)
			continue;
		cr_assert(ut_range_ok(s->sig_off, s->sig_size, s->slice_size), "%s: signature outside slice", rel);
		s->sig = malloc(s->sig_size);
		cr_assert_not_null(s->sig);
		memcpy(s->sig, d + s->slice_off + s->sig_off, s->sig_size);
		f->nslices++;
	}
	mo_file_free(mf);
	ut_src_release(&src);
	free(d);
}

void tc_release(struct tc_file *f)
{
	for (unsigned i = 0; i < f->nslices; i++)
		free(f->s[i].sig);
	memset(f, 0, sizeof(*f));
}
