// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Hooks on one interface: vnat's XDP program through libxdp (alone or in
 * its dispatcher) and its tc ingress and egress filters (clsact), attached,
 * found, queried and taken off again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "datapath.h"
#include "datapath_int.h"
#include "log.h"
#include "vnat.skel.h"

static struct xdp_program *find_vnat_xdp(struct xdp_multiprog *mp)
{
	struct xdp_program *p;

	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		return p && !strcmp(xdp_program__name(p), VNAT_XDP_PROG_NAME) ? p : NULL;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
		if (!strcmp(xdp_program__name(p), VNAT_XDP_PROG_NAME))
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
int vnat_hooks__attach_xdp(struct vnat_loader *l, const struct vnat_iface_info *ifi,
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

int vnat_hooks__attach_tc(struct vnat_loader *l, const struct vnat_iface_info *ifi,
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
