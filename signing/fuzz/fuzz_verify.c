/*
 * fuzz_verify.c - libFuzzer target: Mach-O bytes in, every slice verified
 * (cs_verify_file) and described for audit (cs_audit_slice), plus the
 * embedded-signature loader on each slice.  Inputs
 * that are not a Mach-O are used as the signature area of a small synthetic
 * arm64 executable (one page of __TEXT, __LINKEDIT = the input, LC_CODE_SIGNATURE
 * over all of it), so that SuperBlob seeds reach the whole verifier.
 * Invariants: the verifier never fails on bad signature data (only on a bad
 * Mach-O); a slice is valid exactly when it has no failure finding; a valid
 * slice has a signer kind; findings stay within their bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs_embedded.h"
#include "cs_verify.h"
#include "cs_verify_audit.h"
#include "mo_file.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAGE 4096u
#define NCMDS 3u
#define CMDS (72u + 72u + 16u)

static void segment(uint8_t *c, const char *name, uint64_t vmaddr, uint64_t vmsize, uint64_t off, uint64_t size)
{
	ut_put_le32(c, 0x19); /* LC_SEGMENT_64 */
	ut_put_le32(c + 4, 72);
	memcpy(c + 8, name, strlen(name));
	ut_put_le64(c + 24, vmaddr);
	ut_put_le64(c + 32, vmsize);
	ut_put_le64(c + 40, off);
	ut_put_le64(c + 48, size);
	ut_put_le32(c + 56, 5);
	ut_put_le32(c + 60, 5);
}

/* header, __TEXT (page 0), __LINKEDIT (the signature), LC_CODE_SIGNATURE */
static uint8_t *synthesize(const uint8_t *sig, size_t len, size_t *out_len)
{
	size_t n = PAGE + len;
	uint8_t *m = calloc(1, n);
	if (!m)
		return NULL;
	ut_put_le32(m, 0xfeedfacf);
	ut_put_le32(m + 4, 0x0100000c);
	ut_put_le32(m + 12, 2);
	ut_put_le32(m + 16, NCMDS);
	ut_put_le32(m + 20, CMDS);
	segment(m + 32, "__TEXT", 0x100000000ull, PAGE, 0, PAGE);
	segment(m + 32 + 72, "__LINKEDIT", 0x100000000ull + PAGE, (len + 0x3fff) & ~(size_t)0x3fff, PAGE, len);
	uint8_t *cs = m + 32 + 144;
	ut_put_le32(cs, 0x1d);
	ut_put_le32(cs + 4, 16);
	ut_put_le32(cs + 8, PAGE);
	ut_put_le32(cs + 12, (uint32_t)len);
	memcpy(m + PAGE, sig, len);
	*out_len = n;
	return m;
}

static void check(const struct ut_src *src)
{
	struct mo_file *f = NULL;
	if (mo_file_parse(src, &f) != 0)
		return;
	struct cs_verify_opts o = { .nthreads = 1 };
	struct cs_verify_result r;
	int rc = cs_verify_file(&r, f, &o);
	if (rc == 0) {
		for (unsigned i = 0; i < r.nslices; i++) {
			const struct cs_verify_slice *vs = &r.slices[i];
			int failures = 0;
			for (unsigned k = 0; k < vs->nfindings; k++)
				failures += vs->findings[k].problem != CS_PROB_NOTE;
			if (vs->nfindings > CS_VERIFY_MAX_FINDINGS || vs->valid != (failures == 0 && vs->dropped == 0) ||
			    (vs->valid && (vs->kind == CS_VK_UNSIGNED || vs->kind == CS_VK_UNREADABLE ||
					   vs->kind == CS_VK_NO_SIGNER || vs->kind == CS_VK_CERT_UNVERIFIED)) ||
			    vs->ncd > CS_EMB_MAX_CD)
				abort();
			struct cs_audit_slice a;
			int arc = cs_audit_slice(&a, f, &f->slices[i], vs, ut_span_make(NULL, 0));
			if (arc == 0 && a.has_signature && (a.ncd != vs->ncd || strlen(a.cdhash) != 40))
				abort();
			cs_audit_slice_release(&a);
		}
	} else if (rc != UT_EMALFORMED && rc != UT_EUNSUPPORTED && rc != UT_ENOMEM) {
		abort(); /* bad signature data must become a finding, not an error */
	}
	cs_verify_result_release(&r);
	for (uint32_t i = 0; i < f->nslices; i++) {
		struct cs_slice_layout lay;
		struct cs_embedded e;
		if (cs_slice_layout_read(&lay, f, &f->slices[i]) != 0)
			continue;
		if (cs_embedded_load(&e, f, &f->slices[i], &lay) == 0) {
			struct cs_cdhash h[CS_EMB_MAX_CD];
			if (cs_embedded_cdhashes(&e, h) != e.ncd || !cs_embedded_primary(&e) || !cs_embedded_best(&e))
				abort();
			cs_embedded_release(&e);
		}
	}
	mo_file_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ut_src src;
	uint32_t magic = size >= 4 ? ut_be32(data) : 0;
	int is_macho = magic == 0xcafebabe || magic == 0xcafebabf || magic == 0xcffaedfe || magic == 0xcefaedfe ||
		       magic == 0xfeedface || magic == 0xfeedfacf;
	if (is_macho) {
		if (ut_src_mem(&src, data, size, "fuzz") == 0) {
			check(&src);
			ut_src_release(&src);
		}
		return 0;
	}
	size_t n = 0;
	uint8_t *m = synthesize(data, size, &n);
	if (m && ut_src_mem(&src, m, n, "fuzz-synthetic") == 0) {
		check(&src);
		ut_src_release(&src);
	}
	free(m);
	return 0;
}
