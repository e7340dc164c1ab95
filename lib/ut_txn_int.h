/* ut_txn_int.h - the transaction object, shared by ut_txn.c and ut_txn_apply.c; not API. */
#ifndef UT_TXN_INT_H
#define UT_TXN_INT_H

#include "ut_state_int.h"
#include "ut_txn.h"

enum txn_state { TXN_OPEN = 1, TXN_COMMITTED, TXN_ABORTED };

struct txn_plan {
	struct ut_entry before; /* state at ut_txn_plan_file() (backed up) */
	int store;              /* enum st_store of the backup */
	int changed;            /* a step changed it */
	struct ut_entry after;  /* state written by the last step (when changed) */
};

struct ut_txn {
	struct st_dir d;
	struct ut_lock lock;
	struct st_jwriter w;
	struct st_manifest man; /* pristine records at begin */
	struct txn_plan *p;
	size_t np, cap;
	uint64_t step;
	int verified;
	int state; /* enum txn_state */
	char *id;
	char note[320];
};

/* The plan of relpath, or NULL. */
struct txn_plan *txn_plan_find(struct ut_txn *t, const char *relpath);

#endif
