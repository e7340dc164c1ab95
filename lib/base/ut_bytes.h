/*
 * ut_bytes.h - byte-wise endian loads/stores, bounded spans and readers.
 *
 * Never cast file memory to a struct: read through these.  Mach-O headers are
 * little-endian; fat headers and code-signing blobs are big-endian.
 */
#ifndef UT_BYTES_H
#define UT_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t ut_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t ut_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ut_le64(const uint8_t *p) { return ut_le32(p) | (uint64_t)ut_le32(p + 4) << 32; }
static inline uint16_t ut_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t ut_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline uint64_t ut_be64(const uint8_t *p) { return (uint64_t)ut_be32(p) << 32 | ut_be32(p + 4); }

static inline void ut_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void ut_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void ut_put_le64(uint8_t *p, uint64_t v) { ut_put_le32(p, (uint32_t)v); ut_put_le32(p + 4, (uint32_t)(v >> 32)); }
static inline void ut_put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void ut_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void ut_put_be64(uint8_t *p, uint64_t v) { ut_put_be32(p, (uint32_t)(v >> 32)); ut_put_be32(p + 4, (uint32_t)v); }

/* A borrowed, bounded byte range. */
struct ut_span {
	const uint8_t *p;
	size_t len;
};

static inline struct ut_span ut_span_make(const void *p, size_t len)
{
	struct ut_span s = { (const uint8_t *)p, len };
	return s;
}

/* True when [off, off+len) lies inside a range of size total (overflow-safe). */
static inline int ut_range_ok(uint64_t off, uint64_t len, uint64_t total)
{
	return off <= total && len <= total - off;
}

/* Sub-span [off, off+len) of s; returns 0, or UT_EMALFORMED (no message) when out of range. */
int ut_span_sub(struct ut_span s, uint64_t off, uint64_t len, struct ut_span *out);

/*
 * A sequential reader with a sticky error: after the first out-of-range read
 * every read returns 0 and err stays set; check err once at the end.
 */
struct ut_reader {
	const uint8_t *p;
	size_t len;
	size_t pos;
	int err;
};

void ut_reader_init(struct ut_reader *r, const void *p, size_t len);
uint8_t ut_rd_u8(struct ut_reader *r);
uint16_t ut_rd_le16(struct ut_reader *r);
uint32_t ut_rd_le32(struct ut_reader *r);
uint64_t ut_rd_le64(struct ut_reader *r);
uint16_t ut_rd_be16(struct ut_reader *r);
uint32_t ut_rd_be32(struct ut_reader *r);
uint64_t ut_rd_be64(struct ut_reader *r);
/* Borrows n bytes; NULL (and err set) when fewer remain. */
const uint8_t *ut_rd_bytes(struct ut_reader *r, size_t n);
void ut_rd_skip(struct ut_reader *r, size_t n);
static inline size_t ut_rd_left(const struct ut_reader *r) { return r->err ? 0 : r->len - r->pos; }

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void ut_hex(char *out, const uint8_t *p, size_t n);
/* The value of one hex digit (either case), or -1. */
int ut_hexval(int c);
/*
 * Decodes the 2n hex digits (either case) at s into out[n].  Returns 0, or
 * -1 at the first character that is not a hex digit (s is read no further,
 * so a string shorter than 2n is safe when NUL-terminated).
 */
int ut_unhex(uint8_t *out, const char *s, size_t n);

#endif
