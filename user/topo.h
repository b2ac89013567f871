/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_TOPO_H
#define VNAT_TOPO_H

#include <stdbool.h>
#include <stdint.h>
#include "vnat.h"

/*
 * The host's topology as rtnetlink reports it: links (with their bridge
 * and port attributes) and the bridges' forwarding databases. Dumped with
 * libnl; vnat keeps no state of its own beyond the BPF maps it fills.
 */
struct vnat_link {
	uint32_t ifindex;
	uint32_t master; /* bridge ifindex for a port, else 0 */
	char name[VNAT_IFNAMSIZ];
	char kind[16]; /* IFLA_INFO_KIND: "bridge", "veth", "tun", "" */
	uint8_t mac[6];
	bool is_port; /* reported by the AF_BRIDGE dump */
	uint8_t port_state; /* BR_STATE_* */
	bool isolated;
	bool reflect;
};

struct vnat_fdb_entry {
	uint32_t port; /* ifindex of the bridge port */
	uint32_t bridge; /* NDA_MASTER */
	uint8_t mac[6];
	uint16_t vlan;
	uint16_t state; /* NUD_* */
	uint8_t flags; /* NTF_* */
};

#define VNAT_MAX_LINKS 1024
#define VNAT_MAX_FDB_DUMP 16384

struct vnat_topo {
	struct vnat_link links[VNAT_MAX_LINKS];
	int n_links;
	struct vnat_fdb_entry fdb[VNAT_MAX_FDB_DUMP];
	int n_fdb;
	uint32_t default_oif; /* interface of the main table's IPv4 default route */
};

int vnat_topo__dump(struct vnat_topo *t);
const struct vnat_link *vnat_topo__link(const struct vnat_topo *t, uint32_t ifindex);
const struct vnat_link *vnat_topo__link_by_name(const struct vnat_topo *t, const char *name);
bool vnat_link__is_bridge(const struct vnat_link *l);
/*
 * A tap: a virtio guest hands it frames with only a partial checksum,
 * which XDP cannot see or complete; such interfaces get the tc path only.
 */
bool vnat_link__is_tap(const struct vnat_link *l);
bool vnat_link__is_veth(const struct vnat_link *l);
/*
 * Role flags from a --hook choice (VNAT_IFACE_HOOK_* bits; none is auto):
 * those bits, VNAT_IFACE_NO_XDP where the fast path runs on tc only, and
 * VNAT_IFACE_XDP_TX where XDP frames may be sent (taps, NICs).
 */
uint32_t vnat_link__hook_flags(const struct vnat_link *l, uint32_t hook);
/*
 * The hook flags of l for a --hook choice, after checking that the choice
 * is correct for it: --hook xdp is refused on a tap, and on a veth whose
 * peer sends partial checksums or would drop XDP frames (peer.c). 0 with
 * the flags or'ed into *flags, or -EINVAL with one line naming the reason.
 */
int vnat_link__check_hook(const struct vnat_link *l, uint32_t hook, const char *cmd,
			  uint32_t *flags);
/* A learned (or static) unicast entry of a port, not the bridge's own addresses. */
bool vnat_fdb__mirrorable(const struct vnat_fdb_entry *e);

#endif
