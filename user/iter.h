/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_ITER_H
#define VNAT_ITER_H

#include "datapath.h"

/*
 * Walking a map whose entries the walker deletes or updates: the keys are
 * collected first (a deletion or an update would upset
 * bpf_map_get_next_key's walk, which then restarts or skips), then fn gets
 * each entry still there, looked up afresh. fn returns 0 to go on; its
 * first non-zero return ends the walk and is returned. -errno when the
 * keys cannot be collected.
 */
typedef int (*vnat_map_fn)(const void *key, void *val, void *ctx);
int vnat_map__each(int fd, vnat_map_fn fn, void *ctx);

/* The same over vnat_ifaces, typed. */
typedef int (*vnat_iface_fn)(__u32 ifindex, struct vnat_iface *val, void *ctx);
int vnat_ifaces__each(const struct vnat_maps *m, vnat_iface_fn fn, void *ctx);

/*
 * The entry of vnat_ifaces loaded under NAME (by load or apply, not a
 * bridge port vnat added), found by the name it was loaded with, so also
 * when its device is gone: its ifindex, or 0.
 */
__u32 vnat_ifaces__by_name(const struct vnat_maps *m, const char *name);

#endif
