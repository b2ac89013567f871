// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Topology mirror: from rtnetlink dumps to vnat_ifaces and vnat_fdb. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <arpa/inet.h>
#include <net/if.h>
#include "addrs.h"
#include "log.h"
#include "iter.h"
#include "sync.h"

/* After changes to the maps: flows' cached next hops may depend on them. */
static int bump(const struct vnat_maps *m, int changes)
{
	int err = vnat_maps__bump_gen(m);

	return err ? err : changes;
}

static bool managed(const struct vnat_maps *m, uint32_t ifindex, struct vnat_iface *val)
{
	return !bpf_map_lookup_elem(m->ifaces, &ifindex, val);
}

/* A port's own flags, kept current by the sync. */
static uint32_t port_flags(const struct vnat_link *l)
{
	uint32_t f = VNAT_IFACE_PORT | VNAT_IFACE_AUTO;

	if (l->isolated)
		f |= VNAT_IFACE_ISOLATED;
	if (l->reflect)
		f |= VNAT_IFACE_REFLECT;
	return f;
}

/*
 * The hook flags for link under a --hook choice; one the endpoint refuses
 * (--hook xdp on a tap, or on a veth whose peer cannot take it) falls back
 * to tc, and we say so: the check has named the reason.
 */
static void hook_or_tc(const struct vnat_link *link, uint32_t hook, const char *what,
		       uint32_t *flags)
{
	if (!vnat_link__check_hook(link, hook, what, flags))
		return;
	vnat_info("%s %s: attaching vnat's tc programs only (no XDP)", what, link->name);
	*flags |= vnat_link__hook_flags(link, VNAT_IFACE_HOOK_TC) & ~VNAT_IFACE_HOOK_TC;
}

static int attach_port(struct vnat_loader *l, const struct vnat_link *link,
		       const struct vnat_iface *bridge)
{
	struct vnat_role role = {
		.flags = port_flags(link),
		.master = link->master,
		.port_state = link->port_state,
	};
	struct vnat_iface_info ifi = { .ifindex = link->ifindex };

	/*
	 * A port runs where its bridge's --hook says (kept in the bridge's
	 * flags); one that --hook xdp cannot serve (a tap, a veth whose peer
	 * sends partial checksums or drops XDP frames) runs tc, and we say so.
	 */
	hook_or_tc(link, bridge->flags, "bridge port", &role.flags);

	snprintf(ifi.name, sizeof(ifi.name), "%s", link->name);
	memcpy(ifi.mac, link->mac, sizeof(ifi.mac));
	return vnat_loader__attach(l, &ifi, bridge->xdp_mode, &role);
}

/* A managed port: keep its STP state and flags current. */
static int update_port(const struct vnat_maps *m, const struct vnat_link *link,
		       struct vnat_iface *val)
{
	uint32_t keep = val->flags & ~(VNAT_IFACE_ISOLATED | VNAT_IFACE_REFLECT);
	uint32_t flags = keep | (port_flags(link) & (VNAT_IFACE_ISOLATED | VNAT_IFACE_REFLECT));

	if (val->port_state == link->port_state && val->flags == flags)
		return 0;
	val->port_state = link->port_state;
	val->flags = flags;
	return bpf_map_update_elem(m->ifaces, &link->ifindex, val, BPF_EXIST) ? -errno : 1;
}

struct sync_walk {
	struct vnat_loader *l;
	const struct vnat_maps *m;
	const struct vnat_topo *t;
	int changes;
};

static int release_if_stale(__u32 ifindex, struct vnat_iface *val, void *ctx)
{
	struct sync_walk *w = ctx;
	const struct vnat_link *link;

	if (!(val->flags & VNAT_IFACE_AUTO))
		return 0;
	link = vnat_topo__link(w->t, ifindex);
	if (link && link->is_port && link->master == val->master)
		return 0;
	vnat_datapath__detach(w->m, ifindex, val);
	vnat_info("vnat: %s: left bridge, released", val->name);
	w->changes++;
	return 0;
}

/* Ports vnat manages whose link is gone or no longer in their bridge. */
static int release_stale_ports(const struct vnat_maps *m, const struct vnat_topo *t)
{
	struct sync_walk w = { .m = m, .t = t };

	vnat_ifaces__each(m, release_if_stale, &w);
	return w.changes;
}

static int refresh_mac(__u32 ifindex, struct vnat_iface *val, void *ctx)
{
	struct sync_walk *w = ctx;
	const struct vnat_link *link = vnat_topo__link(w->t, ifindex);

	if (!link || !memcmp(val->mac, link->mac, sizeof(val->mac)))
		return 0;
	memcpy(val->mac, link->mac, sizeof(val->mac));
	if (!bpf_map_update_elem(w->m->ifaces, &ifindex, val, BPF_EXIST))
		w->changes++;
	return 0;
}

/*
 * Interface addresses change under vnat: a bridge without an address of
 * its own takes its lowest port's MAC as ports come and go.
 */
static int refresh_macs(const struct vnat_maps *m, const struct vnat_topo *t)
{
	struct sync_walk w = { .m = m, .t = t };

	vnat_ifaces__each(m, refresh_mac, &w);
	return w.changes;
}

/* Role bits that survive a re-creation; the hook's result is recomputed. */
#define REATTACH_KEEP (VNAT_IFACE_INSIDE | VNAT_IFACE_OUTSIDE)
#define HOOK_CHOICE (VNAT_IFACE_HOOK_TC | VNAT_IFACE_HOOK_AUTO | VNAT_IFACE_HOOK_XDP)

static int reattach_one(struct vnat_loader *l, __u32 old, const struct vnat_iface *val,
			const struct vnat_link *link)
{
	struct vnat_role role = { .flags = val->flags & REATTACH_KEEP };
	struct vnat_iface_info ifi = { .ifindex = link->ifindex };
	struct vnat_config cfg;
	int err;

	if (vnat_link__is_bridge(link))
		role.flags |= VNAT_IFACE_BRIDGE;
	/* The --hook it was loaded with; one the new device refuses falls back to tc. */
	hook_or_tc(link, val->flags & HOOK_CHOICE, "interface", &role.flags);
	snprintf(ifi.name, sizeof(ifi.name), "%s", link->name);
	memcpy(ifi.mac, link->mac, sizeof(ifi.mac));
	/* The old device took its hooks with it: only the entries remain. */
	vnat_datapath__detach(&l->maps, old, val);
	err = vnat_loader__attach(l, &ifi, val->xdp_mode, &role);
	if (err)
		return err;
	/* --out named the old ifindex: translate on the new one. */
	if (!vnat_maps__read_config(&l->maps, &cfg) && cfg.out_ifindex == old) {
		cfg.out_ifindex = link->ifindex;
		err = vnat_maps__write_config(&l->maps, &cfg);
	}
	vnat_info("vnat: %s: created again (ifindex %u, was %u), attached", link->name,
		  link->ifindex, old);
	return err;
}

static int reattach_if_recreated(__u32 ifindex, struct vnat_iface *val, void *ctx)
{
	struct sync_walk *w = ctx;
	const struct vnat_link *link;
	struct vnat_iface other;

	if ((val->flags & VNAT_IFACE_AUTO) || vnat_topo__link(w->t, ifindex))
		return 0;
	link = vnat_topo__link_by_name(w->t, val->name);
	if (!link || managed(w->m, link->ifindex, &other))
		return 0;
	/* One that cannot be attached must not stop the others. */
	if (!reattach_one(w->l, ifindex, val, link))
		w->changes++;
	return 0;
}

int vnat_sync__reattach(struct vnat_loader *l, const struct vnat_topo *t)
{
	struct sync_walk w = { .l = l, .m = &l->maps, .t = t };

	vnat_ifaces__each(&l->maps, reattach_if_recreated, &w);
	return w.changes;
}

int vnat_sync__ports(struct vnat_loader *l, const struct vnat_topo *t)
{
	const struct vnat_maps *m = &l->maps;
	int changes = release_stale_ports(m, t) + refresh_macs(m, t);

	for (int i = 0; i < t->n_links; i++) {
		const struct vnat_link *link = &t->links[i];
		struct vnat_iface bridge, val;
		int err;

		if (!link->is_port || !managed(m, link->master, &bridge) ||
		    !(bridge.flags & VNAT_IFACE_BRIDGE))
			continue;
		if (managed(m, link->ifindex, &val)) {
			err = update_port(m, link, &val);
		} else {
			/* One port that cannot be attached must not stop the others. */
			err = attach_port(l, link, &bridge) ? 0 : 1;
			if (err)
				vnat_info("vnat: %s: port of a managed bridge, attached",
					  link->name);
		}
		if (err < 0)
			return err;
		changes += err;
	}
	return changes ? bump(m, changes) : 0;
}

static __u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* A MAC the datapath saw move between ports too often (seed 002). */
static bool is_duplicate(const struct vnat_maps *m, const struct vnat_fdb_key *k, __u64 now)
{
	struct vnat_macmove mv;

	return !bpf_map_lookup_elem(m->macmoves, k, &mv) && mv.moves >= VNAT_DUP_MOVES &&
	       now - mv.last_move_ns < VNAT_DUP_HOLD_NS;
}

/* Is this kernel FDB entry one vnat mirrors, and for which port? */
static bool wanted(const struct vnat_maps *m, const struct vnat_fdb_entry *e, __u64 now,
		   struct vnat_fdb_key *k)
{
	struct vnat_iface bridge, port;

	if (!vnat_fdb__mirrorable(e) || !managed(m, e->bridge, &bridge) ||
	    !(bridge.flags & VNAT_IFACE_BRIDGE) || !managed(m, e->port, &port) ||
	    !(port.flags & VNAT_IFACE_PORT) || port.master != e->bridge)
		return false;
	memset(k, 0, sizeof(*k));
	k->bridge = e->bridge;
	memcpy(k->mac, e->mac, sizeof(k->mac));
	return !is_duplicate(m, k, now);
}

static bool in_topology(const struct vnat_maps *m, const struct vnat_topo *t,
			const struct vnat_fdb_key *key, const struct vnat_fdb_val *val, __u64 now)
{
	struct vnat_fdb_key k;

	for (int i = 0; i < t->n_fdb; i++)
		if (wanted(m, &t->fdb[i], now, &k) && !memcmp(&k, key, sizeof(k)) &&
		    t->fdb[i].port == val->port)
			return true;
	return false;
}

struct fdb_walk {
	const struct vnat_maps *m;
	const struct vnat_topo *t;
	__u64 now;
	int changes;
};

/* Entries that aged out, moved, or belong to a duplicate MAC. */
static int drop_if_gone(const void *key, void *val, void *ctx)
{
	struct fdb_walk *w = ctx;

	if (in_topology(w->m, w->t, key, val, w->now))
		return 0;
	if (!bpf_map_delete_elem(w->m->fdb, key))
		w->changes++;
	return 0;
}

int vnat_sync__fdb(const struct vnat_maps *m, const struct vnat_topo *t)
{
	struct fdb_walk w = { .m = m, .t = t, .now = monotonic_ns() };
	__u64 now = w.now;
	struct vnat_fdb_key k;
	struct vnat_fdb_val val;
	int changes, err;

	err = vnat_map__each(m->fdb, drop_if_gone, &w);
	if (err)
		return err;
	changes = w.changes;
	for (int i = 0; i < t->n_fdb; i++) {
		struct vnat_fdb_val nv = { .port = t->fdb[i].port, .refreshed_ns = now };

		if (!wanted(m, &t->fdb[i], now, &k))
			continue;
		if (!bpf_map_lookup_elem(m->fdb, &k, &val) && val.port == nv.port)
			continue;
		if (bpf_map_update_elem(m->fdb, &k, &nv, BPF_ANY))
			return -errno;
		changes++;
	}
	return changes ? bump(m, changes) : 0;
}

struct prefix_set {
	struct vnat_prefix_key key[VNAT_MAX_PREFIXES];
	struct vnat_prefix_val val[VNAT_MAX_PREFIXES];
	int n;
};

static void prefix_add(struct prefix_set *ps, uint32_t addr, uint8_t len, uint32_t kind)
{
	uint32_t mask = len ? htonl(0xffffffffu << (32 - len)) : 0;

	for (int i = 0; i < ps->n; i++)
		if (ps->key[i].addr == (addr & mask) && ps->key[i].prefixlen == len)
			return;
	if (ps->n == VNAT_MAX_PREFIXES)
		return;
	ps->key[ps->n].prefixlen = len;
	ps->key[ps->n].addr = addr & mask;
	ps->val[ps->n].kind = kind;
	ps->n++;
}

static bool is_inside_iface(const struct vnat_maps *m, const char *ifname, const uint32_t *inside,
			    int n_inside)
{
	struct vnat_iface val;
	uint32_t ifindex = if_nametoindex(ifname);

	for (int i = 0; i < n_inside; i++)
		if (inside[i] == ifindex)
			return true;
	return ifindex && managed(m, ifindex, &val) && (val.flags & VNAT_IFACE_INSIDE);
}

static int desired_prefixes(const struct vnat_maps *m, const struct vnat_config *cfg,
			    const uint32_t *inside, int n_inside, struct prefix_set *ps)
{
	static struct vnat_addr addrs[VNAT_MAX_ADDRS];
	bool nat = (cfg->flags & VNAT_CFG_NAT) && !(cfg->flags & VNAT_CFG_FROM);
	int n = vnat_addrs__list(addrs, VNAT_MAX_ADDRS);

	if (n < 0)
		return n;
	ps->n = 0;
	for (int i = 0; i < n; i++) {
		prefix_add(ps, addrs[i].addr, 32, VNAT_PREFIX_HOST);
		if (nat && is_inside_iface(m, addrs[i].ifname, inside, n_inside))
			prefix_add(ps, addrs[i].addr, addrs[i].prefixlen, VNAT_PREFIX_INSIDE);
	}
	return 0;
}

static bool prefix_wanted(const struct prefix_set *ps, const struct vnat_prefix_key *k,
			  const struct vnat_prefix_val *v, const struct vnat_config *cfg)
{
	/* --from prefixes are the operator's: never removed by a resync. */
	if ((cfg->flags & VNAT_CFG_FROM) && v->kind == VNAT_PREFIX_INSIDE)
		return true;
	for (int i = 0; i < ps->n; i++)
		if (!memcmp(&ps->key[i], k, sizeof(*k)) && ps->val[i].kind == v->kind)
			return true;
	return false;
}

struct prefix_walk {
	const struct vnat_maps *m;
	const struct prefix_set *ps;
	const struct vnat_config *cfg;
	int changes;
};

static int drop_if_unwanted(const void *key, void *val, void *ctx)
{
	struct prefix_walk *w = ctx;

	if (prefix_wanted(w->ps, key, val, w->cfg))
		return 0;
	if (!bpf_map_delete_elem(w->m->prefixes, key))
		w->changes++;
	return 0;
}

int vnat_sync__prefixes(const struct vnat_maps *m, const uint32_t *inside, int n_inside)
{
	static struct prefix_set ps;
	struct prefix_walk w = { .m = m, .ps = &ps };
	struct vnat_prefix_val val;
	struct vnat_config cfg;
	int changes, err;

	err = vnat_maps__read_config(m, &cfg);
	if (!err)
		err = desired_prefixes(m, &cfg, inside, n_inside, &ps);
	if (err)
		return err;
	w.cfg = &cfg;
	err = vnat_map__each(m->prefixes, drop_if_unwanted, &w);
	if (err)
		return err;
	changes = w.changes;
	for (int i = 0; i < ps.n; i++) {
		if (!bpf_map_lookup_elem(m->prefixes, &ps.key[i], &val) &&
		    val.kind == ps.val[i].kind)
			continue;
		if (bpf_map_update_elem(m->prefixes, &ps.key[i], &ps.val[i], BPF_ANY))
			return -errno;
		changes++;
	}
	return changes ? bump(m, changes) : 0;
}

int vnat_sync__masquerade(const struct vnat_maps *m)
{
	static struct vnat_addr addrs[VNAT_MAX_ADDRS];
	char name[IF_NAMESIZE], was[INET_ADDRSTRLEN], now[INET_ADDRSTRLEN];
	struct vnat_config cfg;
	uint32_t addr = 0;
	int n, err;

	err = vnat_maps__read_config(m, &cfg);
	if (err || !(cfg.flags & VNAT_CFG_MASQUERADE) || !if_indextoname(cfg.out_ifindex, name))
		return err;
	n = vnat_addrs__list(addrs, VNAT_MAX_ADDRS);
	for (int i = 0; i < n; i++) {
		if (strcmp(addrs[i].ifname, name))
			continue;
		if (addrs[i].addr == cfg.snat_addr)
			return 0; /* still there: keep it */
		if (!addr)
			addr = addrs[i].addr;
	}
	if (!addr || addr == cfg.snat_addr)
		return 0;
	/* New flows take the new address; old ones cannot get replies anyway. */
	inet_ntop(AF_INET, &cfg.snat_addr, was, sizeof(was));
	inet_ntop(AF_INET, &addr, now, sizeof(now));
	cfg.snat_addr = addr;
	err = vnat_maps__write_config(m, &cfg);
	if (!err)
		vnat_info("vnat: masquerade: %s changed address %s -> %s", name, was, now);
	return err ? err : 1;
}
