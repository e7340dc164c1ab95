/* test_ent.c - entitlements blobs: spec vectors, Apple's DER in the corpus, both decoder shapes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_blob.h"
#include "cs_der.h"
#include "cs_ent.h"
#include "tcorpus.h"
#include "ut_err.h"
#include "ut_plist.h"


static plist_t xml(const char *body)
{
	char buf[8192];
	plist_t p = NULL;
	snprintf(buf, sizeof(buf),
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n%s\n</plist>\n", body);
	cr_assert_eq(ut_plist_parse(buf, strlen(buf), "test", &p, NULL), 0, "%s", ut_errmsg());
	return p;
}

static void expect_der(const char *body, const uint8_t *want, size_t n)
{
	plist_t p = xml(body);
	struct ut_buf b;
	ut_buf_init(&b, 0);
	cr_assert_eq(cs_ent_der_encode(p, &b), 0, "%s", ut_errmsg());
	cr_assert_eq(b.len, n, "%s: %zu bytes", body, b.len);
	cr_assert(memcmp(b.p, want, n) == 0, "%s", body);
	/* decode gives the same tree back */
	plist_t q = NULL;
	enum cs_ent_der_form form = 0;
	cr_assert_eq(cs_ent_der_decode(b.p, b.len, &q, &form), 0, "%s", ut_errmsg());
	cr_assert_eq(form, CS_ENT_DER_APPLE);
	cr_assert(ut_plist_equal(p, q), "%s", body);
	plist_free(q);
	plist_free(p);
	ut_buf_release(&b);
}

#define V(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

/* Vectors from the spec (rcodesign's tests) and plain DER facts. */
Test(cs_ent, vectors)
{
	expect_der("<dict/>", V(0x70, 0x05, 0x02, 0x01, 0x01, 0xb0, 0x00));
	expect_der("<dict><key>key</key><false/></dict>",
		   V(0x70, 0x0f, 0x02, 0x01, 0x01, 0xb0, 0x0a, 0x30, 0x08, 0x0c, 0x03, 0x6b, 0x65, 0x79, 0x01, 0x01, 0x00));
	expect_der("<dict><key>k</key><true/></dict>",
		   V(0x70, 0x0d, 0x02, 0x01, 0x01, 0xb0, 0x08, 0x30, 0x06, 0x0c, 0x01, 'k', 0x01, 0x01, 0xff));
	expect_der("<dict><key>k</key><integer>-1</integer></dict>",
		   V(0x70, 0x0d, 0x02, 0x01, 0x01, 0xb0, 0x08, 0x30, 0x06, 0x0c, 0x01, 'k', 0x02, 0x01, 0xff));
	expect_der("<dict><key>k</key><integer>42</integer></dict>",
		   V(0x70, 0x0d, 0x02, 0x01, 0x01, 0xb0, 0x08, 0x30, 0x06, 0x0c, 0x01, 'k', 0x02, 0x01, 0x2a));
	expect_der("<dict><key>k</key><integer>128</integer></dict>",
		   V(0x70, 0x0e, 0x02, 0x01, 0x01, 0xb0, 0x09, 0x30, 0x07, 0x0c, 0x01, 'k', 0x02, 0x02, 0x00, 0x80));
	expect_der("<dict><key>k</key><integer>-129</integer></dict>",
		   V(0x70, 0x0e, 0x02, 0x01, 0x01, 0xb0, 0x09, 0x30, 0x07, 0x0c, 0x01, 'k', 0x02, 0x02, 0xff, 0x7f));
	expect_der("<dict><key>k</key><array><string>a</string><array/></array></dict>",
		   V(0x70, 0x11, 0x02, 0x01, 0x01, 0xb0, 0x0c, 0x30, 0x0a, 0x0c, 0x01, 'k', 0x30, 0x05, 0x0c, 0x01, 'a',
		     0x30, 0x00));
	/* Keys in byte order ("B" < "a" < "aa"), nested dictionaries as B0. */
	expect_der("<dict><key>aa</key><true/><key>a</key><dict/><key>B</key><string></string></dict>",
		   V(0x70, 0x1c, 0x02, 0x01, 0x01, 0xb0, 0x17, 0x30, 0x05, 0x0c, 0x01, 'B', 0x0c, 0x00, 0x30, 0x05, 0x0c,
		     0x01, 'a', 0xb0, 0x00, 0x30, 0x07, 0x0c, 0x02, 'a', 'a', 0x01, 0x01, 0xff));
}

Test(cs_ent, round_trip_every_type)
{
	const char *bodies[] = {
		"<dict><key>t</key><true/><key>f</key><false/></dict>",
		"<dict><key>i</key><array><integer>0</integer><integer>1</integer><integer>127</integer>"
		"<integer>-128</integer><integer>255</integer><integer>256</integer><integer>65535</integer>"
		"<integer>-32769</integer><integer>9223372036854775807</integer>"
		"<integer>-9223372036854775808</integer></array></dict>",
		"<dict><key>s</key><string>caf\xc3\xa9 \xe2\x98\x83</string><key>e</key><string></string></dict>",
		"<dict><key>a</key><array><array><array/></array><dict><key>x</key><string>y</string></dict></array></dict>",
		"<dict><key>com.apple.security.application-groups</key><array><string>T.g1</string><string>T.g2</string>"
		"</array><key>d</key><dict><key>n</key><dict><key>m</key><integer>3</integer></dict></dict></dict>",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		plist_t p = xml(bodies[i]), q = NULL;
		struct ut_buf b, c;
		ut_buf_init(&b, 0);
		ut_buf_init(&c, 0);
		cr_assert_eq(cs_ent_der_blob(p, &b), 0, "%s", ut_errmsg());
		cr_assert_eq(cs_ent_der_blob_decode(b.p, b.len, &q, NULL), 0, "%s", ut_errmsg());
		cr_assert(ut_plist_equal(p, q), "%s", bodies[i]);
		cr_assert_eq(cs_ent_der_blob(q, &c), 0);
		cr_assert(b.len == c.len && memcmp(b.p, c.p, b.len) == 0);
		plist_free(p);
		plist_free(q);
		ut_buf_release(&b);
		ut_buf_release(&c);
	}
}

Test(cs_ent, unsupported_values_refused)
{
	static const struct {
		const char *body, *msg;
	} rows[] = {
		{ "<dict><key>d</key><data>AAE=</data></dict>", "data values" },
		{ "<dict><key>d</key><date>2020-01-01T00:00:00Z</date></dict>", "date values" },
		{ "<dict><key>r</key><real>1.5</real></dict>", "real values" },
		{ "<dict><key>u</key><integer>18446744073709551615</integer></dict>", "above the 64-bit signed range" },
		{ "<array/>", "not a dictionary" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		plist_t p = xml(rows[i].body);
		struct ut_buf b;
		ut_buf_init(&b, 0);
		int rc = cs_ent_der_encode(p, &b);
		cr_assert_neq(rc, 0, "%s", rows[i].body);
		cr_assert(strstr(ut_errmsg(), rows[i].msg) != NULL, "%s: %s", rows[i].body, ut_errmsg());
		plist_free(p);
		ut_buf_release(&b);
	}
}

/* The older SET shape: an empty <dict/> from macOS 12-era codesign is `31 00` (spec section 10). */
Test(cs_ent, set_form_decodes)
{
	static const uint8_t blob[] = { 0xfa, 0xde, 0x71, 0x72, 0, 0, 0, 10, 0x31, 0x00 };
	static const uint8_t ent[] = { 0x31, 0x0a, 0x30, 0x08, 0x0c, 0x03, 'k', 'e', 'y', 0x01, 0x01, 0x01 };
	plist_t p = NULL;
	enum cs_ent_der_form form = 0;
	cr_assert_eq(cs_ent_der_blob_decode(blob, sizeof(blob), &p, &form), 0, "%s", ut_errmsg());
	cr_assert_eq(form, CS_ENT_DER_SET);
	cr_assert_eq(plist_get_node_type(p), PLIST_DICT);
	cr_assert_eq(plist_dict_get_size(p), 0);
	plist_free(p);
	cr_assert_eq(cs_ent_der_decode(ent, sizeof(ent), &p, &form), 0, "%s", ut_errmsg());
	cr_assert(ut_plist_dict_true(p, "key"));
	plist_free(p);
}

/* Apple's blobs: XML (slot 5) re-encoded gives exactly the DER blob (slot 7) codesign wrote. */
Test(cs_ent, corpus_xml_to_der_equals_codesign)
{
	static const char *const files[] = {
		"adhoc/InsecurePasswordStore-x86_64", "adhoc/WheresMyBrowser-arm64", "ios/MASTestApp",
		"odd/TestMacOS-arm64e-modified-after-signing",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct tc_file f;
		struct cs_superblob sb;
		tc_load(files[i], &f);
		cr_assert_eq(cs_superblob_parse(&sb, f.s[0].sig, f.s[0].sig_size, CSMAGIC_EMBEDDED_SIGNATURE), 0);
		const struct cs_blob_entry *x = cs_superblob_find(&sb, CSSLOT_ENTITLEMENTS);
		const struct cs_blob_entry *d = cs_superblob_find(&sb, CSSLOT_DER_ENTITLEMENTS);
		cr_assert(x && d, "%s", files[i]);
		struct ut_buf b, w;
		ut_buf_init(&b, 0);
		ut_buf_init(&w, 0);
		cr_assert_eq(cs_ent_der_blob_from_plist(x->blob.p + 8, x->blob.length - 8, &b), 0, "%s: %s", files[i],
			     ut_errmsg());
		cr_assert_eq(b.len, d->blob.length, "%s: %zu vs %u", files[i], b.len, d->blob.length);
		cr_assert(memcmp(b.p, d->blob.p, b.len) == 0, "%s: DER differs from codesign's", files[i]);
		/* The XML blob wraps the payload as given. */
		cr_assert_eq(cs_ent_xml_blob(&w, x->blob.p + 8, x->blob.length - 8), 0);
		cr_assert(w.len == x->blob.length && memcmp(w.p, x->blob.p, w.len) == 0);
		/* Decoding Apple's DER gives the XML's dictionary. */
		plist_t fromxml = NULL, fromder = NULL;
		enum cs_ent_der_form form = 0;
		cr_assert_eq(cs_ent_xml_blob_parse(x->blob.p, x->blob.length, &fromxml), 0);
		cr_assert_eq(cs_ent_der_blob_decode(d->blob.p, d->blob.length, &fromder, &form), 0, "%s", ut_errmsg());
		cr_assert_eq(form, CS_ENT_DER_APPLE);
		cr_assert(ut_plist_equal(fromxml, fromder), "%s", files[i]);
		plist_free(fromxml);
		plist_free(fromder);
		ut_buf_release(&b);
		ut_buf_release(&w);
		tc_release(&f);
	}
}

/* Exec-segment flags from entitlements agree with the CDs codesign wrote. */
Test(cs_ent, exec_seg_flags_match_corpus)
{
	plist_t p = xml("<dict><key>get-task-allow</key><true/><key>dynamic-codesigning</key><true/>"
			"<key>com.apple.private.amfi.can-execute-cdhash</key><true/><key>run-unsigned-code</key><false/>"
			"<key>com.apple.private.cs.debugger</key><string>yes</string></dict>");
	cr_assert_eq(cs_ent_exec_seg_flags(p), CS_EXECSEG_ALLOW_UNSIGNED | CS_EXECSEG_JIT | CS_EXECSEG_CAN_EXEC_CDHASH);
	plist_free(p);
	/* ios/MASTestApp: get-task-allow true, exec seg flags 0x11; InsecurePasswordStore: macOS key only, 0x1. */
	static const struct {
		const char *file;
		uint64_t flags;
	} rows[] = { { "ios/MASTestApp", 0x10 }, { "adhoc/InsecurePasswordStore-x86_64", 0 } };
	for (size_t i = 0; i < 2; i++) {
		struct tc_file f;
		struct cs_superblob sb;
		tc_load(rows[i].file, &f);
		cr_assert_eq(cs_superblob_parse(&sb, f.s[0].sig, f.s[0].sig_size, CSMAGIC_EMBEDDED_SIGNATURE), 0);
		const struct cs_blob_entry *x = cs_superblob_find(&sb, CSSLOT_ENTITLEMENTS);
		plist_t e = NULL;
		cr_assert_eq(cs_ent_xml_blob_parse(x->blob.p, x->blob.length, &e), 0);
		cr_assert_eq(cs_ent_exec_seg_flags(e), rows[i].flags, "%s", rows[i].file);
		plist_free(e);
		tc_release(&f);
	}
}

Test(cs_der, primitives)
{
	struct ut_buf b;
	ut_buf_init(&b, 0);
	cr_assert_eq(cs_der_oid_encode("1.2.840.113635.100.6.2.6", &b), 0);
	cr_assert(b.len == 10 && memcmp(b.p, "\x2a\x86\x48\x86\xf7\x63\x64\x06\x02\x06", 10) == 0);
	char oid[64];
	cr_assert_eq(cs_der_oid_decode(ut_span_make(b.p, b.len), oid, sizeof(oid)), 0);
	cr_assert_str_eq(oid, "1.2.840.113635.100.6.2.6");
	b.len = 0;
	cr_assert_eq(cs_der_oid_encode("2.999.3", &b), 0);
	cr_assert(b.len == 3 && memcmp(b.p, "\x88\x37\x03", 3) == 0);
	cr_assert_eq(cs_der_oid_decode(ut_span_make(b.p, b.len), oid, sizeof(oid)), 0);
	cr_assert_str_eq(oid, "2.999.3");
	b.len = 0;
	cr_assert_eq(cs_der_put_header(&b, 0x04, 300), 0);
	cr_assert(b.len == 4 && memcmp(b.p, "\x04\x82\x01\x2c", 4) == 0);
	cr_assert_eq(cs_der_header_size(300), 4);
	cr_assert_eq(cs_der_header_size(127), 2);
	cr_assert_eq(cs_der_header_size(128), 3);
	ut_buf_release(&b);
}
