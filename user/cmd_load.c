// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vnat load: validate everything, then attach; on any failure undo it all. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "args.h"
#include "cmds.h"
#include "datapath.h"
#include "iface.h"
#include "instance.h"
#include "log.h"

static int check_config(const struct vnat_config *have, const struct vnat_load_opts *o)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (!o->snat_addr || o->snat_addr == have->snat_addr)
		return 0;
	inet_ntop(AF_INET, &have->snat_addr, a, sizeof(a));
	inet_ntop(AF_INET, &o->snat_addr, b, sizeof(b));
	vnat_err("load: vnat already runs here with --snat %s, not %s "
		 "(run 'vnat unload --all' to change it)",
		 have->snat_addr ? a : "(none)", b);
	return -EINVAL;
}

static void detach_all(struct vnat_loader *l, const struct vnat_iface_info *ifi, int n)
{
	struct vnat_iface val;

	for (int i = 0; i < n; i++) {
		__u32 key = ifi[i].ifindex;

		if (!bpf_map_lookup_elem(l->maps.ifaces, &key, &val))
			vnat_datapath__detach(&l->maps, key, &val);
	}
}

static void report(const struct vnat_loader *l, const struct vnat_iface_info *ifi, int n)
{
	for (int i = 0; i < n; i++) {
		struct vnat_attachment a;

		vnat_datapath__query(ifi[i].ifindex, &a);
		vnat_info("vnat: %s: xdp id %u (%s), tc ingress id %u, tc egress id %u",
			  ifi[i].name, a.xdp_id, a.xdp_mode == VNAT_MODE_SKB ? "skb" : "native",
			  a.tc_ingress_id, a.tc_egress_id);
	}
	vnat_info("vnat: maps pinned in %s", l->pin_dir);
}

int cmd_load(int argc, char **argv)
{
	struct vnat_iface_info ifi[VNAT_MAX_LOAD_IFACES];
	struct vnat_config cfg = {};
	struct vnat_load_opts o;
	struct vnat_loader l;
	struct vnat_netns ns;
	struct vnat_maps probe;
	int err, i, n = 0;

	err = vnat_args__parse_load(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	for (i = 0; i < o.n_ifaces; i++) {
		err = vnat_iface__resolve(o.ifaces[i], &ifi[i]);
		if (err)
			return err;
	}
	err = vnat_instance__find(&ns, &probe);
	if (err && err != -ENOENT)
		return err;
	if (!err)
		vnat_maps__close(&probe); /* the loader reopens the same pins */

	err = vnat_loader__open(&l, ns.pin_dir);
	if (err)
		return err;
	if (l.reused) {
		err = vnat_maps__read_config(&l.maps, &cfg);
		if (!err)
			err = check_config(&cfg, &o);
	} else {
		cfg.netns_cookie = ns.cookie;
		cfg.snat_addr = o.snat_addr;
		cfg.loaded_at = time(NULL);
		err = vnat_maps__write_config(&l.maps, &cfg);
	}
	if (err)
		goto out_close;

	for (n = 0; n < o.n_ifaces; n++) {
		err = vnat_loader__attach(&l, &ifi[n], o.mode);
		if (err)
			goto err_detach;
	}
	err = vnat_loader__pin(&l);
	if (err)
		goto err_detach;
	report(&l, ifi, n);
	goto out_close;

err_detach:
	detach_all(&l, ifi, n);
out_close:
	vnat_loader__close(&l);
	return err;
}
