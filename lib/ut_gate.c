/* ut_gate.c - the gate's list of checks, and the VM checks (see ut_gate.h). */
#define _POSIX_C_SOURCE 200809L
#include "ut_gate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut_err.h"
#include "ut_install_util.h"
#include "ut_plist.h"

void ut_gate_init(struct ut_gate *g) { memset(g, 0, sizeof(*g)); }

void ut_gate_release(struct ut_gate *g)
{
	for (size_t i = 0; i < g->n; i++) {
		struct ut_gate_check *c = &g->v[i];
		for (size_t k = 0; k < c->nmessages; k++)
			free(c->messages[k]);
		free(c->messages);
		free(c->component);
		free(c->path);
	}
	free(g->v);
	free(g->app);
	free(g->app_version);
	memset(g, 0, sizeof(*g));
}

const char *ut_gate_status_name(enum ut_gate_status s)
{
	return s == UT_GATE_FAIL ? "fail" : s == UT_GATE_SKIP ? "skip" : "pass";
}

struct ut_gate_check *ut_gate_add(struct ut_gate *g, const char *suite, const char *check, const char *component,
				  const char *path)
{
	struct ut_gate_check *c = ui_vec_push((void **)&g->v, &g->n, &g->cap, sizeof(*c));
	if (!c)
		return NULL;
	c->suite = suite;
	c->check = check;
	c->component = ui_strdup(component);
	c->path = ui_strdup(path);
	if ((component && !c->component) || (path && !c->path))
		return NULL; /* freed with the gate */
	return c;
}

/* Sets the status and appends a message.  Notes written while a check passed are dropped when it fails. */
static int add_message(struct ut_gate_check *c, enum ut_gate_status st, const char *fmt, va_list ap)
{
	if (st == UT_GATE_FAIL && c->status != UT_GATE_FAIL) {
		for (size_t k = 0; k < c->nmessages; k++)
			free(c->messages[k]);
		c->nmessages = 0;
	}
	if (st != UT_GATE_PASS)
		c->status = st;
	struct ut_buf b;
	ut_buf_init(&b, 0);
	size_t len;
	char *m = NULL;
	if (!ut_buf_vprintf(&b, fmt, ap) && !ut_buf_cstr(&b))
		m = (char *)ut_buf_detach(&b, &len);
	ut_buf_release(&b);
	if (!m || !ui_vec_push((void **)&c->messages, &c->nmessages, &c->cap, sizeof(char *))) {
		free(m);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	c->messages[c->nmessages - 1] = m;
	return 0;
}

#define GATE_MESSAGE(name, status)                                            \
	int name(struct ut_gate_check *c, const char *fmt, ...)               \
	{                                                                     \
		va_list ap;                                                   \
		va_start(ap, fmt);                                            \
		int rc = add_message(c, status, fmt, ap);                     \
		va_end(ap);                                                   \
		return rc;                                                    \
	}
GATE_MESSAGE(ut_gate_note, UT_GATE_PASS)
GATE_MESSAGE(ut_gate_fail, UT_GATE_FAIL)
GATE_MESSAGE(ut_gate_skip, UT_GATE_SKIP)

size_t ut_gate_count(const struct ut_gate *g, const char *suite, enum ut_gate_status s)
{
	size_t n = 0;
	for (size_t i = 0; i < g->n; i++)
		n += g->v[i].status == s && (!suite || strcmp(g->v[i].suite, suite) == 0);
	return n;
}

int ut_gate_verdict(const struct ut_gate *g) { return ut_gate_count(g, NULL, UT_GATE_FAIL) ? 1 : 0; }

/* ---- VMs ---- */

static int vm_config(struct ut_gate *g, const struct ut_vm_config *vm)
{
	struct ut_gate_check *c = ut_gate_add(g, "vms", "config", vm->name, vm->config_path);
	if (!c)
		return UT_ENOMEM;
	int rc = 0;
	if (vm->status == UT_VM_INVALID) {
		for (size_t i = 0; !rc && i < vm->nproblems; i++)
			rc = ut_gate_fail(c, "%s", vm->problems[i]);
		if (!rc && vm->nproblems == 0)
			rc = ut_gate_fail(c, "UTM would not load this config");
		return rc;
	}
	const char *be = ut_vm_backend_name(vm->backend);
	if (vm->has_version)
		rc = ut_gate_note(c, "%s%s config, version %lld, %s plist", vm->legacy ? "legacy " : "", be ? be : "?",
				  (long long)vm->version, vm->format == UT_PLIST_BINARY ? "binary" : "XML");
	else
		rc = ut_gate_note(c, "%s%s config, %s plist", vm->legacy ? "legacy " : "", be ? be : "?",
				  vm->format == UT_PLIST_BINARY ? "binary" : "XML");
	return rc;
}

static int vm_networking(struct ut_gate *g, const struct ut_vm_config *vm)
{
	struct ut_gate_check *c = ut_gate_add(g, "vms", "networking", vm->name, vm->config_path);
	if (!c)
		return UT_ENOMEM;
	if (vm->status == UT_VM_INVALID)
		return ut_gate_skip(c, "the config is invalid (see the config check)");
	int rc = 0;
	const char *pre = vm->backend == UT_VM_BACKEND_APPLE ? "" : "-netdev ";
	const char *carrier = vm->backend == UT_VM_BACKEND_QEMU || vm->backend == UT_VM_BACKEND_APPLE
				      ? g->vmnet_by[vm->backend] : NULL;
	for (size_t i = 0; !rc && i < vm->nnics; i++) {
		const struct ut_vm_nic *n = &vm->nics[i];
		const char *mode = n->mode ? n->mode : "(no mode)";
		const char *nd = n->netdev ? n->netdev : "";
		if (n->vmnet && !carrier)
			rc = ut_gate_fail(c, "nic %u: %s (%s%s) needs com.apple.vm.networking, which an ad-hoc signed UTM "
					     "cannot have: 'cannot create vmnet interface'",
					  n->index, mode, pre, nd);
		else if (c->status != UT_GATE_FAIL)
			rc = ut_gate_note(c, "nic %u: %s (%s%s)%s%s%s", n->index, mode, pre, nd,
					  n->vmnet ? ": needs com.apple.vm.networking, which " : "", n->vmnet ? carrier : "",
					  n->vmnet ? " carries (certificate signature)" : "");
	}
	if (carrier) /* the extra arguments' vmnet works too */
		return rc;
	for (size_t i = 0; !rc && i < vm->nargs; i++)
		rc = ut_gate_fail(c, "QEMU argument %u '%s': %s needs com.apple.vm.networking", vm->args[i].index,
				  vm->args[i].value, vm->args[i].netdev);
	if (!rc && vm->status == UT_VM_VMNET && c->status != UT_GATE_FAIL)
		for (size_t i = 0; !rc && i < vm->nproblems; i++)
			rc = ut_gate_fail(c, "%s", vm->problems[i]);
	if (!rc && c->status == UT_GATE_FAIL)
		rc = ut_gate_note(c, "fix: utmpatch vmcheck --fix '%s' (or choose %s in UTM's network settings)",
				  vm->bundle, vm->backend == UT_VM_BACKEND_APPLE ? "Shared Network" : "Emulated VLAN");
	if (!rc && c->status == UT_GATE_PASS && vm->nnics == 0)
		rc = ut_gate_note(c, "no network interface (-nic none)");
	return rc;
}

int ut_gate_vms(struct ut_gate *g, const struct ut_vm_list *l)
{
	g->vms = l;
	int rc = 0;
	for (size_t i = 0; !rc && i < l->n; i++) {
		if ((rc = vm_config(g, l->vms[i])) == 0)
			rc = vm_networking(g, l->vms[i]);
	}
	for (size_t i = 0; !rc && i < l->nmissing; i++) {
		const char *p = l->missing[i].path;
		const char *slash = strrchr(p, '/');
		struct ut_gate_check *c = ut_gate_add(g, "vms", "config", slash && slash[1] ? slash + 1 : p, p);
		rc = c ? ut_gate_fail(c, "registered in UTM's preferences (%s) but not there", l->missing[i].source)
		       : UT_ENOMEM;
	}
	return rc;
}
