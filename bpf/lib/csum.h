/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Incremental Internet checksum updates (RFC 1624). */
#ifndef VNAT_LIB_CSUM_H
#define VNAT_LIB_CSUM_H

#include <linux/ip.h>
#include <bpf/bpf_endian.h>

static __always_inline __u16 vnat_csum_fold(__u32 csum)
{
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	return (__u16)csum;
}

/*
 * Decrement TTL and patch the header checksum, as the kernel's
 * ip_decrease_ttl() does: TTL is the high byte of its 16-bit word, so the
 * word drops by 0x0100 and the one's complement sum rises by the same.
 */
static __always_inline void vnat_ip_decrease_ttl(struct iphdr *ip)
{
	__u32 check = ip->check;

	check += bpf_htons(0x0100);
	ip->check = (__u16)(check + (check >= 0xffff));
	ip->ttl--;
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). One's complement sums do not
 * care about byte order as long as both sides use the same, so the
 * network-order words are added as they are.
 */
static __always_inline __u16 vnat_csum_replace4(__u16 check, __be32 from, __be32 to)
{
	__u32 sum = (__u16)~check;

	sum += (~from & 0xffff) + (~from >> 16) + (to & 0xffff) + (to >> 16);
	return ~vnat_csum_fold(sum);
}

static __always_inline __u16 vnat_csum_replace2(__u16 check, __be16 from, __be16 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from + to;
	return ~vnat_csum_fold(sum);
}

/*
 * A partial checksum (CHECKSUM_PARTIAL: tx offload, virtio NEEDS_CSUM)
 * holds the folded pseudo-header sum itself, not its complement: an
 * address change adds to it the way it adds to the sum.
 */
static __always_inline __u16 vnat_csum_partial_replace4(__u16 check, __be32 from, __be32 to)
{
	__u32 sum = check;

	sum += (~from & 0xffff) + (~from >> 16) + (to & 0xffff) + (to >> 16);
	return vnat_csum_fold(sum);
}

/* The folded pseudo-header sum of an IPv4 datagram (what a partial checksum holds). */
static __always_inline __u16 vnat_pseudo_sum(const struct iphdr *ip)
{
	__u32 sum = (ip->saddr & 0xffff) + (ip->saddr >> 16) + (ip->daddr & 0xffff) +
		    (ip->daddr >> 16) + bpf_htons(ip->protocol) +
		    bpf_htons(bpf_ntohs(ip->tot_len) - ip->ihl * 4);

	return vnat_csum_fold(sum);
}

/* RFC 768: a UDP checksum of 0 means "none" and must stay 0; a computed 0 is sent as 0xffff. */
static __always_inline __u16 vnat_udp_csum_fix(__u16 check)
{
	return check ? check : 0xffff;
}

#endif /* VNAT_LIB_CSUM_H */
