/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-reason packet and byte counters. */
#ifndef VNAT_LIB_STATS_H
#define VNAT_LIB_STATS_H

#include "maps.h"

static __always_inline void vnat_count(enum vnat_stat reason, __u64 bytes)
{
	struct vnat_counter *c = bpf_map_lookup_elem(&vnat_stats, &reason);

	/* Per-CPU value: no atomics needed. */
	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

#endif /* VNAT_LIB_STATS_H */
