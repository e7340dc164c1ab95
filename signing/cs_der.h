/*
 * cs_der.h - the small part of DER that code signing needs: bounded TLV
 * reading, TLV writing, minimal two's-complement INTEGERs, OBJECT IDENTIFIER
 * contents (used by requirements: certificate[field.<oid>]).
 *
 * Reading accepts single-byte tags (tag number < 31) and definite lengths in
 * minimal form of at most 4 length bytes; everything else is malformed.
 * Spans returned borrow the input.
 */
#ifndef CS_DER_H
#define CS_DER_H

#include <stddef.h>
#include <stdint.h>

#include "ut_buf.h"
#include "ut_bytes.h"

#define CS_DER_BOOLEAN      0x01u
#define CS_DER_INTEGER      0x02u
#define CS_DER_OCTET_STRING 0x04u
#define CS_DER_OID          0x06u
#define CS_DER_UTF8STRING   0x0cu
#define CS_DER_SEQUENCE     0x30u
#define CS_DER_SET          0x31u
/* Apple entitlements (XNU CoreEntitlements CCDER_ENTITLEMENTS): [APPLICATION 16] constructed. */
#define CS_DER_ENTITLEMENTS 0x70u
/* A dictionary in Apple's entitlements DER: [CONTEXT 16] constructed. */
#define CS_DER_DICT         0xb0u

/* Deepest nesting the decoders accept. */
#define CS_DER_MAX_DEPTH 32

struct cs_der_tlv {
	uint8_t tag;
	struct ut_span content;
};

/*
 * Reads one TLV from r (advancing it).  At the end of input returns
 * UT_ENOTFOUND without a message; a truncated or non-DER header or a content
 * past the end is UT_EMALFORMED with a message naming the offset.
 */
int cs_der_read(struct ut_reader *r, struct cs_der_tlv *out);

/* Bytes of a header (tag + length) for a content of len bytes. */
size_t cs_der_header_size(size_t len);
/* Appends a tag and a DER length. */
int cs_der_put_header(struct ut_buf *b, uint8_t tag, size_t len);
/* Appends a whole TLV. */
int cs_der_put(struct ut_buf *b, uint8_t tag, const void *content, size_t len);
/* Appends INTEGER v in minimal two's complement (-1 = 02 01 FF, 42 = 02 01 2A, 128 = 02 02 00 80). */
int cs_der_put_int(struct ut_buf *b, int64_t v);
/* Decodes INTEGER content: 1..8 bytes, minimal.  Anything else is malformed/unsupported. */
int cs_der_get_int(struct ut_span content, int64_t *v);

/* Encodes "1.2.840.113635.100.6.2.6" as OID content bytes (no tag/length). */
int cs_der_oid_encode(const char *dotted, struct ut_buf *out);
/* Decodes OID content bytes into dotted text (buf of n bytes, NUL-terminated). */
int cs_der_oid_decode(struct ut_span content, char *buf, size_t n);

#endif
