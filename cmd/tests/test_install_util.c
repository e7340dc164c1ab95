/* test_install_util.c - scratch bundles, runners, dylib variants and Python oracles for the install tests. */
#define _GNU_SOURCE
#include "test_install_util.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdemo.h"
#include "tsupport.h"
#include "tsupport_fs.h"

void scratch_make(struct scratch *s)
{
	memset(s, 0, sizeof(*s));
	s->dir = tsupport_tmpdir("install");
	cr_assert_not_null(s->dir);
	s->app = tdemo_copy(s->dir);
	s->state = tsupport_printf("%s/state", s->dir);
	s->dylib = tsupport_printf("%s/libqemu-aarch64-softmmu.dylib", s->dir);
	cr_assert_eq(ts_copy(ts_fixture("qemu-arm64.dylib"), s->dylib), 0);
	cr_assert_eq(tdemo_tree_hash(s->app, s->hash), 0);
	char pristine[65];
	cr_assert_eq(tdemo_tree_hash(tdemo_app(), pristine), 0);
	cr_assert_str_eq(s->hash, pristine, "the copy differs from the demo bundle");
}

void scratch_free(struct scratch *s)
{
	ts_rmtree(s->dir);
	free(s->dir);
	free(s->app);
	free(s->state);
	free(s->dylib);
}

void scratch_expect_pristine(const struct scratch *s, const char *when)
{
	char now[65];
	cr_assert_eq(tdemo_tree_hash(s->app, now), 0);
	cr_expect_str_eq(now, s->hash, "%s: the bundle is not byte for byte pristine", when);
	if (strcmp(now, s->hash) != 0) {
		char *cmd = tsupport_printf("diff -r '%s' '%s' 2>&1 | head -20", tdemo_app(), s->app);
		char *out = NULL;
		ts_sh(cmd, &out, NULL);
		cr_log_error("%s", out ? out : "");
		free(out);
		free(cmd);
	}
}

static int vrun(struct tsupport_out *o, const char *const *env, const char *a0, va_list ap, const char *const *pre,
		size_t npre)
{
	const char *argv[64];
	size_t n = 0;
	argv[n++] = ts_bin();
	for (size_t i = 0; i < npre; i++)
		argv[n++] = pre[i];
	for (const char *a = a0; a && n < 63; a = va_arg(ap, const char *))
		argv[n++] = a;
	argv[n] = NULL;
	int rc = tsupport_run(o, argv, env, NULL);
	cr_assert_eq(rc, 0, "could not run %s", ts_bin());
	return o->status;
}

int ui_run(struct tsupport_out *o, const char *const *env, const char *a0, ...)
{
	va_list ap;
	va_start(ap, a0);
	int st = vrun(o, env, a0, ap, NULL, 0);
	va_end(ap);
	return st;
}

int install(struct tsupport_out *o, const struct scratch *s, const char *dylib, const char *const *env, ...)
{
	const char *pre[] = { "install", dylib, "--app", s->app, "--state-dir", s->state,
			      "--anchors", ts_root("testdata/keys/roots.tsv"), "--allow-missing-arch" };
	va_list ap;
	va_start(ap, env);
	const char *a0 = va_arg(ap, const char *);
	int st = vrun(o, env, a0, ap, pre, sizeof(pre) / sizeof(pre[0]));
	va_end(ap);
	return st;
}

char *sh_out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = NULL;
	cr_assert(vasprintf(&cmd, fmt, ap) > 0);
	va_end(ap);
	char *out = NULL, *err = NULL;
	int st = ts_sh(cmd, &out, &err);
	cr_assert_eq(st, 0, "%s: %s", cmd, err ? err : "");
	free(err);
	free(cmd);
	return out;
}

int sh_status(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = NULL;
	cr_assert(vasprintf(&cmd, fmt, ap) > 0);
	va_end(ap);
	char *err = NULL;
	int st = ts_sh(cmd, NULL, &err);
	if (st != 0)
		cr_log_info("sh: %s -> %d: %s", cmd, st, err ? err : "");
	free(err);
	free(cmd);
	return st;
}

/*
 * Dylib variants, built like testdata/recipes (clang -target arm64-apple-macos11,
 * ld64.lld-14, the recipes' libSystem.tbd):
 *   noentry    exports foo_init/foo_run, none of UTM's entry points
 *   nosym      UTM's entry points, imports g_not_in_utm from a glib built with it
 *   tight      UTM's entry points, short install names (/s/...), -headerpad 0
 *   unshipped  the qemu fixture with libusb pointed at libgnutls.30.dylib (llvm-install-name-tool-14)
 */
char *build_variant(const struct scratch *s, const char *variant)
{
	char *out = tsupport_printf("%s/%s/libqemu-aarch64-softmmu.dylib", s->dir, variant);
	const char *sr = "/Users/x/UTM/sysroot-macOS-arm64/lib";
	static const char qemu_src[] = "int g_main_context_default(int); int FN(int);"
				       "int qemu_init(int c, char **v, char **e) { (void)v; (void)e; return FN(c); }"
				       "int qemu_main_loop(void) { return g_main_context_default(0); }"
				       "void qemu_cleanup(void) { }";
	char *script = NULL;
	if (strcmp(variant, "noentry") == 0) {
		script = tsupport_printf("cc arm64 \"$src/stub.c\" o.o -DSTUB_F1=foo_init -DSTUB_F2=foo_run && "
					 "link arm64 '%s' -dylib -install_name %s/libqemu-aarch64-softmmu.dylib "
					 "-headerpad_max_install_names o.o",
					 out, sr);
	} else if (strcmp(variant, "nosym") == 0) {
		script = tsupport_printf(
			"cc arm64 \"$src/stub.c\" g.o -DSTUB_F1=g_main_context_default -DSTUB_F2=g_not_in_utm && "
			"link arm64 libglib-2.0.0.dylib -dylib -install_name %s/libglib-2.0.0.dylib "
			"-current_version 1.0.0 -compatibility_version 1.0.0 g.o && "
			"echo '%s' > q.c && cc arm64 q.c q.o -DFN=g_not_in_utm && "
			"link arm64 '%s' -dylib -install_name %s/libqemu-aarch64-softmmu.dylib "
			"-headerpad_max_install_names q.o libglib-2.0.0.dylib",
			sr, qemu_src, out, sr);
	} else if (strcmp(variant, "tight") == 0) {
		script = tsupport_printf(
			"cc arm64 \"$src/stub.c\" g.o -DSTUB_F1=g_main_context_default -DSTUB_F2=g_free && "
			"link arm64 libglib-2.0.0.dylib -dylib -install_name /s/libglib-2.0.0.dylib "
			"-current_version 1.0.0 -compatibility_version 1.0.0 g.o && "
			"echo '%s' > q.c && cc arm64 q.c q.o -DFN=g_free && "
			"link arm64 '%s' -dylib -install_name /s/libqemu-aarch64-softmmu.dylib -headerpad 0 q.o "
			"libglib-2.0.0.dylib",
			qemu_src, out);
	} else if (strcmp(variant, "unshipped") == 0) {
		script = tsupport_printf("cp '%s' '%s' && llvm-install-name-tool-14 -change %s/libusb-1.0.0.dylib "
					 "%s/libgnutls.30.dylib '%s'",
					 ts_fixture("qemu-arm64.dylib"), out, sr, sr, out);
	} else {
		cr_assert_fail("unknown variant %s", variant);
	}
	cr_assert_eq(sh_status("mkdir -p '%s/%s' && cd '%s/%s' && recipes='%s' && . \"$recipes/common.sh\" && %s", s->dir,
			       variant, s->dir, variant, ts_root("testdata/recipes"), script),
		     0, "building the %s variant failed", variant);
	free(script);
	return out;
}

/* Python: the entitlements blob (slot 5) of one slice, parsed with plistlib; keys printed sorted. */
static const char py_ents[] =
	"import plistlib, struct, sys\n"
	"d = open(sys.argv[1], 'rb').read(); want = sys.argv[2]\n"
	"cpu = {'arm64': 0x0100000c, 'x86_64': 0x01000007}[want]\n"
	"off, size = 0, len(d)\n"
	"if struct.unpack('>I', d[:4])[0] == 0xcafebabe:\n"
	"    n = struct.unpack('>I', d[4:8])[0]\n"
	"    for i in range(n):\n"
	"        c, s, o, z, a = struct.unpack('>5I', d[8 + 20 * i: 28 + 20 * i])\n"
	"        if c == cpu: off, size = o, z\n"
	"m = d[off:off + size]\n"
	"assert struct.unpack('<I', m[:4])[0] == 0xfeedfacf and struct.unpack('<I', m[4:8])[0] == cpu\n"
	"ncmds = struct.unpack('<I', m[16:20])[0]; p = 32; sig = None\n"
	"for i in range(ncmds):\n"
	"    cmd, cs = struct.unpack('<II', m[p:p + 8])\n"
	"    if cmd == 0x1d: sig = struct.unpack('<II', m[p + 8:p + 16])\n"
	"    p += cs\n"
	"so, sl = sig; sb = m[so:so + sl]\n"
	"magic, length, count = struct.unpack('>III', sb[:12])\n"
	"assert magic == 0xfade0cc0\n"
	"keys = []\n"
	"for i in range(count):\n"
	"    t, o = struct.unpack('>II', sb[12 + 8 * i: 20 + 8 * i])\n"
	"    if t == 5:\n"
	"        bm, bl = struct.unpack('>II', sb[o:o + 8])\n"
	"        assert bm == 0xfade7171\n"
	"        e = plistlib.loads(sb[o + 8:o + bl])\n"
	"        keys = sorted(k for k, v in e.items() if v is not False)\n"
	"print(' '.join(keys))\n";

char *py_entitlement_keys(const char *file, const char *arch)
{
	struct tsupport_out o;
	const char *argv[] = { "python3", "-c", py_ents, file, arch, NULL };
	cr_assert_eq(tsupport_run(&o, argv, NULL, NULL), 0);
	cr_assert_eq(o.status, 0, "python entitlements of %s: %s", file, o.err);
	char *keys = strdup(o.out);
	size_t n = strlen(keys);
	while (n && keys[n - 1] == '\n')
		keys[--n] = '\0';
	tsupport_out_release(&o);
	return keys;
}

void expect_schema_valid(const char *json_text, size_t len, const char *dir, const char *what)
{
	char *path = tsupport_printf("%s/%s.json", dir, what);
	cr_assert_eq(tsupport_write(path, json_text, len), 0);
	static const char py[] = "import json, sys, jsonschema\n"
				 "d = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))\n"
				 "jsonschema.Draft202012Validator(s).validate(d)\n";
	const char *argv[] = { "python3", "-c", py, path, ts_root("docs/schemas/install.schema.json"), NULL };
	struct tsupport_out o;
	cr_assert_eq(tsupport_run(&o, argv, NULL, NULL), 0);
	cr_expect_eq(o.status, 0, "%s: not valid against install.schema.json: %s", what, o.err);
	tsupport_out_release(&o);
	free(path);
}
