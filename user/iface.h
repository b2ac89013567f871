/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_IFACE_H
#define VNAT_IFACE_H

#include <stdint.h>
#include "vnat.h"

struct vnat_iface_info {
	char name[VNAT_IFNAMSIZ];
	uint32_t ifindex;
	uint8_t mac[6];
};

/* Look up an interface vnat may manage; a clear error for anything else. */
int vnat_iface__resolve(const char *name, struct vnat_iface_info *out);
void vnat_mac__format(const uint8_t *mac, char *buf, int len);

#endif
