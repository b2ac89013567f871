/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_STATUS_H
#define VNAT_STATUS_H

#include <net/if.h>
#include <stdbool.h>
#include "datapath.h"
#include "health.h"
#include "ifstats.h"
#include "netns.h"
#include "vnat.h"

struct vnat_out;

/*
 * What vnat status shows, read once (cmd_status.c gathers it from the pins
 * and the kernel) and described once (status.c) for text and JSON alike.
 */
struct vnat_status_iface {
	uint32_t ifindex;
	struct vnat_iface val;
	struct vnat_attachment a;
	int send_redirects; /* 0, 1, -1 unreadable */
	bool have_stats;
	struct vnat_ifstats stats;
};

/* A MAC moving between ports as only a duplicate does. */
struct vnat_status_dup {
	char bridge[IF_NAMESIZE];
	char mac[18];
	char port[IF_NAMESIZE], prev_port[IF_NAMESIZE];
	uint32_t moves;
};

struct vnat_status_counter {
	const char *name; /* from the stats map's BTF */
	struct vnat_counter c;
};

struct vnat_status {
	struct vnat_netns ns;
	struct vnat_config cfg;
	struct vnat_health health;
	uint64_t flows, gc_runs;
	struct vnat_status_iface *ifaces;
	int n_ifaces;
	struct vnat_status_dup *dups;
	int n_dups;
	bool have_btf; /* counter names known */
	struct vnat_status_counter *counters;
	int n_counters;
	struct vnat_stats totals; /* for the admission line */
	uint64_t flushed; /* flows conns flush and load --flush handed back (vnat_ucount) */
};

void vnat_status__describe(struct vnat_out *o, const struct vnat_status *s);
/* {"loaded": false}, or the line saying so. */
void vnat_status__describe_not_loaded(struct vnat_out *o);

#endif
