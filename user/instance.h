/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_INSTANCE_H
#define VNAT_INSTANCE_H

#include "datapath.h"
#include "netns.h"

/*
 * Find this network namespace's running vnat: identify the namespace, make
 * bpffs reachable, drop pins a dead namespace left behind. 0 and open maps
 * when vnat runs here, -ENOENT when it does not, another -errno on failure.
 */
int vnat_instance__find(struct vnat_netns *ns, struct vnat_maps *m);
/*
 * The same, also for an instance another vnat version loaded (its pins
 * are another set of maps: *missing counts this version's maps it lacks,
 * left -1), so that unload can remove it. Instances of this version say 0.
 */
int vnat_instance__find_any(struct vnat_netns *ns, struct vnat_maps *m, int *missing);

#endif
