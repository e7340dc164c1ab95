#define _GNU_SOURCE
/*
 * test_symbols_malformed.c - chained fixups imports on hand-made blobs, and
 * one table of malformed tries, bind streams and fixups blobs.
 *
 * Chained fixups: all three import formats with special ordinals, judged
 * against the values the bytes were built from (llvm-objdump-14 has no
 * chained fixups decoder).  Malformed: one defect per row, each row's
 * expected code and message substring (naming the structure and its slice
 * offset); where llvm-objdump-14 decodes that structure (trie, binds), it must
 * reject the file too.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "mo_format.h"
#include "mo_symbols.h"
#include "test_symbols_macho.h"
#include "tsupport.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_file.h"

TestSuite(mo_symbols_malformed, .fini = tb_tmpdir_done);

/* ---- chained fixups ---- */

/* A fixups blob: header, starts_in_image for 3 segments (one starts_in_segment), imports, symbols. */
static size_t fixups_blob(uint8_t *b, uint32_t format, const uint64_t *raw, uint32_t count, const char *pool,
			  size_t pool_len)
{
	size_t esize = format == DYLD_CHAINED_IMPORT ? 4 : format == DYLD_CHAINED_IMPORT_ADDEND ? 8 : 16;
	size_t n = 28;
	memset(b, 0, 1024);
	uint32_t starts = 28;
	/* seg_count 3: __TEXT none, __DATA at +16, __LINKEDIT none */
	ut_put_le32(b + n, 3);
	ut_put_le32(b + n + 4, 0);
	ut_put_le32(b + n + 8, 16);
	ut_put_le32(b + n + 12, 0);
	n += 16;
	ut_put_le32(b + n, 24);            /* size: 22 + one page_start, padded */
	ut_put_le16(b + n + 4, 0x4000);    /* page_size */
	ut_put_le16(b + n + 6, 6);         /* DYLD_CHAINED_PTR_64_OFFSET */
	ut_put_le64(b + n + 8, 0x4000);    /* segment_offset */
	ut_put_le16(b + n + 20, 1);        /* page_count */
	ut_put_le16(b + n + 22, 0xffff);   /* DYLD_CHAINED_PTR_START_NONE */
	n += 24;
	uint32_t imports = (uint32_t)n;
	for (uint32_t i = 0; i < count; i++) {
		if (format == DYLD_CHAINED_IMPORT_ADDEND64) {
			ut_put_le64(b + n, raw[i]);
			ut_put_le64(b + n + 8, 0);
		} else {
			ut_put_le32(b + n, (uint32_t)raw[i]);
			if (format == DYLD_CHAINED_IMPORT_ADDEND)
				ut_put_le32(b + n + 4, 0);
		}
		n += esize;
	}
	uint32_t symbols = (uint32_t)n;
	memcpy(b + n, pool, pool_len);
	n += pool_len;
	uint32_t h[7] = { 0, starts, imports, symbols, count, format, 0 };
	for (int i = 0; i < 7; i++)
		ut_put_le32(b + 4 * i, h[i]);
	return n;
}

static uint64_t imp32(uint32_t ord, int weak, uint32_t name) { return ord | (uint32_t)weak << 8 | name << 9; }
static uint64_t imp64(uint32_t ord, int weak, uint32_t name) { return ord | (uint64_t)weak << 16 | (uint64_t)name << 32; }

static struct mo_imports *parse_chained(const uint8_t *blob, size_t blen, uint32_t ndeps, int *rc)
{
	struct tb_spec spec = { .ndeps = ndeps, .chained = { blob, blen } };
	size_t len;
	uint8_t *bytes = tb_build(&spec, &len);
	struct ut_src src;
	struct mo_file *f = NULL;
	struct mo_imports *im = NULL;
	cr_assert_eq(ut_src_mem(&src, bytes, len, "fixups"), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s", ut_errmsg());
	*rc = mo_imports_parse(f, &f->slices[0], &im);
	mo_file_free(f);
	ut_src_release(&src);
	free(bytes);
	return im;
}

Test(mo_symbols_malformed, chained_imports_all_formats)
{
	static const char pool[] = "\0_one\0_two\0_weakling\0_flat\0_main\0_self\0_coal";
	/* name offsets in pool: _one 1, _two 6, _weakling 11, _flat 21, _main 27, _self 33, _coal 39 */
	for (uint32_t format = DYLD_CHAINED_IMPORT; format <= DYLD_CHAINED_IMPORT_ADDEND64; format++) {
		int wide = format == DYLD_CHAINED_IMPORT_ADDEND64;
		uint32_t flat = wide ? 0xfffe : 0xfe, mainx = wide ? 0xffff : 0xff, weakl = wide ? 0xfffd : 0xfd;
		uint64_t (*imp)(uint32_t, int, uint32_t) = wide ? imp64 : imp32;
		uint64_t raw[] = { imp(1, 0, 1), imp(2, 0, 6), imp(2, 1, 11), imp(flat, 0, 21), imp(mainx, 0, 27),
				   imp(0, 0, 33), imp(weakl, 0, 39), imp(1, 0, 1) };
		uint8_t blob[1024];
		size_t n = fixups_blob(blob, format, raw, 8, pool, sizeof(pool));
		int rc;
		struct mo_imports *im = parse_chained(blob, n, 2, &rc);
		cr_assert_eq(rc, 0, "format %u: %s", format, ut_errmsg());
		static const struct {
			int32_t ord;
			const char *name;
			uint8_t weak;
			uint32_t uses;
		} want[] = {
			{ BIND_SPECIAL_DYLIB_WEAK_LOOKUP, "_coal", 0, 1 }, { BIND_SPECIAL_DYLIB_FLAT_LOOKUP, "_flat", 0, 1 },
			{ BIND_SPECIAL_DYLIB_MAIN_EXECUTABLE, "_main", 0, 1 }, { BIND_SPECIAL_DYLIB_SELF, "_self", 0, 1 },
			{ 1, "_one", 0, 2 }, { 2, "_two", 0, 1 }, { 2, "_weakling", 1, 1 },
		};
		cr_assert_eq(im->n, 7u, "format %u: %u imports", format, im->n);
		for (uint32_t i = 0; i < im->n; i++) {
			cr_expect_eq(im->v[i].kind, MO_IMPORT_CHAINED);
			cr_expect_eq(im->v[i].ordinal, want[i].ord, "format %u import %u", format, i);
			cr_expect_str_eq(im->v[i].name, want[i].name, "format %u import %u", format, i);
			cr_expect_eq(im->v[i].weak, want[i].weak, "format %u import %u", format, i);
			cr_expect_eq(im->v[i].uses, want[i].uses, "format %u import %u", format, i);
		}
		mo_imports_free(im);
	}
}

/* ---- malformed ---- */

struct bad {
	const char *name;
	size_t (*make)(uint8_t *blob, struct tb_spec *spec); /* fills blob, points spec at it */
	int code;
	const char *msg;
	int llvm_rejects; /* llvm-objdump-14 --exports-trie/--bind/--lazy-bind also fails on it */
};

#define TRIE(spec, b, n) ((spec)->dyld_info = 1, (spec)->exports = (struct tb_blob){ (b), (n) }, (n))
#define BIND(spec, b, n) ((spec)->dyld_info = 1, (spec)->bind = (struct tb_blob){ (b), (n) }, (n))
#define LAZY(spec, b, n) ((spec)->dyld_info = 1, (spec)->lazy_bind = (struct tb_blob){ (b), (n) }, (n))
#define FIX(spec, b, n) ((spec)->chained = (struct tb_blob){ (b), (n) }, (n))

static size_t trie_truncated(uint8_t *b, struct tb_spec *s)
{
	/* terminal size 10 in a 6-byte trie */
	static const uint8_t t[] = { 0x0a, 0x00, 0x10, 0x00, 0x00, 0x00 };
	memcpy(b, t, sizeof(t));
	return TRIE(s, b, sizeof(t));
}
static size_t trie_cycle(uint8_t *b, struct tb_spec *s)
{
	/* root -> "_a" -> node 6 -> "b" -> root */
	static const uint8_t t[] = { 0x00, 0x01, '_', 'a', 0x00, 0x06, 0x00, 0x01, 'b', 0x00, 0x00 };
	memcpy(b, t, sizeof(t));
	return TRIE(s, b, sizeof(t));
}
static size_t trie_child_past_end(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t t[] = { 0x00, 0x01, '_', 'a', 0x00, 0x40 };
	memcpy(b, t, sizeof(t));
	return TRIE(s, b, sizeof(t));
}
static size_t trie_bad_uleb(uint8_t *b, struct tb_spec *s)
{
	/* terminal size of 11 continuation bytes: more than 64 bits */
	memset(b, 0xff, 11);
	b[11] = 0x01;
	b[12] = 0x00;
	return TRIE(s, b, 13);
}
static size_t trie_uleb_truncated(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t t[] = { 0x00, 0x01, '_', 'a', 0x00, 0x85 };
	memcpy(b, t, sizeof(t));
	return TRIE(s, b, sizeof(t));
}
static size_t trie_edge_unterminated(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t t[] = { 0x00, 0x01, '_', 'a', 'b', 'c' };
	memcpy(b, t, sizeof(t));
	return TRIE(s, b, sizeof(t));
}
static size_t trie_reexport_ordinal(uint8_t *b, struct tb_spec *s)
{
	/* root -> "_r" -> terminal: reexport from ordinal 3 of 2 */
	static const uint8_t t[] = { 0x00, 0x01, '_', 'r', 0x00, 0x06, 0x03, 0x08, 0x03, 0x00, 0x00 };
	memcpy(b, t, sizeof(t));
	s->ndeps = 2;
	return TRIE(s, b, sizeof(t));
}
static size_t trie_reexport_name_unterminated(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t t[] = { 0x00, 0x01, '_', 'r', 0x00, 0x06, 0x04, 0x08, 0x01, 'x', 'y', 0x00, 0x00 };
	memcpy(b, t, sizeof(t));
	s->ndeps = 1;
	return TRIE(s, b, sizeof(t));
}
static size_t trie_too_deep(uint8_t *b, struct tb_spec *s)
{
	/* a chain of 5000 one-letter edges: node i at 4i is { 0, 1, 'a', 0, next } */
	size_t n = 0;
	for (size_t i = 0; i < 5000; i++) {
		size_t next = n + 5 + (n + 5 >= 128) + (n + 5 >= 16384);
		b[n++] = 0;
		b[n++] = 1;
		b[n++] = 'a';
		b[n++] = 0;
		tb_uleb(b, &n, next);
	}
	b[n++] = 0;
	b[n++] = 0;
	return TRIE(s, b, n);
}
static size_t trie_name_too_long(uint8_t *b, struct tb_spec *s)
{
	size_t n = 0;
	b[n++] = 0;
	b[n++] = 1;
	memset(b + n, 'x', 40000);
	n += 40000;
	b[n++] = 0;
	tb_uleb(b, &n, n + 3);
	b[n++] = 0;
	b[n++] = 0;
	return TRIE(s, b, n);
}
static size_t bind_ordinal(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t o[] = { BIND_OPCODE_SET_DYLIB_ORDINAL_IMM | 5, BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM,
				     '_', 'x', 0, BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB | 1, 0, BIND_OPCODE_DO_BIND,
				     BIND_OPCODE_DONE };
	memcpy(b, o, sizeof(o));
	s->ndeps = 2;
	return BIND(s, b, sizeof(o));
}
static size_t bind_ordinal_uleb(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t o[] = { BIND_OPCODE_SET_DYLIB_ORDINAL_ULEB, 0x11, BIND_OPCODE_DONE };
	memcpy(b, o, sizeof(o));
	s->ndeps = 15;
	return BIND(s, b, sizeof(o));
}
static size_t bind_special(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t o[] = { BIND_OPCODE_SET_DYLIB_SPECIAL_IMM | 0xc, BIND_OPCODE_DONE };
	memcpy(b, o, sizeof(o));
	return BIND(s, b, sizeof(o));
}
static size_t bind_segment(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t o[] = { BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB | 7, 0, BIND_OPCODE_DONE };
	memcpy(b, o, sizeof(o));
	return BIND(s, b, sizeof(o));
}
static size_t bind_past_segment(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t o[] = { BIND_OPCODE_SET_DYLIB_ORDINAL_IMM | 1, BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM,
				     '_', 'x', 0, BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB | 1, 0xfc, 0x7f,
				     BIND_OPCODE_DO_BIND, BIND_OPCODE_DONE };
	memcpy(b, o, sizeof(o));
	s->ndeps = 1;
	return BIND(s, b, sizeof(o));
}
static size_t bind_times_overflow(uint8_t *b, struct tb_spec *s)
{
	size_t n = 0;
	b[n++] = BIND_OPCODE_SET_DYLIB_ORDINAL_IMM | 1;
	b[n++] = BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM;
	tb_str(b, &n, "_x");
	b[n++] = BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB | 1;
	b[n++] = 0;
	b[n++] = BIND_OPCODE_DO_BIND_ULEB_TIMES_SKIPPING_ULEB;
	tb_uleb(b, &n, 1ull << 62);
	tb_uleb(b, &n, 8);
	b[n++] = BIND_OPCODE_DONE;
	s->ndeps = 1;
	return BIND(s, b, n);
}
static size_t bind_no_symbol(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t o[] = { BIND_OPCODE_SET_DYLIB_ORDINAL_IMM | 1, BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB | 1,
				     0, BIND_OPCODE_DO_BIND, BIND_OPCODE_DONE };
	memcpy(b, o, sizeof(o));
	s->ndeps = 1;
	return BIND(s, b, sizeof(o));
}
static size_t bind_no_segment(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t o[] = { BIND_OPCODE_SET_DYLIB_ORDINAL_IMM | 1, BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM,
				     '_', 'x', 0, BIND_OPCODE_DO_BIND, BIND_OPCODE_DONE };
	memcpy(b, o, sizeof(o));
	s->ndeps = 1;
	return BIND(s, b, sizeof(o));
}
static size_t bind_symbol_unterminated(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t o[] = { BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM, '_', 'x', 'y' };
	memcpy(b, o, sizeof(o));
	return BIND(s, b, sizeof(o));
}
static size_t bind_unknown_opcode(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t o[] = { 0xe0, BIND_OPCODE_DONE };
	memcpy(b, o, sizeof(o));
	return BIND(s, b, sizeof(o));
}
static size_t bind_bad_type(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t o[] = { BIND_OPCODE_SET_TYPE_IMM | 9, BIND_OPCODE_DONE };
	memcpy(b, o, sizeof(o));
	return BIND(s, b, sizeof(o));
}
static size_t bind_bad_uleb(uint8_t *b, struct tb_spec *s)
{
	b[0] = BIND_OPCODE_ADD_ADDR_ULEB;
	memset(b + 1, 0x80, 11);
	b[12] = 0x01;
	return BIND(s, b, 13);
}
static size_t lazy_ordinal(uint8_t *b, struct tb_spec *s)
{
	static const uint8_t o[] = { BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB | 1, 0, BIND_OPCODE_SET_DYLIB_ORDINAL_IMM | 3,
				     BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM, '_', 'l', 0, BIND_OPCODE_DO_BIND,
				     BIND_OPCODE_DONE };
	memcpy(b, o, sizeof(o));
	s->ndeps = 2;
	return LAZY(s, b, sizeof(o));
}

/* A valid fixups blob (2 imports from ordinal 1), then one field broken by fix(). */
static size_t fixups_with(uint8_t *b, struct tb_spec *s, void (*fix)(uint8_t *b, size_t *n))
{
	static const char pool[] = "\0_one\0_two";
	uint64_t raw[] = { imp32(1, 0, 1), imp32(1, 0, 6) };
	size_t n = fixups_blob(b, DYLD_CHAINED_IMPORT, raw, 2, pool, sizeof(pool));
	fix(b, &n);
	s->ndeps = 1;
	return FIX(s, b, n);
}
static void f_truncate(uint8_t *b, size_t *n) { (void)b; *n = 20; }
static void f_version(uint8_t *b, size_t *n) { (void)n; ut_put_le32(b, 1); }
static void f_starts(uint8_t *b, size_t *n) { ut_put_le32(b + 4, (uint32_t)*n + 64); }
static void f_imports(uint8_t *b, size_t *n) { ut_put_le32(b + 8, (uint32_t)*n + 4); }
static void f_symbols(uint8_t *b, size_t *n) { ut_put_le32(b + 12, (uint32_t)*n + 100); }
static void f_overlap(uint8_t *b, size_t *n) { (void)n; ut_put_le32(b + 16, 40); }
static void f_format(uint8_t *b, size_t *n) { (void)n; ut_put_le32(b + 20, 4); }
static void f_compressed(uint8_t *b, size_t *n) { (void)n; ut_put_le32(b + 24, 1); }
static void f_ordinal(uint8_t *b, size_t *n) { (void)n; ut_put_le32(b + 72, (uint32_t)imp32(2, 0, 6)); }
static void f_special(uint8_t *b, size_t *n) { (void)n; ut_put_le32(b + 72, (uint32_t)imp32(0xf8, 0, 6)); }
static void f_name(uint8_t *b, size_t *n) { (void)n; ut_put_le32(b + 72, (uint32_t)imp32(1, 0, 500)); }
static void f_name_nul(uint8_t *b, size_t *n) { b[*n - 1] = 'x'; }
static void f_segcount(uint8_t *b, size_t *n) { (void)n; ut_put_le32(b + 28, 9); }
static void f_seginfo(uint8_t *b, size_t *n) { ut_put_le32(b + 36, (uint32_t)*n); }
static void f_pagecount(uint8_t *b, size_t *n) { (void)n; ut_put_le16(b + 44 + 20, 40); }
static void f_unaligned(uint8_t *b, size_t *n) { (void)n; ut_put_le32(b + 4, 30); }

#define FIXUP(name, f) \
	static size_t name(uint8_t *b, struct tb_spec *s) { return fixups_with(b, s, f); }
FIXUP(fix_truncated, f_truncate)
FIXUP(fix_version, f_version)
FIXUP(fix_starts, f_starts)
FIXUP(fix_imports, f_imports)
FIXUP(fix_symbols, f_symbols)
FIXUP(fix_overlap, f_overlap)
FIXUP(fix_format, f_format)
FIXUP(fix_compressed, f_compressed)
FIXUP(fix_ordinal, f_ordinal)
FIXUP(fix_special, f_special)
FIXUP(fix_name, f_name)
FIXUP(fix_name_nul, f_name_nul)
FIXUP(fix_segcount, f_segcount)
FIXUP(fix_seginfo, f_seginfo)
FIXUP(fix_pagecount, f_pagecount)
FIXUP(fix_unaligned, f_unaligned)

static const struct bad bad_rows[] = {
	{ "trie-truncated", trie_truncated, UT_EMALFORMED, "export trie at 0x8000: terminal information runs past the end", 1 },
	{ "trie-cycle", trie_cycle, UT_EMALFORMED, "export trie at 0x8000: node reached twice", 1 },
	{ "trie-child-past-end", trie_child_past_end, UT_EMALFORMED, "child offset 0x40 past the end of the trie", 1 },
	{ "trie-bad-uleb", trie_bad_uleb, UT_EMALFORMED, "export trie at 0x8000: terminal size: LEB128 does not fit in 64 bits", 1 },
	{ "trie-uleb-truncated", trie_uleb_truncated, UT_EMALFORMED, "child offset: LEB128 runs past the end", 1 },
	{ "trie-edge-unterminated", trie_edge_unterminated, UT_EMALFORMED, "export trie at 0x8002: edge label runs past the end", 1 },
	{ "trie-reexport-ordinal", trie_reexport_ordinal, UT_EMALFORMED, "'_r' re-exported from ordinal 3 but only 2 dependencies", 0 },
	{ "trie-reexport-name-unterminated", trie_reexport_name_unterminated, UT_EMALFORMED, "re-export name runs past the terminal", 0 },
	{ "trie-too-deep", trie_too_deep, UT_EMALFORMED, "trie deeper than the limit", 0 },
	{ "trie-name-too-long", trie_name_too_long, UT_EMALFORMED, "symbol name exceeds the length limit", 0 },
	{ "bind-ordinal", bind_ordinal, UT_EMALFORMED, "slice arm64: bind opcodes at 0x8000: ordinal 5 but only 2 dependencies", 1 },
	{ "bind-ordinal-uleb", bind_ordinal_uleb, UT_EMALFORMED, "bind opcodes at 0x8000: ordinal 17 but only 15 dependencies", 1 },
	{ "bind-special-ordinal", bind_special, UT_EMALFORMED, "bind opcodes at 0x8000: unknown special ordinal -4", 1 },
	{ "bind-segment", bind_segment, UT_EMALFORMED, "bind opcodes at 0x8000: segment 7 but only 3 segments", 1 },
	{ "bind-past-segment", bind_past_segment, UT_EMALFORMED, "bind opcodes at 0x8008: bind at offset 0x3ffc (x1) past the end of segment 1 (__DATA", 1 },
	/* llvm-objdump-14 misses this one: its count * (skip + 8) check overflows */
	{ "bind-times-overflow", bind_times_overflow, UT_EMALFORMED, "bind opcodes at 0x8007: bind at offset 0x0 (x4611686018427387904) past the end", 0 },
	{ "bind-no-symbol", bind_no_symbol, UT_EMALFORMED, "bind opcodes at 0x8003: bind before any symbol name was set", 1 },
	{ "bind-no-segment", bind_no_segment, UT_EMALFORMED, "bind opcodes at 0x8005: bind before any segment was set", 1 },
	{ "bind-symbol-unterminated", bind_symbol_unterminated, UT_EMALFORMED, "bind opcodes at 0x8000: symbol name runs past the end", 1 },
	{ "bind-unknown-opcode", bind_unknown_opcode, UT_EMALFORMED, "bind opcodes at 0x8000: unknown bind opcode 0xe0", 1 },
	{ "bind-bad-type", bind_bad_type, UT_EMALFORMED, "bind opcodes at 0x8000: unknown bind type 9", 1 },
	{ "bind-bad-uleb", bind_bad_uleb, UT_EMALFORMED, "bind opcodes at 0x8000: bad ULEB128 operand: LEB128 does not fit", 1 },
	{ "lazy-bind-ordinal", lazy_ordinal, UT_EMALFORMED, "lazy bind opcodes at 0x8002: ordinal 3 but only 2 dependencies", 1 },
	{ "fixups-header-truncated", fix_truncated, UT_EMALFORMED, "chained fixups at 0x8000: 20 bytes, too small for dyld_chained_fixups_header", 0 },
	{ "fixups-version", fix_version, UT_EMALFORMED, "chained fixups at 0x8000: unknown fixups_version 1", 0 },
	{ "fixups-starts-offset", fix_starts, UT_EMALFORMED, "chained fixups at 0x8004: starts_offset 0x", 0 },
	{ "fixups-starts-unaligned", fix_unaligned, UT_EMALFORMED, "starts_offset 0x1e is not 4-byte aligned", 0 },
	{ "fixups-imports-offset", fix_imports, UT_EMALFORMED, "chained fixups at 0x8008: imports_offset 0x", 0 },
	{ "fixups-symbols-offset", fix_symbols, UT_EMALFORMED, "chained fixups at 0x800c: symbols_offset 0x", 0 },
	{ "fixups-imports-overlap-symbols", fix_overlap, UT_EMALFORMED, "40 imports of 4 bytes at 0x44 overlap the symbols", 0 },
	{ "fixups-imports-format", fix_format, UT_EMALFORMED, "unknown imports_format 4", 0 },
	{ "fixups-symbols-compressed", fix_compressed, UT_EMALFORMED, "symbols_format 1 (compressed)", 0 },
	{ "fixups-import-ordinal", fix_ordinal, UT_EMALFORMED, "chained fixups at 0x8048: imports[1]: ordinal 2 but only 1 dependencies", 0 },
	{ "fixups-import-special", fix_special, UT_EMALFORMED, "imports[1]: unknown special ordinal -8", 0 },
	{ "fixups-import-name", fix_name, UT_EMALFORMED, "imports[1]: name offset 0x1f4 past the symbols pool", 0 },
	{ "fixups-import-name-unterminated", fix_name_nul, UT_EMALFORMED, "imports[1]: name at pool offset 0x6 is not NUL-terminated", 0 },
	{ "fixups-seg-count", fix_segcount, UT_EMALFORMED, "seg_count 9 but only 3 segments", 0 },
	{ "fixups-starts-in-segment", fix_seginfo, UT_EMALFORMED, "segment 1: dyld_chained_starts_in_segment at 0x", 0 },
	{ "fixups-page-count", fix_pagecount, UT_EMALFORMED, "segment 1: size 24 too small for 40 page starts", 0 },
};

Test(mo_symbols_malformed, table, .timeout = 120)
{
	uint8_t *blob = malloc(64 * 1024);
	for (size_t r = 0; r < sizeof(bad_rows) / sizeof(bad_rows[0]); r++) {
		const struct bad *row = &bad_rows[r];
		struct tb_spec spec = { 0 };
		memset(blob, 0, 64 * 1024);
		row->make(blob, &spec);
		size_t len;
		uint8_t *bytes = tb_build(&spec, &len);
		struct ut_src src;
		struct mo_file *f = NULL;
		cr_assert_eq(ut_src_mem(&src, bytes, len, row->name), 0);
		cr_assert_eq(mo_file_parse(&src, &f), 0, "%s: the reader must accept it: %s", row->name, ut_errmsg());
		struct mo_exports *e = (struct mo_exports *)1;
		struct mo_imports *im = (struct mo_imports *)1;
		int rc = mo_exports_parse(f, &f->slices[0], &e);
		if (rc == 0)
			rc = mo_imports_parse(f, &f->slices[0], &im);
		cr_expect_eq(rc, row->code, "%s: code %d (%s)", row->name, rc, ut_errmsg());
		cr_expect(strstr(ut_errmsg(), row->msg), "%s: message '%s' lacks '%s'", row->name, ut_errmsg(), row->msg);
		cr_expect(strncmp(ut_errmsg(), "slice arm64: ", 13) == 0, "%s: '%s'", row->name, ut_errmsg());
		cr_expect(e == NULL || im == NULL, "%s: *out not NULL on failure", row->name);
		mo_exports_free(e == (struct mo_exports *)1 ? NULL : e);
		mo_imports_free(im == (struct mo_imports *)1 ? NULL : im);
		if (row->llvm_rejects) {
			char *dir = tb_tmpdir(), *path = tb_write(&spec, dir, row->name), *cmd = NULL, *out = NULL,
			     *err = NULL;
			cr_assert(asprintf(&cmd, "llvm-objdump-14 --macho --exports-trie --bind --lazy-bind '%s'", path) > 0);
			int lrc = ts_sh(cmd, &out, &err);
			cr_expect(lrc != 0 || strstr(err, "malformed"), "%s: llvm-objdump-14 accepts it (rc %d): %s", row->name,
				  lrc, err);
			free(cmd);
			free(out);
			free(err);
			free(path);
		}
		mo_file_free(f);
		ut_src_release(&src);
		free(bytes);
	}
	free(blob);
}

