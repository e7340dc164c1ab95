/*
 * ut_vm_internal.h - shared by the ut_vm*.c files (and their tests); not API.
 */
#ifndef UT_VM_INTERNAL_H
#define UT_VM_INTERNAL_H

#include <plist/plist.h>
#include <stddef.h>
#include <stdint.h>

#include "ut_err.h"
#include "ut_install_util.h"
#include "ut_vmconfig.h"

/* ---- strings ---- */

/* Appends a formatted line to a string vector; UT_ENOMEM on failure. */
int vm_strs_add(char ***v, size_t *n, const char *fmt, ...) UT_PRINTF(3, 4);
void vm_strs_free(char **v, size_t n);
int vm_is_uuid(const char *s);

/* ---- plist access ---- */

/* dict[key] when dict is a dictionary, else NULL. */
plist_t vm_get(plist_t dict, const char *key);
/* Integer value of an integer node (libplist 2.2 keeps every integer as uint64). */
int vm_int(plist_t node, int64_t *v);
int vm_is(plist_t node, plist_type t);
/* "string", "dictionary", ... for messages. */
const char *vm_type_name(plist_t node);

/* ---- parse context ---- */

struct vm_parse {
	struct ut_vm_config *vm;
	int oom;
};

/* Records a reason UTM would refuse the config (status becomes invalid). */
void vm_invalid(struct vm_parse *ps, const char *fmt, ...) UT_PRINTF(2, 3);
/* Records a vmnet finding (status becomes vmnet unless already invalid). */
void vm_needs_vmnet(struct vm_parse *ps, const char *fmt, ...) UT_PRINTF(2, 3);
void vm_note(struct vm_parse *ps, const char *fmt, ...) UT_PRINTF(2, 3);
/* Appends a NIC; strings are copied.  Returns the new NIC or NULL (oom set). */
struct ut_vm_nic *vm_add_nic(struct vm_parse *ps, unsigned index, const char *mode, const char *hardware,
			     const char *mac);

/*
 * Typed lookups that record "missing key" / "wrong type" problems.  where
 * names the containing object for messages ("Network[0]").  Return the node
 * or NULL.
 */
plist_t vm_need(struct vm_parse *ps, plist_t dict, const char *where, const char *key, plist_type t);
/* Optional key: NULL when absent; a present key of another type is a problem. */
plist_t vm_want(struct vm_parse *ps, plist_t dict, const char *where, const char *key, plist_type t);

/* *dst = a copy of s (the old value freed); s NULL leaves it; oom set on failure. */
void vm_set_str(struct vm_parse *ps, char **dst, const char *s);
/*
 * What both v4 schemas start with: ConfigurationVersion 4, then Information
 * (Name, UUID).  -1 when the version is missing or not 4 (recorded; read no
 * further), else 0.
 */
int vm_parse_v4_head(struct vm_parse *ps, plist_t root);

/* The schema parsers (ut_vmqemu.c, ut_vmapple.c). */
void vm_parse_qemu_v4(struct vm_parse *ps, plist_t root);
void vm_parse_qemu_legacy(struct vm_parse *ps, plist_t root);
void vm_parse_apple_v4(struct vm_parse *ps, plist_t root);
void vm_parse_apple_legacy(struct vm_parse *ps, plist_t root);

/* ---- QEMU NICs and their -netdev value (utm-domain §3.4) ---- */

enum vm_qmode { VM_QMODE_EMULATED, VM_QMODE_SHARED, VM_QMODE_HOST, VM_QMODE_BRIDGED };

struct vm_fwd {
	const char *proto; /* "tcp" / "udp" */
	const char *host_addr;
	int64_t host_port;
	const char *guest_addr;
	int64_t guest_port;
};

/* One QEMU NIC as UTM holds it after decoding (all strings borrowed). */
struct vm_qnic {
	enum vm_qmode mode;
	int isolate;
	const char *bridge;
	const char *host_net_uuid;
	const char *guest, *guest6, *host, *host6;
	const char *dhcp_start, *dhcp_end, *dhcp_domain;
	const char *dns, *dns6, *dns_search;
	struct vm_fwd *fwd;
	size_t nfwd;
};

/* The -netdev value for NIC index i on macOS; malloc'd, NULL on ENOMEM. */
char *vm_qemu_netdev(const struct vm_qnic *q, unsigned i);
/* "192.168.64.0/24" -> start, end, mask (UTM's parseNetworkSubnet); 0 when it does not parse. */
int vm_subnet(const char *cidr, char start[16], char end[16], char mask[16]);

/* ---- extra QEMU arguments (ut_vmargs.c) ---- */

/* One argv token as UTM splits an argument string (quote-aware, whitespace separated). */
struct vm_tok {
	unsigned entry;    /* which stored string */
	size_t start, end; /* raw span in that string */
	char *value;       /* unquoted value */
};

struct vm_arg_hit {
	unsigned entry; /* stored string that names vmnet */
	char *netdev;   /* the vmnet value */
};

/* A planned edit of one token: replacement NULL deletes it. */
struct vm_arg_edit {
	size_t tok;
	char *replacement;
};

struct vm_args_plan {
	struct vm_tok *toks;
	size_t ntoks;
	struct vm_arg_hit *hits;
	size_t nhits;
	struct vm_arg_edit *edits;
	size_t nedits;
	char **changes; /* one line per edit, for the fix report */
	size_t nchanges;
};

/* Splits argument strings the way UTM does before passing them to QEMU. */
int vm_args_tokenize(struct vm_args_plan *pl, const char *s, unsigned entry);
/*
 * Tokenizes every entry, finds vmnet netdevs, and plans their removal; where
 * names the array in change lines ("QEMU.AdditionalArguments"), is_array says
 * whether entries are array elements (else one legacy string).
 */
int vm_args_plan(struct vm_args_plan *pl, const char *const *entries, size_t n, const char *where, int is_array);
/*
 * The new text of entry e after the plan: *out NULL when the plan does not
 * touch it, else malloc'd; *drop = 1 when no token is left.
 */
int vm_args_apply(const struct vm_args_plan *pl, const char *const *entries, unsigned e, char **out, int *drop);
void vm_args_plan_release(struct vm_args_plan *pl);

/* Records vmnet hits of an argument array (or legacy string) into ps; where names it. */
void vm_check_args(struct vm_parse *ps, plist_t args, const char *where);

/* ---- backups (ut_vmbackup.c) ---- */

/*
 * Copies the original config bytes to <state_dir>/vmcheck-backups/<ts>-<name>/
 * config.plist with a manifest.json; *dir is the new directory.
 */
int vm_backup_write(char **dir, const char *state_dir, int64_t now, const char *bundle, const char *config_path,
		    const uint8_t *p, size_t len, int format);

#endif
