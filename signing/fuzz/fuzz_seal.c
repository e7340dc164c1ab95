/*
 * fuzz_seal.c - libFuzzer target: the CodeResources reader (cs_seal_parse),
 * its rules (compiled, matched, checked for weakness) and the writer.
 *
 * libplist is not instrumented, so raw bytes alone rarely become a plist the
 * fuzzer can learn from.  The first byte therefore picks the mode:
 *   even: the rest is a whole CodeResources (XML or binary plist) as is;
 *   odd:  the rest is a program that builds a document with libplist -
 *         records that add entries of every shape (right and wrong types,
 *         hash and cdhash lengths, symlinks, requirements, optional flags,
 *         unknown keys) to files / files2 and rules to rules / rules2 (flags,
 *         weights of every type, fuzzed patterns), tables dropped or replaced
 *         - serialized as XML or binary, optionally with one byte changed.
 * Invariants: a parsed seal serializes; that serialization parses and
 * serializes to the same bytes with the same entry counts; lookups find every
 * entry; matching and the weak-rule check run on every entry path.
 */
#include <plist/plist.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs_seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* Pattern and path characters: regex syntax, separators, UTF-8 and a few odd bytes. */
static const char *const pieces[] = {
	"^", "$", ".", "*", "+", "?", "(", ")", "[", "]", "|", "\\", "/", "Resources/", "MacOS/", ".lproj/", "a", "b",
	"Info.plist", "_CodeSignature", "\xc3\xa9", "\xf0\x9f\x98\x80", "\xef\xbc\x81", " ", "{", "}", "-", "&", "<",
	"\x01", "\xff", "x.app",
};

static char *take_string(struct in *in)
{
	unsigned n = take(in) % 12;
	char *s = calloc(1, 12 * 16 + 1); /* pieces are at most 15 bytes */
	if (!s)
		return NULL;
	for (unsigned i = 0; i < n; i++)
		strcat(s, pieces[take(in) % (sizeof(pieces) / sizeof(pieces[0]))]);
	return s;
}

static plist_t take_data(struct in *in)
{
	static const size_t lens[] = { 20, 32, 48, 0, 19, 21, 31 };
	unsigned k = take(in);
	size_t len = (k & 7) < 7 ? lens[k & 7] : take(in);
	uint8_t buf[256];
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(k + i);
	return plist_new_data((const char *)buf, len);
}

/* A value of a random type (mostly the right one). */
static plist_t take_value(struct in *in, int right)
{
	unsigned k = take(in) % 8;
	if (right && k < 6) {
		switch (right) {
		case 1: return take_data(in);
		case 2: {
			char *s = take_string(in);
			plist_t v = plist_new_string(s ? s : "");
			free(s);
			return v;
		}
		case 3: return plist_new_bool(take(in) & 1);
		default: break;
		}
	}
	switch (k) {
	case 0: return plist_new_uint(take(in));
	case 1: return plist_new_real((double)(int8_t)take(in) * 7.5);
	case 2: return plist_new_array();
	case 3: return plist_new_dict();
	case 4: return plist_new_string("x");
	case 5: return plist_new_bool(1);
	case 6: return take_data(in);
	default: return plist_new_real(-1);
	}
}

static plist_t take_entry(struct in *in)
{
	unsigned k = take(in);
	if ((k & 3) == 0)
		return take_data(in);
	if ((k & 3) == 1)
		return take_value(in, 0);
	plist_t d = plist_new_dict();
	unsigned bits = take(in);
	static const struct {
		const char *key;
		int type;
	} keys[] = { { "hash", 1 }, { "hash2", 1 }, { "symlink", 2 }, { "requirement", 2 },
		     { "cdhash", 1 }, { "optional", 3 }, { "hash4", 1 }, { "other", 2 } };
	for (unsigned i = 0; i < 8; i++)
		if (bits & (1u << i))
			plist_dict_set_item(d, keys[i].key, take_value(in, (k & 4) ? 0 : keys[i].type));
	return d;
}

static plist_t take_rule(struct in *in)
{
	unsigned k = take(in);
	if ((k & 3) == 0)
		return plist_new_bool(k & 4);
	if ((k & 3) == 1)
		return take_value(in, 0);
	plist_t d = plist_new_dict();
	static const char *const flags[] = { "optional", "omit", "nested" };
	for (unsigned i = 0; i < 3; i++)
		if (k & (4u << i))
			plist_dict_set_item(d, flags[i], take_value(in, (k & 0x40) ? 0 : 3));
	if (k & 0x80) {
		unsigned w = take(in);
		plist_dict_set_item(d, "weight", (w & 1) ? plist_new_real((double)(w >> 1) * 10.0)
							 : (w & 2) ? plist_new_uint(w) : take_value(in, 0));
	}
	return d;
}

static uint8_t *build(struct in *in, size_t *len)
{
	static const char *const names[] = { "files", "files2", "rules", "rules2" };
	plist_t root = plist_new_dict();
	plist_t tables[4];
	for (int i = 0; i < 4; i++)
		tables[i] = plist_new_dict();
	unsigned cur = 1, present = 0xA; /* files2 + rules2 */
	for (unsigned steps = 0; in->n && steps < 64; steps++) {
		unsigned op = take(in);
		if (op < 16) {
			cur = op & 3;
			if (op & 4)
				present ^= 1u << cur;
			continue;
		}
		char *key = take_string(in);
		if (!key)
			break;
		plist_dict_set_item(tables[cur], key, cur < 2 ? take_entry(in) : take_rule(in));
		free(key);
	}
	for (int i = 0; i < 4; i++) {
		if (present & (1u << i))
			plist_dict_set_item(root, names[i], tables[i]);
		else
			plist_free(tables[i]);
	}
	unsigned how = take(in);
	char *out = NULL;
	uint32_t n = 0;
	if (how & 1)
		plist_to_bin(root, &out, &n);
	else
		plist_to_xml(root, &out, &n);
	plist_free(root);
	if (out && n && (how & 2)) {
		size_t hi = take(in), lo = take(in);
		size_t at = (hi << 8 | lo) % n;
		out[at] = (char)take(in);
	}
	*len = n;
	return (uint8_t *)out;
}

static void exercise(const struct cs_seal *s)
{
	uint8_t *x = NULL, *y = NULL;
	size_t nx = 0, ny = 0;
	if (cs_seal_serialize(s, &x, &nx) != 0)
		return; /* e.g. a files entry without SHA-1 cannot be written: refused, not a crash */
	struct cs_seal back;
	if (cs_seal_parse(&back, x, nx, "reparse") != 0)
		abort(); /* what we write must read back */
	if (cs_seal_serialize(&back, &y, &ny) != 0 || ny != nx || memcmp(x, y, nx) != 0)
		abort(); /* and write the same bytes */
	if (back.files2.n != s->files2.n || back.files.n != s->files.n)
		abort();
	cs_seal_release(&back);
	free(x);
	free(y);
	char why[256];
	for (int v = 1; v <= 2; v++) {
		const struct cs_rules *r = v == 2 ? &s->rules2 : &s->rules;
		const struct cs_seal_files *t = v == 2 ? &s->files2 : &s->files;
		(void)cs_rules_weak(r, v, why, sizeof(why));
		for (size_t i = 0; i < t->n && i < 32; i++) {
			const struct cs_rule *m = cs_rules_match(r, t->v[i].path);
			if (m && !m->pattern)
				abort();
			if (cs_seal_find(t, t->v[i].path) != &t->v[i])
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	struct in in = { data + 1, size - 1 };
	uint8_t *doc;
	size_t len = 0;
	if (data[0] & 1) {
		doc = build(&in, &len);
	} else {
		doc = malloc(in.n ? in.n : 1);
		if (doc && in.n)
			memcpy(doc, in.p, in.n);
		len = in.n;
	}
	if (!doc)
		return 0;
	struct cs_seal s;
	if (cs_seal_parse(&s, doc, len, "fuzz") == 0) {
		exercise(&s);
		cs_seal_release(&s);
	}
	free(doc);
	return 0;
}
