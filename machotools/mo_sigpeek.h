/*
 * mo_sigpeek.h - what kind of code signature a slice carries, without judging it.
 *
 * Reads the signature data (up to UT_MAX_SIG_SIZE) and looks only at the
 * SuperBlob header, its index, the slot-0 CodeDirectory flags and the CMS
 * wrapper length (all bounds-checked).  Validity is signing/'s job.
 */
#ifndef MO_SIGPEEK_H
#define MO_SIGPEEK_H

#include "mo_file.h"

enum mo_sig_kind {
	MO_SIG_NONE = 0,      /* no LC_CODE_SIGNATURE */
	MO_SIG_LINKER,        /* CD flags has linker-signed (0x20000) */
	MO_SIG_ADHOC,         /* CD flags has adhoc (0x2), not linker-signed */
	MO_SIG_CERTIFICATE,   /* non-empty CMS blob */
	MO_SIG_UNREADABLE,    /* LC_CODE_SIGNATURE present but the data is not a readable signature */
};

struct mo_sig_peek {
	enum mo_sig_kind kind;
	uint32_t cd_flags;
	char detail[128];     /* for MO_SIG_UNREADABLE: why */
};

/* Never fails on bad signature data (that is reported as MO_SIG_UNREADABLE); fails only on I/O. */
int mo_sig_peek(const struct mo_file *f, const struct mo_slice *s, struct mo_sig_peek *out);
const char *mo_sig_kind_name(enum mo_sig_kind k);

#endif
