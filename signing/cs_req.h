/*
 * cs_req.h - code requirements: the requirement set blob (slot 2), a
 * decompiler to Apple's text form and a compiler for that text.
 *
 * Binary form (SEC requirement.h): a Requirement is a blob 0xfade0c00 with
 * `u32 kind` (1 = expression) and a prefix-form expression of u32 opcodes;
 * strings and hashes are `u32 length` + bytes zero-padded to 4.  A set is a
 * SuperBlob 0xfade0c01 indexed by requirement type (3 = designated).
 *
 * Text form follows SEC reqdumper.cpp (what `codesign -d -r-` prints) and
 * requirements.grammar (what `csreq` compiles):
 *   identifier "com.x" and anchor apple generic and
 *   certificate 1[field.1.2.840.113635.100.6.2.6] exists and
 *   certificate leaf[subject.OU] = TEAMID1234
 *   cdhash H"<40 hex>" or cdhash H"..."
 * Strings are printed bare when they are alphanumeric (dots allowed in keys)
 * and not a keyword, quoted when printable, as 0x<hex> otherwise.
 *
 * Compiling: `a and b and c` nests to the left like Apple's parser
 * (opAnd opAnd a b c).  codesign's designated-requirement maker (SEC
 * drmaker.cpp) nests `and` chains to the right (opAnd a opAnd b c); pass
 * CS_REQ_AND_RIGHT to reproduce those bytes.  `or` chains always nest left.
 * Not compiled (UT_EUNSUPPORTED): timestamps and certificate files by path.
 */
#ifndef CS_REQ_H
#define CS_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "cs_blob.h"
#include "cs_format.h"
#include "ut_buf.h"

/* Deepest expression nesting accepted by the decompiler and the compiler. */
#define CS_REQ_MAX_DEPTH 256

/* One requirement of a set (borrowed from the parsed bytes). */
struct cs_req_entry {
	uint32_t type;        /* kSec*RequirementType */
	uint32_t kind;        /* CS_REQ_EXPR_FORM, ... */
	struct cs_blob blob;  /* the whole 0xfade0c00 blob */
};

struct cs_req_set {
	uint32_t count;
	struct cs_req_entry entries[UT_MAX_BLOBS];
};

/* Parses a requirements set blob (0xfade0c01): bounds, each entry a requirement blob of >= 12 bytes. */
int cs_req_set_parse(struct cs_req_set *set, const uint8_t *p, size_t len);
/* Appends the empty set codesign writes for ad-hoc signatures: fa de 0c 01 00 00 00 0c 00 00 00 00. */
int cs_req_set_empty(struct ut_buf *out);

/* One requirement to put into a set. */
struct cs_req_in {
	uint32_t type;
	const uint8_t *p; /* a requirement blob (0xfade0c00) */
	size_t len;
};
/* Appends a set (SuperBlob sorted by type) of n requirement blobs. */
int cs_req_set_build(struct ut_buf *out, const struct cs_req_in *reqs, unsigned n);

/* "host", "guest", "designated", "library", "plugin", or NULL. */
const char *cs_req_type_name(uint32_t type);

/*
 * Appends the text of one requirement blob (0xfade0c00) to out, NUL-terminated
 * (the NUL is not counted in out->len).  The whole expression must be valid and
 * end exactly at the blob's end.
 */
int cs_req_text(const uint8_t *req, size_t len, struct ut_buf *out);
/*
 * Appends a set as `codesign -d -r-` shows it: one "<type> => <text>\n" line per
 * requirement (unknown types get Apple's "unknown type" comment prefix); nothing for an empty set.
 */
int cs_req_set_text(const uint8_t *set, size_t len, struct ut_buf *out);

enum {
	CS_REQ_AND_RIGHT = 1, /* nest `and` chains to the right, as codesign's DR maker does */
};

/* Compiles one requirement expression into a requirement blob (0xfade0c00) appended to out. */
int cs_req_compile(const char *text, unsigned opts, struct ut_buf *out);
/*
 * Compiles requirement text: a set ("designated => ... library => ...", appended
 * as a 0xfade0c01 blob) or, if the text does not start with a requirement type
 * and "=>", a single requirement (0xfade0c00).  *magic (may be NULL) says which.
 */
int cs_req_compile_any(const char *text, unsigned opts, struct ut_buf *out, uint32_t *magic);

#endif
