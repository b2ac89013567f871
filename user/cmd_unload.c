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
#include "log.h"
#include "netns.h"
#include "stale.h"

static int iface_count(const struct vnat_maps *m)
{
	__u32 key, next;
	int n = 0;

	for (int err = bpf_map_get_next_key(m->ifaces, NULL, &next); !err;
	     err = bpf_map_get_next_key(m->ifaces, &key, &next)) {
		key = next;
		n++;
	}
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
	__u32 key = if_nametoindex(name), next;
	struct vnat_iface val;

	if (key && !bpf_map_lookup_elem(m->ifaces, &key, &val))
		return key;
	for (int e = bpf_map_get_next_key(m->ifaces, NULL, &next); !e;
	     e = bpf_map_get_next_key(m->ifaces, &key, &next)) {
		key = next;
		if (!bpf_map_lookup_elem(m->ifaces, &key, &val) && !(val.flags & VNAT_IFACE_AUTO) &&
		    !strcmp(val.name, name))
			return key;
	}
	return 0;
}

/* How long the uplink keeps translating after a hand-over (see unload_all). */
#define VNAT_HANDOFF_GRACE_MS 1000

/* The ports vnat attached for a bridge go with it. */
static int unload_bridge_ports(const struct vnat_maps *m, __u32 bridge)
{
	struct vnat_iface val;
	__u32 key, next;
	int err = 0;
	bool again = true;

	while (again) {
		again = false;
		for (int e = bpf_map_get_next_key(m->ifaces, NULL, &next); !e;
		     e = bpf_map_get_next_key(m->ifaces, &key, &next)) {
			key = next;
			if (bpf_map_lookup_elem(m->ifaces, &key, &val) ||
			    !(val.flags & VNAT_IFACE_AUTO) || val.master != bridge)
				continue;
			err = unload_one(m, key) ?: err;
			again = true;
			break;
		}
	}
	return err;
}

/* Unload every managed interface but the uplinks (outside), or all. */
static int unload_pass(const struct vnat_maps *m, bool uplinks)
{
	struct vnat_iface val;
	__u32 key, next;
	int err = 0;
	bool again = true;

	/* Restart from the first key after each removal: it deletes as it goes. */
	while (again) {
		again = false;
		for (int e = bpf_map_get_next_key(m->ifaces, NULL, &next); !e;
		     e = bpf_map_get_next_key(m->ifaces, &key, &next)) {
			key = next;
			if (bpf_map_lookup_elem(m->ifaces, &key, &val) ||
			    (!uplinks && (val.flags & VNAT_IFACE_OUTSIDE)))
				continue;
			if (unload_one(m, key)) {
				err = -EIO;
				bpf_map_delete_elem(m->ifaces, &key);
			}
			again = true;
			break;
		}
	}
	return err;
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

/* Take the hooks off every managed interface (uplinks too, or not). */
static int detach_all_hooks(const struct vnat_maps *m, const __u32 *keys, int n, bool uplinks)
{
	struct vnat_iface val;
	int err = 0;

	for (int i = 0; i < n; i++) {
		if (!bpf_map_lookup_elem(m->ifaces, &keys[i], &val) &&
		    (uplinks || !(val.flags & VNAT_IFACE_OUTSIDE)) &&
		    vnat_datapath__detach_hooks(m, keys[i], &val))
			err = -EIO;
	}
	return err;
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
static int unload_all(const struct vnat_maps *m)
{
	__u32 keys[VNAT_MAX_IFACES], key, next;
	int err, n = 0;

	/* Keys first: updating a hash entry moves it, which would upset the walk. */
	for (int e = bpf_map_get_next_key(m->ifaces, NULL, &next); !e && n < VNAT_MAX_IFACES;
	     e = bpf_map_get_next_key(m->ifaces, &key, &next))
		keys[n++] = key = next;
	err = detach_all_hooks(m, keys, n, false);
	/*
	 * Flows opened (or TCP flows established) between the first hand-over
	 * and the inside hooks' removal: no new ones can start in vnat now.
	 * Those handed already are refused by ctnetlink (EEXIST) and skipped.
	 */
	handoff(m, "more ");
	if (vnat_maps__count_flows(m, IPPROTO_TCP) > 0)
		usleep(VNAT_HANDOFF_GRACE_MS * 1000);
	err = detach_all_hooks(m, keys, n, true) ?: err;
	return unload_pass(m, true) ?: err;
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
	int err;
	__u32 ifindex;

	err = vnat_args__parse_unload(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	if (o.verbose)
		vnat_log_init(vnat_opts.json, (vnat_opts.verbose = true));
	if (o.stale)
		return unload_stale();
	err = vnat_instance__find(&ns, &m);
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
	if (o.all || iface_count(&m) <= 1)
		handoff(&m, "");
	if (o.all) {
		err = unload_all(&m);
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
