/* cs_bsign_unit.c - sign one component: seal a bundle, write its CodeResources, sign its main executable. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_bsign_priv.h"
#include "cs_bundle_priv.h"
#include "cs_pki.h"
#include "cs_seal.h"
#include "ut_err.h"
#include "ut_file.h"

/* The parent's seal asks for nested code at rel: what this run signed, else what is on disk. */
static int nested_seal(void *ctx, const char *path, const char *rel, int is_bundle, uint8_t cdhash[CS_CDHASH_LEN],
		       char **requirement)
{
	struct bsign *s = ctx;
	for (size_t i = 0; i < s->nsteps; i++) {
		const struct bsign_step *st = &s->steps[i];
		if (st->c->parent != (long)s->cur || !st->c->seal_rel || strcmp(st->c->seal_rel, rel))
			continue;
		if (st->item < 0)
			break;
		const struct cs_bsign_item *it = &s->rep->v[st->item];
		if (it->is_bundle != is_bundle)
			return ut_fail(UT_EINVAL, "signed as %s, sealed as %s", it->is_bundle ? "a bundle" : "a file",
				       is_bundle ? "a bundle" : "a file");
		memcpy(cdhash, it->cdhash, CS_CDHASH_LEN);
		if (!(*requirement = strdup(it->requirement)))
			return ut_fail(UT_ENOMEM, "out of memory");
		return 0;
	}
	int rc = cs_seal_nested_from_disk((void *)s->o->sign.host_arch, path, rel, is_bundle, cdhash, requirement);
	if (rc && !s->o->nested)
		rc = ut_fail(rc, "%s (nested code is sealed as it is; sign with nested to sign it too)", ut_errmsg());
	return rc;
}

static int report_add(struct cs_bsign_report *r, const struct cs_component *c, struct cs_bsign_item **out)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct cs_bsign_item *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return ut_fail(UT_ENOMEM, "out of memory");
		r->v = v;
		r->cap = cap;
	}
	struct cs_bsign_item *it = &r->v[r->n];
	memset(it, 0, sizeof(*it));
	it->path = strdup(c->path);
	it->rel = strdup(c->rel);
	if (!it->path || !it->rel) {
		free(it->path);
		free(it->rel);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	it->is_bundle = c->is_bundle;
	r->n++;
	*out = it;
	return 0;
}

/*
 * _CodeSignature in the resource base (created when missing; *made says so)
 * and the temp file the main executable is signed into there: the directory
 * is excluded from every seal and on the executable's file system.
 */
static int seal_dir(const struct cs_bundle *b, int *made, char **tmp)
{
	*made = 0;
	*tmp = NULL;
	char *dir = ut_path_join(b->base, "_CodeSignature");
	if (!dir)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = 0;
	if (mkdir(dir, 0755) == 0)
		*made = 1;
	else if (errno != EEXIST)
		rc = ut_fail_errno(UT_EIO, errno, "cannot create directory '%s'", dir);
	if (!rc && cs_ftype_of(dir) != CS_FT_DIR)
		rc = ut_fail(UT_EUNSUPPORTED, "'%s' is not a directory", dir);
	if (!rc && !(*tmp = ut_path_join(dir, ".main-executable.utmpatch-signing")))
		rc = ut_fail(UT_ENOMEM, "out of memory");
	/* Left over from an interrupted run. */
	if (!rc && cs_ftype_of(*tmp) == CS_FT_FILE && unlink(*tmp) != 0)
		rc = ut_fail_errno(UT_EIO, errno, "cannot remove '%s'", *tmp);
	if (rc && *made)
		rmdir(dir);
	free(dir);
	return rc;
}

/* The options for one component's main executable. */
static void sign_opts(const struct bsign *s, const struct bsign_step *st, struct cs_sign_opts *so)
{
	*so = s->o->sign;
	int top = st->c->parent < 0;
	so->identifier = top ? s->o->sign.identifier : NULL;
	if (!top)
		so->preserve |= CS_PRESERVE_IDENTIFIER | CS_PRESERVE_ENTITLEMENTS;
	so->entitlements = NULL;
	so->entitlements_len = 0;
	if (st->ent_given) {
		so->preserve &= ~(unsigned)CS_PRESERVE_ENTITLEMENTS;
		so->entitlements = st->ent;
		so->entitlements_len = st->ent ? st->ent_len : 0;
	}
}

/*
 * What a parent seal will record, from what was just signed: the requirement
 * read back, the cdhash checked against the signer's report, and for an
 * identity the requirement checked against the one derived for it.
 */
static int record(const struct bsign *s, struct cs_bsign_item *it)
{
	struct cs_nested_info n;
	int rc = cs_nested_info_read(&n, it->path, it->is_bundle, s->o->sign.host_arch);
	if (rc)
		return ut_ctx(rc, "reading back the signature");
	int found = 0;
	for (uint32_t i = 0; i < it->sign.nslices; i++)
		found |= !memcmp(it->sign.slices[i].cdhash, n.cdhash, CS_CDHASH_LEN);
	if (!found)
		rc = ut_fail(UT_EVERIFY, "the cdhash read back is not one the signer wrote (changed while signing?)");
	if (!rc && s->o->sign.identity) {
		char *want = NULL;
		rc = cs_chain_designated_requirement(&want, cs_identity_chain(s->o->sign.identity), it->sign.identifier);
		if (!rc && strcmp(want, n.requirement))
			rc = ut_fail(UT_EVERIFY, "designated requirement read back '%s' differs from the identity's '%s'",
				     n.requirement, want);
		free(want);
	}
	if (!rc) {
		memcpy(it->cdhash, n.cdhash, CS_CDHASH_LEN);
		it->requirement = n.requirement;
		n.requirement = NULL;
	}
	cs_nested_info_release(&n);
	return rc;
}

/*
 * The seal is built in memory; the main executable is signed with it into a
 * temp file (a refusal leaves the bundle as it was); then CodeResources and
 * the executable are replaced, each atomically.
 */
static int sign_bundle(struct bsign *s, const struct bsign_step *st, struct cs_bsign_item *it)
{
	struct cs_bundle *b = NULL;
	struct cs_seal seal;
	uint8_t *res = NULL;
	size_t res_len = 0;
	char *tmp = NULL;
	int made = 0;
	cs_seal_init(&seal);
	int rc = cs_bundle_open(st->c->path, &b);
	if (!rc && !b->exec_path)
		rc = ut_fail(UT_EUNSUPPORTED, "bundle without a main executable (nothing to sign)");
	/* The seal uses the CodeDirectories' digest set (SEC prepare -> buildResources), found at planning. */
	struct cs_seal_opts so = { .hash_types = { st->hash_types[0], st->hash_types[1] }, .nhash = st->nhash,
				   .nested = nested_seal, .nested_ctx = s, .host_arch = s->o->sign.host_arch };
	if (!rc)
		rc = cs_seal_build_bundle(&seal, b, &so);
	if (!rc) {
		it->nseal = seal.files2.n;
		rc = cs_seal_serialize(&seal, &res, &res_len);
	}
	if (!rc)
		rc = seal_dir(b, &made, &tmp);
	if (!rc) {
		struct cs_sign_opts o;
		sign_opts(s, st, &o);
		o.info_plist = b->info_data;
		o.info_plist_len = b->info_len;
		o.resources = res;
		o.resources_len = res_len;
		/* The destination's name, for a canonical identifier. */
		o.name = b->exec_path;
		rc = cs_sign_file(b->exec_path, tmp, &o, &it->sign);
		if (rc && made) {
			char *dir = ut_path_join(b->base, "_CodeSignature");
			if (dir)
				rmdir(dir);
			free(dir);
		}
	}
	if (!rc)
		rc = ut_file_write_atomic(b->seal_path, res, res_len, 0644);
	if (!rc && rename(tmp, b->exec_path) != 0)
		rc = ut_fail_errno(UT_EIO, errno, "cannot rename the signed executable over '%s'", b->exec_path);
	if (!rc)
		rc = ut_fsync_parent(b->exec_path);
	if (rc && tmp)
		unlink(tmp);
	free(tmp);
	free(res);
	cs_seal_release(&seal);
	cs_bundle_free(b);
	return rc;
}

int bsign_step_sign(struct bsign *s, size_t i)
{
	struct bsign_step *st = &s->steps[i];
	struct cs_bsign_item *it = NULL;
	int rc = report_add(s->rep, st->c, &it);
	if (rc)
		return rc;
	if (st->c->is_bundle) {
		rc = sign_bundle(s, st, it);
	} else {
		struct cs_sign_opts o;
		sign_opts(s, st, &o);
		rc = cs_sign_file(st->c->path, NULL, &o, &it->sign);
	}
	if (!rc)
		rc = record(s, it);
	if (rc) {
		/* Not signed (or not recorded): drop the item. */
		free(it->path);
		free(it->rel);
		free(it->requirement);
		s->rep->n--;
		return ut_ctx(rc, "'%s'", st->c->rel[0] ? st->c->rel : st->c->path);
	}
	st->item = (long)(s->rep->n - 1);
	return 0;
}
