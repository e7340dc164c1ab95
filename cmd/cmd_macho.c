/* cmd_macho.c - `utmpatch macho info|deps|edit`: read and edit Mach-O files. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "mo_file.h"
#include "mo_format.h"
#include "mo_sigpeek.h"
#include "ut_buf.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_json.h"

static const char usage[] =
	"usage: utmpatch macho info FILE [--json]\n"
	"       utmpatch macho deps FILE\n"
	"       utmpatch macho edit FILE [--change OLD NEW]... [--id NAME] [--add-rpath P]...\n"
	"                               [--delete-rpath P]... [--rpath OLD NEW]... [-o OUT] [--sign]\n"
	"\n"
	"info   every slice: arch, type, flags, uuid, platform and versions, load commands,\n"
	"       install name, dependencies, rpaths, signature kind (--json: docs/schemas/macho-info.schema.json)\n"
	"deps   the install name and dependencies, like otool -L\n"
	"edit   install_name_tool edits on every slice, checked first and applied all or nothing;\n"
	"       in place (atomic) unless -o; a linker signature is regenerated, any other is reported invalid;\n"
	"       --sign re-signs ad-hoc afterwards, keeping identifier, entitlements, flags and runtime\n"
	"\n"
	"exit: 0 ok, 2 usage, 3 malformed input or refused edit\n";

static const char *dep_kind(uint32_t cmd)
{
	switch (cmd) {
	case LC_LOAD_WEAK_DYLIB: return "weak";
	case LC_REEXPORT_DYLIB: return "reexport";
	case LC_LOAD_UPWARD_DYLIB: return "upward";
	case LC_LAZY_LOAD_DYLIB: return "lazy";
	}
	return "load";
}

/* A short description of a load command's payload, for listings. */
static void lc_detail(const struct mo_image *img, uint32_t i, char *out, size_t n)
{
	const struct mo_lc *lc = &img->lcs[i];
	const uint8_t *p = img->hdr + lc->off;
	out[0] = '\0';
	for (uint32_t k = 0; k < img->nsegments; k++)
		if (img->segments[k].lc_index == i) {
			const struct mo_segment *s = &img->segments[k];
			snprintf(out, n, "%s fileoff 0x%" PRIx64 " filesize 0x%" PRIx64 " vmaddr 0x%" PRIx64
				 " vmsize 0x%" PRIx64 " nsects %u",
				 s->segname, s->fileoff, s->filesize, s->vmaddr, s->vmsize, s->nsects);
			return;
		}
	if (mo_is_dep_cmd(lc->cmd) || lc->cmd == LC_ID_DYLIB || lc->cmd == LC_RPATH) {
		snprintf(out, n, "%s", (const char *)p + ut_le32(p + 8));
	} else if (lc->cmd == LC_CODE_SIGNATURE || (lc->cmdsize == 16 && (lc->cmd == LC_FUNCTION_STARTS ||
		   lc->cmd == LC_DATA_IN_CODE || lc->cmd == LC_DYLD_EXPORTS_TRIE || lc->cmd == LC_DYLD_CHAINED_FIXUPS))) {
		snprintf(out, n, "dataoff 0x%x datasize 0x%x", ut_le32(p + 8), ut_le32(p + 12));
	}
}

static void uuid_str(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", u[0], u[1], u[2],
		 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static void flags_str(uint32_t flags, char *out, size_t n)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = { { 0x1, "NOUNDEFS" }, { 0x2, "INCRLINK" }, { 0x4, "DYLDLINK" }, { 0x8, "BINDATLOAD" },
		      { 0x10, "PREBOUND" }, { 0x20, "SPLIT_SEGS" }, { 0x80, "TWOLEVEL" }, { 0x100, "FORCE_FLAT" },
		      { 0x200, "NOMULTIDEFS" }, { 0x800, "PREBINDABLE" }, { 0x2000, "SUBSECTIONS_VIA_SYMBOLS" },
		      { 0x8000, "WEAK_DEFINES" }, { 0x10000, "BINDS_TO_WEAK" }, { 0x20000, "ALLOW_STACK_EXECUTION" },
		      { 0x100000, "NO_REEXPORTED_DYLIBS" }, { 0x200000, "PIE" }, { 0x800000, "HAS_TLV_DESCRIPTORS" },
		      { 0x1000000, "NO_HEAP_EXECUTION" }, { 0x2000000, "APP_EXTENSION_SAFE" },
		      { 0x80000000u, "DYLIB_IN_CACHE" } };
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((flags & names[i].bit) && len < n)
			len += (size_t)snprintf(out + len, n - len, "%s%s", len ? " " : "", names[i].name);
}

static void print_slice_text(const struct mo_file *f, const struct mo_slice *s)
{
	char arch[32], v1[24], v2[24], buf[512];
	printf("slice %s (offset 0x%" PRIx64 ", size 0x%" PRIx64 ")\n", mo_arch_name(s->cputype, s->cpusubtype, arch),
	       s->offset, s->size);
	if (s->kind != MO_SLICE_MACHO64) {
		printf("  unsupported: %s\n  type: %s, %u load commands (%u bytes)\n", s->reason,
		       mo_filetype_name(s->filetype), s->ncmds, s->sizeofcmds);
		return;
	}
	const struct mo_image *img = s->img;
	flags_str(img->flags, buf, sizeof(buf));
	printf("  type: %s\n  flags: 0x%x (%s)\n", mo_filetype_name(img->filetype), img->flags, buf);
	if (img->has_uuid) {
		uuid_str(img->uuid, buf);
		printf("  uuid: %s\n", buf);
	}
	if (img->version_cmd)
		printf("  platform: %s, min OS %s, SDK %s\n", mo_platform_name(img->platform),
		       mo_version_str(img->minos, v1), mo_version_str(img->sdk, v2));
	if (img->has_id)
		printf("  install name: %s (compatibility version %s, current version %s)\n", img->id.name,
		       mo_version_str(img->id.compat_version, v1), mo_version_str(img->id.current_version, v2));
	printf("  dependencies: %u\n", img->ndeps);
	for (uint32_t i = 0; i < img->ndeps; i++) {
		const struct mo_dylib *d = &img->deps[i];
		printf("    %-8s %s (compatibility version %s, current version %s)\n", dep_kind(d->cmd), d->name,
		       mo_version_str(d->compat_version, v1), mo_version_str(d->current_version, v2));
	}
	printf("  rpaths: %u\n", img->nrpaths);
	for (uint32_t i = 0; i < img->nrpaths; i++)
		printf("    %s\n", img->rpaths[i].path);
	struct mo_sig_peek sp;
	if (mo_sig_peek(f, s, &sp) == 0) {
		if (sp.kind == MO_SIG_NONE)
			printf("  signature: none\n");
		else if (sp.kind == MO_SIG_UNREADABLE)
			printf("  signature: unreadable (%s)\n", sp.detail);
		else
			printf("  signature: %s (flags 0x%x, 0x%x bytes at 0x%x)\n", mo_sig_kind_name(sp.kind),
			       sp.cd_flags, img->codesig.size, img->codesig.off);
	}
	printf("  header padding: %" PRIu64 " bytes free (load commands end at 0x%" PRIx64 ", data starts at 0x%" PRIx64
	       ")\n",
	       img->pad_limit - img->cmds_end, img->cmds_end, img->pad_limit);
	printf("  load commands: %u (%u bytes)\n", img->ncmds, img->sizeofcmds);
	for (uint32_t i = 0; i < img->ncmds; i++) {
		const char *name = mo_lc_name(img->lcs[i].cmd);
		char unk[24];
		if (!name) {
			snprintf(unk, sizeof(unk), "0x%x", img->lcs[i].cmd);
			name = unk;
		}
		lc_detail(img, i, buf, sizeof(buf));
		printf("    %3u %-28s cmdsize %-5u %s\n", i, name, img->lcs[i].cmdsize, buf);
	}
}

static void json_slice(struct ut_json *j, const struct mo_file *f, const struct mo_slice *s)
{
	char arch[32], v1[24], buf[512];
	ut_json_obj(j);
	ut_json_kstr(j, "arch", mo_arch_name(s->cputype, s->cpusubtype, arch));
	ut_json_kuint(j, "cputype", s->cputype);
	ut_json_kuint(j, "cpusubtype", s->cpusubtype);
	ut_json_kuint(j, "offset", s->offset);
	ut_json_kuint(j, "size", s->size);
	ut_json_kbool(j, "supported", s->kind == MO_SLICE_MACHO64);
	ut_json_kstr(j, "filetype", mo_filetype_name(s->filetype));
	if (s->kind != MO_SLICE_MACHO64) {
		ut_json_kstr(j, "unsupported_reason", s->reason);
		ut_json_end(j);
		return;
	}
	const struct mo_image *img = s->img;
	ut_json_kuint(j, "flags", img->flags);
	if (img->has_uuid) {
		uuid_str(img->uuid, buf);
		ut_json_kstr(j, "uuid", buf);
	} else {
		ut_json_key(j, "uuid");
		ut_json_null(j);
	}
	ut_json_kstr(j, "platform", img->version_cmd ? mo_platform_name(img->platform) : NULL);
	ut_json_kstr(j, "minos", img->version_cmd ? mo_version_str(img->minos, v1) : NULL);
	ut_json_kstr(j, "sdk", img->version_cmd ? mo_version_str(img->sdk, v1) : NULL);
	ut_json_key(j, "install_name");
	if (img->has_id) {
		ut_json_obj(j);
		ut_json_kstr(j, "name", img->id.name);
		ut_json_kstr(j, "compatibility_version", mo_version_str(img->id.compat_version, v1));
		ut_json_kstr(j, "current_version", mo_version_str(img->id.current_version, v1));
		ut_json_end(j);
	} else {
		ut_json_null(j);
	}
	ut_json_key(j, "dependencies");
	ut_json_arr(j);
	for (uint32_t i = 0; i < img->ndeps; i++) {
		const struct mo_dylib *d = &img->deps[i];
		ut_json_obj(j);
		ut_json_kstr(j, "kind", dep_kind(d->cmd));
		ut_json_kstr(j, "name", d->name);
		ut_json_kstr(j, "compatibility_version", mo_version_str(d->compat_version, v1));
		ut_json_kstr(j, "current_version", mo_version_str(d->current_version, v1));
		ut_json_end(j);
	}
	ut_json_end(j);
	ut_json_key(j, "rpaths");
	ut_json_arr(j);
	for (uint32_t i = 0; i < img->nrpaths; i++)
		ut_json_str(j, img->rpaths[i].path);
	ut_json_end(j);
	struct mo_sig_peek sp;
	memset(&sp, 0, sizeof(sp));
	(void)mo_sig_peek(f, s, &sp);
	ut_json_key(j, "signature");
	ut_json_obj(j);
	ut_json_kstr(j, "kind", mo_sig_kind_name(sp.kind));
	if (sp.kind != MO_SIG_NONE) {
		ut_json_kuint(j, "offset", img->codesig.off);
		ut_json_kuint(j, "size", img->codesig.size);
		ut_json_kuint(j, "cd_flags", sp.cd_flags);
	}
	if (sp.kind == MO_SIG_UNREADABLE)
		ut_json_kstr(j, "detail", sp.detail);
	ut_json_end(j);
	ut_json_kuint(j, "padding_free", img->pad_limit - img->cmds_end);
	ut_json_key(j, "load_commands");
	ut_json_arr(j);
	for (uint32_t i = 0; i < img->ncmds; i++) {
		ut_json_obj(j);
		ut_json_kuint(j, "index", i);
		ut_json_kstr(j, "cmd", mo_lc_name(img->lcs[i].cmd));
		ut_json_kuint(j, "cmd_value", img->lcs[i].cmd);
		ut_json_kuint(j, "cmdsize", img->lcs[i].cmdsize);
		ut_json_kuint(j, "offset", img->lcs[i].off);
		lc_detail(img, i, buf, sizeof(buf));
		ut_json_kstr(j, "detail", buf);
		ut_json_end(j);
	}
	ut_json_end(j);
	ut_json_end(j);
}

static int do_info(const char *path, int json)
{
	struct ut_src src;
	struct mo_file *f;
	int rc = mo_file_open(path, &src, &f);
	if (rc)
		return cmd_fail(rc);
	char arch[32];
	if (json) {
		struct ut_buf b;
		struct ut_json j;
		ut_buf_init(&b, 0);
		ut_json_init(&j, &b, 1);
		ut_json_obj(&j);
		ut_json_kstr(&j, "file", path);
		ut_json_kbool(&j, "fat", f->fat != 0);
		ut_json_key(&j, "hidden_arm64");
		if (f->hidden_arm64) {
			ut_json_obj(&j);
			ut_json_kuint(&j, "offset", f->hidden_offset);
			ut_json_kuint(&j, "size", f->hidden_size);
			ut_json_end(&j);
		} else {
			ut_json_null(&j);
		}
		ut_json_key(&j, "slices");
		ut_json_arr(&j);
		for (uint32_t i = 0; i < f->nslices; i++)
			json_slice(&j, f, &f->slices[i]);
		ut_json_end(&j);
		ut_json_end(&j);
		rc = cmd_json_print(&j, &b);
	} else {
		printf("file: %s\nformat: Mach-O %s (", path, f->fat ? "universal" : "thin");
		for (uint32_t i = 0; i < f->nslices; i++)
			printf("%s%s", i ? " " : "", mo_arch_name(f->slices[i].cputype, f->slices[i].cpusubtype, arch));
		printf(")\n");
		if (f->hidden_arm64)
			printf("warning: an arm64 slice is hidden after the last counted fat_arch (offset 0x%" PRIx64
			       ", size 0x%" PRIx64 "); dyld loads it, editing is refused\n",
			       f->hidden_offset, f->hidden_size);
		for (uint32_t i = 0; i < f->nslices; i++)
			print_slice_text(f, &f->slices[i]);
	}
	mo_file_close(&src, f);
	return rc ? cmd_fail(rc) : cmd_finish(EXIT_OK);
}

static int do_deps(const char *path)
{
	struct ut_src src;
	struct mo_file *f;
	int rc = mo_file_open(path, &src, &f);
	if (rc)
		return cmd_fail(rc);
	char arch[32], v1[24], v2[24];
	for (uint32_t i = 0; i < f->nslices; i++) {
		const struct mo_slice *s = &f->slices[i];
		if (f->nslices > 1)
			printf("%s (architecture %s):\n", path, mo_arch_name(s->cputype, s->cpusubtype, arch));
		else
			printf("%s:\n", path);
		if (!s->img) {
			printf("\t(%s)\n", s->reason);
			continue;
		}
		const struct mo_image *img = s->img;
		if (img->has_id)
			printf("\t%s (compatibility version %s, current version %s)\n", img->id.name,
			       mo_version_str(img->id.compat_version, v1), mo_version_str(img->id.current_version, v2));
		for (uint32_t k = 0; k < img->ndeps; k++) {
			const struct mo_dylib *d = &img->deps[k];
			const char *kind = d->cmd == LC_LOAD_DYLIB ? "" : dep_kind(d->cmd);
			printf("\t%s (compatibility version %s, current version %s%s%s)\n", d->name,
			       mo_version_str(d->compat_version, v1), mo_version_str(d->current_version, v2),
			       kind[0] ? ", " : "", kind);
		}
	}
	mo_file_close(&src, f);
	return cmd_finish(EXIT_OK);
}

int cmd_macho(int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage_error(usage, "macho: missing subcommand");
	const char *sub = argv[1];
	if (cmd_is(sub, "-h") || cmd_is(sub, "--help"))
		return cmd_help(usage);
	if (cmd_is(sub, "edit"))
		return cmd_macho_edit(argc - 1, argv + 1, usage);
	int json = 0;
	const char *file = NULL;
	for (int i = 2; i < argc; i++) {
		if (cmd_is(argv[i], "-h") || cmd_is(argv[i], "--help"))
			return cmd_help(usage);
		if (cmd_is(argv[i], "--json") && cmd_is(sub, "info"))
			json = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return cmd_usage_error(usage, "macho %s: unknown option '%s'", sub, argv[i]);
		else if (!file)
			file = argv[i];
		else
			return cmd_usage_error(usage, "macho %s: more than one FILE", sub);
	}
	if (!file)
		return cmd_usage_error(usage, "macho %s: missing FILE", sub);
	if (cmd_is(sub, "info"))
		return do_info(file, json);
	if (cmd_is(sub, "deps"))
		return do_deps(file);
	return cmd_usage_error(usage, "macho: unknown subcommand '%s'", sub);
}
