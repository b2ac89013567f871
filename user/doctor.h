/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_DOCTOR_H
#define VNAT_DOCTOR_H

#include <stdbool.h>
#include <stdint.h>
#include "addrs.h"
#include "datapath.h"
#include "netns.h"
#include "topo.h"
#include "vnat.h"

/* vnat doctor [--iface IFACE] [--to ADDR] [-j|-p] [--fix] */
struct vnat_doctor_opts {
	char iface[VNAT_IFNAMSIZ]; /* "" = every interface */
	uint32_t to; /* network order; 0 = the default route's destination */
	bool json;
	bool pretty;
	bool fix;
};

/* 0, 1 (help printed) or -EINVAL (one line printed); its option table is in args.c. */
int vnat_doctor__parse_args(int argc, char **argv, struct vnat_doctor_opts *o);

/* ---- what doctor reads, parsed (pure functions, unit-tested) ---- */

/*
 * One counter of /proc/net/snmp or /proc/net/netstat: both pair a header
 * line "Proto: Name1 Name2 ..." with a value line "Proto: v1 v2 ...".
 */
int vnat_snmp__get(const char *text, const char *proto, const char *field, uint64_t *val);

/* A row of /proc/net/route (the main table), addresses in network order. */
struct vnat_route {
	char ifname[VNAT_IFNAMSIZ];
	uint32_t dst;
	uint32_t gw; /* 0 = directly connected */
	uint8_t len;
};

int vnat_route__parse_line(const char *line, struct vnat_route *r);
/* Longest-prefix match over routes; NULL when no route covers addr. */
const struct vnat_route *vnat_route__lookup(const struct vnat_route *r, int n, uint32_t addr);

/* A line of /proc/net/nf_conntrack or of `conntrack -L` (IPv4 only). */
struct vnat_ct_entry {
	uint8_t proto;
	uint32_t src, dst; /* original direction, network order */
	uint16_t sport, dport; /* host order; ICMP: 0 */
	uint32_t rsrc, rdst; /* reply direction */
	uint16_t rsport, rdport;
	uint32_t timeout; /* seconds left */
	bool unreplied;
	bool assured;
};

int vnat_ct__parse_line(const char *line, struct vnat_ct_entry *e);
/* The reply goes to the original source: no source NAT was applied. */
bool vnat_ct__untranslated(const struct vnat_ct_entry *e);

/* One rule of `iptables-save -c` ("[pkts:bytes] -A CHAIN ... -j TARGET"). */
struct vnat_ipt_rule {
	char table[8];
	char chain[32];
	char target[24];
	char in[VNAT_IFNAMSIZ], out[VNAT_IFNAMSIZ];
	bool in_neg, out_neg, src_neg, dst_neg;
	uint32_t src, dst; /* network order, 0/0 = any */
	uint8_t src_len, dst_len;
	uint8_t proto; /* 0 = any */
	uint16_t dport; /* 0 = any */
	uint64_t packets;
	char spec[256]; /* "CHAIN ..." as after -A: iptables -t TABLE -D SPEC removes it */
};

/* Rules of one iptables-save text; tables and policies are tracked as read. */
int vnat_ipt__parse(const char *text, struct vnat_ipt_rule *rules, int max);
/* A SNAT/MASQUERADE rule that translates prefix/len leaving out_if. */
bool vnat_ipt__nat_covers(const struct vnat_ipt_rule *r, int n, uint32_t prefix, uint8_t len,
			  const char *out_if);
/* The rule drops or rejects (DROP, REJECT). */
bool vnat_ipt__refuses(const struct vnat_ipt_rule *r);

bool vnat_ipv4__private(uint32_t addr);
bool vnat_ipv4__in(uint32_t addr, uint32_t prefix, uint8_t len);

/* ---- the namespace as doctor sees it ---- */

#define VNAT_DOCTOR_MAX_ROUTES 512
#define VNAT_DOCTOR_MAX_RULES 512
#define VNAT_DOCTOR_MAX_CT 8192
#define VNAT_DOCTOR_MAX_FINDINGS 64

struct vnat_finding {
	const char *check; /* stable name, e.g. "redirect-loop" */
	char iface[VNAT_IFNAMSIZ];
	char what[256];
	char evidence[768];
	char effect[384];
	char fix[384];
	char fix_on[128]; /* where to run it: "this host", "the upstream router ..." */
	/* safe fixes --fix applies: sysctl writes, or removing stale pins */
	char sysctl[2][96]; /* paths under /proc/sys */
	char sysctl_val[2][8];
	char stale_pins[128];
	bool fixed;
};

struct vnat_doctor {
	struct vnat_doctor_opts opts;
	struct vnat_topo *topo;
	struct vnat_fdb_entry *fdb_seen; /* FDB entries: the dump, then every change for 1 s */
	int n_fdb_seen;
	struct vnat_addr addrs[VNAT_MAX_ADDRS];
	int n_addrs;
	struct vnat_route routes[VNAT_DOCTOR_MAX_ROUTES];
	int n_routes;
	struct vnat_ipt_rule rules[VNAT_DOCTOR_MAX_RULES];
	int n_rules;
	bool rules_known; /* iptables-save ran */
	bool nft_nat; /* a native nftables ruleset translates (scope not parsed) */
	struct vnat_ct_entry *ct;
	int n_ct;
	char snmp[2][8192]; /* /proc/net/snmp at the start and one second later */
	/* vnat in this namespace */
	struct vnat_netns ns;
	bool loaded;
	bool stale;
	struct vnat_maps maps;
	struct vnat_config cfg;
	struct vnat_stats stats[2];
	struct vnat_finding f[VNAT_DOCTOR_MAX_FINDINGS];
	int n;
};

typedef void (*vnat_doctor_check_fn)(struct vnat_doctor *d);

struct vnat_doctor_check {
	const char *name;
	vnat_doctor_check_fn fn;
};

extern const struct vnat_doctor_check vnat_doctor_checks[];
extern const int vnat_doctor_n_checks;

/* Read everything the checks look at; -errno when the namespace is unreadable. */
int vnat_doctor__gather(struct vnat_doctor *d);
void vnat_doctor__release(struct vnat_doctor *d);
void vnat_doctor__run(struct vnat_doctor *d);
/* Apply the finding's safe fix; 0, -EOPNOTSUPP (none) or -errno. */
int vnat_doctor__apply(struct vnat_finding *f);

#endif
