/*
 * cs_sign.h - sign a Mach-O file (thin or fat) the way `codesign --force
 * --sign` does (ad-hoc or with an identity), or with lld's linker signature.
 *
 * Facts: codesign-spec.md §1 (1.4, 1.9-1.15c), checked against Apple's
 * Security sources (signer.cpp prepare/populate/signMachO, machorep.cpp,
 * codesign_alloc.cpp, signerutils.cpp) and against real codesign output in
 * the corpus.  What this writes, slice by slice (64-bit little-endian only):
 *
 *  - LC_CODE_SIGNATURE reserved as codesign_allocate does: 12 + 8*count +
 *    the non-CodeDirectory blobs + every CodeDirectory sized as version
 *    0x20500 + cms_size (default 18000), aligned up to 16.  An existing
 *    command must point to the end of the slice (within 7 bytes) and keeps
 *    its dataoff; a missing one is appended after the last load command
 *    (dataoff = size aligned to 16) when the header padding has room.
 *    __LINKEDIT filesize = new slice size - fileoff, vmsize = filesize
 *    rounded up to 0x4000 (every architecture: codesign_alloc.cpp and
 *    corpus adhoc/InsecurePasswordStore-x86_64 agree).
 *  - The SuperBlob in Apple's layout at dataoff.  Bytes of the reserved area
 *    after it keep what the input had at those offsets (codesign_allocate
 *    copies the slice and only the blob is written over it); past the input's
 *    end they are zero.
 *  - Fat files re-laid out like codesign_allocate: first slice at 0x4000,
 *    each next one at the next 16 KiB boundary, fat_arch.align = 14.
 *  - Page hashes over [0, dataoff) of the output slice (load commands
 *    included): pages holding the new header or the zero tail are composed
 *    in memory, the rest is hashed from the input (parallel, streamed,
 *    cs_hash_pages) while a second thread copies it to the temp file and
 *    flushes it; memory stays bounded (~16 MiB of buffers + page hashes).
 *
 * Metadata (SEC signer.cpp prepare):
 *  - identifier: explicit; else preserved (CS_PRESERVE_IDENTIFIER, never
 *    from a linker signature); else CFBundleIdentifier of info_plist (the
 *    caller's bundle Info.plist) or of the main slice's __TEXT,__info_plist;
 *    else cs_canonical_identifier(name), and when it has no '.' and the
 *    signature is ad-hoc: "-" + hex("UUID" + LC_UUID) of the main slice (or
 *    of SHA-1(mach header[0,28) + load commands) when there is no LC_UUID).
 *  - main slice: codesign takes preserved metadata, the embedded Info.plist
 *    and the identifier suffix from the slice the signing host prefers.  We
 *    pick deterministically: the slice named host_arch (default "arm64",
 *    an Apple silicon host), else the first slice of the same CPU type,
 *    else the first slice.  ("x86_64" reproduces Intel-host output.)
 *  - hash types (SEC machorep.cpp prepareForSigning, macOS 26): SHA-1 +
 *    SHA-256 (SHA-1 CodeDirectory in slot 0, SHA-256 in 0x1000) when any
 *    slice has macOS minos < 10.11.4, iOS/tvOS < 11.0 or watchOS < 12.0;
 *    otherwise SHA-256 only.  Every slice uses the same set.
 *  - flags: explicit (flags_given) replace everything; else CSFlags of the
 *    Info.plist; else preserved flags (adhoc dropped) / preserved runtime
 *    bit; then adhoc for ad-hoc signatures, runtime when asked.
 *  - runtime version (0x10000 flag set): preserved per slice and hash type
 *    when CS_PRESERVE_RUNTIME, else the slice's SDK; non-zero forces 0x20500.
 *  - entitlements: XML blob 0xfade7171 (payload = the bytes given, or the
 *    preserved blob) + DER blob 0xfade7172 (Apple's form), on MH_EXECUTE
 *    slices only; true booleans add exec-segment flags.
 *  - execSeg base/limit = __TEXT fileoff/filesize and flags MAIN_BINARY
 *    (MH_EXECUTE) only when the slice has a platform.
 *  - requirements: the empty set (ad-hoc), or the designated requirement
 *    codesign derives for the identity's chain (nested `and` to the right).
 *  - identity: CMS over the slot-0 CodeDirectory (cs_cms_sign: SHA-256,
 *    full chain, signingTime, both cdhash attributes); team ID = leaf OU for
 *    Apple developer chains (Developer ID / Apple Development, or a listed
 *    test anchor standing in for Apple), as codesign's getTeamIDFromSigner.
 *    The CMS must fit the reservation; cms_size grows when a trial
 *    signature shows it would not.
 *
 * linker_signed writes lld's form instead (cs_linker.h): SHA-256 over 4 KiB
 * pages, exact signature size, identifier = explicit or the file name,
 * __LINKEDIT vmsize = filesize (what lld-14 writes); a fat file keeps each
 * slice aligned to its own fat_arch.align.
 *
 * Refused (nothing written, input untouched): 32-bit or big-endian slices,
 * a hidden arm64 fat entry, file types other than execute / dylib / bundle
 * / kext bundle / dylinker, no __LINKEDIT, LC_CODE_SIGNATURE not at the end,
 * no room for a new LC_CODE_SIGNATURE ("not enough room in load commands to
 * add LC_CODE_SIGNATURE"; codesign's own check ignores the 32-byte mach
 * header and would overwrite section data), LC_DYLIB_CODE_SIGN_DRS (library
 * requirements are not built), slices over 4 GiB.
 *
 * Nothing here prints.
 */
#ifndef CS_SIGN_H
#define CS_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "cs_format.h"
#include "cs_pki.h"
#include "ut_limits.h"

/* What --preserve-metadata keeps from the existing (non-linker) signature. */
enum {
	CS_PRESERVE_IDENTIFIER = 1u << 0,
	CS_PRESERVE_ENTITLEMENTS = 1u << 1,
	CS_PRESERVE_FLAGS = 1u << 2,
	CS_PRESERVE_RUNTIME = 1u << 3,
};

/* Parses "identifier,entitlements,flags,runtime" (any subset, comma-separated). */
int cs_preserve_parse(const char *list, unsigned *out);

/* A special-slot digest given directly (e.g. the Info.plist / CodeResources hash of a bundle). */
struct cs_slot_digest {
	unsigned slot;      /* 1..11 */
	unsigned hash_type; /* CS_HASHTYPE_*; used by the CodeDirectories of that type */
	uint8_t digest[CS_HASH_MAX_SIZE];
};

#define CS_SIGN_MAX_SLOT_DIGESTS 16
#define CS_SIGN_DEFAULT_CMS_SIZE 18000u

struct cs_sign_opts {
	const char *identifier;      /* explicit identifier, or NULL */
	const char *name;            /* file name for the canonical identifier; NULL: the destination's */
	const uint8_t *entitlements; /* entitlements plist bytes (XML or binary), or NULL */
	size_t entitlements_len;
	const uint8_t *info_plist;   /* bundle Info.plist bytes (slot 1, CFBundleIdentifier), or NULL */
	size_t info_plist_len;
	const uint8_t *resources;    /* CodeResources bytes (slot 3), or NULL */
	size_t resources_len;
	const struct cs_slot_digest *slot_digests; /* override / add special slots (after the above) */
	size_t nslot_digests;
	unsigned preserve;           /* CS_PRESERVE_* */
	int flags_given;             /* flags replaces preserved / Info.plist flags */
	uint32_t flags;              /* CS_* signable flags (hard, kill, expires, restrict, enforcement, library-validation, runtime) */
	int runtime;                 /* add CS_RUNTIME (codesign --options runtime) */
	unsigned page_size;          /* 0 or 4096; 16384: arm64 slices (not tvOS) as macOS 26 codesign */
	int linker_signed;           /* lld's linker signature instead */
	const struct cs_identity *identity; /* NULL: ad-hoc */
	int64_t signing_time;        /* identity: signingTime (seconds since the epoch); 0: now */
	const char *host_arch;       /* main slice preference; NULL: "arm64" */
	unsigned cms_size;           /* CMS allowance; 0: 18000 */
	unsigned nthreads;           /* page hashing threads; 0: automatic */
	const char *timestamp_url;   /* identity: RFC 3161 TSA (http://) asked per slice, cs_tsa.h; NULL: none */
};

#define CS_SIGN_IDENT_MAX 1024

struct cs_sign_slice_report {
	char arch[32];
	uint32_t cd_version;         /* of the slot-0 CodeDirectory */
	uint32_t cd_flags;
	unsigned hash_types[2];      /* slot 0 first */
	unsigned nhash;
	unsigned page_shift;
	uint8_t cdhash[CS_CDHASH_LEN]; /* of the best CodeDirectory (truncated) */
	uint64_t offset, size;       /* slice in the output */
	uint32_t sig_len, reserved;  /* SuperBlob length, LC_CODE_SIGNATURE datasize */
};

struct cs_sign_report {
	char identifier[CS_SIGN_IDENT_MAX];
	char team_id[CS_NAME_MAX];
	uint32_t nslices;
	struct cs_sign_slice_report slices[UT_MAX_SLICES];
};

/*
 * Signs in (a Mach-O file) into out, or in place when out is NULL or equals
 * in; atomic either way (temp file next to the destination, renamed over it).
 * rep (may be NULL) receives what was written.  On failure nothing is
 * written and one message names the file, slice and problem.
 */
int cs_sign_file(const char *in, const char *out, const struct cs_sign_opts *opts, struct cs_sign_report *rep);

/*
 * codesign's canonicalIdentifier (SEC diskrep.cpp): the last path component,
 * a final extension dropped unless it starts with a digit, then trailing
 * numeric version parts trimmed to the first ("foo.2.3.4" -> "foo.2",
 * "foo2.3" -> "foo2", "foo.9" -> "foo.9").  Names starting with a digit or
 * '.' are kept whole.  out receives at most n - 1 bytes; a longer result is
 * UT_EINVAL with a message.
 */
int cs_canonical_identifier(const char *name, char *out, size_t n);

/*
 * The CodeDirectory hash types codesign picks for a Mach-O file, slot 0
 * first: {SHA-1, SHA-256} when any slice targets macOS < 10.11.4, iOS/tvOS
 * < 11 or watchOS < 12 (SEC machorep.cpp prepareForSigning), else {SHA-256}.
 * Slices the reader leaves unsupported (32-bit, big-endian) do not count.
 * Returns how many types were written.
 */
struct mo_file;
unsigned cs_sign_hash_types(const struct mo_file *f, unsigned types[2]);

#endif
