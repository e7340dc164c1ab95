/*
 * cs_req_lex.h - tokens of the requirement language (SEC requirements.grammar
 * lexer), shared by the compiler only (not a public API).
 *
 * Words are IDENT ('.' (IDENT | INTEGER))* (keywords are words); strings are
 * "..." with \" and \\ escapes; H"hex" hashes and 0xhex constants carry
 * decoded bytes; whitespace and #, //, C comments are skipped.  Token values
 * live in the lexer's arena (t->val is an offset into it).
 */
#ifndef CS_REQ_LEX_H
#define CS_REQ_LEX_H

#include <stddef.h>

#include "ut_buf.h"

enum tok {
	T_EOF, T_WORD, T_INT, T_STRING, T_HASH, T_HEX, T_PATH, T_ARROW, T_SEMI, T_LP, T_RP, T_LB, T_RB,
	T_LT, T_GT, T_LE, T_GE, T_COMMA, T_EQ, T_EQQ, T_TILDE, T_NEG, T_NOT, T_STAR
};

struct token {
	enum tok t;
	size_t pos;          /* offset in the text */
	size_t val, len;     /* value bytes in the arena (unescaped strings, decoded hex) */
};

struct req_lexer {
	const char *text;
	struct token *toks;   /* ntok entries, the last one T_EOF */
	size_t ntok;
	struct ut_buf arena;  /* token values */
};

/* Splits text (at most 1 MiB) into tokens; UT_EINVAL with the offset on bad input. */
int cs_req_lex(struct req_lexer *lx, const char *text);
void cs_req_lex_release(struct req_lexer *lx);

#endif
