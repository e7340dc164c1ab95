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

#include "cs_blob.h"
#include "cs_cms.h"
#include "cs_hash.h"
#include "cs_linker.h"
#include "cs_sign_priv.h"
#include "mo_format.h"
#include "ut_err.h"

#define ULL(x) ((unsigned long long)(x))

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
static uint32_t pick_main(const struct sign_ctx *c)
{
	const char *want = c->o->host_arch ? c->o->host_arch : "arm64";
	for (uint32_t i = 0; i < c->nsl; i++)
		if (!strcmp(c->sl[i].arch, want))
			return i;
	uint32_t type = !strncmp(want, "x86_64", 6) ? CPU_TYPE_X86_64 : !strncmp(want, "arm64", 5) ? CPU_TYPE_ARM64 : 0;
	for (uint32_t i = 0; i < c->nsl; i++)
		if (c->sl[i].img->cputype == type)
			return i;
	return 0;
}

static int open_input(struct sign_ctx *c)
{
	int rc = ut_src_open(&c->src, c->in);
	if (!rc)
		rc = mo_file_parse(&c->src, &c->f);
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
	c->main = pick_main(c);
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

static int write_zeros(struct ut_atomic *a, uint64_t n)
{
	static const uint8_t zeros[16384];
	while (n) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
		int rc = ut_atomic_write(a, zeros, k);
		if (rc)
			return rc;
		n -= k;
	}
	return 0;
}

/* The CodeDirectories of one slice over its page hashes, in slot order. */
static int build_cds(const struct sign_ctx *c, const struct sign_slice *s, uint8_t *const hashes[2],
		     struct ut_buf cds[2], struct cs_cdhash cdh[2])
{
	for (unsigned i = 0; i < c->nhash; i++) {
		struct cs_special_slots ss;
		struct cs_cd_params p;
		int rc = sign_meta_cd_params(c, s, c->hash_types[i], &ss, &p);
		if (!rc) {
			p.code_hashes = hashes[i];
			rc = cs_cd_build(&cds[i], &p, NULL);
		}
		if (!rc)
			rc = cs_cdhash_compute(&cdh[i], c->hash_types[i], cds[i].p, cds[i].len);
		if (rc)
			return rc;
	}
	return 0;
}

/* codesign's SuperBlob: CDs, requirements, entitlements, CMS (ad-hoc: an empty wrapper). */
static int build_sig(const struct sign_ctx *c, const struct sign_slice *s, uint8_t *const hashes[2],
		     struct ut_buf *out, struct cs_cdhash cdh[2])
{
	struct ut_buf cds[2], cms;
	ut_buf_init(&cds[0], 0);
	ut_buf_init(&cds[1], 0);
	ut_buf_init(&cms, 0);
	int rc = build_cds(c, s, hashes, cds, cdh);
	if (!rc && c->o->identity) {
		uint8_t *der = NULL;
		size_t len = 0;
		struct cs_cms_sign_opts so = { 1, c->signing_time, NULL, NULL };
		rc = cs_cms_sign(&der, &len, c->o->identity, cds[0].p, cds[0].len, cdh, c->nhash, &so);
		if (!rc)
			rc = cs_cms_wrap(&cms, der, len);
		free(der);
	} else if (!rc) {
		rc = cs_blob_build(&cms, CSMAGIC_BLOBWRAPPER, NULL, 0);
	}
	if (!rc) {
		struct cs_blob_in in[6];
		unsigned n = 0;
		in[n++] = (struct cs_blob_in){ CSSLOT_CODEDIRECTORY, cds[0].p, cds[0].len };
		in[n++] = (struct cs_blob_in){ CSSLOT_REQUIREMENTS, c->reqs.p, c->reqs.len };
		if (s->attach_ent) {
			in[n++] = (struct cs_blob_in){ CSSLOT_ENTITLEMENTS, c->ent_xml.p, c->ent_xml.len };
			in[n++] = (struct cs_blob_in){ CSSLOT_DER_ENTITLEMENTS, c->ent_der.p, c->ent_der.len };
		}
		if (c->nhash > 1)
			in[n++] = (struct cs_blob_in){ CSSLOT_ALTERNATE_CODEDIRECTORIES, cds[1].p, cds[1].len };
		in[n++] = (struct cs_blob_in){ CSSLOT_SIGNATURESLOT, cms.p, cms.len };
		rc = cs_superblob_build(out, CSMAGIC_EMBEDDED_SIGNATURE, in, n, CS_SB_APPLE);
	}
	if (!rc && out->len > s->reserved)
		rc = ut_fail(UT_ENOSPACE, "signature of %zu bytes does not fit the %llu bytes reserved", out->len,
			     ULL(s->reserved));
	ut_buf_release(&cds[0]);
	ut_buf_release(&cds[1]);
	ut_buf_release(&cms);
	return rc;
}

static int sign_slice(const struct sign_ctx *c, struct ut_atomic *a, const struct sign_slice *s,
		      struct ut_buf *sig, struct cs_sign_slice_report *r)
{
	/* The slice as written so far is read back from the temp file for hashing. */
	struct ut_src out = { .fd = a->fd, .mem = NULL, .size = s->out_offset + s->dataoff, .name = a->tmp };
	if (c->o->linker_signed) {
		const struct mo_image *img = s->img;
		const struct mo_segment *text = img->text_seg >= 0 ? &img->segments[img->text_seg] : NULL;
		struct cs_linker_params lp = { c->identifier, s->dataoff, text ? text->fileoff : 0,
					       text ? text->filesize : 0, img->filetype == MH_EXECUTE };
		int rc = cs_linker_sig_build(&out, s->out_offset, &lp, sig);
		r->cd_version = CS_SUPPORTSEXECSEG;
		r->cd_flags = CS_ADHOC | CS_LINKER_SIGNED;
		r->hash_types[0] = CS_HASHTYPE_SHA256;
		r->nhash = 1;
		return rc;
	}
	uint64_t npages = cs_page_count(s->dataoff, s->page_shift);
	uint8_t *hashes[2] = { NULL, NULL };
	struct cs_page_hashes req[2];
	int rc = 0;
	for (unsigned i = 0; i < c->nhash && !rc; i++) {
		hashes[i] = malloc(npages ? (size_t)npages * cs_hash_size(c->hash_types[i]) : 1);
		req[i] = (struct cs_page_hashes){ c->hash_types[i], hashes[i] };
		if (!hashes[i])
			rc = ut_fail(UT_ENOMEM, "cannot allocate %llu page hashes", ULL(npages));
	}
	if (!rc)
		rc = cs_hash_pages(&out, s->out_offset, s->dataoff, s->page_shift, req, c->nhash, c->o->nthreads);
	struct cs_cdhash cdh[2];
	if (!rc)
		rc = build_sig(c, s, hashes, sig, cdh);
	if (!rc) {
		const struct cs_cdhash *best = &cdh[c->nhash - 1]; /* SHA-256 outranks SHA-1 */
		memcpy(r->cdhash, best->digest, CS_CDHASH_LEN);
		r->cd_version = ut_be32(sig->p + ut_be32(sig->p + 16) + 8);
		r->cd_flags = c->flags;
		memcpy(r->hash_types, c->hash_types, sizeof(r->hash_types));
		r->nhash = c->nhash;
	}
	free(hashes[0]);
	free(hashes[1]);
	return rc;
}

static int write_slice(const struct sign_ctx *c, struct ut_atomic *a, const struct sign_slice *s,
		       struct cs_sign_slice_report *r)
{
	const uint64_t base = s->s->offset, old = s->s->size;
	/* New header, then the input's bytes up to the signature (zero-extended to a new dataoff). */
	int rc = ut_atomic_write(a, s->hdr, s->hdr_len);
	uint64_t end = old < s->dataoff ? old : s->dataoff;
	if (!rc && end > s->hdr_len)
		rc = ut_atomic_copy(a, &c->src, base + s->hdr_len, end - s->hdr_len);
	if (!rc && s->dataoff > end)
		rc = write_zeros(a, s->dataoff - (end > s->hdr_len ? end : s->hdr_len));
	struct ut_buf sig;
	ut_buf_init(&sig, UT_MAX_SIG_SIZE);
	if (!rc)
		rc = sign_slice(c, a, s, &sig, r);
	if (!rc)
		rc = ut_atomic_write(a, sig.p, sig.len);
	/* codesign_allocate copied the whole slice: the rest of the reserved area keeps the input's bytes. */
	uint64_t pos = s->dataoff + sig.len;
	end = old < s->new_size ? old : s->new_size;
	if (!rc && end > pos) {
		rc = ut_atomic_copy(a, &c->src, base + pos, end - pos);
		pos = end;
	}
	if (!rc && s->new_size > pos)
		rc = write_zeros(a, s->new_size - pos);
	if (!rc) {
		memcpy(r->arch, s->arch, sizeof(r->arch));
		r->page_shift = c->o->linker_signed ? 12 : s->page_shift;
		r->offset = s->out_offset;
		r->size = s->new_size;
		r->sig_len = (uint32_t)sig.len;
		r->reserved = (uint32_t)s->reserved;
	}
	ut_buf_release(&sig);
	return rc ? ut_ctx(rc, "%s", s->where) : 0;
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
		rc = write_zeros(&a, c->sl[i].out_offset - pos);
		if (!rc)
			rc = write_slice(c, &a, &c->sl[i], &rep->slices[i]);
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
	mo_file_free(c->f);
	ut_src_release(&c->src);
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
