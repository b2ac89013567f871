/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-reason packet and byte counters. */
#ifndef VNAT_LIB_STATS_H
#define VNAT_LIB_STATS_H

#include "maps.h"

static __always_inline void vnat_count(enum vnat_stat reason, __u64 bytes)
{
	__u32 key = 0;
	struct vnat_stats *s = bpf_map_lookup_elem(&vnat_stats, &key);
	struct vnat_counter *c;
	__u32 idx = reason;

	/*
	 * The bound is for the verifier: the member is indexed by reason. The
	 * empty asm keeps the compiler from merging the check into the
	 * branches that chose the reason, where the verifier loses it.
	 */
	asm volatile("" : "+r"(idx));
	if (!s || idx >= VNAT_STAT_MAX)
		return;
	c = (struct vnat_counter *)s + idx;
	/* Per-CPU value: no atomics needed. */
	c->packets++;
	c->bytes += bytes;
}

#endif /* VNAT_LIB_STATS_H */
