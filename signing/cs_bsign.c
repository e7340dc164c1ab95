/* cs_bsign.c - sign a bundle: plan and check every component, then sign them inside-out. */
#define _POSIX_C_SOURCE 200809L
#include "cs_bsign.h"

#include <stdlib.h>
#include <string.h>

#include "cs_bsign_priv.h"
#include "cs_bundle_priv.h"
#include "cs_sign.h"
#include "mo_file.h"
#include "mo_format.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_plist.h"

void cs_bsign_report_release(struct cs_bsign_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].path);
		free(r->v[i].rel);
		free(r->v[i].requirement);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

int cs_bsign_hash_types(const char *exec_path, unsigned types[2], unsigned *n)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	int rc = mo_file_open(exec_path, &src, &f);
	if (rc)
		return rc;
	*n = cs_sign_hash_types(f, types);
	mo_file_close(&src, f);
	return 0;
}

/* ---- plan ---- */

static int check_opts(const struct cs_bsign_opts *o)
{
	const struct cs_sign_opts *s = &o->sign;
	if (s->info_plist || s->resources || s->nslot_digests || s->name || s->linker_signed)
		return ut_fail(UT_EINVAL, "bundle signing supplies the Info.plist, resources and name itself "
					  "(and never writes linker signatures)");
	if (o->nents && !o->ents)
		return ut_fail(UT_EINVAL, "%zu entitlement entries without a table", o->nents);
	for (size_t i = 0; i < o->nents; i++) {
		if (!o->ents[i].rel)
			return ut_fail(UT_EINVAL, "entitlement entry %zu names no component", i);
		if (!o->ents[i].rel[0] && s->entitlements)
			return ut_fail(UT_EINVAL, "entitlements for the bundle itself given twice");
		for (size_t k = 0; k < i; k++)
			if (!strcmp(o->ents[k].rel, o->ents[i].rel))
				return ut_fail(UT_EINVAL, "entitlements for '%s' given twice", o->ents[i].rel);
	}
	return 0;
}

/*
 * A Mach-O file worth handing to the signer: a regular file that parses.
 * types / ntypes (may be NULL) receive the digest set codesign would use for it.
 */
static int check_macho(const char *path, unsigned types[2], unsigned *ntypes)
{
	enum cs_ftype t = cs_ftype_of(path);
	if (t == CS_FT_NONE)
		return ut_fail(UT_ENOTFOUND, "main executable '%s' is missing", path);
	if (t != CS_FT_FILE)
		return ut_fail(UT_EUNSUPPORTED, "'%s' is not a regular file", path);
	if (!cs_is_macho_file(path))
		return ut_fail(UT_EUNSUPPORTED, "'%s' is not a Mach-O file", path);
	struct ut_src src;
	struct mo_file *f = NULL;
	int rc = mo_file_open(path, &src, &f);
	int opened = rc == 0;
	/* The signer's refusals that old bundles meet most, found before anything is written. */
	if (!rc && f->hidden_arm64)
		rc = ut_fail(UT_EUNSUPPORTED, "an arm64 slice is hidden after the last fat_arch entry; refusing to sign");
	for (uint32_t i = 0; !rc && f && i < f->nslices; i++) {
		const struct mo_slice *sl = &f->slices[i];
		char buf[32];
		const char *arch = mo_arch_name(sl->cputype, sl->cpusubtype, buf);
		if (sl->kind != MO_SLICE_MACHO64) {
			rc = ut_fail(UT_EUNSUPPORTED, "slice %s: only 64-bit little-endian slices can be signed (%s)", arch,
				     sl->reason ? sl->reason : "32-bit or big-endian");
			break;
		}
		uint32_t ft = sl->img->filetype;
		if (ft != MH_EXECUTE && ft != MH_DYLIB && ft != MH_BUNDLE && ft != MH_KEXT_BUNDLE && ft != MH_DYLINKER)
			rc = ut_fail(UT_EUNSUPPORTED, "slice %s: file type %s cannot be signed", arch,
				     mo_filetype_name(ft));
		for (uint32_t k = 0; !rc && k < sl->img->ncmds; k++)
			if (sl->img->lcs[k].cmd == LC_DYLIB_CODE_SIGN_DRS)
				rc = ut_fail(UT_EUNSUPPORTED,
					     "slice %s: LC_DYLIB_CODE_SIGN_DRS (library requirements) is not supported", arch);
	}
	if (!rc && types)
		*ntypes = cs_sign_hash_types(f, types);
	if (opened)
		mo_file_close(&src, f);
	return rc && opened ? ut_ctx(rc, "'%s'", path) : rc;
}

static int check_component(struct bsign_step *st)
{
	const struct cs_component *c = st->c;
	if (!c->is_bundle)
		return check_macho(c->path, NULL, NULL);
	struct cs_bundle *b = NULL;
	int rc = cs_bundle_open(c->path, &b);
	if (!rc && !b->exec_path)
		rc = ut_fail(UT_EUNSUPPORTED, "'%s': bundle without a main executable (nothing to sign)", c->path);
	if (!rc)
		rc = check_macho(b->exec_path, st->hash_types, &st->nhash);
	cs_bundle_free(b);
	return rc;
}

/* The entitlements are a plist dictionary (or already an entitlements blob, which the signer checks). */
static int check_ents(const char *rel, const uint8_t *p, size_t len)
{
	if (!p)
		return 0;
	if (len >= 8 && ut_be32(p) == CSMAGIC_EMBEDDED_ENTITLEMENTS)
		return 0;
	if (len > UT_MAX_PLIST_SIZE)
		return ut_fail(UT_EUNSUPPORTED, "entitlements for '%s': %zu bytes is too large", rel, len);
	plist_t d = NULL;
	int rc = ut_plist_parse(p, len, "entitlements", &d, NULL);
	if (!rc && plist_get_node_type(d) != PLIST_DICT)
		rc = ut_fail(UT_EMALFORMED, "entitlements are not a dictionary");
	plist_free(d);
	return rc ? ut_ctx(rc, "entitlements for '%s'", rel[0] ? rel : "the bundle") : 0;
}

/* Only the top: a one-component tree (nested code stays as it is). */
static int tree_top(struct cs_bundle_tree *t, const char *path)
{
	memset(t, 0, sizeof(*t));
	t->v = calloc(1, sizeof(*t->v));
	if (!t->v)
		return ut_fail(UT_ENOMEM, "out of memory");
	t->n = t->cap = 1;
	t->v[0].path = strdup(path);
	t->v[0].rel = strdup("");
	t->v[0].is_bundle = 1;
	t->v[0].parent = -1;
	if (!t->v[0].path || !t->v[0].rel) {
		cs_bundle_tree_release(t);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	return 0;
}

static int plan(struct bsign *s, const char *path)
{
	const struct cs_bsign_opts *o = s->o;
	int rc = o->nested ? cs_bundle_tree_build(&s->tree, path) : tree_top(&s->tree, path);
	if (rc)
		return rc;
	s->nsteps = s->tree.n;
	if (!(s->steps = calloc(s->nsteps, sizeof(*s->steps))))
		return ut_fail(UT_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->nsteps; i++) {
		struct bsign_step *st = &s->steps[i];
		st->c = &s->tree.v[i];
		st->item = -1;
		if (st->c->parent < 0 && o->sign.entitlements) {
			st->ent_given = 1;
			st->ent = o->sign.entitlements;
			st->ent_len = o->sign.entitlements_len;
		}
		if ((rc = check_component(st)) != 0)
			return rc;
	}
	for (size_t k = 0; k < o->nents; k++) {
		const struct cs_bsign_ent *e = &o->ents[k];
		size_t i = 0;
		while (i < s->nsteps && strcmp(s->steps[i].c->rel, e->rel))
			i++;
		if (i == s->nsteps)
			return ut_fail(UT_EINVAL, "entitlements given for '%s', which is not a component signed here%s",
				       e->rel, o->nested ? "" : " (nested components are signed only with nested)");
		if ((rc = check_ents(e->rel, e->data, e->len)) != 0)
			return rc;
		s->steps[i].ent_given = 1;
		s->steps[i].ent = e->data;
		s->steps[i].ent_len = e->len;
	}
	if (o->sign.entitlements)
		rc = check_ents("", o->sign.entitlements, o->sign.entitlements_len);
	return rc;
}

int cs_bsign_bundle(const char *path, const struct cs_bsign_opts *o, struct cs_bsign_report *rep)
{
	struct cs_bsign_report local;
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	if (!o || !path)
		return ut_fail(UT_EINVAL, "no bundle or options");
	struct bsign s = { .o = o, .rep = rep };
	int rc = check_opts(o);
	if (!rc)
		rc = plan(&s, path);
	for (size_t i = 0; !rc && i < s.nsteps; i++) {
		s.cur = i;
		rc = bsign_step_sign(&s, i);
		if (rc && i)
			rc = ut_fail(rc, "%s (%zu of %zu components were signed before; signing again completes the rest)",
				     ut_errmsg(), i, s.nsteps);
		if (!rc && o->progress)
			o->progress(o->progress_ctx, &rep->v[rep->n - 1], i, s.nsteps);
	}
	free(s.steps);
	cs_bundle_tree_release(&s.tree);
	if (rep == &local)
		cs_bsign_report_release(&local);
	return rc;
}
