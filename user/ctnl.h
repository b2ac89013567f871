/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_CTNL_H
#define VNAT_CTNL_H

#include <stdbool.h>
#include "datapath.h"

/*
 * Hand every live TCP/UDP flow of the instance to the kernel's conntrack,
 * through ctnetlink, as an established connection with vnat's translation
 * as its source-NAT binding. Returns how many, or -errno.
 */
int vnat_ctnl__handoff(const struct vnat_maps *m);

struct nl_sock;
struct vnat_liberal_req;
/* A ctnetlink socket in this network namespace, or NULL. */
struct nl_sock *vnat_ctnl__open(void);
/*
 * Mark the kernel's TCP entry with original tuple r liberal both ways
 * (IP_CT_TCP_FLAG_BE_LIBERAL, as the flowtable marks what it offloads),
 * or with on false strict: 0, -ENOENT when the entry is gone, or -errno.
 */
int vnat_ctnl__set_liberal(struct nl_sock *sk, const struct vnat_liberal_req *r, bool on);
/* 1 if that entry is tracked liberally both ways, 0 if not, -ENOENT, -errno. */
int vnat_ctnl__is_liberal(struct nl_sock *sk, const struct vnat_liberal_req *r);

#endif
