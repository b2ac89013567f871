/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Bounds-checked header parsing shared by the XDP and tc entry points. */
#ifndef VNAT_LIB_PARSE_H
#define VNAT_LIB_PARSE_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include "ctx.h"

/*
 * Parse stages return VNAT_NEXT to carry on, or VNAT_PASS with the reason
 * that hands the packet to the kernel.
 */

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

static __always_inline enum vnat_verdict vnat_parse_eth(struct vnat_ctx *c, void *data, void *end)
{
	struct vnat_pkt *p = &c->p;

	p->eth = data;
	p->end = end;
	if ((void *)(p->eth + 1) > end)
		return vnat_pass(c, VNAT_PASS_MALFORMED);
	/* VLAN tags, ARP and IPv6 all stay with the kernel. */
	if (p->eth->h_proto != bpf_htons(ETH_P_IP))
		return vnat_pass(c, VNAT_PASS_NOT_IPV4);
	return VNAT_NEXT;
}

static __always_inline int vnat_mac_equal(const __u8 *a, const __u8 *b)
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) |
		(a[5] ^ b[5])) == 0;
}

/*
 * Sources ip_route_input_slow() refuses whatever the routes say: this
 * network (0/8), loopback (127/8), multicast, class E and the limited
 * broadcast. The host's own addresses are checked against vnat_prefixes.
 */
static __always_inline int vnat_martian_source(__be32 saddr)
{
	__u32 a = bpf_ntohl(saddr);

	return (a >> 24) == 0 || (a >> 24) == 127 || a >= 0xe0000000;
}

/* RFC 1812 5.2.2: a router verifies the header checksum (IHL 5: 10 words). */
static __always_inline int vnat_ip_csum_bad(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;

	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum != 0xffff;
}

/*
 * Validate the IPv4 header for forwarding. Anything the fast path would
 * have to treat specially (options, fragments, expiring TTL) goes to the
 * kernel, which already implements those rules.
 */
static __always_inline enum vnat_verdict vnat_parse_ipv4(struct vnat_ctx *c)
{
	struct vnat_pkt *p = &c->p;
	struct iphdr *ip = (void *)(p->eth + 1);

	p->ip = ip;
	if ((void *)(ip + 1) > p->end)
		return vnat_pass(c, VNAT_PASS_MALFORMED);
	if (ip->version != 4 || ip->ihl < 5)
		return vnat_pass(c, VNAT_PASS_MALFORMED);
	/* tot_len (network order) must fit inside the frame. */
	if (bpf_ntohs(ip->tot_len) < sizeof(*ip) ||
	    bpf_ntohs(ip->tot_len) > c->len - sizeof(struct ethhdr))
		return vnat_pass(c, VNAT_PASS_MALFORMED);
	if (ip->ihl != 5)
		return vnat_pass(c, VNAT_PASS_IP_OPTIONS);
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return vnat_pass(c, VNAT_PASS_FRAGMENT);
	if (ip->ttl <= 1)
		return vnat_pass(c, VNAT_PASS_TTL);
	if (vnat_martian_source(ip->saddr))
		return vnat_pass(c, VNAT_PASS_MARTIAN);
	/*
	 * The FIB would match multicast and broadcast against the default
	 * route; the kernel never forwards them (libvirt's RETURN rules for
	 * 224.0.0.0/24 and 255.255.255.255 follow from that).
	 */
	if (bpf_ntohl(ip->daddr) >= 0xe0000000)
		return vnat_pass(c, VNAT_PASS_NOT_UNICAST);
	if (vnat_ip_csum_bad(ip))
		return vnat_pass(c, VNAT_PASS_BAD_CSUM);
	return VNAT_NEXT;
}

#define VNAT_TCP_FIN 0x01
#define VNAT_TCP_SYN 0x02
#define VNAT_TCP_RST 0x04
#define VNAT_TCP_ACK 0x10
#define VNAT_TCP_URG 0x20

#define VNAT_ICMP_ECHOREPLY 0
#define VNAT_ICMP_ECHO 8
#define VNAT_ICMP_REDIRECT 5

/*
 * The flag combinations a TCP stack sends, as the kernel's conntrack lists
 * them (tcp_valid_flags in nf_conntrack_proto_tcp.c: PSH, ECE and CWR do
 * not count): SYN, SYN+ACK, RST, RST+ACK, FIN+ACK, ACK, each with or
 * without URG where the kernel allows it. Anything else (SYN+FIN, SYN+RST,
 * no flags, all flags, FIN alone) is invalid and never translated.
 */
static __always_inline int vnat_tcp_flags_valid(__u8 flags)
{
	switch (flags &
		(VNAT_TCP_FIN | VNAT_TCP_SYN | VNAT_TCP_RST | VNAT_TCP_ACK | VNAT_TCP_URG)) {
	case VNAT_TCP_SYN:
	case VNAT_TCP_SYN | VNAT_TCP_URG:
	case VNAT_TCP_SYN | VNAT_TCP_ACK:
	case VNAT_TCP_RST:
	case VNAT_TCP_RST | VNAT_TCP_ACK:
	case VNAT_TCP_FIN | VNAT_TCP_ACK:
	case VNAT_TCP_FIN | VNAT_TCP_ACK | VNAT_TCP_URG:
	case VNAT_TCP_ACK:
	case VNAT_TCP_ACK | VNAT_TCP_URG:
		return 1;
	}
	return 0;
}

/*
 * TCP, UDP and ICMP echo; everything else (and ICMP other than echo) is
 * VNAT_PASS_NAT_PROTO. Called after vnat_parse_ipv4(), so IHL is 5.
 */
static __always_inline enum vnat_verdict vnat_parse_l4(struct vnat_ctx *c)
{
	struct vnat_pkt *p = &c->p;
	struct vnat_l4 *l4 = &c->l4;
	void *hdr = (void *)(p->ip + 1);
	/* Bytes of the datagram after the IP header: padding is not a header. */
	__u32 l4len = bpf_ntohs(p->ip->tot_len) - sizeof(struct iphdr);
	__u8 *b = hdr;

	l4->proto = p->ip->protocol;
	l4->hdr = hdr;
	l4->tcp_flags = 0;
	l4->icmp_type = 0;
	switch (l4->proto) {
	case IPPROTO_TCP:
		if (hdr + 20 > p->end || l4len < 20)
			return vnat_pass(c, VNAT_PASS_MALFORMED);
		l4->tcp_flags = b[13];
		/* Data offset below the header or past the datagram. */
		if ((b[12] >> 4) < 5 || (b[12] >> 4) * 4 > l4len || !vnat_tcp_flags_valid(b[13]))
			return vnat_pass(c, VNAT_PASS_INVALID);
		break;
	case IPPROTO_UDP:
		if (hdr + 8 > p->end || l4len < 8)
			return vnat_pass(c, VNAT_PASS_MALFORMED);
		/* The UDP length: at least its header, at most what IP carries. */
		if (bpf_ntohs(*(__be16 *)(b + 4)) < 8 || bpf_ntohs(*(__be16 *)(b + 4)) > l4len)
			return vnat_pass(c, VNAT_PASS_INVALID);
		break;
	case IPPROTO_ICMP:
		if (hdr + 8 > p->end || l4len < 8)
			return vnat_pass(c, VNAT_PASS_MALFORMED);
		l4->icmp_type = b[0];
		if (l4->icmp_type != VNAT_ICMP_ECHO && l4->icmp_type != VNAT_ICMP_ECHOREPLY)
			return vnat_pass(c, VNAT_PASS_NAT_PROTO);
		/* The identifier (bytes 4-5) is both ports of an echo "flow". */
		l4->sport = *(__be16 *)(b + 4);
		l4->dport = l4->sport;
		return VNAT_NEXT;
	default:
		return vnat_pass(c, VNAT_PASS_NAT_PROTO);
	}
	l4->sport = *(__be16 *)b;
	l4->dport = *(__be16 *)(b + 2);
	return VNAT_NEXT;
}

/*
 * An ICMP redirect in an Ethernet frame (seed 000), whatever else its IPv4
 * header holds: the sender copies the offending packet's IP options into
 * it, so the ICMP header is found through IHL.
 */
static __always_inline int vnat_frame_is_redirect(const struct vnat_pkt *p)
{
	struct iphdr *ip = (void *)(p->eth + 1);
	__u8 *type;

	if (p->eth->h_proto != bpf_htons(ETH_P_IP) || (void *)(ip + 1) > p->end ||
	    ip->protocol != IPPROTO_ICMP)
		return 0;
	type = (__u8 *)ip + ip->ihl * 4;
	return (void *)(type + 1) <= p->end && *type == VNAT_ICMP_REDIRECT;
}

#endif /* VNAT_LIB_PARSE_H */
