/*
 * ut_vmconfig.c - reading one VM config: which schema it is, and the result.
 *
 * UTM's loader (Configuration/UTMConfiguration.swift, utm-domain §3.2) first
 * decodes a stub of Backend and ConfigurationVersion.  QEMU and Apple go to
 * the v4 decoders; no Backend means legacy: an Apple config when "version" is
 * 1..3 and isAppleVirtualization is true (a "version" above 3 fails the load),
 * otherwise a legacy QEMU config (ConfigurationVersion at most 2).
 */
#define _POSIX_C_SOURCE 200809L
#include "ut_vmconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut_file.h"
#include "ut_install_util.h"
#include "ut_limits.h"
#include "ut_plist.h"
#include "ut_vm_internal.h"

/* ---- small helpers shared by the ut_vm*.c files ---- */

static int strs_push(char ***v, size_t *n, char *s)
{
	if (!s)
		return UT_ENOMEM;
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv) {
		free(s);
		return UT_ENOMEM;
	}
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

int vm_strs_add(char ***v, size_t *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = ui_vprintf(fmt, ap);
	va_end(ap);
	int rc = strs_push(v, n, s);
	return rc ? ut_fail(rc, "out of memory") : 0;
}

void vm_strs_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int vm_is_uuid(const char *s)
{
	/* 8-4-4-4-12 hex digits, as Foundation's UUID(uuidString:) accepts. */
	if (!s || strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
			return 0;
		}
	}
	return 1;
}

plist_t vm_get(plist_t dict, const char *key)
{
	if (!dict || plist_get_node_type(dict) != PLIST_DICT)
		return NULL;
	return plist_dict_get_item(dict, key);
}

int vm_is(plist_t node, plist_type t) { return node && plist_get_node_type(node) == t; }

int vm_int(plist_t node, int64_t *v)
{
	if (!vm_is(node, PLIST_UINT))
		return 0;
	uint64_t u = 0;
	plist_get_uint_val(node, &u);
	*v = (int64_t)u;
	return 1;
}

const char *vm_type_name(plist_t node)
{
	if (!node)
		return "nothing";
	switch (plist_get_node_type(node)) {
	case PLIST_BOOLEAN: return "boolean";
	case PLIST_UINT: return "integer";
	case PLIST_REAL: return "real";
	case PLIST_STRING: return "string";
	case PLIST_ARRAY: return "array";
	case PLIST_DICT: return "dictionary";
	case PLIST_DATE: return "date";
	case PLIST_DATA: return "data";
	default: return "other";
	}
}

static const char *plist_type_label(plist_type t)
{
	switch (t) {
	case PLIST_BOOLEAN: return "boolean";
	case PLIST_UINT: return "integer";
	case PLIST_STRING: return "string";
	case PLIST_ARRAY: return "array";
	case PLIST_DICT: return "dictionary";
	default: return "value";
	}
}

/* ---- parse context ---- */

static void add_line(struct vm_parse *ps, char ***v, size_t *n, const char *fmt, va_list ap)
{
	if (strs_push(v, n, ui_vprintf(fmt, ap)))
		ps->oom = 1;
}

void vm_invalid(struct vm_parse *ps, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_line(ps, &ps->vm->problems, &ps->vm->nproblems, fmt, ap);
	va_end(ap);
	ps->vm->status = UT_VM_INVALID;
}

void vm_needs_vmnet(struct vm_parse *ps, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_line(ps, &ps->vm->problems, &ps->vm->nproblems, fmt, ap);
	va_end(ap);
	if (ps->vm->status == UT_VM_OK)
		ps->vm->status = UT_VM_VMNET;
}

void vm_note(struct vm_parse *ps, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_line(ps, &ps->vm->notes, &ps->vm->nnotes, fmt, ap);
	va_end(ap);
}

static char *dup_or_null(const char *s, int *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

struct ut_vm_nic *vm_add_nic(struct vm_parse *ps, unsigned index, const char *mode, const char *hardware,
			     const char *mac)
{
	struct ut_vm_config *vm = ps->vm;
	struct ut_vm_nic *nv = realloc(vm->nics, (vm->nnics + 1) * sizeof(*nv));
	if (!nv) {
		ps->oom = 1;
		return NULL;
	}
	vm->nics = nv;
	struct ut_vm_nic *nic = &nv[vm->nnics++];
	memset(nic, 0, sizeof(*nic));
	nic->index = index;
	nic->mode = dup_or_null(mode, &ps->oom);
	nic->hardware = dup_or_null(hardware, &ps->oom);
	nic->mac_address = dup_or_null(mac, &ps->oom);
	return nic;
}

plist_t vm_need(struct vm_parse *ps, plist_t dict, const char *where, const char *key, plist_type t)
{
	plist_t v = vm_get(dict, key);
	const char *dot = where && *where ? "." : "";
	if (!v) {
		vm_invalid(ps, "missing required key '%s%s%s'", where ? where : "", dot, key);
		return NULL;
	}
	if (plist_get_node_type(v) != t) {
		vm_invalid(ps, "wrong type for '%s%s%s': %s, expected %s", where ? where : "", dot, key,
			   vm_type_name(v), plist_type_label(t));
		return NULL;
	}
	return v;
}

plist_t vm_want(struct vm_parse *ps, plist_t dict, const char *where, const char *key, plist_type t)
{
	plist_t v = vm_get(dict, key);
	if (!v)
		return NULL;
	if (plist_get_node_type(v) != t) {
		vm_invalid(ps, "wrong type for '%s%s%s': %s, expected %s", where ? where : "",
			   where && *where ? "." : "", key, vm_type_name(v), plist_type_label(t));
		return NULL;
	}
	return v;
}

void vm_set_str(struct vm_parse *ps, char **dst, const char *s)
{
	if (!s)
		return;
	char *d = strdup(s);
	if (!d) {
		ps->oom = 1;
		return;
	}
	free(*dst);
	*dst = d;
}

int vm_parse_v4_head(struct vm_parse *ps, plist_t root)
{
	struct ut_vm_config *vm = ps->vm;
	if (!vm->has_version) {
		vm_invalid(ps, "missing 'ConfigurationVersion' (UTM reads it as 0: too old, needs 4)");
		return -1;
	}
	if (vm->version != 4) {
		vm_invalid(ps, "ConfigurationVersion %lld is %s than UTM reads (4)", (long long)vm->version,
			   vm->version < 4 ? "older" : "newer");
		return -1;
	}
	plist_t info = vm_need(ps, root, "", "Information", PLIST_DICT);
	if (info) {
		vm_set_str(ps, &vm->name, ut_plist_str(vm_need(ps, info, "Information", "Name", PLIST_STRING)));
		const char *uuid = ut_plist_str(vm_need(ps, info, "Information", "UUID", PLIST_STRING));
		if (uuid && !vm_is_uuid(uuid))
			vm_invalid(ps, "bad UUID '%s' in 'Information.UUID'", uuid);
		vm_set_str(ps, &vm->uuid, uuid);
	}
	return 0;
}

/* ---- public ---- */

const char *ut_vm_status_name(enum ut_vm_status s)
{
	switch (s) {
	case UT_VM_OK: return "ok";
	case UT_VM_VMNET: return "vmnet";
	case UT_VM_INVALID: return "invalid";
	}
	return "invalid";
}

const char *ut_vm_backend_name(enum ut_vm_backend b)
{
	switch (b) {
	case UT_VM_BACKEND_QEMU: return "QEMU";
	case UT_VM_BACKEND_APPLE: return "Apple";
	default: return NULL;
	}
}

void ut_vmconfig_free(struct ut_vm_config *vm)
{
	if (!vm)
		return;
	free(vm->bundle);
	free(vm->config_path);
	free(vm->name);
	free(vm->uuid);
	for (size_t i = 0; i < vm->nnics; i++) {
		free(vm->nics[i].mode);
		free(vm->nics[i].hardware);
		free(vm->nics[i].mac_address);
		free(vm->nics[i].netdev);
	}
	free(vm->nics);
	for (size_t i = 0; i < vm->nargs; i++) {
		free(vm->args[i].value);
		free(vm->args[i].netdev);
	}
	free(vm->args);
	vm_strs_free(vm->problems, vm->nproblems);
	vm_strs_free(vm->notes, vm->nnotes);
	free(vm);
}

/* The bundle's name without a trailing ".utm" (UTM's name for legacy QEMU VMs). */
static char *bundle_name(const char *bundle)
{
	size_t n = strlen(bundle);
	while (n > 1 && bundle[n - 1] == '/')
		n--;
	size_t b = n;
	while (b > 0 && bundle[b - 1] != '/')
		b--;
	size_t len = n - b;
	if (len > 4 && strncmp(bundle + n - 4, ".utm", 4) == 0)
		len -= 4;
	char *s = malloc(len + 1);
	if (s) {
		memcpy(s, bundle + b, len);
		s[len] = '\0';
	}
	return s;
}

static struct ut_vm_config *vm_new(const char *bundle, const char *config_path)
{
	struct ut_vm_config *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	vm->bundle = strdup(bundle);
	vm->config_path = config_path ? strdup(config_path) : ui_printf("%s/config.plist", bundle);
	vm->name = bundle_name(bundle);
	if (!vm->bundle || !vm->config_path || !vm->name) {
		ut_vmconfig_free(vm);
		return NULL;
	}
	return vm;
}

static void parse_legacy(struct vm_parse *ps, plist_t root)
{
	struct ut_vm_config *vm = ps->vm;
	vm->legacy = 1;
	int64_t version = 0;
	plist_t vnode = vm_get(root, "version");
	if (vnode && !vm_int(vnode, &version)) {
		vm_invalid(ps, "wrong type for 'version': %s, expected integer", vm_type_name(vnode));
		return;
	}
	if (version > 3) {
		/* UTMLegacyAppleConfiguration throws versionTooHigh, which fails the load. */
		vm->backend = UT_VM_BACKEND_APPLE;
		vm->has_version = 1;
		vm->version = version;
		vm_invalid(ps, "legacy Apple 'version' %lld is newer than UTM reads (1..3)", (long long)version);
		return;
	}
	plist_t apple = vm_get(root, "isAppleVirtualization");
	if (apple && !vm_is(apple, PLIST_BOOLEAN)) {
		vm_invalid(ps, "wrong type for 'isAppleVirtualization': %s, expected boolean", vm_type_name(apple));
		return;
	}
	int is_apple = ut_plist_dict_true(root, "isAppleVirtualization");
	if (version > 0 && is_apple) {
		vm->backend = UT_VM_BACKEND_APPLE;
		vm->has_version = 1;
		vm->version = version;
		vm_parse_apple_legacy(ps, root);
		return;
	}
	vm->backend = UT_VM_BACKEND_QEMU;
	if (is_apple) {
		/* Not decodable as Apple, and the legacy QEMU loader refuses Apple configs. */
		vm->backend = UT_VM_BACKEND_APPLE;
		vm->has_version = vnode != NULL;
		vm->version = version;
		vm_invalid(ps, "legacy Apple config needs 'version' 1..3, has %s",
			   vnode ? "a lower one" : "none");
		return;
	}
	vm_parse_qemu_legacy(ps, root);
}

static void parse_root(struct vm_parse *ps, plist_t root)
{
	struct ut_vm_config *vm = ps->vm;
	if (plist_get_node_type(root) != PLIST_DICT) {
		vm_invalid(ps, "config root is %s, not a dictionary", vm_type_name(root));
		return;
	}
	plist_t bnode = vm_get(root, "Backend");
	const char *backend = "Unknown";
	if (bnode) {
		backend = ut_plist_str(bnode);
		if (!backend) {
			vm_invalid(ps, "wrong type for 'Backend': %s, expected string", vm_type_name(bnode));
			return;
		}
	}
	plist_t cv = vm_get(root, "ConfigurationVersion");
	if (cv) {
		if (!vm_int(cv, &vm->version)) {
			vm_invalid(ps, "wrong type for 'ConfigurationVersion': %s, expected integer",
				   vm_type_name(cv));
			return;
		}
		vm->has_version = 1;
	}
	if (strcmp(backend, "QEMU") == 0) {
		vm->backend = UT_VM_BACKEND_QEMU;
		vm_parse_qemu_v4(ps, root);
	} else if (strcmp(backend, "Apple") == 0) {
		vm->backend = UT_VM_BACKEND_APPLE;
		vm_parse_apple_v4(ps, root);
	} else if (strcmp(backend, "Unknown") == 0) {
		parse_legacy(ps, root);
	} else {
		vm_invalid(ps, "unknown Backend '%s' (UTM reads QEMU and Apple)", backend);
	}
}

static int parse_into(struct ut_vm_config *vm, const void *p, size_t len)
{
	struct vm_parse ps = { vm, 0 };
	plist_t root = NULL;
	enum ut_plist_format fmt = 0;
	if (ut_plist_parse(p, len, vm->config_path, &root, &fmt) != 0) {
		vm_invalid(&ps, "%s", ut_errmsg());
		ut_err_clear();
	} else {
		vm->format = (int)fmt;
		parse_root(&ps, root);
		plist_free(root);
	}
	return ps.oom ? ut_fail(UT_ENOMEM, "out of memory") : 0;
}

int ut_vmconfig_parse(struct ut_vm_config **out, const void *p, size_t len, const char *bundle)
{
	*out = NULL;
	struct ut_vm_config *vm = vm_new(bundle ? bundle : ".", NULL);
	if (!vm)
		return ut_fail(UT_ENOMEM, "out of memory");
	int rc = parse_into(vm, p, len);
	if (rc) {
		ut_vmconfig_free(vm);
		return rc;
	}
	*out = vm;
	return 0;
}

int ut_vmconfig_load(struct ut_vm_config **out, const char *bundle, const char *config_path)
{
	*out = NULL;
	struct ut_vm_config *vm = vm_new(bundle, config_path);
	if (!vm)
		return ut_fail(UT_ENOMEM, "out of memory");
	uint8_t *p = NULL;
	size_t len = 0;
	int rc = ut_file_read(vm->config_path, UT_MAX_PLIST_SIZE, &p, &len);
	if (rc == UT_ENOMEM) {
		ut_vmconfig_free(vm);
		return rc;
	}
	if (rc) {
		struct vm_parse ps = { vm, 0 };
		if (rc == UT_ENOTFOUND)
			vm_invalid(&ps, "missing '%s'", vm->config_path);
		else
			vm_invalid(&ps, "%s", ut_errmsg());
		ut_err_clear();
		if (ps.oom) {
			ut_vmconfig_free(vm);
			return ut_fail(UT_ENOMEM, "out of memory");
		}
		*out = vm;
		return 0;
	}
	rc = parse_into(vm, p, len);
	free(p);
	if (rc) {
		ut_vmconfig_free(vm);
		return rc;
	}
	*out = vm;
	return 0;
}
