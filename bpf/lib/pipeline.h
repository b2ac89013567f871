/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The decision for one frame arriving on a managed interface, the same
 * code for the XDP and tc ingress entry points (bpf_fib_lookup takes
 * either context). Each stage takes the packet's context (ctx.h) and
 * returns a verdict. Stages rewrite TTL, MACs and ICMP errors themselves;
 * the NAT rewrite is returned in c->xl for the hook layer (hook.h) to
 * apply with its hook's own means.
 */
#ifndef VNAT_LIB_PIPELINE_H
#define VNAT_LIB_PIPELINE_H

#include "admit.h"
#include "ct.h"
#include "ctx.h"
#include "fib.h"
#include "nat.h"
#include "icmp.h"
#include "parse.h"

static __always_inline int vnat_is_icmp_error(const struct vnat_ctx *c)
{
	return c->l4.proto == IPPROTO_ICMP && vnat_icmp_is_error(c->l4.icmp_type);
}

/*
 * The next hop is known to the kernel only: not resolved, behind an FDB
 * port vnat has not learnt, or out of an interface vnat does not manage.
 */
static __always_inline int vnat_needs_neigh(const struct vnat_ctx *c)
{
	return c->reason == VNAT_PASS_NO_NEIGH || c->reason == VNAT_PASS_FDB_MISS ||
	       c->reason == VNAT_PASS_UNMANAGED_OUT;
}

/* A flow conntrack refused: a full table or port range drops, the rest is the kernel's. */
static __always_inline enum vnat_verdict vnat_nat_refused(struct vnat_ctx *c, int reason)
{
	if (reason == VNAT_DROP_NO_PORT || reason == VNAT_DROP_TABLE_FULL)
		return vnat_drop(c, reason);
	return vnat_pass(c, reason);
}

/* An error from outside about a datagram vnat translated (traceroute, PMTUD). */
static __always_inline enum vnat_verdict vnat_nat_icmp_in(struct vnat_ctx *c)
{
	struct vnat_rev_key rk = {};
	struct vnat_icmp_quote q;
	struct bpf_fib_lookup fib;
	struct vnat_rev_val *rv;
	struct vnat_ct_key key = {};
	enum vnat_verdict v;
	__be32 inside;

	/* The quote is ours: sent from the SNAT address. */
	v = vnat_icmp_parse_quote(c, &q);
	if (v)
		return v;
	if (q.ip->saddr != c->cfg->snat_addr)
		return vnat_pass(c, VNAT_PASS_ICMP_ERROR);
	rk.outside_port = q.sport;
	rk.proto = q.proto;
	rv = bpf_map_lookup_elem(&vnat_ports, &rk);
	if (!rv)
		return vnat_pass(c, VNAT_PASS_ICMP_ERROR);
	key.inside_addr = rv->inside_addr;
	key.inside_port = rv->inside_port;
	key.remote_addr = q.ip->daddr;
	key.remote_port = q.proto == IPPROTO_ICMP ? 0 : q.dport;
	key.proto = q.proto;
	/* RFC 5508 REQ-3: only for a flow that exists; others are the host's. */
	if (!bpf_map_lookup_elem(&vnat_ct, &key))
		return vnat_pass(c, VNAT_PASS_ICMP_ERROR);
	inside = rv->inside_addr;
	/*
	 * Route first, rewrite after: an error vnat cannot deliver goes to the
	 * kernel as it came (translated, it would meet a conntrack that knows
	 * no such flow, and libvirt's FORWARD rules reject it).
	 */
	v = vnat_fib(c, inside, &fib);
	if (!v)
		v = vnat_tx_port(c, &fib, vnat_egress(&fib));
	if (v)
		return v;
	vnat_icmp_quote_xlate(&c->p, &q, 1, inside, rv->inside_port);
	vnat_icmp_outer_xlate(&c->p, 0, inside);
	return vnat_fib_apply(c, &fib, VNAT_FWD_ICMP_ERROR);
}

/* A guest's error about a datagram vnat delivered to it (REQ-4: outbound too). */
static __always_inline enum vnat_verdict vnat_nat_icmp_out(struct vnat_ctx *c)
{
	struct bpf_fib_lookup fib;
	struct vnat_icmp_quote q;
	struct vnat_ct_key key = {};
	struct vnat_ct_val *ct;
	struct vnat_iface *egress;
	enum vnat_verdict v;

	v = vnat_icmp_parse_quote(c, &q);
	if (v)
		return v;
	if (q.ip->daddr != c->p.ip->saddr)
		return vnat_pass(c, VNAT_PASS_ICMP_ERROR);
	key.inside_addr = q.ip->daddr;
	key.inside_port = q.dport;
	key.remote_addr = q.ip->saddr;
	key.remote_port = q.proto == IPPROTO_ICMP ? 0 : q.sport;
	key.proto = q.proto;
	ct = bpf_map_lookup_elem(&vnat_ct, &key);
	if (!ct)
		return vnat_pass(c, VNAT_PASS_ICMP_ERROR);
	v = vnat_fib(c, c->p.ip->daddr, &fib);
	if (v)
		return v;
	egress = vnat_egress(&fib);
	if (!vnat_nat_egress(c->cfg, egress, fib.ifindex))
		return vnat_pass(c, VNAT_PASS_ICMP_ERROR);
	v = vnat_tx_port(c, &fib, egress);
	if (v)
		return v;
	vnat_icmp_quote_xlate(&c->p, &q, 0, ct->outside_addr, ct->outside_port);
	vnat_icmp_outer_xlate(&c->p, 1, ct->outside_addr);
	return vnat_fib_apply(c, &fib, VNAT_FWD_ICMP_ERROR);
}

/* Guest -> outside: route first, translate only what leaves an uplink. */
static __always_inline enum vnat_verdict vnat_nat_out(struct vnat_ctx *c)
{
	/* Before the lookup: a change bumped during it must not look cached. */
	__u32 gen = vnat_gen_now();
	enum vnat_verdict v = vnat_parse_l4(c);
	struct bpf_fib_lookup fib;
	struct vnat_iface *egress;
	int policy = c->cfg->flags & VNAT_CFG_POLICY;
	struct vnat_ct_key key;
	struct vnat_ct_val *ct;
	int reason;
	__u64 now;

	if (vnat_is_icmp_error(c))
		return vnat_nat_icmp_out(c);
	if (v)
		return v;
	/* Kernel admission: only a flow tc egress created after FORWARD accepted it. */
	if (policy) {
		vnat_ct_key_out(&key, c->p.ip, &c->l4);
		ct = bpf_map_lookup_elem(&vnat_ct, &key);
		if (!ct)
			return vnat_pass(c, VNAT_PASS_ADMISSION);
	}
	v = vnat_fib(c, c->p.ip->daddr, &fib);
	if (v)
		return v; /* the kernel forwards it; tc egress translates then */
	egress = vnat_egress(&fib);
	v = vnat_tx_port(c, &fib, egress);
	if (v)
		return v;
	if (!vnat_nat_egress(c->cfg, egress, fib.ifindex))
		return policy ? vnat_pass(c, VNAT_PASS_ADMISSION) :
				vnat_fib_apply(c, &fib, VNAT_FWD_ROUTED);

	now = bpf_ktime_get_ns();
	if (policy) {
		ct = bpf_map_lookup_elem(&vnat_ct, &key);
		if (!ct)
			return vnat_pass(c, VNAT_PASS_ADMISSION);
		vnat_ct_refresh_out(c->cfg, &key, ct, &c->l4, c->len, now);
	} else {
		ct = vnat_ct_track_out(c->cfg, c->p.ip, &c->l4, c->len, now, &reason);
		if (!ct)
			return vnat_nat_refused(c, reason);
	}
	vnat_nh_store(c, &ct->nh[VNAT_NH_OUT], &fib, gen, now);
	vnat_xlate_src(c, ct->outside_addr, ct->outside_port);
	return vnat_fib_apply(c, &fib, VNAT_FWD_SNAT);
}

/* Outside -> the SNAT address: a reply for a mapping, or the host's own. */
static __always_inline enum vnat_verdict vnat_nat_in(struct vnat_ctx *c)
{
	__u32 gen = vnat_gen_now(); /* before the lookup, as in vnat_nat_out */
	enum vnat_verdict v = vnat_parse_l4(c);
	struct bpf_fib_lookup fib;
	struct vnat_ct_key key;
	struct vnat_ct_val *ct;
	int reason;
	__u64 now;

	if (vnat_is_icmp_error(c))
		return vnat_nat_icmp_in(c);
	if (v)
		return v;
	now = bpf_ktime_get_ns();
	/* Kernel admission: the exact flow only; whatever else, the kernel's rules judge. */
	if (c->cfg->flags & VNAT_CFG_POLICY) {
		ct = vnat_ct_find_in(c->p.ip, &c->l4, &key);
		reason = VNAT_PASS_ADMISSION;
	} else {
		ct = vnat_ct_inbound(c->cfg, c->p.ip, &c->l4, &key, now, &reason);
	}
	if (!ct)
		return vnat_pass(c, reason);
	v = vnat_fib(c, key.inside_addr, &fib);
	if (!v)
		v = vnat_tx_port(c, &fib, vnat_egress(&fib));
	/*
	 * A guest not resolved (yet), behind a port vnat cannot transmit to,
	 * or one XDP frames cannot reach: never hand the kernel a reply
	 * translated, for its conntrack does not know the flow (libvirt's
	 * FORWARD rules reject it). XDP passes it untouched (and leaves the
	 * flow to tc's run, which counts it); the uplink's tc program meets it
	 * again, and transmits it or gives it to the neighbour code, which
	 * resolves the guest. bpf_redirect_neigh fills in the MACs but leaves
	 * the TTL to us.
	 */
	if (v && c->xdp && (vnat_needs_neigh(c) || c->reason == VNAT_PASS_NO_XDP_TX))
		return v;
	if (v && vnat_needs_neigh(c)) {
		vnat_ip_decrease_ttl(c->p.ip);
		c->out = fib.ifindex;
		v = vnat_decide(c, VNAT_TX_NEIGH, VNAT_FWD_DNAT_NEIGH);
	}
	vnat_ct_touch(c->cfg, ct, &c->l4, c->len, 0, now);
	vnat_xlate_dst(c, key.inside_addr, key.inside_port);
	if (v)
		return v; /* translated; the kernel forwards it (MTU, routes) */
	vnat_nh_store(c, &ct->nh[VNAT_NH_IN], &fib, gen, now);
	return vnat_fib_apply(c, &fib, VNAT_FWD_DNAT);
}

/*
 * The fast path of an established flow (either hook): its packets in either
 * direction with a next hop cached under the current generation skip the
 * martian and NAT-candidate prefix lookups, bpf_fib_lookup and the egress
 * checks. Everything those decided is fixed by what the generation covers
 * (vnat.h: routes, neighbours, interfaces, prefixes and host addresses,
 * the configuration, the FDB), so the packet meets the same decisions as
 * on the full path; the per-packet checks (IPv4 header, TTL, the MTU
 * through max_len) were done or are done here. VNAT_NEXT when the full
 * path must decide: no flow, no valid next hop, ICMP errors.
 */
static __always_inline enum vnat_verdict vnat_nat_fast(struct vnat_ctx *c)
{
	const struct vnat_config *cfg = c->cfg;
	struct vnat_ct_key key;
	struct vnat_ct_val *ct;
	struct vnat_nh *nh;
	__u64 now;
	int out_dir;

	if (c->p.ip->daddr == cfg->snat_addr)
		out_dir = 0; /* a reply, on the uplink only; hairpins take the full path */
	else if (c->iface->flags & VNAT_IFACE_INSIDE)
		out_dir = 1;
	else
		return VNAT_NEXT;
	if (!out_dir && !(c->iface->flags & VNAT_IFACE_OUTSIDE))
		return VNAT_NEXT;
	if (vnat_parse_l4(c))
		return VNAT_NEXT; /* errors and refusals are the full path's to count */
	if (out_dir) {
		vnat_ct_key_out(&key, c->p.ip, &c->l4);
		ct = bpf_map_lookup_elem(&vnat_ct, &key);
	} else {
		ct = vnat_ct_find_in(c->p.ip, &c->l4, &key);
	}
	if (!ct)
		return VNAT_NEXT;
	nh = &ct->nh[out_dir ? VNAT_NH_OUT : VNAT_NH_IN];
	now = bpf_ktime_get_ns();
	if (!vnat_nh_valid(c, nh, vnat_gen_now(), now))
		return VNAT_NEXT;
	if (out_dir) {
		vnat_ct_refresh_out(cfg, &key, ct, &c->l4, c->len, now);
		vnat_xlate_src(c, ct->outside_addr, ct->outside_port);
		return vnat_nh_apply(c, nh, VNAT_FWD_SNAT);
	}
	vnat_ct_touch(cfg, ct, &c->l4, c->len, 0, now);
	vnat_xlate_dst(c, key.inside_addr, key.inside_port);
	return vnat_nh_apply(c, nh, VNAT_FWD_DNAT);
}

/*
 * RFC 4787 REQ-9 hairpinning: a guest sends to another guest's outside
 * endpoint. The sender is translated as if it went out (so the receiver
 * sees the sender's outside ip:port), the receiver's side is looked up and
 * filtered as an inbound packet, and the frame goes straight to the
 * receiver with both sides rewritten. VNAT_NEXT when this is no hairpin
 * (the host's own service on the SNAT address).
 */
static __always_inline enum vnat_verdict vnat_nat_hairpin(struct vnat_ctx *c)
{
	const struct vnat_config *cfg = c->cfg;
	struct vnat_ct_val *ct, *pct;
	struct vnat_ct_key peer;
	struct bpf_fib_lookup fib;
	struct vnat_rev_key rk = {};
	struct vnat_l4 as_inbound;
	enum vnat_verdict v;
	struct iphdr from;
	int reason;
	__u64 now;

	if (vnat_prefix_kind(c->p.ip->saddr) != VNAT_PREFIX_INSIDE || vnat_parse_l4(c) ||
	    c->l4.proto == IPPROTO_ICMP)
		return VNAT_NEXT;
	rk.outside_port = c->l4.dport;
	rk.proto = c->l4.proto;
	if (!bpf_map_lookup_elem(&vnat_ports, &rk))
		return VNAT_NEXT;

	now = bpf_ktime_get_ns();
	ct = vnat_ct_track_out(cfg, c->p.ip, &c->l4, c->len, now, &reason);
	if (!ct)
		return vnat_nat_refused(c, reason);
	/* What the receiver's mapping sees: the sender's outside endpoint. */
	from = *c->p.ip;
	from.saddr = ct->outside_addr;
	as_inbound = c->l4;
	as_inbound.sport = ct->outside_port;
	pct = vnat_ct_inbound(cfg, &from, &as_inbound, &peer, now, &reason);
	if (!pct)
		return vnat_nat_refused(c, reason);
	vnat_ct_touch(cfg, pct, &c->l4, c->len, 0, now);

	v = vnat_fib(c, peer.inside_addr, &fib);
	if (!v)
		v = vnat_tx_port(c, &fib, vnat_egress(&fib));
	if (v)
		return v;
	vnat_xlate_src(c, ct->outside_addr, ct->outside_port);
	vnat_xlate_dst(c, peer.inside_addr, peer.inside_port);
	return vnat_fib_apply(c, &fib, VNAT_FWD_HAIRPIN);
}

/*
 * vnat's own NAT with no host rules to protect the guests (an accept-all
 * namespace): what libvirt's FORWARD rules stop, vnat drops on the uplink.
 * Traffic to an inside prefix that is no reply (replies are addressed to
 * the SNAT address) would reach a guest directly, and an inside source
 * arriving from outside is spoofed (skind: the source's prefix kind).
 * --inbound kernel leaves both to the kernel.
 */
static __always_inline enum vnat_verdict vnat_nat_guard(struct vnat_ctx *c, __u32 skind)
{
	if (skind == VNAT_PREFIX_INSIDE)
		return vnat_drop(c, VNAT_DROP_SPOOFED_INSIDE);
	/* Replies (to the SNAT address) pay no lookup. */
	if (c->p.ip->daddr != c->cfg->snat_addr &&
	    vnat_prefix_kind(c->p.ip->daddr) == VNAT_PREFIX_INSIDE)
		return vnat_drop(c, VNAT_DROP_TO_INSIDE);
	return VNAT_NEXT;
}

/*
 * A frame on a bridge port: bridged port to port, or, when addressed to
 * the bridge, routed as if it had arrived on the bridge (which is where the
 * kernel would route it). VNAT_NEXT with c->iface and c->in_ifindex
 * switched to the bridge for routing, or the L2 decision.
 */
static __always_inline enum vnat_verdict vnat_port_ingress(struct vnat_ctx *c)
{
	struct vnat_iface *port = c->iface;
	__u32 bridge = port->master;
	struct vnat_iface *br;
	enum vnat_verdict v;

	if (!vnat_port_forwarding(port))
		return vnat_pass(c, VNAT_PASS_PORT_STATE);
	v = vnat_fdb_check_source(c, bridge, c->in_ifindex, bpf_ktime_get_ns());
	if (v)
		return v;
	br = bpf_map_lookup_elem(&vnat_ifaces, &bridge);
	if (!br)
		return vnat_pass(c, VNAT_PASS_UNSUPPORTED);
	if (!vnat_mac_equal(c->p.eth->h_dest, br->mac))
		return vnat_bridge_forward(c, port, c->in_ifindex);
	c->iface = br;
	c->in_ifindex = bridge;
	return VNAT_NEXT;
}

/*
 * Kernel admission: the host's rules decide; vnat neither routes nor
 * admits on its own. With --snat, flows its own NAT took on tc egress (the
 * kernel had forwarded their first packet, no kernel NAT rule translated
 * it) keep their translation; everything else meets admission.
 */
static __always_inline enum vnat_verdict vnat_route_policy(struct vnat_ctx *c, int nat)
{
	__u32 flags = c->iface->flags;
	enum vnat_verdict v = VNAT_NEXT;

	if (vnat_prefix_kind(c->p.ip->saddr) == VNAT_PREFIX_HOST)
		return vnat_pass(c, VNAT_PASS_MARTIAN);
	if (!nat)
		return vnat_admitted(c);
	v = vnat_nat_fast(c);
	if (v)
		return v;
	if ((flags & VNAT_IFACE_OUTSIDE) && c->p.ip->daddr == c->cfg->snat_addr)
		v = vnat_nat_in(c);
	else if ((flags & VNAT_IFACE_INSIDE) && vnat_nat_candidate(c->p.ip->saddr, c->p.ip->daddr))
		v = vnat_nat_out(c);
	/* Not one of vnat's own flows: perhaps one the kernel admitted. */
	if (v && (v != VNAT_PASS || c->reason != VNAT_PASS_ADMISSION))
		return v;
	return vnat_admitted(c);
}

/* IPv4 addressed to this interface (or its bridge): NAT, then routing. */
static __always_inline enum vnat_verdict vnat_route_or_nat(struct vnat_ctx *c)
{
	const struct vnat_config *cfg = c->cfg;
	__u32 flags = c->iface->flags;
	int nat = cfg && (cfg->flags & VNAT_CFG_NAT);
	enum vnat_verdict v;
	__u32 src;

	if (cfg && (cfg->flags & VNAT_CFG_POLICY))
		return vnat_route_policy(c, nat);
	if (nat) {
		v = vnat_nat_fast(c);
		if (v)
			return v;
	}
	src = vnat_prefix_kind(c->p.ip->saddr);
	/* fib_validate_source() would refuse our own address as a source. */
	if (src == VNAT_PREFIX_HOST)
		return vnat_pass(c, VNAT_PASS_MARTIAN);
	/*
	 * A source outside the inside prefixes on an inside interface (a
	 * spoofing guest, a guest router's other networks) is neither
	 * translated nor routed here: the host's rules decide (libvirt's
	 * FORWARD rejects it).
	 */
	if (nat && (flags & VNAT_IFACE_INSIDE) && src != VNAT_PREFIX_INSIDE)
		return vnat_pass(c, VNAT_PASS_FOREIGN_SOURCE);
	if (nat) {
		if ((flags & VNAT_IFACE_OUTSIDE) && !(cfg->flags & VNAT_CFG_INBOUND_KERNEL)) {
			v = vnat_nat_guard(c, src);
			if (v)
				return v;
		}
		if ((flags & VNAT_IFACE_OUTSIDE) && c->p.ip->daddr == cfg->snat_addr)
			return vnat_nat_in(c);
		if ((flags & VNAT_IFACE_INSIDE) && c->p.ip->daddr == cfg->snat_addr) {
			v = vnat_nat_hairpin(c);
			if (v)
				return v;
		}
		if ((flags & VNAT_IFACE_INSIDE) && vnat_nat_candidate_dst(c->p.ip->daddr))
			return vnat_nat_out(c);
	}
	return vnat_route_ipv4(c, nat && (flags & VNAT_IFACE_OUTSIDE));
}

static __always_inline enum vnat_verdict vnat_forward(struct vnat_ctx *c, void *data, void *end)
{
	__u32 in_ifindex = c->in_ifindex;
	enum vnat_verdict v, l2;

	c->iface = bpf_map_lookup_elem(&vnat_ifaces, &in_ifindex);
	if (!c->iface)
		return vnat_pass(c, VNAT_PASS_UNSUPPORTED); /* attached but not configured */
	c->in_flags = c->iface->flags;
	c->cfg = vnat_get_config();
	v = vnat_parse_eth(c, data, end);
	/* ARP and IPv6 between guests are bridged too. */
	if ((c->in_flags & VNAT_IFACE_PORT) && (!v || c->reason == VNAT_PASS_NOT_IPV4)) {
		l2 = vnat_port_ingress(c);
		if (l2)
			return l2;
	}
	if (v)
		return v;
	/* Only frames addressed to this interface are routed. */
	if (!vnat_mac_equal(c->p.eth->h_dest, c->iface->mac))
		return vnat_pass(c, VNAT_PASS_NOT_TO_US);
	v = vnat_parse_ipv4(c);
	if (v)
		return v;
	return vnat_route_or_nat(c);
}

#endif /* VNAT_LIB_PIPELINE_H */
