/*
 * test_malformed.c - one table per parser: {bytes, expected code, message
 * substring}.  Rows reach every error site of the SuperBlob, CodeDirectory,
 * requirements and DER-entitlements parsers.  Bytes are either hex or a valid
 * base blob with big-endian patches.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_blob.h"
#include "cs_cd.h"
#include "cs_der.h"
#include "cs_ent.h"
#include "cs_req.h"
#include "ut_bytes.h"
#include "ut_err.h"

enum parser { P_BLOB, P_SB, P_SIG, P_CD, P_REQSET, P_REQ, P_DER, P_DERBLOB, P_XMLBLOB };
enum base { B_HEX, B_CD, B_SIG };

struct patch {
	int off, size; /* size 1, 4 or 8 (big-endian); 0 ends the list */
	uint64_t v;
};

struct row {
	enum parser parser;
	enum base base;
	const char *hex;
	size_t cut; /* keep only this many bytes (0 = all) */
	struct patch p[5];
	int code;
	const char *msg;
};

/*
 * Base CD: version 0x20500, identifier "id" @96, team "T" @99, 2 special slots
 * (zero = absent) then 3 SHA-256 code slots of 0xab: hashOffset 165, length 261.
 */
static void base_cd(struct ut_buf *b)
{
	uint8_t code[3 * 32];
	memset(code, 0xab, sizeof(code));
	struct cs_special_slots ss = { .hash_type = CS_HASHTYPE_SHA256, .count = 2 };
	struct cs_cd_params p = { .hash_type = CS_HASHTYPE_SHA256, .page_shift = 12, .identifier = "id",
				  .team_id = "T", .code_limit = 3 * 4096 - 5, .runtime = 0x10000, .special = &ss,
				  .code_hashes = code };
	struct cs_cd_layout l;
	cr_assert_eq(cs_cd_build(b, &p, &l), 0);
	cr_assert(l.length == 261 && l.hash_offset == 165 && l.team_offset == 99);
}

/* Base signature: CD @36 (261), empty requirements @297 (12), XML entitlements @309 (16). */
static void base_sig(struct ut_buf *b)
{
	struct ut_buf cd, req, ent;
	ut_buf_init(&cd, 0);
	ut_buf_init(&req, 0);
	ut_buf_init(&ent, 0);
	base_cd(&cd);
	cs_req_set_empty(&req);
	cs_ent_xml_blob(&ent, "<plist/>", 8);
	struct cs_blob_in in[3] = { { 0, cd.p, cd.len }, { 2, req.p, req.len }, { 5, ent.p, ent.len } };
	cr_assert_eq(cs_superblob_build(b, CSMAGIC_EMBEDDED_SIGNATURE, in, 3, CS_SB_APPLE), 0);
	cr_assert_eq(b->len, 325);
	ut_buf_release(&cd);
	ut_buf_release(&req);
	ut_buf_release(&ent);
}

static void from_hex(struct ut_buf *b, const char *hex)
{
	for (const char *s = hex; *s;) {
		if (*s == ' ') {
			s++;
			continue;
		}
		unsigned v;
		cr_assert_eq(sscanf(s, "%2x", &v), 1, "bad hex near '%s'", s);
		ut_buf_u8(b, (uint8_t)v);
		s += 2;
	}
}

static int run(enum parser parser, const uint8_t *p, size_t n)
{
	union {
		struct cs_blob blob;
		struct cs_superblob sb;
		struct cs_cd cd;
		struct cs_req_set set;
	} u;
	struct ut_buf t;
	plist_t pl = NULL;
	int rc = 0;
	ut_buf_init(&t, 0);
	switch (parser) {
	case P_BLOB: rc = cs_blob_parse(&u.blob, p, n, CSMAGIC_REQUIREMENTS); break;
	case P_SB: rc = cs_superblob_parse(&u.sb, p, n, 0); break;
	case P_SIG: rc = cs_superblob_parse(&u.sb, p, n, CSMAGIC_EMBEDDED_SIGNATURE); break;
	case P_CD: rc = cs_cd_parse(&u.cd, p, n); break;
	case P_REQSET: rc = cs_req_set_parse(&u.set, p, n); break;
	case P_REQ: rc = cs_req_text(p, n, &t); break;
	case P_DER: rc = cs_ent_der_decode(p, n, &pl, NULL); break;
	case P_DERBLOB: rc = cs_ent_der_blob_decode(p, n, &pl, NULL); break;
	case P_XMLBLOB: rc = cs_ent_xml_blob_parse(p, n, &pl); break;
	}
	if (rc)
		cr_assert_null(pl);
	plist_free(pl);
	ut_buf_release(&t);
	return rc;
}

static void run_table(const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ut_buf b;
		ut_buf_init(&b, 0);
		if (rows[i].base == B_CD)
			base_cd(&b);
		else if (rows[i].base == B_SIG)
			base_sig(&b);
		else
			from_hex(&b, rows[i].hex);
		size_t off0 = rows[i].base == B_SIG && rows[i].parser == P_CD ? 36 : 0;
		for (const struct patch *pt = rows[i].p; pt->size; pt++) {
			cr_assert_leq((size_t)pt->off + pt->size, b.len);
			if (pt->size == 1)
				b.p[pt->off] = (uint8_t)pt->v;
			else if (pt->size == 4)
				ut_put_be32(b.p + pt->off, (uint32_t)pt->v);
			else
				ut_put_be64(b.p + pt->off, pt->v);
		}
		size_t len = rows[i].cut ? rows[i].cut : b.len;
		ut_err_clear();
		int rc = run(rows[i].parser, b.p + off0, len - off0);
		cr_assert_eq(rc, rows[i].code, "row %zu (%s): rc %d, message '%s'", i, rows[i].msg, rc, ut_errmsg());
		cr_assert(strstr(ut_errmsg(), rows[i].msg) != NULL, "row %zu: message '%s' lacks '%s'", i, ut_errmsg(),
			  rows[i].msg);
		ut_buf_release(&b);
	}
}

#define M UT_EMALFORMED
#define U UT_EUNSUPPORTED

Test(malformed, bases_are_valid)
{
	struct ut_buf b;
	ut_buf_init(&b, 0);
	base_sig(&b);
	cr_assert_eq(run(P_SIG, b.p, b.len), 0, "%s", ut_errmsg());
	cr_assert_eq(run(P_CD, b.p + 36, 261), 0, "%s", ut_errmsg());
	ut_buf_release(&b);
}

Test(malformed, superblob)
{
	static const struct row rows[] = {
		{ P_BLOB, B_HEX, "fade0c01 0000", 0, { { 0 } }, M, "blob truncated" },
		{ P_BLOB, B_HEX, "fade0c00 00000008", 0, { { 0 } }, M, "blob magic 0xfade0c00, expected 0xfade0c01" },
		{ P_BLOB, B_HEX, "fade0c01 00000004", 0, { { 0 } }, M, "below its 8-byte header" },
		{ P_BLOB, B_HEX, "fade0c01 00000010 0000", 0, { { 0 } }, M, "past end of data" },
		{ P_SB, B_HEX, "fade0cc0 0000", 0, { { 0 } }, M, "superblob truncated" },
		{ P_SIG, B_HEX, "fade0c01 0000000c 00000000", 0, { { 0 } }, M, "superblob magic 0xfade0c01" },
		{ P_SB, B_SIG, NULL, 0, { { 4, 4, 8 } }, M, "below its 12-byte header" },
		{ P_SB, B_SIG, NULL, 100, { { 0 } }, M, "superblob length 325 past end of data (100 bytes)" },
		{ P_SB, B_SIG, NULL, 0, { { 8, 4, 65 } }, U, "count 65 above the limit of 64" },
		{ P_SB, B_SIG, NULL, 0, { { 8, 4, 40 } }, M, "index of 40 entries past its length" },
		{ P_SB, B_SIG, NULL, 0, { { 32, 4, 321 } }, M, "entry 2 (type 0x5): offset 321 past end" },
		{ P_SB, B_SIG, NULL, 0, { { 313, 4, 1000 } }, M,
		  "superblob entry 2 (type 0x5) at offset 309: blob 0xfade7171: length 1000 past end" },
		{ P_SIG, B_SIG, NULL, 0, { { 20, 4, 5 } }, M, "slot 0x5 holds a blob with magic 0xfade0c01, expected 0xfade7171" },
		{ P_SIG, B_SIG, NULL, 0, { { 20, 4, 5 }, { 24, 4, 309 } }, M, "multiple Entitlements blobs (slot 0x5)" },
		{ P_SIG, B_SIG, NULL, 0, { { 20, 4, 0x1000 }, { 24, 4, 36 } }, M,
		  "multiple hash=2 code directories (slots 0x0 and 0x1000)" },
		{ P_SIG, B_SIG, NULL, 0, { { 20, 4, 0x1000 }, { 297, 4, CSMAGIC_CODEDIRECTORY } }, M,
		  "slot 0x1000: code directory of 12 bytes is truncated" },
		{ P_SIG, B_SIG, NULL, 0, { { 12, 4, 6 } }, M, "signature has no code directory" },
	};
	run_table(rows, sizeof(rows) / sizeof(rows[0]));
}

Test(malformed, code_directory)
{
	static const struct row rows[] = {
		{ P_CD, B_CD, NULL, 40, { { 0 } }, M, "code directory: truncated: 40 bytes" },
		{ P_CD, B_CD, NULL, 0, { { 0, 4, 0xfade0c01 } }, M, "code directory: magic 0xfade0c01" },
		{ P_CD, B_CD, NULL, 200, { { 0 } }, M, "length 261 past end of data (200 bytes)" },
		{ P_CD, B_CD, NULL, 0, { { 8, 4, 0x20000 } }, U, "version 0x20000 unsupported" },
		{ P_CD, B_CD, NULL, 0, { { 8, 4, 0x30000 } }, U, "version 0x30000 unsupported" },
		{ P_CD, B_CD, NULL, 0, { { 4, 4, 90 } }, M, "length 90 below the 96-byte header of version 0x20500" },
		{ P_CD, B_CD, NULL, 0, { { 37, 1, 5 } }, U, "unsupported hash type 5" },
		{ P_CD, B_CD, NULL, 0, { { 36, 1, 20 } }, M, "hash size 20 does not match hash type 2" },
		{ P_CD, B_CD, NULL, 0, { { 39, 1, 13 } }, U, "page size 2^13 not accepted" },
		{ P_CD, B_CD, NULL, 0, { { 20, 4, 50 } }, M, "identifier offset 50 outside the blob" },
		{ P_CD, B_CD, NULL, 0, { { 20, 4, 258 } }, M, "identifier at offset 258 not NUL-terminated" },
		{ P_CD, B_CD, NULL, 0, { { 48, 4, 300 } }, M, "team identifier offset 300 outside" },
		{ P_CD, B_CD, NULL, 0, { { 44, 4, 165 } }, M, "scatter vector at offset 165 not terminated" },
		{ P_CD, B_CD, NULL, 0, { { 44, 4, 101 }, { 101, 4, 5 } }, M, "scatter vector covers 5 pages, only 3" },
		{ P_CD, B_CD, NULL, 0, { { 16, 4, 300 } }, M, "hash offset 300 past its length 261" },
		{ P_CD, B_CD, NULL, 0, { { 24, 4, 6 } }, M, "6 special slots do not fit before hash offset 165" },
		{ P_CD, B_CD, NULL, 0, { { 28, 4, 4 } }, M, "4 code slots of 32 bytes past its length" },
		{ P_CD, B_CD, NULL, 0, { { 28, 4, 2 } }, M, "2 code slots, but code limit 12283 needs 3 pages" },
		{ P_CD, B_CD, NULL, 0, { { 28, 4, 0 }, { 32, 4, 0 } }, M, "covers no code" },
		{ P_CD, B_CD, NULL, 0, { { 56, 8, 5 * 4096 } }, M, "3 code slots, but code limit 20480 needs 5 pages" },
		{ P_CD, B_CD, NULL, 0, { { 92, 4, 200 } }, M, "pre-encrypt hashes at offset 200 outside" },
		{ P_CD, B_CD, NULL, 0, { { 8, 4, 0x20600 }, { 48, 4, 0 }, { 20, 4, 110 }, { 104, 4, 0xffff } }, M,
		  "linkage data 0+65535 outside" },
	};
	run_table(rows, sizeof(rows) / sizeof(rows[0]));
}

Test(malformed, requirements)
{
	static const struct row rows[] = {
		{ P_REQSET, B_HEX, "fade0c01 00000010 00000001 00000003", 0, { { 0 } }, M,
		  "requirements: superblob index of 1 entries" },
		{ P_REQSET, B_HEX, "fade0c01 0000001c 00000001 00000003 00000014 fade0c02 00000008", 0, { { 0 } }, M,
		  "requirements entry 0 (type 3): magic 0xfade0c02, expected 0xfade0c00" },
		{ P_REQSET, B_HEX, "fade0c01 0000001c 00000001 00000003 00000014 fade0c00 00000008", 0, { { 0 } }, M,
		  "below the 12-byte header" },
		{ P_REQSET, B_HEX,
		  "fade0c01 00000038 00000002 00000003 0000001c 00000003 0000002c fade0c00 00000010 00000001 00000001"
		  " fade0c00 0000000c 00000001",
		  0, { { 0 } }, M, "type 3 given twice" },
		{ P_REQ, B_HEX, "fade0c01 0000000c 00000001", 0, { { 0 } }, M, "expected 0xfade0c00" },
		{ P_REQ, B_HEX, "fade0c00 00000008", 0, { { 0 } }, M, "below its 12-byte header" },
		{ P_REQ, B_HEX, "fade0c00 0000000c 00000002", 0, { { 0 } }, U, "requirement kind 2 unsupported" },
		{ P_REQ, B_HEX, "fade0c00 00000010 00000001 00000006", 0, { { 0 } }, M, "expression truncated at offset 16" },
		{ P_REQ, B_HEX, "fade0c00 00000014 00000001 00000002 000000ff", 0, { { 0 } }, M,
		  "data of 255 bytes at offset 16 past its end" },
		{ P_REQ, B_HEX, "fade0c00 00000014 00000001 00000001 00000001", 0, { { 0 } }, M,
		  "4 bytes after the expression" },
		{ P_REQ, B_HEX, "fade0c00 00000010 00000001 00000063", 0, { { 0 } }, U, "opcode 99 unknown" },
		{ P_REQ, B_HEX, "fade0c00 0000001c 00000001 0000000a 00000001 4b000000 00000063", 0, { { 0 } }, U,
		  "match operation 99 unknown" },
		{ P_REQ, B_HEX, "fade0c00 0000001c 00000001 0000000e 00000000 00000000 00000000", 0, { { 0 } }, M,
		  "empty object identifier" },
		{ P_REQ, B_HEX, "fade0c00 00000020 00000001 0000000e 00000000 00000002 2a860000 00000000", 0, { { 0 } }, M,
		  "object identifier truncated" },
		{ P_REQ, B_HEX, "fade0c00 00000020 00000001 00000016 00000000 00000001 2a000000 00000009", 0, { { 0 } },
		  M, "expression truncated" },
	};
	run_table(rows, sizeof(rows) / sizeof(rows[0]));
}

Test(malformed, requirement_depth_and_skip)
{
	struct ut_buf b, t;
	ut_buf_init(&b, 0);
	ut_buf_init(&t, 0);
	ut_buf_be32(&b, CSMAGIC_REQUIREMENT);
	ut_buf_be32(&b, 0);
	ut_buf_be32(&b, 1);
	for (int i = 0; i < 300; i++)
		ut_buf_be32(&b, opNot);
	ut_buf_be32(&b, opTrue);
	ut_put_be32(b.p + 4, (uint32_t)b.len);
	cr_assert_eq(cs_req_text(b.p, b.len, &t), UT_EUNSUPPORTED);
	cr_assert(strstr(ut_errmsg(), "nested deeper than 256") != NULL);
	/* An unknown opcode flagged "skip" is passed over (SEC reqinterp.cpp). */
	static const char *hex = "fade0c00 0000001c 00000001 40000063 00000004 01020304 00000001";
	b.len = 0;
	from_hex(&b, hex);
	cr_assert_eq(cs_req_text(b.p, b.len, &t), 0, "%s", ut_errmsg());
	cr_assert_str_eq((char *)t.p, "/* opcode 99 */ always");
	ut_buf_release(&b);
	ut_buf_release(&t);
}

Test(malformed, der_entitlements)
{
	static const struct row rows[] = {
		{ P_DER, B_HEX, "", 0, { { 0 } }, M, "DER entitlements are empty" },
		{ P_DER, B_HEX, "70", 0, { { 0 } }, M, "DER header truncated at offset 0" },
		{ P_DER, B_HEX, "1f00", 0, { { 0 } }, M, "multi-byte tag 0x1f" },
		{ P_DER, B_HEX, "7080", 0, { { 0 } }, M, "indefinite length" },
		{ P_DER, B_HEX, "7085 0000000001", 0, { { 0 } }, M, "length of 5 bytes" },
		{ P_DER, B_HEX, "708201", 0, { { 0 } }, M, "length truncated" },
		{ P_DER, B_HEX, "7081 05 0201 01b000", 0, { { 0 } }, M, "not in minimal form" },
		{ P_DER, B_HEX, "7005 0201", 0, { { 0 } }, M, "length 5 past end" },
		{ P_DER, B_HEX, "7000 00", 0, { { 0 } }, M, "1 bytes after the top element" },
		{ P_DER, B_HEX, "0400", 0, { { 0 } }, M, "start with tag 0x04, expected 0x70 or 0x31" },
		{ P_DER, B_HEX, "7003 040101", 0, { { 0 } }, M, "version has tag 0x04" },
		{ P_DER, B_HEX, "7003 020102", 0, { { 0 } }, U, "DER entitlements version 2 unsupported" },
		{ P_DER, B_HEX, "7003 020101", 0, { { 0 } }, M, "wrapper ends before its dictionary" },
		{ P_DER, B_HEX, "7005 020101 3000", 0, { { 0 } }, M, "dictionary has tag 0x30" },
		{ P_DER, B_HEX, "7007 020101 b000 0000", 0, { { 0 } }, M, "2 bytes after the dictionary" },
		{ P_DER, B_HEX, "7004 0200 b000", 0, { { 0 } }, M, "integer with no content" },
		{ P_DER, B_HEX, "7006 02020001 b000", 0, { { 0 } }, M, "DER integer not in minimal form" },
		{ P_DER, B_HEX, "700d 0209010000000000000000 b000", 0, { { 0 } }, U, "does not fit 64 bits" },
		{ P_DER, B_HEX, "3102 0400", 0, { { 0 } }, M, "expected a SEQUENCE" },
		{ P_DER, B_HEX, "3105 3003 0c0161", 0, { { 0 } }, M, "not a key and one value" },
		{ P_DER, B_HEX, "3108 3006 040161 0101ff", 0, { { 0 } }, M, "expected a UTF8String" },
		{ P_DER, B_HEX, "3108 3006 0c0100 0101ff", 0, { { 0 } }, M, "key contains a NUL byte" },
		{ P_DER, B_HEX, "3110 3006 0c0161 0101ff 3006 0c0161 010100", 0, { { 0 } }, M, "duplicate entitlement 'a'" },
		{ P_DER, B_HEX, "3109 3007 0c0161 0102ffff", 0, { { 0 } }, M, "entitlement 'a': DER boolean of 2 bytes" },
		{ P_DER, B_HEX, "3109 3007 0c0161 0c026100", 0, { { 0 } }, M, "DER string contains a NUL byte" },
		{ P_DER, B_HEX, "3108 3006 0c0161 040100", 0, { { 0 } }, U, "value with tag 0x04 unsupported" },
		{ P_DER, B_HEX, "3109 3007 0c0161 3002 0100", 0, { { 0 } }, M, "DER boolean of 0 bytes" },
		{ P_DERBLOB, B_HEX, "fade7171 0000000a 3100", 0, { { 0 } }, M, "DER entitlements blob: blob magic 0xfade7171" },
		{ P_XMLBLOB, B_HEX, "fade7171 00000010 3c61727261792f3e", 0, { { 0 } }, M, "not a dictionary" },
		{ P_XMLBLOB, B_HEX, "fade7171 00000010 3c3c3c3c3c3c3c3c", 0, { { 0 } }, M, "not a valid XML property list" },
	};
	run_table(rows, sizeof(rows) / sizeof(rows[0]));
}

Test(malformed, der_depth)
{
	/* 40 nested arrays inside one entry: deeper than CS_DER_MAX_DEPTH. */
	uint8_t b[200];
	size_t n = 0;
	int depth = 40;
	size_t inner = 2 * (size_t)depth; /* each "30 LL" header */
	b[n++] = 0x31;
	b[n++] = (uint8_t)(inner + 5);
	b[n++] = 0x30;
	b[n++] = (uint8_t)(inner + 3);
	b[n++] = 0x0c;
	b[n++] = 0x01;
	b[n++] = 'a';
	for (int i = 0; i < depth; i++) {
		b[n++] = 0x30;
		b[n++] = (uint8_t)(2 * (depth - 1 - i));
	}
	plist_t p = NULL;
	cr_assert_eq(cs_ent_der_decode(b, n, &p, NULL), UT_EUNSUPPORTED, "%s", ut_errmsg());
	cr_assert(strstr(ut_errmsg(), "nested deeper than 32") != NULL, "%s", ut_errmsg());
	cr_assert_null(p);
}

Test(malformed, oid_contents)
{
	static const struct row rows[] = {
		{ P_REQ, B_HEX, "fade0c00 00000020 00000001 0000000e 00000000 00000003 2a800100 00000000", 0, { { 0 } }, M,
		  "arc not in minimal form" },
		{ P_REQ, B_HEX,
		  "fade0c00 00000028 00000001 0000000e 00000000 0000000b ffffffffffffffffffff7f00 00000000", 0, { { 0 } },
		  U, "arc too large" },
	};
	run_table(rows, sizeof(rows) / sizeof(rows[0]));
	static const char *const bad[] = { "1", "3.1", "1.40", "1..2", "a.b", "1.2.", "1.2.99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ut_buf b;
		ut_buf_init(&b, 0);
		cr_assert_eq(cs_der_oid_encode(bad[i], &b), UT_EINVAL, "'%s'", bad[i]);
		cr_assert(strstr(ut_errmsg(), "object identifier") != NULL);
		ut_buf_release(&b);
	}
	char small[4];
	cr_assert_eq(cs_der_oid_decode(ut_span_make("\x2a\x86\x48\x86\xf7\x63", 6), small, sizeof(small)), UT_ENOMEM);
}

/* Legacy and flagged opcodes print as Apple's dumper does. */
Test(malformed, requirement_odd_but_valid)
{
	static const struct {
		const char *hex, *text;
	} rows[] = {
		{ "fade0c00 00000020 00000001 00000005 00000001 4b000000 00000001 76000000", "info[K] = v" },
		{ "fade0c00 00000018 00000001 80000063 00000004 01020304", "false /* opcode 99 */" },
	};
	for (size_t i = 0; i < 2; i++) {
		struct ut_buf b, t;
		ut_buf_init(&b, 0);
		ut_buf_init(&t, 0);
		from_hex(&b, rows[i].hex);
		cr_assert_eq(cs_req_text(b.p, b.len, &t), 0, "%s", ut_errmsg());
		cr_assert_str_eq((char *)t.p, rows[i].text);
		ut_buf_release(&b);
		ut_buf_release(&t);
	}
	/* A set with a type codesign has no name for. */
	struct ut_buf b, t;
	ut_buf_init(&b, 0);
	ut_buf_init(&t, 0);
	from_hex(&b, "fade0c01 00000024 00000001 00000009 00000014 fade0c00 00000010 00000001 00000001");
	cr_assert_eq(cs_req_set_text(b.p, b.len, &t), 0, "%s", ut_errmsg());
	cr_assert_str_eq((char *)t.p, "/*unknown type*/ 9 => always\n");
	ut_buf_release(&b);
	ut_buf_release(&t);
}

/* Builders refuse bad arguments with UT_EINVAL and leave the output alone. */
Test(malformed, builder_arguments)
{
	struct ut_buf b;
	ut_buf_init(&b, 0);
	static const uint8_t hdr[] = { 0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 0x10, 0, 0, 0, 0 };
	struct cs_blob_in in[2] = { { 2, hdr, sizeof(hdr) }, { 2, hdr, sizeof(hdr) } };
	cr_assert_eq(cs_superblob_build(&b, CSMAGIC_EMBEDDED_SIGNATURE, in, 1, CS_SB_APPLE), UT_EINVAL);
	cr_assert(strstr(ut_errmsg(), "blob header does not match") != NULL);
	cr_assert_eq(cs_superblob_build(&b, CSMAGIC_EMBEDDED_SIGNATURE, in, 65, CS_SB_APPLE), UT_EINVAL);
	struct cs_special_slots s1 = { .hash_type = CS_HASHTYPE_SHA1, .count = 2 };
	const struct {
		struct cs_cd_params p;
		const char *msg;
	} rows[] = {
		{ { .hash_type = 2, .page_shift = 12, .code_limit = 1 }, "needs an identifier" },
		{ { .hash_type = 9, .page_shift = 12, .identifier = "x", .code_limit = 1 }, "unsupported hash type 9" },
		{ { .hash_type = 2, .page_shift = 12, .identifier = "x", .code_limit = 1, .special = &s1 },
		  "special slots hashed with type 1" },
		{ { .hash_type = 2, .page_shift = 13, .identifier = "x", .code_limit = 1 }, "page size 2^13" },
		{ { .version = 0x30000, .hash_type = 2, .page_shift = 12, .identifier = "x", .code_limit = 1 },
		  "version 0x30000 unsupported" },
		{ { .version = 0x20100, .hash_type = 2, .page_shift = 12, .identifier = "x", .code_limit = 1,
		    .team_id = "T" }, "cannot hold a team identifier" },
		{ { .version = 0x20200, .hash_type = 2, .page_shift = 12, .identifier = "x",
		    .code_limit = (uint64_t)1 << 33 }, "cannot cover" },
		{ { .version = 0x20300, .hash_type = 2, .page_shift = 12, .identifier = "x", .code_limit = 1,
		    .exec_seg_limit = 1 }, "executable segment" },
		{ { .version = 0x20400, .hash_type = 2, .page_shift = 12, .identifier = "x", .code_limit = 1,
		    .runtime = 1 }, "runtime version" },
		{ { .hash_type = 2, .page_shift = 12, .identifier = "x" }, "must cover some code" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cr_assert_eq(cs_cd_build(&b, &rows[i].p, NULL), UT_EINVAL, "row %zu", i);
		cr_assert(strstr(ut_errmsg(), rows[i].msg) != NULL, "row %zu: %s", i, ut_errmsg());
		cr_assert_eq(cs_cd_size(&rows[i].p, 0), 0);
	}
	struct cs_cd_lld_params lp = { NULL, 4096, 0, 0, 0, NULL };
	cr_assert_eq(cs_cd_build_lld(&b, &lp), UT_EINVAL);
	lp.identifier = "x";
	lp.code_limit = 0;
	cr_assert_eq(cs_cd_build_lld(&b, &lp), UT_EINVAL);
	struct cs_req_in r = { 3, hdr, sizeof(hdr) };
	cr_assert_eq(cs_req_set_build(&b, &r, 1), UT_EINVAL);
	struct ut_span sp[CS_SPECIAL_SLOT_MAX + 1] = { { 0 } };
	struct cs_special_slots ss;
	cr_assert_eq(cs_special_slots_compute(&ss, 7, sp), UT_EUNSUPPORTED);
	cr_assert_eq(b.len, 0);
	ut_buf_release(&b);
}

/* Pre-encrypt hashes: version 0x20500, a copy of the code slots before the special slots. */
Test(malformed, pre_encrypt_layout)
{
	uint8_t code[2 * 20];
	memset(code, 0x5a, sizeof(code));
	struct cs_cd_params p = { .hash_type = CS_HASHTYPE_SHA1, .page_shift = 12, .identifier = "pe",
				  .code_limit = 5000, .pre_encrypt = 1, .code_hashes = code };
	struct ut_buf b;
	struct cs_cd cd;
	struct cs_cd_layout l;
	ut_buf_init(&b, 0);
	cr_assert_eq(cs_cd_build(&b, &p, &l), 0, "%s", ut_errmsg());
	cr_assert_eq(l.version, 0x20500);
	cr_assert_eq(l.pre_encrypt_offset, 96 + 3);
	cr_assert_eq(l.hash_offset, 96 + 3 + 40);
	cr_assert_eq(cs_cd_parse(&cd, b.p, b.len), 0, "%s", ut_errmsg());
	cr_assert_not_null(cd.pre_encrypt_hashes);
	cr_assert(memcmp(cd.pre_encrypt_hashes, code, sizeof(code)) == 0);
	cr_assert(memcmp(cs_cd_code_slot(&cd, 1), code + 20, 20) == 0);
	cr_assert_null(cs_cd_code_slot(&cd, 2));
	cr_assert_null(cs_cd_special_slot(&cd, 1));
	ut_buf_release(&b);
}
