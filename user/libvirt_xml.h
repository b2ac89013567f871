/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_LIBVIRT_XML_H
#define VNAT_LIBVIRT_XML_H

#include <stdbool.h>
#include <stdint.h>
#include "vnat.h"

/* What vnat needs from a libvirt network's XML (libvirt's formatnetwork). */
struct vnat_libvirt_net {
	char name[64];
	char bridge[VNAT_IFNAMSIZ]; /* <bridge name=...>; "" if none */
	char mode[16]; /* <forward mode=...>: nat, route, open, ...; "" = isolated */
	char dev[VNAT_IFNAMSIZ]; /* <forward dev=...>: the uplink; "" = any */
	uint16_t port_start, port_end; /* <nat><port start end/>; 0 = libvirt's default */
	char addr_start[16], addr_end[16]; /* <nat><address start end/> */
};

/*
 * Parse the XML libvirtd hands a network hook on stdin (a <network>, alone
 * or inside <hookData>). 0, or -EINVAL (said) when it holds no network.
 */
int vnat_libvirt__parse(const char *xml, struct vnat_libvirt_net *n);

#endif
