// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The benchmark's BPF side: a paced UDP generator run with
 * BPF_PROG_TEST_RUN in live-frames mode, a counting sink and the "ceiling"
 * forwarder (a bare redirect with no lookup at all). Not part of vnat's
 * datapath; only the benchmark loads it.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bench.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct vb_gen_cfg gen_cfg = {};
const volatile struct vb_fwd_cfg fwd_cfg = {};

struct vb_gen_state gen_state = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vb_count);
} vb_sink_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} vb_fwd_tx SEC(".maps");

/*
 * Read MACs from const volatile data byte by byte: a memcpy from it would
 * drop the volatile and let clang fold the zero initialiser into the code.
 */
static __always_inline void vb_mac_set(__u8 *dst, const volatile __u8 *src)
{
#pragma unroll
	for (int i = 0; i < ETH_ALEN; i++)
		dst[i] = src[i];
}

static __always_inline __u16 vb_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

struct vb_spin {
	__u64 until;
	__u64 now;
};

/* One bpf_loop step of the pacing wait: stop once the frame is due. */
static long vb_spin_step(__u32 i, void *ctx)
{
	struct vb_spin *s = ctx;

	s->now = bpf_ktime_get_ns();
	return s->now >= s->until;
}

/*
 * Wait until frame seq is due and return the time. The whole run is one
 * BPF_PROG_TEST_RUN call (each call costs ~25 ms of set-up), so the pacing
 * has to happen in here. A generator that fell behind (preempted between
 * batches) restarts its schedule rather than sending the missed frames in
 * a burst the receiving ring could not hold; user space sees it in rebased.
 */
static __always_inline __u64 vb_pace(struct vb_gen_state *st, __u64 seq)
{
	__u64 now = bpf_ktime_get_ns(), due;
	struct vb_spin s;

	if (!st->start_ns) {
		st->start_ns = now;
		st->base_ns = now;
		st->base_seq = seq;
	}
	if (!gen_cfg.interval_fp)
		return now;
	due = st->base_ns + (((seq - st->base_seq) * gen_cfg.interval_fp) >> 16);
	if (now < due) {
		s.until = due;
		s.now = now;
		/* 2^23 steps of ~25 ns: far longer than any interval we pace. */
		bpf_loop(1 << 23, vb_spin_step, &s, 0);
		return s.now;
	}
	if (now - due > gen_cfg.slack_ns) {
		st->rebased++;
		st->base_ns = now;
		st->base_seq = seq;
	} else if (now - due > st->lag_max_ns) {
		st->lag_max_ns = now - due;
	}
	return now;
}

/*
 * Live-frame pages come back with whatever the receiver wrote into them
 * (MACs, TTL, NAT rewrites), so every header field is written anew for
 * every frame. The payload is never touched by anyone and keeps the
 * template's magic.
 */
SEC("xdp")
int xdp_bench_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct vb_gen_state *st = &gen_state;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = (void *)(ip + 1);
	__u64 seq = st->sent, f, n_ep, e, r;
	__u16 *w = (__u16 *)ip;
	__u16 udp_len, ulen_be;
	__u32 sum = 0;
	__u64 now;

	if ((void *)(udp + 1) > end)
		return XDP_DROP;
	now = vb_pace(st, seq);

	f = gen_cfg.flows ? (gen_cfg.flow_base + seq) % gen_cfg.flows : gen_cfg.flow_base + seq;
	n_ep = (__u64)gen_cfg.n_saddr * gen_cfg.n_sport;
	e = f % n_ep;
	r = f / n_ep;

	vb_mac_set(eth->h_dest, gen_cfg.dmac);
	vb_mac_set(eth->h_source, gen_cfg.smac);
	eth->h_proto = bpf_htons(ETH_P_IP);

	udp_len = gen_cfg.pkt_len - sizeof(*eth) - sizeof(*ip);
	ulen_be = bpf_htons(udp_len);
	*(__u8 *)ip = 0x45; /* version 4, IHL 5: one store, no bitfield read-back */
	ip->tos = 0;
	ip->tot_len = bpf_htons(udp_len + sizeof(*ip));
	ip->id = bpf_htons((__u16)seq);
	ip->frag_off = 0;
	ip->ttl = gen_cfg.ttl;
	ip->protocol = IPPROTO_UDP;
	ip->check = 0;
	ip->saddr = bpf_htonl(gen_cfg.saddr + (__u32)(e % gen_cfg.n_saddr));
	ip->daddr = bpf_htonl(gen_cfg.daddr + (__u32)(r % gen_cfg.n_daddr));
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	ip->check = ~vb_fold(sum);

	udp->source = bpf_htons(gen_cfg.sport + (__u16)(e / gen_cfg.n_saddr));
	udp->dest = bpf_htons(gen_cfg.dport + (__u16)((r / gen_cfg.n_daddr) % gen_cfg.n_dport));
	udp->len = ulen_be;
	udp->check = 0;
	/*
	 * Pseudo-header, UDP header and the precomputed payload sum, all as
	 * 16-bit words in memory order (the sum does not care which order as
	 * long as it is one order throughout, RFC 1071).
	 */
	sum = gen_cfg.payload_sum + w[6] + w[7] + w[8] + w[9] + bpf_htons(IPPROTO_UDP) + ulen_be +
	      udp->source + udp->dest + ulen_be;
	udp->check = ~vb_fold(sum);
	if (!udp->check)
		udp->check = 0xffff; /* RFC 768: 0 would mean "no checksum" */

	st->sent = seq + 1;
	st->last_ns = now;
	return XDP_TX; /* live-frames mode sends it out of the test's interface */
}

/* Count the generator's frames (by their magic) and drop them; pass the rest. */
SEC("xdp")
int xdp_bench_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 *magic = data + VB_HDR_LEN, key = 0;
	struct vb_count *c;

	if ((void *)(magic + 1) > end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP || ip->ihl != 5 ||
	    *magic != VB_MAGIC)
		return XDP_PASS;
	c = bpf_map_lookup_elem(&vb_sink_count, &key);
	if (c) {
		c->packets++;
		c->bytes += end - data;
	}
	return XDP_DROP;
}

/*
 * The ceiling: what the veths can carry with XDP at all. No parsing beyond
 * the EtherType (ARP must still reach the kernel), no lookup, no TTL: new
 * MACs and a redirect to the other interface.
 */
SEC("xdp")
int xdp_bench_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 out;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (ctx->ingress_ifindex == fwd_cfg.ifindex[0])
		out = 1;
	else if (ctx->ingress_ifindex == fwd_cfg.ifindex[1])
		out = 0;
	else
		return XDP_PASS;
	vb_mac_set(eth->h_dest, fwd_cfg.dmac[out]);
	vb_mac_set(eth->h_source, fwd_cfg.smac[out]);
	return bpf_redirect_map(&vb_fwd_tx, out, XDP_PASS);
}

/*
 * The test-run cost micro-benchmark (vnat-bench cost). BPF_PROG_TEST_RUN
 * with repeat runs a program again and again on the same buffer, without
 * restoring it: after vnat's first run the frame carries the translated
 * source and a lower TTL, and later runs would measure another path. So
 * this wrapper writes the frame back from cost_frame, then tail-calls the
 * program under test (vb_cost_prog[0]); the same wrapper tail-calling
 * xdp_bench_nop gives the overhead to subtract (loop, copy, tail call).
 */
__u8 cost_frame[VB_COST_LEN] = {};

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} vb_cost_prog SEC(".maps");

SEC("xdp")
int xdp_bench_cost(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (data + VB_COST_LEN > end)
		return XDP_ABORTED;
	__builtin_memcpy(data, cost_frame, VB_COST_LEN);
	bpf_tail_call(ctx, &vb_cost_prog, 0);
	return XDP_ABORTED; /* no program under test */
}

SEC("xdp")
int xdp_bench_nop(struct xdp_md *ctx)
{
	return XDP_DROP;
}
