// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The NAT engine (bpf/lib/nat.h, ct.h, gc.h and the NAT stages of
 * pipeline.h) run with BPF_PROG_TEST_RUN on crafted frames.
 *
 * The group setup moves the test process into a network namespace of its
 * own (the host's is never touched) and builds a NAT router there:
 *
 *   guests 203.0.113.229-232 -- in0 203.0.113.2/24     (inside)
 *                               in1 10.77.0.1/24 -- 10.77.0.2   (inside)
 *                               out0 192.168.1.101/24 -- gw 192.168.1.1 (uplink)
 *
 *   default            via 192.168.1.1 (the remotes 198.51.100.x are out there)
 *   198.18.0.0/24      via 10.77.0.2 on in1 (an outside address behind an inside port)
 *
 * --snat is out0's address. The skeleton is loaded without pins and the
 * interfaces registered with their NAT roles through the real control-plane
 * code; vnat_prefixes is filled by vnat_sync__prefixes as vnat load fills
 * it. Nothing is attached: the programs only run on the frames handed to
 * them, and an XDP_REDIRECT is only a return value (see test_fwd.c).
 *
 * Every test starts from empty flow tables and the default configuration
 * (reset()); a test that needs another configuration writes it.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
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

#define GUEST_A "203.0.113.229"
#define GUEST_B "203.0.113.230"
#define GUEST_C "203.0.113.231"
#define GUEST_D "203.0.113.232"
#define LOCAL_IN "203.0.113.2"
#define SNAT "192.168.1.101"
#define REMOTE1 "198.51.100.10"
#define REMOTE2 "198.51.100.11"
#define IN1_PEER "10.77.0.2"

#define IPPROTO_GRE_ 47

static const uint8_t mac_a[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x99 };
static const uint8_t mac_b[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x98 };
static const uint8_t mac_c[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x97 };
static const uint8_t mac_d[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x96 };
static const uint8_t gw_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t in1_peer_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0x07, 0x02 };

static struct vnat_loader main_l, small_l;
static struct vnat_loader *cur; /* the loader tests run against */
static bool main_loaded, small_loaded;
static struct vnat_iface_info in0, in1, out0;

/* --- setup --------------------------------------------------------------- */

static const char *const topo[] = {
	"ip link set lo up",
	"ip link add in0 address 02:00:00:00:00:10 type veth peer name in0p "
	"address 02:00:00:00:00:11",
	"ip link add in1 address 02:00:00:00:00:40 type veth peer name in1p "
	"address 02:00:00:00:00:41",
	"ip link add out0 address 02:00:00:00:00:20 type veth peer name out0p "
	"address 02:00:00:00:00:21",
	"ip addr add " LOCAL_IN "/24 dev in0",
	"ip addr add 10.77.0.1/24 dev in1",
	"ip addr add " SNAT "/24 dev out0",
	"ip link set in0p up",
	"ip link set in1p up",
	"ip link set out0p up",
	"ip link set in0 up",
	"ip link set in1 up",
	"ip link set out0 up",
	"ip neigh replace 192.168.1.1 lladdr 02:00:00:00:01:01 dev out0 nud permanent",
	"ip neigh replace " GUEST_A " lladdr 02:00:00:00:00:99 dev in0 nud permanent",
	"ip neigh replace " GUEST_B " lladdr 02:00:00:00:00:98 dev in0 nud permanent",
	"ip neigh replace " GUEST_C " lladdr 02:00:00:00:00:97 dev in0 nud permanent",
	"ip neigh replace " GUEST_D " lladdr 02:00:00:00:00:96 dev in0 nud permanent",
	"ip neigh replace " IN1_PEER " lladdr 02:00:00:00:07:02 dev in1 nud permanent",
	"ip route add default via 192.168.1.1",
	"ip route add 198.18.0.0/24 via " IN1_PEER,
};

/* vnat load --iface in0 --iface in1 --snat 192.168.1.101, without attaching. */
static void default_config(struct vnat_config *cfg, uint32_t max_flows)
{
	/* The interval is read once, when the first flow arms the collector: fast for the GC tests. */
	nat_config_default(cfg, pkt_ip4(SNAT), max_flows, 100);
}

static int loader_up(struct vnat_loader *x, uint32_t max_flows)
{
	/* XDP targets, as NICs running vnat natively are (topo.c). */
	static const struct vnat_role inside = { .flags = VNAT_IFACE_INSIDE | VNAT_IFACE_XDP_TX };
	static const struct vnat_role outside = { .flags = VNAT_IFACE_OUTSIDE | VNAT_IFACE_XDP_TX };
	uint32_t inside_ifindexes[2] = { in0.ifindex, in1.ifindex };
	struct vnat_config cfg;

	if (vnat_loader__open(x, NULL, max_flows))
		return -1;
	default_config(&cfg, max_flows);
	if (vnat_maps__write_config(&x->maps, &cfg) ||
	    vnat_loader__register(x, &in0, VNAT_MODE_NATIVE, &inside) ||
	    vnat_loader__register(x, &in1, VNAT_MODE_NATIVE, &inside) ||
	    vnat_loader__register(x, &out0, VNAT_MODE_NATIVE, &outside) ||
	    vnat_sync__prefixes(&x->maps, inside_ifindexes, 2) < 0) {
		vnat_loader__close(x);
		return -1;
	}
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	if (netns_enter_private())
		return -1;
	if (sh_each(topo, sizeof(topo) / sizeof(topo[0])))
		return -1;
	if (sysctl_write("/proc/sys/net/ipv4/ip_forward", "1"))
		return -1;
	if (iface_resolve("in0", &in0) || iface_resolve("in1", &in1) ||
	    iface_resolve("out0", &out0))
		return -1;
	vnat_log_init(false, getenv("V") && !strcmp(getenv("V"), "1"));
	if (loader_up(&main_l, 4096))
		return -1;
	main_loaded = true;
	cur = &main_l;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (main_loaded)
		vnat_loader__close(&main_l);
	main_loaded = false;
	return 0;
}

/* --- map state ----------------------------------------------------------- */

static void write_config(const struct vnat_config *cfg)
{
	assert_int_equal(vnat_maps__write_config(&cur->maps, cfg), 0);
}

/* Empty flow tables and the default configuration, whatever the last test left. */
static int reset(void **state)
{
	struct vnat_config cfg;

	(void)state;
	cur = &main_l;
	map_flush(cur->maps.ct);
	map_flush(cur->maps.mappings);
	map_flush(cur->maps.ports);
	map_flush(cur->maps.kegress);
	map_flush(cur->maps.klibreq);
	default_config(&cfg, 4096);
	write_config(&cfg);
	return 0;
}

/* A test's own configuration: the default with a port range and filtering. */
static void set_config(uint16_t port_min, uint16_t port_max, uint8_t filtering)
{
	struct vnat_config cfg;

	assert_int_equal(vnat_maps__read_config(&cur->maps, &cfg), 0);
	cfg.port_min = port_min;
	cfg.port_max = port_max;
	cfg.filtering = filtering;
	write_config(&cfg);
}

static struct vnat_ct_key ct_key(const char *inside, uint16_t iport, const char *remote,
				 uint16_t rport, uint8_t proto)
{
	struct vnat_ct_key k;

	memset(&k, 0, sizeof(k));
	k.inside_addr = pkt_ip4(inside);
	k.remote_addr = pkt_ip4(remote);
	k.inside_port = htons(iport);
	k.remote_port = htons(rport);
	k.proto = proto;
	return k;
}

static bool ct_lookup(const char *inside, uint16_t iport, const char *remote, uint16_t rport,
		      uint8_t proto, struct vnat_ct_val *v)
{
	struct vnat_ct_key k = ct_key(inside, iport, remote, rport, proto);

	return !bpf_map_lookup_elem(cur->maps.ct, &k, v);
}

static bool mapping_lookup(const char *inside, uint16_t iport, uint8_t proto,
			   struct vnat_map_val *v)
{
	struct vnat_map_key k;

	memset(&k, 0, sizeof(k));
	k.inside_addr = pkt_ip4(inside);
	k.inside_port = htons(iport);
	k.proto = proto;
	return !bpf_map_lookup_elem(cur->maps.mappings, &k, v);
}

static bool port_lookup(uint16_t oport, uint8_t proto, struct vnat_rev_val *v)
{
	struct vnat_rev_key k;

	memset(&k, 0, sizeof(k));
	k.outside_port = htons(oport);
	k.proto = proto;
	return !bpf_map_lookup_elem(cur->maps.ports, &k, v);
}

/* The mapping inside:iport -> oport exists in both directions, held by flows flows. */
static void expect_mapping(const char *inside, uint16_t iport, uint8_t proto, uint16_t oport,
			   uint32_t flows)
{
	struct vnat_map_val m;
	struct vnat_rev_val r;

	assert_true(mapping_lookup(inside, iport, proto, &m));
	assert_int_equal(ntohs(m.outside_port), oport);
	assert_int_equal(m.flows, flows);
	assert_true(port_lookup(oport, proto, &r));
	assert_int_equal(r.inside_addr, pkt_ip4(inside));
	assert_int_equal(ntohs(r.inside_port), iport);
}

/*
 * The flow exists, translated to SNAT:oport, in state with the packets and
 * bytes counted so far, and expires timeout_s after the last packet (sent
 * between t0 and t1).
 */
static void expect_flow(const struct vnat_ct_key *k, uint16_t oport, uint8_t state,
			uint64_t pkts_out, uint64_t bytes_out, uint64_t pkts_in, uint64_t bytes_in,
			uint32_t timeout_s, uint64_t t0, uint64_t t1)
{
	uint64_t timeout = (uint64_t)timeout_s * 1000000000ull;
	struct vnat_ct_val v;

	assert_int_equal(bpf_map_lookup_elem(cur->maps.ct, k, &v), 0);
	assert_int_equal(v.outside_addr, pkt_ip4(SNAT));
	assert_int_equal(ntohs(v.outside_port), oport);
	assert_int_equal(v.state, state);
	assert_int_equal(v.flags, 0);
	assert_int_equal(v.packets_out, pkts_out);
	assert_int_equal(v.bytes_out, bytes_out);
	assert_int_equal(v.packets_in, pkts_in);
	assert_int_equal(v.bytes_in, bytes_in);
	assert_in_range(v.expires_ns, t0 + timeout, t1 + timeout);
}

static void expect_no_flow(const struct vnat_ct_key *k)
{
	struct vnat_ct_val v;

	assert_int_not_equal(bpf_map_lookup_elem(cur->maps.ct, k, &v), 0);
}

/* --- frames -------------------------------------------------------------- */

/* One frame, described by its headers; the builder fixes lengths and checksums. */
struct hdrs {
	uint8_t proto; /* IPPROTO_TCP, _UDP, _ICMP or anything else (raw payload) */
	const uint8_t *dmac, *smac;
	const char *saddr, *daddr;
	uint16_t sport, dport; /* ICMP: sport is the echo identifier */
	uint8_t ttl; /* 0: PKT_TTL_DEFAULT */
	uint8_t tos;
	uint8_t flags; /* TCP flags; ICMP type */
	uint32_t seq, ack; /* TCP; ICMP: seq is the echo sequence number */
	size_t payload;
	bool udp_no_csum; /* UDP checksum 0: "none" (RFC 768) */
};

static void build(struct pkt *p, const struct hdrs *h)
{
	struct iphdr *ip;

	pkt_init(p);
	pkt_push_eth(p, h->dmac, h->smac, ETH_P_IP);
	ip = pkt_push_ipv4(p, pkt_ip4(h->saddr), pkt_ip4(h->daddr), h->proto);
	ip->id = htons(0x1234);
	ip->ttl = h->ttl ? h->ttl : PKT_TTL_DEFAULT;
	ip->tos = h->tos;
	switch (h->proto) {
	case IPPROTO_TCP:
		pkt_push_tcp(p, h->sport, h->dport, h->seq, h->ack, h->flags);
		break;
	case IPPROTO_UDP:
		pkt_push_udp(p, h->sport, h->dport);
		break;
	case IPPROTO_ICMP:
		if (h->flags == ICMP_ECHO || h->flags == ICMP_ECHOREPLY)
			pkt_push_icmp_echo(p, h->flags, h->sport, h->seq);
		else
			pkt_push_icmp(p, h->flags, 0, 0);
		break;
	}
	pkt_push_data(p, NULL, h->payload);
	pkt_finish(p);
	if (h->proto == IPPROTO_UDP && h->udp_no_csum)
		pkt_udp(p)->check = 0;
}

/* A guest's packet as it reaches in0, addressed to the router. */
static struct hdrs from_guest(uint8_t proto, const uint8_t *mac, const char *guest, uint16_t sport,
			      const char *remote, uint16_t dport)
{
	return (struct hdrs){ .proto = proto,
			      .dmac = in0.mac,
			      .smac = mac,
			      .saddr = guest,
			      .daddr = remote,
			      .sport = sport,
			      .dport = dport,
			      .payload = 32 };
}

/* A remote's packet to the SNAT address as it reaches out0. */
static struct hdrs from_remote(uint8_t proto, const char *remote, uint16_t sport, uint16_t dport)
{
	return (struct hdrs){ .proto = proto,
			      .dmac = out0.mac,
			      .smac = gw_mac,
			      .saddr = remote,
			      .daddr = SNAT,
			      .sport = sport,
			      .dport = dport,
			      .payload = 48 };
}

/* What leaves out0 for h: routed (MACs, TTL) and the source translated to SNAT:oport. */
static void snatted(const struct hdrs *h, uint16_t oport, struct pkt *want)
{
	struct hdrs w = *h;

	w.dmac = gw_mac;
	w.smac = out0.mac;
	w.saddr = SNAT;
	w.sport = oport;
	w.ttl = (h->ttl ? h->ttl : PKT_TTL_DEFAULT) - 1;
	build(want, &w);
}

/* What leaves in0 for a reply h: routed to the guest, destination guest:iport. */
static void dnatted(const struct hdrs *h, const uint8_t *mac, const char *guest, uint16_t iport,
		    struct pkt *want)
{
	struct hdrs w = *h;

	w.dmac = mac;
	w.smac = in0.mac;
	w.daddr = guest;
	if (h->proto == IPPROTO_ICMP)
		w.sport = iport; /* the identifier */
	else
		w.dport = iport;
	w.ttl = (h->ttl ? h->ttl : PKT_TTL_DEFAULT) - 1;
	build(want, &w);
}

/* The source port (ICMP: identifier) of an output frame without IP options. */
static uint16_t out_sport(const struct run *r, uint8_t proto)
{
	const uint8_t *l4 = r->out + ETH_HLEN + sizeof(struct iphdr);
	uint16_t port;

	assert_true(r->out_len >= ETH_HLEN + sizeof(struct iphdr) + 8);
	memcpy(&port, l4 + (proto == IPPROTO_ICMP ? 4 : 0), sizeof(port));
	return ntohs(port);
}

/* Outbound on in0, translated to SNAT:oport; the rest: counters besides fwd_snat. */
#define expect_snat(h, oport, ...)                                        \
	do {                                                              \
		struct pkt in_, want_;                                    \
		build(&in_, (h));                                         \
		snatted((h), (oport), &want_);                            \
		xdp_expect(cur, in0.ifindex, &in_, XDP_REDIRECT, &want_,  \
			   C_PKT(VNAT_FWD_SNAT, in_.len), ##__VA_ARGS__); \
	} while (0)

/* A reply on out0, translated back to guest:iport. */
#define expect_dnat(h, mac, guest, iport, ...)                            \
	do {                                                              \
		struct pkt in_, want_;                                    \
		build(&in_, (h));                                         \
		dnatted((h), (mac), (guest), (iport), &want_);            \
		xdp_expect(cur, out0.ifindex, &in_, XDP_REDIRECT, &want_, \
			   C_PKT(VNAT_FWD_DNAT, in_.len), ##__VA_ARGS__); \
	} while (0)

/* Handed to the kernel unchanged, counted under reason, no flow created. */
static void expect_pass(uint32_t ifindex, const struct pkt *p, int reason)
{
	int flows = map_count(cur->maps.ct), mappings = map_count(cur->maps.mappings);

	xdp_expect(cur, ifindex, p, XDP_PASS, NULL, C_PKT(reason, p->len));
	assert_int_equal(map_count(cur->maps.ct), flows);
	assert_int_equal(map_count(cur->maps.mappings), mappings);
}

static void expect_pass_h(uint32_t ifindex, const struct hdrs *h, int reason)
{
	struct pkt p;

	build(&p, h);
	expect_pass(ifindex, &p, reason);
}

/* --- outbound and reply -------------------------------------------------- */

/* A TCP handshake and close: translated both ways, the state machine followed. */
static void test_tcp_handshake(void **state)
{
	struct hdrs syn = from_guest(IPPROTO_TCP, mac_a, GUEST_A, 43210, REMOTE1, 443);
	struct hdrs synack = from_remote(IPPROTO_TCP, REMOTE1, 443, 43210);
	struct vnat_ct_key k = ct_key(GUEST_A, 43210, REMOTE1, 443, IPPROTO_TCP);
	struct hdrs ack = syn, data = synack, fin_out = syn, fin_in = synack;
	struct pkt p1, p2, p3, p4;
	uint64_t t0, t1;

	(void)state;
	syn.flags = PKT_TCP_SYN;
	syn.seq = 1000;
	syn.payload = 0;
	build(&p1, &syn);
	t0 = now_ns();
	expect_snat(&syn, 43210, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	t1 = now_ns();
	expect_flow(&k, 43210, VNAT_TCP_SYN_SENT, 1, p1.len, 0, 0, VNAT_TIMEOUT_TCP_TRANS, t0, t1);
	expect_mapping(GUEST_A, 43210, IPPROTO_TCP, 43210, 1);

	synack.flags = PKT_TCP_SYN | PKT_TCP_ACK;
	synack.seq = 5000;
	synack.ack = 1001;
	synack.payload = 0;
	build(&p2, &synack);
	t0 = now_ns();
	expect_dnat(&synack, mac_a, GUEST_A, 43210);
	t1 = now_ns();
	expect_flow(&k, 43210, VNAT_TCP_SYN_RECV, 1, p1.len, 1, p2.len, VNAT_TIMEOUT_TCP_TRANS, t0,
		    t1);

	ack.flags = PKT_TCP_ACK;
	ack.seq = 1001;
	ack.ack = 5001;
	ack.payload = 0;
	build(&p3, &ack);
	t0 = now_ns();
	expect_snat(&ack, 43210);
	t1 = now_ns();
	expect_flow(&k, 43210, VNAT_TCP_ESTABLISHED, 2, p1.len + p3.len, 1, p2.len,
		    VNAT_TIMEOUT_TCP_EST, t0, t1);

	/* Data both ways keeps it established. */
	data.flags = PKT_TCP_ACK | PKT_TCP_PSH;
	data.seq = 5001;
	data.ack = 1001;
	data.payload = 100;
	build(&p4, &data);
	t0 = now_ns();
	expect_dnat(&data, mac_a, GUEST_A, 43210);
	t1 = now_ns();
	expect_flow(&k, 43210, VNAT_TCP_ESTABLISHED, 2, p1.len + p3.len, 2, p2.len + p4.len,
		    VNAT_TIMEOUT_TCP_EST, t0, t1);
	expect_mapping(GUEST_A, 43210, IPPROTO_TCP, 43210, 1);

	/* RFC 5382 REQ-5: FIN makes the flow transitory again. */
	fin_out.flags = PKT_TCP_FIN | PKT_TCP_ACK;
	fin_out.payload = 0;
	expect_snat(&fin_out, 43210);
	fin_in.flags = PKT_TCP_FIN | PKT_TCP_ACK;
	fin_in.payload = 0;
	expect_dnat(&fin_in, mac_a, GUEST_A, 43210);
	{
		struct vnat_ct_val v;

		assert_int_equal(bpf_map_lookup_elem(cur->maps.ct, &k, &v), 0);
		assert_int_equal(v.state, VNAT_TCP_TIME_WAIT);
		assert_int_equal(v.flags, VNAT_CT_FIN_OUT | VNAT_CT_FIN_IN);
	}
	assert_int_equal(map_count(cur->maps.ct), 1);
}

static void test_udp_roundtrip(void **state)
{
	struct hdrs out = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40000, REMOTE1, 53);
	struct hdrs reply = from_remote(IPPROTO_UDP, REMOTE1, 53, 40000);
	struct vnat_ct_key k = ct_key(GUEST_A, 40000, REMOTE1, 53, IPPROTO_UDP);
	struct pkt p1, p2;
	uint64_t t0, t1;

	(void)state;
	build(&p1, &out);
	t0 = now_ns();
	expect_snat(&out, 40000, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	t1 = now_ns();
	expect_flow(&k, 40000, VNAT_TCP_NONE, 1, p1.len, 0, 0, VNAT_TIMEOUT_UDP, t0, t1);
	expect_mapping(GUEST_A, 40000, IPPROTO_UDP, 40000, 1);

	build(&p2, &reply);
	expect_dnat(&reply, mac_a, GUEST_A, 40000);
	expect_flow(&k, 40000, VNAT_TCP_NONE, 1, p1.len, 1, p2.len, VNAT_TIMEOUT_UDP, t0, now_ns());

	/* A second datagram of the same flow: no new flow, no new mapping. */
	expect_snat(&out, 40000);
	assert_int_equal(map_count(cur->maps.ct), 1);
	assert_int_equal(map_count(cur->maps.mappings), 1);
	assert_int_equal(map_count(cur->maps.ports), 1);
}

/* RFC 768: a checksum of 0 means none and must stay 0, both ways. */
static void test_udp_no_checksum(void **state)
{
	struct hdrs out = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40002, REMOTE1, 53);
	struct hdrs reply = from_remote(IPPROTO_UDP, REMOTE1, 53, 40002);
	struct pkt p, want;
	struct run r;

	(void)state;
	out.udp_no_csum = true;
	reply.udp_no_csum = true;
	expect_snat(&out, 40002, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	expect_dnat(&reply, mac_a, GUEST_A, 40002);
	/* The expectation itself: the frames leave with checksum 0. */
	build(&p, &out);
	xdp_run(cur, in0.ifindex, &p, &r);
	snatted(&out, 40002, &want);
	assert_int_equal(pkt_udp(&want)->check, 0);
	assert_pkt_equal(r.out, r.out_len, want.data, want.len);
}

/*
 * A datagram whose translated checksum computes to 0 must carry 0xffff
 * (RFC 768), never 0, which would mean "no checksum". Search a payload
 * word that makes the translated sum come out so, on either path.
 */
static void test_udp_checksum_folds_to_ffff(void **state)
{
	struct hdrs out = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40004, REMOTE1, 53);
	struct hdrs reply = from_remote(IPPROTO_UDP, REMOTE1, 53, 40004);
	struct pkt p, want;
	uint32_t w;

	(void)state;
	out.payload = 2;
	for (w = 0; w <= 0xffff; w++) {
		snatted(&out, 40004, &want);
		memcpy(pkt_udp(&want) + 1, &(uint16_t){ htons(w) }, 2);
		pkt_fix_csums(&want);
		if (pkt_udp(&want)->check == 0xffff)
			break;
	}
	assert_true(w <= 0xffff);
	build(&p, &out);
	memcpy(pkt_udp(&p) + 1, &(uint16_t){ htons(w) }, 2);
	pkt_fix_csums(&p);
	assert_int_not_equal(pkt_udp(&p)->check, 0);
	xdp_expect(cur, in0.ifindex, &p, XDP_REDIRECT, &want, C_PKT(VNAT_FWD_SNAT, p.len),
		   C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);

	/* The reply: restored to the guest, the sum computing to 0 again. */
	reply.payload = 2;
	for (w = 0; w <= 0xffff; w++) {
		dnatted(&reply, mac_a, GUEST_A, 40004, &want);
		memcpy(pkt_udp(&want) + 1, &(uint16_t){ htons(w) }, 2);
		pkt_fix_csums(&want);
		if (pkt_udp(&want)->check == 0xffff)
			break;
	}
	assert_true(w <= 0xffff);
	build(&p, &reply);
	memcpy(pkt_udp(&p) + 1, &(uint16_t){ htons(w) }, 2);
	pkt_fix_csums(&p);
	xdp_expect(cur, out0.ifindex, &p, XDP_REDIRECT, &want, C_PKT(VNAT_FWD_DNAT, p.len));
}

/* Echo: the identifier is the "port"; outside the range it is translated. */
static void test_icmp_echo(void **state)
{
	struct hdrs req = from_guest(IPPROTO_ICMP, mac_a, GUEST_A, 0x4242, REMOTE1, 0);
	struct hdrs reply = from_remote(IPPROTO_ICMP, REMOTE1, 0, 0);
	struct counters before;
	struct vnat_ct_key k = ct_key(GUEST_A, 0x4242, REMOTE1, 0, IPPROTO_ICMP);
	struct pkt p, want;
	struct run r;
	uint64_t t0, t1;
	uint16_t id;

	(void)state;
	set_config(40000, 40009, VNAT_FILTER_APDF);
	req.flags = ICMP_ECHO;
	req.seq = 7;
	req.payload = 56;
	build(&p, &req);
	counters_read(cur, &before);
	t0 = now_ns();
	xdp_run(cur, in0.ifindex, &p, &r);
	t1 = now_ns();
	assert_int_equal(r.retval, XDP_REDIRECT);
	id = out_sport(&r, IPPROTO_ICMP);
	/* 0x4242 is outside 40000-40009: a port of the range, same parity. */
	assert_in_range(id, 40000, 40009);
	assert_int_equal(id & 1, 0x4242 & 1);
	snatted(&req, id, &want);
	expect_frame(&r, NULL, &want);
	expect_deltas(&before, C_PKT(VNAT_FWD_SNAT, p.len), C_NEW_FLOW, C_NEW_MAPPING);
	expect_mapping(GUEST_A, 0x4242, IPPROTO_ICMP, id, 1);
	expect_flow(&k, id, VNAT_TCP_NONE, 1, p.len, 0, 0, VNAT_TIMEOUT_ICMP, t0, t1);

	reply.flags = ICMP_ECHOREPLY;
	reply.sport = id;
	reply.seq = 7;
	reply.payload = 56;
	expect_dnat(&reply, mac_a, GUEST_A, 0x4242);

	/* An echo reply with another identifier, a ping to the host: not ours. */
	reply.sport = id ^ 2;
	expect_pass_h(out0.ifindex, &reply, VNAT_PASS_NO_MAPPING);
	reply.sport = id;
	reply.flags = ICMP_ECHO;
	expect_pass_h(out0.ifindex, &reply, VNAT_PASS_NO_MAPPING);
	/* The same echo again (next sequence number): the same identifier. */
	req.seq = 8;
	expect_snat(&req, id);
}

/* --- mappings ------------------------------------------------------------ */

/* RFC 4787 REQ-1 and REQ-3: one outside port per inside endpoint, kept when free. */
static void test_endpoint_independent_mapping(void **state)
{
	struct hdrs a1 = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 5000, REMOTE1, 53);
	struct hdrs a2 = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 5000, REMOTE2, 123);
	struct hdrs t = from_guest(IPPROTO_TCP, mac_a, GUEST_A, 5000, REMOTE2, 80);

	(void)state;
	expect_snat(&a1, 5000, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	/* Another destination: a new flow on the same mapping. */
	expect_snat(&a2, 5000, C_NEW_FLOW);
	expect_mapping(GUEST_A, 5000, IPPROTO_UDP, 5000, 2);
	assert_int_equal(map_count(cur->maps.ct), 2);
	/* Each remote's reply reaches the guest. */
	{
		struct hdrs r1 = from_remote(IPPROTO_UDP, REMOTE1, 53, 5000);
		struct hdrs r2 = from_remote(IPPROTO_UDP, REMOTE2, 123, 5000);

		expect_dnat(&r1, mac_a, GUEST_A, 5000);
		expect_dnat(&r2, mac_a, GUEST_A, 5000);
	}
	/* TCP ports are a space of their own: port 5000 is free there too. */
	t.flags = PKT_TCP_SYN;
	expect_snat(&t, 5000, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	expect_mapping(GUEST_A, 5000, IPPROTO_TCP, 5000, 1);
	assert_int_equal(map_count(cur->maps.ports), 2);
}

/*
 * Hosts sharing a source port: the first keeps it, the others get another
 * port of the range with the same parity (RFC 4787 REQ-4), and replies to
 * each port reach the right host.
 */
static void test_port_collision(void **state)
{
	static const struct {
		const char *ip;
		const uint8_t *mac;
	} hosts[] = {
		{ GUEST_A, mac_a }, { GUEST_B, mac_b }, { GUEST_C, mac_c }, { GUEST_D, mac_d }
	};
	static const uint16_t sports[] = { 40004, 40007 };
	uint16_t got[2][4];

	(void)state;
	set_config(40000, 40015, VNAT_FILTER_APDF);
	for (size_t s = 0; s < 2; s++) {
		for (size_t i = 0; i < 4; i++) {
			struct hdrs h = from_guest(IPPROTO_UDP, hosts[i].mac, hosts[i].ip,
						   sports[s], REMOTE1, 53);
			struct counters before;
			struct pkt p, want;
			struct run r;

			build(&p, &h);
			counters_read(cur, &before);
			xdp_run(cur, in0.ifindex, &p, &r);
			assert_int_equal(r.retval, XDP_REDIRECT);
			got[s][i] = out_sport(&r, IPPROTO_UDP);
			snatted(&h, got[s][i], &want);
			expect_frame(&r, NULL, &want);
			if (i == 0) {
				assert_int_equal(got[s][i], sports[s]);
				expect_deltas(&before, C_PKT(VNAT_FWD_SNAT, p.len), C_NEW_FLOW,
					      C_NEW_MAPPING, C_PORT_KEPT);
			} else {
				expect_deltas(&before, C_PKT(VNAT_FWD_SNAT, p.len), C_NEW_FLOW,
					      C_NEW_MAPPING);
			}
			assert_in_range(got[s][i], 40000, 40015);
			assert_int_equal(got[s][i] & 1, sports[s] & 1);
			for (size_t j = 0; j < i; j++)
				assert_int_not_equal(got[s][i], got[s][j]);
			expect_mapping(hosts[i].ip, sports[s], IPPROTO_UDP, got[s][i], 1);
		}
	}
	/* All eight coexist; each reply goes to its own host and port. */
	assert_int_equal(map_count(cur->maps.mappings), 8);
	assert_int_equal(map_count(cur->maps.ports), 8);
	for (size_t s = 0; s < 2; s++) {
		for (size_t i = 0; i < 4; i++) {
			struct hdrs r = from_remote(IPPROTO_UDP, REMOTE1, 53, got[s][i]);

			expect_dnat(&r, hosts[i].mac, hosts[i].ip, sports[s]);
		}
	}
}

/* --- exclusions ---------------------------------------------------------- */

/* Routed as without NAT: MACs and TTL only, nothing tracked. */
static void expect_routed(const struct hdrs *h, const uint8_t *dmac, const uint8_t *smac)
{
	struct hdrs w = *h;
	struct pkt p, want;

	w.dmac = dmac;
	w.smac = smac;
	w.ttl = PKT_TTL_DEFAULT - 1;
	build(&p, h);
	build(&want, &w);
	xdp_expect(cur, in0.ifindex, &p, XDP_REDIRECT, &want, C_PKT(VNAT_FWD_ROUTED, p.len));
	assert_int_equal(map_count(cur->maps.ct), 0);
	assert_int_equal(map_count(cur->maps.mappings), 0);
}

static void test_exempt_inside_destination(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40000, IN1_PEER, 53);
	struct hdrs hp = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40000, GUEST_B, 53);

	(void)state;
	/* To another inside prefix (in1's): routed, not translated. */
	expect_routed(&h, in1_peer_mac, in1.mac);
	/* To a guest on the same segment: hairpinned, not translated. */
	{
		struct hdrs w = hp;
		struct pkt p, want;

		w.dmac = mac_b;
		w.smac = in0.mac;
		w.ttl = PKT_TTL_DEFAULT - 1;
		build(&p, &hp);
		build(&want, &w);
		xdp_expect(cur, in0.ifindex, &p, XDP_REDIRECT, &want,
			   C_PKT(VNAT_FWD_SAME_SEGMENT, p.len));
	}
	assert_int_equal(map_count(cur->maps.ct), 0);
}

/*
 * libvirt's RETURN rules: never masquerade to 224.0.0.0/24 or the limited
 * broadcast. The kernel never forwards either (ip_route_input() takes them
 * as local or broadcast before any route: `ip route get 224.0.0.1 from
 * GUEST iif in0` says "multicast ... dev lo"), so they are handed to it
 * untranslated, as pass_not_unicast,
 * even with the default route bpf_fib_lookup() would match them against.
 * Such frames normally carry a group MAC (pass_not_to_us); a guest can
 * still send them to the router's MAC.
 */
static void test_exempt_multicast_broadcast(void **state)
{
	static const char *const dsts[] = { "224.0.0.251", "224.0.0.1", "255.255.255.255" };

	(void)state;
	for (size_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 5353, dsts[i], 5353);

		expect_pass_h(in0.ifindex, &h, VNAT_PASS_NOT_UNICAST);
	}
	assert_int_equal(map_count(cur->maps.ct), 0);
}

/* A source outside the inside prefixes is routed, untranslated. */
/*
 * A source outside the inside prefixes on an inside interface (spoofed, or
 * a guest router's other networks) is neither translated nor routed past
 * the host's rules, on either hook: the kernel decides, no flow is made.
 */
static void test_exempt_source_not_inside(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, "10.55.0.9", 40000, REMOTE1, 53);
	struct hdrs t = from_guest(IPPROTO_TCP, mac_a, "100.64.1.1", 40000, REMOTE1, 443);
	struct pkt p;

	(void)state;
	t.flags = PKT_TCP_SYN;
	for (int i = 0; i < 2; i++) {
		build(&p, i ? &t : &h);
		xdp_expect(cur, in0.ifindex, &p, XDP_PASS, NULL,
			   C_PKT(VNAT_PASS_FOREIGN_SOURCE, p.len));
		tc_ingress_expect(cur, in0.ifindex, &p, TC_ACT_OK, NULL,
				  C_PKT(VNAT_PASS_FOREIGN_SOURCE, p.len));
	}
	assert_int_equal(map_count(cur->maps.ct), 0);
}

/* The host's own addresses (the SNAT address included) are the kernel's. */
static void test_exempt_host_destination(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40000, SNAT, 53);
	struct hdrs l = from_guest(IPPROTO_TCP, mac_a, GUEST_A, 40000, LOCAL_IN, 22);
	struct hdrs i1 = from_guest(IPPROTO_ICMP, mac_a, GUEST_A, 0x77, "10.77.0.1", 0);

	(void)state;
	expect_pass_h(in0.ifindex, &h, VNAT_PASS_LOCAL);
	l.flags = PKT_TCP_SYN;
	expect_pass_h(in0.ifindex, &l, VNAT_PASS_LOCAL);
	i1.flags = ICMP_ECHO;
	expect_pass_h(in0.ifindex, &i1, VNAT_PASS_LOCAL);
}

/* An outside address whose route leaves through an inside interface: routed only. */
static void test_exempt_route_not_via_uplink(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40000, "198.18.0.5", 53);
	struct hdrs t = from_guest(IPPROTO_TCP, mac_a, GUEST_A, 40000, "198.18.0.5", 443);

	(void)state;
	expect_routed(&h, in1_peer_mac, in1.mac);
	t.flags = PKT_TCP_SYN;
	expect_routed(&t, in1_peer_mac, in1.mac);
}

/* GRE, and ICMP other than echo: not translated, handed to the kernel. */
static void test_exempt_protocols(void **state)
{
	static const uint8_t icmp_types[] = { ICMP_TIMESTAMP, ICMP_ECHOREPLY, ICMP_INFO_REQUEST,
					      ICMP_ADDRESS };
	static const uint8_t icmp_errors[] = { ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED,
					       ICMP_PARAMETERPROB };
	struct hdrs gre = from_guest(IPPROTO_GRE_, mac_a, GUEST_A, 0, REMOTE1, 0);
	struct hdrs gre_in = from_remote(IPPROTO_GRE_, REMOTE1, 0, 0);
	struct hdrs quoted = from_remote(IPPROTO_UDP, REMOTE1, 53, 40000);

	(void)state;
	expect_pass_h(in0.ifindex, &gre, VNAT_PASS_NAT_PROTO);
	expect_pass_h(out0.ifindex, &gre_in, VNAT_PASS_NAT_PROTO);
	for (size_t i = 0; i < sizeof(icmp_types); i++) {
		struct hdrs h = from_guest(IPPROTO_ICMP, mac_a, GUEST_A, 0x99, REMOTE1, 0);

		h.flags = icmp_types[i];
		expect_pass_h(in0.ifindex, &h, VNAT_PASS_NAT_PROTO);
	}
	/* Errors (RFC 5508) about a datagram of no flow vnat tracks are the host's. */
	quoted.daddr = GUEST_A;
	for (size_t i = 0; i < sizeof(icmp_errors); i++) {
		struct pkt inner, p;

		build(&inner, &quoted);
		pkt_init(&p);
		pkt_push_eth(&p, in0.mac, mac_a, ETH_P_IP);
		pkt_push_ipv4(&p, pkt_ip4(GUEST_A), pkt_ip4(REMOTE1), IPPROTO_ICMP);
		pkt_push_icmp(&p, icmp_errors[i], 3, 0);
		pkt_push_data(&p, pkt_l3(&inner), sizeof(struct iphdr) + 8);
		pkt_finish(&p);
		expect_pass(in0.ifindex, &p, VNAT_PASS_ICMP_ERROR);
	}
	assert_int_equal(map_count(cur->maps.ct), 0);
}

/* --- ICMP errors (RFC 5508) --------------------------------------------- */

/* The errors translated both ways: type, code and the second header word. */
static const struct {
	uint8_t type, code;
	uint32_t rest;
} icmp_error_kinds[] = {
	{ ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0 },   { ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0 },
	{ ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400 }, /* path MTU discovery */
	{ ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0 }, /* traceroute */
	{ ICMP_PARAMETERPROB, 0, 20u << 24 }, /* pointer to the offending octet */
};

/*
 * An ICMP error frame from src to dst whose body quotes the whole IP
 * datagram of *quoted (so every inner checksum can be verified).
 */
static void icmp_error(struct pkt *p, const uint8_t *dmac, const uint8_t *smac, const char *src,
		       const char *dst, uint8_t ttl, unsigned int kind, const struct hdrs *quoted)
{
	struct pkt inner;
	struct iphdr *ip;

	build(&inner, quoted);
	pkt_init(p);
	pkt_push_eth(p, dmac, smac, ETH_P_IP);
	ip = pkt_push_ipv4(p, pkt_ip4(src), pkt_ip4(dst), IPPROTO_ICMP);
	ip->ttl = ttl;
	pkt_push_icmp(p, icmp_error_kinds[kind].type, icmp_error_kinds[kind].code,
		      icmp_error_kinds[kind].rest);
	pkt_push_data(p, pkt_l3(&inner), pkt_l3_len(&inner));
	pkt_finish(p);
}

/*
 * An error of kind k from REMOTE1 quoting *sent (the datagram as it left
 * the uplink) must reach the guest (mac) quoting *orig, the datagram as the
 * guest sent it; both quotes carry the TTL it left the router with.
 */
static void expect_error_delivered(unsigned int k, const struct hdrs *sent, const uint8_t *mac,
				   const struct hdrs *orig)
{
	struct hdrs qs = *sent, qo = *orig;
	struct pkt in, want;

	qs.ttl = qo.ttl = PKT_TTL_DEFAULT - 1;
	icmp_error(&in, out0.mac, gw_mac, REMOTE1, SNAT, 64, k, &qs);
	icmp_error(&want, mac, in0.mac, REMOTE1, orig->saddr, 63, k, &qo);
	xdp_expect(cur, out0.ifindex, &in, XDP_REDIRECT, &want, C_PKT(VNAT_FWD_ICMP_ERROR, in.len));
}

/*
 * From outside, about a datagram vnat translated: delivered to the guest
 * with the quote restored to the guest's own address and port (B's flow
 * was moved off its port by A's, so the port is restored too), TTL and
 * every checksum (outer IP, ICMP, quoted IP, quoted UDP/TCP) right.
 */
static void test_icmp_errors_inbound(void **state)
{
	static const uint8_t protos[] = { IPPROTO_UDP, IPPROTO_TCP };

	(void)state;
	for (size_t i = 0; i < sizeof(protos); i++) {
		struct hdrs a = from_guest(protos[i], mac_a, GUEST_A, 40700, REMOTE1, 53);
		struct hdrs b = from_guest(protos[i], mac_b, GUEST_B, 40700, REMOTE1, 53);
		struct vnat_map_val m;
		uint16_t bport;

		a.flags = b.flags = PKT_TCP_SYN;
		expect_snat(&a, 40700, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
		{
			struct pkt in;
			struct run r;

			build(&in, &b);
			xdp_run(cur, in0.ifindex, &in, &r);
			assert_int_equal(r.retval, XDP_REDIRECT);
		}
		assert_true(mapping_lookup(GUEST_B, 40700, protos[i], &m));
		bport = ntohs(m.outside_port);
		assert_int_not_equal(bport, 40700);
		for (unsigned int k = 0; k < sizeof(icmp_error_kinds) / sizeof(icmp_error_kinds[0]);
		     k++) {
			/* What left for the remote, as the remote quotes it back. */
			struct hdrs qa = a, qb = b;

			qa.saddr = qb.saddr = SNAT;
			qb.sport = bport;
			expect_error_delivered(k, &qa, mac_a, &a);
			expect_error_delivered(k, &qb, mac_b, &b);
		}
	}
}

/*
 * From a guest, about a datagram vnat delivered to it (REQ-4): the outer
 * source becomes the SNAT address and the quoted destination the flow's
 * outside address and port.
 */
static void test_icmp_errors_outbound(void **state)
{
	struct hdrs a = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40710, REMOTE1, 53);
	struct hdrs b = from_guest(IPPROTO_UDP, mac_b, GUEST_B, 40710, REMOTE1, 53);
	struct vnat_map_val m;
	struct pkt in, want;
	struct run r;
	uint16_t bport;

	(void)state;
	expect_snat(&a, 40710, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	build(&in, &b);
	xdp_run(cur, in0.ifindex, &in, &r);
	assert_int_equal(r.retval, XDP_REDIRECT);
	assert_true(mapping_lookup(GUEST_B, 40710, IPPROTO_UDP, &m));
	bport = ntohs(m.outside_port);
	for (unsigned int k = 0; k < sizeof(icmp_error_kinds) / sizeof(icmp_error_kinds[0]); k++) {
		/* The reply as B received it (translated back), quoted by B. */
		struct hdrs got = from_remote(IPPROTO_UDP, REMOTE1, 53, 40710);
		struct hdrs sent = from_remote(IPPROTO_UDP, REMOTE1, 53, bport);

		got.daddr = GUEST_B;
		got.ttl = sent.ttl = PKT_TTL_DEFAULT - 1;
		icmp_error(&in, in0.mac, mac_b, GUEST_B, REMOTE1, 64, k, &got);
		icmp_error(&want, gw_mac, out0.mac, SNAT, REMOTE1, 63, k, &sent);
		xdp_expect(cur, in0.ifindex, &in, XDP_REDIRECT, &want,
			   C_PKT(VNAT_FWD_ICMP_ERROR, in.len));
	}
}

/*
 * An error for a guest XDP cannot reach (its neighbour entry gone): left
 * to the kernel exactly as it came, never half-translated.
 */
static void test_icmp_error_inbound_no_neigh(void **state)
{
	struct hdrs a = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40720, REMOTE1, 53);
	struct hdrs qa = a;
	struct pkt in;

	(void)state;
	expect_snat(&a, 40720, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	assert_int_equal(sh("ip neigh del " GUEST_A " dev in0"), 0);
	assert_int_equal(vnat_maps__bump_gen(&cur->maps), 0);
	qa.saddr = SNAT;
	qa.ttl = PKT_TTL_DEFAULT - 1;
	icmp_error(&in, out0.mac, gw_mac, REMOTE1, SNAT, 64, 0, &qa);
	expect_pass(out0.ifindex, &in, VNAT_PASS_NO_NEIGH);
}

/*
 * The same errors on the tc path, which veths and taps run by default: the
 * quote's rewrite is checksum-neutral within the ICMP message, so tc makes
 * it in place as XDP does. Both directions, every kind, a TCP flow.
 */
static void test_icmp_errors_tc(void **state)
{
	struct hdrs a = from_guest(IPPROTO_TCP, mac_a, GUEST_A, 40730, REMOTE1, 53);
	struct pkt in, want;

	(void)state;
	a.flags = PKT_TCP_SYN;
	expect_snat(&a, 40730, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	for (unsigned int k = 0; k < sizeof(icmp_error_kinds) / sizeof(icmp_error_kinds[0]); k++) {
		struct hdrs sent = a, orig = a;
		struct hdrs got = from_remote(IPPROTO_TCP, REMOTE1, 53, 40730);
		struct hdrs back = from_remote(IPPROTO_TCP, REMOTE1, 53, 40730);

		/* Inbound: about the segment that left the uplink. */
		sent.saddr = SNAT;
		sent.ttl = orig.ttl = PKT_TTL_DEFAULT - 1;
		icmp_error(&in, out0.mac, gw_mac, REMOTE1, SNAT, 64, k, &sent);
		icmp_error(&want, mac_a, in0.mac, REMOTE1, GUEST_A, 63, k, &orig);
		tc_ingress_expect(cur, out0.ifindex, &in, TC_ACT_REDIRECT, &want,
				  C_PKT(VNAT_FWD_ICMP_ERROR_TC, in.len));
		assert_pkt_csums_ok(want.data, want.len);
		/* Outbound: the guest's error about a reply vnat delivered. */
		got.daddr = GUEST_A;
		got.ttl = back.ttl = PKT_TTL_DEFAULT - 1;
		icmp_error(&in, in0.mac, mac_a, GUEST_A, REMOTE1, 64, k, &got);
		icmp_error(&want, gw_mac, out0.mac, SNAT, REMOTE1, 63, k, &back);
		tc_ingress_expect(cur, in0.ifindex, &in, TC_ACT_REDIRECT, &want,
				  C_PKT(VNAT_FWD_ICMP_ERROR_TC, in.len));
	}
}

/* The partial form of an IPv4 datagram's UDP checksum: its pseudo-header sum. */
static void udp_csum_partial(struct pkt *datagram)
{
	struct iphdr *ip = pkt_l3(datagram);
	struct udphdr *u = (void *)(ip + 1);
	uint32_t sum = 0;
	uint16_t w[6];

	memcpy(w, &ip->saddr, 8);
	w[4] = htons(IPPROTO_UDP);
	w[5] = htons(ntohs(ip->tot_len) - sizeof(*ip));
	for (int i = 0; i < 6; i++)
		sum += w[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	u->check = (uint16_t)sum;
}

/*
 * A guest that sends with checksum offload (the default on veths and
 * virtio) puts only the pseudo-header sum in its datagrams; an error
 * quoting one comes back with that partial form for the outside address,
 * and reaches the guest with the partial form for its own address (not
 * moved the wrong way by full-checksum arithmetic). Outer IP and ICMP
 * checksums complete.
 */
static void test_icmp_error_quote_partial(void **state)
{
	struct hdrs a = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40735, REMOTE1, 53);
	struct hdrs qs = a, qo = a;
	struct pkt inner, in, want;

	(void)state;
	expect_snat(&a, 40735, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	qs.saddr = SNAT;
	qs.ttl = qo.ttl = PKT_TTL_DEFAULT - 1;
	build(&inner, &qs);
	udp_csum_partial(&inner);
	pkt_init(&in);
	pkt_push_eth(&in, out0.mac, gw_mac, ETH_P_IP);
	pkt_push_ipv4(&in, pkt_ip4(REMOTE1), pkt_ip4(SNAT), IPPROTO_ICMP)->ttl = 64;
	pkt_push_icmp(&in, 3, 3, 0);
	pkt_push_data(&in, pkt_l3(&inner), pkt_l3_len(&inner));
	pkt_finish(&in);
	build(&inner, &qo);
	udp_csum_partial(&inner);
	pkt_init(&want);
	pkt_push_eth(&want, mac_a, in0.mac, ETH_P_IP);
	pkt_push_ipv4(&want, pkt_ip4(REMOTE1), pkt_ip4(GUEST_A), IPPROTO_ICMP)->ttl = 63;
	pkt_push_icmp(&want, 3, 3, 0);
	pkt_push_data(&want, pkt_l3(&inner), pkt_l3_len(&inner));
	pkt_finish(&want);
	/* Byte for byte (assert_pkt_csums_ok would take the partial quote for a bad one). */
	{
		struct run r;

		xdp_run(cur, out0.ifindex, &in, &r);
		assert_int_equal(r.retval, XDP_REDIRECT);
		assert_pkt_equal(r.out, r.out_len, want.data, want.len);
	}
}

/*
 * RFC 4787 REQ-9 hairpinning on both hooks: guest B sending to guest A's
 * outside endpoint reaches A from B's own outside endpoint, both sides
 * rewritten with every checksum right (EIF: A's mapping admits B).
 */
static void test_hairpin(void **state)
{
	struct hdrs a = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40740, REMOTE1, 53);
	struct hdrs b = from_guest(IPPROTO_UDP, mac_b, GUEST_B, 40741, SNAT, 40740);
	struct hdrs got = b;
	struct pkt in, want;

	(void)state;
	set_config(VNAT_PORT_MIN, VNAT_PORT_MAX, VNAT_FILTER_EIF);
	expect_snat(&a, 40740, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	got.dmac = mac_a;
	got.smac = in0.mac;
	got.saddr = SNAT;
	got.daddr = GUEST_A;
	got.ttl = PKT_TTL_DEFAULT - 1;
	build(&in, &b);
	build(&want, &got);
	/* B's new flow and mapping (its port kept), and A's flow admitting B. */
	xdp_expect(cur, in0.ifindex, &in, XDP_REDIRECT, &want, C_PKT(VNAT_FWD_HAIRPIN, in.len),
		   ((struct delta){ VNAT_NAT_NEW_FLOW, 2, 0 }), C_NEW_MAPPING, C_PORT_KEPT);
	assert_pkt_csums_ok(want.data, want.len);
	tc_ingress_expect(cur, in0.ifindex, &in, TC_ACT_REDIRECT, &want,
			  C_PKT(VNAT_FWD_HAIRPIN_TC, in.len));
}

/* --- inbound filtering (RFC 4787 REQ-8) ---------------------------------- */

static void test_inbound_no_mapping(void **state)
{
	struct hdrs u = from_remote(IPPROTO_UDP, REMOTE1, 53, 33333);
	struct hdrs t = from_remote(IPPROTO_TCP, REMOTE1, 443, 22);
	struct hdrs out = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 33333, REMOTE1, 53);

	(void)state;
	expect_pass_h(out0.ifindex, &u, VNAT_PASS_NO_MAPPING);
	t.flags = PKT_TCP_SYN;
	expect_pass_h(out0.ifindex, &t, VNAT_PASS_NO_MAPPING);
	/* The port mapped for UDP is still unmapped for TCP. */
	expect_snat(&out, 33333, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	t.dport = 33333;
	expect_pass_h(out0.ifindex, &t, VNAT_PASS_NO_MAPPING);
}

/* Address and port dependent (the default): only the remote endpoint the guest talked to. */
static void test_inbound_apdf(void **state)
{
	struct hdrs out = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 41000, REMOTE1, 53);
	struct hdrs other_addr = from_remote(IPPROTO_UDP, REMOTE2, 53, 41000);
	struct hdrs other_port = from_remote(IPPROTO_UDP, REMOTE1, 54, 41000);
	struct hdrs ok = from_remote(IPPROTO_UDP, REMOTE1, 53, 41000);

	(void)state;
	expect_snat(&out, 41000, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	expect_pass_h(out0.ifindex, &other_addr, VNAT_PASS_FILTERED);
	expect_pass_h(out0.ifindex, &other_port, VNAT_PASS_FILTERED);
	expect_dnat(&ok, mac_a, GUEST_A, 41000);
	expect_mapping(GUEST_A, 41000, IPPROTO_UDP, 41000, 1);
	assert_int_equal(map_count(cur->maps.ct), 1);
}

/* Address dependent: any port of an address the guest talked to. */
static void test_inbound_adf(void **state)
{
	struct hdrs out = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 41002, REMOTE1, 53);
	struct hdrs other_port = from_remote(IPPROTO_UDP, REMOTE1, 999, 41002);
	struct hdrs other_addr = from_remote(IPPROTO_UDP, REMOTE2, 53, 41002);
	struct vnat_ct_key k = ct_key(GUEST_A, 41002, REMOTE1, 999, IPPROTO_UDP);
	struct vnat_ct_key ak = ct_key(GUEST_A, 41002, REMOTE1, 0, IPPROTO_UDP);
	struct vnat_ct_val v;
	struct pkt p;
	uint64_t t0, t1;

	(void)state;
	ak.pad[0] = VNAT_CT_KEY_ADDR; /* address records have their own key space */
	set_config(VNAT_PORT_MIN, VNAT_PORT_MAX, VNAT_FILTER_ADF);
	expect_snat(&out, 41002, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	/* The address record, apart from the flow. */
	assert_int_equal(bpf_map_lookup_elem(cur->maps.ct, &ak, &v), 0);
	assert_int_equal(v.flags, VNAT_CT_ADDR_ENTRY);
	assert_int_equal(ntohs(v.outside_port), 41002);

	expect_pass_h(out0.ifindex, &other_addr, VNAT_PASS_FILTERED);
	build(&p, &other_port);
	t0 = now_ns();
	expect_dnat(&other_port, mac_a, GUEST_A, 41002, C_NEW_FLOW);
	t1 = now_ns();
	/* Admitted as a flow of the same mapping. */
	expect_flow(&k, 41002, VNAT_TCP_NONE, 0, 0, 1, p.len, VNAT_TIMEOUT_UDP, t0, t1);
	expect_mapping(GUEST_A, 41002, IPPROTO_UDP, 41002, 2);
	/* And the guest's answer to it goes out on the same port. */
	{
		struct hdrs back = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 41002, REMOTE1, 999);

		expect_snat(&back, 41002);
	}
	expect_pass_h(out0.ifindex, &other_addr, VNAT_PASS_FILTERED);
}

/* Endpoint independent: anyone may send to a mapped port. */
static void test_inbound_eif(void **state)
{
	struct hdrs out = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 41004, REMOTE1, 53);
	struct hdrs anyone = from_remote(IPPROTO_UDP, "198.51.100.99", 7777, 41004);
	struct hdrs unmapped = from_remote(IPPROTO_UDP, "198.51.100.99", 7777, 41006);
	struct vnat_ct_key k = ct_key(GUEST_A, 41004, "198.51.100.99", 7777, IPPROTO_UDP);
	struct vnat_ct_val v;

	(void)state;
	set_config(VNAT_PORT_MIN, VNAT_PORT_MAX, VNAT_FILTER_EIF);
	expect_snat(&out, 41004, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	expect_dnat(&anyone, mac_a, GUEST_A, 41004, C_NEW_FLOW);
	assert_int_equal(bpf_map_lookup_elem(cur->maps.ct, &k, &v), 0);
	assert_int_equal(v.packets_in, 1);
	expect_mapping(GUEST_A, 41004, IPPROTO_UDP, 41004, 2);
	expect_pass_h(out0.ifindex, &unmapped, VNAT_PASS_NO_MAPPING);
}

/*
 * EIF admits a remote's SYN to a mapped TCP port (RFC 5382 allows it; it
 * is how TCP hole punching works). Once the guest answers and the remote
 * acknowledges, the connection is established and must get the
 * established timeout (RFC 5382 REQ-5: at least 2 h 4 min), not the
 * transitory one.
 */
static void test_inbound_eif_tcp_open(void **state)
{
	struct hdrs syn_out = from_guest(IPPROTO_TCP, mac_a, GUEST_A, 43500, REMOTE1, 443);
	struct hdrs syn_in = from_remote(IPPROTO_TCP, REMOTE2, 5555, 43500);
	struct hdrs synack_out = from_guest(IPPROTO_TCP, mac_a, GUEST_A, 43500, REMOTE2, 5555);
	struct hdrs ack_in = syn_in;
	struct vnat_ct_key k = ct_key(GUEST_A, 43500, REMOTE2, 5555, IPPROTO_TCP);
	struct vnat_ct_val v;
	uint64_t t0;

	(void)state;
	set_config(VNAT_PORT_MIN, VNAT_PORT_MAX, VNAT_FILTER_EIF);
	syn_out.flags = PKT_TCP_SYN;
	syn_out.payload = 0;
	expect_snat(&syn_out, 43500, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	syn_in.flags = PKT_TCP_SYN;
	syn_in.payload = 0;
	expect_dnat(&syn_in, mac_a, GUEST_A, 43500, C_NEW_FLOW);
	synack_out.flags = PKT_TCP_SYN | PKT_TCP_ACK;
	synack_out.payload = 0;
	expect_snat(&synack_out, 43500);
	ack_in.flags = PKT_TCP_ACK;
	ack_in.payload = 0;
	t0 = now_ns();
	expect_dnat(&ack_in, mac_a, GUEST_A, 43500);
	assert_int_equal(bpf_map_lookup_elem(cur->maps.ct, &k, &v), 0);
	if (v.state != VNAT_TCP_ESTABLISHED)
		print_error("inbound-opened flow in state %u after the handshake, want %u\n",
			    v.state, VNAT_TCP_ESTABLISHED);
	assert_int_equal(v.state, VNAT_TCP_ESTABLISHED);
	assert_true(v.expires_ns >= t0 + (uint64_t)VNAT_TIMEOUT_TCP_EST * 1000000000ull);
}

/* --- not translated ------------------------------------------------------ */

/* The L4 header cut short: never translated, frame unchanged (pass_malformed). */
static void test_truncated_l4(void **state)
{
	static const struct {
		uint8_t proto;
		size_t keep; /* bytes of the L4 header the datagram holds */
	} cases[] = { { IPPROTO_TCP, 10 },
		      { IPPROTO_TCP, 19 },
		      { IPPROTO_UDP, 4 },
		      { IPPROTO_UDP, 7 },
		      { IPPROTO_ICMP, 6 } };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hdrs h = from_guest(cases[i].proto, mac_a, GUEST_A, 40010, REMOTE1, 53);
		struct pkt p;

		h.flags = cases[i].proto == IPPROTO_TCP ? PKT_TCP_SYN : ICMP_ECHO;
		h.payload = 0;
		build(&p, &h);
		pkt_ip(&p)->tot_len = htons(sizeof(struct iphdr) + cases[i].keep);
		pkt_truncate(&p, ETH_HLEN + sizeof(struct iphdr) + cases[i].keep);
		pkt_ip(&p)->check = pkt_ipv4_csum(pkt_ip(&p));
		expect_pass(in0.ifindex, &p, VNAT_PASS_MALFORMED);
		assert_int_equal(map_count(cur->maps.ct), 0);
	}
	/* Inbound too: a reply cut short is not restored. */
	{
		struct hdrs h = from_remote(IPPROTO_UDP, REMOTE1, 53, 40010);
		struct pkt p;

		h.payload = 0;
		build(&p, &h);
		pkt_ip(&p)->tot_len = htons(sizeof(struct iphdr) + 4);
		pkt_truncate(&p, ETH_HLEN + sizeof(struct iphdr) + 4);
		pkt_ip(&p)->check = pkt_ipv4_csum(pkt_ip(&p));
		expect_pass(out0.ifindex, &p, VNAT_PASS_MALFORMED);
	}
}

/*
 * The same short datagrams in minimum-size Ethernet frames: the NIC hands
 * XDP all 60 bytes, padding included. The IP total length, not the frame,
 * says where the datagram ends: padding is no transport header (the kernel
 * trims it, pskb_trim_rcsum(), and then finds the header incomplete).
 */
static void expect_padded_short_l4(uint8_t proto, size_t keep)
{
	struct hdrs h = from_guest(proto, mac_a, GUEST_A, 40012, REMOTE1, 53);
	size_t end = ETH_HLEN + sizeof(struct iphdr) + keep;
	struct pkt p;

	h.flags = proto == IPPROTO_TCP ? PKT_TCP_SYN : ICMP_ECHO;
	h.payload = 0;
	build(&p, &h);
	pkt_ip(&p)->tot_len = htons(sizeof(struct iphdr) + keep);
	pkt_ip(&p)->check = pkt_ipv4_csum(pkt_ip(&p));
	pkt_truncate(&p, end);
	/* Padding is whatever the sender left there; here the rest of the header. */
	p.len = 60;
	expect_pass(in0.ifindex, &p, VNAT_PASS_MALFORMED);
}

static void test_truncated_udp_padded(void **state)
{
	(void)state;
	expect_padded_short_l4(IPPROTO_UDP, 4);
}

static void test_truncated_tcp_padded(void **state)
{
	(void)state;
	expect_padded_short_l4(IPPROTO_TCP, 10);
}

static void test_truncated_icmp_padded(void **state)
{
	(void)state;
	expect_padded_short_l4(IPPROTO_ICMP, 4);
}

/* TCP vnat never saw open stays on the kernel path (its conntrack knows it). */
static void test_tcp_mid_stream(void **state)
{
	static const uint8_t flags[] = { PKT_TCP_ACK, PKT_TCP_ACK | PKT_TCP_PSH,
					 PKT_TCP_SYN | PKT_TCP_ACK, PKT_TCP_FIN | PKT_TCP_ACK,
					 PKT_TCP_RST };

	(void)state;
	for (size_t i = 0; i < sizeof(flags); i++) {
		struct hdrs h = from_guest(IPPROTO_TCP, mac_a, GUEST_A, 43300, REMOTE1, 443);

		h.flags = flags[i];
		h.seq = 123456;
		h.ack = 654321;
		expect_pass_h(in0.ifindex, &h, VNAT_PASS_NAT_UNTRACKED);
	}
	{
		struct vnat_ct_key k = ct_key(GUEST_A, 43300, REMOTE1, 443, IPPROTO_TCP);

		expect_no_flow(&k);
	}
	assert_int_equal(map_count(cur->maps.ct), 0);
	assert_int_equal(map_count(cur->maps.mappings), 0);
	assert_int_equal(map_count(cur->maps.ports), 0);
}

/* --- invalid headers (issue 10: what conntrack calls invalid) ------------ */

/* The UDP length field of p; 0xffff: one more than the datagram carries. */
static void udp_len_set(struct pkt *p, uint16_t len)
{
	struct iphdr *ip = pkt_ip(p);

	if (len == 0xffff)
		len = ntohs(ip->tot_len) - sizeof(*ip) + 1;
	((struct udphdr *)(ip + 1))->len = htons(len);
}

/* p is handed to the kernel as it came by both hooks, counted pass_invalid. */
static void expect_invalid(uint32_t ifindex, const struct pkt *p)
{
	xdp_expect(cur, ifindex, p, XDP_PASS, NULL, C_PKT(VNAT_PASS_INVALID, p->len));
	tc_ingress_expect(cur, ifindex, p, TC_ACT_OK, NULL, C_PKT(VNAT_PASS_INVALID, p->len));
}

/*
 * On established flows, what the kernel's conntrack marks invalid is
 * neither translated nor transmitted, whichever hook and direction: UDP
 * lengths below the header or past the datagram, TCP data offsets below
 * the header or past the segment, flag combinations no stack sends (as
 * the kernel's tcp_valid_flags lists them), and an ICMP error whose ICMP
 * checksum is wrong (RFC 5508 REQ-3). The flows keep their counts.
 */
static void test_invalid_headers(void **state)
{
	/* 0xffff: one past what the datagram carries (set below per packet). */
	static const uint16_t udp_lens[] = { 0, 7, 0xffff };
	static const uint8_t doffs[] = { 0, 4, 15 };
	static const uint8_t flags[] = { PKT_TCP_SYN | PKT_TCP_FIN,
					 PKT_TCP_SYN | PKT_TCP_RST,
					 0,
					 0x3f,
					 PKT_TCP_FIN,
					 PKT_TCP_PSH };
	struct hdrs u = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40750, REMOTE1, 53);
	struct hdrs t = from_guest(IPPROTO_TCP, mac_a, GUEST_A, 40751, REMOTE1, 80);
	struct hdrs r = from_remote(IPPROTO_UDP, REMOTE1, 53, 40750);
	struct vnat_ct_val before, after;
	struct pkt p;

	(void)state;
	expect_snat(&u, 40750, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	t.flags = PKT_TCP_SYN;
	expect_snat(&t, 40751, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	assert_true(ct_lookup(GUEST_A, 40750, REMOTE1, 53, IPPROTO_UDP, &before));
	for (size_t i = 0; i < sizeof(udp_lens) / sizeof(udp_lens[0]); i++) {
		build(&p, &u);
		udp_len_set(&p, udp_lens[i]);
		expect_invalid(in0.ifindex, &p);
		/* The same from outside, to the flow's mapping. */
		build(&p, &r);
		udp_len_set(&p, udp_lens[i]);
		expect_invalid(out0.ifindex, &p);
	}
	t.flags = PKT_TCP_ACK;
	for (size_t i = 0; i < sizeof(doffs); i++) {
		build(&p, &t);
		((struct tcphdr *)(pkt_ip(&p) + 1))->doff = doffs[i];
		expect_invalid(in0.ifindex, &p);
	}
	for (size_t i = 0; i < sizeof(flags); i++) {
		t.flags = flags[i];
		build(&p, &t);
		expect_invalid(in0.ifindex, &p);
	}
	/* An error about the UDP flow, its ICMP checksum off by one. */
	{
		struct hdrs q = u;

		q.saddr = SNAT;
		q.ttl = PKT_TTL_DEFAULT - 1;
		icmp_error(&p, out0.mac, gw_mac, REMOTE1, SNAT, 64, 0, &q);
		((struct icmphdr *)(pkt_ip(&p) + 1))->checksum ^= htons(1);
		expect_invalid(out0.ifindex, &p);
	}
	assert_true(ct_lookup(GUEST_A, 40750, REMOTE1, 53, IPPROTO_UDP, &after));
	assert_int_equal(after.packets_out, before.packets_out);
	assert_int_equal(after.packets_in, before.packets_in);
}

/* --- the tc egress path ------------------------------------------------ */

/* What the kernel forwards out of out0 for h: routed, not yet translated. */
static void kernel_forwarded(const struct hdrs *h, struct pkt *p)
{
	struct hdrs w = *h;

	w.dmac = gw_mac;
	w.smac = out0.mac;
	w.ttl = PKT_TTL_DEFAULT - 1;
	build(p, &w);
}

/* tc egress on out_ifindex for a packet the kernel received on in0. */
#define tc_expect(p, out_ifindex, verdict, want, ...) \
	tc_egress_expect(cur, (out_ifindex), in0.ifindex, (p), (verdict), (want), __VA_ARGS__)

/* The kernel-forwarded packet for h translated by tc egress to SNAT:oport. */
#define expect_tc_snat(h, oport, ...)                                                         \
	do {                                                                                  \
		struct pkt in_, want_;                                                        \
		kernel_forwarded((h), &in_);                                                  \
		snatted((h), (oport), &want_);                                                \
		tc_expect(&in_, out0.ifindex, TC_ACT_OK, &want_, C_PKT(VNAT_TX_SKB, in_.len), \
			  C_PKT(VNAT_FWD_SNAT_TC, in_.len), ##__VA_ARGS__);                   \
	} while (0)

/* --- pressure ------------------------------------------------------------ */

#define SMALL_FLOWS 16

static int small_setup(void **state)
{
	(void)state;
	if (loader_up(&small_l, SMALL_FLOWS))
		return -1;
	small_loaded = true;
	cur = &small_l;
	return 0;
}

static int small_teardown(void **state)
{
	(void)state;
	cur = &main_l;
	if (small_loaded)
		vnat_loader__close(&small_l);
	small_loaded = false;
	return 0;
}

/* A packet that must be refused: dropped unchanged, only reason counted, no state. */
static void expect_refused(const struct hdrs *h, int reason)
{
	int flows = map_count(cur->maps.ct), mappings = map_count(cur->maps.mappings),
	    ports = map_count(cur->maps.ports);
	struct pkt p;

	build(&p, h);
	xdp_expect(cur, in0.ifindex, &p, XDP_DROP, NULL, C_PKT(reason, p.len));
	assert_int_equal(map_count(cur->maps.ct), flows);
	assert_int_equal(map_count(cur->maps.mappings), mappings);
	assert_int_equal(map_count(cur->maps.ports), ports);
}

/* The flow table full: new flows refused, established ones carry on. */
static void test_table_full(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 42000, REMOTE1, 1000);
	struct hdrs reply = from_remote(IPPROTO_UDP, REMOTE1, 1000, 42000);
	struct pkt p;

	(void)state;
	/* One endpoint to SMALL_FLOWS remote ports: one mapping, a full vnat_ct. */
	expect_snat(&h, 42000, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	for (int i = 1; i < SMALL_FLOWS; i++) {
		h.dport = 1000 + i;
		expect_snat(&h, 42000, C_NEW_FLOW);
	}
	assert_int_equal(map_count(cur->maps.ct), SMALL_FLOWS);
	expect_mapping(GUEST_A, 42000, IPPROTO_UDP, 42000, SMALL_FLOWS);

	h.dport = 2000;
	expect_refused(&h, VNAT_DROP_TABLE_FULL);
	/* The refusal took no reference on the mapping. */
	expect_mapping(GUEST_A, 42000, IPPROTO_UDP, 42000, SMALL_FLOWS);
	/* Established flows are unaffected, both ways. */
	h.dport = 1000;
	expect_snat(&h, 42000);
	h.dport = 1000 + SMALL_FLOWS - 1;
	expect_snat(&h, 42000);
	expect_dnat(&reply, mac_a, GUEST_A, 42000);
	/* The kernel-forwarded path refuses the same way, and carries on the same way. */
	h.dport = 2000;
	kernel_forwarded(&h, &p);
	tc_expect(&p, out0.ifindex, TC_ACT_SHOT, NULL, C_PKT(VNAT_TX_SKB, p.len),
		  C_PKT(VNAT_DROP_TABLE_FULL, p.len));
	h.dport = 1000;
	expect_tc_snat(&h, 42000);
	/* An unsolicited packet is still only filtered. */
	reply.sport = 2000;
	expect_pass_h(out0.ifindex, &reply, VNAT_PASS_FILTERED);
}

/*
 * The table full of flows of different endpoints: a new endpoint's flow
 * is refused for the full table (drop_table_full), the port range being
 * nowhere near exhausted, and leaves no mapping behind (the collector
 * frees mappings only when a flow holding them expires, so an orphan
 * would hold its port for ever).
 */
static void test_table_full_new_endpoint(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 42000, REMOTE1, 53);
	struct counters before;
	struct vnat_map_val m;
	struct vnat_rev_val rv;
	struct pkt p;
	struct run r;

	(void)state;
	/* SMALL_FLOWS - 1 flows of one endpoint, one more of another. */
	expect_snat(&h, 42000, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	for (int i = 1; i < SMALL_FLOWS - 1; i++) {
		h.dport = 53 + i;
		expect_snat(&h, 42000, C_NEW_FLOW);
	}
	h = from_guest(IPPROTO_UDP, mac_b, GUEST_B, 42001, REMOTE1, 53);
	expect_snat(&h, 42001, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	assert_int_equal(map_count(cur->maps.ct), SMALL_FLOWS);

	/* A third endpoint, while mappings and ports have room. */
	h = from_guest(IPPROTO_UDP, mac_c, GUEST_C, 42002, REMOTE1, 53);
	build(&p, &h);
	counters_read(cur, &before);
	xdp_run(cur, in0.ifindex, &p, &r);
	assert_int_equal(r.retval, XDP_DROP);
	assert_pkt_equal(r.out, r.out_len, p.data, p.len);
	if (mapping_lookup(GUEST_C, 42002, IPPROTO_UDP, &m))
		print_error("refused flow left mapping %s:42002 -> %u held by %u flows\n", GUEST_C,
			    ntohs(m.outside_port), m.flows);
	assert_false(mapping_lookup(GUEST_C, 42002, IPPROTO_UDP, &m));
	assert_false(port_lookup(42002, IPPROTO_UDP, &rv));
	expect_deltas(&before, C_PKT(VNAT_DROP_TABLE_FULL, p.len));
	assert_int_equal(map_count(cur->maps.mappings), 2);
}

/* Every flow its own endpoint: mappings and ports fill with vnat_ct. */
static void test_table_full_distinct_endpoints(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 42000, REMOTE1, 53);

	(void)state;
	for (int i = 0; i < SMALL_FLOWS; i++) {
		h.sport = 42000 + i;
		expect_snat(&h, 42000 + i, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	}
	h.sport = 42000 + SMALL_FLOWS;
	expect_refused(&h, VNAT_DROP_TABLE_FULL);
	h.sport = 42000;
	expect_snat(&h, 42000);
}

/*
 * Two ports, 40000-40001: two hosts with source port 40000 fit (the
 * second can only get 40001), the third is refused for want of a port.
 */
static void test_port_range_exhausted(void **state)
{
	struct hdrs a = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40000, REMOTE1, 53);
	struct hdrs b = from_guest(IPPROTO_UDP, mac_b, GUEST_B, 40000, REMOTE1, 53);
	struct hdrs c = from_guest(IPPROTO_UDP, mac_c, GUEST_C, 40000, REMOTE1, 53);
	struct hdrs ra = from_remote(IPPROTO_UDP, REMOTE1, 53, 40000);
	struct hdrs rb = from_remote(IPPROTO_UDP, REMOTE1, 53, 40001);

	(void)state;
	set_config(40000, 40001, VNAT_FILTER_APDF);
	expect_snat(&a, 40000, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	expect_snat(&b, 40001, C_NEW_FLOW, C_NEW_MAPPING);
	expect_refused(&c, VNAT_DROP_NO_PORT);
	expect_snat(&a, 40000);
	expect_snat(&b, 40001);
	expect_dnat(&ra, mac_a, GUEST_A, 40000);
	expect_dnat(&rb, mac_b, GUEST_B, 40000); /* B kept inside port 40000 */
}

/* The same exhaustion with the two hosts on ports of either parity. */
static void test_port_range_exhausted_parity(void **state)
{
	struct hdrs a = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40000, REMOTE1, 53);
	struct hdrs b = from_guest(IPPROTO_UDP, mac_b, GUEST_B, 40001, REMOTE1, 53);
	struct hdrs c = from_guest(IPPROTO_UDP, mac_c, GUEST_C, 40000, REMOTE1, 53);
	struct hdrs ra = from_remote(IPPROTO_UDP, REMOTE1, 53, 40000);
	struct hdrs rb = from_remote(IPPROTO_UDP, REMOTE1, 53, 40001);
	struct pkt p;

	(void)state;
	set_config(40000, 40001, VNAT_FILTER_APDF);
	expect_snat(&a, 40000, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	expect_snat(&b, 40001, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	expect_refused(&c, VNAT_DROP_NO_PORT);
	c.sport = 40001;
	expect_refused(&c, VNAT_DROP_NO_PORT);
	c.sport = 5555; /* outside the range: the search finds nothing either */
	expect_refused(&c, VNAT_DROP_NO_PORT);
	kernel_forwarded(&c, &p);
	tc_expect(&p, out0.ifindex, TC_ACT_SHOT, NULL, C_PKT(VNAT_TX_SKB, p.len),
		  C_PKT(VNAT_DROP_NO_PORT, p.len));
	assert_int_equal(map_count(cur->maps.mappings), 2);
	/* An existing endpoint's new flow needs no port. */
	a.dport = 54;
	expect_snat(&a, 40000, C_NEW_FLOW);
	a.dport = 53;
	expect_snat(&a, 40000);
	expect_snat(&b, 40001);
	expect_dnat(&ra, mac_a, GUEST_A, 40000);
	expect_dnat(&rb, mac_b, GUEST_B, 40001);
}

/* --- tc egress ---------------------------------------------------------- */

/*
 * The first packets of a flow, forwarded by the kernel while the next hop
 * is resolved: masqueraded on the way out, with the mapping XDP would have
 * made, which XDP then shares.
 */
static void test_tc_egress_snat(void **state)
{
	struct hdrs u = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40100, REMOTE1, 53);
	struct hdrs u2 = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40100, REMOTE2, 53);
	struct hdrs t = from_guest(IPPROTO_TCP, mac_a, GUEST_A, 43210, REMOTE1, 443);
	struct hdrs i = from_guest(IPPROTO_ICMP, mac_a, GUEST_A, 0x4343, REMOTE1, 0);
	struct hdrs z = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40102, REMOTE1, 53);
	struct vnat_ct_key k = ct_key(GUEST_A, 40100, REMOTE1, 53, IPPROTO_UDP);
	struct pkt p;
	uint64_t t0, t1;

	(void)state;
	kernel_forwarded(&u, &p);
	t0 = now_ns();
	expect_tc_snat(&u, 40100, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	t1 = now_ns();
	expect_flow(&k, 40100, VNAT_TCP_NONE, 1, p.len, 0, 0, VNAT_TIMEOUT_UDP, t0, t1);
	expect_mapping(GUEST_A, 40100, IPPROTO_UDP, 40100, 1);
	/* XDP takes the flow over, and the same endpoint's next flow. */
	expect_snat(&u, 40100);
	expect_snat(&u2, 40100, C_NEW_FLOW);
	{
		struct hdrs r = from_remote(IPPROTO_UDP, REMOTE1, 53, 40100);

		expect_dnat(&r, mac_a, GUEST_A, 40100);
	}
	/* A flow XDP opened, sent by the kernel: the same port. */
	expect_tc_snat(&u2, 40100);

	t.flags = PKT_TCP_SYN;
	t.payload = 0;
	expect_tc_snat(&t, 43210, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	assert_true(
		ct_lookup(GUEST_A, 43210, REMOTE1, 443, IPPROTO_TCP, &(struct vnat_ct_val){ 0 }));
	i.flags = ICMP_ECHO;
	expect_tc_snat(&i, 0x4343, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	z.udp_no_csum = true;
	expect_tc_snat(&z, 40102, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
}

/* tc egress with a taken port: another port of the same parity, as in XDP. */
static void test_tc_egress_collision(void **state)
{
	struct hdrs a = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40105, REMOTE1, 53);
	struct hdrs b = from_guest(IPPROTO_UDP, mac_b, GUEST_B, 40105, REMOTE1, 53);
	struct counters before;
	struct pkt p, want;
	struct run r;
	uint16_t port;

	(void)state;
	set_config(40100, 40131, VNAT_FILTER_APDF);
	expect_snat(&a, 40105, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	kernel_forwarded(&b, &p);
	counters_read(cur, &before);
	tc_egress_run(cur, out0.ifindex, in0.ifindex, &p, &r);
	assert_int_equal(r.retval, TC_ACT_OK);
	port = out_sport(&r, IPPROTO_UDP);
	assert_in_range(port, 40100, 40131);
	assert_int_not_equal(port, 40105);
	assert_int_equal(port & 1, 1);
	snatted(&b, port, &want);
	expect_frame(&r, NULL, &want);
	expect_deltas(&before, C_PKT(VNAT_TX_SKB, p.len), C_PKT(VNAT_FWD_SNAT_TC, p.len),
		      C_NEW_FLOW, C_NEW_MAPPING);
	expect_mapping(GUEST_B, 40105, IPPROTO_UDP, port, 1);
	{
		struct hdrs rb = from_remote(IPPROTO_UDP, REMOTE1, 53, port);

		expect_dnat(&rb, mac_b, GUEST_B, 40105);
	}
}

/* The checksum that computes to 0 leaves tc as 0xffff too (BPF_F_MARK_MANGLED_0). */
static void test_tc_egress_checksum_ffff(void **state)
{
	struct hdrs u = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40110, REMOTE1, 53);
	struct pkt p, want;
	uint32_t w;

	(void)state;
	u.payload = 2;
	for (w = 0; w <= 0xffff; w++) {
		snatted(&u, 40110, &want);
		memcpy(pkt_udp(&want) + 1, &(uint16_t){ htons(w) }, 2);
		pkt_fix_csums(&want);
		if (pkt_udp(&want)->check == 0xffff)
			break;
	}
	assert_true(w <= 0xffff);
	kernel_forwarded(&u, &p);
	memcpy(pkt_udp(&p) + 1, &(uint16_t){ htons(w) }, 2);
	pkt_fix_csums(&p);
	tc_expect(&p, out0.ifindex, TC_ACT_OK, &want, C_PKT(VNAT_TX_SKB, p.len),
		  C_PKT(VNAT_FWD_SNAT_TC, p.len), C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
}

/* What tc egress leaves alone: counted as sent, nothing else. */
static void test_tc_egress_untranslated(void **state)
{
	struct hdrs u = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40120, REMOTE1, 53);
	struct hdrs other = from_guest(IPPROTO_UDP, mac_a, "10.55.0.9", 40120, REMOTE1, 53);
	struct hdrs mid = from_guest(IPPROTO_TCP, mac_a, GUEST_A, 43300, REMOTE1, 443);
	struct hdrs gre = from_guest(IPPROTO_GRE_, mac_a, GUEST_A, 0, REMOTE1, 0);
	struct hdrs mc = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 5353, "224.0.0.251", 5353);
	struct pkt p;

	(void)state;
	/* Leaving an inside interface (guest to guest across in0/in1). */
	kernel_forwarded(&u, &p);
	tc_expect(&p, in1.ifindex, TC_ACT_OK, NULL, C_PKT(VNAT_TX_SKB, p.len));
	kernel_forwarded(&other, &p);
	tc_expect(&p, out0.ifindex, TC_ACT_OK, NULL, C_PKT(VNAT_TX_SKB, p.len));
	mid.flags = PKT_TCP_ACK;
	kernel_forwarded(&mid, &p);
	tc_expect(&p, out0.ifindex, TC_ACT_OK, NULL, C_PKT(VNAT_TX_SKB, p.len));
	kernel_forwarded(&gre, &p);
	tc_expect(&p, out0.ifindex, TC_ACT_OK, NULL, C_PKT(VNAT_TX_SKB, p.len));
	kernel_forwarded(&mc, &p);
	tc_expect(&p, out0.ifindex, TC_ACT_OK, NULL, C_PKT(VNAT_TX_SKB, p.len));
	assert_int_equal(map_count(cur->maps.ct), 0);
	assert_int_equal(map_count(cur->maps.mappings), 0);
}

/* --- collector ----------------------------------------------------------- */

static void set_icmp_timeout(uint32_t s)
{
	struct vnat_config cfg;

	assert_int_equal(vnat_maps__read_config(&cur->maps, &cfg), 0);
	cfg.timeout_icmp = s;
	write_config(&cfg);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool echo_flow_gone(const char *guest, uint16_t id, const char *remote)
{
	struct vnat_ct_val v;

	return !ct_lookup(guest, id, remote, 0, IPPROTO_ICMP, &v);
}

/* A 1 s ICMP timeout: the flow, its mapping and its port go within a few runs. */
static void test_gc_expires_flow(void **state)
{
	struct hdrs req = from_guest(IPPROTO_ICMP, mac_a, GUEST_A, 0x5151, REMOTE1, 0);
	struct counters before, after;
	struct vnat_map_val m;
	struct vnat_rev_val rv;
	uint64_t t0, gone_at = 0;

	(void)state;
	set_icmp_timeout(1);
	req.flags = ICMP_ECHO;
	counters_read(cur, &before);
	t0 = now_ns();
	expect_snat(&req, 0x5151, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	while (now_ns() - t0 < 5000000000ull) {
		bool gone = echo_flow_gone(GUEST_A, 0x5151, REMOTE1);

		counters_read(cur, &after);
		if (gone && after.c[VNAT_GC_EXPIRED].packets > before.c[VNAT_GC_EXPIRED].packets) {
			gone_at = now_ns();
			break;
		}
		/* Not before its timeout. */
		if (gone)
			assert_true(now_ns() - t0 >= 1000000000ull);
		sleep_ms(50);
	}
	if (!gone_at)
		print_error("ICMP flow with a 1 s timeout still there after 5 s\n");
	assert_true(gone_at);
	assert_true(gone_at - t0 >= 1000000000ull);
	assert_false(mapping_lookup(GUEST_A, 0x5151, IPPROTO_ICMP, &m));
	assert_false(port_lookup(0x5151, IPPROTO_ICMP, &rv));
	counters_read(cur, &after);
	assert_int_equal(after.c[VNAT_GC_EXPIRED].packets - before.c[VNAT_GC_EXPIRED].packets, 1);
	assert_int_equal(map_count(cur->maps.ct), 0);
	/* The port is free again: a new ping gets it back as a new mapping. */
	expect_snat(&req, 0x5151, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
}

/*
 * Two flows on one mapping; traffic keeps one alive. The idle one expires
 * on time, the mapping stays while the live one holds it, and goes with it
 * once the traffic stops.
 */
static void test_gc_refreshed_flow_survives(void **state)
{
	struct hdrs idle = from_guest(IPPROTO_ICMP, mac_a, GUEST_A, 0x5252, REMOTE1, 0);
	struct hdrs live = from_guest(IPPROTO_ICMP, mac_a, GUEST_A, 0x5252, REMOTE2, 0);
	struct counters before, after;
	struct vnat_map_val m;
	struct vnat_rev_val rv;
	uint64_t t0;
	bool idle_gone = false;

	(void)state;
	set_icmp_timeout(1);
	idle.flags = ICMP_ECHO;
	live.flags = ICMP_ECHO;
	counters_read(cur, &before);
	t0 = now_ns();
	expect_snat(&idle, 0x5252, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	expect_snat(&live, 0x5252, C_NEW_FLOW);
	expect_mapping(GUEST_A, 0x5252, IPPROTO_ICMP, 0x5252, 2);
	/* 3 s of a ping every 200 ms: three timeouts' worth. */
	while (now_ns() - t0 < 3000000000ull) {
		sleep_ms(200);
		expect_snat(&live, 0x5252);
		assert_false(echo_flow_gone(GUEST_A, 0x5252, REMOTE2));
		if (echo_flow_gone(GUEST_A, 0x5252, REMOTE1)) {
			assert_true(now_ns() - t0 >= 1000000000ull);
			idle_gone = true;
		}
	}
	assert_true(idle_gone);
	expect_mapping(GUEST_A, 0x5252, IPPROTO_ICMP, 0x5252, 1);
	counters_read(cur, &after);
	assert_int_equal(after.c[VNAT_GC_EXPIRED].packets - before.c[VNAT_GC_EXPIRED].packets, 1);

	/* Traffic stops: the last flow and the mapping go. */
	t0 = now_ns();
	while (!echo_flow_gone(GUEST_A, 0x5252, REMOTE2) && now_ns() - t0 < 5000000000ull)
		sleep_ms(50);
	assert_true(echo_flow_gone(GUEST_A, 0x5252, REMOTE2));
	sleep_ms(20); /* the flow is deleted after its mapping: both are done */
	assert_false(mapping_lookup(GUEST_A, 0x5252, IPPROTO_ICMP, &m));
	assert_false(port_lookup(0x5252, IPPROTO_ICMP, &rv));
	counters_read(cur, &after);
	assert_int_equal(after.c[VNAT_GC_EXPIRED].packets - before.c[VNAT_GC_EXPIRED].packets, 2);
}

/*
 * ADF keeps an address record (remote port 0) beside each flow. An echo
 * flow's own key already has remote port 0: the record must not replace
 * the flow (its counters, and its hold on the mapping, which the collector
 * releases only for flows).
 */
static void test_adf_icmp_flow_kept(void **state)
{
	struct hdrs req = from_guest(IPPROTO_ICMP, mac_a, GUEST_A, 0x6161, REMOTE1, 0);
	struct hdrs reply = from_remote(IPPROTO_ICMP, REMOTE1, 0x6161, 0);
	struct vnat_ct_key k = ct_key(GUEST_A, 0x6161, REMOTE1, 0, IPPROTO_ICMP);
	struct vnat_map_val m;
	struct vnat_ct_val v;
	struct pkt p1, p2;
	uint64_t t0;

	(void)state;
	set_config(VNAT_PORT_MIN, VNAT_PORT_MAX, VNAT_FILTER_ADF);
	req.flags = ICMP_ECHO;
	reply.flags = ICMP_ECHOREPLY;
	build(&p1, &req);
	build(&p2, &reply);
	t0 = now_ns();
	expect_snat(&req, 0x6161, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	expect_dnat(&reply, mac_a, GUEST_A, 0x6161);
	assert_int_equal(bpf_map_lookup_elem(cur->maps.ct, &k, &v), 0);
	if (v.flags & VNAT_CT_ADDR_ENTRY)
		print_error("the echo flow was overwritten by its ADF address record "
			    "(flags 0x%x, %llu packets out)\n",
			    v.flags, (unsigned long long)v.packets_out);
	expect_flow(&k, 0x6161, VNAT_TCP_NONE, 1, p1.len, 1, p2.len, VNAT_TIMEOUT_ICMP, t0,
		    now_ns());
	/* And expired, it gives its mapping back. */
	set_icmp_timeout(1);
	expect_snat(&req, 0x6161);
	t0 = now_ns();
	while (!echo_flow_gone(GUEST_A, 0x6161, REMOTE1) && now_ns() - t0 < 5000000000ull)
		sleep_ms(50);
	assert_true(echo_flow_gone(GUEST_A, 0x6161, REMOTE1));
	sleep_ms(20);
	assert_false(mapping_lookup(GUEST_A, 0x6161, IPPROTO_ICMP, &m));
}

/* --- the harness itself -------------------------------------------------- */

/* The checks must catch a wrong port, a stale checksum and a wrong counter. */
static void test_harness_detects_mismatch(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40200, REMOTE1, 53);
	FILE *devnull = fopen("/dev/null", "w");
	struct counters before, after;
	struct pkt p, want;
	struct run r;

	(void)state;
	assert_non_null(devnull);
	build(&p, &h);
	counters_read(cur, &before);
	xdp_run(cur, in0.ifindex, &p, &r);
	counters_read(cur, &after);
	snatted(&h, 40200, &want);
	assert_true(r.out_len == want.len && !memcmp(r.out, want.data, want.len));
	snatted(&h, 40201, &want);
	assert_false(r.out_len == want.len && !memcmp(r.out, want.data, want.len));
	/* A port rewritten without its checksum is caught. */
	r.out[ETH_HLEN + sizeof(struct iphdr) + 1] ^= 1;
	assert_int_equal(pkt_csum_errors(r.out, r.out_len, devnull), PKT_BAD_L4_CSUM);
	/* The packet moved fwd_snat, not fwd_routed. */
	assert_int_equal(after.c[VNAT_FWD_SNAT].packets - before.c[VNAT_FWD_SNAT].packets, 1);
	assert_int_equal(after.c[VNAT_FWD_ROUTED].packets - before.c[VNAT_FWD_ROUTED].packets, 0);
	fclose(devnull);
}

/* --- cached next hops ------------------------------------------------------ */

/*
 * An established flow's packets use the next hop cached in its vnat_ct
 * entry (fib.h) until the generation moves (vnat_gen: user space bumps it
 * on every change it makes or sees), the entry ages out, or the packet
 * needs another lookup (longer than checked, another TOS). These tests
 * change routes and neighbours of the test namespace; nh_teardown puts
 * them back.
 */
static const uint8_t gw2_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0x01, 0x02 };
static const uint8_t mac_a2[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x89 };

static int nh_teardown(void **state)
{
	(void)state;
	sh("ip neigh replace 192.168.1.1 lladdr 02:00:00:00:01:01 dev out0 nud permanent");
	sh("ip neigh replace " GUEST_A " lladdr 02:00:00:00:00:99 dev in0 nud permanent");
	sh("ip route replace default via 192.168.1.1");
	system("ip route del 198.51.100.0/24 2>/dev/null; ip rule del tos 0x10 table 100 "
	       "2>/dev/null; ip route flush table 100 2>/dev/null");
	vnat_maps__bump_gen(&cur->maps);
	return 0;
}

/* h translated to SNAT:oport as it leaves out0, to next hop dmac. */
static void expect_snat_to(const struct hdrs *h, uint16_t oport, const uint8_t *dmac)
{
	struct pkt in, want;

	build(&in, h);
	snatted(h, oport, &want);
	memcpy(want.data, dmac, ETH_ALEN);
	xdp_expect(cur, in0.ifindex, &in, XDP_REDIRECT, &want, C_PKT(VNAT_FWD_SNAT, in.len));
}

/* A neighbour change reaches an established flow with the generation bump. */
static void test_nexthop_neigh_change(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40500, REMOTE1, 53);
	uint64_t t0 = now_ns();

	(void)state;
	expect_snat(&h, 40500, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	assert_int_equal(sh("ip neigh replace 192.168.1.1 lladdr 02:00:00:00:01:02 dev out0 "
			    "nud permanent"),
			 0);
	/*
	 * Without a bump the cached next hop is still used (that it is
	 * cached at all), while younger than VNAT_NH_MAX_AGE_NS: checked
	 * only when this machine was quick enough to be sure of that.
	 */
	if (now_ns() - t0 < VNAT_NH_MAX_AGE_NS / 2)
		expect_snat_to(&h, 40500, gw_mac);
	assert_int_equal(vnat_maps__bump_gen(&cur->maps), 0);
	expect_snat_to(&h, 40500, gw2_mac);
	expect_snat_to(&h, 40500, gw2_mac); /* and cached again */
}

/*
 * tc caches a flow's next hop as XDP does, with whether the port takes XDP
 * frames: a next hop tc cached for an uplink XDP cannot transmit to is
 * never used by XDP, which leaves the frame to tc (pass_no_xdp_tx).
 */
static void test_nexthop_tc(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40502, REMOTE1, 53);
	struct vnat_iface up;
	struct vnat_ct_val v;
	struct pkt in, want;

	(void)state;
	assert_int_equal(bpf_map_lookup_elem(cur->maps.ifaces, &out0.ifindex, &up), 0);
	up.flags &= ~VNAT_IFACE_XDP_TX;
	assert_int_equal(bpf_map_update_elem(cur->maps.ifaces, &out0.ifindex, &up, BPF_EXIST), 0);
	build(&in, &h);
	snatted(&h, 40502, &want);
	tc_ingress_expect(cur, in0.ifindex, &in, TC_ACT_REDIRECT, &want,
			  C_PKT(VNAT_FWD_SNAT_TC, in.len), C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	assert_true(ct_lookup(GUEST_A, 40502, REMOTE1, 53, IPPROTO_UDP, &v));
	assert_int_equal(v.nh[VNAT_NH_OUT].port, out0.ifindex);
	assert_int_equal(v.nh[VNAT_NH_OUT].flags & VNAT_NH_XDP_TX, 0);
	expect_pass(in0.ifindex, &in, VNAT_PASS_NO_XDP_TX);
	/* tc goes on using it. */
	tc_ingress_expect(cur, in0.ifindex, &in, TC_ACT_REDIRECT, &want,
			  C_PKT(VNAT_FWD_SNAT_TC, in.len));
	up.flags |= VNAT_IFACE_XDP_TX;
	assert_int_equal(bpf_map_update_elem(cur->maps.ifaces, &out0.ifindex, &up, BPF_EXIST), 0);
	/* Once the port takes XDP frames, XDP's own lookup caches it for XDP. */
	expect_snat_to(&h, 40502, gw_mac);
	assert_true(ct_lookup(GUEST_A, 40502, REMOTE1, 53, IPPROTO_UDP, &v));
	assert_int_equal(v.nh[VNAT_NH_OUT].flags & VNAT_NH_XDP_TX, VNAT_NH_XDP_TX);
}

/* A route change: the flow's packets now leave through an inside port, untranslated. */
static void test_nexthop_route_change(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40501, REMOTE1, 53);
	struct hdrs w = h;
	struct pkt in, want;

	(void)state;
	expect_snat(&h, 40501, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	expect_snat(&h, 40501);
	assert_int_equal(sh("ip route add 198.51.100.0/24 via " IN1_PEER), 0);
	assert_int_equal(vnat_maps__bump_gen(&cur->maps), 0);
	build(&in, &h);
	w.dmac = in1_peer_mac;
	w.smac = in1.mac;
	w.ttl = PKT_TTL_DEFAULT - 1;
	build(&want, &w);
	xdp_expect(cur, in0.ifindex, &in, XDP_REDIRECT, &want, C_PKT(VNAT_FWD_ROUTED, in.len));
	/* Back: the uplink again, the flow's mapping unchanged. */
	assert_int_equal(sh("ip route del 198.51.100.0/24"), 0);
	assert_int_equal(vnat_maps__bump_gen(&cur->maps), 0);
	expect_snat(&h, 40501);
}

/* With nobody bumping (no daemon), a cached next hop is used for VNAT_NH_MAX_AGE_NS at most. */
static void test_nexthop_max_age(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40502, REMOTE1, 53);
	struct vnat_ct_key k = ct_key(GUEST_A, 40502, REMOTE1, 53, IPPROTO_UDP);
	struct vnat_ct_val v;

	(void)state;
	expect_snat(&h, 40502, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	assert_int_equal(sh("ip neigh replace 192.168.1.1 lladdr 02:00:00:00:01:02 dev out0 "
			    "nud permanent"),
			 0);
	/* As if the lookup had been made VNAT_NH_MAX_AGE_NS ago. */
	assert_int_equal(bpf_map_lookup_elem(cur->maps.ct, &k, &v), 0);
	assert_int_not_equal(v.nh[VNAT_NH_OUT].port, 0);
	v.nh[VNAT_NH_OUT].stamp -= (VNAT_NH_MAX_AGE_NS >> VNAT_NH_STAMP_SHIFT) + 1;
	assert_int_equal(bpf_map_update_elem(cur->maps.ct, &k, &v, BPF_EXIST), 0);
	expect_snat_to(&h, 40502, gw2_mac);
}

/* The reply direction has its own cached next hop: the guest's MAC changes. */
static void test_nexthop_reply(void **state)
{
	struct hdrs out = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40503, REMOTE1, 53);
	struct hdrs back = from_remote(IPPROTO_UDP, REMOTE1, 53, 40503);
	uint64_t t0 = now_ns();

	(void)state;
	expect_snat(&out, 40503, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	expect_dnat(&back, mac_a, GUEST_A, 40503);
	assert_int_equal(sh("ip neigh replace " GUEST_A " lladdr 02:00:00:00:00:89 dev in0 "
			    "nud permanent"),
			 0);
	if (now_ns() - t0 < VNAT_NH_MAX_AGE_NS / 2)
		expect_dnat(&back, mac_a, GUEST_A, 40503);
	assert_int_equal(vnat_maps__bump_gen(&cur->maps), 0);
	expect_dnat(&back, mac_a2, GUEST_A, 40503);
	/* The outbound direction was not looked up again: still the uplink. */
	expect_snat(&out, 40503);
}

/* A packet longer than the cached next hop was checked for meets the route's MTU (locked: forwarding uses a route's MTU only then). */
static void test_nexthop_mtu(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40504, REMOTE1, 53);
	struct hdrs big = h;
	struct pkt p;

	(void)state;
	assert_int_equal(sh("ip route replace default via 192.168.1.1 mtu lock 1000"), 0);
	assert_int_equal(vnat_maps__bump_gen(&cur->maps), 0);
	expect_snat(&h, 40504, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	big.payload = 1200;
	build(&p, &big);
	expect_pass(in0.ifindex, &p, VNAT_PASS_MTU);
	big.payload = 900; /* longer than the first, within the MTU */
	expect_snat(&big, 40504);
	expect_snat(&h, 40504);
}

/* Policy routing by TOS: a packet of the flow with another TOS is looked up for itself. */
static void test_nexthop_tos(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40505, REMOTE1, 53);
	struct hdrs w = h;
	struct pkt in, want;

	(void)state;
	assert_int_equal(sh("ip route add default via " IN1_PEER " table 100"), 0);
	assert_int_equal(sh("ip rule add tos 0x10 table 100"), 0);
	assert_int_equal(vnat_maps__bump_gen(&cur->maps), 0);
	expect_snat(&h, 40505, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	w.dmac = in1_peer_mac;
	w.smac = in1.mac;
	w.ttl = PKT_TTL_DEFAULT - 1;
	/* 0x10, also with ECN CE (0x13): the rule's table, untranslated. */
	for (uint8_t tos = 0x10; tos <= 0x13; tos += 3) {
		struct hdrs t = h;

		t.tos = w.tos = tos;
		build(&in, &t);
		build(&want, &w);
		xdp_expect(cur, in0.ifindex, &in, XDP_REDIRECT, &want,
			   C_PKT(VNAT_FWD_ROUTED, in.len));
	}
	expect_snat(&h, 40505);
}

/*
 * The ECN bits are no routing input: a CE-marked (or ECT) packet of the
 * flow uses the next hop cached for its unmarked packets. Shown as in
 * test_nexthop_neigh_change: with the neighbour changed and no bump, the
 * cached (old) MAC is still used.
 */
static void test_nexthop_tos_ecn(void **state)
{
	struct hdrs h = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40506, REMOTE1, 53);
	uint64_t t0 = now_ns();

	(void)state;
	expect_snat(&h, 40506, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	assert_int_equal(sh("ip neigh replace 192.168.1.1 lladdr 02:00:00:00:01:02 dev out0 "
			    "nud permanent"),
			 0);
	if (now_ns() - t0 < VNAT_NH_MAX_AGE_NS / 2) {
		for (uint8_t ecn = 1; ecn <= 3; ecn++) {
			h.tos = ecn;
			expect_snat_to(&h, 40506, gw_mac);
		}
	}
	assert_int_equal(vnat_maps__bump_gen(&cur->maps), 0);
	expect_snat_to(&h, 40506, gw2_mac);
}

/* vnat_gen element idx, as the datapath reads it. */
static uint64_t gen_read(uint32_t idx)
{
	uint64_t v = 0;

	assert_int_equal(bpf_map_lookup_elem(cur->maps.gen, &idx, &v), 0);
	return v;
}

/*
 * Two processes bumping at once (vnat daemon and a vnat load, say) never
 * undo each other's bumps: an atomic add each, so the user element ends
 * exactly 2 * N higher (a read-modify-write loses some: the generation
 * could go back to one flows cached next hops under).
 */
static void test_gen_concurrent_bumps(void **state)
{
	enum { N = 100000 };
	uint64_t user0 = gen_read(VNAT_GEN_USER), dp0 = gen_read(VNAT_GEN_DATAPATH);
	pid_t pid[2];
	int status;

	(void)state;
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (!pid[i]) {
			for (int k = 0; k < N; k++) {
				if (vnat_maps__bump_gen(&cur->maps))
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(gen_read(VNAT_GEN_USER), user0 + 2 * N);
	assert_int_equal(gen_read(VNAT_GEN_DATAPATH), dp0);
}

/* --- kernel admission (admit.h) ----------------------------------------- */

/* What load writes where the namespace has netfilter rules. */
static void set_policy(void)
{
	struct vnat_config cfg;

	assert_int_equal(vnat_maps__read_config(&cur->maps, &cfg), 0);
	cfg.flags |= VNAT_CFG_POLICY;
	write_config(&cfg);
}

/*
 * Both directions of a flow the kernel admitted, masqueraded to SNAT:oport,
 * as tc egress records them; the kernel's entry last refreshed at
 * refreshed. (No control-plane code writes these: the datapath does, from
 * kernel conntrack entries a unit test cannot make.)
 */
static void seed_admitted(const char *guest, uint16_t gport, const char *remote, uint16_t rport,
			  uint8_t proto, uint16_t oport, uint64_t refreshed)
{
	struct vnat_ct_key k = ct_key(guest, gport, remote, rport, proto);
	struct vnat_ct_key rk = ct_key(remote, rport, SNAT, oport, proto);
	struct vnat_ct_val v, rv;

	memset(&v, 0, sizeof(v));
	k.pad[0] = rk.pad[0] = VNAT_CT_KEY_KERNEL;
	v.flags = VNAT_CT_KERNEL;
	v.created_ns = now_ns();
	v.expires_ns = v.created_ns + 300ull * 1000000000ull;
	v.kct_refreshed_ns = refreshed;
	rv = v;
	v.outside_addr = pkt_ip4(SNAT);
	v.outside_port = htons(oport);
	v.xl_daddr = pkt_ip4(remote);
	v.xl_dport = htons(rport);
	rv.flags |= VNAT_CT_KREPLY;
	rv.outside_addr = pkt_ip4(remote);
	rv.outside_port = htons(rport);
	rv.xl_daddr = pkt_ip4(guest);
	rv.xl_dport = htons(gport);
	assert_int_equal(bpf_map_update_elem(cur->maps.ct, &k, &v, BPF_NOEXIST), 0);
	assert_int_equal(bpf_map_update_elem(cur->maps.ct, &rk, &rv, BPF_NOEXIST), 0);
}

/* A new flow, and anything but TCP and UDP, is the kernel's: untouched, no entry. */
static void test_admission_new_flow_to_kernel(void **state)
{
	struct hdrs udp = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40100, REMOTE1, 53);
	struct hdrs tcp = from_guest(IPPROTO_TCP, mac_a, GUEST_A, 40101, REMOTE1, 80);
	struct hdrs ping = from_guest(IPPROTO_ICMP, mac_a, GUEST_A, 77, REMOTE1, 0);
	struct hdrs reply = from_remote(IPPROTO_UDP, REMOTE1, 53, 40100);
	struct pkt p;

	(void)state;
	set_policy();
	tcp.flags = PKT_TCP_SYN;
	ping.flags = ICMP_ECHO;
	build(&p, &udp);
	xdp_expect(cur, in0.ifindex, &p, XDP_PASS, NULL, C_PKT(VNAT_PASS_ADMISSION, p.len));
	tc_ingress_expect(cur, in0.ifindex, &p, TC_ACT_OK, NULL, C_PKT(VNAT_PASS_ADMISSION, p.len));
	build(&p, &tcp);
	xdp_expect(cur, in0.ifindex, &p, XDP_PASS, NULL, C_PKT(VNAT_PASS_ADMISSION, p.len));
	build(&p, &ping);
	xdp_expect(cur, in0.ifindex, &p, XDP_PASS, NULL, C_PKT(VNAT_PASS_ADMISSION, p.len));
	build(&p, &reply);
	xdp_expect(cur, out0.ifindex, &p, XDP_PASS, NULL, C_PKT(VNAT_PASS_ADMISSION, p.len));
	/* vnat's own NAT neither translates nor maps anything. */
	assert_int_equal(map_count(cur->maps.ct), 0);
	assert_int_equal(map_count(cur->maps.mappings), 0);
}

/* An admitted flow is carried both ways with the kernel's translation, on both hooks. */
static void test_admission_carries_admitted(void **state)
{
	struct hdrs out = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40110, REMOTE1, 53);
	struct hdrs reply = from_remote(IPPROTO_UDP, REMOTE1, 53, 45110);
	struct vnat_ct_key k = ct_key(GUEST_A, 40110, REMOTE1, 53, IPPROTO_UDP);
	struct vnat_ct_val v;
	struct pkt in, want;

	(void)state;
	set_policy();
	seed_admitted(GUEST_A, 40110, REMOTE1, 53, IPPROTO_UDP, 45110, now_ns());
	build(&in, &out);
	snatted(&out, 45110, &want);
	xdp_expect(cur, in0.ifindex, &in, XDP_REDIRECT, &want, C_PKT(VNAT_FWD_ADMITTED, in.len));
	tc_ingress_expect(cur, in0.ifindex, &in, TC_ACT_REDIRECT, &want,
			  C_PKT(VNAT_FWD_ADMITTED_TC, in.len));
	build(&in, &reply);
	dnatted(&reply, mac_a, GUEST_A, 40110, &want);
	xdp_expect(cur, out0.ifindex, &in, XDP_REDIRECT, &want, C_PKT(VNAT_FWD_ADMITTED, in.len));
	k.pad[0] = VNAT_CT_KEY_KERNEL;
	assert_int_equal(bpf_map_lookup_elem(cur->maps.ct, &k, &v), 0);
	assert_int_equal(v.packets_out, 2);
	/* Nothing of vnat's own NAT was used. */
	assert_int_equal(map_count(cur->maps.mappings), 0);
}

/*
 * The kernel's entry is gone (conntrack -F, timeout): the first packet
 * after the refresh interval finds out, ends vnat's copy (both
 * directions) and goes to the kernel untouched.
 */
static void test_admission_kernel_entry_gone(void **state)
{
	struct hdrs out = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40120, REMOTE1, 53);
	struct pkt in;

	(void)state;
	set_policy();
	seed_admitted(GUEST_A, 40120, REMOTE1, 53, IPPROTO_UDP, 45120,
		      now_ns() - VNAT_KCT_REFRESH_NS - 1000000);
	build(&in, &out);
	xdp_expect(cur, in0.ifindex, &in, XDP_PASS, NULL, C_PKT(VNAT_PASS_ADMISSION, in.len),
		   ((struct delta){ VNAT_ADMIT_GONE, 1, 0 }));
	assert_int_equal(map_count(cur->maps.ct), 0);
}

/*
 * Filter rules but no kernel NAT rule, and --snat: the kernel's FORWARD
 * decides the first packet; what it forwards untranslated out of the
 * uplink, vnat's own NAT translates on tc egress, and that flow (only that
 * one) is carried from then on, both ways.
 */
static void test_admission_own_nat_after_kernel_forward(void **state)
{
	struct hdrs u = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40140, REMOTE1, 53);
	struct hdrs other = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40141, REMOTE1, 53);
	struct hdrs r = from_remote(IPPROTO_UDP, REMOTE1, 53, 40140);
	struct pkt p;

	(void)state;
	set_policy();
	build(&p, &u);
	xdp_expect(cur, in0.ifindex, &p, XDP_PASS, NULL, C_PKT(VNAT_PASS_ADMISSION, p.len));
	expect_tc_snat(&u, 40140, C_NEW_FLOW, C_NEW_MAPPING, C_PORT_KEPT);
	expect_snat(&u, 40140);
	expect_dnat(&r, mac_a, GUEST_A, 40140);
	/* Another flow of the same guest is still the kernel's to judge first. */
	build(&p, &other);
	xdp_expect(cur, in0.ifindex, &p, XDP_PASS, NULL, C_PKT(VNAT_PASS_ADMISSION, p.len));
}

/*
 * tc egress admits nothing without the kernel's decision: a forwarded
 * packet whose skb carries no conntrack entry (a test run's never does)
 * creates no flow. The decided and liberal checks behind it need a real
 * entry: policy.sh (refused flows pass nothing, TCP waits for liberal)
 * and test_ctnl.c cover them.
 */
static void test_admission_egress_needs_kernel_entry(void **state)
{
	struct hdrs out = from_guest(IPPROTO_UDP, mac_a, GUEST_A, 40130, REMOTE1, 53);
	struct pkt in, fwd;

	(void)state;
	set_policy();
	build(&in, &out);
	snatted(&out, 40130, &fwd);
	tc_egress_expect(cur, out0.ifindex, in0.ifindex, &fwd, TC_ACT_OK, NULL,
			 C_PKT(VNAT_TX_SKB, fwd.len));
	assert_int_equal(map_count(cur->maps.ct), 0);
}

#define T(f) cmocka_unit_test_setup(f, reset)
#define T_NH(f) cmocka_unit_test_setup_teardown(f, reset, nh_teardown)
#define T_SMALL(f) cmocka_unit_test_setup_teardown(f, small_setup, small_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_tcp_handshake),
		T(test_udp_roundtrip),
		T(test_udp_no_checksum),
		T(test_udp_checksum_folds_to_ffff),
		T(test_icmp_echo),
		T(test_endpoint_independent_mapping),
		T(test_port_collision),
		T(test_exempt_inside_destination),
		T(test_exempt_multicast_broadcast),
		T(test_exempt_source_not_inside),
		T(test_exempt_host_destination),
		T(test_exempt_route_not_via_uplink),
		T(test_exempt_protocols),
		T(test_icmp_errors_inbound),
		T(test_icmp_errors_outbound),
		T_NH(test_icmp_error_inbound_no_neigh),
		T(test_icmp_errors_tc),
		T(test_hairpin),
		T(test_icmp_error_quote_partial),
		T(test_invalid_headers),
		T_NH(test_nexthop_tc),
		T(test_inbound_no_mapping),
		T(test_inbound_apdf),
		T(test_inbound_adf),
		T(test_inbound_eif),
		T(test_inbound_eif_tcp_open),
		T(test_truncated_l4),
		T(test_truncated_udp_padded),
		T(test_truncated_tcp_padded),
		T(test_truncated_icmp_padded),
		T(test_tcp_mid_stream),
		T_SMALL(test_table_full),
		T_SMALL(test_table_full_new_endpoint),
		T_SMALL(test_table_full_distinct_endpoints),
		T(test_port_range_exhausted),
		T(test_port_range_exhausted_parity),
		T(test_tc_egress_snat),
		T(test_tc_egress_collision),
		T(test_tc_egress_checksum_ffff),
		T(test_tc_egress_untranslated),
		T(test_gc_expires_flow),
		T(test_gc_refreshed_flow_survives),
		T(test_adf_icmp_flow_kept),
		T_NH(test_nexthop_neigh_change),
		T_NH(test_nexthop_route_change),
		T_NH(test_nexthop_max_age),
		T_NH(test_nexthop_reply),
		T_NH(test_nexthop_mtu),
		T_NH(test_nexthop_tos),
		T_NH(test_nexthop_tos_ecn),
		T(test_gen_concurrent_bumps),
		T(test_admission_new_flow_to_kernel),
		T(test_admission_carries_admitted),
		T(test_admission_kernel_entry_gone),
		T(test_admission_egress_needs_kernel_entry),
		T(test_admission_own_nat_after_kernel_forward),
		T(test_harness_detects_mismatch),
	};

	return cmocka_run_group_tests_name("nat", tests, group_setup, group_teardown);
}
