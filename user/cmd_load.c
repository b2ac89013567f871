// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vnat load: validate everything, then attach; on any failure undo it all. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "addrs.h"
#include "args.h"
#include "cmds.h"
#include "datapath.h"
#include "iface.h"
#include "instance.h"
#include "log.h"

/* What one load call manages: the --iface interfaces and, for NAT, the uplink. */
struct load_plan {
	struct vnat_iface_info ifi[VNAT_MAX_LOAD_IFACES + 1];
	uint32_t role[VNAT_MAX_LOAD_IFACES + 1];
	int n;
	struct vnat_addr addrs[VNAT_MAX_ADDRS];
	int n_addrs;
};

static const char *ip_str(uint32_t addr, char *buf)
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

static int find_uplink(const struct vnat_load_opts *o, const struct load_plan *pl, char *name)
{
	char a[INET_ADDRSTRLEN];

	if (o->out[0]) {
		snprintf(name, VNAT_IFNAMSIZ, "%s", o->out);
		return 0;
	}
	for (int i = 0; i < pl->n_addrs; i++) {
		if (pl->addrs[i].addr == o->snat_addr) {
			snprintf(name, VNAT_IFNAMSIZ, "%s", pl->addrs[i].ifname);
			return 0;
		}
	}
	vnat_err("load: --snat %s: not an address of this host (add it to the uplink "
		 "with 'ip addr add', or name the uplink with --out IFACE)",
		 ip_str(o->snat_addr, a));
	return -EINVAL;
}

static int plan_interfaces(const struct vnat_load_opts *o, struct load_plan *pl)
{
	char uplink[VNAT_IFNAMSIZ];
	int err;

	for (int i = 0; i < o->n_ifaces; i++) {
		err = vnat_iface__resolve(o->ifaces[i], &pl->ifi[i]);
		if (err)
			return err;
		pl->role[i] = o->snat_addr ? VNAT_IFACE_INSIDE : 0;
	}
	pl->n = o->n_ifaces;
	pl->n_addrs = vnat_addrs__list(pl->addrs, VNAT_MAX_ADDRS);
	if (pl->n_addrs < 0) {
		vnat_err("load: list this namespace's addresses: %s", strerror(-pl->n_addrs));
		return pl->n_addrs;
	}
	if (!o->snat_addr)
		return 0;
	err = find_uplink(o, pl, uplink);
	if (err)
		return err;
	for (int i = 0; i < pl->n; i++) {
		if (!strcmp(pl->ifi[i].name, uplink)) {
			vnat_err("load: %s is both an inside --iface and the uplink the SNAT "
				 "address leaves from (guests go behind --iface, the uplink is "
				 "found from --snat or --out)",
				 uplink);
			return -EINVAL;
		}
	}
	err = vnat_iface__resolve(uplink, &pl->ifi[pl->n]);
	if (err)
		return err;
	pl->role[pl->n++] = VNAT_IFACE_OUTSIDE;
	return 0;
}

static uint32_t gc_interval_ms(const struct vnat_load_opts *o)
{
	uint32_t t = o->timeout_icmp;

	if (o->timeout_tcp_trans < t)
		t = o->timeout_tcp_trans;
	if (o->timeout_tcp_est < t)
		t = o->timeout_tcp_est;
	/* A quarter of the shortest timeout, between 100 ms and 10 s. */
	t = t * 1000 / 4;
	return t < 100 ? 100 : t > 10000 ? 10000 : t;
}

static void config_from_opts(const struct vnat_load_opts *o, const struct vnat_netns *ns,
			     const struct load_plan *pl, struct vnat_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->netns_cookie = ns->cookie;
	cfg->loaded_at = time(NULL);
	if (!o->snat_addr)
		return;
	cfg->flags = VNAT_CFG_NAT;
	cfg->snat_addr = o->snat_addr;
	cfg->port_min = o->port_min;
	cfg->port_max = o->port_max;
	cfg->filtering = o->filtering;
	cfg->timeout_udp = o->timeout_udp;
	cfg->timeout_tcp_est = o->timeout_tcp_est;
	cfg->timeout_tcp_trans = o->timeout_tcp_trans;
	cfg->timeout_icmp = o->timeout_icmp;
	cfg->max_flows = o->max_flows;
	cfg->gc_interval_ms = gc_interval_ms(o);
	if (o->out[0])
		cfg->out_ifindex = pl->ifi[pl->n - 1].ifindex;
}

static int check_config(const struct vnat_config *have, const struct vnat_load_opts *o)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (!o->snat_addr || o->snat_addr == have->snat_addr)
		return 0;
	vnat_err("load: vnat already runs here with --snat %s, not %s "
		 "(run 'vnat unload --all' to change it)",
		 have->snat_addr ? ip_str(have->snat_addr, a) : "(none)", ip_str(o->snat_addr, b));
	return -EINVAL;
}

static bool iface_is_inside(const struct load_plan *pl, const char *ifname)
{
	for (int i = 0; i < pl->n; i++)
		if (!strcmp(pl->ifi[i].name, ifname))
			return pl->role[i] & VNAT_IFACE_INSIDE;
	return false;
}

/*
 * Inside prefixes (--from, else those configured on the inside
 * interfaces), and every address of this host as a /32 that is never
 * translated: the longest match wins in the trie.
 */
static int fill_prefixes(const struct vnat_load_opts *o, const struct load_plan *pl,
			 const struct vnat_maps *m)
{
	int err = 0;

	for (int i = 0; i < o->n_from && !err; i++)
		err = vnat_maps__add_prefix(m, o->from[i].addr, o->from[i].len, VNAT_PREFIX_INSIDE);
	for (int i = 0; i < pl->n_addrs && !err; i++) {
		const struct vnat_addr *a = &pl->addrs[i];
		uint32_t mask = a->prefixlen ? htonl(0xffffffffu << (32 - a->prefixlen)) : 0;

		if (!o->n_from && iface_is_inside(pl, a->ifname))
			err = vnat_maps__add_prefix(m, a->addr & mask, a->prefixlen,
						    VNAT_PREFIX_INSIDE);
		if (!err)
			err = vnat_maps__add_prefix(m, a->addr, 32, VNAT_PREFIX_HOST);
	}
	if (err)
		vnat_err("load: fill vnat_prefixes: %s", strerror(-err));
	return err;
}

static void detach_all(struct vnat_loader *l, const struct load_plan *pl, int n)
{
	struct vnat_iface val;

	for (int i = 0; i < n; i++) {
		__u32 key = pl->ifi[i].ifindex;

		if (!bpf_map_lookup_elem(l->maps.ifaces, &key, &val))
			vnat_datapath__detach(&l->maps, key, &val);
	}
}

static void report(const struct vnat_loader *l, const struct load_plan *pl)
{
	for (int i = 0; i < pl->n; i++) {
		struct vnat_attachment a;

		vnat_datapath__query(pl->ifi[i].ifindex, &a);
		vnat_info("vnat: %s%s: xdp id %u (%s), tc ingress id %u, tc egress id %u",
			  pl->ifi[i].name, pl->role[i] & VNAT_IFACE_OUTSIDE ? " (uplink)" : "",
			  a.xdp_id, a.xdp_mode == VNAT_MODE_SKB ? "skb" : "native", a.tc_ingress_id,
			  a.tc_egress_id);
	}
	vnat_info("vnat: maps pinned in %s", l->pin_dir);
}

int cmd_load(int argc, char **argv)
{
	static struct load_plan pl;
	struct vnat_config cfg;
	struct vnat_load_opts o;
	struct vnat_loader l;
	struct vnat_netns ns;
	struct vnat_maps probe;
	int err, n = 0;

	err = vnat_args__parse_load(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	memset(&pl, 0, sizeof(pl));
	err = plan_interfaces(&o, &pl);
	if (err)
		return err;
	err = vnat_instance__find(&ns, &probe);
	if (err && err != -ENOENT)
		return err;
	if (!err)
		vnat_maps__close(&probe); /* the loader reopens the same pins */

	err = vnat_loader__open(&l, ns.pin_dir, o.max_flows);
	if (err)
		return err;
	if (l.reused) {
		err = vnat_maps__read_config(&l.maps, &cfg);
		if (!err)
			err = check_config(&cfg, &o);
	} else {
		config_from_opts(&o, &ns, &pl, &cfg);
		err = vnat_maps__write_config(&l.maps, &cfg);
		if (!err && o.snat_addr)
			err = fill_prefixes(&o, &pl, &l.maps);
	}
	if (err)
		goto out_close;

	for (n = 0; n < pl.n; n++) {
		err = vnat_loader__attach(&l, &pl.ifi[n], o.mode, pl.role[n]);
		if (err)
			goto err_detach;
	}
	err = vnat_loader__pin(&l);
	if (err)
		goto err_detach;
	report(&l, &pl);
	goto out_close;

err_detach:
	detach_all(&l, &pl, n);
out_close:
	vnat_loader__close(&l);
	return err;
}
