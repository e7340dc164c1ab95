/*
 * test_bsign_util.h - helpers for the bundle-signing suites: verifying each
 * signed component with the verifier and the seal checker, digests computed
 * with OpenSSL directly (not cs_hash), the test identity, and comparing
 * directory trees file by file.
 */
#ifndef TEST_BSIGN_UTIL_H
#define TEST_BSIGN_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "cs_bsign.h"
#include "cs_pki.h"

/* The TEST-ONLY Developer ID identity (testdata/keys/identity.p12), its root listed as an anchor. */
struct cs_identity *bs_identity(void);

/*
 * Checks one signed component: a bundle's main executable with cs_verify_file
 * given its Info.plist and CodeResources bytes (every slice valid, slots -1
 * and -3 matched), and cs_seal_verify_bundle (strict, deep) with no finding;
 * a bare Mach-O file with cs_verify_file.  trust may be NULL.  Failures are
 * reported with cr_expect and counted in the return value.
 */
int bs_expect_valid(const char *path, int is_bundle, const struct cs_trust *trust);
/* The same checks without reporting: how many failed. */
int bs_count_invalid(const char *path, int is_bundle, const struct cs_trust *trust);

/* Findings of cs_seal_verify_bundle (strict, deep) for the bundle at path, as "problem path" lines (malloc'd). */
char *bs_seal_findings(const char *path, size_t *n);

/* SHA-1 (20) or SHA-256 (32) of a file, with OpenSSL EVP. */
void bs_sha1_file(const char *path, uint8_t out[20]);
void bs_sha256_file(const char *path, uint8_t out[32]);

/* The regular files under dir, relative, sorted, one per line (malloc'd). */
char *bs_list_files(const char *dir);
/* How many regular files under a are byte-identical at the same path under b; *total receives their count. */
size_t bs_count_identical(const char *a, const char *b, size_t *total);


/* The demo bundle built into a fresh temp dir (build-demo.sh with UTMPATCH_BIN); returns ".../UTM.app". */
char *bs_demo_build(void);
/* Removes the temp dir of bs_demo_build (or of any path "<tmp>/X"); frees app. */
void bs_demo_cleanup(char *app);

/*
 * The payload of the XML entitlements blob (slot 5) of the slice arch, from a
 * bounded SuperBlob walk done here; NULL (and *len 0) when the slice has none.
 */
uint8_t *bs_entitlements_xml(const char *macho, const char *arch, size_t *len);
/* Whether any slice's SuperBlob has a blob in slot `slot`. */
int bs_has_slot(const char *macho, uint32_t slot);

#endif
