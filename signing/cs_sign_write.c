/*
 * cs_sign_write.c - one slice of the output: copy, hash, sign, append.
 *
 * The output's bytes before the signature are the new header, then the
 * input's bytes, then (for a new LC_CODE_SIGNATURE) up to 15 zeros.  While a
 * copier thread writes them to the temp file (and starts flushing them to
 * disk, so the commit's fsync has little left to do), this thread hashes the
 * same bytes: the pages holding the header and the zero tail are composed in
 * memory, the rest is read from the input (cs_hash_pages, parallel).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_blob.h"
#include "cs_cms.h"
#include "cs_hash.h"
#include "cs_sign_priv.h"
#include "cs_tsa.h"
#include "mo_format.h"
#include "ut_bytes.h"
#include "ut_err.h"

#define ULL(x) ((unsigned long long)(x))
/* Slices smaller than this are copied and hashed one after the other. */
#define OVERLAP_MIN ((uint64_t)4 << 20)
/* The copier flushes to disk after every chunk of this size (the commit's fsync then has little left). */
#define FLUSH_CHUNK ((uint64_t)8 << 20)

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/*
 * The slice's output bytes [0, dataoff): header, input, zeros.  flush: fsync
 * after every chunk, so that writing to disk overlaps the copy and the hashing.
 */
static int copy_body(const struct sign_ctx *c, struct ut_atomic *a, const struct sign_slice *s, int flush)
{
	uint64_t end = min64(s->s->size, s->dataoff);
	int rc = ut_atomic_write(a, s->hdr, s->hdr_len);
	for (uint64_t pos = s->hdr_len; !rc && pos < end;) {
		uint64_t n = flush ? min64(end - pos, FLUSH_CHUNK) : end - pos;
		rc = ut_atomic_copy(a, &c->src, s->s->offset + pos, n);
		pos += n;
		if (!rc && flush && fsync(a->fd) != 0)
			rc = ut_fail(UT_EIO, "cannot flush '%s'", a->tmp);
	}
	if (!rc)
		rc = ut_atomic_zeros(a, s->dataoff - max64(end, s->hdr_len));
	return rc;
}

struct copier {
	const struct sign_ctx *c;
	struct ut_atomic *a;
	const struct sign_slice *s;
	int rc;
	char msg[512];
};

static void *copier_run(void *arg)
{
	struct copier *k = arg;
	k->rc = copy_body(k->c, k->a, k->s, 1);
	if (k->rc)
		snprintf(k->msg, sizeof(k->msg), "%s", ut_errmsg());
	return NULL;
}

/* Output bytes [off, off + len) (< dataoff) composed from the header, the input and zeros. */
static int compose(const struct sign_ctx *c, const struct sign_slice *s, uint64_t off, size_t len, uint8_t *buf)
{
	uint64_t end = off + len;
	memset(buf, 0, len);
	if (off < s->hdr_len)
		memcpy(buf, s->hdr + off, (size_t)(min64(end, s->hdr_len) - off));
	uint64_t from = max64(off, s->hdr_len), to = min64(end, s->s->size);
	if (to > from)
		return ut_src_read(&c->src, s->s->offset + from, buf + (from - off), (size_t)(to - from));
	return 0;
}

/* Hashes pages [first, last) of the output, from memory or from the input. */
static int hash_part(const struct sign_ctx *c, const struct sign_slice *s, uint64_t first, uint64_t last,
		     int from_input, uint8_t *const hashes[2])
{
	uint64_t ps = (uint64_t)1 << s->page_shift;
	uint64_t off = first * ps, end = min64(last * ps, s->dataoff);
	if (first >= last || off >= end)
		return 0;
	struct cs_page_hashes req[2];
	for (unsigned i = 0; i < c->nhash; i++)
		req[i] = (struct cs_page_hashes){ c->hash_types[i],
						  hashes[i] + first * cs_hash_size(c->hash_types[i]) };
	if (from_input)
		return cs_hash_pages(&c->src, s->s->offset + off, end - off, s->page_shift, req, c->nhash,
				     c->o->nthreads);
	uint8_t *buf = malloc((size_t)(end - off));
	if (!buf)
		return ut_fail(UT_ENOMEM, "out of memory");
	struct ut_src mem;
	int rc = compose(c, s, off, (size_t)(end - off), buf);
	if (!rc)
		rc = ut_src_mem(&mem, buf, (size_t)(end - off), "signed header");
	if (!rc) {
		rc = cs_hash_pages(&mem, 0, end - off, s->page_shift, req, c->nhash, 1);
		ut_src_release(&mem);
	}
	free(buf);
	return rc;
}

/* Every page hash of [0, dataoff) as the output will hold it. */
static int hash_slice(const struct sign_ctx *c, const struct sign_slice *s, uint8_t *const hashes[2])
{
	uint64_t ps = (uint64_t)1 << s->page_shift;
	uint64_t n = cs_page_count(s->dataoff, s->page_shift);
	uint64_t k = min64(n, (s->hdr_len + ps - 1) / ps);             /* pages holding header bytes */
	uint64_t m = s->s->size >= s->dataoff ? n : max64(k, s->s->size / ps); /* input-only pages: [k, m) */
	int rc = hash_part(c, s, 0, k, 0, hashes);
	if (!rc)
		rc = hash_part(c, s, k, m, 1, hashes);
	if (!rc)
		rc = hash_part(c, s, m, n, 0, hashes);
	return rc;
}

/* The CodeDirectories of one slice, in slot order, and their cdhashes. */
static int build_cds(const struct sign_ctx *c, const struct sign_slice *s, uint8_t *const hashes[2],
		     struct ut_buf cds[2], struct cs_cdhash cdh[2])
{
	for (unsigned i = 0; i < c->nhash; i++) {
		int rc;
		if (c->o->linker_signed) {
			struct cs_cd_lld_params lp = { c->identifier, s->dataoff, s->exec_seg[0], s->exec_seg[1],
						       s->exec_seg[2], hashes[0] };
			rc = cs_cd_build_lld(&cds[i], &lp);
		} else {
			struct cs_special_slots ss;
			struct cs_cd_params p;
			rc = sign_meta_cd_params(c, s, c->hash_types[i], &ss, &p);
			if (!rc) {
				p.code_hashes = hashes[i];
				rc = cs_cd_build(&cds[i], &p, NULL);
			}
		}
		if (!rc)
			rc = cs_cdhash_compute(&cdh[i], c->hash_types[i], cds[i].p, cds[i].len);
		if (rc)
			return rc;
	}
	return 0;
}

/* codesign's SuperBlob (CDs, requirements, entitlements, CMS) or lld's (one CD). */
static int build_sig(const struct sign_ctx *c, const struct sign_slice *s, uint8_t *const hashes[2],
		     struct ut_buf *out, struct cs_cdhash cdh[2])
{
	struct ut_buf cds[2], cms;
	ut_buf_init(&cds[0], 0);
	ut_buf_init(&cds[1], 0);
	ut_buf_init(&cms, 0);
	int rc = build_cds(c, s, hashes, cds, cdh);
	if (!rc && c->o->linker_signed) {
		struct cs_blob_in in = { CSSLOT_CODEDIRECTORY, cds[0].p, cds[0].len };
		rc = cs_superblob_build(out, CSMAGIC_EMBEDDED_SIGNATURE, &in, 1, CS_SB_LLD);
		goto out;
	}
	if (!rc && c->o->identity) {
		uint8_t *der = NULL;
		size_t len = 0;
		struct cs_cms_sign_opts so = { 1, c->signing_time, NULL, NULL };
		if (c->o->timestamp_url) {
			so.timestamp = cs_tsa_hook;
			so.timestamp_ctx = (void *)c->o->timestamp_url;
		}
		rc = cs_cms_sign(&der, &len, c->o->identity, cds[0].p, cds[0].len, cdh, c->nhash, &so);
		if (!rc)
			rc = cs_cms_wrap(&cms, der, len);
		free(der);
	} else if (!rc) {
		rc = cs_blob_build(&cms, CSMAGIC_BLOBWRAPPER, NULL, 0); /* ad-hoc: an empty wrapper */
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
out:
	if (!rc && out->len > s->reserved)
		rc = ut_fail(UT_ENOSPACE, "signature of %zu bytes does not fit the %llu bytes reserved", out->len,
			     ULL(s->reserved));
	ut_buf_release(&cds[0]);
	ut_buf_release(&cds[1]);
	ut_buf_release(&cms);
	return rc;
}

/* Copies and hashes [0, dataoff) (overlapped for large slices), then builds the signature. */
static int body_and_sig(const struct sign_ctx *c, struct ut_atomic *a, const struct sign_slice *s,
			struct ut_buf *sig, struct cs_cdhash cdh[2])
{
	uint64_t npages = cs_page_count(s->dataoff, s->page_shift);
	uint8_t *hashes[2] = { NULL, NULL };
	int rc = 0;
	for (unsigned i = 0; i < c->nhash && !rc; i++)
		if (!(hashes[i] = malloc(npages ? (size_t)npages * cs_hash_size(c->hash_types[i]) : 1)))
			rc = ut_fail(UT_ENOMEM, "cannot allocate %llu page hashes", ULL(npages));
	struct copier k = { c, a, s, 0, "" };
	pthread_t tid;
	int threaded = 0;
	if (!rc && s->dataoff >= OVERLAP_MIN && c->o->nthreads != 1)
		threaded = pthread_create(&tid, NULL, copier_run, &k) == 0;
	if (!rc && !threaded)
		rc = copy_body(c, a, s, 0);
	int hrc = rc ? rc : hash_slice(c, s, hashes);
	if (threaded) {
		pthread_join(tid, NULL);
		if (k.rc)
			rc = ut_fail(k.rc, "%s", k.msg);
	}
	if (!rc)
		rc = hrc;
	if (!rc)
		rc = build_sig(c, s, hashes, sig, cdh);
	free(hashes[0]);
	free(hashes[1]);
	return rc;
}

int sign_write_slice(const struct sign_ctx *c, struct ut_atomic *a, const struct sign_slice *s,
		     struct cs_sign_slice_report *r)
{
	struct ut_buf sig;
	struct cs_cdhash cdh[2];
	ut_buf_init(&sig, UT_MAX_SIG_SIZE);
	int rc = body_and_sig(c, a, s, &sig, cdh);
	if (!rc)
		rc = ut_atomic_write(a, sig.p, sig.len);
	/* codesign_allocate copied the whole slice: the rest of the reserved area keeps the input's bytes. */
	uint64_t pos = s->dataoff + sig.len, end = min64(s->s->size, s->new_size);
	if (!rc && end > pos) {
		rc = ut_atomic_copy(a, &c->src, s->s->offset + pos, end - pos);
		pos = end;
	}
	if (!rc && s->new_size > pos)
		rc = ut_atomic_zeros(a, s->new_size - pos);
	if (!rc) {
		memset(r, 0, sizeof(*r));
		memcpy(r->arch, s->arch, sizeof(r->arch));
		r->cd_version = ut_be32(sig.p + ut_be32(sig.p + 16) + 8);
		r->cd_flags = ut_be32(sig.p + ut_be32(sig.p + 16) + 12);
		memcpy(r->hash_types, c->hash_types, sizeof(r->hash_types));
		r->nhash = c->nhash;
		r->page_shift = s->page_shift;
		memcpy(r->cdhash, cdh[c->nhash - 1].digest, CS_CDHASH_LEN); /* SHA-256 outranks SHA-1 */
		r->offset = s->out_offset;
		r->size = s->new_size;
		r->sig_len = (uint32_t)sig.len;
		r->reserved = (uint32_t)s->reserved;
	}
	ut_buf_release(&sig);
	return rc ? ut_ctx(rc, "%s", s->where) : 0;
}
