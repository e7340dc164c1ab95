/*
 * cs_seal_rules.h - resource rules of a bundle seal (CodeResources `rules`
 * and `rules2`): the defaults codesign writes, reading and writing them as
 * plist dictionaries, matching a path, and the strict "weak rules" check.
 *
 * Facts (codesign-spec.md §3.3; SEC resources.cpp, bundlediskrep.cpp
 * defaultResourceRules / adjustResources, StaticCode.cpp hasWeakResourceRules):
 *  - a rule is a POSIX extended regular expression matched (unanchored, like
 *    regexec) against the path relative to the resource base;
 *  - value `true` = include (weight 1), `false` = omit (weight 1), or a dict
 *    {optional, omit, nested: booleans; weight: number, default 1};
 *  - the best rule for a path: an exclusion rule that matches wins at once;
 *    otherwise the highest weight.  Security keeps its rules in the order of
 *    a CFDictionary walk, so ties between equal weights are unspecified there;
 *    here the first rule in the set's order wins (the defaults have no ties
 *    that a path can hit);
 *  - exclusions (weight 0, flag exclusion) are added by the signer, never
 *    written: ^_CodeSignature$, ^CodeResources$, ^_MASReceipt$ and the main
 *    executable's escaped path (with softTarget).
 *
 * Ownership: a cs_rules owns its rules; release with cs_rules_release.
 */
#ifndef CS_SEAL_RULES_H
#define CS_SEAL_RULES_H

#include <plist/plist.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>

/* Rule flags (SEC ResourceBuilder::Action). */
#define CS_RULE_OPTIONAL    0x01u
#define CS_RULE_OMITTED     0x02u
#define CS_RULE_NESTED      0x04u
#define CS_RULE_EXCLUSION   0x10u
#define CS_RULE_SOFT_TARGET 0x20u

/* Most rules accepted in one set (defaults have 13). */
#define CS_RULES_MAX 1024

struct cs_rule {
	char *pattern;
	double weight;     /* as stored (<real>); compared numerically */
	uint32_t flags;    /* CS_RULE_* */
	regex_t re;
	plist_t src;       /* the value as read from a plist (kept for faithful re-writing), or NULL */
};

struct cs_rules {
	struct cs_rule *v;
	size_t n, cap;
};

void cs_rules_init(struct cs_rules *r);
void cs_rules_release(struct cs_rules *r);

/* Appends a rule; the pattern must compile (UT_EMALFORMED naming it otherwise). */
int cs_rules_add(struct cs_rules *r, const char *pattern, double weight, uint32_t flags);
/* Appends copies of every rule of src (with their plist form). */
int cs_rules_copy(struct cs_rules *dst, const struct cs_rules *src);

/*
 * codesign's default rules for a bundle whose resources directory, relative
 * to the resource base, is resources ("Resources/" for macOS bundles and
 * frameworks with a Resources directory; "" for flat bundles).  Anything
 * other than "Resources/" and "" is UT_EINVAL.
 */
int cs_rules_default_v1(struct cs_rules *r, const char *resources);
int cs_rules_default_v2(struct cs_rules *r, const char *resources);

/*
 * The signer's exclusions: ^_CodeSignature$, ^CodeResources$, ^_MASReceipt$
 * and, when main_exec is not NULL, "^<main_exec escaped>$" (softTarget).
 */
int cs_rules_add_exclusions(struct cs_rules *r, const char *main_exec);

/*
 * Reads a rules dictionary (what = "rules" or "rules2", for messages).
 * Malformed values (not bool/dict, a flag that is not a boolean, a weight
 * that is not a number or is negative/non-finite, a pattern that does not
 * compile) are UT_EMALFORMED naming the pattern.
 */
int cs_rules_from_plist(struct cs_rules *r, plist_t dict, const char *what);

/*
 * A new dictionary for the rules (exclusions left out), keys in Apple's
 * order.  Rules read from a plist are written as read; others as `true`
 * (weight 1, no flags) or {nested, omit, optional, weight=<real>}.
 */
int cs_rules_to_plist(const struct cs_rules *r, plist_t *out);

/* The best rule for a relative path, or NULL when none matches. */
const struct cs_rule *cs_rules_match(const struct cs_rules *r, const char *path);

/*
 * Strict verification (SEC hasWeakResourceRules): rules of seal version 2
 * are weak unless they hold '^.*' = true as read (version 1: '^Resources/' =
 * true), or when an omitting rule is not one of the allowed omissions
 * (the .DS_Store rule of the defaults, ^Info\.plist$, ^PkgInfo$ and
 * ^Resources/.*\.lproj/locversion.plist$ or its flat form
 * ^.*\.lproj/locversion.plist$).  Security looks only at dictionary rules
 * with omit = true; a bare `false` rule omits as well and counts here too
 * (stricter).  Returns 1 when weak (why receives the reason), 0 otherwise.
 */
int cs_rules_weak(const struct cs_rules *r, int version, char *why, size_t n);

/*
 * Apple's key order in a written dictionary (CFString literal comparison:
 * UTF-16 code units; for ASCII the byte order).  Bytes that are not UTF-8
 * sort after every character, one by one (a total order on any input).
 */
int cs_plist_key_cmp(const char *a, const char *b);

/* Copies s into out[0, n) with the regular-expression metacharacters escaped (SEC escapeRE). */
int cs_rules_escape(const char *s, char *out, size_t n);

#endif
