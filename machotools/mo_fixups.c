/*
 * mo_fixups.c - the imports of LC_DYLD_CHAINED_FIXUPS (<mach-o/fixup-chains.h>).
 *
 * The blob starts with dyld_chained_fixups_header (7 x uint32: fixups_version,
 * starts_offset, imports_offset, symbols_offset, imports_count,
 * imports_format, symbols_format).  The imports table holds imports_count
 * entries of DYLD_CHAINED_IMPORT (uint32: lib_ordinal:8 weak_import:1
 * name_offset:23), DYLD_CHAINED_IMPORT_ADDEND (the same + int32 addend) or
 * DYLD_CHAINED_IMPORT_ADDEND64 (uint64: lib_ordinal:16 weak_import:1
 * reserved:15 name_offset:32, + uint64 addend); names are NUL-terminated in
 * the symbols pool that runs from symbols_offset to the end of the blob.
 *
 * Validated as dyld validates it before use: version 0, uncompressed symbols,
 * every offset inside the blob, the imports table ending before the symbols
 * pool, dyld_chained_starts_in_image (seg_count no more than the segments,
 * each dyld_chained_starts_in_segment and its page_start array inside the
 * blob), library ordinals within the dependencies (0xFD-0xFF / 0xFFFD-0xFFFF
 * are the special ordinals), names inside the pool.  The chains themselves
 * live in __DATA and are not walked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mo_symbols.h"
#include "mo_symbols_priv.h"
#include "ut_err.h"

#define HEADER_SIZE 28u
#define STARTS_IN_SEGMENT_SIZE 22u

struct fx {
	const uint8_t *p;
	size_t len;
	uint64_t base;
	const struct mo_image *img;
};

static int fail(const struct fx *x, uint64_t at, const char *fmt, ...) UT_PRINTF(3, 4);
static int fail(const struct fx *x, uint64_t at, const char *fmt, ...)
{
	char msg[192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ut_fail(UT_EMALFORMED, "chained fixups at 0x%llx: %s", ULL(x->base + at), msg);
}

static int check_starts(const struct fx *x, uint32_t starts)
{
	if (x->len - starts < 4)
		return fail(x, starts, "dyld_chained_starts_in_image at 0x%x runs past the end (0x%zx bytes)", starts, x->len);
	uint32_t nseg = ut_le32(x->p + starts);
	if (nseg > x->img->nsegments)
		return fail(x, starts, "seg_count %u but only %u segments", nseg, x->img->nsegments);
	if ((x->len - starts - 4) / 4 < nseg)
		return fail(x, starts, "seg_info_offset[%u] runs past the end (0x%zx bytes)", nseg, x->len);
	for (uint32_t i = 0; i < nseg; i++) {
		uint64_t so = ut_le32(x->p + starts + 4 + 4 * (size_t)i);
		if (so == 0)
			continue;
		uint64_t at = starts + so;
		if (at > x->len || x->len - at < STARTS_IN_SEGMENT_SIZE)
			return fail(x, starts, "segment %u: dyld_chained_starts_in_segment at 0x%llx runs past the end (0x%zx bytes)",
				    i, ULL(at), x->len);
		const uint8_t *sg = x->p + at;
		uint32_t size = ut_le32(sg);
		uint16_t npages = ut_le16(sg + 20);
		if (size < STARTS_IN_SEGMENT_SIZE + 2u * npages)
			return fail(x, at, "segment %u: size %u too small for %u page starts", i, size, npages);
		if (size > x->len - at)
			return fail(x, at, "segment %u: dyld_chained_starts_in_segment of %u bytes runs past the end", i,
				    size);
	}
	return 0;
}

static int imports(const struct fx *x, uint32_t off, uint32_t count, uint32_t format, uint32_t pool,
		   struct mo_imports *out)
{
	size_t esize = format == DYLD_CHAINED_IMPORT ? 4 : format == DYLD_CHAINED_IMPORT_ADDEND ? 8 : 16;
	size_t pool_len = x->len - pool;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = x->p + off + (size_t)i * esize;
		uint64_t name_off;
		int32_t ord;
		int weak;
		if (format == DYLD_CHAINED_IMPORT_ADDEND64) {
			uint64_t raw = ut_le64(e);
			uint32_t lib = (uint32_t)(raw & 0xffff);
			ord = lib > 0xfff0 ? (int16_t)lib : (int32_t)lib;
			weak = (raw >> 16) & 1;
			name_off = raw >> 32;
		} else {
			uint32_t raw = ut_le32(e);
			uint32_t lib = raw & 0xff;
			ord = lib > 0xf0 ? (int8_t)lib : (int32_t)lib;
			weak = (raw >> 8) & 1;
			name_off = raw >> 9;
		}
		uint64_t at = off + (uint64_t)i * esize;
		if (ord > (int32_t)x->img->ndeps)
			return fail(x, at, "imports[%u]: ordinal %d but only %u dependencies", i, ord, x->img->ndeps);
		if (ord < BIND_SPECIAL_DYLIB_WEAK_LOOKUP)
			return fail(x, at, "imports[%u]: unknown special ordinal %d", i, ord);
		if (name_off >= pool_len)
			return fail(x, at, "imports[%u]: name offset 0x%llx past the symbols pool (0x%zx bytes)", i,
				    ULL(name_off), pool_len);
		const char *name = (const char *)x->p + pool + name_off;
		const char *nul = memchr(name, 0, pool_len - (size_t)name_off);
		if (!nul)
			return fail(x, at, "imports[%u]: name at pool offset 0x%llx is not NUL-terminated", i, ULL(name_off));
		int rc = mo_imports_add(out, name, (size_t)(nul - name), ord, MO_IMPORT_CHAINED, weak, 0);
		if (rc)
			return ut_ctx(rc, "chained fixups at 0x%llx: imports[%u]", ULL(x->base + at), i);
	}
	return 0;
}

int mo_fixups_parse(const struct mo_image *img, struct ut_span blob, uint64_t base, struct mo_imports *acc)
{
	struct fx x = { .p = blob.p, .len = blob.len, .base = base, .img = img };
	if (blob.len > MO_MAX_SYMDATA)
		return ut_fail(UT_EUNSUPPORTED, "chained fixups at 0x%llx: %zu bytes exceed the limit of %u", ULL(base),
			       blob.len, MO_MAX_SYMDATA);
	if (blob.len < HEADER_SIZE)
		return fail(&x, 0, "%zu bytes, too small for dyld_chained_fixups_header (%u)", blob.len, HEADER_SIZE);
	uint32_t version = ut_le32(blob.p), starts = ut_le32(blob.p + 4), ioff = ut_le32(blob.p + 8);
	uint32_t soff = ut_le32(blob.p + 12), count = ut_le32(blob.p + 16), format = ut_le32(blob.p + 20);
	uint32_t sformat = ut_le32(blob.p + 24);
	if (version != 0)
		return fail(&x, 0, "unknown fixups_version %u", version);
	if (sformat != 0)
		return fail(&x, 24, "symbols_format %u (compressed) is not supported by dyld", sformat);
	if (format < DYLD_CHAINED_IMPORT || format > DYLD_CHAINED_IMPORT_ADDEND64)
		return fail(&x, 20, "unknown imports_format %u", format);
	if (starts < HEADER_SIZE || starts >= blob.len)
		return fail(&x, 4, "starts_offset 0x%x outside the blob (0x%zx bytes)", starts, blob.len);
	if (starts % 4)
		return fail(&x, 4, "starts_offset 0x%x is not 4-byte aligned", starts);
	if (ioff < HEADER_SIZE || ioff > blob.len)
		return fail(&x, 8, "imports_offset 0x%x outside the blob (0x%zx bytes)", ioff, blob.len);
	if (soff < HEADER_SIZE || soff > blob.len)
		return fail(&x, 12, "symbols_offset 0x%x outside the blob (0x%zx bytes)", soff, blob.len);
	uint64_t esize = format == DYLD_CHAINED_IMPORT ? 4 : format == DYLD_CHAINED_IMPORT_ADDEND ? 8 : 16;
	if (ioff > soff || (soff - ioff) / esize < count)
		return fail(&x, 16, "%u imports of %llu bytes at 0x%x overlap the symbols at 0x%x", count, ULL(esize), ioff,
			    soff);
	int rc = check_starts(&x, starts);
	if (!rc)
		rc = imports(&x, ioff, count, format, soff, acc);
	mo_imports_finish(acc);
	return rc;
}
