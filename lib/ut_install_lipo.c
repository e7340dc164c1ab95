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
	uint8_t hdr[MO_FAT_HEADER_SIZE + UT_MAX_SLICES * MO_FAT_ARCH_SIZE];
	memset(hdr, 0, sizeof(hdr));
	ut_put_be32(hdr, FAT_MAGIC);
	ut_put_be32(hdr + 4, (uint32_t)n);
	uint64_t off = align_up(MO_FAT_HEADER_SIZE + n * MO_FAT_ARCH_SIZE);
	uint64_t offs[UT_MAX_SLICES];
	for (size_t i = 0; i < n; i++) {
		if (parts[i].size > UINT32_MAX || off > UINT32_MAX)
			return ut_fail(UT_EUNSUPPORTED, "'%s': slices beyond 4 GiB need a 64-bit fat header", out);
		uint8_t *a = hdr + MO_FAT_HEADER_SIZE + i * MO_FAT_ARCH_SIZE;
		ut_put_be32(a, parts[i].cputype);
		ut_put_be32(a + 4, parts[i].cpusubtype);
		ut_put_be32(a + 8, (uint32_t)off);
		ut_put_be32(a + 12, (uint32_t)parts[i].size);
		ut_put_be32(a + 16, FAT_ALIGN_SHIFT);
		offs[i] = off;
		off = align_up(off + parts[i].size);
	}
	struct ut_atomic w;
	int rc = ut_atomic_open(&w, out, 0755);
	if (rc)
		return rc;
	uint64_t pos = MO_FAT_HEADER_SIZE + n * MO_FAT_ARCH_SIZE;
	rc = ut_atomic_write(&w, hdr, (size_t)pos);
	for (size_t i = 0; !rc && i < n; i++) {
		rc = ui_write_zeros(&w, offs[i] - pos);
		pos = offs[i];
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
