/* cs_bsign_priv.h - the bundle signer's plan, shared by cs_bsign.c (plan, order) and cs_bsign_unit.c (one component). */
#ifndef CS_BSIGN_PRIV_H
#define CS_BSIGN_PRIV_H

#include <stddef.h>

#include "cs_bsign.h"
#include "cs_bundle.h"

/* One component to sign. */
struct bsign_step {
	const struct cs_component *c;  /* borrowed from the tree */
	int ent_given;                 /* an entry of opts.ents names it (or the top's opts.sign.entitlements) */
	const uint8_t *ent;            /* NULL with ent_given: sign without entitlements */
	size_t ent_len;
	unsigned hash_types[2];        /* bundles: the digest set of the main executable (cs_sign_hash_types) */
	unsigned nhash;
	long item;                     /* index in the report once signed, else -1 */
};

struct bsign {
	const struct cs_bsign_opts *o;
	struct cs_bundle_tree tree;
	struct bsign_step *steps;      /* one per tree component, same order */
	size_t nsteps;
	struct cs_bsign_report *rep;
	size_t cur;                    /* the step being signed (the nested-seal callback's parent) */
};

/* cs_bsign_unit.c: signs steps[i] (a bundle: seal, CodeResources, main executable; else the Mach-O file). */
int bsign_step_sign(struct bsign *s, size_t i);

#endif
