/* cs_blob.c - generic blobs and SuperBlobs (XNU cs_validate_csblob rules). */
#include "cs_blob.h"

#include <stdlib.h>
#include <string.h>

#include "ut_bytes.h"
#include "ut_err.h"

int cs_blob_parse(struct cs_blob *out, const uint8_t *p, size_t len, uint32_t magic)
{
	memset(out, 0, sizeof(*out));
	if (len < CS_BLOB_HEADER_SIZE)
		return ut_fail(UT_EMALFORMED, "blob truncated: %zu bytes, header needs %u", len, CS_BLOB_HEADER_SIZE);
	uint32_t m = ut_be32(p), l = ut_be32(p + 4);
	if (magic && m != magic)
		return ut_fail(UT_EMALFORMED, "blob magic 0x%08x, expected 0x%08x", m, magic);
	if (l < CS_BLOB_HEADER_SIZE)
		return ut_fail(UT_EMALFORMED, "blob 0x%08x: length %u below its %u-byte header", m, l,
			       CS_BLOB_HEADER_SIZE);
	if (l > len)
		return ut_fail(UT_EMALFORMED, "blob 0x%08x: length %u past end of data (%zu bytes)", m, l, len);
	out->magic = m;
	out->length = l;
	out->p = p;
	return 0;
}

int cs_slot_is_cd(uint32_t type)
{
	return type == CSSLOT_CODEDIRECTORY ||
	       (type >= CSSLOT_ALTERNATE_CODEDIRECTORIES && type < CSSLOT_ALTERNATE_CODEDIRECTORY_LIMIT);
}

const char *cs_slot_name(uint32_t type)
{
	if (cs_slot_is_cd(type))
		return type == CSSLOT_CODEDIRECTORY ? "CodeDirectory" : "alternate CodeDirectory";
	switch (type) {
	case CSSLOT_INFOSLOT: return "Info.plist";
	case CSSLOT_REQUIREMENTS: return "Requirements";
	case CSSLOT_RESOURCEDIR: return "Resources";
	case CSSLOT_APPLICATION: return "Application";
	case CSSLOT_ENTITLEMENTS: return "Entitlements";
	case CSSLOT_REP_SPECIFIC: return "Rep-specific";
	case CSSLOT_DER_ENTITLEMENTS: return "DER Entitlements";
	case CSSLOT_LAUNCH_CONSTRAINT_SELF: return "Launch Constraint (self)";
	case CSSLOT_LAUNCH_CONSTRAINT_PARENT: return "Launch Constraint (parent)";
	case CSSLOT_LAUNCH_CONSTRAINT_RESPONSIBLE: return "Launch Constraint (responsible)";
	case CSSLOT_LIBRARY_CONSTRAINT: return "Library Constraint";
	case CSSLOT_SIGNATURESLOT: return "CMS Signature";
	case CSSLOT_IDENTIFICATIONSLOT: return "Identification";
	case CSSLOT_TICKETSLOT: return "Ticket";
	}
	return NULL;
}

/* The magic a slot must carry in an embedded signature (XNU), or 0 when not checked. */
static uint32_t slot_magic(uint32_t type)
{
	if (cs_slot_is_cd(type))
		return CSMAGIC_CODEDIRECTORY;
	switch (type) {
	case CSSLOT_ENTITLEMENTS: return CSMAGIC_EMBEDDED_ENTITLEMENTS;
	case CSSLOT_DER_ENTITLEMENTS: return CSMAGIC_EMBEDDED_DER_ENTITLEMENTS;
	case CSSLOT_LAUNCH_CONSTRAINT_SELF:
	case CSSLOT_LAUNCH_CONSTRAINT_PARENT:
	case CSSLOT_LAUNCH_CONSTRAINT_RESPONSIBLE:
	case CSSLOT_LIBRARY_CONSTRAINT: return CSMAGIC_EMBEDDED_LAUNCH_CONSTRAINT;
	}
	return 0;
}

/* Kernel rules for an embedded signature; entries are already bounds-checked. */
static int check_embedded(const struct cs_superblob *sb)
{
	unsigned ncd = 0;
	for (uint32_t i = 0; i < sb->count; i++) {
		const struct cs_blob_entry *e = &sb->entries[i];
		uint32_t want = slot_magic(e->type);
		if (!want)
			continue;
		if (e->blob.magic != want)
			return ut_fail(UT_EMALFORMED, "slot 0x%x holds a blob with magic 0x%08x, expected 0x%08x",
				       e->type, e->blob.magic, want);
		if (cs_slot_is_cd(e->type) && e->blob.length < CS_CD_SIZE_EARLIEST)
			return ut_fail(UT_EMALFORMED, "slot 0x%x: code directory of %u bytes is truncated", e->type,
				       e->blob.length);
		for (uint32_t k = 0; k < i; k++) {
			const struct cs_blob_entry *o = &sb->entries[k];
			if (cs_slot_is_cd(e->type) && cs_slot_is_cd(o->type)) {
				if (e->blob.p[37] == o->blob.p[37])
					return ut_fail(UT_EMALFORMED,
						       "multiple hash=%u code directories (slots 0x%x and 0x%x)",
						       e->blob.p[37], o->type, e->type);
			} else if (e->type == o->type) {
				return ut_fail(UT_EMALFORMED, "multiple %s blobs (slot 0x%x)", cs_slot_name(e->type),
					       e->type);
			}
		}
		ncd += cs_slot_is_cd(e->type);
	}
	if (ncd == 0)
		return ut_fail(UT_EMALFORMED, "signature has no code directory");
	return 0;
}

int cs_superblob_parse(struct cs_superblob *sb, const uint8_t *p, size_t len, uint32_t magic)
{
	memset(sb, 0, sizeof(*sb));
	if (len < CS_SUPERBLOB_HEADER_SIZE)
		return ut_fail(UT_EMALFORMED, "superblob truncated: %zu bytes, header needs %u", len,
			       CS_SUPERBLOB_HEADER_SIZE);
	uint32_t m = ut_be32(p), length = ut_be32(p + 4), count = ut_be32(p + 8);
	if (magic && m != magic)
		return ut_fail(UT_EMALFORMED, "superblob magic 0x%08x, expected 0x%08x", m, magic);
	if (length < CS_SUPERBLOB_HEADER_SIZE)
		return ut_fail(UT_EMALFORMED, "superblob length %u below its %u-byte header", length,
			       CS_SUPERBLOB_HEADER_SIZE);
	if (length > len)
		return ut_fail(UT_EMALFORMED, "superblob length %u past end of data (%zu bytes)", length, len);
	if (count > UT_MAX_BLOBS)
		return ut_fail(UT_EUNSUPPORTED, "superblob count %u above the limit of %u", count, UT_MAX_BLOBS);
	if ((length - CS_SUPERBLOB_HEADER_SIZE) / CS_BLOB_INDEX_SIZE < count)
		return ut_fail(UT_EMALFORMED, "superblob index of %u entries past its length %u", count, length);
	sb->magic = m;
	sb->length = length;
	sb->count = count;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *ix = p + CS_SUPERBLOB_HEADER_SIZE + (size_t)i * CS_BLOB_INDEX_SIZE;
		struct cs_blob_entry *e = &sb->entries[i];
		e->type = ut_be32(ix);
		e->offset = ut_be32(ix + 4);
		if (e->offset > length || length - e->offset < CS_BLOB_HEADER_SIZE)
			return ut_fail(UT_EMALFORMED, "superblob entry %u (type 0x%x): offset %u past end (length %u)",
				       i, e->type, e->offset, length);
		int rc = cs_blob_parse(&e->blob, p + e->offset, length - e->offset, 0);
		if (rc)
			return ut_ctx(rc, "superblob entry %u (type 0x%x) at offset %u", i, e->type, e->offset);
	}
	if (m == CSMAGIC_EMBEDDED_SIGNATURE)
		return check_embedded(sb);
	return 0;
}

const struct cs_blob_entry *cs_superblob_find(const struct cs_superblob *sb, uint32_t type)
{
	for (uint32_t i = 0; i < sb->count; i++)
		if (sb->entries[i].type == type)
			return &sb->entries[i];
	return NULL;
}

int cs_blob_build(struct ut_buf *out, uint32_t magic, const void *payload, size_t len)
{
	if (len > UINT32_MAX - CS_BLOB_HEADER_SIZE)
		return ut_fail(UT_EINVAL, "blob payload of %zu bytes too large", len);
	int rc = ut_buf_be32(out, magic);
	if (!rc)
		rc = ut_buf_be32(out, (uint32_t)(len + CS_BLOB_HEADER_SIZE));
	if (!rc)
		rc = ut_buf_append(out, payload, len);
	return rc;
}

uint64_t cs_superblob_size(unsigned count, uint64_t total_blob_bytes)
{
	return CS_SUPERBLOB_HEADER_SIZE + (uint64_t)CS_BLOB_INDEX_SIZE * count + total_blob_bytes;
}

int cs_superblob_build(struct ut_buf *out, uint32_t magic, const struct cs_blob_in *blobs, unsigned n,
		       enum cs_sb_layout layout)
{
	unsigned order[UT_MAX_BLOBS];
	if (n > UT_MAX_BLOBS)
		return ut_fail(UT_EINVAL, "superblob of %u blobs above the limit of %u", n, UT_MAX_BLOBS);
	uint64_t head = CS_SUPERBLOB_HEADER_SIZE + (uint64_t)CS_BLOB_INDEX_SIZE * n;
	if (layout == CS_SB_LLD)
		head = (head + 7) & ~(uint64_t)7;
	uint64_t total = head;
	for (unsigned i = 0; i < n; i++) {
		if (blobs[i].len < CS_BLOB_HEADER_SIZE || ut_be32(blobs[i].p + 4) != blobs[i].len)
			return ut_fail(UT_EINVAL, "superblob input %u (type 0x%x): blob header does not match its %zu bytes",
				       i, blobs[i].type, blobs[i].len);
		for (unsigned k = 0; k < i; k++)
			if (blobs[k].type == blobs[i].type)
				return ut_fail(UT_EINVAL, "superblob input: type 0x%x given twice", blobs[i].type);
		total += blobs[i].len;
		/* Insertion sort by type for Apple's layout (std::map order); lld keeps the given order. */
		unsigned j = i;
		if (layout == CS_SB_APPLE)
			for (; j > 0 && blobs[order[j - 1]].type > blobs[i].type; j--)
				order[j] = order[j - 1];
		order[j] = i;
	}
	if (total > UINT32_MAX)
		return ut_fail(UT_EINVAL, "superblob of %llu bytes too large", (unsigned long long)total);
	int rc = ut_buf_grow(out, (size_t)total);
	if (rc)
		return rc;
	ut_buf_be32(out, magic);
	ut_buf_be32(out, (uint32_t)total);
	ut_buf_be32(out, n);
	uint64_t off = head;
	for (unsigned i = 0; i < n; i++) {
		ut_buf_be32(out, blobs[order[i]].type);
		ut_buf_be32(out, (uint32_t)off);
		off += blobs[order[i]].len;
	}
	ut_buf_zeros(out, (size_t)(head - CS_SUPERBLOB_HEADER_SIZE - (uint64_t)CS_BLOB_INDEX_SIZE * n));
	for (unsigned i = 0; i < n; i++)
		ut_buf_append(out, blobs[order[i]].p, blobs[order[i]].len);
	return 0;
}
