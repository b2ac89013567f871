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
 * Look up the next hop for c's packet with daddr in place of its
 * destination (the translated one for NAT replies). c->tot_len is the
 * length the MTU check uses: the IP total length in XDP, 0 on the tc path
 * for GSO skbs so the kernel checks the skb itself. VNAT_NEXT with *fib
 * filled, or VNAT_PASS.
 */
static __always_inline enum vnat_verdict vnat_fib(struct vnat_ctx *c, __be32 daddr,
						  struct bpf_fib_lookup *fib)
{
	const struct iphdr *ip = c->p.ip;
	long rc;

	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = VNAT_AF_INET;
	fib->tos = ip->tos;
	fib->l4_protocol = ip->protocol;
	fib->tot_len = c->tot_len; /* host order */
	fib->ifindex = c->in_ifindex;
	fib->ipv4_src = ip->saddr;
	fib->ipv4_dst = daddr;

	/* flags 0: full lookup with policy rules, as the kernel would route. */
	rc = bpf_fib_lookup(c->ctx, fib, sizeof(*fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return vnat_pass(c, vnat_fib_reason(rc));
	return VNAT_NEXT;
}

/*
 * Make the packet ready to leave on fib->ifindex: TTL, checksum, MACs.
 * A routed packet leaving by the interface it came in on is one the kernel
 * would forward and answer with an ICMP redirect (seed 000).
 */
static __always_inline enum vnat_verdict
vnat_fib_apply(struct vnat_ctx *c, const struct bpf_fib_lookup *fib, enum vnat_stat fwd)
{
	vnat_ip_decrease_ttl(c->p.ip);
	__builtin_memcpy(c->p.eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(c->p.eth->h_source, fib->smac, ETH_ALEN);
	if (fwd == VNAT_FWD_ROUTED && fib->ifindex == c->in_ifindex)
		fwd = VNAT_FWD_SAME_SEGMENT;
	return vnat_tx(c, fwd);
}

static __always_inline struct vnat_iface *vnat_egress(const struct bpf_fib_lookup *fib)
{
	__u32 ifindex = fib->ifindex;

	return bpf_map_lookup_elem(&vnat_ifaces, &ifindex);
}

/*
 * Where the frame is transmitted: the route's interface, or for a bridge
 * (XDP cannot transmit to one) the port its next hop's MAC was learned on.
 * VNAT_NEXT with c->out, or VNAT_PASS.
 */
static __always_inline enum vnat_verdict
vnat_tx_port(struct vnat_ctx *c, const struct bpf_fib_lookup *fib, struct vnat_iface *egress)
{
	struct vnat_iface *port = egress;
	enum vnat_verdict v;

	if (!egress)
		return vnat_pass(c, VNAT_PASS_UNMANAGED_OUT);
	if (egress->flags & VNAT_IFACE_BRIDGE) {
		v = vnat_fdb_port(c, fib->ifindex, fib->dmac, &port);
		if (v)
			return v;
	} else {
		c->out = fib->ifindex;
	}
	c->out_flags = port->flags;
	return vnat_can_transmit(c, port);
}

/* --redirects keep: a same-segment next hop stays with the kernel. */
static __always_inline int vnat_keep_same_segment(const struct vnat_ctx *c,
						  const struct bpf_fib_lookup *fib)
{
	return c->cfg && (c->cfg->flags & VNAT_CFG_KEEP_REDIRECTS) && fib->ifindex == c->in_ifindex;
}

/*
 * Plain routing between managed interfaces. from_uplink: NAT is on and the
 * frame came in on the uplink without being a reply; if it is routed to
 * the inside, the kernel's FORWARD rules (libvirt rejects such traffic)
 * must see it, so it is not forwarded here.
 */
static __always_inline enum vnat_verdict vnat_route_ipv4(struct vnat_ctx *c, int from_uplink)
{
	struct bpf_fib_lookup fib;
	struct vnat_iface *egress;
	enum vnat_verdict v;

	v = vnat_fib(c, c->p.ip->daddr, &fib);
	if (v)
		return v;
	if (vnat_keep_same_segment(c, &fib))
		return vnat_pass(c, VNAT_PASS_SAME_SEGMENT);
	egress = vnat_egress(&fib);
	if (from_uplink && egress && (egress->flags & VNAT_IFACE_INSIDE))
		return vnat_pass(c, VNAT_PASS_TO_INSIDE);
	v = vnat_tx_port(c, &fib, egress);
	if (v)
		return v;
	return vnat_fib_apply(c, &fib, VNAT_FWD_ROUTED);
}

/*
 * The routing TOS bits (DSCP), what bpf_fib_lookup selects by: a packet
 * whose ECN bits alone differ (CE marked on the way) has the same next hop.
 */
#define VNAT_NH_TOS_MASK 0xfc

/*
 * Next hops cached in a flow (struct vnat_nh). Stored after a full lookup
 * on either hook, for the generation read before that lookup began: a change
 * bumped meanwhile leaves the entry stale, and the next packet looks up
 * again. Two CPUs storing for one flow and direction at once may mix two
 * lookups' fields; only a concurrent change makes those differ, and the
 * change's bump or the entry's age ends the mix.
 */
static __always_inline void vnat_nh_store(const struct vnat_ctx *c, struct vnat_nh *nh,
					  const struct bpf_fib_lookup *fib, __u32 gen, __u64 now)
{
	__builtin_memcpy(nh->dmac, fib->dmac, ETH_ALEN);
	__builtin_memcpy(nh->smac, fib->smac, ETH_ALEN);
	nh->port = c->out;
	nh->in_ifindex = c->in_ifindex;
	nh->gen = gen;
	nh->stamp = now >> VNAT_NH_STAMP_SHIFT;
	nh->max_len = c->tot_len;
	nh->tos = c->p.ip->tos & VNAT_NH_TOS_MASK;
	nh->flags = c->out_flags & VNAT_IFACE_XDP_TX ? VNAT_NH_XDP_TX : 0;
}

/*
 * Usable for c's packet: same generation, young enough, the same lookup
 * inputs, and no longer than what the route's MTU was checked for (a
 * longer packet takes the full lookup, which checks it; a GSO skb on tc,
 * tot_len 0, is checked by the kernel as on the full tc path). XDP only
 * into a port that takes XDP frames: the entry may have been stored by tc.
 */
static __always_inline int vnat_nh_valid(const struct vnat_ctx *c, const struct vnat_nh *nh,
					 __u32 gen, __u64 now)
{
	if (c->xdp && !(nh->flags & VNAT_NH_XDP_TX))
		return 0;
	return nh->port && nh->gen == gen && nh->in_ifindex == c->in_ifindex &&
	       nh->tos == (c->p.ip->tos & VNAT_NH_TOS_MASK) && c->tot_len <= nh->max_len &&
	       (__u32)(now >> VNAT_NH_STAMP_SHIFT) - nh->stamp <
		       (__u32)(VNAT_NH_MAX_AGE_NS >> VNAT_NH_STAMP_SHIFT);
}

/* vnat_fib_apply() with the cached next hop. */
static __always_inline enum vnat_verdict vnat_nh_apply(struct vnat_ctx *c, const struct vnat_nh *nh,
						       enum vnat_stat fwd)
{
	vnat_ip_decrease_ttl(c->p.ip);
	__builtin_memcpy(c->p.eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(c->p.eth->h_source, nh->smac, ETH_ALEN);
	c->out = nh->port;
	return vnat_tx(c, fwd);
}

#endif /* VNAT_LIB_FIB_H */
