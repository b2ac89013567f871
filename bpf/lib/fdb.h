/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bridging fast path. The kernel bridge stays in charge: vnat only moves a
 * known unicast frame from one forwarding port to the port its destination
 * was learned on, using the FDB that user space mirrors into vnat_fdb.
 * Flooding, learning, STP, isolation and hairpin rules remain the
 * kernel's: every such frame is passed.
 */
#ifndef VNAT_LIB_FDB_H
#define VNAT_LIB_FDB_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "parse.h"
#include "stats.h"

static __always_inline void vnat_fdb_key(struct vnat_fdb_key *k, __u32 bridge, const __u8 *mac)
{
	k->bridge = bridge;
	__builtin_memcpy(k->mac, mac, ETH_ALEN);
	k->pad = 0;
}

static __always_inline int vnat_mac_is_multicast(const __u8 *mac)
{
	return mac[0] & 1; /* includes broadcast */
}

static __always_inline int vnat_port_forwarding(const struct vnat_iface *port)
{
	return port->port_state == VNAT_BR_STATE_FORWARDING;
}

/*
 * A source MAC seen on a port other than the one the FDB names: it moved
 * (a guest migrated, a cable changed) or two ports claim it. Either way the
 * mirrored entry is stale: drop it so the kernel decides until user space
 * resyncs, and count moves to recognise a duplicate (seed 002).
 */
static __always_inline void vnat_fdb_moved(const struct vnat_fdb_key *k, __u32 old_port,
					   __u32 new_port, __u64 now)
{
	struct vnat_macmove *mv = bpf_map_lookup_elem(&vnat_macmoves, k);
	struct vnat_macmove fresh = {};

	vnat_count(VNAT_FDB_MOVED, 0);
	bpf_map_delete_elem(&vnat_fdb, k);
	/* Flows may have cached the old port as their next hop's (fib.h). */
	vnat_gen_bump();
	if (!mv || now - mv->window_ns > VNAT_DUP_WINDOW_NS) {
		fresh.port = new_port;
		fresh.prev_port = old_port;
		fresh.moves = 1;
		fresh.window_ns = now;
		fresh.last_move_ns = now;
		bpf_map_update_elem(&vnat_macmoves, k, &fresh, BPF_ANY);
		return;
	}
	mv->prev_port = old_port;
	mv->port = new_port;
	mv->moves++;
	mv->last_move_ns = now;
}

static __always_inline int vnat_mac_duplicate(const struct vnat_fdb_key *k, __u64 now)
{
	struct vnat_macmove *mv = bpf_map_lookup_elem(&vnat_macmoves, k);

	return mv && mv->moves >= VNAT_DUP_MOVES && now - mv->last_move_ns < VNAT_DUP_HOLD_NS;
}

/*
 * Check the source of a frame arriving on a port: VNAT_NEXT to go on, or
 * VNAT_PASS for a moved or duplicate MAC, or for a periodic sample that
 * lets the kernel bridge refresh its ageing timer for a source vnat keeps
 * forwarding.
 */
static __always_inline enum vnat_verdict vnat_fdb_check_source(struct vnat_ctx *c, __u32 bridge,
							       __u32 in_port, __u64 now)
{
	struct vnat_fdb_key k;
	struct vnat_fdb_val *v;

	vnat_fdb_key(&k, bridge, c->p.eth->h_source);
	v = bpf_map_lookup_elem(&vnat_fdb, &k);
	/*
	 * An unknown source goes to the kernel bridge so that it learns it
	 * (and the mirror after it): bridged here, it would never be learned.
	 */
	if (!v)
		return vnat_pass(c, vnat_mac_duplicate(&k, now) ? VNAT_PASS_DUP_MAC :
								  VNAT_PASS_FDB_LEARN);
	if (v->port != in_port) {
		vnat_fdb_moved(&k, v->port, in_port, now);
		return vnat_pass(c, VNAT_PASS_DUP_MAC);
	}
	if (now - v->refreshed_ns > VNAT_FDB_REFRESH_NS) {
		v->refreshed_ns = now;
		return vnat_pass(c, VNAT_PASS_FDB_REFRESH);
	}
	return VNAT_NEXT;
}

/*
 * The port of a managed bridge a unicast MAC is behind, if vnat may send
 * there: a forwarding port of that bridge, and not a duplicate MAC.
 * VNAT_NEXT with c->out and *port_iface, or VNAT_PASS.
 */
static __always_inline enum vnat_verdict
vnat_fdb_port(struct vnat_ctx *c, __u32 bridge, const __u8 *mac, struct vnat_iface **port_iface)
{
	struct vnat_fdb_key k;
	struct vnat_fdb_val *v;
	struct vnat_iface *pi;
	__u32 ifindex;

	vnat_fdb_key(&k, bridge, mac);
	v = bpf_map_lookup_elem(&vnat_fdb, &k);
	if (!v)
		return vnat_pass(c, VNAT_PASS_FDB_MISS);
	ifindex = v->port;
	pi = bpf_map_lookup_elem(&vnat_ifaces, &ifindex);
	if (!pi || !(pi->flags & VNAT_IFACE_PORT) || pi->master != bridge)
		return vnat_pass(c, VNAT_PASS_FDB_MISS);
	if (!vnat_port_forwarding(pi))
		return vnat_pass(c, VNAT_PASS_PORT_STATE);
	c->out = ifindex;
	c->out_flags = pi->flags;
	*port_iface = pi;
	return VNAT_NEXT;
}

/*
 * L2 decision for a frame on a bridge port that is not addressed to the
 * bridge itself: VNAT_TX (fwd_bridged) with c->out, or VNAT_PASS.
 */
static __always_inline enum vnat_verdict
vnat_bridge_forward(struct vnat_ctx *c, const struct vnat_iface *in_port, __u32 in_ifindex)
{
	struct vnat_iface *out_port;
	enum vnat_verdict v;

	if (vnat_mac_is_multicast(c->p.eth->h_dest))
		return vnat_pass(c, VNAT_PASS_FLOOD);
	/*
	 * A guest router's redirect (seed 000) leaves by a managed port: as
	 * tc egress drops it there when the kernel bridge forwards it, so
	 * here, where the frame would never meet tc egress (XDP).
	 */
	if (c->cfg && !(c->cfg->flags & VNAT_CFG_KEEP_REDIRECTS) && vnat_frame_is_redirect(&c->p))
		return vnat_drop(c, VNAT_DROP_REDIRECT);
	if (c->cfg && (c->cfg->flags & VNAT_CFG_BRIDGE_POLICY))
		return vnat_pass(c, VNAT_PASS_BRIDGE_POLICY);
	v = vnat_fdb_port(c, in_port->master, c->p.eth->h_dest, &out_port);
	if (v)
		return v;
	if (c->out == in_ifindex)
		return vnat_pass(c, VNAT_PASS_SAME_PORT); /* reflection is the kernel's call */
	/* Two isolated ports never talk to each other. */
	if ((in_port->flags & VNAT_IFACE_ISOLATED) && (out_port->flags & VNAT_IFACE_ISOLATED))
		return vnat_pass(c, VNAT_PASS_PORT_STATE);
	v = vnat_can_transmit(c, out_port);
	if (v)
		return v;
	return vnat_tx(c, VNAT_FWD_BRIDGED);
}

#endif /* VNAT_LIB_FDB_H */
