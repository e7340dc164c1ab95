/*
 * test_install_util.h - shared by the CLI tests: a scratch copy of the signed
 * demo UTM.app, the utmpatch runner, dylibs built with clang and ld64.lld for
 * refusals, Python oracles that read Mach-O bytes directly, and sh -c runners.
 */
#ifndef TEST_INSTALL_UTIL_H
#define TEST_INSTALL_UTIL_H

#include <stddef.h>

#include "tsupport_run.h"

struct scratch {
	char *dir;    /* temp directory */
	char *app;    /* dir/UTM.app, a copy of the demo */
	char *state;  /* dir/state */
	char *dylib;  /* dir/libqemu-aarch64-softmmu.dylib: the thin arm64 fixture */
	char hash[65]; /* tree hash of the pristine copy */
};

void scratch_make(struct scratch *s);
void scratch_free(struct scratch *s);
/* Asserts the bundle is byte for byte the pristine copy (contents, modes, symlinks). */
void scratch_expect_pristine(const struct scratch *s, const char *when);

/* Runs utmpatch with args (NULL-terminated), env as tsupport_run. */
int ui_run(struct tsupport_out *o, const char *const *env, const char *a0, ...);

/* `utmpatch install DYLIB --app APP --state-dir STATE --anchors ROOTS --allow-missing-arch` + extra args. */
int install(struct tsupport_out *o, const struct scratch *s, const char *dylib, const char *const *env, ...);

/* Builds a dylib variant into s->dir (see the .c); returns its path (malloc'd). */
char *build_variant(const struct scratch *s, const char *variant);

/* Entitlement keys of a Mach-O file's slice, read by Python from the signature bytes: "k1 k2 ..." sorted (malloc'd). */
char *py_entitlement_keys(const char *file, const char *arch);

/* Writes the JSON to dir/what.json and validates it with Python's jsonschema (Draft 2020-12) against docs/schemas/install.schema.json. */
void expect_schema_valid(const char *json_text, size_t len, const char *dir, const char *what);

/* Runs sh -c; status. */
int sh_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs sh -c, asserts exit 0; its stdout (malloc'd). */
char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
