/* cs_req_cursor.c - bounded reads of a requirement expression (u32 words, padded data items). */
#include "cs_req_cursor.h"

#include "cs_blob.h"
#include "cs_format.h"
#include "ut_bytes.h"
#include "ut_err.h"

#define REQ_HEADER_SIZE 12u /* magic, length, kind */

int cs_req_cursor_init(struct cs_req_cursor *c, const uint8_t *req, size_t len)
{
	struct cs_blob b;
	int rc = cs_blob_parse(&b, req, len, CSMAGIC_REQUIREMENT);
	if (rc)
		return ut_ctx(rc, "requirement");
	if (b.length < REQ_HEADER_SIZE)
		return ut_fail(UT_EMALFORMED, "requirement of %u bytes below its %u-byte header", b.length,
			       REQ_HEADER_SIZE);
	uint32_t kind = ut_be32(req + 8);
	if (kind != CS_REQ_EXPR_FORM)
		return ut_fail(UT_EUNSUPPORTED, "requirement kind %u unsupported", kind);
	*c = (struct cs_req_cursor){ .p = req, .len = b.length, .pc = REQ_HEADER_SIZE };
	return 0;
}

int cs_req_cursor_u32(struct cs_req_cursor *c, uint32_t *v)
{
	if (c->len - c->pc < 4)
		return ut_fail(UT_EMALFORMED, "requirement: expression truncated at offset %zu", c->pc);
	*v = ut_be32(c->p + c->pc);
	c->pc += 4;
	return 0;
}

int cs_req_cursor_data(struct cs_req_cursor *c, const uint8_t **data, size_t *n)
{
	uint32_t l = 0;
	size_t at = c->pc;
	int rc = cs_req_cursor_u32(c, &l);
	if (rc)
		return rc;
	size_t padded = ((size_t)l + 3) & ~(size_t)3;
	if (l > c->len - c->pc || padded > c->len - c->pc)
		return ut_fail(UT_EMALFORMED, "requirement: data of %u bytes at offset %zu past its end", l, at);
	*data = c->p + c->pc;
	*n = l;
	c->pc += padded;
	return 0;
}

int cs_req_cursor_end(const struct cs_req_cursor *c)
{
	if (c->pc != c->len)
		return ut_fail(UT_EMALFORMED, "requirement: %zu bytes after the expression", c->len - c->pc);
	return 0;
}
