/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_HEALTH_H
#define VNAT_HEALTH_H

#include <stdbool.h>
#include <sys/types.h>
#include "datapath.h"
#include "vnat.h"

struct vnat_out;

#define VNAT_HEALTH_MAX_DETACHED 16

/*
 * vnat status's first line, for an operator or a monitoring check:
 * unhealthy when a managed interface lost vnat's hooks (or is gone), with
 * warnings when no daemon follows the topology and for configurations
 * that do nothing (warnings.c).
 */
struct vnat_health {
	pid_t daemon; /* the namespace's daemon, 0 if none */
	int n_ifaces;
	int n_detached;
	char detached[VNAT_HEALTH_MAX_DETACHED][VNAT_IFNAMSIZ];
	/* load's warnings (warnings.c), as they stand: loaded, doing nothing */
	int n_warnings;
	const struct vnat_warning *warnings;
};

void vnat_health__check(const struct vnat_maps *m, struct vnat_health *h);
bool vnat_health__ok(const struct vnat_health *h);
/* "health": {ok, daemon_pid, interfaces, detached, warnings}; the text's headline. */
void vnat_health__describe(struct vnat_out *o, const struct vnat_health *h);

#endif
