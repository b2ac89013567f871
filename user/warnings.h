/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_WARNINGS_H
#define VNAT_WARNINGS_H

#include <stdint.h>
#include "addrs.h"
#include "topo.h"
#include "vnat.h"

/*
 * Configurations that load but do nothing: checked by load on what it was
 * asked to manage, and by status on everything managed, against the
 * topology as it is at that moment (so a warning goes once it is fixed).
 */
enum vnat_warning_kind {
	VNAT_WARN_BRIDGE_NO_PORTS, /* nothing to bridge or route into */
	VNAT_WARN_INSIDE_NO_ADDR, /* guests behind it have no gateway, no prefix */
	VNAT_WARN_UPLINK_NO_ADDR, /* translated traffic has no way out or back */
};

struct vnat_warning {
	enum vnat_warning_kind kind;
	char iface[VNAT_IFNAMSIZ];
	char text[256]; /* one line, interface and remedy named, no "vnat: " */
};

/* An interface vnat manages, with its VNAT_IFACE_* role flags. */
struct vnat_managed {
	uint32_t ifindex;
	uint32_t flags;
	char name[VNAT_IFNAMSIZ];
};

#define VNAT_MAX_WARNINGS 64

/* The warnings for ifs (up to max in out); how many there are in all. */
int vnat_warnings__check(const struct vnat_topo *t, const struct vnat_addr *addrs, int n_addrs,
			 const struct vnat_managed *ifs, int n, struct vnat_warning *out, int max);
struct vnat_maps;
/*
 * The same checks on the interfaces in vnat_ifaces (only those in only[],
 * if given) against the topology and addresses as they are now.
 */
int vnat_warnings__live(const struct vnat_maps *m, const uint32_t *only, int n_only,
			struct vnat_warning *out, int max);
struct vnat_out;
/*
 * For status: "warnings": [{interface, kind, message}], and in text one
 * "warning: TEXT" line each.
 */
void vnat_warnings__describe(struct vnat_out *o, const struct vnat_warning *w, int n);
/* The JSON name of a kind: "bridge_no_ports", "inside_no_address", ... */
const char *vnat_warning__kind_name(enum vnat_warning_kind kind);
/* Each on stderr as "vnat: warning: TEXT". */
void vnat_warnings__print(const struct vnat_warning *w, int n);
/* vnat_warnings__live() on stderr: what load says after attaching. */
void vnat_warnings__print_live(const struct vnat_maps *m, const uint32_t *only, int n_only);

#endif
