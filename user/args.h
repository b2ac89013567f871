/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_ARGS_H
#define VNAT_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include "options.h"
#include "vnat.h"

#define VNAT_MAX_LOAD_IFACES 32
#define VNAT_MAX_FROM 16

struct vnat_cidr {
	uint32_t addr; /* network order, host bits cleared */
	uint8_t len;
};

enum vnat_admission {
	VNAT_ADMISSION_AUTO = 0, /* kernel where netfilter rules exist, else vnat */
	VNAT_ADMISSION_KERNEL,
	VNAT_ADMISSION_VNAT, /* vnat decides alone: the host's rules are bypassed */
};

struct vnat_load_opts {
	char ifaces[VNAT_MAX_LOAD_IFACES][VNAT_IFNAMSIZ];
	int n_ifaces;
	enum vnat_xdp_mode mode;
	bool mode_set; /* --mode given */
	uint32_t hook; /* --hook: VNAT_IFACE_HOOK_TC or _AUTO bits; 0 = xdp */
	uint32_t snat_addr; /* network order; 0 = none */
	char out[VNAT_IFNAMSIZ]; /* --out: "" = the interface holding --snat */
	struct vnat_cidr from[VNAT_MAX_FROM]; /* --from; none = the inside prefixes */
	int n_from;
	uint16_t port_min, port_max;
	enum vnat_filtering filtering;
	uint32_t max_flows;
	uint32_t timeout_udp, timeout_tcp_est, timeout_tcp_trans, timeout_icmp;
	bool nat_opts; /* any NAT option given (they need --snat) */
	bool keep_redirects; /* --redirects keep */
	bool masquerade; /* --masquerade: the uplink's address, followed */
	enum vnat_admission admission; /* --admission */
	bool flush; /* --flush: hand kernel-admitted flows back */
	bool inbound_kernel; /* --inbound kernel: unsolicited inbound to the kernel, not dropped */
};

struct vnat_unload_opts {
	char iface[VNAT_IFNAMSIZ];
	bool all;
	bool stale; /* --stale: pins of namespaces that are gone */
};

struct vnat_daemon_opts {
	bool once;
	const char *config; /* --config: what SIGHUP applies */
	bool verbose; /* -v given after the command (vnat_opts: with those before it) */
};

/* 0 on success, 1 when help was printed, -EINVAL (message printed) on bad input. */
int vnat_args__parse_load(int argc, char **argv, struct vnat_load_opts *o);
int vnat_args__parse_unload(int argc, char **argv, struct vnat_unload_opts *o);
/* The global options given after a show command (vnat_opts: with those before it). */
struct vnat_show_opts {
	bool json;
	bool pretty;
	bool verbose;
};

int vnat_args__parse_show(int argc, char **argv, const char *cmd, struct vnat_show_opts *o);
int vnat_args__parse_daemon(int argc, char **argv, struct vnat_daemon_opts *o);

struct vnat_apply_opts {
	const char *file;
};

int vnat_args__parse_apply(int argc, char **argv, struct vnat_apply_opts *o);

struct vnat_libvirt_opts {
	const char *config;
	const char *network; /* as libvirtd names it */
	const char *op; /* started, stopped, updated, ... */
};

int vnat_args__parse_libvirt(int argc, char **argv, struct vnat_libvirt_opts *o);
/* A command without options of its own (help, completion): *next, its first operand. */
int vnat_args__parse_words(const char *cmd, int argc, char **argv, int *next);

/* vnat's own options, before the command. */
struct vnat_main_opts {
	bool version; /* -V */
	int next; /* index of the command in argv */
};

int vnat_args__parse_main(int argc, char **argv, struct vnat_main_opts *o);

/* The tables: vnat's own, and every command's (NULL-terminated, in 'vnat --help' order). */
extern const struct vnat_cmdspec vnat_args__main;
extern const struct vnat_cmdspec *const vnat_args__cmds[];
const struct vnat_cmdspec *vnat_args__cmd(const char *name);
int vnat_args__parse_ipv4(const char *opt, const char *text, uint32_t *addr);
int vnat_args__parse_cidr(const char *opt, const char *text, struct vnat_cidr *c);

#endif
