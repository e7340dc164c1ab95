#define _GNU_SOURCE
/*
 * test_symbols_bytes.c - the symbol parsers on hand-made bytes.
 *
 * An export trie with every flag kind and re-exports, bind / lazy / weak
 * bind streams with special ordinals, repeats and weak imports, a file with
 * only LC_SYMTAB — judged by llvm-objdump-14 and llvm-nm-14
 * (symtest_check_file) and field by field against the bytes as built.
 * Chained fixups and malformed input: test_symbols_malformed.c.
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
#include "ut_err.h"
#include "ut_file.h"

/* ---- building blobs ---- */

struct entry {
	const char *name;
	uint8_t term[64];
	size_t tlen;
};

/* A terminal: flags, then address (+ resolver) or ordinal + name. */
static void term(struct entry *e, uint64_t flags, uint64_t a, uint64_t b, const char *rname)
{
	e->tlen = 0;
	tb_uleb(e->term, &e->tlen, flags);
	tb_uleb(e->term, &e->tlen, a);
	if (flags & EXPORT_SYMBOL_FLAGS_REEXPORT)
		tb_str(e->term, &e->tlen, rname ? rname : "");
	else if (flags & EXPORT_SYMBOL_FLAGS_STUB_AND_RESOLVER)
		tb_uleb(e->term, &e->tlen, b);
}

/* A trie of one root whose children are whole names (none a prefix of another); offsets < 128. */
static size_t flat_trie(uint8_t *out, const struct entry *v, size_t n)
{
	size_t root = 2;
	for (size_t i = 0; i < n; i++)
		root += strlen(v[i].name) + 1 + 1;
	size_t pos = 0, node = root;
	out[pos++] = 0;
	out[pos++] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		tb_str(out, &pos, v[i].name);
		cr_assert_lt(node, 128u);
		tb_uleb(out, &pos, node);
		node += 1 + v[i].tlen + 1;
	}
	for (size_t i = 0; i < n; i++) {
		out[pos++] = (uint8_t)v[i].tlen;
		tb_bytes(out, &pos, v[i].term, v[i].tlen);
		out[pos++] = 0;
	}
	return pos;
}

static const char *const two_deps[] = { "/usr/lib/libfirst.dylib", "@rpath/Second.framework/Versions/A/Second" };

TestSuite(mo_symbols_bytes, .fini = tb_tmpdir_done);

Test(mo_symbols_bytes, trie_every_kind_agrees_with_llvm_objdump)
{
	static const char *const names[7] = { "_a", "_weak", "_tlv", "_xabs", "_resolv", "_reexp", "_renamed" };
	struct entry v[7];
	memset(v, 0, sizeof(v));
	for (int i = 0; i < 7; i++)
		v[i].name = names[i];
	term(&v[0], EXPORT_SYMBOL_FLAGS_KIND_REGULAR, 0x1000, 0, NULL);
	term(&v[1], EXPORT_SYMBOL_FLAGS_WEAK_DEFINITION, 0x1010, 0, NULL);
	term(&v[2], EXPORT_SYMBOL_FLAGS_KIND_THREAD_LOCAL, 0x4000, 0, NULL);
	term(&v[3], EXPORT_SYMBOL_FLAGS_KIND_ABSOLUTE, 0x1234, 0, NULL);
	term(&v[4], EXPORT_SYMBOL_FLAGS_STUB_AND_RESOLVER, 0x1020, 0x1030, NULL);
	term(&v[5], EXPORT_SYMBOL_FLAGS_REEXPORT, 1, 0, "");
	term(&v[6], EXPORT_SYMBOL_FLAGS_REEXPORT, 2, 0, "_original");
	uint8_t trie[512];
	size_t n = flat_trie(trie, v, 7);
	struct tb_spec spec = { .ndeps = 2, .dep_names = two_deps, .dyld_info = 1, .exports = { trie, n } };
	char *path = tb_write(&spec, tb_tmpdir(), "trie-kinds");
	struct symtest_totals t = { 0 };
	symtest_check_file(path, &t);
	cr_expect_eq(t.exports, 7u);

	/* the same trie under LC_DYLD_EXPORTS_TRIE parses the same; the re-export fields as built */
	spec.exports_trie_cmd = 1;
	size_t len;
	uint8_t *bytes = tb_build(&spec, &len);
	struct ut_src src;
	struct mo_file *f = NULL;
	struct mo_exports *e = NULL;
	cr_assert_eq(ut_src_mem(&src, bytes, len, "trie"), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s", ut_errmsg());
	cr_assert_eq(mo_exports_parse(f, &f->slices[0], &e), 0, "%s", ut_errmsg());
	cr_assert_eq(e->n, 7u);
	const struct mo_export *x = mo_exports_find(e, "_renamed");
	cr_assert_not_null(x);
	cr_expect_eq(x->reexport_ordinal, 2u);
	cr_expect_str_eq(x->reexport_name, "_original");
	x = mo_exports_find(e, "_reexp");
	cr_expect_str_eq(x->reexport_name, "_reexp");
	x = mo_exports_find(e, "_resolv");
	cr_expect_eq(x->address, 0x1020u);
	cr_expect_eq(x->resolver, 0x1030u);
	cr_expect_null(mo_exports_find(e, "_missing"));
	mo_exports_free(e);
	mo_file_free(f);
	ut_src_release(&src);
	free(bytes);
	free(path);
}

/* Bind opcodes with every ordinal kind, repeats and weak imports. */
static size_t bind_stream(uint8_t *b)
{
	size_t n = 0;
	b[n++] = BIND_OPCODE_SET_DYLIB_ORDINAL_IMM | 1;
	b[n++] = BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM;
	tb_str(b, &n, "_b1");
	b[n++] = BIND_OPCODE_SET_TYPE_IMM | BIND_TYPE_POINTER;
	b[n++] = BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB | 1;
	tb_uleb(b, &n, 0);
	b[n++] = BIND_OPCODE_DO_BIND;
	b[n++] = BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM | BIND_SYMBOL_FLAGS_WEAK_IMPORT;
	tb_str(b, &n, "_wk");
	b[n++] = BIND_OPCODE_DO_BIND_ADD_ADDR_ULEB;
	tb_uleb(b, &n, 8);
	b[n++] = BIND_OPCODE_SET_DYLIB_SPECIAL_IMM | 0; /* self */
	b[n++] = BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM;
	tb_str(b, &n, "_self_sym");
	b[n++] = BIND_OPCODE_DO_BIND_ADD_ADDR_IMM_SCALED | 1;
	b[n++] = BIND_OPCODE_SET_DYLIB_SPECIAL_IMM | 0xf; /* -1 main executable */
	b[n++] = BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM;
	tb_str(b, &n, "_main_sym");
	b[n++] = BIND_OPCODE_DO_BIND;
	b[n++] = BIND_OPCODE_SET_DYLIB_SPECIAL_IMM | 0xe; /* -2 flat lookup */
	b[n++] = BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM;
	tb_str(b, &n, "_flat_sym");
	b[n++] = BIND_OPCODE_DO_BIND_ULEB_TIMES_SKIPPING_ULEB;
	tb_uleb(b, &n, 3);
	tb_uleb(b, &n, 8);
	b[n++] = BIND_OPCODE_SET_DYLIB_ORDINAL_ULEB;
	tb_uleb(b, &n, 2);
	b[n++] = BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM;
	tb_str(b, &n, "_b2");
	b[n++] = BIND_OPCODE_SET_ADDEND_SLEB;
	b[n++] = 0x7f; /* -1 */
	b[n++] = BIND_OPCODE_DO_BIND;
	b[n++] = BIND_OPCODE_DONE;
	return n;
}

static size_t lazy_stream(uint8_t *b)
{
	size_t n = 0;
	const char *names[2] = { "_lz1", "_lz2" };
	for (int i = 0; i < 2; i++) {
		b[n++] = BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB | 1;
		tb_uleb(b, &n, 0x100 + 8 * (uint64_t)i);
		b[n++] = BIND_OPCODE_SET_DYLIB_ORDINAL_IMM | (uint8_t)(2 - i);
		b[n++] = BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM;
		tb_str(b, &n, names[i]);
		b[n++] = BIND_OPCODE_DO_BIND;
		b[n++] = BIND_OPCODE_DONE;
	}
	return n;
}

static size_t weak_stream(uint8_t *b)
{
	size_t n = 0;
	b[n++] = BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM;
	tb_str(b, &n, "_coalesced");
	b[n++] = BIND_OPCODE_SET_TYPE_IMM | BIND_TYPE_POINTER;
	b[n++] = BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB | 1;
	tb_uleb(b, &n, 0x200);
	b[n++] = BIND_OPCODE_DO_BIND;
	b[n++] = BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM | BIND_SYMBOL_FLAGS_NON_WEAK_DEFINITION;
	tb_str(b, &n, "_strongdef");
	b[n++] = BIND_OPCODE_DONE;
	return n;
}

Test(mo_symbols_bytes, binds_agree_with_llvm_objdump)
{
	uint8_t bind[256], lazy[128], weak[128];
	struct tb_spec spec = { .filetype = MH_EXECUTE, .ndeps = 2, .dep_names = two_deps, .dyld_info = 1 };
	spec.bind = (struct tb_blob){ bind, bind_stream(bind) };
	spec.lazy_bind = (struct tb_blob){ lazy, lazy_stream(lazy) };
	spec.weak_bind = (struct tb_blob){ weak, weak_stream(weak) };
	char *path = tb_write(&spec, tb_tmpdir(), "binds");
	struct symtest_totals t = { 0 };
	symtest_check_file(path, &t);
	cr_expect_eq(t.binds, 10u, "6 binds + 2 lazy + 2 weak, got %zu", t.binds);

	/* what the bytes say, field by field */
	size_t len;
	uint8_t *bytes = tb_build(&spec, &len);
	struct ut_src src;
	struct mo_file *f = NULL;
	struct mo_imports *im = NULL;
	cr_assert_eq(ut_src_mem(&src, bytes, len, "binds"), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s", ut_errmsg());
	cr_assert_eq(mo_imports_parse(f, &f->slices[0], &im), 0, "%s", ut_errmsg());
	static const struct {
		uint8_t kind;
		int32_t ord;
		const char *name;
		uint8_t weak, strong;
		uint32_t uses;
	} want[] = {
		{ MO_IMPORT_BIND, BIND_SPECIAL_DYLIB_FLAT_LOOKUP, "_flat_sym", 0, 0, 1 },
		{ MO_IMPORT_BIND, BIND_SPECIAL_DYLIB_MAIN_EXECUTABLE, "_main_sym", 0, 0, 1 },
		{ MO_IMPORT_BIND, BIND_SPECIAL_DYLIB_SELF, "_self_sym", 0, 0, 1 },
		{ MO_IMPORT_BIND, 1, "_b1", 0, 0, 1 },
		{ MO_IMPORT_BIND, 1, "_wk", 1, 0, 1 },
		{ MO_IMPORT_BIND, 2, "_b2", 0, 0, 1 },
		{ MO_IMPORT_WEAK_BIND, BIND_SPECIAL_DYLIB_WEAK_LOOKUP, "_coalesced", 0, 0, 1 },
		{ MO_IMPORT_WEAK_BIND, BIND_SPECIAL_DYLIB_WEAK_LOOKUP, "_strongdef", 0, 1, 1 },
		{ MO_IMPORT_LAZY_BIND, 1, "_lz2", 0, 0, 1 },
		{ MO_IMPORT_LAZY_BIND, 2, "_lz1", 0, 0, 1 },
	};
	cr_assert_eq(im->n, sizeof(want) / sizeof(want[0]));
	for (uint32_t i = 0; i < im->n; i++) {
		cr_expect_eq(im->v[i].kind, want[i].kind, "import %u", i);
		cr_expect_eq(im->v[i].ordinal, want[i].ord, "import %u", i);
		cr_expect_str_eq(im->v[i].name, want[i].name, "import %u", i);
		cr_expect_eq(im->v[i].weak, want[i].weak, "import %u", i);
		cr_expect_eq(im->v[i].strong_def, want[i].strong, "import %u", i);
		cr_expect_eq(im->v[i].uses, want[i].uses, "import %u", i);
	}
	cr_expect_str_eq(mo_ordinal_special_name(BIND_SPECIAL_DYLIB_FLAT_LOOKUP), "flat-lookup");
	cr_expect_null(mo_ordinal_special_name(1));
	mo_imports_free(im);
	mo_file_free(f);
	ut_src_release(&src);
	free(bytes);
	free(path);
}

/* The LC_SYMTAB fallbacks: a file with neither trie nor binds, then broken symbol tables. */
static size_t nlist(uint8_t *p, uint32_t strx, uint8_t type, uint8_t sect, uint16_t desc, uint64_t value)
{
	ut_put_le32(p, strx);
	p[4] = type;
	p[5] = sect;
	ut_put_le16(p + 6, desc);
	ut_put_le64(p + 8, value);
	return 16;
}

Test(mo_symbols_bytes, symtab_fallback_agrees_with_llvm_nm)
{
	static const char strs[] = "\0_local\0_ext\0_weakdef\0_absval\0_undef\0_weakref\0_flat\0_priv";
	uint8_t syms[8 * 16];
	size_t n = 0;
	n += nlist(syms + n, 1, N_SECT, 1, 0, 0x1000);                       /* local */
	n += nlist(syms + n, 8, N_SECT | N_EXT, 1, 0, 0x1010);                /* _ext */
	n += nlist(syms + n, 13, N_SECT | N_EXT, 1, N_WEAK_DEF, 0x1020);      /* _weakdef */
	n += nlist(syms + n, 22, N_ABS | N_EXT, 0, 0, 0x42);                  /* _absval */
	n += nlist(syms + n, 52, N_SECT | N_PEXT, 1, 0, 0x1030);              /* _priv: was a private extern */
	n += nlist(syms + n, 30, N_UNDF | N_EXT, 0, 2 << 8, 0);               /* _undef from 2 */
	n += nlist(syms + n, 37, N_UNDF | N_EXT, 0, 1 << 8 | N_WEAK_REF, 0);  /* _weakref from 1 */
	n += nlist(syms + n, 46, N_UNDF | N_EXT, 0, DYNAMIC_LOOKUP_ORDINAL << 8, 0);
	struct tb_spec spec = { .ndeps = 2, .dep_names = two_deps, .syms = { syms, n }, .nsyms = 8,
				.strs = { strs, sizeof(strs) } };
	char *path = tb_write(&spec, tb_tmpdir(), "symtab-only");
	struct ut_src src;
	struct mo_file *f = NULL;
	cr_assert_eq(ut_src_open(&src, path), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s", ut_errmsg());
	struct mo_exports *e = NULL;
	struct mo_imports *im = NULL;
	cr_assert_eq(mo_exports_parse(f, &f->slices[0], &e), 0, "%s", ut_errmsg());
	cr_expect_eq(e->from_symtab, 1);
	cr_assert_eq(e->n, 3u);
	cr_expect_str_eq(e->v[0].name, "_absval");
	cr_expect_eq(e->v[0].flags, EXPORT_SYMBOL_FLAGS_KIND_ABSOLUTE);
	cr_expect_eq(e->v[0].address, 0x42u);
	cr_expect_str_eq(e->v[2].name, "_weakdef");
	cr_expect_eq(e->v[2].flags, EXPORT_SYMBOL_FLAGS_WEAK_DEFINITION);
	cr_assert_eq(mo_imports_parse(f, &f->slices[0], &im), 0, "%s", ut_errmsg());
	cr_assert_eq(im->n, 3u);
	cr_expect_eq(im->v[0].ordinal, BIND_SPECIAL_DYLIB_FLAT_LOOKUP);
	cr_expect_str_eq(im->v[1].name, "_weakref");
	cr_expect_eq(im->v[1].weak, 1);
	cr_expect_eq(im->v[2].ordinal, 2);
	mo_imports_free(im);
	mo_exports_free(e);
	mo_file_free(f);
	ut_src_release(&src);

	/*
	 * llvm-nm agrees on the defined externals and each import's library.
	 * symtest_check_file wants a trie too (llvm-objdump-14 refuses an empty
	 * root node, dyld does not care): one export.
	 */
	struct entry one = { .name = "_ext" };
	term(&one, 0, 0x1010, 0, NULL);
	uint8_t trie[64];
	spec.dyld_info = 1;
	spec.exports = (struct tb_blob){ trie, flat_trie(trie, &one, 1) };
	char *p2 = tb_write(&spec, tb_tmpdir(), "symtab-and-empty-trie");
	struct symtest_totals t = { 0 };
	symtest_check_file(p2, &t);
	free(p2);

	/* broken: a name offset past the string table, then LC_DYSYMTAB ranges past nsyms */
	spec.dyld_info = 0;
	ut_put_le32(syms + 16, 0x1000);
	size_t len;
	uint8_t *bytes = tb_build(&spec, &len);
	cr_assert_eq(ut_src_mem(&src, bytes, len, "bad-strx"), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0);
	cr_expect_eq(mo_exports_parse(f, &f->slices[0], &e), UT_EMALFORMED);
	cr_expect(strstr(ut_errmsg(), "slice arm64: symbol 1: name offset 0x1000 past the string table"), "%s", ut_errmsg());
	mo_file_free(f);
	ut_src_release(&src);
	free(bytes);
	ut_put_le32(syms + 16, 8);
	spec.dysymtab = 1;
	spec.iextdef = 1;
	spec.nextdef = 3;
	spec.iundef = 6;
	spec.nundef = 3;
	bytes = tb_build(&spec, &len);
	cr_assert_eq(ut_src_mem(&src, bytes, len, "bad-dysymtab"), 0);
	cr_assert_eq(mo_file_parse(&src, &f), 0);
	cr_expect_eq(mo_imports_parse(f, &f->slices[0], &im), UT_EMALFORMED);
	cr_expect(strstr(ut_errmsg(), "(LC_DYSYMTAB): undefined symbols 6+3 past nsyms 8"), "%s", ut_errmsg());
	mo_file_free(f);
	ut_src_release(&src);
	free(bytes);
	free(path);
}
