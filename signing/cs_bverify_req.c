/* cs_bverify_req.c - a requirement interpreter (SEC reqinterp.cpp) over the binary expression form. */
#define _POSIX_C_SOURCE 200809L
#include "cs_bverify_req.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cs_blob.h"
#include "cs_der.h"
#include "cs_req.h"
#include "cs_req_cursor.h"
#include "ut_buf.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_plist.h"

/* SEC reqinterp.cpp appleSigned(): the intermediate right below an Apple root. */
#define APPLE_CS_CA_CN "Apple Code Signing Certification Authority"
#define APPLE_CS_CA_O "Apple Inc."

struct interp {
	struct cs_req_cursor c;
	const struct cs_req_code *code;
	char *why;              /* the reason of the deciding false clause */
	size_t whyn;
	int mute;               /* > 0: evaluating a branch that cannot change the verdict */
	int why_unknown_set;
	char unknown[160];
};

typedef enum cs_req_verdict verdict;

const char *cs_req_verdict_name(enum cs_req_verdict v)
{
	return v == CS_REQ_TRUE ? "satisfied" : v == CS_REQ_FALSE ? "not satisfied" : "not evaluable";
}

static void note_false(struct interp *in, const char *fmt, ...) UT_PRINTF(2, 3);
static void note_false(struct interp *in, const char *fmt, ...)
{
	if (in->mute || !in->why || !in->whyn)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(in->why, in->whyn, fmt, ap);
	va_end(ap);
}

static verdict unknown(struct interp *in, const char *what)
{
	if (!in->why_unknown_set && !in->mute) {
		snprintf(in->unknown, sizeof(in->unknown), "requirement not evaluable: %s", what);
		in->why_unknown_set = 1;
	}
	return CS_REQ_UNKNOWN;
}

/* A copy of data as a C string (cut to cap - 1 bytes). */
static void to_cstr(char *out, size_t cap, const uint8_t *s, size_t n)
{
	size_t k = n < cap - 1 ? n : cap - 1;
	memcpy(out, s, k);
	out[k] = '\0';
}

/* ---- matching ---- */

struct match {
	uint32_t op;
	const uint8_t *value;     /* string operand (not NUL-terminated) */
	size_t n;
};

static int read_match(struct interp *in, struct match *m)
{
	memset(m, 0, sizeof(*m));
	int rc = cs_req_cursor_u32(&in->c, &m->op);
	if (rc)
		return rc;
	switch (m->op) {
	case matchExists:
	case matchAbsent: return 0;
	case matchEqual:
	case matchContains:
	case matchBeginsWith:
	case matchEndsWith:
	case matchLessThan:
	case matchGreaterThan:
	case matchLessEqual:
	case matchGreaterEqual: return cs_req_cursor_data(&in->c, &m->value, &m->n);
	case matchOn:
	case matchBefore:
	case matchAfter:
	case matchOnOrBefore:
	case matchOnOrAfter: {
		uint32_t hi, lo;
		return (rc = cs_req_cursor_u32(&in->c, &hi)) ? rc : cs_req_cursor_u32(&in->c, &lo);
	}
	}
	return ut_fail(UT_EUNSUPPORTED, "requirement: match operation %u unknown", m->op);
}

static const char *match_word(uint32_t op)
{
	static const char *const w[] = { "exists", "=", "~", "= ...*", "= *...", "<", ">", "<=", ">=", "on",
					 "before", "after", "on or before", "on or after", "absent" };
	return op < sizeof(w) / sizeof(w[0]) ? w[op] : "?";
}

/* A string candidate against a match (SEC Match::operator() on CFString, byte comparison). */
static int match_str(const struct match *m, const char *s)
{
	size_t sl = strlen(s);
	int c;
	switch (m->op) {
	case matchExists: return 1;
	case matchAbsent: return 0;
	case matchEqual: return sl == m->n && memcmp(s, m->value, sl) == 0;
	case matchContains:
		if (!m->n)
			return 1;
		for (size_t i = 0; i + m->n <= sl; i++)
			if (memcmp(s + i, m->value, m->n) == 0)
				return 1;
		return 0;
	case matchBeginsWith: return sl >= m->n && memcmp(s, m->value, m->n) == 0;
	case matchEndsWith: return sl >= m->n && memcmp(s + sl - m->n, m->value, m->n) == 0;
	}
	c = memcmp(s, m->value, sl < m->n ? sl : m->n);
	if (!c)
		c = sl < m->n ? -1 : sl > m->n ? 1 : 0;
	switch (m->op) {
	case matchLessThan: return c < 0;
	case matchGreaterThan: return c > 0;
	case matchLessEqual: return c <= 0;
	case matchGreaterEqual: return c >= 0;
	}
	return 0;
}

static int is_date_match(uint32_t op) { return op >= matchOn && op <= matchOnOrAfter; }

/* A set of string candidates (n = 0: the field is absent). */
static verdict match_values(struct interp *in, const struct match *m, const char *const *vals, size_t n,
			    const char *what)
{
	if (is_date_match(m->op))
		return unknown(in, "date comparison");
	if (m->op == matchAbsent) {
		if (n)
			note_false(in, "%s is present ('%s')", what, vals[0]);
		return n ? CS_REQ_FALSE : CS_REQ_TRUE;
	}
	for (size_t i = 0; i < n; i++)
		if (match_str(m, vals[i]))
			return CS_REQ_TRUE;
	char want[128];
	to_cstr(want, sizeof(want), m->value ? m->value : (const uint8_t *)"", m->n);
	if (!n)
		note_false(in, "%s is absent", what);
	else
		note_false(in, "%s is '%s', not %s \"%s\"", what, vals[0], match_word(m->op), want);
	return CS_REQ_FALSE;
}

/* ---- plist fields (info[], entitlement[]) ---- */

static verdict match_plist(struct interp *in, plist_t dict, const uint8_t *key, size_t keylen,
			   const struct match *m, const char *table)
{
	char k[256], what[300];
	to_cstr(k, sizeof(k), key, keylen);
	snprintf(what, sizeof(what), "%s[%s]", table, k);
	if (!dict)
		return unknown(in, table[0] == 'i' ? "info[] without an Info.plist" : "entitlement[] without entitlements");
	plist_t v = plist_get_node_type(dict) == PLIST_DICT ? plist_dict_get_item(dict, k) : NULL;
	if (!v)
		return match_values(in, m, NULL, 0, what);
	if (m->op == matchExists || m->op == matchAbsent) {
		static const char *const present[] = { "(present)" };
		return match_values(in, m, present, 1, what);
	}
	const char *vals[64];
	size_t n = 0;
	if (plist_get_node_type(v) == PLIST_STRING) {
		vals[n++] = ut_plist_str(v);
	} else if (plist_get_node_type(v) == PLIST_ARRAY) {
		uint32_t cnt = plist_array_get_size(v);
		for (uint32_t i = 0; i < cnt && n < 64; i++) {
			const char *s = ut_plist_str(plist_array_get_item(v, i));
			if (s)
				vals[n++] = s;
		}
	} else if (plist_get_node_type(v) == PLIST_BOOLEAN) {
		uint8_t b = 0;
		plist_get_bool_val(v, &b);
		vals[n++] = b ? "true" : "false";
	} else {
		return unknown(in, "a plist value that is not a string");
	}
	return match_values(in, m, vals, n, what);
}

/* ---- certificates ---- */

static const struct cs_cert_info *cert_at(const struct interp *in, int32_t slot, const struct cs_certx **x)
{
	const struct cs_chain *c = in->code->chain;
	*x = NULL;
	if (!c || !c->n)
		return NULL;
	int64_t ix = slot < 0 ? (int64_t)c->n + slot : slot;
	if (ix < 0 || ix >= (int64_t)c->n)
		return NULL;
	if (in->code->certx)
		*x = &in->code->certx[ix];
	return &c->certs[ix];
}

static void slot_name(char *out, size_t n, int32_t slot)
{
	if (slot == CS_REQ_LEAF_CERT)
		snprintf(out, n, "leaf");
	else if (slot == CS_REQ_ANCHOR_CERT)
		snprintf(out, n, "root");
	else
		snprintf(out, n, "%d", slot);
}

static int anchored_apple(const struct interp *in)
{
	const struct cs_chain *c = in->code->chain;
	return c && c->n && cs_anchor_trusted(c->anchor);
}

static verdict cert_subject(struct interp *in, int32_t slot, const char *key, const struct match *m)
{
	char sn[16], what[300];
	slot_name(sn, sizeof(sn), slot);
	snprintf(what, sizeof(what), "certificate %s[subject.%s]", sn, key);
	const struct cs_certx *x;
	const struct cs_cert_info *ci = cert_at(in, slot, &x);
	if (!ci) {
		note_false(in, "%s: no such certificate", what);
		return CS_REQ_FALSE;
	}
	const char *vals[CS_CERTX_MAX_ATTRS];
	size_t n = 0;
	if (x) {
		for (unsigned i = 0; i < x->nattrs; i++)
			if (strcmp(x->attrs[i].key, key) == 0)
				vals[n++] = x->attrs[i].value;
		if (!n && x->truncated)
			return unknown(in, "a certificate with more subject attributes than kept");
		return match_values(in, m, vals, n, what);
	}
	/* Only the first CN / OU / O are known without the extra fields ("" when absent). */
	const char *v = strcmp(key, "CN") == 0 ? ci->cn : strcmp(key, "OU") == 0 ? ci->ou
			: strcmp(key, "O") == 0 ? ci->o : NULL;
	if (!v)
		return unknown(in, "a certificate subject field without the certificate's details");
	if (v[0])
		vals[n++] = v;
	return match_values(in, m, vals, n, what);
}

static verdict cert_extension(struct interp *in, int32_t slot, const char *oid, const struct match *m)
{
	char sn[16], what[200];
	slot_name(sn, sizeof(sn), slot);
	snprintf(what, sizeof(what), "certificate %s[field.%s]", sn, oid);
	if (m->op != matchExists && m->op != matchAbsent)
		return unknown(in, "a certificate extension compared by value");
	const struct cs_certx *x;
	const struct cs_cert_info *ci = cert_at(in, slot, &x);
	if (!ci) {
		note_false(in, "%s: no such certificate", what);
		return CS_REQ_FALSE;
	}
	int present = -1;
	if (x) {
		present = 0;
		for (unsigned i = 0; i < x->nexts && !present; i++)
			present = strcmp(x->exts[i], oid) == 0;
		if (!present && x->truncated)
			present = -1;
	} else {
		static const struct {
			const char *oid;
			unsigned mark;
		} known[] = { { CS_OID_DEVID_CA, CS_CERT_DEVID_CA }, { CS_OID_WWDR_CA, CS_CERT_WWDR_CA },
			      { CS_OID_DEVID_LEAF, CS_CERT_DEVID_LEAF }, { CS_OID_SOFTWARE_SIGNING, CS_CERT_SOFTWARE_SIGNING } };
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(known[i].oid, oid) == 0)
				present = (ci->marks & known[i].mark) != 0;
	}
	if (present < 0)
		return unknown(in, "a certificate extension without the certificate's details");
	static const char *const yes[] = { "(present)" };
	return match_values(in, m, yes, (size_t)present, what);
}

/* certificate S[field.OID] / [subject.K] / [policy.OID] / [timestamp.OID] */
static int eval_cert_field(struct interp *in, uint32_t op, verdict *out)
{
	uint32_t s = 0;
	const uint8_t *key;
	size_t keylen;
	struct match m;
	int rc = cs_req_cursor_u32(&in->c, &s);
	if (!rc)
		rc = cs_req_cursor_data(&in->c, &key, &keylen);
	if (!rc)
		rc = read_match(in, &m);
	if (rc)
		return rc;
	int32_t slot = (int32_t)s;
	if (op == opCertField) {
		char k[64];
		to_cstr(k, sizeof(k), key, keylen);
		static const char *const names[] = { "C", "CN", "D", "L", "O", "OU", "ST", "STREET", "UID", "emailAddress" };
		if (strncmp(k, "subject.", 8) == 0)
			for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
				if (strcmp(k + 8, names[i]) == 0) {
					*out = cert_subject(in, slot, names[i], &m);
					return 0;
				}
		char what[96];
		snprintf(what, sizeof(what), "certificate field '%s'", k);
		*out = unknown(in, what);
		return 0;
	}
	if (op == opCertGeneric) {
		char oid[CS_CERTX_OID_MAX];
		if ((rc = cs_der_oid_decode(ut_span_make(key, keylen), oid, sizeof(oid))) != 0)
			return ut_ctx(rc, "requirement: certificate field");
		*out = cert_extension(in, slot, oid, &m);
		return 0;
	}
	*out = unknown(in, op == opCertPolicy ? "certificate policy" : "certificate timestamp field");
	return 0;
}

static verdict eval_anchor_hash(struct interp *in, int32_t slot, const uint8_t *h, size_t n)
{
	char sn[16], want[2 * 64 + 1], have[41];
	slot_name(sn, sizeof(sn), slot);
	ut_hex(want, h, n > 64 ? 64 : n);
	const struct cs_certx *x;
	const struct cs_cert_info *ci = cert_at(in, slot, &x);
	if (!ci) {
		note_false(in, "certificate %s = H\"%s\": no such certificate", sn, want);
		return CS_REQ_FALSE;
	}
	if (n == sizeof(ci->sha1) && memcmp(ci->sha1, h, n) == 0)
		return CS_REQ_TRUE;
	ut_hex(have, ci->sha1, sizeof(ci->sha1));
	note_false(in, "certificate %s = H\"%s\": its SHA-1 is %s", sn, want, have);
	return CS_REQ_FALSE;
}

static verdict eval_cdhash(struct interp *in, const uint8_t *h, size_t n)
{
	char have[2 * CS_CDHASH_LEN + 1];
	if (!in->code->cdhash)
		return unknown(in, "cdhash of code without a CodeDirectory");
	if (n == CS_CDHASH_LEN && memcmp(in->code->cdhash, h, n) == 0)
		return CS_REQ_TRUE;
	ut_hex(have, in->code->cdhash, CS_CDHASH_LEN);
	note_false(in, "the code's cdhash H\"%s\" is not the required one", have);
	return CS_REQ_FALSE;
}

static verdict eval_anchor(struct interp *in, int generic)
{
	const char *what = generic ? "anchor apple generic" : "anchor apple";
	if (!in->code->chain) {
		note_false(in, "%s: the code has no certificate chain", what);
		return CS_REQ_FALSE;
	}
	if (!anchored_apple(in)) {
		note_false(in, "%s: the chain ends at '%s', not an Apple root", what,
			   in->code->chain->n ? in->code->chain->certs[in->code->chain->n - 1].cn : "");
		return CS_REQ_FALSE;
	}
	if (generic)
		return CS_REQ_TRUE;
	const struct cs_certx *x;
	const struct cs_cert_info *ca = cert_at(in, -2, &x);
	if (ca && strcmp(ca->cn, APPLE_CS_CA_CN) == 0 && strcmp(ca->o, APPLE_CS_CA_O) == 0)
		return CS_REQ_TRUE;
	note_false(in, "anchor apple: the intermediate is '%s', not %s", ca ? ca->cn : "(none)", APPLE_CS_CA_CN);
	return CS_REQ_FALSE;
}

static verdict and3(verdict a, verdict b)
{
	if (a == CS_REQ_FALSE || b == CS_REQ_FALSE)
		return CS_REQ_FALSE;
	return a == CS_REQ_TRUE && b == CS_REQ_TRUE ? CS_REQ_TRUE : CS_REQ_UNKNOWN;
}

static verdict or3(verdict a, verdict b)
{
	if (a == CS_REQ_TRUE || b == CS_REQ_TRUE)
		return CS_REQ_TRUE;
	return a == CS_REQ_FALSE && b == CS_REQ_FALSE ? CS_REQ_FALSE : CS_REQ_UNKNOWN;
}

static int eval(struct interp *in, verdict *out, int depth);

static int eval_simple(struct interp *in, uint32_t op, verdict *out)
{
	const uint8_t *d;
	size_t n;
	uint32_t v;
	int rc = 0;
	switch (op) {
	case opIdent: {
		if ((rc = cs_req_cursor_data(&in->c, &d, &n)) != 0)
			return rc;
		const char *id = in->code->identifier ? in->code->identifier : "";
		*out = strlen(id) == n && memcmp(id, d, n) == 0 ? CS_REQ_TRUE : CS_REQ_FALSE;
		if (*out == CS_REQ_FALSE) {
			char want[256];
			to_cstr(want, sizeof(want), d, n);
			note_false(in, "identifier \"%s\": the code's identifier is \"%s\"", want, id);
		}
		return 0;
	}
	case opCDHash:
		if ((rc = cs_req_cursor_data(&in->c, &d, &n)) == 0)
			*out = eval_cdhash(in, d, n);
		return rc;
	case opAnchorHash:
		if ((rc = cs_req_cursor_u32(&in->c, &v)) == 0 &&
		    (rc = cs_req_cursor_data(&in->c, &d, &n)) == 0)
			*out = eval_anchor_hash(in, (int32_t)v, d, n);
		return rc;
	case opPlatform:
		if ((rc = cs_req_cursor_u32(&in->c, &v)) != 0)
			return rc;
		*out = (int32_t)v == in->code->platform ? CS_REQ_TRUE : CS_REQ_FALSE;
		if (*out == CS_REQ_FALSE)
			note_false(in, "platform = %d: the code's platform is %d", (int32_t)v, in->code->platform);
		return 0;
	case opInfoKeyValue: {
		const uint8_t *key;
		size_t keylen;
		struct match m = { .op = matchEqual };
		if ((rc = cs_req_cursor_data(&in->c, &key, &keylen)) != 0 ||
		    (rc = cs_req_cursor_data(&in->c, &m.value, &m.n)) != 0)
			return rc;
		*out = match_plist(in, in->code->info, key, keylen, &m, "info");
		return 0;
	}
	case opInfoKeyField:
	case opEntitlementField: {
		const uint8_t *key;
		size_t keylen;
		struct match m;
		if ((rc = cs_req_cursor_data(&in->c, &key, &keylen)) != 0 || (rc = read_match(in, &m)) != 0)
			return rc;
		*out = op == opInfoKeyField ? match_plist(in, in->code->info, key, keylen, &m, "info")
					    : match_plist(in, in->code->entitlements, key, keylen, &m, "entitlement");
		return 0;
	}
	case opCertField:
	case opCertGeneric:
	case opCertPolicy:
	case opCertFieldDate: return eval_cert_field(in, op, out);
	case opTrustedCert:
		if ((rc = cs_req_cursor_u32(&in->c, &v)) == 0)
			*out = unknown(in, "certificate trust settings");
		return rc;
	case opNamedAnchor:
	case opNamedCode:
		if ((rc = cs_req_cursor_data(&in->c, &d, &n)) == 0)
			*out = unknown(in, op == opNamedAnchor ? "a named anchor" : "named code");
		return rc;
	}
	return 1; /* not a simple operation */
}

static int eval(struct interp *in, verdict *out, int depth)
{
	uint32_t op = 0;
	int rc;
	if (depth > CS_REQ_MAX_DEPTH)
		return ut_fail(UT_EUNSUPPORTED, "requirement nested deeper than %d levels", CS_REQ_MAX_DEPTH);
	if ((rc = cs_req_cursor_u32(&in->c, &op)) != 0)
		return rc;
	verdict a, b;
	switch (op & ~opFlagMask) {
	case opFalse: *out = CS_REQ_FALSE; note_false(in, "never"); return 0;
	case opTrue: *out = CS_REQ_TRUE; return 0;
	case opAppleAnchor: *out = eval_anchor(in, 0); return 0;
	case opAppleGenericAnchor: *out = eval_anchor(in, 1); return 0;
	case opTrustedCerts: *out = unknown(in, "anchor trusted"); return 0;
	case opNotarized: *out = unknown(in, "notarized"); return 0;
	case opLegacyDevID: *out = unknown(in, "legacy"); return 0;
	case opAnd:
	case opOr: {
		/* Both sides are decoded; the side that cannot change the verdict leaves the reason alone. */
		int is_and = (op & ~opFlagMask) == opAnd;
		if ((rc = eval(in, &a, depth + 1)) != 0)
			return rc;
		int decided = is_and ? a == CS_REQ_FALSE : a == CS_REQ_TRUE;
		in->mute += decided;
		rc = eval(in, &b, depth + 1);
		in->mute -= decided;
		if (rc)
			return rc;
		*out = is_and ? and3(a, b) : or3(a, b);
		return 0;
	}
	case opNot:
		if ((rc = eval(in, &a, depth + 1)) != 0)
			return rc;
		*out = a == CS_REQ_UNKNOWN ? a : a == CS_REQ_TRUE ? CS_REQ_FALSE : CS_REQ_TRUE;
		if (*out == CS_REQ_FALSE)
			note_false(in, "a negated clause holds");
		return 0;
	}
	rc = eval_simple(in, op & ~opFlagMask, out);
	if (rc <= 0)
		return rc;
	if (op & (opGenericFalse | opGenericSkip)) {
		/* An operation we do not know, with a size field (SEC reqinterp.cpp). */
		const uint8_t *d;
		size_t n;
		if ((rc = cs_req_cursor_data(&in->c, &d, &n)) != 0)
			return rc;
		if (op & opGenericFalse) {
			*out = CS_REQ_FALSE;
			note_false(in, "opcode %u (unknown, counts as false)", op & ~opFlagMask);
			return 0;
		}
		return eval(in, out, depth + 1);
	}
	return ut_fail(UT_EUNSUPPORTED, "requirement: opcode %u unknown", op);
}

int cs_req_eval(enum cs_req_verdict *out, const uint8_t *req, size_t len, const struct cs_req_code *code,
		char *why, size_t n)
{
	*out = CS_REQ_FALSE;
	if (why && n)
		why[0] = '\0';
	struct interp in = { .code = code, .why = why, .whyn = n };
	int rc = cs_req_cursor_init(&in.c, req, len);
	if (rc)
		return rc;
	verdict v = CS_REQ_FALSE;
	rc = eval(&in, &v, 0);
	if (!rc)
		rc = cs_req_cursor_end(&in.c);
	if (rc)
		return rc;
	if (v == CS_REQ_TRUE && why && n)
		why[0] = '\0';
	else if (v == CS_REQ_UNKNOWN && why && n)
		snprintf(why, n, "%s", in.unknown);
	*out = v;
	return 0;
}

int cs_req_eval_text(enum cs_req_verdict *out, const char *text, const struct cs_req_code *code, char *why,
		     size_t n)
{
	struct ut_buf b;
	ut_buf_init(&b, 1u << 20);
	int rc = cs_req_compile(text, 0, &b);
	if (!rc)
		rc = cs_req_eval(out, b.p, b.len, code, why, n);
	ut_buf_release(&b);
	return rc;
}
