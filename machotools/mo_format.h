/*
 * mo_format.h - Mach-O format constants, with Apple's names.
 *
 * Source: Apple's <mach-o/loader.h>, <mach-o/fat.h>, <mach/machine.h>
 * (cctools / xnu open source).  Values are facts of the format; no Apple
 * header is included, so this builds anywhere.
 */
#ifndef MO_FORMAT_H
#define MO_FORMAT_H

/* Magic numbers (as read little-endian from the first 4 bytes, except fat). */
#define MH_MAGIC     0xfeedfaceu /* 32-bit, host (little) endian */
#define MH_CIGAM     0xcefaedfeu /* 32-bit, swapped (big endian file) */
#define MH_MAGIC_64  0xfeedfacfu
#define MH_CIGAM_64  0xcffaedfeu
#define FAT_MAGIC    0xcafebabeu /* read big-endian */
#define FAT_MAGIC_64 0xcafebabfu

#define MO_MACH_HEADER_SIZE    28u
#define MO_MACH_HEADER_64_SIZE 32u
#define MO_FAT_HEADER_SIZE     8u
#define MO_FAT_ARCH_SIZE       20u
#define MO_FAT_ARCH_64_SIZE    32u

/* CPU types and subtypes. */
#define CPU_ARCH_ABI64     0x01000000u
#define CPU_ARCH_ABI64_32  0x02000000u
#define CPU_TYPE_X86       7u
#define CPU_TYPE_I386      CPU_TYPE_X86
#define CPU_TYPE_X86_64    (CPU_TYPE_X86 | CPU_ARCH_ABI64)
#define CPU_TYPE_ARM       12u
#define CPU_TYPE_ARM64     (CPU_TYPE_ARM | CPU_ARCH_ABI64)
#define CPU_TYPE_ARM64_32  (CPU_TYPE_ARM | CPU_ARCH_ABI64_32)
#define CPU_TYPE_POWERPC   18u
#define CPU_TYPE_POWERPC64 (CPU_TYPE_POWERPC | CPU_ARCH_ABI64)
#define CPU_SUBTYPE_MASK   0xff000000u
#define CPU_SUBTYPE_LIB64  0x80000000u
#define CPU_SUBTYPE_PTRAUTH_ABI 0x80000000u
#define CPU_SUBTYPE_ARM64_ALL 0u
#define CPU_SUBTYPE_ARM64_V8  1u
#define CPU_SUBTYPE_ARM64E    2u
#define CPU_SUBTYPE_X86_64_ALL 3u
#define CPU_SUBTYPE_X86_64_H   8u

/* File types. */
#define MH_OBJECT      0x1u
#define MH_EXECUTE     0x2u
#define MH_FVMLIB      0x3u
#define MH_CORE        0x4u
#define MH_PRELOAD     0x5u
#define MH_DYLIB       0x6u
#define MH_DYLINKER    0x7u
#define MH_BUNDLE      0x8u
#define MH_DYLIB_STUB  0x9u
#define MH_DSYM        0xau
#define MH_KEXT_BUNDLE 0xbu
#define MH_FILESET     0xcu

/* Header flags. */
#define MH_NOUNDEFS   0x1u
#define MH_DYLDLINK   0x4u
#define MH_TWOLEVEL   0x80u
#define MH_PIE        0x200000u

/* Load commands. */
#define LC_REQ_DYLD 0x80000000u
#define LC_SEGMENT                 0x1u
#define LC_SYMTAB                  0x2u
#define LC_SYMSEG                  0x3u
#define LC_THREAD                  0x4u
#define LC_UNIXTHREAD              0x5u
#define LC_LOADFVMLIB              0x6u
#define LC_IDFVMLIB                0x7u
#define LC_IDENT                   0x8u
#define LC_FVMFILE                 0x9u
#define LC_PREPAGE                 0xau
#define LC_DYSYMTAB                0xbu
#define LC_LOAD_DYLIB              0xcu
#define LC_ID_DYLIB                0xdu
#define LC_LOAD_DYLINKER           0xeu
#define LC_ID_DYLINKER             0xfu
#define LC_PREBOUND_DYLIB          0x10u
#define LC_ROUTINES                0x11u
#define LC_SUB_FRAMEWORK           0x12u
#define LC_SUB_UMBRELLA            0x13u
#define LC_SUB_CLIENT              0x14u
#define LC_SUB_LIBRARY             0x15u
#define LC_TWOLEVEL_HINTS          0x16u
#define LC_PREBIND_CKSUM           0x17u
#define LC_LOAD_WEAK_DYLIB         (0x18u | LC_REQ_DYLD)
#define LC_SEGMENT_64              0x19u
#define LC_ROUTINES_64             0x1au
#define LC_UUID                    0x1bu
#define LC_RPATH                   (0x1cu | LC_REQ_DYLD)
#define LC_CODE_SIGNATURE          0x1du
#define LC_SEGMENT_SPLIT_INFO      0x1eu
#define LC_REEXPORT_DYLIB          (0x1fu | LC_REQ_DYLD)
#define LC_LAZY_LOAD_DYLIB         0x20u
#define LC_ENCRYPTION_INFO         0x21u
#define LC_DYLD_INFO               0x22u
#define LC_DYLD_INFO_ONLY          (0x22u | LC_REQ_DYLD)
#define LC_LOAD_UPWARD_DYLIB       (0x23u | LC_REQ_DYLD)
#define LC_VERSION_MIN_MACOSX      0x24u
#define LC_VERSION_MIN_IPHONEOS    0x25u
#define LC_FUNCTION_STARTS         0x26u
#define LC_DYLD_ENVIRONMENT        0x27u
#define LC_MAIN                    (0x28u | LC_REQ_DYLD)
#define LC_DATA_IN_CODE            0x29u
#define LC_SOURCE_VERSION          0x2au
#define LC_DYLIB_CODE_SIGN_DRS     0x2bu
#define LC_ENCRYPTION_INFO_64      0x2cu
#define LC_LINKER_OPTION           0x2du
#define LC_LINKER_OPTIMIZATION_HINT 0x2eu
#define LC_VERSION_MIN_TVOS        0x2fu
#define LC_VERSION_MIN_WATCHOS     0x30u
#define LC_NOTE                    0x31u
#define LC_BUILD_VERSION           0x32u
#define LC_DYLD_EXPORTS_TRIE       (0x33u | LC_REQ_DYLD)
#define LC_DYLD_CHAINED_FIXUPS     (0x34u | LC_REQ_DYLD)
#define LC_FILESET_ENTRY           (0x35u | LC_REQ_DYLD)
#define LC_ATOM_INFO               0x36u

/* Section types / attributes. */
#define SECTION_TYPE       0x000000ffu
#define S_ZEROFILL         0x1u
#define S_GB_ZEROFILL      0xcu
#define S_THREAD_LOCAL_ZEROFILL 0x12u

/* Platforms (LC_BUILD_VERSION). */
#define PLATFORM_MACOS 1u
#define PLATFORM_IOS 2u
#define PLATFORM_TVOS 3u
#define PLATFORM_WATCHOS 4u
#define PLATFORM_BRIDGEOS 5u
#define PLATFORM_MACCATALYST 6u
#define PLATFORM_IOSSIMULATOR 7u
#define PLATFORM_TVOSSIMULATOR 8u
#define PLATFORM_WATCHOSSIMULATOR 9u
#define PLATFORM_DRIVERKIT 10u
#define PLATFORM_VISIONOS 11u
#define PLATFORM_VISIONOSSIMULATOR 12u

/* Fixed command sizes (64-bit). */
#define MO_SEGMENT_64_SIZE   72u
#define MO_SECTION_64_SIZE   80u
#define MO_DYLIB_CMD_SIZE    24u
#define MO_RPATH_CMD_SIZE    12u
#define MO_LINKEDIT_CMD_SIZE 16u

#endif
