/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_DATAPATH_INT_H
#define VNAT_DATAPATH_INT_H

/*
 * Shared between maps.c, loader.c and hooks.c (datapath.h's three jobs),
 * not part of the datapath's interface.
 */
#include <stdbool.h>
#include <stddef.h>
#include "datapath.h"

#define VNAT_XDP_PROG_NAME "xdp_vnat_fwd"

/* The pinned maps' names, in the order of struct vnat_maps's fds. */
#define VNAT_N_MAPS 16
extern const char *const vnat_map_names[VNAT_N_MAPS];

int *vnat_maps__slot(struct vnat_maps *m, size_t i);
void vnat_maps__pin_path(char *buf, size_t len, const char *dir, const char *name);
/* The flow tables' size is --max-flows of the load that created them. */
bool vnat_maps__sized_by_user(size_t i);
/* vnat_gen mapped shared, for atomic bumps; NULL when not this build's map. */
__u64 *vnat_maps__map_gen(int fd);

int vnat_hooks__attach_xdp(struct vnat_loader *l, const struct vnat_iface_info *ifi,
			   enum vnat_xdp_mode mode, bool fallback, bool *native);
int vnat_hooks__attach_tc(struct vnat_loader *l, const struct vnat_iface_info *ifi,
			  struct vnat_iface *val);

#endif
