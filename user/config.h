/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_CONFIG_H
#define VNAT_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include "args.h"

/*
 * The configuration file (/etc/vnat/vnat.conf): one [network NAME] section
 * per network, whose keys are vnat load's long options without the dashes
 * (a flag takes yes or no), plus libvirt = include|skip; and a [libvirt]
 * section, networks = include|skip, for networks no section names.
 */
#define VNAT_CONF_MAX_NETS 32
#define VNAT_CONF_MAX_ARGS 96
#define VNAT_CONF_NAME_LEN 64

enum vnat_conf_libvirt {
	VNAT_CONF_LIBVIRT_DEFAULT = 0, /* as [libvirt] networks says */
	VNAT_CONF_LIBVIRT_INCLUDE,
	VNAT_CONF_LIBVIRT_SKIP,
};

struct vnat_conf_net {
	char name[VNAT_CONF_NAME_LEN];
	int line; /* of its [network NAME] */
	/* "load" and its options, as the command line would have them */
	char args[VNAT_CONF_MAX_ARGS][128];
	int argc;
	enum vnat_conf_libvirt libvirt;
	struct vnat_load_opts load; /* parsed; n_ifaces 0: a libvirt network's options */
};

struct vnat_conf {
	struct vnat_conf_net nets[VNAT_CONF_MAX_NETS];
	int n;
	bool libvirt_skip; /* [libvirt] networks = skip */
};

/* 0, or -EINVAL with one line naming the file, line and what is wrong. */
int vnat_config__parse(FILE *f, const char *path, struct vnat_conf *c);
int vnat_config__read(const char *path, struct vnat_conf *c);
const struct vnat_conf_net *vnat_config__net(const struct vnat_conf *c, const char *name);
/* The argv of a network's load, with extra --iface names first (the hook's bridge). */
int vnat_config__argv(const struct vnat_conf_net *n, char **argv, int max);
/* Whether two loads' NAT options are the same (one NAT per namespace). */
bool vnat_config__same_nat(const struct vnat_load_opts *a, const struct vnat_load_opts *b);
/* How often the collector scans: a quarter of the shortest TCP/ICMP timeout. */
uint32_t vnat_config__gc_interval_ms(uint32_t tcp_est, uint32_t tcp_trans, uint32_t icmp);

#endif
