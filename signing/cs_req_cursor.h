/*
 * cs_req_cursor.h - a bounded reader over one requirement blob's expression
 * (SEC requirement.h / reqreader.h): big-endian u32 words and data items
 * (`u32 length` + bytes zero-padded to 4).  Shared by the decompiler
 * (cs_req.c) and the interpreter (cs_bverify_req.c) so that both read the
 * same bytes under the same bounds.  Not a public API.
 */
#ifndef CS_REQ_CURSOR_H
#define CS_REQ_CURSOR_H

#include <stddef.h>
#include <stdint.h>

struct cs_req_cursor {
	const uint8_t *p;   /* the requirement blob (borrowed) */
	size_t len;         /* its length from the blob header */
	size_t pc;          /* offset of the next word */
};

/*
 * Checks the blob at req[0, len) (magic 0xfade0c00, length within len and
 * at least the 12-byte header, kind CS_REQ_EXPR_FORM) and places c at the
 * start of its expression.
 */
int cs_req_cursor_init(struct cs_req_cursor *c, const uint8_t *req, size_t len);
/* The next u32; UT_EMALFORMED when the expression ends first. */
int cs_req_cursor_u32(struct cs_req_cursor *c, uint32_t *v);
/* The next data item: *data borrowed from the blob, *n its length (padding skipped). */
int cs_req_cursor_data(struct cs_req_cursor *c, const uint8_t **data, size_t *n);
/* 0 when the expression has been read to the blob's end, else UT_EMALFORMED. */
int cs_req_cursor_end(const struct cs_req_cursor *c);

#endif
