/* ut_json.c - streaming JSON writer. */
#include "ut_json.h"
#include "ut_utf8.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void ut_json_init(struct ut_json *j, struct ut_buf *out, int pretty)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->pretty = pretty;
	j->first[0] = 1;
}

static void put(struct ut_json *j, const char *s, size_t n)
{
	if (!j->err)
		j->err = ut_buf_append(j->out, s, n);
}

static void indent(struct ut_json *j)
{
	if (!j->pretty)
		return;
	put(j, "\n", 1);
	for (int i = 0; i < j->depth; i++)
		put(j, "  ", 2);
}

/* Separator before a value (or a key) at the current depth. */
static void sep(struct ut_json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (!j->first[j->depth])
		put(j, ",", 1);
	j->first[j->depth] = 0;
	if (j->depth > 0)
		indent(j);
}

static void begin(struct ut_json *j, char c, char close)
{
	sep(j);
	put(j, &c, 1);
	if (j->depth + 1 >= UT_JSON_MAX_DEPTH) {
		if (!j->err)
			j->err = ut_fail(UT_EINVAL, "json nesting deeper than %d", UT_JSON_MAX_DEPTH);
		return;
	}
	j->depth++;
	j->first[j->depth] = 1;
	j->close[j->depth] = close;
}

void ut_json_obj(struct ut_json *j) { begin(j, '{', '}'); }
void ut_json_arr(struct ut_json *j) { begin(j, '[', ']'); }

void ut_json_end(struct ut_json *j)
{
	if (j->depth == 0)
		return;
	int empty = j->first[j->depth];
	char close = j->close[j->depth];
	j->depth--;
	if (!empty)
		indent(j);
	put(j, &close, 1);
}

void ut_json_key(struct ut_json *j, const char *key)
{
	ut_json_str(j, key);
	put(j, j->pretty ? ": " : ":", j->pretty ? 2 : 1);
	j->after_key = 1;
}

void ut_json_strn(struct ut_json *j, const char *s, size_t n)
{
	sep(j);
	put(j, "\"", 1);
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(j, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			const char *named = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
			if (named) {
				put(j, named, 2);
			} else {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				put(j, esc, 6);
			}
			i++;
		} else if (c < 0x80) {
			put(j, (const char *)p + i, 1);
			i++;
		} else {
			/* Pass well-formed UTF-8 through; escape stray bytes. */
			size_t len = ut_utf8_seq(p + i, n - i, NULL);
			if (len) {
				put(j, (const char *)p + i, len);
				i += len;
			} else {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				put(j, esc, 6);
				i++;
			}
		}
	}
	put(j, "\"", 1);
}

void ut_json_str(struct ut_json *j, const char *s)
{
	if (!s) {
		ut_json_null(j);
		return;
	}
	ut_json_strn(j, s, strlen(s));
}

static void raw(struct ut_json *j, const char *s)
{
	sep(j);
	put(j, s, strlen(s));
}

void ut_json_int(struct ut_json *j, int64_t v)
{
	char t[32];
	snprintf(t, sizeof(t), "%" PRId64, v);
	raw(j, t);
}

void ut_json_uint(struct ut_json *j, uint64_t v)
{
	char t[32];
	snprintf(t, sizeof(t), "%" PRIu64, v);
	raw(j, t);
}

void ut_json_bool(struct ut_json *j, int v) { raw(j, v ? "true" : "false"); }
void ut_json_null(struct ut_json *j) { raw(j, "null"); }

void ut_json_kstr(struct ut_json *j, const char *key, const char *s) { ut_json_key(j, key); ut_json_str(j, s); }
void ut_json_kint(struct ut_json *j, const char *key, int64_t v) { ut_json_key(j, key); ut_json_int(j, v); }
void ut_json_kuint(struct ut_json *j, const char *key, uint64_t v) { ut_json_key(j, key); ut_json_uint(j, v); }
void ut_json_kbool(struct ut_json *j, const char *key, int v) { ut_json_key(j, key); ut_json_bool(j, v); }

int ut_json_finish(struct ut_json *j)
{
	if (j->pretty)
		put(j, "\n", 1);
	return j->err;
}
