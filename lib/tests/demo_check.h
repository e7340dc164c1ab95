/*
 * demo_check.h - checks of the demo UTM.app (testdata/demo/build-demo.sh)
 * against what the official UTM release looks like
 * (/work/shared/reference/utm-domain.md sections 1 and 2).  Tests only.
 *
 * The expected values are written here from the reference, not read from the
 * recipe.  Every check reports through Criterion's cr_expect, so one run lists
 * every difference; app is the path of UTM.app.
 */
#ifndef DEMO_CHECK_H
#define DEMO_CHECK_H

#include <stddef.h>

/* The frameworks the demo must embed: UTM's names (utm-domain 1.2). */
extern const char *const demo_frameworks[];
extern const size_t demo_nframeworks;

/* Runs build-demo.sh into dir (with UTMPATCH = the binary under test); returns its exit code. */
int demo_build(const char *dir, char **out, char **err);

/* demo_check_files.c: Info.plists, PkgInfo, resources, symlinks, entitlements. */
void demo_check_app_plist(const char *app);
void demo_check_nested_plists(const char *app);
void demo_check_framework_tree(const char *app, const char *name);
void demo_check_resources(const char *app);
void demo_check_entitlement_files(void);

/* demo_check_macho.c: arches, install names, rpaths, exports and imports. */
void demo_check_framework_macho(const char *app, const char *name);
void demo_check_executables(const char *app);
/* Returns the number of imports from the bundle's frameworks (both slices). */
int demo_check_imports_resolve(const char *app, const char *rel);
void demo_check_qemu_exports(const char *app, const char *name);

#endif
