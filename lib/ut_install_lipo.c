/*
 * ut_install_lipo.c - write a universal (fat) Mach-O file from slices of
 * other files, like `lipo -create`: FAT_MAGIC header (big-endian), one
 * fat_arch per slice in the order given, each slice at the next 2^14
 * boundary (align 14, what lipo and codesign_allocate use for arm64 and
 * x86_64), zero bytes in between.  Written atomically.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "mo_format.h"
#include "ut_bytes.h"
#include "ut_file.h"
#include "ut_install_int.h"
#include "ut_limits.h"

#define FAT_ALIGN_SHIFT 14u
#define FAT_ALIGN ((uint64_t)1 << FAT_ALIGN_SHIFT)

static uint64_t align_up(uint64_t v) { return (v + FAT_ALIGN - 1) & ~(FAT_ALIGN - 1); }

int ui_fat_write(const char *out, const struct ui_fat_part *parts, size_t n)
{
	if (n == 0 || n > UT_MAX_SLICES)
		return ut_fail(UT_EINVAL, "'%s': %zu slices for a universal file", out, n);
	struct mo_fat_entry e[UT_MAX_SLICES];
	uint64_t off = align_up(MO_FAT_HEADER_SIZE + n * MO_FAT_ARCH_SIZE);
	for (size_t i = 0; i < n; i++) {
		e[i] = (struct mo_fat_entry){ parts[i].cputype, parts[i].cpusubtype, off, parts[i].size, FAT_ALIGN_SHIFT };
		off = align_up(off + parts[i].size);
	}
	struct ut_buf hdr;
	ut_buf_init(&hdr, 0);
	int rc = mo_fat_header_append(&hdr, FAT_MAGIC, e, (uint32_t)n);
	if (rc) {
		ut_buf_release(&hdr);
		return ut_ctx(rc, "'%s'", out);
	}
	struct ut_atomic w;
	if ((rc = ut_atomic_open(&w, out, 0755)) != 0) {
		ut_buf_release(&hdr);
		return rc;
	}
	rc = ut_atomic_write(&w, hdr.p, hdr.len);
	uint64_t pos = hdr.len;
	ut_buf_release(&hdr);
	for (size_t i = 0; !rc && i < n; i++) {
		rc = ut_atomic_zeros(&w, e[i].offset - pos);
		pos = e[i].offset;
		struct ut_src s;
		if (!rc && (rc = ut_src_open(&s, parts[i].path)) == 0) {
			rc = ut_atomic_copy(&w, &s, parts[i].offset, parts[i].size);
			ut_src_release(&s);
		}
		pos += parts[i].size;
	}
	if (!rc)
		return ut_atomic_commit(&w);
	ut_atomic_abort(&w);
	return rc;
}
