/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_CTNL_H
#define VNAT_CTNL_H

#include "datapath.h"

/*
 * Hand every live TCP/UDP flow of the instance to the kernel's conntrack,
 * through ctnetlink, as an established connection with vnat's translation
 * as its source-NAT binding. Returns how many, or -errno.
 */
int vnat_ctnl__handoff(const struct vnat_maps *m);

#endif
