/*
 * mo_file.h - read-only model of a Mach-O file: fat or thin, validated.
 *
 * mo_file_parse() does the whole structural pass before returning: fat header
 * and slices (in range, aligned, not overlapping, no duplicate arch, a hidden
 * arm64 entry detected), and for each 64-bit little-endian slice the mach
 * header, every load command (cmdsize, strings NUL-terminated inside their
 * command, segments/sections and __LINKEDIT ranges inside the slice, load
 * commands not overlapping section data).  32-bit and big-endian slices are
 * kept as "unsupported" with their header fields and a reason; a fat file with
 * such slices still parses.  Anything malformed fails the whole parse with one
 * message naming the slice, load command index and offset.
 *
 * Only the mach header and load commands of each slice are held in memory;
 * section and __LINKEDIT contents are read on demand from the source.
 *
 * Ownership: *out is owned by the caller (mo_file_free).  Every pointer inside
 * (strings, arrays) is borrowed from the mo_file and lives until mo_file_free.
 * The ut_src passed in is borrowed and must outlive the mo_file.
 */
#ifndef MO_FILE_H
#define MO_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "ut_buf.h"
#include "ut_file.h"

/* One validated load command. */
struct mo_lc {
	uint32_t cmd;
	uint32_t cmdsize;
	uint32_t off; /* offset of the command from the start of the slice */
};

struct mo_section {
	char sectname[17];
	char segname[17];
	uint64_t addr, size;
	uint32_t offset, align, reloff, nreloc, flags;
	uint32_t reserved1, reserved2, reserved3;
	uint32_t seg_index;
};

struct mo_segment {
	char segname[17];
	uint64_t vmaddr, vmsize, fileoff, filesize;
	uint32_t maxprot, initprot, nsects, flags;
	uint32_t lc_index;
	uint32_t first_section; /* index into mo_image.sections */
};

/* A dylib load command: LC_ID_DYLIB or a dependency. */
struct mo_dylib {
	uint32_t lc_index;
	uint32_t cmd; /* LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB, LC_LOAD_UPWARD_DYLIB, LC_LAZY_LOAD_DYLIB, LC_ID_DYLIB */
	const char *name;
	uint32_t name_offset; /* lc_str offset inside the command */
	uint32_t timestamp, current_version, compat_version;
};

struct mo_rpath {
	uint32_t lc_index;
	const char *path;
	uint32_t path_offset;
};

/* A __LINKEDIT-style data range (linkedit_data_command and friends). */
struct mo_range {
	uint32_t off;
	uint32_t size;
};

/* A validated 64-bit little-endian slice. */
struct mo_image {
	uint32_t magic, cputype, cpusubtype, filetype, ncmds, sizeofcmds, flags, reserved;
	uint64_t size;          /* slice size in bytes */
	uint8_t *hdr;           /* copy of [0, 32 + sizeofcmds) of the slice; owned */

	struct mo_lc *lcs;      /* ncmds entries */
	struct mo_segment *segments;
	uint32_t nsegments;
	struct mo_section *sections;
	uint32_t nsections;

	struct mo_dylib *deps;  /* dependencies in load-command order (ordinal = index + 1) */
	uint32_t ndeps;
	int has_id;
	struct mo_dylib id;     /* valid when has_id */
	struct mo_rpath *rpaths;
	uint32_t nrpaths;

	int has_uuid;
	uint8_t uuid[16];
	/* Platform and versions from LC_BUILD_VERSION, else LC_VERSION_MIN_* (platform derived). */
	uint32_t version_cmd;   /* 0 when neither is present */
	uint32_t platform, minos, sdk;

	int has_codesig;
	uint32_t codesig_lc;    /* load command index */
	struct mo_range codesig;
	int linkedit_seg;       /* index into segments or -1 */
	int text_seg;           /* index of __TEXT or -1 */

	int has_symtab;
	uint32_t symoff, nsyms, stroff, strsize;
	int has_dyld_info;
	struct mo_range rebase, bind, weak_bind, lazy_bind, export_info;
	int has_chained_fixups;
	struct mo_range chained_fixups;
	int has_exports_trie;
	struct mo_range exports_trie;
	int has_main;
	uint64_t entryoff;

	uint64_t cmds_end;      /* 32 + sizeofcmds */
	uint64_t pad_limit;     /* load commands may grow up to here (first section data etc.) */
};

enum mo_slice_kind {
	MO_SLICE_MACHO64 = 1,  /* parsed: img set */
	MO_SLICE_UNSUPPORTED,  /* 32-bit or big-endian: header fields only */
};

struct mo_slice {
	enum mo_slice_kind kind;
	uint32_t cputype, cpusubtype; /* from the mach header (thin) or fat_arch */
	uint64_t offset, size;        /* slice range in the file */
	uint32_t align;               /* fat_arch.align (0 for thin) */
	/* Header fields of unsupported slices (byte order fixed up). */
	uint32_t filetype, ncmds, sizeofcmds, flags;
	int big_endian, bits;         /* 32 or 64 */
	const char *reason;           /* unsupported: why (static string) */
	struct mo_image *img;         /* MO_SLICE_MACHO64 only */
};

struct mo_file {
	const struct ut_src *src;     /* borrowed */
	uint32_t fat;                 /* 0 thin, FAT_MAGIC or FAT_MAGIC_64 */
	uint32_t nfat_arch;
	struct mo_slice *slices;
	uint32_t nslices;
	/* dyld also loads an arm64 fat_arch placed just after the last counted entry. */
	int hidden_arm64;
	uint64_t hidden_offset, hidden_size;
	uint32_t hidden_cpusubtype;
};

/* Parses and validates src.  On error *out is NULL and the message names the defect. */
int mo_file_parse(const struct ut_src *src, struct mo_file **out);
void mo_file_free(struct mo_file *f);
/*
 * Opens the file at path and parses it (the reader's messages name the file).
 * On success the caller owns *src and *out and releases both with
 * mo_file_close; on failure nothing is left open and *out is NULL.
 */
/* One fat_arch entry of a universal file being written. */
struct mo_fat_entry {
	uint32_t cputype, cpusubtype;
	uint64_t offset, size;
	uint32_t align; /* log2 */
};
/*
 * Appends a fat header with magic FAT_MAGIC or FAT_MAGIC_64 and its n
 * fat_arch(_64) entries to out (big-endian).  UT_EUNSUPPORTED when a 32-bit
 * header cannot hold an offset or size.
 */
int mo_fat_header_append(struct ut_buf *out, uint32_t magic, const struct mo_fat_entry *e, uint32_t n);
int mo_file_open(const char *path, struct ut_src *src, struct mo_file **out);
void mo_file_close(struct ut_src *src, struct mo_file *f);

/* "arm64", "arm64e", "x86_64", "x86_64h", "i386", "ppc", ... or "cputype 0x..,0x.." */
const char *mo_arch_name(uint32_t cputype, uint32_t cpusubtype, char buf[32]);
/* "LC_RPATH", ... or NULL for an unknown command */
const char *mo_lc_name(uint32_t cmd);
/* "execute", "dylib", "bundle", ... */
const char *mo_filetype_name(uint32_t filetype);
/* "macos", "ios", ... */
const char *mo_platform_name(uint32_t platform);
/* Formats a packed X.Y.Z version (xxxx.yy.zz nibbles) into buf. */
const char *mo_version_str(uint32_t v, char buf[24]);
/* True for the dependency load commands (load, weak, reexport, upward, lazy). */
int mo_is_dep_cmd(uint32_t cmd);

/* Reads bytes of slice s at slice-relative offset off (bounds-checked against the slice). */
int mo_slice_read(const struct mo_file *f, const struct mo_slice *s, uint64_t off, void *buf, size_t len);
/* The slice for an arch name ("arm64"), or NULL. */
const struct mo_slice *mo_file_find_arch(const struct mo_file *f, const char *arch);
/*
 * The slice a Mac of host_arch runs (codesign's choice, spec §1.15c): the
 * slice named host_arch ("arm64", "x86_64"; NULL: "arm64"), else the first of
 * the same CPU type, else the first slice; NULL only when f has no slice.
 */
const struct mo_slice *mo_file_host_slice(const struct mo_file *f, const char *host_arch);

#endif
