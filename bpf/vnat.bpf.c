// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vnat datapath entry points. Each is thin: it runs the shared stages from
 * bpf/lib/, counts the decision by reason and turns it into a verdict.
 * Anything vnat does not handle goes to the kernel untouched.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "lib/pipeline.h"
#include "lib/stats.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xdp_vnat_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct vnat_frame f = {
		.ctx = ctx,
		.in_ifindex = ctx->ingress_ifindex,
		.len = end - data,
		.xdp = 1,
	};
	struct vnat_xlate xl = {};
	enum vnat_stat reason;
	struct vnat_pkt p;
	struct vnat_l4 l4;
	__u32 out = 0;

	/* Only the parsed IPv4 header's tot_len is trusted for the MTU check. */
	if (data + sizeof(struct ethhdr) + sizeof(struct iphdr) <= end)
		f.tot_len = bpf_ntohs(((struct iphdr *)(data + sizeof(struct ethhdr)))->tot_len);
	reason = vnat_forward(&f, data, end, &p, &l4, &out, &xl, 1);
	if (xl.op && vnat_xdp_xlate(&p, &l4, xl.op == VNAT_XLATE_SRC, xl.new_addr, xl.new_port))
		reason = VNAT_PASS_MALFORMED;
	vnat_count(reason, f.len);
	if (reason == VNAT_DROP_NO_PORT || reason == VNAT_DROP_TABLE_FULL)
		return XDP_DROP;
	if (!vnat_is_forward(reason))
		return XDP_PASS;
	/*
	 * vnat_txports mirrors vnat_ifaces; a miss (a port going away) falls
	 * back to the kernel, but only with a frame still as it arrived: one
	 * translated would meet the kernel's conntrack under an address it
	 * knows no flow for.
	 */
	return bpf_redirect_map(&vnat_txports, out, xl.op ? XDP_DROP : XDP_PASS);
}

/* Headers the tc path reads directly: Ethernet, IPv4, TCP without options. */
#define VNAT_TC_PULL (sizeof(struct ethhdr) + sizeof(struct iphdr) + 20)

static __always_inline void vnat_tc_pull(struct __sk_buff *skb)
{
	/* Non-linear skbs (GSO from taps) may hold headers in fragments. */
	if (skb->data + VNAT_TC_PULL > skb->data_end)
		bpf_skb_pull_data(skb, skb->len < VNAT_TC_PULL ? skb->len : VNAT_TC_PULL);
}

/*
 * The same pipeline for skbs that XDP handed on: on taps, GSO frames from a
 * guest skip native XDP, and only the skb path can keep them whole. Pass
 * decisions were already counted by XDP, so only forwards count here.
 */
SEC("tc")
int tc_vnat_ingress(struct __sk_buff *skb)
{
	struct vnat_frame f = {
		.ctx = skb,
		.in_ifindex = skb->ingress_ifindex,
		.len = skb->len,
	};
	struct vnat_xlate xl = {};
	enum vnat_stat reason;
	struct vnat_pkt p;
	struct vnat_l4 l4;
	__u32 out = 0;

	vnat_tc_pull(skb);
	/*
	 * With tot_len 0 the FIB checks only the device MTU, not the route's:
	 * give it the real length unless the skb is GSO (its segments are
	 * checked by the kernel against the path when tot_len is 0).
	 */
	if (!skb->gso_size &&
	    (void *)(long)skb->data + sizeof(struct ethhdr) + sizeof(struct iphdr) <=
		    (void *)(long)skb->data_end)
		f.tot_len = bpf_ntohs(
			((struct iphdr *)((void *)(long)skb->data + sizeof(struct ethhdr)))
				->tot_len);
	reason = vnat_forward(&f, (void *)(long)skb->data, (void *)(long)skb->data_end, &p, &l4,
			      &out, &xl, 0);
	if (xl.op) {
		if (vnat_tc_xlate(skb, xl.proto, xl.op == VNAT_XLATE_SRC, xl.old_addr, xl.new_addr,
				  xl.old_port, xl.new_port))
			return TC_ACT_SHOT; /* half-rewritten: never let it out */
		vnat_count(xl.op == VNAT_XLATE_SRC ? VNAT_FWD_SNAT_TC : VNAT_FWD_DNAT_TC, skb->len);
	}
	if (reason == VNAT_DROP_NO_PORT || reason == VNAT_DROP_TABLE_FULL) {
		vnat_count(reason, skb->len);
		return TC_ACT_SHOT;
	}
	if (reason == VNAT_FWD_DNAT_NEIGH) {
		vnat_count(reason, skb->len);
		/* The kernel's neighbour code resolves the guest, then transmits. */
		return bpf_redirect_neigh(out, NULL, 0, 0);
	}
	if (!vnat_is_forward(reason))
		return TC_ACT_OK;
	if (!xl.op)
		vnat_count(VNAT_FWD_ROUTED_TC, skb->len);
	return bpf_redirect(out, 0);
}

/*
 * ICMP redirects the host would send out of a managed interface (seed 000).
 * The kernel copies the offending packet's IP options into the redirect,
 * so the ICMP header is found through IHL.
 */
static __always_inline int vnat_is_redirect(const struct vnat_pkt *p)
{
	__u8 *type = (__u8 *)p->ip + p->ip->ihl * 4;

	return p->ip->protocol == IPPROTO_ICMP && (void *)(type + 1) <= p->end &&
	       *type == VNAT_ICMP_REDIRECT;
}

/*
 * Masquerade what the kernel forwards out of an uplink: the first packets
 * of a flow while the next hop is being resolved, and everything XDP could
 * not take.
 */
static __always_inline int vnat_tc_snat(struct __sk_buff *skb, struct vnat_config *cfg,
					struct vnat_pkt *p)
{
	struct vnat_ct_val *ct;
	struct vnat_l4 l4;
	int reason;

	if (!vnat_nat_candidate(p->ip->saddr, p->ip->daddr) || vnat_parse_l4(p, &l4))
		return TC_ACT_OK;
	ct = vnat_ct_track_out(cfg, p->ip, &l4, skb->len, bpf_ktime_get_ns(), &reason);
	if (!ct) {
		if (reason != VNAT_DROP_NO_PORT && reason != VNAT_DROP_TABLE_FULL)
			return TC_ACT_OK;
		vnat_count(reason, skb->len);
		return TC_ACT_SHOT;
	}
	if (vnat_tc_xlate(skb, l4.proto, 1, p->ip->saddr, ct->outside_addr, l4.sport,
			  ct->outside_port))
		return TC_ACT_SHOT;
	vnat_count(VNAT_FWD_SNAT_TC, skb->len);
	return TC_ACT_OK;
}

/* Every skb leaving a managed interface: counted, redirects, then SNAT. */
SEC("tc")
int tc_vnat_egress(struct __sk_buff *skb)
{
	struct vnat_config *cfg = vnat_get_config();
	__u32 ifindex = skb->ifindex;
	struct vnat_iface *iface;
	struct vnat_pkt p;

	vnat_count(VNAT_TX_SKB, skb->len);
	if (!cfg)
		return TC_ACT_OK;
	vnat_tc_pull(skb);
	if (vnat_parse_eth(&p, (void *)(long)skb->data, (void *)(long)skb->data_end) ||
	    vnat_parse_ipv4(&p, skb->len) == VNAT_PASS_MALFORMED)
		return TC_ACT_OK;
	if (!(cfg->flags & VNAT_CFG_KEEP_REDIRECTS) && vnat_is_redirect(&p)) {
		vnat_count(VNAT_DROP_REDIRECT, skb->len);
		return TC_ACT_SHOT;
	}
	iface = bpf_map_lookup_elem(&vnat_ifaces, &ifindex);
	if (!(cfg->flags & VNAT_CFG_NAT) || !vnat_nat_egress(cfg, iface, ifindex) ||
	    vnat_parse_ipv4(&p, skb->len))
		return TC_ACT_OK;
	return vnat_tc_snat(skb, cfg, &p);
}
