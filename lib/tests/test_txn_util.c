/* test_txn_util.c - helpers of the transaction tests (see test_txn_util.h). */
#define _XOPEN_SOURCE 700
#include "test_txn_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tsupport.h"
#include "tsupport_fs.h"
#include "ut_err.h"
#include "ut_state.h"

const char *const tx_planned[] = {
	"Contents/MacOS/UTM",
	"Contents/Frameworks/qemu.framework/Versions/A/qemu",
	"Contents/Resources/old.txt",
	"Contents/Resources/new.dylib",
	"Contents/Frameworks/qemu.framework/qemu",
	"Contents/Resources/newdir",
	"Contents/Resources/newdir/inner.txt",
	NULL,
};

/* Deterministic bytes: a mix of compressible text and pseudo-random data. */
static void write_blob(const char *path, size_t n, unsigned seed, int mode)
{
	unsigned char *p = malloc(n);
	cr_assert(p);
	unsigned x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (i / 4096) % 2 ? (unsigned char)(x >> 16) : (unsigned char)("utmpatch "[i % 9]);
	}
	cr_assert_eq(tsupport_write(path, p, n), 0);
	cr_assert_eq(chmod(path, (mode_t)mode), 0);
	free(p);
}

void tx_write(const char *path, const char *s) { cr_assert_eq(tsupport_write(path, s, strlen(s)), 0, "%s", path); }

static void mk(const char *root, const char *rel)
{
	char *p = tsupport_printf("%s/%s", root, rel);
	cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s", p);
	free(p);
}

static char *at(const char *root, const char *rel) { return tsupport_printf("%s/%s", root, rel); }

void tx_copy_tree(const char *from, const char *to)
{
	char *cmd = tsupport_printf("cp -a '%s' '%s'", from, to);
	cr_assert_eq(ts_sh(cmd, NULL, NULL), 0, "%s", cmd);
	free(cmd);
}

void tx_env_init(struct tx_env *e, const char *tag)
{
	e->root = tsupport_tmpdir(tag);
	cr_assert(e->root);
	e->bundle = at(e->root, "UTM.app");
	e->state = at(e->root, "state");
	e->saved = at(e->root, "pristine.app");
	cr_assert_eq(mkdir(e->bundle, 0755), 0);
	mk(e->bundle, "Contents");
	mk(e->bundle, "Contents/MacOS");
	mk(e->bundle, "Contents/Resources");
	mk(e->bundle, "Contents/Frameworks");
	mk(e->bundle, "Contents/Frameworks/qemu.framework");
	mk(e->bundle, "Contents/Frameworks/qemu.framework/Versions");
	mk(e->bundle, "Contents/Frameworks/qemu.framework/Versions/A");
	char *p = at(e->bundle, "Contents/Info.plist");
	tx_write(p, "<?xml version=\"1.0\"?>\n<plist><dict/></plist>\n");
	free(p);
	p = at(e->bundle, "Contents/MacOS/UTM");
	write_blob(p, 300000, 1, 0755);
	free(p);
	p = at(e->bundle, "Contents/Frameworks/qemu.framework/Versions/A/qemu");
	write_blob(p, 1200000, 2, 0755);
	free(p);
	p = at(e->bundle, "Contents/Frameworks/qemu.framework/Versions/A/other");
	write_blob(p, 5000, 3, 0644);
	free(p);
	p = at(e->bundle, "Contents/Resources/old.txt");
	tx_write(p, "to be deleted\n");
	cr_assert_eq(chmod(p, 0600), 0);
	free(p);
	p = at(e->bundle, "Contents/Resources/empty");
	tx_write(p, "");
	free(p);
	p = at(e->bundle, "Contents/Frameworks/qemu.framework/Versions/Current");
	cr_assert_eq(symlink("A", p), 0);
	free(p);
	p = at(e->bundle, "Contents/Frameworks/qemu.framework/qemu");
	cr_assert_eq(symlink("Versions/Current/qemu", p), 0);
	free(p);
	tx_copy_tree(e->bundle, e->saved);
}

void tx_env_release(struct tx_env *e)
{
	if (e->root)
		tsupport_rmtree(e->root);
	free(e->root);
	free(e->bundle);
	free(e->state);
	free(e->saved);
	memset(e, 0, sizeof(*e));
}

#define TRY(x)                                                                                                         \
	do {                                                                                                           \
		if ((rc = (x)) != 0)                                                                                   \
			goto out;                                                                                      \
	} while (0)

int tx_run(const struct tx_env *e, unsigned fail_after)
{
	struct ut_txn *t = NULL;
	struct ut_txn_opts o = { .what = "test install", .tool_version = "test", .fail_after = fail_after };
	char *tmp = at(e->root, "new-UTM");
	write_blob(tmp, 310000, 11, 0755);
	int rc;
	TRY(ut_txn_begin(&t, e->state, e->bundle, &o));
	for (int i = 0; tx_planned[i]; i++)
		TRY(ut_txn_plan_file(t, tx_planned[i], NULL));
	TRY(ut_txn_replace(t, "Contents/MacOS/UTM", tmp, -1));
	static char qemu[70000];
	memset(qemu, 'q', sizeof(qemu));
	TRY(ut_txn_write(t, "Contents/Frameworks/qemu.framework/Versions/A/qemu", qemu, sizeof(qemu), 0755));
	TRY(ut_txn_delete(t, "Contents/Resources/old.txt"));
	TRY(ut_txn_write(t, "Contents/Resources/new.dylib", "new dylib\n", 10, 0644));
	TRY(ut_txn_symlink(t, "Contents/Frameworks/qemu.framework/qemu", "Versions/A/qemu"));
	TRY(ut_txn_mkdir(t, "Contents/Resources/newdir", 0750));
	TRY(ut_txn_write(t, "Contents/Resources/newdir/inner.txt", "inner\n", 6, 0600));
	TRY(ut_txn_mark_verified(t));
	struct ut_kv meta[] = { { "target", "qemu-aarch64-softmmu" }, { "dylib_sha256", "ab" }, { "when", "now" } };
	TRY(ut_txn_commit(t, meta, 3));
out:
	ut_txn_free(t);
	unlink(tmp);
	free(tmp);
	return rc;
}

int tx_same_tree(const char *a, const char *b)
{
	char *cmd = tsupport_printf("diff -r --no-dereference '%s' '%s' && "
				    "(cd '%s' && find . -printf '%%y %%m %%p %%l\\n' | sort) > '%s.list' && "
				    "(cd '%s' && find . -printf '%%y %%m %%p %%l\\n' | sort) > '%s.list' && "
				    "diff '%s.list' '%s.list'; r=$?; rm -f '%s.list' '%s.list'; exit $r",
				    a, b, a, a, b, b, a, b, a, b);
	char *out = NULL, *err = NULL;
	int rc = ts_sh(cmd, &out, &err);
	if (rc != 0)
		cr_log_error("trees differ: %s\n%s%s", cmd, out ? out : "", err ? err : "");
	free(out);
	free(err);
	free(cmd);
	return rc == 0;
}

char *tx_state_subdir(const struct tx_env *e)
{
	char *cmd = tsupport_printf("ls -d '%s'/bundles/*", e->state);
	char *out = NULL;
	cr_assert_eq(ts_sh(cmd, &out, NULL), 0, "%s", cmd);
	out[strcspn(out, "\n")] = '\0';
	free(cmd);
	return out;
}

int tx_blob_matches(const char *store_dir, const char *path)
{
	char sha[65];
	if (ts_sha256_file(path, sha) != 0)
		return 0;
	char *cmd = tsupport_printf("python3 -c 'import sys,zlib; sys.stdout.buffer.write(zlib.decompress(open(sys.argv[1],"
				    "\"rb\").read()))' '%s/%s.z' | cmp -s - '%s'",
				    store_dir, sha, path);
	int rc = ts_sh(cmd, NULL, NULL);
	free(cmd);
	return rc == 0;
}

int tx_fork(int (*fn)(void *ctx, unsigned fail_after), void *ctx, unsigned fail_after)
{
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(fn(ctx, fail_after) == 0 ? 0 : 1);
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}
