// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vnat datapath entry points. Each is thin: it runs the shared pipeline
 * from bpf/lib/, lets the hook layer apply the NAT rewrite and transmit,
 * and counts the decision by reason. Anything vnat does not handle goes
 * to the kernel untouched.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "lib/hook.h"
#include "lib/pipeline.h"
#include "lib/stats.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The IPv4 total length of a frame, for the FIB's MTU check; 0 if none. */
static __always_inline __u16 vnat_ip_tot_len(void *data, void *end)
{
	struct iphdr *ip = data + sizeof(struct ethhdr);

	if ((void *)(ip + 1) > end)
		return 0;
	return bpf_ntohs(ip->tot_len);
}

SEC("xdp")
int xdp_vnat_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct vnat_ctx c = {
		.ctx = ctx,
		.in_ifindex = ctx->ingress_ifindex,
		.len = end - data,
		.xdp = 1,
	};
	enum vnat_verdict v;

	/* Only the parsed IPv4 header's tot_len is trusted for the MTU check. */
	c.tot_len = vnat_ip_tot_len(data, end);
	vnat_icmp_check_csum(&c, (vnat_load_bytes_fn)bpf_xdp_load_bytes, data, end);
	v = vnat_forward(&c, data, end);
	if (c.xl.ops && v != VNAT_DROP && vnat_xdp_apply(&c))
		v = vnat_pass(&c, VNAT_PASS_MALFORMED);
	vnat_count(c.reason, c.len);
	if (v == VNAT_DROP)
		return XDP_DROP;
	if (v != VNAT_TX)
		return XDP_PASS;
	/*
	 * vnat_txports mirrors vnat_ifaces; a miss (a port going away) falls
	 * back to the kernel, but only with a frame still as it arrived: one
	 * translated would meet the kernel's conntrack under an address it
	 * knows no flow for.
	 */
	return bpf_redirect_map(&vnat_txports, c.out, c.xl.ops ? XDP_DROP : XDP_PASS);
}

/* The tc path counts its transmissions apart from XDP's. */
static __always_inline enum vnat_stat vnat_tc_fwd_reason(enum vnat_stat reason)
{
	switch (reason) {
	case VNAT_FWD_ROUTED:
		return VNAT_FWD_ROUTED_TC;
	case VNAT_FWD_SNAT:
		return VNAT_FWD_SNAT_TC;
	case VNAT_FWD_DNAT:
		return VNAT_FWD_DNAT_TC;
	case VNAT_FWD_BRIDGED:
		return VNAT_FWD_BRIDGED_TC;
	case VNAT_FWD_ICMP_ERROR:
		return VNAT_FWD_ICMP_ERROR_TC;
	case VNAT_FWD_HAIRPIN:
		return VNAT_FWD_HAIRPIN_TC;
	case VNAT_FWD_ADMITTED:
		return VNAT_FWD_ADMITTED_TC;
	default:
		return reason; /* fwd_same_segment, fwd_dnat_neigh */
	}
}

/*
 * Count a tc ingress decision. Where XDP ran first on the interface, it
 * counted what it passed on; only what tc transmits (or translates for
 * the kernel) is new.
 */
static __always_inline void vnat_tc_count(const struct vnat_ctx *c, enum vnat_verdict v)
{
	if (v == VNAT_TX) {
		vnat_count(vnat_tc_fwd_reason(c->reason), c->len);
		return;
	}
	/* A reply translated for the kernel, or for its neighbour code. */
	if (c->xl.ops)
		vnat_count(VNAT_FWD_DNAT_TC, c->len);
	/* in_flags 0: not a managed interface, whose hooks are not vnat's to count. */
	if (v == VNAT_TX_NEIGH || (c->in_flags && !(c->in_flags & VNAT_IFACE_XDP)))
		vnat_count(c->reason, c->len);
}

/*
 * The same pipeline for skbs: the whole fast path on interfaces without
 * XDP (veths and taps by default, whose frames carry partial checksums and
 * GSO, kept whole here), and what XDP handed on elsewhere.
 */
SEC("tc")
int tc_vnat_ingress(struct __sk_buff *skb)
{
	struct vnat_ctx c = {
		.ctx = skb,
		.in_ifindex = skb->ingress_ifindex,
		.len = skb->len,
	};
	enum vnat_verdict v;

	vnat_tc_pull(skb);
	/*
	 * With tot_len 0 the FIB checks only the device MTU, not the route's:
	 * give it the real length unless the skb is GSO (its segments are
	 * checked by the kernel against the path when tot_len is 0).
	 */
	if (!skb->gso_size)
		c.tot_len = vnat_ip_tot_len((void *)(long)skb->data, (void *)(long)skb->data_end);
	/* A tag the NIC took off the frame (802.1Q): the bridge's VLAN rules are the kernel's. */
	if (skb->vlan_present) {
		v = vnat_pass(&c, VNAT_PASS_NOT_IPV4);
	} else {
		vnat_icmp_check_csum(&c, (vnat_load_bytes_fn)bpf_skb_load_bytes,
				     (void *)(long)skb->data, (void *)(long)skb->data_end);
		v = vnat_forward(&c, (void *)(long)skb->data, (void *)(long)skb->data_end);
		if (c.xl.ops && v != VNAT_DROP && vnat_tc_apply(skb, &c))
			return TC_ACT_SHOT; /* half-rewritten: never let it out */
	}
	vnat_tc_count(&c, v);
	switch (v) {
	case VNAT_DROP:
		return TC_ACT_SHOT;
	case VNAT_TX:
		return bpf_redirect(c.out, 0);
	case VNAT_TX_NEIGH:
		/* The kernel's neighbour code resolves the guest, then transmits. */
		return bpf_redirect_neigh(c.out, NULL, 0, 0);
	default:
		return TC_ACT_OK;
	}
}

/*
 * Masquerade what the kernel forwards out of an uplink: the first packets
 * of a flow while the next hop is being resolved, and everything the
 * ingress hooks left to the kernel.
 */
static __always_inline int vnat_tc_snat(struct __sk_buff *skb, struct vnat_ctx *c)
{
	struct vnat_ct_val *ct;
	int reason;

	if (!vnat_nat_candidate(c->p.ip->saddr, c->p.ip->daddr) || vnat_parse_l4(c))
		return TC_ACT_OK;
	ct = vnat_ct_track_out(c->cfg, c->p.ip, &c->l4, skb->len, bpf_ktime_get_ns(), &reason);
	if (!ct) {
		if (reason != VNAT_DROP_NO_PORT && reason != VNAT_DROP_TABLE_FULL)
			return TC_ACT_OK;
		vnat_count(reason, skb->len);
		return TC_ACT_SHOT;
	}
	vnat_xlate_src(c, ct->outside_addr, ct->outside_port);
	if (vnat_tc_apply(skb, c))
		return TC_ACT_SHOT;
	vnat_count(VNAT_FWD_SNAT_TC, skb->len);
	return TC_ACT_OK;
}

/*
 * A packet vnat's own NAT translated (from the SNAT address at a mapped
 * port): none of the kernel's, never admitted, and no kernel lookup for it.
 */
static __always_inline int vnat_own_nat_flow(struct vnat_ctx *c)
{
	struct vnat_rev_key rk = {};

	if (!(c->cfg->flags & VNAT_CFG_NAT) || c->p.ip->saddr != c->cfg->snat_addr ||
	    vnat_parse_l4(c))
		return 0;
	rk.outside_port = c->l4.sport;
	rk.proto = c->l4.proto;
	return bpf_map_lookup_elem(&vnat_ports, &rk) != NULL;
}

/*
 * Every skb leaving a managed interface: counted, ICMP redirects dropped
 * (the host's own, and a guest router's crossing a managed bridge, seed
 * 000), then SNAT.
 */
SEC("tc")
int tc_vnat_egress(struct __sk_buff *skb)
{
	struct vnat_ctx c = {
		.ctx = skb,
		.len = skb->len,
	};
	__u32 ifindex = skb->ifindex;
	struct vnat_iface *iface;
	enum vnat_verdict v;

	vnat_count(VNAT_TX_SKB, skb->len);
	c.cfg = vnat_get_config();
	if (!c.cfg)
		return TC_ACT_OK;
	vnat_tc_pull(skb);
	if (vnat_parse_eth(&c, (void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_OK;
	v = vnat_parse_ipv4(&c);
	if (v && c.reason == VNAT_PASS_MALFORMED)
		return TC_ACT_OK;
	if (!(c.cfg->flags & VNAT_CFG_KEEP_REDIRECTS) && vnat_frame_is_redirect(&c.p)) {
		vnat_count(VNAT_DROP_REDIRECT, skb->len);
		return TC_ACT_SHOT;
	}
	iface = bpf_map_lookup_elem(&vnat_ifaces, &ifindex);
	if ((c.cfg->flags & VNAT_CFG_NAT) && vnat_nat_egress(c.cfg, iface, ifindex) && !v &&
	    vnat_nat_candidate(c.p.ip->saddr, c.p.ip->daddr))
		return vnat_tc_snat(skb, &c);
	/* The kernel forwarded it, its rules accepted and translated it: vnat may take the rest. */
	if ((c.cfg->flags & VNAT_CFG_POLICY) && !v && !vnat_own_nat_flow(&c))
		vnat_admit_egress(&c, skb->ingress_ifindex);
	return TC_ACT_OK;
}
