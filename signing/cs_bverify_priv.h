/* cs_bverify_priv.h - state shared by the cs_bverify*.c files (not a public API). */
#ifndef CS_BVERIFY_PRIV_H
#define CS_BVERIFY_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "cs_bverify.h"
#include "cs_bverify_req.h"
#include "cs_seal_priv.h"

/* Nested code recorded in a seal. */
struct bv_nested {
	char *key;                  /* files2 key (relative to the bundle's resource base) */
	const struct cs_seal_entry *e; /* borrowed from the bundle's seal */
	int is_bundle;
	long child;                 /* component index, -1 until matched */
};

/* What a slice's signature says beyond struct cs_verify_slice. */
struct bv_slice_x {
	uint8_t *dr;                /* designated requirement blob (malloc'd), NULL when none */
	size_t dr_len;
	struct cs_certx *certx;     /* chain.n entries (malloc'd), NULL when unknown */
	int platform;               /* best CodeDirectory's platform byte */
};

/* Per-component planning and job state, parallel to cs_bverify_result.v. */
struct bv_comp {
	struct cs_bundle *b;        /* bundles */
	char *seal_key;             /* its key in the parent's seal (NULL for the top / versions) */
	char *base_rel;             /* the resource base relative to the top root, with a trailing '/' ("" none) */
	struct cs_seal seal;
	int seal_state;             /* 0 none on disk, 1 read, -1 unreadable */
	uint8_t *res;               /* CodeResources bytes, NULL when absent (the Info.plist's are b->info_data) */
	size_t res_len;
	struct bv_nested *nested;
	size_t nnested, nested_cap;
	/* code job */
	char *code_path;            /* NULL: no code to verify */
	uint64_t code_size;
	int code_rc;                /* negative: the check could not run (code_msg says why) */
	char *code_msg;
	unsigned nsx;
	struct bv_slice_x *sx;
	int judged;
};

/* One sealed file to hash. */
struct bv_hash {
	char *abs;
	char *rel;                  /* relative to the top root */
	size_t comp;
	const struct cs_seal_entry *e;
	uint64_t size;
	int rc;                     /* negative: unreadable (msg) */
	char *msg;
	unsigned bad_type;          /* first hash type that differs, 0 when all match */
};

struct bv_ctx {
	const struct cs_bverify_opts *o;
	struct cs_bverify_result *r;
	const char *root;           /* the top bundle's path */
	struct bv_comp *c;          /* r->n entries (capacity r->cap) */
	struct bv_hash *h;
	size_t nh, hcap;
	unsigned nthreads;
};

/* ---- cs_bverify.c ---- */
int bv_reason_add(struct cs_bverify_component *c, enum cs_bverify_problem p, const char *text, const char *path,
		  const char *fmt, ...) UT_PRINTF(5, 6);
/* Appends a component (role, paths copied); returns its index or a negative code. */
long bv_component_add(struct bv_ctx *x, const char *path, const char *rel, enum cs_bverify_role role, int is_bundle,
		      long parent, const char *seal_key);

/* ---- cs_bverify_seal.c ---- */
/* Reads bundle component i's CodeResources (bytes and parsed); a bad one becomes a reason. */
int bv_seal_read(struct bv_ctx *x, size_t i);
/* Reads the seal of bundle component i and compares it with the disk (hash jobs queued). */
int bv_seal_plan(struct bv_ctx *x, size_t i);
/* Folds the hash jobs' results into their components. */
int bv_seal_results(struct bv_ctx *x);

/* ---- cs_bverify_code.c ---- */
/* Verifies component i's code (run by a worker). */
void bv_code_run(struct bv_ctx *x, size_t i, unsigned nthreads);
/* Hashes sealed file k (run by a worker). */
void bv_hash_run(struct bv_ctx *x, size_t k);
/* Turns component i's code verdicts into reasons; checks its designated requirement. */
int bv_code_judge(struct bv_ctx *x, size_t i);
/* Checks nested code child against the requirement its parent recorded. */
int bv_nested_judge(struct bv_ctx *x, size_t parent, const struct bv_nested *n);
void bv_comp_release(struct bv_comp *c);

/* ---- cs_bverify_pool.c ---- */
/* Runs every code and hash job, largest first, on x->nthreads workers. */
int bv_run_jobs(struct bv_ctx *x);

#endif
