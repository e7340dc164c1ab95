/*
 * ut_state_line.c - the text record of the state files: "<word> key=value
 * ...", values %XX-escaped, and the small helpers shared by the state code.
 * Pure functions on bytes (fuzzed by lib/fuzz/fuzz_journal.c).  Format:
 * docs/transaction.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut_install_util.h"
#include "ut_limits.h"
#include "ut_bytes.h"
#include "ut_state_int.h"

int st_is_hex(const char *s, size_t n)
{
	if (!s || strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int st_relpath_check(const char *rel)
{
	if (!rel || !*rel)
		return ut_fail(UT_EINVAL, "empty path");
	size_t n = strlen(rel);
	if (n > UT_MAX_PATH_STR)
		return ut_fail(UT_EINVAL, "path of %zu bytes is too long", n);
	if (rel[0] == '/')
		return ut_fail(UT_EINVAL, "'%s' is absolute, expected a path inside the bundle", rel);
	const char *p = rel;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return ut_fail(UT_EINVAL, "'%s' has an empty, '.' or '..' component", rel);
		if (!slash)
			break;
		p = slash + 1;
	}
	return 0;
}

/* ---- one record ---- */

static int safe_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._/+@,:~", c);
}

void st_line_release(struct st_line *l)
{
	if (l)
		free(l->buf);
	if (l)
		memset(l, 0, sizeof(*l));
}

/* Decodes s in place; fails on bad escapes, NUL, spaces and control bytes. */
static int unescape(char *s)
{
	char *w = s;
	for (const char *r = s; *r; r++) {
		unsigned char c = (unsigned char)*r;
		if (c == '%') {
			if (ut_unhex(&c, r + 1, 1))
				return ut_fail(UT_EMALFORMED, "bad escape in a value");
			if (c == 0)
				return ut_fail(UT_EMALFORMED, "NUL byte in a value");
			r += 2;
		} else if (c <= 0x20 || c >= 0x7f) {
			return ut_fail(UT_EMALFORMED, "unescaped byte 0x%02x in a value", c);
		}
		*w++ = (char)c;
	}
	*w = '\0';
	return 0;
}

int st_line_parse(struct st_line *l, const char *p, size_t len)
{
	memset(l, 0, sizeof(*l));
	if (len > UT_STATE_MAX_LINE)
		return ut_fail(UT_EMALFORMED, "record of %zu bytes is too long", len);
	if (len == 0)
		return ut_fail(UT_EMALFORMED, "empty record");
	if (memchr(p, '\0', len))
		return ut_fail(UT_EMALFORMED, "NUL byte in a record");
	l->buf = malloc(len + 1);
	if (!l->buf)
		return ut_fail(UT_ENOMEM, "out of memory");
	memcpy(l->buf, p, len);
	l->buf[len] = '\0';
	char *s = l->buf;
	int rc = 0;
	for (size_t tok = 0; !rc; tok++) {
		char *sp = strchr(s, ' ');
		if (sp)
			*sp = '\0';
		if (!*s) {
			rc = ut_fail(UT_EMALFORMED, "empty field");
			break;
		}
		if (tok == 0) {
			for (const char *c = s; *c; c++)
				if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
				      *c == '-' || *c == '_'))
					rc = ut_fail(UT_EMALFORMED, "bad record type");
			l->word = s;
		} else {
			char *eq = strchr(s, '=');
			if (!eq || eq == s) {
				rc = ut_fail(UT_EMALFORMED, "field without key=value");
				break;
			}
			*eq = '\0';
			for (const char *c = s; *c && !rc; c++)
				if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
					rc = ut_fail(UT_EMALFORMED, "bad key");
			if (!rc && st_line_get(l, s))
				rc = ut_fail(UT_EMALFORMED, "key '%s' repeated", s);
			if (!rc && l->n == UT_STATE_MAX_FIELDS)
				rc = ut_fail(UT_EMALFORMED, "more than %d fields", UT_STATE_MAX_FIELDS);
			if (!rc)
				rc = unescape(eq + 1);
			if (!rc) {
				l->key[l->n] = s;
				l->val[l->n] = eq + 1;
				l->n++;
			}
		}
		if (!sp)
			break;
		s = sp + 1;
	}
	if (rc)
		st_line_release(l);
	return rc;
}

const char *st_line_get(const struct st_line *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->key[i], key) == 0)
			return l->val[i];
	return NULL;
}

/* Fails on a key not in the space-separated list allowed. */
int st_line_allow(const struct st_line *l, const char *allowed)
{
	for (size_t i = 0; i < l->n; i++) {
		size_t k = strlen(l->key[i]);
		const char *a = allowed;
		int ok = 0;
		while (*a && !ok) {
			size_t m = strcspn(a, " ");
			ok = m == k && memcmp(a, l->key[i], k) == 0;
			a += m;
			a += *a == ' ';
		}
		if (!ok)
			return ut_fail(UT_EMALFORMED, "unexpected key '%s' in %s", l->key[i], l->word);
	}
	return 0;
}

int st_put(struct ut_buf *b, const char *key, const char *value)
{
	int rc = ut_buf_printf(b, " %s=", key);
	for (const unsigned char *c = (const unsigned char *)value; !rc && *c; c++)
		rc = safe_char(*c) ? ut_buf_u8(b, *c) : ut_buf_printf(b, "%%%02X", *c);
	return rc;
}

int st_put_u64(struct ut_buf *b, const char *key, uint64_t v)
{
	return ut_buf_printf(b, " %s=%llu", key, (unsigned long long)v);
}

int st_get_u64(const struct st_line *l, const char *key, uint64_t max, uint64_t *out)
{
	const char *s = st_line_get(l, key);
	if (!s)
		return ut_fail(UT_EMALFORMED, "%s without %s", l->word, key);
	uint64_t v = 0;
	if (!*s || strlen(s) > 20)
		return ut_fail(UT_EMALFORMED, "bad %s '%s'", key, s);
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9' || __builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*c - '0'), &v))
			return ut_fail(UT_EMALFORMED, "bad %s '%s'", key, s);
	}
	if (v > max)
		return ut_fail(UT_EMALFORMED, "%s %llu out of range", key, (unsigned long long)v);
	*out = v;
	return 0;
}

/* An octal mode of 1 to 4 digits. */
int st_get_mode(const struct st_line *l, unsigned *out)
{
	const char *m = st_line_get(l, "mode");
	if (!m)
		return ut_fail(UT_EMALFORMED, "%s without mode", l->word);
	unsigned mode = 0;
	if (!*m || strlen(m) > 4)
		return ut_fail(UT_EMALFORMED, "bad mode '%s'", m);
	for (const char *c = m; *c; c++) {
		if (*c < '0' || *c > '7')
			return ut_fail(UT_EMALFORMED, "bad mode '%s'", m);
		mode = mode * 8 + (unsigned)(*c - '0');
	}
	*out = mode;
	return 0;
}

/* A CRC-32 as 8 lowercase hex digits. */
int st_get_crc(const struct st_line *l, uint32_t *out)
{
	const char *s = st_line_get(l, "crc");
	if (!st_is_hex(s, 8))
		return ut_fail(UT_EMALFORMED, "bad or missing crc");
	*out = (uint32_t)strtoul(s, NULL, 16);
	return 0;
}

