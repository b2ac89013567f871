// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Interface checks before anything is attached. ioctls follow the netns. */
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "iface.h"
#include "log.h"

void vnat_mac__format(const uint8_t *mac, char *buf, int len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

static int iface_ioctl(int fd, unsigned long req, struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	return ioctl(fd, req, ifr) ? -errno : 0;
}

int vnat_iface__resolve(const char *name, struct vnat_iface_info *out)
{
	struct ifreq ifr;
	int fd, err;

	memset(out, 0, sizeof(*out));
	if (strlen(name) >= VNAT_IFNAMSIZ) {
		vnat_err("interface '%s': name longer than %d characters", name, VNAT_IFNAMSIZ - 1);
		return -EINVAL;
	}
	out->ifindex = if_nametoindex(name);
	if (!out->ifindex) {
		vnat_err("interface '%s': does not exist in this network namespace "
			 "(see 'ip link')",
			 name);
		return -ENODEV;
	}
	snprintf(out->name, sizeof(out->name), "%s", name);

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = iface_ioctl(fd, SIOCGIFFLAGS, &ifr, name);
	if (!err && (ifr.ifr_flags & IFF_LOOPBACK)) {
		vnat_err("interface '%s': is a loopback interface (vnat manages interfaces "
			 "that carry guest traffic)",
			 name);
		err = -EINVAL;
		goto out_close;
	}
	if (!err)
		err = iface_ioctl(fd, SIOCGIFHWADDR, &ifr, name);
	if (err) {
		vnat_err("interface '%s': %s", name, strerror(-err));
		goto out_close;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		vnat_err("interface '%s': not an Ethernet interface (link type %d)", name,
			 ifr.ifr_hwaddr.sa_family);
		err = -EINVAL;
		goto out_close;
	}
	memcpy(out->mac, ifr.ifr_hwaddr.sa_data, sizeof(out->mac));
out_close:
	close(fd);
	return err;
}
