/*
 * ut_install_sign.c - sign the closure into the staging directory, the way
 * cs_bsign_bundle signs one bundle (seal, CodeResources, main executable
 * with the Info.plist and the seal bound), except that nothing in the bundle
 * is written: each new executable and CodeResources goes to the staging
 * directory, and a parent's seal records its staged nested code (cdhash and
 * designated requirement read back from the staged file) instead of what is
 * on disk.  Then every staged file is compared with the bundle's: the ones
 * that differ are the transaction's files.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_bsign.h"
#include "cs_bundle.h"
#include "cs_hash.h"
#include "cs_seal.h"
#include "cs_sign.h"
#include "ut_bytes.h"
#include "ut_file.h"
#include "ut_install_int.h"
#include "ut_limits.h"

#define PROFILE_NAME "embedded.provisionprofile"

/* Nested code signed in this run. */
struct signed_code {
	char *abs;             /* the bundle directory (or the file) in the bundle */
	int is_bundle;
	uint8_t cdhash[CS_CDHASH_LEN];
	char *requirement;
};

struct stager {
	struct ut_install *in;
	struct signed_code *done;
	size_t ndone, cap;
	struct ui_strv rels, staged; /* candidate files: bundle-relative path, staged copy */
};

static int nested_cb(void *ctx, const char *path, const char *rel, int is_bundle, uint8_t cdhash[CS_CDHASH_LEN],
		     char **requirement)
{
	struct stager *s = ctx;
	for (size_t i = 0; i < s->ndone; i++)
		if (strcmp(s->done[i].abs, path) == 0) {
			if (s->done[i].is_bundle != is_bundle)
				return ut_fail(UT_EINVAL, "'%s': signed as %s, sealed as %s", rel,
					       s->done[i].is_bundle ? "a bundle" : "a file", is_bundle ? "a bundle" : "a file");
			memcpy(cdhash, s->done[i].cdhash, CS_CDHASH_LEN);
			*requirement = ui_strdup(s->done[i].requirement);
			return *requirement ? 0 : UT_ENOMEM;
		}
	return cs_seal_nested_from_disk((void *)s->in->app->host_arch, path, rel, is_bundle, cdhash, requirement);
}

static int candidate(struct stager *s, const char *rel, const char *staged)
{
	int rc = ui_strv_add(&s->rels, rel);
	if (!rc && (rc = ui_strv_add(&s->staged, staged)) != 0)
		s->rels.n--, free(s->rels.v[s->rels.n]);
	return rc;
}

/* The new provisioning profile: its bytes staged, and the seal's entry for it re-hashed. */
static int stage_profile(struct stager *s, const struct ut_inst_comp *c, const struct ut_utmapp_comp *x,
			 const struct cs_bundle *b, struct cs_seal *seal)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	char *rel = ui_printf("%s/%s/%s", x->rel, b->base_rel, PROFILE_NAME);
	int rc = rel ? ut_file_read(c->profile, UT_MAX_PLIST_SIZE, &bytes, &len) : UT_ENOMEM;
	struct cs_seal_files *tables[2] = { &seal->files2, &seal->files };
	int found = 0;
	for (int t = 0; !rc && t < 2; t++) {
		struct cs_seal_entry *e = (struct cs_seal_entry *)cs_seal_find(tables[t], PROFILE_NAME);
		if (!e || e->kind != CS_SEAL_FILE)
			continue;
		found = 1;
		for (unsigned h = 1; !rc && h < CS_SEAL_HASH_SLOTS; h++)
			if (e->hash_mask & (1u << h))
				rc = cs_hash(h, bytes, len, e->hash[h]);
	}
	if (!rc && !found)
		rc = ui_problem(s->in, UT_IP_SIGNING, NULL, x->name,
				"%s has no %s to replace (a provisioning profile can only replace one)", x->name,
				PROFILE_NAME);
	char *staged = NULL;
	if (!rc && found) {
		if (!(staged = ui_stage_path(s->in, "out", rel)))
			rc = UT_ENOMEM;
		else if (!(rc = ut_file_write_atomic(staged, bytes, len, 0644)))
			rc = candidate(s, rel, staged);
	}
	free(staged);
	free(bytes);
	free(rel);
	return rc;
}

/* Seal of a bundle component into res (malloc'd); its CodeResources is staged. */
static int stage_seal(struct stager *s, const struct ut_inst_comp *c, const struct ut_utmapp_comp *x,
		      const char *exec_src, const struct cs_bundle *b, uint8_t **res, size_t *res_len)
{
	struct cs_seal seal;
	cs_seal_init(&seal);
	struct cs_seal_opts so = { .nested = nested_cb, .nested_ctx = s, .host_arch = s->in->app->host_arch };
	int rc = cs_bsign_hash_types(exec_src, so.hash_types, &so.nhash);
	if (!rc)
		rc = cs_seal_build_bundle(&seal, b, &so);
	if (!rc && c->profile)
		rc = stage_profile(s, c, x, b, &seal);
	if (!rc)
		rc = cs_seal_serialize(&seal, res, res_len);
	char *base = rc ? NULL : ut_path_join(x->rel, b->base_rel);
	char *rel = base ? ut_path_join(base, b->seal_rel) : NULL;
	free(base);
	char *staged = rel ? ui_stage_path(s->in, "out", rel) : NULL;
	if (!rc && (!rel || !staged))
		rc = UT_ENOMEM;
	if (!rc && (rc = ut_file_write_atomic(staged, *res, *res_len, 0644)) == 0)
		rc = candidate(s, rel, staged);
	free(rel);
	free(staged);
	cs_seal_release(&seal);
	return rc;
}

static int serialize_ents(plist_t d, uint8_t **out, size_t *len)
{
	return ut_plist_serialize(d, UT_PLIST_XML, out, len);
}

/* Signs one closure component into the staging directory. */
static int stage_comp(struct stager *s, struct ut_inst_comp *c)
{
	struct ut_install *in = s->in;
	const struct ut_utmapp_comp *x = &in->app->v[c->comp];
	const struct ut_install_opts *o = in->opts;
	char *exec_abs = ut_path_join(in->app->path, x->exec_rel);
	char *bundle_abs = x->rel ? ut_path_join(in->app->path, x->rel) : NULL;
	char *staged_exec = ui_stage_path(in, "out", x->exec_rel);
	const char *exec_src = c->action == UT_ACT_FRAMEWORK ? ui_staged_binary(in) : exec_abs;
	struct cs_bundle *b = NULL;
	uint8_t *res = NULL, *ents = NULL;
	size_t res_len = 0, ents_len = 0;
	int rc = !exec_abs || !staged_exec || (x->rel && !bundle_abs) ? UT_ENOMEM : 0;
	if (!rc && x->rel && (rc = cs_bundle_open(bundle_abs, &b)) == 0)
		rc = stage_seal(s, c, x, exec_src, b, &res, &res_len);
	struct cs_sign_opts so = { 0 };
	so.identity = o->identity;
	so.signing_time = o->signing_time;
	so.host_arch = in->app->host_arch;
	so.name = exec_abs;
	so.info_plist = b ? b->info_data : NULL; /* the bytes slot -1 binds, as the bundle reader read them */
	so.info_plist_len = b ? b->info_len : 0;
	so.resources = res;
	so.resources_len = res_len;
	if (c->action == UT_ACT_FRAMEWORK) {
		if (x->sig.is_signed && !x->sig.linker && x->sig.identifier[0])
			so.identifier = x->sig.identifier;
		so.runtime = (x->sig.flags & CS_RUNTIME) != 0;
	} else {
		so.preserve = CS_PRESERVE_IDENTIFIER | CS_PRESERVE_FLAGS | CS_PRESERVE_RUNTIME;
		so.runtime = in->restore && x->prof && x->prof->hardened_runtime;
		if (!rc && c->has_plan && (rc = serialize_ents(c->plan.result, &ents, &ents_len)) == 0) {
			so.entitlements = ents;
			so.entitlements_len = ents_len;
		}
	}
	double t0 = ui_now();
	struct cs_sign_report rep;
	if (!rc && (rc = cs_sign_file(exec_src, staged_exec, &so, &rep)) == UT_ENOSPACE &&
	    c->action == UT_ACT_FRAMEWORK) {
		int r2 = ui_problem(in, UT_IP_PADDING, NULL, in->dylib, "%s (relink with -headerpad_max_install_names)",
				    ut_errmsg());
		rc = r2 ? r2 : UT_EREFUSED;
	}
	if (c->action == UT_ACT_FRAMEWORK)
		in->times.sign += ui_now() - t0;
	else
		in->times.reseal += ui_now() - t0;
	struct cs_nested_info ni;
	memset(&ni, 0, sizeof(ni));
	if (!rc)
		rc = cs_nested_info_read(&ni, staged_exec, 0, in->app->host_arch);
	if (!rc) {
		ut_hex(c->new_cdhash, ni.cdhash, CS_CDHASH_LEN);
		c->requirement = ni.requirement;
		ni.requirement = NULL;
		struct signed_code *d = ui_vec_push((void **)&s->done, &s->ndone, &s->cap, sizeof(*d));
		if (!d)
			rc = UT_ENOMEM;
		else if (!(d->requirement = ui_strdup(c->requirement)) || !(d->abs = ui_strdup(b ? bundle_abs : exec_abs)))
			rc = UT_ENOMEM;
		if (d) {
			d->is_bundle = b != NULL;
			memcpy(d->cdhash, ni.cdhash, CS_CDHASH_LEN);
		}
	}
	cs_nested_info_release(&ni);
	if (!rc)
		rc = candidate(s, x->exec_rel, staged_exec);
	if (rc && rc != UT_EREFUSED)
		rc = ut_ctx(rc, "signing %s", x->name);
	cs_bundle_free(b);
	free(res);
	free(ents);
	free(exec_abs);
	free(bundle_abs);
	free(staged_exec);
	return rc;
}

static const char *cdhash_for(const struct ut_install *in, const char *rel, int new_one)
{
	for (size_t i = 0; i < in->nclosure; i++) {
		const struct ut_inst_comp *c = &in->closure[i];
		if (strcmp(in->app->v[c->comp].exec_rel, rel) == 0)
			return new_one ? c->new_cdhash : c->old_cdhash;
	}
	return "";
}

/*
 * Keeps the candidates whose bytes differ from the bundle's.  Each side is
 * read once: the SHA-256 and size the plan reports are also what decides
 * "same" (the bundle's path followed if it is a symlink, as it is read).
 */
static int list_changes(struct stager *s)
{
	struct ut_install *in = s->in;
	int rc = 0;
	for (size_t i = 0; !rc && i < s->rels.n; i++) {
		char *abs = ut_path_join(in->app->path, s->rels.v[i]);
		if (!abs)
			return UT_ENOMEM;
		struct stat st, target;
		int existed = lstat(abs, &st) == 0;
		int readable = existed && stat(abs, &target) == 0 && S_ISREG(target.st_mode);
		char old_sha[65] = "", new_sha[65];
		uint64_t old_size = 0, new_size = 0;
		if (readable)
			rc = ui_sha256_file(abs, old_sha, &old_size);
		if (!rc)
			rc = ui_sha256_file(s->staged.v[i], new_sha, &new_size);
		int same = readable && old_size == new_size && strcmp(old_sha, new_sha) == 0;
		if (!rc && !same) {
			struct ut_inst_file *f = ui_vec_push((void **)&in->files, &in->nfiles, &in->cap_files, sizeof(*f));
			if (!f || !(f->rel = ui_strdup(s->rels.v[i])) || !(f->staged = ui_strdup(s->staged.v[i])))
				rc = UT_ENOMEM;
			if (!rc && readable && S_ISREG(st.st_mode)) {
				memcpy(f->old_sha256, old_sha, sizeof(old_sha));
				f->old_size = old_size;
			}
			if (!rc) {
				memcpy(f->new_sha256, new_sha, sizeof(new_sha));
				f->new_size = new_size;
				f->existed = existed;
				snprintf(f->old_cdhash, sizeof(f->old_cdhash), "%s", cdhash_for(in, f->rel, 0));
				snprintf(f->new_cdhash, sizeof(f->new_cdhash), "%s", cdhash_for(in, f->rel, 1));
			}
		} else if (!rc) {
			unlink(s->staged.v[i]);
		}
		free(abs);
	}
	return rc;
}

int ui_stage_sign(struct ut_install *in)
{
	struct stager s = { .in = in };
	int rc = 0;
	for (size_t i = 0; !rc && i < in->nclosure; i++)
		rc = stage_comp(&s, &in->closure[i]);
	double t0 = ui_now();
	if (!rc)
		rc = list_changes(&s);
	in->times.hash += ui_now() - t0;
	for (size_t i = 0; i < s.ndone; i++) {
		free(s.done[i].abs);
		free(s.done[i].requirement);
	}
	free(s.done);
	ui_strv_release(&s.rels);
	ui_strv_release(&s.staged);
	return rc == UT_EREFUSED ? 0 : rc;
}
