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

#endif /* VNAT_LIB_CSUM_H */
