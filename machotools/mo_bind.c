/*
 * mo_bind.c - the bind, weak bind and lazy bind opcode streams of
 * LC_DYLD_INFO(_ONLY), interpreted the way dyld does to learn which symbol is
 * bound from which library (BIND_OPCODE_* in <mach-o/loader.h>).
 *
 * Checked like dyld checks them: library ordinals against the dependency
 * count (special ordinals SELF, MAIN_EXECUTABLE, FLAT_LOOKUP, WEAK_LOOKUP
 * only), segment indexes, every bound address inside its segment (repeated
 * binds by arithmetic, never by looping), symbol names NUL-terminated inside
 * the stream, LEB128 values in 64 bits.  Address arithmetic wraps like dyld's
 * (ld64 emits ADD_ADDR_ULEB with huge values to step backwards).  Threaded
 * binds (BIND_OPCODE_THREADED) are accepted; the chains they apply live in
 * __DATA and are not walked, so their addresses are not checked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mo_symbols.h"
#include "mo_symbols_priv.h"
#include "ut_err.h"

#define PTR_SIZE 8u

struct bstate {
	const struct mo_image *img;
	enum mo_import_kind kind;
	const uint8_t *p;
	size_t len;
	uint64_t base;
	const char *what;
	size_t op;            /* offset of the current opcode */
	int32_t ordinal;
	const char *sym;
	size_t sym_len;
	uint8_t sym_flags;
	int seg;              /* -1 until set */
	uint64_t off;         /* offset inside the segment (wraps) */
	int threaded;
	struct mo_imports *out;
};

static int fail(const struct bstate *b, const char *fmt, ...) UT_PRINTF(2, 3);
static int fail(const struct bstate *b, const char *fmt, ...)
{
	char msg[192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ut_fail(UT_EMALFORMED, "%s at 0x%llx: %s", b->what, ULL(b->base + b->op), msg);
}

static int uleb(struct bstate *b, size_t *pos, uint64_t *v)
{
	int r = mo_uleb(b->p, b->len, pos, v);
	if (r)
		return ut_fail(UT_EMALFORMED, "%s at 0x%llx: bad ULEB128 operand: %s", b->what, ULL(b->base + b->op),
			       mo_leb_problem(r));
	return 0;
}

static int set_ordinal(struct bstate *b, int64_t ord)
{
	if (ord > (int64_t)b->img->ndeps)
		return fail(b, "ordinal %lld but only %u dependencies", (long long)ord, b->img->ndeps);
	if (ord < BIND_SPECIAL_DYLIB_WEAK_LOOKUP)
		return fail(b, "unknown special ordinal %lld", (long long)ord);
	b->ordinal = (int32_t)ord;
	return 0;
}

/* count binds at off, off+stride, ...: each must lie inside the current segment. */
static int bind_at(struct bstate *b, uint64_t count, uint64_t stride)
{
	if (!b->sym)
		return fail(b, "bind before any symbol name was set");
	if (count == 0)
		return 0;
	if (!b->threaded) {
		if (b->seg < 0)
			return fail(b, "bind before any segment was set");
		const struct mo_segment *sg = &b->img->segments[b->seg];
		uint64_t span, last;
		if (__builtin_mul_overflow(count - 1, stride, &span) || __builtin_add_overflow(b->off, span, &last) ||
		    last > sg->vmsize || sg->vmsize - last < PTR_SIZE) {
			return fail(b, "bind at offset 0x%llx (x%llu) past the end of segment %d (%s, 0x%llx bytes)",
				    ULL(b->off), ULL(count), b->seg, sg->segname, ULL(sg->vmsize));
		}
	}
	int32_t ord = b->kind == MO_IMPORT_WEAK_BIND ? BIND_SPECIAL_DYLIB_WEAK_LOOKUP : b->ordinal;
	return mo_imports_add(b->out, b->sym, b->sym_len, ord, b->kind, (b->sym_flags & BIND_SYMBOL_FLAGS_WEAK_IMPORT) != 0,
			      0);
}

static int set_symbol(struct bstate *b, size_t *pos, uint8_t imm)
{
	const uint8_t *nul = *pos < b->len ? memchr(b->p + *pos, 0, b->len - *pos) : NULL;
	if (!nul)
		return fail(b, "symbol name runs past the end");
	b->sym = (const char *)b->p + *pos;
	b->sym_len = (size_t)(nul - (b->p + *pos));
	b->sym_flags = imm;
	*pos += b->sym_len + 1;
	if (b->sym_len >= MO_MAX_SYMBOL_LEN)
		return fail(b, "symbol name of %zu bytes exceeds the limit of %u", b->sym_len, MO_MAX_SYMBOL_LEN);
	/* a weak bind entry flagged NON_WEAK_DEFINITION is this image's strong definition: no bind follows */
	if (b->kind == MO_IMPORT_WEAK_BIND && (imm & BIND_SYMBOL_FLAGS_NON_WEAK_DEFINITION))
		return mo_imports_add(b->out, b->sym, b->sym_len, BIND_SPECIAL_DYLIB_WEAK_LOOKUP, b->kind, 0, 1);
	return 0;
}

/* One opcode at b->op; *pos is past it on return; *done set by DONE in non-lazy streams. */
static int step(struct bstate *b, size_t *pos, int *done)
{
	uint8_t byte = b->p[(*pos)++];
	uint8_t op = byte & BIND_OPCODE_MASK, imm = byte & BIND_IMMEDIATE_MASK;
	uint64_t v, w;
	int64_t sv;
	int rc = 0;
	switch (op) {
	case BIND_OPCODE_DONE:
		/* lazy streams end every entry with DONE; elsewhere it ends the stream */
		if (b->kind != MO_IMPORT_LAZY_BIND)
			*done = 1;
		return 0;
	case BIND_OPCODE_SET_DYLIB_ORDINAL_IMM:
		return set_ordinal(b, imm);
	case BIND_OPCODE_SET_DYLIB_ORDINAL_ULEB:
		rc = uleb(b, pos, &v);
		if (!rc && v > INT32_MAX)
			return fail(b, "ordinal %llu but only %u dependencies", ULL(v), b->img->ndeps);
		return rc ? rc : set_ordinal(b, (int64_t)v);
	case BIND_OPCODE_SET_DYLIB_SPECIAL_IMM:
		return set_ordinal(b, imm ? (int8_t)(BIND_OPCODE_MASK | imm) : 0);
	case BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM:
		return set_symbol(b, pos, imm);
	case BIND_OPCODE_SET_TYPE_IMM:
		if (imm < BIND_TYPE_POINTER || imm > BIND_TYPE_TEXT_PCREL32)
			return fail(b, "unknown bind type %llu", ULL(imm));
		return 0;
	case BIND_OPCODE_SET_ADDEND_SLEB: {
		int r = mo_sleb(b->p, b->len, pos, &sv);
		return r ? fail(b, "bad SLEB128 addend") : 0;
	}
	case BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB:
		if (imm >= b->img->nsegments)
			return fail(b, "segment %u but only %u segments", imm, b->img->nsegments);
		b->seg = imm;
		return uleb(b, pos, &b->off);
	case BIND_OPCODE_ADD_ADDR_ULEB:
		rc = uleb(b, pos, &v);
		b->off += v;
		return rc;
	case BIND_OPCODE_DO_BIND:
		rc = bind_at(b, 1, 0);
		b->off += PTR_SIZE;
		return rc;
	case BIND_OPCODE_DO_BIND_ADD_ADDR_ULEB:
		rc = uleb(b, pos, &v);
		if (!rc)
			rc = bind_at(b, 1, 0);
		b->off += PTR_SIZE + v;
		return rc;
	case BIND_OPCODE_DO_BIND_ADD_ADDR_IMM_SCALED:
		rc = bind_at(b, 1, 0);
		b->off += PTR_SIZE + (uint64_t)imm * PTR_SIZE;
		return rc;
	case BIND_OPCODE_DO_BIND_ULEB_TIMES_SKIPPING_ULEB:
		rc = uleb(b, pos, &v);
		if (!rc)
			rc = uleb(b, pos, &w);
		if (!rc && w > UINT64_MAX - PTR_SIZE)
			return fail(b, "skip 0x%llx too large", ULL(w));
		if (!rc)
			rc = bind_at(b, v, w + PTR_SIZE);
		b->off += v * (w + PTR_SIZE);
		return rc;
	case BIND_OPCODE_THREADED:
		if (imm == BIND_SUBOPCODE_THREADED_SET_BIND_ORDINAL_TABLE_SIZE_ULEB) {
			b->threaded = 1;
			return uleb(b, pos, &v);
		}
		if (imm == BIND_SUBOPCODE_THREADED_APPLY)
			return 0;
		return fail(b, "unknown threaded bind subopcode %llu", ULL(imm));
	default:
		return fail(b, "unknown bind opcode 0x%02llx", ULL(byte));
	}
}

int mo_bind_parse(const struct mo_image *img, enum mo_import_kind kind, struct ut_span ops, uint64_t base,
		  struct mo_imports *acc)
{
	static const char *what[] = { "bind opcodes", "bind opcodes", "weak bind opcodes", "lazy bind opcodes" };
	if (kind != MO_IMPORT_BIND && kind != MO_IMPORT_WEAK_BIND && kind != MO_IMPORT_LAZY_BIND)
		return ut_fail(UT_EINVAL, "mo_bind_parse: bad kind %d", (int)kind);
	if (ops.len > MO_MAX_SYMDATA)
		return ut_fail(UT_EUNSUPPORTED, "%s at 0x%llx: %zu bytes exceed the limit of %u", what[kind], ULL(base),
			       ops.len, MO_MAX_SYMDATA);
	struct bstate b = { .img = img, .kind = kind, .p = ops.p, .len = ops.len, .base = base, .what = what[kind],
			    .seg = -1, .out = acc };
	int rc = 0, done = 0;
	size_t pos = 0;
	while (!rc && !done && pos < ops.len) {
		b.op = pos;
		rc = step(&b, &pos, &done);
	}
	mo_imports_finish(acc);
	return rc;
}
