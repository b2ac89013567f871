// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vnat doctor's checks: one small function per fault of the field reports
 * (../shared/seeds), in the order of vnat_doctor_checks[]. Each reads the
 * snapshot vnat_doctor__gather() took and adds findings; none changes
 * anything. Counters are read twice, a second apart, so "moving" means
 * moving now.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include "doctor.h"
#include "ifstats.h"
#include "log.h"
#include "peer.h"
#include "warnings.h"

/* ---------------------------------------------------------------- reading */

static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	buf[0] = 0;
	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
	return 0;
}

/* Whole output of a command (stderr discarded), or NULL when it failed. */
static char *read_cmd(const char *cmd)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	FILE *p = popen(cmd, "re");

	if (!buf || !p) {
		free(buf);
		if (p)
			pclose(p);
		return NULL;
	}
	while (!feof(p) && !ferror(p)) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		len += fread(buf + len, 1, cap - len - 1, p);
	}
	buf[len] = 0;
	if (pclose(p)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int sysctl_int(const char *fmt, ...)
{
	char path[160], buf[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (read_file(path, buf, sizeof(buf)) || !buf[0])
		return -1;
	return atoi(buf);
}

static int conf_int(const char *ifname, const char *key)
{
	return sysctl_int("/proc/sys/net/ipv4/conf/%s/%s", ifname, key);
}

static int link_mtu(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), mtu = -1;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!ioctl(fd, SIOCGIFMTU, &ifr))
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

static void read_routes(struct vnat_doctor *d)
{
	char line[512];
	FILE *f = fopen("/proc/net/route", "re");

	d->n_routes = 0;
	while (f && fgets(line, sizeof(line), f) && d->n_routes < VNAT_DOCTOR_MAX_ROUTES)
		if (!vnat_route__parse_line(line, &d->routes[d->n_routes]))
			d->n_routes++;
	if (f)
		fclose(f);
}

static void read_conntrack(struct vnat_doctor *d)
{
	char line[1024];
	FILE *f = fopen("/proc/net/nf_conntrack", "re");

	d->n_ct = 0;
	while (f && fgets(line, sizeof(line), f) && d->n_ct < VNAT_DOCTOR_MAX_CT)
		if (!vnat_ct__parse_line(line, &d->ct[d->n_ct]))
			d->n_ct++;
	if (f)
		fclose(f);
}

/* The tools live in sbin, which a caller's PATH may lack. */
#define SBIN_PATH "PATH=/usr/sbin:/sbin:/usr/bin:/bin "

static void read_rules(struct vnat_doctor *d)
{
	char *ipt = read_cmd(SBIN_PATH "iptables-save -c 2>/dev/null");
	char *nft = read_cmd(SBIN_PATH "nft list ruleset 2>/dev/null");
	int n;

	d->rules_known = ipt != NULL;
	n = ipt ? vnat_ipt__parse(ipt, d->rules, VNAT_DOCTOR_MAX_RULES) : 0;
	/* iptables-nft shows its own tables only, and says when legacy ones exist */
	if (ipt && strstr(ipt, "iptables-legacy tables present")) {
		char *legacy = read_cmd(SBIN_PATH "iptables-legacy-save -c 2>/dev/null");

		if (legacy)
			n += vnat_ipt__parse(legacy, d->rules + n, VNAT_DOCTOR_MAX_RULES - n);
		free(legacy);
	}
	d->n_rules = n;
	/* nftables' own NAT (not parsed for scope): counted as translating */
	d->nft_nat = nft && (strstr(nft, " masquerade") || strstr(nft, " snat "));
	free(ipt);
	free(nft);
}

/* Each (bridge, MAC, port) the FDB held, once. */
static void add_fdb_entry(struct vnat_doctor *d, const struct vnat_fdb_entry *e)
{
	if (!vnat_fdb__mirrorable(e))
		return;
	for (int k = 0; k < d->n_fdb_seen; k++)
		if (d->fdb_seen[k].bridge == e->bridge && d->fdb_seen[k].port == e->port &&
		    !memcmp(d->fdb_seen[k].mac, e->mac, 6))
			return;
	if (d->n_fdb_seen < VNAT_MAX_FDB_DUMP)
		d->fdb_seen[d->n_fdb_seen++] = *e;
}

static int on_fdb_event(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nh = nlmsg_hdr(msg);
	struct nlattr *tb[NDA_MAX + 1];
	struct vnat_fdb_entry e = { 0 };
	struct ndmsg *nd = nlmsg_data(nh);

	if (nh->nlmsg_type != RTM_NEWNEIGH || nd->ndm_family != AF_BRIDGE ||
	    nlmsg_parse(nh, sizeof(*nd), tb, NDA_MAX, NULL) < 0 || !tb[NDA_LLADDR] ||
	    nla_len(tb[NDA_LLADDR]) != 6 || !tb[NDA_MASTER])
		return NL_OK;
	e.port = nd->ndm_ifindex;
	e.bridge = nla_get_u32(tb[NDA_MASTER]);
	e.state = nd->ndm_state;
	e.flags = nd->ndm_flags;
	e.vlan = tb[NDA_VLAN] ? nla_get_u16(tb[NDA_VLAN]) : 0;
	memcpy(e.mac, nla_data(tb[NDA_LLADDR]), 6);
	add_fdb_entry(arg, &e);
	return NL_OK;
}

/*
 * The kernel notifies every FDB change, a MAC moving to another port too:
 * a duplicate MAC shows as one MAC on two ports within the second. Also
 * the pause between the two counter samples.
 */
static void watch_fdb(struct vnat_doctor *d, int ms)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct timespec t0, t;
	int left = ms;

	if (!sk || nl_connect(sk, NETLINK_ROUTE) || nl_socket_add_membership(sk, RTNLGRP_NEIGH)) {
		struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };

		nanosleep(&pause, NULL);
		nl_socket_free(sk);
		return;
	}
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_fdb_event, d);
	nl_socket_set_nonblocking(sk);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (left > 0) {
		struct pollfd pfd = { .fd = nl_socket_get_fd(sk), .events = POLLIN };

		if (poll(&pfd, 1, left) > 0)
			nl_recvmsgs_default(sk);
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms -
		       (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
	}
	nl_socket_free(sk);
}

/* Pins of this namespace: live, stale (a dead namespace's), or none. */
static void read_vnat(struct vnat_doctor *d)
{
	char path[192];
	struct stat st;

	if (vnat_netns__identify(&d->ns) || vnat_bpffs__prepare())
		return;
	snprintf(path, sizeof(path), "%s/vnat_config", d->ns.pin_dir);
	if (stat(path, &st))
		return;
	if (vnat_maps__open_pinned(d->ns.pin_dir, &d->maps))
		return;
	if (vnat_maps__read_config(&d->maps, &d->cfg) || d->cfg.netns_cookie != d->ns.cookie) {
		d->stale = true;
		vnat_maps__close(&d->maps);
		return;
	}
	d->loaded = true;
}

int vnat_doctor__gather(struct vnat_doctor *d)
{
	int err;

	d->topo = calloc(1, sizeof(*d->topo));
	d->fdb_seen = calloc(VNAT_MAX_FDB_DUMP, sizeof(*d->fdb_seen));
	d->ct = calloc(VNAT_DOCTOR_MAX_CT, sizeof(*d->ct));
	if (!d->topo || !d->fdb_seen || !d->ct)
		return -ENOMEM;
	read_file("/proc/net/snmp", d->snmp[0], sizeof(d->snmp[0]));
	read_vnat(d);
	if (d->loaded)
		vnat_maps__read_counters(&d->maps, &d->stats[0]);
	d->n_addrs = vnat_addrs__list(d->addrs, VNAT_MAX_ADDRS);
	if (d->n_addrs < 0)
		return d->n_addrs;
	read_routes(d);
	read_rules(d);
	read_conntrack(d);
	err = vnat_topo__dump(d->topo);
	if (err)
		return err;
	for (int i = 0; i < d->topo->n_fdb; i++)
		add_fdb_entry(d, &d->topo->fdb[i]);
	watch_fdb(d, 1000);
	read_file("/proc/net/snmp", d->snmp[1], sizeof(d->snmp[1]));
	if (d->loaded)
		vnat_maps__read_counters(&d->maps, &d->stats[1]);
	return 0;
}

void vnat_doctor__release(struct vnat_doctor *d)
{
	if (d->loaded)
		vnat_maps__close(&d->maps);
	d->loaded = false;
	free(d->topo);
	free(d->fdb_seen);
	free(d->ct);
	d->topo = NULL;
	d->fdb_seen = NULL;
	d->ct = NULL;
}

/* ---------------------------------------------------------------- helpers */

static struct vnat_finding *finding(struct vnat_doctor *d, const char *check, const char *iface)
{
	struct vnat_finding *f;

	if (d->n == VNAT_DOCTOR_MAX_FINDINGS)
		return NULL;
	f = &d->f[d->n++];
	memset(f, 0, sizeof(*f));
	f->check = check;
	snprintf(f->iface, sizeof(f->iface), "%s", iface ? iface : "");
	snprintf(f->fix_on, sizeof(f->fix_on), "this host");
	return f;
}

/* A safe fix: write val to /proc/sys/net/ipv4/<rel> (rel may name an interface). */
static void set_sysctl(struct vnat_finding *f, int i, const char *rel, const char *val)
{
	snprintf(f->sysctl[i], sizeof(f->sysctl[i]), "/proc/sys/net/ipv4/%s", rel);
	snprintf(f->sysctl_val[i], sizeof(f->sysctl_val[i]), "%s", val);
}

/*
 * The sysctl(8) name of net.ipv4.conf.IFACE.KEY; an interface name with a
 * dot needs the slash form, which sysctl(8) also accepts.
 */
static void conf_key(char *buf, size_t sz, const char *ifn, const char *key)
{
	snprintf(buf, sz, strchr(ifn, '.') ? "net/ipv4/conf/%s/%s" : "net.ipv4.conf.%s.%s", ifn,
		 key);
}

static const char *ip_str(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void prefix_str(uint32_t a, uint8_t len, char *buf, size_t sz)
{
	char s[INET_ADDRSTRLEN];

	if (!len)
		snprintf(buf, sz, "default");
	else
		snprintf(buf, sz, "%s/%u", ip_str(a, s), len);
}

static uint64_t snmp(const struct vnat_doctor *d, int sample, const char *proto, const char *f)
{
	uint64_t v = 0;

	vnat_snmp__get(d->snmp[sample], proto, f, &v);
	return v;
}

/* "N (+D in 1 s)" of a /proc/net/snmp counter. */
static void snmp_text(const struct vnat_doctor *d, const char *proto, const char *f, char *buf,
		      size_t sz)
{
	uint64_t a = snmp(d, 0, proto, f), b = snmp(d, 1, proto, f);

	snprintf(buf, sz, "%s %s %llu (+%llu in 1 s)", proto, f, (unsigned long long)b,
		 (unsigned long long)(b - a));
}

static uint64_t vnat_counter(const struct vnat_doctor *d, int sample, enum vnat_stat s)
{
	return ((const struct vnat_counter *)&d->stats[sample])[s].packets;
}

static bool skip_iface(const struct vnat_doctor *d, const char *ifname)
{
	return !strcmp(ifname, "lo") || (d->opts.iface[0] && strcmp(d->opts.iface, ifname));
}

/* The route guests' traffic leaves by: to --to ADDR, else the default route. */
static const struct vnat_route *uplink(const struct vnat_doctor *d)
{
	const struct vnat_route *r = vnat_route__lookup(d->routes, d->n_routes, d->opts.to);

	if (!r || (!d->opts.to && r->len))
		return NULL;
	return r;
}

static const struct vnat_addr *addr_on(const struct vnat_doctor *d, const char *ifname)
{
	for (int i = 0; i < d->n_addrs; i++)
		if (!strcmp(d->addrs[i].ifname, ifname))
			return &d->addrs[i];
	return NULL;
}

/* A guests' prefix: an address on an interface other than the uplink. */
static bool inside_addr(const struct vnat_doctor *d, const struct vnat_addr *a,
			const struct vnat_route *up)
{
	if (skip_iface(d, a->ifname) || (ntohl(a->addr) >> 24) == 127 || a->prefixlen >= 31)
		return false;
	return !up || strcmp(a->ifname, up->ifname);
}

static uint32_t net_of(const struct vnat_addr *a)
{
	return a->prefixlen ? a->addr & htonl(0xffffffffu << (32 - a->prefixlen)) : 0;
}

static bool vnat_manages(const struct vnat_doctor *d, const char *ifname, struct vnat_iface *out)
{
	unsigned int idx = if_nametoindex(ifname);
	struct vnat_iface v;
	__u32 key = idx;

	if (!d->loaded || !idx || bpf_map_lookup_elem(d->maps.ifaces, &key, &v))
		return false;
	if (out)
		*out = v;
	return true;
}

static bool vnat_translates(const struct vnat_doctor *d, uint32_t prefix)
{
	struct vnat_prefix_key k = { .prefixlen = 32, .addr = prefix };
	struct vnat_prefix_val v;

	return d->loaded && (d->cfg.flags & VNAT_CFG_NAT) &&
	       !bpf_map_lookup_elem(d->maps.prefixes, &k, &v) && v.kind == VNAT_PREFIX_INSIDE;
}

/* Any SNAT/MASQUERADE rule in what iptables-save printed. */
static bool ipt_nat_any(const struct vnat_doctor *d)
{
	for (int i = 0; i < d->n_rules; i++)
		if (!strcmp(d->rules[i].table, "nat") &&
		    (!strcmp(d->rules[i].target, "SNAT") ||
		     !strcmp(d->rules[i].target, "MASQUERADE")))
			return true;
	return false;
}

static bool kernel_nat_any(const struct vnat_doctor *d)
{
	return ipt_nat_any(d) || d->nft_nat;
}

static bool nat_covers(const struct vnat_doctor *d, const struct vnat_addr *a, const char *out)
{
	uint32_t net = net_of(a);

	/* no iptables-save: the rules cannot be judged, so nothing is called missing */
	if (!d->rules_known)
		return true;
	if (vnat_ipt__nat_covers(d->rules, d->n_rules, net, a->prefixlen, out))
		return true;
	/* native nftables NAT: its scope is not parsed, trust it if iptables has none */
	if (d->nft_nat && !ipt_nat_any(d))
		return true;
	return vnat_translates(d, net);
}

/* Seconds since the flow's last packet: its timeout's base less what is left. */
static long ct_age(const struct vnat_ct_entry *e)
{
	const char *key = "nf_conntrack_icmp_timeout";
	char path[96];
	int base;

	if (e->proto == 17)
		key = e->assured ? "nf_conntrack_udp_timeout_stream" : "nf_conntrack_udp_timeout";
	else if (e->proto == 6)
		key = e->unreplied ? "nf_conntrack_tcp_timeout_syn_sent" :
				     "nf_conntrack_tcp_timeout_established";
	snprintf(path, sizeof(path), "/proc/sys/net/netfilter/%s", key);
	base = sysctl_int("%s", path);
	return (base > 0 ? base : 30) - (long)e->timeout;
}

/* A flow from a's prefix that left through the uplink (untranslated only, or any). */
static bool leaves_uplink(const struct vnat_doctor *d, const struct vnat_ct_entry *e,
			  const struct vnat_addr *a, const struct vnat_route *up, bool untranslated)
{
	const struct vnat_route *r;

	if (!vnat_ipv4__in(e->src, a->addr, a->prefixlen) ||
	    vnat_ipv4__in(e->dst, a->addr, a->prefixlen) ||
	    (untranslated && !vnat_ct__untranslated(e)))
		return false;
	r = vnat_route__lookup(d->routes, d->n_routes, e->dst);
	return r && !strcmp(r->ifname, up->ifname);
}

/*
 * The newest such flow to dst is unanswered. Freshness decides: an answer
 * a minute ago (before a route went away) does not make dst answer now.
 */
static bool dst_silent(const struct vnat_doctor *d, uint32_t dst, const struct vnat_addr *a,
		       const struct vnat_route *up, bool untranslated)
{
	long newest = -1;
	bool silent = false;

	for (int i = 0; i < d->n_ct; i++) {
		const struct vnat_ct_entry *c = &d->ct[i];
		long age = ct_age(c);

		if (c->dst != dst || !leaves_uplink(d, c, a, up, untranslated))
			continue;
		if (newest < 0 || age < newest) {
			newest = age;
			silent = c->unreplied;
		}
	}
	return silent;
}

/*
 * Flows from a's prefix out of the uplink (untranslated only, or any):
 * those answered, and those unanswered to destinations whose newest flow
 * is unanswered.
 */
static void uplink_flows(const struct vnat_doctor *d, const struct vnat_addr *a,
			 const struct vnat_route *up, bool untranslated, int *unreplied,
			 int *replied, const struct vnat_ct_entry **example)
{
	*unreplied = *replied = 0;
	*example = NULL;
	for (int i = 0; i < d->n_ct; i++) {
		const struct vnat_ct_entry *e = &d->ct[i];

		if (!leaves_uplink(d, e, a, up, untranslated))
			continue;
		if (!e->unreplied) {
			(*replied)++;
		} else if (dst_silent(d, e->dst, a, up, untranslated)) {
			(*unreplied)++;
			if (!*example)
				*example = e;
		}
	}
}

static void flow_text(const struct vnat_ct_entry *e, char *buf, size_t sz)
{
	char s[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN];
	const char *p = e->proto == 6 ? "tcp" : e->proto == 17 ? "udp" : "icmp";

	if (e->proto == 1)
		snprintf(buf, sz, "%s src=%s dst=%s [UNREPLIED]", p, ip_str(e->src, s),
			 ip_str(e->dst, t));
	else
		snprintf(buf, sz, "%s src=%s dst=%s dport=%u [UNREPLIED]", p, ip_str(e->src, s),
			 ip_str(e->dst, t), e->dport);
}

/*
 * vnat manages an addressed interface, no bridge port, other than the
 * uplink: it routes between the two.
 */
static bool vnat_routes(const struct vnat_doctor *d, const struct vnat_route *up)
{
	for (int i = 0; d->loaded && up && i < d->n_addrs; i++) {
		struct vnat_iface v;

		if (inside_addr(d, &d->addrs[i], up) && vnat_manages(d, d->addrs[i].ifname, &v) &&
		    !(v.flags & VNAT_IFACE_PORT))
			return true;
	}
	return false;
}

/* Why this namespace should forward at all; NULL when nothing says it is a router. */
static const char *router_role(const struct vnat_doctor *d, const struct vnat_route *up)
{
	if (d->opts.iface[0])
		return "--iface given";
	if (d->loaded && (d->cfg.flags & VNAT_CFG_NAT))
		return "vnat translates here";
	if (vnat_routes(d, up))
		return "vnat routes here";
	if (kernel_nat_any(d))
		return "the kernel's NAT rules translate guests";
	for (int i = 0; up && i < d->n_addrs; i++) {
		const struct vnat_link *l = vnat_topo__link_by_name(d->topo, d->addrs[i].ifname);

		if (l && vnat_link__is_bridge(l) && inside_addr(d, &d->addrs[i], up))
			return "a bridge with an address is the guests' gateway";
	}
	return NULL;
}

/* ---------------------------------------------------------------- checks */

/* Only one interface (lo aside) holds an IPv4 address. */
static bool one_armed(const struct vnat_doctor *d)
{
	const char *arm = NULL;

	for (int i = 0; i < d->n_addrs; i++) {
		if (!strcmp(d->addrs[i].ifname, "lo"))
			continue;
		if (arm && strcmp(arm, d->addrs[i].ifname))
			return false;
		arm = d->addrs[i].ifname;
	}
	return arm;
}

/* 1. seed 000: a next hop on the segment the packet came from, redirects on. */
static void check_redirect_loop(struct vnat_doctor *d)
{
	int all = conf_int("all", "send_redirects");
	char ctr[96], dst[32], gw[INET_ADDRSTRLEN], own[INET_ADDRSTRLEN], key[64], rel[64];

	if (sysctl_int("/proc/sys/net/ipv4/ip_forward") != 1)
		return;
	/*
	 * Every router has a next hop on some segment; it loops only when
	 * packets for it arrive on that same segment: a one-armed router
	 * (seed 000's router1), or redirects the kernel did send.
	 */
	if (!one_armed(d) && !snmp(d, 1, "Icmp", "OutRedirects"))
		return;
	for (int i = 0; i < d->topo->n_links; i++) {
		const char *ifn = d->topo->links[i].name;
		int own_sr = conf_int(ifn, "send_redirects");
		struct vnat_iface v;
		struct vnat_finding *f;

		if (skip_iface(d, ifn) || conf_int(ifn, "forwarding") != 1 || (!all && own_sr != 1))
			continue;
		/* vnat forwards the hairpin in XDP and drops redirects on egress */
		if (vnat_manages(d, ifn, &v) && !(d->cfg.flags & VNAT_CFG_KEEP_REDIRECTS))
			continue;
		for (int k = 0; k < d->n_routes; k++) {
			const struct vnat_route *r = &d->routes[k];
			const struct vnat_addr *a = NULL;

			if (strcmp(r->ifname, ifn) || !r->gw)
				continue;
			for (int j = 0; j < d->n_addrs && !a; j++)
				if (!strcmp(d->addrs[j].ifname, ifn) &&
				    vnat_ipv4__in(r->gw, d->addrs[j].addr, d->addrs[j].prefixlen))
					a = &d->addrs[j];
			if (!a || !(f = finding(d, "redirect-loop", ifn)))
				continue;
			prefix_str(r->dst, r->len, dst, sizeof(dst));
			snmp_text(d, "Icmp", "OutRedirects", ctr, sizeof(ctr));
			snprintf(
				f->what, sizeof(f->what),
				"%s forwards packets back out of the interface they came in on, and "
				"the kernel answers each with an ICMP redirect",
				ifn);
			snprintf(
				f->evidence, sizeof(f->evidence),
				"net.ipv4.conf.all.send_redirects = %d, net.ipv4.conf.%s."
				"send_redirects = %d (in effect: the kernel ORs them); route %s via "
				"%s dev %s: the next hop is on %s's own segment %s/%u; %s",
				all, ifn, own_sr, dst, ip_str(r->gw, gw), ifn, ifn,
				ip_str(net_of(a), own), a->prefixlen, ctr);
			snprintf(
				f->effect, sizeof(f->effect),
				"guests on %s that use %s as gateway get \"Redirect Host(New "
				"nexthop: %s)\" for every flow (seed 000); those that obey bypass "
				"this router until their route cache expires, then it starts again",
				ifn, ip_str(a->addr, own), gw);
			conf_key(key, sizeof(key), ifn, "send_redirects");
			snprintf(f->fix, sizeof(f->fix),
				 "sysctl -w net.ipv4.conf.all.send_redirects=0 %s=0", key);
			set_sysctl(f, 0, "conf/all/send_redirects", "0");
			snprintf(rel, sizeof(rel), "conf/%s/send_redirects", ifn);
			set_sysctl(f, 1, rel, "0");
			break;
		}
	}
}

/* 2. seeds 001, 004: ip_forward off globally or on one interface. */
static void check_forwarding(struct vnat_doctor *d)
{
	const char *why = router_role(d, uplink(d));
	char err[96], fwd[96], vn[96] = "", key[64], rel[64];
	struct vnat_finding *f;

	if (!why)
		return;
	snmp_text(d, "Ip", "InAddrErrors", err, sizeof(err));
	snmp_text(d, "Ip", "ForwDatagrams", fwd, sizeof(fwd));
	if (d->loaded)
		snprintf(vn, sizeof(vn), "; vnat pass_fwd_disabled %llu",
			 (unsigned long long)vnat_counter(d, 1, VNAT_PASS_FWD_DISABLED));
	if (sysctl_int("/proc/sys/net/ipv4/ip_forward") == 0) {
		f = finding(d, "forwarding-off", "all");
		if (!f)
			return;
		snprintf(f->what, sizeof(f->what), "IPv4 forwarding is off (%s)", why);
		snprintf(f->evidence, sizeof(f->evidence),
			 "net.ipv4.ip_forward = 0; %s (packets for other hosts refused); %s%s", err,
			 fwd, vn);
		snprintf(f->effect, sizeof(f->effect),
			 "guests reach the host but nothing beyond it; replies from outside reach "
			 "the host, never the guests (seeds 001, 004)");
		snprintf(f->fix, sizeof(f->fix), "sysctl -w net.ipv4.ip_forward=1");
		set_sysctl(f, 0, "ip_forward", "1");
		return;
	}
	for (int i = 0; i < d->n_addrs; i++) {
		const char *ifn = d->addrs[i].ifname;
		bool dup = false;

		for (int k = 0; k < i; k++)
			dup |= !strcmp(d->addrs[k].ifname, ifn);
		if (dup || skip_iface(d, ifn) || conf_int(ifn, "forwarding") != 0)
			continue;
		f = finding(d, "forwarding-off", ifn);
		if (!f)
			return;
		snprintf(f->what, sizeof(f->what), "forwarding is off on %s (%s)", ifn, why);
		snprintf(f->evidence, sizeof(f->evidence),
			 "net.ipv4.ip_forward = 1 but net.ipv4.conf.%s.forwarding = 0; %s; %s%s",
			 ifn, err, fwd, vn);
		snprintf(f->effect, sizeof(f->effect),
			 "packets arriving on %s for other hosts are dropped: guests behind it (or "
			 "replies for them) go nowhere",
			 ifn);
		conf_key(key, sizeof(key), ifn, "forwarding");
		snprintf(f->fix, sizeof(f->fix), "sysctl -w %s=1", key);
		snprintf(rel, sizeof(rel), "conf/%s/forwarding", ifn);
		set_sysctl(f, 0, rel, "1");
	}
}

static bool seen_prefix(const struct vnat_doctor *d, int i)
{
	for (int k = 0; k < i; k++)
		if (net_of(&d->addrs[k]) == net_of(&d->addrs[i]) &&
		    d->addrs[k].prefixlen == d->addrs[i].prefixlen)
			return true;
	return false;
}

/* 3. seed 004: `iptables -t nat -F`: private guests leave the uplink as they are. */
static void check_nat_missing(struct vnat_doctor *d)
{
	const struct vnat_route *up = uplink(d);
	char p[32], flows[256], ex[128];

	for (int i = 0; up && i < d->n_addrs; i++) {
		const struct vnat_addr *a = &d->addrs[i];
		const struct vnat_ct_entry *e;
		struct vnat_finding *f;
		int un, rep, nat_rules = 0;

		if (!inside_addr(d, a, up) || seen_prefix(d, i) || !vnat_ipv4__private(a->addr) ||
		    nat_covers(d, a, up->ifname))
			continue;
		uplink_flows(d, a, up, true, &un, &rep, &e);
		/* replies come back untranslated: a route back exists upstream (routed model) */
		if (rep)
			continue;
		for (int k = 0; k < d->n_rules; k++)
			nat_rules += !strcmp(d->rules[k].table, "nat");
		f = finding(d, "nat-missing", a->ifname);
		if (!f)
			return;
		prefix_str(net_of(a), a->prefixlen, p, sizeof(p));
		if (e)
			flow_text(e, ex, sizeof(ex));
		snprintf(flows, sizeof(flows),
			 "; conntrack: %d flows from %s left %s untranslated, "
			 "none answered%s%s",
			 un, p, up->ifname, e ? ", e.g. " : "", e ? ex : "");
		snprintf(f->what, sizeof(f->what),
			 "guests' private prefix %s on %s is routed out of %s with no source NAT",
			 p, a->ifname, up->ifname);
		snprintf(f->evidence, sizeof(f->evidence),
			 "iptables-save: %d rules in the nat table, no SNAT/MASQUERADE in "
			 "POSTROUTING for -s %s -o %s; nftables: %s; vnat: %s%s",
			 nat_rules, p, up->ifname, d->nft_nat ? "has NAT" : "no NAT",
			 !d->loaded		       ? "not loaded" :
			 (d->cfg.flags & VNAT_CFG_NAT) ? "does not translate this prefix" :
							 "loaded without --snat",
			 un ? flows : "");
		snprintf(f->effect, sizeof(f->effect),
			 "guests' packets leave %s with their private source addresses; nobody "
			 "upstream routes replies to %s, so guests reach nothing beyond the host "
			 "(seed 004: iptables -t nat -F; libvirt restores its rules on "
			 "'virsh net-destroy NET && virsh net-start NET')",
			 up->ifname, p);
		snprintf(f->fix, sizeof(f->fix),
			 "iptables -t nat -A POSTROUTING -s %s ! -d %s -o %s -j MASQUERADE", p, p,
			 up->ifname);
	}
}

static bool dup_reported(const struct vnat_doctor *d, const char *bridge, const char *mac)
{
	for (int i = 0; i < d->n; i++)
		if (!strcmp(d->f[i].check, "duplicate-mac") && !strcmp(d->f[i].iface, bridge) &&
		    strstr(d->f[i].what, mac))
			return true;
	return false;
}

static void dup_mac_finding(struct vnat_doctor *d, uint32_t bridge, const uint8_t *m,
			    uint32_t port_a, uint32_t port_b, const char *seen)
{
	const struct vnat_link *br = vnat_topo__link(d->topo, bridge);
	const struct vnat_link *pa = vnat_topo__link(d->topo, port_a);
	const struct vnat_link *pb = vnat_topo__link(d->topo, port_b);
	struct vnat_finding *f;
	char mac[18], vn[64] = "";

	if (!br || !pa || !pb || (d->opts.iface[0] && strcmp(d->opts.iface, br->name)))
		return;
	vnat_mac__format(m, mac, sizeof(mac));
	if (dup_reported(d, br->name, mac) || !(f = finding(d, "duplicate-mac", br->name)))
		return;
	snprintf(f->what, sizeof(f->what), "two ports of %s claim MAC %s: %s and %s", br->name, mac,
		 pa->name, pb->name);
	if (d->loaded)
		snprintf(vn, sizeof(vn), "; vnat fdb_moved +%llu in 1 s",
			 (unsigned long long)(vnat_counter(d, 1, VNAT_FDB_MOVED) -
					      vnat_counter(d, 0, VNAT_FDB_MOVED)));
	snprintf(f->evidence, sizeof(f->evidence), "%s: %s learned on %s and on %s%s", seen, mac,
		 pa->name, pb->name, vn);
	snprintf(f->effect, sizeof(f->effect),
		 "the bridge sends each guest's frames to whichever port spoke last: the two "
		 "guests lose packets and cannot talk to each other (seed 002: qemu's default "
		 "MAC 52:54:00:12:34:56 on two guests)");
	snprintf(f->fix, sizeof(f->fix), "ip link set dev eth0 address 52:54:00:%02x:%02x:%02x",
		 (pb->ifindex >> 8) & 0xff, pb->ifindex & 0xff, m[5] ^ 0x5a);
	snprintf(f->fix_on, sizeof(f->fix_on), "the guest behind %s", pb->name);
}

/* The datapath's record of MACs moving as only a duplicate does (as vnat status shows). */
static void vnat_macmoves(struct vnat_doctor *d)
{
	struct vnat_fdb_key key, next;
	struct vnat_macmove mv;
	struct timespec ts;
	__u64 now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	for (int err = bpf_map_get_next_key(d->maps.macmoves, NULL, &next); !err;
	     err = bpf_map_get_next_key(d->maps.macmoves, &key, &next)) {
		char seen[96];

		key = next;
		if (bpf_map_lookup_elem(d->maps.macmoves, &key, &mv) || mv.moves < VNAT_DUP_MOVES ||
		    now - mv.last_move_ns >= VNAT_DUP_HOLD_NS)
			continue;
		snprintf(seen, sizeof(seen), "vnat_macmoves (%u moves in 10 s)", mv.moves);
		dup_mac_finding(d, key.bridge, key.mac, mv.prev_port, mv.port, seen);
	}
}

/* 4. seed 002: two guests with one MAC on one bridge. */
static void check_dup_mac(struct vnat_doctor *d)
{
	for (int i = 0; i < d->n_fdb_seen; i++) {
		const struct vnat_fdb_entry *a = &d->fdb_seen[i];
		const struct vnat_link *br = vnat_topo__link(d->topo, a->bridge);
		char seen[64];

		snprintf(seen, sizeof(seen), "kernel FDB of %s (its notifications over 1 s)",
			 br ? br->name : "?");
		for (int k = i + 1; k < d->n_fdb_seen; k++)
			if (d->fdb_seen[k].bridge == a->bridge &&
			    !memcmp(d->fdb_seen[k].mac, a->mac, 6) &&
			    d->fdb_seen[k].port != a->port) {
				dup_mac_finding(d, a->bridge, a->mac, a->port, d->fdb_seen[k].port,
						seen);
				break;
			}
	}
	if (d->loaded)
		vnat_macmoves(d);
}

/* 5. seed 002, routed model: a routed prefix whose replies never come back. */
static void check_no_route_back(struct vnat_doctor *d)
{
	const struct vnat_route *up = uplink(d);
	char p[32], ex[128], gw[INET_ADDRSTRLEN], own[INET_ADDRSTRLEN];

	for (int i = 0; up && i < d->n_addrs; i++) {
		const struct vnat_addr *a = &d->addrs[i], *ua = addr_on(d, up->ifname);
		const struct vnat_ct_entry *e;
		struct vnat_finding *f;
		int un, rep;

		if (!inside_addr(d, a, up) || seen_prefix(d, i) || vnat_ipv4__private(a->addr) ||
		    nat_covers(d, a, up->ifname) || !ua)
			continue;
		uplink_flows(d, a, up, true, &un, &rep, &e);
		if (!un || !(f = finding(d, "no-route-back", a->ifname)))
			continue;
		prefix_str(net_of(a), a->prefixlen, p, sizeof(p));
		flow_text(e, ex, sizeof(ex));
		snprintf(f->what, sizeof(f->what),
			 "%s is routed (not translated) out of %s, and no reply comes back", p,
			 up->ifname);
		snprintf(f->evidence, sizeof(f->evidence),
			 "conntrack: %d flows from %s forwarded out of %s untranslated, none "
			 "answered (e.g. %s); no SNAT/MASQUERADE covers %s",
			 un, p, up->ifname, ex, p);
		snprintf(f->effect, sizeof(f->effect),
			 "guests' packets reach the outside, but the hosts there have no route to "
			 "%s: every connection times out (seed 002, routed model)",
			 p);
		snprintf(f->fix, sizeof(f->fix), "ip route add %s via %s", p,
			 ip_str(ua->addr, own));
		snprintf(f->fix_on, sizeof(f->fix_on), "the upstream router %s",
			 up->gw ? ip_str(up->gw, gw) : up->ifname);
	}
}

/*
 * For the first UDP/53 flow (entry i) to its server: how many flows to that
 * server went unanswered since the newest answered one, if the newest flow
 * of all is unanswered; else 0. An answer a minute ago does not make the
 * server answer now, so freshness decides, not the mere presence of one.
 */
static int dns_unanswered_since_reply(const struct vnat_doctor *d, int i)
{
	const struct vnat_ct_entry *e = &d->ct[i];
	long newest_any = -1, newest_reply = -1;
	bool newest_unreplied = false;
	int un = 0;

	if (e->proto != 17 || e->dport != 53)
		return 0;
	for (int k = 0; k < d->n_ct; k++) {
		const struct vnat_ct_entry *c = &d->ct[k];
		long age = ct_age(c);

		if (c->proto != 17 || c->dport != 53 || c->dst != e->dst)
			continue;
		if (k < i)
			return 0; /* counted with the first */
		if (newest_any < 0 || age < newest_any) {
			newest_any = age;
			newest_unreplied = c->unreplied;
		}
		if (!c->unreplied && (newest_reply < 0 || age < newest_reply))
			newest_reply = age;
	}
	if (!newest_unreplied)
		return 0;
	for (int k = i; k < d->n_ct; k++)
		un += d->ct[k].proto == 17 && d->ct[k].dport == 53 && d->ct[k].dst == e->dst &&
		      d->ct[k].unreplied && (newest_reply < 0 || ct_age(&d->ct[k]) < newest_reply);
	return un;
}

/*
 * An answer from another address than the one asked reaches the host's
 * translated port as a new, unexpected flow: src port 53 to that port.
 */
static bool answer_from_elsewhere(const struct vnat_doctor *d, const struct vnat_ct_entry *q,
				  const struct vnat_ct_entry **other)
{
	for (int k = 0; k < d->n_ct; k++) {
		const struct vnat_ct_entry *a = &d->ct[k];

		if (a->proto != 17 || a->dport != 53 || a->dst != q->dst || !a->unreplied)
			continue;
		for (int i = 0; i < d->n_ct; i++) {
			const struct vnat_ct_entry *c = &d->ct[i];

			if (c->proto == 17 && c->sport == 53 && c->src != a->dst &&
			    c->dst == a->rdst && c->dport == a->rdport) {
				*other = c;
				return true;
			}
		}
	}
	return false;
}

static void dns_wrong_source(struct vnat_finding *f, const struct vnat_ct_entry *q,
			     const struct vnat_ct_entry *other, const char *ex, int un)
{
	char asked[INET_ADDRSTRLEN], from[INET_ADDRSTRLEN];

	ip_str(q->dst, asked);
	ip_str(other->src, from);
	snprintf(f->what, sizeof(f->what), "the DNS server %s answers from %s", asked, from);
	snprintf(f->evidence, sizeof(f->evidence),
		 "conntrack: %d UDP flows to %s port 53 unanswered (e.g. %s), and a flow from "
		 "%s port 53 to the translated port %u, which matches none of them",
		 un, asked, ex, from, other->dport);
	snprintf(f->effect, sizeof(f->effect),
		 "the answers do not match the guests' queries: the NAT cannot return them and "
		 "name lookups time out (seed 003)");
	snprintf(f->fix, sizeof(f->fix), "ip addr show to %s", from);
	snprintf(f->fix_on, sizeof(f->fix_on),
		 "the resolver: make it answer from %s (bind it there), or give guests %s", asked,
		 from);
}

/* 6. seed 003: guests' DNS to the upstream resolver times out behind the NAT. */
static void check_dns(struct vnat_doctor *d)
{
	for (int i = 0; i < d->n_rules; i++) {
		const struct vnat_ipt_rule *r = &d->rules[i];
		struct vnat_finding *f;

		if (strcmp(r->table, "filter") || strcmp(r->chain, "FORWARD") ||
		    !vnat_ipt__refuses(r) || r->proto != 17 || r->dport != 53 ||
		    !(f = finding(d, "dns-blocked", r->in[0] ? r->in : r->out)))
			continue;
		snprintf(f->what, sizeof(f->what), "a FORWARD rule refuses guests' DNS queries");
		snprintf(f->evidence, sizeof(f->evidence),
			 "iptables-save -c: -A %s (%llu packets refused)", r->spec,
			 (unsigned long long)r->packets);
		snprintf(f->effect, sizeof(f->effect),
			 "name lookups in the guests time out (\"114.114.114.114:53 timed out\", "
			 "seed 003): services that resolve names fail, e.g. with 502");
		snprintf(f->fix, sizeof(f->fix), "iptables -t filter -D %s", r->spec);
	}
	for (int i = 0; i < d->n_ct; i++) {
		const struct vnat_ct_entry *e = &d->ct[i];
		char ip[INET_ADDRSTRLEN], ex[128];
		struct vnat_finding *f;
		int un = dns_unanswered_since_reply(d, i);
		const struct vnat_ct_entry *other;

		if (un <= 0 || !(f = finding(d, "dns-timeout", "")))
			continue;
		flow_text(e, ex, sizeof(ex));
		ip_str(e->dst, ip);
		if (answer_from_elsewhere(d, e, &other)) {
			dns_wrong_source(f, e, other, ex, un);
			continue;
		}
		snprintf(f->what, sizeof(f->what), "the DNS server %s does not answer", ip);
		snprintf(f->evidence, sizeof(f->evidence),
			 "conntrack: %d UDP flows to %s port 53, none answered (e.g. %s); the "
			 "newest flow to it is unanswered",
			 un, ip, ex);
		snprintf(f->effect, sizeof(f->effect),
			 "name lookups time out (seed 003: a guest's service answers 502)");
		snprintf(f->fix, sizeof(f->fix), "ip route get %s; ping -c 3 %s", ip, ip);
		snprintf(f->fix_on, sizeof(f->fix_on),
			 "this host (find where the path to %s breaks, or give guests another "
			 "resolver)",
			 ip);
	}
}

/* 7. a guests' interface with a larger MTU than the uplink's. */
static void check_mtu(struct vnat_doctor *d)
{
	const struct vnat_route *up = uplink(d);
	int up_mtu = up ? link_mtu(up->ifname) : -1;
	char ff[96], du[96];

	for (int i = 0; up_mtu > 0 && i < d->n_addrs; i++) {
		const struct vnat_addr *a = &d->addrs[i];
		int mtu = link_mtu(a->ifname);
		struct vnat_finding *f;
		bool dup = false;

		for (int k = 0; k < i; k++)
			dup |= !strcmp(d->addrs[k].ifname, a->ifname);
		if (dup || !inside_addr(d, a, up) || mtu <= up_mtu ||
		    !(f = finding(d, "mtu-mismatch", a->ifname)))
			continue;
		snmp_text(d, "Ip", "FragFails", ff, sizeof(ff));
		snmp_text(d, "Icmp", "OutDestUnreachs", du, sizeof(du));
		snprintf(f->what, sizeof(f->what),
			 "guests on %s send up to %d bytes, the uplink %s carries %d", a->ifname,
			 mtu, up->ifname, up_mtu);
		snprintf(f->evidence, sizeof(f->evidence),
			 "mtu of %s %d > mtu of %s %d (the route out); %s (DF packets too big); %s "
			 "(frag-needed among them)",
			 a->ifname, mtu, up->ifname, up_mtu, ff, du);
		snprintf(f->effect, sizeof(f->effect),
			 "full-size packets with DF set are dropped with ICMP frag-needed; where "
			 "that ICMP is filtered, TCP connections hang after the handshake (PMTU "
			 "black hole)");
		snprintf(f->fix, sizeof(f->fix), "ip link set dev %s mtu %d", a->ifname, up_mtu);
	}
}

/* 8. T1: bridged frames cross the host's conntrack before the routed NAT. */
static void check_br_netfilter(struct vnat_doctor *d)
{
	const struct vnat_route *up = uplink(d);
	int on = sysctl_int("/proc/sys/net/bridge/bridge-nf-call-iptables");
	char p[32], ex[128];

	for (int i = 0; up && on == 1 && i < d->n_addrs; i++) {
		const struct vnat_addr *a = &d->addrs[i];
		const struct vnat_link *l = vnat_topo__link_by_name(d->topo, a->ifname);
		const struct vnat_ct_entry *e;
		struct vnat_finding *f;
		int un, rep, ports = 0;

		if (!l || !vnat_link__is_bridge(l) || !inside_addr(d, a, up) || seen_prefix(d, i) ||
		    !nat_covers(d, a, up->ifname))
			continue;
		for (int k = 0; k < d->topo->n_links; k++)
			ports += d->topo->links[k].master == l->ifindex;
		uplink_flows(d, a, up, false, &un, &rep, &e);
		if (ports < 2 || !un || !(f = finding(d, "br-netfilter", a->ifname)))
			continue;
		prefix_str(net_of(a), a->prefixlen, p, sizeof(p));
		flow_text(e, ex, sizeof(ex));
		snprintf(f->what, sizeof(f->what),
			 "frames bridged between ports of %s pass the host's conntrack before the "
			 "routed packet reaches NAT",
			 a->ifname);
		snprintf(f->evidence, sizeof(f->evidence),
			 "net.bridge.bridge-nf-call-iptables = 1; %s bridges %d ports and routes "
			 "%s with NAT; conntrack: %d flows from %s out of %s unanswered, the "
			 "newest to their destinations among them (e.g. %s)",
			 a->ifname, ports, p, un, p, up->ifname, ex);
		snprintf(f->effect, sizeof(f->effect),
			 "a guest that routes through another guest on %s (T1) has its flows "
			 "tracked by the bridged pass first: the routed packet is not translated "
			 "as the NAT rule says, and no reply reaches the guest",
			 a->ifname);
		snprintf(f->fix, sizeof(f->fix),
			 "sysctl -w net.bridge.bridge-nf-call-iptables=0 && conntrack -D -s %s", p);
	}
}

/* A vnat daemon in this network namespace? */
static bool daemon_running(const struct vnat_doctor *d)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	bool found = false;

	while (dir && !found && (de = readdir(dir))) {
		char path[300], cmd[512];
		struct stat st;
		size_t n;
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		if (stat(path, &st) || st.st_ino != d->ns.inode)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		cmd[n] = 0;
		/* argv[0] ends in "vnat", a later word is "daemon" */
		if (n > 4 && !strcmp(cmd + strlen(cmd) - 4, "vnat"))
			for (size_t o = strlen(cmd) + 1; o < n && !found; o += strlen(cmd + o) + 1)
				found = !strcmp(cmd + o, "daemon");
	}
	if (dir)
		closedir(dir);
	return found;
}

/* How to load vnat again: the interfaces it was given, hook, its NAT address. */
static void reload_cmd(const struct vnat_doctor *d, const char *hook, char *buf, size_t sz)
{
	struct vnat_iface v;
	__u32 key, next;
	size_t n;

	n = snprintf(buf, sz, "vnat unload --all && vnat load");
	for (int err = bpf_map_get_next_key(d->maps.ifaces, NULL, &next); !err && n < sz;
	     err = bpf_map_get_next_key(d->maps.ifaces, &key, &next)) {
		key = next;
		if (!bpf_map_lookup_elem(d->maps.ifaces, &key, &v) &&
		    !(v.flags & (VNAT_IFACE_AUTO | VNAT_IFACE_OUTSIDE | VNAT_IFACE_PORT)))
			n += snprintf(buf + n, sz - n, " --iface %s", v.name);
	}
	if (n < sz)
		n += snprintf(buf + n, sz - n, " --hook %s", hook);
	if (n < sz && (d->cfg.flags & VNAT_CFG_MASQUERADE)) {
		n += snprintf(buf + n, sz - n, " --masquerade");
	} else if (n < sz && (d->cfg.flags & VNAT_CFG_NAT)) {
		char a[INET_ADDRSTRLEN];

		n += snprintf(buf + n, sz - n, " --snat %s", ip_str(d->cfg.snat_addr, a));
	}
}

static void vnat_iface_health(struct vnat_doctor *d)
{
	struct vnat_iface val;
	__u32 key, next;

	for (int err = bpf_map_get_next_key(d->maps.ifaces, NULL, &next); !err;
	     err = bpf_map_get_next_key(d->maps.ifaces, &key, &next)) {
		struct vnat_attachment a;
		char name[IF_NAMESIZE];
		struct vnat_finding *f;
		bool xdp_ok;

		key = next;
		if (bpf_map_lookup_elem(d->maps.ifaces, &key, &val) || skip_iface(d, val.name))
			continue;
		vnat_datapath__query(key, &a);
		xdp_ok = (val.flags & (VNAT_IFACE_BRIDGE | VNAT_IFACE_NO_XDP)) || a.xdp_id;
		if (if_indextoname(key, name) && xdp_ok && a.tc_ingress_id && a.tc_egress_id)
			continue;
		f = finding(d, "vnat-detached", val.name);
		if (!f)
			return;
		snprintf(f->what, sizeof(f->what),
			 "vnat manages %s, but its programs are not all "
			 "attached there",
			 val.name);
		snprintf(f->evidence, sizeof(f->evidence),
			 "vnat_ifaces has ifindex %u (%s); attached now: xdp %u, tc ingress %u, tc "
			 "egress %u%s",
			 key, val.name, a.xdp_id, a.tc_ingress_id, a.tc_egress_id,
			 if_indextoname(key, name) ? "" : " (the interface is gone)");
		snprintf(f->effect, sizeof(f->effect),
			 "traffic of %s takes the kernel path or, for translated flows, loses its "
			 "translation",
			 val.name);
		reload_cmd(d, vnat_hook__option(val.flags), f->fix, sizeof(f->fix));
	}
}

/* The --hook vnat was loaded with (that of an interface it was given). */
static const char *instance_hook(const struct vnat_doctor *d)
{
	struct vnat_iface v;
	__u32 key, next;

	for (int err = bpf_map_get_next_key(d->maps.ifaces, NULL, &next); !err;
	     err = bpf_map_get_next_key(d->maps.ifaces, &key, &next)) {
		key = next;
		if (!bpf_map_lookup_elem(d->maps.ifaces, &key, &v) &&
		    !(v.flags & (VNAT_IFACE_AUTO | VNAT_IFACE_PORT)))
			return vnat_hook__option(v.flags);
	}
	return "xdp";
}

/* drop_no_port or drop_table_full moving: a wider port range or a larger table. */
static void vnat_drop_health(struct vnat_doctor *d, enum vnat_stat s, const char *name,
			     const char *limit, const char *option)
{
	uint64_t a = vnat_counter(d, 0, s), b = vnat_counter(d, 1, s);
	struct vnat_finding *f;
	size_t n;

	if (b == a || !(f = finding(d, "vnat-exhausted", "")))
		return;
	snprintf(f->what, sizeof(f->what), "vnat refuses new flows: %s", name);
	snprintf(f->evidence, sizeof(f->evidence), "vnat counter %s %llu (+%llu in 1 s); %s", name,
		 (unsigned long long)b, (unsigned long long)(b - a), limit);
	snprintf(f->effect, sizeof(f->effect),
		 "guests' new connections through the NAT fail while it moves");
	reload_cmd(d, instance_hook(d), f->fix, sizeof(f->fix));
	n = strlen(f->fix);
	snprintf(f->fix + n, sizeof(f->fix) - n, " %s", option);
}

/* vnat's own do-nothing warnings (as status shows them): the remedy in parentheses is the fix. */
static void vnat_warning_findings(struct vnat_doctor *d)
{
	struct vnat_warning w[VNAT_MAX_WARNINGS];
	int n = vnat_warnings__live(&d->maps, NULL, 0, w, VNAT_MAX_WARNINGS);

	for (int i = 0; i < n && i < VNAT_MAX_WARNINGS; i++) {
		char *paren = strrchr(w[i].text, '(');
		struct vnat_finding *f;

		if (skip_iface(d, w[i].iface) || !(f = finding(d, "vnat-warning", w[i].iface)))
			continue;
		if (paren && paren > w[i].text && paren[-1] == ' ') {
			paren[-1] = 0;
			snprintf(f->fix, sizeof(f->fix), "%.*s", (int)strcspn(paren + 1, ")"),
				 paren + 1);
		}
		snprintf(f->what, sizeof(f->what), "%s", w[i].text);
		snprintf(f->evidence, sizeof(f->evidence), "vnat status: warning %s on %s",
			 vnat_warning__kind_name(w[i].kind), w[i].iface);
		snprintf(f->effect, sizeof(f->effect),
			 "vnat is loaded on %s but does nothing for guests there", w[i].iface);
	}
}

/* 11. vnat's own health: pins, hooks, daemon, exhaustion. */
static void check_vnat_health(struct vnat_doctor *d)
{
	struct vnat_finding *f;
	char limit[64], opt[32];

	if (d->stale && (f = finding(d, "vnat-stale-pins", ""))) {
		snprintf(f->what, sizeof(f->what),
			 "vnat pins of a namespace that no longer exists");
		snprintf(f->evidence, sizeof(f->evidence),
			 "%s/vnat_config names another network namespace (cookie differs from "
			 "this one's %llu)",
			 d->ns.pin_dir, (unsigned long long)d->ns.cookie);
		snprintf(f->effect, sizeof(f->effect),
			 "nothing runs for this namespace; the next 'vnat load' here would reuse "
			 "dead maps");
		snprintf(f->fix, sizeof(f->fix), "rm -r %s", d->ns.pin_dir);
		snprintf(f->stale_pins, sizeof(f->stale_pins), "%s", d->ns.pin_dir);
	}
	if (!d->loaded)
		return;
	vnat_iface_health(d);
	vnat_warning_findings(d);
	snprintf(limit, sizeof(limit), "outside ports %u-%u", d->cfg.port_min, d->cfg.port_max);
	vnat_drop_health(d, VNAT_DROP_NO_PORT, "drop_no_port", limit, "--ports 1024-65535");
	snprintf(limit, sizeof(limit), "--max-flows %u", d->cfg.max_flows);
	snprintf(opt, sizeof(opt), "--max-flows %u", d->cfg.max_flows * 2);
	vnat_drop_health(d, VNAT_DROP_TABLE_FULL, "drop_table_full", limit, opt);
	if (!daemon_running(d) && (f = finding(d, "vnat-no-daemon", ""))) {
		snprintf(f->what, sizeof(f->what),
			 "vnat is loaded but no vnat daemon follows the "
			 "topology");
		snprintf(f->evidence, sizeof(f->evidence),
			 "pins in %s; no process 'vnat daemon' in this network namespace",
			 d->ns.pin_dir);
		snprintf(f->effect, sizeof(f->effect),
			 "new guests' ports get no fast path, FDB and address changes are seen "
			 "only within a second by cached next hops, --masquerade does not follow "
			 "the uplink's address");
		snprintf(f->fix, sizeof(f->fix), "vnat daemon &");
	}
}

/* Why XDP on this link loses frames; false when it does not (or cannot be told). */
static bool xdp_unservable(const struct vnat_link *l, char *why, size_t sz)
{
	struct vnat_peer p;

	if (vnat_link__is_tap(l)) {
		snprintf(why, sz,
			 "a tap: a virtio guest's frames carry partial checksums, which "
			 "XDP can neither see nor finish");
		return true;
	}
	if (!vnat_link__is_veth(l) || vnat_peer__probe(l->ifindex, &p))
		return false;
	if (p.tx_csum)
		snprintf(why, sz, "its peer %s sends partial checksums (tx-checksumming on)",
			 p.name);
	else if (!p.gro && !p.xdp)
		snprintf(why, sz,
			 "its peer %s has neither GRO nor an XDP program, so it drops "
			 "the frames XDP sends it",
			 p.name);
	return p.tx_csum || (!p.gro && !p.xdp);
}

/*
 * 9. XDP where vnat cannot serve: a tap, or a veth whose peer (read in its
 * own namespace) sends partial checksums or lacks GRO and XDP, as it may
 * become after the load checked it.
 */
static void check_xdp_endpoints(struct vnat_doctor *d)
{
	for (int i = 0; d->loaded && i < d->topo->n_links; i++) {
		const struct vnat_link *l = &d->topo->links[i];
		struct vnat_ifstats st = { 0 };
		struct vnat_attachment a;
		struct vnat_finding *f;
		struct vnat_iface v;
		char why[192];

		if (skip_iface(d, l->name) || !vnat_manages(d, l->name, &v) ||
		    (v.flags & (VNAT_IFACE_NO_XDP | VNAT_IFACE_BRIDGE)))
			continue;
		vnat_datapath__query(l->ifindex, &a);
		if (!a.xdp_id || !xdp_unservable(l, why, sizeof(why)) ||
		    !(f = finding(d, "xdp-endpoint", l->name)))
			continue;
		vnat_ifstats__read(l->ifindex, l->name, &st);
		snprintf(f->what, sizeof(f->what), "vnat runs XDP on %s %s, which XDP cannot serve",
			 vnat_link__is_tap(l) ? "tap" : "veth", l->name);
		snprintf(f->evidence, sizeof(f->evidence),
			 "%s: vnat's XDP program %u attached; %s; kernel drops on %s: rx_dropped "
			 "%llu, tx_dropped %llu, xdp_xmit_errors %llu",
			 l->name, a.xdp_id, why, l->name, (unsigned long long)st.rx_dropped,
			 (unsigned long long)st.tx_dropped, (unsigned long long)st.xdp_xmit_errors);
		snprintf(f->effect, sizeof(f->effect),
			 "frames vnat sends into %s by XDP are dropped, or TCP/UDP from it arrive "
			 "with wrong checksums: the guest behind it loses traffic",
			 l->name);
		reload_cmd(d, "auto", f->fix, sizeof(f->fix));
	}
}

/*
 * 10. rules vnat's fast path would bypass: only where vnat admits flows
 * itself (--admission vnat); under kernel admission every new flow meets
 * the host's rules first.
 */
static void check_bypass(struct vnat_doctor *d)
{
	if (d->loaded && (d->cfg.flags & VNAT_CFG_POLICY))
		return;
	for (int i = 0; d->loaded && i < d->n_rules; i++) {
		const struct vnat_ipt_rule *r = &d->rules[i];
		bool fwd_refuse = !strcmp(r->table, "filter") && !strcmp(r->chain, "FORWARD") &&
				  vnat_ipt__refuses(r);
		bool dnat = !strcmp(r->table, "nat") && !strcmp(r->target, "DNAT");
		struct vnat_finding *f;

		if ((!fwd_refuse && !dnat) ||
		    !(f = finding(d, "vnat-bypass", r->in[0] ? r->in : r->out)))
			continue;
		snprintf(f->what, sizeof(f->what), "a %s rule that vnat's fast path does not apply",
			 dnat ? "DNAT" : "FORWARD refusing");
		snprintf(f->evidence, sizeof(f->evidence),
			 "iptables-save -c: [%llu packets] -t %s -A %s",
			 (unsigned long long)r->packets, r->table, r->spec);
		snprintf(f->effect, sizeof(f->effect),
			 "vnat admits flows itself (--admission vnat): flows it forwards in "
			 "XDP/tc never reach this rule, which %s only for what takes the kernel "
			 "path",
			 dnat ? "translates" : "refuses");
		reload_cmd(d, "auto", f->fix, sizeof(f->fix));
		strncat(f->fix, " --admission auto", sizeof(f->fix) - strlen(f->fix) - 1);
		snprintf(f->fix_on, sizeof(f->fix_on),
			 "this host (kernel admission: the host's rules decide every new flow)");
	}
}

/* In the order of the priorities; the names are the findings' "check". */
const struct vnat_doctor_check vnat_doctor_checks[] = {
	{ "redirect-loop", check_redirect_loop },
	{ "forwarding-off", check_forwarding },
	{ "nat-missing", check_nat_missing },
	{ "duplicate-mac", check_dup_mac },
	{ "no-route-back", check_no_route_back },
	{ "dns", check_dns },
	{ "mtu-mismatch", check_mtu },
	{ "br-netfilter", check_br_netfilter },
	{ "vnat-health", check_vnat_health },
	{ "xdp-endpoint", check_xdp_endpoints },
	{ "vnat-bypass", check_bypass },
};

const int vnat_doctor_n_checks = sizeof(vnat_doctor_checks) / sizeof(vnat_doctor_checks[0]);

void vnat_doctor__run(struct vnat_doctor *d)
{
	d->n = 0;
	for (int i = 0; i < vnat_doctor_n_checks; i++)
		vnat_doctor_checks[i].fn(d);
}

static int write_sysctl(const char *path, const char *val)
{
	FILE *f = fopen(path, "we");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(val, f) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

int vnat_doctor__apply(struct vnat_finding *f)
{
	int err = -EOPNOTSUPP;

	for (int i = 0; i < 2 && f->sysctl[i][0]; i++) {
		err = write_sysctl(f->sysctl[i], f->sysctl_val[i]);
		if (err)
			return err;
	}
	if (f->stale_pins[0]) {
		err = vnat_maps__unpin(f->stale_pins);
		if (!err && rmdir(f->stale_pins) && errno != ENOENT)
			err = -errno;
	}
	f->fixed = !err;
	return err;
}
