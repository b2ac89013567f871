/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_SYNC_H
#define VNAT_SYNC_H

#include "datapath.h"
#include "topo.h"

/*
 * Bring the BPF maps in line with the kernel's topology: the ports of every
 * managed bridge attached (new ones) or released (gone, or moved to
 * another bridge), their STP state and flags current, and vnat_fdb equal
 * to the bridges' learned unicast entries. Returns the number of changes,
 * or -errno.
 */
int vnat_sync__ports(struct vnat_loader *l, const struct vnat_topo *t);
/*
 * Interfaces named in a load (not bridge ports) whose device was deleted
 * and created again under the same name: attached anew with their role.
 * The number re-attached.
 */
int vnat_sync__reattach(struct vnat_loader *l, const struct vnat_topo *t);
int vnat_sync__fdb(const struct vnat_maps *m, const struct vnat_topo *t);
/*
 * vnat_prefixes: every address of this host as a /32 never translated nor
 * accepted as a source, and (NAT without --from) the prefixes configured
 * on the inside interfaces: those vnat_ifaces marks, plus the n_inside
 * ifindexes in inside (interfaces about to be attached).
 */
/* --masquerade: the SNAT address follows the uplink's first IPv4 address. */
int vnat_sync__masquerade(const struct vnat_maps *m);
int vnat_sync__prefixes(const struct vnat_maps *m, const uint32_t *inside, int n_inside);

#endif
