// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The bridging fast path (bpf/lib/fdb.h and the bridge cases of fib.h and
 * pipeline.h) run with BPF_PROG_TEST_RUN on crafted frames.
 *
 * The group setup moves the test process into a network namespace of its
 * own (the host's is never touched) and builds a libvirt-style host there:
 *
 *   guests A, A2 (p1), B 192.168.122.10 (p2), C (p3)
 *     -- p1,p2,p3 -- br0 192.168.122.1/24
 *                    up0 10.0.0.15/24 -- gw 10.0.0.1 (default route)
 *
 * The guests' MACs are static entries of the kernel bridge's FDB, mirrored
 * into vnat_fdb by the real sync code (vnat_topo__dump, vnat_sync__fdb);
 * port states and flags are set on the kernel bridge and mirrored by
 * vnat_sync__ports. Two loaders share the namespace: "br" routes and
 * bridges (br0 BRIDGE), "nat" also translates (br0 BRIDGE|INSIDE, up0
 * OUTSIDE, --snat 10.0.0.15). Nothing is attached.
 *
 * A test run transmits nothing: XDP_REDIRECT is only a return value. The
 * redirect target is still observable through vnat_txports, the devmap the
 * program redirects through with XDP_PASS as the fallback: with the
 * target's entry removed the verdict turns into XDP_PASS.
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
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <linux/if_arp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include "datapath.h"
#include "harness.h"
#include "sync.h"
#include "topo.h"
#include "iface.h"
#include "log.h"
#include "netns_setup.h"
#include "pktbuild.h"
#include "vnat.skel.h"

#define BR_IP "192.168.122.1"
#define GUEST_A_IP "192.168.122.11"
#define GUEST_B_IP "192.168.122.10"
#define GUEST_C_IP "192.168.122.12"
#define SNAT "10.0.0.15"
#define REMOTE "198.51.100.53"

#define BR_MAC "02:00:00:00:0b:00"
#define MAC_A "02:00:00:00:aa:01"
#define MAC_A2 "02:00:00:00:aa:11"
#define MAC_B "02:00:00:00:aa:02"
#define MAC_C "02:00:00:00:aa:03"
#define MAC_D "02:00:00:00:dd:04"

static uint8_t br_mac[ETH_ALEN], mac_a[ETH_ALEN], mac_a2[ETH_ALEN], mac_b[ETH_ALEN],
	mac_c[ETH_ALEN], mac_d[ETH_ALEN];
static const uint8_t gw_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0x0a, 0xfe };
static const uint8_t unknown_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0xaa, 0xff };
static const uint8_t bcast_mac[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct vnat_loader br_l, nat_l;
static bool br_loaded, nat_loaded;
static struct vnat_loader *cur;
static struct vnat_iface_info br0, p1, p2, p3, up0, br1, p4;
static struct vnat_topo topo; /* large: static */

/* --- setup --------------------------------------------------------------- */

static const char *const topo_cmds[] = {
	"ip link set lo up",
	"ip link add br0 address " BR_MAC " type bridge",
	"ip link add p1 address 02:00:00:00:0b:01 type veth peer name q1 address 02:00:00:00:0c:01",
	"ip link add p2 address 02:00:00:00:0b:02 type veth peer name q2 address 02:00:00:00:0c:02",
	"ip link add p3 address 02:00:00:00:0b:03 type veth peer name q3 address 02:00:00:00:0c:03",
	"ip link add up0 address 02:00:00:00:0a:01 type veth peer name upp address "
	"02:00:00:00:0a:02",
	"ip link add br1 address 02:00:00:00:0d:00 type bridge",
	"ip link add p4 address 02:00:00:00:0d:01 type veth peer name q4 address 02:00:00:00:0e:01",
	"ip link set p4 master br1",
	"ip link set p1 master br0",
	"ip link set p2 master br0",
	"ip link set p3 master br0",
	"ip addr add " BR_IP "/24 dev br0",
	"ip addr add " SNAT "/24 dev up0",
	"ip link set q1 up",
	"ip link set q2 up",
	"ip link set q3 up",
	"ip link set q4 up",
	"ip link set p4 up",
	"ip link set br1 up",
	"ip link set upp up",
	"ip link set p1 up",
	"ip link set p2 up",
	"ip link set p3 up",
	"ip link set up0 up",
	"ip link set br0 up",
	"ip route add default via 10.0.0.1",
	"ip neigh replace 10.0.0.1 lladdr 02:00:00:00:0a:fe dev up0 nud permanent",
	"ip neigh replace " GUEST_B_IP " lladdr " MAC_B " dev br0 nud permanent",
};

/* The guests, as static entries of the kernel bridge (NUD_NOARP: mirrorable). */
static const char *const fdb_cmds[] = {
	"bridge fdb replace " MAC_A " dev p1 master static",
	"bridge fdb replace " MAC_A2 " dev p1 master static",
	"bridge fdb replace " MAC_B " dev p2 master static",
	"bridge fdb replace " MAC_C " dev p3 master static",
	"bridge fdb replace " MAC_D " dev p4 master static",
};

/* STP is off, but a port still goes listening -> learning -> forwarding. */
static int wait_forwarding(void)
{
	for (int i = 0; i < 100; i++) {
		int n = 0;

		if (vnat_topo__dump(&topo))
			return -1;
		for (int j = 0; j < topo.n_links; j++)
			n += topo.links[j].is_port &&
			     topo.links[j].port_state == VNAT_BR_STATE_FORWARDING;
		if (n == 4)
			return 0;
		usleep(50 * 1000);
	}
	fprintf(stderr, "setup: ports not forwarding\n");
	return -1;
}

static void nat_config(struct vnat_config *cfg)
{
	nat_config_default(cfg, pkt_ip4(SNAT), 4096, 1000);
}

/* The ports' flags as registered (loader_up) and kept by the sync. */
#define PORT_FLAGS (VNAT_IFACE_PORT | VNAT_IFACE_AUTO | VNAT_IFACE_XDP_TX)

static int loader_up(struct vnat_loader *x, bool nat)
{
	const struct vnat_role bridge = { .flags = VNAT_IFACE_BRIDGE |
						   (nat ? VNAT_IFACE_INSIDE : 0) };
	/* Every target takes XDP frames, as a NIC running vnat natively does. */
	const struct vnat_role port = { .flags = PORT_FLAGS,
					.master = br0.ifindex,
					.port_state = VNAT_BR_STATE_FORWARDING };
	const struct vnat_role uplink = { .flags = VNAT_IFACE_XDP_TX |
						   (nat ? VNAT_IFACE_OUTSIDE : 0) };
	const struct vnat_role bridge1 = { .flags = VNAT_IFACE_BRIDGE };
	const struct vnat_role port1 = { .flags = PORT_FLAGS,
					 .master = br1.ifindex,
					 .port_state = VNAT_BR_STATE_FORWARDING };
	uint32_t inside[1] = { br0.ifindex };
	struct vnat_config cfg;

	if (vnat_loader__open(x, NULL, 4096))
		return -1;
	if (nat) {
		nat_config(&cfg);
		if (vnat_maps__write_config(&x->maps, &cfg))
			goto err;
	}
	if (vnat_loader__register(x, &br0, VNAT_MODE_NATIVE, &bridge) ||
	    vnat_loader__register(x, &p1, VNAT_MODE_NATIVE, &port) ||
	    vnat_loader__register(x, &p2, VNAT_MODE_NATIVE, &port) ||
	    vnat_loader__register(x, &p3, VNAT_MODE_NATIVE, &port) ||
	    vnat_loader__register(x, &up0, VNAT_MODE_NATIVE, &uplink) ||
	    vnat_loader__register(x, &br1, VNAT_MODE_NATIVE, &bridge1) ||
	    vnat_loader__register(x, &p4, VNAT_MODE_NATIVE, &port1) ||
	    vnat_sync__prefixes(&x->maps, nat ? inside : NULL, nat ? 1 : 0) < 0)
		goto err;
	return 0;
err:
	vnat_loader__close(x);
	return -1;
}

static int group_setup(void **state)
{
	(void)state;
	if (netns_enter_private())
		return -1;
	/* No IPv6 chatter (DAD, MLD) for the bridge to learn from the peers. */
	sysctl_write("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	sysctl_write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (sh_each(topo_cmds, sizeof(topo_cmds) / sizeof(topo_cmds[0])))
		return -1;
	if (sh_each(fdb_cmds, sizeof(fdb_cmds) / sizeof(fdb_cmds[0])))
		return -1;
	if (sysctl_write("/proc/sys/net/ipv4/ip_forward", "1"))
		return -1;
	if (iface_resolve("br0", &br0) || iface_resolve("p1", &p1) || iface_resolve("p2", &p2) ||
	    iface_resolve("p3", &p3) || iface_resolve("up0", &up0) || iface_resolve("br1", &br1) ||
	    iface_resolve("p4", &p4))
		return -1;
	pkt_mac(BR_MAC, br_mac);
	pkt_mac(MAC_A, mac_a);
	pkt_mac(MAC_A2, mac_a2);
	pkt_mac(MAC_B, mac_b);
	pkt_mac(MAC_C, mac_c);
	pkt_mac(MAC_D, mac_d);
	if (wait_forwarding())
		return -1;
	vnat_log_init(false, getenv("V") && !strcmp(getenv("V"), "1"));
	if (loader_up(&br_l, false))
		return -1;
	br_loaded = true;
	if (loader_up(&nat_l, true))
		return -1;
	nat_loaded = true;
	cur = &br_l;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (br_loaded)
		vnat_loader__close(&br_l);
	if (nat_loaded)
		vnat_loader__close(&nat_l);
	br_loaded = nat_loaded = false;
	return 0;
}

/* --- map state ----------------------------------------------------------- */

/* The kernel's topology into cur's maps, as the daemon does on every change. */
static void sync_ports(void)
{
	assert_int_equal(vnat_topo__dump(&topo), 0);
	assert_true(vnat_sync__ports(cur, &topo) >= 0);
}

static void sync_fdb(void)
{
	assert_int_equal(vnat_topo__dump(&topo), 0);
	assert_true(vnat_sync__fdb(&cur->maps, &topo) >= 0);
}

static struct vnat_fdb_key fdb_key_on(uint32_t bridge, const uint8_t *mac)
{
	struct vnat_fdb_key k = { .bridge = bridge };

	memcpy(k.mac, mac, ETH_ALEN);
	return k;
}

static struct vnat_fdb_key fdb_key(const uint8_t *mac)
{
	return fdb_key_on(br0.ifindex, mac);
}

static bool fdb_lookup(const uint8_t *mac, struct vnat_fdb_val *v)
{
	struct vnat_fdb_key k = fdb_key(mac);

	return !bpf_map_lookup_elem(cur->maps.fdb, &k, v);
}

static void expect_fdb(const uint8_t *mac, uint32_t port)
{
	struct vnat_fdb_val v;

	assert_true(fdb_lookup(mac, &v));
	assert_int_equal(v.port, port);
}

static void expect_no_fdb(const uint8_t *mac)
{
	struct vnat_fdb_val v;

	assert_false(fdb_lookup(mac, &v));
}

static struct vnat_iface iface_get(uint32_t ifindex)
{
	struct vnat_iface v;

	assert_int_equal(bpf_map_lookup_elem(cur->maps.ifaces, &ifindex, &v), 0);
	return v;
}

/* "bridge link set dev PORT ARGS" on the kernel bridge, then mirrored. */
static void port_set(const char *port, const char *args)
{
	assert_int_equal(sh("bridge link set dev %s %s", port, args), 0);
	sync_ports();
}

/* The kernel bridge moves port to STP state (a number), and vnat mirrors it. */
static void port_state_set(const char *port, uint32_t ifindex, const char *state)
{
	char args[32];

	snprintf(args, sizeof(args), "state %s", state);
	port_set(port, args);
	assert_int_equal(iface_get(ifindex).port_state, atoi(state));
}

/* A state the kernel bridge only holds with STP on, as vnat_sync__ports writes it. */
static void port_state_write(uint32_t ifindex, uint8_t state)
{
	struct vnat_iface v = iface_get(ifindex);

	v.port_state = state;
	assert_int_equal(bpf_map_update_elem(cur->maps.ifaces, &ifindex, &v, BPF_EXIST), 0);
}

static void reset_loader(struct vnat_loader *x)
{
	cur = x;
	map_flush(x->maps.macmoves);
	map_flush(x->maps.fdb);
	map_flush(x->maps.ct);
	map_flush(x->maps.mappings);
	map_flush(x->maps.ports);
	sync_ports();
	sync_fdb();
}

/* Every port forwarding and not isolated, the guests' entries where they were. */
static int reset(void **state)
{
	const char *const ports[] = { "p1", "p2", "p3", "p4" };

	(void)state;
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(sh("bridge link set dev %s state 3 isolated off", ports[i]), 0);
	assert_int_equal(sh_each(fdb_cmds, sizeof(fdb_cmds) / sizeof(fdb_cmds[0])), 0);
	reset_loader(&nat_l);
	reset_loader(&br_l);
	return 0;
}

/*
 * Where the last XDP_REDIRECT of p went: rerun it with one vnat_txports
 * entry removed at a time. Only the target's absence turns the verdict
 * into the fallback: XDP_PASS, or XDP_DROP for a frame vnat translated
 * (the kernel would not know its flow). The reruns are counted like the
 * first run.
 */
static void expect_target(uint32_t ifindex, const struct pkt *p, uint32_t target, uint32_t fallback)
{
	const uint32_t all[] = { br0.ifindex, p1.ifindex,  p2.ifindex, p3.ifindex,
				 up0.ifindex, br1.ifindex, p4.ifindex };
	struct run r;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		struct bpf_devmap_val tx = { .ifindex = all[i] };

		assert_int_equal(bpf_map_delete_elem(cur->maps.txports, &all[i]), 0);
		xdp_run(cur, ifindex, p, &r);
		assert_int_equal(bpf_map_update_elem(cur->maps.txports, &all[i], &tx, BPF_ANY), 0);
		if (r.retval != (all[i] == target ? fallback : XDP_REDIRECT))
			print_error("without txports[%u]: verdict %u, target %u\n", all[i],
				    r.retval, target);
		assert_int_equal(r.retval, all[i] == target ? fallback : XDP_REDIRECT);
	}
}

/*
 * XDP must redirect p to target, rewritten to want (NULL: unchanged),
 * counted once under reason.
 */
static void expect_xdp_fwd(uint32_t ifindex, const struct pkt *p, const struct pkt *want,
			   int reason, uint32_t target)
{
	xdp_expect(cur, ifindex, p, XDP_REDIRECT, want, C_PKT(reason, p->len));
	expect_target(ifindex, p, target, XDP_PASS);
}

/* L2 forwarding rewrites nothing: the frame leaves as it came, checksums and all. */
static void expect_bridged(uint32_t ifindex, const struct pkt *p, uint32_t target)
{
	expect_xdp_fwd(ifindex, p, NULL, VNAT_FWD_BRIDGED, target);
}

/* XDP must hand p to the kernel untouched, counted once under reason. */
static void expect_xdp_pass(uint32_t ifindex, const struct pkt *p, int reason)
{
	xdp_expect(cur, ifindex, p, XDP_PASS, NULL, C_PKT(reason, p->len));
}

/* --- frames -------------------------------------------------------------- */

static void udp_frame(struct pkt *p, const uint8_t *dmac, const uint8_t *smac, const char *saddr,
		      const char *daddr, uint16_t sport, uint16_t dport)
{
	struct iphdr *ip;

	pkt_init(p);
	pkt_push_eth(p, dmac, smac, ETH_P_IP);
	ip = pkt_push_ipv4(p, pkt_ip4(saddr), pkt_ip4(daddr), IPPROTO_UDP);
	ip->id = htons(0x4242);
	pkt_push_udp(p, sport, dport);
	pkt_push_data(p, NULL, 24);
	pkt_finish(p);
}

/* Guest to guest on the segment: A (on p1) to dmac. */
static void l2_frame(struct pkt *p, const uint8_t *dmac, const uint8_t *smac)
{
	udp_frame(p, dmac, smac, GUEST_A_IP, GUEST_B_IP, 40000, 7);
}

/* New MACs, TTL one less, header checksum a full recompute. */
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

/* --- the mirror ---------------------------------------------------------- */

/*
 * vnat_sync__fdb mirrors the static guest entries, each on its port, and
 * none of the bridge's own (permanent) addresses; refreshed_ns is the sync.
 */
static void test_sync_fdb(void **state)
{
	const uint8_t *macs[] = { mac_a, mac_a2, mac_b, mac_c };
	const uint32_t ports[] = { p1.ifindex, p1.ifindex, p2.ifindex, p3.ifindex };
	struct vnat_fdb_val v;
	uint64_t t0, t1;

	(void)state;
	map_flush(cur->maps.fdb);
	t0 = now_ns();
	assert_int_equal(vnat_topo__dump(&topo), 0);
	assert_int_equal(vnat_sync__fdb(&cur->maps, &topo), 5);
	t1 = now_ns();
	assert_int_equal(map_count(cur->maps.fdb), 5);
	for (int i = 0; i < 4; i++) {
		assert_true(fdb_lookup(macs[i], &v));
		assert_int_equal(v.port, ports[i]);
		assert_in_range(v.refreshed_ns, t0, t1);
	}
	expect_no_fdb(br_mac);
	/* D is br1's: keyed by its own bridge. */
	expect_no_fdb(mac_d);
	{
		struct vnat_fdb_key k = fdb_key_on(br1.ifindex, mac_d);

		assert_int_equal(bpf_map_lookup_elem(cur->maps.fdb, &k, &v), 0);
		assert_int_equal(v.port, p4.ifindex);
		assert_in_range(v.refreshed_ns, t0, t1);
	}
	/* In sync: nothing to change. */
	assert_int_equal(vnat_sync__fdb(&cur->maps, &topo), 0);
	/* Ports as registered, and the kernel's state mirrored. */
	for (int i = 1; i <= 3; i++) {
		struct vnat_iface v2 = iface_get(i == 1 ? p1.ifindex :
						 i == 2 ? p2.ifindex :
							  p3.ifindex);

		assert_int_equal(v2.port_state, VNAT_BR_STATE_FORWARDING);
		assert_int_equal(v2.flags, PORT_FLAGS);
		assert_int_equal(v2.master, br0.ifindex);
	}
	/* A kernel entry removed is removed from the mirror. */
	assert_int_equal(sh("bridge fdb del " MAC_C " dev p3 master"), 0);
	sync_fdb();
	expect_no_fdb(mac_c);
	assert_int_equal(map_count(cur->maps.fdb), 4);
}

/* --- bridged ------------------------------------------------------------- */

static void test_bridge_known_unicast(void **state)
{
	struct pkt p;

	(void)state;
	l2_frame(&p, mac_b, mac_a);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
	l2_frame(&p, mac_c, mac_b);
	expect_bridged(p2.ifindex, &p, p3.ifindex);
	l2_frame(&p, mac_a, mac_c);
	expect_bridged(p3.ifindex, &p, p1.ifindex);
	l2_frame(&p, mac_c, mac_a2);
	expect_bridged(p1.ifindex, &p, p3.ifindex);
}

/* Bridging is L2: what the kernel would refuse to route is still bridged as is. */
static void test_bridge_ignores_l3(void **state)
{
	struct pkt p;

	(void)state;
	l2_frame(&p, mac_b, mac_a);
	pkt_ip(&p)->ttl = 1;
	pkt_fix_csums(&p);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
	l2_frame(&p, mac_b, mac_a);
	pkt_ip(&p)->check ^= htons(1);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
	/* Addressed (at L3) to the host or outside: L2 says guest B. */
	udp_frame(&p, mac_b, mac_a, GUEST_A_IP, BR_IP, 1, 2);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
	udp_frame(&p, mac_b, mac_a, GUEST_A_IP, REMOTE, 1, 2);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
}

/* ARP and IPv6 unicast between known MACs are bridged in XDP too. */
static void test_bridge_not_ipv4(void **state)
{
	static const uint8_t v6a[16] = { 0xfe, 0x80, [15] = 1 };
	static const uint8_t v6b[16] = { 0xfe, 0x80, [15] = 2 };
	struct pkt p;

	(void)state;
	pkt_init(&p);
	pkt_push_eth(&p, mac_b, mac_a, ETH_P_ARP);
	pkt_push_arp(&p, ARPOP_REPLY, mac_a, pkt_ip4(GUEST_A_IP), mac_b, pkt_ip4(GUEST_B_IP));
	pkt_finish(&p);
	expect_bridged(p1.ifindex, &p, p2.ifindex);

	pkt_init(&p);
	pkt_push_eth(&p, mac_c, mac_b, ETH_P_IPV6);
	pkt_push_ipv6(&p, v6b, v6a, IPPROTO_UDP);
	pkt_push_udp(&p, 546, 547);
	pkt_push_data(&p, NULL, 16);
	pkt_finish(&p);
	expect_bridged(p2.ifindex, &p, p3.ifindex);
}

/* --- handed to the kernel bridge ------------------------------------------ */

static void test_pass_fdb_learn(void **state)
{
	struct pkt p;

	(void)state;
	l2_frame(&p, mac_b, unknown_mac);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_FDB_LEARN);
	/* The source is checked first, whatever the destination. */
	l2_frame(&p, bcast_mac, unknown_mac);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_FDB_LEARN);
	l2_frame(&p, br_mac, unknown_mac);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_FDB_LEARN);
	/* Learned by the kernel, mirrored: from then on bridged. */
	assert_int_equal(sh("bridge fdb replace 02:00:00:00:aa:ff dev p1 master static"), 0);
	sync_fdb();
	expect_fdb(unknown_mac, p1.ifindex);
	l2_frame(&p, mac_b, unknown_mac);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
	assert_int_equal(sh("bridge fdb del 02:00:00:00:aa:ff dev p1 master"), 0);
	sync_fdb();
	expect_no_fdb(unknown_mac);
}

static void test_pass_flood(void **state)
{
	static const uint8_t mcast4[ETH_ALEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	static const uint8_t mcast6[ETH_ALEN] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t stp[ETH_ALEN] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 };
	static const uint8_t zero_mac[ETH_ALEN];
	struct pkt p;

	(void)state;
	l2_frame(&p, bcast_mac, mac_a);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_FLOOD);
	l2_frame(&p, mcast4, mac_a);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_FLOOD);
	l2_frame(&p, mcast6, mac_b);
	expect_xdp_pass(p2.ifindex, &p, VNAT_PASS_FLOOD);
	l2_frame(&p, stp, mac_c);
	expect_xdp_pass(p3.ifindex, &p, VNAT_PASS_FLOOD);
	/* An ARP request, broadcast. */
	pkt_init(&p);
	pkt_push_eth(&p, bcast_mac, mac_a, ETH_P_ARP);
	pkt_push_arp(&p, ARPOP_REQUEST, mac_a, pkt_ip4(GUEST_A_IP), zero_mac, pkt_ip4(GUEST_B_IP));
	pkt_finish(&p);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_FLOOD);
}

static void test_pass_fdb_miss(void **state)
{
	struct pkt p;

	(void)state;
	l2_frame(&p, unknown_mac, mac_a);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_FDB_MISS);
	/* The bridge's own MAC is not an FDB entry, but it is routed, not bridged. */
	/* A port's own MAC (a permanent entry, never mirrored). */
	l2_frame(&p, p2.mac, mac_a);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_FDB_MISS);
	/* An entry that names an interface which is not a port of br0. */
	{
		struct vnat_fdb_key k = fdb_key(unknown_mac);
		struct vnat_fdb_val v = { .port = up0.ifindex, .refreshed_ns = now_ns() };

		assert_int_equal(bpf_map_update_elem(cur->maps.fdb, &k, &v, BPF_ANY), 0);
		l2_frame(&p, unknown_mac, mac_a);
		expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_FDB_MISS);
		/* ... nor one of another bridge's ports. */
		v.port = p4.ifindex;
		assert_int_equal(bpf_map_update_elem(cur->maps.fdb, &k, &v, BPF_ANY), 0);
		expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_FDB_MISS);
		assert_int_equal(bpf_map_delete_elem(cur->maps.fdb, &k), 0);
	}
}

/* Each bridge has its own FDB: nothing is bridged from one to the other. */
static void test_pass_other_bridge(void **state)
{
	struct pkt p;

	(void)state;
	l2_frame(&p, mac_d, mac_a);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_FDB_MISS);
	l2_frame(&p, mac_b, mac_d);
	expect_xdp_pass(p4.ifindex, &p, VNAT_PASS_FDB_MISS);
	/* A's entry is br0's: on br1 its source is unknown. */
	l2_frame(&p, mac_d, mac_a);
	expect_xdp_pass(p4.ifindex, &p, VNAT_PASS_FDB_LEARN);
	/* br0's MAC is not br1's: not routed from p4. */
	l2_frame(&p, br_mac, mac_d);
	expect_xdp_pass(p4.ifindex, &p, VNAT_PASS_FDB_MISS);
}

static void test_pass_same_port(void **state)
{
	struct pkt p;

	(void)state;
	l2_frame(&p, mac_a2, mac_a);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_SAME_PORT);
	l2_frame(&p, mac_a, mac_a2);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_SAME_PORT);
}

/* Ingress port learning, listening, disabled or blocking: the kernel's. */
static void test_pass_ingress_port_state(void **state)
{
	static const char *const states[] = { "0", "1", "2" };
	struct pkt p;

	(void)state;
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		port_state_set("p1", p1.ifindex, states[i]);
		l2_frame(&p, mac_b, mac_a);
		expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_PORT_STATE);
		/* Even what would otherwise be routed or learned. */
		l2_frame(&p, br_mac, mac_a);
		expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_PORT_STATE);
		l2_frame(&p, mac_b, unknown_mac);
		expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_PORT_STATE);
	}
	/*
	 * Blocking (4) needs STP, which the kernel bridge here does not run
	 * (with STP off it moves a blocking port on to forwarding): written
	 * the way the sync would mirror it.
	 */
	port_state_write(p1.ifindex, 4);
	l2_frame(&p, mac_b, mac_a);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_PORT_STATE);
	port_set("p1", "state 3");
	assert_int_equal(iface_get(p1.ifindex).port_state, VNAT_BR_STATE_FORWARDING);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
}

static void test_pass_egress_port_state(void **state)
{
	static const char *const states[] = { "0", "1", "2" };
	struct pkt p;

	(void)state;
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		port_state_set("p2", p2.ifindex, states[i]);
		l2_frame(&p, mac_b, mac_a);
		expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_PORT_STATE);
		/* The other ports carry on. */
		l2_frame(&p, mac_c, mac_a);
		expect_bridged(p1.ifindex, &p, p3.ifindex);
	}
	port_state_write(p2.ifindex, 4);
	l2_frame(&p, mac_b, mac_a);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_PORT_STATE);
	port_set("p2", "state 3");
	expect_bridged(p1.ifindex, &p, p2.ifindex);
}

static void test_pass_isolated(void **state)
{
	struct pkt p;

	(void)state;
	port_set("p1", "isolated on");
	assert_int_equal(iface_get(p1.ifindex).flags, PORT_FLAGS | VNAT_IFACE_ISOLATED);
	/* One isolated port may still talk to a non-isolated one, both ways. */
	l2_frame(&p, mac_b, mac_a);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
	l2_frame(&p, mac_a, mac_b);
	expect_bridged(p2.ifindex, &p, p1.ifindex);
	port_set("p2", "isolated on");
	assert_int_equal(iface_get(p2.ifindex).flags, PORT_FLAGS | VNAT_IFACE_ISOLATED);
	l2_frame(&p, mac_b, mac_a);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_PORT_STATE);
	l2_frame(&p, mac_a, mac_b);
	expect_xdp_pass(p2.ifindex, &p, VNAT_PASS_PORT_STATE);
	l2_frame(&p, mac_c, mac_a);
	expect_bridged(p1.ifindex, &p, p3.ifindex);
	l2_frame(&p, mac_b, mac_c);
	expect_bridged(p3.ifindex, &p, p2.ifindex);
	port_set("p1", "isolated off");
	assert_int_equal(iface_get(p1.ifindex).flags, PORT_FLAGS);
	l2_frame(&p, mac_b, mac_a);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
}

static bool macmove_lookup(const uint8_t *mac, struct vnat_macmove *mv)
{
	struct vnat_fdb_key k = fdb_key(mac);

	return !bpf_map_lookup_elem(cur->maps.macmoves, &k, mv);
}

#define C_MOVED ((struct delta){ VNAT_FDB_MOVED, 1, 0 })

/* vnat_gen element idx (VNAT_GEN_USER or VNAT_GEN_DATAPATH). */
static uint64_t gen_read(uint32_t idx)
{
	uint64_t v = 0;

	assert_int_equal(bpf_map_lookup_elem(cur->maps.gen, &idx, &v), 0);
	return v;
}

/*
 * A moved frame: the stale entry goes, the move is recorded, the kernel
 * decides; and the datapath bumps its generation, since flows may have
 * cached the old port as their next hop's.
 */
static void expect_moved(uint32_t ifindex, const struct pkt *p)
{
	uint64_t gen = gen_read(VNAT_GEN_DATAPATH);

	xdp_expect(cur, ifindex, p, XDP_PASS, NULL, C_PKT(VNAT_PASS_DUP_MAC, p->len), C_MOVED);
	assert_int_equal(gen_read(VNAT_GEN_DATAPATH), gen + 1);
}

static void test_fdb_moved(void **state)
{
	struct vnat_macmove mv;
	struct pkt p;
	uint64_t t0, t1;
	uint64_t gen;

	(void)state;
	expect_fdb(mac_a, p1.ifindex);
	l2_frame(&p, mac_b, mac_a);
	t0 = now_ns();
	expect_moved(p3.ifindex, &p);
	t1 = now_ns();
	expect_no_fdb(mac_a);
	assert_true(macmove_lookup(mac_a, &mv));
	assert_int_equal(mv.port, p3.ifindex);
	assert_int_equal(mv.prev_port, p1.ifindex);
	assert_int_equal(mv.moves, 1);
	assert_in_range(mv.window_ns, t0, t1);
	assert_in_range(mv.last_move_ns, t0, t1);
	/* No entry now, one move is no duplicate: the kernel learns it anew. */
	expect_xdp_pass(p3.ifindex, &p, VNAT_PASS_FDB_LEARN);
	/* Frames to it are the kernel's until the mirror has it again. */
	l2_frame(&p, mac_a, mac_b);
	expect_xdp_pass(p2.ifindex, &p, VNAT_PASS_FDB_MISS);
	/* The kernel still has it on p1 (static): the resync puts it back, and bumps. */
	gen = gen_read(VNAT_GEN_USER);
	sync_fdb();
	expect_fdb(mac_a, p1.ifindex);
	assert_true(gen_read(VNAT_GEN_USER) > gen);
	expect_bridged(p2.ifindex, &p, p1.ifindex);
}

/* VNAT_DUP_MOVES moves within the window make a duplicate: never mirrored, always passed. */
static void test_dup_mac(void **state)
{
	struct vnat_macmove mv;
	struct pkt p;

	(void)state;
	for (int i = 0; i < VNAT_DUP_MOVES; i++) {
		sync_fdb();
		expect_fdb(mac_a, p1.ifindex);
		l2_frame(&p, mac_b, mac_a);
		expect_moved(i % 2 ? p2.ifindex : p3.ifindex, &p);
		expect_no_fdb(mac_a);
		assert_true(macmove_lookup(mac_a, &mv));
		assert_int_equal(mv.moves, i + 1);
		assert_int_equal(mv.prev_port, p1.ifindex);
		assert_int_equal(mv.port, i % 2 ? p2.ifindex : p3.ifindex);
	}
	assert_true(mv.moves >= VNAT_DUP_MOVES);
	/* The sync leaves a duplicate out of the mirror though the kernel has it. */
	sync_fdb();
	expect_no_fdb(mac_a);
	expect_fdb(mac_b, p2.ifindex);
	/* From it, on any port, pass_dup_mac (not pass_fdb_learn); to it, a miss. */
	l2_frame(&p, mac_b, mac_a);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_DUP_MAC);
	expect_xdp_pass(p3.ifindex, &p, VNAT_PASS_DUP_MAC);
	l2_frame(&p, mac_a, mac_b);
	expect_xdp_pass(p2.ifindex, &p, VNAT_PASS_FDB_MISS);
	/* Others are not affected. */
	l2_frame(&p, mac_c, mac_b);
	expect_bridged(p2.ifindex, &p, p3.ifindex);

	/* After the hold time the MAC is no duplicate any more. */
	{
		struct vnat_fdb_key k = fdb_key(mac_a);

		assert_true(macmove_lookup(mac_a, &mv));
		mv.last_move_ns = now_ns() - VNAT_DUP_HOLD_NS - 1000000000ull;
		mv.window_ns = mv.last_move_ns;
		assert_int_equal(bpf_map_update_elem(cur->maps.macmoves, &k, &mv, BPF_EXIST), 0);
	}
	l2_frame(&p, mac_b, mac_a);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_FDB_LEARN);
	sync_fdb();
	expect_fdb(mac_a, p1.ifindex);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
}

/* A move after the counting window starts a new count. */
static void test_dup_window(void **state)
{
	struct vnat_fdb_key k = fdb_key(mac_a);
	struct vnat_macmove mv;
	struct pkt p;

	(void)state;
	l2_frame(&p, mac_b, mac_a);
	for (int i = 0; i < VNAT_DUP_MOVES - 1; i++) {
		sync_fdb();
		expect_moved(p3.ifindex, &p);
	}
	assert_true(macmove_lookup(mac_a, &mv));
	assert_int_equal(mv.moves, VNAT_DUP_MOVES - 1);
	mv.window_ns = now_ns() - VNAT_DUP_WINDOW_NS - 1000000000ull;
	assert_int_equal(bpf_map_update_elem(cur->maps.macmoves, &k, &mv, BPF_EXIST), 0);
	sync_fdb();
	expect_moved(p3.ifindex, &p);
	assert_true(macmove_lookup(mac_a, &mv));
	assert_int_equal(mv.moves, 1);
	/* So no duplicate: the kernel learns it. */
	expect_xdp_pass(p3.ifindex, &p, VNAT_PASS_FDB_LEARN);
}

/* A source vnat keeps bridging is handed to the kernel once per VNAT_FDB_REFRESH_NS. */
static void test_fdb_refresh(void **state)
{
	struct vnat_fdb_key k = fdb_key(mac_a);
	struct vnat_fdb_val v = { .port = p1.ifindex, .refreshed_ns = 0 };
	struct pkt p;
	uint64_t t0, t1;

	(void)state;
	l2_frame(&p, mac_b, mac_a);
	assert_int_equal(bpf_map_update_elem(cur->maps.fdb, &k, &v, BPF_EXIST), 0);
	t0 = now_ns();
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_FDB_REFRESH);
	t1 = now_ns();
	assert_true(fdb_lookup(mac_a, &v));
	assert_int_equal(v.port, p1.ifindex);
	assert_in_range(v.refreshed_ns, t0, t1);
	/* Refreshed: bridged again. */
	expect_bridged(p1.ifindex, &p, p2.ifindex);
	/* Just younger than the period: still bridged, timestamp kept. */
	v.refreshed_ns = now_ns() - VNAT_FDB_REFRESH_NS + 5000000000ull;
	assert_int_equal(bpf_map_update_elem(cur->maps.fdb, &k, &v, BPF_EXIST), 0);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
	{
		struct vnat_fdb_val v2;

		assert_true(fdb_lookup(mac_a, &v2));
		assert_int_equal(v2.refreshed_ns, v.refreshed_ns);
	}
	/* Older: the sample goes to the kernel, whatever the frame is (ARP too). */
	v.refreshed_ns = now_ns() - VNAT_FDB_REFRESH_NS - 1000000000ull;
	assert_int_equal(bpf_map_update_elem(cur->maps.fdb, &k, &v, BPF_EXIST), 0);
	pkt_init(&p);
	pkt_push_eth(&p, mac_b, mac_a, ETH_P_ARP);
	pkt_push_arp(&p, ARPOP_REPLY, mac_a, pkt_ip4(GUEST_A_IP), mac_b, pkt_ip4(GUEST_B_IP));
	pkt_finish(&p);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_FDB_REFRESH);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
}

/*
 * tc bridges known unicast port to port as XDP does (veths and taps run
 * tc only by default), the frame unchanged; flooding stays the kernel's.
 * A port without XDP counts what tc passes (nothing counted it before).
 */
static void test_tc_port(void **state)
{
	struct pkt p;

	(void)state;
	l2_frame(&p, mac_b, mac_a);
	tc_ingress_expect(cur, p1.ifindex, &p, TC_ACT_REDIRECT, &p,
			  C_PKT(VNAT_FWD_BRIDGED_TC, p.len));
	l2_frame(&p, bcast_mac, mac_a);
	tc_ingress_expect(cur, p1.ifindex, &p, TC_ACT_OK, &p, C_PKT(VNAT_PASS_FLOOD, p.len));
}

/*
 * A port XDP frames cannot reach (a veth whose peer has neither XDP nor
 * GRO): XDP leaves the frame untouched, and tc, next on the same
 * interface, bridges it.
 */
static void test_tc_port_no_xdp_tx(void **state)
{
	struct vnat_iface v = iface_get(p2.ifindex);
	struct pkt p;

	(void)state;
	v.flags &= ~VNAT_IFACE_XDP_TX;
	assert_int_equal(bpf_map_update_elem(cur->maps.ifaces, &p2.ifindex, &v, BPF_EXIST), 0);
	l2_frame(&p, mac_b, mac_a);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_NO_XDP_TX);
	tc_ingress_expect(cur, p1.ifindex, &p, TC_ACT_REDIRECT, &p,
			  C_PKT(VNAT_FWD_BRIDGED_TC, p.len));
	/* The other way p1 takes XDP frames: XDP bridges. */
	l2_frame(&p, mac_a, mac_b);
	expect_bridged(p2.ifindex, &p, p1.ifindex);
	v.flags |= VNAT_IFACE_XDP_TX;
	assert_int_equal(bpf_map_update_elem(cur->maps.ifaces, &p2.ifindex, &v, BPF_EXIST), 0);
}

/*
 * A guest router's ICMP redirect to another guest (seed 000) is dropped,
 * as tc egress drops it leaving a port when the kernel bridge forwards it,
 * on both hooks; with --redirects keep it is bridged like any frame.
 * (Only a loaded configuration says which: the NAT loader has one.)
 */
static void test_redirect_between_guests(void **state)
{
	struct vnat_config c;
	struct pkt p;

	(void)state;
	pkt_init(&p);
	pkt_push_eth(&p, mac_b, mac_a, ETH_P_IP);
	pkt_push_ipv4(&p, pkt_ip4(GUEST_A_IP), pkt_ip4(GUEST_B_IP), IPPROTO_ICMP);
	pkt_push_icmp(&p, 5, 1, pkt_ip4(BR_IP));
	pkt_finish(&p);
	xdp_expect(cur, p1.ifindex, &p, XDP_DROP, NULL, C_PKT(VNAT_DROP_REDIRECT, p.len));
	tc_ingress_expect(cur, p1.ifindex, &p, TC_ACT_SHOT, NULL, C_PKT(VNAT_DROP_REDIRECT, p.len));
	nat_config(&c);
	c.flags |= VNAT_CFG_KEEP_REDIRECTS;
	assert_int_equal(vnat_maps__write_config(&cur->maps, &c), 0);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
	nat_config(&c);
	assert_int_equal(vnat_maps__write_config(&cur->maps, &c), 0);
}

/* --- routed through the bridge ------------------------------------------- */

/* A guest's frame to br0's MAC is routed as if it had arrived on br0. */
static void test_route_guest_to_uplink(void **state)
{
	struct pkt p, want;

	(void)state;
	udp_frame(&p, br_mac, mac_a, GUEST_A_IP, REMOTE, 40000, 53);
	routed(&p, gw_mac, up0.mac, &want);
	expect_xdp_fwd(p1.ifindex, &p, &want, VNAT_FWD_ROUTED, up0.ifindex);
	assert_pkt_csums_ok(want.data, want.len);
	assert_int_equal(pkt_ip(&want)->ttl, PKT_TTL_DEFAULT - 1);
	/* To the host itself: the kernel's. */
	udp_frame(&p, br_mac, mac_a, GUEST_A_IP, BR_IP, 40000, 53);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_LOCAL);
	/* Non-IPv4 to br0's MAC: the kernel's. */
	pkt_init(&p);
	pkt_push_eth(&p, br_mac, mac_a, ETH_P_ARP);
	pkt_push_arp(&p, ARPOP_REPLY, mac_a, pkt_ip4(GUEST_A_IP), br_mac, pkt_ip4(BR_IP));
	pkt_finish(&p);
	expect_xdp_pass(p1.ifindex, &p, VNAT_PASS_NOT_IPV4);
}

/* Uplink to a guest: br0 is the route's device, the guest's port the target. */
static void test_route_uplink_to_guest(void **state)
{
	struct pkt p, want;

	(void)state;
	udp_frame(&p, up0.mac, gw_mac, REMOTE, GUEST_B_IP, 53, 40000);
	routed(&p, mac_b, br_mac, &want);
	expect_xdp_fwd(up0.ifindex, &p, &want, VNAT_FWD_ROUTED, p2.ifindex);
	assert_pkt_csums_ok(want.data, want.len);
}

/* Guest to guest through the router (to br0's MAC): out of br0 again, a hairpin. */
static void test_route_guest_to_guest(void **state)
{
	struct pkt p, want;

	(void)state;
	udp_frame(&p, br_mac, mac_a, GUEST_A_IP, GUEST_B_IP, 40000, 53);
	routed(&p, mac_b, br_mac, &want);
	expect_xdp_fwd(p1.ifindex, &p, &want, VNAT_FWD_SAME_SEGMENT, p2.ifindex);
}

static void test_route_guest_fdb_miss(void **state)
{
	struct pkt p;

	(void)state;
	assert_int_equal(sh("bridge fdb del " MAC_B " dev p2 master"), 0);
	sync_fdb();
	expect_no_fdb(mac_b);
	udp_frame(&p, up0.mac, gw_mac, REMOTE, GUEST_B_IP, 53, 40000);
	expect_xdp_pass(up0.ifindex, &p, VNAT_PASS_FDB_MISS);
	/* Back: routed again. */
	assert_int_equal(sh("%s", fdb_cmds[2]), 0);
	sync_fdb();
	expect_fdb(mac_b, p2.ifindex);
	{
		struct pkt want;

		routed(&p, mac_b, br_mac, &want);
		expect_xdp_fwd(up0.ifindex, &p, &want, VNAT_FWD_ROUTED, p2.ifindex);
	}
}

static void test_route_guest_port_state(void **state)
{
	struct pkt p;

	(void)state;
	port_set("p2", "state 1");
	udp_frame(&p, up0.mac, gw_mac, REMOTE, GUEST_B_IP, 53, 40000);
	expect_xdp_pass(up0.ifindex, &p, VNAT_PASS_PORT_STATE);
	port_set("p2", "state 0");
	expect_xdp_pass(up0.ifindex, &p, VNAT_PASS_PORT_STATE);
}

/* --- with NAT ------------------------------------------------------------ */

static int use_nat(void **state)
{
	reset(state);
	cur = &nat_l;
	return 0;
}

static void test_nat_snat_and_reply(void **state)
{
	struct vnat_ct_key k = { .inside_addr = pkt_ip4(GUEST_B_IP),
				 .remote_addr = pkt_ip4(REMOTE),
				 .inside_port = htons(40000),
				 .remote_port = htons(53),
				 .proto = IPPROTO_UDP };
	struct vnat_ct_val ct;
	struct pkt p, want;

	(void)state;
	udp_frame(&p, br_mac, mac_b, GUEST_B_IP, REMOTE, 40000, 53);
	routed(&p, gw_mac, up0.mac, &want);
	pkt_ip(&want)->saddr = pkt_ip4(SNAT);
	pkt_fix_csums(&want);
	xdp_expect(cur, p2.ifindex, &p, XDP_REDIRECT, &want, C_PKT(VNAT_FWD_SNAT, p.len),
		   C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	assert_int_equal(bpf_map_lookup_elem(cur->maps.ct, &k, &ct), 0);
	assert_int_equal(ct.outside_addr, pkt_ip4(SNAT));
	assert_int_equal(ntohs(ct.outside_port), 40000);
	expect_target(p2.ifindex, &p, up0.ifindex, XDP_DROP);

	/* The reply on up0: to B's address, resolved through vnat_fdb to p2. */
	udp_frame(&p, up0.mac, gw_mac, REMOTE, SNAT, 53, 40000);
	routed(&p, mac_b, br_mac, &want);
	pkt_ip(&want)->daddr = pkt_ip4(GUEST_B_IP);
	pkt_fix_csums(&want);
	xdp_expect(cur, up0.ifindex, &p, XDP_REDIRECT, &want, C_PKT(VNAT_FWD_DNAT, p.len));
	expect_target(up0.ifindex, &p, p2.ifindex, XDP_DROP);
	assert_int_equal(map_count(cur->maps.ct), 1);

	/*
	 * The guest's MAC gone from the mirror: XDP leaves the reply as it
	 * came (the kernel's conntrack does not know the flow); the uplink's
	 * tc program translates it and hands it to the neighbour code, which
	 * finds the guest behind the bridge.
	 */
	assert_int_equal(sh("bridge fdb del " MAC_B " dev p2 master"), 0);
	sync_fdb();
	xdp_expect(cur, up0.ifindex, &p, XDP_PASS, NULL, C_PKT(VNAT_PASS_FDB_MISS, p.len));
	{
		struct pkt xl = p;

		pkt_ip(&xl)->daddr = pkt_ip4(GUEST_B_IP);
		pkt_ip(&xl)->ttl--; /* routed: bpf_redirect_neigh sets only the MACs */
		pkt_fix_csums(&xl);
		tc_ingress_expect(cur, up0.ifindex, &p, TC_ACT_REDIRECT, &xl,
				  C_PKT(VNAT_FWD_DNAT_TC, p.len),
				  C_PKT(VNAT_FWD_DNAT_NEIGH, p.len));
	}
}

/* Guest to guest across the bridge: bridged, never translated, no flow. */
static void test_nat_bridged_untranslated(void **state)
{
	struct pkt p;

	(void)state;
	assert_true(iface_get(br0.ifindex).flags & VNAT_IFACE_INSIDE);
	l2_frame(&p, mac_b, mac_a);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
	/* Even to an outside address (B might route): L2 decides, no SNAT. */
	udp_frame(&p, mac_b, mac_a, GUEST_A_IP, REMOTE, 40001, 53);
	expect_bridged(p1.ifindex, &p, p2.ifindex);
	pkt_init(&p);
	pkt_push_eth(&p, mac_c, mac_a, ETH_P_IP);
	pkt_push_ipv4(&p, pkt_ip4(GUEST_A_IP), pkt_ip4(GUEST_C_IP), IPPROTO_TCP);
	pkt_push_tcp(&p, 40002, 22, 1, 0, PKT_TCP_SYN);
	pkt_finish(&p);
	expect_bridged(p1.ifindex, &p, p3.ifindex);
	assert_int_equal(map_count(cur->maps.ct), 0);
	assert_int_equal(map_count(cur->maps.mappings), 0);
}

/*
 * Uplink to a guest that is no reply, or from an inside address: with
 * vnat's own NAT (no host rules to protect the guests) both are dropped;
 * --inbound kernel leaves them to the kernel's firewall.
 */
static void test_nat_to_inside(void **state)
{
	struct vnat_config cfg;
	struct pkt p, spoofed;

	(void)state;
	udp_frame(&p, up0.mac, gw_mac, REMOTE, GUEST_B_IP, 53, 40000);
	xdp_expect(cur, up0.ifindex, &p, XDP_DROP, NULL, C_PKT(VNAT_DROP_TO_INSIDE, p.len));
	udp_frame(&spoofed, up0.mac, gw_mac, GUEST_A_IP, REMOTE, 40000, 53);
	xdp_expect(cur, up0.ifindex, &spoofed, XDP_DROP, NULL,
		   C_PKT(VNAT_DROP_SPOOFED_INSIDE, spoofed.len));
	tc_ingress_expect(cur, up0.ifindex, &spoofed, TC_ACT_SHOT, NULL,
			  C_PKT(VNAT_DROP_SPOOFED_INSIDE, spoofed.len));
	/* No mapping for this port on the SNAT address. */
	udp_frame(&p, up0.mac, gw_mac, REMOTE, SNAT, 53, 40000);
	expect_xdp_pass(up0.ifindex, &p, VNAT_PASS_NO_MAPPING);
	assert_int_equal(map_count(cur->maps.ct), 0);

	assert_int_equal(vnat_maps__read_config(&cur->maps, &cfg), 0);
	cfg.flags |= VNAT_CFG_INBOUND_KERNEL;
	assert_int_equal(vnat_maps__write_config(&cur->maps, &cfg), 0);
	udp_frame(&p, up0.mac, gw_mac, REMOTE, GUEST_B_IP, 53, 40000);
	expect_xdp_pass(up0.ifindex, &p, VNAT_PASS_TO_INSIDE);
	cfg.flags &= ~VNAT_CFG_INBOUND_KERNEL;
	assert_int_equal(vnat_maps__write_config(&cur->maps, &cfg), 0);
}

/* --- a tap port ------------------------------------------------------- */

static int tap_gone(void **state)
{
	(void)state;
	system("ip link del tap0 2>/dev/null");
	cur = &br_l;
	if (vnat_topo__dump(&topo) || vnat_sync__ports(&br_l, &topo) < 0)
		return -1;
	return 0;
}

/*
 * A tap that joins a managed bridge: the sync attaches it (tc only, marked
 * NO_XDP: a guest's frames carry partial checksums XDP cannot complete),
 * never with XDP. A real attach, in this test's own namespace only.
 */
static void test_tap_port_no_xdp(void **state)
{
	struct vnat_attachment a;
	struct vnat_iface v;
	uint32_t tap;

	(void)state;
	assert_int_equal(sh("ip tuntap add tap0 mode tap"), 0);
	assert_int_equal(sh("ip link set tap0 master br0 up"), 0);
	tap = if_nametoindex("tap0");
	assert_int_not_equal(tap, 0);
	assert_int_equal(vnat_topo__dump(&topo), 0);
	assert_true(vnat_link__is_tap(vnat_topo__link(&topo, tap)));
	assert_true(vnat_sync__ports(cur, &topo) >= 1);
	v = iface_get(tap);
	assert_int_equal(v.master, br0.ifindex);
	assert_true(v.flags & VNAT_IFACE_NO_XDP);
	assert_true(v.flags & VNAT_IFACE_PORT);
	assert_true(v.flags & VNAT_IFACE_TC);
	assert_false(v.flags & VNAT_IFACE_XDP);
	vnat_datapath__query(tap, &a);
	assert_int_equal(a.xdp_id, 0);
	assert_int_not_equal(a.tc_ingress_id, 0);
	assert_int_not_equal(a.tc_egress_id, 0);
	/* Gone from the bridge: released, hooks and entry. */
	assert_int_equal(sh("ip link set tap0 nomaster"), 0);
	sync_ports();
	assert_int_not_equal(bpf_map_lookup_elem(cur->maps.ifaces, &tap, &v), 0);
	vnat_datapath__query(tap, &a);
	assert_int_equal(a.tc_ingress_id, 0);
	assert_int_equal(a.tc_egress_id, 0);
}

/* --- the harness itself -------------------------------------------------- */

/* expect_target must tell the ports apart, or it proves nothing. */
static void test_harness_target(void **state)
{
	struct bpf_devmap_val tx = { .ifindex = p2.ifindex };
	struct pkt p;
	struct run r;

	(void)state;
	l2_frame(&p, mac_b, mac_a);
	assert_int_equal(bpf_map_delete_elem(cur->maps.txports, &p2.ifindex), 0);
	xdp_run(cur, p1.ifindex, &p, &r);
	assert_int_equal(bpf_map_update_elem(cur->maps.txports, &p2.ifindex, &tx, BPF_ANY), 0);
	assert_int_equal(r.retval, XDP_PASS);
	assert_int_equal(bpf_map_delete_elem(cur->maps.txports, &p3.ifindex), 0);
	xdp_run(cur, p1.ifindex, &p, &r);
	tx.ifindex = p3.ifindex;
	assert_int_equal(bpf_map_update_elem(cur->maps.txports, &p3.ifindex, &tx, BPF_ANY), 0);
	assert_int_equal(r.retval, XDP_REDIRECT);
}

#define T(f) cmocka_unit_test_setup(f, reset)
#define T_NAT(f) cmocka_unit_test_setup(f, use_nat)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sync_fdb),
		T(test_bridge_known_unicast),
		T(test_bridge_ignores_l3),
		T(test_bridge_not_ipv4),
		T(test_pass_fdb_learn),
		T(test_pass_flood),
		T(test_pass_fdb_miss),
		T(test_pass_other_bridge),
		T(test_pass_same_port),
		T(test_pass_ingress_port_state),
		T(test_pass_egress_port_state),
		T(test_pass_isolated),
		T(test_fdb_moved),
		T(test_dup_mac),
		T(test_dup_window),
		T(test_fdb_refresh),
		T(test_tc_port),
		T(test_tc_port_no_xdp_tx),
		T(test_route_guest_to_uplink),
		T(test_route_uplink_to_guest),
		T(test_route_guest_to_guest),
		T(test_route_guest_fdb_miss),
		T(test_route_guest_port_state),
		T_NAT(test_nat_snat_and_reply),
		T_NAT(test_nat_bridged_untranslated),
		T_NAT(test_nat_to_inside),
		T_NAT(test_redirect_between_guests),
		cmocka_unit_test_setup_teardown(test_tap_port_no_xdp, reset, tap_gone),
		T(test_harness_target),
	};

	return cmocka_run_group_tests_name("bridge", tests, group_setup, group_teardown);
}
