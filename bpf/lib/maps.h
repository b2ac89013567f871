/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The maps every stage shares. Pinned by user space under VNAT_PIN_ROOT. */
#ifndef VNAT_LIB_MAPS_H
#define VNAT_LIB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "vnat.h"

/*
 * A hash rather than an array keyed by the enum: array maps insist on an
 * integer key in BTF, and the enum key is what lets bpftool print counter
 * names. User space creates every key at load, so BPF never inserts.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, VNAT_STAT_MAX);
	__type(key, enum vnat_stat);
	__type(value, struct vnat_counter);
} vnat_stats SEC(".maps");

/* Managed interfaces, by ifindex: ingress filter and egress check. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNAT_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct vnat_iface);
} vnat_ifaces SEC(".maps");

/* XDP transmit ports (same set as vnat_ifaces): bulked bpf_redirect_map. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, VNAT_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} vnat_txports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vnat_config);
} vnat_config SEC(".maps");

#endif /* VNAT_LIB_MAPS_H */
