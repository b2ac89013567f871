/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_PEER_H
#define VNAT_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

/*
 * The other end of a veth, seen from its own network namespace: what
 * decides whether XDP may run on our end (--hook xdp). A frame XDP
 * redirects into our end is received by the peer, which drops it unless
 * it has an XDP program or GRO; a frame the peer sends with tx checksum
 * offload carries a partial checksum XDP can neither see nor finish.
 */
struct vnat_peer {
	char name[IF_NAMESIZE];
	uint32_t ifindex; /* in the peer's namespace */
	bool tx_csum; /* tx-checksumming on: sends partial checksums */
	bool gro; /* generic-receive-offload on */
	bool xdp; /* an XDP program attached */
};

/* Inspect the peer of veth ifindex. 0, or -errno (not found, not reachable). */
int vnat_peer__probe(uint32_t ifindex, struct vnat_peer *peer);

/*
 * Whether XDP on veth `name` is correct: 0, or -EINVAL with one line
 * naming the peer, the setting and what to do (cmd: "load" or "daemon").
 * *xdp_tx: the peer takes XDP frames (XDP may transmit into `name`).
 */
int vnat_peer__check_xdp(const char *cmd, const char *name, uint32_t ifindex, bool *xdp_tx);

#endif
