// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * user/ifstats.c: which ethtool statistics count XDP transmit errors, their
 * sum over a GSTRINGS/GSTATS pair, and a real read of a veth and of lo in a
 * private network namespace.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/ethtool.h>
#include <net/if.h>
#include <cmocka.h>
#include "ifstats.h"
#include "netns_setup.h"

static void test_names_veth(void **state)
{
	(void)state;
	/* veth: ndo_xdp_xmit refused into the peer, and XDP_TX refused */
	assert_true(vnat_ifstats__is_xdp_xmit_error("tx_queue_0_xdp_xmit_errors"));
	assert_true(vnat_ifstats__is_xdp_xmit_error("tx_queue_15_xdp_xmit_errors"));
	assert_true(vnat_ifstats__is_xdp_xmit_error("rx_queue_0_xdp_tx_errors"));
	/* the same counters under other names */
	assert_true(vnat_ifstats__is_xdp_xmit_error("peer_tq_xdp_xmit_err"));
	assert_true(vnat_ifstats__is_xdp_xmit_error("xdp_xmit_err"));
	assert_true(vnat_ifstats__is_xdp_xmit_error("tx_queue_1_xdp_tx_drops"));
	assert_true(vnat_ifstats__is_xdp_xmit_error("rx_xdp_tx_err"));
}

static void test_names_not_errors(void **state)
{
	(void)state;
	/* what was sent, received, or dropped by an XDP verdict (vnat's own) */
	assert_false(vnat_ifstats__is_xdp_xmit_error("tx_queue_0_xdp_xmit"));
	assert_false(vnat_ifstats__is_xdp_xmit_error("rx_queue_0_xdp_tx"));
	assert_false(vnat_ifstats__is_xdp_xmit_error("rx_queue_0_xdp_drops"));
	assert_false(vnat_ifstats__is_xdp_xmit_error("rx_queue_0_xdp_packets"));
	assert_false(vnat_ifstats__is_xdp_xmit_error("rx_queue_0_xdp_redirect"));
	assert_false(vnat_ifstats__is_xdp_xmit_error("rx_queue_0_drops"));
	assert_false(vnat_ifstats__is_xdp_xmit_error("peer_ifindex"));
	assert_false(vnat_ifstats__is_xdp_xmit_error("tx_errors"));
	assert_false(vnat_ifstats__is_xdp_xmit_error(""));
}

/* Names laid out as ETHTOOL_GSTRINGS does: fixed slots of ETH_GSTRING_LEN. */
static void put_name(char *names, int i, const char *name)
{
	strncpy(names + (size_t)i * ETH_GSTRING_LEN, name, ETH_GSTRING_LEN);
}

static void test_sum_veth_two_queues(void **state)
{
	const char *layout[] = {
		"peer_ifindex",
		"rx_queue_0_xdp_packets",
		"rx_queue_0_drops",
		"rx_queue_0_xdp_drops",
		"rx_queue_0_xdp_tx_errors",
		"tx_queue_0_xdp_xmit",
		"tx_queue_0_xdp_xmit_errors",
		"tx_queue_1_xdp_xmit",
		"tx_queue_1_xdp_xmit_errors",
	};
	__u64 vals[] = { 7, 1000, 3, 5, 2, 900, 40, 800, 60 };
	char names[9 * ETH_GSTRING_LEN];

	(void)state;
	memset(names, 0, sizeof(names));
	for (int i = 0; i < 9; i++)
		put_name(names, i, layout[i]);
	/* xdp_tx_errors 2 + queue 0's 40 + queue 1's 60; drops and sends not */
	assert_int_equal(vnat_ifstats__sum_xdp_xmit_errors(names, vals, 9), 102);
	assert_int_equal(vnat_ifstats__sum_xdp_xmit_errors(names, vals, 0), 0);
}

/* A name filling its whole slot has no NUL: it must not run into the next. */
static void test_sum_unterminated_name(void **state)
{
	char names[2 * ETH_GSTRING_LEN];
	__u64 vals[] = { 11, 13 };

	(void)state;
	/* 32 characters ending just before "_xdp_xmit_err" would complete */
	memset(names, 'a', ETH_GSTRING_LEN);
	memcpy(names + ETH_GSTRING_LEN - 8, "_xdp_xmi", 8);
	memset(names + ETH_GSTRING_LEN, 0, ETH_GSTRING_LEN);
	memcpy(names + ETH_GSTRING_LEN, "t_err", 5);
	assert_int_equal(vnat_ifstats__sum_xdp_xmit_errors(names, vals, 2), 0);
	/* and one that matches within its 32 bytes is counted */
	memset(names, 'b', ETH_GSTRING_LEN);
	memcpy(names + ETH_GSTRING_LEN - 12, "xdp_xmit_err", 12);
	assert_int_equal(vnat_ifstats__sum_xdp_xmit_errors(names, vals, 2), 11);
}

static void test_read_veth_and_lo(void **state)
{
	struct vnat_ifstats s;

	(void)state;
	assert_int_equal(sh("ip link add va type veth peer name vb"), 0);
	assert_int_equal(sh("ip link set va up && ip link set vb up"), 0);
	assert_int_equal(vnat_ifstats__read(if_nametoindex("va"), "va", &s), 0);
	assert_true(s.have_link);
	assert_true(s.have_ethtool);
	assert_int_equal(s.xdp_xmit_errors, 0);
	assert_int_equal(s.tx_dropped, 0);
	/* lo exports no ethtool statistics: the link counters alone */
	assert_int_equal(vnat_ifstats__read(if_nametoindex("lo"), "lo", &s), 0);
	assert_true(s.have_link);
	assert_false(s.have_ethtool);
	assert_int_equal(vnat_ifstats__read(999999, "nosuchdev0", &s), -ENODEV);
}

static int setup(void **state)
{
	(void)state;
	return netns_enter_private();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_veth),
		cmocka_unit_test(test_names_not_errors),
		cmocka_unit_test(test_sum_veth_two_queues),
		cmocka_unit_test(test_sum_unterminated_name),
		cmocka_unit_test(test_read_veth_and_lo),
	};

	return cmocka_run_group_tests_name("ifstats", tests, setup, NULL);
}
