/* cs_verify_priv.h - the verifier's internal steps (cs_verify.c drives them; cs_verify_code.c implements the checks). */
#ifndef CS_VERIFY_PRIV_H
#define CS_VERIFY_PRIV_H

#include "cs_embedded.h"
#include "cs_verify.h"
#include "ut_err.h"

/* Records a finding (dropped, and counted, past CS_VERIFY_MAX_FINDINGS). */
void cs_vs_add(struct cs_verify_slice *vs, enum cs_problem p, const char *fmt, ...) UT_PRINTF(3, 4);

/* Code pages of every CodeDirectory; fills vs->cds[].pages/pages_bad/bad. Fails only on I/O or memory. */
int cs_verify_pages(struct cs_verify_slice *vs, const struct mo_file *f, const struct mo_slice *s,
		    const struct cs_embedded *e, unsigned nthreads);
/* Special slots of every CodeDirectory against what they cover. Fails only on I/O or memory. */
int cs_verify_specials(struct cs_verify_slice *vs, const struct mo_file *f, const struct mo_slice *s,
		       const struct cs_slice_layout *lay, const struct cs_embedded *e, const struct cs_verify_opts *o);
/* Entitlement blobs decode; XML and DER agree (note). Fails only on memory. */
int cs_verify_entitlements(struct cs_verify_slice *vs, const struct cs_embedded *e);
/* __LINKEDIT to the end of the slice, the signature inside it, code limits at the signature. */
void cs_verify_structure(struct cs_verify_slice *vs, const struct cs_slice_layout *lay, const struct cs_embedded *e);

#endif
