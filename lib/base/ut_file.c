/* ut_file.c - sources, whole-file reads, atomic writes. */
#define _POSIX_C_SOURCE 200809L
#include "ut_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ut_err.h"
#include "ut_limits.h"
#include "ut_platform.h"

int ut_src_open(struct ut_src *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ut_fail_errno(errno == ENOENT ? UT_ENOTFOUND : UT_EIO, errno, "cannot open '%s'", path);
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return ut_fail_errno(UT_EIO, e, "cannot stat '%s'", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return ut_fail(UT_EINVAL, "'%s' is not a regular file", path);
	}
	if ((uint64_t)st.st_size > UT_MAX_INPUT_SIZE) {
		close(fd);
		return ut_fail(UT_EUNSUPPORTED, "'%s' is larger than %llu bytes", path,
			       (unsigned long long)UT_MAX_INPUT_SIZE);
	}
	s->name = strdup(path);
	if (!s->name) {
		close(fd);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	s->fd = fd;
	s->size = (uint64_t)st.st_size;
	return 0;
}

int ut_src_mem(struct ut_src *s, const void *p, size_t len, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->mem = p;
	s->size = len;
	s->name = strdup(name ? name : "<memory>");
	return s->name ? 0 : ut_fail(UT_ENOMEM, "out of memory");
}

void ut_src_release(struct ut_src *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->name);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

int ut_src_read(const struct ut_src *s, uint64_t off, void *buf, size_t len)
{
	if (off > s->size || len > s->size - off)
		return ut_fail(UT_EMALFORMED, "read of %zu bytes at offset %llu past end of file (size %llu)", len,
			       (unsigned long long)off, (unsigned long long)s->size);
	if (s->fd < 0) {
		if (len)
			memcpy(buf, s->mem + off, len);
		return 0;
	}
	uint8_t *q = buf;
	while (len) {
		ssize_t n = pread(s->fd, q, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ut_fail_errno(UT_EIO, errno, "cannot read '%s'", s->name);
		if (n == 0)
			return ut_fail(UT_EIO, "'%s' shrank while being read", s->name);
		q += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int ut_src_read_alloc(const struct ut_src *s, uint64_t off, size_t len, uint8_t **out)
{
	*out = NULL;
	uint8_t *p = malloc(len ? len : 1);
	if (!p)
		return ut_fail(UT_ENOMEM, "cannot allocate %zu bytes", len);
	int rc = ut_src_read(s, off, p, len);
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int ut_file_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	struct ut_src s;
	int rc = ut_src_open(&s, path);
	if (rc)
		return rc;
	if (s.size > max) {
		rc = ut_fail(UT_EUNSUPPORTED, "'%s' is larger than %zu bytes", path, max);
		ut_src_release(&s);
		return rc;
	}
	uint8_t *p = malloc((size_t)s.size + 1);
	if (!p) {
		ut_src_release(&s);
		return ut_fail(UT_ENOMEM, "cannot allocate %llu bytes", (unsigned long long)s.size);
	}
	rc = ut_src_read(&s, 0, p, (size_t)s.size);
	if (rc) {
		free(p);
		ut_src_release(&s);
		return rc;
	}
	p[s.size] = '\0';
	*out = p;
	*len = (size_t)s.size;
	ut_src_release(&s);
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int ut_fsync_parent(const char *path)
{
	char *dir = dir_of(path);
	if (!dir)
		return ut_fail(UT_ENOMEM, "out of memory");
	int fd = open(dir, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(dir);
		return ut_fail_errno(UT_EIO, e, "cannot open directory of '%s'", path);
	}
	int rc = 0;
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = ut_fail_errno(UT_EIO, errno, "cannot fsync directory of '%s'", path);
	close(fd);
	free(dir);
	return rc;
}

int ut_atomic_open(struct ut_atomic *a, const char *dst, int mode)
{
	memset(a, 0, sizeof(*a));
	a->fd = -1;
	struct stat st;
	if (mode >= 0)
		a->mode = (mode_t)mode;
	else if (stat(dst, &st) == 0)
		a->mode = st.st_mode & 07777;
	else
		a->mode = 0644;
	char *dir = dir_of(dst);
	const char *base = strrchr(dst, '/');
	base = base ? base + 1 : dst;
	size_t n = strlen(dir) + strlen(base) + 32;
	a->tmp = malloc(n);
	a->dst = strdup(dst);
	if (!dir || !a->tmp || !a->dst) {
		free(dir);
		ut_atomic_abort(a);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	snprintf(a->tmp, n, "%s/.%s.utmpatch-XXXXXX", dir, base);
	free(dir);
	a->fd = mkstemp(a->tmp);
	if (a->fd < 0) {
		int e = errno;
		free(a->tmp);
		a->tmp = NULL;
		ut_atomic_abort(a);
		return ut_fail_errno(UT_EIO, e, "cannot create a temporary file next to '%s'", dst);
	}
	return 0;
}

int ut_atomic_zeros(struct ut_atomic *a, uint64_t n)
{
	static const uint8_t zeros[16384];
	while (n) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
		int rc = ut_atomic_write(a, zeros, k);
		if (rc)
			return rc;
		n -= k;
	}
	return 0;
}

int ut_atomic_pwrite(struct ut_atomic *a, uint64_t off, const void *p, size_t len)
{
	const uint8_t *q = p;
	while (len) {
		ssize_t n = pwrite(a->fd, q, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ut_fail_errno(UT_EIO, errno, "cannot write '%s'", a->tmp);
		q += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int ut_atomic_write(struct ut_atomic *a, const void *p, size_t len)
{
	const uint8_t *q = p;
	while (len) {
		ssize_t n = write(a->fd, q, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ut_fail_errno(UT_EIO, errno, "cannot write '%s'", a->tmp);
		q += n;
		len -= (size_t)n;
	}
	return 0;
}

int ut_atomic_copy(struct ut_atomic *a, const struct ut_src *s, uint64_t off, uint64_t len)
{
	if (off > s->size || len > s->size - off)
		return ut_fail(UT_EMALFORMED, "copy of %llu bytes at offset %llu past end of '%s'",
			       (unsigned long long)len, (unsigned long long)off, s->name);
	if (s->fd < 0)
		return ut_atomic_write(a, s->mem + off, (size_t)len);
	return ut_copy_range(s->fd, off, a->fd, len, s->name, a->tmp);
}

int ut_atomic_commit(struct ut_atomic *a)
{
	int rc = 0;
	if (fchmod(a->fd, a->mode) != 0)
		rc = ut_fail_errno(UT_EIO, errno, "cannot set the mode of '%s'", a->tmp);
	if (!rc && fsync(a->fd) != 0)
		rc = ut_fail_errno(UT_EIO, errno, "cannot fsync '%s'", a->tmp);
	if (close(a->fd) != 0 && !rc)
		rc = ut_fail_errno(UT_EIO, errno, "cannot close '%s'", a->tmp);
	a->fd = -1;
	if (!rc && rename(a->tmp, a->dst) != 0)
		rc = ut_fail_errno(UT_EIO, errno, "cannot rename '%s' to '%s'", a->tmp, a->dst);
	if (!rc) {
		free(a->tmp);
		a->tmp = NULL;
		rc = ut_fsync_parent(a->dst);
	}
	ut_atomic_abort(a);
	return rc;
}

void ut_atomic_abort(struct ut_atomic *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	if (a->tmp)
		unlink(a->tmp);
	free(a->tmp);
	free(a->dst);
	a->tmp = NULL;
	a->dst = NULL;
}

int ut_file_write_atomic(const char *dst, const void *p, size_t len, int mode)
{
	struct ut_atomic a;
	int rc = ut_atomic_open(&a, dst, mode);
	if (rc)
		return rc;
	rc = ut_atomic_write(&a, p, len);
	if (rc) {
		ut_atomic_abort(&a);
		return rc;
	}
	return ut_atomic_commit(&a);
}

char *ut_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 2);
	if (!p) {
		ut_fail(UT_ENOMEM, "out of memory");
		return NULL;
	}
	memcpy(p, a, la);
	size_t n = la;
	if (la && lb)
		p[n++] = '/';
	memcpy(p + n, b, lb + 1);
	return p;
}
