/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * vnat.h - the single definition of everything the BPF programs and user
 * space share: map names, keys and values, counter reasons, limits and the
 * configuration record. Only UAPI types; every multi-byte field states its
 * byte order; explicit padding so both compilers agree on the layout.
 */
#ifndef VNAT_H
#define VNAT_H

#include <linux/types.h>
#include <linux/bpf.h> /* struct bpf_timer */

#define VNAT_MAX_IFACES 256
#define VNAT_IFNAMSIZ 16
#define VNAT_MAX_PREFIXES 256 /* inside prefixes and host addresses */
#define VNAT_DEFAULT_MAX_FLOWS 65536

/* Default NAT timeouts in seconds (RFC 4787 REQ-5, RFC 5382 REQ-5). */
#define VNAT_TIMEOUT_UDP 300
#define VNAT_TIMEOUT_UDP_MIN 120 /* RFC 4787 REQ-5: never below 2 minutes */
#define VNAT_TIMEOUT_TCP_EST 7440
#define VNAT_TIMEOUT_TCP_TRANS 240
#define VNAT_TIMEOUT_ICMP 60
/* libvirt's --to-ports 1024-65535 */
#define VNAT_PORT_MIN 1024
#define VNAT_PORT_MAX 65535
/* Bounded randomized port search (RFC 6056 algorithm 1 style). */
#define VNAT_PORT_TRIES 32

/* bpffs layout: one directory per network namespace, named by its inode. */
#define VNAT_PIN_ROOT "/sys/fs/bpf/vnat"

/* tc filter identity, so unload removes exactly the filters vnat added. */
#define VNAT_TC_HANDLE 0x766e /* "vn" */
#define VNAT_TC_PRIO 0x766e

/*
 * Per-reason counters. VNAT_FWD_* are packets the fast path transmitted,
 * VNAT_PASS_* packets handed to the kernel untouched, with why. This list
 * is the one definition of both the enum the datapath counts by and the
 * members of struct vnat_stats, the value of vnat_stats (a per-CPU array
 * of one element), so bpftool prints every counter by name from BTF.
 * X(ENUM, member): member is ENUM in lower case without VNAT_.
 */
#define VNAT_STAT_LIST(X)                                                                          \
	X(VNAT_FWD_ROUTED, fwd_routed) /* XDP: routed to another managed interface */              \
	/* routed back out of its ingress interface: the kernel would send a redirect */           \
	X(VNAT_FWD_SAME_SEGMENT, fwd_same_segment)                                                 \
	X(VNAT_FWD_ROUTED_TC, fwd_routed_tc) /* tc ingress: routed skb (GSO/large frames) */       \
	X(VNAT_PASS_NOT_IPV4, pass_not_ipv4) /* ARP, IPv6, LLDP, any other ethertype */            \
	X(VNAT_PASS_NOT_TO_US, pass_not_to_us) /* L2 destination is not the interface's MAC */     \
	X(VNAT_PASS_MALFORMED, pass_malformed) /* truncated or inconsistent headers */             \
	X(VNAT_PASS_IP_OPTIONS, pass_ip_options) /* IHL > 5: the kernel handles options */         \
	X(VNAT_PASS_FRAGMENT, pass_fragment) /* MF set or non-zero fragment offset */              \
	X(VNAT_PASS_TTL, pass_ttl) /* TTL <= 1: the kernel sends Time Exceeded */                  \
	/* local, broadcast or no route: the FIB says "not forwarded" to all */                    \
	X(VNAT_PASS_LOCAL, pass_local)                                                             \
	X(VNAT_PASS_NO_ROUTE, pass_no_route) /* unreachable/blackhole/prohibit route */            \
	X(VNAT_PASS_NO_NEIGH, pass_no_neigh) /* next hop not resolved yet: kernel resolves */      \
	X(VNAT_PASS_MTU, pass_mtu) /* larger than the egress MTU */                                \
	/* ip_forward is off on the ingress interface */                                           \
	X(VNAT_PASS_FWD_DISABLED, pass_fwd_disabled)                                               \
	/* route leaves through an unmanaged interface */                                          \
	X(VNAT_PASS_UNMANAGED_OUT, pass_unmanaged_out)                                             \
	/* route type the fast path does not implement */                                          \
	X(VNAT_PASS_UNSUPPORTED, pass_unsupported)                                                 \
	X(VNAT_TX_SKB, tx_skb) /* tc egress: left a managed interface as an skb */                 \
	X(VNAT_FWD_SNAT, fwd_snat) /* translated outbound (guest -> outside) */                    \
	X(VNAT_FWD_DNAT, fwd_dnat) /* translated reply (outside -> guest) */                       \
	X(VNAT_FWD_SNAT_TC, fwd_snat_tc) /* translated on the tc path (kernel-forwarded/GSO) */    \
	X(VNAT_FWD_DNAT_TC, fwd_dnat_tc) /* ... and the reply */                                   \
	X(VNAT_NAT_NEW_FLOW, nat_new_flow) /* connection tracking entries created */               \
	X(VNAT_NAT_NEW_MAPPING, nat_new_mapping) /* outside ports allocated */                     \
	X(VNAT_NAT_PORT_KEPT, nat_port_kept) /* ... of which kept the inside source port */        \
	/* to multicast, class E or 255.255.255.255: never forwarded */                            \
	X(VNAT_PASS_NOT_UNICAST, pass_not_unicast)                                                 \
	X(VNAT_PASS_NAT_PROTO, pass_nat_proto) /* protocol vnat does not translate */              \
	X(VNAT_PASS_NAT_UNTRACKED, pass_nat_untracked) /* mid-stream TCP vnat never saw open */    \
	X(VNAT_PASS_NO_MAPPING, pass_no_mapping) /* inbound to the SNAT address, no mapping */     \
	X(VNAT_PASS_FILTERED, pass_filtered) /* inbound the filtering mode does not admit */       \
	X(VNAT_DROP_NO_PORT, drop_no_port) /* new flow refused: port range exhausted */            \
	X(VNAT_DROP_TABLE_FULL, drop_table_full) /* new flow refused: flow table full */           \
	X(VNAT_GC_EXPIRED, gc_expired) /* flows the garbage collector removed */                   \
	X(VNAT_FWD_BRIDGED, fwd_bridged) /* XDP: bridge port to bridge port (known unicast) */     \
	X(VNAT_PASS_FLOOD, pass_flood) /* broadcast/multicast: the kernel bridge floods */         \
	X(VNAT_PASS_FDB_MISS, pass_fdb_miss) /* destination MAC not (yet) in vnat's FDB */         \
	/* sampled to the kernel so its FDB stays fresh */                                         \
	X(VNAT_PASS_FDB_REFRESH, pass_fdb_refresh)                                                 \
	X(VNAT_PASS_PORT_STATE, pass_port_state) /* a port not forwarding (STP) or isolated */     \
	X(VNAT_PASS_SAME_PORT, pass_same_port) /* destination learned on the ingress port */       \
	X(VNAT_PASS_DUP_MAC, pass_dup_mac) /* MAC claimed by two ports: kernel decides */          \
	X(VNAT_FDB_MOVED, fdb_moved) /* a source MAC appeared on another port */                   \
	/* --redirects keep: a same-segment next hop stays with the kernel */                      \
	X(VNAT_PASS_SAME_SEGMENT, pass_same_segment)                                               \
	X(VNAT_DROP_REDIRECT, drop_redirect) /* ICMP redirect leaving a managed interface */       \
	/* source the kernel refuses: 0/8, 127/8, 224/4+, own address */                           \
	X(VNAT_PASS_MARTIAN, pass_martian)                                                         \
	X(VNAT_PASS_BAD_CSUM, pass_bad_csum) /* IPv4 header checksum wrong (RFC 1812 5.2.2) */     \
	/* ICMP error translated with its quoted header (RFC 5508) */                              \
	X(VNAT_FWD_ICMP_ERROR, fwd_icmp_error)                                                     \
	/* ICMP error for no flow vnat knows: the host's */                                        \
	X(VNAT_PASS_ICMP_ERROR, pass_icmp_error)                                                   \
	/* guest to another guest's outside ip:port (RFC 4787 REQ-9) */                            \
	X(VNAT_FWD_HAIRPIN, fwd_hairpin)                                                           \
	/* source MAC not in vnat's FDB: the kernel bridge learns it */                            \
	X(VNAT_PASS_FDB_LEARN, pass_fdb_learn)                                                     \
	/* NAT: uplink to guests, not a reply: the kernel's firewall decides */                    \
	X(VNAT_PASS_TO_INSIDE, pass_to_inside)                                                     \
	/* tc: a reply for a guest not resolved yet, translated, to the neighbour code */          \
	X(VNAT_FWD_DNAT_NEIGH, fwd_dnat_neigh)                                                     \
	X(VNAT_FWD_BRIDGED_TC, fwd_bridged_tc) /* tc ingress: bridge port to bridge port */        \
	X(VNAT_FWD_ICMP_ERROR_TC, fwd_icmp_error_tc) /* tc ingress: ICMP error translated */       \
	X(VNAT_FWD_HAIRPIN_TC, fwd_hairpin_tc) /* tc ingress: NAT hairpinning */                   \
	/* XDP cannot transmit to the target (XDP frames would be lost there): tc carries it */    \
	X(VNAT_PASS_NO_XDP_TX, pass_no_xdp_tx)                                                     \
	/* what conntrack calls invalid (UDP length, TCP offset/flags, ICMP error checksum) */     \
	X(VNAT_PASS_INVALID, pass_invalid)                                                         \
	/* NAT: an inside interface's source outside the inside prefixes: the host's rules */      \
	X(VNAT_PASS_FOREIGN_SOURCE, pass_foreign_source)                                           \
	/* kernel admission: no admitted flow, the kernel's rules decide (new or refused) */       \
	X(VNAT_PASS_ADMISSION, pass_admission)                                                     \
	X(VNAT_FWD_ADMITTED, fwd_admitted) /* XDP: an admitted flow, as the kernel decided */      \
	X(VNAT_FWD_ADMITTED_TC, fwd_admitted_tc) /* tc ingress: the same */                        \
	/* flow directions admitted: tc egress saw the kernel forward one, decided */              \
	X(VNAT_ADMIT_FLOW, admit_flow)                                                             \
	/* the kernel's entry went away (flush, timeout): vnat's copy ended */                     \
	X(VNAT_ADMIT_GONE, admit_gone)                                                             \
	/* TCP FIN/RST of an admitted flow handed to the kernel (it sees the teardown) */          \
	X(VNAT_ADMIT_TEARDOWN, admit_teardown)                                                     \
	/* TCP FIN/RST carried by vnat: the kernel's entry is not liberal (stale window) */        \
	X(VNAT_ADMIT_CLOSED_FAST, admit_closed_fast)                                               \
	/* bridge filtering rules exist: the kernel bridge forwards port to port */                \
	X(VNAT_PASS_BRIDGE_POLICY, pass_bridge_policy)                                             \
	/* --snat alone: uplink traffic to an inside prefix that is no reply (guests protected) */ \
	X(VNAT_DROP_TO_INSIDE, drop_to_inside)                                                     \
	/* --snat alone: an inside prefix's source arriving on the uplink (spoofed) */             \
	X(VNAT_DROP_SPOOFED_INSIDE, drop_spoofed_inside)                                           \
	/* kernel admission: a decided TCP flow not admitted until its entry tracks liberally */   \
	X(VNAT_PASS_AWAIT_LIBERAL, pass_await_liberal)

#define VNAT_STAT_ENUM(e, m) e,
enum vnat_stat {
	VNAT_STAT_LIST(VNAT_STAT_ENUM) VNAT_STAT_MAX,
};

/* One reason's counts. */
struct vnat_counter {
	__u64 packets;
	__u64 bytes;
};

#define VNAT_STAT_MEMBER(e, m) struct vnat_counter m;
/* Value of vnat_stats (per CPU): member i counts enum vnat_stat i. */
struct vnat_stats {
	VNAT_STAT_LIST(VNAT_STAT_MEMBER)
};

/* vnat_ifaces value flags. */
enum vnat_iface_flags {
	VNAT_IFACE_XDP = 1 << 0, /* vnat's XDP program is attached */
	VNAT_IFACE_TC = 1 << 1, /* vnat's tc filters are attached */
	VNAT_IFACE_OWN_CLSACT = 1 << 2, /* vnat created the clsact qdisc */
	VNAT_IFACE_INSIDE = 1 << 3, /* guests behind it (--iface) */
	VNAT_IFACE_OUTSIDE = 1 << 4, /* uplink: translated traffic leaves here */
	VNAT_IFACE_BRIDGE = 1 << 5, /* a bridge: XDP runs on its ports */
	VNAT_IFACE_PORT = 1 << 6, /* a port of the bridge in .master */
	VNAT_IFACE_ISOLATED = 1 << 7, /* port flagged isolated */
	/* port in the kernel's "hairpin mode": frames may leave by the port they came in on */
	VNAT_IFACE_REFLECT = 1 << 8,
	VNAT_IFACE_AUTO = 1 << 9, /* added by vnat (a bridge port), not by --iface */
	/* tc only: no XDP program here (see VNAT_IFACE_HOOK_*) */
	VNAT_IFACE_NO_XDP = 1 << 10,
	/*
	 * The --hook a load asked for (user space only). auto (the default):
	 * tc only on veths and taps, whose frames carry partial checksums XDP
	 * cannot see and whose peers lose TSO/GSO to XDP; XDP elsewhere. tc:
	 * no XDP anywhere. xdp: XDP wherever the endpoint allows it. A bridge
	 * keeps its choice for the ports the daemon attaches later.
	 */
	VNAT_IFACE_HOOK_TC = 1 << 11,
	VNAT_IFACE_HOOK_AUTO = 1 << 12,
	VNAT_IFACE_HOOK_XDP = 1 << 13,
	/*
	 * XDP may transmit here: the interface takes XDP frames whole (a tap;
	 * a veth whose peer has XDP or GRO; a NIC running vnat's XDP natively).
	 */
	VNAT_IFACE_XDP_TX = 1 << 14,
};

#define VNAT_BR_STATE_FORWARDING 3 /* BR_STATE_FORWARDING of <linux/if_bridge.h> */

/* Filtering behaviour for inbound traffic (RFC 4787 section 5). */
enum vnat_filtering {
	VNAT_FILTER_APDF = 0, /* address and port dependent (default) */
	VNAT_FILTER_ADF = 1, /* address dependent */
	VNAT_FILTER_EIF = 2, /* endpoint independent */
};

/* vnat_config flags */
enum vnat_config_flags {
	VNAT_CFG_NAT = 1 << 0, /* translation is on (--snat) */
	VNAT_CFG_KEEP_REDIRECTS = 1 << 1, /* --redirects keep */
	VNAT_CFG_FROM = 1 << 2, /* inside prefixes fixed by --from */
	VNAT_CFG_MASQUERADE = 1 << 3, /* snat_addr follows out_ifindex's address */
	/*
	 * Kernel admission: the namespace has netfilter rules (or --admission
	 * kernel), so the kernel path decides every new flow's fate and
	 * translation; vnat carries only flows the kernel forwarded, as its
	 * conntrack entry says (bpf/lib/admit.h). Written by load and daemon.
	 */
	VNAT_CFG_POLICY = 1 << 4,
	/* --admission kernel|vnat was given: the daemon leaves VNAT_CFG_POLICY as it is */
	VNAT_CFG_POLICY_FIXED = 1 << 5,
	/*
	 * The namespace's conntrack tracks every TCP flow liberally: the
	 * operator set nf_conntrack_tcp_be_liberal=1 (vnat only reads it).
	 * Kernel-admitted TCP then needs no per-flow liberal marking
	 * (vnat_liberal_req) before vnat carries it.
	 */
	VNAT_CFG_TCP_LIBERAL = 1 << 6,
	/*
	 * Bridge filtering applies (nftables bridge-family rules, ebtables-nft,
	 * or br_netfilter passing bridged IPv4 to iptables/nftables rules):
	 * frames between ports of a managed bridge go to the kernel bridge.
	 * Under kernel admission only; every managed bridge alike (vnat does
	 * not read which bridge a rule names).
	 */
	VNAT_CFG_BRIDGE_POLICY = 1 << 7,
	/*
	 * --inbound kernel: with vnat's own NAT, uplink traffic to the inside
	 * prefixes that is no reply, and inside sources arriving on the
	 * uplink, go to the kernel instead of being dropped.
	 */
	VNAT_CFG_INBOUND_KERNEL = 1 << 8,
};

enum vnat_xdp_mode {
	VNAT_MODE_NATIVE = 0,
	VNAT_MODE_SKB = 1,
};

/* Key of vnat_ifaces: ifindex in host order. Value: */
struct vnat_iface {
	__u8 mac[6]; /* interface address, network order (as on the wire) */
	__u8 xdp_mode; /* enum vnat_xdp_mode */
	__u8 port_state; /* bridge ports: BR_STATE_* as the kernel reports it */
	__u32 flags; /* enum vnat_iface_flags, host order */
	__u32 master; /* bridge ports: ifindex of the bridge, host order */
	char name[VNAT_IFNAMSIZ]; /* name at load time, for status */
};

/* vnat_fdb: the kernel bridge's learned unicast entries, mirrored. */
struct vnat_fdb_key {
	__u32 bridge; /* ifindex, host order */
	__u8 mac[6]; /* network order */
	__u16 pad;
};

struct vnat_fdb_val {
	__u32 port; /* ifindex of the port the MAC was learned on */
	__u32 pad;
	__u64 refreshed_ns; /* last frame from it handed to the kernel to learn */
};

/* vnat_macmoves: source MACs seen moving between ports (duplicate MACs). */
struct vnat_macmove {
	__u32 port; /* where the MAC was seen last */
	__u32 prev_port; /* where it was before */
	__u32 moves; /* moves within the current window */
	__u32 pad;
	__u64 window_ns; /* start of the counting window (CLOCK_MONOTONIC) */
	__u64 last_move_ns;
};

/* Moves that make a MAC a duplicate, and for how long it stays one. */
#define VNAT_DUP_MOVES 4
#define VNAT_DUP_WINDOW_NS (10ULL * 1000000000ULL)
#define VNAT_DUP_HOLD_NS (30ULL * 1000000000ULL)
/* Hand a source's frame to the kernel this often so bridge ageing sees it. */
#define VNAT_FDB_REFRESH_NS (30ULL * 1000000000ULL)
#define VNAT_MAX_FDB 16384

/* The single entry (key 0) of vnat_config. Host order unless noted. */
struct vnat_config {
	__u64 netns_cookie; /* SO_NETNS_COOKIE of the namespace */
	__u64 loaded_at; /* CLOCK_REALTIME seconds of the first load */
	__be32 snat_addr; /* outside address, network order; 0 = none */
	__u32 flags; /* enum vnat_config_flags */
	__u16 port_min; /* outside port range, inclusive */
	__u16 port_max;
	__u8 filtering; /* enum vnat_filtering */
	__u8 pad0[3];
	__u32 timeout_udp; /* seconds */
	__u32 timeout_tcp_est;
	__u32 timeout_tcp_trans;
	__u32 timeout_icmp;
	__u32 max_flows; /* size of the flow table */
	__u32 out_ifindex; /* --out: the only egress translated; 0 = any uplink */
	__u32 gc_interval_ms; /* how often the collector scans vnat_ct */
	__u32 pad1;
};

/* vnat_prefixes (LPM trie): inside prefixes and the host's own addresses. */
struct vnat_prefix_key {
	__u32 prefixlen; /* host order, as LPM tries require */
	__be32 addr; /* network order */
};

enum vnat_prefix_kind {
	VNAT_PREFIX_INSIDE = 1, /* --from / the inside interfaces' prefixes */
	VNAT_PREFIX_HOST = 2, /* an address of this host: never translated */
};

struct vnat_prefix_val {
	__u32 kind; /* enum vnat_prefix_kind */
};

/*
 * Connection tracking. A flow is keyed as seen on the inside, before
 * translation. ICMP echo uses the identifier as inside port and 0 as remote
 * port. With --filtering adf, a second entry with remote_port 0 records
 * that the inside endpoint has talked to remote_addr.
 */
struct vnat_ct_key {
	__be32 inside_addr; /* network order */
	__be32 remote_addr;
	__be16 inside_port; /* network order */
	__be16 remote_port;
	__u8 proto; /* IPPROTO_* */
	__u8 pad[3];
};

/*
 * A next hop cached in a flow (vnat_ct_val.nh), so that an established
 * flow's packets skip the prefix lookups, bpf_fib_lookup and the egress
 * checks: everything those decided, for the generation in gen and what
 * else the lookup took from the packet (ingress interface, TOS; address
 * and protocol are the flow's). Host order unless noted.
 */
struct vnat_nh {
	__u8 dmac[6]; /* next hop's MAC, network order */
	__u8 smac[6]; /* transmit interface's MAC, network order */
	__u32 port; /* transmit port (ifindex); 0 = nothing cached */
	__u32 in_ifindex; /* the lookup's ingress interface (a bridge for its ports) */
	__u32 gen; /* vnat_gen sum it was looked up under */
	__u32 stamp; /* bpf_ktime_get_ns() >> VNAT_NH_STAMP_SHIFT at the lookup */
	__u16 max_len; /* largest IP total length the route's MTU was checked for */
	__u8 tos; /* the lookup's IP TOS, DSCP bits only (policy routing may select by it) */
	__u8 flags; /* enum vnat_nh_flags */
};

enum vnat_nh_flags {
	/* port takes XDP frames: the cache serves XDP too, not only tc */
	VNAT_NH_XDP_TX = 1 << 0,
};

enum vnat_nh_dir {
	VNAT_NH_OUT = 0, /* guest -> outside, translated source */
	VNAT_NH_IN = 1, /* reply -> guest */
	VNAT_NH_DIRS,
};

/*
 * A cached next hop is used for at most this long, whatever the
 * generation says: changes nobody reports (no daemon running) take effect
 * within it, as they would within the daemon's 1 s resync.
 */
#define VNAT_NH_MAX_AGE_NS 1000000000ULL
#define VNAT_NH_STAMP_SHIFT 20 /* ~1 ms units; u32 wraps after ~52 days */

/*
 * vnat_gen (array of VNAT_GEN_MAX __u64, BPF_F_MMAPABLE): the generation
 * of everything a cached next hop depends on, the sum of the elements
 * (truncated to the __u32 of vnat_nh.gen). VNAT_GEN_USER is bumped by user
 * space after each change it makes (maps written) or sees (rtnetlink
 * route, rule, neighbour, link, address and netconf events: vnat daemon);
 * VNAT_GEN_DATAPATH by the datapath when it drops a mirrored FDB entry.
 * Every bump is an atomic add (user space through its mapping of the map,
 * never a read-modify-write of a copy, which a concurrent writer's older
 * value could undo), so both only grow and their sum changes whenever
 * either does. Two elements, so each side's count says who bumped.
 */
enum vnat_gen_idx {
	VNAT_GEN_USER = 0,
	VNAT_GEN_DATAPATH = 1,
	VNAT_GEN_MAX,
};

/*
 * vnat_ucount (array of VNAT_UCOUNT_MAX __u64, BPF_F_MMAPABLE): what only
 * user space can count, because the datapath never sees it happen (flows
 * conns flush and load --flush hand back). Atomic adds through user
 * space's mapping, as for vnat_gen: two commands may count at once.
 */
enum vnat_ucount_idx {
	VNAT_UCOUNT_FLUSHED = 0, /* admitted flows handed back by a flush */
	VNAT_UCOUNT_MAX,
};

enum vnat_tcp_state {
	VNAT_TCP_NONE = 0, /* UDP, ICMP and ADF address entries */
	VNAT_TCP_SYN_SENT,
	VNAT_TCP_SYN_RECV, /* SYN-ACK seen from outside */
	VNAT_TCP_ESTABLISHED,
	VNAT_TCP_FIN_WAIT, /* FIN seen in one direction */
	VNAT_TCP_TIME_WAIT, /* FIN seen in both directions */
	VNAT_TCP_CLOSED, /* RST seen */
};

enum vnat_ct_flags {
	VNAT_CT_FIN_OUT = 1 << 0,
	VNAT_CT_FIN_IN = 1 << 1,
	VNAT_CT_ADDR_ENTRY = 1 << 2, /* ADF record, not a flow */
	/* One direction of a flow the kernel admitted: its translation is the kernel's */
	VNAT_CT_KERNEL = 1 << 3,
	VNAT_CT_KREPLY = 1 << 4, /* ... the reply direction (conns shows the original) */
};

/* vnat_ct_key.pad[0] of an ADF address record: its own key space. */
#define VNAT_CT_KEY_ADDR 1
/*
 * vnat_ct_key.pad[0] of a kernel-admitted flow direction, keyed by its
 * tuple as it arrives on the wire (inside_* = source, remote_* =
 * destination, whichever side sent it): own key space, so vnat's own NAT
 * never meets these entries.
 */
#define VNAT_CT_KEY_KERNEL 2
/*
 * How often a packet of an admitted flow refreshes the kernel's entry
 * (bpf_ct_change_timeout) and checks it still exists: not per packet.
 */
#define VNAT_KCT_REFRESH_NS (2ULL * 1000000000ULL)

/*
 * vnat_kliberal (ring buffer): a request from tc egress to the daemon to
 * mark a decided kernel TCP entry liberal both ways through ctnetlink
 * (the flowtable's IP_CT_TCP_FLAG_BE_LIBERAL, which BPF cannot write):
 * the entry's original-direction tuple. vnat admits the flow only once
 * its entry is liberal, since the kernel sees none of the segments vnat
 * carries and would call the next one it sees out of window.
 */
struct vnat_liberal_req {
	__be32 saddr; /* network order */
	__be32 daddr;
	__be16 sport; /* network order */
	__be16 dport;
	__u8 proto; /* IPPROTO_TCP */
	__u8 pad[3];
};

/* vnat_kliberal's size, and how often one flow may ask again (vnat_klibreq). */
#define VNAT_LIBERAL_RING_BYTES (64 * 1024)
#define VNAT_LIBERAL_RETRY_NS 1000000000ULL
#define VNAT_LIBERAL_PENDING 4096

struct vnat_ct_val {
	__u64 expires_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 created_ns;
	__u64 packets_out;
	__u64 bytes_out;
	__u64 packets_in;
	__u64 bytes_in;
	__be32 outside_addr; /* network order */
	__be16 outside_port; /* network order */
	__u8 state; /* enum vnat_tcp_state */
	__u8 flags; /* enum vnat_ct_flags */
	struct vnat_nh nh[VNAT_NH_DIRS]; /* by enum vnat_nh_dir */
	/*
	 * Kernel-admitted directions (VNAT_CT_KERNEL): the translation is
	 * source -> outside_addr:outside_port, destination -> xl_daddr:xl_dport
	 * (the other direction's conntrack tuple, reversed); nh[0] is this
	 * direction's next hop.
	 */
	__be32 xl_daddr; /* network order */
	__be16 xl_dport; /* network order */
	__u16 pad;
	__u64 kct_refreshed_ns; /* when the kernel entry was last refreshed */
};

/* Endpoint-independent mapping, inside endpoint -> outside port. */
struct vnat_map_key {
	__be32 inside_addr; /* network order */
	__be16 inside_port; /* network order */
	__u8 proto;
	__u8 pad;
};

struct vnat_map_val {
	__be16 outside_port; /* network order */
	__u16 pad;
	__u32 flows; /* flows holding the mapping; 0 = the GC may free it */
};

/* Reverse: outside port -> inside endpoint; owning a key owns the port. */
struct vnat_rev_key {
	__be16 outside_port; /* network order */
	__u8 proto;
	__u8 pad;
};

struct vnat_rev_val {
	__be32 inside_addr; /* network order */
	__be16 inside_port; /* network order */
	__u16 pad;
};

/* The single entry of vnat_gc: the periodic collector's timer and stats. */
struct vnat_gc {
	struct bpf_timer timer; /* opaque; user space reads it as zeroes */
	__u64 runs;
	__u64 last_run_ns; /* CLOCK_MONOTONIC */
	__u64 interval_ns;
	__u64 armed; /* 1 once the timer runs */
};

#endif /* VNAT_H */
