/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Route stage: the kernel's FIB and neighbour table decide the next hop. */
#ifndef VNAT_LIB_FIB_H
#define VNAT_LIB_FIB_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "csum.h"
#include "maps.h"
#include "fdb.h"
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
 * Look up the next hop for the packet's header, with daddr in place of its
 * destination (the translated one for NAT replies). tot_len is the length
 * the MTU check uses: the IP total length in XDP, 0 on the tc path so the
 * kernel checks the skb itself (GSO-aware). Returns 0 or a pass reason.
 */
static __always_inline int vnat_fib(void *ctx, const struct iphdr *ip, __be32 daddr,
				    __u32 in_ifindex, __u16 tot_len, struct bpf_fib_lookup *fib)
{
	long rc;

	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = VNAT_AF_INET;
	fib->tos = ip->tos;
	fib->l4_protocol = ip->protocol;
	fib->tot_len = tot_len; /* host order */
	fib->ifindex = in_ifindex;
	fib->ipv4_src = ip->saddr;
	fib->ipv4_dst = daddr;

	/* flags 0: full lookup with policy rules, as the kernel would route. */
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return vnat_fib_reason(rc);
	return 0;
}

/* Make the packet ready to leave on fib->ifindex: TTL, checksum, MACs. */
static __always_inline enum vnat_stat vnat_fib_apply(struct vnat_pkt *p,
						     const struct bpf_fib_lookup *fib,
						     __u32 in_ifindex, enum vnat_stat fwd)
{
	vnat_ip_decrease_ttl(p->ip);
	__builtin_memcpy(p->eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, fib->smac, ETH_ALEN);
	/* Same-segment next hop: the kernel would forward and send a redirect. */
	if (fwd == VNAT_FWD_ROUTED && fib->ifindex == in_ifindex)
		return VNAT_FWD_HAIRPIN;
	return fwd;
}

static __always_inline struct vnat_iface *vnat_egress(const struct bpf_fib_lookup *fib)
{
	__u32 ifindex = fib->ifindex;

	return bpf_map_lookup_elem(&vnat_ifaces, &ifindex);
}

/*
 * Where the frame is transmitted: the route's interface, or for a bridge
 * (XDP cannot transmit to one) the port its next hop's MAC was learned on.
 * Returns 0 and *out, or a pass reason.
 */
static __always_inline int vnat_tx_port(const struct bpf_fib_lookup *fib,
					const struct vnat_iface *egress, __u32 *out)
{
	struct vnat_iface *port;

	if (!egress)
		return VNAT_PASS_UNMANAGED_OUT;
	if (egress->flags & VNAT_IFACE_BRIDGE)
		return vnat_fdb_port(fib->ifindex, fib->dmac, out, &port);
	*out = fib->ifindex;
	return 0;
}

/* --redirects keep: a same-segment next hop stays with the kernel. */
static __always_inline int vnat_keep_hairpin(const struct vnat_config *cfg,
					     const struct bpf_fib_lookup *fib, __u32 in_ifindex)
{
	return cfg && (cfg->flags & VNAT_CFG_KEEP_REDIRECTS) && fib->ifindex == in_ifindex;
}

/*
 * Plain routing between managed interfaces. from_uplink: NAT is on and the
 * frame came in on the uplink without being a reply; if it is routed to
 * the inside, the kernel's FORWARD rules (libvirt rejects such traffic)
 * must see it, so it is not forwarded here.
 */
static __always_inline enum vnat_stat vnat_route_ipv4(void *ctx, const struct vnat_config *cfg,
						      struct vnat_pkt *p, __u32 in_ifindex,
						      __u16 tot_len, int from_uplink,
						      __u32 *out_ifindex)
{
	struct bpf_fib_lookup fib;
	struct vnat_iface *egress;
	int ret;

	ret = vnat_fib(ctx, p->ip, p->ip->daddr, in_ifindex, tot_len, &fib);
	if (ret)
		return ret;
	if (vnat_keep_hairpin(cfg, &fib, in_ifindex))
		return VNAT_PASS_HAIRPIN;
	egress = vnat_egress(&fib);
	if (from_uplink && egress && (egress->flags & VNAT_IFACE_INSIDE))
		return VNAT_PASS_TO_INSIDE;
	ret = vnat_tx_port(&fib, egress, out_ifindex);
	if (ret)
		return ret;
	return vnat_fib_apply(p, &fib, in_ifindex, VNAT_FWD_ROUTED);
}

/*
 * The routing TOS bits (DSCP), what bpf_fib_lookup selects by: a packet
 * whose ECN bits alone differ (CE marked on the way) has the same next hop.
 */
#define VNAT_NH_TOS_MASK 0xfc

/*
 * Next hops cached in a flow (struct vnat_nh). Stored after a full lookup
 * in XDP, for the generation read before that lookup began: a change
 * bumped meanwhile leaves the entry stale, and the next packet looks up
 * again. Two CPUs storing for one flow and direction at once may mix two
 * lookups' fields; only a concurrent change makes those differ, and the
 * change's bump or the entry's age ends the mix.
 */
static __always_inline void vnat_nh_store(struct vnat_nh *nh, const struct bpf_fib_lookup *fib,
					  __u32 port, __u32 in_ifindex, __u8 tos, __u16 tot_len,
					  __u32 gen, __u64 now)
{
	__builtin_memcpy(nh->dmac, fib->dmac, ETH_ALEN);
	__builtin_memcpy(nh->smac, fib->smac, ETH_ALEN);
	nh->port = port;
	nh->in_ifindex = in_ifindex;
	nh->gen = gen;
	nh->stamp = now >> VNAT_NH_STAMP_SHIFT;
	nh->max_len = tot_len;
	nh->tos = tos & VNAT_NH_TOS_MASK;
}

/*
 * Usable for a packet of tot_len: same generation, young enough, the same
 * lookup inputs, and no longer than what the route's MTU was checked for
 * (a longer packet takes the full lookup, which checks it).
 */
static __always_inline int vnat_nh_valid(const struct vnat_nh *nh, __u32 gen, __u64 now,
					 __u32 in_ifindex, __u8 tos, __u16 tot_len)
{
	return nh->port && nh->gen == gen && nh->in_ifindex == in_ifindex &&
	       nh->tos == (tos & VNAT_NH_TOS_MASK) && tot_len <= nh->max_len &&
	       (__u32)(now >> VNAT_NH_STAMP_SHIFT) - nh->stamp <
		       (__u32)(VNAT_NH_MAX_AGE_NS >> VNAT_NH_STAMP_SHIFT);
}

/* vnat_fib_apply() with the cached next hop. */
static __always_inline enum vnat_stat vnat_nh_apply(struct vnat_pkt *p, const struct vnat_nh *nh,
						    __u32 *out, enum vnat_stat fwd)
{
	vnat_ip_decrease_ttl(p->ip);
	__builtin_memcpy(p->eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, nh->smac, ETH_ALEN);
	*out = nh->port;
	return fwd;
}

static __always_inline int vnat_is_forward(enum vnat_stat reason)
{
	return reason == VNAT_FWD_ROUTED || reason == VNAT_FWD_HAIRPIN || reason == VNAT_FWD_SNAT ||
	       reason == VNAT_FWD_DNAT || reason == VNAT_FWD_BRIDGED ||
	       reason == VNAT_FWD_ICMP_ERROR || reason == VNAT_FWD_HAIRPIN_NAT;
}

#endif /* VNAT_LIB_FIB_H */
