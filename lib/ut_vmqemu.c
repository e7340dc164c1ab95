/*
 * ut_vmqemu.c - QEMU-backend configs: v4 Network[] and legacy Networking.
 *
 * Decoder rules from UTM (utm-domain §3.3): every v4 NIC needs Mode,
 * Hardware, MacAddress, IsolateFromHost and PortForward; port forwards use
 * Protocol/HostPort/GuestPort, or the camelCase keys written before UTM 4.4.
 * The -netdev value follows networkArguments in
 * UTMQemuConfiguration+Arguments.swift as built on macOS (§3.4).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut_buf.h"
#include "ut_plist.h"
#include "ut_vm_internal.h"

static const char *const qmode_names[] = { "Emulated", "Shared", "Host", "Bridged" };
static const char *const qmode_backend[] = { "user", "vmnet-shared", "vmnet-host", "vmnet-bridged" };

/* ---- -netdev ---- */

static int parse_ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return 0;
	*out = ntohl(a.s_addr);
	return 1;
}

static void fmt_ipv4(uint32_t v, char out[16])
{
	struct in_addr a;
	a.s_addr = htonl(v);
	if (!inet_ntop(AF_INET, &a, out, 16))
		out[0] = '\0';
}

/* A Swift Int("...") for a prefix length: optional sign, then digits only. */
static int parse_prefix(const char *s, long *out)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (!*p)
		return 0;
	long v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > 1000)
			return 0;
		v = v * 10 + (*p - '0');
	}
	*out = s[0] == '-' ? -v : v;
	return 1;
}

int vm_subnet(const char *cidr, char start[16], char end[16], char mask[16])
{
	/* split(separator: "/") drops empty pieces; only exactly two pieces carry a mask. */
	char buf[128];
	if (!cidr || strlen(cidr) >= sizeof(buf))
		return 0;
	strcpy(buf, cidr);
	char *parts[3] = { NULL, NULL, NULL };
	int n = 0;
	for (char *save = NULL, *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save))
		if (n < 3)
			parts[n++] = t;
		else
			n++;
	if (n < 1)
		return 0;
	uint32_t m = 0xFFFFFF00u;
	if (n == 2) {
		long bits = 0;
		if (!parse_ipv4(parts[1], &m)) {
			if (!parse_prefix(parts[1], &bits) || bits < 0 || bits >= 32)
				return 0;
			m = bits == 0 ? 0 : 0xFFFFFFFFu << (32 - bits);
		}
	}
	uint32_t addr;
	if (!parse_ipv4(parts[0], &addr))
		return 0;
	fmt_ipv4((addr & m) + 1u, start);
	fmt_ipv4((addr | ~m) - 1u, end);
	fmt_ipv4(m, mask);
	return 1;
}

static void opt(struct ut_buf *b, const char *key, const char *val)
{
	if (val)
		ut_buf_printf(b, ",%s=%s", key, val);
}

char *vm_qemu_netdev(const struct vm_qnic *q, unsigned i)
{
	struct ut_buf b;
	ut_buf_init(&b, 1u << 20);
	int vmnet = q->mode != VM_QMODE_EMULATED;
	int rc = ut_buf_printf(&b, "%s,id=net%u", qmode_backend[q->mode], i);
	if (q->mode == VM_QMODE_BRIDGED)
		opt(&b, "ifname", q->bridge ? q->bridge : "en0");
	if (q->mode == VM_QMODE_HOST && q->host_net_uuid) {
		char up[37];
		size_t k = 0;
		for (; q->host_net_uuid[k] && k < 36; k++) {
			char c = q->host_net_uuid[k];
			up[k] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
		}
		up[k] = '\0';
		opt(&b, "net-uuid", up);
	}
	if (q->isolate)
		ut_buf_printf(&b, vmnet ? ",isolated=on" : ",restrict=on");
	if (vmnet) {
		char s[16], e[16], m[16];
		if (q->guest && vm_subnet(q->guest, s, e, m)) {
			opt(&b, "start-address", q->dhcp_start ? q->dhcp_start : s);
			opt(&b, "end-address", q->dhcp_end ? q->dhcp_end : e);
			opt(&b, "subnet-mask", m);
		}
		opt(&b, "nat66-prefix", q->guest6);
	} else {
		opt(&b, "net", q->guest);
		opt(&b, "host", q->host);
		opt(&b, "ipv6-net", q->guest6);
		opt(&b, "ipv6-host", q->host6);
		opt(&b, "dhcpstart", q->dhcp_start);
		opt(&b, "dns", q->dns);
		opt(&b, "ipv6-dns", q->dns6);
		opt(&b, "dnssearch", q->dns_search);
		opt(&b, "domainname", q->dhcp_domain);
		for (size_t k = 0; k < q->nfwd; k++) {
			const struct vm_fwd *f = &q->fwd[k];
			ut_buf_printf(&b, ",hostfwd=%s:%s:%lld-%s:%lld", f->proto, f->host_addr ? f->host_addr : "",
				      (long long)f->host_port, f->guest_addr ? f->guest_addr : "",
				      (long long)f->guest_port);
		}
	}
	if (rc || ut_buf_cstr(&b)) {
		ut_buf_release(&b);
		return NULL;
	}
	size_t len;
	return (char *)ut_buf_detach(&b, &len);
}

/* Records the NIC; netdev computed when the mode is known. */
static void add_qnic(struct vm_parse *ps, unsigned idx, const char *mode, int known, const struct vm_qnic *q,
		     const char *hw, const char *mac, const char *where)
{
	struct ut_vm_nic *nic = vm_add_nic(ps, idx, mode, hw, mac);
	if (!nic || !known)
		return;
	nic->netdev = vm_qemu_netdev(q, idx);
	if (!nic->netdev)
		ps->oom = 1;
	nic->vmnet = q->mode != VM_QMODE_EMULATED;
	if (nic->vmnet) {
		vm_needs_vmnet(ps, "%s: mode '%s' uses %s, which needs com.apple.vm.networking", where, mode,
			       qmode_backend[q->mode]);
		if (q->nfwd)
			vm_note(ps, "%s: %zu port forward(s) are ignored in vmnet mode; Emulated uses them", where,
				q->nfwd);
	}
}

/* ---- v4 ---- */

static int fwd_try(plist_t d, const char *kproto, const char *khost, const char *khp, const char *kguest,
		   const char *kgp, struct vm_fwd *f)
{
	const char *proto = ut_plist_dict_str(d, kproto);
	if (!proto)
		return 0;
	if (strcmp(proto, "TCP") == 0)
		f->proto = "tcp";
	else if (strcmp(proto, "UDP") == 0)
		f->proto = "udp";
	else
		return 0;
	plist_t ha = vm_get(d, khost), ga = vm_get(d, kguest);
	if ((ha && !vm_is(ha, PLIST_STRING)) || (ga && !vm_is(ga, PLIST_STRING)))
		return 0;
	f->host_addr = ha ? ut_plist_str(ha) : NULL;
	f->guest_addr = ga ? ut_plist_str(ga) : NULL;
	return vm_int(vm_get(d, khp), &f->host_port) && vm_int(vm_get(d, kgp), &f->guest_port);
}

static void parse_v4_forwards(struct vm_parse *ps, plist_t arr, const char *where, struct vm_qnic *q)
{
	uint32_t n = plist_array_get_size(arr);
	q->fwd = calloc(n ? n : 1, sizeof(*q->fwd));
	if (!q->fwd) {
		ps->oom = 1;
		return;
	}
	for (uint32_t k = 0; k < n; k++) {
		plist_t d = plist_array_get_item(arr, k);
		struct vm_fwd f = { 0 };
		if (!vm_is(d, PLIST_DICT)) {
			vm_invalid(ps, "wrong type for '%s.PortForward[%u]': %s, expected dictionary", where, k,
				   vm_type_name(d));
			continue;
		}
		if (fwd_try(d, "Protocol", "HostAddress", "HostPort", "GuestAddress", "GuestPort", &f) ||
		    fwd_try(d, "protocol", "hostAddress", "hostPort", "guestAddress", "guestPort", &f))
			q->fwd[q->nfwd++] = f;
		else
			vm_invalid(ps, "bad port forward '%s.PortForward[%u]': needs Protocol TCP|UDP, HostPort "
				   "and GuestPort integers (or the pre-4.4 camelCase keys)", where, k);
	}
}

static int qmode_of(const char *s, const char *const names[4])
{
	for (int m = 0; s && m < 4; m++)
		if (strcmp(s, names[m]) == 0)
			return m;
	return -1;
}

static void parse_v4_nic(struct vm_parse *ps, plist_t d, unsigned idx)
{
	char where[32];
	snprintf(where, sizeof(where), "Network[%u]", idx);
	if (!vm_is(d, PLIST_DICT)) {
		vm_invalid(ps, "wrong type for '%s': %s, expected dictionary", where, vm_type_name(d));
		return;
	}
	struct vm_qnic q = { 0 };
	const char *mode = ut_plist_str(vm_need(ps, d, where, "Mode", PLIST_STRING));
	int m = qmode_of(mode, qmode_names);
	if (mode && m < 0)
		vm_invalid(ps, "unknown mode '%s' in '%s.Mode' (UTM reads Emulated, Shared, Host, Bridged)", mode,
			   where);
	const char *hw = ut_plist_str(vm_need(ps, d, where, "Hardware", PLIST_STRING));
	const char *mac = ut_plist_str(vm_need(ps, d, where, "MacAddress", PLIST_STRING));
	plist_t iso = vm_need(ps, d, where, "IsolateFromHost", PLIST_BOOLEAN);
	plist_t fwd = vm_need(ps, d, where, "PortForward", PLIST_ARRAY);
	q.isolate = iso && ut_plist_dict_true(d, "IsolateFromHost");
	if (fwd)
		parse_v4_forwards(ps, fwd, where, &q);
	q.bridge = ut_plist_str(vm_want(ps, d, where, "BridgeInterface", PLIST_STRING));
	q.host_net_uuid = ut_plist_str(vm_want(ps, d, where, "HostNetUuid", PLIST_STRING));
	if (q.host_net_uuid && !vm_is_uuid(q.host_net_uuid)) {
		vm_invalid(ps, "bad UUID '%s' in '%s.HostNetUuid'", q.host_net_uuid, where);
		q.host_net_uuid = NULL;
	}
	static const char *const vlan_keys[] = {
		"VlanGuestAddress", "VlanGuestAddressIPv6", "VlanHostAddress", "VlanHostAddressIPv6",
		"VlanDhcpStartAddress", "VlanDhcpEndAddress", "VlanDhcpDomain", "VlanDnsServerAddress",
		"VlanDnsServerAddressIPv6", "VlanDnsSearchDomain",
	};
	const char **vlan_dst[] = { &q.guest, &q.guest6, &q.host, &q.host6, &q.dhcp_start,
				    &q.dhcp_end, &q.dhcp_domain, &q.dns, &q.dns6, &q.dns_search };
	for (size_t k = 0; k < sizeof(vlan_keys) / sizeof(vlan_keys[0]); k++)
		*vlan_dst[k] = ut_plist_str(vm_want(ps, d, where, vlan_keys[k], PLIST_STRING));
	q.mode = m < 0 ? VM_QMODE_EMULATED : (enum vm_qmode)m;
	add_qnic(ps, idx, mode, m >= 0, &q, hw, mac, where);
	free(q.fwd);
}

void vm_parse_qemu_v4(struct vm_parse *ps, plist_t root)
{
	if (vm_parse_v4_head(ps, root) != 0)
		return;
	vm_need(ps, root, "", "System", PLIST_DICT);
	plist_t qemu = vm_need(ps, root, "", "QEMU", PLIST_DICT);
	plist_t args = qemu ? vm_need(ps, qemu, "QEMU", "AdditionalArguments", PLIST_ARRAY) : NULL;
	vm_need(ps, root, "", "Input", PLIST_DICT);
	vm_need(ps, root, "", "Sharing", PLIST_DICT);
	vm_need(ps, root, "", "Display", PLIST_ARRAY);
	vm_need(ps, root, "", "Drive", PLIST_ARRAY);
	plist_t net = vm_need(ps, root, "", "Network", PLIST_ARRAY);
	vm_need(ps, root, "", "Serial", PLIST_ARRAY);
	vm_need(ps, root, "", "Sound", PLIST_ARRAY);
	for (uint32_t i = 0; net && i < plist_array_get_size(net); i++)
		parse_v4_nic(ps, plist_array_get_item(net, i), i);
	if (args)
		vm_check_args(ps, args, "QEMU.AdditionalArguments");
}

/* ---- legacy (v1, v2) ---- */

static void parse_legacy_forwards(struct vm_parse *ps, plist_t arr, struct vm_qnic *q)
{
	uint32_t n = plist_array_get_size(arr);
	q->fwd = calloc(n ? n : 1, sizeof(*q->fwd));
	if (!q->fwd) {
		ps->oom = 1;
		return;
	}
	for (uint32_t k = 0; k < n; k++) {
		plist_t d = plist_array_get_item(arr, k);
		char where[48];
		snprintf(where, sizeof(where), "Networking.PortForward[%u]", k);
		if (!vm_is(d, PLIST_DICT)) {
			vm_invalid(ps, "wrong type for '%s': %s, expected dictionary", where, vm_type_name(d));
			continue;
		}
		struct vm_fwd f = { "tcp", NULL, 0, NULL, 0 };
		const char *proto = ut_plist_str(vm_want(ps, d, where, "Protocol", PLIST_STRING));
		if (proto && strcmp(proto, "udp") == 0)
			f.proto = "udp";
		f.host_addr = ut_plist_str(vm_want(ps, d, where, "HostAddress", PLIST_STRING));
		f.guest_addr = ut_plist_str(vm_want(ps, d, where, "GuestAddress", PLIST_STRING));
		vm_want(ps, d, where, "HostPort", PLIST_UINT);
		plist_t gp = vm_want(ps, d, where, "GuestPort", PLIST_UINT);
		if (gp)
			vm_int(gp, &f.guest_port);
		/* UTMQemuConfigurationPortForward(migrating:) copies the guest port into the host port. */
		f.host_port = f.guest_port;
		q->fwd[q->nfwd++] = f;
	}
	if (n)
		vm_note(ps, "Networking.PortForward: UTM's migration uses each GuestPort as the host port too");
}

void vm_parse_qemu_legacy(struct vm_parse *ps, plist_t root)
{
	struct ut_vm_config *vm = ps->vm;
	if (vm->has_version && vm->version > 2) {
		vm_invalid(ps, "legacy QEMU ConfigurationVersion %lld is newer than UTM reads (2)",
			   (long long)vm->version);
		return;
	}
	/* Our own rule: UTM would take any dictionary as a legacy QEMU config. */
	plist_t sys = vm_need(ps, root, "", "System", PLIST_DICT);
	if (sys) {
		vm_set_str(ps, &vm->uuid, ut_plist_str(vm_want(ps, sys, "System", "SystemUUID", PLIST_STRING)));
		plist_t add = vm_get(sys, "AddArgs");
		if (add && !vm_is(add, PLIST_ARRAY) && !vm_is(add, PLIST_STRING))
			vm_invalid(ps, "wrong type for 'System.AddArgs': %s, expected array or string",
				   vm_type_name(add));
		else if (add)
			vm_check_args(ps, add, "System.AddArgs");
	}
	plist_t net = vm_want(ps, root, "", "Networking", PLIST_DICT);
	if (!net)
		return;
	const char *w = "Networking";
	const char *mode;
	plist_t en = vm_want(ps, net, w, "NetworkEnabled", PLIST_BOOLEAN);
	if (en) {
		/* The oldest key: migrated to NetworkMode emulated or none, replacing any NetworkMode. */
		mode = ut_plist_dict_true(net, "NetworkEnabled") ? "emulated" : "none";
	} else {
		mode = ut_plist_str(vm_want(ps, net, w, "NetworkMode", PLIST_STRING));
	}
	static const char *const legacy_names[] = { "emulated", "shared", "host", "bridged" };
	int m = qmode_of(mode, legacy_names);
	struct vm_qnic q = { 0 };
	const char *hw = ut_plist_str(vm_want(ps, net, w, "NetworkCard", PLIST_STRING));
	const char *mac = ut_plist_str(vm_want(ps, net, w, "NetworkCardMAC", PLIST_STRING));
	q.isolate = vm_want(ps, net, w, "IsolateGuest", PLIST_BOOLEAN) && ut_plist_dict_true(net, "IsolateGuest");
	q.bridge = ut_plist_str(vm_want(ps, net, w, "NetworkBridgeInterface", PLIST_STRING));
	static const char *const keys[] = { "IPSubnet", "IPv6Subnet", "IPHost",     "IPv6Host", "DHCPStart",
					    "DHCPDomain", "IPDNS",    "IPv6DNS", "DNSSearch" };
	const char **dst[] = { &q.guest,       &q.guest6, &q.host, &q.host6,     &q.dhcp_start,
			       &q.dhcp_domain, &q.dns,    &q.dns6, &q.dns_search };
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		*dst[k] = ut_plist_str(vm_want(ps, net, w, keys[k], PLIST_STRING));
	plist_t fwd = vm_want(ps, net, w, "PortForward", PLIST_ARRAY);
	if (m >= 0 && fwd)
		parse_legacy_forwards(ps, fwd, &q);
	if (m < 0) {
		if (mode && strcmp(mode, "none") != 0)
			vm_note(ps, "Networking.NetworkMode '%s' is not one UTM knows: the VM has no network", mode);
		free(q.fwd);
		return;
	}
	q.mode = (enum vm_qmode)m;
	add_qnic(ps, 0, mode, 1, &q, hw ? hw : "rtl8139", mac, "Networking");
	free(q.fwd);
}
