// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vnat unload: remove exactly what vnat load added, and the pins at the end. */
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "apply.h"
#include "args.h"
#include "cmds.h"
#include "ctnl.h"
#include "datapath.h"
#include "instance.h"
#include "iter.h"
#include "log.h"
#include "netns.h"
#include "stale.h"

static int count_one(__u32 ifindex, struct vnat_iface *val, void *ctx)
{
	(void)ifindex;
	(void)val;
	++*(int *)ctx;
	return 0;
}

static int iface_count(const struct vnat_maps *m)
{
	int n = 0;

	vnat_ifaces__each(m, count_one, &n);
	return n;
}

static int unload_one(const struct vnat_maps *m, __u32 ifindex)
{
	struct vnat_iface val;
	int err;

	if (bpf_map_lookup_elem(m->ifaces, &ifindex, &val))
		return -errno;
	err = vnat_datapath__detach(m, ifindex, &val);
	if (err)
		vnat_err("unload: detach xdp from %s: %s", val.name, strerror(-err));
	else
		vnat_info("vnat: %s: detached", val.name);
	return err;
}

/*
 * IFACE's entry: by its ifindex, or, when that device is gone (a bridge
 * libvirt deleted) or was created again, by the name it was loaded with.
 */
static __u32 managed_ifindex(const struct vnat_maps *m, const char *name)
{
	__u32 ifindex = if_nametoindex(name);
	struct vnat_iface val;

	if (ifindex && !bpf_map_lookup_elem(m->ifaces, &ifindex, &val))
		return ifindex;
	return vnat_ifaces__by_name(m, name);
}

/* How long the uplink keeps translating after a hand-over (see unload_all). */
#define VNAT_HANDOFF_GRACE_MS 1000

struct unload_walk {
	const struct vnat_maps *m;
	__u32 bridge; /* unload_port: whose ports */
	bool uplinks; /* unload_entry, detach_entry: the uplinks too */
	int err;
};

static int unload_port(__u32 ifindex, struct vnat_iface *val, void *ctx)
{
	struct unload_walk *w = ctx;

	if ((val->flags & VNAT_IFACE_AUTO) && val->master == w->bridge)
		w->err = unload_one(w->m, ifindex) ?: w->err;
	return 0;
}

/* The ports vnat attached for a bridge go with it. */
static int unload_bridge_ports(const struct vnat_maps *m, __u32 bridge)
{
	struct unload_walk w = { .m = m, .bridge = bridge };

	vnat_ifaces__each(m, unload_port, &w);
	return w.err;
}

static int unload_entry(__u32 ifindex, struct vnat_iface *val, void *ctx)
{
	struct unload_walk *w = ctx;

	if (!w->uplinks && (val->flags & VNAT_IFACE_OUTSIDE))
		return 0;
	if (unload_one(w->m, ifindex)) {
		w->err = -EIO;
		bpf_map_delete_elem(w->m->ifaces, &ifindex);
	}
	return 0;
}

/* Unload every managed interface but the uplinks (outside), or all. */
static int unload_pass(const struct vnat_maps *m, bool uplinks)
{
	struct unload_walk w = { .m = m, .uplinks = uplinks };

	vnat_ifaces__each(m, unload_entry, &w);
	return w.err;
}

/* Established translations continue on the kernel path (its conntrack). */
static void handoff(const struct vnat_maps *m, const char *more)
{
	int n = vnat_ctnl__handoff(m);

	if (n > 0)
		vnat_info("vnat: handed %d %sflow%s to the kernel's connection tracking", n, more,
			  n == 1 ? "" : "s");
	else if (n < 0)
		vnat_info("vnat: flows not handed to the kernel (%s): translated "
			  "connections may be reset",
			  strerror(-n));
}

static int detach_entry(__u32 ifindex, struct vnat_iface *val, void *ctx)
{
	struct unload_walk *w = ctx;

	if ((w->uplinks || !(val->flags & VNAT_IFACE_OUTSIDE)) &&
	    vnat_datapath__detach_hooks(w->m, ifindex, val))
		w->err = -EIO;
	return 0;
}

/* Take the hooks off every managed interface (uplinks too, or not). */
static int detach_all_hooks(const struct vnat_maps *m, bool uplinks)
{
	struct unload_walk w = { .m = m, .uplinks = uplinks };

	vnat_ifaces__each(m, detach_entry, &w);
	return w.err;
}

/*
 * Established connections continue on the kernel path: their conntrack
 * entries were written first (ctnl.c). The hooks still come off the inside
 * first, while every map entry stays, and the uplink keeps translating
 * replies in XDP for a moment: packets in flight finish on vnat's path
 * rather than racing the switch. Then the uplink's hooks go, and only then
 * the entries: a transmit port removed while an uplink program still runs
 * would make it hand a reply it already translated to the kernel, which
 * knows that flow by its outside address only (and rejects it).
 */
static int unload_all(const struct vnat_maps *m, bool flows)
{
	int err = detach_all_hooks(m, false);

	/*
	 * Flows opened (or TCP flows established) between the first hand-over
	 * and the inside hooks' removal: no new ones can start in vnat now.
	 * Those handed already are refused by ctnetlink (EEXIST) and skipped.
	 */
	if (flows) {
		handoff(m, "more ");
		if (vnat_maps__count_flows(m, IPPROTO_TCP) > 0)
			usleep(VNAT_HANDOFF_GRACE_MS * 1000);
	}
	err = detach_all_hooks(m, true) ?: err;
	return unload_pass(m, true) ?: err;
}

/*
 * An instance another vnat version loaded (some of this version's maps
 * are missing: pins from before an upgrade). Its hooks come off if its
 * interface table reads as this version's; its flows go to conntrack
 * only if its flow table does too (*flows).
 */
static int check_foreign(const struct vnat_maps *m, int missing, bool *flows)
{
	struct bpf_map_info info;

	vnat_info("vnat: %s was loaded by another vnat version (%d of this version's maps "
		  "missing): unloading it",
		  m->pin_dir, missing);
	if (m->ifaces < 0 || vnat_map_info(m->ifaces, &info) ||
	    info.value_size != sizeof(struct vnat_iface)) {
		vnat_err("unload: %s: its interface table is not this version's: unload it with "
			 "the vnat that loaded it, or take its programs off each interface by "
			 "hand ('tc qdisc del dev IF clsact', 'ip link set dev IF xdp off') and "
			 "remove that directory",
			 m->pin_dir);
		return -EPROTO;
	}
	*flows = m->ct >= 0 && m->mappings >= 0 && !vnat_map_info(m->ct, &info) &&
		 info.value_size == sizeof(struct vnat_ct_val);
	if (!*flows)
		vnat_info("vnat: its flow table is not this version's: the flows it translated are "
			  "not handed to the kernel (those connections may be reset)");
	return 0;
}

/* --stale: every namespace's leftovers, not only this one's. */
static int unload_stale(void)
{
	int n = vnat_bpffs__prepare();

	if (n)
		return n; /* said */
	n = vnat_stale__remove();
	if (n == -E2BIG)
		vnat_err("unload: --stale: too many network namespaces to tell which are gone; "
			 "nothing removed");
	else if (n < 0)
		vnat_err("unload: --stale: %s", strerror(-n));
	else if (!n)
		vnat_info("vnat: no stale pins");
	return n < 0 ? n : 0;
}

int cmd_unload(int argc, char **argv)
{
	struct vnat_unload_opts o;
	struct vnat_netns ns;
	struct vnat_maps m;
	bool flows = true;
	int err, missing;
	__u32 ifindex;

	err = vnat_args__parse_unload(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	if (o.stale)
		return unload_stale();
	err = vnat_instance__find_any(&ns, &m, &missing);
	if (!err && missing) {
		err = o.all ? check_foreign(&m, missing, &flows) : -EPROTO;
		if (err == -EPROTO && !o.all)
			vnat_err(
				"unload: %s was loaded by another vnat version: 'vnat unload --all' "
				"removes it",
				ns.pin_dir);
		if (err) {
			vnat_maps__close(&m);
			return err;
		}
	}
	if (err == -ENOENT) {
		if (o.all) {
			vnat_info("vnat: not loaded in this network namespace; nothing to do");
			return 0;
		}
		vnat_err("unload: %s: vnat is not loaded in this network namespace", o.iface);
		return err;
	}
	if (err)
		return err;
	/* Before the last hook goes, while vnat still carries the flows. */
	if (flows && (o.all || iface_count(&m) <= 1))
		handoff(&m, "");
	if (o.all) {
		err = unload_all(&m, flows);
	} else {
		ifindex = managed_ifindex(&m, o.iface);
		err = ifindex ? unload_one(&m, ifindex) : -ENODEV;
		if (!err)
			err = unload_bridge_ports(&m, ifindex);
		if (err == -ENOENT || err == -ENODEV)
			vnat_err("unload: %s: not managed by vnat (see 'vnat status')", o.iface);
	}
	if (!iface_count(&m)) {
		int e = vnat_maps__unpin(ns.pin_dir);

		vnat_apply__forget(&ns);
		if (e && !err) {
			vnat_err("unload: remove pins in %s: %s", ns.pin_dir, strerror(-e));
			err = e;
		}
	}
	vnat_maps__close(&m);
	return err;
}
