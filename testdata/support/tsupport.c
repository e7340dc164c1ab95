/* tsupport.c - test helpers: paths, temp dirs, running commands, file comparison. */
#define _GNU_SOURCE
#include "tsupport.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && v[0] ? v : def;
}

/* Joined paths stay reachable from this table for the life of the test process. */
static char *interned[4096];
static size_t ninterned;

static const char *join(const char *dir, const char *rel)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		abort();
	if (ninterned < sizeof(interned) / sizeof(interned[0]))
		interned[ninterned++] = p;
	return p;
}

const char *ts_fixture(const char *name) { return join(env_or("UTMPATCH_FIXTURES", "build/fixtures"), name); }
const char *ts_corpus(const char *rel) { return join(env_or("UTMPATCH_CORPUS", "../shared/corpus"), rel); }
const char *ts_root(const char *rel) { return join(env_or("UTMPATCH_ROOT", "."), rel); }
const char *ts_bin(void) { return env_or("UTMPATCH_BIN", "build/utmpatch"); }

char *ts_tmpdir(void)
{
	char *t = strdup("/tmp/utmpatch-test-XXXXXX");
	if (!t || !mkdtemp(t))
		abort();
	return t;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void ts_rmtree(const char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *ts_path(const char *dir, const char *name) { return (char *)join(dir, name); }

static char *slurp_fd(int fd)
{
	size_t cap = 4096, len = 0;
	char *b = malloc(cap);
	for (;;) {
		if (len + 1 >= cap)
			b = realloc(b, cap *= 2);
		ssize_t n = read(fd, b + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	b[len] = '\0';
	return b;
}

int ts_run(char *const argv[], char **out, char **err)
{
	char tout[] = "/tmp/ts-out-XXXXXX", terr[] = "/tmp/ts-err-XXXXXX";
	int fo = mkstemp(tout), fe = mkstemp(terr);
	if (fo < 0 || fe < 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fo, 1);
	posix_spawn_file_actions_adddup2(&fa, fe, 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	int status = 0;
	if (rc == 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	lseek(fo, 0, SEEK_SET);
	lseek(fe, 0, SEEK_SET);
	char *o = slurp_fd(fo), *e = slurp_fd(fe);
	close(fo);
	close(fe);
	unlink(tout);
	unlink(terr);
	if (out)
		*out = o;
	else
		free(o);
	if (err)
		*err = e;
	else
		free(e);
	if (rc != 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int ts_sh(const char *cmdline, char **out, char **err)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmdline, NULL };
	return ts_run(argv, out, err);
}

uint8_t *ts_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *p = malloc((size_t)n + 1);
	if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	if (p) {
		p[n] = 0;
		if (len)
			*len = (size_t)n;
	}
	return p;
}

int ts_copy(const char *from, const char *to)
{
	size_t n;
	uint8_t *p = ts_read(from, &n);
	if (!p)
		return -1;
	struct stat st;
	int mode = stat(from, &st) == 0 ? (int)(st.st_mode & 0777) : 0644;
	int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
	int rc = fd >= 0 && write(fd, p, n) == (ssize_t)n ? 0 : -1;
	if (fd >= 0)
		close(fd);
	free(p);
	return rc;
}

int ts_same_file(const char *a, const char *b)
{
	size_t na, nb;
	uint8_t *pa = ts_read(a, &na), *pb = ts_read(b, &nb);
	int same = pa && pb && na == nb && memcmp(pa, pb, na) == 0;
	free(pa);
	free(pb);
	return same;
}

int ts_sha256_file(const char *path, char out[65])
{
	size_t n;
	uint8_t *p = ts_read(path, &n);
	if (!p)
		return -1;
	unsigned char md[32];
	unsigned int len = 0;
	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	free(p);
	return 0;
}

int ts_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int ts_tsv(const char *path, void (*fn)(char **fields, int nfields, void *ctx), void *ctx)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[8192];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		char *fields[32];
		int nf = 0;
		char *s = line;
		for (;;) {
			char *tab = strchr(s, '\t');
			if (nf < 32)
				fields[nf++] = s;
			if (!tab)
				break;
			*tab = '\0';
			s = tab + 1;
		}
		fn(fields, nf, ctx);
	}
	fclose(f);
	return 0;
}
