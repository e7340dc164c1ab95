/*
 * ut_vmapple.c - Apple Virtualization configs: v4 Network[] and legacy networkDevices[].
 *
 * Apple VMs do not use QEMU.  Shared is VZNATNetworkDeviceAttachment, which an
 * ad-hoc signed UTM can use; Bridged is VZBridgedNetworkDeviceAttachment,
 * which needs com.apple.vm.networking (utm-domain §3.3).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut_plist.h"
#include "ut_vm_internal.h"

#define VZ_NAT "VZNATNetworkDeviceAttachment"
#define VZ_BRIDGED "VZBridgedNetworkDeviceAttachment"

/* One Apple NIC: mode, MAC and interface under the given key names. */
static void parse_nic(struct vm_parse *ps, plist_t d, unsigned idx, const char *arr, const char *kmode,
		      const char *kmac, const char *kbridge)
{
	char where[48];
	snprintf(where, sizeof(where), "%s[%u]", arr, idx);
	if (!vm_is(d, PLIST_DICT)) {
		vm_invalid(ps, "wrong type for '%s': %s, expected dictionary", where, vm_type_name(d));
		return;
	}
	const char *mode = ut_plist_str(vm_need(ps, d, where, kmode, PLIST_STRING));
	const char *mac = ut_plist_str(vm_need(ps, d, where, kmac, PLIST_STRING));
	const char *bridge = ut_plist_str(vm_want(ps, d, where, kbridge, PLIST_STRING));
	int shared = mode && strcmp(mode, "Shared") == 0;
	int bridged = mode && strcmp(mode, "Bridged") == 0;
	if (mode && !shared && !bridged)
		vm_invalid(ps, "unknown mode '%s' in '%s.%s' (UTM reads Shared, Bridged)", mode, where, kmode);
	struct ut_vm_nic *nic = vm_add_nic(ps, idx, mode, NULL, mac);
	if (!nic || (!shared && !bridged))
		return;
	nic->netdev = strdup(shared ? VZ_NAT : VZ_BRIDGED);
	if (!nic->netdev)
		ps->oom = 1;
	nic->vmnet = bridged;
	if (bridged)
		vm_needs_vmnet(ps, "%s: mode 'Bridged' uses " VZ_BRIDGED " (interface %s), which needs "
			       "com.apple.vm.networking", where, bridge ? bridge : "first available");
}

void vm_parse_apple_v4(struct vm_parse *ps, plist_t root)
{
	if (vm_parse_v4_head(ps, root) != 0)
		return;
	vm_need(ps, root, "", "System", PLIST_DICT);
	vm_need(ps, root, "", "Virtualization", PLIST_DICT);
	vm_want(ps, root, "", "SharedDirectory", PLIST_ARRAY);
	vm_need(ps, root, "", "Display", PLIST_ARRAY);
	vm_need(ps, root, "", "Drive", PLIST_ARRAY);
	plist_t net = vm_need(ps, root, "", "Network", PLIST_ARRAY);
	vm_need(ps, root, "", "Serial", PLIST_ARRAY);
	for (uint32_t i = 0; net && i < plist_array_get_size(net); i++)
		parse_nic(ps, plist_array_get_item(net, i), i, "Network", "Mode", "MacAddress", "BridgeInterface");
}

void vm_parse_apple_legacy(struct vm_parse *ps, plist_t root)
{
	/* The keys UTMLegacyAppleConfiguration decodes without a default. */
	static const struct {
		const char *key;
		plist_type type;
	} required[] = {
		{ "cpuCount", PLIST_UINT },         { "memorySize", PLIST_UINT },
		{ "networkDevices", PLIST_ARRAY },  { "diskImages", PLIST_ARRAY },
		{ "isBalloonEnabled", PLIST_BOOLEAN }, { "isEntropyEnabled", PLIST_BOOLEAN },
		{ "isSerialEnabled", PLIST_BOOLEAN },  { "isConsoleDisplay", PLIST_BOOLEAN },
		{ "name", PLIST_STRING },           { "architecture", PLIST_STRING },
		{ "iconCustom", PLIST_BOOLEAN },    { "consoleCursorBlink", PLIST_BOOLEAN },
	};
	plist_t net = NULL;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		plist_t v = vm_need(ps, root, "", required[i].key, required[i].type);
		if (strcmp(required[i].key, "networkDevices") == 0)
			net = v;
	}
	vm_set_str(ps, &ps->vm->name, ut_plist_dict_str(root, "name"));
	for (uint32_t i = 0; net && i < plist_array_get_size(net); i++)
		parse_nic(ps, plist_array_get_item(net, i), i, "networkDevices", "networkMode", "macAddress",
			  "bridgeInterfaceIdentifier");
}
