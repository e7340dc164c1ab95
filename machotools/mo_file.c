/*
 * mo_file.c - fat/thin dispatch and universal header validation.
 *
 * Fat headers are big-endian.  Checked before any slice is read: the arch
 * table inside the file, each slice inside the file, aligned to 2^align
 * (align <= 15), clear of the header and arch table, not overlapping another
 * slice, no duplicate architecture.  Like dyld, an arm64 fat_arch placed just
 * after the last counted entry is detected (and reported; editors refuse it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "mo_format.h"
#include "mo_image_priv.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_limits.h"

#define ULL(x) ((unsigned long long)(x))
#define MO_MAX_FAT_ALIGN 15u

void mo_file_free(struct mo_file *f)
{
	if (!f)
		return;
	for (uint32_t i = 0; i < f->nslices; i++)
		mo_image_free(f->slices[i].img);
	free(f->slices);
	free(f);
}

/* Reads the 28-byte header of a 32-bit or big-endian slice for reporting. */
static int describe_unsupported(const struct ut_src *src, struct mo_slice *s, uint32_t magic_le, const char *where)
{
	uint8_t h[MO_MACH_HEADER_SIZE];
	if (s->size < sizeof(h))
		return ut_fail(UT_EMALFORMED, "%s: header: truncated mach header (%llu of %u bytes)", where,
			       ULL(s->size), MO_MACH_HEADER_SIZE);
	int rc = ut_src_read(src, s->offset, h, sizeof(h));
	if (rc)
		return rc;
	int be = magic_le == MH_CIGAM || magic_le == MH_CIGAM_64;
	uint32_t (*ld)(const uint8_t *) = be ? ut_be32 : ut_le32;
	s->kind = MO_SLICE_UNSUPPORTED;
	s->big_endian = be;
	s->bits = (magic_le == MH_MAGIC_64 || magic_le == MH_CIGAM_64) ? 64 : 32;
	s->cputype = ld(h + 4);
	s->cpusubtype = ld(h + 8);
	s->filetype = ld(h + 12);
	s->ncmds = ld(h + 16);
	s->sizeofcmds = ld(h + 20);
	s->flags = ld(h + 24);
	s->reason = be ? (s->bits == 32 ? "32-bit big-endian Mach-O is not supported for editing"
					: "big-endian Mach-O is not supported for editing")
		       : "32-bit Mach-O is not supported for editing";
	return 0;
}

/* Parses the slice at s->offset/size, filling kind and img. */
static int parse_slice(const struct ut_src *src, struct mo_slice *s, const char *where)
{
	uint8_t m[4];
	if (s->size < 4)
		return ut_fail(UT_EMALFORMED, "%s: header: slice of %llu bytes is too small for a mach header", where,
			       ULL(s->size));
	int rc = ut_src_read(src, s->offset, m, 4);
	if (rc)
		return rc;
	uint32_t magic = ut_le32(m);
	switch (magic) {
	case MH_MAGIC_64:
		rc = mo_image_parse(src, s->offset, s->size, where, &s->img);
		if (rc)
			return rc;
		s->kind = MO_SLICE_MACHO64;
		s->bits = 64;
		s->filetype = s->img->filetype;
		s->ncmds = s->img->ncmds;
		s->sizeofcmds = s->img->sizeofcmds;
		s->flags = s->img->flags;
		return 0;
	case MH_MAGIC:
	case MH_CIGAM:
	case MH_CIGAM_64:
		return describe_unsupported(src, s, magic, where);
	}
	return ut_fail(UT_EMALFORMED, "%s: header: bad mach header magic 0x%08x", where, magic);
}

static int parse_thin(const struct ut_src *src, struct mo_file *f)
{
	f->slices = calloc(1, sizeof(*f->slices));
	if (!f->slices)
		return ut_fail(UT_ENOMEM, "out of memory");
	f->nslices = 1;
	struct mo_slice *s = f->slices;
	s->offset = 0;
	s->size = src->size;
	uint8_t h[12];
	char arch[32], where[64];
	/* The arch name goes into every message, so read cputype first. */
	if (src->size >= sizeof(h) && ut_src_read(src, 0, h, sizeof(h)) == 0) {
		int be = ut_le32(h) == MH_CIGAM || ut_le32(h) == MH_CIGAM_64;
		s->cputype = be ? ut_be32(h + 4) : ut_le32(h + 4);
		s->cpusubtype = be ? ut_be32(h + 8) : ut_le32(h + 8);
		snprintf(where, sizeof(where), "slice %s", mo_arch_name(s->cputype, s->cpusubtype, arch));
	} else {
		snprintf(where, sizeof(where), "slice");
	}
	return parse_slice(src, s, where);
}

/* Reads fat_arch i (32- or 64-bit form) into s; returns 0. */
static void read_fat_arch(const uint8_t *a, int is64, struct mo_slice *s)
{
	s->cputype = ut_be32(a);
	s->cpusubtype = ut_be32(a + 4);
	if (is64) {
		s->offset = ut_be64(a + 8);
		s->size = ut_be64(a + 16);
		s->align = ut_be32(a + 24);
	} else {
		s->offset = ut_be32(a + 8);
		s->size = ut_be32(a + 12);
		s->align = ut_be32(a + 16);
	}
}

static int check_fat_arch(const struct ut_src *src, const struct mo_file *f, uint32_t i, uint64_t table_end)
{
	const struct mo_slice *s = &f->slices[i];
	char arch[32];
	const char *an = mo_arch_name(s->cputype, s->cpusubtype, arch);
	if (s->align > MO_MAX_FAT_ALIGN)
		return ut_fail(UT_EMALFORMED, "fat_arch %u (%s): align 2^%u exceeds the maximum 2^%u", i, an, s->align,
			       MO_MAX_FAT_ALIGN);
	if (s->size == 0)
		return ut_fail(UT_EMALFORMED, "fat_arch %u (%s): empty slice at offset 0x%llx", i, an, ULL(s->offset));
	if (!ut_range_ok(s->offset, s->size, src->size))
		return ut_fail(UT_EMALFORMED, "fat_arch %u (%s): slice at offset 0x%llx (size 0x%llx) past end of file (size 0x%llx)",
			       i, an, ULL(s->offset), ULL(s->size), ULL(src->size));
	if (s->offset < table_end)
		return ut_fail(UT_EMALFORMED, "fat_arch %u (%s): slice at offset 0x%llx overlaps the fat header (ends at 0x%llx)",
			       i, an, ULL(s->offset), ULL(table_end));
	if (s->offset & ((1ull << s->align) - 1))
		return ut_fail(UT_EMALFORMED, "fat_arch %u (%s): slice offset 0x%llx not aligned to 2^%u", i, an,
			       ULL(s->offset), s->align);
	for (uint32_t j = 0; j < i; j++) {
		const struct mo_slice *t = &f->slices[j];
		char arch2[32];
		if (t->cputype == s->cputype &&
		    (t->cpusubtype & ~CPU_SUBTYPE_MASK) == (s->cpusubtype & ~CPU_SUBTYPE_MASK))
			return ut_fail(UT_EMALFORMED, "fat_arch %u (%s): duplicate architecture (also fat_arch %u)", i, an, j);
		if (s->offset < t->offset + t->size && t->offset < s->offset + s->size)
			return ut_fail(UT_EMALFORMED,
				       "fat_arch %u (%s): slice at offset 0x%llx (size 0x%llx) overlaps fat_arch %u (%s)",
				       i, an, ULL(s->offset), ULL(s->size), j,
				       mo_arch_name(t->cputype, t->cpusubtype, arch2));
	}
	return 0;
}

/* dyld also honours an arm64 entry right after the last counted 32-bit fat_arch. */
static void detect_hidden_arm64(const struct ut_src *src, struct mo_file *f, uint64_t table_end)
{
	if (f->fat != FAT_MAGIC)
		return;
	uint64_t lowest = src->size;
	for (uint32_t i = 0; i < f->nslices; i++)
		if (f->slices[i].offset < lowest)
			lowest = f->slices[i].offset;
	if (table_end + MO_FAT_ARCH_SIZE > lowest)
		return;
	uint8_t a[MO_FAT_ARCH_SIZE];
	if (ut_src_read(src, table_end, a, sizeof(a)) != 0)
		return;
	struct mo_slice s;
	memset(&s, 0, sizeof(s));
	read_fat_arch(a, 0, &s);
	if (s.cputype != CPU_TYPE_ARM64)
		return;
	f->hidden_arm64 = 1;
	f->hidden_offset = s.offset;
	f->hidden_size = s.size;
	f->hidden_cpusubtype = s.cpusubtype;
}

static int parse_fat(const struct ut_src *src, struct mo_file *f, uint32_t magic)
{
	uint8_t h[MO_FAT_HEADER_SIZE];
	if (src->size < sizeof(h))
		return ut_fail(UT_EMALFORMED, "fat header: truncated (%llu of %u bytes)", ULL(src->size),
			       MO_FAT_HEADER_SIZE);
	int rc = ut_src_read(src, 0, h, sizeof(h));
	if (rc)
		return rc;
	int is64 = magic == FAT_MAGIC_64;
	f->fat = magic;
	f->nfat_arch = ut_be32(h + 4);
	if (f->nfat_arch == 0)
		return ut_fail(UT_EMALFORMED, "fat header: no architectures (nfat_arch 0)");
	if (f->nfat_arch > UT_MAX_SLICES)
		return ut_fail(UT_EMALFORMED, "fat header: nfat_arch %u exceeds the limit of %u", f->nfat_arch,
			       UT_MAX_SLICES);
	uint32_t esize = is64 ? MO_FAT_ARCH_64_SIZE : MO_FAT_ARCH_SIZE;
	uint64_t table_end = MO_FAT_HEADER_SIZE + (uint64_t)f->nfat_arch * esize;
	if (table_end > src->size)
		return ut_fail(UT_EMALFORMED, "fat header: table of %u fat_arch entries ends at 0x%llx, past end of file (size 0x%llx)",
			       f->nfat_arch, ULL(table_end), ULL(src->size));
	uint8_t *table;
	rc = ut_src_read_alloc(src, MO_FAT_HEADER_SIZE, (size_t)(table_end - MO_FAT_HEADER_SIZE), &table);
	if (rc)
		return rc;
	f->slices = calloc(f->nfat_arch, sizeof(*f->slices));
	if (!f->slices) {
		free(table);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	f->nslices = f->nfat_arch;
	for (uint32_t i = 0; i < f->nslices; i++) {
		read_fat_arch(table + (size_t)i * esize, is64, &f->slices[i]);
		rc = check_fat_arch(src, f, i, table_end);
		if (rc)
			break;
	}
	free(table);
	if (rc)
		return rc;
	detect_hidden_arm64(src, f, table_end);
	for (uint32_t i = 0; i < f->nslices && !rc; i++) {
		struct mo_slice *s = &f->slices[i];
		uint32_t fat_cpu = s->cputype, fat_sub = s->cpusubtype;
		char arch[32], where[96];
		snprintf(where, sizeof(where), "slice %s (fat_arch %u at offset 0x%llx)",
			 mo_arch_name(fat_cpu, fat_sub, arch), i, ULL(s->offset));
		rc = parse_slice(src, s, where);
		if (rc)
			break;
		uint32_t cpu = s->img ? s->img->cputype : s->cputype;
		if (cpu != fat_cpu) {
			char arch2[32];
			rc = ut_fail(UT_EMALFORMED, "%s: header: cputype %s does not match the fat_arch entry", where,
				     mo_arch_name(cpu, s->img ? s->img->cpusubtype : s->cpusubtype, arch2));
		}
		if (s->img) {
			s->cputype = s->img->cputype;
			s->cpusubtype = s->img->cpusubtype;
		}
	}
	return rc;
}

int mo_file_parse(const struct ut_src *src, struct mo_file **out)
{
	*out = NULL;
	struct mo_file *f = calloc(1, sizeof(*f));
	if (!f)
		return ut_fail(UT_ENOMEM, "out of memory");
	f->src = src;
	int rc;
	uint8_t m[4];
	if (src->size < 4) {
		rc = ut_fail(UT_EMALFORMED, "header: file of %llu bytes is too small to be Mach-O", ULL(src->size));
		ut_ctx(rc, "'%s'", src->name);
		goto fail;
	}
	rc = ut_src_read(src, 0, m, 4);
	if (rc)
		goto fail;
	uint32_t be = ut_be32(m), le = ut_le32(m);
	if (be == FAT_MAGIC || be == FAT_MAGIC_64)
		rc = parse_fat(src, f, be);
	else if (le == MH_MAGIC_64 || le == MH_MAGIC || le == MH_CIGAM || le == MH_CIGAM_64)
		rc = parse_thin(src, f);
	else
		rc = ut_fail(UT_EMALFORMED, "header: not a Mach-O file (magic 0x%08x)", be);
	if (rc) {
		ut_ctx(rc, "'%s'", src->name);
		goto fail;
	}
	*out = f;
	return 0;
fail:
	mo_file_free(f);
	return rc;
}

int mo_slice_read(const struct mo_file *f, const struct mo_slice *s, uint64_t off, void *buf, size_t len)
{
	if (!ut_range_ok(off, len, s->size))
		return ut_fail(UT_EMALFORMED, "'%s': read of %zu bytes at slice offset 0x%llx past end of slice",
			       f->src->name, len, ULL(off));
	return ut_src_read(f->src, s->offset + off, buf, len);
}

const struct mo_slice *mo_file_find_arch(const struct mo_file *f, const char *arch)
{
	for (uint32_t i = 0; i < f->nslices; i++) {
		char buf[32];
		const struct mo_slice *s = &f->slices[i];
		if (strcmp(mo_arch_name(s->cputype, s->cpusubtype, buf), arch) == 0)
			return s;
	}
	return NULL;
}

const struct mo_slice *mo_file_host_slice(const struct mo_file *f, const char *host_arch)
{
	static const struct {
		const char *name;
		uint32_t cputype;
	} cpu[] = {
		{ "arm64", CPU_TYPE_ARM64 }, { "arm64e", CPU_TYPE_ARM64 }, { "x86_64", CPU_TYPE_X86_64 },
		{ "x86_64h", CPU_TYPE_X86_64 }, { "i386", CPU_TYPE_X86 }, { "arm64_32", CPU_TYPE_ARM64_32 },
		{ "arm", CPU_TYPE_ARM },
	};
	const char *want = host_arch ? host_arch : "arm64";
	const struct mo_slice *s = mo_file_find_arch(f, want);
	uint32_t type = 0;
	for (size_t i = 0; !s && i < sizeof(cpu) / sizeof(cpu[0]); i++)
		if (strcmp(cpu[i].name, want) == 0)
			type = cpu[i].cputype;
	for (uint32_t i = 0; !s && type && i < f->nslices; i++)
		if (f->slices[i].cputype == type)
			s = &f->slices[i];
	return s ? s : f->nslices ? &f->slices[0] : NULL;
}

int mo_file_open(const char *path, struct ut_src *src, struct mo_file **out)
{
	*out = NULL;
	int rc = ut_src_open(src, path);
	if (rc)
		return rc;
	if ((rc = mo_file_parse(src, out)) != 0)
		ut_src_release(src);
	return rc;
}

void mo_file_close(struct ut_src *src, struct mo_file *f)
{
	mo_file_free(f);
	ut_src_release(src);
}

int mo_fat_header_append(struct ut_buf *out, uint32_t magic, const struct mo_fat_entry *e, uint32_t n)
{
	int is64 = magic == FAT_MAGIC_64;
	int rc = ut_buf_be32(out, magic);
	if (!rc)
		rc = ut_buf_be32(out, n);
	for (uint32_t i = 0; i < n && !rc; i++) {
		uint8_t a[MO_FAT_ARCH_64_SIZE] = { 0 };
		ut_put_be32(a, e[i].cputype);
		ut_put_be32(a + 4, e[i].cpusubtype);
		if (is64) {
			ut_put_be64(a + 8, e[i].offset);
			ut_put_be64(a + 16, e[i].size);
			ut_put_be32(a + 24, e[i].align);
		} else if (e[i].offset > UINT32_MAX || e[i].size > UINT32_MAX) {
			return ut_fail(UT_EUNSUPPORTED, "slice beyond 4 GiB needs a 64-bit fat header");
		} else {
			ut_put_be32(a + 8, (uint32_t)e[i].offset);
			ut_put_be32(a + 12, (uint32_t)e[i].size);
			ut_put_be32(a + 16, e[i].align);
		}
		rc = ut_buf_append(out, a, is64 ? MO_FAT_ARCH_64_SIZE : MO_FAT_ARCH_SIZE);
	}
	return rc;
}
