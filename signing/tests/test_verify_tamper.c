/*
 * test_verify_tamper.c - one changed byte in what a signature covers makes
 * verification fail, and the message names what broke: a code page, the
 * entitlements / DER entitlements / requirements blob, the CodeDirectory, the
 * CMS blob.  Real Apple-signed corpus files and lld's own signatures are the
 * untampered baselines (both verify before the change).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_format.h"
#include "cs_verify.h"
#include "tcorpus.h"
#include "test_verify_util.h"
#include "tsupport.h"
#include "ut_bytes.h"

struct tamper_case {
	const char *file;   /* corpus-relative, or "fixture:NAME" */
	const char *what;   /* how the byte is chosen (see locate) */
	long delta;         /* from the located offset */
	unsigned slice;     /* slice expected to fail */
	enum cs_problem verdict;
	const char *detail; /* substring of the first failure */
};

static uint8_t *load(const char *file, size_t *len)
{
	if (strncmp(file, "fixture:", 8) == 0)
		return tc_read_file(ts_fixture(file + 8), len);
	return tc_read_file(ts_corpus(file), len);
}

/* The offset of the first blob with this magic inside the file's last signature. */
static size_t blob_at(const uint8_t *d, size_t n, uint32_t magic)
{
	uint8_t m[4];
	ut_put_be32(m, magic);
	return tv_find(d, n, m, 4);
}

static size_t locate(const uint8_t *d, size_t n, const char *what)
{
	if (strncmp(what, "at:", 3) == 0)
		return (size_t)strtoul(what + 3, NULL, 0);
	if (strcmp(what, "entitlements") == 0)
		return tv_find(d + blob_at(d, n, CSMAGIC_EMBEDDED_ENTITLEMENTS), n, "<key>", 5) +
		       blob_at(d, n, CSMAGIC_EMBEDDED_ENTITLEMENTS) + 5;
	if (strcmp(what, "der") == 0)
		return blob_at(d, n, CSMAGIC_EMBEDDED_DER_ENTITLEMENTS) + 20;
	if (strcmp(what, "requirements") == 0)
		return blob_at(d, n, CSMAGIC_REQUIREMENTS) + 44;
	if (strcmp(what, "cd") == 0) /* the identifier, right after a 0x20200 CD's fixed header */
		return blob_at(d, n, CSMAGIC_CODEDIRECTORY) + 52;
	if (strcmp(what, "cd-nslots") == 0)
		return blob_at(d, n, CSMAGIC_CODEDIRECTORY) + 31;
	if (strcmp(what, "cms-end") == 0) { /* the signature value's last byte: the last non-zero (BER EOCs are zero) */
		size_t w = blob_at(d, n, CSMAGIC_BLOBWRAPPER), at = w + ut_be32(d + w + 4) - 1;
		while (d[at] == 0)
			at--;
		return at;
	}
	if (strncmp(what, "cms:", 4) == 0) { /* a string inside the CMS (a certificate's subject) */
		size_t w = blob_at(d, n, CSMAGIC_BLOBWRAPPER);
		return w + tv_find(d + w, n - w, what + 4, strlen(what + 4));
	}
	cr_assert_fail("unknown locator %s", what);
	return 0;
}

Test(verify_tamper, one_byte_breaks_what_it_covers, .timeout = 120)
{
	static const struct tamper_case cases[] = {
		/* code pages: thin x86_64 (sha1, Developer ID), lld's arm64 signature, one slice of a fat file */
		{ "devid/seas0npass-genpass", "at:0x1064", 0, 0, CS_PROB_MODIFIED, "code page 1 of the x86_64 slice does not match" },
		{ "fixture:arm64-exe", "at:0x2010", 0, 0, CS_PROB_MODIFIED, "code page 2 of the arm64 slice does not match" },
		{ "devid/libexpat.1.dylib", "at:0x32010", 0, 1, CS_PROB_MODIFIED, "of the x86_64 slice does not match (sha1" },
		/* special-slot inputs */
		{ "adhoc/InsecurePasswordStore-x86_64", "entitlements", 0, 0, CS_PROB_MODIFIED,
		  "the entitlements blob does not match slot -5 of the sha256 CodeDirectory" },
		{ "adhoc/InsecurePasswordStore-x86_64", "der", 0, 0, CS_PROB_MODIFIED,
		  "the DER entitlements blob does not match slot -7" },
		{ "devid/seas0npass-genpass", "requirements", 0, 0, CS_PROB_MODIFIED,
		  "the requirements blob does not match slot -2 of the sha1 CodeDirectory" },
		/* the CodeDirectory: signed (CMS no longer matches), ad-hoc (integrity) */
		{ "devid/seas0npass-genpass", "cd", 0, 0, CS_PROB_MODIFIED, "CMS signature of the x86_64 slice" },
		{ "adhoc/InsecurePasswordStore-x86_64", "cd-nslots", 0, 0, CS_PROB_FORMAT, "code slots" },
		/* the CMS blob */
		{ "apple/ls-sequoia", "cms-end", 0, 0, CS_PROB_MODIFIED, "CMS signature of the x86_64 slice" },
		{ "devid/seas0npass-genpass", "cms:Kevin Bradley", 2, 0, CS_PROB_MODIFIED, "CMS signature of the x86_64 slice" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tamper_case *c = &cases[i];
		size_t n;
		uint8_t *d = load(c->file, &n);
		struct cs_verify_result r;
		tv_verify_mem(d, n, NULL, &r);
		cr_assert(r.valid, "%s: baseline invalid", c->file);
		cs_verify_result_release(&r);
		size_t at = locate(d, n, c->what) + (size_t)c->delta;
		cr_assert_lt(at, n);
		d[at] ^= 0x01;
		tv_verify_mem(d, n, NULL, &r);
		cr_assert(!r.valid, "%s %s: still valid", c->file, c->what);
		const struct cs_verify_slice *vs = &r.slices[c->slice];
		cr_assert(!vs->valid);
		cr_assert_eq(vs->verdict, c->verdict, "%s %s: %s (%s)", c->file, c->what, cs_problem_text(vs->verdict),
			     tv_first_failure(vs));
		cr_assert(strstr(tv_first_failure(vs), c->detail), "%s %s: %s", c->file, c->what, tv_first_failure(vs));
		for (unsigned k = 0; k < r.nslices; k++)
			if (k != c->slice)
				cr_assert(r.slices[k].valid, "%s: slice %u should stay valid", c->file, k);
		cs_verify_result_release(&r);
		free(d);
	}
}

/* Both CDs of an agile signature see a changed page. */
Test(verify_tamper, every_code_directory_checks_the_pages)
{
	size_t n;
	uint8_t *d = load("devid/libexpat.1.dylib", &n);
	struct cs_verify_result r;
	d[0x32010] ^= 0x80;
	tv_verify_mem(d, n, NULL, &r);
	const struct cs_verify_slice *vs = &r.slices[1];
	cr_assert_eq(vs->ncd, 2);
	for (unsigned k = 0; k < 2; k++)
		cr_assert_eq(vs->cds[k].pages_bad, 1, "CD %u", k);
	cr_assert_eq(vs->cds[0].bad[0], vs->cds[1].bad[0]);
	cs_verify_result_release(&r);
	free(d);
}
