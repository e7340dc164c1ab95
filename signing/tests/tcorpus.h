/*
 * tcorpus.h - test helper: the real Apple-signed files of ../shared/corpus
 * (env UTMPATCH_CORPUS) and their embedded signatures, read through the
 * Mach-O reader (64-bit slices) or a small bounded walk (32-bit / big-endian
 * slices the reader leaves unsupported).
 */
#ifndef TCORPUS_H
#define TCORPUS_H

#include <stddef.h>
#include <stdint.h>

#define TC_MAX_SLICES 8

struct tc_slice {
	uint32_t cputype, filetype;
	uint64_t slice_off, slice_size;  /* in the file */
	uint64_t sig_off, sig_size;      /* LC_CODE_SIGNATURE, slice-relative */
	int has_text;
	uint64_t text_fileoff, text_filesize;
	uint8_t *sig;                    /* the signature bytes (owned) */
};

struct tc_file {
	char path[1024];
	unsigned nslices;
	struct tc_slice s[TC_MAX_SLICES];
};

/* Full path of a corpus-relative file into buf (ts_corpus() returns it without a buffer). */
const char *tc_path(const char *rel, char *buf, size_t n);
/* Loads a corpus file's slices that carry a signature (datasize > 0); asserts on failure. */
void tc_load(const char *rel, struct tc_file *f);
/* Same for any path. */
void tc_load_path(const char *path, struct tc_file *f);
void tc_release(struct tc_file *f);
/* Reads a whole file (asserts); *len receives its size. Caller frees. */
uint8_t *tc_read_file(const char *path, size_t *len);

/* Every signed Mach-O of the corpus as its MANIFEST.tsv lists them (NULL-terminated); asserts a sane count. */
const char *const *tc_signed(void);

#endif
