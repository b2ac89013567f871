/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_POLICY_H
#define VNAT_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include "args.h"
#include "datapath.h"

/*
 * The namespace's netfilter policy as vnat judges it. Accept-all is
 * proven, not assumed: no nftables rule in any family (iptables-nft and
 * ebtables-nft rules are nftables rules), no base chain whose policy is
 * drop, and no iptables-legacy table at all (their rules are not read:
 * a legacy table counts as policy).
 */
struct vnat_policy {
	bool rules; /* anything above: the kernel must admit flows */
	/* bridge-family rules or drop chains, or br_netfilter handing bridged IPv4 to rules */
	bool bridge_rules;
	unsigned int nft_bridge_rules;
	uint32_t nft_gen; /* nftables ruleset generation (any nft change bumps it) */
	unsigned int nft_rules, nft_drop_chains;
	char legacy[64]; /* /proc/net/ip_tables_names, "" if none */
	/* nftables NAT base chains ("ip nat POSTROUTING", iptables-nft's too) and their rules */
	struct {
		uint8_t family;
		char table[32], chain[32];
	} nat_chains[8];
	unsigned int n_nat_chains, nat_rules;
	char nat_first[80]; /* "family table chain" of the first NAT chain holding a rule */
};

/* 0, or -errno with a message printed. */
int vnat_policy__probe(struct vnat_policy *p);
/* Only the generation and the legacy tables: cheap, for the daemon's poll. */
int vnat_policy__generation(struct vnat_policy *p);

/*
 * Set VNAT_CFG_POLICY in the instance's configuration as mode and p
 * decide. Turning it on hands vnat's own flows to the kernel's conntrack
 * first (they then come back admitted). Returns 1 if it changed, 0, or
 * -errno.
 */
int vnat_policy__apply(const struct vnat_maps *m, enum vnat_admission mode,
		       const struct vnat_policy *p);

/*
 * A configuration that would route guest packets past the kernel's NAT
 * rules, untranslated: vnat deciding alone (--admission vnat, or auto in
 * no case: auto admits through the kernel wherever rules exist) without
 * --snat while NAT rules exist. 0, or -EINVAL with the rule's chain named.
 */
int vnat_policy__check_leak(const struct vnat_policy *p, enum vnat_admission mode, bool snat);

/* Hand every kernel-admitted flow back to the kernel. Returns how many. */
int vnat_policy__flush(const struct vnat_maps *m);

/*
 * Kernel-admitted TCP is carried only once the daemon marked its kernel
 * entry liberal (the operator did not make all TCP liberal): without a
 * daemon it stays on the kernel path. VNAT_POLICY_NO_DAEMON says so.
 */
bool vnat_policy__tcp_needs_daemon(const struct vnat_config *cfg);
#define VNAT_POLICY_NO_DAEMON                                                              \
	"no daemon: kernel-admitted TCP stays on the kernel path (start 'vnat daemon' to " \
	"accelerate it)"

#endif
