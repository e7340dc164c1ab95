/*
 * ut_vmfix.c - rewriting vmnet NICs so an ad-hoc signed UTM can start the VM.
 *
 * The edit is made on the parsed tree, in place, so every other key keeps its
 * value and its position; the tree is written back in the format it came in.
 * The result is checked by parsing it again before anyone writes it.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ut_file.h"
#include "ut_limits.h"
#include "ut_plist.h"
#include "ut_vm_internal.h"

struct fixer {
	struct ut_vm_fix *fix;
	int rc;
};

#define CHANGE(f, ...)                                                                          \
	do {                                                                                    \
		if (!(f)->rc)                                                                   \
			(f)->rc = vm_strs_add(&(f)->fix->changes, &(f)->fix->nchanges, __VA_ARGS__); \
	} while (0)

static void set_mode(struct fixer *f, plist_t d, const char *key, const char *where, const char *to)
{
	plist_t node = vm_get(d, key);
	CHANGE(f, "%s.%s: '%s' -> '%s'", where, key, ut_plist_str(node), to);
	plist_set_string_val(node, to);
}

static void drop_key(struct fixer *f, plist_t d, const char *key, const char *where)
{
	plist_t node = vm_get(d, key);
	if (!node)
		return;
	const char *v = ut_plist_str(node);
	CHANGE(f, "%s: removed %s '%s'", where, key, v ? v : "(not a string)");
	plist_dict_remove_item(d, key);
}

/* One pass over the argument strings; *hits says how many vmnet netdevs it removed. */
static void fix_args_pass(struct fixer *f, plist_t node, const char *where, size_t *hits)
{
	*hits = 0;
	int is_array = vm_is(node, PLIST_ARRAY);
	size_t n = is_array ? plist_array_get_size(node) : 1;
	const char **entries = calloc(n ? n : 1, sizeof(*entries));
	if (!entries) {
		f->rc = ut_fail(UT_ENOMEM, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		entries[i] = ut_plist_str(is_array ? plist_array_get_item(node, (uint32_t)i) : node);
		if (!entries[i]) /* invalid configs never get here */
			entries[i] = "";
	}
	struct vm_args_plan pl;
	f->rc = vm_args_plan(&pl, entries, n, where, is_array);
	if (f->rc) {
		free(entries);
		return;
	}
	*hits = pl.nhits;
	for (size_t i = 0; i < pl.nchanges && !f->rc; i++)
		f->rc = vm_strs_add(&f->fix->changes, &f->fix->nchanges, "%s", pl.changes[i]);
	/* Back to front, so removals keep the earlier indexes valid. */
	for (size_t i = n; i-- > 0 && !f->rc;) {
		char *out = NULL;
		int drop = 0;
		f->rc = vm_args_apply(&pl, entries, (unsigned)i, &out, &drop);
		if (f->rc || !out)
			continue;
		if (is_array && drop)
			plist_array_remove_item(node, (uint32_t)i);
		else
			plist_set_string_val(is_array ? plist_array_get_item(node, (uint32_t)i) : node,
					     drop ? "" : out);
		free(out);
	}
	vm_args_plan_release(&pl);
	free(entries);
}

/*
 * Removing "-netdev vmnet-x" makes the token before it the neighbour of the
 * token after it, which can turn that one into an option's vmnet value
 * ("-nic -netdev vmnet-a x,type=vmnet-b").  So repeat until a pass finds
 * nothing; every pass that finds something removes or rewrites a token.
 */
static void fix_args(struct fixer *f, plist_t node, const char *where)
{
	size_t hits = 1;
	for (int pass = 0; node && !f->rc && hits; pass++) {
		if (pass == 64) {
			f->rc = ut_fail(UT_EVERIFY, "'%s' still names vmnet after %d passes", where, pass);
			break;
		}
		fix_args_pass(f, node, where, &hits);
	}
}

static int is_one_of(const char *s, const char *a, const char *b, const char *c)
{
	return s && (strcmp(s, a) == 0 || strcmp(s, b) == 0 || (c && strcmp(s, c) == 0));
}

static void fix_qemu_v4(struct fixer *f, plist_t root)
{
	plist_t net = vm_get(root, "Network");
	for (uint32_t i = 0; i < plist_array_get_size(net) && !f->rc; i++) {
		plist_t d = plist_array_get_item(net, i);
		char where[32];
		snprintf(where, sizeof(where), "Network[%u]", i);
		if (!is_one_of(ut_plist_dict_str(d, "Mode"), "Shared", "Host", "Bridged"))
			continue;
		set_mode(f, d, "Mode", where, "Emulated");
		drop_key(f, d, "BridgeInterface", where);
		drop_key(f, d, "HostNetUuid", where);
	}
	fix_args(f, vm_get(vm_get(root, "QEMU"), "AdditionalArguments"), "QEMU.AdditionalArguments");
}

static void fix_qemu_legacy(struct fixer *f, plist_t root)
{
	plist_t net = vm_get(root, "Networking");
	if (net && !vm_get(net, "NetworkEnabled") &&
	    is_one_of(ut_plist_dict_str(net, "NetworkMode"), "shared", "host", "bridged")) {
		set_mode(f, net, "NetworkMode", "Networking", "emulated");
		drop_key(f, net, "NetworkBridgeInterface", "Networking");
	}
	fix_args(f, vm_get(vm_get(root, "System"), "AddArgs"), "System.AddArgs");
}

static void fix_apple(struct fixer *f, plist_t root, const char *arr, const char *kmode, const char *kbridge)
{
	plist_t net = vm_get(root, arr);
	for (uint32_t i = 0; i < plist_array_get_size(net) && !f->rc; i++) {
		plist_t d = plist_array_get_item(net, i);
		char where[48];
		snprintf(where, sizeof(where), "%s[%u]", arr, i);
		if (!is_one_of(ut_plist_dict_str(d, kmode), "Bridged", "Bridged", NULL))
			continue;
		set_mode(f, d, kmode, where, "Shared");
		drop_key(f, d, kbridge, where);
	}
}

/* The rewritten bytes must parse as the same kind of config, now without vmnet. */
static int verify(const struct ut_vm_config *before, const struct ut_vm_fix *fix, const char *bundle)
{
	struct ut_vm_config *after = NULL;
	int rc = ut_vmconfig_parse(&after, fix->out, fix->outlen, bundle);
	if (rc)
		return rc;
	if (after->status != UT_VM_OK || after->format != before->format || after->legacy != before->legacy ||
	    after->backend != before->backend || after->nnics != before->nnics)
		rc = ut_fail(UT_EVERIFY, "'%s': the rewritten config does not check out (status %s%s%s)", bundle,
			     ut_vm_status_name(after->status), after->nproblems ? ": " : "",
			     after->nproblems ? after->problems[0] : "");
	ut_vmconfig_free(after);
	return rc;
}

int ut_vmconfig_fix_bytes(struct ut_vm_fix *fix, const void *p, size_t len, const char *bundle)
{
	memset(fix, 0, sizeof(*fix));
	if (!bundle)
		bundle = ".";
	struct ut_vm_config *vm = NULL;
	int rc = ut_vmconfig_parse(&vm, p, len, bundle);
	if (rc)
		return rc;
	if (vm->status == UT_VM_INVALID) {
		rc = ut_fail(UT_EREFUSED, "'%s' is not a valid UTM config (%s); not rewritten", bundle,
			     vm->nproblems ? vm->problems[0] : "unknown");
		ut_vmconfig_free(vm);
		return rc;
	}
	if (vm->status == UT_VM_OK) {
		ut_vmconfig_free(vm);
		return 0;
	}
	plist_t root = NULL;
	enum ut_plist_format fmt;
	rc = ut_plist_parse(p, len, bundle, &root, &fmt);
	if (rc) {
		ut_vmconfig_free(vm);
		return rc;
	}
	struct fixer f = { fix, 0 };
	if (vm->backend == UT_VM_BACKEND_QEMU)
		vm->legacy ? fix_qemu_legacy(&f, root) : fix_qemu_v4(&f, root);
	else if (vm->legacy)
		fix_apple(&f, root, "networkDevices", "networkMode", "bridgeInterfaceIdentifier");
	else
		fix_apple(&f, root, "Network", "Mode", "BridgeInterface");
	rc = f.rc;
	if (!rc)
		rc = ut_plist_serialize(root, fmt, &fix->out, &fix->outlen);
	plist_free(root);
	if (!rc)
		rc = verify(vm, fix, bundle);
	ut_vmconfig_free(vm);
	if (rc)
		ut_vm_fix_release(fix);
	return rc;
}

void ut_vm_fix_release(struct ut_vm_fix *fix)
{
	if (!fix)
		return;
	vm_strs_free(fix->changes, fix->nchanges);
	free(fix->out);
	memset(fix, 0, sizeof(*fix));
}

int ut_vmconfig_fix_file(struct ut_vm_fix_result *res, const struct ut_vm_config *vm,
			 const struct ut_vm_fix_opts *o)
{
	memset(res, 0, sizeof(*res));
	const char *path = vm->config_path;
	struct stat st;
	if (lstat(path, &st) != 0)
		return ut_fail_errno(errno == ENOENT ? UT_ENOTFOUND : UT_EIO, errno, "cannot stat '%s'", path);
	if (S_ISLNK(st.st_mode))
		return ut_fail(UT_EREFUSED, "'%s' is a symbolic link; not rewritten", path);
	uint8_t *p = NULL;
	size_t len = 0;
	int rc = ut_file_read(path, UT_MAX_PLIST_SIZE, &p, &len);
	if (rc)
		return rc;
	rc = ut_vmconfig_fix_bytes(&res->fix, p, len, vm->bundle);
	if (rc || !res->fix.out || o->dry_run) {
		free(p);
		return rc;
	}
	if (!o->state_dir) {
		free(p);
		return ut_fail(UT_EINVAL, "no state directory for the backup of '%s'", path);
	}
	int format = len >= 8 && memcmp(p, "bplist00", 8) == 0 ? UT_PLIST_BINARY : UT_PLIST_XML;
	rc = vm_backup_write(&res->backup_dir, o->state_dir, o->now, vm->bundle, path, p, len, format);
	if (!rc) {
		/* Someone (UTM) may have saved the config since we read it: do not overwrite that. */
		uint8_t *again = NULL;
		size_t alen = 0;
		rc = ut_file_read(path, UT_MAX_PLIST_SIZE, &again, &alen);
		if (!rc && (alen != len || memcmp(again, p, len) != 0))
			rc = ut_fail(UT_EBUSY, "'%s' changed while it was being fixed; not rewritten", path);
		free(again);
	}
	if (!rc)
		rc = ut_file_write_atomic(path, res->fix.out, res->fix.outlen, -1);
	if (!rc)
		res->written = 1;
	free(p);
	return rc;
}

void ut_vm_fix_result_release(struct ut_vm_fix_result *res)
{
	if (!res)
		return;
	ut_vm_fix_release(&res->fix);
	free(res->backup_dir);
	memset(res, 0, sizeof(*res));
}
