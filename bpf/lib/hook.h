/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The hook layer: everything that differs between XDP and tc, so that the
 * pipeline (pipeline.h) is the same code for both. The pipeline decides
 * and rewrites what both hooks can write directly (MACs, TTL, ICMP errors,
 * whose rewrites are checksum-neutral); here the NAT rewrite is applied
 * with each hook's means, the frame transmitted and the verdict turned
 * into the hook's return code.
 */
#ifndef VNAT_LIB_HOOK_H
#define VNAT_LIB_HOOK_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "csum.h"
#include "ctx.h"
#include "maps.h"
#include "stats.h"

/*
 * XDP: rewrite the source (SNAT) or destination (reply) address and port
 * in place with incremental checksum updates. The frame must carry complete
 * checksums: XDP cannot see a partial one, which is why veths and taps run
 * the tc path by default (docs/ARCHITECTURE.md).
 */
static __always_inline int vnat_xdp_xlate(struct vnat_pkt *p, const struct vnat_l4 *l4, int src,
					  __be32 addr, __be16 port)
{
	struct iphdr *ip = p->ip;
	__be32 old_addr = src ? ip->saddr : ip->daddr;
	void *hdr = (void *)(ip + 1);
	__be16 *pp, old_port;
	__u16 *check;

	ip->check = vnat_csum_replace4(ip->check, old_addr, addr);
	if (src)
		ip->saddr = addr;
	else
		ip->daddr = addr;

	switch (l4->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *t = hdr;

		if ((void *)(t + 1) > p->end)
			return -1;
		pp = src ? &t->source : &t->dest;
		old_port = *pp;
		*pp = port;
		t->check = vnat_csum_replace2(vnat_csum_replace4(t->check, old_addr, addr),
					      old_port, port);
		return 0;
	}
	case IPPROTO_UDP: {
		struct udphdr *u = hdr;

		if ((void *)(u + 1) > p->end)
			return -1;
		pp = src ? &u->source : &u->dest;
		old_port = *pp;
		*pp = port;
		if (u->check)
			u->check = vnat_udp_csum_fix(vnat_csum_replace2(
				vnat_csum_replace4(u->check, old_addr, addr), old_port, port));
		return 0;
	}
	case IPPROTO_ICMP:
		/* Echo: the identifier; no pseudo-header in the ICMP checksum. */
		if (hdr + 8 > p->end)
			return -1;
		pp = hdr + 4;
		check = hdr + 2;
		old_port = *pp;
		*pp = port;
		*check = vnat_csum_replace2(*check, old_port, port);
		return 0;
	}
	return -1;
}

/*
 * tc: the same rewrite through the checksum helpers, which also keep
 * CHECKSUM_PARTIAL (only the pseudo-header part is updated) and
 * CHECKSUM_COMPLETE skbs right. Packet pointers are invalid afterwards.
 */
static __always_inline int vnat_tc_xlate(struct __sk_buff *skb, __u8 proto, int src,
					 const struct vnat_xlate_side *side)
{
	__be32 old_addr = side->old_addr, addr = side->new_addr;
	__be16 old_port = side->old_port, port = side->new_port;
	const __u32 ip_off = sizeof(struct ethhdr);
	const __u32 l4_off = ip_off + sizeof(struct iphdr);
	__u32 addr_off =
		ip_off + (src ? offsetof(struct iphdr, saddr) : offsetof(struct iphdr, daddr));
	__u32 csum_off, port_off;
	__u64 flags = BPF_F_PSEUDO_HDR;

	switch (proto) {
	case IPPROTO_TCP:
		csum_off = l4_off + offsetof(struct tcphdr, check);
		port_off = l4_off + (src ? 0 : 2);
		break;
	case IPPROTO_UDP:
		csum_off = l4_off + offsetof(struct udphdr, check);
		port_off = l4_off + (src ? 0 : 2);
		flags |= BPF_F_MARK_MANGLED_0; /* 0 stays 0, a computed 0 becomes 0xffff */
		break;
	case IPPROTO_ICMP:
		csum_off = l4_off + 2;
		port_off = l4_off + 4;
		break;
	default:
		return -1;
	}
	if (bpf_l3_csum_replace(skb, ip_off + offsetof(struct iphdr, check), old_addr, addr, 4) ||
	    bpf_skb_store_bytes(skb, addr_off, &addr, 4, 0))
		return -1;
	if (proto != IPPROTO_ICMP &&
	    bpf_l4_csum_replace(skb, csum_off, old_addr, addr, flags | sizeof(addr)))
		return -1;
	if (bpf_l4_csum_replace(skb, csum_off, old_port, port,
				(flags & BPF_F_MARK_MANGLED_0) | sizeof(port)) ||
	    bpf_skb_store_bytes(skb, port_off, &port, sizeof(port), 0))
		return -1;
	return 0;
}

/* XDP: c->xl in place (a hairpin has both sides). Non-zero: truncated. */
static __always_inline int vnat_xdp_apply(struct vnat_ctx *c)
{
	if ((c->xl.ops & VNAT_XLATE_SRC) &&
	    vnat_xdp_xlate(&c->p, &c->l4, 1, c->xl.src.new_addr, c->xl.src.new_port))
		return -1;
	if ((c->xl.ops & VNAT_XLATE_DST) &&
	    vnat_xdp_xlate(&c->p, &c->l4, 0, c->xl.dst.new_addr, c->xl.dst.new_port))
		return -1;
	return 0;
}

/* tc: c->xl through the helpers. Non-zero: the skb may be half-rewritten. */
static __always_inline int vnat_tc_apply(struct __sk_buff *skb, const struct vnat_ctx *c)
{
	if ((c->xl.ops & VNAT_XLATE_SRC) && vnat_tc_xlate(skb, c->xl.proto, 1, &c->xl.src))
		return -1;
	if ((c->xl.ops & VNAT_XLATE_DST) && vnat_tc_xlate(skb, c->xl.proto, 0, &c->xl.dst))
		return -1;
	return 0;
}

/* Headers the tc path reads directly: Ethernet, IPv4, TCP without options. */
#define VNAT_TC_PULL (sizeof(struct ethhdr) + sizeof(struct iphdr) + 20)
/* ... and for ICMP errors, rewritten in place: the quote's IP and transport headers. */
#define VNAT_TC_PULL_ICMP (VNAT_TC_PULL + 8 + sizeof(struct iphdr) + 20)

/*
 * Make the headers the pipeline reads linear (a GSO skb from a tap or a
 * veth may hold them in fragments; the payload stays where it is, so the
 * skb stays whole). ICMP errors are pulled as far as their quote.
 */
static __always_inline void vnat_tc_pull(struct __sk_buff *skb)
{
	__u32 want = VNAT_TC_PULL;
	__u8 proto = 0;

	if (!bpf_skb_load_bytes(skb, sizeof(struct ethhdr) + offsetof(struct iphdr, protocol),
				&proto, 1) &&
	    proto == IPPROTO_ICMP)
		want = VNAT_TC_PULL_ICMP;
	if (want > skb->len)
		want = skb->len;
	if ((void *)(long)skb->data + want > (void *)(long)skb->data_end)
		bpf_skb_pull_data(skb, want);
}

#endif /* VNAT_LIB_HOOK_H */
