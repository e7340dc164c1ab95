/*
 * test_bundle_util.h - helpers for the bundle and seal tests: working copies
 * of the corpus bundles in temp dirs of their own (symlinks restored by
 * tsupport_bundle.h, which also gives tsb_flip and tsb_restore_symlinks),
 * small synthetic bundles, and plist comparison done with libplist directly.
 */
#ifndef TEST_BUNDLE_UTIL_H
#define TEST_BUNDLE_UTIL_H

#include <plist/plist.h>
#include <stddef.h>
#include <stdint.h>

#include "tsupport_bundle.h"

/* The corpus bundles (corpus-relative). */
#define TB_SPARKLE TSB_SPARKLE
#define TB_GROWL TSB_GROWL
#define TB_NOTIFIER TSB_NOTIFIER
#define TB_SIGNAPPLE TSB_SIGNAPPLE
#define TB_AUTOUPDATE "Versions/A/Resources/Autoupdate.app"

/* tsb_copy_corpus into a fresh temp dir of its own (clean with tb_cleanup); returns the copy's path. */
char *tb_copy_corpus(const char *rel);
/* Removes the temp dir holding a copy made by tb_copy_corpus or tb_tmp_bundle; frees path. */
void tb_cleanup(char *path);
/* A fresh temp dir + "/" + name (not created); clean with tb_cleanup. */
char *tb_tmp_bundle(const char *name);

/* dir/rel, malloc'd (leaks are fine in tests but callers free). */
char *tb_join(const char *dir, const char *rel);
/* Writes content to dir/rel, creating parent directories. */
void tb_write(const char *dir, const char *rel, const void *content, size_t len);
void tb_write_str(const char *dir, const char *rel, const char *content);
/* Copies the file src to dir/rel (parents created), keeping it executable. */
void tb_copy_file(const char *src, const char *dir, const char *rel);
void tb_symlink(const char *target, const char *dir, const char *rel);
void tb_mkdirs(const char *dir, const char *rel);
/* A minimal Info.plist with these keys (NULL values left out). */
void tb_info_plist(const char *dir, const char *rel, const char *exe, const char *ident, const char *ptype);

/* Parses a plist file with libplist directly (asserts). */
plist_t tb_plist_file(const char *path);
/* Deep equality (types, keys, values); why receives the first difference. Key order ignored. */
int tb_plist_equal(plist_t a, plist_t b, char *why, size_t n);

#endif
