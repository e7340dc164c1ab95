/*
 * test_manpage.c - docs/utmpatch.1 keeps up with the program: every subcommand
 * of cmd/commands.def has its own subsection; every long option the program's
 * own --help prints for a subcommand (and for each `macho` sub-subcommand)
 * appears in that subcommand's part of the page; groff -man -ww renders it
 * without a warning; and ENVIRONMENT names every UTMPATCH_* variable a
 * non-test source file passes to getenv().  The oracles are the binary's help,
 * the sources and groff; nothing here is derived from the page itself.
 */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tsupport.h"
#include "tsupport_fs.h"
#include "tsupport_run.h"

#define MAX_LINES 8192
#define MAX_NAMES 256

/* The page, one entry per source line, with the section and subsection it is in. */
struct page {
	char *text;
	size_t n;
	char *line[MAX_LINES]; /* normalised: font escapes and \& \: \% \c dropped, \- is - */
	const char *sh[MAX_LINES];
	const char *ss[MAX_LINES]; /* "" outside a subsection */
};

static char *root_path(const char *rel) { return tsupport_printf("%s/%s", tsupport_root(), rel); }

static char *read_text(const char *path)
{
	uint8_t *p = NULL;
	size_t len = 0;
	cr_assert_eq(tsupport_read(path, &p, &len), 0, "cannot read %s", path);
	return (char *)p;
}

/* Drops troff escapes that only change fonts or break points, so "\fB\-\-app\fR" reads "--app". */
static void normalise(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (r[0] == '\\' && r[1] == 'f' && r[2] == '(' && r[3] && r[4]) {
			r += 5;
		} else if (r[0] == '\\' && r[1] == 'f' && r[2]) {
			r += 3;
		} else if (r[0] == '\\' && r[1] && strchr("&:%c", r[1])) {
			r += 2;
		} else if (r[0] == '\\' && (r[1] == '-' || r[1] == 'e')) {
			*w++ = r[1] == '-' ? '-' : '\\';
			r += 2;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* A macro's argument line without its quotes: `.SS "macho info"` gives "macho info". */
static const char *macro_arg(char *line, size_t skip)
{
	char *a = line + skip;
	while (*a == ' ')
		a++;
	size_t n = strlen(a);
	if (n >= 2 && a[0] == '"' && a[n - 1] == '"') {
		a[n - 1] = '\0';
		a++;
	}
	return a;
}

static struct page *page_load(void)
{
	struct page *pg = calloc(1, sizeof(*pg));
	cr_assert(pg);
	char *path = root_path("docs/utmpatch.1");
	pg->text = read_text(path);
	free(path);
	const char *sh = "", *ss = "";
	for (char *save = NULL, *l = strtok_r(pg->text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cr_assert_lt(pg->n, MAX_LINES, "docs/utmpatch.1: too many lines");
		if (strncmp(l, ".SH", 3) == 0 && (l[3] == ' ' || !l[3])) {
			sh = macro_arg(l, 3);
			ss = "";
		} else if (strncmp(l, ".SS", 3) == 0 && (l[3] == ' ' || !l[3])) {
			ss = macro_arg(l, 3);
		}
		normalise(l);
		pg->line[pg->n] = l;
		pg->sh[pg->n] = sh;
		pg->ss[pg->n] = ss;
		pg->n++;
	}
	return pg;
}

static void page_free(struct page *pg)
{
	free(pg->text);
	free(pg);
}

/* 1 when the subsection title's first word is word (".SS macho info" is part of "macho"). */
static int title_starts(const char *title, const char *word)
{
	size_t n = strlen(word);
	return strncmp(title, word, n) == 0 && (title[n] == '\0' || title[n] == ' ');
}

/* 1 when opt occurs in s as a whole option: "--info-plist" does not match inside "--info-plist-hash". */
static int has_option(const char *s, const char *opt)
{
	size_t n = strlen(opt);
	for (const char *p = strstr(s, opt); p; p = strstr(p + 1, opt)) {
		char before = p == s ? ' ' : p[-1];
		char after = p[n];
		if (!(isalnum((unsigned char)before) || before == '-') && !(isalnum((unsigned char)after) || after == '-'))
			return 1;
	}
	return 0;
}

/* 1 when opt occurs in a line of the subsections whose title is title (exact) or starts with word title. */
static int page_has(const struct page *pg, const char *title, int exact, const char *opt)
{
	for (size_t i = 0; i < pg->n; i++)
		if (strcmp(pg->sh[i], "COMMANDS") == 0 && (exact ? strcmp(pg->ss[i], title) == 0 : title_starts(pg->ss[i], title)) &&
		    has_option(pg->line[i], opt))
			return 1;
	return 0;
}

/* The subcommand names of cmd/commands.def, in order. */
static size_t commands(char *names[MAX_NAMES])
{
	char *path = root_path("cmd/commands.def");
	char *text = read_text(path);
	size_t n = 0;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "UTMPATCH_CMD(\"", 14) != 0)
			continue;
		char *end = strchr(l + 14, '"');
		cr_assert(end, "cmd/commands.def: unterminated name: %s", l);
		cr_assert_lt(n, MAX_NAMES);
		names[n++] = strndup(l + 14, (size_t)(end - (l + 14)));
	}
	free(text);
	free(path);
	cr_assert_gt(n, 0, "no UTMPATCH_CMD line in cmd/commands.def");
	return n;
}

/* Every "--word" token of text (malloc'd strings, duplicates dropped). */
static size_t long_options(const char *text, char *out[MAX_NAMES])
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, "--")) != NULL;) {
		int starts = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '-');
		size_t len = 2;
		while (isalnum((unsigned char)p[len]) || p[len] == '-' || p[len] == '_')
			len++;
		if (starts && len > 2 && isalpha((unsigned char)p[2])) {
			int dup = 0;
			for (size_t k = 0; k < n && !dup; k++)
				dup = strlen(out[k]) == len && strncmp(out[k], p, len) == 0;
			if (!dup) {
				cr_assert_lt(n, MAX_NAMES);
				out[n++] = strndup(p, len);
			}
		}
		p += len;
	}
	return n;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

/* utmpatch <argv...> --help: its standard output (malloc'd); the command must exit 0 and print nothing on stderr. */
static char *help_of(const char *cmd, const char *sub)
{
	const char *argv[] = { ts_bin(), cmd, sub ? sub : "--help", sub ? "--help" : NULL, NULL };
	struct tsupport_out o;
	cr_assert_eq(tsupport_run(&o, argv, NULL, NULL), 0, "cannot run %s", ts_bin());
	cr_assert_eq(o.status, 0, "utmpatch %s%s%s --help: exit %d\n%s", cmd, sub ? " " : "", sub ? sub : "", o.status, o.err);
	cr_assert_str_empty(o.err, "utmpatch %s --help: %s", cmd, o.err);
	cr_assert(strstr(o.out, "usage: "), "utmpatch %s --help printed no usage:\n%s", cmd, o.out);
	char *r = strdup(o.out);
	tsupport_out_release(&o);
	return r;
}

Test(manpage, every_subcommand_has_its_own_subsection)
{
	struct page *pg = page_load();
	char *names[MAX_NAMES];
	size_t n = commands(names);
	cr_assert_geq(n, 9);
	for (size_t i = 0; i < n; i++) {
		int found = 0;
		for (size_t k = 0; k < pg->n && !found; k++)
			found = strcmp(pg->sh[k], "COMMANDS") == 0 && title_starts(pg->ss[k], names[i]);
		cr_expect(found, "docs/utmpatch.1: no '.SS %s' subsection under COMMANDS", names[i]);
	}
	free_names(names, n);
	page_free(pg);
}

Test(manpage, every_long_option_of_every_help_is_in_its_subcommands_part, .timeout = 60)
{
	struct page *pg = page_load();
	char *names[MAX_NAMES];
	size_t n = commands(names);
	size_t checked = 0;
	for (size_t i = 0; i < n; i++) {
		char *help = help_of(names[i], NULL);
		char *opts[MAX_NAMES];
		size_t m = long_options(help, opts);
		for (size_t k = 0; k < m; k++, checked++)
			cr_expect(strcmp(opts[k], "--help") == 0 || page_has(pg, names[i], 0, opts[k]),
				  "docs/utmpatch.1: '%s' of `utmpatch %s --help` is not in the %s subsection", opts[k],
				  names[i], names[i]);
		free_names(opts, m);
		free(help);
	}
	cr_assert_gt(checked, 50, "only %zu options found in the helps", checked);
	/* --help is every subcommand's: the page says so once, under Conventions. */
	int conventions = 0;
	for (size_t k = 0; k < pg->n && !conventions; k++)
		conventions = strcmp(pg->ss[k], "Conventions") == 0 && has_option(pg->line[k], "--help");
	cr_expect(conventions, "docs/utmpatch.1: the Conventions subsection does not explain --help");
	free_names(names, n);
	page_free(pg);
}

/*
 * macho's sub-subcommands are the "utmpatch macho <sub>" usage lines of its help;
 * each has its own "macho <sub>" subsection holding the options of its usage
 * line(s), and `macho <sub> --help` prints no option the macho part lacks.
 */
Test(manpage, macho_subcommands_each_have_a_subsection_with_their_options)
{
	struct page *pg = page_load();
	char *help = help_of("macho", NULL);
	/* Each usage line, with its indented continuation lines, by sub-subcommand. */
	static char subs[16][64], usages[16][4096];
	size_t nsubs = 0;
	int in_usage = 0;
	for (char *save = NULL, *l = strtok_r(help, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *u = strstr(l, "utmpatch macho ");
		if (u && (strncmp(l, "usage: ", 7) == 0 || l[0] == ' ')) {
			cr_assert_lt(nsubs, 16);
			cr_assert_eq(sscanf(u + 15, "%63[a-z]", subs[nsubs]), 1, "macho help: %s", l);
			snprintf(usages[nsubs], sizeof(usages[nsubs]), "%s", u);
			nsubs++;
			in_usage = 1;
		} else if (in_usage && l[0] == ' ') {
			strncat(usages[nsubs - 1], l, sizeof(usages[0]) - strlen(usages[nsubs - 1]) - 1);
		} else {
			in_usage = 0;
		}
	}
	cr_assert_geq(nsubs, 3, "macho --help names %zu sub-subcommands", nsubs);
	for (size_t i = 0; i < nsubs; i++) {
		char title[80];
		snprintf(title, sizeof(title), "macho %s", subs[i]);
		int found = 0;
		for (size_t k = 0; k < pg->n && !found; k++)
			found = strcmp(pg->sh[k], "COMMANDS") == 0 && strcmp(pg->ss[k], title) == 0;
		cr_expect(found, "docs/utmpatch.1: no '.SS \"%s\"' subsection", title);
		char *opts[MAX_NAMES];
		size_t m = long_options(usages[i], opts);
		for (size_t k = 0; k < m; k++)
			cr_expect(page_has(pg, title, 1, opts[k]), "docs/utmpatch.1: '%s' of `utmpatch %s` is not in its subsection",
				  opts[k], title);
		free_names(opts, m);
		char *subhelp = help_of("macho", subs[i]);
		m = long_options(subhelp, opts);
		for (size_t k = 0; k < m; k++)
			cr_expect(page_has(pg, "macho", 0, opts[k]), "docs/utmpatch.1: '%s' of `utmpatch %s --help` is missing",
				  opts[k], title);
		free_names(opts, m);
		free(subhelp);
	}
	free(help);
	page_free(pg);
}

Test(manpage, groff_renders_it_without_a_warning)
{
	char *path = root_path("docs/utmpatch.1");
	const char *argv[] = { "groff", "-man", "-ww", "-z", "-Tutf8", path, NULL };
	struct tsupport_out o;
	int rc = tsupport_run(&o, argv, NULL, NULL);
#ifdef __APPLE__
	if (rc != 0 || o.status == 127) {
		free(path);
		cr_skip_test("groff is not installed (brew install groff)");
	}
#endif
	cr_assert_eq(rc, 0, "cannot run groff (tools/setup.sh installs groff-base)");
	cr_expect_eq(o.status, 0, "groff exit %d: %s", o.status, o.err);
	cr_expect_str_empty(o.err, "groff -man -ww -z docs/utmpatch.1 warns:\n%s", o.err);
	tsupport_out_release(&o);
	free(path);
}

/* Collects getenv("UTMPATCH_...") names from the .c and .h files under dir, skipping tests/ and fuzz/. */
static void scan_getenv(const char *dir, char *names[MAX_NAMES], size_t *n, size_t *files)
{
	DIR *d = opendir(dir);
	cr_assert(d, "cannot open %s", dir);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char *p = tsupport_printf("%s/%s", dir, de->d_name);
		struct stat st;
		cr_assert_eq(lstat(p, &st), 0, "%s", p);
		size_t len = strlen(de->d_name);
		if (S_ISDIR(st.st_mode)) {
			if (strcmp(de->d_name, "tests") && strcmp(de->d_name, "fuzz"))
				scan_getenv(p, names, n, files);
		} else if (S_ISREG(st.st_mode) && len > 2 && de->d_name[len - 2] == '.' &&
			   (de->d_name[len - 1] == 'c' || de->d_name[len - 1] == 'h')) {
			char *src = read_text(p);
			(*files)++;
			for (const char *q = strstr(src, "getenv"); q; q = strstr(q + 6, "getenv")) {
				const char *a = q + 6;
				while (*a == ' ' || *a == '\t' || *a == '(' || *a == '\n')
					a++;
				if (strncmp(a, "\"UTMPATCH_", 10) != 0)
					continue;
				size_t k = 1;
				while (isupper((unsigned char)a[k]) || isdigit((unsigned char)a[k]) || a[k] == '_')
					k++;
				char *name = strndup(a + 1, k - 1);
				int dup = 0;
				for (size_t j = 0; j < *n && !dup; j++)
					dup = strcmp(names[j], name) == 0;
				if (dup) {
					free(name);
				} else {
					cr_assert_lt(*n, MAX_NAMES);
					names[(*n)++] = name;
				}
			}
			free(src);
		}
		free(p);
	}
	closedir(d);
}

Test(manpage, environment_names_every_utmpatch_variable_the_program_reads)
{
	static const char *const dirs[] = { "cmd", "lib", "machotools", "signing" };
	char *names[MAX_NAMES];
	size_t n = 0, files = 0;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *d = root_path(dirs[i]);
		scan_getenv(d, names, &n, &files);
		free(d);
	}
	cr_assert_gt(files, 50, "only %zu source files scanned", files);
	/* The scan itself must see what cmd/ is known to read today. */
	int profiles = 0;
	for (size_t i = 0; i < n; i++)
		profiles |= strcmp(names[i], "UTMPATCH_PROFILES") == 0;
	cr_assert(profiles, "the getenv scan missed UTMPATCH_PROFILES (cmd/cmd_env.c)");

	struct page *pg = page_load();
	size_t env_lines = 0;
	for (size_t k = 0; k < pg->n; k++)
		env_lines += strcmp(pg->sh[k], "ENVIRONMENT") == 0;
	cr_assert_gt(env_lines, 1, "docs/utmpatch.1 has no ENVIRONMENT section");
	for (size_t i = 0; i < n; i++) {
		int found = 0;
		for (size_t k = 0; k < pg->n && !found; k++) {
			if (strcmp(pg->sh[k], "ENVIRONMENT"))
				continue;
			const char *p = strstr(pg->line[k], names[i]);
			size_t len = strlen(names[i]);
			found = p && !(isupper((unsigned char)p[len]) || isdigit((unsigned char)p[len]) || p[len] == '_');
		}
		cr_expect(found, "docs/utmpatch.1: ENVIRONMENT does not name %s, which the program reads", names[i]);
	}
	free_names(names, n);
	page_free(pg);
}
