/*
 * cs_bverify_pool.c - run the verification jobs: every code file and every
 * sealed file, largest first.  Code files of BIG_CODE bytes or more go first,
 * one at a time, with their pages hashed on every thread (cs_hash_pages); the
 * rest are shared out to nthreads workers, one file per worker at a time.
 * Workers only write into their own job's slots; the progress counter is
 * guarded by a mutex.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cs_bverify_priv.h"
#include "ut_err.h"

#define BIG_CODE ((uint64_t)16 << 20)

struct job {
	int code;                   /* 1: component code, 0: sealed file */
	size_t idx;
	uint64_t cost;
};

struct pool {
	struct bv_ctx *x;
	struct job *jobs;
	size_t n, next;
	uint64_t done, total;
	pthread_mutex_t mu;
};

static int by_cost(const void *a, const void *b)
{
	const struct job *p = a, *q = b;
	if (p->cost != q->cost)
		return p->cost < q->cost ? 1 : -1;
	if (p->code != q->code)
		return q->code - p->code;
	return p->idx < q->idx ? -1 : p->idx > q->idx;
}

static const char *job_rel(const struct pool *p, const struct job *j)
{
	return j->code ? p->x->r->v[j->idx].code_rel : p->x->h[j->idx].rel;
}

static void run_one(struct pool *p, const struct job *j, unsigned nthreads)
{
	if (j->code)
		bv_code_run(p->x, j->idx, nthreads);
	else
		bv_hash_run(p->x, j->idx);
	const struct cs_bverify_opts *o = p->x->o;
	pthread_mutex_lock(&p->mu);
	p->done += j->cost;
	if (o->progress)
		o->progress(o->progress_ctx, p->done, p->total, job_rel(p, j));
	pthread_mutex_unlock(&p->mu);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		size_t k = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->mu);
		if (k == p->n)
			return NULL;
		run_one(p, &p->jobs[k], 1);
	}
}

int bv_run_jobs(struct bv_ctx *x)
{
	size_t n = x->nh;
	for (size_t i = 0; i < x->r->n; i++)
		n += x->c[i].code_path != NULL;
	struct pool p = { .x = x };
	p.jobs = calloc(n ? n : 1, sizeof(*p.jobs));
	if (!p.jobs)
		return ut_fail(UT_ENOMEM, "out of memory");
	for (size_t i = 0; i < x->r->n; i++)
		if (x->c[i].code_path)
			p.jobs[p.n++] = (struct job){ 1, i, x->c[i].code_size };
	for (size_t k = 0; k < x->nh; k++)
		p.jobs[p.n++] = (struct job){ 0, k, x->h[k].size };
	qsort(p.jobs, p.n, sizeof(*p.jobs), by_cost);
	for (size_t k = 0; k < p.n; k++)
		p.total += p.jobs[k].cost;
	if (pthread_mutex_init(&p.mu, NULL) != 0) {
		free(p.jobs);
		return ut_fail(UT_ENOMEM, "cannot create a mutex");
	}
	unsigned nt = x->nthreads ? x->nthreads : 1;
	/* Big code files first, each on every thread. */
	while (p.next < p.n && nt > 1 && p.jobs[p.next].code && p.jobs[p.next].cost >= BIG_CODE)
		run_one(&p, &p.jobs[p.next++], nt);
	pthread_t *tids = nt > 1 ? calloc(nt - 1, sizeof(*tids)) : NULL;
	unsigned started = 0;
	for (; tids && started < nt - 1; started++)
		if (pthread_create(&tids[started], NULL, worker, &p) != 0)
			break; /* fewer workers; the calling thread still drains the queue */
	worker(&p);
	for (unsigned t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	free(tids);
	pthread_mutex_destroy(&p.mu);
	free(p.jobs);
	x->r->bytes_hashed = p.total;
	x->r->files_hashed = p.n;
	return 0;
}
