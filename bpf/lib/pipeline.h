/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The decision for one frame arriving on a managed interface, shared by
 * the XDP and tc ingress entry points (bpf_fib_lookup takes either
 * context). It rewrites TTL and MACs itself; the NAT rewrite is returned as
 * a vnat_xlate for the caller to apply with its hook's own means, because
 * on the tc path the checksum helpers invalidate every packet pointer.
 */
#ifndef VNAT_LIB_PIPELINE_H
#define VNAT_LIB_PIPELINE_H

#include "ct.h"
#include "fib.h"
#include "nat.h"
#include "icmp.h"
#include "parse.h"

enum vnat_xlate_op {
	VNAT_XLATE_NONE = 0,
	VNAT_XLATE_SRC, /* SNAT: guest -> outside */
	VNAT_XLATE_DST, /* reply: outside -> guest */
};

struct vnat_xlate {
	__u8 op; /* enum vnat_xlate_op */
	__u8 proto;
	__be16 old_port; /* network order, like the addresses */
	__be16 new_port;
	__u16 pad;
	__be32 old_addr;
	__be32 new_addr;
};

struct vnat_frame {
	void *ctx;
	__u32 in_ifindex;
	__u32 len; /* whole frame (skb->len on the tc path) */
	__u16 tot_len; /* for the FIB's MTU check: 0 lets the kernel check the skb */
	__u8 xdp; /* XDP (direct rewrites) or tc */
	__u8 pad;
};

static __always_inline void vnat_xlate_set(struct vnat_xlate *xl, __u8 op, __u8 proto,
					   __be32 old_addr, __be32 new_addr, __be16 old_port,
					   __be16 new_port)
{
	xl->op = op;
	xl->proto = proto;
	xl->old_addr = old_addr;
	xl->new_addr = new_addr;
	xl->old_port = old_port;
	xl->new_port = new_port;
}

static __always_inline int vnat_is_icmp_error(const struct vnat_pkt *p, const struct vnat_l4 *l4,
					      int ret)
{
	return ret == VNAT_PASS_NAT_PROTO && p->ip->protocol == IPPROTO_ICMP &&
	       vnat_icmp_is_error(l4->icmp_type);
}

/*
 * The next hop is known to the kernel only: not resolved, behind an FDB
 * port vnat has not learnt, or out of an interface vnat does not manage.
 */
static __always_inline int vnat_needs_neigh(int ret)
{
	return ret == VNAT_PASS_NO_NEIGH || ret == VNAT_PASS_FDB_MISS ||
	       ret == VNAT_PASS_UNMANAGED_OUT;
}

/* An error from outside about a datagram vnat translated (traceroute, PMTUD). */
static __always_inline enum vnat_stat vnat_nat_icmp_in(const struct vnat_frame *f,
						       const struct vnat_config *cfg,
						       struct vnat_pkt *p, __u32 *out)
{
	struct vnat_rev_key rk = {};
	struct vnat_icmp_quote q;
	struct bpf_fib_lookup fib;
	struct vnat_rev_val *rv;
	struct vnat_ct_key key = {};
	__be32 inside;
	int ret;

	/* The quote is ours: sent from the SNAT address. */
	ret = vnat_icmp_parse_quote(p, &q);
	if (ret)
		return ret;
	if (q.ip->saddr != cfg->snat_addr)
		return VNAT_PASS_ICMP_ERROR;
	rk.outside_port = q.sport;
	rk.proto = q.proto;
	rv = bpf_map_lookup_elem(&vnat_ports, &rk);
	if (!rv)
		return VNAT_PASS_ICMP_ERROR;
	key.inside_addr = rv->inside_addr;
	key.inside_port = rv->inside_port;
	key.remote_addr = q.ip->daddr;
	key.remote_port = q.proto == IPPROTO_ICMP ? 0 : q.dport;
	key.proto = q.proto;
	/* RFC 5508 REQ-3: only for a flow that exists; others are the host's. */
	if (!bpf_map_lookup_elem(&vnat_ct, &key))
		return VNAT_PASS_ICMP_ERROR;
	inside = rv->inside_addr;
	/*
	 * Route first, rewrite after: an error XDP cannot deliver goes to the
	 * kernel as it came (translated, it would meet a conntrack that knows
	 * no such flow, and libvirt's FORWARD rules reject it).
	 */
	ret = vnat_fib(f->ctx, p->ip, inside, f->in_ifindex, f->tot_len, &fib);
	if (!ret)
		ret = vnat_tx_port(&fib, vnat_egress(&fib), out);
	if (ret)
		return ret;
	vnat_icmp_quote_xlate(p, &q, 1, inside, rv->inside_port);
	vnat_icmp_outer_xlate(p, 0, inside);
	return vnat_fib_apply(p, &fib, f->in_ifindex, VNAT_FWD_ICMP_ERROR);
}

/* A guest's error about a datagram vnat delivered to it (REQ-4: outbound too). */
static __always_inline enum vnat_stat vnat_nat_icmp_out(const struct vnat_frame *f,
							const struct vnat_config *cfg,
							struct vnat_pkt *p, __u32 *out)
{
	struct bpf_fib_lookup fib;
	struct vnat_icmp_quote q;
	struct vnat_ct_key key = {};
	struct vnat_ct_val *ct;
	struct vnat_iface *egress;
	int ret;

	ret = vnat_icmp_parse_quote(p, &q);
	if (ret)
		return ret;
	if (q.ip->daddr != p->ip->saddr)
		return VNAT_PASS_ICMP_ERROR;
	key.inside_addr = q.ip->daddr;
	key.inside_port = q.dport;
	key.remote_addr = q.ip->saddr;
	key.remote_port = q.proto == IPPROTO_ICMP ? 0 : q.sport;
	key.proto = q.proto;
	ct = bpf_map_lookup_elem(&vnat_ct, &key);
	if (!ct)
		return VNAT_PASS_ICMP_ERROR;
	ret = vnat_fib(f->ctx, p->ip, p->ip->daddr, f->in_ifindex, f->tot_len, &fib);
	if (ret)
		return ret;
	egress = vnat_egress(&fib);
	if (!vnat_nat_egress(cfg, egress, fib.ifindex))
		return VNAT_PASS_ICMP_ERROR;
	ret = vnat_tx_port(&fib, egress, out);
	if (ret)
		return ret;
	vnat_icmp_quote_xlate(p, &q, 0, ct->outside_addr, ct->outside_port);
	vnat_icmp_outer_xlate(p, 1, ct->outside_addr);
	return vnat_fib_apply(p, &fib, f->in_ifindex, VNAT_FWD_ICMP_ERROR);
}

/* Guest -> outside: route first, translate only what leaves an uplink. */
static __always_inline enum vnat_stat vnat_nat_out(const struct vnat_frame *f,
						   const struct vnat_config *cfg,
						   struct vnat_pkt *p, struct vnat_l4 *l4,
						   __u32 *out, struct vnat_xlate *xl)
{
	/* Before the lookup: a change bumped during it must not look cached. */
	__u32 gen = vnat_gen_now();
	struct bpf_fib_lookup fib;
	struct vnat_iface *egress;
	struct vnat_ct_val *ct;
	int ret = vnat_parse_l4(p, l4);
	__u64 now;

	/* Errors are rewritten in place, which only XDP does here. */
	if (vnat_is_icmp_error(p, l4, ret))
		return f->xdp ? vnat_nat_icmp_out(f, cfg, p, out) : VNAT_PASS_ICMP_ERROR;
	if (ret)
		return ret;
	ret = vnat_fib(f->ctx, p->ip, p->ip->daddr, f->in_ifindex, f->tot_len, &fib);
	if (ret)
		return ret; /* the kernel forwards it; tc egress translates then */
	egress = vnat_egress(&fib);
	ret = vnat_tx_port(&fib, egress, out);
	if (ret)
		return ret;
	if (!vnat_nat_egress(cfg, egress, fib.ifindex))
		return vnat_fib_apply(p, &fib, f->in_ifindex, VNAT_FWD_ROUTED);

	now = bpf_ktime_get_ns();
	ct = vnat_ct_track_out(cfg, p->ip, l4, f->len, now, &ret);
	if (!ct)
		return ret;
	/* The tc path's tot_len (0 for GSO) says nothing about one packet's size. */
	if (f->xdp)
		vnat_nh_store(&ct->nh[VNAT_NH_OUT], &fib, *out, f->in_ifindex, p->ip->tos,
			      f->tot_len, gen, now);
	vnat_xlate_set(xl, VNAT_XLATE_SRC, l4->proto, p->ip->saddr, ct->outside_addr, l4->sport,
		       ct->outside_port);
	return vnat_fib_apply(p, &fib, f->in_ifindex, VNAT_FWD_SNAT);
}

/* Outside -> the SNAT address: a reply for a mapping, or the host's own. */
static __always_inline enum vnat_stat vnat_nat_in(const struct vnat_frame *f,
						  const struct vnat_config *cfg, struct vnat_pkt *p,
						  struct vnat_l4 *l4, __u32 *out,
						  struct vnat_xlate *xl)
{
	__u32 gen = vnat_gen_now(); /* before the lookup, as in vnat_nat_out */
	struct bpf_fib_lookup fib;
	struct vnat_ct_key key;
	struct vnat_ct_val *ct;
	int ret = vnat_parse_l4(p, l4);
	__u64 now;

	if (vnat_is_icmp_error(p, l4, ret))
		return f->xdp ? vnat_nat_icmp_in(f, cfg, p, out) : VNAT_PASS_ICMP_ERROR;
	if (ret)
		return ret;
	now = bpf_ktime_get_ns();
	ct = vnat_ct_inbound(cfg, p->ip, l4, &key, now, &ret);
	if (!ct)
		return ret;
	ret = vnat_fib(f->ctx, p->ip, key.inside_addr, f->in_ifindex, f->tot_len, &fib);
	if (!ret)
		ret = vnat_tx_port(&fib, vnat_egress(&fib), out);
	/*
	 * A guest not resolved (yet) or behind a port vnat cannot transmit to:
	 * never hand the kernel a reply translated, for its conntrack does not
	 * know the flow (libvirt's FORWARD rules reject it). XDP passes it
	 * untouched (and leaves the flow to tc's run, which counts it); the
	 * uplink's tc program meets it again, translates it and gives it to
	 * the neighbour code, which resolves the guest. bpf_redirect_neigh
	 * fills in the MACs but leaves the TTL to us.
	 */
	if (vnat_needs_neigh(ret)) {
		if (f->xdp)
			return ret;
		vnat_ip_decrease_ttl(p->ip);
		*out = fib.ifindex;
		ret = VNAT_FWD_DNAT_NEIGH;
	}
	vnat_ct_touch(cfg, ct, l4, f->len, 0, now);
	vnat_xlate_set(xl, VNAT_XLATE_DST, l4->proto, p->ip->daddr, key.inside_addr, l4->dport,
		       key.inside_port);
	if (ret)
		return ret; /* translated; the kernel forwards it (MTU, routes) */
	if (f->xdp)
		vnat_nh_store(&ct->nh[VNAT_NH_IN], &fib, *out, f->in_ifindex, p->ip->tos,
			      f->tot_len, gen, now);
	return vnat_fib_apply(p, &fib, f->in_ifindex, VNAT_FWD_DNAT);
}

/*
 * The fast path of an established flow (XDP): its packets in either
 * direction with a next hop cached under the current generation skip the
 * martian and NAT-candidate prefix lookups, bpf_fib_lookup and the egress
 * checks. Everything those decided is fixed by what the generation covers
 * (vnat.h: routes, neighbours, interfaces, prefixes and host addresses,
 * the configuration, the FDB), so the packet meets the same decisions as
 * on the full path; the per-packet checks (IPv4 header, TTL, the MTU
 * through max_len) were done or are done here. Returns VNAT_STAT_MAX when
 * the full path must decide: no flow, no valid next hop, ICMP errors.
 */
static __always_inline enum vnat_stat vnat_nat_fast(const struct vnat_frame *f,
						    const struct vnat_config *cfg,
						    const struct vnat_iface *iface,
						    struct vnat_pkt *p, struct vnat_l4 *l4,
						    __u32 *out, struct vnat_xlate *xl)
{
	struct vnat_ct_key key;
	struct vnat_ct_val *ct;
	struct vnat_nh *nh;
	__u64 now;
	int out_dir;

	if (p->ip->daddr == cfg->snat_addr)
		out_dir = 0; /* a reply, on the uplink only; hairpins take the full path */
	else if (iface->flags & VNAT_IFACE_INSIDE)
		out_dir = 1;
	else
		return VNAT_STAT_MAX;
	if (!out_dir && !(iface->flags & VNAT_IFACE_OUTSIDE))
		return VNAT_STAT_MAX;
	if (vnat_parse_l4(p, l4))
		return VNAT_STAT_MAX; /* errors and refusals are the full path's to count */
	if (out_dir) {
		vnat_ct_key_out(&key, p->ip, l4);
		ct = bpf_map_lookup_elem(&vnat_ct, &key);
	} else {
		ct = vnat_ct_find_in(p->ip, l4, &key);
	}
	if (!ct)
		return VNAT_STAT_MAX;
	nh = &ct->nh[out_dir ? VNAT_NH_OUT : VNAT_NH_IN];
	now = bpf_ktime_get_ns();
	if (!vnat_nh_valid(nh, vnat_gen_now(), now, f->in_ifindex, p->ip->tos, f->tot_len))
		return VNAT_STAT_MAX;
	if (out_dir) {
		vnat_ct_refresh_out(cfg, &key, ct, l4, f->len, now);
		vnat_xlate_set(xl, VNAT_XLATE_SRC, l4->proto, p->ip->saddr, ct->outside_addr,
			       l4->sport, ct->outside_port);
		return vnat_nh_apply(p, nh, out, VNAT_FWD_SNAT);
	}
	vnat_ct_touch(cfg, ct, l4, f->len, 0, now);
	vnat_xlate_set(xl, VNAT_XLATE_DST, l4->proto, p->ip->daddr, key.inside_addr, l4->dport,
		       key.inside_port);
	return vnat_nh_apply(p, nh, out, VNAT_FWD_DNAT);
}

/*
 * RFC 4787 REQ-9 hairpinning: a guest sends to another guest's outside
 * endpoint. The sender is translated as if it went out (so the receiver
 * sees the sender's outside ip:port), the receiver's side is looked up and
 * filtered as an inbound packet, and the frame goes straight to the
 * receiver. XDP only (two rewrites in place). Returns VNAT_STAT_MAX when
 * this is no hairpin (the host's own service on the SNAT address).
 */
static __always_inline enum vnat_stat vnat_nat_hairpin(const struct vnat_frame *f,
						       const struct vnat_config *cfg,
						       struct vnat_pkt *p, struct vnat_l4 *l4,
						       __u32 *out)
{
	struct vnat_ct_val *ct, *pct;
	struct vnat_ct_key peer;
	struct bpf_fib_lookup fib;
	struct vnat_rev_key rk = {};
	struct vnat_l4 as_inbound;
	struct iphdr from;
	int ret;
	__u64 now;

	if (vnat_prefix_kind(p->ip->saddr) != VNAT_PREFIX_INSIDE || vnat_parse_l4(p, l4) ||
	    l4->proto == IPPROTO_ICMP)
		return VNAT_STAT_MAX;
	rk.outside_port = l4->dport;
	rk.proto = l4->proto;
	if (!bpf_map_lookup_elem(&vnat_ports, &rk))
		return VNAT_STAT_MAX;

	now = bpf_ktime_get_ns();
	ct = vnat_ct_track_out(cfg, p->ip, l4, f->len, now, &ret);
	if (!ct)
		return ret;
	/* What the receiver's mapping sees: the sender's outside endpoint. */
	from = *p->ip;
	from.saddr = ct->outside_addr;
	as_inbound = *l4;
	as_inbound.sport = ct->outside_port;
	pct = vnat_ct_inbound(cfg, &from, &as_inbound, &peer, now, &ret);
	if (!pct)
		return ret;
	vnat_ct_touch(cfg, pct, l4, f->len, 0, now);

	ret = vnat_fib(f->ctx, p->ip, peer.inside_addr, f->in_ifindex, f->tot_len, &fib);
	if (!ret)
		ret = vnat_tx_port(&fib, vnat_egress(&fib), out);
	if (ret)
		return ret;
	if (vnat_xdp_xlate(p, l4, 1, ct->outside_addr, ct->outside_port) ||
	    vnat_xdp_xlate(p, l4, 0, peer.inside_addr, peer.inside_port))
		return VNAT_PASS_MALFORMED;
	return vnat_fib_apply(p, &fib, f->in_ifindex, VNAT_FWD_HAIRPIN_NAT);
}

/*
 * A frame on a bridge port: bridged port to port, or, when addressed to
 * the bridge, routed as if it had arrived on the bridge (which is where the
 * kernel would route it). Returns 0 with *iface and f->in_ifindex switched
 * to the bridge for routing, or the L2 decision.
 */
static __always_inline int vnat_port_ingress(struct vnat_frame *f, const struct vnat_pkt *p,
					     struct vnat_iface **iface, int xdp, __u32 *out)
{
	struct vnat_iface *port = *iface;
	__u32 bridge = port->master;
	int ret;

	if (!vnat_port_forwarding(port))
		return VNAT_PASS_PORT_STATE;
	ret = vnat_fdb_check_source(p, bridge, f->in_ifindex, bpf_ktime_get_ns());
	if (ret)
		return ret;
	*iface = bpf_map_lookup_elem(&vnat_ifaces, &bridge);
	if (!*iface)
		return VNAT_PASS_UNSUPPORTED;
	if (!vnat_mac_equal(p->eth->h_dest, (*iface)->mac)) {
		/* On the tc path the kernel bridge is right behind us. */
		if (!xdp)
			return VNAT_PASS_FDB_MISS;
		return vnat_bridge_forward(p, port, f->in_ifindex, out);
	}
	f->in_ifindex = bridge;
	return 0;
}

static __always_inline enum vnat_stat vnat_forward(struct vnat_frame *f, void *data, void *end,
						   struct vnat_pkt *p, struct vnat_l4 *l4,
						   __u32 *out, struct vnat_xlate *xl, int xdp)
{
	__u32 in_ifindex = f->in_ifindex;
	struct vnat_config *cfg;
	struct vnat_iface *iface;
	int ret;

	iface = bpf_map_lookup_elem(&vnat_ifaces, &in_ifindex);
	if (!iface)
		return VNAT_PASS_UNSUPPORTED; /* attached but not configured */
	ret = vnat_parse_eth(p, data, end);
	/* ARP and IPv6 between guests may still be bridged in XDP. */
	if ((iface->flags & VNAT_IFACE_PORT) && (!ret || (ret == VNAT_PASS_NOT_IPV4 && xdp))) {
		int l2 = vnat_port_ingress(f, p, &iface, xdp, out);

		if (l2)
			return l2;
	}
	if (ret)
		return ret;
	/* Only frames addressed to this interface are routed. */
	if (!vnat_mac_equal(p->eth->h_dest, iface->mac))
		return VNAT_PASS_NOT_TO_US;
	ret = vnat_parse_ipv4(p, f->len);
	if (ret)
		return ret;
	cfg = vnat_get_config();
	if (xdp && cfg && (cfg->flags & VNAT_CFG_NAT)) {
		ret = vnat_nat_fast(f, cfg, iface, p, l4, out, xl);
		if (ret != VNAT_STAT_MAX)
			return ret;
	}
	/* fib_validate_source() would refuse our own address as a source. */
	if (vnat_prefix_kind(p->ip->saddr) == VNAT_PREFIX_HOST)
		return VNAT_PASS_MARTIAN;
	if (cfg && (cfg->flags & VNAT_CFG_NAT)) {
		if ((iface->flags & VNAT_IFACE_OUTSIDE) && p->ip->daddr == cfg->snat_addr)
			return vnat_nat_in(f, cfg, p, l4, out, xl);
		if ((iface->flags & VNAT_IFACE_INSIDE) && p->ip->daddr == cfg->snat_addr &&
		    f->xdp) {
			ret = vnat_nat_hairpin(f, cfg, p, l4, out);
			if (ret != VNAT_STAT_MAX)
				return ret;
		}
		if ((iface->flags & VNAT_IFACE_INSIDE) &&
		    vnat_nat_candidate(p->ip->saddr, p->ip->daddr))
			return vnat_nat_out(f, cfg, p, l4, out, xl);
	}
	return vnat_route_ipv4(
		f->ctx, cfg, p, f->in_ifindex, f->tot_len,
		cfg && (cfg->flags & VNAT_CFG_NAT) && (iface->flags & VNAT_IFACE_OUTSIDE), out);
}

#endif /* VNAT_LIB_PIPELINE_H */
