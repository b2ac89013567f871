// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vnat unload: remove exactly what vnat load added, and the pins at the end. */
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>
#include <bpf/bpf.h>
#include "args.h"
#include "cmds.h"
#include "datapath.h"
#include "instance.h"
#include "log.h"

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

static int unload_all(const struct vnat_maps *m)
{
	__u32 next;
	int err = 0;

	/* Always restart from the first key: unload_one deletes as it goes. */
	while (!bpf_map_get_next_key(m->ifaces, NULL, &next)) {
		int e = unload_one(m, next);

		if (e) {
			err = e;
			bpf_map_delete_elem(m->ifaces, &next);
		}
	}
	return err;
}

int cmd_unload(int argc, char **argv)
{
	struct vnat_unload_opts o;
	struct vnat_netns ns;
	struct vnat_maps m;
	__u32 ifindex;
	int err;

	err = vnat_args__parse_unload(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
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
	if (o.all) {
		err = unload_all(&m);
	} else {
		ifindex = if_nametoindex(o.iface);
		err = ifindex ? unload_one(&m, ifindex) : -ENODEV;
		if (!err)
			err = unload_bridge_ports(&m, ifindex);
		if (err == -ENOENT || err == -ENODEV)
			vnat_err("unload: %s: not managed by vnat (see 'vnat status')", o.iface);
	}
	if (!iface_count(&m)) {
		int e = vnat_maps__unpin(ns.pin_dir);

		if (e && !err) {
			vnat_err("unload: remove pins in %s: %s", ns.pin_dir, strerror(-e));
			err = e;
		}
	}
	vnat_maps__close(&m);
	return err;
}
