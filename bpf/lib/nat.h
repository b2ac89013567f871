/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Masquerade/SNAT: which packets are translated, and the header rewrites.
 * The scope follows libvirt's POSTROUTING rules: inside source, outside
 * destination, never 224.0.0.0/24 or 255.255.255.255, never the host's
 * own addresses.
 */
#ifndef VNAT_LIB_NAT_H
#define VNAT_LIB_NAT_H

#include <linux/bpf.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "csum.h"
#include "ct.h"
#include "maps.h"
#include "parse.h"

static __always_inline __u32 vnat_prefix_kind(__be32 addr)
{
	struct vnat_prefix_key k = { .prefixlen = 32, .addr = addr };
	struct vnat_prefix_val *v = bpf_map_lookup_elem(&vnat_prefixes, &k);

	return v ? v->kind : 0;
}

/* Should a packet from src to dst be masqueraded? */
static __always_inline int vnat_nat_candidate(__be32 src, __be32 dst)
{
	/* libvirt's RETURN for 224.0.0.0/24 and 255.255.255.255: see vnat_parse_ipv4. */
	if (vnat_prefix_kind(src) != VNAT_PREFIX_INSIDE)
		return 0; /* not a guest: the host's own, or routed from elsewhere */
	/* ! -d <inside>: guest to guest and guest to host stay untranslated */
	return vnat_prefix_kind(dst) == 0;
}

/* Is ifindex an egress the NAT translates for? */
static __always_inline int vnat_nat_egress(const struct vnat_config *cfg,
					   const struct vnat_iface *out, __u32 ifindex)
{
	if (!out || !(out->flags & VNAT_IFACE_OUTSIDE))
		return 0;
	return !cfg->out_ifindex || cfg->out_ifindex == ifindex;
}

/*
 * XDP: rewrite the source (SNAT) or destination (reply) address and port
 * in place with incremental checksum updates. The frame must carry complete
 * checksums: XDP cannot see CHECKSUM_PARTIAL (see README).
 */
static __always_inline int vnat_xdp_xlate(struct vnat_pkt *p, const struct vnat_l4 *l4, int src,
					  __be32 addr, __be16 port)
{
	struct iphdr *ip = p->ip;
	__be32 old_addr = src ? ip->saddr : ip->daddr;
	void *hdr = (void *)(ip + 1);
	__be16 *pp, old_port;
	__u16 *check;

	ip->check = vnat_csum_replace4(ip->check, old_addr, addr);
	if (src)
		ip->saddr = addr;
	else
		ip->daddr = addr;

	switch (l4->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *t = hdr;

		if ((void *)(t + 1) > p->end)
			return -1;
		pp = src ? &t->source : &t->dest;
		old_port = *pp;
		*pp = port;
		t->check = vnat_csum_replace2(vnat_csum_replace4(t->check, old_addr, addr),
					      old_port, port);
		return 0;
	}
	case IPPROTO_UDP: {
		struct udphdr *u = hdr;

		if ((void *)(u + 1) > p->end)
			return -1;
		pp = src ? &u->source : &u->dest;
		old_port = *pp;
		*pp = port;
		if (u->check)
			u->check = vnat_udp_csum_fix(vnat_csum_replace2(
				vnat_csum_replace4(u->check, old_addr, addr), old_port, port));
		return 0;
	}
	case IPPROTO_ICMP:
		/* Echo: the identifier; no pseudo-header in the ICMP checksum. */
		if (hdr + 8 > p->end)
			return -1;
		pp = hdr + 4;
		check = hdr + 2;
		old_port = *pp;
		*pp = port;
		*check = vnat_csum_replace2(*check, old_port, port);
		return 0;
	}
	return -1;
}

/*
 * tc: the same rewrite through the checksum helpers, which also keep
 * CHECKSUM_PARTIAL (only the pseudo-header part is updated) and
 * CHECKSUM_COMPLETE skbs right. Packet pointers are invalid afterwards.
 */
static __always_inline int vnat_tc_xlate(struct __sk_buff *skb, __u8 proto, int src,
					 __be32 old_addr, __be32 addr, __be16 old_port, __be16 port)
{
	const __u32 ip_off = sizeof(struct ethhdr);
	const __u32 l4_off = ip_off + sizeof(struct iphdr);
	__u32 addr_off =
		ip_off + (src ? offsetof(struct iphdr, saddr) : offsetof(struct iphdr, daddr));
	__u32 csum_off, port_off;
	__u64 flags = BPF_F_PSEUDO_HDR;

	switch (proto) {
	case IPPROTO_TCP:
		csum_off = l4_off + offsetof(struct tcphdr, check);
		port_off = l4_off + (src ? 0 : 2);
		break;
	case IPPROTO_UDP:
		csum_off = l4_off + offsetof(struct udphdr, check);
		port_off = l4_off + (src ? 0 : 2);
		flags |= BPF_F_MARK_MANGLED_0; /* 0 stays 0, a computed 0 becomes 0xffff */
		break;
	case IPPROTO_ICMP:
		csum_off = l4_off + 2;
		port_off = l4_off + 4;
		break;
	default:
		return -1;
	}
	if (bpf_l3_csum_replace(skb, ip_off + offsetof(struct iphdr, check), old_addr, addr, 4) ||
	    bpf_skb_store_bytes(skb, addr_off, &addr, 4, 0))
		return -1;
	if (proto != IPPROTO_ICMP &&
	    bpf_l4_csum_replace(skb, csum_off, old_addr, addr, flags | sizeof(addr)))
		return -1;
	if (bpf_l4_csum_replace(skb, csum_off, old_port, port,
				(flags & BPF_F_MARK_MANGLED_0) | sizeof(port)) ||
	    bpf_skb_store_bytes(skb, port_off, &port, sizeof(port), 0))
		return -1;
	return 0;
}

#endif /* VNAT_LIB_NAT_H */
