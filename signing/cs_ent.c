/* cs_ent.c - entitlements blobs: XML wrapping, Apple-form DER encode, DER decode (both shapes). */
#include "cs_ent.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_blob.h"
#include "cs_der.h"
#include "cs_format.h"
#include "ut_err.h"

int cs_ent_xml_blob(struct ut_buf *out, const void *xml, size_t len)
{
	return cs_blob_build(out, CSMAGIC_EMBEDDED_ENTITLEMENTS, xml, len);
}

int cs_ent_xml_blob_parse(const uint8_t *blob, size_t len, plist_t *out)
{
	struct cs_blob b;
	*out = NULL;
	int rc = cs_blob_parse(&b, blob, len, CSMAGIC_EMBEDDED_ENTITLEMENTS);
	if (!rc)
		rc = ut_plist_parse(b.p + CS_BLOB_HEADER_SIZE, b.length - CS_BLOB_HEADER_SIZE, "entitlements", out, NULL);
	if (!rc && plist_get_node_type(*out) != PLIST_DICT) {
		plist_free(*out);
		*out = NULL;
		rc = ut_fail(UT_EMALFORMED, "entitlements are not a dictionary");
	}
	return rc;
}

/* ---- encoding ---- */

/*
 * libplist keeps integers as 64-bit patterns; a value above INT64_MAX is either
 * negative or a large unsigned number, which only its XML form tells apart.
 */
static int int_value(plist_t node, int64_t *v)
{
	uint64_t u = 0;
	plist_get_uint_val(node, &u);
	if (u <= INT64_MAX) {
		*v = (int64_t)u;
		return 0;
	}
	char *xml = NULL;
	uint32_t n = 0;
	plist_to_xml(node, &xml, &n);
	if (!xml)
		return ut_fail(UT_ENOMEM, "cannot serialize an integer");
	int negative = strstr(xml, "<integer>-") != NULL;
	free(xml);
	if (!negative)
		return ut_fail(UT_EUNSUPPORTED, "integer %" PRIu64 " above the 64-bit signed range", u);
	*v = (int64_t)u;
	return 0;
}

static int encode_value(plist_t node, struct ut_buf *out, int depth);

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int encode_dict(plist_t dict, struct ut_buf *out, int depth)
{
	uint32_t n = plist_dict_get_size(dict);
	char **keys = calloc(n ? n : 1, sizeof(*keys));
	struct ut_buf body;
	int rc = 0;
	uint32_t got = 0;
	ut_buf_init(&body, 0);
	if (!keys)
		return ut_fail(UT_ENOMEM, "out of memory");
	plist_dict_iter it = NULL;
	plist_dict_new_iter(dict, &it);
	for (; got < n; got++) {
		char *k = NULL;
		plist_t v = NULL;
		plist_dict_next_item(dict, it, &k, &v);
		if (!k)
			break;
		keys[got] = k;
	}
	free(it);
	qsort(keys, got, sizeof(*keys), key_cmp);
	for (uint32_t i = 0; i < got && !rc; i++) {
		struct ut_buf entry;
		ut_buf_init(&entry, 0);
		rc = cs_der_put(&entry, CS_DER_UTF8STRING, keys[i], strlen(keys[i]));
		if (!rc)
			rc = encode_value(plist_dict_get_item(dict, keys[i]), &entry, depth + 1);
		if (rc)
			rc = ut_ctx(rc, "entitlement '%s'", keys[i]);
		if (!rc)
			rc = cs_der_put(&body, CS_DER_SEQUENCE, entry.p, entry.len);
		ut_buf_release(&entry);
	}
	if (!rc)
		rc = cs_der_put(out, CS_DER_DICT, body.p, body.len);
	for (uint32_t i = 0; i < got; i++)
		free(keys[i]);
	free(keys);
	ut_buf_release(&body);
	return rc;
}

static int encode_array(plist_t arr, struct ut_buf *out, int depth)
{
	struct ut_buf body;
	int rc = 0;
	ut_buf_init(&body, 0);
	uint32_t n = plist_array_get_size(arr);
	for (uint32_t i = 0; i < n && !rc; i++) {
		rc = encode_value(plist_array_get_item(arr, i), &body, depth + 1);
		if (rc)
			rc = ut_ctx(rc, "array item %u", i);
	}
	if (!rc)
		rc = cs_der_put(out, CS_DER_SEQUENCE, body.p, body.len);
	ut_buf_release(&body);
	return rc;
}

static int encode_value(plist_t node, struct ut_buf *out, int depth)
{
	if (depth > CS_DER_MAX_DEPTH)
		return ut_fail(UT_EUNSUPPORTED, "entitlements nested deeper than %d levels", CS_DER_MAX_DEPTH);
	switch (plist_get_node_type(node)) {
	case PLIST_BOOLEAN: {
		uint8_t b = 0;
		plist_get_bool_val(node, &b);
		uint8_t v = b ? 0xff : 0x00;
		return cs_der_put(out, CS_DER_BOOLEAN, &v, 1);
	}
	case PLIST_UINT: {
		int64_t v = 0;
		int rc = int_value(node, &v);
		return rc ? rc : cs_der_put_int(out, v);
	}
	case PLIST_STRING: {
		uint64_t len = 0;
		const char *s = plist_get_string_ptr(node, &len);
		return cs_der_put(out, CS_DER_UTF8STRING, s, (size_t)len);
	}
	case PLIST_ARRAY: return encode_array(node, out, depth);
	case PLIST_DICT: return encode_dict(node, out, depth);
	case PLIST_DATA: return ut_fail(UT_EUNSUPPORTED, "data values have no DER entitlements encoding");
	case PLIST_DATE: return ut_fail(UT_EUNSUPPORTED, "date values have no DER entitlements encoding");
	case PLIST_REAL: return ut_fail(UT_EUNSUPPORTED, "real values have no DER entitlements encoding");
	default: return ut_fail(UT_EUNSUPPORTED, "plist value type %d has no DER entitlements encoding",
				(int)plist_get_node_type(node));
	}
}

int cs_ent_der_encode(plist_t dict, struct ut_buf *out)
{
	if (!dict || plist_get_node_type(dict) != PLIST_DICT)
		return ut_fail(UT_EINVAL, "entitlements are not a dictionary");
	struct ut_buf body;
	ut_buf_init(&body, 0);
	int rc = cs_der_put_int(&body, 1);
	if (!rc)
		rc = encode_dict(dict, &body, 1);
	if (!rc)
		rc = cs_der_put(out, CS_DER_ENTITLEMENTS, body.p, body.len);
	ut_buf_release(&body);
	return rc;
}

int cs_ent_der_blob(plist_t dict, struct ut_buf *out)
{
	struct ut_buf der;
	ut_buf_init(&der, 0);
	int rc = cs_ent_der_encode(dict, &der);
	if (!rc)
		rc = cs_blob_build(out, CSMAGIC_EMBEDDED_DER_ENTITLEMENTS, der.p, der.len);
	ut_buf_release(&der);
	return rc;
}

int cs_ent_der_blob_from_plist(const void *plist, size_t len, struct ut_buf *out)
{
	plist_t root = NULL;
	int rc = ut_plist_parse(plist, len, "entitlements", &root, NULL);
	if (rc)
		return rc;
	rc = cs_ent_der_blob(root, out);
	plist_free(root);
	return rc;
}

/* ---- decoding ---- */

static int decode_value(const struct cs_der_tlv *t, plist_t *out, int depth);

/* A C string from DER string content (no embedded NUL). */
static char *dup_string(struct ut_span s)
{
	if (memchr(s.p, 0, s.len))
		return NULL;
	char *c = malloc(s.len + 1);
	if (c) {
		memcpy(c, s.p, s.len);
		c[s.len] = '\0';
	}
	return c;
}

static int decode_entry(plist_t dict, const struct cs_der_tlv *entry, int depth)
{
	struct ut_reader r;
	struct cs_der_tlv k, v;
	if (entry->tag != CS_DER_SEQUENCE)
		return ut_fail(UT_EMALFORMED, "dictionary entry with DER tag 0x%02x, expected a SEQUENCE", entry->tag);
	ut_reader_init(&r, entry->content.p, entry->content.len);
	int rc = cs_der_read(&r, &k);
	if (!rc)
		rc = cs_der_read(&r, &v);
	if (rc == UT_ENOTFOUND || (!rc && ut_rd_left(&r)))
		return ut_fail(UT_EMALFORMED, "dictionary entry is not a key and one value");
	if (rc)
		return rc;
	if (k.tag != CS_DER_UTF8STRING)
		return ut_fail(UT_EMALFORMED, "dictionary key with DER tag 0x%02x, expected a UTF8String", k.tag);
	char *key = dup_string(k.content);
	if (!key)
		return ut_fail(UT_EMALFORMED, "dictionary key contains a NUL byte");
	if (plist_dict_get_item(dict, key)) {
		rc = ut_fail(UT_EMALFORMED, "duplicate entitlement '%s'", key);
	} else {
		plist_t val = NULL;
		rc = decode_value(&v, &val, depth + 1);
		if (rc)
			rc = ut_ctx(rc, "entitlement '%s'", key);
		else
			plist_dict_set_item(dict, key, val);
	}
	free(key);
	return rc;
}

/* Decodes the children of a constructed element into a new dict or array. */
static int decode_container(const struct cs_der_tlv *t, int is_dict, plist_t *out, int depth)
{
	struct ut_reader r;
	struct cs_der_tlv c;
	plist_t node = is_dict ? plist_new_dict() : plist_new_array();
	int rc;
	if (!node)
		return ut_fail(UT_ENOMEM, "out of memory");
	ut_reader_init(&r, t->content.p, t->content.len);
	while ((rc = cs_der_read(&r, &c)) == 0) {
		if (is_dict) {
			rc = decode_entry(node, &c, depth);
		} else {
			plist_t item = NULL;
			rc = decode_value(&c, &item, depth + 1);
			if (!rc)
				plist_array_append_item(node, item);
		}
		if (rc)
			break;
	}
	if (rc != UT_ENOTFOUND) {
		plist_free(node);
		return rc;
	}
	*out = node;
	return 0;
}

/* An integer node that keeps its sign with every libplist version. */
static plist_t new_int(int64_t v)
{
	if (v >= 0)
		return plist_new_uint((uint64_t)v);
	char xml[96];
	plist_t root = NULL;
	int n = snprintf(xml, sizeof(xml), "<plist version=\"1.0\"><integer>%" PRId64 "</integer></plist>", v);
	plist_from_xml(xml, (uint32_t)n, &root);
	return root;
}

static int decode_value(const struct cs_der_tlv *t, plist_t *out, int depth)
{
	*out = NULL;
	if (depth > CS_DER_MAX_DEPTH)
		return ut_fail(UT_EUNSUPPORTED, "DER entitlements nested deeper than %d levels", CS_DER_MAX_DEPTH);
	switch (t->tag) {
	case CS_DER_BOOLEAN:
		if (t->content.len != 1)
			return ut_fail(UT_EMALFORMED, "DER boolean of %zu bytes", t->content.len);
		*out = plist_new_bool(t->content.p[0] != 0);
		break;
	case CS_DER_INTEGER: {
		int64_t v;
		int rc = cs_der_get_int(t->content, &v);
		if (rc)
			return rc;
		*out = new_int(v);
		break;
	}
	case CS_DER_UTF8STRING: {
		char *s = dup_string(t->content);
		if (!s)
			return ut_fail(UT_EMALFORMED, "DER string contains a NUL byte");
		*out = plist_new_string(s);
		free(s);
		break;
	}
	case CS_DER_SEQUENCE: return decode_container(t, 0, out, depth);
	case CS_DER_DICT:
	case CS_DER_SET: return decode_container(t, 1, out, depth);
	default: return ut_fail(UT_EUNSUPPORTED, "DER entitlements value with tag 0x%02x unsupported", t->tag);
	}
	return *out ? 0 : ut_fail(UT_ENOMEM, "out of memory");
}

/* 70 { 02 01 01, B0 {...} }: returns the dictionary element. */
static int unwrap_apple(const struct cs_der_tlv *top, struct cs_der_tlv *dict)
{
	struct ut_reader r;
	struct cs_der_tlv ver;
	int64_t v = 0;
	ut_reader_init(&r, top->content.p, top->content.len);
	int rc = cs_der_read(&r, &ver);
	if (!rc && ver.tag != CS_DER_INTEGER)
		rc = ut_fail(UT_EMALFORMED, "DER entitlements: version has tag 0x%02x, expected an INTEGER", ver.tag);
	if (!rc)
		rc = cs_der_get_int(ver.content, &v);
	if (!rc && v != 1)
		rc = ut_fail(UT_EUNSUPPORTED, "DER entitlements version %lld unsupported", (long long)v);
	if (!rc)
		rc = cs_der_read(&r, dict);
	if (rc == UT_ENOTFOUND)
		return ut_fail(UT_EMALFORMED, "DER entitlements: wrapper ends before its dictionary");
	if (rc)
		return rc;
	if (dict->tag != CS_DER_DICT && dict->tag != CS_DER_SET)
		return ut_fail(UT_EMALFORMED, "DER entitlements: dictionary has tag 0x%02x", dict->tag);
	if (ut_rd_left(&r))
		return ut_fail(UT_EMALFORMED, "DER entitlements: %zu bytes after the dictionary", ut_rd_left(&r));
	return 0;
}

int cs_ent_der_decode(const uint8_t *der, size_t len, plist_t *out, enum cs_ent_der_form *form)
{
	struct ut_reader r;
	struct cs_der_tlv top, dict;
	*out = NULL;
	ut_reader_init(&r, der, len);
	int rc = cs_der_read(&r, &top);
	if (rc == UT_ENOTFOUND)
		return ut_fail(UT_EMALFORMED, "DER entitlements are empty");
	if (rc)
		return rc;
	if (ut_rd_left(&r))
		return ut_fail(UT_EMALFORMED, "DER entitlements: %zu bytes after the top element", ut_rd_left(&r));
	enum cs_ent_der_form f;
	if (top.tag == CS_DER_ENTITLEMENTS) {
		f = CS_ENT_DER_APPLE;
		if ((rc = unwrap_apple(&top, &dict)) != 0)
			return rc;
	} else if (top.tag == CS_DER_SET) {
		f = CS_ENT_DER_SET;
		dict = top;
	} else {
		return ut_fail(UT_EMALFORMED, "DER entitlements start with tag 0x%02x, expected 0x70 or 0x31", top.tag);
	}
	rc = decode_container(&dict, 1, out, 1);
	if (!rc && form)
		*form = f;
	return rc;
}

int cs_ent_der_blob_decode(const uint8_t *blob, size_t len, plist_t *out, enum cs_ent_der_form *form)
{
	struct cs_blob b;
	*out = NULL;
	int rc = cs_blob_parse(&b, blob, len, CSMAGIC_EMBEDDED_DER_ENTITLEMENTS);
	if (rc)
		return ut_ctx(rc, "DER entitlements blob");
	return cs_ent_der_decode(b.p + CS_BLOB_HEADER_SIZE, b.length - CS_BLOB_HEADER_SIZE, out, form);
}

uint64_t cs_ent_exec_seg_flags(plist_t dict)
{
	static const struct {
		const char *key;
		uint64_t flag;
	} map[] = {
		{ "get-task-allow", CS_EXECSEG_ALLOW_UNSIGNED },
		{ "run-unsigned-code", CS_EXECSEG_ALLOW_UNSIGNED },
		{ "com.apple.private.cs.debugger", CS_EXECSEG_DEBUGGER },
		{ "dynamic-codesigning", CS_EXECSEG_JIT },
		{ "com.apple.private.skip-library-validation", CS_EXECSEG_SKIP_LV },
		{ "com.apple.private.amfi.can-load-cdhash", CS_EXECSEG_CAN_LOAD_CDHASH },
		{ "com.apple.private.amfi.can-execute-cdhash", CS_EXECSEG_CAN_EXEC_CDHASH },
	};
	uint64_t flags = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (ut_plist_dict_true(dict, map[i].key))
			flags |= map[i].flag;
	return flags;
}
