/* ut_install_int.h - shared by ut_install*.c; not API. */
#ifndef UT_INSTALL_INT_H
#define UT_INSTALL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ut_install.h"
#include "ut_install_util.h"

/* Records a problem (the plan will be refused).  Returns 0, or UT_ENOMEM. */
int ui_problem(struct ut_install *in, enum ut_inst_problem_kind kind, const char *arch, const char *subject,
	       const char *fmt, ...) UT_PRINTF(5, 6);
/* The last problem recorded (to attach symbols). */
struct ut_inst_problem *ui_last_problem(struct ut_install *in);
/* Records a warning. */
/* Tells opts->progress (if any) of a step. */
void ui_step(const struct ut_install *in, const char *step, uint64_t done, uint64_t total);
int ui_warn(struct ut_install *in, const char *fmt, ...) UT_PRINTF(2, 3);

/* ut_install.c: allocation, the bundle and its state. */
int ui_new(struct ut_install **out, const struct ut_install_opts *o, const struct ut_profiles *p, int restore);
/* Staging file path for a bundle-relative path (directories created). */
char *ui_stage_path(struct ut_install *in, const char *what, const char *rel);

/* ut_install_paths.c: target, path plan, rewrite, slices, load check, entry points, sysroot. */
int ui_plan_dylib(struct ut_install *in);
/* The staged framework binary (rewritten and merged), or NULL when the plan stopped before it. */
const char *ui_staged_binary(const struct ut_install *in);
void ui_priv_free(struct ut_install *in);

/* ut_install_check.c: the load check of the staged binary and the entry points of the dylib (mo_file). */
struct mo_file;
int ui_load_check(struct ut_install *in, const struct mo_file *dy);
int ui_entry_points(struct ut_install *in, const struct mo_file *dy);

/* ut_install_lipo.c: one input slice of a universal file. */
struct ui_fat_part {
	const char *path;      /* the file holding the slice */
	uint64_t offset, size; /* its range there */
	uint32_t cputype, cpusubtype;
};
/* Writes a universal file of the parts, in order, each aligned to 2^14 (atomic). */
int ui_fat_write(const char *out, const struct ui_fat_part *parts, size_t n);

/* ut_install_closure.c: which components are signed, with what entitlements. */
int ui_closure_install(struct ut_install *in);
int ui_closure_restore(struct ut_install *in);
/* The team a new signature gets ("" for ad hoc). */
const char *ui_new_team(const struct ut_install *in);

/* ut_install_sign.c: signs the closure into the staging directory and lists the changed files. */
int ui_stage_sign(struct ut_install *in);

/* ut_install_proc.c */
/* Pids of running processes whose executable is path (at most max); *n gets the count. */
int ui_running(const char *path, long *pids, size_t max, size_t *n);
/* Checks that a file can be created in dir: 0, or UT_EREFUSED with the reason. */
int ui_probe_dir(const char *dir);

/* Hex of bytes (malloc'd) and back. */
char *ui_hex_encode(const uint8_t *p, size_t len);
int ui_hex_decode(const char *hex, uint8_t **out, size_t *len);

#endif
