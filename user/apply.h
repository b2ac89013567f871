/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_APPLY_H
#define VNAT_APPLY_H

#include <stdint.h>

struct vnat_conf;
struct vnat_netns;

/*
 * Bring this network namespace's vnat in line with a configuration (vnat
 * apply, and the daemon on SIGHUP). 0, or -errno with the reason said.
 */
int vnat_apply__file(const char *path);
int vnat_apply__conf(const struct vnat_conf *c);
/* The NAT port range, live (established flows keep theirs); 0 when no NAT runs. */
int vnat_apply__ports(uint16_t lo, uint16_t hi);
/* What apply remembers of a namespace whose vnat is gone (unloaded). */
void vnat_apply__forget(const struct vnat_netns *ns);

#endif
