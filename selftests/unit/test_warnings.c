// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * user/warnings.c on crafted topologies: a bridge without ports, an inside
 * interface or an uplink without an IPv4 address each give one warning
 * naming the interface; a working configuration gives none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "warnings.h"

/* T1's host: br1 with two guests' ports, eth0 the uplink; plus a lone br2. */
enum { LO = 1, ETH0 = 2, BR1 = 3, VNET0 = 4, VNET1 = 5, BR2 = 6 };

static struct vnat_topo topo;
static struct vnat_addr addrs[8];
static int n_addrs;
static struct vnat_warning w[VNAT_MAX_WARNINGS];

static void link_add(uint32_t ifindex, const char *name, const char *kind, uint32_t master)
{
	struct vnat_link *l = &topo.links[topo.n_links++];

	memset(l, 0, sizeof(*l));
	l->ifindex = ifindex;
	l->master = master;
	l->is_port = master != 0;
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->kind, sizeof(l->kind), "%s", kind);
}

static void addr_add(const char *label, uint32_t addr_be, uint8_t len)
{
	snprintf(addrs[n_addrs].ifname, sizeof(addrs[n_addrs].ifname), "%s", label);
	addrs[n_addrs].addr = addr_be;
	addrs[n_addrs].prefixlen = len;
	n_addrs++;
}

static int setup(void **state)
{
	(void)state;
	memset(&topo, 0, sizeof(topo));
	memset(w, 0, sizeof(w));
	n_addrs = 0;
	link_add(LO, "lo", "", 0);
	link_add(ETH0, "eth0", "veth", 0);
	link_add(BR1, "br1", "bridge", 0);
	link_add(VNET0, "vnet0", "veth", BR1);
	link_add(VNET1, "vnet1", "veth", BR1);
	link_add(BR2, "br2", "bridge", 0);
	addr_add("lo", 0x0100007f, 8);
	addr_add("br1", 0x027100cb, 24); /* 203.0.113.2 */
	addr_add("eth0", 0x6501a8c0, 24); /* 192.168.1.101 */
	return 0;
}

/* vnat load --iface br1 --snat 192.168.1.101, as status reads it back */
static const struct vnat_managed t1[] = {
	{ BR1, VNAT_IFACE_BRIDGE | VNAT_IFACE_INSIDE, "br1" },
	{ VNET0, VNAT_IFACE_PORT | VNAT_IFACE_AUTO | VNAT_IFACE_INSIDE, "vnet0" },
	{ VNET1, VNAT_IFACE_PORT | VNAT_IFACE_AUTO | VNAT_IFACE_INSIDE, "vnet1" },
	{ ETH0, VNAT_IFACE_OUTSIDE, "eth0" },
};

static int check(const struct vnat_managed *ifs, int n)
{
	return vnat_warnings__check(&topo, addrs, n_addrs, ifs, n, w, VNAT_MAX_WARNINGS);
}

static void test_t1_working_none(void **state)
{
	(void)state;
	/* ports carry no address of their own: the bridge has it */
	assert_int_equal(check(t1, 4), 0);
}

static void test_bridge_without_ports(void **state)
{
	const struct vnat_managed br2 = { BR2, VNAT_IFACE_BRIDGE, "br2" };

	(void)state;
	assert_int_equal(check(&br2, 1), 1);
	assert_int_equal(w[0].kind, VNAT_WARN_BRIDGE_NO_PORTS);
	assert_string_equal(w[0].iface, "br2");
	assert_string_equal(vnat_warning__kind_name(w[0].kind), "bridge_no_ports");
	assert_non_null(strstr(w[0].text, "bridge br2 has no ports"));
	assert_non_null(strstr(w[0].text, "ip link set IFACE master br2"));
	assert_null(strchr(w[0].text, '\n'));
	/* a port joins: the warning goes */
	link_add(7, "vnet2", "tun", BR2);
	assert_int_equal(check(&br2, 1), 0);
}

static void test_inside_without_address(void **state)
{
	(void)state;
	addrs[1].ifname[0] = 0; /* br1 loses 203.0.113.2 */
	assert_int_equal(check(t1, 4), 1);
	assert_int_equal(w[0].kind, VNAT_WARN_INSIDE_NO_ADDR);
	assert_string_equal(w[0].iface, "br1");
	assert_string_equal(vnat_warning__kind_name(w[0].kind), "inside_no_address");
	assert_non_null(strstr(w[0].text, "inside interface br1 has no IPv4 address"));
	assert_non_null(strstr(w[0].text, "dev br1"));
	/* an alias label counts as an address of its interface */
	addr_add("br1:guests", 0x027100cb, 24);
	assert_int_equal(check(t1, 4), 0);
}

/* Only a prefix match on the whole name: br10's address is not br1's. */
static void test_address_of_other_interface(void **state)
{
	(void)state;
	addrs[1].ifname[0] = 0;
	addr_add("br10", 0x027100cb, 24);
	assert_int_equal(check(t1, 4), 1);
	assert_string_equal(w[0].iface, "br1");
}

static void test_uplink_without_address(void **state)
{
	(void)state;
	addrs[2].ifname[0] = 0; /* eth0 loses 192.168.1.101 */
	assert_int_equal(check(t1, 4), 1);
	assert_int_equal(w[0].kind, VNAT_WARN_UPLINK_NO_ADDR);
	assert_string_equal(w[0].iface, "eth0");
	assert_string_equal(vnat_warning__kind_name(w[0].kind), "uplink_no_address");
	assert_non_null(strstr(w[0].text, "uplink eth0 has no IPv4 address"));
}

/* Without --snat nothing is inside or outside: a routed interface needs none. */
static void test_routed_without_address_none(void **state)
{
	const struct vnat_managed routed = { ETH0, 0, "eth0" };

	(void)state;
	n_addrs = 0;
	assert_int_equal(check(&routed, 1), 0);
}

/* All three at once, in the order given; the count goes on past max. */
static void test_all_three_and_max(void **state)
{
	const struct vnat_managed ifs[] = {
		{ BR2, VNAT_IFACE_BRIDGE | VNAT_IFACE_INSIDE, "br2" },
		{ ETH0, VNAT_IFACE_OUTSIDE, "eth0" },
	};

	(void)state;
	n_addrs = 0;
	assert_int_equal(check(ifs, 2), 3);
	assert_int_equal(w[0].kind, VNAT_WARN_BRIDGE_NO_PORTS);
	assert_int_equal(w[1].kind, VNAT_WARN_INSIDE_NO_ADDR);
	assert_string_equal(w[1].iface, "br2");
	assert_int_equal(w[2].kind, VNAT_WARN_UPLINK_NO_ADDR);
	memset(w, 0, sizeof(w));
	assert_int_equal(vnat_warnings__check(&topo, addrs, 0, ifs, 2, w, 1), 3);
	assert_int_equal(w[0].kind, VNAT_WARN_BRIDGE_NO_PORTS);
	assert_string_equal(w[1].iface, "");
}

/* An interface that is gone is not reported as a bridge without ports. */
static void test_gone_interface_skipped(void **state)
{
	const struct vnat_managed gone = { 99, VNAT_IFACE_BRIDGE | VNAT_IFACE_INSIDE, "br9" };

	(void)state;
	assert_int_equal(check(&gone, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_t1_working_none, setup),
		cmocka_unit_test_setup(test_bridge_without_ports, setup),
		cmocka_unit_test_setup(test_inside_without_address, setup),
		cmocka_unit_test_setup(test_address_of_other_interface, setup),
		cmocka_unit_test_setup(test_uplink_without_address, setup),
		cmocka_unit_test_setup(test_routed_without_address_none, setup),
		cmocka_unit_test_setup(test_all_three_and_max, setup),
		cmocka_unit_test_setup(test_gone_interface_skipped, setup),
	};

	return cmocka_run_group_tests_name("warnings", tests, NULL, NULL);
}
