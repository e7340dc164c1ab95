/* cs_req.c - requirement sets and the decompiler to Apple's text form (SEC reqdumper.cpp). */
#define _POSIX_C_SOURCE 200809L
#include "cs_req.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cs_der.h"
#include "cs_req_cursor.h"
#include "ut_bytes.h"
#include "ut_err.h"

#define REQ_HEADER_SIZE 12u /* magic, length, kind */
#define CF_EPOCH_UNIX   978307200LL /* 2001-01-01T00:00:00Z, the CFAbsoluteTime origin */

const char *cs_req_type_name(uint32_t type)
{
	static const char *const names[] = { NULL, "host", "guest", "designated", "library", "plugin" };
	return type < kSecRequirementTypeCount ? names[type] : NULL;
}

int cs_req_set_parse(struct cs_req_set *set, const uint8_t *p, size_t len)
{
	struct cs_superblob local;
	struct cs_superblob *s = &local;
	memset(set, 0, sizeof(*set));
	int rc = cs_superblob_parse(s, p, len, CSMAGIC_REQUIREMENTS);
	if (rc)
		return ut_ctx(rc, "requirements");
	for (uint32_t i = 0; i < s->count; i++) {
		const struct cs_blob_entry *e = &s->entries[i];
		if (e->blob.magic != CSMAGIC_REQUIREMENT)
			return ut_fail(UT_EMALFORMED, "requirements entry %u (type %u): magic 0x%08x, expected 0x%08x", i,
				       e->type, e->blob.magic, CSMAGIC_REQUIREMENT);
		if (e->blob.length < REQ_HEADER_SIZE)
			return ut_fail(UT_EMALFORMED, "requirements entry %u (type %u): %u bytes, below the %u-byte header",
				       i, e->type, e->blob.length, REQ_HEADER_SIZE);
		for (uint32_t k = 0; k < i; k++)
			if (set->entries[k].type == e->type)
				return ut_fail(UT_EMALFORMED, "requirements: type %u given twice", e->type);
		set->entries[i].type = e->type;
		set->entries[i].kind = ut_be32(e->blob.p + 8);
		set->entries[i].blob = e->blob;
	}
	set->count = s->count;
	return 0;
}

int cs_req_set_empty(struct ut_buf *out) { return cs_req_set_build(out, NULL, 0); }

int cs_req_set_build(struct ut_buf *out, const struct cs_req_in *reqs, unsigned n)
{
	struct cs_blob_in in[UT_MAX_BLOBS];
	if (n > UT_MAX_BLOBS)
		return ut_fail(UT_EINVAL, "%u requirements above the limit of %u", n, UT_MAX_BLOBS);
	for (unsigned i = 0; i < n; i++) {
		if (reqs[i].len < REQ_HEADER_SIZE || ut_be32(reqs[i].p) != CSMAGIC_REQUIREMENT)
			return ut_fail(UT_EINVAL, "requirement %u is not a requirement blob", i);
		in[i] = (struct cs_blob_in){ reqs[i].type, reqs[i].p, reqs[i].len };
	}
	return cs_superblob_build(out, CSMAGIC_REQUIREMENTS, in, n, CS_SB_APPLE);
}

/* ---- decompiler ---- */

enum level { SL_PRIMARY, SL_AND, SL_OR, SL_TOP };
enum mode { IS_SIMPLE, IS_PRINTABLE, IS_BINARY };

struct dumper {
	struct cs_req_cursor c;
	struct ut_buf *out;
};

static const char *const keywords[] = {
	"guest", "host", "designated", "library", "plugin", "or", "and", "always", "true", "never", "false",
	"identifier", "cdhash", "platform", "notarized", "legacy", "anchor", "apple", "generic", "certificate",
	"cert", "trusted", "info", "entitlement", "exists", "absent", "leaf", "root", "timestamp", "",
};

static int put(struct dumper *d, const char *s) { return ut_buf_append(d->out, s, strlen(s)); }

static int is_alnum(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* Dumper::data: bare if alphanumeric (dots when dot_ok) and not a keyword, quoted if printable, else 0x hex. */
static int print_data(struct dumper *d, enum mode best, int dot_ok)
{
	const uint8_t *s = NULL;
	size_t n = 0;
	int rc = cs_req_cursor_data(&d->c, &s, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (is_alnum(c) || (c == '.' && dot_ok)) {
			if (i == 0 && c >= '0' && c <= '9')
				best = IS_PRINTABLE;
		} else if ((c >= 0x21 && c <= 0x7e) || c == ' ' || (c >= '\t' && c <= '\r')) {
			if (best == IS_SIMPLE)
				best = IS_PRINTABLE;
		} else {
			best = IS_BINARY;
			break;
		}
	}
	if (best == IS_SIMPLE)
		for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++)
			if (strlen(keywords[k]) == n && memcmp(keywords[k], s, n) == 0)
				best = IS_PRINTABLE;
	if (best == IS_SIMPLE)
		return ut_buf_append(d->out, s, n);
	if (best == IS_PRINTABLE) {
		rc = ut_buf_u8(d->out, '"');
		for (size_t i = 0; i < n && !rc; i++) {
			if (s[i] == '"' || s[i] == '\\')
				rc = ut_buf_u8(d->out, '\\');
			if (!rc)
				rc = ut_buf_u8(d->out, s[i]);
		}
		return rc ? rc : ut_buf_u8(d->out, '"');
	}
	rc = put(d, "0x");
	for (size_t i = 0; i < n && !rc; i++)
		rc = ut_buf_printf(d->out, "%02x", s[i]);
	return rc;
}

static int print_hash(struct dumper *d)
{
	const uint8_t *s = NULL;
	size_t n = 0;
	int rc = cs_req_cursor_data(&d->c, &s, &n);
	if (!rc)
		rc = put(d, "H\"");
	for (size_t i = 0; i < n && !rc; i++)
		rc = ut_buf_printf(d->out, "%02x", s[i]);
	return rc ? rc : put(d, "\"");
}

static int print_slot(struct dumper *d)
{
	uint32_t v = 0;
	int rc = cs_req_cursor_u32(&d->c, &v);
	if (rc)
		return rc;
	int32_t slot = (int32_t)v;
	if (slot == CS_REQ_ANCHOR_CERT)
		return put(d, " root");
	if (slot == CS_REQ_LEAF_CERT)
		return put(d, " leaf");
	return ut_buf_printf(d->out, " %d", slot);
}

static int print_oid(struct dumper *d, const char *prefix)
{
	const uint8_t *s = NULL;
	size_t n = 0;
	char oid[256];
	int rc = cs_req_cursor_data(&d->c, &s, &n);
	if (!rc)
		rc = cs_der_oid_decode(ut_span_make(s, n), oid, sizeof(oid));
	return rc ? rc : ut_buf_printf(d->out, "%s%s", prefix, oid);
}

/* CFAbsoluteTime seconds as `timestamp "YYYYMMDDhhmmssZ"`. */
static int print_time(struct dumper *d)
{
	uint32_t hi = 0, lo = 0;
	int rc = cs_req_cursor_u32(&d->c, &hi);
	if (!rc)
		rc = cs_req_cursor_u32(&d->c, &lo);
	if (rc)
		return rc;
	int64_t at = (int64_t)((uint64_t)hi << 32 | lo);
	if (at > INT64_MAX / 2 || at < INT64_MIN / 2)
		return ut_fail(UT_EUNSUPPORTED, "requirement: timestamp %lld out of range", (long long)at);
	time_t t = (time_t)(at + CF_EPOCH_UNIX);
	struct tm tm;
	char buf[32];
	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y%m%d%H%M%SZ", &tm))
		return ut_fail(UT_EUNSUPPORTED, "requirement: timestamp %lld out of range", (long long)at);
	return ut_buf_printf(d->out, "timestamp \"%s\"", buf);
}

static int print_match(struct dumper *d)
{
	static const char *const ops[] = { [matchLessThan] = " < ", [matchGreaterThan] = " > ",
					   [matchLessEqual] = " <= ", [matchGreaterEqual] = " >= ",
					   [matchOn] = " = ", [matchBefore] = " < ", [matchAfter] = " > ",
					   [matchOnOrBefore] = " <= ", [matchOnOrAfter] = " >= " };
	uint32_t op = 0;
	int rc = cs_req_cursor_u32(&d->c, &op);
	if (rc)
		return rc;
	switch (op) {
	case matchExists: return put(d, " /* exists */");
	case matchAbsent: return put(d, " absent ");
	case matchEqual: return (rc = put(d, " = ")) ? rc : print_data(d, IS_SIMPLE, 0);
	case matchContains: return (rc = put(d, " ~ ")) ? rc : print_data(d, IS_SIMPLE, 0);
	case matchBeginsWith:
		if (!(rc = put(d, " = ")) && !(rc = print_data(d, IS_SIMPLE, 0)))
			rc = put(d, "*");
		return rc;
	case matchEndsWith: return (rc = put(d, " = *")) ? rc : print_data(d, IS_SIMPLE, 0);
	case matchLessThan:
	case matchGreaterThan:
	case matchLessEqual:
	case matchGreaterEqual: return (rc = put(d, ops[op])) ? rc : print_data(d, IS_SIMPLE, 0);
	case matchOn:
	case matchBefore:
	case matchAfter:
	case matchOnOrBefore:
	case matchOnOrAfter: return (rc = put(d, ops[op])) ? rc : print_time(d);
	}
	return ut_fail(UT_EUNSUPPORTED, "requirement: match operation %u unknown", op);
}

static int expr(struct dumper *d, enum level level, int depth);

static int binary(struct dumper *d, enum level level, enum level mine, const char *word, int depth)
{
	int rc = 0;
	if (level < mine)
		rc = put(d, "(");
	if (!rc)
		rc = expr(d, mine, depth + 1);
	if (!rc)
		rc = put(d, word);
	if (!rc)
		rc = expr(d, mine, depth + 1);
	if (!rc && level < mine)
		rc = put(d, ")");
	return rc;
}

/* certificate <slot>[<field>] <match> */
static int cert_field(struct dumper *d, const char *oid_prefix)
{
	int rc = put(d, "certificate");
	if (!rc)
		rc = print_slot(d);
	if (!rc)
		rc = put(d, "[");
	if (!rc)
		rc = oid_prefix ? print_oid(d, oid_prefix) : print_data(d, IS_SIMPLE, 1);
	if (!rc)
		rc = put(d, "]");
	return rc ? rc : print_match(d);
}

static int keyed(struct dumper *d, const char *what)
{
	int rc = put(d, what);
	if (!rc)
		rc = print_data(d, IS_SIMPLE, 1);
	if (!rc)
		rc = put(d, "]");
	return rc ? rc : print_match(d);
}

static int expr(struct dumper *d, enum level level, int depth)
{
	uint32_t op = 0;
	int rc;
	if (depth > CS_REQ_MAX_DEPTH)
		return ut_fail(UT_EUNSUPPORTED, "requirement nested deeper than %d levels", CS_REQ_MAX_DEPTH);
	if ((rc = cs_req_cursor_u32(&d->c, &op)) != 0)
		return rc;
	switch (op & ~opFlagMask) {
	case opFalse: return put(d, "never");
	case opTrue: return put(d, "always");
	case opIdent: return (rc = put(d, "identifier ")) ? rc : print_data(d, IS_SIMPLE, 0);
	case opAppleAnchor: return put(d, "anchor apple");
	case opAppleGenericAnchor: return put(d, "anchor apple generic");
	case opAnchorHash:
		if (!(rc = put(d, "certificate")) && !(rc = print_slot(d)) && !(rc = put(d, " = ")))
			rc = print_hash(d);
		return rc;
	case opInfoKeyValue:
		if (!(rc = put(d, "info[")) && !(rc = print_data(d, IS_SIMPLE, 1)) && !(rc = put(d, "] = ")))
			rc = print_data(d, IS_SIMPLE, 0);
		return rc;
	case opAnd: return binary(d, level, SL_AND, " and ", depth);
	case opOr: return binary(d, level, SL_OR, " or ", depth);
	case opNot: return (rc = put(d, "! ")) ? rc : expr(d, SL_PRIMARY, depth + 1);
	case opCDHash: return (rc = put(d, "cdhash ")) ? rc : print_hash(d);
	case opInfoKeyField: return keyed(d, "info[");
	case opEntitlementField: return keyed(d, "entitlement[");
	case opCertField: return cert_field(d, NULL);
	case opCertGeneric: return cert_field(d, "field.");
	case opCertPolicy: return cert_field(d, "policy.");
	case opCertFieldDate: return cert_field(d, "timestamp.");
	case opTrustedCert:
		/* Apple prints "certificate leaftrusted"; the space keeps the text compilable. */
		if (!(rc = put(d, "certificate")) && !(rc = print_slot(d)))
			rc = put(d, " trusted");
		return rc;
	case opTrustedCerts: return put(d, "anchor trusted");
	case opNamedAnchor: return (rc = put(d, "anchor apple ")) ? rc : print_data(d, IS_SIMPLE, 0);
	case opNamedCode:
		if (!(rc = put(d, "(")) && !(rc = print_data(d, IS_SIMPLE, 0)))
			rc = put(d, ")");
		return rc;
	case opPlatform: {
		uint32_t v = 0;
		if ((rc = cs_req_cursor_u32(&d->c, &v)) != 0)
			return rc;
		return ut_buf_printf(d->out, "platform = %d", (int32_t)v);
	}
	case opNotarized: return put(d, "notarized");
	case opLegacyDevID: return put(d, "legacy");
	}
	if (op & (opGenericFalse | opGenericSkip)) {
		/* Unknown opcode with a size field: skip it (SEC reqinterp.cpp). */
		const uint8_t *s = NULL;
		size_t n = 0;
		if ((rc = cs_req_cursor_data(&d->c, &s, &n)) != 0)
			return rc;
		if (op & opGenericFalse)
			return ut_buf_printf(d->out, " false /* opcode %u */", op & ~opFlagMask);
		if ((rc = ut_buf_printf(d->out, " /* opcode %u */ ", op & ~opFlagMask)) != 0)
			return rc;
		return expr(d, level, depth + 1);
	}
	return ut_fail(UT_EUNSUPPORTED, "requirement: opcode %u unknown", op);
}

int cs_req_text(const uint8_t *req, size_t len, struct ut_buf *out)
{
	struct dumper d = { .out = out };
	int rc = cs_req_cursor_init(&d.c, req, len);
	if (rc)
		return rc;
	size_t start = out->len;
	rc = expr(&d, SL_TOP, 0);
	if (!rc)
		rc = cs_req_cursor_end(&d.c);
	if (!rc && out->len > start && out->p[start] == ' ') {
		memmove(out->p + start, out->p + start + 1, out->len - start - 1);
		out->len--;
	}
	if (!rc)
		rc = ut_buf_cstr(out);
	if (rc)
		out->len = start;
	return rc;
}

int cs_req_set_text(const uint8_t *set, size_t len, struct ut_buf *out)
{
	struct cs_req_set s;
	int rc = cs_req_set_parse(&s, set, len);
	size_t start = out->len;
	for (uint32_t i = 0; i < s.count && !rc; i++) {
		const char *name = cs_req_type_name(s.entries[i].type);
		if (name)
			rc = ut_buf_printf(out, "%s => ", name);
		else
			rc = ut_buf_printf(out, "/*unknown type*/ %u => ", s.entries[i].type);
		if (!rc)
			rc = cs_req_text(s.entries[i].blob.p, s.entries[i].blob.length, out);
		if (rc)
			rc = ut_ctx(rc, "requirement %u (type %u)", i, s.entries[i].type);
		if (!rc)
			rc = ut_buf_u8(out, '\n');
	}
	if (!rc)
		rc = ut_buf_cstr(out);
	if (rc)
		out->len = start;
	return rc;
}
