/*
 * fuzz_journal.c - libFuzzer target: the state-directory parsers (journal,
 * manifest, installed record) on arbitrary bytes.
 *
 * Any input must be accepted or refused without crashing.  What is accepted
 * must survive a round trip: written back, it parses again to the same
 * number of records/entries, and writing that again gives the same bytes.
 * A journal that parses must also analyze (or be refused) cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ut_state_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static void fuzz_journal(const uint8_t *data, size_t size)
{
	struct st_journal j;
	if (st_journal_parse(&j, data, size) != 0)
		return;
	check(j.valid_len <= size);
	struct st_jstate js;
	(void)st_journal_analyze(&j, &js);
	struct ut_buf a, b;
	ut_buf_init(&a, 0);
	ut_buf_init(&b, 0);
	for (size_t i = 0; i < j.n; i++)
		check(st_jrec_format(&j.r[i], &a) == 0);
	struct st_journal j2;
	check(st_journal_parse(&j2, a.p ? a.p : (const uint8_t *)"", a.len) == 0);
	check(j2.n == j.n && !j2.torn && j2.valid_len == a.len);
	for (size_t i = 0; i < j2.n; i++)
		check(st_jrec_format(&j2.r[i], &b) == 0);
	check(a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0));
	st_journal_release(&j2);
	st_journal_release(&j);
	ut_buf_release(&a);
	ut_buf_release(&b);
}

static void fuzz_manifest(const uint8_t *data, size_t size)
{
	struct st_manifest m, m2;
	if (st_manifest_parse(&m, data, size) != 0)
		return;
	struct ut_buf a, b;
	ut_buf_init(&a, 0);
	ut_buf_init(&b, 0);
	check(st_manifest_format(&m, &a) == 0);
	check(st_manifest_parse(&m2, a.p, a.len) == 0 && m2.n == m.n);
	for (size_t i = 0; i < m.n; i++)
		check(st_entry_same(&m.e[i], &m2.e[i]) && strcmp(m.e[i].path, m2.e[i].path) == 0);
	check(st_manifest_format(&m2, &b) == 0);
	check(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
	st_manifest_release(&m2);
	st_manifest_release(&m);
	ut_buf_release(&a);
	ut_buf_release(&b);
}

static void fuzz_installed(const uint8_t *data, size_t size)
{
	struct st_installed in, in2;
	if (st_installed_parse(&in, data, size) != 0)
		return;
	struct ut_buf a, b;
	ut_buf_init(&a, 0);
	ut_buf_init(&b, 0);
	check(st_installed_format(&in, &a) == 0);
	check(st_installed_parse(&in2, a.p, a.len) == 0);
	check(in2.nmeta == in.nmeta && in2.files.n == in.files.n && in2.time == in.time);
	check(st_installed_format(&in2, &b) == 0);
	check(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
	st_installed_release(&in2);
	st_installed_release(&in);
	ut_buf_release(&a);
	ut_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_journal(data, size);
	fuzz_manifest(data, size);
	fuzz_installed(data, size);
	return 0;
}
