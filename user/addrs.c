// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The namespace's IPv4 addresses (getifaddrs follows the network namespace). */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "addrs.h"

static uint8_t mask_len(uint32_t mask_be)
{
	return __builtin_popcount(mask_be);
}

int vnat_addrs__list(struct vnat_addr *out, int max)
{
	struct ifaddrs *ifa, *it;
	int n = 0;

	if (getifaddrs(&ifa))
		return -errno;
	for (it = ifa; it && n < max; it = it->ifa_next) {
		if (!it->ifa_addr || it->ifa_addr->sa_family != AF_INET || !it->ifa_netmask)
			continue;
		snprintf(out[n].ifname, sizeof(out[n].ifname), "%s", it->ifa_name);
		out[n].addr = ((struct sockaddr_in *)it->ifa_addr)->sin_addr.s_addr;
		out[n].prefixlen =
			mask_len(((struct sockaddr_in *)it->ifa_netmask)->sin_addr.s_addr);
		n++;
	}
	freeifaddrs(ifa);
	return n;
}
