/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The flow collector: a BPF timer that scans vnat_ct, frees expired flows
 * and the mappings no flow holds any more. It lives in the datapath so
 * expiry works without any user-space process; it is armed by the first
 * flow and cancelled by the kernel when the maps' last user reference (the
 * pins) goes away.
 */
#ifndef VNAT_LIB_GC_H
#define VNAT_LIB_GC_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "stats.h"

#define VNAT_CLOCK_MONOTONIC 1

struct vnat_gc_ctx {
	__u64 now;
};

/*
 * Drop the port a mapping owns. A flow may have taken a new reference
 * between our decrement and here; then the port is given back to it.
 */
static __always_inline void vnat_gc_free_mapping(const struct vnat_map_key *mk,
						 struct vnat_map_val *m)
{
	struct vnat_rev_key rk = {};
	struct vnat_rev_val rv = {};

	rk.outside_port = m->outside_port;
	rk.proto = mk->proto;
	rv.inside_addr = mk->inside_addr;
	rv.inside_port = mk->inside_port;
	bpf_map_delete_elem(&vnat_ports, &rk);
	if (m->flows) {
		bpf_map_update_elem(&vnat_ports, &rk, &rv, BPF_NOEXIST);
		return;
	}
	bpf_map_delete_elem(&vnat_mappings, mk);
}

static __always_inline void vnat_gc_release(const struct vnat_ct_key *key)
{
	struct vnat_map_key mk = {};
	struct vnat_map_val *m;

	mk.inside_addr = key->inside_addr;
	mk.inside_port = key->inside_port;
	mk.proto = key->proto;
	m = bpf_map_lookup_elem(&vnat_mappings, &mk);
	if (m && __sync_fetch_and_add(&m->flows, -1) <= 1)
		vnat_gc_free_mapping(&mk, m);
}

static long vnat_gc_flow(void *map, struct vnat_ct_key *key, struct vnat_ct_val *ct,
			 struct vnat_gc_ctx *c)
{
	if (ct->expires_ns > c->now)
		return 0;
	if (ct->flags & VNAT_CT_KERNEL) {
		/* Holds no mapping; the kernel's entry expires with the same timeout. */
		vnat_kflow_forget(key, ct);
		vnat_count(VNAT_GC_EXPIRED, 0);
		return 0;
	}
	if (!(ct->flags & VNAT_CT_ADDR_ENTRY))
		vnat_gc_release(key);
	bpf_map_delete_elem(map, key);
	/*
	 * Counted in the map, not in *c: the verifier walks the callback as
	 * a loop, and an exact counter on the stack keeps its states from
	 * ever converging ("sequence of jumps is too complex").
	 */
	vnat_count(VNAT_GC_EXPIRED, 0);
	return 0;
}

static int vnat_gc_run(void *map, __u32 *key, struct vnat_gc *gc)
{
	struct vnat_gc_ctx c = { .now = bpf_ktime_get_ns() };

	/*
	 * Deleting the element being visited is allowed for hash maps; an
	 * element freed and reused meanwhile may be skipped or seen twice,
	 * which the next run corrects.
	 */
	bpf_for_each_map_elem(&vnat_ct, vnat_gc_flow, &c, 0)
		;
	gc->runs++;
	gc->last_run_ns = c.now;
	bpf_timer_start(&gc->timer, gc->interval_ns, 0);
	return 0;
}

/* Start the collector once; later calls (and racing CPUs) do nothing. */
static __always_inline void vnat_gc_arm(const struct vnat_config *cfg)
{
	__u32 key = 0;
	struct vnat_gc *gc = bpf_map_lookup_elem(&vnat_gc, &key);
	long ret;

	if (!gc || gc->armed)
		return;
	/* -EBUSY: initialised by a racing CPU or an earlier failed start. */
	ret = bpf_timer_init(&gc->timer, &vnat_gc, VNAT_CLOCK_MONOTONIC);
	if (ret && ret != -16)
		return;
	gc->interval_ns = (__u64)(cfg->gc_interval_ms ? cfg->gc_interval_ms : 1000) * 1000000;
	bpf_timer_set_callback(&gc->timer, vnat_gc_run);
	if (!bpf_timer_start(&gc->timer, gc->interval_ns, 0))
		gc->armed = 1;
}

#endif /* VNAT_LIB_GC_H */
