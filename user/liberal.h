/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_LIBERAL_H
#define VNAT_LIBERAL_H

#include "datapath.h"

/*
 * The daemon's side of per-flow liberal tracking (bpf/lib/admit.h
 * vnat_kflow_carriable): tc egress asks, through the vnat_kliberal ring
 * buffer, for a decided kernel TCP entry to be marked liberal; this
 * serves each request with a ctnetlink update of that entry (ctnl.c).
 */
struct vnat_liberal;

/* NULL (said) when the ring buffer or ctnetlink cannot be opened. */
struct vnat_liberal *vnat_liberal__open(const struct vnat_maps *m);
/* Readable when requests wait: for poll(). */
int vnat_liberal__fd(const struct vnat_liberal *lb);
/* Serve every waiting request; how many entries were marked, or -errno. */
int vnat_liberal__serve(struct vnat_liberal *lb);
void vnat_liberal__close(struct vnat_liberal *lb);

#endif
