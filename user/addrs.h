/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_ADDRS_H
#define VNAT_ADDRS_H

#include <stdint.h>

/* One IPv4 address of this network namespace (addresses in network order). */
struct vnat_addr {
	char ifname[16];
	uint32_t addr;
	uint8_t prefixlen;
};

#define VNAT_MAX_ADDRS 256

/* The IPv4 addresses of this network namespace; the count or -errno. */
int vnat_addrs__list(struct vnat_addr *out, int max);

#endif
