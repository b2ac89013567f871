// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Does the host's netfilter policy decide here? nftables through
 * nfnetlink (the ruleset's generation, its rules and base chains, every
 * family: iptables-nft and ebtables-nft write nftables rules), legacy
 * iptables through the tables the kernel lists. And switching the
 * datapath between kernel admission and vnat's own decisions.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <bpf/bpf.h>
#include "ctnl.h"
#include "log.h"
#include "policy.h"

struct nft_dump {
	struct vnat_policy *p;
	int type; /* NFT_MSG_NEW* we asked for */
};

static int nft_request(int fd, int msg, __u16 flags, __u32 seq)
{
	struct {
		struct nlmsghdr nh;
		struct nfgenmsg g;
	} req = {
		.nh.nlmsg_len = sizeof(req),
		.nh.nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | msg,
		.nh.nlmsg_flags = NLM_F_REQUEST | flags,
		.nh.nlmsg_seq = seq,
		.g.nfgen_family = NFPROTO_UNSPEC,
		.g.version = NFNETLINK_V0,
	};

	return send(fd, &req, sizeof(req), 0) < 0 ? -errno : 0;
}

/* An attribute of one nftables message, or NULL; *plen its payload's length. */
static const void *nft_attr(const struct nlmsghdr *nh, int type, int *plen)
{
	const struct nlattr *a =
		(const void *)((const char *)NLMSG_DATA(nh) + NLMSG_ALIGN(sizeof(struct nfgenmsg)));
	int len = nh->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct nfgenmsg)));

	while (len >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) && a->nla_len <= len) {
		if ((a->nla_type & NLA_TYPE_MASK) == type) {
			*plen = a->nla_len - NLA_HDRLEN;
			return (const char *)a + NLA_HDRLEN;
		}
		len -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
	return NULL;
}

/* A u32 attribute (network order), or -1. */
static long nft_attr_u32(const struct nlmsghdr *nh, int type)
{
	const void *v;
	__u32 x;
	int len;

	v = nft_attr(nh, type, &len);
	if (!v || len < 4)
		return -1;
	memcpy(&x, v, 4);
	return ntohl(x);
}

/* A string attribute copied into buf ("" if absent). */
static void nft_attr_str(const struct nlmsghdr *nh, int type, char *buf, size_t size)
{
	const char *v;
	int len;

	v = nft_attr(nh, type, &len);
	if (!v || len <= 0)
		len = 0;
	/* NUL-terminated in the message; the length bounds it anyway. */
	snprintf(buf, size, "%.*s", len, v ? v : "");
}

static const char *family_name(uint8_t f)
{
	switch (f) {
	case NFPROTO_IPV4:
		return "ip";
	case NFPROTO_INET:
		return "inet";
	case NFPROTO_IPV6:
		return "ip6";
	case NFPROTO_BRIDGE:
		return "bridge";
	default:
		return "?";
	}
}

#define MAX_NAT_CHAINS                                   \
	(sizeof(((struct vnat_policy *)0)->nat_chains) / \
	 sizeof(((struct vnat_policy *)0)->nat_chains[0]))

static void note_nat_chain(struct vnat_policy *p, const struct nlmsghdr *nh, uint8_t family)
{
	char type[16];

	nft_attr_str(nh, NFTA_CHAIN_TYPE, type, sizeof(type));
	if (strcmp(type, "nat") || p->n_nat_chains >= MAX_NAT_CHAINS)
		return;
	p->nat_chains[p->n_nat_chains].family = family;
	nft_attr_str(nh, NFTA_CHAIN_TABLE, p->nat_chains[p->n_nat_chains].table,
		     sizeof(p->nat_chains[0].table));
	nft_attr_str(nh, NFTA_CHAIN_NAME, p->nat_chains[p->n_nat_chains].chain,
		     sizeof(p->nat_chains[0].chain));
	p->n_nat_chains++;
}

/* A rule in one of the NAT chains found before (chains are dumped first). */
static void note_nat_rule(struct vnat_policy *p, const struct nlmsghdr *nh, uint8_t family)
{
	char table[32], chain[32];

	nft_attr_str(nh, NFTA_RULE_TABLE, table, sizeof(table));
	nft_attr_str(nh, NFTA_RULE_CHAIN, chain, sizeof(chain));
	for (unsigned int i = 0; i < p->n_nat_chains; i++) {
		if (p->nat_chains[i].family != family || strcmp(p->nat_chains[i].table, table) ||
		    strcmp(p->nat_chains[i].chain, chain))
			continue;
		if (!p->nat_rules++)
			snprintf(p->nat_first, sizeof(p->nat_first), "%s %s %s",
				 family_name(family), table, chain);
		return;
	}
}

static void nft_note(struct nft_dump *d, const struct nlmsghdr *nh)
{
	const struct nfgenmsg *g = NLMSG_DATA(nh);
	bool bridge = g->nfgen_family == NFPROTO_BRIDGE;
	int msg = nh->nlmsg_type & 0xff;

	if (msg == NFT_MSG_NEWGEN) {
		d->p->nft_gen = (uint32_t)nft_attr_u32(nh, NFTA_GEN_ID);
	} else if (msg == NFT_MSG_NEWRULE) {
		d->p->nft_rules++;
		d->p->nft_bridge_rules += bridge;
		note_nat_rule(d->p, nh, g->nfgen_family);
	} else if (msg == NFT_MSG_NEWCHAIN) {
		note_nat_chain(d->p, nh, g->nfgen_family);
		/* Base chains carry a policy; NF_DROP is 0. */
		if (nft_attr_u32(nh, NFTA_CHAIN_POLICY) == NF_DROP) {
			d->p->nft_drop_chains++;
			d->p->nft_bridge_rules += bridge;
		}
	}
}

/* Read replies until the dump (or the single answer) is complete. */
static int nft_read(int fd, struct nft_dump *d, bool dump)
{
	char buf[16384];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh = (void *)buf;

		if (n < 0)
			return -errno;
		for (; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				return e->error;
			}
			nft_note(d, nh);
			if (!dump)
				return 0;
		}
	}
}

static int nft_ask(int fd, struct vnat_policy *p, int msg, bool dump, __u32 seq)
{
	struct nft_dump d = { .p = p, .type = msg };
	int err = nft_request(fd, msg, dump ? NLM_F_DUMP : 0, seq);

	return err ? err : nft_read(fd, &d, dump);
}

static int nft_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	struct timeval tv = { .tv_sec = 2 };

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void read_legacy(struct vnat_policy *p)
{
	FILE *f = fopen("/proc/net/ip_tables_names", "r");
	size_t n = 0;
	char line[32];

	p->legacy[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		n += snprintf(p->legacy + n, n < sizeof(p->legacy) ? sizeof(p->legacy) - n : 0,
			      "%s%s", n ? "," : "", line);
		if (n >= sizeof(p->legacy))
			break;
	}
	fclose(f);
}

/* br_netfilter hands bridged IPv4 to the IPv4 rules (exists only when built in or loaded). */
static bool br_netfilter_on(void)
{
	FILE *f = fopen("/proc/sys/net/bridge/bridge-nf-call-iptables", "r");
	int v = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

int vnat_policy__generation(struct vnat_policy *p)
{
	int fd = nft_open(), err;

	if (fd < 0)
		return fd;
	err = nft_ask(fd, p, NFT_MSG_GETGEN, false, 1);
	close(fd);
	read_legacy(p);
	return err;
}

int vnat_policy__probe(struct vnat_policy *p)
{
	int fd = nft_open(), err;

	memset(p, 0, sizeof(*p));
	if (fd < 0) {
		vnat_err("policy: nfnetlink socket: %s", strerror(-fd));
		return fd;
	}
	err = nft_ask(fd, p, NFT_MSG_GETGEN, false, 1);
	/* Chains before rules: a rule is known to be NAT by its chain. */
	if (!err)
		err = nft_ask(fd, p, NFT_MSG_GETCHAIN, true, 2);
	if (!err)
		err = nft_ask(fd, p, NFT_MSG_GETRULE, true, 3);
	close(fd);
	if (err) {
		vnat_err("policy: read the nftables ruleset: %s", strerror(-err));
		return err;
	}
	read_legacy(p);
	p->rules = p->nft_rules || p->nft_drop_chains || p->legacy[0];
	p->bridge_rules = p->nft_bridge_rules || (p->rules && br_netfilter_on());
	return 0;
}

static bool want_kernel(enum vnat_admission mode, const struct vnat_policy *p)
{
	return mode == VNAT_ADMISSION_KERNEL || (mode == VNAT_ADMISSION_AUTO && p->rules);
}

#define TCP_LIBERAL_SYSCTL "/proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal"

/*
 * The operator tracks every TCP flow of the namespace liberally. vnat never
 * sets this (it would change the host's policy for flows vnat never
 * touches); under kernel admission it marks only the flows it carries
 * liberal, as the kernel's flowtable does (admit.h, the daemon's
 * liberal.c). Where the operator did, that marking is unnecessary.
 */
static bool tcp_liberal(void)
{
	FILE *f = fopen(TCP_LIBERAL_SYSCTL, "r");
	int v = 0;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

int vnat_policy__apply(const struct vnat_maps *m, enum vnat_admission mode,
		       const struct vnat_policy *p)
{
	bool liberal, bridge;
	struct vnat_config cfg;
	bool on, was;
	int err, n;

	err = vnat_maps__read_config(m, &cfg);
	if (err)
		return err;
	on = want_kernel(mode, p);
	was = cfg.flags & VNAT_CFG_POLICY;
	liberal = on && tcp_liberal();
	bridge = on && p->bridge_rules;
	if (on == was && !!(cfg.flags & VNAT_CFG_POLICY_FIXED) == (mode != VNAT_ADMISSION_AUTO) &&
	    liberal == !!(cfg.flags & VNAT_CFG_TCP_LIBERAL) &&
	    bridge == !!(cfg.flags & VNAT_CFG_BRIDGE_POLICY))
		return 0;
	/*
	 * vnat's own translated flows become the kernel's (as on unload), so
	 * they keep their outside ports and come back admitted.
	 */
	if (on && !was && (cfg.flags & VNAT_CFG_NAT)) {
		n = vnat_ctnl__handoff(m);
		if (n < 0)
			vnat_err("policy: hand vnat's flows to conntrack: %s", strerror(-n));
	}
	cfg.flags &= ~(VNAT_CFG_POLICY | VNAT_CFG_POLICY_FIXED | VNAT_CFG_TCP_LIBERAL |
		       VNAT_CFG_BRIDGE_POLICY);
	cfg.flags |= (on ? VNAT_CFG_POLICY : 0) |
		     (mode != VNAT_ADMISSION_AUTO ? VNAT_CFG_POLICY_FIXED : 0) |
		     (liberal ? VNAT_CFG_TCP_LIBERAL : 0) | (bridge ? VNAT_CFG_BRIDGE_POLICY : 0);
	err = vnat_maps__write_config(m, &cfg);
	return err ? err : on != was;
}

int vnat_policy__check_leak(const struct vnat_policy *p, enum vnat_admission mode, bool snat)
{
	if (snat || mode != VNAT_ADMISSION_VNAT)
		return 0;
	if (p->nat_rules) {
		vnat_err("load: --admission vnat without --snat: vnat would route guest packets "
			 "past the kernel's NAT rules (%u in chain %s) with their inside "
			 "addresses (use --admission auto, or --snat ADDR)",
			 p->nat_rules, p->nat_first);
		return -EINVAL;
	}
	if (strstr(p->legacy, "nat")) {
		vnat_err("load: --admission vnat without --snat: the iptables-legacy nat table "
			 "may translate guest packets vnat would route untranslated (use "
			 "--admission auto, or --snat ADDR)");
		return -EINVAL;
	}
	return 0;
}

int vnat_policy__flush(const struct vnat_maps *m)
{
	struct vnat_ct_key key, next;
	struct vnat_ct_val val;
	int n = 0, err;

	err = bpf_map_get_next_key(m->ct, NULL, &next);
	while (!err) {
		key = next;
		err = bpf_map_get_next_key(m->ct, &key, &next);
		if (key.pad[0] != VNAT_CT_KEY_KERNEL || bpf_map_lookup_elem(m->ct, &key, &val))
			continue;
		if (!bpf_map_delete_elem(m->ct, &key) && !(val.flags & VNAT_CT_KREPLY))
			n++;
	}
	/* Their egress markers too, or tc egress would never admit them again. */
	err = bpf_map_get_next_key(m->kegress, NULL, &next);
	while (!err) {
		key = next;
		err = bpf_map_get_next_key(m->kegress, &key, &next);
		bpf_map_delete_elem(m->kegress, &key);
	}
	return n;
}

bool vnat_policy__tcp_needs_daemon(const struct vnat_config *cfg)
{
	return (cfg->flags & VNAT_CFG_POLICY) && !(cfg->flags & VNAT_CFG_TCP_LIBERAL);
}
