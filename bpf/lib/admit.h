/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Kernel admission (VNAT_CFG_POLICY): the host's netfilter rules decide.
 * The kernel's flowtable model: the kernel path carries each new flow
 * (FORWARD rules, NAT rules, conntrack) until it has decided it; vnat then
 * carries the rest of the flow exactly as decided.
 *
 * - A direction of a flow is admitted on tc egress, when the kernel itself
 *   forwarded one of its packets out of a managed interface (so FORWARD
 *   accepted it and POSTROUTING translated it) and its conntrack entry is
 *   decided (confirmed, seen both ways, TCP established). The translation
 *   is read from the entry's tuples and stored in vnat_ct, keyed by the
 *   direction's tuple as it arrives on the wire (VNAT_CT_KEY_KERNEL).
 * - On ingress, a packet of an admitted direction is translated and sent
 *   as vnat_ct says; anything else goes to the kernel (pass_admission), so
 *   a flow the rules drop passes nothing vnat would have sent.
 * - Every VNAT_KCT_REFRESH_NS a packet refreshes the kernel entry's
 *   timeout (conntrack -L keeps listing the flow) and checks it still
 *   exists: once it is gone (conntrack -F, timeout) vnat's copy ends and
 *   the flow is the kernel's again.
 */
#ifndef VNAT_LIB_ADMIT_H
#define VNAT_LIB_ADMIT_H

#include "ct.h"
#include "ctx.h"
#include "fib.h"
#include "kct.h"
#include "parse.h"

/* The other direction's key: its packets come from where ours go to. */
static __always_inline void vnat_kflow_peer(struct vnat_ct_key *peer, const struct vnat_ct_key *k,
					    const struct vnat_ct_val *ct)
{
	vnat_kflow_key(peer, ct->xl_daddr, ct->outside_addr, ct->xl_dport, ct->outside_port,
		       k->proto);
}

/* Both directions of an admitted flow end: its packets are the kernel's again. */
static __always_inline void vnat_kflow_end(const struct vnat_ct_key *k,
					   const struct vnat_ct_val *ct)
{
	struct vnat_ct_key peer, pek;

	vnat_kflow_peer(&peer, k, ct);
	/* The reply direction leaves translated back to our tuple, reversed. */
	vnat_kflow_key(&pek, k->remote_addr, k->inside_addr, k->remote_port, k->inside_port,
		       k->proto);
	bpf_map_delete_elem(&vnat_kegress, &pek);
	bpf_map_delete_elem(&vnat_ct, &peer);
	vnat_kflow_forget(k, ct);
}

static __always_inline __u32 vnat_kflow_timeout_ms(const struct vnat_config *cfg, __u8 proto,
						   __u8 state)
{
	return (__u32)(vnat_ct_timeout(cfg, proto, state) / 1000000);
}

/*
 * Keep the kernel's entry as long-lived as vnat's copy, and end the copy
 * when the kernel's entry went away. VNAT_NEXT to carry on.
 */
static __always_inline enum vnat_verdict vnat_kflow_refresh(struct vnat_ctx *c,
							    const struct vnat_ct_key *k,
							    struct vnat_ct_val *ct, __u64 now)
{
	struct nf_conn *kct;
	__u8 dir;

	kct = vnat_kct_lookup(c, k->inside_addr, k->remote_addr, k->inside_port, k->remote_port,
			      k->proto, &dir);
	if (kct && !(kct->status & IPS_DYING)) {
		bpf_ct_change_timeout(kct, vnat_kflow_timeout_ms(c->cfg, k->proto, ct->state));
		bpf_ct_release(kct);
		ct->kct_refreshed_ns = now;
		return VNAT_NEXT;
	}
	if (kct)
		bpf_ct_release(kct);
	vnat_kflow_end(k, ct);
	vnat_count(VNAT_ADMIT_GONE, 0);
	return vnat_pass(c, VNAT_PASS_ADMISSION);
}

/*
 * TCP SYN, FIN or RST on an admitted flow. A SYN opens a new connection on
 * the tuple and a FIN or RST ends this one: the kernel should see both.
 * It can judge a FIN or RST only when it tracks the flow liberally (it saw
 * none of the segments vnat carried: to its window check they are out of
 * window, invalid, neither translated nor accepted), as load makes it
 * (VNAT_CFG_TCP_LIBERAL) or the flow's entry says; otherwise vnat
 * carries the teardown as decided and shortens the kernel entry to the
 * transitory timeout, so it ends with the connection.
 */
static __always_inline enum vnat_verdict
vnat_kflow_tcp_ctl(struct vnat_ctx *c, const struct vnat_ct_key *k, struct vnat_ct_val *ct)
{
	__u8 flags = c->l4.tcp_flags, dir;
	struct vnat_ct_key peer;
	struct vnat_ct_val *pct;
	struct nf_conn *kct;
	int liberal;

	kct = vnat_kct_lookup(c, k->inside_addr, k->remote_addr, k->inside_port, k->remote_port,
			      k->proto, &dir);
	if (!kct || (flags & VNAT_TCP_SYN)) {
		if (kct)
			bpf_ct_release(kct);
		vnat_kflow_end(k, ct);
		return vnat_pass(c, VNAT_PASS_ADMISSION);
	}
	liberal = (c->cfg->flags & VNAT_CFG_TCP_LIBERAL) || vnat_kct_liberal(kct);
	if (!liberal)
		bpf_ct_change_timeout(kct,
				      vnat_kflow_timeout_ms(c->cfg, IPPROTO_TCP, VNAT_TCP_CLOSED));
	bpf_ct_release(kct);
	if (liberal) {
		vnat_kflow_end(k, ct);
		vnat_count(VNAT_ADMIT_TEARDOWN, 0);
		return vnat_pass(c, VNAT_PASS_ADMISSION);
	}
	/* Both directions now expire with the transitory timeout. */
	ct->state = flags & VNAT_TCP_RST ? VNAT_TCP_CLOSED : VNAT_TCP_FIN_WAIT;
	vnat_kflow_peer(&peer, k, ct);
	pct = bpf_map_lookup_elem(&vnat_ct, &peer);
	if (pct)
		pct->state = ct->state;
	vnat_count(VNAT_ADMIT_CLOSED_FAST, 0);
	return VNAT_NEXT;
}

/* Ask for the kernel's translation of this direction. */
static __always_inline void vnat_kflow_xlate(struct vnat_ctx *c, const struct vnat_ct_val *ct)
{
	if (ct->outside_addr != c->p.ip->saddr || ct->outside_port != c->l4.sport)
		vnat_xlate_src(c, ct->outside_addr, ct->outside_port);
	if (ct->xl_daddr != c->p.ip->daddr || ct->xl_dport != c->l4.dport)
		vnat_xlate_dst(c, ct->xl_daddr, ct->xl_dport);
}

/*
 * Ingress under kernel admission: a packet of an admitted direction is
 * translated as the kernel decided and transmitted; everything else goes
 * to the kernel untouched. Never VNAT_NEXT.
 */
static __always_inline enum vnat_verdict vnat_admitted(struct vnat_ctx *c)
{
	__u32 gen = vnat_gen_now(); /* before the lookup, as in vnat_nat_out */
	struct bpf_fib_lookup fib;
	struct vnat_ct_key key;
	struct vnat_ct_val *ct;
	enum vnat_verdict v;
	__u64 now;

	v = vnat_parse_l4(c);
	if (v && c->reason == VNAT_PASS_MALFORMED)
		return v;
	if (v || (c->l4.proto != IPPROTO_TCP && c->l4.proto != IPPROTO_UDP))
		return vnat_pass(c, VNAT_PASS_ADMISSION); /* ICMP: the kernel's (RELATED) */
	vnat_kflow_key(&key, c->p.ip->saddr, c->p.ip->daddr, c->l4.sport, c->l4.dport, c->l4.proto);
	ct = bpf_map_lookup_elem(&vnat_ct, &key);
	if (!ct)
		return vnat_pass(c, VNAT_PASS_ADMISSION);
	now = bpf_ktime_get_ns();
	if (c->l4.proto == IPPROTO_TCP &&
	    (c->l4.tcp_flags & (VNAT_TCP_SYN | VNAT_TCP_FIN | VNAT_TCP_RST)))
		v = vnat_kflow_tcp_ctl(c, &key, ct);
	else if (now - ct->kct_refreshed_ns > VNAT_KCT_REFRESH_NS)
		v = vnat_kflow_refresh(c, &key, ct, now);
	if (v)
		return v;

	if (vnat_nh_valid(c, &ct->nh[0], gen, now)) {
		v = vnat_tx(c, VNAT_FWD_ADMITTED);
	} else {
		v = vnat_fib(c, ct->xl_daddr, &fib);
		if (!v && vnat_keep_same_segment(c, &fib))
			v = vnat_pass(c, VNAT_PASS_SAME_SEGMENT);
		if (!v)
			v = vnat_tx_port(c, &fib, vnat_egress(&fib));
		if (v)
			return v; /* untouched: the kernel translates it itself */
		vnat_nh_store(c, &ct->nh[0], &fib, gen, now);
	}
	ct->packets_out++;
	ct->bytes_out += c->len;
	ct->expires_ns = now + vnat_ct_timeout(c->cfg, c->l4.proto, ct->state);
	vnat_kflow_xlate(c, ct);
	return vnat_nh_apply(c, &ct->nh[0], VNAT_FWD_ADMITTED);
}

/* The kernel entry's tuple for direction dir (as that direction's packets arrive). */
static __always_inline void vnat_kct_tuple(const struct nf_conn *kct, int dir, __be32 *saddr,
					   __be32 *daddr, __be16 *sport, __be16 *dport)
{
	/* Constant indexes: CO-RE cannot relocate a variable one. */
	if (dir == VNAT_CT_DIR_ORIGINAL) {
		*saddr = kct->tuplehash[0].tuple.src.u3.ip;
		*daddr = kct->tuplehash[0].tuple.dst.u3.ip;
		*sport = kct->tuplehash[0].tuple.src.u.all;
		*dport = kct->tuplehash[0].tuple.dst.u.all;
	} else {
		*saddr = kct->tuplehash[1].tuple.src.u3.ip;
		*daddr = kct->tuplehash[1].tuple.dst.u3.ip;
		*sport = kct->tuplehash[1].tuple.src.u.all;
		*dport = kct->tuplehash[1].tuple.dst.u.all;
	}
}

/*
 * Admit the direction a packet the kernel forwarded belongs to, if its
 * entry is decided. The packet is seen after POSTROUTING, translated: its
 * tuple reversed is the other direction's conntrack tuple, which the
 * lookup finds, and this direction's tuple as it arrives is the entry's
 * tuple for the opposite direction.
 */
static __always_inline void vnat_admit(struct vnat_ctx *c, const struct vnat_ct_key *egress_key)
{
	const struct vnat_config *cfg = c->cfg;
	struct vnat_ct_val v = {};
	struct vnat_ct_key k;
	struct nf_conn *kct;
	__be32 sa, da, osa, oda;
	__be16 sp, dp, osp, odp;
	__u32 one = 1;
	__u8 dir;
	long err;

	kct = vnat_kct_lookup(c, c->p.ip->daddr, c->p.ip->saddr, c->l4.dport, c->l4.sport,
			      c->l4.proto, &dir);
	if (!kct)
		return;
	if (!vnat_kct_decided(kct, c->l4.proto)) {
		bpf_ct_release(kct);
		return;
	}
	/* dir is the other direction: this packet travels !dir. */
	vnat_kct_tuple(kct, !dir, &sa, &da, &sp, &dp);
	vnat_kct_tuple(kct, dir, &osa, &oda, &osp, &odp);
	bpf_ct_change_timeout(kct, vnat_kflow_timeout_ms(cfg, c->l4.proto, VNAT_TCP_ESTABLISHED));
	bpf_ct_release(kct);

	vnat_kflow_key(&k, sa, da, sp, dp, c->l4.proto);
	v.outside_addr = oda;
	v.outside_port = odp;
	v.xl_daddr = osa;
	v.xl_dport = osp;
	v.flags = VNAT_CT_KERNEL | (dir == VNAT_CT_DIR_ORIGINAL ? VNAT_CT_KREPLY : 0);
	v.state = c->l4.proto == IPPROTO_TCP ? VNAT_TCP_ESTABLISHED : VNAT_TCP_NONE;
	v.created_ns = bpf_ktime_get_ns();
	v.kct_refreshed_ns = v.created_ns;
	v.expires_ns = v.created_ns + vnat_ct_timeout(cfg, c->l4.proto, v.state);
	err = bpf_map_update_elem(&vnat_ct, &k, &v, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: admitted already, its marker evicted */)
		return; /* the table is full: the kernel keeps carrying it */
	bpf_map_update_elem(&vnat_kegress, egress_key, &one, BPF_ANY);
	if (err)
		return;
	vnat_count(VNAT_ADMIT_FLOW, 0);
	vnat_gc_arm(cfg);
}

/*
 * tc egress under kernel admission: a TCP or UDP packet leaving a managed
 * interface that the kernel forwarded (not the host's own: those have no
 * ingress interface) may admit its direction. What vnat transmitted
 * itself is recognised by one lookup of its translated tuple.
 */
static __always_inline void vnat_admit_egress(struct vnat_ctx *c, __u32 ingress_ifindex)
{
	struct vnat_ct_key ek;

	if (!ingress_ifindex || vnat_parse_l4(c) ||
	    (c->l4.proto != IPPROTO_TCP && c->l4.proto != IPPROTO_UDP))
		return;
	/* SYN, FIN, RST: a flow opening or closing is not decided. */
	if (c->l4.proto == IPPROTO_TCP &&
	    (c->l4.tcp_flags & (VNAT_TCP_SYN | VNAT_TCP_FIN | VNAT_TCP_RST)))
		return;
	if (!vnat_skb_ct_replied(c->ctx))
		return;
	vnat_kflow_key(&ek, c->p.ip->saddr, c->p.ip->daddr, c->l4.sport, c->l4.dport, c->l4.proto);
	if (bpf_map_lookup_elem(&vnat_kegress, &ek))
		return;
	vnat_admit(c, &ek);
}

#endif /* VNAT_LIB_ADMIT_H */
