/* tdemo.c - the shared demo UTM.app for install tests (tests only). */
#define _XOPEN_SOURCE 700
#include "tdemo.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_hash.h"
#include "tsupport.h"
#include "tsupport_fs.h"
#include "ut_bytes.h"

static void stamp_of(const char *path, char *out, size_t n)
{
	struct stat st;
	size_t used = strlen(out);
	if (stat(path, &st) == 0)
		snprintf(out + used, n - used, "%s %lld %lld.%09ld\n", path, (long long)st.st_size,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	else
		snprintf(out + used, n - used, "%s missing\n", path);
}

static void stamp(char *out, size_t n)
{
	out[0] = '\0';
	stamp_of(ts_bin(), out, n);
	static const char *const files[] = { "testdata/demo/build-demo.sh", "testdata/recipes/common.sh",
					     "testdata/keys/identity.p12", "testdata/keys/embedded.provisionprofile" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		stamp_of(ts_root(files[i]), out, n);
}

const char *tdemo_app(void)
{
	static char app[4096];
	if (app[0])
		return app;
	const char *fx = getenv("UTMPATCH_FIXTURES");
	char *dir = tsupport_printf("%s/../test-demo", fx && *fx ? fx : "build/fixtures");
	mkdir(dir, 0755);
	char *lock = tsupport_printf("%s/.lock", dir), *stampf = tsupport_printf("%s/.stamp", dir);
	int fd = open(lock, O_RDWR | O_CREAT, 0644);
	cr_assert(fd >= 0, "cannot open %s", lock);
	while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
		;
	char want[8192];
	stamp(want, sizeof(want));
	size_t len = 0;
	uint8_t *have = ts_read(stampf, &len);
	snprintf(app, sizeof(app), "%s/UTM.app", dir);
	if (!have || strcmp((const char *)have, want) != 0 || !ts_exists(app)) {
		char *cmd = tsupport_printf("UTMPATCH='%s' sh '%s' '%s'", ts_bin(), ts_root("testdata/demo/build-demo.sh"),
					    dir);
		char *err = NULL;
		int rc = ts_sh(cmd, NULL, &err);
		cr_assert_eq(rc, 0, "build-demo.sh failed: %s", err ? err : "");
		free(err);
		free(cmd);
		cr_assert_eq(tsupport_write(stampf, want, strlen(want)), 0);
	}
	free(have);
	flock(fd, LOCK_UN);
	close(fd);
	free(lock);
	free(stampf);
	free(dir);
	return app;
}

char *tdemo_copy(const char *dir)
{
	char *dst = tsupport_printf("%s/UTM.app", dir);
	cr_assert_eq(tsupport_copytree(tdemo_app(), dst), 0, "copy of the demo bundle to %s failed", dst);
	return dst;
}

/* ---- tree hash ---- */

struct entry {
	char *line; /* "path\tkind\tmode\ttarget-or-sha256" */
};

static struct entry *g_entries;
static size_t g_n, g_cap;
static size_t g_root_len;

static int collect(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (g_n == g_cap) {
		g_cap = g_cap ? 2 * g_cap : 256;
		g_entries = realloc(g_entries, g_cap * sizeof(*g_entries));
		if (!g_entries)
			abort();
	}
	const char *rel = path + g_root_len;
	char extra[4200] = "";
	if (S_ISLNK(st->st_mode)) {
		ssize_t k = readlink(path, extra, sizeof(extra) - 1);
		extra[k > 0 ? k : 0] = '\0';
	} else if (S_ISREG(st->st_mode)) {
		ts_sha256_file(path, extra);
	}
	g_entries[g_n++].line = tsupport_printf("%s\t%c\t%o\t%s\n", rel, S_ISDIR(st->st_mode) ? 'd' : S_ISLNK(st->st_mode) ? 'l' : 'f',
						(unsigned)(st->st_mode & 07777), extra);
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->line, ((const struct entry *)b)->line);
}

int tdemo_tree_hash(const char *dir, char out[65])
{
	g_entries = NULL;
	g_n = g_cap = 0;
	g_root_len = strlen(dir);
	if (nftw(dir, collect, 16, FTW_PHYS) != 0)
		return -1;
	qsort(g_entries, g_n, sizeof(*g_entries), cmp_entry);
	struct cs_hasher *h = NULL;
	if (cs_hasher_new(CS_HASHTYPE_SHA256, &h))
		return -1;
	for (size_t i = 0; i < g_n; i++) {
		cs_hasher_update(h, g_entries[i].line, strlen(g_entries[i].line));
		free(g_entries[i].line);
	}
	free(g_entries);
	uint8_t md[CS_HASH_MAX_SIZE];
	int rc = cs_hasher_final(h, md);
	cs_hasher_free(h);
	if (!rc)
		ut_hex(out, md, 32);
	return rc;
}
