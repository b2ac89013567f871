// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Managed interfaces on which vnat can do nothing: say so instead of staying silent. */
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "datapath.h"
#include "out.h"
#include "warnings.h"

static bool has_port(const struct vnat_topo *t, uint32_t bridge)
{
	for (int i = 0; i < t->n_links; i++)
		if (t->links[i].master == bridge && t->links[i].ifindex != bridge)
			return true;
	return false;
}

/* getifaddrs names an address by its label: "eth0", or "eth0:1" for an alias. */
static bool has_ipv4(const struct vnat_addr *addrs, int n, const char *ifname)
{
	size_t len = strlen(ifname);

	for (int i = 0; i < n; i++)
		if (!strncmp(addrs[i].ifname, ifname, len) &&
		    (!addrs[i].ifname[len] || addrs[i].ifname[len] == ':'))
			return true;
	return false;
}

static void __attribute__((format(printf, 6, 7)))
add(struct vnat_warning *out, int max, int *n, enum vnat_warning_kind kind, const char *ifname,
    const char *fmt, ...)
{
	struct vnat_warning *w;
	va_list ap;

	if (*n < max) {
		w = &out[*n];
		w->kind = kind;
		snprintf(w->iface, sizeof(w->iface), "%s", ifname);
		va_start(ap, fmt);
		vsnprintf(w->text, sizeof(w->text), fmt, ap);
		va_end(ap);
	}
	(*n)++;
}

int vnat_warnings__check(const struct vnat_topo *t, const struct vnat_addr *addrs, int n_addrs,
			 const struct vnat_managed *ifs, int n, struct vnat_warning *out, int max)
{
	int found = 0;

	for (int i = 0; i < n; i++) {
		const struct vnat_managed *m = &ifs[i];

		/* gone from the host: nothing to check against */
		if (!vnat_topo__link(t, m->ifindex))
			continue;
		if ((m->flags & VNAT_IFACE_BRIDGE) && !has_port(t, m->ifindex))
			add(out, max, &found, VNAT_WARN_BRIDGE_NO_PORTS, m->name,
			    "bridge %s has no ports: there is nothing to forward until an "
			    "interface joins it (ip link set IFACE master %s)",
			    m->name, m->name);
		if ((m->flags & VNAT_IFACE_INSIDE) && !(m->flags & VNAT_IFACE_PORT) &&
		    !has_ipv4(addrs, n_addrs, m->name))
			add(out, max, &found, VNAT_WARN_INSIDE_NO_ADDR, m->name,
			    "inside interface %s has no IPv4 address: its guests have no gateway "
			    "here and, without --from, no prefix to translate (ip addr add "
			    "ADDR/LEN dev %s)",
			    m->name, m->name);
		if ((m->flags & VNAT_IFACE_OUTSIDE) && !has_ipv4(addrs, n_addrs, m->name))
			add(out, max, &found, VNAT_WARN_UPLINK_NO_ADDR, m->name,
			    "uplink %s has no IPv4 address: translated traffic can neither leave "
			    "nor come back through it (ip addr add ADDR/LEN dev %s)",
			    m->name, m->name);
	}
	return found;
}

static bool wanted(uint32_t ifindex, const uint32_t *only, int n_only)
{
	if (!only)
		return true;
	for (int i = 0; i < n_only; i++)
		if (only[i] == ifindex)
			return true;
	return false;
}

/* The managed interfaces, with their names as the kernel has them now. */
static int managed_of(const struct vnat_maps *m, const struct vnat_topo *t, const uint32_t *only,
		      int n_only, struct vnat_managed *out, int max)
{
	struct vnat_iface val;
	__u32 key, next;
	int n = 0;

	for (int err = bpf_map_get_next_key(m->ifaces, NULL, &next); !err && n < max;
	     err = bpf_map_get_next_key(m->ifaces, &key, &next)) {
		const struct vnat_link *l;

		key = next;
		l = vnat_topo__link(t, key);
		if (!l || !wanted(key, only, n_only) || bpf_map_lookup_elem(m->ifaces, &key, &val))
			continue;
		out[n].ifindex = key;
		out[n].flags = val.flags;
		snprintf(out[n].name, sizeof(out[n].name), "%s", l->name);
		n++;
	}
	return n;
}

int vnat_warnings__live(const struct vnat_maps *m, const uint32_t *only, int n_only,
			struct vnat_warning *out, int max)
{
	struct vnat_addr addrs[VNAT_MAX_ADDRS];
	struct vnat_managed *ifs = NULL;
	struct vnat_topo *t;
	int n_addrs, n, err;

	/* some 300 KiB: not on the stack */
	t = malloc(sizeof(*t));
	ifs = calloc(VNAT_MAX_IFACES, sizeof(*ifs));
	err = t && ifs ? vnat_topo__dump(t) : -ENOMEM;
	n_addrs = err ? 0 : vnat_addrs__list(addrs, VNAT_MAX_ADDRS);
	if (n_addrs < 0)
		err = n_addrs;
	if (!err) {
		n = managed_of(m, t, only, n_only, ifs, VNAT_MAX_IFACES);
		err = vnat_warnings__check(t, addrs, n_addrs, ifs, n, out, max);
	}
	free(ifs);
	free(t);
	return err;
}

const char *vnat_warning__kind_name(enum vnat_warning_kind kind)
{
	switch (kind) {
	case VNAT_WARN_BRIDGE_NO_PORTS:
		return "bridge_no_ports";
	case VNAT_WARN_INSIDE_NO_ADDR:
		return "inside_no_address";
	case VNAT_WARN_UPLINK_NO_ADDR:
		return "uplink_no_address";
	}
	return "?";
}

void vnat_warnings__print(const struct vnat_warning *w, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(stderr, "vnat: warning: %s\n", w[i].text);
}

void vnat_warnings__print_live(const struct vnat_maps *m, const uint32_t *only, int n_only)
{
	struct vnat_warning w[VNAT_MAX_WARNINGS];
	int n = vnat_warnings__live(m, only, n_only, w, VNAT_MAX_WARNINGS);

	vnat_warnings__print(w, n < VNAT_MAX_WARNINGS ? n : VNAT_MAX_WARNINGS);
}

void vnat_warnings__describe(struct vnat_out *o, const struct vnat_warning *w, int n)
{
	/* in the text "warning: TEXT": the text names the interface, the kind is for programs */
	vnat_out_list_open(o, "warnings", "warning", VNAT_OUT_ITEMS);
	for (int i = 0; i < n; i++) {
		vnat_out_obj_open(o, NULL, NULL, 0);
		vnat_out_str(o, "interface", NULL, w[i].iface);
		vnat_out_str(o, "kind", NULL, vnat_warning__kind_name(w[i].kind));
		vnat_out_str(o, "message", "message", w[i].text);
		vnat_out_obj_close(o);
	}
	vnat_out_list_close(o);
}
