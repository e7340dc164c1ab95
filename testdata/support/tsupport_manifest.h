/*
 * tsupport_manifest.h - lists of corpus files derived from the corpus's own
 * MANIFEST.tsv ($UTMPATCH_CORPUS/MANIFEST.tsv) instead of lists kept by hand
 * in each suite (tests only).
 *
 * A row is a Mach-O file when its what_it_is column (7) describes slices
 * ("x86_64/execute CD0x20400 ...", "FAT i386/dylib ... | x86_64/dylib ...",
 * "arm64/execute unsigned ..."; parsed by tmanifest.h); it is signed when
 * some slice has a CodeDirectory ("CD0x....").  Bundles, plists, profiles and
 * VM configs are not Mach-O rows.
 */
#ifndef TSUPPORT_MANIFEST_H
#define TSUPPORT_MANIFEST_H

#include <stddef.h>

enum tsm_kind {
	TSM_MACHO,        /* every Mach-O file, signed or not (incl. an empty LC_CODE_SIGNATURE) */
	TSM_MACHO_SIGNED, /* Mach-O files with a CodeDirectory in at least one slice */
};

/*
 * Corpus-relative paths of the rows of one kind, in MANIFEST order,
 * NULL-terminated (static storage, read once per process); *n (may be NULL)
 * gets the count.  An unreadable MANIFEST gives an empty list: callers
 * assert a minimum count so that a broken parse cannot test nothing.
 */
const char *const *tsm_paths(enum tsm_kind kind, size_t *n);
/* The same list; the test fails when it has fewer than min entries (what: "Mach-O files", for the message). */
const char *const *tsm_paths_min(enum tsm_kind kind, size_t min, const char *what);

#endif
