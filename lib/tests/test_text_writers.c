/*
 * test_text_writers.c - strict UTF-8 (ut_utf8_seq) against Python's strict
 * UTF-8 decoder, and the XML writer (ut_xml) against two XML parsers: what it
 * writes is well-formed for xmllint, and Python's ElementTree reads back
 * exactly the strings written (quotes, '<', '&', tab, newline and carriage
 * return in attributes and text), with bytes XML cannot carry shown as
 * "\xNN".
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsupport_fs.h"
#include "tsupport_run.h"
#include "ut_buf.h"
#include "ut_json.h"
#include "ut_utf8.h"
#include "ut_xml.h"

/* Python prints "<hex bytes> <length of the one code point they start, or 0>" per line: edge cases and random ones. */
static const char py_utf8[] =
	"import random\n"
	"def seq_len(b):\n"
	"    for k in range(1, 5):\n"
	"        try:\n"
	"            if len(b[:k].decode('utf-8', 'strict')) == 1 and len(b) >= k: return k\n"
	"        except UnicodeDecodeError: pass\n"
	"    return 0\n"
	"r = random.Random(6)\n"
	"cases = [bytes([a]) for a in range(256)]\n"
	"cases += [bytes([a, b]) for a in range(0xc0, 0x100) for b in (0x00, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0)]\n"
	"cases += [bytes([a, b, c]) for a in range(0xe0, 0xf0) for b in (0x80, 0x9f, 0xa0, 0xbf, 0xc0) for c in (0x80, 0xbf, 0x41)]\n"
	"cases += [bytes([a, b, c, d]) for a in range(0xf0, 0xf8) for b in (0x80, 0x8f, 0x90, 0xbf) for c in (0x80, 0xbf) for d in (0x80, 0x41)]\n"
	"cases += [bytes(r.randrange(256) for _ in range(r.randrange(1, 5))) for _ in range(20000)]\n"
	"cases += [b'\\xe2\\x82\\xac', b'\\xf0\\x9f\\x98\\x80', b'\\xed\\x9f\\xbf', b'\\xee\\x80\\x80', b'\\xef\\xbf\\xbf', b'\\xf4\\x8f\\xbf\\xbf']\n"
	"for c in cases: print(c.hex(), seq_len(c))\n";

static int unhex(const char *h, unsigned char *out, size_t max)
{
	size_t n = 0;
	for (; h[0] && h[1] && n < max; h += 2) {
		unsigned v;
		if (sscanf(h, "%2x", &v) != 1)
			return -1;
		out[n++] = (unsigned char)v;
	}
	return (int)n;
}

Test(utf8, strict_like_python)
{
	const char *argv[] = { "python3", "-c", py_utf8, NULL };
	struct tsupport_out o;
	cr_assert_eq(tsupport_run(&o, argv, NULL, NULL), 0);
	cr_assert_eq(o.status, 0, "%s", o.err);
	size_t ncases = 0, bad = 0;
	for (char *line = strtok(o.out, "\n"); line; line = strtok(NULL, "\n")) {
		char hex[16];
		int want;
		cr_assert_eq(sscanf(line, "%15s %d", hex, &want), 2, "%s", line);
		unsigned char b[8];
		int n = unhex(hex, b, sizeof(b));
		cr_assert_gt(n, 0);
		uint32_t cp = 0;
		size_t got = ut_utf8_seq(b, (size_t)n, &cp);
		if ((int)got != want && bad++ < 10)
			cr_log_error("%s: ut_utf8_seq %zu, Python %d", hex, got, want);
		ncases++;
	}
	cr_expect_eq(bad, 0, "%zu of %zu sequences judged unlike Python", bad, ncases);
	cr_expect_gt(ncases, 20000);
	tsupport_out_release(&o);
}

Test(utf8, code_points)
{
	uint32_t cp = 0;
	cr_expect_eq(ut_utf8_seq((const unsigned char *)"\xe2\x82\xac", 3, &cp), 3);
	cr_expect_eq(cp, 0x20acu);
	cr_expect_eq(ut_utf8_seq((const unsigned char *)"\xf4\x8f\xbf\xbf", 4, &cp), 4);
	cr_expect_eq(cp, 0x10ffffu);
	cr_expect_eq(ut_utf8_seq((const unsigned char *)"\xe2\x82", 2, &cp), 0, "truncated");
	cr_expect_eq(ut_utf8_seq((const unsigned char *)"", 0, &cp), 0);
}

/* A document whose attribute and text hold s; returns what ElementTree reads back from both, as Python repr lines. */
static char *roundtrip(const char *s, char **xml_out)
{
	struct ut_buf b;
	ut_buf_init(&b, 0);
	struct ut_xml x;
	ut_xml_init(&x, &b);
	ut_xml_start(&x, "r");
	ut_xml_start(&x, "e");
	ut_xml_attr(&x, "a", s);
	ut_xml_text(&x, s);
	ut_xml_end(&x);
	ut_xml_start(&x, "empty");
	ut_xml_end(&x);
	ut_xml_end(&x);
	cr_assert_eq(ut_xml_finish(&x), 0);
	char *dir = tsupport_tmpdir("xml");
	char *path = tsupport_printf("%s/doc.xml", dir);
	cr_assert_eq(tsupport_write(path, b.p, b.len), 0);
	const char *lint[] = { "xmllint", "--noout", path, NULL };
	struct tsupport_out o;
	cr_assert_eq(tsupport_run(&o, lint, NULL, NULL), 0);
	cr_expect_eq(o.status, 0, "xmllint: %s", o.err);
	tsupport_out_release(&o);
	static const char py[] = "import sys, xml.etree.ElementTree as ET\n"
				 "e = ET.parse(sys.argv[1]).getroot().find('e')\n"
				 "print(ascii(e.get('a'))); print(ascii(e.text or ''))\n";
	const char *argv[] = { "python3", "-c", py, path, NULL };
	cr_assert_eq(tsupport_run(&o, argv, NULL, NULL), 0);
	cr_expect_eq(o.status, 0, "ElementTree: %s", o.err);
	char *r = strdup(o.out);
	tsupport_out_release(&o);
	if (xml_out) {
		cr_assert_eq(ut_buf_cstr(&b), 0);
		*xml_out = strdup((const char *)b.p);
	}
	ut_buf_release(&b);
	tsupport_rmtree(dir);
	free(path);
	free(dir);
	return r;
}

/* Python's ascii() of a str, for the expected lines. */
static char *py_ascii(const char *utf8)
{
	const char *argv[] = { "python3", "-c", "import sys; print(ascii(sys.stdin.buffer.read().decode('utf-8')))", NULL };
	struct tsupport_out o;
	cr_assert_eq(tsupport_run(&o, argv, NULL, utf8), 0);
	cr_assert_eq(o.status, 0, "%s", o.err);
	char *r = strdup(o.out);
	tsupport_out_release(&o);
	return r;
}

Test(xml, markup_characters_round_trip)
{
	const char *s = "a \"quoted\" 'x' <tag> & &amp; ]]> tab\there\nline\r\nend \xe2\x82\xac \xf0\x9f\x98\x80";
	char *got = roundtrip(s, NULL);
	char *one = py_ascii(s);
	/* the attribute and the text both come back exactly */
	char *want = NULL;
	cr_assert(asprintf(&want, "%s%s", one, one) > 0);
	cr_expect_str_eq(got, want);
	free(want);
	free(one);
	free(got);
}

Test(xml, bytes_xml_cannot_carry_become_visible_escapes)
{
	/* NUL cannot be in a C string; 0x01, 0x1f, a stray continuation byte, an overlong '/', U+FFFE */
	const char *s = "a\x01" "b\x1f" "c\x80" "d\xc0\xaf" "e\xef\xbf\xbe" "f";
	char *xml = NULL;
	char *got = roundtrip(s, &xml);
	char *one = py_ascii("a\\x01b\\x1Fc\\x80d\\xC0\\xAFe\\xEF\\xBF\\xBEf");
	char *want = NULL;
	cr_assert(asprintf(&want, "%s%s", one, one) > 0);
	cr_expect_str_eq(got, want, "%s", xml);
	cr_expect(strstr(xml, "<empty/>"), "an empty element is self-closed: %s", xml);
	free(want);
	free(one);
	free(got);
	free(xml);
}

Test(xml, misuse_is_reported)
{
	struct ut_buf b;
	ut_buf_init(&b, 0);
	struct ut_xml x;
	ut_xml_init(&x, &b);
	ut_xml_start(&x, "a");
	cr_expect_neq(ut_xml_finish(&x), 0, "an open element");
	ut_buf_release(&b);
	ut_buf_init(&b, 0);
	ut_xml_init(&x, &b);
	ut_xml_start(&x, "a");
	ut_xml_text(&x, "t");
	ut_xml_attr(&x, "late", "v");
	ut_xml_end(&x);
	cr_expect_neq(ut_xml_finish(&x), 0, "an attribute after content");
	ut_buf_release(&b);
}

Test(json, ill_formed_utf8_is_escaped_so_python_reads_it)
{
	struct ut_buf b;
	ut_buf_init(&b, 0);
	struct ut_json j;
	ut_json_init(&j, &b, 0);
	ut_json_arr(&j);
	ut_json_str(&j, "ok \xe2\x82\xac surrogate \xed\xa0\x80 overlong \xe0\x80\xaf end");
	ut_json_end(&j);
	cr_assert_eq(ut_json_finish(&j), 0);
	cr_assert_eq(ut_buf_cstr(&b), 0);
	const char *argv[] = { "python3", "-c",
			       "import json,sys; d=json.loads(sys.stdin.buffer.read().decode('utf-8','strict')); print(ascii(d[0]))",
			       NULL };
	struct tsupport_out o;
	cr_assert_eq(tsupport_run(&o, argv, NULL, (const char *)b.p), 0);
	cr_expect_eq(o.status, 0, "strict UTF-8 JSON: %s", o.err);
	cr_expect_str_eq(o.out, "'ok \\u20ac surrogate \\xed\\xa0\\x80 overlong \\xe0\\x80\\xaf end'\n");
	tsupport_out_release(&o);
	ut_buf_release(&b);
}
