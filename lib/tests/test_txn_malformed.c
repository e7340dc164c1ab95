/*
 * test_txn_malformed.c - the journal, manifest and installed-record parsers
 * on hand-written input: one table per parser {input, expected code, message
 * substring}, torn journal tails accepted, and the documented format
 * (docs/transaction.md) parsed and written back byte for byte.
 *
 * Checksums in the inputs are computed here with zlib's crc32(), as the
 * format document defines them.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tsupport_fs.h"
#include "ut_err.h"
#include "ut_state_int.h"

#define SHA "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define BEGIN "1 BEGIN id=a tool=t what=w bundle=/b\n"

/* Each line gets " crc=<crc32 of the line>" (journal records). */
static char *with_crcs(const char *text)
{
	char *out = tsupport_printf("%s", "");
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *next = tsupport_printf("%s%.*s crc=%08lx%s", out, (int)n, p, crc32(0L, (const Bytef *)p, (uInt)n),
					     nl ? "\n" : "");
		free(out);
		out = next;
		p += n + (nl ? 1 : 0);
	}
	return out;
}

/* body + "<end> crc=<crc32 of body>\n" (manifest, installed). */
static char *with_end(const char *body, const char *end)
{
	return tsupport_printf("%s%s crc=%08lx\n", body, end, crc32(0L, (const Bytef *)body, (uInt)strlen(body)));
}

struct row {
	const char *text;
	int code;
	const char *msg;
};

static const struct row journal_rows[] = {
	{ "2 BEGIN id=a tool=t what=w bundle=/b", UT_EMALFORMED, "record 1: sequence number 2, expected 1" },
	{ BEGIN "2 BOGUS", UT_EMALFORMED, "unknown record type 'BOGUS'" },
	{ BEGIN "2 BACKUP store=pristine path=../x kind=absent", UT_EMALFORMED, "bad path" },
	{ BEGIN "2 BACKUP store=pristine path=/x kind=absent", UT_EMALFORMED, "bad path" },
	{ "1 BEGIN id=a id=b tool=t what=w bundle=/b", UT_EMALFORMED, "key 'id' repeated" },
	{ "1 BEGIN id=%zz tool=t what=w bundle=/b", UT_EMALFORMED, "bad escape" },
	{ "1 BEGIN id=%00 tool=t what=w bundle=/b", UT_EMALFORMED, "NUL byte" },
	{ "1 BEGIN id=a\tb tool=t what=w bundle=/b", UT_EMALFORMED, "unescaped byte 0x09" },
	{ "1 BEGIN id=a  tool=t what=w bundle=/b", UT_EMALFORMED, "empty field" },
	{ "1 BEGIN id tool=t what=w bundle=/b", UT_EMALFORMED, "field without key=value" },
	{ "1 BEGIN id=a tool=t what=w bundle=/b extra=1", UT_EMALFORMED, "unexpected key 'extra' in BEGIN" },
	{ "1 BEGIN tool=t what=w bundle=/b", UT_EMALFORMED, "BEGIN without id" },
	{ "x BEGIN id=a tool=t what=w bundle=/b", UT_EMALFORMED, "no sequence number" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=file mode=0644 size=1 sha256=abc", UT_EMALFORMED, "bad sha256" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=file mode=0644 sha256=" SHA, UT_EMALFORMED, "BACKUP without size" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=file mode=0644 size=99999999999999999999 sha256=" SHA, UT_EMALFORMED,
	  "bad size" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=file mode=0999 size=1 sha256=" SHA, UT_EMALFORMED, "bad mode" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=absent sha256=" SHA, UT_EMALFORMED, "does not belong to kind absent" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=symlink", UT_EMALFORMED, "symlink without a target" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=fifo", UT_EMALFORMED, "bad kind 'fifo'" },
	{ BEGIN "2 BACKUP store=elsewhere path=a kind=absent", UT_EMALFORMED, "BACKUP with a bad store" },
	{ "1 BACKUP store=pristine path=a kind=absent", UT_EMALFORMED, "record 1: BACKUP out of order" },
	{ BEGIN "2 STEP n=1 action=write path=a kind=absent", UT_EMALFORMED, "changes a path without a backup" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=absent\n3 STEP n=2 action=delete path=a kind=absent", UT_EMALFORMED,
	  "record 3: STEP number out of sequence" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=absent\n3 STEP n=1 action=frob path=a kind=absent", UT_EMALFORMED,
	  "STEP with a bad action" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=absent\n3 STEP n=1 action=delete path=a kind=absent\n"
		"4 BACKUP store=pristine path=b kind=absent",
	  UT_EMALFORMED, "record 4: BACKUP out of order" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=absent\n3 BACKUP store=undo path=a kind=absent", UT_EMALFORMED,
	  "repeats a path" },
	{ BEGIN "2 COMMIT", UT_EMALFORMED, "record 2: COMMIT out of order" },
	{ BEGIN "2 VERIFIED\n3 VERIFIED", UT_EMALFORMED, "record 3: VERIFIED out of order" },
	{ BEGIN "2 VERIFIED\n3 COMMIT\n4 ROLLBACK-BEGIN mode=undo id=r tool=t bundle=/b", UT_EMALFORMED,
	  "record 4: ROLLBACK-BEGIN out of order" },
	{ BEGIN "2 RESTORED path=a action=written", UT_EMALFORMED, "record 2: RESTORED out of order" },
	{ BEGIN "2 ROLLBACK-BEGIN mode=pristine id=r tool=t bundle=/b\n3 ROLLBACK-DONE mode=undo", UT_EMALFORMED,
	  "record 3: ROLLBACK-DONE out of order" },
	{ BEGIN "2 ROLLBACK-BEGIN mode=pristine id=r tool=t bundle=/b\n3 ROLLBACK-BEGIN mode=undo id=r tool=t bundle=/b",
	  UT_EMALFORMED, "record 3: ROLLBACK-BEGIN out of order" },
	{ BEGIN "2 ROLLBACK-BEGIN mode=sideways id=r tool=t bundle=/b", UT_EMALFORMED, "bad mode" },
	{ BEGIN "2 ROLLBACK-BEGIN mode=undo id=r tool=t bundle=/b\n3 RESTORED path=a action=zapped", UT_EMALFORMED,
	  "RESTORED with a bad path or action" },
	{ BEGIN BEGIN, UT_EMALFORMED, "record 2: sequence number 1, expected 2" },
	{ BEGIN "2 BEGIN id=a tool=t what=w bundle=/b", UT_EMALFORMED, "record 2: BEGIN after the first record" },
	{ BEGIN "2 VERIFIED extra=1", UT_EMALFORMED, "unexpected key 'extra' in VERIFIED" },
	{ "1 BE!GIN id=a tool=t what=w bundle=/b", UT_EMALFORMED, "bad record type" },
	{ "1 BEGIN Id=a tool=t what=w bundle=/b", UT_EMALFORMED, "bad key" },
	{ "1 BEGIN a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=10 k=11 l=12 m=13 n=14 o=15 p=16 q=17", UT_EMALFORMED,
	  "more than 16 fields" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=file mode=0644 size= sha256=" SHA, UT_EMALFORMED, "bad size ''" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=file mode=0644 size=1x sha256=" SHA, UT_EMALFORMED, "bad size '1x'" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=dir", UT_EMALFORMED, "BACKUP without mode" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=absent\n3 STEP n=1000001 action=delete path=a kind=absent",
	  UT_EMALFORMED, "n 1000001 out of range" },
	{ BEGIN "2 BACKUP store=pristine path=a kind=absent\n3 VERIFIED\n4 STEP n=1 action=delete path=a kind=absent",
	  UT_EMALFORMED, "record 4: STEP out of order" },
	{ BEGIN "2 ROLLBACK-BEGIN mode=pristine id=r tool=t bundle=/b\n3 ROLLBACK-DONE mode=sideways", UT_EMALFORMED,
	  "ROLLBACK-DONE with a bad mode" },
	{ BEGIN "2 ROLLBACK-BEGIN mode=pristine id=r tool=t bundle=/b\n3 ROLLBACK-DONE mode=pristine\n"
		"4 ROLLBACK-BEGIN mode=pristine id=r tool=t bundle=/b",
	  UT_EMALFORMED, "record 4: ROLLBACK-BEGIN out of order" },
	{ "1 ROLLBACK-BEGIN mode=undo id=r tool=t bundle=/b", UT_EMALFORMED, "record 1: ROLLBACK-BEGIN out of order" },
	/* good ones */
	{ "", 0, NULL },
	{ BEGIN "2 BACKUP store=pristine path=a kind=file mode=0755 size=6 sha256=" SHA " cdhash=0123456789abcdef0123456789abcdef01234567\n"
		"3 BACKUP store=undo path=b%20c kind=symlink target=..%2Fx\n4 BACKUP store=pristine path=d kind=dir mode=0755\n"
		"5 STEP n=1 action=write path=a kind=file mode=0644 size=1 sha256=" SHA "\n6 STEP n=2 action=delete path=b%20c kind=absent\n"
		"7 VERIFIED\n8 COMMIT\n9 ROLLBACK-BEGIN mode=pristine id=r tool=t bundle=/b\n10 RESTORED path=a action=written\n"
		"11 ROLLBACK-DONE mode=pristine",
	  0, NULL },
};

Test(ut_state_fmt, journal_table)
{
	for (size_t i = 0; i < sizeof(journal_rows) / sizeof(journal_rows[0]); i++) {
		const struct row *r = &journal_rows[i];
		char *raw = tsupport_printf("%s%s", r->text, *r->text ? "\n" : "");
		char *text = with_crcs(raw);
		struct st_journal j;
		struct st_jstate js;
		ut_err_clear();
		int rc = st_journal_parse(&j, (const uint8_t *)text, strlen(text));
		if (!rc) {
			cr_expect(!j.torn, "row %zu: not torn", i);
			rc = st_journal_analyze(&j, &js);
			st_journal_release(&j);
		}
		cr_expect_eq(rc, r->code, "row %zu (%s): code %d, message '%s'", i, r->text, rc, ut_errmsg());
		if (r->msg)
			cr_expect(strstr(ut_errmsg(), r->msg), "row %zu: message '%s' lacks '%s'", i, ut_errmsg(), r->msg);
		free(text);
		free(raw);
	}
}

/* A checksum mismatch is corruption in the middle and a torn record at the end. */
Test(ut_state_fmt, journal_checksums_and_torn_tail)
{
	char *good = with_crcs(BEGIN "2 VERIFIED\n");
	struct st_journal j;
	size_t len = strlen(good);
	for (size_t cut = 1; cut < len - strlen(BEGIN) - 13; cut++) { /* every cut inside record 2 */
		cr_assert_eq(st_journal_parse(&j, (const uint8_t *)good, len - cut), 0, "cut %zu: %s", cut, ut_errmsg());
		cr_expect_eq(j.n, 1, "cut %zu", cut);
		cr_expect(j.torn, "cut %zu", cut);
		cr_expect_eq(j.valid_len, strlen(BEGIN) + 13, "cut %zu", cut);
		st_journal_release(&j);
	}
	char *bad_last = tsupport_printf("%s", good);
	bad_last[len - 3] ^= 1; /* a hex digit of the last checksum */
	cr_assert_eq(st_journal_parse(&j, (const uint8_t *)bad_last, len), 0);
	cr_expect(j.torn && j.n == 1);
	st_journal_release(&j);
	char *bad_first = tsupport_printf("%s", good);
	bad_first[3] = 'X'; /* inside record 1 */
	cr_assert_eq(st_journal_parse(&j, (const uint8_t *)bad_first, len), UT_EMALFORMED);
	cr_expect(strstr(ut_errmsg(), "journal record 1: checksum mismatch"), "%s", ut_errmsg());
	char *nocrc = tsupport_printf("%s1 BEGIN\n", good);
	cr_assert_eq(st_journal_parse(&j, (const uint8_t *)nocrc, strlen(nocrc)), 0, "a last line without crc is torn");
	cr_expect(j.torn && j.n == 2);
	st_journal_release(&j);
	free(nocrc);
	free(bad_first);
	free(bad_last);
	free(good);
}

struct doc_row {
	const char *body;
	const char *end; /* NULL: body used as is */
	int code;
	const char *msg;
};

static const struct doc_row manifest_rows[] = {
	{ "utmpatch-manifest 2\nentry path=a kind=absent\n", "end entries=1", UT_EMALFORMED, "first line is not" },
	{ "utmpatch-manifest 1\nentry path=a kind=absent\nend entries=1 crc=00000000", NULL, UT_EMALFORMED,
	  "truncated (no final newline)" },
	{ "utmpatch-manifest 1\nentry path=a kind=absent\n", NULL, UT_EMALFORMED, "truncated (no end line)" },
	{ "utmpatch-manifest 1\nentry path=a kind=absent\nend entries=1 crc=00000000\n", NULL, UT_EMALFORMED,
	  "manifest checksum mismatch" },
	{ "utmpatch-manifest 1\nentry path=a kind=absent\nend entries=1 crc=xyz\n", NULL, UT_EMALFORMED, "bad or missing crc" },
	{ "utmpatch-manifest 1\nentry path=a kind=absent\n", "end entries=2", UT_EMALFORMED, "says 2 entries, found 1" },
	{ "utmpatch-manifest 1\nentry path=a kind=absent\nentry path=a kind=absent\n", "end entries=2", UT_EMALFORMED,
	  "manifest line 3: path 'a' listed twice" },
	{ "utmpatch-manifest 1\nentry path=a kind=symlink\n", "end entries=1", UT_EMALFORMED, "symlink without a target" },
	{ "utmpatch-manifest 1\nfoo x=1\n", "end entries=1", UT_EMALFORMED, "manifest line 2: unexpected record 'foo'" },
	{ "utmpatch-manifest 1\nentry path=a kind=dir mode=07777\n", "end entries=1", UT_EMALFORMED, "bad mode" },
	{ "utmpatch-manifest 1\nentry path=a kind=file mode=0644 size=1 sha256=" SHA " cdhash=12\n", "end entries=1",
	  UT_EMALFORMED, "bad cdhash" },
	{ "utmpatch-manifest 1\nentry path=a kind=file mode=0644 size=1 sha256=" SHA " store=x\n", "end entries=1",
	  UT_EMALFORMED, "unexpected key 'store'" },
	{ "utmpatch-manifest 1\nentry path=a kind=weird\n", "end entries=1", UT_EMALFORMED, "bad kind 'weird'" },
	{ "utmpatch-manifest 1\nentry kind=absent\n", "end entries=1", UT_EMALFORMED, "entry without path" },
	{ "utmpatch-manifest 1\nentry path=a kind=absent\n", "end entries=1 extra=2", UT_EMALFORMED, "unexpected key 'extra'" },
	{ "utmpatch-manifest 1\n\n", "end entries=0", UT_EMALFORMED, "manifest line 2: empty record" },
	{ "utmpatch-manifest 1\nentry path=a kind=absent\nfoo crc=00000000\n", NULL, UT_EMALFORMED,
	  "truncated (no end line)" },
	{ "utmpatch-manifest 1\nentry path=a kind=absent\nend  entries=1 crc=00000000\n", NULL, UT_EMALFORMED,
	  "manifest end line: empty field" },
	{ "utmpatch-manifest 1\n", "end entries=0", 0, NULL },
};

static const struct doc_row installed_rows[] = {
	{ "utmpatch-installed 1\nmeta key=k value=v\n", "end meta=1 entries=0", UT_EMALFORMED, "without txn" },
	{ "utmpatch-installed 1\ntxn id=x time=1\ntxn id=y time=2\n", "end meta=0 entries=0", UT_EMALFORMED, "txn repeated" },
	{ "utmpatch-installed 1\ntxn id=x time=-1\n", "end meta=0 entries=0", UT_EMALFORMED, "bad time" },
	{ "utmpatch-installed 1\ntxn id= time=1\n", "end meta=0 entries=0", UT_EMALFORMED, "txn without id" },
	{ "utmpatch-installed 1\ntxn id=x time=1\nmeta key=k value=1\nmeta key=k value=2\n", "end meta=2 entries=0",
	  UT_EMALFORMED, "meta key 'k' repeated" },
	{ "utmpatch-installed 1\ntxn id=x time=1\nmeta key=k\n", "end meta=1 entries=0", UT_EMALFORMED,
	  "meta without key or value" },
	{ "utmpatch-installed 1\ntxn id=x time=1\nmeta key=k value=v\n", "end meta=0 entries=0", UT_EMALFORMED,
	  "counts do not match" },
	{ "utmpatch-installed 1\ntxn id=x time=1\nstep n=1\n", "end meta=0 entries=0", UT_EMALFORMED,
	  "unexpected record 'step'" },
	{ "utmpatch-installed 1\ntxn id=x time=1\nmeta key=k value=\n", "end meta=1 entries=0", 0, NULL },
};

static void doc_table(const struct doc_row *rows, size_t n, int installed)
{
	for (size_t i = 0; i < n; i++) {
		const struct doc_row *r = &rows[i];
		char *text = r->end ? with_end(r->body, r->end) : tsupport_printf("%s", r->body);
		ut_err_clear();
		int rc;
		if (installed) {
			struct st_installed in;
			if ((rc = st_installed_parse(&in, (const uint8_t *)text, strlen(text))) == 0)
				st_installed_release(&in);
		} else {
			struct st_manifest m;
			if ((rc = st_manifest_parse(&m, (const uint8_t *)text, strlen(text))) == 0)
				st_manifest_release(&m);
		}
		cr_expect_eq(rc, r->code, "row %zu: code %d, message '%s'", i, rc, ut_errmsg());
		if (r->msg)
			cr_expect(strstr(ut_errmsg(), r->msg), "row %zu: message '%s' lacks '%s'", i, ut_errmsg(), r->msg);
		free(text);
	}
}

Test(ut_state_fmt, manifest_table) { doc_table(manifest_rows, sizeof(manifest_rows) / sizeof(manifest_rows[0]), 0); }
Test(ut_state_fmt, installed_table) { doc_table(installed_rows, sizeof(installed_rows) / sizeof(installed_rows[0]), 1); }

/* The examples of docs/transaction.md, written by hand, parse and are written back byte for byte. */
Test(ut_state_fmt, documented_examples_roundtrip)
{
	char *m_text = with_end("utmpatch-manifest 1\n"
				"entry path=Contents/MacOS/UTM kind=file mode=0755 size=6 sha256=" SHA
				" cdhash=0123456789abcdef0123456789abcdef01234567\n"
				"entry path=Contents/Frameworks/Q.framework/Q kind=symlink target=Versions/Current/Q\n"
				"entry path=Contents/Resources/new%20file kind=absent\n"
				"entry path=Contents/Resources/new.d kind=dir mode=0750\n",
				"end entries=4");
	struct st_manifest m;
	cr_assert_eq(st_manifest_parse(&m, (const uint8_t *)m_text, strlen(m_text)), 0, "%s", ut_errmsg());
	cr_assert_eq(m.n, 4);
	cr_expect_str_eq(m.e[2].path, "Contents/Resources/new file");
	cr_expect_eq(m.e[0].mode, 0755);
	cr_expect_eq(m.e[3].kind, UT_KIND_DIR);
	struct ut_buf b;
	ut_buf_init(&b, 0);
	cr_assert_eq(st_manifest_format(&m, &b), 0);
	cr_expect(b.len == strlen(m_text) && memcmp(b.p, m_text, b.len) == 0, "written back:\n%.*s", (int)b.len, b.p);
	ut_buf_release(&b);
	st_manifest_release(&m);

	char *i_text = with_end("utmpatch-installed 1\n"
				"txn id=65a1b2c3-1f2e-2a-1 time=1700000000\n"
				"meta key=target value=qemu-aarch64-softmmu\n"
				"meta key=dylib_sha256 value=" SHA "\n"
				"entry path=Contents/MacOS/UTM kind=file mode=0755 size=6 sha256=" SHA "\n",
				"end meta=2 entries=1");
	struct st_installed in;
	cr_assert_eq(st_installed_parse(&in, (const uint8_t *)i_text, strlen(i_text)), 0, "%s", ut_errmsg());
	cr_expect_eq(in.time, 1700000000);
	cr_expect_str_eq(in.meta[0].value, "qemu-aarch64-softmmu");
	ut_buf_init(&b, 0);
	cr_assert_eq(st_installed_format(&in, &b), 0);
	cr_expect(b.len == strlen(i_text) && memcmp(b.p, i_text, b.len) == 0, "written back:\n%.*s", (int)b.len, b.p);
	ut_buf_release(&b);
	st_installed_release(&in);

	char *j_text = with_crcs("1 BEGIN id=65a1b2c3-1f2e-2a-1 tool=0.1 what=install%20qemu bundle=/Applications/UTM.app\n"
				 "2 BACKUP store=pristine path=Contents/MacOS/UTM kind=file mode=0755 size=6 sha256=" SHA "\n"
				 "3 STEP n=1 action=replace path=Contents/MacOS/UTM kind=file mode=0755 size=6 sha256=" SHA "\n"
				 "4 VERIFIED\n5 COMMIT\n");
	struct st_journal j;
	cr_assert_eq(st_journal_parse(&j, (const uint8_t *)j_text, strlen(j_text)), 0, "%s", ut_errmsg());
	cr_assert_eq(j.n, 5);
	cr_expect_str_eq(j.r[0].what, "install qemu");
	ut_buf_init(&b, 0);
	for (size_t k = 0; k < j.n; k++)
		cr_assert_eq(st_jrec_format(&j.r[k], &b), 0);
	cr_expect(b.len == strlen(j_text) && memcmp(b.p, j_text, b.len) == 0, "written back:\n%.*s", (int)b.len, b.p);
	ut_buf_release(&b);
	st_journal_release(&j);
	free(j_text);
	free(i_text);
	free(m_text);
}

/* Inputs that cannot be written in a table: long, NUL bytes, too many meta records. */
Test(ut_state_fmt, size_limits_and_nul)
{
	size_t n = UT_STATE_MAX_LINE + 10;
	char *big = malloc(n + 64);
	cr_assert(big);
	strcpy(big, "1 BEGIN id=");
	memset(big + strlen(big), 'a', n);
	big[n] = '\n';
	big[n + 1] = '\0';
	char *text = with_crcs(big);
	struct st_journal j;
	cr_assert_eq(st_journal_parse(&j, (const uint8_t *)text, strlen(text)), UT_EMALFORMED);
	cr_expect(strstr(ut_errmsg(), "too long"), "%s", ut_errmsg());
	free(text);
	free(big);

	static const char nul[] = "1 BEGIN id=a\0 tool=t what=w bundle=/b";
	char line[128];
	size_t len = sizeof(nul) - 1;
	memcpy(line, nul, len);
	len += (size_t)snprintf(line + len, sizeof(line) - len, " crc=%08lx\n", crc32(0L, (const Bytef *)nul, (uInt)(sizeof(nul) - 1)));
	cr_assert_eq(st_journal_parse(&j, (const uint8_t *)line, len), UT_EMALFORMED);
	cr_expect(strstr(ut_errmsg(), "NUL byte in a record"), "%s", ut_errmsg());

	char *body = tsupport_printf("utmpatch-installed 1\ntxn id=x time=1\n");
	for (int i = 0; i <= UT_STATE_MAX_META; i++) {
		char *next = tsupport_printf("%smeta key=k%d value=v\n", body, i);
		free(body);
		body = next;
	}
	char *doc = with_end(body, "end meta=256 entries=0");
	struct st_installed in;
	cr_assert_eq(st_installed_parse(&in, (const uint8_t *)doc, strlen(doc)), UT_EMALFORMED);
	cr_expect(strstr(ut_errmsg(), "more than 256 meta records"), "%s", ut_errmsg());
	free(doc);
	free(body);
}
