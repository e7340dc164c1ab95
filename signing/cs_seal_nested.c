/* cs_seal_nested.c - what a seal records for nested code, read from the code's embedded signature. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_embedded.h"
#include "cs_req.h"
#include "cs_seal.h"
#include "mo_file.h"
#include "ut_buf.h"
#include "ut_err.h"
#include "ut_file.h"

void cs_nested_info_release(struct cs_nested_info *n)
{
	if (!n)
		return;
	free(n->requirement);
	memset(n, 0, sizeof(*n));
}

/* CPU types by arch name, for "the first slice of the same CPU type". */
/* The designated requirement (type 3) of a requirement set blob as text; *out NULL when the set has none. */
static int dr_text(const struct cs_blob *reqs, char **out)
{
	*out = NULL;
	if (!reqs->p)
		return 0;
	struct cs_req_set set;
	int rc = cs_req_set_parse(&set, reqs->p, reqs->length);
	if (rc)
		return ut_ctx(rc, "requirements");
	for (uint32_t i = 0; i < set.count; i++) {
		if (set.entries[i].type != kSecDesignatedRequirementType)
			continue;
		struct ut_buf b;
		ut_buf_init(&b, 1u << 20);
		rc = cs_req_text(set.entries[i].blob.p, set.entries[i].blob.length, &b);
		if (rc) {
			ut_buf_release(&b);
			return ut_ctx(rc, "designated requirement");
		}
		size_t len;
		*out = (char *)ut_buf_detach(&b, &len);
		return 0;
	}
	return 0;
}

static int adhoc_requirement(const struct cs_nested_info *n, char **out)
{
	struct ut_buf b;
	ut_buf_init(&b, 1u << 20);
	int rc = 0;
	for (unsigned i = 0; i < n->ncdhashes && !rc; i++) {
		char hex[2 * CS_CDHASH_LEN + 1];
		ut_hex(hex, n->cdhashes[i], CS_CDHASH_LEN);
		rc = ut_buf_printf(&b, "%scdhash H\"%s\"", i ? " or " : "", hex);
	}
	if (!rc)
		rc = ut_buf_cstr(&b);
	if (rc) {
		ut_buf_release(&b);
		return rc;
	}
	size_t len;
	*out = (char *)ut_buf_detach(&b, &len);
	return 0;
}

/* Adds the cdhashes of one slice (CodeDirectories in slot order); fills host fields when is_host. */
static int read_slice(struct cs_nested_info *out, const struct mo_file *f, const struct mo_slice *s, int is_host)
{
	struct cs_slice_layout lay;
	struct cs_embedded e;
	char arch[32];
	int rc = cs_slice_layout_read(&lay, f, s);
	if (!rc)
		rc = cs_embedded_load(&e, f, s, &lay);
	if (rc)
		return ut_ctx(rc, "slice %s", mo_arch_name(s->cputype, s->cpusubtype, arch));
	for (unsigned i = 0; i < e.ncd && !rc; i++) {
		if (out->ncdhashes >= CS_NESTED_MAX_CDHASHES)
			rc = ut_fail(UT_EUNSUPPORTED, "more than %d code directories", CS_NESTED_MAX_CDHASHES);
		else
			memcpy(out->cdhashes[out->ncdhashes++], e.cds[i].cdhash.digest, CS_CDHASH_LEN);
	}
	if (!rc && is_host) {
		const struct cs_embedded_cd *best = cs_embedded_best(&e);
		memcpy(out->cdhash, best->cdhash.digest, CS_CDHASH_LEN);
		out->adhoc = (best->cd.flags & CS_ADHOC) != 0;
		rc = dr_text(&e.requirements, &out->requirement);
		if (rc)
			rc = ut_ctx(rc, "slice %s", mo_arch_name(s->cputype, s->cpusubtype, arch));
	}
	cs_embedded_release(&e);
	return rc;
}

static int read_exec(struct cs_nested_info *out, const char *exec, const char *host_arch)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	int rc = mo_file_open(exec, &src, &f);
	if (rc)
		return rc;
	uint32_t host = (uint32_t)(mo_file_host_slice(f, host_arch) - f->slices);
	rc = read_slice(out, f, &f->slices[host], 1);
	/* The other slices by cputype (SEC: a std::set of architectures). */
	uint32_t last = 0;
	for (int first = 1; !rc;) {
		uint32_t pick = UINT32_MAX;
		for (uint32_t i = 0; i < f->nslices; i++) {
			uint32_t ct = f->slices[i].cputype;
			if (i == host || (!first && ct <= last))
				continue;
			if (pick == UINT32_MAX || ct < f->slices[pick].cputype)
				pick = i;
		}
		if (pick == UINT32_MAX)
			break;
		/* Slices sharing a cputype keep file order. */
		last = f->slices[pick].cputype;
		first = 0;
		for (uint32_t i = 0; i < f->nslices && !rc; i++)
			if (i != host && f->slices[i].cputype == last)
				rc = read_slice(out, f, &f->slices[i], 0);
	}
	if (!rc && !out->requirement) {
		if (out->adhoc)
			rc = adhoc_requirement(out, &out->requirement);
		else
			rc = ut_fail(UT_EUNSUPPORTED,
				     "signed code without an explicit designated requirement (deriving one is not supported)");
	}
	mo_file_close(&src, f);
	return rc;
}

int cs_nested_info_read(struct cs_nested_info *out, const char *path, int is_bundle, const char *host_arch)
{
	memset(out, 0, sizeof(*out));
	int rc;
	if (is_bundle) {
		struct cs_bundle *b = NULL;
		if ((rc = cs_bundle_open(path, &b)) != 0)
			return rc;
		if (!b->exec_path)
			rc = ut_fail(UT_EUNSUPPORTED, "'%s': bundle without a main executable", path);
		else
			rc = read_exec(out, b->exec_path, host_arch);
		cs_bundle_free(b);
	} else {
		rc = read_exec(out, path, host_arch);
	}
	if (rc) {
		cs_nested_info_release(out);
		return ut_ctx(rc, "'%s'", path);
	}
	return 0;
}

int cs_seal_nested_from_disk(void *ctx, const char *path, const char *rel, int is_bundle,
			     uint8_t cdhash[CS_CDHASH_LEN], char **requirement)
{
	struct cs_nested_info n;
	int rc = cs_nested_info_read(&n, path, is_bundle, (const char *)ctx);
	if (rc)
		return rc;
	memcpy(cdhash, n.cdhash, CS_CDHASH_LEN);
	*requirement = n.requirement;
	n.requirement = NULL;
	cs_nested_info_release(&n);
	return 0;
}
