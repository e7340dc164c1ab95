/* cs_seal_build.c - scan a bundle into files / files2 (SEC signer.cpp buildResources). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cs_bundle_priv.h"
#include "cs_hash.h"
#include "cs_seal_priv.h"
#include "ut_err.h"

struct build {
	struct cs_seal *seal;
	unsigned types[4];
	unsigned ntypes;
	cs_seal_nested_fn nested;
	void *nested_ctx;
};

static int add_nested(struct build *b, const char *abs, const char *rel, int is_bundle, uint32_t flags)
{
	struct cs_seal_entry *e = cs_seal_files_add(&b->seal->files2, rel);
	if (!e)
		return UT_ENOMEM;
	e->kind = CS_SEAL_NESTED;
	e->optional = (flags & CS_RULE_OPTIONAL) != 0;
	int rc = b->nested(b->nested_ctx, abs, rel, is_bundle, e->cdhash, &e->requirement);
	if (rc)
		return ut_ctx(rc, "nested code '%s'", rel);
	if (!e->requirement)
		return ut_fail(UT_EINVAL, "nested code '%s': no requirement supplied", rel);
	e->has_cdhash = 1;
	return 0;
}

static int on_v2(void *ctx, const char *abs, const char *rel, enum cs_walk_kind kind, uint32_t flags)
{
	struct build *b = ctx;
	struct cs_seal_entry *e;
	switch (kind) {
	case CS_WALK_DIR:
		return 0;
	case CS_WALK_NESTED_DIR:
		return add_nested(b, abs, rel, 1, flags);
	case CS_WALK_SYMLINK:
		if (!(e = cs_seal_files_add(&b->seal->files2, rel)))
			return UT_ENOMEM;
		e->kind = CS_SEAL_SYMLINK;
		e->optional = (flags & CS_RULE_OPTIONAL) != 0;
		return (e->symlink = cs_readlink(abs)) ? 0 : UT_EIO;
	case CS_WALK_FILE:
		break;
	}
	if ((flags & CS_RULE_NESTED) && cs_is_macho_file(abs))
		return add_nested(b, abs, rel, 0, flags);
	if (!(e = cs_seal_files_add(&b->seal->files2, rel)))
		return UT_ENOMEM;
	e->kind = CS_SEAL_FILE;
	e->optional = (flags & CS_RULE_OPTIONAL) != 0;
	uint8_t out[4][CS_HASH_MAX_SIZE];
	int rc = cs_seal_hash_file(abs, b->types, b->ntypes, out);
	if (rc)
		return rc;
	for (unsigned i = 0; i < b->ntypes; i++) {
		memcpy(e->hash[b->types[i]], out[i], cs_hash_size(b->types[i]));
		e->hash_mask |= 1u << b->types[i];
	}
	return 0;
}

static int on_v1(void *ctx, const char *abs, const char *rel, enum cs_walk_kind kind, uint32_t flags)
{
	struct build *b = ctx;
	if (kind != CS_WALK_FILE)
		return 0;
	struct cs_seal_entry *e = cs_seal_files_add(&b->seal->files, rel);
	if (!e)
		return UT_ENOMEM;
	e->kind = CS_SEAL_FILE;
	e->optional = (flags & CS_RULE_OPTIONAL) != 0;
	e->hash_mask = 1u << CS_HASHTYPE_SHA1;
	/* Reuse the SHA-1 of the v2 seal when it has one (SEC does the same). */
	const struct cs_seal_entry *v2 = cs_seal_find(&b->seal->files2, rel);
	if (v2 && v2->kind == CS_SEAL_FILE && (v2->hash_mask & (1u << CS_HASHTYPE_SHA1))) {
		memcpy(e->hash[CS_HASHTYPE_SHA1], v2->hash[CS_HASHTYPE_SHA1], CS_SHA1_LEN);
		return 0;
	}
	unsigned t = CS_HASHTYPE_SHA1;
	uint8_t out[1][CS_HASH_MAX_SIZE];
	int rc = cs_seal_hash_file(abs, &t, 1, out);
	if (!rc)
		memcpy(e->hash[CS_HASHTYPE_SHA1], out[0], CS_SHA1_LEN);
	return rc;
}

static int scan(struct build *b, const char *base, const struct cs_rules *rules, const char *main_exec,
		cs_seal_walk_fn fn)
{
	struct cs_rules scan_rules;
	cs_rules_init(&scan_rules);
	int rc = cs_rules_copy(&scan_rules, rules);
	if (!rc)
		rc = cs_rules_add_exclusions(&scan_rules, main_exec);
	if (!rc)
		rc = cs_seal_walk(base, &scan_rules, fn, b);
	cs_rules_release(&scan_rules);
	return rc;
}

static int set_types(struct build *b, const struct cs_seal_opts *o)
{
	if (!o->nhash) {
		b->types[0] = CS_HASHTYPE_SHA256;
		b->ntypes = 1;
		return 0;
	}
	if (o->nhash > 4)
		return ut_fail(UT_EINVAL, "more than 4 resource digest types");
	for (unsigned i = 0; i < o->nhash; i++) {
		unsigned t = o->hash_types[i];
		if (t < 1 || t >= CS_SEAL_HASH_SLOTS)
			return ut_fail(UT_EINVAL, "unknown resource digest type %u", t);
		for (unsigned k = 0; k < b->ntypes; k++)
			if (b->types[k] == t)
				return ut_fail(UT_EINVAL, "resource digest type %u given twice", t);
		b->types[b->ntypes++] = t;
	}
	return 0;
}

int cs_seal_build(struct cs_seal *out, const char *base, const char *resources, const char *main_exec,
		  const struct cs_seal_opts *o)
{
	static const struct cs_seal_opts none;
	cs_seal_init(out);
	if (!o)
		o = &none;
	struct build b = { .seal = out, .nested = o->nested, .nested_ctx = o->nested_ctx };
	if (!b.nested) {
		b.nested = cs_seal_nested_from_disk;
		b.nested_ctx = (void *)o->host_arch;
	}
	int rc = set_types(&b, o);
	if (!rc)
		rc = o->rules ? cs_rules_copy(&out->rules, o->rules) : cs_rules_default_v1(&out->rules, resources);
	if (!rc)
		out->has_rules = 1;
	if (!rc && !o->v1_only) {
		rc = o->rules2 ? cs_rules_copy(&out->rules2, o->rules2) : cs_rules_default_v2(&out->rules2, resources);
		out->has_rules2 = out->has_files2 = 1;
		if (!rc)
			rc = scan(&b, base, &out->rules2, main_exec, on_v2);
		if (!rc)
			rc = cs_seal_files_sort(&out->files2, "files2");
	}
	if (!rc && !o->no_v1) {
		out->has_files = 1;
		rc = scan(&b, base, &out->rules, main_exec, on_v1);
		if (!rc)
			rc = cs_seal_files_sort(&out->files, "files");
	}
	if (rc) {
		cs_seal_release(out);
		cs_seal_init(out);
		return ut_ctx(rc, "sealing '%s'", base);
	}
	return 0;
}

int cs_seal_build_bundle(struct cs_seal *out, const struct cs_bundle *b, const struct cs_seal_opts *o)
{
	return cs_seal_build(out, b->base, b->resources, b->exec_rel, o);
}
