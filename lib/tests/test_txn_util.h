/*
 * test_txn_util.h - a synthetic bundle, the standard transaction, and
 * independent tree/backup checks (cp -a, diff -r, find -printf, python3 zlib)
 * for the transaction tests.
 */
#ifndef TEST_TXN_UTIL_H
#define TEST_TXN_UTIL_H

#include <stddef.h>

#include "ut_txn.h"

/* A scratch area: root/UTM.app (the bundle), root/state, root/pristine.app (cp -a copy). */
struct tx_env {
	char *root;
	char *bundle;
	char *state;
	char *saved;
};

/* Builds the synthetic bundle and saves a pristine copy with cp -a. */
void tx_env_init(struct tx_env *e, const char *tag);
void tx_env_release(struct tx_env *e);

/* Paths the standard transaction plans, in order, and how many journal records it writes. */
extern const char *const tx_planned[];
#define TX_NPLANNED 7
#define TX_NRECORDS (1 + TX_NPLANNED + 7 + 1 + 1) /* BEGIN, BACKUPs, STEPs, VERIFIED, COMMIT */
/* Records a full rollback writes for it: ROLLBACK-BEGIN, one RESTORED per path, ROLLBACK-DONE. */
#define TX_NROLLBACK (1 + TX_NPLANNED + 1)

/*
 * The standard transaction: replace Contents/MacOS/UTM from a temp file,
 * write the framework binary, delete Resources/old.txt, create
 * Resources/new.dylib, retarget the framework's top symlink, mkdir
 * Resources/newdir and write a file in it; verified; committed.  Returns 0
 * or the first failing code.
 */
int tx_run(const struct tx_env *e, unsigned fail_after);

/* 1 when trees a and b have the same names, kinds, modes, symlink targets and bytes; prints the difference otherwise. */
int tx_same_tree(const char *a, const char *b);
/* Copies a tree with cp -a. */
void tx_copy_tree(const char *from, const char *to);

/* The per-bundle state directory (state/bundles/<key>), malloc'd. */
char *tx_state_subdir(const struct tx_env *e);
/* 1 when state has a zlib blob for the file at path (named by its sha256 per openssl) that python3 decompresses to the same bytes. */
int tx_blob_matches(const char *store_dir, const char *path);

/* Runs fn(ctx) in a child with fail_after; returns the wait status. */
int tx_fork(int (*fn)(void *ctx, unsigned fail_after), void *ctx, unsigned fail_after);

/* Writes bytes to a file (test helper, not atomic). */
void tx_write(const char *path, const char *s);

#endif
