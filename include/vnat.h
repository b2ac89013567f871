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

#define VNAT_MAX_IFACES 256
#define VNAT_IFNAMSIZ 16

/* bpffs layout: one directory per network namespace, named by its inode. */
#define VNAT_PIN_ROOT "/sys/fs/bpf/vnat"

/* tc filter identity, so unload removes exactly the filters vnat added. */
#define VNAT_TC_HANDLE 0x766e /* "vn" */
#define VNAT_TC_PRIO 0x766e

/*
 * Per-reason counters (key of the vnat_stats map). VNAT_FWD_* are packets
 * the fast path transmitted, VNAT_PASS_* packets handed to the kernel
 * untouched, with why. bpftool prints these names from BTF.
 */
enum vnat_stat {
	VNAT_FWD_ROUTED = 0, /* XDP: routed to another managed interface */
	VNAT_FWD_HAIRPIN, /* XDP: routed back out of the ingress interface */
	VNAT_FWD_ROUTED_TC, /* tc ingress: routed skb (GSO/large frames) */
	VNAT_PASS_NOT_IPV4, /* ARP, IPv6, LLDP, any other ethertype */
	VNAT_PASS_NOT_TO_US, /* L2 destination is not the interface's MAC */
	VNAT_PASS_MALFORMED, /* truncated or inconsistent headers */
	VNAT_PASS_IP_OPTIONS, /* IHL > 5: the kernel handles options */
	VNAT_PASS_FRAGMENT, /* MF set or non-zero fragment offset */
	VNAT_PASS_TTL, /* TTL <= 1: the kernel sends Time Exceeded */
	VNAT_PASS_LOCAL, /* addressed to this host */
	VNAT_PASS_NO_ROUTE, /* unreachable/blackhole/prohibit route */
	VNAT_PASS_NO_NEIGH, /* next hop not resolved yet: kernel resolves */
	VNAT_PASS_MTU, /* larger than the egress MTU */
	VNAT_PASS_FWD_DISABLED, /* ip_forward is off on the ingress interface */
	VNAT_PASS_UNMANAGED_OUT, /* route leaves through an unmanaged interface */
	VNAT_PASS_UNSUPPORTED, /* route type the fast path does not implement */
	VNAT_TX_SKB, /* tc egress: left a managed interface as an skb */
	VNAT_STAT_MAX,
};

/* Value of vnat_stats (per CPU). */
struct vnat_counter {
	__u64 packets;
	__u64 bytes;
};

/* vnat_ifaces value flags. */
enum vnat_iface_flags {
	VNAT_IFACE_XDP = 1 << 0, /* vnat's XDP program is attached */
	VNAT_IFACE_TC = 1 << 1, /* vnat's tc filters are attached */
	VNAT_IFACE_OWN_CLSACT = 1 << 2, /* vnat created the clsact qdisc */
};

enum vnat_xdp_mode {
	VNAT_MODE_NATIVE = 0,
	VNAT_MODE_SKB = 1,
};

/* Key of vnat_ifaces: ifindex in host order. Value: */
struct vnat_iface {
	__u8 mac[6]; /* interface address, network order (as on the wire) */
	__u8 xdp_mode; /* enum vnat_xdp_mode */
	__u8 pad0;
	__u32 flags; /* enum vnat_iface_flags, host order */
	char name[VNAT_IFNAMSIZ]; /* name at load time, for status */
};

/* The single entry (key 0) of vnat_config. */
struct vnat_config {
	__u64 netns_cookie; /* SO_NETNS_COOKIE of the namespace, host order */
	__be32 snat_addr; /* --snat address, network order; 0 = none */
	__u32 pad0;
	__u64 loaded_at; /* CLOCK_REALTIME seconds of the first load */
};

#endif /* VNAT_H */
