/*
 * cs_sign_meta.c - what goes into the signature: identifier, team ID, flags,
 * hash types, entitlements, requirements, Info.plist, runtime versions and
 * the metadata preserved from an existing signature (SEC signer.cpp prepare,
 * populate; machorep.cpp).
 */
#include <stdlib.h>
#include <string.h>

#include "cs_blob.h"
#include "cs_cms.h"
#include "cs_ent.h"
#include "cs_hash.h"
#include "cs_req.h"
#include "cs_sign_priv.h"
#include "mo_format.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_plist.h"

int cs_preserve_parse(const char *list, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{ "identifier", CS_PRESERVE_IDENTIFIER },
		{ "entitlements", CS_PRESERVE_ENTITLEMENTS },
		{ "flags", CS_PRESERVE_FLAGS },
		{ "runtime", CS_PRESERVE_RUNTIME },
	};
	*out = 0;
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == n && strncmp(p, names[i].name, n) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return ut_fail(UT_EINVAL, "unknown metadata '%.*s' to preserve (identifier, entitlements, flags, runtime)",
				       (int)n, p);
		*out |= names[i].bit;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

int cs_canonical_identifier(const char *name, char *out, size_t n)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	size_t len = strlen(base);
	/* A final extension goes unless it starts with a digit (a trailing '.' stays, as in Apple's code). */
	const char *dot = strrchr(base, '.');
	if (dot && dot[1] && !is_digit(dot[1]))
		len = (size_t)(dot - base);
	if (len > 0 && !is_digit(base[0]) && base[0] != '.') {
		/* Trailing version parts: keep the first numeric part ("foo.2.3.4" -> "foo.2"). */
		size_t p = len - 1;
		while (p > 0 && (is_digit(base[p]) || base[p] == '.'))
			p--;
		p++;
		if (p < len && base[p] == '.')
			p++;
		while (p < len && is_digit(base[p]))
			p++;
		len = p;
	}
	if (len + 1 > n)
		return ut_fail(UT_EINVAL, "identifier from '%s' is too long", name);
	memcpy(out, base, len);
	out[len] = '\0';
	return 0;
}

/* The slot-0 CodeDirectory of a slice's old signature. */
static int old_cd(const struct sign_slice *s, struct cs_superblob *sb, struct cs_cd *cd)
{
	int rc = cs_superblob_parse(sb, s->old_sig, s->old_sig_len, CSMAGIC_EMBEDDED_SIGNATURE);
	const struct cs_blob_entry *e = rc ? NULL : cs_superblob_find(sb, CSSLOT_CODEDIRECTORY);
	if (!rc && !e)
		rc = ut_fail(UT_EMALFORMED, "no CodeDirectory in slot 0");
	if (!rc)
		rc = cs_cd_parse(cd, e->blob.p, e->blob.length);
	return rc ? ut_ctx(rc, "%s: existing signature", s->where) : 0;
}

int sign_meta_load_old(struct sign_ctx *c)
{
	if (!c->o->preserve || c->o->linker_signed)
		return 0;
	for (uint32_t i = 0; i < c->nsl; i++) {
		struct sign_slice *s = &c->sl[i];
		if (!s->img->has_codesig || s->img->codesig.size == 0)
			continue;
		if (s->img->codesig.size > UT_MAX_SIG_SIZE)
			return ut_fail(UT_EUNSUPPORTED, "%s: existing signature of %u bytes is too large", s->where,
				       s->img->codesig.size);
		s->old_sig_len = s->img->codesig.size;
		s->old_sig = malloc(s->old_sig_len);
		if (!s->old_sig)
			return ut_fail(UT_ENOMEM, "out of memory");
		int rc = mo_slice_read(c->f, s->s, s->img->codesig.off, s->old_sig, s->old_sig_len);
		if (rc)
			return ut_ctx(rc, "%s", s->where);
	}
	/* Nothing is inherited from an unsigned main slice or a linker signature (SEC signer.cpp prepare). */
	const struct sign_slice *m = &c->sl[c->main];
	if (!m->old_sig)
		return 0;
	int rc = old_cd(m, &c->old_sb, &c->old_cd);
	if (rc)
		return rc;
	if (c->old_cd.flags & CS_LINKER_SIGNED)
		return 0;
	c->inherit = c->o->preserve;
	if (!(c->inherit & CS_PRESERVE_RUNTIME))
		return 0;
	for (uint32_t i = 0; i < c->nsl; i++) {
		struct sign_slice *s = &c->sl[i];
		struct cs_superblob sb;
		struct cs_cd cd;
		if (!s->old_sig)
			continue;
		if ((rc = cs_superblob_parse(&sb, s->old_sig, s->old_sig_len, CSMAGIC_EMBEDDED_SIGNATURE)) != 0)
			return ut_ctx(rc, "%s: existing signature", s->where);
		for (uint32_t k = 0; k < sb.count; k++) {
			if (!cs_slot_is_cd(sb.entries[k].type))
				continue;
			if ((rc = cs_cd_parse(&cd, sb.entries[k].blob.p, sb.entries[k].blob.length)) != 0)
				return ut_ctx(rc, "%s: existing signature", s->where);
			if (cd.hash_type <= CS_HASHTYPE_SHA384)
				s->old_runtime[cd.hash_type] = cd.runtime;
		}
	}
	return 0;
}

/* Info.plist for slot 1: the caller's bytes, else the main slice's __TEXT,__info_plist. */
static int load_info(struct sign_ctx *c, plist_t *dict)
{
	*dict = NULL;
	const char *what = "Info.plist";
	if (c->o->info_plist) {
		if (c->o->info_plist_len > UT_MAX_PLIST_SIZE)
			return ut_fail(UT_EUNSUPPORTED, "Info.plist of %zu bytes is too large", c->o->info_plist_len);
		c->info = malloc(c->o->info_plist_len ? c->o->info_plist_len : 1);
		if (!c->info)
			return ut_fail(UT_ENOMEM, "out of memory");
		memcpy(c->info, c->o->info_plist, c->o->info_plist_len);
		c->info_len = c->o->info_plist_len;
	} else {
		const struct sign_slice *m = &c->sl[c->main];
		const struct mo_section *sec = NULL;
		for (uint32_t i = 0; i < m->img->nsections && !sec; i++)
			if (!strcmp(m->img->sections[i].segname, "__TEXT") &&
			    !strcmp(m->img->sections[i].sectname, "__info_plist"))
				sec = &m->img->sections[i];
		if (!sec)
			return 0;
		what = "embedded Info.plist (__TEXT,__info_plist)";
		if (sec->size > UT_MAX_PLIST_SIZE)
			return ut_fail(UT_EUNSUPPORTED, "%s: %s of %llu bytes is too large", m->where, what,
				       (unsigned long long)sec->size);
		c->info = malloc(sec->size ? (size_t)sec->size : 1);
		if (!c->info)
			return ut_fail(UT_ENOMEM, "out of memory");
		c->info_len = (size_t)sec->size;
		int rc = mo_slice_read(c->f, m->s, sec->offset, c->info, c->info_len);
		if (rc)
			return ut_ctx(rc, "%s: %s", m->where, what);
	}
	int rc = ut_plist_parse(c->info, c->info_len, what, dict, NULL);
	if (!rc && plist_get_node_type(*dict) != PLIST_DICT)
		rc = ut_fail(UT_EMALFORMED, "%s is not a dictionary", what);
	if (!rc) {
		plist_t id = plist_dict_get_item(*dict, "CFBundleIdentifier");
		if (id && plist_get_node_type(id) != PLIST_STRING)
			rc = ut_fail(UT_EMALFORMED, "%s: CFBundleIdentifier is not a string", what);
	}
	if (rc) {
		plist_free(*dict);
		*dict = NULL;
	}
	return rc;
}

/* "UUID" + LC_UUID, else SHA-1 of the 28-byte mach_header and the load commands (SEC identificationFor). */
static int unique_name(const struct mo_image *img, char *out)
{
	uint8_t id[CS_HASH_MAX_SIZE];
	size_t n;
	if (img->has_uuid) {
		memcpy(id, "UUID", 4);
		memcpy(id + 4, img->uuid, 16);
		n = 20;
	} else {
		struct cs_hasher *h = NULL;
		int rc = cs_hasher_new(CS_HASHTYPE_SHA1, &h);
		if (!rc)
			rc = cs_hasher_update(h, img->hdr, MO_MACH_HEADER_SIZE);
		if (!rc)
			rc = cs_hasher_update(h, img->hdr + MO_MACH_HEADER_64_SIZE, img->sizeofcmds);
		if (!rc)
			rc = cs_hasher_final(h, id);
		cs_hasher_free(h);
		if (rc)
			return rc;
		n = CS_SHA1_LEN;
	}
	ut_hex(out, id, n);
	return 0;
}

static int set_identifier(struct sign_ctx *c, const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n >= sizeof(c->identifier))
		return ut_fail(UT_EINVAL, "identifier '%.40s' is %s", id, n ? "too long" : "empty");
	memcpy(c->identifier, id, n + 1);
	return 0;
}

static int decide_identifier(struct sign_ctx *c, plist_t info)
{
	const struct cs_sign_opts *o = c->o;
	const char *name = o->name ? o->name : c->dst;
	if (o->identifier)
		return set_identifier(c, o->identifier);
	if (o->linker_signed) {
		const char *b = strrchr(name, '/');
		return set_identifier(c, b ? b + 1 : name);
	}
	if ((c->inherit & CS_PRESERVE_IDENTIFIER) && c->old_cd.identifier[0])
		return set_identifier(c, c->old_cd.identifier);
	const char *explicit = ut_plist_dict_str(info, "CFBundleIdentifier");
	if (explicit && explicit[0])
		return set_identifier(c, explicit);
	char canon[CS_SIGN_IDENT_MAX];
	int rc = cs_canonical_identifier(name, canon, sizeof(canon) - 64);
	if (rc)
		return rc;
	if (!strchr(canon, '.') && !o->identity) {
		size_t n = strlen(canon);
		canon[n] = '-';
		if ((rc = unique_name(c->sl[c->main].img, canon + n + 1)) != 0)
			return rc;
	}
	return set_identifier(c, canon);
}

unsigned cs_sign_hash_types(const struct mo_file *f, unsigned types[2])
{
	int agile = 0;
	for (uint32_t i = 0; i < f->nslices; i++) {
		const struct mo_image *img = f->slices[i].img;
		uint32_t limit = 0;
		if (!img)
			continue;
		switch (img->platform) {
		case PLATFORM_MACOS: limit = 10u << 16 | 11u << 8 | 4u; break;
		case PLATFORM_IOS:
		case PLATFORM_TVOS: limit = 11u << 16; break;
		case PLATFORM_WATCHOS: limit = 12u << 16; break;
		default: continue;
		}
		if (img->minos < limit)
			agile = 1;
	}
	unsigned n = 0;
	if (agile)
		types[n++] = CS_HASHTYPE_SHA1;
	types[n++] = CS_HASHTYPE_SHA256;
	return n;
}

/* SEC machorep.cpp prepareForSigning (macOS 26); a linker signature has one SHA-256 CodeDirectory. */
static void decide_hashes(struct sign_ctx *c)
{
	if (c->o->linker_signed) {
		c->hash_types[0] = CS_HASHTYPE_SHA256;
		c->nhash = 1;
		return;
	}
	c->nhash = cs_sign_hash_types(c->f, c->hash_types);
}

/* CSFlags of the Info.plist: a number or a comma-separated list of flag names (SEC cdTextFlags). */
static int info_flags(plist_t info, int *given, uint32_t *flags)
{
	plist_t v = info ? plist_dict_get_item(info, "CSFlags") : NULL;
	*given = 0;
	if (!v)
		return 0;
	if (plist_get_node_type(v) == PLIST_UINT) {
		uint64_t u = 0;
		plist_get_uint_val(v, &u);
		*flags = (uint32_t)u;
	} else if (plist_get_node_type(v) == PLIST_STRING) {
		const char *p = ut_plist_str(v);
		*flags = 0;
		while (p && *p) {
			char word[64];
			size_t n = strcspn(p, ",");
			uint32_t f;
			if (n >= sizeof(word))
				return ut_fail(UT_EMALFORMED, "Info.plist CSFlags: unknown flag '%.*s'", (int)n, p);
			memcpy(word, p, n);
			word[n] = '\0';
			if (cs_flag_by_name(word, &f) || (f & (CS_ADHOC | CS_LINKER_SIGNED | kSecCodeSignatureHost)))
				return ut_fail(UT_EMALFORMED, "Info.plist CSFlags: unknown flag '%s'", word);
			*flags |= f;
			p += n + (p[n] == ',');
		}
	} else {
		return ut_fail(UT_EMALFORMED, "Info.plist CSFlags is neither a number nor a string");
	}
	*given = 1;
	return 0;
}

static int decide_flags(struct sign_ctx *c, plist_t info)
{
	const struct cs_sign_opts *o = c->o;
	int have = 0;
	c->flags = 0;
	if (o->flags_given) {
		c->flags = o->flags;
		have = 1;
	}
	if (!have) {
		int rc = info_flags(info, &have, &c->flags);
		if (rc)
			return rc;
	}
	if (!have) {
		if (c->inherit & CS_PRESERVE_RUNTIME)
			c->flags |= c->old_cd.flags & CS_RUNTIME;
		if (c->inherit & CS_PRESERVE_FLAGS)
			c->flags = c->old_cd.flags & ~CS_ADHOC;
	}
	if (o->runtime)
		c->flags |= CS_RUNTIME;
	if (!o->identity)
		c->flags |= CS_ADHOC;
	return 0;
}

/* The XML blob (as given, or preserved) and the DER blob and exec-segment bits derived from it. */
static int decide_entitlements(struct sign_ctx *c)
{
	const struct cs_sign_opts *o = c->o;
	int rc = 0;
	if (o->entitlements) {
		if (o->entitlements_len > UT_MAX_PLIST_SIZE)
			return ut_fail(UT_EUNSUPPORTED, "entitlements of %zu bytes are too large", o->entitlements_len);
		/* A file that already is an entitlements blob is used as is (codesign accepts both). */
		if (o->entitlements_len >= 8 && ut_be32(o->entitlements) == CSMAGIC_EMBEDDED_ENTITLEMENTS &&
		    ut_be32(o->entitlements + 4) == o->entitlements_len)
			rc = ut_buf_append(&c->ent_xml, o->entitlements, o->entitlements_len);
		else
			rc = cs_ent_xml_blob(&c->ent_xml, o->entitlements, o->entitlements_len);
	} else if (c->inherit & CS_PRESERVE_ENTITLEMENTS) {
		const struct cs_blob_entry *e = cs_superblob_find(&c->old_sb, CSSLOT_ENTITLEMENTS);
		if (e)
			rc = ut_buf_append(&c->ent_xml, e->blob.p, e->blob.length);
		if (rc)
			return ut_ctx(rc, "%s: existing signature", c->sl[c->main].where);
	}
	if (rc || c->ent_xml.len == 0)
		return rc;
	plist_t dict = NULL;
	rc = cs_ent_xml_blob_parse(c->ent_xml.p, c->ent_xml.len, &dict);
	if (!rc)
		rc = cs_ent_der_blob(dict, &c->ent_der);
	if (!rc)
		c->ent_exec_flags = cs_ent_exec_seg_flags(dict);
	plist_free(dict);
	return rc ? ut_ctx(rc, "entitlements") : 0;
}

/* Empty set for ad-hoc; the designated requirement codesign derives for an identity. */
static int decide_requirements(struct sign_ctx *c)
{
	if (!c->o->identity)
		return cs_req_set_empty(&c->reqs);
	char *text = NULL;
	int rc = cs_chain_designated_requirement(&text, cs_identity_chain(c->o->identity), c->identifier);
	struct ut_buf dr;
	ut_buf_init(&dr, 0);
	if (!rc)
		rc = cs_req_compile(text, CS_REQ_AND_RIGHT, &dr);
	if (!rc) {
		struct cs_req_in in = { kSecDesignatedRequirementType, dr.p, dr.len };
		rc = cs_req_set_build(&c->reqs, &in, 1);
	}
	ut_buf_release(&dr);
	free(text);
	return rc ? ut_ctx(rc, "designated requirement") : 0;
}

/* Team ID from the leaf OU for Apple developer chains (SEC getTeamIDFromSigner). */
static void decide_team(struct sign_ctx *c)
{
	c->team_id[0] = '\0';
	if (!c->o->identity)
		return;
	const struct cs_chain *ch = cs_identity_chain(c->o->identity);
	enum cs_signer_kind k = cs_chain_kind(ch);
	if ((k == CS_SIGNER_DEVELOPER_ID || k == CS_SIGNER_APPLE_DEVELOPMENT) && ch->n > 0)
		memcpy(c->team_id, ch->certs[0].ou, sizeof(c->team_id));
}

/*
 * codesign fails when the CMS outgrows its allowance; we measure a trial
 * signature (its size does not depend on the CodeDirectory's contents) and
 * grow the allowance instead.
 */
static int decide_cms_size(struct sign_ctx *c)
{
	c->cms_size = c->o->cms_size ? c->o->cms_size : CS_SIGN_DEFAULT_CMS_SIZE;
	if (!c->o->identity)
		return 0;
	uint8_t cd[128] = { 0 };
	struct cs_cdhash h[2];
	memset(h, 0, sizeof(h));
	for (unsigned i = 0; i < c->nhash; i++) {
		h[i].hash_type = c->hash_types[i];
		h[i].len = cs_hash_size(c->hash_types[i]);
	}
	struct cs_cms_sign_opts so = { 1, c->signing_time, NULL, NULL };
	uint8_t *sig = NULL;
	size_t len = 0;
	int rc = cs_cms_sign(&sig, &len, c->o->identity, cd, sizeof(cd), h, c->nhash, &so);
	free(sig);
	if (rc)
		return rc;
	uint64_t need = CS_BLOB_HEADER_SIZE + (uint64_t)len + 64; /* DER lengths and ECDSA values vary a little */
	if (need > c->cms_size)
		c->cms_size = (unsigned)need;
	return 0;
}

int sign_meta_decide(struct sign_ctx *c)
{
	plist_t info = NULL;
	int rc = c->o->linker_signed ? 0 : load_info(c, &info);
	if (!rc)
		rc = decide_identifier(c, info);
	decide_hashes(c);
	if (!rc && !c->o->linker_signed) {
		decide_team(c);
		rc = decide_flags(c, info);
		if (!rc)
			rc = decide_entitlements(c);
		if (!rc)
			rc = decide_requirements(c);
		if (!rc)
			rc = decide_cms_size(c);
	}
	plist_free(info);
	return rc && !strstr(ut_errmsg(), c->in) ? ut_ctx(rc, "'%s'", c->in) : rc;
}

int sign_meta_slice(struct sign_ctx *c, struct sign_slice *s)
{
	const struct mo_image *img = s->img;
	unsigned ps = c->o->page_size;
	if (ps && ps != 4096 && ps != 16384)
		return ut_fail(UT_EINVAL, "%s: page size %u is not 4096 or 16384", s->where, ps);
	/* macOS 26 codesign: 16 KiB pages for arm64 / arm64_32 except tvOS (SEC machorep.cpp pageSize). */
	s->page_shift = ps == 16384 && (img->cputype == CPU_TYPE_ARM64 || img->cputype == CPU_TYPE_ARM64_32) &&
				img->platform != PLATFORM_TVOS ? 14 : 12;
	s->attach_ent = c->ent_xml.len > 0 && img->filetype == MH_EXECUTE;
	s->exec_seg[0] = s->exec_seg[1] = 0;
	/* codesign: only with a platform (SEC machorep.cpp needsExecSeg); lld: always. */
	if ((img->platform != 0 || c->o->linker_signed) && img->text_seg >= 0) {
		s->exec_seg[0] = img->segments[img->text_seg].fileoff;
		s->exec_seg[1] = img->segments[img->text_seg].filesize;
	}
	s->exec_seg[2] = (img->filetype == MH_EXECUTE ? CS_EXECSEG_MAIN_BINARY : 0) |
			 (s->attach_ent ? c->ent_exec_flags : 0);
	for (unsigned t = 0; t <= CS_HASHTYPE_SHA384; t++) {
		s->runtime[t] = 0;
		if (c->flags & CS_RUNTIME)
			s->runtime[t] = (c->inherit & CS_PRESERVE_RUNTIME) && s->old_runtime[t] ? s->old_runtime[t]
												 : img->sdk;
	}
	return 0;
}

int sign_meta_cd_params(const struct sign_ctx *c, const struct sign_slice *s, unsigned hash_type,
			struct cs_special_slots *ss, struct cs_cd_params *p)
{
	const struct cs_sign_opts *o = c->o;
	struct ut_span in[CS_SPECIAL_SLOT_MAX + 1];
	memset(in, 0, sizeof(in));
	if (c->info)
		in[CSSLOT_INFOSLOT] = ut_span_make(c->info, c->info_len);
	in[CSSLOT_REQUIREMENTS] = ut_span_make(c->reqs.p, c->reqs.len);
	if (o->resources)
		in[CSSLOT_RESOURCEDIR] = ut_span_make(o->resources, o->resources_len);
	if (s->attach_ent) {
		in[CSSLOT_ENTITLEMENTS] = ut_span_make(c->ent_xml.p, c->ent_xml.len);
		in[CSSLOT_DER_ENTITLEMENTS] = ut_span_make(c->ent_der.p, c->ent_der.len);
	}
	int rc = cs_special_slots_compute(ss, hash_type, in);
	if (rc)
		return rc;
	for (size_t i = 0; i < o->nslot_digests; i++) {
		const struct cs_slot_digest *d = &o->slot_digests[i];
		if (d->hash_type != hash_type)
			continue;
		if (d->slot < 1 || d->slot > CS_SPECIAL_SLOT_MAX)
			return ut_fail(UT_EINVAL, "special slot %u out of range (1..%u)", d->slot, CS_SPECIAL_SLOT_MAX);
		memcpy(ss->hash[d->slot], d->digest, cs_hash_size(hash_type));
		ss->present |= 1u << d->slot;
		if (d->slot > ss->count)
			ss->count = d->slot;
	}
	memset(p, 0, sizeof(*p));
	p->flags = c->flags;
	p->hash_type = hash_type;
	p->page_shift = s->page_shift;
	p->identifier = c->identifier;
	p->team_id = c->team_id[0] ? c->team_id : NULL;
	p->code_limit = s->dataoff;
	p->exec_seg_base = s->exec_seg[0];
	p->exec_seg_limit = s->exec_seg[1];
	p->exec_seg_flags = s->exec_seg[2];
	p->runtime = s->runtime[hash_type <= CS_HASHTYPE_SHA384 ? hash_type : 0];
	p->special = ss;
	/* Without an exec segment limit the header may end before the exec-segment fields (flags dropped). */
	if (cs_cd_pick_version(p) < CS_SUPPORTSEXECSEG)
		p->exec_seg_base = p->exec_seg_flags = 0;
	return 0;
}
