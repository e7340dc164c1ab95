/*
 * ut_utf8.h - strict UTF-8 (RFC 3629): the length of the well-formed sequence
 * at the start of a byte string, for writers that must not pass malformed text
 * on (JSON, XML).
 */
#ifndef UT_UTF8_H
#define UT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The length (1..4) of the well-formed UTF-8 sequence at p (n bytes
 * available), or 0 when p does not start one: a stray continuation byte, a
 * truncated sequence, an overlong form, a surrogate (U+D800..DFFF) or a code
 * point above U+10FFFF.  *cp (may be NULL) gets the code point.
 */
size_t ut_utf8_seq(const unsigned char *p, size_t n, uint32_t *cp);

#endif
