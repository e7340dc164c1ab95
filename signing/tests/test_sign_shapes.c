/*
 * test_sign_shapes.c - the shapes codesign-spec.md prescribes: the worked
 * ad-hoc example of §1.15b rebuilt byte for byte in this file, hash agility
 * by deployment target (§1.9), runtime version from the SDK (llvm-otool-14
 * reads it), entitlements on executables only with Apple's DER (§2.1), the
 * fat re-layout (llvm-objdump-14 reads it), 16 KiB pages on arm64 only, a
 * new LC_CODE_SIGNATURE, and the threaded path on a multi-MiB slice.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_sign.h"
#include "test_sign_util.h"
#include "tsupport.h"
#include "ut_bytes.h"
#include "ut_err.h"

static char *dir;
static void setup(void) { dir = ts_tmpdir(); }
static void teardown(void)
{
	ts_rmtree(dir);
	free(dir);
}

TestSuite(sign_shapes, .init = setup, .fini = teardown);

static const uint8_t empty_reqs_sha256[32] = { 0x98, 0x79, 0x20, 0x90, 0x4e, 0xab, 0x65, 0x0e, 0x75, 0x78, 0x8c,
					       0x05, 0x4a, 0xa0, 0xb0, 0x52, 0x4e, 0x6a, 0x80, 0xbf, 0xc7, 0x1a,
					       0xa3, 0x2d, 0xf8, 0xd2, 0x37, 0xa6, 0x17, 0x43, 0xf9, 0x86 };
static const uint8_t empty_reqs_sha1[20] = { 0x3a, 0x75, 0xf6, 0xdb, 0x05, 0x85, 0x29, 0x14, 0x8e, 0x14,
					     0xdd, 0x7e, 0xa1, 0xb4, 0x72, 0x9c, 0xc0, 0x9e, 0xc9, 0x73 };

static void put32(uint8_t *p, uint32_t v) { ut_put_be32(p, v); }

Test(sign_shapes, adhoc_thin_arm64_executable_is_the_worked_example)
{
	char *path = tsg_copy(dir, ts_fixture("arm64-exe"), "hello");
	struct tsg_file in;
	tsg_load(path, &in);
	uint32_t dataoff = in.s[0].dataoff;
	uint64_t le_fileoff = in.s[0].le_fileoff;
	char ident[64] = "hello-55554944";
	for (int i = 0; i < 16; i++)
		sprintf(ident + 14 + 2 * i, "%02x", in.s[0].uuid[i]);
	cr_assert_eq(strlen(ident), 46);
	tsg_free(&in);

	cr_assert_eq(cs_sign_file(path, NULL, NULL, NULL), 0, "%s", ut_errmsg());
	struct tsg_file f;
	tsg_load(path, &f);
	const struct tsg_slice *s = &f.s[0];
	uint32_t n = (dataoff + 4095) / 4096, cdlen = 199 + 32 * n;
	/* LC_CODE_SIGNATURE and __LINKEDIT. */
	uint32_t datasize = (12 + 3 * 8 + (cdlen + 8) + 12 + 18000 + 15) & ~15u;
	cr_assert_eq(s->dataoff, dataoff);
	cr_assert_eq(s->datasize, datasize);
	cr_assert_eq(f.len, (size_t)dataoff + datasize);
	cr_assert_eq(s->le_filesize, f.len - le_fileoff);
	cr_assert_eq(s->le_vmsize, (s->le_filesize + 0x3fff) & ~(uint64_t)0x3fff);
	/* The signature, assembled from the spec with page hashes from EVP over the signed file. */
	size_t len = 36 + cdlen + 20;
	uint8_t *want = calloc(1, len);
	put32(want, 0xfade0cc0), put32(want + 4, (uint32_t)len), put32(want + 8, 3);
	put32(want + 12, 0), put32(want + 16, 36);
	put32(want + 20, 2), put32(want + 24, 36 + cdlen);
	put32(want + 28, 0x10000), put32(want + 32, 36 + cdlen + 12);
	uint8_t *cd = want + 36;
	put32(cd, 0xfade0c02), put32(cd + 4, cdlen), put32(cd + 8, 0x20400), put32(cd + 12, 2);
	put32(cd + 16, 199), put32(cd + 20, 88), put32(cd + 24, 2), put32(cd + 28, n), put32(cd + 32, dataoff);
	cd[36] = 32, cd[37] = 2, cd[38] = 0, cd[39] = 12;
	ut_put_be64(cd + 64, 0), ut_put_be64(cd + 72, 16384), ut_put_be64(cd + 80, 1);
	memcpy(cd + 88, ident, 47);
	memcpy(cd + 135, empty_reqs_sha256, 32);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = i * 4096, k = dataoff - off < 4096 ? dataoff - off : 4096;
		tsg_digest(2, f.data + off, k, cd + 199 + 32 * i);
	}
	static const uint8_t tail[20] = { 0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 0x0c, 0, 0, 0, 0,
					  0xfa, 0xde, 0x0b, 0x01, 0, 0, 0, 0x08 };
	memcpy(want + 36 + cdlen, tail, sizeof(tail));
	cr_assert(!memcmp(f.data + dataoff, want, len), "signature differs from the worked example");
	for (size_t i = dataoff + len; i < f.len; i++)
		cr_assert_eq(f.data[i], 0, "reserved byte %zu not zero", i);
	cr_expect_eq(tsg_check(&f, TSG_CODESIGN), 1);
	free(want);
	tsg_free(&f);
	free(path);
}

/* Sets LC_BUILD_VERSION platform/minos of the slice at slice_off. */
static void patch_build_version(const char *path, size_t slice_off, uint32_t platform, uint32_t minos)
{
	size_t len;
	uint8_t *p = ts_read(path, &len);
	uint8_t *m = p + slice_off;
	uint32_t ncmds = ut_le32(m + 16), off = 32;
	int done = 0;
	for (uint32_t i = 0; i < ncmds; i++) {
		if (ut_le32(m + off) == 0x32) {
			ut_put_le32(m + off + 8, platform);
			ut_put_le32(m + off + 12, minos);
			done = 1;
		}
		off += ut_le32(m + off + 4);
	}
	cr_assert(done, "no LC_BUILD_VERSION");
	FILE *fp = fopen(path, "wb");
	cr_assert(fp && fwrite(p, 1, len, fp) == len);
	fclose(fp);
	free(p);
}

/* Number of CodeDirectories and their hash types after an ad-hoc signature. */
static unsigned hash_set(const char *path, unsigned slice, unsigned types[2])
{
	struct tsg_file f;
	tsg_load(path, &f);
	const struct tsg_blob *c0 = tsg_blob(&f.s[slice], 0), *c1 = tsg_blob(&f.s[slice], 0x1000);
	types[0] = c0 ? c0->p[37] : 0;
	types[1] = c1 ? c1->p[37] : 0;
	unsigned n = !!c0 + !!c1;
	cr_assert_eq(tsg_check(&f, TSG_CODESIGN | TSG_NO_CLI), n * f.n);
	tsg_free(&f);
	return n;
}

Test(sign_shapes, hash_agility_by_deployment_target)
{
	static const struct {
		uint32_t platform, minos;
		unsigned agile;
	} rows[] = {
		{ 1, 0x000a0b03, 1 }, /* macOS 10.11.3 */
		{ 1, 0x000a0b04, 0 }, /* macOS 10.11.4 */
		{ 2, 0x000a0300, 1 }, /* iOS 10.3 */
		{ 2, 0x000b0000, 0 }, /* iOS 11.0 */
		{ 3, 0x000a0000, 1 }, /* tvOS 10 */
		{ 4, 0x000b0000, 1 }, /* watchOS 11 */
		{ 4, 0x000c0000, 0 }, /* watchOS 12 */
		{ 7, 0x000a0000, 0 }, /* iOS simulator: not in the rule */
		{ 0, 0x000a0000, 0 }, /* unknown platform */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char name[32];
		snprintf(name, sizeof(name), "exe%zu", i);
		char *p = tsg_copy(dir, ts_fixture("arm64-exe"), name);
		patch_build_version(p, 0, rows[i].platform, rows[i].minos);
		cr_assert_eq(cs_sign_file(p, NULL, NULL, NULL), 0, "%s", ut_errmsg());
		unsigned t[2];
		unsigned n = hash_set(p, 0, t);
		cr_expect_eq(n, 1 + rows[i].agile, "row %zu", i);
		cr_expect_eq(t[0], rows[i].agile ? 1u : 2u, "row %zu: slot 0 holds SHA-1 when agile", i);
		if (rows[i].agile) {
			struct tsg_file f;
			tsg_load(p, &f);
			const struct tsg_blob *c0 = tsg_blob(&f.s[0], 0), *c1 = tsg_blob(&f.s[0], 0x1000);
			cr_expect_eq(c1->p[37], 2);
			cr_expect(!memcmp(tsg_cd_special(c0, 2), empty_reqs_sha1, 20));
			cr_expect(!memcmp(tsg_cd_special(c1, 2), empty_reqs_sha256, 32));
			tsg_free(&f);
		}
		free(p);
	}
}

/* One old slice makes every slice agile. */
Test(sign_shapes, one_old_slice_makes_the_whole_file_agile)
{
	char *p = tsg_copy(dir, ts_fixture("fat-exe"), "fat-exe");
	struct tsg_file f;
	tsg_load(p, &f);
	size_t x86 = f.s[0].cputype == 0x01000007 ? f.s[0].off : f.s[1].off;
	tsg_free(&f);
	patch_build_version(p, x86, 1, 0x000a0900);
	cr_assert_eq(cs_sign_file(p, NULL, NULL, NULL), 0, "%s", ut_errmsg());
	unsigned t[2];
	cr_expect_eq(hash_set(p, 0, t), 2);
	cr_expect_eq(hash_set(p, 1, t), 2);
	free(p);
}

/* The SDK llvm-otool-14 prints for LC_BUILD_VERSION, packed as xxxx.yy.zz. */
static uint32_t otool_sdk(const char *path)
{
	char cmd[1024], *out = NULL;
	snprintf(cmd, sizeof(cmd), "llvm-otool-14 -l '%s' | grep -A4 LC_BUILD_VERSION | awk '$1 == \"sdk\" {print $2}'",
		 path);
	cr_assert_eq(ts_sh(cmd, &out, NULL), 0);
	unsigned a = 0, b = 0, c = 0;
	cr_assert(sscanf(out, "%u.%u.%u", &a, &b, &c) >= 2, "sdk '%s'", out);
	free(out);
	return a << 16 | b << 8 | c;
}

Test(sign_shapes, runtime_version_is_the_sdk)
{
	char *p = tsg_copy(dir, ts_fixture("arm64-dylib"), "libfoo.1.dylib");
	struct cs_sign_opts o = { 0 };
	o.runtime = 1;
	struct cs_sign_report rep;
	cr_assert_eq(cs_sign_file(p, NULL, &o, &rep), 0, "%s", ut_errmsg());
	cr_expect_str_eq(rep.identifier, "libfoo.1", "a '.' in the name: no UUID suffix");
	struct tsg_file f;
	tsg_load(p, &f);
	const struct tsg_blob *cd = tsg_blob(&f.s[0], 0);
	cr_expect_eq(tsg_cd32(cd, 8), 0x20500);
	cr_expect_eq(tsg_cd32(cd, 12), 0x10002);
	cr_expect_eq(tsg_cd32(cd, 88), otool_sdk(p));
	cr_expect_eq(tsg_cd32(cd, 88), 0x000c0000);
	cr_expect_eq(tsg_cd64(cd, 80), 0, "dylib: no MAIN_BINARY");
	tsg_check(&f, TSG_CODESIGN);
	size_t bv = 0;
	for (uint32_t off = 32, i = 0; i < f.s[0].ncmds; i++, off += ut_le32(f.data + off + 4))
		if (ut_le32(f.data + off) == 0x32)
			bv = off;
	cr_assert(bv);
	/* A newer SDK: preserved runtime keeps the old CD's value, --runtime alone takes the new SDK. */
	ut_put_le32(f.data + bv + 16, 0x000d0100);
	FILE *fp = fopen(p, "wb");
	cr_assert(fp && fwrite(f.data, 1, f.len, fp) == f.len);
	fclose(fp);
	tsg_free(&f);
	struct cs_sign_opts keep = { 0 };
	keep.preserve = CS_PRESERVE_RUNTIME;
	char *q = ts_path(dir, "q");
	cr_assert_eq(cs_sign_file(p, q, &keep, NULL), 0, "%s", ut_errmsg());
	tsg_load(q, &f);
	cr_expect_eq(tsg_cd32(tsg_blob(&f.s[0], 0), 12), 0x10002, "runtime flag preserved");
	cr_expect_eq(tsg_cd32(tsg_blob(&f.s[0], 0), 88), 0x000c0000, "old runtime version preserved");
	tsg_free(&f);
	cr_assert_eq(cs_sign_file(p, q, &o, NULL), 0, "%s", ut_errmsg());
	tsg_load(q, &f);
	cr_expect_eq(tsg_cd32(tsg_blob(&f.s[0], 0), 88), otool_sdk(q));
	cr_expect_eq(tsg_cd32(tsg_blob(&f.s[0], 0), 88), 0x000d0100);
	tsg_free(&f);
	free(p);
}

Test(sign_shapes, preserved_flags_drop_adhoc_and_linker_signatures_give_nothing)
{
	char *p = tsg_copy(dir, ts_fixture("arm64-exe"), "tool");
	struct cs_sign_opts o = { 0 };
	o.flags_given = 1;
	o.flags = CS_KILL | CS_HARD | CS_RUNTIME;
	o.identifier = "org.example.tool";
	cr_assert_eq(cs_sign_file(p, NULL, &o, NULL), 0, "%s", ut_errmsg());
	struct cs_sign_opts keep = { 0 };
	keep.preserve = CS_PRESERVE_FLAGS | CS_PRESERVE_IDENTIFIER;
	struct cs_sign_report rep;
	cr_assert_eq(cs_sign_file(p, NULL, &keep, &rep), 0, "%s", ut_errmsg());
	cr_expect_str_eq(rep.identifier, "org.example.tool");
	cr_expect_eq(rep.slices[0].cd_flags, CS_KILL | CS_HARD | CS_RUNTIME | CS_ADHOC);
	/* From lld's signature nothing is inherited: the identifier is derived again. */
	char *l = tsg_copy(dir, ts_fixture("arm64-exe"), "tool2");
	cr_assert_eq(cs_sign_file(l, NULL, &keep, &rep), 0, "%s", ut_errmsg());
	cr_expect(!strncmp(rep.identifier, "tool2-55554944", 14), "%s", rep.identifier);
	cr_expect_eq(rep.slices[0].cd_flags, CS_ADHOC);
	free(p);
	free(l);
}

static const char ent_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
	"<plist version=\"1.0\">\n<dict>\n"
	"\t<key>get-task-allow</key>\n\t<true/>\n"
	"\t<key>com.apple.security.hypervisor</key>\n\t<true/>\n"
	"\t<key>dynamic-codesigning</key>\n\t<false/>\n"
	"</dict>\n</plist>\n";

/* §2.1 by hand: 70 { 02 01 01, B0 { 30 {0C key, value} ... } }, keys sorted. */
static size_t expected_der(uint8_t *out)
{
	static const char *const keys[] = { "com.apple.security.hypervisor", "dynamic-codesigning", "get-task-allow" };
	static const uint8_t vals[] = { 0xff, 0x00, 0xff };
	uint8_t dict[256];
	size_t d = 0;
	for (int i = 0; i < 3; i++) {
		size_t kl = strlen(keys[i]);
		dict[d++] = 0x30, dict[d++] = (uint8_t)(2 + kl + 3);
		dict[d++] = 0x0c, dict[d++] = (uint8_t)kl;
		memcpy(dict + d, keys[i], kl), d += kl;
		dict[d++] = 0x01, dict[d++] = 0x01, dict[d++] = vals[i];
	}
	size_t n = 0;
	out[n++] = 0x70, out[n++] = (uint8_t)(3 + 2 + d);
	out[n++] = 0x02, out[n++] = 0x01, out[n++] = 0x01;
	out[n++] = 0xb0, out[n++] = (uint8_t)d;
	memcpy(out + n, dict, d);
	return n + d;
}

Test(sign_shapes, entitlements_on_executables_only)
{
	struct cs_sign_opts o = { 0 };
	o.entitlements = (const uint8_t *)ent_xml;
	o.entitlements_len = strlen(ent_xml);
	char *exe = tsg_copy(dir, ts_fixture("arm64-exe"), "exe");
	char *lib = tsg_copy(dir, ts_fixture("arm64-dylib"), "lib");
	cr_assert_eq(cs_sign_file(exe, NULL, &o, NULL), 0, "%s", ut_errmsg());
	cr_assert_eq(cs_sign_file(lib, NULL, &o, NULL), 0, "%s", ut_errmsg());
	struct tsg_file f;
	tsg_load(exe, &f);
	const struct tsg_blob *x = tsg_blob(&f.s[0], 5), *d = tsg_blob(&f.s[0], 7), *cd = tsg_blob(&f.s[0], 0);
	cr_assert(x && d);
	cr_expect_eq(x->len, 8 + strlen(ent_xml));
	cr_expect(!memcmp(x->p + 8, ent_xml, strlen(ent_xml)), "XML payload = the file's bytes");
	uint8_t der[512];
	size_t dn = expected_der(der);
	cr_expect_eq(d->len, 8 + dn);
	cr_expect(!memcmp(d->p + 8, der, dn), "DER in Apple's form");
	cr_expect_eq(tsg_cd32(cd, 24), 7, "nSpecialSlots 7");
	cr_expect_eq(tsg_cd64(cd, 80), 0x11, "MAIN_BINARY | ALLOW_UNSIGNED (get-task-allow); false JIT stays off");
	tsg_check(&f, TSG_CODESIGN);
	tsg_free(&f);
	tsg_load(lib, &f);
	cr_expect(!tsg_blob(&f.s[0], 5) && !tsg_blob(&f.s[0], 7), "no entitlements on a dylib");
	cr_expect_eq(tsg_cd32(tsg_blob(&f.s[0], 0), 24), 2);
	cr_expect_eq(f.s[0].nblobs, 3);
	tsg_check(&f, TSG_CODESIGN);
	tsg_free(&f);
	free(exe);
	free(lib);
}

Test(sign_shapes, fat_relayout_and_page_size_16k_on_arm64_only)
{
	char *p = tsg_copy(dir, ts_fixture("fat3-exe"), "fat3-exe");
	struct cs_sign_opts o = { 0 };
	o.page_size = 16384;
	struct cs_sign_report rep;
	cr_assert_eq(cs_sign_file(p, NULL, &o, &rep), 0, "%s", ut_errmsg());
	cr_assert_eq(rep.nslices, 3);
	char cmd[1024], *out = NULL;
	snprintf(cmd, sizeof(cmd), "llvm-objdump-14 --macho --universal-headers '%s' | awk '$1 == \"offset\" || $1 == \"align\" {print $2}'",
		 p);
	cr_assert_eq(ts_sh(cmd, &out, NULL), 0);
	struct tsg_file f;
	tsg_load(p, &f);
	char want[512] = "";
	for (unsigned i = 0; i < f.n; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%llu\n2^14\n", (unsigned long long)f.s[i].off);
	cr_expect_str_eq(out, want);
	cr_expect_eq(f.s[0].off, 0x4000);
	cr_expect_eq(tsg_check(&f, TSG_CODESIGN | TSG_NO_CLI), 3);
	for (unsigned i = 0; i < f.n; i++) {
		const struct tsg_blob *cd = tsg_blob(&f.s[i], 0);
		cr_expect_eq(cd->p[39], f.s[i].cputype == 0x0100000c ? 14 : 12, "slice %u page size", i);
		cr_expect_eq(rep.slices[i].page_shift, cd->p[39]);
	}
	tsg_free(&f);
	free(out);
	snprintf(cmd, sizeof(cmd), "llvm-objdump-14 --macho --private-headers --arch all '%s' >/dev/null", p);
	cr_expect_eq(ts_sh(cmd, NULL, NULL), 0);
	free(p);
}

/* An unsigned x86_64 file with 5 trailing bytes: LC_CODE_SIGNATURE appended, dataoff 16-aligned, zeros hashed. */
Test(sign_shapes, new_code_signature_command)
{
	char *p = tsg_copy(dir, ts_fixture("x86_64-exe"), "tool");
	FILE *fp = fopen(p, "ab");
	cr_assert(fp && fwrite("12345", 1, 5, fp) == 5);
	fclose(fp);
	struct tsg_file in;
	tsg_load(p, &in);
	cr_assert(!in.s[0].has_sig);
	size_t old = in.len;
	tsg_free(&in);
	cr_assert_eq(cs_sign_file(p, NULL, NULL, NULL), 0, "%s", ut_errmsg());
	struct tsg_file f;
	tsg_load(p, &f);
	cr_expect_eq(f.s[0].dataoff, (old + 15) & ~(size_t)15);
	cr_expect_eq(f.s[0].ncmds, 18);
	cr_expect_eq(f.s[0].sizeofcmds, 1512 + 16);
	for (size_t i = old; i < f.s[0].dataoff; i++)
		cr_expect_eq(f.data[i], 0);
	cr_expect(!memcmp(f.data + old - 5, "12345", 5));
	cr_expect_eq(tsg_check(&f, TSG_CODESIGN), 1);
	tsg_free(&f);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "llvm-otool-14 -l '%s' | grep -q LC_CODE_SIGNATURE", p);
	cr_expect_eq(ts_sh(cmd, NULL, NULL), 0);
	free(p);
}

/* A slice over 4 MiB takes the threaded copy-and-hash path; one thread gives the same bytes. */
Test(sign_shapes, threaded_and_sequential_paths_agree, .timeout = 120)
{
	char *big = ts_path(dir, "big.dylib"), cmd[1024];
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s' 12 >/dev/null", ts_root("testdata/recipes/build-big.sh"), big);
	cr_assert_eq(ts_sh(cmd, NULL, NULL), 0, "%s", cmd);
	char *a = ts_path(dir, "a.dylib"), *b = ts_path(dir, "b.dylib");
	struct cs_sign_opts o = { 0 };
	o.runtime = 1;
	o.name = "big.dylib"; /* the same identifier for both outputs */
	cr_assert_eq(cs_sign_file(big, a, &o, NULL), 0, "%s", ut_errmsg());
	o.nthreads = 1;
	cr_assert_eq(cs_sign_file(big, b, &o, NULL), 0, "%s", ut_errmsg());
	cr_expect(ts_same_file(a, b));
	struct tsg_file f;
	tsg_load(a, &f);
	cr_assert(f.s[1].dataoff > (4u << 20));
	cr_expect_eq(tsg_check(&f, TSG_CODESIGN), 2);
	tsg_free(&f);
}
