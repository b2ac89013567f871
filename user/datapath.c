// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The datapath's life cycle: load the skeleton (sharing an existing
 * instance's pinned maps when there is one), attach it to interfaces, pin,
 * and the exact reverse. Every attach step records what it did so a failure
 * half-way and `vnat unload` both undo precisely that.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "datapath.h"
#include "log.h"
#include "vnat.skel.h"

#define XDP_PROG_NAME "xdp_vnat_fwd"

_Static_assert(sizeof(struct vnat_iface) == 32, "vnat_iface layout");
_Static_assert(sizeof(struct vnat_fdb_key) == 12, "vnat_fdb_key layout");
_Static_assert(sizeof(struct vnat_fdb_val) == 16, "vnat_fdb_val layout");
_Static_assert(sizeof(struct vnat_config) == 64, "vnat_config layout");
_Static_assert(sizeof(struct vnat_ct_key) == 16, "vnat_ct_key layout");
_Static_assert(sizeof(struct vnat_nh) == 32, "vnat_nh layout");
_Static_assert(sizeof(struct vnat_ct_val) == 136, "vnat_ct_val layout");
_Static_assert(sizeof(struct vnat_map_key) == 8, "vnat_map_key layout");
_Static_assert(sizeof(struct vnat_rev_key) == 4, "vnat_rev_key layout");
_Static_assert(sizeof(struct vnat_counter) == 16, "vnat_counter layout");
_Static_assert(sizeof(struct vnat_stats) == VNAT_STAT_MAX * sizeof(struct vnat_counter),
	       "vnat_stats: one vnat_counter per enum vnat_stat");

static const char *const map_names[] = { "vnat_stats",	  "vnat_ifaces",   "vnat_txports",
					 "vnat_config",	  "vnat_prefixes", "vnat_ct",
					 "vnat_mappings", "vnat_ports",	   "vnat_gc",
					 "vnat_fdb",	  "vnat_macmoves", "vnat_gen",
					 "vnat_kegress" };
#define N_MAPS (sizeof(map_names) / sizeof(map_names[0]))

static int *map_slot(struct vnat_maps *m, size_t i)
{
	int *slots[N_MAPS] = { &m->stats,    &m->ifaces,   &m->txports, &m->config, &m->prefixes,
			       &m->ct,	     &m->mappings, &m->ports,	&m->gc,	    &m->fdb,
			       &m->macmoves, &m->gen,	   &m->kegress };

	return slots[i];
}

static struct bpf_map *skel_map(struct vnat *skel, size_t i)
{
	struct bpf_map *maps[N_MAPS] = {
		skel->maps.vnat_stats,	  skel->maps.vnat_ifaces,   skel->maps.vnat_txports,
		skel->maps.vnat_config,	  skel->maps.vnat_prefixes, skel->maps.vnat_ct,
		skel->maps.vnat_mappings, skel->maps.vnat_ports,    skel->maps.vnat_gc,
		skel->maps.vnat_fdb,	  skel->maps.vnat_macmoves, skel->maps.vnat_gen,
		skel->maps.vnat_kegress,
	};

	return maps[i];
}

static void pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* The flow tables' size is --max-flows of the load that created them. */
static bool sized_by_user(size_t i)
{
	return !strcmp(map_names[i], "vnat_ct") || !strcmp(map_names[i], "vnat_mappings") ||
	       !strcmp(map_names[i], "vnat_ports");
}

int vnat_map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

#define GEN_MEM_LEN (VNAT_GEN_MAX * sizeof(__u64))

/*
 * vnat_gen mapped shared, for atomic bumps; NULL when the map is not this
 * build's (not BPF_F_MMAPABLE, other value size): bumps then fail.
 */
static __u64 *map_gen(int fd)
{
	struct bpf_map_info info;
	void *mem;

	if (vnat_map_info(fd, &info) || info.value_size != sizeof(__u64) ||
	    info.max_entries != VNAT_GEN_MAX || !(info.map_flags & BPF_F_MMAPABLE))
		return NULL;
	mem = mmap(NULL, GEN_MEM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return mem == MAP_FAILED ? NULL : mem;
}

void vnat_maps__close(struct vnat_maps *m)
{
	if (m->gen_mem)
		munmap(m->gen_mem, GEN_MEM_LEN);
	m->gen_mem = NULL;
	for (size_t i = 0; i < N_MAPS; i++) {
		int *fd = map_slot(m, i);

		if (*fd > 0)
			close(*fd);
		*fd = -1;
	}
}

int vnat_maps__open_pinned(const char *pin_dir, struct vnat_maps *m)
{
	char path[256];

	m->gen_mem = NULL;
	snprintf(m->pin_dir, sizeof(m->pin_dir), "%s", pin_dir);
	for (size_t i = 0; i < N_MAPS; i++)
		*map_slot(m, i) = -1;
	for (size_t i = 0; i < N_MAPS; i++) {
		pin_path(path, sizeof(path), pin_dir, map_names[i]);
		*map_slot(m, i) = bpf_obj_get(path);
		if (*map_slot(m, i) < 0) {
			int err = -errno;

			vnat_maps__close(m);
			return err;
		}
	}
	/* Not mappable: pins of another build, which unload still removes. */
	m->gen_mem = map_gen(m->gen);
	return 0;
}

int vnat_maps__unpin(const char *pin_dir)
{
	char path[256];
	int err = 0;

	for (size_t i = 0; i < N_MAPS; i++) {
		pin_path(path, sizeof(path), pin_dir, map_names[i]);
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	}
	if (rmdir(pin_dir) && errno != ENOENT)
		err = -errno;
	/* The root stays while another namespace's vnat uses it. */
	rmdir(VNAT_PIN_ROOT);
	return err;
}

int vnat_maps__read_config(const struct vnat_maps *m, struct vnat_config *cfg)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(m->config, &key, cfg) ? -errno : 0;
}

int vnat_maps__bump_gen(const struct vnat_maps *m)
{
	if (!m->gen_mem)
		return -EOPNOTSUPP;
	/* The datapath adds to its own element as atomically. */
	__atomic_fetch_add(&m->gen_mem[VNAT_GEN_USER], 1, __ATOMIC_SEQ_CST);
	return 0;
}

int vnat_maps__write_config(const struct vnat_maps *m, const struct vnat_config *cfg)
{
	__u32 key = 0;

	if (bpf_map_update_elem(m->config, &key, cfg, BPF_ANY))
		return -errno;
	return vnat_maps__bump_gen(m);
}

int vnat_maps__read_counters(const struct vnat_maps *m, struct vnat_stats *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	struct vnat_counter *out = (struct vnat_counter *)sum, *in;
	struct vnat_stats *vals;
	struct bpf_map_info info;
	__u32 key = 0;
	int err;

	memset(sum, 0, sizeof(*sum));
	if (ncpus <= 0)
		return -EINVAL;
	/* The lookup writes value_size per CPU: a pin of another build would overflow vals. */
	err = vnat_map_info(m->stats, &info);
	if (err)
		return err;
	if (info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.value_size != sizeof(*vals)) {
		vnat_err("pinned map %s/vnat_stats does not match this vnat build (%u-byte "
			 "counters, this build's %zu): run 'vnat unload --all', then load again "
			 "with this build",
			 m->pin_dir[0] ? m->pin_dir : "(unpinned)", info.value_size, sizeof(*vals));
		return -EPROTO;
	}
	vals = calloc(ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->stats, &key, vals)) {
		free(vals);
		return -errno;
	}
	for (int i = 0; i < ncpus; i++) {
		in = (struct vnat_counter *)&vals[i];
		for (int k = 0; k < VNAT_STAT_MAX; k++) {
			out[k].packets += in[k].packets;
			out[k].bytes += in[k].bytes;
		}
	}
	free(vals);
	return 0;
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
	int err = vnat_map_info(*map_slot(&l->maps, i), &info);

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
		  sized_by_user(i) ? info.max_entries : bpf_map__max_entries(want) },
	};

	for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		if (f[k].have == f[k].need)
			continue;
		vnat_err(k == 3 ? "load: pinned map %s/%s does not match this vnat build: %s %#x, "
				  "this build's %#x (run 'vnat unload --all' first)" :
				  "load: pinned map %s/%s does not match this vnat build: %s %u, "
				  "this build's %u (run 'vnat unload --all' first)",
			 l->pin_dir, map_names[i], f[k].what, f[k].have, f[k].need);
		return -EPROTO;
	}
	return 0;
}

static int reuse_pinned_maps(struct vnat_loader *l)
{
	int err = vnat_maps__open_pinned(l->pin_dir, &l->maps);

	if (err)
		return err;
	for (size_t i = 0; i < N_MAPS; i++) {
		err = map_mismatch(l, i);
		if (err)
			return err;
		err = bpf_map__reuse_fd(skel_map(l->skel, i), *map_slot(&l->maps, i));
		if (err) {
			vnat_err("load: pinned map %s/%s does not match this vnat build: %s "
				 "(run 'vnat unload --all' first)",
				 l->pin_dir, map_names[i], strerror(-err));
			return err;
		}
	}
	return 0;
}

static int own_map_fds(struct vnat_loader *l)
{
	for (size_t i = 0; i < N_MAPS; i++)
		*map_slot(&l->maps, i) = dup(bpf_map__fd(skel_map(l->skel, i)));
	snprintf(l->maps.pin_dir, sizeof(l->maps.pin_dir), "%s", l->pin_dir);
	errno = 0;
	l->maps.gen_mem = map_gen(l->maps.gen);
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

int vnat_maps__add_prefix(const struct vnat_maps *m, uint32_t addr, uint8_t len,
			  enum vnat_prefix_kind kind)
{
	struct vnat_prefix_key k = { .prefixlen = len, .addr = addr };
	struct vnat_prefix_val v = { .kind = kind };

	if (bpf_map_update_elem(m->prefixes, &k, &v, BPF_ANY))
		return -errno;
	return vnat_maps__bump_gen(m);
}

int vnat_loader__open(struct vnat_loader *l, const char *pin_dir, uint32_t max_flows)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts, .prog_name = XDP_PROG_NAME);
	struct stat st;
	int err;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < N_MAPS; i++)
		*map_slot(&l->maps, i) = -1;
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

/* --- per-interface attach and detach ----------------------------------- */

static struct xdp_program *find_vnat_xdp(struct xdp_multiprog *mp)
{
	struct xdp_program *p;

	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		return p && !strcmp(xdp_program__name(p), XDP_PROG_NAME) ? p : NULL;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
		if (!strcmp(xdp_program__name(p), XDP_PROG_NAME))
			return p;
	}
	return NULL;
}

static int xdp_detach(uint32_t ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	int err = 0;

	if (libxdp_get_error(mp))
		return 0; /* nothing attached */
	p = find_vnat_xdp(mp);
	if (p)
		err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
	xdp_multiprog__close(mp);
	return err;
}

static void tc_hook_init(struct bpf_tc_hook *hook, uint32_t ifindex, enum bpf_tc_attach_point at)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = at;
}

static void tc_opts_init(struct bpf_tc_opts *o, int prog_fd)
{
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->handle = VNAT_TC_HANDLE;
	o->priority = VNAT_TC_PRIO;
	o->prog_fd = prog_fd;
}

static int tc_attach_one(uint32_t ifindex, enum bpf_tc_attach_point at, int prog_fd)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts o;

	tc_hook_init(&hook, ifindex, at);
	tc_opts_init(&o, prog_fd);
	return bpf_tc_attach(&hook, &o);
}

static void tc_detach_one(uint32_t ifindex, enum bpf_tc_attach_point at)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts o;

	tc_hook_init(&hook, ifindex, at);
	tc_opts_init(&o, 0);
	bpf_tc_detach(&hook, &o);
}

static uint32_t tc_query_one(uint32_t ifindex, enum bpf_tc_attach_point at)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts o;

	tc_hook_init(&hook, ifindex, at);
	tc_opts_init(&o, 0);
	return bpf_tc_query(&hook, &o) ? 0 : o.prog_id;
}

/* Create clsact unless it exists; *own says whether unload may remove it. */
static int tc_clsact_create(uint32_t ifindex, bool *own)
{
	struct bpf_tc_hook hook;
	int err;

	tc_hook_init(&hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	err = bpf_tc_hook_create(&hook);
	*own = !err;
	return err == -EEXIST ? 0 : err;
}

static void tc_clsact_destroy(uint32_t ifindex)
{
	struct bpf_tc_hook hook;

	tc_hook_init(&hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	bpf_tc_hook_destroy(&hook);
}

static int detach_hooks(uint32_t ifindex, const struct vnat_iface *val)
{
	int err = 0;

	if (val->flags & VNAT_IFACE_XDP)
		err = xdp_detach(ifindex);
	if (val->flags & VNAT_IFACE_TC) {
		tc_detach_one(ifindex, BPF_TC_INGRESS);
		tc_detach_one(ifindex, BPF_TC_EGRESS);
	}
	if (val->flags & VNAT_IFACE_OWN_CLSACT)
		tc_clsact_destroy(ifindex);
	return err;
}

int vnat_datapath__detach_hooks(const struct vnat_maps *m, uint32_t ifindex, struct vnat_iface *val)
{
	int err = detach_hooks(ifindex, val);

	/* The entry stays (still a transmit target); what it held is gone. */
	val->flags &= ~(VNAT_IFACE_XDP | VNAT_IFACE_TC | VNAT_IFACE_OWN_CLSACT);
	bpf_map_update_elem(m->ifaces, &ifindex, val, BPF_EXIST);
	vnat_maps__bump_gen(m);
	return err;
}

int vnat_datapath__detach(const struct vnat_maps *m, uint32_t ifindex, const struct vnat_iface *val)
{
	int err = detach_hooks(ifindex, val);

	bpf_map_delete_elem(m->txports, &ifindex);
	bpf_map_delete_elem(m->ifaces, &ifindex);
	/* Flows may hold it as their cached next hop's port. */
	vnat_maps__bump_gen(m);
	return err;
}

int vnat_maps__count_flows(const struct vnat_maps *m, uint8_t proto)
{
	struct vnat_ct_key key, next;
	int n = 0;

	for (int err = bpf_map_get_next_key(m->ct, NULL, &next); !err;
	     err = bpf_map_get_next_key(m->ct, &key, &next)) {
		key = next;
		n += key.proto == proto && !key.pad[0];
	}
	return n;
}

void vnat_datapath__query(uint32_t ifindex, struct vnat_attachment *a)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;

	memset(a, 0, sizeof(*a));
	if (!libxdp_get_error(mp)) {
		p = find_vnat_xdp(mp);
		if (p) {
			a->xdp_id = xdp_program__id(p);
			a->xdp_mode = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ?
					      VNAT_MODE_SKB :
					      VNAT_MODE_NATIVE;
		}
		xdp_multiprog__close(mp);
	}
	a->tc_ingress_id = tc_query_one(ifindex, BPF_TC_INGRESS);
	a->tc_egress_id = tc_query_one(ifindex, BPF_TC_EGRESS);
}

const char *vnat_hook__option(uint32_t flags)
{
	if (flags & VNAT_IFACE_HOOK_TC)
		return "tc";
	return flags & VNAT_IFACE_HOOK_XDP ? "xdp" : "auto";
}

const char *vnat_hook__reason(uint32_t flags)
{
	if (flags & VNAT_IFACE_HOOK_TC)
		return "--hook tc";
	if (flags & VNAT_IFACE_BRIDGE)
		return "a bridge";
	/* auto: a veth or a tap; xdp: a bridge port --hook xdp could not serve */
	return flags & VNAT_IFACE_HOOK_XDP ? "peer refuses XDP" : "veth/tap: partial checksums";
}

static const char *xdp_hint(int err, enum vnat_xdp_mode mode)
{
	if (err == -EOPNOTSUPP && mode == VNAT_MODE_NATIVE)
		return " (driver lacks native XDP; try --mode skb)";
	if (err == -EEXIST || err == -EBUSY)
		return " (another XDP program is attached; remove it or use xdp-loader)";
	return "";
}

/* Attach XDP; *native: it runs in the driver (not generic, skb-mode XDP). */
static int attach_xdp(struct vnat_loader *l, const struct vnat_iface_info *ifi,
		      enum vnat_xdp_mode mode, bool fallback, bool *native)
{
	enum xdp_attach_mode xm = mode == VNAT_MODE_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	int err = xdp_program__attach(l->xdp, ifi->ifindex, xm, 0);

	*native = !err && xm == XDP_MODE_NATIVE;
	/* Bridge ports: native where the driver allows, generic elsewhere. */
	if (err == -EOPNOTSUPP && fallback && xm == XDP_MODE_NATIVE)
		err = xdp_program__attach(l->xdp, ifi->ifindex, XDP_MODE_SKB, 0);

	if (err)
		vnat_err("load: attach xdp to %s: %s%s", ifi->name, strerror(-err),
			 xdp_hint(err, mode));
	return err;
}

static int attach_tc(struct vnat_loader *l, const struct vnat_iface_info *ifi,
		     struct vnat_iface *val)
{
	bool own = false;
	int err;

	err = tc_clsact_create(ifi->ifindex, &own);
	if (err) {
		vnat_err("load: create clsact qdisc on %s: %s", ifi->name, strerror(-err));
		return err;
	}
	if (own)
		val->flags |= VNAT_IFACE_OWN_CLSACT;
	err = tc_attach_one(ifi->ifindex, BPF_TC_INGRESS,
			    bpf_program__fd(l->skel->progs.tc_vnat_ingress));
	if (!err) {
		val->flags |= VNAT_IFACE_TC; /* from here on, detach removes both */
		err = tc_attach_one(ifi->ifindex, BPF_TC_EGRESS,
				    bpf_program__fd(l->skel->progs.tc_vnat_egress));
	}
	if (err)
		vnat_err("load: attach tc filter to %s: %s%s", ifi->name, strerror(-err),
			 err == -EEXIST ? " (a filter with vnat's handle and priority "
					  "exists; remove it with tc filter del)" :
					  "");
	return err;
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

		err = attach_xdp(l, ifi, mode, role->flags & VNAT_IFACE_AUTO, &native);
		if (err)
			goto err_undo;
		val.flags |= VNAT_IFACE_XDP;
		/* A driver without native XDP is unlikely to take XDP frames either. */
		if (!native)
			val.flags &= ~VNAT_IFACE_XDP_TX;
	}
	err = attach_tc(l, ifi, &val);
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
	for (size_t i = 0; i < N_MAPS; i++) {
		pin_path(path, sizeof(path), l->pin_dir, map_names[i]);
		err = bpf_obj_pin(*map_slot(&l->maps, i), path) ? -errno : 0;
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
