/* cmd_macho_edit.c - `utmpatch macho edit`: install_name_tool edits, all or nothing. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "cs_sign.h"
#include "mo_edit.h"
#include "ut_err.h"
#include "ut_limits.h"
#include "ut_macho_edit.h"

struct edit_opts {
	const char *file;
	const char *out;
	struct mo_edit edits[UT_MAX_EDITS];
	size_t nedits;
	int sign;
};

static int add(struct edit_opts *o, enum mo_edit_op op, const char *a, const char *b)
{
	if (o->nedits >= UT_MAX_EDITS)
		return -1;
	o->edits[o->nedits].op = op;
	o->edits[o->nedits].a = a;
	o->edits[o->nedits].b = b;
	o->nedits++;
	return 0;
}

static int parse(int argc, char **argv, const char *usage_text, struct edit_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *v1, *v2;
		if (cmd_is(arg, "-h") || cmd_is(arg, "--help"))
			return cmd_help(usage_text) == EXIT_OK ? 1 : EXIT_FAIL;
		if (cmd_is(arg, "--change") || cmd_is(arg, "--rpath")) {
			if (!(v1 = cmd_value(argc, argv, &i)) || !(v2 = cmd_value(argc, argv, &i)))
				return cmd_usage_error(usage_text, "macho edit: %s needs OLD and NEW", arg);
			if (add(o, cmd_is(arg, "--change") ? MO_EDIT_CHANGE : MO_EDIT_RPATH, v1, v2))
				return cmd_usage_error(usage_text, "macho edit: too many edits");
		} else if (cmd_is(arg, "--id") || cmd_is(arg, "--add-rpath") || cmd_is(arg, "--delete-rpath")) {
			if (!(v1 = cmd_value(argc, argv, &i)))
				return cmd_usage_error(usage_text, "macho edit: %s needs a value", arg);
			enum mo_edit_op op = cmd_is(arg, "--id") ? MO_EDIT_ID
					   : cmd_is(arg, "--add-rpath") ? MO_EDIT_ADD_RPATH : MO_EDIT_DELETE_RPATH;
			if (add(o, op, v1, NULL))
				return cmd_usage_error(usage_text, "macho edit: too many edits");
		} else if (cmd_is(arg, "-o") || cmd_is(arg, "--output")) {
			if (!(o->out = cmd_value(argc, argv, &i)))
				return cmd_usage_error(usage_text, "macho edit: -o needs a path");
		} else if (cmd_is(arg, "--sign")) {
			o->sign = 1;
		} else if (arg[0] == '-' && arg[1]) {
			return cmd_usage_error(usage_text, "macho edit: unknown option '%s'", arg);
		} else if (!o->file) {
			o->file = arg;
		} else {
			return cmd_usage_error(usage_text, "macho edit: more than one FILE");
		}
	}
	if (!o->file)
		return cmd_usage_error(usage_text, "macho edit: missing FILE");
	if (o->nedits == 0)
		return cmd_usage_error(usage_text, "macho edit: no edits given");
	return 0;
}

/*
 * --sign: the edit goes to a temp file next to the destination, which is then
 * signed ad-hoc into the destination (preserving identifier, entitlements,
 * flags and runtime, as `codesign --force --sign - --preserve-metadata` does);
 * the input stays untouched until the signed file is renamed over it.
 */
static int edit_and_sign(const struct edit_opts *o, struct ut_edit_report *rep)
{
	const char *dst = o->out ? o->out : o->file;
	const char *slash = strrchr(dst, '/');
	int dirlen = slash ? (int)(slash - dst + 1) : 0; /* "dir/" or nothing */
	char *tmp = NULL;
	int n = snprintf(NULL, 0, "%.*s.%s.utmpatch-edit-XXXXXX", dirlen, dst, dst + dirlen);
	if (n < 0 || !(tmp = malloc((size_t)n + 1)))
		return ut_fail(UT_ENOMEM, "out of memory");
	snprintf(tmp, (size_t)n + 1, "%.*s.%s.utmpatch-edit-XXXXXX", dirlen, dst, dst + dirlen);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		int rc = ut_fail_errno(UT_EIO, errno, "cannot create a temporary file next to '%s'", dst);
		free(tmp);
		return rc;
	}
	close(fd);
	int rc = ut_macho_edit(o->file, tmp, o->edits, o->nedits, rep);
	if (!rc) {
		struct cs_sign_opts so = { 0 };
		so.preserve = CS_PRESERVE_IDENTIFIER | CS_PRESERVE_ENTITLEMENTS | CS_PRESERVE_FLAGS | CS_PRESERVE_RUNTIME;
		so.name = dst;
		rc = cs_sign_file(tmp, dst, &so, NULL);
	}
	unlink(tmp);
	free(tmp);
	return rc;
}

int cmd_macho_edit(int argc, char **argv, const char *usage_text)
{
	static struct edit_opts o;
	memset(&o, 0, sizeof(o));
	int rc = parse(argc, argv, usage_text, &o);
	if (rc)
		return rc == 1 ? EXIT_OK : rc;
	static struct ut_edit_report rep;
	rc = o.sign ? edit_and_sign(&o, &rep) : ut_macho_edit(o.file, o.out, o.edits, o.nedits, &rep);
	if (rc)
		return cmd_fail(rc);
	for (uint32_t i = 0; i < rep.nslices && !o.sign; i++) {
		if (rep.slices[i].sig == UT_EDIT_SIG_INVALIDATED)
			fprintf(stderr,
				"utmpatch: warning: slice %s: its code signature is no longer valid; re-sign with "
				"`utmpatch sign`\n",
				rep.slices[i].arch);
	}
	return cmd_finish(EXIT_OK);
}
