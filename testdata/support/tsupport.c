/* tsupport.c - test helpers: paths, temp dirs, running commands, file comparison (the ts_* names over tsupport_fs/run). */
#define _GNU_SOURCE
#include "tsupport.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tsupport_fs.h"
#include "tsupport_run.h"

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
const char *ts_root(const char *rel) { return join(tsupport_root(), rel); }
const char *ts_bin(void) { return env_or("UTMPATCH_BIN", "build/utmpatch"); }
const char *tsupport_root(void) { return env_or("UTMPATCH_ROOT", "."); }

char *ts_tmpdir(void)
{
	char *t = strdup("/tmp/utmpatch-test-XXXXXX");
	if (!t || !mkdtemp(t))
		abort();
	return t;
}

void ts_rmtree(const char *dir)
{
	if (dir)
		tsupport_rmtree(dir);
}

char *ts_path(const char *dir, const char *name) { return (char *)join(dir, name); }

int ts_run(char *const argv[], char **out, char **err)
{
	struct tsupport_out o;
	int rc = tsupport_run(&o, (const char *const *)argv, NULL, NULL);
	if (rc != 0)
		o.out = strdup(""), o.err = strdup("");
	if (out)
		*out = o.out, o.out = NULL;
	if (err)
		*err = o.err, o.err = NULL;
	int st = o.status;
	tsupport_out_release(&o);
	return rc != 0 ? -1 : st;
}

int ts_sh(const char *cmdline, char **out, char **err)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmdline, NULL };
	return ts_run(argv, out, err);
}

uint8_t *ts_read(const char *path, size_t *len)
{
	uint8_t *p;
	size_t n;
	if (tsupport_read(path, &p, &n) != 0)
		return NULL;
	if (len)
		*len = n;
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
