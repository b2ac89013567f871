/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bench.h - what the benchmark's BPF programs (vnat_bench.bpf.c) and their
 * driver (vnat-bench.c) share: the generator's configuration and state,
 * the sink's counter and the ceiling forwarder's configuration. UAPI types
 * only; byte order is stated on every multi-byte field.
 */
#ifndef VNAT_BENCH_H
#define VNAT_BENCH_H

#include <linux/types.h>

/* First payload word of every generated frame: what the sink counts. */
#define VB_MAGIC 0x21626e76 /* "vnb!" as it lies in memory on little-endian */
#define VB_HDR_LEN 42 /* Ethernet + IPv4 (no options) + UDP */
#define VB_MIN_LEN (VB_HDR_LEN + 4) /* headers and the magic */
#define VB_MAX_LEN 1514 /* 1518 on the wire less the FCS veths do not carry */

/*
 * Generator configuration (read-only data, fixed at load). Frame i belongs
 * to flow f = (flow_base + i) % flows, or flow_base + i when flows is 0.
 * f splits into an inside endpoint e = f % (n_saddr * n_sport) and a remote
 * r = f / (n_saddr * n_sport): the source address steps fastest, then the
 * source port, then the destination address, then the destination port.
 */
struct vb_gen_cfg {
	__u8 dmac[6]; /* network order, as on the wire */
	__u8 smac[6];
	__u32 saddr; /* first source address, host order */
	__u32 daddr; /* first destination address, host order */
	__u32 n_saddr; /* consecutive addresses/ports used, each >= 1 */
	__u32 n_sport;
	__u32 n_daddr;
	__u32 n_dport;
	__u16 sport; /* first ports, host order */
	__u16 dport;
	__u16 pkt_len; /* frame length without FCS, host order */
	__u8 ttl;
	__u8 pad0;
	__u64 flows; /* flows cycled through; 0: every frame opens a new one */
	__u64 flow_base;
	__u64 interval_fp; /* ns between frames, 16.16 fixed point; 0: unpaced */
	__u64 slack_ns; /* lag after which the schedule restarts instead of bursting */
	__u32 payload_sum; /* ones' complement sum of the payload's 16-bit words in memory order */
	__u32 pad1;
};

/* Generator state (.bss), read by user space after the run. */
struct vb_gen_state {
	__u64 sent; /* frames returned as XDP_TX */
	__u64 start_ns; /* CLOCK_MONOTONIC of the first frame */
	__u64 last_ns; /* ... and of the last */
	__u64 base_ns; /* schedule origin: frame base_seq is due at base_ns */
	__u64 base_seq;
	__u64 rebased; /* times the generator fell more than slack_ns behind */
	__u64 lag_max_ns; /* largest lag below slack_ns */
};

/* Sink counter (per-CPU array, key 0). */
struct vb_count {
	__u64 packets;
	__u64 bytes;
};

/* Ceiling forwarder: frames in on ifindex[i] leave on ifindex[1 - i]. */
struct vb_fwd_cfg {
	__u32 ifindex[2]; /* host order */
	__u8 dmac[2][6]; /* next hop's MAC when leaving on ifindex[i] */
	__u8 smac[2][6]; /* ifindex[i]'s own MAC */
};

/* vnat-bench cost: the frame the wrapper restores before every run (64 B on the wire). */
#define VB_COST_LEN 60

#endif /* VNAT_BENCH_H */
