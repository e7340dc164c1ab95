/* test_req.c - requirements: Apple's text form for real blobs, and text -> bytes identical to Apple's. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cs_blob.h"
#include "cs_req.h"
#include "tcorpus.h"
#include "ut_err.h"

/* The requirements set of slice idx of a corpus file (copied). */
static uint8_t *corpus_reqs(const char *rel, unsigned idx, size_t *len)
{
	struct tc_file f;
	struct cs_superblob sb;
	tc_load(rel, &f);
	cr_assert_lt(idx, f.nslices);
	cr_assert_eq(cs_superblob_parse(&sb, f.s[idx].sig, f.s[idx].sig_size, CSMAGIC_EMBEDDED_SIGNATURE), 0);
	const struct cs_blob_entry *e = cs_superblob_find(&sb, CSSLOT_REQUIREMENTS);
	cr_assert_not_null(e, "%s: no requirements", rel);
	uint8_t *p = malloc(e->blob.length);
	memcpy(p, e->blob.p, e->blob.length);
	*len = e->blob.length;
	tc_release(&f);
	return p;
}

static char *set_text(const uint8_t *p, size_t n)
{
	struct ut_buf b;
	ut_buf_init(&b, 0);
	cr_assert_eq(cs_req_set_text(p, n, &b), 0, "%s", ut_errmsg());
	cr_assert_eq(ut_buf_cstr(&b), 0);
	return (char *)ut_buf_detach(&b, NULL);
}

/* What `codesign -d -r-` prints for these signatures (SEC reqdumper.cpp rules). */
Test(cs_req, corpus_text)
{
	static const struct {
		const char *file;
		unsigned slice;
		const char *text;
	} rows[] = {
		{ "apple/chess-x86_64", 0, "designated => identifier \"com.apple.Chess\" and anchor apple\n" },
		{ "apple/ls-sequoia", 1, "designated => identifier \"com.apple.ls\" and anchor apple\n" },
		{ "apple/fatmach0-3true", 2,
		  "host => anchor apple and identifier \"com.apple.translate\"\n"
		  "library => identifier \"libSystem.B.dylib\" and anchor apple\n" },
		{ "devid/seas0npass-genpass", 0,
		  "designated => identifier genpass and anchor apple generic and "
		  "certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and "
		  "certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and "
		  "certificate leaf[subject.OU] = \"9EUFEA5U7G\"\n" },
		{ "devid/libexpat.1.dylib", 1,
		  "designated => identifier \"libexpat.1\" and anchor apple generic and "
		  "certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and "
		  "certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and "
		  "certificate leaf[subject.OU] = EG7KH642X6\n" },
		{ "devid/swiftformat-0.47.8-devid-universal-entxml-only", 0,
		  "designated => anchor apple generic and identifier swiftformat and "
		  "(certificate leaf[field.1.2.840.113635.100.6.1.9] /* exists */ or "
		  "certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and "
		  "certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and "
		  "certificate leaf[subject.OU] = \"8VQKF583ED\")\n" },
		{ "ios/MASTestApp", 0,
		  "designated => identifier \"org.owasp.mastestapp.MASTestApp-iOS\" and anchor apple generic and "
		  "certificate leaf[subject.CN] = \"Apple Development: perezholguera@hotmail.com (ZPS6MDSKNS)\" and "
		  "certificate 1[field.1.2.840.113635.100.6.2.1] /* exists */\n" },
		{ "appledev/santa-goodcert-selfsigned", 0,
		  "designated => identifier goodcert and certificate root = H\"a6843b655e811f43f07b0ae1b34ae8c7874b3d63\"\n" },
		{ "adhoc/WheresMyBrowser-arm64", 0, "" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n;
		uint8_t *p = corpus_reqs(rows[i].file, rows[i].slice, &n);
		char *t = set_text(p, n);
		cr_assert_str_eq(t, rows[i].text, "%s", rows[i].file);
		free(t);
		free(p);
	}
}

/* decompile -> compile gives Apple's bytes back, for every requirement in the corpus. */
Test(cs_req, corpus_round_trip_identical_bytes)
{
	unsigned left = 0, right = 0, total = 0;
	for (const char *const *rel = tc_signed(); *rel; rel++) {
		struct tc_file f;
		tc_load(*rel, &f);
		for (unsigned s = 0; s < f.nslices; s++) {
			struct cs_superblob sb;
			struct cs_req_set set;
			cr_assert_eq(cs_superblob_parse(&sb, f.s[s].sig, f.s[s].sig_size, CSMAGIC_EMBEDDED_SIGNATURE), 0);
			const struct cs_blob_entry *e = cs_superblob_find(&sb, CSSLOT_REQUIREMENTS);
			if (!e)
				continue;
			cr_assert_eq(cs_req_set_parse(&set, e->blob.p, e->blob.length), 0, "%s: %s", *rel, ut_errmsg());
			for (uint32_t i = 0; i < set.count; i++) {
				struct ut_buf text, a, b;
				ut_buf_init(&text, 0);
				ut_buf_init(&a, 0);
				ut_buf_init(&b, 0);
				const struct cs_blob *rb = &set.entries[i].blob;
				cr_assert_eq(cs_req_text(rb->p, rb->length, &text), 0, "%s: %s", *rel, ut_errmsg());
				cr_assert_eq(cs_req_compile((char *)text.p, 0, &a), 0, "%s: '%s': %s", *rel, text.p, ut_errmsg());
				cr_assert_eq(cs_req_compile((char *)text.p, CS_REQ_AND_RIGHT, &b), 0);
				int l = a.len == rb->length && memcmp(a.p, rb->p, a.len) == 0;
				int r = b.len == rb->length && memcmp(b.p, rb->p, b.len) == 0;
				cr_assert(l || r, "%s: '%s' does not compile back to the same bytes", *rel, text.p);
				left += l;
				right += r;
				total++;
				ut_buf_release(&text);
				ut_buf_release(&a);
				ut_buf_release(&b);
			}
			/* The whole set, through its text form. */
			char *t = set_text(e->blob.p, e->blob.length);
			struct ut_buf all;
			uint32_t magic = 0;
			ut_buf_init(&all, 0);
			if (set.count) {
				int ok = cs_req_compile_any(t, 0, &all, &magic) == 0 && all.len == e->blob.length &&
					 memcmp(all.p, e->blob.p, all.len) == 0;
				all.len = 0;
				ok = ok || (cs_req_compile_any(t, CS_REQ_AND_RIGHT, &all, &magic) == 0 &&
					    all.len == e->blob.length && memcmp(all.p, e->blob.p, all.len) == 0);
				cr_assert(ok, "%s: set text does not compile back", *rel);
				cr_assert_eq(magic, CSMAGIC_REQUIREMENTS);
			}
			ut_buf_release(&all);
			free(t);
		}
		tc_release(&f);
	}
	/* Both nestings occur in Apple's files: csreq-compiled (left) and DR-maker (right). */
	cr_assert_geq(total, 15);
	cr_assert_lt(left, total);
	cr_assert_lt(right, total);
}

/* The Developer ID designated requirement codesign makes, compiled from text (not from our decompiler). */
Test(cs_req, compile_devid_dr_equals_codesign)
{
	size_t n;
	uint8_t *p = corpus_reqs("devid/microsoft-msoab-arm64.dylib", 0, &n);
	struct cs_req_set set;
	cr_assert_eq(cs_req_set_parse(&set, p, n), 0);
	cr_assert_eq(set.count, 1);
	cr_assert_eq(set.entries[0].type, kSecDesignatedRequirementType);
	struct ut_buf b;
	ut_buf_init(&b, 0);
	const char *dr = "identifier \"com.microsoft.msoab\" and anchor apple generic and "
			 "certificate 1[field.1.2.840.113635.100.6.2.6] exists and "
			 "certificate leaf[field.1.2.840.113635.100.6.1.13] exists and "
			 "certificate leaf[subject.OU] = UBF8T346G9";
	cr_assert_eq(cs_req_compile(dr, CS_REQ_AND_RIGHT, &b), 0, "%s", ut_errmsg());
	cr_assert_eq(b.len, set.entries[0].blob.length);
	cr_assert(memcmp(b.p, set.entries[0].blob.p, b.len) == 0);
	/* As a set, via the builder. */
	struct ut_buf s;
	ut_buf_init(&s, 0);
	struct cs_req_in in = { kSecDesignatedRequirementType, b.p, b.len };
	cr_assert_eq(cs_req_set_build(&s, &in, 1), 0);
	cr_assert(s.len == n && memcmp(s.p, p, n) == 0);
	ut_buf_release(&s);
	ut_buf_release(&b);
	free(p);
}

Test(cs_req, empty_set)
{
	static const uint8_t want[] = { 0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 0x0c, 0, 0, 0, 0 };
	struct ut_buf b;
	struct cs_req_set set;
	ut_buf_init(&b, 0);
	cr_assert_eq(cs_req_set_empty(&b), 0);
	cr_assert(b.len == sizeof(want) && memcmp(b.p, want, sizeof(want)) == 0);
	cr_assert_eq(cs_req_set_parse(&set, b.p, b.len), 0);
	cr_assert_eq(set.count, 0);
	char *t = set_text(b.p, b.len);
	cr_assert_str_eq(t, "");
	free(t);
	/* Same bytes as the ad-hoc files in the corpus. */
	size_t n;
	uint8_t *p = corpus_reqs("adhoc/InsecurePasswordStore-x86_64", 0, &n);
	cr_assert(n == b.len && memcmp(p, b.p, n) == 0);
	free(p);
	ut_buf_release(&b);
}

static char *text_of(const char *src, unsigned opts)
{
	struct ut_buf b, t;
	ut_buf_init(&b, 0);
	ut_buf_init(&t, 0);
	cr_assert_eq(cs_req_compile(src, opts, &b), 0, "'%s': %s", src, ut_errmsg());
	cr_assert_eq(cs_req_text(b.p, b.len, &t), 0, "%s", ut_errmsg());
	ut_buf_release(&b);
	return (char *)ut_buf_detach(&t, NULL);
}

/* Text the compiler accepts comes back in Apple's canonical spelling. */
Test(cs_req, compile_forms)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "cdhash H\"0123456789abcdef0123456789abcdef01234567\" or cdhash H\"89ABCDEF0123456789abcdef0123456789abcdef\"",
		  "cdhash H\"0123456789abcdef0123456789abcdef01234567\" or cdhash H\"89abcdef0123456789abcdef0123456789abcdef\"" },
		{ "(a) or ! always and never", "(a) or ! always and never" },
		{ "anchor apple generic and (identifier x or identifier \"y z\")",
		  "anchor apple generic and (identifier x or identifier \"y z\")" },
		{ "cert leaf[subject.CN] = \"a\\\"b\" and certificate -1[subject.O] ~ 0x00ff",
		  "certificate leaf[subject.CN] = \"a\\\"b\" and certificate root[subject.O] ~ 0x00ff" },
		{ "info[CFBundleVersion] >= \"1.2\" and entitlement[\"com.apple.x\"] = true2 and info [K] = *abc*",
		  "info[CFBundleVersion] >= \"1.2\" and entitlement[com.apple.x] = true2 and info[K] ~ abc" },
		{ "info[K] = abc* and info[K] = *abc and info[K] absent and info[K] exists",
		  "info[K] = abc* and info[K] = *abc and info[K] absent  and info[K] /* exists */" },
		{ "anchor apple Named and anchor trusted and certificate 2 trusted and platform = 2 and notarized and legacy",
		  "anchor apple Named and anchor trusted and certificate 2 trusted and platform = 2 and notarized and legacy" },
		{ "anchor = H\"a6843b655e811f43f07b0ae1b34ae8c7874b3d63\" # comment\n/* c */ // more",
		  "certificate root = H\"a6843b655e811f43f07b0ae1b34ae8c7874b3d63\"" },
		{ "certificate 1[policy.1.2.3] and certificate leaf[timestamp.1.2.840.113635.100.6.1.33] < timestamp \"20200101000000Z\"",
		  "certificate 1[policy.1.2.3] /* exists */ and certificate leaf[timestamp.1.2.840.113635.100.6.1.33] < timestamp \"20200101000000Z\"" },
		{ "identifier \"1abc\" and identifier \"\" and identifier \"caf\xc3\xa9\"",
		  "identifier \"1abc\" and identifier \"\" and identifier 0x636166c3a9" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *t = text_of(rows[i].in, 0);
		cr_assert_str_eq(t, rows[i].out, "input '%s'", rows[i].in);
		free(t);
	}
}

/* Nesting: Apple's parser nests `and` to the left; codesign's DR maker to the right. */
Test(cs_req, and_nesting)
{
	struct ut_buf l, r;
	ut_buf_init(&l, 0);
	ut_buf_init(&r, 0);
	cr_assert_eq(cs_req_compile("always and never and always", 0, &l), 0);
	cr_assert_eq(cs_req_compile("always and never and always", CS_REQ_AND_RIGHT, &r), 0);
	static const uint8_t lw[] = { 0, 0, 0, 6, 0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t rw[] = { 0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1 };
	cr_assert_eq(l.len, 12 + sizeof(lw));
	cr_assert(memcmp(l.p + 12, lw, sizeof(lw)) == 0);
	cr_assert(memcmp(r.p + 12, rw, sizeof(rw)) == 0);
	/* Header: magic, length, kind 1. */
	cr_assert(memcmp(l.p, "\xfa\xde\x0c\x00\x00\x00\x00\x20\x00\x00\x00\x01", 12) == 0);
	ut_buf_release(&l);
	ut_buf_release(&r);
}

Test(cs_req, compile_errors)
{
	static const struct {
		const char *in;
		int code;
		const char *msg;
	} rows[] = {
		{ "identifier \"abc", UT_EINVAL, "unterminated string" },
		{ "cdhash H\"abcd\"", UT_EINVAL, "cdhash of 2 bytes" },
		{ "cdhash H\"abc\"", UT_EINVAL, "odd number of hex digits" },
		{ "certificate leaf[bogus.x] = y", UT_EINVAL, "unrecognized certificate field" },
		{ "identifier x and", UT_EINVAL, "end of text" },
		{ "identifier x y", UT_EINVAL, "unexpected text after the requirement" },
		{ "(identifier x", UT_EINVAL, "expected ')'" },
		{ "info[K = 1", UT_EINVAL, "expected ']'" },
		{ "platform = 99999999999", UT_EINVAL, "too large" },
		{ "certificate leaf = /etc/cert", UT_EUNSUPPORTED, "by path" },
		{ "certificate leaf[timestamp.1.2] = timestamp \"2020\"", UT_EUNSUPPORTED, "YYYYMMDDhhmmssZ" },
		{ "certificate leaf[field.x.1] exists", UT_EINVAL, "invalid object identifier" },
		{ "identifier @", UT_EINVAL, "unexpected character" },
		{ "designated => identifier a designated => identifier b", UT_EINVAL, "given twice" },
		{ "", UT_EINVAL, "expected a requirement" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ut_buf b;
		ut_buf_init(&b, 0);
		int rc = cs_req_compile_any(rows[i].in, 0, &b, NULL);
		cr_assert_eq(rc, rows[i].code, "'%s': rc %d (%s)", rows[i].in, rc, ut_errmsg());
		cr_assert(strstr(ut_errmsg(), rows[i].msg) != NULL, "'%s': message '%s'", rows[i].in, ut_errmsg());
		cr_assert_eq(b.len, 0);
		ut_buf_release(&b);
	}
}
