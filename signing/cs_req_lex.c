/* cs_req_lex.c - the requirement language lexer (SEC requirements.grammar). */
#include "cs_req_lex.h"

#include <stdlib.h>
#include <string.h>

#include "ut_bytes.h"
#include "ut_err.h"

#define MAX_TEXT ((size_t)1 << 20)

static int is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int lex_fail(const struct req_lexer *c, size_t pos, const char *what)
{
	return ut_fail(UT_EINVAL, "requirement text: %s at offset %zu", what, pos);
}

/* Hex digits [s, e) into the arena as bytes. */
static int put_hex(struct req_lexer *c, const char *s, size_t n, size_t pos)
{
	if (n == 0 || n % 2)
		return lex_fail(c, pos, "odd number of hex digits");
	int rc = ut_buf_grow(&c->arena, n / 2);
	if (!rc && ut_unhex(c->arena.p + c->arena.len, s, n / 2))
		rc = lex_fail(c, pos, "not a hex digit");
	if (!rc)
		c->arena.len += n / 2;
	return rc;
}

static size_t skip_space(const char *s, size_t i)
{
	for (;;) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++;
		} else if (s[i] == '#' || (s[i] == '/' && s[i + 1] == '/')) {
			while (s[i] && s[i] != '\n')
				i++;
		} else if (s[i] == '/' && s[i + 1] == '*') {
			const char *e = strstr(s + i + 2, "*/");
			i = e ? (size_t)(e - s) + 2 : strlen(s);
		} else {
			return i;
		}
	}
}

static size_t scan_word(const char *s, size_t i)
{
	while (is_alpha(s[i]) || is_digit(s[i]))
		i++;
	while (s[i] == '.' && (is_alpha(s[i + 1]) || is_digit(s[i + 1]))) {
		i++;
		if (is_alpha(s[i]))
			while (is_alpha(s[i]) || is_digit(s[i]))
				i++;
		else
			while (is_digit(s[i]))
				i++;
	}
	return i;
}

/* One token at s[i]; *next receives the offset after it. */
static int lex_one(struct req_lexer *c, size_t i, struct token *t, size_t *next)
{
	const char *s = c->text;
	static const struct { const char *op; enum tok t; } ops[] = {
		{ "=>", T_ARROW }, { "<=", T_LE }, { ">=", T_GE }, { "==", T_EQQ }, { ";", T_SEMI }, { "(", T_LP },
		{ ")", T_RP }, { "[", T_LB }, { "]", T_RB }, { "<", T_LT }, { ">", T_GT }, { ",", T_COMMA },
		{ "=", T_EQ }, { "~", T_TILDE }, { "-", T_NEG }, { "!", T_NOT }, { "*", T_STAR },
	};
	size_t e = i;
	int rc = 0;
	t->pos = i;
	t->val = c->arena.len;
	if (s[i] == 'H' && s[i + 1] == '"') {
		for (e = i + 2; ut_hexval((unsigned char)s[e]) >= 0; e++)
			;
		if (s[e] != '"')
			return lex_fail(c, i, "unterminated hash constant");
		t->t = T_HASH;
		rc = put_hex(c, s + i + 2, e - i - 2, i);
		e++;
	} else if (s[i] == '0' && s[i + 1] == 'x') {
		for (e = i + 2; ut_hexval((unsigned char)s[e]) >= 0; e++)
			;
		t->t = T_HEX;
		rc = put_hex(c, s + i + 2, e - i - 2, i);
	} else if (is_alpha(s[i])) {
		e = scan_word(s, i);
		t->t = T_WORD;
		rc = ut_buf_append(&c->arena, s + i, e - i);
	} else if (is_digit(s[i])) {
		for (e = i; is_digit(s[e]); e++)
			;
		t->t = T_INT;
		rc = ut_buf_append(&c->arena, s + i, e - i);
	} else if (s[i] == '"') {
		for (e = i + 1; s[e] && s[e] != '"' && !rc; e++) {
			if (s[e] == '\\' && (s[e + 1] == '"' || s[e + 1] == '\\'))
				e++;
			rc = ut_buf_u8(&c->arena, (uint8_t)s[e]);
		}
		if (s[e] != '"')
			return lex_fail(c, i, "unterminated string");
		t->t = T_STRING;
		e++;
	} else if (s[i] == '/' && is_alpha(s[i + 1])) {
		for (e = i; s[e] == '/' && is_alpha(s[e + 1]);)
			for (e++; is_alpha(s[e]) || is_digit(s[e]); e++)
				;
		t->t = T_PATH;
		rc = ut_buf_append(&c->arena, s + i, e - i);
	} else {
		size_t k = 0;
		for (; k < sizeof(ops) / sizeof(ops[0]); k++)
			if (strncmp(s + i, ops[k].op, strlen(ops[k].op)) == 0)
				break;
		if (k == sizeof(ops) / sizeof(ops[0]))
			return lex_fail(c, i, "unexpected character");
		t->t = ops[k].t;
		e = i + strlen(ops[k].op);
	}
	t->len = c->arena.len - t->val;
	*next = e;
	return rc;
}

int cs_req_lex(struct req_lexer *c, const char *text)
{
	memset(c, 0, sizeof(*c));
	c->text = text;
	ut_buf_init(&c->arena, 0);
	size_t n = strlen(c->text);
	if (n > MAX_TEXT)
		return ut_fail(UT_EINVAL, "requirement text longer than %zu bytes", MAX_TEXT);
	c->toks = calloc(n + 1, sizeof(*c->toks));
	if (!c->toks)
		return ut_fail(UT_ENOMEM, "out of memory");
	for (size_t i = skip_space(c->text, 0);; i = skip_space(c->text, i)) {
		struct token *t = &c->toks[c->ntok++];
		if (!c->text[i]) {
			t->t = T_EOF;
			t->pos = i;
			return 0;
		}
		int rc = lex_one(c, i, t, &i);
		if (rc)
			return rc;
	}
}

void cs_req_lex_release(struct req_lexer *lx)
{
	free(lx->toks);
	ut_buf_release(&lx->arena);
	lx->toks = NULL;
	lx->ntok = 0;
}
