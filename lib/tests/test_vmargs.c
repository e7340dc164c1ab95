/*
 * test_vmargs.c - splitting extra QEMU arguments, finding vmnet in them, and
 * UTM's subnet arithmetic.  Expected values are worked out by hand from the
 * regex in UTMQemuConfiguration+Arguments.swift (parsedUserArguments),
 * ((?:[^"\s]*"[^"]*"[^"\s]*)+|[^"\s]+), and from parseNetworkSubnet.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ut_vm_internal.h"

static void expect_tokens(const char *s, const char *const *want, size_t n)
{
	struct vm_args_plan pl;
	memset(&pl, 0, sizeof(pl));
	cr_assert_eq(vm_args_tokenize(&pl, s, 0), 0);
	cr_expect_eq(pl.ntoks, n, "'%s': %zu tokens, want %zu", s, pl.ntoks, n);
	for (size_t i = 0; i < n && i < pl.ntoks; i++)
		cr_expect_str_eq(pl.toks[i].value, want[i], "'%s' token %zu", s, i);
	vm_args_plan_release(&pl);
}

Test(vmargs, split_plain)
{
	const char *w[] = { "-m", "2G", "-smp", "4" };
	expect_tokens("  -m 2G\t-smp\n4 ", w, 4);
}

Test(vmargs, split_empty) { expect_tokens("", NULL, 0); }

Test(vmargs, split_quotes)
{
	/* A quoted token loses its outer quotes; quotes inside a token stay. */
	const char *w[] = { "-name", "my vm", "a\"b c\"d", "x" };
	expect_tokens("-name \"my vm\" a\"b c\"d x", w, 4);
}

Test(vmargs, split_unbalanced_quote)
{
	/* A quote without a partner matches neither alternative and is skipped. */
	const char *w[] = { "-a", "b", "c" };
	expect_tokens("-a b\"c", w, 3);
}

Test(vmargs, split_adjacent_quoted_groups)
{
	/* (A*"B*"A*)+ takes both groups; only the outermost quotes go. */
	const char *w[] = { "a\"\"b" };
	expect_tokens("\"a\"\"b\"", w, 1);
}

static void plan(const char *const *entries, size_t n, struct vm_args_plan *pl)
{
	cr_assert_eq(vm_args_plan(pl, entries, n, "QEMU.AdditionalArguments", 1), 0);
}

/* Entry e after the fix, or "<dropped>" / "<untouched>". */
static char *after(const struct vm_args_plan *pl, const char *const *entries, unsigned e)
{
	char *out = NULL;
	int drop = 0;
	cr_assert_eq(vm_args_apply(pl, entries, e, &out, &drop), 0);
	if (!out)
		return strdup("<untouched>");
	if (drop) {
		free(out);
		return strdup("<dropped>");
	}
	return out;
}

static void expect_after(const struct vm_args_plan *pl, const char *const *entries, unsigned e, const char *want)
{
	char *got = after(pl, entries, e);
	cr_expect_str_eq(got, want, "entry %u", e);
	free(got);
}

Test(vmargs, netdev_pair_in_use_becomes_user)
{
	const char *e[] = { "-netdev", "vmnet-shared,id=vnet1", "-device", "virtio-net-pci,netdev=vnet1" };
	struct vm_args_plan pl;
	plan(e, 4, &pl);
	cr_assert_eq(pl.nhits, 1);
	cr_expect_eq(pl.hits[0].entry, 1);
	cr_expect_str_eq(pl.hits[0].netdev, "vmnet-shared,id=vnet1");
	expect_after(&pl, e, 0, "<untouched>");
	expect_after(&pl, e, 1, "user,id=vnet1");
	expect_after(&pl, e, 2, "<untouched>");
	vm_args_plan_release(&pl);
}

Test(vmargs, netdev_unused_removed)
{
	const char *e[] = { "-usbdevice tablet", "-netdev vmnet-bridged,id=br0,ifname=en0", "" };
	struct vm_args_plan pl;
	plan(e, 3, &pl);
	cr_assert_eq(pl.nhits, 1);
	cr_expect_eq(pl.hits[0].entry, 1);
	expect_after(&pl, e, 0, "<untouched>");
	expect_after(&pl, e, 1, "<dropped>");
	expect_after(&pl, e, 2, "<untouched>");
	cr_assert_eq(pl.nchanges, 1);
	cr_expect_str_eq(pl.changes[0],
			 "QEMU.AdditionalArguments[1]: removed '-netdev vmnet-bridged,id=br0,ifname=en0'");
	vm_args_plan_release(&pl);
}

Test(vmargs, pair_split_over_two_strings_removed)
{
	const char *e[] = { "-netdev", "vmnet-host,id=h1", "-m 1G" };
	struct vm_args_plan pl;
	plan(e, 3, &pl);
	expect_after(&pl, e, 0, "<dropped>");
	expect_after(&pl, e, 1, "<dropped>");
	expect_after(&pl, e, 2, "<untouched>");
	vm_args_plan_release(&pl);
}

Test(vmargs, nic_keeps_model_and_mac)
{
	const char *e[] = { "-nic vmnet-shared,model=virtio-net-pci,mac=02:11:22:33:44:55,isolated=on -rtc base=utc" };
	struct vm_args_plan pl;
	plan(e, 1, &pl);
	cr_assert_eq(pl.nhits, 1);
	expect_after(&pl, e, 0, "-nic user,model=virtio-net-pci,mac=02:11:22:33:44:55 -rtc base=utc");
	vm_args_plan_release(&pl);
}

Test(vmargs, equals_form_and_stray_value)
{
	const char *e[] = { "-m 2G", "-netdev=vmnet-host,id=h0", "vmnet-shared,id=stray" };
	struct vm_args_plan pl;
	plan(e, 3, &pl);
	cr_assert_eq(pl.nhits, 2);
	cr_expect_str_eq(pl.hits[0].netdev, "vmnet-host,id=h0");
	cr_expect_str_eq(pl.hits[1].netdev, "vmnet-shared,id=stray");
	expect_after(&pl, e, 1, "<dropped>");
	expect_after(&pl, e, 2, "<dropped>");
	vm_args_plan_release(&pl);
}

/* Found by fuzz_vmconfig: a lone quote splits one string into two vmnet tokens; both must go at once. */
Test(vmargs, two_tokens_in_one_string)
{
	const char *e[] = { "-netdev", "vmnet-share\"vmnet-d,id=vnet1", "-m 1G" };
	struct vm_args_plan pl;
	plan(e, 3, &pl);
	cr_expect_eq(pl.nhits, 2);
	expect_after(&pl, e, 0, "<dropped>");
	expect_after(&pl, e, 1, "<dropped>");
	expect_after(&pl, e, 2, "<untouched>");
	vm_args_plan_release(&pl);
}

/*
 * Found by fuzz_vmconfig: a -nic value whose mac= runs through a quoted
 * section; copying it into "user,mac=..." would split into new tokens
 * (one of them vmnet) when UTM reads the string again.
 */
Test(vmargs, replacement_stays_one_token)
{
	const char *e[] = { "-nic vm,type=vmnet-x,model=e1000,mac=02:00\"a vmnet-y\"b -m 1G",
			    "-netdev \"vmnet-shared,id=a b\"", "-device e1000,netdev=a" };
	struct vm_args_plan pl;
	plan(e, 3, &pl);
	cr_expect_eq(pl.nhits, 2);
	expect_after(&pl, e, 0, "-nic user,model=e1000 -m 1G");
	expect_after(&pl, e, 1, "<dropped>");
	vm_args_plan_release(&pl);
}

/* Options start with a dash: "net vmnet-x" is two words, the second a stray vmnet value. */
Test(vmargs, option_needs_dash)
{
	const char *e[] = { "net", "x\"vmnet-y\"" };
	struct vm_args_plan pl;
	plan(e, 2, &pl);
	cr_expect_eq(pl.nhits, 0);
	vm_args_plan_release(&pl);
}

Test(vmargs, type_key_and_double_dash)
{
	const char *e[] = { "--netdev id=x,type=vmnet-bridged,ifname=en0", "-device e1000,netdev=x" };
	struct vm_args_plan pl;
	plan(e, 2, &pl);
	cr_assert_eq(pl.nhits, 1);
	expect_after(&pl, e, 0, "--netdev user,id=x");
	vm_args_plan_release(&pl);
}

Test(vmargs, benign_values_left_alone)
{
	/* A name that looks like vmnet, user netdevs, and vmnet inside a quoted string value. */
	const char *e[] = { "-name", "vmnet-shared", "-netdev user,id=u1", "-device e1000,netdev=u1",
			    "-fw_cfg \"name=opt/x,string=vmnet-shared is fine\"", "-netdev" };
	struct vm_args_plan pl;
	plan(e, 6, &pl);
	cr_expect_eq(pl.nhits, 0);
	cr_expect_eq(pl.nedits, 0);
	vm_args_plan_release(&pl);
}

Test(vmargs, quoted_value_keeps_rest_of_string)
{
	const char *e[] = { "-name \"two words\" -netdev \"vmnet-shared,id=q\" -snapshot" };
	struct vm_args_plan pl;
	plan(e, 1, &pl);
	cr_assert_eq(pl.nhits, 1);
	cr_expect_str_eq(pl.hits[0].netdev, "vmnet-shared,id=q");
	expect_after(&pl, e, 0, "-name \"two words\" -snapshot");
	vm_args_plan_release(&pl);
}

/* vm_subnet(cidr) parses, giving the DHCP start, end and the mask. */
static void expect_subnet(const char *cidr, const char *start, const char *end, const char *mask)
{
	char s[16], e[16], m[16];
	cr_assert(vm_subnet(cidr, s, e, m), "%s", cidr);
	cr_expect_str_eq(s, start, "%s: start", cidr);
	cr_expect_str_eq(e, end, "%s: end", cidr);
	cr_expect_str_eq(m, mask, "%s: mask", cidr);
}

Test(vmsubnet, prefix_length)
{
	expect_subnet("192.168.64.0/24", "192.168.64.1", "192.168.64.254", "255.255.255.0");
	expect_subnet("10.20.30.40/16", "10.20.0.1", "10.20.255.254", "255.255.0.0");
}

Test(vmsubnet, dotted_mask_and_default)
{
	expect_subnet("172.16.0.0/255.255.240.0", "172.16.0.1", "172.16.15.254", "255.255.240.0");
	/* No mask: /24. */
	expect_subnet("10.1.2.3", "10.1.2.1", "10.1.2.254", "255.255.255.0");
}

Test(vmsubnet, rejected)
{
	char s[16], e[16], m[16];
	cr_expect_not(vm_subnet("not an address", s, e, m));
	cr_expect_not(vm_subnet("/24", s, e, m));
	cr_expect_not(vm_subnet("10.0.0.0/32", s, e, m));
	cr_expect_not(vm_subnet("10.0.0.0/x", s, e, m));
	cr_expect_not(vm_subnet("", s, e, m));
	cr_expect_not(vm_subnet(NULL, s, e, m));
}

Test(vmuuid, format)
{
	cr_expect(vm_is_uuid("5d1f6c1e-8a4b-4c7d-9e0f-123456789abc"));
	cr_expect(vm_is_uuid("183E2C6E-ABAA-49FB-8113-EA76D2D678B6"));
	cr_expect_not(vm_is_uuid("183E2C6E-ABAA-49FB-8113-EA76D2D678B"));
	cr_expect_not(vm_is_uuid("183E2C6EXABAA-49FB-8113-EA76D2D678B6"));
	cr_expect_not(vm_is_uuid("en0"));
	cr_expect_not(vm_is_uuid(NULL));
}
