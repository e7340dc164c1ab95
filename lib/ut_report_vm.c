/* ut_report_vm.c - VM networking results as JSON members (see ut_report_vm.h). */
#include "ut_report_vm.h"

#include "ut_plist.h"

const char *ut_vm_format_name(int format)
{
	return format == UT_PLIST_BINARY ? "binary" : format == UT_PLIST_XML ? "xml" : NULL;
}

void ut_report_json_strs(struct ut_json *j, const char *key, char *const *v, size_t n)
{
	ut_json_key(j, key);
	ut_json_arr(j);
	for (size_t i = 0; i < n; i++)
		ut_json_str(j, v[i]);
	ut_json_end(j);
}

static void nics(struct ut_json *j, const struct ut_vm_config *vm)
{
	ut_json_key(j, "nics");
	ut_json_arr(j);
	for (size_t i = 0; i < vm->nnics; i++) {
		const struct ut_vm_nic *n = &vm->nics[i];
		ut_json_obj(j);
		ut_json_kuint(j, "index", n->index);
		ut_json_kstr(j, "mode", n->mode);
		ut_json_kstr(j, "netdev", n->netdev);
		ut_json_kbool(j, "vmnet", n->vmnet);
		ut_json_kstr(j, "hardware", n->hardware);
		ut_json_kstr(j, "mac_address", n->mac_address);
		ut_json_end(j);
	}
	ut_json_end(j);
}

static void arguments(struct ut_json *j, const struct ut_vm_config *vm)
{
	ut_json_key(j, "arguments");
	ut_json_arr(j);
	for (size_t i = 0; i < vm->nargs; i++) {
		ut_json_obj(j);
		ut_json_kuint(j, "index", vm->args[i].index);
		ut_json_kstr(j, "value", vm->args[i].value);
		ut_json_kstr(j, "netdev", vm->args[i].netdev);
		ut_json_end(j);
	}
	ut_json_end(j);
}

void ut_report_vm_members(struct ut_json *j, const struct ut_vm_config *vm)
{
	ut_json_kstr(j, "path", vm->bundle);
	ut_json_kstr(j, "config", vm->config_path);
	ut_json_kstr(j, "name", vm->name);
	ut_json_kstr(j, "uuid", vm->uuid);
	ut_json_kstr(j, "backend", ut_vm_backend_name(vm->backend));
	ut_json_kbool(j, "legacy", vm->legacy);
	ut_json_key(j, "version");
	if (vm->has_version)
		ut_json_int(j, vm->version);
	else
		ut_json_null(j);
	ut_json_kstr(j, "format", ut_vm_format_name(vm->format));
	ut_json_kstr(j, "status", ut_vm_status_name(vm->status));
	nics(j, vm);
	arguments(j, vm);
	ut_report_json_strs(j, "problems", vm->problems, vm->nproblems);
	ut_report_json_strs(j, "notes", vm->notes, vm->nnotes);
}

void ut_report_vm_missing(struct ut_json *j, const struct ut_vm_list *l)
{
	ut_json_key(j, "missing");
	ut_json_arr(j);
	for (size_t i = 0; i < l->nmissing; i++) {
		ut_json_obj(j);
		ut_json_kstr(j, "path", l->missing[i].path);
		ut_json_kstr(j, "source", l->missing[i].source);
		ut_json_end(j);
	}
	ut_json_end(j);
}
