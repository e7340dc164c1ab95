/*
 * test_cd.c - CodeDirectory and SuperBlob against real signatures: Apple's
 * files in the corpus (page hashes, special slots, byte-identical rebuilds,
 * cdhashes from the CMS attribute), lld's output, and sizes codesign printed.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_blob.h"
#include "cs_cd.h"
#include "cs_hash.h"
#include "cs_linker.h"
#include "mo_format.h"
#include "tcorpus.h"
#include "tsupport.h"
#include "ut_err.h"
#include "ut_plist.h"

/* Page mismatches the corpus manifest records (files edited after signing). */
static int known_bad_page(const char *path, uint32_t page)
{
	if (strstr(path, "odd/r2_hang_test-adhoc-page2-mismatch"))
		return page == 2;
	if (strstr(path, "odd/TestMacOS-arm64e-modified-after-signing"))
		return page == 0 || page == 12 || page == 13;
	return 0;
}

/* Calls fn for every CodeDirectory of every signed corpus slice. */
static void each_cd(void (*fn)(const struct tc_file *, const struct tc_slice *, const struct cs_superblob *,
			       const struct cs_blob_entry *, const struct cs_cd *, void *),
		    void *ctx)
{
	unsigned ncd = 0;
	for (const char *const *rel = tc_signed(); *rel; rel++) {
		struct tc_file f;
		tc_load(*rel, &f);
		cr_assert_gt(f.nslices, 0, "%s: no signature", *rel);
		for (unsigned i = 0; i < f.nslices; i++) {
			struct cs_superblob sb;
			const struct tc_slice *s = &f.s[i];
			cr_assert_eq(cs_superblob_parse(&sb, s->sig, s->sig_size, CSMAGIC_EMBEDDED_SIGNATURE), 0, "%s: %s",
				     *rel, ut_errmsg());
			for (uint32_t k = 0; k < sb.count; k++) {
				const struct cs_blob_entry *e = &sb.entries[k];
				if (!cs_slot_is_cd(e->type))
					continue;
				struct cs_cd cd;
				cr_assert_eq(cs_cd_parse(&cd, e->blob.p, e->blob.length), 0, "%s slot 0x%x: %s", *rel,
					     e->type, ut_errmsg());
				fn(&f, s, &sb, e, &cd, ctx);
				ncd++;
			}
		}
		tc_release(&f);
	}
	cr_assert_geq(ncd, 30);
}

static void check_pages(const struct tc_file *f, const struct tc_slice *s, const struct cs_superblob *sb,
			const struct cs_blob_entry *e, const struct cs_cd *cd, void *ctx)
{
	struct ut_src *src = ctx;
	cr_assert_eq(ut_src_open(src, f->path), 0);
	uint64_t limit = cs_cd_code_limit(cd);
	uint8_t *h = malloc((size_t)cd->n_code_slots * cd->hash_size);
	struct cs_page_hashes r = { cd->hash_type, h };
	cr_assert_eq(cs_hash_pages(src, s->slice_off, limit, cd->page_size, &r, 1, 0), 0, "%s: %s", f->path,
		     ut_errmsg());
	for (uint32_t p = 0; p < cd->n_code_slots; p++) {
		int same = memcmp(h + (size_t)p * cd->hash_size, cs_cd_code_slot(cd, p), cd->hash_size) == 0;
		cr_assert_eq(same, !known_bad_page(f->path, p), "%s slot 0x%x page %u", f->path, e->type, p);
	}
	free(h);
	ut_src_release(src);
}

Test(cs_cd, corpus_page_hashes_match_apple)
{
	struct ut_src src;
	each_cd(check_pages, &src);
}

/* Info.plist and CodeResources of the corpus bundles, for special slots 1 and 3. */
static const char *bundle_file(const char *exe, int slot)
{
	static char buf[1024];
	const char *cut = strstr(exe, "/Contents/MacOS/");
	const char *ver = strstr(exe, "/Versions/A/");
	if (cut) {
		snprintf(buf, sizeof(buf), "%.*s/Contents/%s", (int)(cut - exe), exe,
			 slot == 1 ? "Info.plist" : "_CodeSignature/CodeResources");
		return buf;
	}
	if (ver && strchr(ver + 12, '/') == NULL) {
		snprintf(buf, sizeof(buf), "%.*s/Versions/A/%s", (int)(ver - exe), exe,
			 slot == 1 ? "Resources/Info.plist" : "_CodeSignature/CodeResources");
		return buf;
	}
	return NULL;
}

static void check_special(const struct tc_file *f, const struct tc_slice *s, const struct cs_superblob *sb,
			  const struct cs_blob_entry *e, const struct cs_cd *cd, void *ctx)
{
	struct ut_span in[CS_SPECIAL_SLOT_MAX + 1];
	uint8_t *files[4] = { 0 };
	unsigned *checked = ctx;
	memset(in, 0, sizeof(in));
	const uint32_t blob_slots[] = { CSSLOT_REQUIREMENTS, CSSLOT_ENTITLEMENTS, CSSLOT_DER_ENTITLEMENTS };
	for (int i = 0; i < 3; i++) {
		const struct cs_blob_entry *b = cs_superblob_find(sb, blob_slots[i]);
		if (b)
			in[blob_slots[i]] = ut_span_make(b->blob.p, b->blob.length);
	}
	/* Info.plist and CodeResources bind only the bundle's main executable (CFBundleExecutable). */
	const char *info = bundle_file(f->path, 1);
	plist_t ip = NULL;
	int main_exe = 0;
	if (info && ts_exists(info) && ut_plist_read_file(info, &ip, NULL) == 0) {
		const char *exe = ut_plist_dict_str(ip, "CFBundleExecutable");
		const char *base = strrchr(f->path, '/');
		main_exe = exe && base && strcmp(base + 1, exe) == 0;
		plist_free(ip);
	}
	for (int slot = 1; slot <= 3 && main_exe; slot += 2) {
		const char *p = bundle_file(f->path, slot);
		size_t n = 0;
		if (p && ts_exists(p)) {
			files[slot] = tc_read_file(p, &n);
			in[slot] = ut_span_make(files[slot], n);
		}
	}
	struct cs_special_slots ss;
	cr_assert_eq(cs_special_slots_compute(&ss, cd->hash_type, in), 0);
	for (unsigned k = 1; k <= CS_SPECIAL_SLOT_MAX; k++) {
		if (!in[k].p) {
			/* No blob for a slot that blobs fill: the CD must mark it absent. */
			if (k == CSSLOT_ENTITLEMENTS || k == CSSLOT_DER_ENTITLEMENTS || k == CSSLOT_REQUIREMENTS)
				cr_assert(!cs_cd_special_present(cd, k), "%s: slot -%u present without its blob", f->path, k);
			continue;
		}
		cr_assert_leq(k, cd->n_special_slots, "%s: slot -%u beyond nSpecialSlots", f->path, k);
		cr_assert(memcmp(ss.hash[k], cs_cd_special_slot(cd, k), cd->hash_size) == 0, "%s slot 0x%x: special -%u",
			  f->path, e->type, k);
		(*checked)++;
		*checked += (k == 1 || k == 3) * 1000;
	}
	free(files[1]);
	free(files[3]);
}

Test(cs_cd, corpus_special_slots_match_apple)
{
	unsigned checked = 0;
	each_cd(check_special, &checked);
	cr_assert_geq(checked % 1000, 40);
	cr_assert_geq(checked / 1000, 8, "Info.plist / CodeResources slots checked: %u", checked / 1000);
}

static void check_rebuild(const struct tc_file *f, const struct tc_slice *s, const struct cs_superblob *sb,
			  const struct cs_blob_entry *e, const struct cs_cd *cd, void *ctx)
{
	struct cs_special_slots ss = { .hash_type = cd->hash_type, .count = cd->n_special_slots };
	for (unsigned k = 1; k <= cd->n_special_slots; k++)
		memcpy(ss.hash[k], cs_cd_special_slot(cd, k), cd->hash_size);
	struct cs_cd_params p = {
		.flags = cd->flags, .hash_type = cd->hash_type, .platform = cd->platform, .page_shift = cd->page_size,
		.identifier = cd->identifier, .team_id = cd->team_id, .code_limit = cs_cd_code_limit(cd),
		.exec_seg_base = cd->exec_seg_base, .exec_seg_limit = cd->exec_seg_limit,
		.exec_seg_flags = cd->exec_seg_flags, .runtime = cd->runtime, .special = &ss, .code_hashes = cd->hashes,
	};
	/* codesign picks the version; the one ldid-style file forces its own. */
	if (strstr(f->path, "ls-ios-cd20001"))
		p.version = cd->version;
	else
		cr_assert_eq(cs_cd_pick_version(&p), cd->version, "%s: version", f->path);
	struct ut_buf b;
	struct cs_cd_layout l;
	ut_buf_init(&b, 0);
	cr_assert_eq(cs_cd_build(&b, &p, &l), 0, "%s: %s", f->path, ut_errmsg());
	cr_assert_eq(b.len, cd->length, "%s slot 0x%x: %zu vs %u bytes", f->path, e->type, b.len, cd->length);
	cr_assert(memcmp(b.p, cd->blob, b.len) == 0, "%s slot 0x%x: bytes differ", f->path, e->type);
	cr_assert_eq(cs_cd_size(&p, 0), cd->length);
	ut_buf_release(&b);
	(*(unsigned *)ctx)++;
}

Test(cs_cd, corpus_rebuild_byte_identical)
{
	unsigned n = 0;
	each_cd(check_rebuild, &n);
}

Test(cs_blob, corpus_superblob_rebuild_byte_identical)
{
	for (const char *const *rel = tc_signed(); *rel; rel++) {
		struct tc_file f;
		tc_load(*rel, &f);
		for (unsigned i = 0; i < f.nslices; i++) {
			struct cs_superblob sb;
			struct cs_blob_in in[UT_MAX_BLOBS];
			cr_assert_eq(cs_superblob_parse(&sb, f.s[i].sig, f.s[i].sig_size, CSMAGIC_EMBEDDED_SIGNATURE), 0);
			uint64_t total = 0;
			for (uint32_t k = 0; k < sb.count; k++) {
				in[k] = (struct cs_blob_in){ sb.entries[k].type, sb.entries[k].blob.p, sb.entries[k].blob.length };
				total += sb.entries[k].blob.length;
			}
			struct ut_buf b;
			ut_buf_init(&b, 0);
			cr_assert_eq(cs_superblob_build(&b, CSMAGIC_EMBEDDED_SIGNATURE, in, sb.count, CS_SB_APPLE), 0);
			cr_assert_eq(b.len, sb.length, "%s", *rel);
			cr_assert_eq(cs_superblob_size(sb.count, total), sb.length);
			cr_assert(memcmp(b.p, f.s[i].sig, b.len) == 0, "%s: superblob bytes differ", *rel);
			/* The rest of the reserved area is zero (codesign's padding). */
			for (uint64_t z = sb.length; z < f.s[i].sig_size; z++)
				cr_assert_eq(f.s[i].sig[z], 0, "%s: non-zero byte after the superblob", *rel);
			ut_buf_release(&b);
		}
		tc_release(&f);
	}
}

/* Full cdhashes from the CMS signed attribute 1.2.840.113635.100.9.2, printed by openssl cms. */
static void check_cdhash(const struct tc_file *f, const struct tc_slice *s, const struct cs_superblob *sb,
			 const struct cs_blob_entry *e, const struct cs_cd *cd, void *ctx)
{
	const struct cs_blob_entry *cms = cs_superblob_find(sb, CSSLOT_SIGNATURESLOT);
	if (!cms || cms->blob.length <= 8)
		return;
	char *dir = ts_tmpdir(), *der = ts_path(dir, "cms.der"), cmd[2048], *out = NULL;
	FILE *fp = fopen(der, "wb");
	cr_assert_not_null(fp);
	fwrite(cms->blob.p + 8, 1, cms->blob.length - 8, fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "openssl cms -cmsout -print -inform DER -in '%s'", der);
	cr_assert_eq(ts_sh(cmd, &out, NULL), 0);
	const char *alg = cd->hash_type == CS_HASHTYPE_SHA1 ? ":sha1" : ":sha256";
	uint8_t h[CS_HASH_MAX_SIZE];
	size_t n = 0;
	char hex[2 * CS_HASH_MAX_SIZE + 1];
	cr_assert_eq(cs_cd_cdhash(cd, 0, h, &n), 0);
	ut_hex(hex, h, n);
	for (char *q = hex; *q; q++)
		if (*q >= 'a')
			*q = (char)(*q - 'a' + 'A');
	char *v2 = strstr(out, "1.2.840.113635.100.9.2");
	if (v2) {
		char *a = strstr(v2, alg);
		cr_assert_not_null(a, "%s: no %s entry", f->path, alg);
		char *d = strstr(a, "[HEX DUMP]:");
		cr_assert_not_null(d);
		cr_assert(strncmp(d + 11, hex, 2 * n) == 0, "%s slot 0x%x: cdhash %s not in CMS", f->path, e->type, hex);
		(*(unsigned *)ctx)++;
	}
	cr_assert_eq(cs_cd_cdhash(cd, 1, h, &n), 0);
	cr_assert_eq(n, CS_CDHASH_LEN);
	free(out);
	free(der);
	ts_rmtree(dir);
	free(dir);
}

Test(cs_cd, corpus_cdhash_matches_cms_attribute)
{
	unsigned n = 0;
	each_cd(check_cdhash, &n);
	cr_assert_geq(n, 10);
}

/* Fields as the corpus manifest lists them. */
Test(cs_cd, corpus_fields_match_manifest)
{
	static const struct {
		const char *file;
		uint32_t version, flags, hash_type, runtime;
		const char *id, *team;
	} rows[] = {
		{ "adhoc/InsecurePasswordStore-x86_64", 0x20400, CS_ADHOC, 2, 0, "me.murphy.ios.InsecurePasswordStore", NULL },
		{ "apple/chess-x86_64", 0x20100, 0, 2, 0, "com.apple.Chess", NULL },
		{ "appledev/TestSwiftObjc-x86_64", 0x20500, CS_RUNTIME, 2, 0xa0f04, "TestSwiftObjc", "7JJ26R4EJS" },
		{ "devid/seas0npass-genpass", 0x20200, 0, 1, 0, "genpass", "9EUFEA5U7G" },
		{ "ios/MASTestApp", 0x20400, 0, 2, 0, "org.owasp.mastestapp.MASTestApp-iOS", "D4WYSK5293" },
		{ "linker/hello-macos-arm64-chained", 0x20400, CS_ADHOC | CS_LINKER_SIGNED, 2, 0,
		  "hello-macos-arm64-chained", NULL },
		{ "odd/ls-ios-cd20001", 0x20001, 0, 1, 0, "ls", NULL },
		{ "odd/r2_hang_test-adhoc-page2-mismatch", 0x20100, CS_ADHOC, 2, 0,
		  "r2_hang_test-55554944054645894ce33f2f92270b21227f3949", NULL },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tc_file f;
		struct cs_superblob sb;
		struct cs_cd cd;
		tc_load(rows[i].file, &f);
		cr_assert_eq(cs_superblob_parse(&sb, f.s[0].sig, f.s[0].sig_size, CSMAGIC_EMBEDDED_SIGNATURE), 0);
		const struct cs_blob_entry *e = cs_superblob_find(&sb, CSSLOT_CODEDIRECTORY);
		cr_assert_eq(cs_cd_parse(&cd, e->blob.p, e->blob.length), 0);
		cr_assert_eq(cd.version, rows[i].version, "%s", rows[i].file);
		cr_assert_eq(cd.flags, rows[i].flags, "%s", rows[i].file);
		cr_assert_eq(cd.hash_type, rows[i].hash_type, "%s", rows[i].file);
		cr_assert_eq(cd.runtime, rows[i].runtime, "%s", rows[i].file);
		cr_assert_str_eq(cd.identifier, rows[i].id);
		if (rows[i].team)
			cr_assert_str_eq(cd.team_id, rows[i].team);
		else
			cr_assert_null(cd.team_id);
		tc_release(&f);
	}
}

/* Sizes from real `codesign -dv` outputs (spec 1.3/1.4): v=20400 hashes=23+2 size=939; LINHA size=433. */
Test(cs_cd, sizes_codesign_printed)
{
	char id50[51];
	memset(id50, 'a', 50);
	id50[50] = '\0';
	struct cs_special_slots ss = { .hash_type = CS_HASHTYPE_SHA256, .count = 2 };
	struct cs_cd_params p = { .hash_type = CS_HASHTYPE_SHA256, .page_shift = 12, .identifier = id50,
				  .code_limit = 23 * 4096 - 100, .exec_seg_limit = 16384, .special = &ss, .flags = CS_ADHOC };
	cr_assert_eq(cs_cd_pick_version(&p), 0x20400);
	cr_assert_eq(cs_cd_size(&p, 0), 939);
	/* codesign_alloc sizes every CD as version 0x20500: 8 more bytes of header. */
	cr_assert_eq(cs_cd_size(&p, CS_SUPPORTSRUNTIME), 947);
	struct cs_special_slots s7 = { .hash_type = CS_HASHTYPE_SHA256, .count = 7 };
	struct cs_cd_params q = { .hash_type = CS_HASHTYPE_SHA256, .page_shift = 12,
				  .identifier = "com.local.analise-tatica", .code_limit = 3 * 4096,
				  .exec_seg_limit = 4096, .special = &s7 };
	cr_assert_eq(cs_cd_size(&q, 0), 433);
}

Test(cs_cd, version_rule)
{
	struct cs_cd_params p = { .hash_type = 2, .page_shift = 12, .identifier = "x", .code_limit = 4096 };
	cr_assert_eq(cs_cd_pick_version(&p), 0x20100);
	p.team_id = "";
	cr_assert_eq(cs_cd_pick_version(&p), 0x20100);
	p.team_id = "TEAM";
	cr_assert_eq(cs_cd_pick_version(&p), 0x20200);
	p.code_limit = (uint64_t)UINT32_MAX + 1;
	cr_assert_eq(cs_cd_pick_version(&p), 0x20300);
	p.exec_seg_limit = 1;
	cr_assert_eq(cs_cd_pick_version(&p), 0x20400);
	p.runtime = 0xb0000;
	cr_assert_eq(cs_cd_pick_version(&p), 0x20500);
	p.runtime = 0;
	p.pre_encrypt = 1;
	cr_assert_eq(cs_cd_pick_version(&p), 0x20500);
	/* Over 4 GiB: codeLimit = UINT32_MAX, codeLimit64 holds the length; parses back. */
	struct cs_cd_params big = { .hash_type = 2, .page_shift = 14, .identifier = "big",
				    .code_limit = (uint64_t)UINT32_MAX + 5 };
	struct ut_buf b;
	struct cs_cd cd;
	ut_buf_init(&b, 0);
	cr_assert_eq(cs_cd_build(&b, &big, NULL), 0);
	cr_assert_eq(cs_cd_parse(&cd, b.p, b.len), 0, "%s", ut_errmsg());
	cr_assert_eq(cd.version, 0x20300);
	cr_assert_eq(cd.code_limit, UINT32_MAX);
	cr_assert_eq(cs_cd_code_limit(&cd), (uint64_t)UINT32_MAX + 5);
	ut_buf_release(&b);
	/* A forced version must hold what is set. */
	p.version = 0x20100;
	ut_buf_init(&b, 0);
	cr_assert_eq(cs_cd_build(&b, &p, NULL), UT_EINVAL);
	ut_buf_release(&b);
}

Test(cs_cd, flag_names)
{
	char buf[128];
	uint32_t f = 0;
	cr_assert_str_eq(cs_flags_names(CS_ADHOC | CS_RUNTIME, buf, sizeof(buf)), "adhoc,runtime");
	cr_assert_str_eq(cs_flags_names(CS_ADHOC | CS_LINKER_SIGNED, buf, sizeof(buf)), "adhoc,linker-signed");
	cr_assert_str_eq(cs_flags_names(0, buf, sizeof(buf)), "none");
	cr_assert_str_eq(cs_flags_names(0x3f02, buf, sizeof(buf)),
			 "adhoc,hard,kill,expires,restrict,enforcement,library-validation");
	cr_assert_eq(cs_flag_by_name("library-validation", &f), 0);
	cr_assert_eq(f, 0x2000);
	cr_assert_eq(cs_flag_by_name("bogus", &f), UT_EINVAL);
}

/* lld's own signatures: link with ld64.lld-14 and rebuild them byte for byte. */
Test(cs_cd, lld_signature_rebuilt_byte_for_byte)
{
	static const char *const names[] = { "a", "hello", "libx.dylib", "hello-world-1234", "a_rather_long_name_for_padding.bin" };
	char *dir = ts_tmpdir(), cmd[4096], *err = NULL;
	char *src = ts_path(dir, "m.c");
	FILE *fp = fopen(src, "w");
	fprintf(fp, "static char big[300000] = {1};\nint main(void){return big[7];}\n");
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "cd '%s' && clang -target arm64-apple-macos11 -c m.c -o m.o", dir);
	cr_assert_eq(ts_sh(cmd, NULL, &err), 0, "%s", err ? err : "");
	free(err);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int dylib = strstr(names[i], "dylib") != NULL;
		snprintf(cmd, sizeof(cmd), "cd '%s' && ld64.lld-14 -arch arm64 -platform_version macos 11.0 11.0 %s -o '%s' m.o",
			 dir, dylib ? "-dylib -install_name /usr/lib/libother.dylib" : "", names[i]);
		cr_assert_eq(ts_sh(cmd, NULL, &err), 0, "%s", err ? err : "");
		free(err);
		char *out = ts_path(dir, names[i]);
		struct tc_file f;
		tc_load_path(out, &f);
		cr_assert_eq(f.nslices, 1);
		const struct tc_slice *s = &f.s[0];
		uint64_t pages = cs_page_count(s->sig_off, 12);
		uint8_t *h = malloc(pages * 32);
		struct ut_src in;
		cr_assert_eq(ut_src_open(&in, out), 0);
		struct cs_page_hashes r = { CS_HASHTYPE_SHA256, h };
		cr_assert_eq(cs_hash_pages(&in, 0, s->sig_off, 12, &r, 1, 0), 0);
		struct cs_cd_lld_params lp = { names[i], s->sig_off, s->text_fileoff, s->text_filesize,
					       s->filetype == MH_EXECUTE ? CS_EXECSEG_MAIN_BINARY : 0, h };
		struct ut_buf cd, sb, sig;
		ut_buf_init(&cd, 0);
		ut_buf_init(&sb, 0);
		ut_buf_init(&sig, 0);
		cr_assert_eq(cs_cd_build_lld(&cd, &lp), 0);
		struct cs_blob_in bi = { CSSLOT_CODEDIRECTORY, cd.p, cd.len };
		cr_assert_eq(cs_superblob_build(&sb, CSMAGIC_EMBEDDED_SIGNATURE, &bi, 1, CS_SB_LLD), 0);
		cr_assert_eq(sb.len, s->sig_size, "%s: %zu vs %llu", names[i], sb.len, (unsigned long long)s->sig_size);
		cr_assert(memcmp(sb.p, s->sig, sb.len) == 0, "%s: bytes differ from lld", names[i]);
		/* The linker-signature API used by the Mach-O editor gives the same bytes. */
		struct cs_linker_params lk = { names[i], s->sig_off, s->text_fileoff, s->text_filesize,
					       s->filetype == MH_EXECUTE };
		cr_assert_eq(cs_linker_sig_build(&in, 0, &lk, &sig), 0);
		cr_assert(sig.len == sb.len && memcmp(sig.p, sb.p, sb.len) == 0);
		cr_assert_eq(cs_linker_sig_size(names[i], s->sig_off), s->sig_size);
		/* And it parses as a valid signature. */
		struct cs_superblob psb;
		struct cs_cd pcd;
		cr_assert_eq(cs_superblob_parse(&psb, sb.p, sb.len, CSMAGIC_EMBEDDED_SIGNATURE), 0);
		cr_assert_eq(cs_cd_parse(&pcd, psb.entries[0].blob.p, psb.entries[0].blob.length), 0, "%s", ut_errmsg());
		cr_assert_str_eq(pcd.identifier, names[i]);
		ut_buf_release(&cd);
		ut_buf_release(&sb);
		ut_buf_release(&sig);
		ut_src_release(&in);
		free(h);
		free(out);
		tc_release(&f);
	}
	free(src);
	ts_rmtree(dir);
	free(dir);
}
