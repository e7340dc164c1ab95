/*
 * ut_json.h - a small streaming JSON writer into a ut_buf.
 *
 * Commas and nesting are tracked; strings are escaped (UTF-8 passed through,
 * control characters as \u00XX, bytes that are not well-formed UTF-8 (ut_utf8_seq) as \u00XX of the byte).
 * Errors are sticky: check ut_json_finish() once at the end.
 *
 *   struct ut_json j; ut_json_init(&j, &buf);
 *   ut_json_obj(&j); ut_json_key(&j, "vms"); ut_json_arr(&j); ... ut_json_end(&j); ut_json_end(&j);
 *   rc = ut_json_finish(&j);
 */
#ifndef UT_JSON_H
#define UT_JSON_H

#include <stdint.h>

#include "ut_buf.h"

#define UT_JSON_MAX_DEPTH 64

struct ut_json {
	struct ut_buf *out;
	int depth;
	int err;
	int pretty;
	unsigned char first[UT_JSON_MAX_DEPTH]; /* no element yet at this depth */
	char close[UT_JSON_MAX_DEPTH];          /* bracket that closes this depth */
	unsigned char after_key;
};

void ut_json_init(struct ut_json *j, struct ut_buf *out, int pretty);
void ut_json_obj(struct ut_json *j);
void ut_json_arr(struct ut_json *j);
void ut_json_end(struct ut_json *j);
void ut_json_key(struct ut_json *j, const char *key);
void ut_json_str(struct ut_json *j, const char *s); /* NULL writes null */
void ut_json_strn(struct ut_json *j, const char *s, size_t n);
void ut_json_int(struct ut_json *j, int64_t v);
void ut_json_uint(struct ut_json *j, uint64_t v);
void ut_json_bool(struct ut_json *j, int v);
void ut_json_null(struct ut_json *j);
/* Key + value shorthands. */
void ut_json_kstr(struct ut_json *j, const char *key, const char *s);
void ut_json_kint(struct ut_json *j, const char *key, int64_t v);
void ut_json_kuint(struct ut_json *j, const char *key, uint64_t v);
void ut_json_kbool(struct ut_json *j, const char *key, int v);
/* Appends a final newline; returns the first error (0 when none). */
int ut_json_finish(struct ut_json *j);

#endif
