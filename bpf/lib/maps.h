/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The maps every stage shares. Pinned by user space under VNAT_PIN_ROOT. */
#ifndef VNAT_LIB_MAPS_H
#define VNAT_LIB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "vnat.h"

/*
 * One element holding every counter, a member per reason (vnat.h), so
 * that bpftool prints them by name: an array lookup, which the verifier
 * inlines, instead of the hash lookup a map keyed by the enum would need
 * (array keys must be plain integers in BTF).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vnat_stats);
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

/* Inside prefixes and host addresses; longest match decides. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VNAT_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* LPM tries require it */
	__type(key, struct vnat_prefix_key);
	__type(value, struct vnat_prefix_val);
} vnat_prefixes SEC(".maps");

/*
 * Flow and mapping tables are plain hashes, not LRU: an LRU would evict a
 * live mapping under pressure, which RFC 4787 forbids; the collector in
 * gc.h frees what expired and a full table refuses only new flows.
 * user space sets max_entries from --max-flows.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNAT_DEFAULT_MAX_FLOWS);
	__type(key, struct vnat_ct_key);
	__type(value, struct vnat_ct_val);
} vnat_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNAT_DEFAULT_MAX_FLOWS);
	__type(key, struct vnat_map_key);
	__type(value, struct vnat_map_val);
} vnat_mappings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNAT_DEFAULT_MAX_FLOWS);
	__type(key, struct vnat_rev_key);
	__type(value, struct vnat_rev_val);
} vnat_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vnat_gc);
} vnat_gc SEC(".maps");

/* Learned unicast MACs of managed bridges, mirrored from the kernel. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNAT_MAX_FDB);
	__type(key, struct vnat_fdb_key);
	__type(value, struct vnat_fdb_val);
} vnat_fdb SEC(".maps");

/* Source MACs that moved between ports; LRU: only recent history matters. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct vnat_fdb_key);
	__type(value, struct vnat_macmove);
} vnat_macmoves SEC(".maps");

/*
 * The generation cached next hops are checked against (vnat.h). Mappable:
 * user space adds to its element atomically through the mapping, as the
 * datapath does to its own; __u64 values, so element i is at i * 8 there.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNAT_GEN_MAX);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} vnat_gen SEC(".maps");

/* Counts only user space keeps (vnat.h); here so it is pinned with the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNAT_UCOUNT_MAX);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} vnat_ucount SEC(".maps");

/*
 * Post-translation tuples of kernel-admitted directions (admit.h): what tc
 * egress sees of a packet vnat transmitted itself, recognised without a
 * kernel lookup. LRU: a lost entry costs one kernel lookup, never a
 * decision. An entry goes with its vnat_ct direction (vnat_kflow_forget).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VNAT_DEFAULT_MAX_FLOWS);
	__type(key, struct vnat_ct_key);
	__type(value, __u32);
} vnat_kegress SEC(".maps");

/* Requests to the daemon: mark this kernel TCP entry liberal (struct vnat_liberal_req). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VNAT_LIBERAL_RING_BYTES);
} vnat_kliberal SEC(".maps");

/*
 * When a flow (its vnat_kflow_key of the original tuple) last asked, so a
 * flow asks about once per VNAT_LIBERAL_RETRY_NS, not once per packet,
 * however long the daemon takes or if none runs. LRU: a lost entry costs
 * one more request.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VNAT_LIBERAL_PENDING);
	__type(key, struct vnat_ct_key);
	__type(value, __u64);
} vnat_klibreq SEC(".maps");

/* The vnat_ct key of a kernel-admitted direction: its tuple as it arrives. */
static __always_inline void vnat_kflow_key(struct vnat_ct_key *k, __be32 saddr, __be32 daddr,
					   __be16 sport, __be16 dport, __u8 proto)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->inside_addr = saddr;
	k->remote_addr = daddr;
	k->inside_port = sport;
	k->remote_port = dport;
	k->proto = proto;
	k->pad[0] = VNAT_CT_KEY_KERNEL;
}

/* Remove one admitted direction and its egress marker (its tuple translated). */
static __always_inline void vnat_kflow_forget(const struct vnat_ct_key *k,
					      const struct vnat_ct_val *ct)
{
	struct vnat_ct_key ek;

	vnat_kflow_key(&ek, ct->outside_addr, ct->xl_daddr, ct->outside_port, ct->xl_dport,
		       k->proto);
	bpf_map_delete_elem(&vnat_kegress, &ek);
	bpf_map_delete_elem(&vnat_ct, k);
}

static __always_inline struct vnat_config *vnat_get_config(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&vnat_config, &key);
}

static __always_inline __u32 vnat_gen_now(void)
{
	__u32 ku = VNAT_GEN_USER, kd = VNAT_GEN_DATAPATH;
	__u64 *u = bpf_map_lookup_elem(&vnat_gen, &ku);
	__u64 *d = bpf_map_lookup_elem(&vnat_gen, &kd);

	return (__u32)((u ? *u : 0) + (d ? *d : 0));
}

/* Something cached next hops depend on changed in the datapath itself. */
static __always_inline void vnat_gen_bump(void)
{
	__u32 k = VNAT_GEN_DATAPATH;
	__u64 *d = bpf_map_lookup_elem(&vnat_gen, &k);

	if (d)
		__sync_fetch_and_add(d, 1);
}

#endif /* VNAT_LIB_MAPS_H */
