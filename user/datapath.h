/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_DATAPATH_H
#define VNAT_DATAPATH_H

#include <stdbool.h>
#include <stdint.h>
#include <bpf/bpf.h>
#include "iface.h"
#include "vnat.h"

/* File descriptors of the maps one vnat instance shares across programs. */
struct vnat_maps {
	int stats;
	int ifaces;
	int txports;
	int config;
	int prefixes;
	int ct;
	int mappings;
	int ports;
	int gc;
	int fdb;
	int macmoves;
	int gen;
	int kegress; /* post-translation tuples of kernel-admitted flows */
	int kliberal; /* ring buffer: TCP entries to mark liberal (the daemon's job) */
	int klibreq; /* when each of those flows last asked */
	int ucount; /* counts only user space keeps (enum vnat_ucount_idx) */
	/* vnat_gen mapped (BPF_F_MMAPABLE): bumped with an atomic add; NULL if not */
	__u64 *gen_mem;
	char pin_dir[128]; /* where they are pinned, for messages; "" = not pinned */
};

struct vnat;
struct xdp_program;

/* A datapath being loaded by this process (new, or sharing pinned maps). */
struct vnat_loader {
	struct vnat *skel;
	struct xdp_program *xdp;
	struct vnat_maps maps;
	bool reused; /* maps came from an existing instance's pins */
	uint32_t attached[VNAT_MAX_IFACES]; /* ifindexes this loader attached */
	int n_attached;
	char pin_dir[128]; /* "" = keep nothing in bpffs (unit tests) */
};

/* What is attached to one interface, as read back from the kernel. */
struct vnat_attachment {
	uint32_t xdp_id;
	enum vnat_xdp_mode xdp_mode;
	uint32_t tc_ingress_id;
	uint32_t tc_egress_id;
};

/* max_flows sizes a new instance's flow tables; a reused one keeps its own. */
int vnat_loader__open(struct vnat_loader *l, const char *pin_dir, uint32_t max_flows);
/* Only the map entries, no hooks: what unit tests seed packets against. */
/*
 * How an interface is managed: role flags (VNAT_IFACE_INSIDE/OUTSIDE for
 * NAT, BRIDGE, PORT|AUTO for a bridge's ports, 0 for routing only) and, for
 * a bridge port, its bridge and STP state.
 */
struct vnat_role {
	uint32_t flags;
	uint32_t master;
	uint8_t port_state;
};

int vnat_loader__register(struct vnat_loader *l, const struct vnat_iface_info *ifi,
			  enum vnat_xdp_mode mode, const struct vnat_role *role);
/* XDP and tc on the interface; a bridge gets tc only (XDP runs on its ports). */
int vnat_loader__attach(struct vnat_loader *l, const struct vnat_iface_info *ifi,
			enum vnat_xdp_mode mode, const struct vnat_role *role);
int vnat_maps__add_prefix(const struct vnat_maps *m, uint32_t addr, uint8_t len,
			  enum vnat_prefix_kind kind);
int vnat_loader__pin(struct vnat_loader *l);
void vnat_loader__close(struct vnat_loader *l);

int vnat_maps__open_pinned(const char *pin_dir, struct vnat_maps *m);
/* The same, taking pins of another vnat version: its missing maps stay -1. */
int vnat_maps__open_pinned_partial(const char *pin_dir, struct vnat_maps *m, int *missing);
void vnat_maps__close(struct vnat_maps *m);
int vnat_maps__unpin(const char *pin_dir);
int vnat_maps__read_config(const struct vnat_maps *m, struct vnat_config *cfg);
/*
 * Every change of vnat's maps or the host's topology (vnat.h: vnat_gen):
 * an atomic add to the user element, so concurrent bumps never undo each
 * other. -EOPNOTSUPP when the pinned map is not mappable (another build).
 */
int vnat_maps__bump_gen(const struct vnat_maps *m);
/* Add n to one of vnat_ucount's counts (atomically), or read it (0 if unreadable). */
int vnat_maps__ucount_add(const struct vnat_maps *m, enum vnat_ucount_idx i, __u64 n);
__u64 vnat_maps__ucount(const struct vnat_maps *m, enum vnat_ucount_idx i);
/* The kernel's description of the map behind fd (type, sizes, flags, BTF). */
int vnat_map_info(int fd, struct bpf_map_info *info);
/* Writes the configuration and bumps the generation. */
int vnat_maps__write_config(const struct vnat_maps *m, const struct vnat_config *cfg);
/* Every counter at once, summed over the CPUs. */
int vnat_maps__read_counters(const struct vnat_maps *m, struct vnat_stats *sum);

int vnat_datapath__detach(const struct vnat_maps *m, uint32_t ifindex,
			  const struct vnat_iface *val);
/* Only the hooks: the map entry stays, so the datapath can still send there. */
int vnat_datapath__detach_hooks(const struct vnat_maps *m, uint32_t ifindex,
				struct vnat_iface *val);
void vnat_datapath__query(uint32_t ifindex, struct vnat_attachment *a);
/* The --hook an interface was loaded with, and why it runs on tc only. */
const char *vnat_hook__option(uint32_t flags);
const char *vnat_hook__reason(uint32_t flags);
/* Flows of one protocol in vnat_ct (ADF address records not counted). */
int vnat_maps__count_flows(const struct vnat_maps *m, uint8_t proto);

#endif
