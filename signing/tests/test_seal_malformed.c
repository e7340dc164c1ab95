/*
 * test_seal_malformed.c - one defect per CodeResources: the reader fails with
 * UT_EMALFORMED (or the noted code) and a message naming the table and path.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_seal.h"
#include "test_bundle_util.h"
#include "tsupport.h"
#include "ut_err.h"
#include "ut_limits.h"

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n"
#define TAIL "</dict>\n</plist>\n"
#define RULES2 "<key>rules2</key><dict><key>^.*</key><true/></dict>"
#define RULES "<key>rules</key><dict><key>^Resources/</key><true/></dict>"
#define F2(entries) HEAD "<key>files2</key><dict>" entries "</dict>" RULES2 TAIL
#define H20 "<data>AAAAAAAAAAAAAAAAAAAAAAAAAAA=</data>"         /* 20 bytes */
#define H32 "<data>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</data>" /* 32 bytes */

static const struct {
	const char *name;
	const char *xml;
	int code;
	const char *msg;
} rows[] = {
	{ "not a plist", "this is not a property list at all", UT_EMALFORMED, "not a valid XML property list" },
	{ "too short", "<a/>", UT_EMALFORMED, "not a property list" },
	{ "root array", "<?xml version=\"1.0\"?><plist version=\"1.0\"><array/></plist>", UT_EMALFORMED,
	  "CodeResources is not a dictionary" },
	{ "no tables", HEAD RULES2 TAIL, UT_EMALFORMED, "no 'files2' or 'files' table" },
	{ "files2 without rules2", HEAD "<key>files2</key><dict/>" TAIL, UT_EMALFORMED, "'files2' without 'rules2'" },
	{ "files without rules", HEAD "<key>files</key><dict/>" TAIL, UT_EMALFORMED, "'files' without 'rules'" },
	{ "files2 an array", HEAD "<key>files2</key><array/>" RULES2 TAIL, UT_EMALFORMED, "'files2' is not a dictionary" },
	{ "entry an integer", F2("<key>a</key><integer>1</integer>"), UT_EMALFORMED,
	  "files2 entry 'a': neither data nor a dictionary" },
	{ "bare hash 19 bytes", F2("<key>a</key><data>AAAAAAAAAAAAAAAAAAAAAAAAAA==</data>"), UT_EMALFORMED,
	  "files2 entry 'a': 'hash' has 19 bytes, expected 20" },
	{ "bad base64", F2("<key>a</key><data>!!!!</data>"), UT_EMALFORMED, "files2 entry 'a': 'hash' has 0 bytes" },
	{ "hash2 of 20 bytes", F2("<key>a</key><dict><key>hash2</key>" H20 "</dict>"), UT_EMALFORMED,
	  "files2 entry 'a': 'hash2' has 20 bytes, expected 32" },
	{ "hash a string", F2("<key>a</key><dict><key>hash</key><string>abc</string></dict>"), UT_EMALFORMED,
	  "files2 entry 'a': 'hash' is not data" },
	{ "hash4 short", F2("<key>a</key><dict><key>hash4</key>" H32 "</dict>"), UT_EMALFORMED,
	  "'hash4' has 32 bytes, expected 48" },
	{ "empty entry", F2("<key>a</key><dict/>"), UT_EMALFORMED, "files2 entry 'a': no hash, symlink or requirement" },
	{ "hash and symlink", F2("<key>a</key><dict><key>hash</key>" H20 "<key>symlink</key><string>b</string></dict>"),
	  UT_EMALFORMED, "files2 entry 'a': mixes a hash, a symlink and nested code" },
	{ "symlink not a string", F2("<key>a</key><dict><key>symlink</key><true/></dict>"), UT_EMALFORMED,
	  "files2 entry 'a': 'symlink' is not a string" },
	{ "requirement not a string", F2("<key>a</key><dict><key>requirement</key><integer>3</integer></dict>"),
	  UT_EMALFORMED, "files2 entry 'a': 'requirement' is not a string" },
	{ "cdhash 32 bytes",
	  F2("<key>a</key><dict><key>cdhash</key>" H32 "<key>requirement</key><string>cdhash H\"00\"</string></dict>"),
	  UT_EMALFORMED, "files2 entry 'a': 'cdhash' has 32 bytes, expected 20" },
	{ "cdhash without requirement", F2("<key>a</key><dict><key>cdhash</key>" H20 "</dict>"), UT_EMALFORMED,
	  "files2 entry 'a': nested code without a requirement" },
	{ "optional not a boolean", F2("<key>a</key><dict><key>hash2</key>" H32 "<key>optional</key><string>yes</string></dict>"),
	  UT_EMALFORMED, "files2 entry 'a': 'optional' is not a boolean" },
	{ "empty path", F2("<key></key>" H20), UT_EMALFORMED, "files2: entry with an empty path" },
	{ "v1 entry without SHA-1", HEAD "<key>files</key><dict><key>Resources/x</key><dict><key>hash2</key>" H32
	  "</dict></dict>" RULES TAIL, UT_EMALFORMED, "files entry 'Resources/x': no SHA-1 'hash'" },
	{ "v1 symlink entry", HEAD "<key>files</key><dict><key>Resources/x</key><dict><key>symlink</key><string>y</string>"
	  "</dict></dict>" RULES TAIL, UT_EMALFORMED, "files entry 'Resources/x': no SHA-1 'hash'" },
	{ "rules2 value a string", HEAD "<key>files2</key><dict/><key>rules2</key><dict><key>^.*</key><string>x</string>"
	  "</dict>" TAIL, UT_EMALFORMED, "rules2 rule '^.*': value is neither a boolean nor a dictionary" },
	{ "rules2 bad regex", HEAD "<key>files2</key><dict/><key>rules2</key><dict><key>^(</key><true/></dict>" TAIL,
	  UT_EMALFORMED, "resource rule '^(': bad regular expression" },
	{ "weight a string", HEAD "<key>files2</key><dict/><key>rules2</key><dict><key>^x</key><dict><key>weight</key>"
	  "<string>20</string></dict></dict>" TAIL, UT_EMALFORMED, "rules2 rule '^x': weight is not a number" },
	{ "weight negative", HEAD "<key>files2</key><dict/><key>rules2</key><dict><key>^x</key><dict><key>weight</key>"
	  "<real>-1</real></dict></dict>" TAIL, UT_EMALFORMED, "rules2 rule '^x': weight out of range" },
	{ "flag not a boolean", HEAD "<key>files2</key><dict/><key>rules2</key><dict><key>^x</key><dict><key>omit</key>"
	  "<string>yes</string></dict></dict>" TAIL, UT_EMALFORMED, "rules2 rule '^x': 'omit' is not a boolean" },
	{ "rules an array", HEAD "<key>files</key><dict/><key>rules</key><array/>" TAIL, UT_EMALFORMED,
	  "'rules' is not a dictionary" },
};

Test(seal_malformed, table)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cs_seal s;
		int rc = cs_seal_parse(&s, (const uint8_t *)rows[i].xml, strlen(rows[i].xml), "CodeResources");
		cr_expect_eq(rc, rows[i].code, "%s: rc %d (%s)", rows[i].name, rc, ut_errmsg());
		cr_expect(strstr(ut_errmsg(), rows[i].msg), "%s: '%s'", rows[i].name, ut_errmsg());
		cr_expect(strncmp(ut_errmsg(), "'CodeResources'", 15) == 0, "%s: names the file: %s", rows[i].name,
			  ut_errmsg());
		cr_expect_eq(s.files2.n + s.files.n + s.rules.n + s.rules2.n, 0, "%s: nothing kept", rows[i].name);
		cs_seal_release(&s);
	}
}

Test(seal_malformed, minimal_and_binary_forms_accepted)
{
	const char *ok = F2("<key>a</key>" H20 "<key>b</key><dict><key>symlink</key><string>a</string></dict>"
			    "<key>c</key><dict><key>requirement</key><string>identifier x</string></dict>"
			    "<key>d</key><dict><key>hash2</key>" H32 "<key>optional</key><true/><key>unknown</key><true/></dict>");
	struct cs_seal s;
	cr_assert_eq(cs_seal_parse(&s, (const uint8_t *)ok, strlen(ok), "ok"), 0, "%s", ut_errmsg());
	cr_expect_eq(s.files2.n, 4);
	cr_expect_eq(cs_seal_find(&s.files2, "b")->kind, CS_SEAL_SYMLINK);
	cr_expect_eq(cs_seal_find(&s.files2, "c")->kind, CS_SEAL_NESTED);
	cr_expect_not(cs_seal_find(&s.files2, "c")->has_cdhash);
	cr_expect(cs_seal_find(&s.files2, "d")->optional);
	cs_seal_release(&s);
	/* The same as a binary plist. */
	plist_t p = NULL;
	plist_from_xml(ok, (uint32_t)strlen(ok), &p);
	char *bin = NULL;
	uint32_t n = 0;
	plist_to_bin(p, &bin, &n);
	cr_assert_eq(cs_seal_parse(&s, (const uint8_t *)bin, n, "bin"), 0, "%s", ut_errmsg());
	cr_expect_eq(s.files2.n, 4);
	cs_seal_release(&s);
	free(bin);
	plist_free(p);
}

Test(seal_malformed, oversized_and_missing_file)
{
	size_t n = (size_t)UT_MAX_PLIST_SIZE + 1;
	uint8_t *big = calloc(1, n);
	memcpy(big, "<?xml", 5);
	struct cs_seal s;
	cr_expect_eq(cs_seal_parse(&s, big, n, "big"), UT_EUNSUPPORTED);
	free(big);
	cr_expect_neq(cs_seal_read_file(&s, "/nonexistent/_CodeSignature/CodeResources"), 0);
	cr_expect(strstr(ut_errmsg(), "/nonexistent/_CodeSignature/CodeResources"), "%s", ut_errmsg());
}

Test(seal_malformed, binary_plist_key_with_nul_does_not_abort)
{
	/* Found by fuzz_seal: libplist 2.2 asserts when a binary-plist dictionary key holding a NUL is read. */
	const char *xml = F2("<key>aXb</key>" H20);
	plist_t p = NULL;
	plist_from_xml(xml, (uint32_t)strlen(xml), &p);
	char *bin = NULL;
	uint32_t n = 0;
	plist_to_bin(p, &bin, &n);
	plist_free(p);
	char *k = memmem(bin, n, "\x53" "aXb", 4);
	cr_assert_not_null(k);
	k[2] = '\0';
	struct cs_seal s;
	int rc = cs_seal_parse(&s, (const uint8_t *)bin, n, "bin");
	cr_expect_eq(rc, 0, "%s", ut_errmsg());
	cr_expect_eq(s.files2.n, 1);
	cr_expect_str_eq(s.files2.n ? s.files2.v[0].path : "", "a", "the key is cut at the NUL");
	cs_seal_release(&s);
	free(bin);
}
