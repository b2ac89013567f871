/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Route stage: the kernel's FIB and neighbour table decide the next hop. */
#ifndef VNAT_LIB_FIB_H
#define VNAT_LIB_FIB_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "csum.h"
#include "maps.h"
#include "parse.h"

#define VNAT_AF_INET 2 /* <sys/socket.h> is not usable from BPF */

static __always_inline enum vnat_stat vnat_fib_reason(long rc)
{
	switch (rc) {
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		return VNAT_PASS_LOCAL;
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
		/* The kernel owes the sender an ICMP error: let it send one. */
		return VNAT_PASS_NO_ROUTE;
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		return VNAT_PASS_FWD_DISABLED;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return VNAT_PASS_NO_NEIGH;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return VNAT_PASS_MTU;
	default:
		return VNAT_PASS_UNSUPPORTED;
	}
}

/*
 * Route one validated IPv4 packet. tot_len is the length the MTU check
 * uses: the IP total length in XDP, 0 on the tc path so the kernel checks
 * the skb itself (GSO-aware). On success the packet is ready to transmit on
 * *out_ifindex: TTL decremented, checksum patched, MACs rewritten.
 */
static __always_inline enum vnat_stat
vnat_route_ipv4(void *ctx, struct vnat_pkt *p, __u32 in_ifindex, __u16 tot_len, __u32 *out_ifindex)
{
	struct bpf_fib_lookup fib = {};
	struct iphdr *ip = p->ip;
	long rc;

	fib.family = VNAT_AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	fib.tot_len = tot_len; /* host order */
	fib.ifindex = in_ifindex;
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;

	/* flags 0: full lookup with policy rules, as the kernel would route. */
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return vnat_fib_reason(rc);
	if (!bpf_map_lookup_elem(&vnat_ifaces, &fib.ifindex))
		return VNAT_PASS_UNMANAGED_OUT;

	vnat_ip_decrease_ttl(ip);
	__builtin_memcpy(p->eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, fib.smac, ETH_ALEN);
	*out_ifindex = fib.ifindex;
	/* Same-segment next hop: the kernel would forward and send a redirect. */
	return fib.ifindex == in_ifindex ? VNAT_FWD_HAIRPIN : VNAT_FWD_ROUTED;
}

/*
 * The whole routed decision for a frame on a managed interface, shared by
 * the XDP and tc entry points (bpf_fib_lookup takes either context).
 */
static __always_inline enum vnat_stat vnat_forward(void *ctx, void *data, void *end,
						   __u32 in_ifindex, int xdp, __u32 *out_ifindex)
{
	struct vnat_iface *iface;
	struct vnat_pkt p;
	int ret;

	iface = bpf_map_lookup_elem(&vnat_ifaces, &in_ifindex);
	if (!iface)
		return VNAT_PASS_UNSUPPORTED; /* attached but not configured */
	ret = vnat_parse_eth(&p, data, end);
	if (ret)
		return ret;
	/* Only frames addressed to this interface are routed. */
	if (!vnat_mac_equal(p.eth->h_dest, iface->mac))
		return VNAT_PASS_NOT_TO_US;
	ret = vnat_parse_ipv4(&p, end - data);
	if (ret)
		return ret;
	return vnat_route_ipv4(ctx, &p, in_ifindex, xdp ? bpf_ntohs(p.ip->tot_len) : 0,
			       out_ifindex);
}

static __always_inline int vnat_is_forward(enum vnat_stat reason)
{
	return reason == VNAT_FWD_ROUTED || reason == VNAT_FWD_HAIRPIN;
}

#endif /* VNAT_LIB_FIB_H */
