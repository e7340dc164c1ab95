/*
 * tmanifest.h - the corpus MANIFEST.tsv (../shared/corpus) as test data (tests only).
 *
 * Column 7 of every Mach-O line describes each slice as another tool saw it
 * ("x86_64/execute CD0x20500 runtime sha256 id=... team=... rt=0xb0000
 * slots=CD,req,ent,CMS cms=8975[...] signer=[...]", slices separated by " | ")
 * and what Apple-level verification found ("CHECK: CD[sha256 pages 338/338 ok;
 * req=ok,ent=ok] cms-sig-ok/raw-ok chain-ok:Apple Root CA", one part per slice).
 * These are the expected values of the verifier and audit tests.
 */
#ifndef TMANIFEST_H
#define TMANIFEST_H

#include <stddef.h>
#include <stdint.h>

#define TM_MAX_SLICES 8
#define TM_MAX_CD 6

struct tm_cdcheck {
	char hash[24];       /* "sha1", "sha256" */
	unsigned pages_ok, pages;
	char specials[160];  /* "req=ok,ent=ok,entDER=ok,info-bound,res-bound" */
};

struct tm_slice {
	char arch[24];       /* "x86_64", "arm64e", "i386", "ppc", "arm" */
	char filetype[24];   /* "execute", "dylib" */
	int is_unsigned;     /* "unsigned" */
	int sigerr;          /* "SIGERR ..." (unreadable signature) */
	uint32_t cd_version; /* CD0x20500 */
	char flags[48];      /* "none", "runtime", "adhoc", "adhoc+linker-signed", "adhoc+runtime" */
	char hashes[32];     /* "sha1/sha256": slot 0 first */
	char id[256];
	char team[32];       /* "" when absent */
	int has_rt;
	uint32_t rt;
	char slots[128];     /* "CD,req,ent,entDER,altCD0,CMS" */
	long cms;            /* CMS payload bytes, -1 when absent */
	char cms_attrs[128]; /* "timestamp,cdhashes-plist,cdhashes2,signingTime" */
	char signer[512];    /* the leaf subject as printed */
	/* CHECK */
	unsigned ncd;
	struct tm_cdcheck cd[TM_MAX_CD];
	int cms_empty, cms_sig_ok;
	char chain[160];     /* "Apple Root CA", "non-Apple-root F95DA936093F58BD" */
	char check[1024];    /* the raw CHECK part */
};

struct tm_entry {
	char path[512];      /* corpus-relative */
	char desc[1024];
	unsigned nslices;
	struct tm_slice s[TM_MAX_SLICES];
};

/* Loads every Mach-O line of a MANIFEST.tsv; *out malloc'd. Returns 0 or -1. */
int tm_load(const char *manifest, struct tm_entry **out, size_t *n);
/* The entry for a corpus-relative path, or NULL. */
const struct tm_entry *tm_find(const struct tm_entry *e, size_t n, const char *path);

#endif
