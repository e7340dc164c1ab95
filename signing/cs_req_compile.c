/* cs_req_compile.c - requirement text to binary (SEC requirements.grammar, reqmaker.cpp). */
#include <stdlib.h>
#include <string.h>

#include "cs_der.h"
#include "cs_req_lex.h"
#include "cs_req.h"
#include "ut_bytes.h"
#include "ut_err.h"

#define CF_EPOCH_UNIX 978307200LL

static int is_digit(char c) { return c >= '0' && c <= '9'; }

struct compiler {
	struct req_lexer lx;
	size_t cur;
	struct ut_buf code;   /* the requirement being built */
	unsigned opts;
};

static const struct token *tok(const struct compiler *c, size_t ahead)
{
	size_t i = c->cur + ahead;
	return &c->lx.toks[i < c->lx.ntok ? i : c->lx.ntok - 1];
}

static const uint8_t *val(const struct compiler *c, const struct token *t) { return c->lx.arena.p + t->val; }

static int is_word(const struct compiler *c, const struct token *t, const char *w)
{
	return t->t == T_WORD && t->len == strlen(w) && memcmp(val(c, t), w, t->len) == 0;
}

static int is_keyword(const struct compiler *c, const struct token *t)
{
	static const char *const kw[] = { "guest", "host", "designated", "library", "plugin", "or", "and",
		"always", "true", "never", "false", "identifier", "cdhash", "platform", "notarized", "legacy",
		"anchor", "apple", "generic", "certificate", "cert", "trusted", "info", "entitlement", "exists",
		"absent", "leaf", "root", "timestamp" };
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (is_word(c, t, kw[i]))
			return 1;
	return 0;
}

static int accept(struct compiler *c, const char *w)
{
	if (!is_word(c, tok(c, 0), w))
		return 0;
	c->cur++;
	return 1;
}

static int syntax(const struct compiler *c, const char *what)
{
	const struct token *t = tok(c, 0);
	if (t->t == T_EOF)
		return ut_fail(UT_EINVAL, "requirement text: %s, found end of text", what);
	return ut_fail(UT_EINVAL, "requirement text: %s at offset %zu", what, t->pos);
}

static int put32(struct compiler *c, uint32_t v) { return ut_buf_be32(&c->code, v); }

static int put_data(struct compiler *c, const void *p, size_t n)
{
	int rc = put32(c, (uint32_t)n);
	if (!rc)
		rc = ut_buf_append(&c->code, p, n);
	if (!rc)
		rc = ut_buf_zeros(&c->code, (4 - n % 4) % 4);
	return rc;
}

static int insert_op(struct compiler *c, size_t at, uint32_t op)
{
	int rc = ut_buf_grow(&c->code, 4);
	if (rc)
		return rc;
	memmove(c->code.p + at + 4, c->code.p + at, c->code.len - at);
	ut_put_be32(c->code.p + at, op);
	c->code.len += 4;
	return 0;
}

/* identifierString / stringvalue: a bare dotted word (not a keyword) or a quoted string. */
static int string_value(struct compiler *c, const char *what)
{
	const struct token *t = tok(c, 0);
	if (!((t->t == T_WORD && !is_keyword(c, t)) || t->t == T_STRING))
		return syntax(c, what);
	c->cur++;
	return put_data(c, val(c, t), t->len);
}

static int data_value(struct compiler *c)
{
	const struct token *t = tok(c, 0);
	if (t->t == T_HEX) {
		c->cur++;
		return put_data(c, val(c, t), t->len);
	}
	return string_value(c, "expected a value");
}

static int accept_eql(struct compiler *c)
{
	if (tok(c, 0)->t == T_EQ || tok(c, 0)->t == T_EQQ) {
		c->cur++;
		return 1;
	}
	return 0;
}

/* timestamp "YYYYMMDDhhmmssZ" as CFAbsoluteTime seconds (int64). */
static int timestamp(struct compiler *c)
{
	const struct token *t = tok(c, 1);
	const char *s = (const char *)val(c, t);
	int f[6] = { 0 };
	static const int width[6] = { 4, 2, 2, 2, 2, 2 };
	if (t->t != T_STRING || t->len != 15 || s[14] != 'Z')
		return ut_fail(UT_EUNSUPPORTED, "requirement text: timestamp must be \"YYYYMMDDhhmmssZ\"");
	for (int i = 0, k = 0; i < 6; k += width[i++])
		for (int j = 0; j < width[i]; j++) {
			if (!is_digit(s[k + j]))
				return ut_fail(UT_EUNSUPPORTED, "requirement text: timestamp must be \"YYYYMMDDhhmmssZ\"");
			f[i] = f[i] * 10 + (s[k + j] - '0');
		}
	/* Days from 1970-01-01 of the civil date (proleptic Gregorian). */
	int64_t y = f[0] - (f[1] <= 2), era = y / 400, yoe = y - era * 400;
	int64_t doy = (153 * (f[1] + (f[1] > 2 ? -3 : 9)) + 2) / 5 + f[2] - 1;
	int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
	int64_t at = days * 86400 + f[3] * 3600 + f[4] * 60 + f[5] - CF_EPOCH_UNIX;
	c->cur += 2;
	return ut_buf_be64(&c->code, (uint64_t)at);
}

static int match_suffix(struct compiler *c)
{
	enum tok t = tok(c, 0)->t;
	int rc;
	if (accept(c, "exists"))
		return put32(c, matchExists);
	if (accept(c, "absent"))
		return put32(c, matchAbsent);
	if (t == T_EQ || t == T_EQQ) {
		uint32_t op = matchEqual;
		c->cur++;
		if (is_word(c, tok(c, 0), "timestamp"))
			return (rc = put32(c, matchOn)) ? rc : timestamp(c);
		if (tok(c, 0)->t == T_STAR) {
			op = matchEndsWith;
			c->cur++;
		}
		size_t at = c->code.len;
		if ((rc = put32(c, op)) != 0 || (rc = data_value(c)) != 0)
			return rc;
		if (tok(c, 0)->t == T_STAR) {
			c->cur++;
			ut_put_be32(c->code.p + at, op == matchEndsWith ? matchContains : matchBeginsWith);
		}
		return 0;
	}
	if (t == T_TILDE || t == T_LT || t == T_GT || t == T_LE || t == T_GE) {
		static const uint32_t strop[] = { [T_TILDE] = matchContains, [T_LT] = matchLessThan,
			[T_GT] = matchGreaterThan, [T_LE] = matchLessEqual, [T_GE] = matchGreaterEqual };
		static const uint32_t dateop[] = { [T_LT] = matchBefore, [T_GT] = matchAfter,
			[T_LE] = matchOnOrBefore, [T_GE] = matchOnOrAfter };
		c->cur++;
		if (t != T_TILDE && is_word(c, tok(c, 0), "timestamp"))
			return (rc = put32(c, dateop[t])) ? rc : timestamp(c);
		return (rc = put32(c, strop[t])) ? rc : data_value(c);
	}
	return put32(c, matchExists);
}

/* [key]: returns the key token. */
static int bracket_key(struct compiler *c, const struct token **key)
{
	if (tok(c, 0)->t != T_LB)
		return syntax(c, "expected '['");
	*key = tok(c, 1);
	if (!(((*key)->t == T_WORD && !is_keyword(c, *key)) || (*key)->t == T_STRING))
		return c->cur++, syntax(c, "expected a key");
	if (tok(c, 2)->t != T_RB)
		return c->cur += 2, syntax(c, "expected ']'");
	c->cur += 3;
	return 0;
}

static int oid_data(struct compiler *c, const char *oid)
{
	struct ut_buf b;
	ut_buf_init(&b, 0);
	int rc = cs_der_oid_encode(oid, &b);
	if (!rc)
		rc = put_data(c, b.p, b.len);
	ut_buf_release(&b);
	return rc;
}

/* SEC RequirementParser::certMatchOperation: the field name picks the opcode. */
static int cert_match(struct compiler *c, int32_t slot, const struct token *key)
{
	static const struct { const char *prefix; uint32_t op; int oid; } kinds[] = {
		{ "timestamp.", opCertFieldDate, 1 }, { "subject.", opCertField, 0 }, { "field.", opCertGeneric, 1 },
		{ "extension.", opCertGeneric, 1 }, { "policy.", opCertPolicy, 1 },
	};
	char k[512];
	if (key->len >= sizeof(k) || memchr(val(c, key), 0, key->len))
		return ut_fail(UT_EINVAL, "requirement text: certificate field name too long");
	memcpy(k, val(c, key), key->len);
	k[key->len] = '\0';
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t pl = strlen(kinds[i].prefix);
		if (strncmp(k, kinds[i].prefix, pl) != 0)
			continue;
		int rc = put32(c, kinds[i].op);
		if (!rc)
			rc = put32(c, (uint32_t)slot);
		if (!rc)
			rc = kinds[i].oid ? oid_data(c, k + pl) : put_data(c, k, key->len);
		return rc ? rc : match_suffix(c);
	}
	return ut_fail(UT_EINVAL, "requirement text: '%s': unrecognized certificate field", k);
}

static int cert_slot_spec(struct compiler *c, int32_t slot)
{
	const struct token *key;
	int rc;
	if (tok(c, 0)->t == T_LB) {
		if ((rc = bracket_key(c, &key)) != 0)
			return rc;
		return cert_match(c, slot, key);
	}
	accept_eql(c);
	const struct token *h = tok(c, 0);
	if (h->t == T_PATH || h->t == T_STRING || h->t == T_WORD)
		return ut_fail(UT_EUNSUPPORTED, "requirement text: certificate files by path are not supported");
	if (h->t != T_HASH)
		return syntax(c, "expected '[' or a certificate hash");
	if (h->len != CS_SHA1_LEN)
		return ut_fail(UT_EINVAL, "requirement text: certificate hash of %zu bytes, expected 20", h->len);
	c->cur++;
	if ((rc = put32(c, opAnchorHash)) == 0 && (rc = put32(c, (uint32_t)slot)) == 0)
		rc = put_data(c, val(c, h), h->len);
	return rc;
}

static int integer(struct compiler *c, int32_t *v)
{
	int neg = 0;
	if (tok(c, 0)->t == T_NEG) {
		neg = 1;
		c->cur++;
	}
	const struct token *t = tok(c, 0);
	if (t->t != T_INT)
		return syntax(c, "expected an integer");
	long long x = 0;
	for (size_t i = 0; i < t->len && x <= INT32_MAX; i++)
		x = x * 10 + (val(c, t)[i] - '0');
	if (x > INT32_MAX)
		return ut_fail(UT_EINVAL, "requirement text: integer at offset %zu too large", t->pos);
	c->cur++;
	*v = (int32_t)(neg ? -x : x);
	return 0;
}

static int cert_spec(struct compiler *c)
{
	int32_t slot;
	int rc;
	if (accept(c, "anchor")) {
		if (accept(c, "apple")) {
			if (accept(c, "generic"))
				return put32(c, opAppleGenericAnchor);
			const struct token *t = tok(c, 0);
			if ((t->t == T_WORD && !is_keyword(c, t)) || t->t == T_STRING)
				return (rc = put32(c, opNamedAnchor)) ? rc : string_value(c, "expected an anchor name");
			return put32(c, opAppleAnchor);
		}
		if (accept(c, "generic")) {
			if (!accept(c, "apple"))
				return syntax(c, "expected 'apple'");
			return put32(c, opAppleGenericAnchor);
		}
		if (accept(c, "trusted"))
			return put32(c, opTrustedCerts);
		return cert_slot_spec(c, CS_REQ_ANCHOR_CERT);
	}
	c->cur++; /* certificate | cert */
	if (accept(c, "trusted"))
		return put32(c, opTrustedCerts);
	if (accept(c, "leaf"))
		slot = CS_REQ_LEAF_CERT;
	else if (accept(c, "root"))
		slot = CS_REQ_ANCHOR_CERT;
	else if ((rc = integer(c, &slot)) != 0)
		return rc;
	if (accept(c, "trusted"))
		return (rc = put32(c, opTrustedCert)) ? rc : put32(c, (uint32_t)slot);
	return cert_slot_spec(c, slot);
}

static int expr(struct compiler *c, int depth);

static int primary(struct compiler *c, int depth)
{
	const struct token *t = tok(c, 0);
	const struct token *key;
	int rc;
	if (depth > CS_REQ_MAX_DEPTH)
		return ut_fail(UT_EUNSUPPORTED, "requirement nested deeper than %d levels", CS_REQ_MAX_DEPTH);
	if (t->t == T_LP) {
		const struct token *n = tok(c, 1);
		c->cur++;
		if (((n->t == T_WORD && !is_keyword(c, n)) || n->t == T_STRING) && tok(c, 1)->t == T_RP) {
			rc = put32(c, opNamedCode);
			if (!rc)
				rc = string_value(c, "expected a name");
		} else {
			rc = expr(c, depth + 1);
		}
		if (!rc && tok(c, 0)->t != T_RP)
			return syntax(c, "expected ')'");
		c->cur++;
		return rc;
	}
	if (t->t == T_NOT) {
		c->cur++;
		return (rc = put32(c, opNot)) ? rc : primary(c, depth + 1);
	}
	if (accept(c, "always") || accept(c, "true"))
		return put32(c, opTrue);
	if (accept(c, "never") || accept(c, "false"))
		return put32(c, opFalse);
	if (accept(c, "notarized"))
		return put32(c, opNotarized);
	if (accept(c, "legacy"))
		return put32(c, opLegacyDevID);
	if (accept(c, "identifier")) {
		accept_eql(c);
		return (rc = put32(c, opIdent)) ? rc : string_value(c, "expected an identifier");
	}
	if (accept(c, "cdhash")) {
		accept_eql(c);
		const struct token *h = tok(c, 0);
		if (h->t != T_HASH)
			return syntax(c, "expected H\"<hash>\"");
		if (h->len != CS_SHA1_LEN)
			return ut_fail(UT_EINVAL, "requirement text: cdhash of %zu bytes, expected 20", h->len);
		c->cur++;
		return (rc = put32(c, opCDHash)) ? rc : put_data(c, val(c, h), h->len);
	}
	if (accept(c, "platform")) {
		int32_t v;
		accept_eql(c);
		if ((rc = integer(c, &v)) != 0)
			return rc;
		return (rc = put32(c, opPlatform)) ? rc : put32(c, (uint32_t)v);
	}
	if (is_word(c, t, "info") || is_word(c, t, "entitlement")) {
		uint32_t op = is_word(c, t, "info") ? opInfoKeyField : opEntitlementField;
		c->cur++;
		if ((rc = bracket_key(c, &key)) != 0)
			return rc;
		if ((rc = put32(c, op)) == 0 && (rc = put_data(c, val(c, key), key->len)) == 0)
			rc = match_suffix(c);
		return rc;
	}
	if (is_word(c, t, "anchor") || is_word(c, t, "certificate") || is_word(c, t, "cert"))
		return cert_spec(c);
	return syntax(c, "expected a requirement");
}

static int term(struct compiler *c, int depth)
{
	size_t label = c->code.len;
	int rc = primary(c, depth);
	while (!rc && accept(c, "and")) {
		if ((rc = insert_op(c, label, opAnd)) != 0)
			break;
		if (c->opts & CS_REQ_AND_RIGHT)
			return term(c, depth + 1);
		rc = primary(c, depth);
	}
	return rc;
}

static int expr(struct compiler *c, int depth)
{
	size_t label = c->code.len;
	if (depth > CS_REQ_MAX_DEPTH)
		return ut_fail(UT_EUNSUPPORTED, "requirement nested deeper than %d levels", CS_REQ_MAX_DEPTH);
	int rc = term(c, depth + 1);
	while (!rc && accept(c, "or"))
		if ((rc = insert_op(c, label, opOr)) == 0)
			rc = term(c, depth + 1);
	return rc;
}

/* One requirement element: expr ';'*; appends the blob to out. */
static int element(struct compiler *c, struct ut_buf *out)
{
	c->code.len = 0;
	int rc = put32(c, CSMAGIC_REQUIREMENT);
	if (!rc)
		rc = put32(c, 0);
	if (!rc)
		rc = put32(c, CS_REQ_EXPR_FORM);
	if (!rc)
		rc = expr(c, 0);
	while (!rc && tok(c, 0)->t == T_SEMI)
		c->cur++;
	if (rc)
		return rc;
	ut_put_be32(c->code.p + 4, (uint32_t)c->code.len);
	return ut_buf_append(out, c->code.p, c->code.len);
}

static int requirement_type(struct compiler *c, uint32_t *type)
{
	static const char *const names[] = { "host", "guest", "designated", "library", "plugin" };
	for (uint32_t i = 0; i < 5; i++)
		if (accept(c, names[i])) {
			*type = i + 1;
			return 0;
		}
	int32_t v;
	int rc = integer(c, &v);
	*type = (uint32_t)v;
	return rc;
}

static int compile(const char *text, unsigned opts, struct ut_buf *out, uint32_t *magic, int allow_set)
{
	struct compiler c = { .opts = opts };
	ut_buf_init(&c.code, 0);
	size_t start = out->len;
	int rc = cs_req_lex(&c.lx, text);
	const struct token *t0 = rc ? NULL : tok(&c, 0);
	int set = !rc && allow_set && tok(&c, 1)->t == T_ARROW && (t0->t == T_WORD || t0->t == T_INT);
	if (!rc && !set) {
		rc = element(&c, out);
		if (magic)
			*magic = CSMAGIC_REQUIREMENT;
	} else if (!rc) {
		struct ut_buf reqs;
		struct cs_req_in in[UT_MAX_BLOBS];
		size_t offs[UT_MAX_BLOBS];
		unsigned n = 0;
		ut_buf_init(&reqs, 0);
		while (!rc && tok(&c, 0)->t != T_EOF) {
			if (n == UT_MAX_BLOBS) {
				rc = ut_fail(UT_EINVAL, "requirement text: more than %u requirements", UT_MAX_BLOBS);
				break;
			}
			if ((rc = requirement_type(&c, &in[n].type)) != 0)
				break;
			if (tok(&c, 0)->t != T_ARROW) {
				rc = syntax(&c, "expected '=>'");
				break;
			}
			c.cur++;
			offs[n] = reqs.len;
			if ((rc = element(&c, &reqs)) == 0)
				n++;
		}
		for (unsigned i = 0; i < n && !rc; i++) {
			in[i].p = reqs.p + offs[i];
			in[i].len = (i + 1 < n ? offs[i + 1] : reqs.len) - offs[i];
		}
		if (!rc)
			rc = cs_req_set_build(out, in, n);
		if (!rc && magic)
			*magic = CSMAGIC_REQUIREMENTS;
		ut_buf_release(&reqs);
	}
	if (!rc && tok(&c, 0)->t != T_EOF)
		rc = syntax(&c, "unexpected text after the requirement");
	if (rc)
		out->len = start;
	cs_req_lex_release(&c.lx);
	ut_buf_release(&c.code);
	return rc;
}

int cs_req_compile(const char *text, unsigned opts, struct ut_buf *out) { return compile(text, opts, out, NULL, 0); }

int cs_req_compile_any(const char *text, unsigned opts, struct ut_buf *out, uint32_t *magic)
{
	return compile(text, opts, out, magic, 1);
}
