/*
 * mo_edit.h - install_name_tool edits: plan, check, produce new load commands.
 *
 * An edit list is one plan.  mo_edit_check() validates it against the whole
 * file (conflicting options, missing rpaths, duplicates, -id on a non-dylib,
 * unsupported or hidden slices, header padding too small) before anything is
 * written.  mo_edit_slice() then builds the slice's new mach header + load
 * commands; everything after them in the slice is unchanged.
 *
 * Semantics follow install_name_tool / llvm-install-name-tool:
 *   CHANGE old new   every dependency command (load, weak, reexport, upward,
 *                    lazy) whose name is old gets new; none matching is not an error
 *   ID name          LC_ID_DYLIB (dylibs only)
 *   ADD_RPATH p      new LC_RPATH appended after the last load command; p must not exist
 *   DELETE_RPATH p   every LC_RPATH with path p removed; p must exist
 *   RPATH old new    LC_RPATH old renamed in place; old must exist, new must not
 * An edited command is rewritten with its string at the standard offset and
 * cmdsize = align8(fixed size + strlen + 1), zero padded.  Unlike
 * llvm-install-name-tool-14, load commands that would overlap section data are
 * refused (as Apple's install_name_tool does), naming bytes needed and available.
 */
#ifndef MO_EDIT_H
#define MO_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "mo_file.h"

enum mo_edit_op {
	MO_EDIT_CHANGE = 1,
	MO_EDIT_ID,
	MO_EDIT_ADD_RPATH,
	MO_EDIT_DELETE_RPATH,
	MO_EDIT_RPATH,
};

struct mo_edit {
	enum mo_edit_op op;
	const char *a; /* old name / id / path */
	const char *b; /* new name (CHANGE, RPATH) */
};

/* Checks the plan against every slice of f; 0 when it can be applied as a whole. */
int mo_edit_check(const struct mo_file *f, const struct mo_edit *edits, size_t n);

/*
 * Builds the new [0, 32 + new sizeofcmds) of one slice into *out (malloc'd,
 * caller frees).  *changed says whether anything differs.  Assumes
 * mo_edit_check() passed; still re-checks the padding.
 */
int mo_edit_slice(const struct mo_image *img, const struct mo_edit *edits, size_t n, const char *where,
		  uint8_t **out, size_t *out_len, int *changed);

#endif
