/*
 * cs_linker.h - the linker signature lld / llvm-objcopy write.
 *
 * Layout (LLVM lld/MachO/SyntheticSections.cpp CodeSignatureSection, kept in
 * sync with llvm-objcopy's MachOWriter): a SuperBlob with one index entry,
 * header padded to 24 bytes; a version 0x20400 CodeDirectory with flags
 * adhoc|linker-signed, no special slots, SHA-256 hashes of 4096-byte pages of
 * [0, code_limit), the identifier zero-padded so that the hashes start on a
 * 16-byte boundary of the signature; execSeg = __TEXT fileoff/filesize,
 * MAIN_BINARY for executables.
 */
#ifndef CS_LINKER_H
#define CS_LINKER_H

#include <stddef.h>
#include <stdint.h>

#include "ut_buf.h"
#include "ut_file.h"

struct cs_linker_params {
	const char *identifier;
	uint64_t code_limit;     /* = LC_CODE_SIGNATURE.dataoff (slice-relative) */
	uint64_t exec_seg_base;  /* __TEXT fileoff */
	uint64_t exec_seg_limit; /* __TEXT filesize */
	int main_binary;         /* MH_EXECUTE */
};

/* Size in bytes of the signature for these parameters. */
uint64_t cs_linker_sig_size(const char *identifier, uint64_t code_limit);

/*
 * Appends the signature to out, hashing the slice bytes [base, base+code_limit)
 * of src (already in their final form).
 */
int cs_linker_sig_build(const struct ut_src *src, uint64_t base, const struct cs_linker_params *p,
			struct ut_buf *out);

#endif
