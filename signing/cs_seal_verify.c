/* cs_seal_verify.c - compare a bundle on disk with its seal (SEC StaticCode.cpp validateResources). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_bundle_priv.h"
#include "cs_hash.h"
#include "cs_seal_priv.h"
#include "ut_err.h"

struct verify {
	const struct cs_seal_files *table;
	int v1;
	const struct cs_seal_verify_opts *o;
	const char *prefix;
	struct cs_seal_report *rep;
	unsigned char *seen;
	int base_depth;           /* components from the stack root down to the base; -1: base outside it */
};

static int add(struct verify *v, enum cs_seal_problem p, const char *rel, const char *detail)
{
	char *path = cs_seal_prefixed(v->prefix, rel);
	if (!path)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = v->o->finding ? v->o->finding(v->o->hook_ctx, p, path, detail)
			       : cs_seal_report_add(v->rep, p, path, "%s", detail);
	free(path);
	return rc;
}

/* A symlink finding naming its target (and the sealed one when they differ); any length. */
static int add_link(struct verify *v, enum cs_seal_problem p, const char *rel, const char *target,
		    const char *sealed)
{
	size_t n = strlen(target) + (sealed ? strlen(sealed) : 0) + 64;
	char *d = malloc(n);
	if (!d)
		return ut_fail(UT_ENOMEM, "out of memory");
	if (sealed)
		snprintf(d, n, "symlink target '%s', sealed '%s'", target, sealed);
	else
		snprintf(d, n, "symlink target '%s' leaves the bundle", target);
	int rc = add(v, p, rel, d);
	free(d);
	return rc;
}

static const char *kind_word(enum cs_seal_kind k)
{
	return k == CS_SEAL_FILE ? "a file" : k == CS_SEAL_SYMLINK ? "a symlink" : "nested code";
}

static int compare_hashes(struct verify *v, const char *abs, const char *rel, const struct cs_seal_entry *e)
{
	if (v->o->file) {
		char *path = cs_seal_prefixed(v->prefix, rel);
		if (!path)
			return ut_fail(UT_ENOMEM, "out of memory");
		int rc = v->o->file(v->o->hook_ctx, abs, path, e);
		free(path);
		return rc;
	}
	unsigned types[4], n = cs_seal_entry_types(e, types);
	uint8_t out[4][CS_HASH_MAX_SIZE];
	int rc = cs_seal_hash_file(abs, types, n, out);
	if (rc)
		return rc;
	for (unsigned i = 0; i < n; i++)
		if (memcmp(out[i], e->hash[types[i]], cs_hash_size(types[i])) != 0) {
			char d[64];
			snprintf(d, sizeof(d), "%s digest differs", cs_hash_name(types[i]));
			return add(v, CS_SEAL_MODIFIED, rel, d);
		}
	return 0;
}

/* Lexical containment of a relative symlink target inside the stack root. */
static int link_escapes(const struct verify *v, const char *rel, const char *target)
{
	if (target[0] == '/')
		return strncmp(target, "/System/", 8) != 0 && strncmp(target, "/Library/", 9) != 0;
	if (v->base_depth < 0)
		return 1;
	int depth = v->base_depth;
	for (const char *p = rel; *p; p++)
		depth += *p == '/';
	const char *p = target;
	while (*p) {
		const char *q = strchr(p, '/');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return 1;
		} else if (n && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n + (q != NULL);
	}
	return 0;
}

static int check_symlink(struct verify *v, const char *abs, const char *rel, const struct cs_seal_entry *e)
{
	char *target = cs_readlink(abs);
	if (!target) {
		/* Found as a symlink by the walk but unreadable now: the sealed link cannot be confirmed. */
		char *msg = strdup(ut_errmsg());
		int rc = msg ? add(v, CS_SEAL_MODIFIED, rel, msg) : ut_fail(UT_ENOMEM, "out of memory");
		free(msg);
		return rc;
	}
	int rc = 0;
	if (e && strcmp(target, e->symlink) != 0)
		rc = add_link(v, CS_SEAL_MODIFIED, rel, target, e->symlink);
	if (!rc && v->o->strict && link_escapes(v, rel, target))
		rc = add_link(v, CS_SEAL_SYMLINK_ESCAPES, rel, target, NULL);
	free(target);
	return rc;
}

static int check_nested(struct verify *v, const char *abs, const char *rel, int is_bundle,
			const struct cs_seal_entry *e)
{
	char *pre_slash = cs_seal_cat3(v->prefix, rel, "/");
	if (!pre_slash)
		return ut_fail(UT_ENOMEM, "out of memory");
	cs_seal_nested_check_fn fn = v->o->nested ? v->o->nested : cs_seal_nested_check_default;
	int rc = fn(v->o->nested_ctx, abs, rel, is_bundle, e, v->o, pre_slash, v->rep);
	free(pre_slash);
	return rc ? ut_ctx(rc, "nested code '%s'", rel) : 0;
}

static int on_item(void *ctx, const char *abs, const char *rel, enum cs_walk_kind kind, uint32_t flags)
{
	struct verify *v = ctx;
	(void)flags;
	if (kind == CS_WALK_DIR || (v->v1 && kind != CS_WALK_FILE))
		return 0;
	const struct cs_seal_entry *e = cs_seal_find(v->table, rel);
	if (!e) {
		int rc = add(v, CS_SEAL_ADDED, rel, kind == CS_WALK_NESTED_DIR ? "nested code not in the seal" : "");
		if (!rc && kind == CS_WALK_SYMLINK && v->o->strict)
			rc = check_symlink(v, abs, rel, NULL);
		return rc;
	}
	v->seen[e - v->table->v] = 1;
	enum cs_seal_kind disk = kind == CS_WALK_SYMLINK ? CS_SEAL_SYMLINK
			       : kind == CS_WALK_NESTED_DIR ? CS_SEAL_NESTED : CS_SEAL_FILE;
	/* Like Security, the seal decides how a regular file is judged: by hash or as nested code. */
	if (e->kind == CS_SEAL_NESTED && disk != CS_SEAL_SYMLINK)
		return check_nested(v, abs, rel, disk == CS_SEAL_NESTED, e);
	if (e->kind != disk) {
		char d[128];
		snprintf(d, sizeof(d), "sealed as %s, now %s", kind_word(e->kind),
			 kind == CS_WALK_NESTED_DIR ? "a directory" : kind_word(disk));
		return add(v, CS_SEAL_MODIFIED, rel, d);
	}
	if (disk == CS_SEAL_SYMLINK)
		return check_symlink(v, abs, rel, e);
	return compare_hashes(v, abs, rel, e);
}

/* Components from root down to base, or -1 when base is not inside root (compared as strings). */
static int depth_below(const char *root, const char *base)
{
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (strncmp(root, base, n) != 0 || (base[n] && base[n] != '/'))
		return -1;
	int depth = 0;
	for (const char *p = base + n; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			depth++;
	return depth;
}

int cs_seal_verify(const struct cs_seal *s, const char *base, const char *main_exec,
		   const struct cs_seal_verify_opts *o, const char *prefix, struct cs_seal_report *rep)
{
	static const struct cs_seal_verify_opts none;
	if (!o)
		o = &none;
	struct verify v = { .o = o, .prefix = prefix ? prefix : "", .rep = rep };
	v.v1 = !s->has_files2;
	v.table = v.v1 ? &s->files : &s->files2;
	if (!(v.v1 ? s->has_files : s->has_files2))
		return ut_fail(UT_EINVAL, "seal has no table to verify");
	v.base_depth = depth_below(o->stack_root ? o->stack_root : base, base);
	v.seen = calloc(v.table->n ? v.table->n : 1, 1);
	if (!v.seen)
		return ut_fail(UT_ENOMEM, "out of memory");
	struct cs_rules rules;
	cs_rules_init(&rules);
	int rc = cs_rules_copy(&rules, v.v1 ? &s->rules : &s->rules2);
	if (!rc)
		rc = cs_rules_add_exclusions(&rules, main_exec);
	int walked = 0;
	if (!rc) {
		rc = cs_seal_walk(base, &rules, on_item, &v);
		walked = !rc;
		if (rc && rc != UT_ENOMEM && o->walk_failed)
			rc = o->walk_failed(o->hook_ctx, rc);
	}
	for (size_t i = 0; i < v.table->n && !rc && walked; i++)
		if (!v.seen[i] && !v.table->v[i].optional)
			rc = add(&v, CS_SEAL_MISSING, v.table->v[i].path, "");
	cs_rules_release(&rules);
	free(v.seen);
	return rc;
}

static int add_layout(const struct cs_bundle *b, const char *prefix, struct cs_seal_report *rep)
{
	struct cs_layout_report lr = { 0 };
	int rc = cs_bundle_check_layout(b, &lr);
	for (size_t i = 0; i < lr.n && !rc; i++) {
		char *path = cs_seal_prefixed(prefix, lr.v[i].path);
		rc = path ? cs_seal_report_add(rep, CS_SEAL_LAYOUT, path, "%s", lr.v[i].what)
			  : ut_fail(UT_ENOMEM, "out of memory");
		free(path);
	}
	cs_layout_report_release(&lr);
	return rc;
}

/* The seal part of a bundle's verification (no special slots). */
int cs_seal_verify_bundle_seal(const struct cs_bundle *b, const struct cs_seal_verify_opts *o, const char *prefix,
			       struct cs_seal_report *rep)
{
	static const struct cs_seal_verify_opts none;
	if (!o)
		o = &none;
	struct cs_seal_verify_opts local = *o;
	if (!local.stack_root)
		local.stack_root = b->root;
	char *pre = cs_seal_base_prefix(prefix, b->base_rel);
	char *path = pre ? cs_seal_prefixed(pre, b->seal_rel) : NULL; /* the seal, for findings */
	int rc = path ? 0 : ut_fail(UT_ENOMEM, "out of memory");
	if (!rc && local.strict)
		rc = add_layout(b, prefix ? prefix : "", rep);
	struct cs_seal seal;
	char why[256];
	if (!rc && cs_ftype_of(b->seal_path) == CS_FT_NONE) {
		rc = cs_seal_report_add(rep, CS_SEAL_NO_RESOURCES, path, "no sealed resources");
	} else if (!rc && cs_seal_read_file(&seal, b->seal_path) != 0) {
		rc = cs_seal_report_add(rep, CS_SEAL_RESOURCE_DIR, path, "%s", ut_errmsg());
	} else if (!rc) {
		if (local.strict && !seal.has_files2)
			rc = cs_seal_report_add(rep, CS_SEAL_WEAK_ENVELOPE, path, "version 1 seal only");
		else if (local.strict && cs_rules_weak(&seal.rules2, 2, why, sizeof(why)))
			rc = cs_seal_report_add(rep, CS_SEAL_WEAK_RULES, path, "%s", why);
		if (!rc)
			rc = cs_seal_verify(&seal, b->base, b->exec_rel, &local, pre, rep);
		cs_seal_release(&seal);
	}
	free(path);
	free(pre);
	return rc;
}

int cs_seal_verify_bundle(const struct cs_bundle *b, const struct cs_seal_verify_opts *o, const char *prefix,
			  struct cs_seal_report *rep)
{
	int rc = cs_seal_verify_bundle_seal(b, o, prefix, rep);
	if (rc)
		return rc;
	if (!b->exec_path)
		return 0;
	if (cs_ftype_of(b->exec_path) != CS_FT_FILE) {
		char *pre = cs_seal_base_prefix(prefix, b->base_rel);
		char *path = pre ? cs_seal_prefixed(pre, b->exec_rel) : NULL;
		rc = path ? cs_seal_report_add(rep, CS_SEAL_MISSING, path, "main executable missing or not a regular file")
			  : ut_fail(UT_ENOMEM, "out of memory");
		free(pre);
		free(path);
		return rc;
	}
	return cs_bundle_check_slots(b, prefix, rep);
}
