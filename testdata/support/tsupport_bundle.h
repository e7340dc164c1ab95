/*
 * tsupport_bundle.h - bundles for tests (tests only): writable copies of the
 * corpus bundles with their symlinks restored, a small UTM-shaped app built
 * from build/fixtures, and an inside-out ad-hoc (or identity) bundle signer
 * assembled from the library's public pieces (cs_bundle_tree, cs_seal_build,
 * cs_sign_file) - the way codesign --force --deep --sign signs.
 *
 * The corpus stores symlinks as regular files whose content is the target.  A
 * file becomes a symlink again when a CodeResources files2 entry of the bundle
 * that seals it says {symlink = T} and its content is exactly T, or when it
 * sits where a versioned framework keeps its conventional symlinks
 * (Versions/Current naming a version directory, a top-level X whose content
 * is "Versions/Current/X").
 */
#ifndef TSUPPORT_BUNDLE_H
#define TSUPPORT_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "cs_pki.h"

#define TSB_SPARKLE "bundles/sparkle1-deadpikle/Sparkle.framework"
#define TSB_GROWL "bundles/growl-selfsigned-hackerspace/Growl.framework"
#define TSB_NOTIFIER "bundles/terminal-notifier-2014/terminal-notifier.app"
#define TSB_SIGNAPPLE "bundles/signapple-universal-signed/signapple-test.app"

/* Copies a corpus bundle (corpus-relative) into dir, restores its symlinks; returns the copy's path (malloc'd). */
char *tsb_copy_corpus(const char *rel, const char *dir);
/* Restores symlink stand-ins under root (rules above); returns how many. */
int tsb_restore_symlinks(const char *root);

/*
 * Builds dir/Demo.app from the fixtures (not signed):
 *   Contents/Info.plist, PkgInfo, MacOS/Demo (fat-exe), MacOS/helper (arm64-exe),
 *   Frameworks/Foo.framework (versioned A: Foo = fat-dylib, Resources/Info.plist,
 *   Resources/foo.txt; Versions/Current, Foo, Resources symlinks),
 *   Frameworks/libbar.dylib (arm64-dylib), PlugIns/Plug.bundle (Contents/Info.plist,
 *   MacOS/Plug = x86_64-dylib), XPCServices/Svc.xpc (Contents/Info.plist,
 *   MacOS/Svc = arm64-exe, Resources/en.lproj/Localizable.strings),
 *   Resources/en.lproj/Localizable.strings, Resources/Base.lproj/Main.txt,
 *   Resources/data.bin, Resources/link.txt -> data.bin.
 * Returns the path (malloc'd).
 */
char *tsb_build_app(const char *dir);

/*
 * Signs every component of the bundle at root inside-out (ad-hoc when id is
 * NULL).  Returns 0, or a negative code with ut_errmsg() set.
 */
int tsb_sign_bundle(const char *root, const struct cs_identity *id);
/* Signs one component: a bundle (seal from the disk as it is, then its main executable) or a Mach-O file. */
int tsb_sign_one(const char *path, int is_bundle, const struct cs_identity *id);

/* XOR-flips the byte at off. */
void tsb_flip(const char *path, uint64_t off);
/* A file offset inside the __text section of the first slice (a byte every CodeDirectory covers). */
uint64_t tsb_text_offset(const char *path);

#endif
