/*
 * cmd.h - shared pieces of the command-line front end.
 *
 * Only cmd/ prints, reads the environment or the terminal, and exits.
 * Exit statuses: 0 ok; 1 checked and found bad; 2 usage; 3 could not do it.
 */
#ifndef CMD_H
#define CMD_H

#include <stdint.h>
#include <stdio.h>

#define UTMPATCH_VERSION "utmpatch 0.1.0" /* --version, and recorded in every journal */

enum { EXIT_OK = 0, EXIT_BAD = 1, EXIT_USAGE = 2, EXIT_FAIL = 3 };

/* One subcommand: argv[0] is the subcommand name. */
struct cmd_entry {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

#define UTMPATCH_CMD(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef UTMPATCH_CMD
/* `macho edit` (cmd_macho_edit.c), called by cmd_macho with its usage text. */
int cmd_macho_edit(int argc, char **argv, const char *usage_text);

/* Prints "utmpatch: <recorded error>" to stderr and returns EXIT_FAIL (or EXIT_USAGE for UT_EINVAL). */
int cmd_fail(int rc);
/* Prints usage to stderr and returns EXIT_USAGE. */
int cmd_usage_error(const char *usage, const char *fmt, ...);
/* Prints usage to stdout and returns EXIT_OK. */
int cmd_help(const char *usage);
/* Flushes stdout and reports a write error (returns EXIT_FAIL on error, else code). */
int cmd_finish(int code);
/* True when stderr is a terminal and progress lines are wanted. */
int cmd_progress_wanted(int json);
/* True when f is a terminal that may get ANSI escapes: NO_COLOR unset or empty, TERM not "dumb". */
int cmd_color_wanted(FILE *f);
/* Rewrites the progress line on stderr ("what: 12/647 MiB"), and erases it when done reaches total. */
void cmd_progress(const char *what, uint64_t done, uint64_t total);
/* "what: step..." or "what: step 12/647 MiB" (total != 0); step NULL erases the line. */
void cmd_progress_step(const char *what, const char *step, uint64_t done, uint64_t total);
/* A progress callback of the library (ut_install_opts, ut_gate_app_opts): cmd_progress_step with ctx as what. */
void cmd_progress_cb(void *ctx, const char *step, uint64_t done, uint64_t total);
/* Rewrites the progress line with text; NULL erases it.  Callers check cmd_progress_wanted first. */
void cmd_progress_text(const char *text);
/* Finishes the JSON document j writes into b, prints it on stdout and releases b; the ut_json_finish result. */
struct ut_json;
struct ut_buf;
int cmd_json_print(struct ut_json *j, struct ut_buf *b);
/* Seconds since 1970 as "2024-01-31T12:00:00Z" (UTC), or the number when gmtime cannot say. */
void cmd_fmt_time(int64_t t, char out[32]);
/* True if arg equals opt; used by the small hand-rolled option parsers. */
int cmd_is(const char *arg, const char *opt);
/* Fetches the value of an option that takes one (argv[++*i]); NULL if missing. */
const char *cmd_value(int argc, char **argv, int *i);

#endif
