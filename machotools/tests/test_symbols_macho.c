#define _GNU_SOURCE
/* test_symbols_macho.c - small arm64 Mach-O images around hand-made __LINKEDIT blobs (tests only). */
#include "test_symbols_macho.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_format.h"
#include "tsupport.h"
#include "ut_bytes.h"
#include "ut_file.h"

#define SEG 0x4000u

void tb_uleb(uint8_t *p, size_t *n, uint64_t v)
{
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		p[(*n)++] = (uint8_t)(b | (v ? 0x80 : 0));
	} while (v);
}

void tb_bytes(uint8_t *p, size_t *n, const void *src, size_t len)
{
	memcpy(p + *n, src, len);
	*n += len;
}

void tb_str(uint8_t *p, size_t *n, const char *s) { tb_bytes(p, n, s, strlen(s) + 1); }

struct out {
	uint8_t *p;
	size_t cmds;   /* write position in the load commands */
	uint32_t ncmds;
	size_t le;     /* write position in __LINKEDIT */
};

static uint8_t *cmd(struct out *o, uint32_t c, uint32_t size)
{
	uint8_t *q = o->p + o->cmds;
	ut_put_le32(q, c);
	ut_put_le32(q + 4, size);
	o->cmds += size;
	o->ncmds++;
	return q;
}

/* Places a blob in __LINKEDIT; returns its file offset (0 for an empty blob). */
static uint32_t place(struct out *o, struct tb_blob b)
{
	if (!b.len)
		return 0;
	uint32_t at = (uint32_t)o->le;
	memcpy(o->p + o->le, b.p, b.len);
	o->le += (b.len + 7) & ~(size_t)7;
	return at;
}

/* A segment, with one section over [sect_off, end of segment) when sect is not NULL (llvm wants bind targets in sections). */
static void segment(struct out *o, const char *name, uint64_t vmaddr, uint64_t vmsize, uint64_t fileoff,
		    uint64_t filesize, uint32_t prot, const char *sect, uint64_t sect_off)
{
	uint8_t *q = cmd(o, LC_SEGMENT_64, MO_SEGMENT_64_SIZE + (sect ? MO_SECTION_64_SIZE : 0));
	strncpy((char *)q + 8, name, 16);
	ut_put_le64(q + 24, vmaddr);
	ut_put_le64(q + 32, vmsize);
	ut_put_le64(q + 40, fileoff);
	ut_put_le64(q + 48, filesize);
	ut_put_le32(q + 56, prot);
	ut_put_le32(q + 60, prot);
	if (!sect)
		return;
	ut_put_le32(q + 64, 1);
	uint8_t *c = q + MO_SEGMENT_64_SIZE;
	strncpy((char *)c, sect, 16);
	strncpy((char *)c + 16, name, 16);
	ut_put_le64(c + 32, vmaddr + sect_off);
	ut_put_le64(c + 40, filesize - sect_off);
	ut_put_le32(c + 48, (uint32_t)(fileoff + sect_off));
	ut_put_le32(c + 52, 2);
}

static void dylib(struct out *o, uint32_t c, const char *name)
{
	uint32_t size = (uint32_t)((MO_DYLIB_CMD_SIZE + strlen(name) + 1 + 7) & ~(size_t)7);
	uint8_t *q = cmd(o, c, size);
	ut_put_le32(q + 8, MO_DYLIB_CMD_SIZE);
	ut_put_le32(q + 12, 2);
	ut_put_le32(q + 16, 0x10000);
	ut_put_le32(q + 20, 0x10000);
	memcpy(q + MO_DYLIB_CMD_SIZE, name, strlen(name));
}

uint8_t *tb_build(const struct tb_spec *s, size_t *len)
{
	size_t blobs = 64 + s->bind.len + s->weak_bind.len + s->lazy_bind.len + s->exports.len + s->chained.len +
		       s->syms.len + s->strs.len;
	size_t le_size = (blobs + 63) & ~(size_t)7;
	size_t total = 2 * SEG + le_size;
	struct out o = { .p = calloc(1, total), .cmds = MO_MACH_HEADER_64_SIZE, .le = 2 * SEG };
	cr_assert_not_null(o.p);
	uint32_t filetype = s->filetype ? s->filetype : MH_DYLIB;
	uint64_t base = s->base ? s->base : (filetype == MH_EXECUTE ? 0x100000000ull : 0);

	uint32_t bind = place(&o, s->bind), weak = place(&o, s->weak_bind), lazy = place(&o, s->lazy_bind);
	uint32_t exp = place(&o, s->exports), chained = place(&o, s->chained), syms = place(&o, s->syms);
	uint32_t strs = place(&o, s->strs);

	segment(&o, "__TEXT", base, SEG, 0, SEG, 5, "__text", 0x1000);
	segment(&o, "__DATA", base + SEG, SEG, SEG, SEG, 3, "__data", 0);
	segment(&o, "__LINKEDIT", base + 2 * SEG, (le_size + SEG - 1) / SEG * SEG, 2 * SEG, le_size, 1, NULL, 0);
	if (filetype == MH_DYLIB)
		dylib(&o, LC_ID_DYLIB, "@rpath/libtest.dylib");
	for (uint32_t i = 0; i < s->ndeps; i++) {
		char name[64];
		snprintf(name, sizeof(name), "/usr/lib/libdep%u.dylib", i + 1);
		dylib(&o, LC_LOAD_DYLIB, s->dep_names ? s->dep_names[i] : name);
	}
	if (s->dyld_info) {
		uint8_t *q = cmd(&o, LC_DYLD_INFO_ONLY, 48);
		uint32_t v[10] = { 0, 0, bind, (uint32_t)s->bind.len, weak, (uint32_t)s->weak_bind.len,
				   lazy, (uint32_t)s->lazy_bind.len, 0, 0 };
		if (!s->exports_trie_cmd) {
			v[8] = exp;
			v[9] = (uint32_t)s->exports.len;
		}
		for (int i = 0; i < 10; i++)
			ut_put_le32(q + 8 + 4 * i, v[i]);
	}
	if (s->exports_trie_cmd) {
		uint8_t *q = cmd(&o, LC_DYLD_EXPORTS_TRIE, MO_LINKEDIT_CMD_SIZE);
		ut_put_le32(q + 8, exp);
		ut_put_le32(q + 12, (uint32_t)s->exports.len);
	}
	if (s->chained.len) {
		uint8_t *q = cmd(&o, LC_DYLD_CHAINED_FIXUPS, MO_LINKEDIT_CMD_SIZE);
		ut_put_le32(q + 8, chained);
		ut_put_le32(q + 12, (uint32_t)s->chained.len);
	}
	if (s->nsyms || s->strs.len) {
		uint8_t *q = cmd(&o, LC_SYMTAB, 24);
		ut_put_le32(q + 8, s->nsyms ? syms : 0);
		ut_put_le32(q + 12, s->nsyms);
		ut_put_le32(q + 16, strs);
		ut_put_le32(q + 20, (uint32_t)s->strs.len);
	}
	if (s->dysymtab) {
		uint8_t *q = cmd(&o, LC_DYSYMTAB, 80);
		ut_put_le32(q + 16, s->iextdef);
		ut_put_le32(q + 20, s->nextdef);
		ut_put_le32(q + 24, s->iundef);
		ut_put_le32(q + 28, s->nundef);
	}
	uint8_t *h = o.p;
	ut_put_le32(h, MH_MAGIC_64);
	ut_put_le32(h + 4, CPU_TYPE_ARM64);
	ut_put_le32(h + 8, CPU_SUBTYPE_ARM64_ALL);
	ut_put_le32(h + 12, filetype);
	ut_put_le32(h + 16, o.ncmds);
	ut_put_le32(h + 20, (uint32_t)(o.cmds - MO_MACH_HEADER_64_SIZE));
	ut_put_le32(h + 24, MH_DYLDLINK | MH_TWOLEVEL | (filetype == MH_EXECUTE ? MH_PIE : 0));
	cr_assert_lt(o.cmds, SEG, "load commands too large");
	*len = total;
	return o.p;
}

char *tb_write(const struct tb_spec *s, const char *dir, const char *name)
{
	size_t len;
	uint8_t *p = tb_build(s, &len);
	char *path = ts_path(dir, name);
	cr_assert_eq(ut_file_write_atomic(path, p, len, 0644), 0);
	free(p);
	return path;
}

char *tb_tmpdir(void)
{
	static char *dir;
	if (!dir)
		dir = ts_tmpdir();
	return dir;
}

void tb_tmpdir_done(void) { ts_rmtree(tb_tmpdir()); }
