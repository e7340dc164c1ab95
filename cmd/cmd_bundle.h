/* cmd_bundle.h - the bundle halves of `verify` and `audit` (cmd_verify_bundle.c, cmd_audit_bundle.c) and the gate (cmd_verify_gate.c). */
#ifndef CMD_BUNDLE_H
#define CMD_BUNDLE_H

#include <stddef.h>

#include "cs_bverify.h"
#include "cs_pki.h"

/* verify on a bundle directory: flags CS_BVERIFY_*; returns the exit status. */
int cmd_verify_bundle(const char *bundle, unsigned flags, const struct cs_trust *trust, int verbose);
/* audit on a bundle directory; returns the exit status. */
int cmd_audit_bundle(const char *bundle, int json, const struct cs_trust *trust);

/* Sets the progress callback when a progress line is wanted (cmd_progress_wanted). */
void cmd_bundle_progress(struct cs_bverify_opts *o, const char *what, int json);
/* bundle + "/" + rel (just the bundle for ""). */
void cmd_bundle_name(char *out, size_t n, const char *bundle, const char *rel);
/* Judged components in path order (malloc'd array of borrowed pointers; NULL when out of memory). */
const struct cs_bverify_component **cmd_bundle_sorted(const struct cs_bverify_result *r, size_t *n);
/* The gate form of verify (cmd_verify_gate.c): 1 when argv has one of its options. */
int cmd_verify_is_gate(int argc, char **argv);
/* verify --app/--vms: runs the gate; returns the exit status. */
int cmd_verify_gate(int argc, char **argv, const char *usage);
/* 1 when path is a directory. */
int cmd_is_dir(const char *path);

#endif
