/*
 * test_bundle_util.h - helpers for the bundle and seal tests: working copies
 * of the corpus bundles (with their symlinks restored), small synthetic
 * bundles, and plist comparison done with libplist directly.
 *
 * The corpus stores symlinks as regular files whose content is the link
 * target.  A file is turned back into a symlink when (a) a CodeResources
 * files2 entry of an enclosing bundle says {symlink = T} for it and its
 * content is exactly T, or (b) it sits where a versioned framework keeps its
 * conventional symlinks - Versions/Current naming a version directory, or a
 * top-level X whose content is "Versions/Current/X".
 */
#ifndef TEST_BUNDLE_UTIL_H
#define TEST_BUNDLE_UTIL_H

#include <plist/plist.h>
#include <stddef.h>
#include <stdint.h>

/* The corpus bundles (corpus-relative). */
#define TB_SPARKLE "bundles/sparkle1-deadpikle/Sparkle.framework"
#define TB_GROWL "bundles/growl-selfsigned-hackerspace/Growl.framework"
#define TB_NOTIFIER "bundles/terminal-notifier-2014/terminal-notifier.app"
#define TB_SIGNAPPLE "bundles/signapple-universal-signed/signapple-test.app"
#define TB_AUTOUPDATE "Versions/A/Resources/Autoupdate.app"

/* Copies a corpus bundle into a fresh temp dir (writable), restores symlinks; returns the copy's path. */
char *tb_copy_corpus(const char *rel);
/* Restores symlink stand-ins under dir (rules above); returns how many were restored. */
int tb_restore_symlinks(const char *dir);
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
/* XOR-flips one byte of a file at off. */
void tb_flip(const char *path, uint64_t off);
/* A minimal Info.plist with these keys (NULL values left out). */
void tb_info_plist(const char *dir, const char *rel, const char *exe, const char *ident, const char *ptype);

/* Parses a plist file with libplist directly (asserts). */
plist_t tb_plist_file(const char *path);
/* Deep equality (types, keys, values); why receives the first difference. Key order ignored. */
int tb_plist_equal(plist_t a, plist_t b, char *why, size_t n);

#endif
