// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vnat datapath entry points. Each is thin: it runs the shared stages from
 * bpf/lib/, counts the decision by reason and turns it into a verdict.
 * Anything vnat does not handle goes to the kernel untouched.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "lib/fib.h"
#include "lib/stats.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xdp_vnat_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	enum vnat_stat reason;
	__u32 out = 0;

	reason = vnat_forward(ctx, data, end, ctx->ingress_ifindex, 1, &out);
	vnat_count(reason, end - data);
	if (!vnat_is_forward(reason))
		return XDP_PASS;
	/* vnat_txports mirrors vnat_ifaces; a miss falls back to the kernel. */
	return bpf_redirect_map(&vnat_txports, out, XDP_PASS);
}

/*
 * The same routed path for skbs that XDP handed on: on taps, GSO frames
 * from a guest skip native XDP, and only the skb path can keep them whole.
 * Pass decisions were already counted by XDP, so only forwards count here.
 */
SEC("tc")
int tc_vnat_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	enum vnat_stat reason;
	__u32 out = 0;

	reason = vnat_forward(skb, data, end, skb->ingress_ifindex, 0, &out);
	if (!vnat_is_forward(reason))
		return TC_ACT_OK;
	vnat_count(VNAT_FWD_ROUTED_TC, skb->len);
	return bpf_redirect(out, 0);
}

/* Everything leaving a managed interface as an skb: kernel or tc path. */
SEC("tc")
int tc_vnat_egress(struct __sk_buff *skb)
{
	vnat_count(VNAT_TX_SKB, skb->len);
	return TC_ACT_OK;
}
