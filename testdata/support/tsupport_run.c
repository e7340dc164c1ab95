/* tsupport_run.c - spawn a program, feed stdin, collect stdout/stderr and the exit status. */
#define _POSIX_C_SOURCE 200809L
#include "tsupport_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* environ with env applied; the strings are borrowed. */
static char **make_env(const char *const *env)
{
	size_t n = 0, m = 0;
	while (environ[n])
		n++;
	while (env && env[m])
		m++;
	char **e = calloc(n + m + 1, sizeof(*e));
	if (!e)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int drop = 0;
		for (size_t j = 0; j < m && !drop; j++) {
			const char *eq = strchr(env[j], '=');
			size_t nl = eq ? (size_t)(eq - env[j]) : strlen(env[j]);
			drop = strncmp(environ[i], env[j], nl) == 0 && environ[i][nl] == '=';
		}
		if (!drop)
			e[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		if (strchr(env[j], '='))
			e[k++] = (char *)env[j];
	e[k] = NULL;
	return e;
}

static int append(char **buf, size_t *len, const char *p, size_t n)
{
	char *nb = realloc(*buf, *len + n + 1);
	if (!nb)
		return -1;
	memcpy(nb + *len, p, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
	return 0;
}

int tsupport_run(struct tsupport_out *o, const char *const *argv, const char *const *env, const char *stdin_data)
{
	memset(o, 0, sizeof(*o));
	int in[2], out[2], err[2];
	if (pipe(in) != 0)
		return -1;
	if (pipe(out) != 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if (pipe(err) != 0) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	int fds[6] = { in[0], in[1], out[0], out[1], err[0], err[1] };
	for (int i = 0; i < 6; i++)
		posix_spawn_file_actions_addclose(&fa, fds[i]);
	char **e = make_env(env);
	pid_t pid;
	int rc = e ? posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, e) : ENOMEM;
	posix_spawn_file_actions_destroy(&fa);
	free(e);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (rc != 0) {
		close(in[1]);
		close(out[0]);
		close(err[0]);
		return -1;
	}
	/* Feed stdin and drain both outputs together, so no pipe fills up. */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	const char *feed = stdin_data ? stdin_data : "";
	size_t left = strlen(feed);
	int fin = in[1];
	if (left == 0) {
		close(fin);
		fin = -1;
	}
	int fout = out[0], ferr = err[0];
	int failed = 0;
	o->out = calloc(1, 1);
	o->err = calloc(1, 1);
	while (fout >= 0 || ferr >= 0) {
		struct pollfd p[3] = { { fout, POLLIN, 0 }, { ferr, POLLIN, 0 }, { fin, POLLOUT, 0 } };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			failed = 1;
			break;
		}
		if (fin >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(fin, feed, left);
			if (w > 0) {
				feed += w;
				left -= (size_t)w;
			}
			if (w < 0 || left == 0) {
				close(fin);
				fin = -1;
			}
		}
		int *fdp[2] = { &fout, &ferr };
		char **bufp[2] = { &o->out, &o->err };
		size_t *lenp[2] = { &o->outlen, &o->errlen };
		for (int i = 0; i < 2; i++) {
			if (*fdp[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char chunk[65536];
			ssize_t r = read(*fdp[i], chunk, sizeof(chunk));
			if (r > 0) {
				if (append(bufp[i], lenp[i], chunk, (size_t)r) != 0)
					failed = 1;
			} else if (r == 0 || errno != EINTR) {
				close(*fdp[i]);
				*fdp[i] = -1;
			}
		}
	}
	if (fin >= 0)
		close(fin);
	if (fout >= 0)
		close(fout);
	if (ferr >= 0)
		close(ferr);
	signal(SIGPIPE, old);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
	if (failed || !o->out || !o->err) {
		tsupport_out_release(o);
		return -1;
	}
	return 0;
}

void tsupport_out_release(struct tsupport_out *o)
{
	free(o->out);
	free(o->err);
	o->out = o->err = NULL;
	o->outlen = o->errlen = 0;
}
