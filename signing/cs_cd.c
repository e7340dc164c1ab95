/* cs_cd.c - CodeDirectory parse (SEC checkIntegrity + XNU cs_validate_codedirectory) and build. */
#include "cs_cd.h"

#include <stdio.h>
#include <string.h>

#include "cs_hash.h"
#include "ut_err.h"

#define CD_FAIL(...) ut_fail(UT_EMALFORMED, "code directory: " __VA_ARGS__)

uint32_t cs_cd_header_size(uint32_t version)
{
	if (version >= CS_SUPPORTSLINKAGE)
		return CS_CD_SIZE_LINKAGE;
	if (version >= CS_SUPPORTSRUNTIME)
		return CS_CD_SIZE_RUNTIME;
	if (version >= CS_SUPPORTSEXECSEG)
		return CS_CD_SIZE_EXECSEG;
	if (version >= CS_SUPPORTSCODELIMIT64)
		return CS_CD_SIZE_CODELIMIT64;
	if (version >= CS_SUPPORTSTEAMID)
		return CS_CD_SIZE_TEAM;
	if (version >= CS_SUPPORTSSCATTER)
		return CS_CD_SIZE_SCATTER;
	return CS_CD_SIZE_EARLIEST;
}

/* A NUL-terminated string at off inside [0, len), not overlapping the fixed header. */
static int string_at(const struct cs_cd *cd, uint32_t off, const char *what, const char **out)
{
	if (off < cd->header_size || off >= cd->length)
		return CD_FAIL("%s offset %u outside the blob (header %u, length %u)", what, off, cd->header_size,
			       cd->length);
	if (!memchr(cd->blob + off, 0, cd->length - off))
		return CD_FAIL("%s at offset %u not NUL-terminated inside the blob", what, off);
	*out = (const char *)cd->blob + off;
	return 0;
}

static void read_header(struct cs_cd *cd, const uint8_t *p)
{
	cd->length = ut_be32(p + 4);
	cd->version = ut_be32(p + 8);
	cd->flags = ut_be32(p + 12);
	cd->hash_offset = ut_be32(p + 16);
	cd->ident_offset = ut_be32(p + 20);
	cd->n_special_slots = ut_be32(p + 24);
	cd->n_code_slots = ut_be32(p + 28);
	cd->code_limit = ut_be32(p + 32);
	cd->hash_size = p[36];
	cd->hash_type = p[37];
	cd->platform = p[38];
	cd->page_size = p[39];
	cd->spare2 = ut_be32(p + 40);
}

static void read_versioned(struct cs_cd *cd, const uint8_t *p)
{
	uint32_t v = cd->version;
	if (v >= CS_SUPPORTSSCATTER)
		cd->scatter_offset = ut_be32(p + 44);
	if (v >= CS_SUPPORTSTEAMID)
		cd->team_offset = ut_be32(p + 48);
	if (v >= CS_SUPPORTSCODELIMIT64) {
		cd->spare3 = ut_be32(p + 52);
		cd->code_limit64 = ut_be64(p + 56);
	}
	if (v >= CS_SUPPORTSEXECSEG) {
		cd->exec_seg_base = ut_be64(p + 64);
		cd->exec_seg_limit = ut_be64(p + 72);
		cd->exec_seg_flags = ut_be64(p + 80);
	}
	if (v >= CS_SUPPORTSRUNTIME) {
		cd->runtime = ut_be32(p + 88);
		cd->pre_encrypt_offset = ut_be32(p + 92);
	}
	if (v >= CS_SUPPORTSLINKAGE) {
		cd->linkage_hash_type = p[96];
		cd->linkage_application_type = p[97];
		cd->linkage_application_sub_type = ut_be16(p + 98);
		cd->linkage_offset = ut_be32(p + 100);
		cd->linkage_size = ut_be32(p + 104);
	}
}

/* Scatter vector: elements inside the blob, terminated by count 0 (SEC, XNU). */
static int check_scatter(const struct cs_cd *cd)
{
	uint64_t pages = 0;
	for (uint64_t off = cd->scatter_offset;; off += CS_SCATTER_SIZE) {
		if (!ut_range_ok(off, CS_SCATTER_SIZE, cd->length))
			return CD_FAIL("scatter vector at offset %u not terminated inside the blob", cd->scatter_offset);
		uint32_t count = ut_be32(cd->blob + off);
		if (count == 0)
			break;
		pages += count;
	}
	if (pages > cd->n_code_slots)
		return CD_FAIL("scatter vector covers %llu pages, only %u code slots", (unsigned long long)pages,
			       cd->n_code_slots);
	return 0;
}

static int check_slots(struct cs_cd *cd)
{
	uint64_t hs = cd->hash_size;
	if (cd->hash_offset > cd->length)
		return CD_FAIL("hash offset %u past its length %u", cd->hash_offset, cd->length);
	if (cd->hash_offset / hs < cd->n_special_slots)
		return CD_FAIL("%u special slots do not fit before hash offset %u", cd->n_special_slots,
			       cd->hash_offset);
	if ((cd->length - cd->hash_offset) / hs < cd->n_code_slots)
		return CD_FAIL("%u code slots of %u bytes past its length %u", cd->n_code_slots, cd->hash_size,
			       cd->length);
	cd->hashes = cd->blob + cd->hash_offset;
	uint64_t limit = cs_cd_code_limit(cd);
	uint64_t want = cs_page_count(limit, cd->page_size);
	if (limit == 0)
		return CD_FAIL("paged signature covers no code (code limit 0)");
	if (want != cd->n_code_slots)
		return CD_FAIL("%u code slots, but code limit %llu needs %llu pages of %u bytes", cd->n_code_slots,
			       (unsigned long long)limit, (unsigned long long)want, 1u << cd->page_size);
	if (cd->pre_encrypt_offset) {
		if (cd->pre_encrypt_offset < cd->header_size || cd->pre_encrypt_offset > cd->length ||
		    (cd->length - cd->pre_encrypt_offset) / hs < cd->n_code_slots)
			return CD_FAIL("pre-encrypt hashes at offset %u outside the blob", cd->pre_encrypt_offset);
		cd->pre_encrypt_hashes = cd->blob + cd->pre_encrypt_offset;
	}
	return 0;
}

int cs_cd_parse(struct cs_cd *cd, const uint8_t *p, size_t len)
{
	memset(cd, 0, sizeof(*cd));
	if (len < CS_CD_SIZE_EARLIEST)
		return CD_FAIL("truncated: %zu bytes, header needs %u", len, CS_CD_SIZE_EARLIEST);
	if (ut_be32(p) != CSMAGIC_CODEDIRECTORY)
		return CD_FAIL("magic 0x%08x, expected 0x%08x", ut_be32(p), CSMAGIC_CODEDIRECTORY);
	read_header(cd, p);
	cd->blob = p;
	if (cd->length > len)
		return CD_FAIL("length %u past end of data (%zu bytes)", cd->length, len);
	if (cd->version < CS_CD_EARLIEST_VERSION || cd->version > CS_CD_COMPAT_LIMIT)
		return ut_fail(UT_EUNSUPPORTED, "code directory: version 0x%x unsupported", cd->version);
	cd->header_size = cs_cd_header_size(cd->version);
	if (cd->length < cd->header_size)
		return CD_FAIL("length %u below the %u-byte header of version 0x%x", cd->length, cd->header_size,
			       cd->version);
	read_versioned(cd, p);
	size_t hs = cs_hash_size(cd->hash_type);
	if (!hs)
		return ut_fail(UT_EUNSUPPORTED, "code directory: unsupported hash type %u", cd->hash_type);
	if (cd->hash_size != hs)
		return CD_FAIL("hash size %u does not match hash type %u (%zu bytes)", cd->hash_size, cd->hash_type,
			       hs);
	if (cd->page_size != 12 && cd->page_size != 14)
		return ut_fail(UT_EUNSUPPORTED, "code directory: page size 2^%u not accepted by the kernel",
			       cd->page_size);
	int rc = string_at(cd, cd->ident_offset, "identifier", &cd->identifier);
	if (!rc && cd->team_offset)
		rc = string_at(cd, cd->team_offset, "team identifier", &cd->team_id);
	if (!rc && cd->scatter_offset)
		rc = check_scatter(cd);
	if (!rc)
		rc = check_slots(cd);
	if (!rc && cd->linkage_hash_type &&
	    (cd->linkage_offset > cd->length || cd->linkage_size > cd->length - cd->linkage_offset))
		rc = CD_FAIL("linkage data %u+%u outside the blob", cd->linkage_offset, cd->linkage_size);
	if (rc) {
		const uint8_t *keep = cd->blob;
		memset(cd, 0, sizeof(*cd));
		cd->blob = keep;
	}
	return rc;
}

const uint8_t *cs_cd_special_slot(const struct cs_cd *cd, unsigned k)
{
	if (k == 0 || k > cd->n_special_slots)
		return NULL;
	return cd->hashes - (size_t)k * cd->hash_size;
}

const uint8_t *cs_cd_code_slot(const struct cs_cd *cd, uint32_t i)
{
	return i < cd->n_code_slots ? cd->hashes + (size_t)i * cd->hash_size : NULL;
}

int cs_cd_special_present(const struct cs_cd *cd, unsigned k)
{
	const uint8_t *h = cs_cd_special_slot(cd, k);
	for (unsigned i = 0; h && i < cd->hash_size; i++)
		if (h[i])
			return 1;
	return 0;
}

uint64_t cs_cd_code_limit(const struct cs_cd *cd)
{
	if (cd->version >= CS_SUPPORTSCODELIMIT64 && cd->code_limit64)
		return cd->code_limit64;
	return cd->code_limit;
}

int cs_cd_cdhash(const struct cs_cd *cd, int truncate, uint8_t out[CS_HASH_MAX_SIZE], size_t *len)
{
	int rc = cs_hash(cd->hash_type, cd->blob, cd->length, out);
	if (rc)
		return rc;
	*len = cs_hash_size(cd->hash_type);
	if (truncate && *len > CS_CDHASH_LEN)
		*len = CS_CDHASH_LEN;
	return 0;
}

int cs_special_slots_compute(struct cs_special_slots *out, unsigned hash_type,
			     const struct ut_span inputs[CS_SPECIAL_SLOT_MAX + 1])
{
	memset(out, 0, sizeof(*out));
	out->hash_type = hash_type;
	if (!cs_hash_size(hash_type))
		return ut_fail(UT_EUNSUPPORTED, "unsupported hash type %u", hash_type);
	for (unsigned k = 1; k <= CS_SPECIAL_SLOT_MAX; k++) {
		if (!inputs[k].p)
			continue;
		int rc = cs_hash(hash_type, inputs[k].p, inputs[k].len, out->hash[k]);
		if (rc)
			return ut_ctx(rc, "special slot %u", k);
		out->present |= 1u << k;
		out->count = k;
	}
	return 0;
}

uint32_t cs_cd_pick_version(const struct cs_cd_params *p)
{
	if (p->pre_encrypt || p->runtime)
		return CS_SUPPORTSRUNTIME;
	if (p->exec_seg_limit > 0)
		return CS_SUPPORTSEXECSEG;
	if (p->code_limit > UINT32_MAX)
		return CS_SUPPORTSCODELIMIT64;
	if (p->team_id && *p->team_id)
		return CS_SUPPORTSTEAMID;
	return CS_SUPPORTSSCATTER;
}

static int check_params(const struct cs_cd_params *p, uint32_t v)
{
	if (!p->identifier)
		return ut_fail(UT_EINVAL, "code directory needs an identifier");
	if (!cs_hash_size(p->hash_type))
		return ut_fail(UT_EINVAL, "unsupported hash type %u", p->hash_type);
	if (p->special && p->special->hash_type != p->hash_type && p->special->count)
		return ut_fail(UT_EINVAL, "special slots hashed with type %u, code directory uses %u",
			       p->special->hash_type, p->hash_type);
	if (p->page_shift != 12 && p->page_shift != 14)
		return ut_fail(UT_EINVAL, "unsupported page size 2^%u", p->page_shift);
	if (v < CS_CD_EARLIEST_VERSION || v > CS_CD_COMPAT_LIMIT)
		return ut_fail(UT_EINVAL, "code directory version 0x%x unsupported", v);
	if (p->team_id && *p->team_id && v < CS_SUPPORTSTEAMID)
		return ut_fail(UT_EINVAL, "version 0x%x cannot hold a team identifier", v);
	if (p->code_limit > UINT32_MAX && v < CS_SUPPORTSCODELIMIT64)
		return ut_fail(UT_EINVAL, "version 0x%x cannot cover %llu bytes of code", v,
			       (unsigned long long)p->code_limit);
	if ((p->exec_seg_base || p->exec_seg_limit || p->exec_seg_flags) && v < CS_SUPPORTSEXECSEG)
		return ut_fail(UT_EINVAL, "version 0x%x cannot hold an executable segment", v);
	if ((p->runtime || p->pre_encrypt) && v < CS_SUPPORTSRUNTIME)
		return ut_fail(UT_EINVAL, "version 0x%x cannot hold a runtime version", v);
	if (p->code_limit == 0)
		return ut_fail(UT_EINVAL, "code directory must cover some code");
	return 0;
}

int cs_cd_layout(const struct cs_cd_params *p, uint32_t version, struct cs_cd_layout *out)
{
	memset(out, 0, sizeof(*out));
	uint32_t v = version ? version : (p->version ? p->version : cs_cd_pick_version(p));
	int rc = check_params(p, v);
	if (rc)
		return rc;
	uint64_t hs = cs_hash_size(p->hash_type);
	uint64_t ncode = cs_page_count(p->code_limit, p->page_shift);
	uint64_t nspecial = p->special ? p->special->count : 0;
	uint64_t off = cs_cd_header_size(v);
	out->version = v;
	out->header_size = (uint32_t)off;
	out->ident_offset = (uint32_t)off;
	off += strlen(p->identifier) + 1;
	if (p->team_id && *p->team_id) {
		out->team_offset = (uint32_t)off;
		off += strlen(p->team_id) + 1;
	}
	if (p->pre_encrypt) {
		out->pre_encrypt_offset = (uint32_t)off;
		off += ncode * hs;
	}
	off += nspecial * hs;
	if (off > UINT32_MAX || ncode > UINT32_MAX || ncode * hs > UINT32_MAX - off)
		return ut_fail(UT_EINVAL, "code directory for %llu pages too large", (unsigned long long)ncode);
	out->hash_offset = (uint32_t)off;
	out->n_special_slots = (uint32_t)nspecial;
	out->n_code_slots = (uint32_t)ncode;
	out->hash_size = (uint32_t)hs;
	out->length = (uint32_t)(off + ncode * hs);
	return 0;
}

uint64_t cs_cd_size(const struct cs_cd_params *p, uint32_t version)
{
	struct cs_cd_layout l;
	return cs_cd_layout(p, version, &l) ? 0 : l.length;
}

/* Writes the fixed header of l.version (truncated to its size) into h. */
static void put_header(uint8_t *h, const struct cs_cd_layout *l, uint32_t flags, unsigned hash_type,
		       uint8_t platform, unsigned page_shift, uint64_t code_limit, const uint64_t execseg[3],
		       uint32_t runtime)
{
	memset(h, 0, l->header_size);
	ut_put_be32(h, CSMAGIC_CODEDIRECTORY);
	ut_put_be32(h + 4, l->length);
	ut_put_be32(h + 8, l->version);
	ut_put_be32(h + 12, flags);
	ut_put_be32(h + 16, l->hash_offset);
	ut_put_be32(h + 20, l->ident_offset);
	ut_put_be32(h + 24, l->n_special_slots);
	ut_put_be32(h + 28, l->n_code_slots);
	ut_put_be32(h + 32, code_limit > UINT32_MAX ? UINT32_MAX : (uint32_t)code_limit);
	h[36] = (uint8_t)l->hash_size;
	h[37] = (uint8_t)hash_type;
	h[38] = platform;
	h[39] = (uint8_t)page_shift;
	if (l->version >= CS_SUPPORTSTEAMID)
		ut_put_be32(h + 48, l->team_offset);
	if (l->version >= CS_SUPPORTSCODELIMIT64 && code_limit > UINT32_MAX)
		ut_put_be64(h + 56, code_limit);
	if (l->version >= CS_SUPPORTSEXECSEG) {
		ut_put_be64(h + 64, execseg[0]);
		ut_put_be64(h + 72, execseg[1]);
		ut_put_be64(h + 80, execseg[2]);
	}
	if (l->version >= CS_SUPPORTSRUNTIME) {
		ut_put_be32(h + 88, runtime);
		ut_put_be32(h + 92, l->pre_encrypt_offset);
	}
}

int cs_cd_build(struct ut_buf *out, const struct cs_cd_params *p, struct cs_cd_layout *layout)
{
	struct cs_cd_layout l;
	int rc = cs_cd_layout(p, 0, &l);
	if (rc)
		return rc;
	if ((rc = ut_buf_grow(out, l.length)) != 0)
		return rc;
	uint8_t *cd = out->p + out->len;
	memset(cd, 0, l.length);
	const uint64_t execseg[3] = { p->exec_seg_base, p->exec_seg_limit, p->exec_seg_flags };
	put_header(cd, &l, p->flags, p->hash_type, p->platform, p->page_shift, p->code_limit, execseg, p->runtime);
	memcpy(cd + l.ident_offset, p->identifier, strlen(p->identifier) + 1);
	if (l.team_offset)
		memcpy(cd + l.team_offset, p->team_id, strlen(p->team_id) + 1);
	size_t code_bytes = (size_t)l.n_code_slots * l.hash_size;
	if (p->code_hashes) {
		memcpy(cd + l.hash_offset, p->code_hashes, code_bytes);
		if (l.pre_encrypt_offset)
			memcpy(cd + l.pre_encrypt_offset, p->code_hashes, code_bytes);
	}
	for (uint32_t k = 1; k <= l.n_special_slots; k++)
		memcpy(cd + l.hash_offset - (size_t)k * l.hash_size, p->special->hash[k], l.hash_size);
	out->len += l.length;
	if (layout)
		*layout = l;
	return 0;
}

int cs_cd_layout_lld(const struct cs_cd_lld_params *p, struct cs_cd_layout *out)
{
	memset(out, 0, sizeof(*out));
	if (!p->identifier)
		return ut_fail(UT_EINVAL, "code directory needs an identifier");
	if (p->code_limit == 0 || p->code_limit > UINT32_MAX)
		return ut_fail(UT_EINVAL, "lld signature cannot cover %llu bytes of code",
			       (unsigned long long)p->code_limit);
	uint64_t n = cs_page_count(p->code_limit, 12);
	/* lld: allHeadersSize = alignTo<16>(blobHeadersSize + sizeof(CodeDirectory) + name + 1). */
	uint64_t all = CS_LLD_BLOB_HEADERS_SIZE + CS_CD_SIZE_EXECSEG + strlen(p->identifier) + 1;
	all = (all + 15) & ~(uint64_t)15;
	if (all - CS_LLD_BLOB_HEADERS_SIZE + n * CS_SHA256_LEN > UINT32_MAX)
		return ut_fail(UT_EINVAL, "identifier too long");
	out->version = CS_SUPPORTSEXECSEG;
	out->header_size = CS_CD_SIZE_EXECSEG;
	out->ident_offset = CS_CD_SIZE_EXECSEG;
	out->hash_offset = (uint32_t)(all - CS_LLD_BLOB_HEADERS_SIZE);
	out->n_code_slots = (uint32_t)n;
	out->hash_size = CS_SHA256_LEN;
	out->length = (uint32_t)(out->hash_offset + n * CS_SHA256_LEN);
	return 0;
}

int cs_cd_build_lld(struct ut_buf *out, const struct cs_cd_lld_params *p)
{
	struct cs_cd_layout l;
	int rc = cs_cd_layout_lld(p, &l);
	if (!rc)
		rc = ut_buf_grow(out, l.length);
	if (rc)
		return rc;
	uint64_t n = l.n_code_slots;
	uint8_t *cd = out->p + out->len;
	memset(cd, 0, l.length);
	const uint64_t execseg[3] = { p->exec_seg_base, p->exec_seg_limit, p->exec_seg_flags };
	put_header(cd, &l, CS_ADHOC | CS_LINKER_SIGNED, CS_HASHTYPE_SHA256, 0, 12, p->code_limit, execseg, 0);
	memcpy(cd + l.ident_offset, p->identifier, strlen(p->identifier));
	if (p->code_hashes)
		memcpy(cd + l.hash_offset, p->code_hashes, (size_t)n * CS_SHA256_LEN);
	out->len += l.length;
	return 0;
}

static const struct {
	const char *name;
	uint32_t flag;
} flag_names[] = {
	{ "host", kSecCodeSignatureHost },     { "adhoc", CS_ADHOC },
	{ "hard", CS_HARD },                   { "kill", CS_KILL },
	{ "expires", CS_CHECK_EXPIRATION },    { "restrict", CS_RESTRICT },
	{ "enforcement", CS_ENFORCEMENT },     { "library-validation", CS_REQUIRE_LV },
	{ "runtime", CS_RUNTIME },             { "linker-signed", CS_LINKER_SIGNED },
};

const char *cs_flags_names(uint32_t flags, char *buf, size_t n)
{
	size_t used = 0;
	if (n == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (!(flags & flag_names[i].flag))
			continue;
		int w = snprintf(buf + used, n - used, "%s%s", used ? "," : "", flag_names[i].name);
		if (w < 0 || (size_t)w >= n - used)
			break;
		used += (size_t)w;
	}
	if (!used)
		snprintf(buf, n, "none");
	return buf;
}

int cs_flag_by_name(const char *name, uint32_t *flag)
{
	/* codesign --options spells library validation "library"; -d displays it as "library-validation" */
	if (strcmp(name, "library") == 0)
		name = "library-validation";
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (strcmp(name, flag_names[i].name) == 0) {
			*flag = flag_names[i].flag;
			return 0;
		}
	}
	return ut_fail(UT_EINVAL, "unknown code signing flag '%s'", name);
}
