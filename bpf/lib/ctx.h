/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The per-packet context every stage takes, and the verdict a stage
 * returns. A stage either decides (transmit, hand to the kernel, drop),
 * recording why in c->reason for the counters, or returns VNAT_NEXT and
 * leaves the decision to the next stage. Verdicts and counter reasons are
 * separate types: no reason doubles as "carry on".
 */
#ifndef VNAT_LIB_CTX_H
#define VNAT_LIB_CTX_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include "vnat.h"

enum vnat_verdict {
	VNAT_NEXT = 0, /* no decision yet: the next stage decides */
	VNAT_TX, /* transmit on c->out once c->xl is applied */
	VNAT_TX_NEIGH, /* tc: transmit on c->out through the neighbour code */
	VNAT_PASS, /* to the kernel, untouched */
	VNAT_DROP,
};

struct vnat_pkt {
	struct ethhdr *eth;
	struct iphdr *ip;
	void *end;
};

/*
 * The transport header as NAT sees it. For ICMP echo the identifier is
 * both "ports": it is what the mapping translates.
 */
struct vnat_l4 {
	__be16 sport; /* network order */
	__be16 dport;
	__u8 proto;
	__u8 tcp_flags; /* TCP: FIN 0x01 SYN 0x02 RST 0x04 ACK 0x10 */
	__u8 icmp_type;
	__u8 pad;
	void *hdr; /* start of the transport header */
};

/* The address and port rewrite of one side of a NAT translation. */
struct vnat_xlate_side {
	__be32 old_addr; /* network order, like the ports */
	__be32 new_addr;
	__be16 old_port;
	__be16 new_port;
};

enum vnat_xlate_op {
	VNAT_XLATE_SRC = 1 << 0, /* SNAT: guest -> outside (and a hairpin's sender) */
	VNAT_XLATE_DST = 1 << 1, /* reply: outside -> guest (and a hairpin's receiver) */
};

/*
 * The NAT rewrite a decision asks for, applied by the hook layer (hook.h)
 * with its own means once the stages are done: on tc the checksum helpers
 * invalidate every packet pointer, and only they keep partial checksums.
 */
struct vnat_xlate {
	__u8 ops; /* enum vnat_xlate_op bits */
	__u8 proto;
	__u16 pad;
	struct vnat_xlate_side src;
	struct vnat_xlate_side dst;
};

struct vnat_ctx {
	void *ctx; /* struct xdp_md or struct __sk_buff */
	struct vnat_config *cfg; /* NULL until a load configured the namespace */
	struct vnat_iface *iface; /* ingress as routed: the bridge for frames to it */
	struct vnat_pkt p;
	struct vnat_l4 l4;
	struct vnat_xlate xl;
	__u32 in_ifindex; /* as routed, like iface */
	__u32 in_flags; /* flags of the interface the frame arrived on */
	__u32 out; /* transmit port (ifindex) */
	__u32 out_flags; /* its vnat_ifaces flags */
	__u32 len; /* whole frame (skb->len on tc) */
	__u16 tot_len; /* for the FIB's MTU check: 0 lets the kernel check the skb */
	__u8 xdp; /* XDP (frames) or tc (skbs) */
	__u8 icmp_csum_ok; /* an ICMP error whose checksum is right (icmp.h) */
	enum vnat_stat reason; /* why, for the counters */
};

static __always_inline enum vnat_verdict vnat_decide(struct vnat_ctx *c, enum vnat_verdict v,
						     enum vnat_stat reason)
{
	c->reason = reason;
	return v;
}

static __always_inline enum vnat_verdict vnat_pass(struct vnat_ctx *c, enum vnat_stat reason)
{
	return vnat_decide(c, VNAT_PASS, reason);
}

static __always_inline enum vnat_verdict vnat_drop(struct vnat_ctx *c, enum vnat_stat reason)
{
	return vnat_decide(c, VNAT_DROP, reason);
}

static __always_inline enum vnat_verdict vnat_tx(struct vnat_ctx *c, enum vnat_stat reason)
{
	return vnat_decide(c, VNAT_TX, reason);
}

static __always_inline void vnat_xlate_side_set(struct vnat_xlate_side *s, __be32 old_addr,
						__be32 new_addr, __be16 old_port, __be16 new_port)
{
	s->old_addr = old_addr;
	s->new_addr = new_addr;
	s->old_port = old_port;
	s->new_port = new_port;
}

/* Ask for the source of the packet in c to become addr:port. */
static __always_inline void vnat_xlate_src(struct vnat_ctx *c, __be32 addr, __be16 port)
{
	c->xl.ops |= VNAT_XLATE_SRC;
	c->xl.proto = c->l4.proto;
	vnat_xlate_side_set(&c->xl.src, c->p.ip->saddr, addr, c->l4.sport, port);
}

/* Ask for the destination of the packet in c to become addr:port. */
static __always_inline void vnat_xlate_dst(struct vnat_ctx *c, __be32 addr, __be16 port)
{
	c->xl.ops |= VNAT_XLATE_DST;
	c->xl.proto = c->l4.proto;
	vnat_xlate_side_set(&c->xl.dst, c->p.ip->daddr, addr, c->l4.dport, port);
}

/*
 * XDP transmits only into interfaces that take XDP frames whole: a veth
 * whose peer has neither an XDP program nor GRO drops them, silently for
 * us. The tc path (bpf_redirect) transmits anywhere; XDP passes the frame
 * untouched and tc, which runs next on the same interface, carries it.
 */
static __always_inline enum vnat_verdict vnat_can_transmit(struct vnat_ctx *c,
							   const struct vnat_iface *port)
{
	if (c->xdp && !(port->flags & VNAT_IFACE_XDP_TX))
		return vnat_pass(c, VNAT_PASS_NO_XDP_TX);
	return VNAT_NEXT;
}

#endif /* VNAT_LIB_CTX_H */
