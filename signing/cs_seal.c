/* cs_seal.c - the seal model: tables of entries, lookup, findings. */
#define _POSIX_C_SOURCE 200809L
#include "cs_seal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_hash.h"
#include "cs_seal_priv.h"
#include "ut_file.h"

void cs_seal_init(struct cs_seal *s)
{
	memset(s, 0, sizeof(*s));
	cs_rules_init(&s->rules);
	cs_rules_init(&s->rules2);
}

static void entry_release(struct cs_seal_entry *e)
{
	free(e->path);
	free(e->symlink);
	free(e->requirement);
}

void cs_seal_files_release(struct cs_seal_files *t)
{
	for (size_t i = 0; i < t->n; i++)
		entry_release(&t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

void cs_seal_release(struct cs_seal *s)
{
	if (!s)
		return;
	cs_rules_release(&s->rules);
	cs_rules_release(&s->rules2);
	cs_seal_files_release(&s->files);
	cs_seal_files_release(&s->files2);
	memset(s, 0, sizeof(*s));
}

int cs_seal_version(const struct cs_seal *s) { return s->has_files2 ? 2 : 1; }

struct cs_seal_entry *cs_seal_files_add(struct cs_seal_files *t, const char *path)
{
	if (t->n >= CS_SEAL_MAX_ENTRIES) {
		ut_fail(UT_EUNSUPPORTED, "more than %d sealed files", CS_SEAL_MAX_ENTRIES);
		return NULL;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct cs_seal_entry *v = realloc(t->v, cap * sizeof(*v));
		if (!v) {
			ut_fail(UT_ENOMEM, "out of memory");
			return NULL;
		}
		t->v = v;
		t->cap = cap;
	}
	struct cs_seal_entry *e = &t->v[t->n];
	memset(e, 0, sizeof(*e));
	if (!(e->path = strdup(path))) {
		ut_fail(UT_ENOMEM, "out of memory");
		return NULL;
	}
	t->n++;
	return e;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cs_seal_entry *)a)->path, ((const struct cs_seal_entry *)b)->path);
}

int cs_seal_files_sort(struct cs_seal_files *t, const char *what)
{
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), entry_cmp);
	for (size_t i = 1; i < t->n; i++)
		if (strcmp(t->v[i - 1].path, t->v[i].path) == 0)
			return ut_fail(UT_EMALFORMED, "%s: '%s' sealed twice", what, t->v[i].path);
	return 0;
}

const struct cs_seal_entry *cs_seal_find(const struct cs_seal_files *t, const char *path)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->v[mid].path, path);
		if (c == 0)
			return &t->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *cs_seal_problem_text(enum cs_seal_problem p)
{
	switch (p) {
	case CS_SEAL_ADDED: return "file added";
	case CS_SEAL_MISSING: return "file missing";
	case CS_SEAL_MODIFIED: return "file modified";
	case CS_SEAL_NESTED_INVALID: return "nested code is modified or invalid";
	case CS_SEAL_WEAK_RULES: return "resource envelope is obsolete (custom omit rules)";
	case CS_SEAL_WEAK_ENVELOPE: return "resource envelope is obsolete (version 1 signature)";
	case CS_SEAL_SYMLINK_ESCAPES: return "invalid symbolic link";
	case CS_SEAL_LAYOUT: return "unsealed contents present in the bundle";
	case CS_SEAL_INFO_PLIST: return "invalid Info.plist (plist or signature have been modified)";
	case CS_SEAL_RESOURCE_DIR: return "invalid resource directory (directory or signature have been modified)";
	case CS_SEAL_NO_RESOURCES: return "code has no resources but signature indicates they must be present";
	}
	return "?";
}

int cs_seal_report_add(struct cs_seal_report *r, enum cs_seal_problem p, const char *path, const char *fmt, ...)
{
	if (r->n >= CS_SEAL_MAX_FINDINGS) {
		r->dropped++;
		return 0;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct cs_seal_finding *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return ut_fail(UT_ENOMEM, "out of memory");
		r->v = v;
		r->cap = cap;
	}
	struct cs_seal_finding *f = &r->v[r->n];
	memset(f, 0, sizeof(*f));
	f->problem = p;
	char buf[1024] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
	}
	if (!(f->path = strdup(path ? path : "")) || !(f->detail = strdup(buf))) {
		free(f->path);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	r->n++;
	return 0;
}

void cs_seal_report_release(struct cs_seal_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].path);
		free(r->v[i].detail);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

char *cs_seal_cat3(const char *a, const char *b, const char *c)
{
	size_t la = a ? strlen(a) : 0, lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);
	if (!s)
		return NULL;
	if (la)
		memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

char *cs_seal_prefixed(const char *prefix, const char *path) { return cs_seal_cat3(prefix, path, ""); }

const char *cs_seal_hash_key(unsigned type)
{
	switch (type) {
	case CS_HASHTYPE_SHA1: return "hash";
	case CS_HASHTYPE_SHA256: return "hash2";
	case CS_HASHTYPE_SHA256_TRUNCATED: return "hash3";
	case CS_HASHTYPE_SHA384: return "hash4";
	}
	return NULL;
}

unsigned cs_seal_entry_types(const struct cs_seal_entry *e, unsigned types[4])
{
	unsigned n = 0;
	for (unsigned t = 1; t < CS_SEAL_HASH_SLOTS; t++)
		if (e->hash_mask & (1u << t))
			types[n++] = t;
	return n;
}

int cs_seal_hash_file(const char *path, const unsigned *types, unsigned n, uint8_t (*out)[CS_HASH_MAX_SIZE])
{
	struct ut_src src;
	int rc = ut_src_open(&src, path);
	if (rc)
		return rc;
	rc = cs_hash_src(&src, 0, src.size, types, n, out);
	ut_src_release(&src);
	return rc;
}

char *cs_seal_base_prefix(const char *prefix, const char *base_rel)
{
	if (!base_rel || !base_rel[0])
		return cs_seal_prefixed(prefix, "");
	return cs_seal_cat3(prefix, base_rel, "/");
}
