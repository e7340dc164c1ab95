/* test_bverify_util.h - helpers for the deep bundle verification tests (tests only). */
#ifndef TEST_BVERIFY_UTIL_H
#define TEST_BVERIFY_UTIL_H

#include "cs_bverify.h"

/* Verifies (asserting the checks ran). Caller releases r. */
void tbv_verify(struct cs_bverify_result *r, const char *path, unsigned flags, const struct cs_trust *trust);
/* The component at rel (asserts that there is one). */
const struct cs_bverify_component *tbv_comp(const struct cs_bverify_result *r, const char *rel);
/* The first reason of problem p (path NULL: any path; "" : the component itself), or NULL. */
const struct cs_bverify_reason *tbv_reason(const struct cs_bverify_component *c, enum cs_bverify_problem p,
					   const char *path);
/* Every failure of every component, one per line, for assertion messages (static buffer). */
const char *tbv_dump(const struct cs_bverify_result *r);
/* Number of failure reasons over all components. */
size_t tbv_failures(const struct cs_bverify_result *r);

#endif
