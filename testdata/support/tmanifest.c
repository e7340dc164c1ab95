/* tmanifest.c - parse the corpus MANIFEST.tsv slice descriptions and CHECK results (tests only). */
#define _GNU_SOURCE
#include "tmanifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsupport.h"

/* Splits s in place at every occurrence of sep; returns the number of parts (at most max). */
static int split(char *s, const char *sep, char **parts, int max)
{
	int n = 0;
	size_t sl = strlen(sep);
	while (n < max) {
		parts[n++] = s;
		char *at = strstr(s, sep);
		if (!at)
			break;
		*at = '\0';
		s = at + sl;
	}
	return n;
}

static void copy(char *dst, size_t n, const char *src, size_t len)
{
	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* "x86_64/execute" and friends: an arch, a slash, a Mach-O file type. */
static int is_slice_head(const char *t)
{
	size_t tl = strcspn(t, " ");
	const char *sl = memchr(t, '/', tl);
	if (!sl || sl == t)
		return 0;
	return strncmp(sl + 1, "execute", 7) == 0 || strncmp(sl + 1, "dylib", 5) == 0 ||
	       strncmp(sl + 1, "bundle", 6) == 0;
}

static const char *skip_prefixes(const char *p)
{
	if (strncmp(p, "Mach-O ", 7) == 0)
		p += 7;
	if (strncmp(p, "FAT ", 4) == 0)
		p += 4;
	return p;
}

static void parse_slice(struct tm_slice *s, const char *text)
{
	memset(s, 0, sizeof(*s));
	s->cms = -1;
	const char *p = text;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *end;
		if (strncmp(p, "signer=[", 8) == 0) {
			end = strchr(p, ']');
			end = end ? end + 1 : p + strlen(p);
			copy(s->signer, sizeof(s->signer), p + 8, (size_t)(end - 1 - (p + 8)));
			p = end;
			continue;
		}
		if (strncmp(p, "SIGERR", 6) == 0) {
			s->sigerr = 1;
			end = strstr(p, " lc=");
			p = end ? end : p + strlen(p);
			continue;
		}
		end = strchr(p, ' ');
		if (!end)
			end = p + strlen(p);
		char tok[512];
		copy(tok, sizeof(tok), p, (size_t)(end - p));
		p = end;
		char *eq = strchr(tok, '=');
		if (is_slice_head(tok)) {
			char *sl = strchr(tok, '/');
			copy(s->arch, sizeof(s->arch), tok, (size_t)(sl - tok));
			copy(s->filetype, sizeof(s->filetype), sl + 1, strlen(sl + 1));
		} else if (strcmp(tok, "unsigned") == 0) {
			s->is_unsigned = 1;
		} else if (strncmp(tok, "CD0x", 4) == 0) {
			s->cd_version = (uint32_t)strtoul(tok + 2, NULL, 16);
		} else if (!eq && (strncmp(tok, "sha", 3) == 0)) {
			copy(s->hashes, sizeof(s->hashes), tok, strlen(tok));
		} else if (!eq && s->cd_version && !s->flags[0]) {
			copy(s->flags, sizeof(s->flags), tok, strlen(tok));
		} else if (eq) {
			*eq = '\0';
			const char *v = eq + 1;
			if (strcmp(tok, "id") == 0)
				copy(s->id, sizeof(s->id), v, strlen(v));
			else if (strcmp(tok, "team") == 0)
				copy(s->team, sizeof(s->team), v, strlen(v));
			else if (strcmp(tok, "rt") == 0) {
				s->has_rt = 1;
				s->rt = (uint32_t)strtoul(v, NULL, 16);
			} else if (strcmp(tok, "slots") == 0)
				copy(s->slots, sizeof(s->slots), v, strlen(v));
			else if (strcmp(tok, "cms") == 0) {
				s->cms = strtol(v, NULL, 10);
				const char *b = strchr(v, '[');
				if (b)
					copy(s->cms_attrs, sizeof(s->cms_attrs), b + 1, strcspn(b + 1, "]"));
			}
		}
	}
}

/* "CD[sha256 pages 338/338 ok; req=ok,ent=ok] alt0[...] cms-sig-ok/raw-ok chain-ok:Apple Root CA" */
static void parse_check(struct tm_slice *s, const char *text)
{
	copy(s->check, sizeof(s->check), text, strlen(text));
	const char *p = text;
	while (s->ncd < TM_MAX_CD) {
		const char *b = strchr(p, '[');
		if (!b || !(strncmp(b - 2, "CD", 2) == 0 || strncmp(b - 4, "alt", 3) == 0))
			break;
		const char *e = strchr(b, ']');
		if (!e)
			break;
		struct tm_cdcheck *c = &s->cd[s->ncd++];
		char body[256];
		copy(body, sizeof(body), b + 1, (size_t)(e - b - 1));
		char *semi = strchr(body, ';');
		if (semi) {
			*semi = '\0';
			const char *sp = semi + 1;
			while (*sp == ' ')
				sp++;
			copy(c->specials, sizeof(c->specials), sp, strlen(sp));
		}
		sscanf(body, "%23s pages %u/%u", c->hash, &c->pages_ok, &c->pages);
		p = e + 1;
	}
	s->cms_empty = strstr(text, "CMS empty") != NULL;
	s->cms_sig_ok = strstr(text, "cms-sig-ok") != NULL;
	const char *ch = strstr(text, "chain-ok:");
	if (ch)
		copy(s->chain, sizeof(s->chain), ch + 9, strlen(ch + 9));
}

static void parse_entry(struct tm_entry *e, char *what)
{
	char *parts[16];
	int np = split(what, " || ", parts, 16);
	int slices_at = -1, check_at = -1;
	for (int i = 0; i < np; i++) {
		if (check_at < 0 && strncmp(parts[i], "CHECK: ", 7) == 0)
			check_at = i;
		else if (slices_at < 0 && check_at < 0 && is_slice_head(skip_prefixes(parts[i])))
			slices_at = i;
	}
	if (slices_at < 0)
		return;
	char *sl[TM_MAX_SLICES];
	int ns = split((char *)skip_prefixes(parts[slices_at]), " | ", sl, TM_MAX_SLICES);
	for (int i = 0; i < ns; i++)
		parse_slice(&e->s[i], sl[i]);
	e->nslices = (unsigned)ns;
	if (check_at < 0)
		return;
	for (int i = 0; i < ns && check_at + i < np; i++) {
		const char *c = parts[check_at + i];
		if (i == 0)
			c += 7;
		if (strncmp(c, "PROVENANCE", 10) == 0)
			break;
		parse_check(&e->s[i], c);
	}
}

struct load_ctx {
	struct tm_entry *v;
	size_t n, cap;
};

static void on_line(char **f, int nf, void *vctx)
{
	struct load_ctx *ctx = vctx;
	if (nf < 7 || strcmp(f[0], "local_path") == 0)
		return;
	struct tm_entry e;
	memset(&e, 0, sizeof(e));
	copy(e.path, sizeof(e.path), f[0], strlen(f[0]));
	copy(e.desc, sizeof(e.desc), f[6], strlen(f[6]));
	parse_entry(&e, f[6]);
	if (!e.nslices)
		return;
	if (ctx->n == ctx->cap) {
		ctx->cap = ctx->cap ? ctx->cap * 2 : 16;
		ctx->v = realloc(ctx->v, ctx->cap * sizeof(*ctx->v));
		if (!ctx->v)
			abort();
	}
	ctx->v[ctx->n++] = e;
}

int tm_load(const char *manifest, struct tm_entry **out, size_t *n)
{
	struct load_ctx ctx = { 0 };
	if (ts_tsv(manifest, on_line, &ctx) != 0)
		return -1;
	*out = ctx.v;
	*n = ctx.n;
	return 0;
}

const struct tm_entry *tm_find(const struct tm_entry *e, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].path, path) == 0)
			return &e[i];
	return NULL;
}
