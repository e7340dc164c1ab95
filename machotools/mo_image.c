/*
 * mo_image.c - validation of one 64-bit little-endian Mach-O slice.
 *
 * The whole structural pass runs before a handle is returned: header sizes,
 * every load command's cmdsize, every lc_str NUL-terminated inside its
 * command, segment/section and __LINKEDIT ranges inside the slice, and the
 * load commands not overlapping the first data they precede.  Values read
 * from the file are widened to 64 bits before any arithmetic.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "mo_format.h"
#include "mo_image_priv.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_limits.h"

/* A __LINKEDIT data range, checked once __LINKEDIT is known. */
struct le_range {
	uint64_t off, size;
	uint32_t index, lcoff;
	const char *what;
};

/* Parse state: the image being built plus the lowest offset load commands may not cross. */
struct pstate {
	struct mo_image *img;
	const char *where;      /* "slice arm64" etc. */
	uint32_t index;         /* current load command */
	uint32_t off;           /* its offset */
	uint64_t limit;         /* lowest data offset seen (pad limit) */
	char limit_what[64];    /* what lies at limit */
	struct le_range *le;    /* every non-empty one (a fixed table let ranges past it go unchecked) */
	uint32_t nle, cap_le;
};

static int note_linkedit(struct pstate *ps, uint64_t off, uint64_t size, const char *what)
{
	if (size == 0)
		return 0;
	if (ps->nle == ps->cap_le) {
		uint32_t ncap = ps->cap_le ? ps->cap_le * 2 : 32;
		struct le_range *v = realloc(ps->le, ncap * sizeof(*v));
		if (!v)
			return ut_fail(UT_ENOMEM, "out of memory");
		ps->le = v;
		ps->cap_le = ncap;
	}
	ps->le[ps->nle++] = (struct le_range){ off, size, ps->index, ps->off, what };
	return 0;
}

static int lc_fail(struct pstate *ps, const char *fmt, ...) UT_PRINTF(2, 3);
static int lc_fail(struct pstate *ps, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	uint32_t cmd = ut_le32(ps->img->hdr + ps->off);
	const char *name = mo_lc_name(cmd);
	char unk[24];
	if (!name) {
		snprintf(unk, sizeof(unk), "cmd 0x%x", cmd);
		name = unk;
	}
	return ut_fail(UT_EMALFORMED, "%s: load command %u (%s) at offset 0x%x: %s", ps->where, ps->index, name,
		       ps->off, msg);
}

#define ULL(x) ((unsigned long long)(x))

static void note_data(struct pstate *ps, uint64_t off, uint64_t size, const char *what)
{
	if (size == 0 || off == 0)
		return;
	if (off < ps->limit) {
		ps->limit = off;
		snprintf(ps->limit_what, sizeof(ps->limit_what), "%s", what);
	}
}

/* Checks [off, off+size) lies in the slice and records it as data load commands must not reach. */
static int check_range(struct pstate *ps, uint64_t off, uint64_t size, const char *what)
{
	if (!ut_range_ok(off, size, ps->img->size))
		return lc_fail(ps, "%s at 0x%llx (size 0x%llx) past end of slice", what, ULL(off), ULL(size));
	note_data(ps, off, size, what);
	return 0;
}

/* Checks count elements of elsize at off. */
static int check_table(struct pstate *ps, uint64_t off, uint64_t count, uint64_t elsize, const char *what)
{
	if (count && (ps->img->size / elsize < count))
		return lc_fail(ps, "%s at 0x%llx (%llu entries) past end of slice", what, ULL(off), ULL(count));
	return check_range(ps, off, count * elsize, what);
}

/* Validates an lc_str at field offset fieldoff of the current command; returns the string. */
static int get_lcstr(struct pstate *ps, const uint8_t *lc, uint32_t cmdsize, uint32_t fixed, uint32_t fieldoff,
		     const char **out, uint32_t *strofs)
{
	uint32_t so = ut_le32(lc + fieldoff);
	if (so < fixed || so >= cmdsize)
		return lc_fail(ps, "string offset %u outside the command (must be %u..%u)", so, fixed, cmdsize - 1);
	const uint8_t *s = lc + so;
	if (!memchr(s, 0, cmdsize - so))
		return lc_fail(ps, "string at offset %u not NUL-terminated inside the command", so);
	if (cmdsize - so > UT_MAX_PATH_STR && strlen((const char *)s) >= UT_MAX_PATH_STR)
		return lc_fail(ps, "string longer than %u bytes", UT_MAX_PATH_STR);
	*out = (const char *)s;
	if (strofs)
		*strofs = so;
	return 0;
}

static int need_size(struct pstate *ps, uint32_t cmdsize, uint32_t want, int exact)
{
	if (exact ? cmdsize != want : cmdsize < want)
		return lc_fail(ps, "cmdsize %u, expected %s%u", cmdsize, exact ? "" : "at least ", want);
	return 0;
}

static void copy_name(char dst[17], const uint8_t *src)
{
	memcpy(dst, src, 16);
	dst[16] = '\0';
}

static int parse_segment(struct pstate *ps, const uint8_t *lc, uint32_t cmdsize)
{
	struct mo_image *img = ps->img;
	int rc = need_size(ps, cmdsize, MO_SEGMENT_64_SIZE, 0);
	if (rc)
		return rc;
	uint32_t nsects = ut_le32(lc + 64);
	if ((uint64_t)nsects * MO_SECTION_64_SIZE + MO_SEGMENT_64_SIZE != cmdsize)
		return lc_fail(ps, "%u sections do not match cmdsize %u", nsects, cmdsize);
	if (img->nsections + (uint64_t)nsects > UT_MAX_SECTIONS)
		return lc_fail(ps, "more than %u sections", UT_MAX_SECTIONS);
	struct mo_segment *seg = &img->segments[img->nsegments];
	copy_name(seg->segname, lc + 8);
	seg->vmaddr = ut_le64(lc + 24);
	seg->vmsize = ut_le64(lc + 32);
	seg->fileoff = ut_le64(lc + 40);
	seg->filesize = ut_le64(lc + 48);
	seg->maxprot = ut_le32(lc + 56);
	seg->initprot = ut_le32(lc + 60);
	seg->nsects = nsects;
	seg->flags = ut_le32(lc + 68);
	seg->lc_index = ps->index;
	seg->first_section = img->nsections;
	char what[64];
	snprintf(what, sizeof(what), "segment %s", seg->segname);
	if (!ut_range_ok(seg->fileoff, seg->filesize, img->size))
		return lc_fail(ps, "%s file range 0x%llx+0x%llx past end of slice", what, ULL(seg->fileoff),
			       ULL(seg->filesize));
	if (seg->filesize > seg->vmsize)
		return lc_fail(ps, "%s filesize 0x%llx exceeds its vmsize 0x%llx", what, ULL(seg->filesize),
			       ULL(seg->vmsize));
	if (seg->vmsize && seg->vmaddr + seg->vmsize < seg->vmaddr)
		return lc_fail(ps, "%s vm range 0x%llx+0x%llx wraps around", what, ULL(seg->vmaddr), ULL(seg->vmsize));
	if (seg->fileoff > 0)
		note_data(ps, seg->fileoff, seg->filesize, what);
	if (strcmp(seg->segname, "__TEXT") == 0 && img->text_seg < 0)
		img->text_seg = (int)img->nsegments;
	if (strcmp(seg->segname, "__LINKEDIT") == 0) {
		if (img->linkedit_seg >= 0)
			return lc_fail(ps, "second __LINKEDIT segment");
		img->linkedit_seg = (int)img->nsegments;
	}
	for (uint32_t i = 0; i < nsects; i++) {
		const uint8_t *s = lc + MO_SEGMENT_64_SIZE + (size_t)i * MO_SECTION_64_SIZE;
		struct mo_section *sec = &img->sections[img->nsections + i];
		copy_name(sec->sectname, s);
		copy_name(sec->segname, s + 16);
		sec->addr = ut_le64(s + 32);
		sec->size = ut_le64(s + 40);
		sec->offset = ut_le32(s + 48);
		sec->align = ut_le32(s + 52);
		sec->reloff = ut_le32(s + 56);
		sec->nreloc = ut_le32(s + 60);
		sec->flags = ut_le32(s + 64);
		sec->reserved1 = ut_le32(s + 68);
		sec->reserved2 = ut_le32(s + 72);
		sec->reserved3 = ut_le32(s + 76);
		sec->seg_index = img->nsegments;
		uint32_t type = sec->flags & SECTION_TYPE;
		int zerofill = type == S_ZEROFILL || type == S_GB_ZEROFILL || type == S_THREAD_LOCAL_ZEROFILL;
		snprintf(what, sizeof(what), "section %.16s,%.16s", sec->segname, sec->sectname);
		if (!zerofill && sec->offset != 0 && sec->size != 0) {
			if (!ut_range_ok(sec->offset, sec->size, img->size))
				return lc_fail(ps, "%s at 0x%x (size 0x%llx) past end of slice", what, sec->offset,
					       ULL(sec->size));
			if (sec->offset < seg->fileoff ||
			    !ut_range_ok(sec->offset - seg->fileoff, sec->size, seg->filesize))
				return lc_fail(ps, "%s at 0x%x (size 0x%llx) outside its segment", what, sec->offset,
					       ULL(sec->size));
			note_data(ps, sec->offset, sec->size, what);
		}
		if (sec->nreloc) {
			int rc2 = check_table(ps, sec->reloff, sec->nreloc, 8, "relocations");
			if (rc2)
				return rc2;
		}
	}
	img->nsections += nsects;
	img->nsegments++;
	return 0;
}

static int parse_dylib(struct pstate *ps, const uint8_t *lc, uint32_t cmd, uint32_t cmdsize)
{
	struct mo_image *img = ps->img;
	int rc = need_size(ps, cmdsize, MO_DYLIB_CMD_SIZE, 0);
	if (rc)
		return rc;
	struct mo_dylib d;
	d.lc_index = ps->index;
	d.cmd = cmd;
	rc = get_lcstr(ps, lc, cmdsize, MO_DYLIB_CMD_SIZE, 8, &d.name, &d.name_offset);
	if (rc)
		return rc;
	d.timestamp = ut_le32(lc + 12);
	d.current_version = ut_le32(lc + 16);
	d.compat_version = ut_le32(lc + 20);
	if (cmd == LC_ID_DYLIB) {
		if (img->has_id)
			return lc_fail(ps, "second LC_ID_DYLIB");
		img->has_id = 1;
		img->id = d;
		return 0;
	}
	img->deps[img->ndeps++] = d;
	return 0;
}

static int parse_linkedit_data(struct pstate *ps, const uint8_t *lc, uint32_t cmd, uint32_t cmdsize)
{
	struct mo_image *img = ps->img;
	int rc = need_size(ps, cmdsize, MO_LINKEDIT_CMD_SIZE, 1);
	if (rc)
		return rc;
	struct mo_range r = { ut_le32(lc + 8), ut_le32(lc + 12) };
	const char *name = mo_lc_name(cmd);
	rc = check_range(ps, r.off, r.size, name);
	if (!rc)
		rc = note_linkedit(ps, r.off, r.size, name);
	if (rc)
		return rc;
	if (cmd == LC_CODE_SIGNATURE) {
		if (img->has_codesig)
			return lc_fail(ps, "second LC_CODE_SIGNATURE");
		img->has_codesig = 1;
		img->codesig_lc = ps->index;
		img->codesig = r;
	} else if (cmd == LC_DYLD_CHAINED_FIXUPS) {
		if (img->has_chained_fixups)
			return lc_fail(ps, "second LC_DYLD_CHAINED_FIXUPS");
		img->has_chained_fixups = 1;
		img->chained_fixups = r;
	} else if (cmd == LC_DYLD_EXPORTS_TRIE) {
		if (img->has_exports_trie)
			return lc_fail(ps, "second LC_DYLD_EXPORTS_TRIE");
		img->has_exports_trie = 1;
		img->exports_trie = r;
	}
	return 0;
}

static int parse_symtab(struct pstate *ps, const uint8_t *lc, uint32_t cmdsize)
{
	struct mo_image *img = ps->img;
	int rc = need_size(ps, cmdsize, 24, 1);
	if (rc)
		return rc;
	if (img->has_symtab)
		return lc_fail(ps, "second LC_SYMTAB");
	img->has_symtab = 1;
	img->symoff = ut_le32(lc + 8);
	img->nsyms = ut_le32(lc + 12);
	img->stroff = ut_le32(lc + 16);
	img->strsize = ut_le32(lc + 20);
	rc = check_table(ps, img->symoff, img->nsyms, 16, "symbol table");
	if (!rc)
		rc = check_range(ps, img->stroff, img->strsize, "string table");
	if (!rc)
		rc = note_linkedit(ps, img->symoff, (uint64_t)img->nsyms * 16, "symbol table");
	if (!rc)
		rc = note_linkedit(ps, img->stroff, img->strsize, "string table");
	return rc;
}

static int parse_dysymtab(struct pstate *ps, const uint8_t *lc, uint32_t cmdsize)
{
	int rc = need_size(ps, cmdsize, 80, 1);
	if (rc)
		return rc;
	static const struct {
		uint32_t off, count, elsize;
		const char *what;
	} tables[] = {
		{ 32, 36, 8, "table of contents" },     { 40, 44, 56, "module table" },
		{ 48, 52, 4, "external references" },   { 56, 60, 4, "indirect symbols" },
		{ 64, 68, 8, "external relocations" },  { 72, 76, 8, "local relocations" },
	};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		uint32_t n = ut_le32(lc + tables[i].count);
		if (n == 0)
			continue;
		rc = check_table(ps, ut_le32(lc + tables[i].off), n, tables[i].elsize, tables[i].what);
		if (!rc)
			rc = note_linkedit(ps, ut_le32(lc + tables[i].off), (uint64_t)n * tables[i].elsize, tables[i].what);
		if (rc)
			return rc;
	}
	/* Symbol groups: index + count within nsyms (checked after LC_SYMTAB is known). */
	for (int g = 0; g < 3; g++) {
		uint64_t first = ut_le32(lc + 8 + 8 * g), n = ut_le32(lc + 12 + 8 * g);
		if (first + n > 0xffffffffull)
			return lc_fail(ps, "symbol group %llu+%llu overflows", ULL(first), ULL(n));
	}
	return 0;
}

static int parse_dyld_info(struct pstate *ps, const uint8_t *lc, uint32_t cmdsize)
{
	struct mo_image *img = ps->img;
	int rc = need_size(ps, cmdsize, 48, 1);
	if (rc)
		return rc;
	if (img->has_dyld_info)
		return lc_fail(ps, "second LC_DYLD_INFO");
	img->has_dyld_info = 1;
	struct mo_range *r[5] = { &img->rebase, &img->bind, &img->weak_bind, &img->lazy_bind, &img->export_info };
	static const char *what[5] = { "rebase info", "bind info", "weak bind info", "lazy bind info",
				       "export info" };
	for (int i = 0; i < 5; i++) {
		r[i]->off = ut_le32(lc + 8 + 8 * i);
		r[i]->size = ut_le32(lc + 12 + 8 * i);
		rc = check_range(ps, r[i]->off, r[i]->size, what[i]);
		if (!rc)
			rc = note_linkedit(ps, r[i]->off, r[i]->size, what[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_version(struct pstate *ps, const uint8_t *lc, uint32_t cmd, uint32_t cmdsize)
{
	struct mo_image *img = ps->img;
	int rc;
	if (cmd == LC_BUILD_VERSION) {
		rc = need_size(ps, cmdsize, 24, 0);
		if (rc)
			return rc;
		uint32_t ntools = ut_le32(lc + 20);
		if ((uint64_t)ntools * 8 + 24 != cmdsize)
			return lc_fail(ps, "%u tools do not match cmdsize %u", ntools, cmdsize);
	} else {
		rc = need_size(ps, cmdsize, 16, 1);
		if (rc)
			return rc;
	}
	if (img->version_cmd)
		return 0; /* the first one describes the slice */
	img->version_cmd = cmd;
	if (cmd == LC_BUILD_VERSION) {
		img->platform = ut_le32(lc + 8);
		img->minos = ut_le32(lc + 12);
		img->sdk = ut_le32(lc + 16);
	} else {
		img->platform = cmd == LC_VERSION_MIN_MACOSX	 ? PLATFORM_MACOS
				: cmd == LC_VERSION_MIN_IPHONEOS ? PLATFORM_IOS
				: cmd == LC_VERSION_MIN_TVOS	 ? PLATFORM_TVOS
								 : PLATFORM_WATCHOS;
		img->minos = ut_le32(lc + 8);
		img->sdk = ut_le32(lc + 12);
	}
	return 0;
}

static int parse_one(struct pstate *ps, const uint8_t *lc, uint32_t cmd, uint32_t cmdsize)
{
	struct mo_image *img = ps->img;
	int rc;
	const char *str;
	switch (cmd) {
	case LC_SEGMENT_64:
		return parse_segment(ps, lc, cmdsize);
	case LC_SEGMENT:
		return lc_fail(ps, "32-bit LC_SEGMENT in a 64-bit image");
	case LC_ID_DYLIB:
	case LC_LOAD_DYLIB:
	case LC_LOAD_WEAK_DYLIB:
	case LC_REEXPORT_DYLIB:
	case LC_LOAD_UPWARD_DYLIB:
	case LC_LAZY_LOAD_DYLIB:
		return parse_dylib(ps, lc, cmd, cmdsize);
	case LC_RPATH: {
		rc = need_size(ps, cmdsize, MO_RPATH_CMD_SIZE, 0);
		if (rc)
			return rc;
		struct mo_rpath *r = &img->rpaths[img->nrpaths];
		rc = get_lcstr(ps, lc, cmdsize, MO_RPATH_CMD_SIZE, 8, &r->path, &r->path_offset);
		if (rc)
			return rc;
		r->lc_index = ps->index;
		img->nrpaths++;
		return 0;
	}
	case LC_LOAD_DYLINKER:
	case LC_ID_DYLINKER:
	case LC_DYLD_ENVIRONMENT:
	case LC_SUB_FRAMEWORK:
	case LC_SUB_UMBRELLA:
	case LC_SUB_CLIENT:
	case LC_SUB_LIBRARY:
		rc = need_size(ps, cmdsize, 12, 0);
		return rc ? rc : get_lcstr(ps, lc, cmdsize, 12, 8, &str, NULL);
	case LC_UUID:
		rc = need_size(ps, cmdsize, 24, 1);
		if (rc)
			return rc;
		if (img->has_uuid)
			return lc_fail(ps, "second LC_UUID");
		img->has_uuid = 1;
		memcpy(img->uuid, lc + 8, 16);
		return 0;
	case LC_CODE_SIGNATURE:
	case LC_SEGMENT_SPLIT_INFO:
	case LC_FUNCTION_STARTS:
	case LC_DATA_IN_CODE:
	case LC_DYLIB_CODE_SIGN_DRS:
	case LC_LINKER_OPTIMIZATION_HINT:
	case LC_DYLD_EXPORTS_TRIE:
	case LC_DYLD_CHAINED_FIXUPS:
	case LC_ATOM_INFO:
		return parse_linkedit_data(ps, lc, cmd, cmdsize);
	case LC_SYMTAB:
		return parse_symtab(ps, lc, cmdsize);
	case LC_DYSYMTAB:
		return parse_dysymtab(ps, lc, cmdsize);
	case LC_DYLD_INFO:
	case LC_DYLD_INFO_ONLY:
		return parse_dyld_info(ps, lc, cmdsize);
	case LC_BUILD_VERSION:
	case LC_VERSION_MIN_MACOSX:
	case LC_VERSION_MIN_IPHONEOS:
	case LC_VERSION_MIN_TVOS:
	case LC_VERSION_MIN_WATCHOS:
		return parse_version(ps, lc, cmd, cmdsize);
	case LC_MAIN:
		rc = need_size(ps, cmdsize, 24, 1);
		if (rc)
			return rc;
		if (img->has_main)
			return lc_fail(ps, "second LC_MAIN");
		img->has_main = 1;
		img->entryoff = ut_le64(lc + 8);
		return 0;
	case LC_ENCRYPTION_INFO_64:
		rc = need_size(ps, cmdsize, 24, 1);
		return rc ? rc : check_range(ps, ut_le32(lc + 8), ut_le32(lc + 12), "encrypted range");
	case LC_SOURCE_VERSION:
		return need_size(ps, cmdsize, 16, 1);
	case LC_NOTE:
		rc = need_size(ps, cmdsize, 40, 1);
		return rc ? rc : check_range(ps, ut_le64(lc + 24), ut_le64(lc + 32), "note data");
	case LC_LINKER_OPTION:
		return need_size(ps, cmdsize, 12, 0);
	default:
		if (cmd & LC_REQ_DYLD)
			return lc_fail(ps, "unknown load command marked required by dyld (LC_REQ_DYLD)");
		return 0; /* unknown optional commands are kept as they are */
	}
}

/* Allocates the arrays for the worst case counted in a first pass over cmd values. */
static int alloc_arrays(struct pstate *ps)
{
	struct mo_image *img = ps->img;
	uint32_t nseg = 0, nsect = 0, ndep = 0, nrp = 0;
	uint64_t off = MO_MACH_HEADER_64_SIZE;
	for (uint32_t i = 0; i < img->ncmds; i++) {
		ps->index = i;
		ps->off = (uint32_t)off;
		if (img->cmds_end - off < 8)
			return ut_fail(UT_EMALFORMED,
				       "%s: load command %u at offset 0x%llx: ncmds %u runs past sizeofcmds %u", ps->where,
				       i, (unsigned long long)off, img->ncmds, img->sizeofcmds);
		const uint8_t *lc = img->hdr + off;
		uint32_t cmd = ut_le32(lc), cmdsize = ut_le32(lc + 4);
		if (cmdsize < 8)
			return lc_fail(ps, "cmdsize %u below 8", cmdsize);
		if (cmdsize % 8)
			return lc_fail(ps, "cmdsize %u not a multiple of 8", cmdsize);
		if (cmdsize > img->cmds_end - off)
			return lc_fail(ps, "cmdsize %u runs past the end of the load commands (sizeofcmds %u)", cmdsize,
				       img->sizeofcmds);
		img->lcs[i].cmd = cmd;
		img->lcs[i].cmdsize = cmdsize;
		img->lcs[i].off = (uint32_t)off;
		if (cmd == LC_SEGMENT_64) {
			nseg++;
			if (cmdsize >= MO_SEGMENT_64_SIZE)
				nsect += (cmdsize - MO_SEGMENT_64_SIZE) / MO_SECTION_64_SIZE;
		} else if (mo_is_dep_cmd(cmd)) {
			ndep++;
		} else if (cmd == LC_RPATH) {
			nrp++;
		}
		off += cmdsize;
	}
	if (off != img->cmds_end)
		return ut_fail(UT_EMALFORMED, "%s: header: %u load commands end at 0x%llx but sizeofcmds says 0x%llx",
			       ps->where, img->ncmds, (unsigned long long)off, (unsigned long long)img->cmds_end);
	img->segments = calloc(nseg ? nseg : 1, sizeof(*img->segments));
	img->sections = calloc(nsect ? nsect : 1, sizeof(*img->sections));
	img->deps = calloc(ndep ? ndep : 1, sizeof(*img->deps));
	img->rpaths = calloc(nrp ? nrp : 1, sizeof(*img->rpaths));
	if (!img->segments || !img->sections || !img->deps || !img->rpaths)
		return ut_fail(UT_ENOMEM, "out of memory");
	return 0;
}

static int check_segment_overlap(struct pstate *ps)
{
	struct mo_image *img = ps->img;
	for (uint32_t i = 0; i < img->nsegments; i++) {
		const struct mo_segment *a = &img->segments[i];
		for (uint32_t j = i + 1; j < img->nsegments; j++) {
			const struct mo_segment *b = &img->segments[j];
			ps->index = b->lc_index;
			ps->off = img->lcs[b->lc_index].off;
			if (a->vmsize && b->vmsize && a->vmaddr < b->vmaddr + b->vmsize && b->vmaddr < a->vmaddr + a->vmsize)
				return lc_fail(ps, "segment %s overlaps segment %s in memory", b->segname, a->segname);
			if (a->filesize && b->filesize && a->fileoff < b->fileoff + b->filesize &&
			    b->fileoff < a->fileoff + a->filesize)
				return lc_fail(ps, "segment %s overlaps segment %s in the file", b->segname, a->segname);
		}
	}
	return 0;
}

int mo_image_parse(const struct ut_src *src, uint64_t base, uint64_t size, const char *where,
		   struct mo_image **out)
{
	*out = NULL;
	uint8_t h[MO_MACH_HEADER_64_SIZE];
	if (size < MO_MACH_HEADER_64_SIZE)
		return ut_fail(UT_EMALFORMED, "%s: header: truncated mach header (%llu of %u bytes)", where,
			       (unsigned long long)size, MO_MACH_HEADER_64_SIZE);
	int rc = ut_src_read(src, base, h, sizeof(h));
	if (rc)
		return ut_ctx(rc, "%s", where);
	struct mo_image *img = calloc(1, sizeof(*img));
	if (!img)
		return ut_fail(UT_ENOMEM, "out of memory");
	struct pstate ps = { .img = img, .where = where, .limit = size };
	snprintf(ps.limit_what, sizeof(ps.limit_what), "the end of the slice");
	img->magic = ut_le32(h);
	img->cputype = ut_le32(h + 4);
	img->cpusubtype = ut_le32(h + 8);
	img->filetype = ut_le32(h + 12);
	img->ncmds = ut_le32(h + 16);
	img->sizeofcmds = ut_le32(h + 20);
	img->flags = ut_le32(h + 24);
	img->reserved = ut_le32(h + 28);
	img->size = size;
	img->linkedit_seg = -1;
	img->text_seg = -1;
	img->cmds_end = MO_MACH_HEADER_64_SIZE + (uint64_t)img->sizeofcmds;
	if (img->ncmds > UT_MAX_LOAD_CMDS) {
		rc = ut_fail(UT_EUNSUPPORTED, "%s: header: %u load commands exceed the limit of %u", where, img->ncmds,
			     UT_MAX_LOAD_CMDS);
		goto fail;
	}
	if (img->sizeofcmds > UT_MAX_SIZEOFCMDS || img->cmds_end > size) {
		rc = ut_fail(UT_EMALFORMED, "%s: header: sizeofcmds %u runs past the end of the slice (size %llu)",
			     where, img->sizeofcmds, (unsigned long long)size);
		goto fail;
	}
	img->hdr = malloc((size_t)img->cmds_end);
	img->lcs = calloc(img->ncmds ? img->ncmds : 1, sizeof(*img->lcs));
	if (!img->hdr || !img->lcs) {
		rc = ut_fail(UT_ENOMEM, "out of memory");
		goto fail;
	}
	rc = ut_src_read(src, base, img->hdr, (size_t)img->cmds_end);
	if (rc)
		goto fail;

	rc = alloc_arrays(&ps);
	if (rc)
		goto fail;
	for (uint32_t i = 0; i < img->ncmds; i++) {
		ps.index = i;
		ps.off = img->lcs[i].off;
		rc = parse_one(&ps, img->hdr + ps.off, img->lcs[i].cmd, img->lcs[i].cmdsize);
		if (rc)
			goto fail;
	}
	rc = check_segment_overlap(&ps);
	if (rc)
		goto fail;
	if (img->filetype == MH_DYLIB && !img->has_id) {
		rc = ut_fail(UT_EMALFORMED, "%s: header: dynamic library without LC_ID_DYLIB", where);
		goto fail;
	}
	if (img->linkedit_seg >= 0) {
		const struct mo_segment *le = &img->segments[img->linkedit_seg];
		for (uint32_t i = 0; i < ps.nle; i++) {
			if (ps.le[i].off >= le->fileoff && ut_range_ok(ps.le[i].off - le->fileoff, ps.le[i].size, le->filesize))
				continue;
			ps.index = ps.le[i].index;
			ps.off = ps.le[i].lcoff;
			rc = lc_fail(&ps, "%s at 0x%llx (size 0x%llx) lies outside __LINKEDIT", ps.le[i].what,
				     ULL(ps.le[i].off), ULL(ps.le[i].size));
			goto fail;
		}
	}
	if (img->cmds_end > ps.limit) {
		rc = ut_fail(UT_EMALFORMED, "%s: header: load commands end at 0x%llx, past %s at 0x%llx", where,
			     (unsigned long long)img->cmds_end, ps.limit_what, (unsigned long long)ps.limit);
		goto fail;
	}
	if (img->linkedit_seg >= 0 && img->has_codesig) {
		const struct mo_segment *le = &img->segments[img->linkedit_seg];
		uint64_t sig_end = (uint64_t)img->codesig.off + img->codesig.size;
		if (img->codesig.off < le->fileoff || sig_end > le->fileoff + le->filesize) {
			ps.index = img->codesig_lc;
			ps.off = img->lcs[img->codesig_lc].off;
			rc = lc_fail(&ps, "code signature 0x%x+0x%x outside __LINKEDIT", img->codesig.off,
				     img->codesig.size);
			goto fail;
		}
	}
	img->pad_limit = ps.limit;
	free(ps.le);
	*out = img;
	return 0;
fail:
	free(ps.le);
	mo_image_free(img);
	return rc;
}

void mo_image_free(struct mo_image *img)
{
	if (!img)
		return;
	free(img->hdr);
	free(img->lcs);
	free(img->segments);
	free(img->sections);
	free(img->deps);
	free(img->rpaths);
	free(img);
}
