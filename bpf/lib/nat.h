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

/*
 * Should a packet from a guest (its source an inside prefix) to dst be
 * masqueraded? libvirt's RETURN for 224.0.0.0/24 and 255.255.255.255:
 * see vnat_parse_ipv4.
 */
static __always_inline int vnat_nat_candidate_dst(__be32 dst)
{
	/* ! -d <inside>: guest to guest and guest to host stay untranslated */
	return vnat_prefix_kind(dst) == 0;
}

/* Should a packet from src to dst be masqueraded? */
static __always_inline int vnat_nat_candidate(__be32 src, __be32 dst)
{
	if (vnat_prefix_kind(src) != VNAT_PREFIX_INSIDE)
		return 0; /* not a guest: the host's own, or routed from elsewhere */
	return vnat_nat_candidate_dst(dst);
}

/* Is ifindex an egress the NAT translates for? */
static __always_inline int vnat_nat_egress(const struct vnat_config *cfg,
					   const struct vnat_iface *out, __u32 ifindex)
{
	if (!out || !(out->flags & VNAT_IFACE_OUTSIDE))
		return 0;
	return !cfg->out_ifindex || cfg->out_ifindex == ifindex;
}

#endif /* VNAT_LIB_NAT_H */
