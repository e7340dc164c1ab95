/*
 * ut_report_vm.h - a VM's networking check as JSON members
 * (docs/schemas/vmcheck.schema.json, "vms" items), shared by vmcheck and the
 * verify gate.
 */
#ifndef UT_REPORT_VM_H
#define UT_REPORT_VM_H

#include "ut_json.h"
#include "ut_vmconfig.h"

/* "xml", "binary", or NULL when the file is not a plist. */
const char *ut_vm_format_name(int format);
/* Writes path, config, name, uuid, backend, legacy, version, format, status, nics, arguments, problems, notes into the open object. */
void ut_report_vm_members(struct ut_json *j, const struct ut_vm_config *vm);
/* Writes "missing": [{path, source}] into the open object. */
void ut_report_vm_missing(struct ut_json *j, const struct ut_vm_list *l);
/* Writes key: [strings]. */
void ut_report_json_strs(struct ut_json *j, const char *key, char *const *v, size_t n);

#endif
