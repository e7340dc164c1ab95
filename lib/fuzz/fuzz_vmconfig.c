/*
 * fuzz_vmconfig.c - libFuzzer target for the VM config reader and the fix.
 *
 * Any input must parse without crashing into a status; a config that needs
 * vmnet must fix into one that checks out ok (or be refused when libplist
 * cannot round-trip it), fixing that again must change nothing, and an ok
 * config must need no fix.  The first byte picks the bundle path, to vary the name
 * fallback.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ut_err.h"
#include "ut_plist.h"
#include "ut_vmconfig.h"

/* libplist 2.2 reads some binary plists it cannot write back readably; then UT_EVERIFY is right. */
static int libplist_roundtrip_fails(const uint8_t *data, size_t size)
{
	plist_t root = NULL, again = NULL;
	enum ut_plist_format fmt;
	if (ut_plist_parse(data, size, "fuzz", &root, &fmt) != 0)
		return 1;
	uint8_t *out = NULL;
	size_t len = 0;
	int bad = ut_plist_serialize(root, fmt, &out, &len) != 0 || ut_plist_parse(out, len, "fuzz", &again, NULL) != 0;
	plist_free(root);
	plist_free(again);
	free(out);
	return bad;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *bundle = size && (data[0] & 1) ? "/tmp/Fuzz VM.utm" : "fuzz";
	struct ut_vm_config *vm = NULL;
	if (ut_vmconfig_parse(&vm, data, size, bundle) != 0)
		return 0; /* out of memory only */
	if (vm->status == UT_VM_VMNET) {
		struct ut_vm_fix fix;
		int rc = ut_vmconfig_fix_bytes(&fix, data, size, bundle);
		/* UT_EVERIFY means the rewrite did not check out: our bug, unless libplist is to blame. */
		if (rc == UT_EVERIFY && !libplist_roundtrip_fails(data, size))
			abort();
		if (rc != 0 && rc != UT_EVERIFY && rc != UT_ENOMEM)
			abort();
		if (rc == 0 && fix.out) {
			struct ut_vm_fix again;
			if (ut_vmconfig_fix_bytes(&again, fix.out, fix.outlen, bundle) == 0 && again.out)
				abort();
			ut_vm_fix_release(&again);
		}
		ut_vm_fix_release(&fix);
	} else if (vm->status == UT_VM_OK) {
		struct ut_vm_fix fix;
		if (ut_vmconfig_fix_bytes(&fix, data, size, bundle) == 0 && fix.out)
			abort();
		ut_vm_fix_release(&fix);
	}
	ut_vmconfig_free(vm);
	return 0;
}
