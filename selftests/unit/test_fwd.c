// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The routed fast path (bpf/lib/fib.h, parse.h, csum.h) run with
 * BPF_PROG_TEST_RUN on crafted frames.
 *
 * The group setup moves the test process into a network namespace of its
 * own (it vanishes when the process exits; the host's is never touched) and
 * builds a router there:
 *
 *   guest 203.0.113.229 -- in0 203.0.113.2/24          (managed)
 *                          out0 192.168.1.101/24 -- gw 192.168.1.1   (managed)
 *                          ext0 10.99.0.1/24 -- gw 10.99.0.2  (not managed)
 *
 *   198.51.100.0/24     via 192.168.1.1 (neighbour known)
 *   198.51.100.128/25   via 192.168.1.2 (neighbour unknown: NO_NEIGH)
 *   198.51.100.200/32   via 192.168.1.1 mtu lock 1280
 *   192.0.2.0/26 unreachable, 192.0.2.64/26 blackhole, 192.0.2.128/26 prohibit
 *   10.98.0.0/24        via 10.99.0.2 on ext0 (UNMANAGED_OUT)
 *
 * then loads the skeleton and registers in0 and out0 through the real
 * control-plane code (vnat_loader__open without pins, vnat_loader__register
 * with what vnat_iface__resolve found). Nothing is attached: the programs
 * only run here, on the frames each test hands them.
 *
 * Without BPF_F_TEST_XDP_LIVE_FRAMES a test run returns the verdict and the
 * frame as the program left it, and transmits nothing: XDP_REDIRECT (and
 * TC_ACT_REDIRECT) is only a return value here.
 */
#include <arpa/inet.h> /* first: glibc before linux/ UAPI headers (libc-compat) */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/if_arp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include "datapath.h"
#include "harness.h"
#include "sync.h"
#include "iface.h"
#include "log.h"
#include "netns_setup.h"
#include "pktbuild.h"
#include "vnat.skel.h"

#define GUEST_IP "203.0.113.229"
#define LOCAL_IN "203.0.113.2"
#define LOCAL_OUT "192.168.1.101"
#define REMOTE "198.51.100.10"

static const uint8_t guest_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x99 };
static const uint8_t gw_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t hairpin_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0x02, 0x02 };
static const uint8_t bcast_mac[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct vnat_loader l;
static bool loaded;
static struct vnat_iface_info in0, out0, ext0;
static char pin_dir_ours[64]; /* where vnat would pin for this namespace */

/* --- setup --------------------------------------------------------------- */

static const char *const topo[] = {
	"ip link set lo up",
	"ip link add in0 address 02:00:00:00:00:10 type veth peer name in0p "
	"address 02:00:00:00:00:11",
	"ip link add out0 address 02:00:00:00:00:20 type veth peer name out0p "
	"address 02:00:00:00:00:21",
	"ip link add ext0 address 02:00:00:00:00:30 type veth peer name ext0p "
	"address 02:00:00:00:00:31",
	"ip addr add " LOCAL_IN "/24 dev in0",
	"ip addr add " LOCAL_OUT "/24 dev out0",
	"ip addr add 10.99.0.1/24 dev ext0",
	"ip link set in0p up",
	"ip link set out0p up",
	"ip link set ext0p up",
	"ip link set in0 up",
	"ip link set out0 up",
	"ip link set ext0 up",
	"ip neigh replace 192.168.1.1 lladdr 02:00:00:00:01:01 dev out0 nud permanent",
	"ip neigh replace 203.0.113.77 lladdr 02:00:00:00:02:02 dev in0 nud permanent",
	"ip neigh replace " GUEST_IP " lladdr 02:00:00:00:00:99 dev in0 nud permanent",
	"ip neigh replace 10.99.0.2 lladdr 02:00:00:00:09:02 dev ext0 nud permanent",
	"ip route add 198.51.100.0/24 via 192.168.1.1",
	"ip route add 198.51.100.128/25 via 192.168.1.2",
	"ip route add 198.51.100.200/32 via 192.168.1.1 mtu lock 1280",
	"ip route add unreachable 192.0.2.0/26",
	"ip route add blackhole 192.0.2.64/26",
	"ip route add prohibit 192.0.2.128/26",
	"ip route add 10.98.0.0/24 via 10.99.0.2",
};

static int group_setup(void **state)
{
	(void)state;
	if (netns_enter_private())
		return -1;
	snprintf(pin_dir_ours, sizeof(pin_dir_ours), VNAT_PIN_ROOT "/netns-%lu",
		 (unsigned long)ns_inode());
	if (sh_each(topo, sizeof(topo) / sizeof(topo[0])))
		return -1;
	if (sysctl_write("/proc/sys/net/ipv4/ip_forward", "1"))
		return -1;
	if (iface_resolve("in0", &in0) || iface_resolve("out0", &out0) ||
	    iface_resolve("ext0", &ext0))
		return -1;

	/* V=1: libbpf's warnings too, with the verifier log if the load fails. */
	vnat_log_init(false, getenv("V") && !strcmp(getenv("V"), "1"));
	/*
	 * NICs running vnat's XDP natively (topo.c): XDP targets, and XDP
	 * counts what it passes before tc sees it.
	 */
	static const struct vnat_role routed = { .flags = VNAT_IFACE_XDP | VNAT_IFACE_XDP_TX };

	if (vnat_loader__open(&l, NULL, VNAT_DEFAULT_MAX_FLOWS))
		return -1;
	loaded = true;
	if (vnat_loader__register(&l, &in0, VNAT_MODE_NATIVE, &routed) ||
	    vnat_loader__register(&l, &out0, VNAT_MODE_NATIVE, &routed))
		return -1;
	/* The host's own addresses, as vnat load fills them. */
	if (vnat_sync__prefixes(&l.maps, NULL, 0) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (loaded)
		vnat_loader__close(&l);
	loaded = false;
	/* Pin dir NULL: nothing may have appeared in bpffs for this namespace. */
	if (!access(pin_dir_ours, F_OK)) {
		fprintf(stderr, "teardown: %s exists\n", pin_dir_ours);
		return -1;
	}
	return 0;
}

/* Tests that switch forwarding off get it back on even when they fail. */
static int forwarding_on(void **state)
{
	(void)state;
	return sysctl_write("/proc/sys/net/ipv4/ip_forward", "1") ||
	       sysctl_write("/proc/sys/net/ipv4/conf/in0/forwarding", "1") ||
	       sysctl_write("/proc/sys/net/ipv4/conf/out0/forwarding", "1");
}

/* --- frames -------------------------------------------------------------- */

/* A guest's UDP datagram to the router's MAC on in0, payload bytes of pattern. */
static struct iphdr *udp_frame(struct pkt *p, const char *saddr, const char *daddr, size_t payload)
{
	struct iphdr *ip;

	pkt_init(p);
	pkt_push_eth(p, in0.mac, guest_mac, ETH_P_IP);
	ip = pkt_push_ipv4(p, pkt_ip4(saddr), pkt_ip4(daddr), IPPROTO_UDP);
	ip->id = htons(0x1234);
	pkt_push_udp(p, 40000, 53);
	pkt_push_data(p, NULL, payload);
	pkt_finish(p);
	return ip;
}

/* An IP datagram of exactly tot_len bytes (UDP payload fills it). */
static void sized_frame(struct pkt *p, const char *daddr, size_t tot_len)
{
	udp_frame(p, GUEST_IP, daddr, tot_len - sizeof(struct iphdr) - sizeof(struct udphdr));
	assert_int_equal(ntohs(pkt_ip(p)->tot_len), tot_len);
}

/*
 * What the router must send for in: new MACs, TTL one less, the header
 * checksum a full recompute (the program patches it incrementally, so the
 * two must agree), every other byte (L4 checksum, padding) as it came.
 */
static void routed(const struct pkt *in, const uint8_t *dmac, const uint8_t *smac, struct pkt *want)
{
	struct iphdr *ip;

	*want = *in;
	memcpy(pkt_eth(want)->h_dest, dmac, ETH_ALEN);
	memcpy(pkt_eth(want)->h_source, smac, ETH_ALEN);
	ip = pkt_ip(want);
	ip->ttl--;
	ip->check = pkt_ipv4_csum(ip);
}

/* XDP must redirect p, rewritten to want, counted once under reason. */
static void expect_xdp_fwd(uint32_t ifindex, const struct pkt *p, const struct pkt *want,
			   int reason)
{
	xdp_expect(&l, ifindex, p, XDP_REDIRECT, want, C_PKT(reason, p->len));
}

/* XDP must hand p to the kernel untouched, counted once under reason. */
static void expect_xdp_pass(uint32_t ifindex, const struct pkt *p, int reason)
{
	xdp_expect(&l, ifindex, p, XDP_PASS, NULL, C_PKT(reason, p->len));
}

/* --- forwarded ----------------------------------------------------------- */

static void test_fwd_udp(void **state)
{
	struct pkt p, want;
	struct iphdr *ip;

	(void)state;
	udp_frame(&p, GUEST_IP, REMOTE, 32);
	routed(&p, gw_mac, out0.mac, &want);
	expect_xdp_fwd(in0.ifindex, &p, &want, VNAT_FWD_ROUTED);
	/* The expectation itself: only MACs, TTL and the IP checksum differ. */
	ip = pkt_ip(&want);
	assert_int_equal(ip->ttl, PKT_TTL_DEFAULT - 1);
	assert_int_equal(ip->check, pkt_ipv4_csum(ip));
	assert_memory_equal(pkt_udp(&want), pkt_udp(&p), want.len - want.l4);
}

static void test_fwd_tcp_icmp(void **state)
{
	struct pkt p, want;
	struct iphdr *ip;

	(void)state;
	pkt_init(&p);
	pkt_push_eth(&p, in0.mac, guest_mac, ETH_P_IP);
	ip = pkt_push_ipv4(&p, pkt_ip4(GUEST_IP), pkt_ip4(REMOTE), IPPROTO_TCP);
	ip->frag_off = htons(PKT_IP_DF); /* DF alone is not a fragment */
	ip->tos = 0x10;
	ip->ttl = 2; /* the lowest TTL that is forwarded */
	pkt_push_tcp(&p, 43210, 443, 1000, 0, PKT_TCP_SYN);
	pkt_finish(&p);
	routed(&p, gw_mac, out0.mac, &want);
	assert_int_equal(pkt_ip(&want)->ttl, 1);
	expect_xdp_fwd(in0.ifindex, &p, &want, VNAT_FWD_ROUTED);

	pkt_init(&p);
	pkt_push_eth(&p, in0.mac, guest_mac, ETH_P_IP);
	ip = pkt_push_ipv4(&p, pkt_ip4(GUEST_IP), pkt_ip4(REMOTE), IPPROTO_ICMP);
	ip->ttl = 255;
	pkt_push_icmp_echo(&p, ICMP_ECHO, 0x4242, 7);
	pkt_push_data(&p, NULL, 56);
	pkt_finish(&p);
	routed(&p, gw_mac, out0.mac, &want);
	expect_xdp_fwd(in0.ifindex, &p, &want, VNAT_FWD_ROUTED);
}

/* Replies come in on out0 and go to the guest on in0: both directions route. */
static void test_fwd_reverse(void **state)
{
	struct pkt p, want;

	(void)state;
	udp_frame(&p, REMOTE, GUEST_IP, 100);
	memcpy(pkt_eth(&p)->h_dest, out0.mac, ETH_ALEN);
	memcpy(pkt_eth(&p)->h_source, gw_mac, ETH_ALEN);
	routed(&p, guest_mac, in0.mac, &want);
	expect_xdp_fwd(out0.ifindex, &p, &want, VNAT_FWD_ROUTED);
}

/* Next hop on the ingress segment: sent back out of in0, counted apart. */
static void test_fwd_hairpin(void **state)
{
	struct pkt p, want;

	(void)state;
	udp_frame(&p, GUEST_IP, "203.0.113.77", 10);
	routed(&p, hairpin_mac, in0.mac, &want);
	expect_xdp_fwd(in0.ifindex, &p, &want, VNAT_FWD_SAME_SEGMENT);
}

/* A minimum-size frame carries Ethernet padding after tot_len: kept as it is. */
static void test_fwd_ethernet_padding(void **state)
{
	struct pkt p, want;

	(void)state;
	udp_frame(&p, GUEST_IP, REMOTE, 4); /* 46 bytes of frame */
	pkt_push_data(&p, "\xee\xee\xee\xee\xee\xee\xee\xee\xee\xee\xee\xee\xee\xee", 14);
	assert_int_equal(p.len, 60);
	routed(&p, gw_mac, out0.mac, &want);
	expect_xdp_fwd(in0.ifindex, &p, &want, VNAT_FWD_ROUTED);
}

/*
 * TTL sits in the high byte of its word, so the incremental update adds
 * 0x0100 to the checksum: headers whose checksum makes that carry (0xffxx
 * wraps, 0xfeff ends at 0x0000) must still equal a full recompute.
 */
static void test_fwd_ttl_csum_carry(void **state)
{
	static const uint16_t checks[] = { 0x0000, 0x00ff, 0xfeff, 0xff00, 0xff7f, 0xfffe };

	(void)state;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		struct pkt p, want;
		struct iphdr *ip = udp_frame(&p, GUEST_IP, REMOTE, 8);
		uint32_t id;

		/* Find an IP id that gives the header this checksum. */
		for (id = 0; id <= 0xffff; id++) {
			ip->id = htons(id);
			if (ntohs(pkt_ipv4_csum(ip)) == checks[i])
				break;
		}
		assert_true(id <= 0xffff);
		ip->check = pkt_ipv4_csum(ip);
		routed(&p, gw_mac, out0.mac, &want);
		expect_xdp_fwd(in0.ifindex, &p, &want, VNAT_FWD_ROUTED);
	}
}

/*
 * The MTU check takes the route's locked MTU and the device's: a datagram
 * of exactly the MTU goes, one byte more is the kernel's (it fragments or
 * sends Fragmentation Needed). Only the IP datagram counts, not the MAC header.
 */
static void test_fwd_mtu_edges(void **state)
{
	struct pkt p, want;

	(void)state;
	sized_frame(&p, "198.51.100.200", 1280);
	routed(&p, gw_mac, out0.mac, &want);
	expect_xdp_fwd(in0.ifindex, &p, &want, VNAT_FWD_ROUTED);
	sized_frame(&p, REMOTE, 1500);
	routed(&p, gw_mac, out0.mac, &want);
	expect_xdp_fwd(in0.ifindex, &p, &want, VNAT_FWD_ROUTED);
	/* Same size as the pass_mtu case below, another route: the route decides. */
	sized_frame(&p, REMOTE, 1400);
	routed(&p, gw_mac, out0.mac, &want);
	expect_xdp_fwd(in0.ifindex, &p, &want, VNAT_FWD_ROUTED);
}

/* Forwarding off on the egress device does not stop IPv4 forwarding (ingress decides). */
static void test_fwd_egress_forwarding_off(void **state)
{
	struct pkt p, want;

	(void)state;
	assert_int_equal(sysctl_write("/proc/sys/net/ipv4/conf/out0/forwarding", "0"), 0);
	udp_frame(&p, GUEST_IP, REMOTE, 32);
	routed(&p, gw_mac, out0.mac, &want);
	expect_xdp_fwd(in0.ifindex, &p, &want, VNAT_FWD_ROUTED);
	assert_int_equal(sysctl_write("/proc/sys/net/ipv4/conf/out0/forwarding", "1"), 0);
}

/* --- handed to the kernel ------------------------------------------------ */

static void test_pass_not_ipv4(void **state)
{
	static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	static const uint8_t zero_mac[ETH_ALEN];
	struct pkt p;

	(void)state;
	pkt_init(&p);
	pkt_push_eth(&p, bcast_mac, guest_mac, ETH_P_ARP);
	pkt_push_arp(&p, ARPOP_REQUEST, guest_mac, pkt_ip4(GUEST_IP), zero_mac, pkt_ip4(LOCAL_IN));
	pkt_finish(&p);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_NOT_IPV4);
	/* An ARP reply to our MAC: the ethertype decides before the MAC does. */
	pkt_init(&p);
	pkt_push_eth(&p, in0.mac, guest_mac, ETH_P_ARP);
	pkt_push_arp(&p, ARPOP_REPLY, guest_mac, pkt_ip4(GUEST_IP), in0.mac, pkt_ip4(LOCAL_IN));
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_NOT_IPV4);

	pkt_init(&p);
	pkt_push_eth(&p, in0.mac, guest_mac, ETH_P_IPV6);
	pkt_push_ipv6(&p, v6a, v6b, IPPROTO_UDP);
	pkt_push_udp(&p, 40000, 53);
	pkt_push_data(&p, NULL, 16);
	pkt_finish(&p);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_NOT_IPV4);

	/* An IPv4 datagram behind an 802.1Q tag stays with the kernel. */
	pkt_init(&p);
	pkt_push_eth(&p, in0.mac, guest_mac, ETH_P_8021Q);
	pkt_push_vlan(&p, 10, ETH_P_IP);
	pkt_push_ipv4(&p, pkt_ip4(GUEST_IP), pkt_ip4(REMOTE), IPPROTO_UDP);
	pkt_push_udp(&p, 40000, 53);
	pkt_finish(&p);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_NOT_IPV4);
}

static void test_pass_not_to_us(void **state)
{
	static const uint8_t other[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x77 };
	static const uint8_t mcast[ETH_ALEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	struct pkt p;

	(void)state;
	udp_frame(&p, GUEST_IP, REMOTE, 32);
	memcpy(pkt_eth(&p)->h_dest, other, ETH_ALEN);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_NOT_TO_US);
	memcpy(pkt_eth(&p)->h_dest, bcast_mac, ETH_ALEN);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_NOT_TO_US);
	memcpy(pkt_eth(&p)->h_dest, mcast, ETH_ALEN);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_NOT_TO_US);
	/* The MAC of the other managed interface is not in0's. */
	memcpy(pkt_eth(&p)->h_dest, out0.mac, ETH_ALEN);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_NOT_TO_US);
	/* One bit off in the last byte. */
	memcpy(pkt_eth(&p)->h_dest, in0.mac, ETH_ALEN);
	pkt_eth(&p)->h_dest[5] ^= 1;
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_NOT_TO_US);
}

static void test_pass_malformed(void **state)
{
	struct pkt p;
	struct iphdr *ip;

	(void)state;
	/* IPv4 header cut one byte short (the test run needs >= 14 bytes). */
	udp_frame(&p, GUEST_IP, REMOTE, 32);
	pkt_truncate(&p, ETH_HLEN + sizeof(struct iphdr) - 1);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_MALFORMED);
	pkt_truncate(&p, ETH_HLEN);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_MALFORMED);

	/* tot_len one byte more than the frame holds. */
	ip = udp_frame(&p, GUEST_IP, REMOTE, 32);
	ip->tot_len = htons(p.len - ETH_HLEN + 1);
	pkt_fix_csums(&p);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_MALFORMED);
	/* The frame cut after the UDP header: tot_len still claims the payload. */
	udp_frame(&p, GUEST_IP, REMOTE, 32);
	pkt_truncate(&p, p.len - 32);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_MALFORMED);

	/* tot_len shorter than a header, IHL below 5, version not 4. */
	ip = udp_frame(&p, GUEST_IP, REMOTE, 32);
	ip->tot_len = htons(sizeof(*ip) - 1);
	pkt_fix_csums(&p);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_MALFORMED);
	ip = udp_frame(&p, GUEST_IP, REMOTE, 32);
	ip->ihl = 4;
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_MALFORMED);
	ip = udp_frame(&p, GUEST_IP, REMOTE, 32);
	ip->version = 6;
	pkt_fix_csums(&p);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_MALFORMED);
}

/*
 * RFC 1812 5.2.2: a router must verify the IP header checksum and drop
 * what fails; the kernel does (ip_rcv_core(), InCsumErrors). The fast path
 * should leave such a frame to the kernel rather than forward it.
 */
static void test_pass_bad_ip_csum(void **state)
{
	struct pkt p;

	(void)state;
	udp_frame(&p, GUEST_IP, REMOTE, 32);
	pkt_ip(&p)->check ^= htons(0x0001);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_BAD_CSUM);
}

/*
 * Sources the kernel's input route refuses as martians (ip_route_input_slow:
 * multicast, limited broadcast, 0.0.0.0, loopback without route_localnet,
 * and the router's own address via fib_validate_source); checked against
 * the kernel's own forwarding on 6.18, which drops each of these (and
 * forwards 0.0.0.1). bpf_fib_lookup() does no source validation, so the
 * fast path must not forward them either: each is pass_martian.
 */
static void test_pass_martian_source(void **state)
{
	static const char *const srcs[] = { "224.0.0.1", "255.255.255.255", "0.0.0.0", "127.0.0.1",
					    LOCAL_OUT };

	(void)state;
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		struct pkt p;

		udp_frame(&p, srcs[i], REMOTE, 32);
		expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_MARTIAN);
	}
}

static void test_pass_ip_options(void **state)
{
	static const uint8_t router_alert[4] = { 0x94, 0x04, 0x00, 0x00 };
	uint8_t opts[40];
	struct pkt p;

	(void)state;
	pkt_init(&p);
	pkt_push_eth(&p, in0.mac, guest_mac, ETH_P_IP);
	pkt_push_ipv4_opts(&p, pkt_ip4(GUEST_IP), pkt_ip4(REMOTE), IPPROTO_UDP, router_alert,
			   sizeof(router_alert));
	pkt_push_udp(&p, 40000, 53);
	pkt_push_data(&p, NULL, 8);
	pkt_finish(&p);
	assert_int_equal(pkt_ip(&p)->ihl, 6);
	assert_pkt_csums_ok(p.data, p.len);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_IP_OPTIONS);

	/* The largest header: 40 bytes of NOPs and an end marker. */
	memset(opts, IPOPT_NOOP, sizeof(opts));
	opts[39] = IPOPT_END;
	pkt_init(&p);
	pkt_push_eth(&p, in0.mac, guest_mac, ETH_P_IP);
	pkt_push_ipv4_opts(&p, pkt_ip4(GUEST_IP), pkt_ip4(REMOTE), IPPROTO_UDP, opts, sizeof(opts));
	pkt_push_udp(&p, 40000, 53);
	pkt_finish(&p);
	assert_int_equal(pkt_ip(&p)->ihl, 15);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_IP_OPTIONS);
}

static void test_pass_fragment(void **state)
{
	struct pkt p;
	struct iphdr *ip;

	(void)state;
	ip = udp_frame(&p, GUEST_IP, REMOTE, 32);
	ip->frag_off = htons(PKT_IP_MF);
	pkt_fix_csums(&p);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_FRAGMENT);
	/* A later fragment: offset set (in 8-byte units), MF clear. */
	ip->frag_off = htons(185);
	pkt_fix_csums(&p);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_FRAGMENT);
	/* The lowest offset bit alone, with DF. */
	ip->frag_off = htons(PKT_IP_DF | 1);
	pkt_fix_csums(&p);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_FRAGMENT);
}

static void test_pass_ttl(void **state)
{
	struct pkt p;
	struct iphdr *ip;

	(void)state;
	ip = udp_frame(&p, GUEST_IP, REMOTE, 32);
	ip->ttl = 1;
	pkt_fix_csums(&p);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_TTL);
	ip->ttl = 0;
	pkt_fix_csums(&p);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_TTL);
}

static void test_pass_local(void **state)
{
	struct pkt p;

	(void)state;
	udp_frame(&p, GUEST_IP, LOCAL_IN, 32);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_LOCAL);
	/* The router's other address, and the subnet's broadcast address. */
	udp_frame(&p, GUEST_IP, LOCAL_OUT, 32);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_LOCAL);
	udp_frame(&p, GUEST_IP, "203.0.113.255", 32);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_LOCAL);
}

static void test_pass_no_route(void **state)
{
	static const char *const dsts[] = { "192.0.2.10", "192.0.2.70", "192.0.2.130" };
	struct pkt p;

	(void)state;
	for (size_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		udp_frame(&p, GUEST_IP, dsts[i], 32);
		expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_NO_ROUTE);
	}
}

/*
 * No route at all (there is no default route here): the kernel answers
 * Destination Unreachable, as for an unreachable route, so it should be
 * counted as pass_no_route. bpf_fib_lookup() reports NOT_FWDED for it, the
 * same code as for a local destination, and fib.h maps that to pass_local.
 */
static void test_pass_no_route_at_all(void **state)
{
	struct pkt p;

	(void)state;
	udp_frame(&p, GUEST_IP, "8.8.8.8", 32);
	/* The FIB answers "not forwarded" alike for no route and local delivery. */
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_LOCAL);
}

static void test_pass_no_neigh(void **state)
{
	struct pkt p;

	(void)state;
	/* Gateway 192.168.1.2 never resolved. */
	udp_frame(&p, GUEST_IP, "198.51.100.130", 32);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_NO_NEIGH);
	/* A host on out0's own subnet nobody has resolved. */
	udp_frame(&p, GUEST_IP, "192.168.1.50", 32);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_NO_NEIGH);
}

static void test_pass_mtu(void **state)
{
	struct pkt p;

	(void)state;
	/* The route's locked MTU is 1280: a 1400-byte datagram, all of it present. */
	sized_frame(&p, "198.51.100.200", 1400);
	assert_int_equal(p.len, ETH_HLEN + 1400);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_MTU);
	sized_frame(&p, "198.51.100.200", 1281);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_MTU);
	/* out0's MTU is 1500. */
	sized_frame(&p, REMOTE, 1501);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_MTU);
}

static void test_pass_unmanaged_out(void **state)
{
	struct pkt p;

	(void)state;
	udp_frame(&p, GUEST_IP, "10.98.0.5", 32);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_UNMANAGED_OUT);
	udp_frame(&p, GUEST_IP, "10.99.0.2", 32);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_UNMANAGED_OUT);
}

static void test_pass_fwd_disabled(void **state)
{
	struct pkt p, want;

	(void)state;
	udp_frame(&p, GUEST_IP, REMOTE, 32);
	assert_int_equal(sysctl_write("/proc/sys/net/ipv4/conf/in0/forwarding", "0"), 0);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_FWD_DISABLED);
	assert_int_equal(sysctl_write("/proc/sys/net/ipv4/conf/in0/forwarding", "1"), 0);
	/* And back on, the same frame is forwarded again. */
	routed(&p, gw_mac, out0.mac, &want);
	expect_xdp_fwd(in0.ifindex, &p, &want, VNAT_FWD_ROUTED);

	/* The global switch turns every device off. */
	assert_int_equal(sysctl_write("/proc/sys/net/ipv4/ip_forward", "0"), 0);
	expect_xdp_pass(in0.ifindex, &p, VNAT_PASS_FWD_DISABLED);
	assert_int_equal(sysctl_write("/proc/sys/net/ipv4/ip_forward", "1"), 0);
	expect_xdp_fwd(in0.ifindex, &p, &want, VNAT_FWD_ROUTED);
}

/* Attached to an interface vnat_ifaces does not know (current code: pass_unsupported). */
static void test_pass_unregistered_ingress(void **state)
{
	struct pkt p;

	(void)state;
	udp_frame(&p, "10.99.0.2", REMOTE, 32);
	memcpy(pkt_eth(&p)->h_dest, ext0.mac, ETH_ALEN);
	expect_xdp_pass(ext0.ifindex, &p, VNAT_PASS_UNSUPPORTED);
}

/* --- tc ingress ---------------------------------------------------------- */

/* tc counts only what it forwards: pass decisions were XDP's to count. */
static void expect_tc_pass(uint32_t ifindex, const struct pkt *p)
{
	tc_ingress_expect_(&l, ifindex, p, TC_ACT_OK, NULL, NULL, 0);
}

static void expect_tc_fwd(uint32_t ifindex, const struct pkt *p, const struct pkt *want)
{
	tc_ingress_expect(&l, ifindex, p, TC_ACT_REDIRECT, want, C_PKT(VNAT_FWD_ROUTED_TC, p->len));
}

static void test_tc_fwd(void **state)
{
	struct pkt p, want;

	(void)state;
	udp_frame(&p, GUEST_IP, REMOTE, 32);
	routed(&p, gw_mac, out0.mac, &want);
	expect_tc_fwd(in0.ifindex, &p, &want);
	/* A same-segment next hop is forwarded too: no redirect on tc either. */
	udp_frame(&p, GUEST_IP, "203.0.113.77", 10);
	routed(&p, hairpin_mac, in0.mac, &want);
	tc_ingress_expect(&l, in0.ifindex, &p, TC_ACT_REDIRECT, &want,
			  C_PKT(VNAT_FWD_SAME_SEGMENT, p.len));
}

/*
 * tc passes tot_len 0 to bpf_fib_lookup(), so the kernel checks the skb
 * against the egress device's MTU (GSO-aware): a full-size datagram goes,
 * a larger one is the kernel's.
 */
static void test_tc_mtu(void **state)
{
	struct pkt p, want;

	(void)state;
	sized_frame(&p, REMOTE, 1500);
	routed(&p, gw_mac, out0.mac, &want);
	expect_tc_fwd(in0.ifindex, &p, &want);
	sized_frame(&p, REMOTE, 1600);
	expect_tc_pass(in0.ifindex, &p);
}

/*
 * Datagrams the kernel's forwarding would fragment or answer with
 * Fragmentation Needed (ip_forward() checks the route's MTU), which the tc
 * path forwards whole: with tot_len 0, bpf_fib_lookup() checks only
 * is_skb_forwardable(), the device MTU plus MAC header plus 4 bytes of
 * VLAN tag, and never the route's MTU. So 1501..1504-byte datagrams leave
 * out0 (MTU 1500), and 1281..1500-byte ones take 198.51.100.200's route
 * (mtu lock 1280) as XDP would not. Correct: handed to the kernel.
 */
static void test_tc_mtu_bypass(void **state)
{
	static const struct {
		const char *dst;
		size_t tot_len;
	} cases[] = { { REMOTE, 1504 }, { REMOTE, 1501 }, { "198.51.100.200", 1400 } };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt p;

		sized_frame(&p, cases[i].dst, cases[i].tot_len);
		expect_tc_pass(in0.ifindex, &p);
	}
}

static void test_tc_pass(void **state)
{
	struct pkt p;
	struct iphdr *ip;

	(void)state;
	ip = udp_frame(&p, GUEST_IP, REMOTE, 32);
	ip->ttl = 1;
	pkt_fix_csums(&p);
	expect_tc_pass(in0.ifindex, &p);
	udp_frame(&p, GUEST_IP, LOCAL_IN, 32);
	expect_tc_pass(in0.ifindex, &p);
	udp_frame(&p, GUEST_IP, "198.51.100.130", 32);
	expect_tc_pass(in0.ifindex, &p);
	udp_frame(&p, GUEST_IP, "10.98.0.5", 32);
	expect_tc_pass(in0.ifindex, &p);
	/* Unregistered ingress. */
	udp_frame(&p, "10.99.0.2", REMOTE, 32);
	memcpy(pkt_eth(&p)->h_dest, ext0.mac, ETH_ALEN);
	expect_tc_pass(ext0.ifindex, &p);
}

/* --- the harness itself -------------------------------------------------- */

/* A test that cannot fail proves nothing: the checks must catch a wrong frame. */
static void test_harness_detects_mismatch(void **state)
{
	struct pkt p, want;
	struct run r;
	FILE *devnull = fopen("/dev/null", "w");

	(void)state;
	assert_non_null(devnull);
	udp_frame(&p, GUEST_IP, REMOTE, 32);
	routed(&p, gw_mac, out0.mac, &want);
	xdp_run(&l, in0.ifindex, &p, &r);
	assert_true(r.out_len == want.len && !memcmp(r.out, want.data, want.len));
	/* Untouched input is not the routed frame, and a stale checksum is caught. */
	assert_false(r.out_len == p.len && !memcmp(r.out, p.data, p.len));
	pkt_ip(&want)->ttl++;
	assert_int_equal(pkt_csum_errors(want.data, want.len, devnull), PKT_BAD_IP_CSUM);
	pkt_udp(&want)->check ^= 1;
	assert_int_equal(pkt_csum_errors(want.data, want.len, devnull),
			 PKT_BAD_IP_CSUM | PKT_BAD_L4_CSUM);
	fclose(devnull);
}

/* Pin dir NULL: the loader must not have pinned anything for this namespace. */
static void test_no_pins(void **state)
{
	(void)state;
	assert_false(l.pin_dir[0]);
	if (!access(pin_dir_ours, F_OK))
		print_error("%s exists\n", pin_dir_ours);
	assert_int_not_equal(access(pin_dir_ours, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fwd_udp),
		cmocka_unit_test(test_fwd_tcp_icmp),
		cmocka_unit_test(test_fwd_reverse),
		cmocka_unit_test(test_fwd_hairpin),
		cmocka_unit_test(test_fwd_ethernet_padding),
		cmocka_unit_test(test_fwd_ttl_csum_carry),
		cmocka_unit_test(test_fwd_mtu_edges),
		cmocka_unit_test_teardown(test_fwd_egress_forwarding_off, forwarding_on),
		cmocka_unit_test(test_pass_not_ipv4),
		cmocka_unit_test(test_pass_not_to_us),
		cmocka_unit_test(test_pass_malformed),
		cmocka_unit_test(test_pass_bad_ip_csum),
		cmocka_unit_test(test_pass_martian_source),
		cmocka_unit_test(test_pass_ip_options),
		cmocka_unit_test(test_pass_fragment),
		cmocka_unit_test(test_pass_ttl),
		cmocka_unit_test(test_pass_local),
		cmocka_unit_test(test_pass_no_route),
		cmocka_unit_test(test_pass_no_route_at_all),
		cmocka_unit_test(test_pass_no_neigh),
		cmocka_unit_test(test_pass_mtu),
		cmocka_unit_test(test_pass_unmanaged_out),
		cmocka_unit_test_teardown(test_pass_fwd_disabled, forwarding_on),
		cmocka_unit_test(test_pass_unregistered_ingress),
		cmocka_unit_test(test_tc_fwd),
		cmocka_unit_test(test_tc_mtu),
		cmocka_unit_test(test_tc_mtu_bypass),
		cmocka_unit_test(test_tc_pass),
		cmocka_unit_test(test_harness_detects_mismatch),
		cmocka_unit_test(test_no_pins),
	};

	return cmocka_run_group_tests_name("fwd", tests, group_setup, group_teardown);
}
