/*
 * ut_state_fmt.c - entries (the recorded state of one path), the manifest
 * and the installed record.  Pure functions on bytes (fuzzed by
 * lib/fuzz/fuzz_journal.c).  Format: docs/transaction.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ut_limits.h"
#include "ut_state_int.h"

/* ---- entries ---- */

const char *ut_kind_name(int kind)
{
	switch (kind) {
	case UT_KIND_ABSENT: return "absent";
	case UT_KIND_FILE: return "file";
	case UT_KIND_SYMLINK: return "symlink";
	case UT_KIND_DIR: return "dir";
	}
	return "?";
}

void ut_entry_release(struct ut_entry *e)
{
	if (!e)
		return;
	free(e->path);
	free(e->target);
	memset(e, 0, sizeof(*e));
}

int st_entry_copy(struct ut_entry *dst, const struct ut_entry *src)
{
	*dst = *src;
	dst->path = ui_strdup(src->path);
	dst->target = ui_strdup(src->target);
	if ((src->path && !dst->path) || (src->target && !dst->target)) {
		ut_entry_release(dst);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	return 0;
}

int st_entry_same(const struct ut_entry *a, const struct ut_entry *b)
{
	if (a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case UT_KIND_FILE:
		return a->mode == b->mode && a->size == b->size && strcmp(a->sha256, b->sha256) == 0;
	case UT_KIND_SYMLINK:
		return a->target && b->target && strcmp(a->target, b->target) == 0;
	case UT_KIND_DIR:
		return a->mode == b->mode;
	}
	return 1;
}

int st_entry_put(struct ut_buf *b, const struct ut_entry *e)
{
	int rc = st_put(b, "path", e->path);
	if (!rc)
		rc = st_put(b, "kind", ut_kind_name(e->kind));
	if (!rc && (e->kind == UT_KIND_FILE || e->kind == UT_KIND_DIR))
		rc = ut_buf_printf(b, " mode=%04o", e->mode & 07777);
	if (!rc && e->kind == UT_KIND_FILE)
		rc = st_put_u64(b, "size", e->size);
	if (!rc && e->kind == UT_KIND_FILE)
		rc = st_put(b, "sha256", e->sha256);
	if (!rc && e->kind == UT_KIND_SYMLINK)
		rc = st_put(b, "target", e->target ? e->target : "");
	if (!rc && e->cdhash[0])
		rc = st_put(b, "cdhash", e->cdhash);
	return rc;
}

static int kind_by_name(const char *s, int *kind)
{
	for (int k = UT_KIND_ABSENT; k <= UT_KIND_DIR; k++)
		if (s && strcmp(s, ut_kind_name(k)) == 0) {
			*kind = k;
			return 0;
		}
	return ut_fail(UT_EMALFORMED, "bad kind '%s'", s ? s : "");
}

int st_entry_get(struct ut_entry *e, const struct st_line *l)
{
	memset(e, 0, sizeof(*e));
	const char *path = st_line_get(l, "path");
	if (!path)
		return ut_fail(UT_EMALFORMED, "%s without path", l->word);
	int rc = st_relpath_check(path);
	if (rc)
		return ut_fail(UT_EMALFORMED, "bad path: %s", ut_errmsg());
	rc = kind_by_name(st_line_get(l, "kind"), &e->kind);
	if (rc)
		return rc;
	int k = e->kind;
	const char *sha = st_line_get(l, "sha256"), *target = st_line_get(l, "target");
	const char *cd = st_line_get(l, "cdhash");
	if ((k != UT_KIND_FILE && (st_line_get(l, "size") || sha || cd)) || (k != UT_KIND_SYMLINK && target) ||
	    ((k == UT_KIND_ABSENT || k == UT_KIND_SYMLINK) && st_line_get(l, "mode")))
		return ut_fail(UT_EMALFORMED, "field that does not belong to kind %s", ut_kind_name(k));
	if ((k == UT_KIND_FILE || k == UT_KIND_DIR) && (rc = st_get_mode(l, &e->mode)) != 0)
		return rc;
	if (k == UT_KIND_FILE) {
		if ((rc = st_get_u64(l, "size", UINT64_MAX, &e->size)) != 0)
			return rc;
		if (!st_is_hex(sha, 64))
			return ut_fail(UT_EMALFORMED, "bad sha256 '%s'", sha ? sha : "");
		memcpy(e->sha256, sha, 65);
		if (cd && !st_is_hex(cd, 40))
			return ut_fail(UT_EMALFORMED, "bad cdhash '%s'", cd);
		if (cd)
			memcpy(e->cdhash, cd, 41);
	}
	if (k == UT_KIND_SYMLINK && (!target || !*target || strlen(target) > UT_MAX_PATH_STR))
		return ut_fail(UT_EMALFORMED, "symlink without a target");
	e->path = strdup(path);
	e->target = k == UT_KIND_SYMLINK ? strdup(target) : NULL;
	if (!e->path || (k == UT_KIND_SYMLINK && !e->target)) {
		ut_entry_release(e);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	return 0;
}

/* ---- manifest ---- */

#define ENTRY_KEYS "path kind mode size sha256 target cdhash"

void st_manifest_release(struct st_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		ut_entry_release(&m->e[i]);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

long st_manifest_find(const struct st_manifest *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].path, path) == 0)
			return (long)i;
	return -1;
}

int st_manifest_set(struct st_manifest *m, const struct ut_entry *e)
{
	struct ut_entry c;
	int rc = st_entry_copy(&c, e);
	if (rc)
		return rc;
	long i = st_manifest_find(m, e->path);
	if (i >= 0) {
		ut_entry_release(&m->e[i]);
		m->e[i] = c;
		return 0;
	}
	if (m->n == UT_STATE_MAX_ENTRIES) {
		ut_entry_release(&c);
		return ut_fail(UT_ENOMEM, "more than %d paths", UT_STATE_MAX_ENTRIES);
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct ut_entry *ne = realloc(m->e, cap * sizeof(*ne));
		if (!ne) {
			ut_entry_release(&c);
			return ut_fail(UT_ENOMEM, "out of memory");
		}
		m->e = ne;
		m->cap = cap;
	}
	m->e[m->n++] = c;
	return 0;
}

void st_manifest_remove(struct st_manifest *m, size_t i)
{
	ut_entry_release(&m->e[i]);
	memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof(m->e[0]));
	m->n--;
}

struct doc {
	const char *magic; /* first line */
	const char *what;  /* "manifest" / "installed record" */
};

/*
 * Checks the frame: first line magic, last line "end ..." with the CRC-32 of
 * everything before it and counts; returns the body range.
 */
static int doc_frame(const struct doc *d, const uint8_t *p, size_t len, size_t *body, size_t *body_end,
		     struct st_line *end)
{
	if (len > UT_STATE_MAX_FILE)
		return ut_fail(UT_EMALFORMED, "%s of %zu bytes is too large", d->what, len);
	size_t ml = strlen(d->magic);
	if (len < ml + 1 || memcmp(p, d->magic, ml) != 0 || p[ml] != '\n')
		return ut_fail(UT_EMALFORMED, "%s: first line is not '%s'", d->what, d->magic);
	if (p[len - 1] != '\n')
		return ut_fail(UT_EMALFORMED, "%s is truncated (no final newline)", d->what);
	size_t last = len - 1;
	while (last > 0 && p[last - 1] != '\n')
		last--;
	if (last <= ml)
		return ut_fail(UT_EMALFORMED, "%s is truncated (no end line)", d->what);
	int rc = st_line_parse(end, (const char *)p + last, len - 1 - last);
	if (rc)
		return ut_ctx(rc, "%s end line", d->what);
	uint32_t crc;
	if (strcmp(end->word, "end") != 0)
		rc = ut_fail(UT_EMALFORMED, "%s is truncated (no end line)", d->what);
	else if ((rc = st_get_crc(end, &crc)) != 0)
		rc = ut_ctx(rc, "%s end line", d->what);
	else if ((uint32_t)crc32(0L, p, (uInt)last) != crc)
		rc = ut_fail(UT_EMALFORMED, "%s checksum mismatch", d->what);
	if (rc) {
		st_line_release(end);
		return rc;
	}
	*body = ml + 1;
	*body_end = last;
	return 0;
}

static int doc_end(struct ut_buf *b)
{
	/* CRC-32 of everything before the end line */
	size_t start = b->len;
	while (start > 0 && b->p[start - 1] != '\n')
		start--;
	uint32_t crc = (uint32_t)crc32(0L, b->p, (uInt)start);
	return ut_buf_printf(b, " crc=%08x\n", (unsigned)crc);
}

/* Parses an "entry" line into m (no duplicates). */
static int add_entry_line(struct st_manifest *m, const struct st_line *l)
{
	int rc = st_line_allow(l, ENTRY_KEYS);
	struct ut_entry e;
	if (!rc)
		rc = st_entry_get(&e, l);
	if (rc)
		return rc;
	if (st_manifest_find(m, e.path) >= 0)
		rc = ut_fail(UT_EMALFORMED, "path '%s' listed twice", e.path);
	else
		rc = st_manifest_set(m, &e);
	ut_entry_release(&e);
	return rc;
}

/* Calls fn for each body line. */
static int doc_lines(const char *what, const uint8_t *p, size_t from, size_t to,
		     int (*fn)(const struct st_line *l, void *ctx), void *ctx)
{
	size_t lineno = 2;
	for (size_t at = from; at < to; lineno++) {
		const uint8_t *nl = memchr(p + at, '\n', to - at);
		size_t n = (size_t)(nl - (p + at));
		struct st_line l;
		int rc = st_line_parse(&l, (const char *)p + at, n);
		if (!rc)
			rc = fn(&l, ctx);
		st_line_release(&l);
		if (rc)
			return ut_ctx(rc, "%s line %zu", what, lineno);
		at += n + 1;
	}
	return 0;
}

static int manifest_line(const struct st_line *l, void *ctx)
{
	if (strcmp(l->word, "entry") != 0)
		return ut_fail(UT_EMALFORMED, "unexpected record '%s'", l->word);
	return add_entry_line(ctx, l);
}

int st_manifest_parse(struct st_manifest *m, const uint8_t *p, size_t len)
{
	memset(m, 0, sizeof(*m));
	static const struct doc d = { "utmpatch-manifest 1", "manifest" };
	size_t from, to;
	struct st_line end;
	int rc = doc_frame(&d, p, len, &from, &to, &end);
	if (rc)
		return rc;
	uint64_t count = 0;
	rc = st_line_allow(&end, "entries crc");
	if (!rc)
		rc = st_get_u64(&end, "entries", UT_STATE_MAX_ENTRIES, &count);
	st_line_release(&end);
	if (!rc)
		rc = doc_lines("manifest", p, from, to, manifest_line, m);
	if (!rc && count != m->n)
		rc = ut_fail(UT_EMALFORMED, "manifest end line says %llu entries, found %zu", (unsigned long long)count,
			     m->n);
	if (rc)
		st_manifest_release(m);
	return rc;
}

static int put_entries(struct ut_buf *b, const struct st_manifest *m)
{
	int rc = 0;
	for (size_t i = 0; i < m->n && !rc; i++) {
		rc = ut_buf_printf(b, "entry");
		if (!rc)
			rc = st_entry_put(b, &m->e[i]);
		if (!rc)
			rc = ut_buf_u8(b, '\n');
	}
	return rc;
}

int st_manifest_format(const struct st_manifest *m, struct ut_buf *out)
{
	int rc = ut_buf_printf(out, "utmpatch-manifest 1\n");
	if (!rc)
		rc = put_entries(out, m);
	if (!rc)
		rc = ut_buf_printf(out, "end entries=%zu", m->n);
	if (!rc)
		rc = doc_end(out);
	return rc;
}

/* ---- installed ---- */

void st_installed_release(struct st_installed *in)
{
	if (!in)
		return;
	free(in->txn_id);
	for (size_t i = 0; i < in->nmeta; i++) {
		free(in->meta[i].key);
		free(in->meta[i].value);
	}
	free(in->meta);
	st_manifest_release(&in->files);
	memset(in, 0, sizeof(*in));
}

static int installed_line(const struct st_line *l, void *ctx)
{
	struct st_installed *in = ctx;
	int rc;
	if (strcmp(l->word, "entry") == 0)
		return add_entry_line(&in->files, l);
	if (strcmp(l->word, "txn") == 0) {
		uint64_t t;
		const char *id = st_line_get(l, "id");
		if (in->txn_id)
			return ut_fail(UT_EMALFORMED, "txn repeated");
		if ((rc = st_line_allow(l, "id time")) != 0 || (rc = st_get_u64(l, "time", INT64_MAX, &t)) != 0)
			return rc;
		if (!id || !*id)
			return ut_fail(UT_EMALFORMED, "txn without id");
		in->time = (int64_t)t;
		in->txn_id = strdup(id);
		return in->txn_id ? 0 : ut_fail(UT_ENOMEM, "out of memory");
	}
	if (strcmp(l->word, "meta") == 0) {
		const char *k = st_line_get(l, "key"), *v = st_line_get(l, "value");
		if ((rc = st_line_allow(l, "key value")) != 0)
			return rc;
		if (!k || !*k || !v)
			return ut_fail(UT_EMALFORMED, "meta without key or value");
		if (in->nmeta == UT_STATE_MAX_META)
			return ut_fail(UT_EMALFORMED, "more than %d meta records", UT_STATE_MAX_META);
		for (size_t i = 0; i < in->nmeta; i++)
			if (strcmp(in->meta[i].key, k) == 0)
				return ut_fail(UT_EMALFORMED, "meta key '%s' repeated", k);
		struct ut_kv *nm = realloc(in->meta, (in->nmeta + 1) * sizeof(*nm));
		if (!nm)
			return ut_fail(UT_ENOMEM, "out of memory");
		in->meta = nm;
		nm[in->nmeta].key = strdup(k);
		nm[in->nmeta].value = strdup(v);
		in->nmeta++;
		return nm[in->nmeta - 1].key && nm[in->nmeta - 1].value ? 0 : ut_fail(UT_ENOMEM, "out of memory");
	}
	return ut_fail(UT_EMALFORMED, "unexpected record '%s'", l->word);
}

int st_installed_parse(struct st_installed *in, const uint8_t *p, size_t len)
{
	memset(in, 0, sizeof(*in));
	static const struct doc d = { "utmpatch-installed 1", "installed record" };
	size_t from, to;
	struct st_line end;
	int rc = doc_frame(&d, p, len, &from, &to, &end);
	if (rc)
		return rc;
	uint64_t count = 0, nmeta = 0;
	rc = st_line_allow(&end, "meta entries crc");
	if (!rc)
		rc = st_get_u64(&end, "entries", UT_STATE_MAX_ENTRIES, &count);
	if (!rc)
		rc = st_get_u64(&end, "meta", UT_STATE_MAX_META, &nmeta);
	st_line_release(&end);
	if (!rc)
		rc = doc_lines("installed record", p, from, to, installed_line, in);
	if (!rc && !in->txn_id)
		rc = ut_fail(UT_EMALFORMED, "installed record without txn");
	if (!rc && (count != in->files.n || nmeta != in->nmeta))
		rc = ut_fail(UT_EMALFORMED, "installed record end line counts do not match");
	if (rc)
		st_installed_release(in);
	return rc;
}

int st_installed_format(const struct st_installed *in, struct ut_buf *out)
{
	int rc = ut_buf_printf(out, "utmpatch-installed 1\ntxn");
	if (!rc)
		rc = st_put(out, "id", in->txn_id ? in->txn_id : "");
	if (!rc)
		rc = ut_buf_printf(out, " time=%lld\n", (long long)in->time);
	for (size_t i = 0; i < in->nmeta && !rc; i++) {
		rc = ut_buf_printf(out, "meta");
		if (!rc)
			rc = st_put(out, "key", in->meta[i].key);
		if (!rc)
			rc = st_put(out, "value", in->meta[i].value);
		if (!rc)
			rc = ut_buf_u8(out, '\n');
	}
	if (!rc)
		rc = put_entries(out, &in->files);
	if (!rc)
		rc = ut_buf_printf(out, "end meta=%zu entries=%zu", in->nmeta, in->files.n);
	if (!rc)
		rc = doc_end(out);
	return rc;
}
