/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ICMP errors through the NAT (RFC 5508 REQ-3..5): Destination Unreachable
 * (fragmentation-needed included), Time Exceeded and Parameter Problem
 * carry the head of the datagram they are about. Translating one means the
 * outer address, the quoted IP header and transport ports, and every
 * checksum covering them: the quoted IP and transport checksums and the
 * outer ICMP checksum, which covers the quote.
 */
#ifndef VNAT_LIB_ICMP_H
#define VNAT_LIB_ICMP_H

#include <linux/bpf.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "csum.h"
#include "maps.h"
#include "parse.h"

#define VNAT_ICMP_DEST_UNREACH 3
#define VNAT_ICMP_TIME_EXCEEDED 11
#define VNAT_ICMP_PARAMETERPROB 12

static __always_inline int vnat_icmp_is_error(__u8 type)
{
	return type == VNAT_ICMP_DEST_UNREACH || type == VNAT_ICMP_TIME_EXCEEDED ||
	       type == VNAT_ICMP_PARAMETERPROB;
}

/* The quoted datagram, as seen on the wire inside the outer ICMP message. */
struct vnat_icmp_quote {
	__u16 *icmp_check; /* outer ICMP checksum */
	struct iphdr *ip; /* quoted IP header (IHL 5) */
	__u8 *l4; /* quoted transport header, at least 8 bytes */
	__u8 proto;
	__be16 sport; /* quoted ports (ICMP echo: the identifier in both) */
	__be16 dport;
};

/*
 * The largest ICMP error translated: RFC 1812 4.3.2.3 keeps an error's
 * datagram within 576 bytes (Linux's icmp_send does); a longer one is
 * left to the kernel. Bounds the checksum loop below.
 */
#define VNAT_ICMP_ERROR_MAX (576 - 20)

/* bpf_xdp_load_bytes or bpf_skb_load_bytes: the hook's way to copy packet bytes. */
typedef long (*vnat_load_bytes_fn)(void *ctx, __u32 off, void *buf, __u32 len);

#define VNAT_SUM_BLOCK 32

/*
 * RFC 5508 REQ-3: an error whose ICMP checksum is wrong is not translated
 * (the kernel's conntrack calls it invalid). Checked by the entry points
 * before the pipeline runs, for every IPv4 ICMP error whose datagram is
 * within VNAT_ICMP_ERROR_MAX, and read through the hook's load helper in
 * blocks: a loop of direct packet reads would leave the packet pointers
 * with a proven range per iteration it ended in, and the verifier would
 * walk the rest of the program once for each. Words are summed as they
 * lie in memory (one's complement sums do not care about byte order; the
 * last block is zero-padded). Sets c->icmp_csum_ok.
 */
static __always_inline void vnat_icmp_check_csum(struct vnat_ctx *c, vnat_load_bytes_fn load,
						 void *data, void *end)
{
	const __u32 off = sizeof(struct ethhdr) + sizeof(struct iphdr);
	struct iphdr *ip = data + sizeof(struct ethhdr);
	__u16 block[VNAT_SUM_BLOCK / 2];
	__u32 sum = 0, len, n;

	if ((void *)(ip + 1) + 1 > end || ((struct ethhdr *)data)->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_ICMP || !vnat_icmp_is_error(*(__u8 *)(ip + 1)))
		return;
	len = bpf_ntohs(ip->tot_len) - sizeof(*ip);
	if (len > VNAT_ICMP_ERROR_MAX)
		return;
	for (__u32 done = 0; done < VNAT_ICMP_ERROR_MAX; done += VNAT_SUM_BLOCK) {
		if (done >= len)
			break;
		n = len - done < VNAT_SUM_BLOCK ? len - done : VNAT_SUM_BLOCK;
		if (n < 1 || n > VNAT_SUM_BLOCK)
			return; /* for the verifier: the helper's size is 1 to the block */
		__builtin_memset(block, 0, sizeof(block));
		if (load(c->ctx, off + done, block, n))
			return;
		for (int i = 0; i < VNAT_SUM_BLOCK / 2; i++)
			sum += block[i];
	}
	c->icmp_csum_ok = vnat_csum_fold(vnat_csum_fold(sum)) == 0xffff;
}

/*
 * Parse an ICMP error's quote. Only what vnat could have translated is
 * accepted: an option-less IPv4 header and TCP, UDP or ICMP echo with the
 * 8 transport bytes RFC 792 guarantees.
 */
static __always_inline enum vnat_verdict vnat_icmp_parse_quote(struct vnat_ctx *c,
							       struct vnat_icmp_quote *q)
{
	const struct vnat_pkt *p = &c->p;
	__u8 *icmp = (void *)(p->ip + 1);
	struct iphdr *in = (void *)(icmp + 8);
	__u8 *l4 = (void *)(in + 1);

	__u32 len = bpf_ntohs(p->ip->tot_len) - sizeof(struct iphdr);

	if ((void *)(l4 + 8) > p->end)
		return vnat_pass(c, VNAT_PASS_MALFORMED);
	if (in->version != 4 || in->ihl != 5 || len > VNAT_ICMP_ERROR_MAX)
		return vnat_pass(c, VNAT_PASS_ICMP_ERROR);
	if (!c->icmp_csum_ok)
		return vnat_pass(c, VNAT_PASS_INVALID);
	q->icmp_check = (__u16 *)(icmp + 2);
	q->ip = in;
	q->l4 = l4;
	q->proto = in->protocol;
	switch (q->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		q->sport = *(__be16 *)l4;
		q->dport = *(__be16 *)(l4 + 2);
		return VNAT_NEXT;
	case IPPROTO_ICMP:
		if (l4[0] != VNAT_ICMP_ECHO && l4[0] != VNAT_ICMP_ECHOREPLY)
			return vnat_pass(c, VNAT_PASS_ICMP_ERROR);
		q->sport = *(__be16 *)(l4 + 4);
		q->dport = q->sport;
		return VNAT_NEXT;
	}
	return vnat_pass(c, VNAT_PASS_ICMP_ERROR);
}

/* Replace a 16-bit word of the quote, keeping the outer ICMP checksum right. */
static __always_inline void vnat_quote_set16(struct vnat_icmp_quote *q, __u16 *word, __u16 val)
{
	*q->icmp_check = vnat_csum_replace2(*q->icmp_check, *word, val);
	*word = val;
}

/*
 * Rewrite the quoted source (src = 1: the quote is a datagram vnat sent
 * out, now coming back) or destination (src = 0: a datagram vnat delivered
 * to a guest, the guest's error going out) to addr:port.
 */
static __always_inline void vnat_icmp_quote_xlate(const struct vnat_pkt *p,
						  struct vnat_icmp_quote *q, int src, __be32 addr,
						  __be16 port)
{
	__be32 *a = src ? &q->ip->saddr : &q->ip->daddr;
	__be32 old_addr = *a;
	__u16 *pp, *l4check = 0;
	__be16 old_port;
	__u16 ip_check;
	int partial;

	/* The quoted IP header and its checksum. */
	ip_check = vnat_csum_replace4(q->ip->check, old_addr, addr);
	vnat_quote_set16(q, (__u16 *)a, addr & 0xffff);
	vnat_quote_set16(q, (__u16 *)a + 1, addr >> 16);
	vnat_quote_set16(q, &q->ip->check, ip_check);

	/* The quoted port and, where quoted, the transport checksum. */
	if (q->proto == IPPROTO_ICMP) {
		pp = (__u16 *)(q->l4 + 4);
		l4check = (__u16 *)(q->l4 + 2);
	} else {
		pp = (__u16 *)(q->l4 + (src ? 0 : 2));
		if (q->proto == IPPROTO_UDP)
			l4check = (__u16 *)(q->l4 + 6);
		else if ((void *)(q->l4 + 18) <= p->end)
			l4check = (__u16 *)(q->l4 + 16);
	}
	old_port = *pp;
	vnat_quote_set16(q, pp, port);
	if (!l4check || (q->proto == IPPROTO_UDP && !*l4check))
		return;
	if (q->proto == IPPROTO_ICMP) {
		vnat_quote_set16(q, l4check, vnat_csum_replace2(*l4check, old_port, port));
		return;
	}
	/*
	 * A datagram an endpoint sent with a partial checksum (its offload)
	 * is quoted with the pseudo-header sum of the addresses it carried
	 * (now rewritten above, so the sum is taken for the old address):
	 * keep that form for the new address, where ports do not count. A
	 * complete checksum equal to that sum by chance (1 in 65536) is
	 * taken as partial too; nobody can verify such a quote anyway.
	 */
	partial = *l4check == vnat_csum_partial_replace4(vnat_pseudo_sum(q->ip), addr, old_addr);
	if (partial)
		vnat_quote_set16(q, l4check, vnat_csum_partial_replace4(*l4check, old_addr, addr));
	else
		vnat_quote_set16(q, l4check,
				 vnat_csum_replace2(vnat_csum_replace4(*l4check, old_addr, addr),
						    old_port, port));
}

/* The outer address (no pseudo-header in ICMP: only the IP checksum). */
static __always_inline void vnat_icmp_outer_xlate(struct vnat_pkt *p, int src, __be32 addr)
{
	__be32 *a = src ? &p->ip->saddr : &p->ip->daddr;

	p->ip->check = vnat_csum_replace4(p->ip->check, *a, addr);
	*a = addr;
}

#endif /* VNAT_LIB_ICMP_H */
