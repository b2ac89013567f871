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
#include "config.h"
#include "daemon_lock.h"
#include "datapath.h"
#include "iface.h"
#include "instance.h"
#include "log.h"
#include "policy.h"
#include "sync.h"
#include "topo.h"
#include "warnings.h"

/* What one load call manages: the --iface interfaces and, for NAT, the uplink. */
struct load_plan {
	struct vnat_iface_info ifi[VNAT_MAX_LOAD_IFACES + 1];
	struct vnat_role role[VNAT_MAX_LOAD_IFACES + 1];
	int n;
	struct vnat_addr addrs[VNAT_MAX_ADDRS];
	int n_addrs;
	struct vnat_topo topo;
};

static const char *ip_str(uint32_t addr, char *buf)
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

static const struct vnat_addr *first_addr_of(const struct load_plan *pl, const char *ifname)
{
	for (int i = 0; i < pl->n_addrs; i++)
		if (!strcmp(pl->addrs[i].ifname, ifname))
			return &pl->addrs[i];
	return NULL;
}

/* --masquerade: the uplink is --out or the default route's, ADDR its own. */
static int find_masquerade(struct vnat_load_opts *o, const struct load_plan *pl)
{
	const struct vnat_link *link;
	const struct vnat_addr *a;

	if (!o->out[0]) {
		link = vnat_topo__link(&pl->topo, pl->topo.default_oif);
		if (!link) {
			vnat_err("load: --masquerade: no IPv4 default route to find the uplink "
				 "(name it with --out IFACE)");
			return -EINVAL;
		}
		snprintf(o->out, sizeof(o->out), "%s", link->name);
	}
	a = first_addr_of(pl, o->out);
	if (!a) {
		vnat_err("load: --masquerade: uplink %s has no IPv4 address (add one, or use "
			 "--snat ADDR)",
			 o->out);
		return -EINVAL;
	}
	o->snat_addr = a->addr;
	return 0;
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

/*
 * The role of one named interface: a bridge is managed through its ports
 * (XDP cannot receive on a bridge device), a port alone is refused.
 */
static int plan_one(struct load_plan *pl, const char *name, uint32_t nat_role, uint32_t hook)
{
	struct vnat_iface_info *ifi = &pl->ifi[pl->n];
	struct vnat_role *role = &pl->role[pl->n];
	const struct vnat_link *link, *master;
	int err = vnat_iface__resolve(name, ifi);

	if (err)
		return err;
	memset(role, 0, sizeof(*role));
	role->flags = nat_role;
	link = vnat_topo__link(&pl->topo, ifi->ifindex);
	master = link && link->master ? vnat_topo__link(&pl->topo, link->master) : NULL;
	if (master && vnat_link__is_bridge(master)) {
		vnat_err("load: %s is a port of bridge %s (give --iface %s: vnat manages a "
			 "bridge with all its ports)",
			 name, master->name, master->name);
		return -EINVAL;
	}
	if (link && vnat_link__is_bridge(link))
		role->flags |= VNAT_IFACE_BRIDGE;
	if (link) {
		err = vnat_link__check_hook(link, hook, "load", &role->flags);
		if (err)
			return err;
	} else if (hook & VNAT_IFACE_HOOK_TC) {
		role->flags |= VNAT_IFACE_HOOK_TC | VNAT_IFACE_NO_XDP;
	}
	pl->n++;
	return 0;
}

static int plan_interfaces(struct vnat_load_opts *o, struct load_plan *pl)
{
	char uplink[VNAT_IFNAMSIZ];
	int err;

	err = vnat_topo__dump(&pl->topo);
	if (err)
		return err;
	pl->n_addrs = vnat_addrs__list(pl->addrs, VNAT_MAX_ADDRS);
	if (pl->n_addrs < 0) {
		vnat_err("load: list this namespace's addresses: %s", strerror(-pl->n_addrs));
		return pl->n_addrs;
	}
	if (o->masquerade) {
		err = find_masquerade(o, pl);
		if (err)
			return err;
	}
	for (int i = 0; i < o->n_ifaces; i++) {
		err = plan_one(pl, o->ifaces[i], o->snat_addr ? VNAT_IFACE_INSIDE : 0, o->hook);
		if (err)
			return err;
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
	return plan_one(pl, uplink, VNAT_IFACE_OUTSIDE, o->hook);
}

static void config_from_opts(const struct vnat_load_opts *o, const struct vnat_netns *ns,
			     const struct load_plan *pl, struct vnat_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->netns_cookie = ns->cookie;
	cfg->loaded_at = time(NULL);
	if (o->keep_redirects)
		cfg->flags |= VNAT_CFG_KEEP_REDIRECTS;
	/* Flows the kernel admits are timed and collected even without --snat. */
	cfg->timeout_udp = o->timeout_udp;
	cfg->timeout_tcp_est = o->timeout_tcp_est;
	cfg->timeout_tcp_trans = o->timeout_tcp_trans;
	cfg->timeout_icmp = o->timeout_icmp;
	cfg->max_flows = o->max_flows;
	cfg->gc_interval_ms = vnat_config__gc_interval_ms(o->timeout_tcp_est, o->timeout_tcp_trans,
							  o->timeout_icmp);
	if (!o->snat_addr)
		return;
	cfg->flags |= VNAT_CFG_NAT;
	if (o->inbound_kernel)
		cfg->flags |= VNAT_CFG_INBOUND_KERNEL;
	cfg->snat_addr = o->snat_addr;
	cfg->port_min = o->port_min;
	cfg->port_max = o->port_max;
	cfg->filtering = o->filtering;
	if (o->out[0])
		cfg->out_ifindex = pl->ifi[pl->n - 1].ifindex;
	if (o->masquerade)
		cfg->flags |= VNAT_CFG_MASQUERADE;
	if (o->n_from)
		cfg->flags |= VNAT_CFG_FROM;
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

static int fill_from(const struct vnat_load_opts *o, const struct vnat_maps *m)
{
	int err = 0;

	for (int i = 0; i < o->n_from && !err; i++)
		err = vnat_maps__add_prefix(m, o->from[i].addr, o->from[i].len, VNAT_PREFIX_INSIDE);
	if (err)
		vnat_err("load: fill vnat_prefixes: %s", strerror(-err));
	return err;
}

static int plan_prefixes(const struct load_plan *pl, const struct vnat_maps *m)
{
	uint32_t inside[VNAT_MAX_LOAD_IFACES + 1];
	int n = 0, err;

	for (int i = 0; i < pl->n; i++)
		if (pl->role[i].flags & VNAT_IFACE_INSIDE)
			inside[n++] = pl->ifi[i].ifindex;
	err = vnat_sync__prefixes(m, inside, n);
	if (err < 0)
		vnat_err("load: fill vnat_prefixes: %s", strerror(-err));
	return err < 0 ? err : 0;
}

/* A further NAT load (another inside network) shares the uplink attached before. */
static bool uplink_managed(const struct vnat_maps *m, const struct vnat_iface_info *ifi,
			   const struct vnat_role *role)
{
	struct vnat_iface val;
	__u32 key = ifi->ifindex;

	return (role->flags & VNAT_IFACE_OUTSIDE) && !bpf_map_lookup_elem(m->ifaces, &key, &val) &&
	       (val.flags & VNAT_IFACE_OUTSIDE);
}

/* Kernel-admitted TCP waits for the daemon (policy.h): say so when none runs. */
static void tell_no_daemon(const struct vnat_maps *m)
{
	struct vnat_config cfg;

	if (!vnat_maps__read_config(m, &cfg) && vnat_policy__tcp_needs_daemon(&cfg) &&
	    vnat_daemon_lock__holder() <= 0)
		vnat_info("vnat: admission: %s", VNAT_POLICY_NO_DAEMON);
}

/*
 * An interface of this call that vnat manages already is refused before
 * anything changes: the admission mode, a --flush, the prefixes (the
 * attach would refuse it too, but after them).
 */
static int check_unmanaged(const struct load_plan *pl, const struct vnat_maps *m)
{
	struct vnat_iface val;

	for (int n = 0; n < pl->n; n++) {
		__u32 key = pl->ifi[n].ifindex;

		if (uplink_managed(m, &pl->ifi[n], &pl->role[n]) ||
		    bpf_map_lookup_elem(m->ifaces, &key, &val))
			continue;
		vnat_err("load: %s is already managed by vnat (run 'vnat unload --iface %s' first)",
			 pl->ifi[n].name, pl->ifi[n].name);
		return -EEXIST;
	}
	return 0;
}

/* Kernel admission where the namespace has netfilter rules (policy.c). */
static int admission(const struct vnat_load_opts *o, const struct vnat_maps *m)
{
	struct vnat_policy p;
	int err, n;

	err = vnat_policy__probe(&p);
	if (!err)
		err = vnat_policy__check_leak(&p, o->admission, o->snat_addr || o->masquerade);
	if (err)
		return err;
	err = vnat_policy__apply(m, o->admission, &p);
	if (err < 0) {
		vnat_err("load: write vnat_config: %s", strerror(-err));
		return err;
	}
	if (o->admission == VNAT_ADMISSION_VNAT)
		vnat_info("vnat: admission: vnat (--admission vnat: the host's FORWARD and NAT "
			  "rules do not apply to the flows vnat carries)");
	else if (o->admission == VNAT_ADMISSION_KERNEL || p.rules)
		vnat_info("vnat: admission: kernel (%u nftables rules, %u drop-policy chains%s%s): "
			  "the host's firewall and NAT rules decide every new flow",
			  p.nft_rules, p.nft_drop_chains, p.legacy[0] ? ", legacy tables " : "",
			  p.legacy);
	else
		vnat_info("vnat: admission: vnat (no netfilter rules in this namespace)");
	tell_no_daemon(m);
	if (o->flush) {
		n = vnat_policy__flush(m);
		if (n > 0)
			vnat_maps__ucount_add(m, VNAT_UCOUNT_FLUSHED, n);
		vnat_info("vnat: %d admitted flow%s handed back to the kernel", n,
			  n == 1 ? "" : "s");
	}
	return 0;
}

/* Undo this call: every interface it attached, bridge ports included. */
static void detach_all(struct vnat_loader *l)
{
	struct vnat_iface val;

	for (int i = 0; i < l->n_attached; i++) {
		__u32 key = l->attached[i];

		if (!bpf_map_lookup_elem(l->maps.ifaces, &key, &val))
			vnat_datapath__detach(&l->maps, key, &val);
	}
}

static void report(const struct vnat_loader *l)
{
	struct vnat_iface val;

	for (int i = 0; i < l->n_attached; i++) {
		__u32 key = l->attached[i];
		const char *up;
		struct vnat_attachment a;

		if (bpf_map_lookup_elem(l->maps.ifaces, &key, &val))
			continue;
		vnat_datapath__query(key, &a);
		up = val.flags & VNAT_IFACE_OUTSIDE ? " (uplink)" : "";
		if (val.flags & VNAT_IFACE_BRIDGE)
			vnat_info("vnat: %s%s: bridge, tc ingress id %u, tc egress id %u", val.name,
				  up, a.tc_ingress_id, a.tc_egress_id);
		else if (val.flags & VNAT_IFACE_NO_XDP)
			vnat_info("vnat: %s%s: tc only (%s), tc ingress id %u, tc egress id %u",
				  val.name, up, vnat_hook__reason(val.flags), a.tc_ingress_id,
				  a.tc_egress_id);
		else
			vnat_info("vnat: %s%s: xdp id %u (%s), tc ingress id %u, tc egress id %u",
				  val.name, up, a.xdp_id,
				  a.xdp_mode == VNAT_MODE_SKB ? "skb" : "native", a.tc_ingress_id,
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
	int err, n;

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
		if (!err)
			err = check_unmanaged(&pl, &l.maps);
	} else {
		config_from_opts(&o, &ns, &pl, &cfg);
		err = vnat_maps__write_config(&l.maps, &cfg);
		if (!err)
			err = fill_from(&o, &l.maps);
	}
	/* Who admits flows, before any hook: the host's rules apply from the first packet. */
	if (!err)
		err = admission(&o, &l.maps);
	/* Scope before hooks: no guest packet may pass untranslated meanwhile. */
	if (!err)
		err = plan_prefixes(&pl, &l.maps);
	if (err)
		goto out_close;

	for (n = 0; n < pl.n; n++) {
		if (uplink_managed(&l.maps, &pl.ifi[n], &pl.role[n]))
			continue;
		err = vnat_loader__attach(&l, &pl.ifi[n], o.mode, &pl.role[n]);
		if (err)
			goto err_detach;
	}
	/* The bridges' ports and forwarding databases, as they are now. */
	err = vnat_sync__ports(&l, &pl.topo);
	if (err >= 0)
		err = vnat_sync__fdb(&l.maps, &pl.topo);
	if (err >= 0)
		err = vnat_sync__prefixes(&l.maps, NULL, 0);
	if (err < 0)
		goto err_detach;
	err = vnat_loader__pin(&l);
	if (err)
		goto err_detach;
	report(&l);
	/* Loaded all the same: the topology may be completed afterwards. */
	vnat_warnings__print_live(&l.maps, l.attached, l.n_attached);
	goto out_close;

err_detach:
	detach_all(&l);
out_close:
	vnat_loader__close(&l);
	return err;
}
