/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Connection tracking for the NAT: vnat_ct holds one entry per flow, keyed
 * as seen on the inside, with its TCP state, timeouts and cached next
 * hops. The outside port a flow uses comes from ports.h.
 */
#ifndef VNAT_LIB_CT_H
#define VNAT_LIB_CT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "parse.h"
#include "stats.h"
#include "gc.h"
#include "ports.h"

#define VNAT_NSEC_PER_SEC 1000000000ULL

static __always_inline __u64 vnat_ct_timeout(const struct vnat_config *cfg, __u8 proto, __u8 state)
{
	__u32 s;

	if (proto == IPPROTO_UDP)
		s = cfg->timeout_udp;
	else if (proto == IPPROTO_ICMP)
		s = cfg->timeout_icmp;
	else if (state == VNAT_TCP_ESTABLISHED)
		s = cfg->timeout_tcp_est;
	else
		/* RFC 5382 REQ-5: SYN, FIN and RST states are transitory. */
		s = cfg->timeout_tcp_trans;
	return (__u64)s * VNAT_NSEC_PER_SEC;
}

/* TCP state from the flags of one segment; out = sent by the guest. */
static __always_inline void vnat_tcp_update(struct vnat_ct_val *ct, __u8 flags, int out)
{
	if (flags & VNAT_TCP_RST) {
		ct->state = VNAT_TCP_CLOSED;
		return;
	}
	if (flags & VNAT_TCP_FIN) {
		ct->flags |= out ? VNAT_CT_FIN_OUT : VNAT_CT_FIN_IN;
		if ((ct->flags & (VNAT_CT_FIN_OUT | VNAT_CT_FIN_IN)) ==
		    (VNAT_CT_FIN_OUT | VNAT_CT_FIN_IN))
			ct->state = VNAT_TCP_TIME_WAIT;
		else
			ct->state = VNAT_TCP_FIN_WAIT;
		return;
	}
	switch (ct->state) {
	case VNAT_TCP_SYN_SENT:
		/* Either side may answer: inbound-opened flows exist with ADF/EIF. */
		if ((flags & (VNAT_TCP_SYN | VNAT_TCP_ACK)) == (VNAT_TCP_SYN | VNAT_TCP_ACK))
			ct->state = VNAT_TCP_SYN_RECV;
		break;
	case VNAT_TCP_SYN_RECV:
		/* The ACK of the SYN-ACK completes the handshake. */
		if ((flags & (VNAT_TCP_SYN | VNAT_TCP_ACK)) == VNAT_TCP_ACK)
			ct->state = VNAT_TCP_ESTABLISHED;
		break;
	case VNAT_TCP_CLOSED:
		/* A new SYN on a reset tuple reopens it (port reuse by the guest). */
		if (out && (flags & (VNAT_TCP_SYN | VNAT_TCP_ACK)) == VNAT_TCP_SYN) {
			ct->state = VNAT_TCP_SYN_SENT;
			ct->flags &= ~(VNAT_CT_FIN_OUT | VNAT_CT_FIN_IN);
		}
		break;
	}
}

/* Refresh a flow after a packet in direction out (1) or in (0). */
static __always_inline void vnat_ct_touch(const struct vnat_config *cfg, struct vnat_ct_val *ct,
					  const struct vnat_l4 *l4, __u32 bytes, int out, __u64 now)
{
	if (l4->proto == IPPROTO_TCP)
		vnat_tcp_update(ct, l4->tcp_flags, out);
	/*
	 * Plain adds: a flow is normally handled by one CPU at a time, and
	 * the counters are for display; atomics would cost every packet.
	 */
	if (out) {
		ct->packets_out++;
		ct->bytes_out += bytes;
	} else {
		ct->packets_in++;
		ct->bytes_in += bytes;
	}
	ct->expires_ns = now + vnat_ct_timeout(cfg, l4->proto, ct->state);
}

static __always_inline void vnat_ct_key_out(struct vnat_ct_key *k, const struct iphdr *ip,
					    const struct vnat_l4 *l4)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->inside_addr = ip->saddr;
	k->remote_addr = ip->daddr;
	k->inside_port = l4->sport;
	k->remote_port = l4->proto == IPPROTO_ICMP ? 0 : l4->dport;
	k->proto = l4->proto;
}

/* RFC 4787 ADF: remember that the inside endpoint talked to this address. */
static __always_inline void vnat_ct_note_address(const struct vnat_ct_key *flow,
						 const struct vnat_ct_val *ct)
{
	struct vnat_ct_key k = *flow;
	struct vnat_ct_val v = {};

	k.remote_port = 0;
	k.pad[0] = VNAT_CT_KEY_ADDR; /* never the key of a flow (ICMP's is port 0 too) */
	v.expires_ns = ct->expires_ns;
	v.created_ns = ct->created_ns;
	v.outside_addr = ct->outside_addr;
	v.outside_port = ct->outside_port;
	v.flags = VNAT_CT_ADDR_ENTRY;
	bpf_map_update_elem(&vnat_ct, &k, &v, BPF_ANY);
}

/*
 * The flow for an outbound packet, created if it is new. Only a SYN opens a
 * TCP flow: mid-stream segments belong to connections that started before
 * vnat (the kernel tracks them) and stay on the kernel path.
 * Returns the flow or NULL with *reason set.
 */
static __always_inline struct vnat_ct_val *vnat_ct_outbound(const struct vnat_config *cfg,
							    const struct vnat_ct_key *key,
							    const struct vnat_l4 *l4, __u64 now,
							    int *reason)
{
	struct vnat_ct_val *ct = bpf_map_lookup_elem(&vnat_ct, key);
	enum vnat_port_result got;
	struct vnat_ct_val v = {};

	if (ct)
		return ct;
	if (l4->proto == IPPROTO_TCP &&
	    (l4->tcp_flags & (VNAT_TCP_SYN | VNAT_TCP_ACK | VNAT_TCP_RST)) != VNAT_TCP_SYN) {
		*reason = VNAT_PASS_NAT_UNTRACKED;
		return NULL;
	}
	if (l4->proto == IPPROTO_ICMP && l4->icmp_type != VNAT_ICMP_ECHO) {
		*reason = VNAT_PASS_NAT_PROTO;
		return NULL;
	}
	got = vnat_mapping_acquire(cfg, key->proto, key->inside_addr, key->inside_port,
				   &v.outside_port);
	if (got == VNAT_PORT_EXHAUSTED || got == VNAT_PORT_TABLE_FULL) {
		*reason = got == VNAT_PORT_EXHAUSTED ? VNAT_DROP_NO_PORT : VNAT_DROP_TABLE_FULL;
		return NULL;
	}
	v.outside_addr = cfg->snat_addr;
	v.created_ns = now;
	v.state = l4->proto == IPPROTO_TCP ? VNAT_TCP_SYN_SENT : VNAT_TCP_NONE;
	v.expires_ns = now + vnat_ct_timeout(cfg, l4->proto, v.state);
	if (bpf_map_update_elem(&vnat_ct, key, &v, BPF_NOEXIST)) {
		/* Drop our reference: a mapping no flow holds is freed right away. */
		vnat_gc_release(key);
		ct = bpf_map_lookup_elem(&vnat_ct, key);
		/* Lost a race with another CPU: use its entry. Else full. */
		if (!ct)
			*reason = VNAT_DROP_TABLE_FULL;
		return ct;
	}
	if (got != VNAT_PORT_EXISTING) {
		/* A new mapping, and whether it kept the inside port. */
		vnat_count(VNAT_NAT_NEW_MAPPING, 0);
		if (got == VNAT_PORT_KEPT)
			vnat_count(VNAT_NAT_PORT_KEPT, 0);
	}
	vnat_count(VNAT_NAT_NEW_FLOW, 0);
	vnat_gc_arm(cfg);
	ct = bpf_map_lookup_elem(&vnat_ct, key);
	/* Gone already (a flush): every NULL return says why, or callers read garbage. */
	if (!ct)
		*reason = VNAT_DROP_TABLE_FULL;
	return ct;
}

/* An outbound packet of an existing flow: refreshed (and, ADF, its address noted). */
static __always_inline void vnat_ct_refresh_out(const struct vnat_config *cfg,
						const struct vnat_ct_key *key,
						struct vnat_ct_val *ct, const struct vnat_l4 *l4,
						__u32 len, __u64 now)
{
	vnat_ct_touch(cfg, ct, l4, len, 1, now);
	if (cfg->filtering == VNAT_FILTER_ADF)
		vnat_ct_note_address(key, ct);
}

/*
 * Track an outbound packet: its flow found or created, then refreshed.
 * NULL with *reason when the flow is refused or left to the kernel.
 */
static __always_inline struct vnat_ct_val *vnat_ct_track_out(const struct vnat_config *cfg,
							     const struct iphdr *ip,
							     const struct vnat_l4 *l4, __u32 len,
							     __u64 now, int *reason)
{
	struct vnat_ct_key key;
	struct vnat_ct_val *ct;

	vnat_ct_key_out(&key, ip, l4);
	ct = vnat_ct_outbound(cfg, &key, l4, now, reason);
	if (!ct)
		return NULL;
	vnat_ct_refresh_out(cfg, &key, ct, l4, len, now);
	return ct;
}

/*
 * The mapping an inbound packet to the outside address is for (by its
 * destination port), with *key filled as the inside-side tuple of its
 * flow; NULL when no mapping holds that port. Pings to the host (ICMP
 * other than echo replies) are the host's.
 */
static __always_inline struct vnat_rev_val *
vnat_ct_inbound_key(const struct iphdr *ip, const struct vnat_l4 *l4, struct vnat_ct_key *key)
{
	struct vnat_rev_key rk = {};
	struct vnat_rev_val *rv;

	if (l4->proto == IPPROTO_ICMP && l4->icmp_type != VNAT_ICMP_ECHOREPLY)
		return NULL;
	rk.outside_port = l4->dport;
	rk.proto = l4->proto;
	rv = bpf_map_lookup_elem(&vnat_ports, &rk);
	if (!rv)
		return NULL;
	__builtin_memset(key, 0, sizeof(*key));
	key->inside_addr = rv->inside_addr;
	key->inside_port = rv->inside_port;
	key->remote_addr = ip->saddr;
	key->remote_port = l4->proto == IPPROTO_ICMP ? 0 : l4->sport;
	key->proto = l4->proto;
	return rv;
}

/*
 * The existing flow a reply belongs to, by the exact tuple only: no
 * filtering-mode admission and nothing created (vnat_ct_inbound does
 * that). Fills *key with the inside-side tuple.
 */
static __always_inline struct vnat_ct_val *
vnat_ct_find_in(const struct iphdr *ip, const struct vnat_l4 *l4, struct vnat_ct_key *key)
{
	if (!vnat_ct_inbound_key(ip, l4, key))
		return NULL;
	return bpf_map_lookup_elem(&vnat_ct, key);
}

/*
 * The flow an inbound packet to the outside address belongs to, by the
 * filtering mode (RFC 4787 REQ-8). Fills *key with the inside-side tuple.
 */
static __always_inline struct vnat_ct_val *
vnat_ct_inbound(const struct vnat_config *cfg, const struct iphdr *ip, const struct vnat_l4 *l4,
		struct vnat_ct_key *key, __u64 now, int *reason)
{
	struct vnat_rev_val *rv = vnat_ct_inbound_key(ip, l4, key);
	struct vnat_ct_val *ct, v = {};
	struct vnat_ct_key ak;
	__be16 port;

	if (!rv) {
		*reason = VNAT_PASS_NO_MAPPING;
		return NULL;
	}
	ct = bpf_map_lookup_elem(&vnat_ct, key);
	if (ct || cfg->filtering == VNAT_FILTER_APDF) {
		if (!ct)
			*reason = VNAT_PASS_FILTERED;
		return ct;
	}
	if (cfg->filtering == VNAT_FILTER_ADF) {
		ak = *key;
		ak.remote_port = 0;
		ak.pad[0] = VNAT_CT_KEY_ADDR;
		if (!bpf_map_lookup_elem(&vnat_ct, &ak)) {
			*reason = VNAT_PASS_FILTERED;
			return NULL;
		}
	}
	/* ADF/EIF admit a new remote endpoint: track it as a flow of the mapping. */
	if (vnat_mapping_get(&(struct vnat_map_key){ .inside_addr = rv->inside_addr,
						     .inside_port = rv->inside_port,
						     .proto = l4->proto },
			     rv, &port)) {
		*reason = VNAT_PASS_NO_MAPPING;
		return NULL;
	}
	v.outside_addr = cfg->snat_addr;
	v.outside_port = port;
	v.created_ns = now;
	v.state = l4->proto == IPPROTO_TCP ? VNAT_TCP_SYN_SENT : VNAT_TCP_NONE;
	v.expires_ns = now + vnat_ct_timeout(cfg, l4->proto, v.state);
	if (bpf_map_update_elem(&vnat_ct, key, &v, BPF_NOEXIST)) {
		vnat_mapping_put(&(struct vnat_map_key){ .inside_addr = rv->inside_addr,
							 .inside_port = rv->inside_port,
							 .proto = l4->proto });
	} else {
		vnat_count(VNAT_NAT_NEW_FLOW, 0);
	}
	ct = bpf_map_lookup_elem(&vnat_ct, key);
	if (!ct)
		*reason = VNAT_DROP_TABLE_FULL;
	return ct;
}

#endif /* VNAT_LIB_CT_H */
