/* test_bsign_util.c - helpers for the bundle-signing suites (see test_bsign_util.h). */
#define _GNU_SOURCE
#include "test_bsign_util.h"

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_bundle.h"
#include "cs_seal.h"
#include "cs_verify.h"
#include "mo_file.h"
#include "test_cms_util.h"
#include "tsupport.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_file.h"

struct cs_identity *bs_identity(void)
{
	struct cs_identity *id = NULL;
	int rc = cs_identity_load_p12(&id, tc_key("identity.p12"), tc_key("identity.pass"), tc_test_trust(0));
	cr_assert_eq(rc, 0, "identity.p12: %s", ut_errmsg());
	return id;
}

static int verify_exec(const char *exec, const uint8_t *info, size_t info_len, const uint8_t *res, size_t res_len,
		       const struct cs_trust *trust, int quiet)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	cr_assert_eq(ut_src_open(&src, exec), 0, "%s", ut_errmsg());
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s: %s", exec, ut_errmsg());
	struct cs_verify_opts o = { .trust = trust };
	if (info)
		o.info_plist = ut_span_make(info, info_len);
	if (res)
		o.resources = ut_span_make(res, res_len);
	struct cs_verify_result r;
	cr_assert_eq(cs_verify_file(&r, f, &o), 0, "%s: %s", exec, ut_errmsg());
	int bad = 0;
	for (unsigned i = 0; i < r.nslices; i++) {
		const struct cs_verify_slice *s = &r.slices[i];
		if (!s->valid) {
			bad++;
			if (!quiet)
				cr_expect_fail("%s %s: %s: %s", exec, s->arch, cs_problem_text(s->verdict),
				       s->nfindings ? s->findings[0].detail : "");
		}
		for (unsigned k = 0; k < s->ncd; k++) {
			/* A bundle's executable binds both; both were checked, none left unchecked. */
			uint32_t want = (info ? 1u << 1 : 0) | (res ? 1u << 3 : 0);
			if ((s->cds[k].special_ok & want) != want) {
				bad++;
				if (!quiet)
					cr_expect_fail("%s %s CD %u: slots -1/-3 not matched (ok mask 0x%x)", exec, s->arch, k,
					       s->cds[k].special_ok);
			}
		}
	}
	cs_verify_result_release(&r);
	mo_file_free(f);
	ut_src_release(&src);
	return bad;
}

char *bs_seal_findings(const char *path, size_t *n)
{
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(path, &b), 0, "%s: %s", path, ut_errmsg());
	struct cs_seal_verify_opts o = { .strict = 1, .deep = 1 };
	struct cs_seal_report rep = { 0 };
	int rc = cs_seal_verify_bundle(b, &o, "", &rep);
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	if (rc)
		fprintf(m, "error %s\n", ut_errmsg());
	for (size_t i = 0; i < rep.n; i++)
		fprintf(m, "%s %s%s%s\n", cs_seal_problem_text(rep.v[i].problem), rep.v[i].path,
			rep.v[i].detail ? ": " : "", rep.v[i].detail ? rep.v[i].detail : "");
	fclose(m);
	*n = rep.n + (rc != 0);
	cs_seal_report_release(&rep);
	cs_bundle_free(b);
	return out;
}

static int check_valid(const char *path, int is_bundle, const struct cs_trust *trust, int quiet)
{
	if (!is_bundle)
		return verify_exec(path, NULL, 0, NULL, 0, trust, quiet);
	struct cs_bundle *b = NULL;
	cr_assert_eq(cs_bundle_open(path, &b), 0, "%s: %s", path, ut_errmsg());
	cr_assert(b->exec_path, "%s: no main executable", path);
	size_t info_len = 0, res_len = 0;
	uint8_t *info = b->has_info ? ts_read(b->info_path, &info_len) : NULL;
	uint8_t *res = ts_read(b->seal_path, &res_len);
	cr_assert(res, "%s: no CodeResources", path);
	int bad = verify_exec(b->exec_path, info, info_len, res, res_len, trust, quiet);
	free(info);
	free(res);
	cs_bundle_free(b);
	size_t n = 0;
	char *f = bs_seal_findings(path, &n);
	if (!quiet)
		cr_expect_eq(n, 0, "%s: seal findings:\n%s", path, f);
	free(f);
	return bad + (int)n;
}

int bs_expect_valid(const char *path, int is_bundle, const struct cs_trust *trust)
{
	return check_valid(path, is_bundle, trust, 0);
}

int bs_count_invalid(const char *path, int is_bundle, const struct cs_trust *trust)
{
	return check_valid(path, is_bundle, trust, 1);
}

static void digest_file(const char *path, const EVP_MD *md, uint8_t *out)
{
	size_t len = 0;
	uint8_t *p = ts_read(path, &len);
	cr_assert(p, "cannot read %s", path);
	unsigned n = 0;
	cr_assert(EVP_Digest(p, len, out, &n, md, NULL));
	free(p);
}

void bs_sha1_file(const char *path, uint8_t out[20]) { digest_file(path, EVP_sha1(), out); }
void bs_sha256_file(const char *path, uint8_t out[32]) { digest_file(path, EVP_sha256(), out); }

char *bs_list_files(const char *dir)
{
	char *cmd = NULL, *out = NULL;
	cr_assert(asprintf(&cmd, "cd '%s' && find . -type f | LC_ALL=C sort", dir) > 0);
	cr_assert_eq(ts_sh(cmd, &out, NULL), 0, "%s", cmd);
	free(cmd);
	return out;
}

size_t bs_count_identical(const char *a, const char *b, size_t *total)
{
	char *list = bs_list_files(a);
	size_t same = 0;
	*total = 0;
	for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
		char *pa = NULL, *pb = NULL;
		cr_assert(asprintf(&pa, "%s/%s", a, line + 2) > 0 && asprintf(&pb, "%s/%s", b, line + 2) > 0);
		(*total)++;
		same += ts_same_file(pa, pb) == 1;
		free(pa);
		free(pb);
	}
	free(list);
	return same;
}

char *bs_demo_build(void)
{
	char *tmp = ts_tmpdir(), *cmd = NULL, *out = NULL, *err = NULL;
	cr_assert(asprintf(&cmd, "UTMPATCH='%s' sh '%s' '%s'", ts_bin(), ts_root("testdata/demo/build-demo.sh"), tmp) > 0);
	int rc = ts_sh(cmd, &out, &err);
	cr_assert_eq(rc, 0, "build-demo.sh: exit %d: %s", rc, err ? err : "");
	cr_expect(out && strstr(out, "signing: UTM.app: signed 20 components"), "build-demo.sh said: %s", out);
	free(cmd);
	free(out);
	free(err);
	char *app = NULL;
	cr_assert(asprintf(&app, "%s/UTM.app", tmp) > 0);
	free(tmp);
	return app;
}

void bs_demo_cleanup(char *app)
{
	char *slash = app ? strrchr(app, '/') : NULL;
	if (slash && !strncmp(app, "/tmp/utmpatch-test-", 19)) {
		*slash = '\0';
		ts_rmtree(app);
	}
	free(app);
}

/* The signature bytes of the slice arch (malloc'd), or NULL. */
static uint8_t *slice_sig(const char *macho, const char *arch, size_t *len)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	cr_assert_eq(ut_src_open(&src, macho), 0, "%s", ut_errmsg());
	cr_assert_eq(mo_file_parse(&src, &f), 0, "%s: %s", macho, ut_errmsg());
	uint8_t *sig = NULL;
	*len = 0;
	for (uint32_t i = 0; i < f->nslices; i++) {
		const struct mo_slice *s = &f->slices[i];
		char buf[32];
		if (strcmp(mo_arch_name(s->cputype, s->cpusubtype, buf), arch) || !s->img->has_codesig)
			continue;
		*len = s->img->codesig.size;
		sig = malloc(*len ? *len : 1);
		cr_assert_eq(mo_slice_read(f, s, s->img->codesig.off, sig, *len), 0);
	}
	mo_file_free(f);
	ut_src_release(&src);
	return sig;
}

/* The blob in slot `slot` of a SuperBlob (bounded walk), or NULL. */
static const uint8_t *find_blob(const uint8_t *sig, size_t size, uint32_t slot, uint32_t *blen)
{
	if (size < 12 || ut_be32(sig) != 0xfade0cc0u)
		return NULL;
	uint32_t count = ut_be32(sig + 8);
	if ((size - 12) / 8 < count)
		return NULL;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t type = ut_be32(sig + 12 + 8 * i), off = ut_be32(sig + 16 + 8 * i);
		if (type != slot || off > size || size - off < 8)
			continue;
		*blen = ut_be32(sig + off + 4);
		if (*blen < 8 || *blen > size - off)
			return NULL;
		return sig + off;
	}
	return NULL;
}

uint8_t *bs_entitlements_xml(const char *macho, const char *arch, size_t *len)
{
	size_t size = 0;
	uint8_t *sig = slice_sig(macho, arch, &size), *out = NULL;
	uint32_t blen = 0;
	const uint8_t *b = sig ? find_blob(sig, size, 5, &blen) : NULL;
	*len = 0;
	if (b) {
		cr_assert_eq(ut_be32(b), 0xfade7171u, "%s %s: slot 5 is not an XML entitlements blob", macho, arch);
		*len = blen - 8;
		out = malloc(*len + 1);
		memcpy(out, b + 8, *len);
		out[*len] = '\0';
	}
	free(sig);
	return out;
}

int bs_has_slot(const char *macho, uint32_t slot)
{
	int found = 0;
	for (const char *const *a = (const char *const[]){ "arm64", "x86_64", NULL }; *a; a++) {
		size_t size = 0;
		uint32_t blen;
		uint8_t *sig = slice_sig(macho, *a, &size);
		found |= sig && find_blob(sig, size, slot, &blen) != NULL;
		free(sig);
	}
	return found;
}
