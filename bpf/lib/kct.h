/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel's connection tracking as vnat reads it: the conntrack kfuncs
 * and the few struct nf_conn fields admission (admit.h) needs.
 *
 * vnat builds against UAPI headers only; vmlinux.h would redefine every
 * UAPI type. So the kfuncs are declared here as __ksym externs (libbpf
 * resolves them against the running kernel's BTF at load), and nf_conn is
 * declared with only the members read, under preserve_access_index: every
 * access becomes a CO-RE relocation that libbpf rewrites to the running
 * kernel's offsets. The layouts below are therefore not the kernel's, only
 * its member names and nesting; nothing else may read these structs.
 */
#ifndef VNAT_LIB_KCT_H
#define VNAT_LIB_KCT_H

#include <linux/bpf.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <bpf/bpf_helpers.h>
#include "ctx.h"

#define VNAT_BPF_F_CURRENT_NETNS (-1)
/* IP_CT_DIR_ORIGINAL / IP_CT_DIR_REPLY (not in the UAPI headers) */
#define VNAT_CT_DIR_ORIGINAL 0
#define VNAT_CT_DIR_REPLY 1

/* The kfuncs' options (net/netfilter/nf_conntrack_bpf.c); 16 bytes on 6.x. */
struct bpf_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u16 ct_zone_id;
	__u8 ct_zone_dir;
	__u8 reserved[3];
};

union nf_inet_addr {
	__be32 ip;
} __attribute__((preserve_access_index));

union nf_conntrack_man_proto {
	__be16 all;
} __attribute__((preserve_access_index));

struct nf_conntrack_man {
	union nf_inet_addr u3;
	union nf_conntrack_man_proto u;
} __attribute__((preserve_access_index));

struct nf_conntrack_tuple {
	struct nf_conntrack_man src;
	struct {
		union nf_inet_addr u3;
		union {
			__be16 all;
		} u;
	} dst;
} __attribute__((preserve_access_index));

struct nf_conntrack_tuple_hash {
	struct nf_conntrack_tuple tuple;
} __attribute__((preserve_access_index));

struct ip_ct_tcp_state {
	__u8 flags;
} __attribute__((preserve_access_index));

struct ip_ct_tcp {
	struct ip_ct_tcp_state seen[2];
	__u8 state;
} __attribute__((preserve_access_index));

union nf_conntrack_proto {
	struct ip_ct_tcp tcp;
} __attribute__((preserve_access_index));

struct nf_conn {
	struct nf_conntrack_tuple_hash tuplehash[2];
	unsigned long status;
	union nf_conntrack_proto proto;
} __attribute__((preserve_access_index));

extern struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *ctx, struct bpf_sock_tuple *tuple,
					 __u32 tuple__sz, struct bpf_ct_opts *opts,
					 __u32 opts__sz) __ksym;
extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *ctx, struct bpf_sock_tuple *tuple,
					 __u32 tuple__sz, struct bpf_ct_opts *opts,
					 __u32 opts__sz) __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __ksym;
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

/* The kernel's socket buffer: only the conntrack reference is read. */
struct sk_buff {
	unsigned long _nfct;
} __attribute__((preserve_access_index));

#define VNAT_NFCT_INFOMASK 7UL /* NFCT_INFOMASK: ctinfo in skb->_nfct's low bits */
extern int bpf_ct_change_timeout(struct nf_conn *ct, __u32 timeout_ms) __ksym;

/*
 * The kernel's entry for an IPv4 TCP/UDP tuple as it travels the wire
 * (either direction matches), or NULL; *dir says which direction the tuple
 * is. The caller must bpf_ct_release() it.
 */
static __always_inline struct nf_conn *vnat_kct_lookup(const struct vnat_ctx *c, __be32 saddr,
						       __be32 daddr, __be16 sport, __be16 dport,
						       __u8 proto, __u8 *dir)
{
	struct bpf_ct_opts opts = { .netns_id = VNAT_BPF_F_CURRENT_NETNS, .l4proto = proto };
	struct bpf_sock_tuple t = {};
	struct nf_conn *ct;

	t.ipv4.saddr = saddr;
	t.ipv4.daddr = daddr;
	t.ipv4.sport = sport;
	t.ipv4.dport = dport;
	if (c->xdp)
		ct = bpf_xdp_ct_lookup(c->ctx, &t, sizeof(t.ipv4), &opts, sizeof(opts));
	else
		ct = bpf_skb_ct_lookup(c->ctx, &t, sizeof(t.ipv4), &opts, sizeof(opts));
	if (ct)
		*dir = opts.dir;
	return ct;
}

/*
 * Whether the entry the kernel attached to this packet (tc: the skb it
 * forwarded) has seen a reply: ctinfo ESTABLISHED or ESTABLISHED_REPLY.
 * A packet of a flow with no reply yet (NEW), a RELATED or an untracked
 * one cannot belong to a decided flow, so admission skips the table
 * lookup for it: a flood of one-way new flows costs vnat one read each.
 */
static __always_inline int vnat_skb_ct_replied(struct __sk_buff *skb)
{
	const struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
	unsigned long nfct = kskb->_nfct;
	unsigned long info = nfct & VNAT_NFCT_INFOMASK;

	if (!(nfct & ~VNAT_NFCT_INFOMASK))
		return 0;
	return info == IP_CT_ESTABLISHED || info == IP_CT_ESTABLISHED_REPLY;
}

/*
 * The kernel decided this flow: its entry is in the table (confirmed, not
 * dying), has seen traffic both ways, and for TCP the handshake completed.
 */
static __always_inline int vnat_kct_decided(const struct nf_conn *ct, __u8 proto)
{
	unsigned long st = ct->status;

	if (!(st & IPS_CONFIRMED) || !(st & IPS_SEEN_REPLY) || (st & IPS_DYING))
		return 0;
	return proto != IPPROTO_TCP || ct->proto.tcp.state == TCP_CONNTRACK_ESTABLISHED;
}

/*
 * Both directions tracked liberally (no window check): only then may the
 * kernel see a FIN or RST after packets it never saw, or it would call the
 * segment invalid, neither NAT nor accept it.
 */
static __always_inline int vnat_kct_liberal(const struct nf_conn *ct)
{
	return (ct->proto.tcp.seen[0].flags & IP_CT_TCP_FLAG_BE_LIBERAL) &&
	       (ct->proto.tcp.seen[1].flags & IP_CT_TCP_FLAG_BE_LIBERAL);
}

#endif /* VNAT_LIB_KCT_H */
