/*
 * cs_sign.c - signing a Mach-O file: plan every slice, then stream the output
 * to a temp file, hash each slice as written, append its signature, rename.
 */
#include "cs_sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cs_sign_priv.h"
#include "mo_format.h"
#include "ut_err.h"

static int check_opts(const struct cs_sign_opts *o)
{
	if (!o->linker_signed)
		return 0;
	if (o->identity || o->entitlements || o->info_plist || o->resources || o->nslot_digests || o->preserve ||
	    o->flags_given || o->runtime || (o->page_size && o->page_size != 4096))
		return ut_fail(UT_EINVAL, "a linker signature takes only an identifier (no identity, entitlements, "
					  "Info.plist, resources, flags, runtime, preserved metadata or 16 KiB pages)");
	return 0;
}

/* The slice the signing host would pick: host_arch by name, else the same CPU type, else the first. */
static int open_input(struct sign_ctx *c)
{
	int rc = mo_file_open(c->in, &c->src, &c->f);
	if (rc)
		return rc;
	if (c->f->hidden_arm64)
		return ut_fail(UT_EUNSUPPORTED,
			       "'%s': an arm64 slice is hidden after the last fat_arch entry; refusing to sign", c->in);
	c->nsl = c->f->nslices;
	c->sl = calloc(c->nsl ? c->nsl : 1, sizeof(*c->sl));
	if (!c->sl)
		return ut_fail(UT_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < c->nsl; i++) {
		struct sign_slice *s = &c->sl[i];
		s->s = &c->f->slices[i];
		char buf[32];
		snprintf(s->arch, sizeof(s->arch), "%s", mo_arch_name(s->s->cputype, s->s->cpusubtype, buf));
		snprintf(s->where, sizeof(s->where), "'%s': slice %s", c->in, s->arch);
		if (s->s->kind != MO_SLICE_MACHO64)
			return ut_fail(UT_EUNSUPPORTED, "%s: %s slices are not supported", s->where,
				       s->s->reason ? s->s->reason : "32-bit or big-endian");
		s->img = s->s->img;
	}
	c->main = (uint32_t)(mo_file_host_slice(c->f, c->o->host_arch) - c->f->slices);
	return 0;
}

static int plan(struct sign_ctx *c)
{
	int rc = sign_meta_load_old(c);
	if (!rc)
		rc = sign_meta_decide(c);
	for (uint32_t i = 0; !rc && i < c->nsl; i++) {
		struct sign_slice *s = &c->sl[i];
		rc = sign_layout_check(c, s);
		if (!rc)
			rc = sign_meta_slice(c, s);
		if (!rc)
			rc = c->o->linker_signed ? sign_layout_reserve_linker(c, s) : sign_layout_reserve(c, s);
		if (!rc)
			rc = sign_layout_header(c, s);
	}
	if (!rc)
		rc = sign_layout_file(c);
	return rc;
}

static int write_file(const struct sign_ctx *c, struct cs_sign_report *rep)
{
	struct stat st;
	int mode = fstat(c->src.fd, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
	struct ut_atomic a;
	int rc = ut_atomic_open(&a, c->dst, mode);
	if (rc)
		return rc;
	struct ut_buf fh;
	ut_buf_init(&fh, 0);
	rc = sign_layout_fat_header(c, &fh);
	if (!rc)
		rc = ut_atomic_write(&a, fh.p, fh.len);
	uint64_t pos = fh.len;
	ut_buf_release(&fh);
	for (uint32_t i = 0; !rc && i < c->nsl; i++) {
		rc = ut_atomic_zeros(&a, c->sl[i].out_offset - pos);
		if (!rc)
			rc = sign_write_slice(c, &a, &c->sl[i], &rep->slices[i]);
		pos = c->sl[i].out_offset + c->sl[i].new_size;
	}
	if (rc) {
		ut_atomic_abort(&a);
		return rc;
	}
	return ut_atomic_commit(&a);
}

static void ctx_release(struct sign_ctx *c)
{
	for (uint32_t i = 0; c->sl && i < c->nsl; i++) {
		free(c->sl[i].old_sig);
		free(c->sl[i].hdr);
	}
	free(c->sl);
	free(c->info);
	ut_buf_release(&c->ent_xml);
	ut_buf_release(&c->ent_der);
	ut_buf_release(&c->reqs);
	mo_file_close(&c->src, c->f);
}

int cs_sign_file(const char *in, const char *out, const struct cs_sign_opts *opts, struct cs_sign_report *rep)
{
	static const struct cs_sign_opts none;
	struct cs_sign_report local;
	struct sign_ctx c;
	memset(&c, 0, sizeof(c));
	c.src.fd = -1;
	c.o = opts ? opts : &none;
	c.in = in;
	c.dst = out ? out : in;
	c.signing_time = c.o->signing_time ? c.o->signing_time : (int64_t)time(NULL);
	ut_buf_init(&c.ent_xml, UT_MAX_PLIST_SIZE + CS_BLOB_HEADER_SIZE);
	ut_buf_init(&c.ent_der, UT_MAX_PLIST_SIZE + CS_BLOB_HEADER_SIZE);
	ut_buf_init(&c.reqs, 0);
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	int rc = check_opts(c.o);
	if (rc)
		rc = ut_ctx(rc, "'%s'", in);
	if (!rc)
		rc = open_input(&c);
	if (!rc)
		rc = plan(&c);
	if (!rc)
		rc = write_file(&c, rep);
	if (!rc) {
		memcpy(rep->identifier, c.identifier, sizeof(rep->identifier));
		memcpy(rep->team_id, c.team_id, sizeof(rep->team_id));
		rep->nslices = c.nsl;
	}
	ctx_release(&c);
	return rc;
}
