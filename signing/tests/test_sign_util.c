/* test_sign_util.c - an independent reader and checker of signed Mach-O files (tests only). */
#define _GNU_SOURCE
#include "test_sign_util.h"

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tsupport.h"

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p + 4) << 32 | le32(p); }

static void walk_slice(const struct tsg_file *f, struct tsg_slice *s)
{
	cr_assert(s->off + s->size <= f->len && s->size >= 32, "slice past the end");
	const uint8_t *m = f->data + s->off;
	cr_assert_eq(le32(m), 0xfeedfacfu, "not a 64-bit little-endian slice");
	s->filetype = le32(m + 12);
	s->ncmds = le32(m + 16);
	s->sizeofcmds = le32(m + 20);
	cr_assert(32 + (uint64_t)s->sizeofcmds <= s->size);
	uint64_t p = 32;
	for (uint32_t i = 0; i < s->ncmds; i++) {
		const uint8_t *lc = m + p;
		uint32_t cmd = le32(lc), size = le32(lc + 4);
		cr_assert(size >= 8 && p + size <= 32 + (uint64_t)s->sizeofcmds, "load command %u", i);
		if (cmd == 0x19 && !strncmp((const char *)lc + 8, "__LINKEDIT", 16)) {
			s->le_vmsize = le64(lc + 32);
			s->le_fileoff = le64(lc + 40);
			s->le_filesize = le64(lc + 48);
		} else if (cmd == 0x19 && !strncmp((const char *)lc + 8, "__TEXT", 16)) {
			s->text_fileoff = le64(lc + 40);
			s->text_filesize = le64(lc + 48);
		} else if (cmd == 0x1d) {
			s->has_sig = 1;
			s->dataoff = le32(lc + 8);
			s->datasize = le32(lc + 12);
		} else if (cmd == 0x32) {
			s->platform = le32(lc + 8);
			s->minos = le32(lc + 12);
			s->sdk = le32(lc + 16);
		} else if (cmd == 0x24) {
			s->platform = 1;
			s->minos = le32(lc + 8);
			s->sdk = le32(lc + 12);
		} else if (cmd == 0x1b) {
			s->has_uuid = 1;
			memcpy(s->uuid, lc + 8, 16);
		}
		p += size;
	}
	if (!s->has_sig)
		return;
	cr_assert((uint64_t)s->dataoff + s->datasize <= s->size, "signature past the slice");
	const uint8_t *sb = m + s->dataoff;
	cr_assert(s->datasize >= 12 && be32(sb) == 0xfade0cc0u, "no embedded signature SuperBlob");
	s->sb_len = be32(sb + 4);
	s->nblobs = be32(sb + 8);
	cr_assert(s->sb_len <= s->datasize && s->nblobs <= TSG_MAX_BLOBS && 12 + 8 * s->nblobs <= s->sb_len);
	for (uint32_t i = 0; i < s->nblobs; i++) {
		uint32_t type = be32(sb + 12 + 8 * i), off = be32(sb + 16 + 8 * i);
		cr_assert(off + 8 <= s->sb_len, "blob %u offset", i);
		uint32_t len = be32(sb + off + 4);
		cr_assert(len >= 8 && off + (uint64_t)len <= s->sb_len, "blob %u length", i);
		s->blobs[i] = (struct tsg_blob){ type, sb + off, len };
	}
}

void tsg_load(const char *path, struct tsg_file *f)
{
	memset(f, 0, sizeof(*f));
	f->data = ts_read(path, &f->len);
	cr_assert(f->data && f->len >= 8, "cannot read '%s'", path);
	uint32_t magic = be32(f->data);
	if (magic == 0xcafebabeu) {
		f->fat_magic = magic;
		f->n = be32(f->data + 4);
		cr_assert(f->n >= 1 && f->n <= TSG_MAX_SLICES && 8 + 20 * (uint64_t)f->n <= f->len);
		for (unsigned i = 0; i < f->n; i++) {
			const uint8_t *e = f->data + 8 + 20 * i;
			f->s[i].cputype = be32(e);
			f->s[i].cpusubtype = be32(e + 4);
			f->s[i].off = be32(e + 8);
			f->s[i].size = be32(e + 12);
			f->s[i].align = be32(e + 16);
		}
	} else {
		f->n = 1;
		f->s[0].cputype = le32(f->data + 4);
		f->s[0].cpusubtype = le32(f->data + 8);
		f->s[0].size = f->len;
	}
	for (unsigned i = 0; i < f->n; i++)
		walk_slice(f, &f->s[i]);
}

void tsg_free(struct tsg_file *f)
{
	free(f->data);
	memset(f, 0, sizeof(*f));
}

const struct tsg_blob *tsg_blob(const struct tsg_slice *s, uint32_t type)
{
	for (uint32_t i = 0; i < s->nblobs; i++)
		if (s->blobs[i].type == type)
			return &s->blobs[i];
	return NULL;
}

uint32_t tsg_cd32(const struct tsg_blob *cd, unsigned off) { return be32(cd->p + off); }
uint64_t tsg_cd64(const struct tsg_blob *cd, unsigned off) { return be64(cd->p + off); }
const char *tsg_cd_ident(const struct tsg_blob *cd) { return (const char *)cd->p + be32(cd->p + 20); }

const uint8_t *tsg_cd_special(const struct tsg_blob *cd, unsigned k)
{
	if (k < 1 || k > be32(cd->p + 24))
		return NULL;
	return cd->p + be32(cd->p + 16) - (size_t)k * cd->p[36];
}

unsigned tsg_digest(unsigned type, const void *p, size_t len, uint8_t out[64])
{
	unsigned n = 0;
	cr_assert(type == 1 || type == 2, "hash type %u", type);
	cr_assert_eq(EVP_Digest(p, len, out, &n, type == 1 ? EVP_sha1() : EVP_sha256(), NULL), 1);
	return n;
}

char *tsg_openssl_dgst(const char *alg, const void *p, size_t len)
{
	char tmp[] = "/tmp/tsg-page-XXXXXX";
	int fd = mkstemp(tmp);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, p, len), (ssize_t)len);
	close(fd);
	char cmd[256], *out = NULL;
	snprintf(cmd, sizeof(cmd), "openssl dgst -%s -r %s", alg, tmp);
	cr_assert_eq(ts_sh(cmd, &out, NULL), 0, "%s", cmd);
	unlink(tmp);
	char *sp = strchr(out, ' ');
	if (sp)
		*sp = '\0';
	return out;
}

static void hex(char *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(o + 2 * i, "%02x", p[i]);
}

/* Header size per CodeDirectory version (XNU cs_blobs.h). */
static uint32_t cd_header(uint32_t v)
{
	return v >= 0x20500 ? 96 : v >= 0x20400 ? 88 : v >= 0x20300 ? 64 : v >= 0x20200 ? 52 : v >= 0x20100 ? 48 : 44;
}

static void check_special(const struct tsg_slice *s, const struct tsg_blob *cd, unsigned slot, uint32_t blob_type)
{
	const struct tsg_blob *b = tsg_blob(s, blob_type);
	const uint8_t *h = tsg_cd_special(cd, slot);
	uint8_t d[64];
	if (!b) {
		if (h)
			for (unsigned i = 0; i < cd->p[36]; i++)
				cr_assert_eq(h[i], 0, "slot -%u filled without its blob", slot);
		return;
	}
	cr_assert(h, "blob 0x%x present, special slot -%u missing", blob_type, slot);
	tsg_digest(cd->p[37], b->p, b->len, d);
	cr_assert(!memcmp(h, d, cd->p[36]), "special slot -%u does not hash blob 0x%x", slot, blob_type);
}

static void check_cd(const struct tsg_file *f, const struct tsg_slice *s, const struct tsg_blob *cd, unsigned flags)
{
	uint32_t version = tsg_cd32(cd, 8), hash_off = tsg_cd32(cd, 16), ident_off = tsg_cd32(cd, 20);
	uint32_t nspecial = tsg_cd32(cd, 24), ncode = tsg_cd32(cd, 28), limit = tsg_cd32(cd, 32);
	unsigned hs = cd->p[36], type = cd->p[37], shift = cd->p[39];
	cr_assert_eq(tsg_cd32(cd, 0), 0xfade0c02u);
	cr_assert_eq(tsg_cd32(cd, 4), cd->len);
	cr_assert_eq(hs, type == 1 ? 20u : 32u, "hash size");
	cr_assert(shift == 12 || shift == 14, "page shift %u", shift);
	cr_assert_eq(limit, s->dataoff, "codeLimit = dataoff");
	cr_assert_eq(ncode, (limit - 1) / (1u << shift) + 1, "nCodeSlots");
	cr_assert_eq(hash_off + (uint64_t)ncode * hs, cd->len, "hashes end the CodeDirectory");
	cr_assert_eq(ident_off, cd_header(version), "identifier right after the header");
	const char *ident = tsg_cd_ident(cd);
	size_t after = ident_off + strlen(ident) + 1;
	uint32_t team_off = version >= 0x20200 ? tsg_cd32(cd, 48) : 0;
	if (team_off) {
		cr_assert_eq(team_off, after, "team ID right after the identifier");
		after += strlen((const char *)cd->p + team_off) + 1;
	}
	if (flags & TSG_CODESIGN)
		cr_assert_eq(hash_off, after + (size_t)nspecial * hs, "no padding before the special slots");
	else
		cr_assert_eq((24 + hash_off) % 16, 0, "lld: hashes 16-aligned in the SuperBlob");
	/* Every page, with EVP over the file's bytes. */
	const uint8_t *base = f->data + s->off;
	size_t ps = (size_t)1 << shift;
	for (uint32_t i = 0; i < ncode; i++) {
		size_t off = (size_t)i * ps, n = limit - off < ps ? limit - off : ps;
		uint8_t d[64];
		tsg_digest(type, base + off, n, d);
		cr_assert(!memcmp(d, cd->p + hash_off + (size_t)i * hs, hs), "page %u of %u (hash type %u)", i, ncode, type);
	}
	/* The first and last page once more with the openssl CLI. */
	for (uint32_t k = 0; !(flags & TSG_NO_CLI) && k < 2; k++) {
		uint32_t i = k ? ncode - 1 : 0;
		size_t off = (size_t)i * ps, n = limit - off < ps ? limit - off : ps;
		char *h = tsg_openssl_dgst(type == 1 ? "sha1" : "sha256", base + off, n), want[129];
		hex(want, cd->p + hash_off + (size_t)i * hs, hs);
		cr_assert_str_eq(h, want, "openssl dgst of page %u", i);
		free(h);
	}
	check_special(s, cd, 2, 2);
	check_special(s, cd, 5, 5);
	check_special(s, cd, 7, 7);
	if (version >= 0x20400 && s->platform && (flags & TSG_CODESIGN)) {
		cr_assert_eq(tsg_cd64(cd, 64), s->text_fileoff, "execSegBase");
		cr_assert_eq(tsg_cd64(cd, 72), s->text_filesize, "execSegLimit");
	}
	if (version >= 0x20400)
		cr_assert_eq(tsg_cd64(cd, 80) & 1, s->filetype == 2, "MAIN_BINARY iff MH_EXECUTE");
}

static void check_layout(const struct tsg_file *f, const struct tsg_slice *s, unsigned flags)
{
	cr_assert(s->has_sig, "slice without LC_CODE_SIGNATURE");
	cr_assert_eq((uint64_t)s->dataoff + s->datasize, s->size, "signature ends the slice");
	cr_assert_eq(s->le_fileoff + s->le_filesize, s->size, "__LINKEDIT ends the slice");
	if (flags & TSG_CODESIGN) {
		cr_assert_eq(s->dataoff % 16, 0, "dataoff 16-aligned");
		cr_assert_eq(s->datasize % 16, 0, "datasize 16-aligned");
		cr_assert_eq(s->le_vmsize, (s->le_filesize + 0x3fff) & ~(uint64_t)0x3fff, "vmsize = filesize to 16 KiB");
		/* Apple's SuperBlob: index sorted by type, blobs back to back. */
		uint32_t pos = 12 + 8 * s->nblobs;
		for (uint32_t i = 0; i < s->nblobs; i++) {
			cr_assert(i == 0 || s->blobs[i].type > s->blobs[i - 1].type, "index sorted");
			cr_assert_eq(s->blobs[i].p - (f->data + s->off + s->dataoff), pos, "blobs contiguous");
			pos += s->blobs[i].len;
		}
		cr_assert_eq(pos, s->sb_len);
		const struct tsg_blob *cms = tsg_blob(s, 0x10000);
		cr_assert(cms && be32(cms->p) == 0xfade0b01u, "CMS wrapper present");
		cr_assert(tsg_blob(s, 2) && be32(tsg_blob(s, 2)->p) == 0xfade0c01u, "requirements present");
	} else {
		cr_assert_eq(s->nblobs, 1);
		cr_assert_eq(s->blobs[0].p - (f->data + s->off + s->dataoff), 24, "lld: CD at 24");
		cr_assert_eq(s->sb_len, s->datasize, "lld: exact size");
	}
}

unsigned tsg_check(const struct tsg_file *f, unsigned flags)
{
	unsigned ncd = 0;
	if (f->fat_magic && (flags & TSG_CODESIGN))
		for (unsigned i = 0; i < f->n; i++) {
			uint64_t want = i == 0 ? 0x4000 : (f->s[i - 1].off + f->s[i - 1].size + 0x3fff) & ~(uint64_t)0x3fff;
			cr_assert_eq(f->s[i].off, want, "slice %u at 16 KiB after the previous one", i);
			cr_assert_eq(f->s[i].align, 14u);
		}
	for (unsigned i = 0; i < f->n; i++) {
		const struct tsg_slice *s = &f->s[i];
		check_layout(f, s, flags);
		for (uint32_t k = 0; k < s->nblobs; k++)
			if (s->blobs[k].type == 0 || (s->blobs[k].type >= 0x1000 && s->blobs[k].type < 0x1005)) {
				check_cd(f, s, &s->blobs[k], flags);
				ncd++;
			}
	}
	return ncd;
}

char *tsg_copy(const char *dir, const char *src, const char *name)
{
	char *p = NULL;
	cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
	cr_assert_eq(ts_copy(src, p), 0, "copy %s", src);
	struct stat st;
	cr_assert_eq(stat(p, &st), 0);
	chmod(p, st.st_mode | 0200);
	return p;
}

const char *tsg_identifier_of(const char *path, unsigned slice)
{
	static char buf[1024];
	struct tsg_file f;
	tsg_load(path, &f);
	cr_assert(slice < f.n);
	const struct tsg_blob *cd = tsg_blob(&f.s[slice], 0);
	cr_assert(cd, "no CodeDirectory in '%s'", path);
	snprintf(buf, sizeof(buf), "%s", tsg_cd_ident(cd));
	tsg_free(&f);
	return buf;
}
