/* main.c - parses the subcommand name and dispatches; and the helpers every command shares (cmd.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "ut_err.h"
#include "ut_json.h"

static const struct cmd_entry commands[] = {
#define UTMPATCH_CMD(name, fn, summary) { name, fn, summary },
#include "commands.def"
#undef UTMPATCH_CMD
};

static void print_help(FILE *f)
{
	fprintf(f, "usage: utmpatch <command> [options]\n\n"
		   "Run your own QEMU build inside UTM.app: safely, reversibly, verifiably.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'utmpatch <command> -h' for a command's options.\n"
		   "Exit status: 0 ok, 1 checked and found bad, 2 usage, 3 could not do it.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (cmd_is(argv[1], "-h") || cmd_is(argv[1], "--help") || cmd_is(argv[1], "help")) {
		print_help(stdout);
		return cmd_finish(EXIT_OK);
	}
	if (cmd_is(argv[1], "--version")) {
		printf("%s\n", UTMPATCH_VERSION);
		return cmd_finish(EXIT_OK);
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "utmpatch: unknown command '%s'\n", argv[1]);
	print_help(stderr);
	return EXIT_USAGE;
}

int cmd_fail(int rc)
{
	const char *msg = ut_errmsg();
	fprintf(stderr, "utmpatch: %s\n", msg[0] ? msg : ut_strerror(rc));
	return rc == UT_EINVAL ? EXIT_USAGE : EXIT_FAIL;
}

int cmd_usage_error(const char *usage, const char *fmt, ...)
{
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		fputs("utmpatch: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	fputs(usage, stderr);
	return EXIT_USAGE;
}

int cmd_help(const char *usage)
{
	fputs(usage, stdout);
	return cmd_finish(EXIT_OK);
}

int cmd_finish(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "utmpatch: cannot write to standard output\n");
		return EXIT_FAIL;
	}
	return code;
}

int cmd_progress_wanted(int json)
{
	return !json && isatty(2);
}

int cmd_color_wanted(FILE *f)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
	return isatty(fileno(f)) && !(no && *no) && !(term && strcmp(term, "dumb") == 0);
}

static int progress_len; /* columns of the progress line now on stderr */

void cmd_progress_text(const char *text)
{
	/* With NO_COLOR (or TERM=dumb) no escape sequence at all: the old line is overwritten with spaces. */
	int esc = cmd_color_wanted(stderr);
	if (!text) {
		if (progress_len && esc)
			fputs("\r\033[K", stderr);
		else if (progress_len)
			fprintf(stderr, "\r%*s\r", progress_len, "");
		progress_len = 0;
	} else {
		int n = fprintf(stderr, "\r%s", text);
		n = n > 0 ? n - 1 : 0;
		if (esc)
			fputs("\033[K", stderr);
		else if (n < progress_len)
			fprintf(stderr, "%*s", progress_len - n, "");
		progress_len = n > progress_len || esc ? n : progress_len;
	}
	fflush(stderr);
}

void cmd_progress_step(const char *what, const char *step, uint64_t done, uint64_t total)
{
	char line[256];
	if (!step)
		cmd_progress_text(NULL);
	else if (total)
		snprintf(line, sizeof(line), "%s: %s %llu/%llu MiB", what, step, (unsigned long long)(done >> 20),
			 (unsigned long long)(total >> 20));
	else
		snprintf(line, sizeof(line), "%s: %s...", what, step);
	if (step)
		cmd_progress_text(line);
}

void cmd_progress_cb(void *ctx, const char *step, uint64_t done, uint64_t total)
{
	cmd_progress_step(ctx, step, done, total);
}

void cmd_progress(const char *what, uint64_t done, uint64_t total)
{
	char line[256];
	snprintf(line, sizeof(line), "%s: %llu/%llu MiB", what, (unsigned long long)(done >> 20),
		 (unsigned long long)(total >> 20));
	cmd_progress_text(line);
	if (done >= total)
		cmd_progress_text(NULL);
}

int cmd_json_print(struct ut_json *j, struct ut_buf *b)
{
	int rc = ut_json_finish(j);
	if (!rc)
		fwrite(b->p, 1, b->len, stdout);
	ut_buf_release(b);
	return rc;
}

int cmd_is(const char *arg, const char *opt) { return strcmp(arg, opt) == 0; }

const char *cmd_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

void cmd_fmt_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm))
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(out, 32, "%" PRId64, t);
}
