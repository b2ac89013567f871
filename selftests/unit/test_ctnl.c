// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The ctnetlink side of per-flow liberal tracking (user/ctnl.c), against
 * the kernel's conntrack table of a private network namespace: the daemon's
 * update marks an existing TCP entry liberal both ways and changes nothing
 * else (state, tuples), `vnat conns` reads the marking back, and an entry
 * that is gone answers -ENOENT (the daemon's normal case of a flow that
 * ended meanwhile). The datapath's side (tc egress waits for the marking)
 * needs a kernel-forwarded skb with its conntrack entry attached, which
 * BPF_PROG_TEST_RUN cannot make: selftests/net/policy.sh checks it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <netlink/socket.h>
#include "ctnl.h"
#include "netns_setup.h"
#include "vnat.h"

#define GUEST "192.168.122.10"
#define REMOTE "198.51.100.53"
#define SNAT "10.0.0.15"

static struct nl_sock *sk;

static int setup(void **state)
{
	(void)state;
	if (netns_enter_private())
		return -1;
	sk = vnat_ctnl__open();
	return sk ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	nl_socket_free(sk);
	return 0;
}

/* A masqueraded TCP connection's entry as conntrack -L would list it. */
static struct vnat_liberal_req tcp_entry(uint16_t sport, const char *state)
{
	struct vnat_liberal_req r = { .sport = htons(sport), .dport = htons(80), .proto = 6 };

	inet_pton(AF_INET, GUEST, &r.saddr);
	inet_pton(AF_INET, REMOTE, &r.daddr);
	assert_int_equal(sh("conntrack -I -p tcp -s %s -d %s --sport %u --dport 80 -r %s -q %s "
			    "--reply-port-src 80 --reply-port-dst %u --state %s --timeout 100 "
			    "-u SEEN_REPLY,ASSURED >/dev/null 2>&1",
			    GUEST, REMOTE, sport, REMOTE, SNAT, sport, state),
			 0);
	return r;
}

static int listed(uint16_t sport, const char *state)
{
	return sh("conntrack -L -p tcp --sport %u 2>/dev/null | grep -q ' %s '", sport, state);
}

/* Strict, marked liberal, strict again: each read back as written. */
static void test_mark_and_read(void **state)
{
	struct vnat_liberal_req r = tcp_entry(40001, "ESTABLISHED");

	(void)state;
	assert_int_equal(vnat_ctnl__set_liberal(sk, &r, false), 0);
	assert_int_equal(vnat_ctnl__is_liberal(sk, &r), 0);
	assert_int_equal(vnat_ctnl__set_liberal(sk, &r, true), 0);
	assert_int_equal(vnat_ctnl__is_liberal(sk, &r), 1);
	/* The update touched the flags only: still ESTABLISHED. */
	assert_int_equal(listed(40001, "ESTABLISHED"), 0);
	assert_int_equal(vnat_ctnl__set_liberal(sk, &r, false), 0);
	assert_int_equal(vnat_ctnl__is_liberal(sk, &r), 0);
}

/* Marked during the handshake (a SYN_SENT entry): the state stays. */
static void test_mark_keeps_state(void **state)
{
	struct vnat_liberal_req r = tcp_entry(40002, "SYN_SENT");

	(void)state;
	assert_int_equal(vnat_ctnl__set_liberal(sk, &r, false), 0);
	assert_int_equal(vnat_ctnl__set_liberal(sk, &r, true), 0);
	assert_int_equal(vnat_ctnl__is_liberal(sk, &r), 1);
	assert_int_equal(listed(40002, "SYN_SENT"), 0);
}

/* The entry went (the connection ended, conntrack -F): -ENOENT, nothing made. */
static void test_gone(void **state)
{
	struct vnat_liberal_req r = tcp_entry(40003, "ESTABLISHED");

	(void)state;
	assert_int_equal(sh("conntrack -D -p tcp --sport 40003 >/dev/null 2>&1"), 0);
	assert_int_equal(vnat_ctnl__set_liberal(sk, &r, true), -ENOENT);
	assert_int_equal(vnat_ctnl__is_liberal(sk, &r), -ENOENT);
	/* No NLM_F_CREATE: the update did not create it again. */
	assert_int_not_equal(listed(40003, "ESTABLISHED"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mark_and_read),
		cmocka_unit_test(test_mark_keeps_state),
		cmocka_unit_test(test_gone),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
