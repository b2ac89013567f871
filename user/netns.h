/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_NETNS_H
#define VNAT_NETNS_H

#include <stddef.h>
#include <stdint.h>

/* The network namespace vnat runs in, and where its pins live. */
struct vnat_netns {
	uint64_t inode; /* of /proc/self/ns/net: names the pin directory */
	uint64_t cookie; /* SO_NETNS_COOKIE: never reused, detects stale pins */
	char pin_dir[128];
};

int vnat_netns__identify(struct vnat_netns *ns);
int vnat_bpffs__prepare(void);

#endif
