/*
 * mo_trie.c - the export trie (LC_DYLD_EXPORTS_TRIE, LC_DYLD_INFO export range).
 *
 * A node is: ULEB128 terminal size; when non-zero, the terminal information
 * (ULEB128 flags, then for EXPORT_SYMBOL_FLAGS_REEXPORT a ULEB128 library
 * ordinal and the NUL-terminated name in that library, else a ULEB128 address
 * and, for STUB_AND_RESOLVER, a ULEB128 resolver offset); then one byte of
 * child count and per child a NUL-terminated edge label and a ULEB128 node
 * offset from the start of the trie.  The symbol name of a terminal is the
 * concatenation of the labels from the root.
 *
 * Walked depth-first with an explicit stack.  Every node may be reached only
 * once (a real trie is a tree), which rejects loops and bounds the work by the
 * trie's size; names are limited to MO_MAX_SYMBOL_LEN and depth to
 * MO_MAX_TRIE_DEPTH.
 */
#include <stdlib.h>
#include <string.h>

#include "mo_symbols.h"
#include "mo_symbols_priv.h"
#include "ut_err.h"

struct pending {
	size_t node;       /* offset of the child node */
	size_t label;      /* offset of its edge label */
	uint32_t label_len;
	uint32_t prefix;   /* length of the parent's name */
	uint32_t depth;
};

struct walk {
	const uint8_t *p;
	size_t len;
	uint64_t base;
	uint32_t ndeps;
	uint8_t *seen;     /* one bit per byte offset */
	struct pending *stack;
	size_t nstack, cap;
	char *name;        /* MO_MAX_SYMBOL_LEN bytes */
	struct mo_exports *out;
};

static int bad(const struct walk *w, size_t off, const char *fmt, const char *detail)
{
	return ut_fail(UT_EMALFORMED, "export trie at 0x%llx: %s%s", ULL(w->base + off), fmt, detail ? detail : "");
}

static int push(struct walk *w, struct pending c)
{
	if (w->nstack == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 64;
		struct pending *ns = realloc(w->stack, ncap * sizeof(*ns));
		if (!ns)
			return ut_fail(UT_ENOMEM, "out of memory");
		w->stack = ns;
		w->cap = ncap;
	}
	w->stack[w->nstack++] = c;
	return 0;
}

/* Terminal information of the node whose name is w->name[0, nlen), in [t, end). */
static int terminal(struct walk *w, size_t t, size_t end, uint32_t nlen)
{
	struct mo_export x = { 0 };
	uint64_t flags, v;
	size_t pos = t;
	int r = mo_uleb(w->p, end, &pos, &flags);
	if (r)
		return bad(w, pos, "terminal flags: ", mo_leb_problem(r));
	if (flags > UINT32_MAX)
		return bad(w, t, "terminal flags do not fit in 32 bits", NULL);
	x.flags = (uint32_t)flags;
	if (flags & EXPORT_SYMBOL_FLAGS_REEXPORT) {
		r = mo_uleb(w->p, end, &pos, &v);
		if (r)
			return bad(w, pos, "re-export ordinal: ", mo_leb_problem(r));
		if (v == 0 || v > w->ndeps)
			return ut_fail(UT_EMALFORMED, "export trie at 0x%llx: '%.*s' re-exported from ordinal %llu but only %u dependencies",
				       ULL(w->base + t), (int)nlen, w->name, ULL(v), w->ndeps);
		x.reexport_ordinal = (uint32_t)v;
		const uint8_t *nul = memchr(w->p + pos, 0, end - pos);
		if (!nul)
			return bad(w, pos, "re-export name runs past the terminal information", NULL);
		x.reexport_name = (const char *)w->p + pos;
		if ((size_t)(nul - (w->p + pos)) >= MO_MAX_SYMBOL_LEN)
			return bad(w, pos, "re-export name exceeds the symbol name limit", NULL);
	} else {
		r = mo_uleb(w->p, end, &pos, &x.address);
		if (r)
			return bad(w, pos, "export address: ", mo_leb_problem(r));
		if (flags & EXPORT_SYMBOL_FLAGS_STUB_AND_RESOLVER) {
			r = mo_uleb(w->p, end, &pos, &x.resolver);
			if (r)
				return bad(w, pos, "resolver address: ", mo_leb_problem(r));
		}
	}
	return mo_exports_add(w->out, w->name, nlen, &x);
}

static int node(struct walk *w, size_t off, uint32_t nlen, uint32_t depth)
{
	if (off >= w->len)
		return ut_fail(UT_EMALFORMED, "export trie at 0x%llx: node offset 0x%llx past the end of the trie (0x%llx bytes)",
			       ULL(w->base), ULL(off), ULL(w->len));
	if (w->seen[off / 8] & (1u << (off % 8)))
		return bad(w, off, "node reached twice (the trie loops or shares nodes)", NULL);
	w->seen[off / 8] |= (uint8_t)(1u << (off % 8));
	uint64_t tsize;
	size_t pos = off;
	int r = mo_uleb(w->p, w->len, &pos, &tsize);
	if (r)
		return bad(w, off, "terminal size: ", mo_leb_problem(r));
	if (tsize > w->len - pos)
		return bad(w, off, "terminal information runs past the end of the trie", NULL);
	if (tsize) {
		int rc = terminal(w, pos, pos + (size_t)tsize, nlen);
		if (rc)
			return rc;
	}
	pos += (size_t)tsize;
	if (pos >= w->len)
		return bad(w, off, "child count past the end of the trie", NULL);
	uint8_t nchild = w->p[pos++];
	size_t first = w->nstack;
	for (uint8_t i = 0; i < nchild; i++) {
		const uint8_t *nul = pos < w->len ? memchr(w->p + pos, 0, w->len - pos) : NULL;
		if (!nul)
			return bad(w, pos, "edge label runs past the end of the trie", NULL);
		size_t llen = (size_t)(nul - (w->p + pos));
		if (llen >= MO_MAX_SYMBOL_LEN - nlen)
			return bad(w, pos, "symbol name exceeds the length limit", NULL);
		struct pending c = { .label = pos, .label_len = (uint32_t)llen, .prefix = nlen, .depth = depth + 1 };
		pos += llen + 1;
		uint64_t child;
		r = mo_uleb(w->p, w->len, &pos, &child);
		if (r)
			return bad(w, pos, "child offset: ", mo_leb_problem(r));
		if (child >= w->len)
			return ut_fail(UT_EMALFORMED, "export trie at 0x%llx: child offset 0x%llx past the end of the trie (0x%llx bytes)",
				       ULL(w->base + c.label), ULL(child), ULL(w->len));
		c.node = (size_t)child;
		int rc = push(w, c);
		if (rc)
			return rc;
	}
	/* children in their order: reverse what was pushed */
	for (size_t a = first, b = w->nstack; b > a + 1; a++, b--) {
		struct pending t = w->stack[a];
		w->stack[a] = w->stack[b - 1];
		w->stack[b - 1] = t;
	}
	return 0;
}

int mo_trie_parse(struct ut_span trie, uint64_t base, uint32_t ndeps, struct mo_exports *acc)
{
	if (trie.len == 0)
		return 0;
	if (trie.len > MO_MAX_SYMDATA)
		return ut_fail(UT_EUNSUPPORTED, "export trie at 0x%llx: %zu bytes exceed the limit of %u", ULL(base),
			       trie.len, MO_MAX_SYMDATA);
	struct walk w = { .p = trie.p, .len = trie.len, .base = base, .ndeps = ndeps, .out = acc };
	w.seen = calloc(trie.len / 8 + 1, 1);
	w.name = malloc(MO_MAX_SYMBOL_LEN);
	int rc = (w.seen && w.name) ? node(&w, 0, 0, 0) : ut_fail(UT_ENOMEM, "out of memory");
	while (!rc && w.nstack) {
		struct pending c = w.stack[--w.nstack];
		if (c.depth > MO_MAX_TRIE_DEPTH) {
			rc = bad(&w, c.node, "trie deeper than the limit", NULL);
			break;
		}
		memcpy(w.name + c.prefix, w.p + c.label, c.label_len);
		rc = node(&w, c.node, c.prefix + c.label_len, c.depth);
	}
	free(w.seen);
	free(w.name);
	free(w.stack);
	mo_exports_finish(acc);
	return rc;
}
