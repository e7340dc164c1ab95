/*
 * tsupport.h - shared helpers for the Criterion suites (tests only).
 *
 * Paths come from the environment tools/run-tests.sh sets: UTMPATCH_BIN,
 * UTMPATCH_FIXTURES, UTMPATCH_CORPUS, UTMPATCH_ROOT.
 */
#ifndef TSUPPORT_H
#define TSUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* Joins an environment-provided directory and a relative path into a static-lifetime string (leaks by design). */
const char *ts_fixture(const char *name);
const char *ts_corpus(const char *rel);
const char *ts_root(const char *rel);
const char *ts_bin(void);

/* A fresh temporary directory (removed by ts_rmtree). */
char *ts_tmpdir(void);
void ts_rmtree(const char *dir);
/* dir + "/" + name (malloc'd). */
char *ts_path(const char *dir, const char *name);

/* Runs argv (NULL-terminated) with stdout/stderr captured (malloc'd, NUL-terminated); returns the exit code, or -1. */
int ts_run(char *const argv[], char **out, char **err);
/* Runs a shell command line; same captures. */
int ts_sh(const char *cmdline, char **out, char **err);

int ts_copy(const char *from, const char *to);
/* Reads a whole file (malloc'd); NULL on failure. */
uint8_t *ts_read(const char *path, size_t *len);
/* 1 when both files exist and are byte-identical. */
int ts_same_file(const char *a, const char *b);
/* Lowercase hex SHA-256 of a file into out[65]; 0 on success. */
int ts_sha256_file(const char *path, char out[65]);
/* 1 if the file exists. */
int ts_exists(const char *path);
/* Lines of a TSV file: calls fn for each non-comment line split into fields. */
int ts_tsv(const char *path, void (*fn)(char **fields, int nfields, void *ctx), void *ctx);

#endif
