// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vnat libvirt-hook NETWORK OPERATION SUB-OPERATION EXTRA: what
 * /etc/libvirt/hooks/network calls. libvirtd runs that hook with the
 * network's XML on stdin; on "started" (the bridge exists) vnat loads the
 * bridge as the forward mode says (nat: masqueraded, with the network's
 * port range; route, open: routed; isolated and the others: left to the
 * kernel), on "stopped" it unloads it, on "updated" it does whichever now
 * applies. The configuration file may skip a network, include one (an
 * isolated network: bridged and routed by vnat, not translated) and add
 * load options (a [network NAME] section without iface).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "apply.h"
#include "args.h"
#include "cmds.h"
#include "config.h"
#include "daemon_lock.h"
#include "datapath.h"
#include "instance.h"
#include "iter.h"
#include "libvirt_xml.h"
#include "log.h"

#define MAX_XML (1 << 20)

static char *read_stdin(void)
{
	char *buf = malloc(MAX_XML + 1);
	size_t n = 0, r;

	if (!buf)
		return NULL;
	while (n < MAX_XML && (r = fread(buf + n, 1, MAX_XML - n, stdin)) > 0)
		n += r;
	buf[n] = '\0';
	return buf;
}

/* The configuration: none at all is fine (every network included). */
static int read_config(const char *path, struct vnat_conf *c)
{
	FILE *f = fopen(path, "re");
	int err;

	memset(c, 0, sizeof(*c));
	if (!f)
		return errno == ENOENT ? 0 : vnat_config__read(path, c);
	err = vnat_config__parse(f, path, c);
	fclose(f);
	return err;
}

static bool forwards(const char *mode)
{
	return !strcmp(mode, "nat") || !strcmp(mode, "route") || !strcmp(mode, "open");
}

/* Whether vnat takes this network, and if not, why (for the log). */
static bool wanted(const struct vnat_conf *c, const struct vnat_libvirt_net *n, const char **why)
{
	const struct vnat_conf_net *sec = vnat_config__net(c, n->name);
	enum vnat_conf_libvirt say = sec ? sec->libvirt : VNAT_CONF_LIBVIRT_DEFAULT;

	if (!n->bridge[0]) {
		*why = "it has no bridge of its own";
		return false;
	}
	if (say == VNAT_CONF_LIBVIRT_SKIP ||
	    (say == VNAT_CONF_LIBVIRT_DEFAULT && c->libvirt_skip)) {
		*why = "skipped in the configuration";
		return false;
	}
	if (say == VNAT_CONF_LIBVIRT_INCLUDE && !n->mode[0])
		return true;
	if (!forwards(n->mode)) {
		*why = n->mode[0] ? "its forward mode is not nat, route or open" :
				    "it is isolated (include it in the configuration to load it)";
		return false;
	}
	return true;
}

/* The managed entry named NAME (its device may be gone): its ifindex, or 0. */
static __u32 managed_by_name(const char *name)
{
	struct vnat_netns ns;
	struct vnat_maps m;
	__u32 found;

	if (vnat_instance__find(&ns, &m))
		return 0;
	found = vnat_ifaces__by_name(&m, name);
	vnat_maps__close(&m);
	return found;
}

static bool has_opt(const struct vnat_conf_net *sec, const char *opt)
{
	for (int i = 0; sec && i < sec->argc; i++)
		if (!strcmp(sec->args[i], opt))
			return true;
	return false;
}

/* Options that do not translate: a routed network takes only these. */
static bool routing_opt(const char *opt)
{
	return !strcmp(opt, "--hook") || !strcmp(opt, "--mode") || !strcmp(opt, "--redirects");
}

struct argv_buf {
	char *argv[VNAT_CONF_MAX_ARGS + 16];
	char ports[16];
	int argc;
};

static void push(struct argv_buf *b, const char *arg)
{
	if (b->argc < (int)(sizeof(b->argv) / sizeof(b->argv[0])) - 1)
		b->argv[b->argc++] = (char *)arg;
}

/* load --iface BRIDGE, the section's options, then what the XML says. */
static void load_args(const struct vnat_conf *c, const struct vnat_libvirt_net *n,
		      struct argv_buf *b)
{
	const struct vnat_conf_net *sec = vnat_config__net(c, n->name);
	bool nat = !strcmp(n->mode, "nat");

	push(b, "load");
	push(b, "--iface");
	push(b, n->bridge);
	for (int i = 1; sec && i < sec->argc; i++) {
		const char *opt = sec->args[i];
		bool value = i + 1 < sec->argc && strncmp(sec->args[i + 1], "--", 2);

		if (!strcmp(opt, "--iface") || (!nat && !routing_opt(opt))) {
			i += value;
			continue;
		}
		push(b, opt);
		if (value)
			push(b, sec->args[++i]);
	}
	if (!nat)
		return;
	if (!has_opt(sec, "--snat") && !has_opt(sec, "--masquerade")) {
		/* One address in <nat><address>: that one; else the uplink's. */
		if (n->addr_start[0] && !strcmp(n->addr_start, n->addr_end)) {
			push(b, "--snat");
			push(b, n->addr_start);
		} else {
			push(b, "--masquerade");
		}
	}
	if (n->dev[0] && !has_opt(sec, "--out")) {
		push(b, "--out");
		push(b, n->dev);
	}
	if (n->port_start && n->port_end && !has_opt(sec, "--ports")) {
		snprintf(b->ports, sizeof(b->ports), "%u-%u", n->port_start, n->port_end);
		push(b, "--ports");
		push(b, b->ports);
	}
}

/* updated: a nat network's new port range applies live (unless the file sets one). */
static int update_ports(const struct vnat_conf *c, const struct vnat_libvirt_net *n)
{
	if (strcmp(n->mode, "nat") || !n->port_start || !n->port_end ||
	    has_opt(vnat_config__net(c, n->name), "--ports"))
		return 0;
	if (n->port_start > n->port_end) {
		vnat_err("libvirt-hook: %s: <port start='%u' end='%u'>: not a range", n->name,
			 n->port_start, n->port_end);
		return -EINVAL;
	}
	return vnat_apply__ports(n->port_start, n->port_end);
}

static int load_network(const struct vnat_conf *c, const struct vnat_libvirt_net *n)
{
	struct argv_buf b = { .argc = 0 };
	int err;

	if (managed_by_name(n->bridge)) {
		vnat_info("vnat: libvirt-hook: %s: %s already managed", n->name, n->bridge);
		return update_ports(c, n);
	}
	load_args(c, n, &b);
	b.argv[b.argc] = NULL;
	vnat_log_context("libvirt-hook: network %s", n->name);
	err = cmd_load(b.argc, b.argv);
	vnat_log_context(NULL);
	if (!err && vnat_daemon_lock__holder() <= 0)
		vnat_info("vnat: libvirt-hook: no vnat daemon runs here: guests' ports added "
			  "later will not be attached (start vnat.service)");
	return err;
}

static int not_uplink(__u32 ifindex, struct vnat_iface *val, void *ctx)
{
	(void)ifindex;
	++*(int *)ctx;
	return !(val->flags & VNAT_IFACE_OUTSIDE);
}

/* Only uplinks left (every inside network stopped): those go too. */
static bool only_uplinks_left(void)
{
	struct vnat_netns ns;
	struct vnat_maps m;
	int seen = 0, other;

	if (vnat_instance__find(&ns, &m))
		return false;
	other = vnat_ifaces__each(&m, not_uplink, &seen);
	vnat_maps__close(&m);
	return seen && !other;
}

static int unload_network(const struct vnat_libvirt_net *n)
{
	char *argv[] = { "unload", "--iface", (char *)n->bridge, NULL };
	char *all[] = { "unload", "--all", NULL };
	int err;

	if (!managed_by_name(n->bridge))
		return 0;
	err = cmd_unload(3, argv);
	if (!err && only_uplinks_left())
		err = cmd_unload(2, all);
	return err;
}

static int hook(const char *config, const char *op, struct vnat_libvirt_net *n)
{
	static struct vnat_conf c;
	const char *why = "";
	bool want;
	int err = read_config(config, &c);

	if (err)
		return err;
	want = wanted(&c, n, &why);
	if (!strcmp(op, "stopped"))
		return unload_network(n);
	if (want)
		return load_network(&c, n);
	vnat_info("vnat: libvirt-hook: %s: left to the kernel (%s)", n->name, why);
	/* updated: a network that no longer qualifies is given back. */
	return !strcmp(op, "updated") ? unload_network(n) : 0;
}

int cmd_libvirt_hook(int argc, char **argv)
{
	struct vnat_libvirt_opts o;
	struct vnat_libvirt_net n;
	char *xml;
	int err;

	err = vnat_args__parse_libvirt(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	if (strcmp(o.op, "started") && strcmp(o.op, "stopped") && strcmp(o.op, "updated"))
		return 0; /* start, port-created, port-deleted: nothing for vnat */
	xml = read_stdin();
	if (!xml) {
		vnat_err("libvirt-hook: cannot read the network's XML: %s", strerror(errno));
		return -ENOMEM;
	}
	err = vnat_libvirt__parse(xml, &n);
	free(xml);
	if (err)
		return err;
	if (strcmp(n.name, o.network))
		vnat_info("vnat: libvirt-hook: called for %s, the XML describes %s: using the XML",
			  o.network, n.name);
	return hook(o.config, o.op, &n);
}
