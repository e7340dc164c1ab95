/*
 * tdemo.h - the signed demo UTM.app (testdata/demo/build-demo.sh), built
 * once per build of the binary under test and shared by the tests that
 * install into copies of it.  Tests only.
 *
 * The bundle lives in $UTMPATCH_FIXTURES/../test-demo/UTM.app (build/ or
 * build/san/); a stamp records the size and mtime of $UTMPATCH_BIN and of the
 * recipe files, so a new binary or recipe rebuilds it.  Concurrent test
 * processes serialize on an flock.
 */
#ifndef TDEMO_H
#define TDEMO_H

/* Path of the shared, pristine demo UTM.app (static storage); aborts the test on failure. */
const char *tdemo_app(void);

/* A fresh copy: <dir>/UTM.app (malloc'd path).  dir must exist. */
char *tdemo_copy(const char *dir);

/* SHA-256 over every path, kind, mode, symlink target and file content under dir (lowercase hex, 65 bytes). */
int tdemo_tree_hash(const char *dir, char out[65]);

#endif
