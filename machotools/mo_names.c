/* mo_names.c - names for architectures, load commands, file types, platforms. */
#include <stdio.h>
#include <string.h>

#include "mo_file.h"
#include "mo_format.h"

const char *mo_arch_name(uint32_t cputype, uint32_t cpusubtype, char buf[32])
{
	uint32_t sub = cpusubtype & ~CPU_SUBTYPE_MASK;
	switch (cputype) {
	case CPU_TYPE_ARM64:
		return sub == CPU_SUBTYPE_ARM64E ? "arm64e" : sub == CPU_SUBTYPE_ARM64_V8 ? "arm64v8" : "arm64";
	case CPU_TYPE_X86_64:
		return sub == CPU_SUBTYPE_X86_64_H ? "x86_64h" : "x86_64";
	case CPU_TYPE_I386:
		return "i386";
	case CPU_TYPE_ARM:
		return sub == 9 ? "armv7" : sub == 11 ? "armv7s" : sub == 12 ? "armv7k" : "arm";
	case CPU_TYPE_ARM64_32:
		return "arm64_32";
	case CPU_TYPE_POWERPC:
		return "ppc";
	case CPU_TYPE_POWERPC64:
		return "ppc64";
	}
	snprintf(buf, 32, "cputype 0x%x,0x%x", cputype, cpusubtype);
	return buf;
}

static const struct {
	uint32_t cmd;
	const char *name;
} lc_names[] = {
	{ LC_SEGMENT, "LC_SEGMENT" },
	{ LC_SYMTAB, "LC_SYMTAB" },
	{ LC_SYMSEG, "LC_SYMSEG" },
	{ LC_THREAD, "LC_THREAD" },
	{ LC_UNIXTHREAD, "LC_UNIXTHREAD" },
	{ LC_LOADFVMLIB, "LC_LOADFVMLIB" },
	{ LC_IDFVMLIB, "LC_IDFVMLIB" },
	{ LC_IDENT, "LC_IDENT" },
	{ LC_FVMFILE, "LC_FVMFILE" },
	{ LC_PREPAGE, "LC_PREPAGE" },
	{ LC_DYSYMTAB, "LC_DYSYMTAB" },
	{ LC_LOAD_DYLIB, "LC_LOAD_DYLIB" },
	{ LC_ID_DYLIB, "LC_ID_DYLIB" },
	{ LC_LOAD_DYLINKER, "LC_LOAD_DYLINKER" },
	{ LC_ID_DYLINKER, "LC_ID_DYLINKER" },
	{ LC_PREBOUND_DYLIB, "LC_PREBOUND_DYLIB" },
	{ LC_ROUTINES, "LC_ROUTINES" },
	{ LC_SUB_FRAMEWORK, "LC_SUB_FRAMEWORK" },
	{ LC_SUB_UMBRELLA, "LC_SUB_UMBRELLA" },
	{ LC_SUB_CLIENT, "LC_SUB_CLIENT" },
	{ LC_SUB_LIBRARY, "LC_SUB_LIBRARY" },
	{ LC_TWOLEVEL_HINTS, "LC_TWOLEVEL_HINTS" },
	{ LC_PREBIND_CKSUM, "LC_PREBIND_CKSUM" },
	{ LC_LOAD_WEAK_DYLIB, "LC_LOAD_WEAK_DYLIB" },
	{ LC_SEGMENT_64, "LC_SEGMENT_64" },
	{ LC_ROUTINES_64, "LC_ROUTINES_64" },
	{ LC_UUID, "LC_UUID" },
	{ LC_RPATH, "LC_RPATH" },
	{ LC_CODE_SIGNATURE, "LC_CODE_SIGNATURE" },
	{ LC_SEGMENT_SPLIT_INFO, "LC_SEGMENT_SPLIT_INFO" },
	{ LC_REEXPORT_DYLIB, "LC_REEXPORT_DYLIB" },
	{ LC_LAZY_LOAD_DYLIB, "LC_LAZY_LOAD_DYLIB" },
	{ LC_ENCRYPTION_INFO, "LC_ENCRYPTION_INFO" },
	{ LC_DYLD_INFO, "LC_DYLD_INFO" },
	{ LC_DYLD_INFO_ONLY, "LC_DYLD_INFO_ONLY" },
	{ LC_LOAD_UPWARD_DYLIB, "LC_LOAD_UPWARD_DYLIB" },
	{ LC_VERSION_MIN_MACOSX, "LC_VERSION_MIN_MACOSX" },
	{ LC_VERSION_MIN_IPHONEOS, "LC_VERSION_MIN_IPHONEOS" },
	{ LC_FUNCTION_STARTS, "LC_FUNCTION_STARTS" },
	{ LC_DYLD_ENVIRONMENT, "LC_DYLD_ENVIRONMENT" },
	{ LC_MAIN, "LC_MAIN" },
	{ LC_DATA_IN_CODE, "LC_DATA_IN_CODE" },
	{ LC_SOURCE_VERSION, "LC_SOURCE_VERSION" },
	{ LC_DYLIB_CODE_SIGN_DRS, "LC_DYLIB_CODE_SIGN_DRS" },
	{ LC_ENCRYPTION_INFO_64, "LC_ENCRYPTION_INFO_64" },
	{ LC_LINKER_OPTION, "LC_LINKER_OPTION" },
	{ LC_LINKER_OPTIMIZATION_HINT, "LC_LINKER_OPTIMIZATION_HINT" },
	{ LC_VERSION_MIN_TVOS, "LC_VERSION_MIN_TVOS" },
	{ LC_VERSION_MIN_WATCHOS, "LC_VERSION_MIN_WATCHOS" },
	{ LC_NOTE, "LC_NOTE" },
	{ LC_BUILD_VERSION, "LC_BUILD_VERSION" },
	{ LC_DYLD_EXPORTS_TRIE, "LC_DYLD_EXPORTS_TRIE" },
	{ LC_DYLD_CHAINED_FIXUPS, "LC_DYLD_CHAINED_FIXUPS" },
	{ LC_FILESET_ENTRY, "LC_FILESET_ENTRY" },
	{ LC_ATOM_INFO, "LC_ATOM_INFO" },
};

const char *mo_lc_name(uint32_t cmd)
{
	for (size_t i = 0; i < sizeof(lc_names) / sizeof(lc_names[0]); i++)
		if (lc_names[i].cmd == cmd)
			return lc_names[i].name;
	return NULL;
}

const char *mo_filetype_name(uint32_t filetype)
{
	static const char *names[] = { NULL,	  "object", "execute",	 "fvmlib",	"core",
				       "preload", "dylib",  "dylinker", "bundle", "dylib_stub",
				       "dsym",	  "kext_bundle", "fileset" };
	if (filetype < sizeof(names) / sizeof(names[0]) && names[filetype])
		return names[filetype];
	return "unknown";
}

const char *mo_platform_name(uint32_t platform)
{
	static const char *names[] = { "unknown", "macos", "ios", "tvos", "watchos", "bridgeos", "maccatalyst",
				       "iossimulator", "tvossimulator", "watchossimulator", "driverkit",
				       "visionos", "visionossimulator" };
	if (platform < sizeof(names) / sizeof(names[0]))
		return names[platform];
	return "unknown";
}

const char *mo_version_str(uint32_t v, char buf[24])
{
	snprintf(buf, 24, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
	return buf;
}

int mo_is_dep_cmd(uint32_t cmd)
{
	return cmd == LC_LOAD_DYLIB || cmd == LC_LOAD_WEAK_DYLIB || cmd == LC_REEXPORT_DYLIB ||
	       cmd == LC_LOAD_UPWARD_DYLIB || cmd == LC_LAZY_LOAD_DYLIB;
}
