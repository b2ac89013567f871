/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Outside port allocation: endpoint-independent mappings and the ports
 * they own.
 *
 * vnat_mappings maps an inside endpoint to its outside port (RFC 4787
 * REQ-1: the same port for every destination); vnat_ports is the reverse
 * and owns the port: whoever inserts a key there first holds it, which is
 * what keeps two CPUs from handing one port to two endpoints. A mapping
 * counts the flows using it; the collector (gc.h) frees it at zero.
 */
#ifndef VNAT_LIB_PORTS_H
#define VNAT_LIB_PORTS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"

#define VNAT_E2BIG 7 /* <errno.h> is not usable from BPF: a full hash map says E2BIG */

/* What vnat_mapping_acquire() found or made for an inside endpoint. */
enum vnat_port_result {
	VNAT_PORT_EXISTING = 0, /* its live mapping */
	VNAT_PORT_NEW, /* a new mapping on another port */
	VNAT_PORT_KEPT, /* a new mapping that kept the inside port */
	VNAT_PORT_EXHAUSTED, /* no free port in the range */
	VNAT_PORT_TABLE_FULL, /* vnat_ports or vnat_mappings is full */
};

/*
 * Candidate i of the search for a port in the range. The first half keeps
 * the inside port's parity and its class (privileged below 1024 or not)
 * where the range allows (RFC 4787 REQ-3/4: RECOMMENDED, so not at any
 * price); the second half takes any port: randomly (RFC 6056), or in turn
 * when the range is no larger than that half, so a free port is found.
 */
static __always_inline __u16 vnat_port_candidate(const struct vnat_config *cfg, __u16 inside, int i,
						 __u32 start)
{
	__u32 lo = cfg->port_min, hi = cfg->port_max, n, port;

	if (i >= VNAT_PORT_TRIES / 2) {
		n = hi - lo + 1;
		return lo +
		       (n <= VNAT_PORT_TRIES / 2 ? (start + i) % n : bpf_get_prandom_u32() % n);
	}
	if (inside < 1024 && lo < 1024)
		hi = hi < 1023 ? hi : 1023;
	else if (inside >= 1024 && hi >= 1024)
		lo = lo > 1024 ? lo : 1024;
	if (hi < lo)
		return cfg->port_min;
	n = hi - lo + 1;
	port = lo + bpf_get_prandom_u32() % n;
	if (n > 1 && ((port ^ inside) & 1))
		port = port < hi ? port + 1 : port - 1;
	return port;
}

/* Try to own outside port (host order) for the inside endpoint. */
static __always_inline int vnat_claim_port(__u8 proto, __u16 port, const struct vnat_rev_val *rv)
{
	struct vnat_rev_key rk = {};

	rk.outside_port = bpf_htons(port);
	rk.proto = proto;
	return bpf_map_update_elem(&vnat_ports, &rk, rv, BPF_NOEXIST);
}

static __always_inline void vnat_release_port(__u8 proto, __be16 port)
{
	struct vnat_rev_key rk = {};

	rk.outside_port = port;
	rk.proto = proto;
	bpf_map_delete_elem(&vnat_ports, &rk);
}

static __always_inline int vnat_port_owned_by(__u8 proto, __be16 port,
					      const struct vnat_rev_val *rv)
{
	struct vnat_rev_key rk = {};
	struct vnat_rev_val *cur;

	rk.outside_port = port;
	rk.proto = proto;
	cur = bpf_map_lookup_elem(&vnat_ports, &rk);
	return cur && cur->inside_addr == rv->inside_addr && cur->inside_port == rv->inside_port;
}

/* Take a reference on an existing live mapping; 0 and *port on success. */
static __always_inline int vnat_mapping_get(const struct vnat_map_key *mk,
					    const struct vnat_rev_val *rv, __be16 *port)
{
	struct vnat_map_val *m = bpf_map_lookup_elem(&vnat_mappings, mk);

	if (!m)
		return -1;
	__sync_fetch_and_add(&m->flows, 1);
	/* The collector may have just freed it: believe only the port owner. */
	if (!vnat_port_owned_by(mk->proto, m->outside_port, rv)) {
		__sync_fetch_and_add(&m->flows, -1);
		return -1;
	}
	*port = m->outside_port;
	return 0;
}

static __always_inline void vnat_mapping_put(const struct vnat_map_key *mk)
{
	struct vnat_map_val *m = bpf_map_lookup_elem(&vnat_mappings, mk);

	if (m)
		__sync_fetch_and_add(&m->flows, -1);
}

/*
 * The outside port for an inside endpoint: its existing mapping, else a
 * new one that keeps the source port when it is free (REQ-3 port
 * preservation is what lets the kernel take flows back after unload),
 * else a bounded random search.
 */
static __always_inline enum vnat_port_result vnat_mapping_acquire(const struct vnat_config *cfg,
								  __u8 proto, __be32 addr,
								  __be16 port, __be16 *out_port)
{
	struct vnat_map_key mk = {};
	struct vnat_map_val mv = {};
	struct vnat_rev_val rv = {};
	__u16 inside = bpf_ntohs(port), cand = 0;
	int i, err, claimed = 0;
	__u32 start;

	mk.inside_addr = addr;
	mk.inside_port = port;
	mk.proto = proto;
	rv.inside_addr = addr;
	rv.inside_port = port;
	if (!vnat_mapping_get(&mk, &rv, out_port))
		return VNAT_PORT_EXISTING;

	if (inside >= cfg->port_min && inside <= cfg->port_max) {
		err = vnat_claim_port(proto, inside, &rv);
		if (err == -VNAT_E2BIG)
			return VNAT_PORT_TABLE_FULL; /* vnat_ports is full, not the range */
		claimed = !err;
		cand = inside;
	}
	start = bpf_get_prandom_u32();
	for (i = 0; i < VNAT_PORT_TRIES && !claimed; i++) {
		cand = vnat_port_candidate(cfg, inside, i, start);
		err = vnat_claim_port(proto, cand, &rv);
		if (err == -VNAT_E2BIG)
			return VNAT_PORT_TABLE_FULL;
		claimed = !err;
	}
	if (!claimed)
		return VNAT_PORT_EXHAUSTED;

	mv.outside_port = bpf_htons(cand);
	mv.flows = 1;
	if (bpf_map_update_elem(&vnat_mappings, &mk, &mv, BPF_NOEXIST)) {
		/* Another CPU created this mapping first (or the table is full). */
		vnat_release_port(proto, mv.outside_port);
		return vnat_mapping_get(&mk, &rv, out_port) ? VNAT_PORT_TABLE_FULL :
							      VNAT_PORT_EXISTING;
	}
	*out_port = mv.outside_port;
	return cand == inside ? VNAT_PORT_KEPT : VNAT_PORT_NEW;
}

#endif /* VNAT_LIB_PORTS_H */
