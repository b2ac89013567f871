// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The datapath's life cycle: load the skeleton (sharing an existing
 * instance's pinned maps when there is one), register and attach it to
 * interfaces, pin, close. Every attach step records what it did so a
 * failure half-way and `vnat unload` both undo precisely that.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "datapath.h"
#include "datapath_int.h"
#include "log.h"
#include "vnat.skel.h"

static struct bpf_map *skel_map(struct vnat *skel, size_t i)
{
	struct bpf_map *maps[VNAT_N_MAPS] = {
		skel->maps.vnat_stats,	  skel->maps.vnat_ifaces,   skel->maps.vnat_txports,
		skel->maps.vnat_config,	  skel->maps.vnat_prefixes, skel->maps.vnat_ct,
		skel->maps.vnat_mappings, skel->maps.vnat_ports,    skel->maps.vnat_gc,
		skel->maps.vnat_fdb,	  skel->maps.vnat_macmoves, skel->maps.vnat_gen,
		skel->maps.vnat_kegress,  skel->maps.vnat_kliberal, skel->maps.vnat_klibreq,
		skel->maps.vnat_ucount,
	};

	return maps[i];
}

/*
 * libbpf's reuse takes a pinned map as it is: one of another build (other
 * value size, flags) would only fail later, or be misread. Refuse it here.
 */
#define PROG_ACCESS (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)

static int map_mismatch(struct vnat_loader *l, size_t i)
{
	const struct bpf_map *want = skel_map(l->skel, i);
	struct bpf_map_info info;
	int err = vnat_map_info(*vnat_maps__slot(&l->maps, i), &info);

	if (err)
		return err;

	const struct {
		const char *what;
		__u32 have, need;
	} f[] = {
		{ "type", info.type, bpf_map__type(want) },
		{ "key size", info.key_size, bpf_map__key_size(want) },
		{ "value size", info.value_size, bpf_map__value_size(want) },
		/* The kernel makes devmaps read-only for programs itself. */
		{ "flags", info.map_flags & ~PROG_ACCESS, bpf_map__map_flags(want) & ~PROG_ACCESS },
		{ "max entries", info.max_entries,
		  vnat_maps__sized_by_user(i) ? info.max_entries : bpf_map__max_entries(want) },
	};

	for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		if (f[k].have == f[k].need)
			continue;
		vnat_err(k == 3 ? "load: pinned map %s/%s does not match this vnat build: %s %#x, "
				  "this build's %#x (run 'vnat unload --all' first)" :
				  "load: pinned map %s/%s does not match this vnat build: %s %u, "
				  "this build's %u (run 'vnat unload --all' first)",
			 l->pin_dir, vnat_map_names[i], f[k].what, f[k].have, f[k].need);
		return -EPROTO;
	}
	return 0;
}

static int reuse_pinned_maps(struct vnat_loader *l)
{
	int err = vnat_maps__open_pinned(l->pin_dir, &l->maps);

	if (err)
		return err;
	for (size_t i = 0; i < VNAT_N_MAPS; i++) {
		err = map_mismatch(l, i);
		if (err)
			return err;
		err = bpf_map__reuse_fd(skel_map(l->skel, i), *vnat_maps__slot(&l->maps, i));
		if (err) {
			vnat_err("load: pinned map %s/%s does not match this vnat build: %s "
				 "(run 'vnat unload --all' first)",
				 l->pin_dir, vnat_map_names[i], strerror(-err));
			return err;
		}
	}
	return 0;
}

static int own_map_fds(struct vnat_loader *l)
{
	for (size_t i = 0; i < VNAT_N_MAPS; i++)
		*vnat_maps__slot(&l->maps, i) = dup(bpf_map__fd(skel_map(l->skel, i)));
	snprintf(l->maps.pin_dir, sizeof(l->maps.pin_dir), "%s", l->pin_dir);
	errno = 0;
	l->maps.gen_mem = vnat_maps__map_gen(l->maps.gen);
	if (!l->maps.gen_mem) {
		int err = errno ? -errno : -EINVAL;

		vnat_err("load: cannot map vnat_gen: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* The flow, mapping and port tables all grow with the flow count. */
static void size_flow_tables(struct vnat *skel, uint32_t max_flows)
{
	bpf_map__set_max_entries(skel->maps.vnat_ct, max_flows);
	bpf_map__set_max_entries(skel->maps.vnat_mappings, max_flows);
	bpf_map__set_max_entries(skel->maps.vnat_ports, max_flows);
}

int vnat_loader__open(struct vnat_loader *l, const char *pin_dir, uint32_t max_flows)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts, .prog_name = VNAT_XDP_PROG_NAME);
	struct stat st;
	int err;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < VNAT_N_MAPS; i++)
		*vnat_maps__slot(&l->maps, i) = -1;
	snprintf(l->pin_dir, sizeof(l->pin_dir), "%s", pin_dir ? pin_dir : "");

	l->skel = vnat__open();
	if (!l->skel) {
		err = -errno;
		vnat_err("load: cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	l->reused = l->pin_dir[0] && !stat(l->pin_dir, &st);
	if (!l->reused)
		size_flow_tables(l->skel, max_flows);
	if (l->reused) {
		err = reuse_pinned_maps(l);
		if (err)
			goto err_close;
	}
	err = vnat__load(l->skel);
	if (err) {
		vnat_err("load: the kernel refused vnat's BPF programs: %s "
			 "(run with -v for the verifier log)",
			 strerror(-err));
		goto err_close;
	}
	/* The counters' array element exists (zeroed) from the start. */
	if (!l->reused) {
		err = own_map_fds(l);
		if (err)
			goto err_close;
	}
	xopts.obj = l->skel->obj;
	l->xdp = xdp_program__create(&xopts);
	err = libxdp_get_error(l->xdp);
	if (err) {
		l->xdp = NULL;
		vnat_err("load: libxdp cannot use the XDP program: %s", strerror(-err));
		goto err_close;
	}
	return 0;

err_close:
	vnat_loader__close(l);
	return err;
}

void vnat_loader__close(struct vnat_loader *l)
{
	xdp_program__close(l->xdp);
	l->xdp = NULL;
	vnat__destroy(l->skel);
	l->skel = NULL;
	vnat_maps__close(&l->maps);
}

static void iface_value(const struct vnat_iface_info *ifi, enum vnat_xdp_mode mode,
			const struct vnat_role *role, struct vnat_iface *val)
{
	memset(val, 0, sizeof(*val));
	val->flags = role->flags;
	val->master = role->master;
	val->port_state = role->port_state;
	memcpy(val->mac, ifi->mac, sizeof(val->mac));
	val->xdp_mode = mode;
	snprintf(val->name, sizeof(val->name), "%s", ifi->name);
}

int vnat_loader__register(struct vnat_loader *l, const struct vnat_iface_info *ifi,
			  enum vnat_xdp_mode mode, const struct vnat_role *role)
{
	struct bpf_devmap_val tx = { .ifindex = ifi->ifindex };
	struct vnat_iface val, old;
	__u32 key = ifi->ifindex;
	int err;

	iface_value(ifi, mode, role, &val);
	if (!bpf_map_lookup_elem(l->maps.ifaces, &key, &old)) {
		vnat_err("load: %s is already managed by vnat (run 'vnat unload --iface %s' "
			 "first)",
			 ifi->name, ifi->name);
		return -EEXIST;
	}
	if (bpf_map_update_elem(l->maps.ifaces, &key, &val, BPF_NOEXIST) ||
	    bpf_map_update_elem(l->maps.txports, &key, &tx, BPF_ANY)) {
		err = -errno;
		vnat_err("load: register %s in vnat's maps: %s", ifi->name, strerror(-err));
		bpf_map_delete_elem(l->maps.txports, &key);
		bpf_map_delete_elem(l->maps.ifaces, &key);
		return err;
	}
	/* A new egress: cached next hops decided without it (fib.h). */
	return vnat_maps__bump_gen(&l->maps);
}

/*
 * Map entries first (the programs need them the moment they run), then
 * XDP, then tc. Any failure undoes every step taken for this interface.
 */
int vnat_loader__attach(struct vnat_loader *l, const struct vnat_iface_info *ifi,
			enum vnat_xdp_mode mode, const struct vnat_role *role)
{
	__u32 key = ifi->ifindex;
	struct vnat_iface val;
	int err;

	err = vnat_loader__register(l, ifi, mode, role);
	if (err)
		return err;
	iface_value(ifi, mode, role, &val);
	if (!(role->flags & (VNAT_IFACE_BRIDGE | VNAT_IFACE_NO_XDP))) {
		bool native;

		err = vnat_hooks__attach_xdp(l, ifi, mode, role->flags & VNAT_IFACE_AUTO, &native);
		if (err)
			goto err_undo;
		val.flags |= VNAT_IFACE_XDP;
		/* A driver without native XDP is unlikely to take XDP frames either. */
		if (!native)
			val.flags &= ~VNAT_IFACE_XDP_TX;
	}
	err = vnat_hooks__attach_tc(l, ifi, &val);
	if (err)
		goto err_undo;
	if (bpf_map_update_elem(l->maps.ifaces, &key, &val, BPF_EXIST)) {
		err = -errno;
		goto err_undo;
	}
	if (l->n_attached < VNAT_MAX_IFACES)
		l->attached[l->n_attached++] = key;
	return 0;

err_undo:
	vnat_datapath__detach(&l->maps, ifi->ifindex, &val);
	return err;
}

int vnat_loader__pin(struct vnat_loader *l)
{
	char path[256];
	int err;

	if (!l->pin_dir[0] || l->reused)
		return 0;
	if (mkdir(VNAT_PIN_ROOT, 0700) && errno != EEXIST)
		goto err_mkdir;
	if (mkdir(l->pin_dir, 0700) && errno != EEXIST)
		goto err_mkdir;
	for (size_t i = 0; i < VNAT_N_MAPS; i++) {
		vnat_maps__pin_path(path, sizeof(path), l->pin_dir, vnat_map_names[i]);
		err = bpf_obj_pin(*vnat_maps__slot(&l->maps, i), path) ? -errno : 0;
		if (err) {
			vnat_err("load: pin %s: %s", path, strerror(-err));
			vnat_maps__unpin(l->pin_dir);
			return err;
		}
	}
	return 0;

err_mkdir:
	err = -errno;
	vnat_err("load: create %s: %s", l->pin_dir, strerror(-err));
	return err;
}
