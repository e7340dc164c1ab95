/*
 * ut_macho_edit.h - apply an install_name_tool edit plan to a file, atomically.
 *
 * The plan is checked against every slice first (mo_edit_check); then the
 * output is streamed to a temp file next to the destination and renamed over
 * it.  A slice with a linker signature gets it regenerated exactly as
 * llvm-install-name-tool does (identifier = the output file's name); any other
 * signature is kept byte for byte and reported as invalidated.
 */
#ifndef UT_MACHO_EDIT_H
#define UT_MACHO_EDIT_H

#include <stddef.h>

#include "mo_edit.h"
#include "ut_limits.h"

enum ut_edit_sig {
	UT_EDIT_SIG_NONE = 0,     /* slice has no signature */
	UT_EDIT_SIG_REGENERATED,  /* linker signature rewritten */
	UT_EDIT_SIG_INVALIDATED,  /* ad-hoc or certificate signature left stale: re-sign */
	UT_EDIT_SIG_UNCHANGED,    /* signature kept and still valid (slice bytes unchanged) */
};

struct ut_edit_report {
	uint32_t nslices;
	struct {
		char arch[32];
		int changed;
		enum ut_edit_sig sig;
	} slices[UT_MAX_SLICES];
};

/* Edits in (written to out, or in place when out is NULL). */
int ut_macho_edit(const char *in, const char *out, const struct mo_edit *edits, size_t n,
		  struct ut_edit_report *rep);

#endif
