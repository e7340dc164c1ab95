/* cmd_vmcheck.c - utmpatch vmcheck: find (and fix) VMs whose networking needs vmnet. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "cmd_env.h"
#include "ut_buf.h"
#include "ut_err.h"
#include "ut_json.h"
#include "ut_report_vm.h"
#include "ut_vmconfig.h"

static const char usage[] =
	"usage: utmpatch vmcheck [PATH...] [--fix [--dry-run]] [--json] [--state-dir DIR] [--force]\n"
	"\n"
	"Checks UTM virtual machines for networking that needs the com.apple.vm.networking\n"
	"entitlement (vmnet: QEMU Shared, Host and Bridged NICs, Apple Bridged NICs, and\n"
	"-netdev vmnet-* in the extra QEMU arguments).  An ad-hoc re-signed UTM does not have\n"
	"it, and such VMs fail with \"cannot create vmnet interface\".\n"
	"\n"
	"  PATH             a .utm bundle, a config.plist, or a folder of .utm bundles;\n"
	"                   default: UTM's Documents folder and the VMs in UTM's preferences\n"
	"  --fix            switch vmnet NICs to Emulated (Apple: Bridged to Shared) and drop\n"
	"                   vmnet netdevs from the extra QEMU arguments; the original\n"
	"                   config.plist is kept under the state directory first\n"
	"  --dry-run        with --fix: show what would change and write nothing\n"
	"  --json           machine-readable output (docs/schemas/vmcheck.schema.json)\n"
	"  --state-dir DIR  where backups go (default: ~/Library/Application Support/utmpatch\n"
	"                   on macOS, $XDG_STATE_HOME/utmpatch or ~/.local/state/utmpatch elsewhere)\n"
	"  --force          fix even while UTM is running (macOS only checks this)\n"
	"  -h, --help       this text\n"
	"\n"
	"Exit status: 0 every VM ok, 1 some VM needs vmnet or is invalid (after --fix: still\n"
	"is), 2 usage, 3 could not run (a PATH that does not exist, a failed write).\n";

struct vmcheck_opts {
	const char **paths;
	int npaths;
	int fix, dry_run, json, force;
	const char *state_dir;
};

/* Per VM: the fix outcome, and the status on disk afterwards. */
struct vm_outcome {
	int tried;
	int rc;
	char *error;
	struct ut_vm_fix_result res;
	enum ut_vm_status after;
};

static int parse(struct vmcheck_opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->paths = calloc((size_t)argc + 1, sizeof(*o->paths));
	if (!o->paths) {
		fprintf(stderr, "utmpatch: out of memory\n");
		return EXIT_FAIL;
	}
	int only_paths = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (only_paths || a[0] != '-' || cmd_is(a, "-")) {
			o->paths[o->npaths++] = a;
		} else if (cmd_is(a, "--")) {
			only_paths = 1;
		} else if (cmd_is(a, "-h") || cmd_is(a, "--help")) {
			return -1;
		} else if (cmd_is(a, "--fix")) {
			o->fix = 1;
		} else if (cmd_is(a, "--dry-run")) {
			o->dry_run = 1;
		} else if (cmd_is(a, "--json")) {
			o->json = 1;
		} else if (cmd_is(a, "--force")) {
			o->force = 1;
		} else if (cmd_is(a, "--state-dir")) {
			if (!(o->state_dir = cmd_value(argc, argv, &i)) || !*o->state_dir)
				return cmd_usage_error(usage, "--state-dir needs a directory");
		} else {
			return cmd_usage_error(usage, "unknown option '%s'", a);
		}
	}
	if (o->dry_run && !o->fix)
		return cmd_usage_error(usage, "--dry-run only goes with --fix");
	return 0;
}

/* ---- text ---- */

static void print_kind(const struct ut_vm_config *vm)
{
	const char *be = ut_vm_backend_name(vm->backend);
	printf("  config:  ");
	if (be)
		printf("%s%s", vm->legacy ? "legacy " : "", be);
	else
		printf("unknown kind");
	if (vm->has_version)
		printf(", version %lld", (long long)vm->version);
	if (vm->format)
		printf(", %s plist", ut_vm_format_name(vm->format));
	printf("\n");
}

static void print_text_vm(const struct vmcheck_opts *o, const struct ut_vm_config *vm,
			  const struct vm_outcome *oc)
{
	static const char *const verdict[] = {
		"ok",
		"needs vmnet (com.apple.vm.networking)",
		"invalid: UTM would not load it",
	};
	printf("%s: %s\n", vm->name, verdict[vm->status]);
	printf("  bundle:  %s\n", vm->bundle);
	print_kind(vm);
	if (vm->status != UT_VM_INVALID && vm->nnics == 0)
		printf("  nics:    none (-nic none)\n");
	for (size_t i = 0; i < vm->nnics; i++) {
		const struct ut_vm_nic *n = &vm->nics[i];
		printf("  nic %u:   %s", n->index, n->mode ? n->mode : "(no mode)");
		if (n->hardware)
			printf(" (%s)", n->hardware);
		if (n->netdev)
			printf("  %s%s", vm->backend == UT_VM_BACKEND_APPLE ? "" : "-netdev ", n->netdev);
		printf("%s\n", n->vmnet ? "  [needs com.apple.vm.networking]" : "");
	}
	for (size_t i = 0; i < vm->nargs; i++)
		printf("  arg %u:   '%s'  [%s needs com.apple.vm.networking]\n", vm->args[i].index,
		       vm->args[i].value, vm->args[i].netdev);
	if (vm->status == UT_VM_INVALID)
		for (size_t i = 0; i < vm->nproblems; i++)
			printf("  problem: %s\n", vm->problems[i]);
	for (size_t i = 0; i < vm->nnotes; i++)
		printf("  note:    %s\n", vm->notes[i]);
	if (oc->tried) {
		const char *verb = o->dry_run ? "would change" : oc->res.written ? "changed" : "change";
		for (size_t i = 0; i < oc->res.fix.nchanges; i++)
			printf("  %s: %s\n", verb, oc->res.fix.changes[i]);
		if (oc->res.backup_dir)
			printf("  backup:  %s\n", oc->res.backup_dir);
		if (oc->error)
			printf("  not fixed: %s\n", oc->error);
	} else if (vm->status == UT_VM_VMNET && !o->fix) {
		printf("  fix:     utmpatch vmcheck --fix '%s'  (or choose %s in UTM's network settings)\n",
		       vm->bundle, vm->backend == UT_VM_BACKEND_APPLE ? "Shared Network" : "Emulated VLAN");
	}
	printf("\n");
}

static void print_text(const struct vmcheck_opts *o, const struct ut_vm_list *l, const struct vm_outcome *oc)
{
	size_t count[3] = { 0, 0, 0 }, fixed = 0;
	for (size_t i = 0; i < l->n; i++) {
		print_text_vm(o, l->vms[i], &oc[i]);
		count[oc[i].after]++;
		fixed += oc[i].res.written;
	}
	for (size_t i = 0; i < l->nmissing; i++)
		printf("registered in UTM (%s) but missing: %s\n", l->missing[i].source, l->missing[i].path);
	if (l->n == 0)
		printf("no UTM virtual machines found\n");
	else
		printf("%zu VM%s: %zu ok, %zu need%s vmnet, %zu invalid%s", l->n, l->n == 1 ? "" : "s", count[0],
		       count[1], count[1] == 1 ? "s" : "", count[2], o->fix && !o->dry_run ? "" : "\n");
	if (l->n && o->fix && !o->dry_run)
		printf(" (after fixing %zu)\n", fixed);
}

/* ---- JSON ---- */

static void json_vm(struct ut_json *j, const struct vmcheck_opts *o, const struct ut_vm_config *vm,
		    const struct vm_outcome *oc)
{
	ut_json_obj(j);
	ut_report_vm_members(j, vm);
	if (o->fix) {
		ut_json_key(j, "fix");
		ut_json_obj(j);
		ut_json_kbool(j, "dry_run", o->dry_run);
		ut_report_json_strs(j, "changes", oc->res.fix.changes, oc->res.fix.nchanges);
		ut_json_kbool(j, "written", oc->res.written);
		ut_json_kstr(j, "backup", oc->res.backup_dir);
		ut_json_kstr(j, "status", ut_vm_status_name(oc->after));
		ut_json_kstr(j, "error", oc->error);
		ut_json_end(j);
	}
	ut_json_end(j);
}

static int print_json(const struct vmcheck_opts *o, const struct ut_vm_list *l, const struct vm_outcome *oc)
{
	struct ut_buf b;
	ut_buf_init(&b, 0);
	struct ut_json j;
	ut_json_init(&j, &b, 1);
	size_t count[3] = { 0, 0, 0 };
	ut_json_obj(&j);
	ut_json_key(&j, "vms");
	ut_json_arr(&j);
	for (size_t i = 0; i < l->n; i++) {
		json_vm(&j, o, l->vms[i], &oc[i]);
		count[oc[i].after]++;
	}
	ut_json_end(&j);
	ut_report_vm_missing(&j, l);
	ut_json_key(&j, "summary");
	ut_json_obj(&j);
	ut_json_kuint(&j, "total", l->n);
	ut_json_kuint(&j, "ok", count[0]);
	ut_json_kuint(&j, "vmnet", count[1]);
	ut_json_kuint(&j, "invalid", count[2]);
	ut_json_end(&j);
	ut_json_end(&j);
	return cmd_json_print(&j, &b);
}

/* ---- the command ---- */

static int fix_one(const struct vmcheck_opts *o, const char *state_dir, const struct ut_vm_config *vm,
		   struct vm_outcome *oc)
{
	struct ut_vm_fix_opts fo = { state_dir, (int64_t)time(NULL), o->dry_run };
	oc->tried = 1;
	oc->rc = ut_vmconfig_fix_file(&oc->res, vm, &fo);
	if (oc->rc) {
		oc->error = strdup(ut_errmsg());
		return oc->rc == UT_ENOMEM ? oc->rc : 0;
	}
	if (!oc->res.written)
		return 0;
	struct ut_vm_config *again = NULL;
	int rc = ut_vmconfig_load(&again, vm->bundle, vm->config_path);
	if (rc)
		return rc;
	oc->after = again->status;
	ut_vmconfig_free(again);
	return 0;
}

int cmd_vmcheck(int argc, char **argv)
{
	struct vmcheck_opts o;
	int code = parse(&o, argc, argv);
	if (code) {
		free(o.paths);
		return code < 0 ? cmd_help(usage) : code;
	}
	struct ut_vm_list l;
	ut_vm_list_init(&l);
	struct vm_outcome *oc = NULL;
	char *state_dir = NULL;
	int rc = cmd_vm_collect(&l, o.paths, o.npaths);
	if (!rc && !(oc = calloc(l.n + 1, sizeof(*oc))))
		rc = ut_fail(UT_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < l.n; i++)
		oc[i].after = l.vms[i]->status;
	if (!rc && o.fix && !o.dry_run) {
		int running = 0;
		rc = ut_vm_utm_running(&running);
		if (!rc && running && !o.force)
			rc = ut_fail(UT_EREFUSED, "UTM is running: quit it first (it would save its own copy of "
						  "the configs over the fix), or use --force");
		if (!rc && o.state_dir && !(state_dir = strdup(o.state_dir)))
			rc = ut_fail(UT_ENOMEM, "out of memory");
		else if (!rc && !o.state_dir)
			rc = cmd_default_state_dir(&state_dir);
	}
	int fix_failed = 0;
	for (size_t i = 0; !rc && o.fix && i < l.n; i++) {
		if (l.vms[i]->status != UT_VM_VMNET)
			continue;
		rc = fix_one(&o, state_dir, l.vms[i], &oc[i]);
		fix_failed |= oc[i].rc != 0;
	}
	if (rc) {
		code = cmd_fail(rc);
	} else {
		code = EXIT_OK;
		for (size_t i = 0; i < l.n; i++)
			if (oc[i].after != UT_VM_OK)
				code = EXIT_BAD;
		if (o.json) {
			if (print_json(&o, &l, oc))
				code = cmd_fail(UT_ENOMEM);
		} else {
			print_text(&o, &l, oc);
		}
		for (size_t i = 0; i < l.n; i++)
			if (oc[i].error)
				fprintf(stderr, "utmpatch: %s\n", oc[i].error);
		if (fix_failed)
			code = EXIT_FAIL;
	}
	for (size_t i = 0; oc && i < l.n; i++) {
		ut_vm_fix_result_release(&oc[i].res);
		free(oc[i].error);
	}
	free(oc);
	free(state_dir);
	ut_vm_list_release(&l);
	free(o.paths);
	return cmd_finish(code);
}
