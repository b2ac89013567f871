// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vnat apply: make this namespace's vnat what the configuration file says.
 * Everything that cannot change live is found (and refused, with the
 * reason) before anything changes; then interfaces that left the file are
 * unloaded, NAT options that can change live are written into the running
 * configuration (established flows keep their mappings), and networks not
 * yet loaded are loaded, through the same code as vnat unload and load.
 * What apply loaded is remembered (VNAT_RUN_DIR), so interfaces loaded by
 * hand or by the libvirt hook are never unloaded for being absent.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "apply.h"
#include "cmds.h"
#include "config.h"
#include "datapath.h"
#include "instance.h"
#include "iter.h"
#include "log.h"

#define VNAT_RUN_DIR "/run/vnat"
#define MAX_NAMES (VNAT_CONF_MAX_NETS * VNAT_MAX_LOAD_IFACES)

struct name_set {
	char name[MAX_NAMES][VNAT_IFNAMSIZ];
	int n;
};

struct apply_state {
	struct vnat_netns ns;
	bool loaded;
	struct vnat_config cfg; /* when loaded */
	struct name_set applied; /* what earlier applies loaded */
	const struct vnat_load_opts *nat; /* the NAT sections' options, or NULL */
	int changes;
};

static bool set_has(const struct name_set *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return true;
	return false;
}

static void set_add(struct name_set *s, const char *name)
{
	if (!set_has(s, name) && s->n < MAX_NAMES)
		snprintf(s->name[s->n++], VNAT_IFNAMSIZ, "%s", name);
}

static void state_path(const struct vnat_netns *ns, char *buf, size_t len)
{
	/* The cookie, not the inode: never reused by a later namespace. */
	snprintf(buf, len, "%s/applied-netns-%llu", VNAT_RUN_DIR, (unsigned long long)ns->cookie);
}

static void read_applied(struct apply_state *st)
{
	char path[128], line[64];
	FILE *f;

	st->applied.n = 0;
	state_path(&st->ns, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (*line)
			set_add(&st->applied, line);
	}
	fclose(f);
}

static int write_applied(const struct apply_state *st)
{
	char path[128], tmp[160];
	FILE *f;

	state_path(&st->ns, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (mkdir(VNAT_RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	for (int i = 0; i < st->applied.n; i++)
		fprintf(f, "%s\n", st->applied.name[i]);
	if (fclose(f) || rename(tmp, path))
		return -errno;
	return 0;
}

/* Flags vnat_ifaces has for NAME now; false when vnat does not manage it. */
static bool managed(const char *name, uint32_t *flags)
{
	struct vnat_netns ns;
	struct vnat_iface val;
	struct vnat_maps m;
	__u32 ifindex = if_nametoindex(name);
	bool found = false;

	if (!ifindex || vnat_instance__find(&ns, &m))
		return false;
	if (!bpf_map_lookup_elem(m.ifaces, &ifindex, &val)) {
		found = true;
		if (flags)
			*flags = val.flags;
	}
	vnat_maps__close(&m);
	return found;
}

static int refresh(struct apply_state *st)
{
	struct vnat_maps m;
	int err = vnat_instance__find(&st->ns, &m);

	st->loaded = !err;
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	err = vnat_maps__read_config(&m, &st->cfg);
	vnat_maps__close(&m);
	return err;
}

static bool cfg_has_nat(const struct vnat_config *cfg)
{
	return cfg->flags & VNAT_CFG_NAT;
}

/* --- what cannot change live ---------------------------------------------- */

static int refuse(const char *what, const char *why)
{
	vnat_err("apply: %s cannot change live (%s): nothing changed; to change it, run 'vnat "
		 "unload --all', then 'vnat apply'",
		 what, why);
	return -EINVAL;
}

static int check_nat_fixed(const struct apply_state *st)
{
	const struct vnat_config *cfg = &st->cfg;
	const struct vnat_load_opts *o = st->nat;

	/* No NAT in the file: its NAT networks are unloaded as any other. */
	if (!st->loaded || !o)
		return 0;
	if (!cfg_has_nat(cfg))
		return refuse("NAT", "vnat runs here without NAT");
	if (o->masquerade != !!(cfg->flags & VNAT_CFG_MASQUERADE) ||
	    (!o->masquerade && o->snat_addr != cfg->snat_addr))
		return refuse("the SNAT address", "established flows are translated to it");
	if (o->max_flows != cfg->max_flows)
		return refuse("max-flows", "it sizes the flow tables, created with vnat");
	if (!!o->n_from != !!(cfg->flags & VNAT_CFG_FROM) || (!o->out[0] != !cfg->out_ifindex))
		return refuse("from or out", "they decide which flows exist");
	return 0;
}

/* The role a section asks for, and its --hook (auto when it names none). */
static bool role_differs(const struct vnat_load_opts *o, uint32_t flags)
{
	const uint32_t hook = VNAT_IFACE_HOOK_TC | VNAT_IFACE_HOOK_AUTO | VNAT_IFACE_HOOK_XDP;
	bool inside = o->snat_addr || o->masquerade;

	return inside != !!(flags & VNAT_IFACE_INSIDE) || (flags & hook) != (o->hook & hook);
}

/* An interface already managed keeps its role and hook: or it is refused. */
static int check_ifaces_fixed(const struct vnat_conf *c)
{
	char what[64];

	for (int i = 0; i < c->n; i++) {
		const struct vnat_load_opts *o = &c->nets[i].load;
		uint32_t flags;

		for (int k = 0; k < o->n_ifaces; k++) {
			if (!managed(o->ifaces[k], &flags) || !role_differs(o, flags))
				continue;
			snprintf(what, sizeof(what), "the role or hook of %s", o->ifaces[k]);
			return refuse(what, "it is attached that way");
		}
	}
	return 0;
}

/* --- changes --------------------------------------------------------------- */

static int run_cmd(int (*fn)(int, char **), char **argv, int argc)
{
	argv[argc] = NULL;
	return fn(argc, argv);
}

static int unload_iface(struct apply_state *st, const char *name)
{
	char *argv[4] = { "unload", "--iface", (char *)name };

	if (run_cmd(cmd_unload, argv, 3))
		return -EIO;
	st->changes++;
	return 0;
}

static int count_inside(__u32 ifindex, struct vnat_iface *val, void *ctx)
{
	(void)ifindex;
	*(int *)ctx += !!(val->flags & VNAT_IFACE_INSIDE);
	return 0;
}

/* Inside interfaces still managed: an uplink serves them (whoever loaded them). */
static bool inside_left(void)
{
	struct vnat_netns ns;
	struct vnat_maps m;
	int n = 0;

	if (vnat_instance__find(&ns, &m))
		return false;
	vnat_ifaces__each(&m, count_inside, &n);
	vnat_maps__close(&m);
	return n > 0;
}

/*
 * Interfaces an earlier apply loaded that the file no longer names; the
 * uplinks last, and only when no inside interface is left for them (the
 * file's, or a libvirt network's the hook loaded).
 */
static int unload_gone(struct apply_state *st, const struct name_set *wanted)
{
	struct name_set keep = { .n = 0 }, uplinks = { .n = 0 };
	int err = 0;

	for (int i = 0; i < st->applied.n; i++) {
		const char *name = st->applied.name[i];
		uint32_t flags = 0;

		if (set_has(wanted, name)) {
			set_add(&keep, name);
			continue;
		}
		if (!managed(name, &flags))
			continue;
		if (flags & VNAT_IFACE_OUTSIDE) {
			set_add(&uplinks, name);
		} else if (unload_iface(st, name)) {
			set_add(&keep, name);
			err = -EIO;
		}
	}
	for (int i = 0; i < uplinks.n; i++) {
		const char *name = uplinks.name[i];

		if (st->nat || inside_left()) {
			set_add(&keep, name);
		} else if (managed(name, NULL) && unload_iface(st, name)) {
			set_add(&keep, name);
			err = -EIO;
		}
	}
	st->applied = keep;
	return err;
}

/* Ports, filtering, timeouts, redirects: read by the datapath per packet. */
static int change_live(struct apply_state *st, bool keep_redirects)
{
	struct vnat_config cfg = st->cfg;
	const struct vnat_load_opts *o = st->nat;
	struct vnat_maps m;
	int err;

	if (!st->loaded)
		return 0;
	if (o) {
		cfg.port_min = o->port_min;
		cfg.port_max = o->port_max;
		cfg.filtering = o->filtering;
		cfg.timeout_udp = o->timeout_udp;
		cfg.timeout_tcp_est = o->timeout_tcp_est;
		cfg.timeout_tcp_trans = o->timeout_tcp_trans;
		cfg.timeout_icmp = o->timeout_icmp;
		cfg.gc_interval_ms = vnat_config__gc_interval_ms(
			o->timeout_tcp_est, o->timeout_tcp_trans, o->timeout_icmp);
	}
	cfg.flags = (cfg.flags & ~VNAT_CFG_KEEP_REDIRECTS) |
		    (keep_redirects ? VNAT_CFG_KEEP_REDIRECTS : 0);
	if (!memcmp(&cfg, &st->cfg, sizeof(cfg)))
		return 0;
	err = vnat_instance__find(&st->ns, &m);
	if (err)
		return err;
	err = vnat_maps__write_config(&m, &cfg);
	vnat_maps__close(&m);
	if (err) {
		vnat_err("apply: write %s/vnat_config: %s", st->ns.pin_dir, strerror(-err));
		return err;
	}
	vnat_info("vnat: apply: NAT options changed live (ports %u-%u, timeouts udp %us tcp %us "
		  "transitory %us icmp %us)",
		  cfg.port_min, cfg.port_max, cfg.timeout_udp, cfg.timeout_tcp_est,
		  cfg.timeout_tcp_trans, cfg.timeout_icmp);
	st->cfg = cfg;
	st->changes++;
	return 0;
}

static int remember_uplink(__u32 ifindex, struct vnat_iface *val, void *ctx)
{
	struct apply_state *st = ctx;

	(void)ifindex;
	if (val->flags & VNAT_IFACE_OUTSIDE)
		set_add(&st->applied, val->name);
	return 0;
}

/* The uplinks vnat manages: a NAT load's, remembered with its network. */
static void add_uplinks(struct apply_state *st)
{
	struct vnat_netns ns;
	struct vnat_maps m;

	if (vnat_instance__find(&ns, &m))
		return;
	vnat_ifaces__each(&m, remember_uplink, st);
	vnat_maps__close(&m);
}

/* A network's interfaces that are not managed yet, in one vnat load. */
static int load_missing(struct apply_state *st, const struct vnat_conf_net *n)
{
	char *argv[VNAT_CONF_MAX_ARGS + 1];
	int argc = 0, missing = 0, err;

	for (int i = 0; i < n->argc; i++) {
		bool iface = !strcmp(n->args[i], "--iface");

		if (iface && managed(n->args[i + 1], NULL)) {
			set_add(&st->applied, n->args[i + 1]);
			i++;
			continue;
		}
		missing += iface;
		argv[argc++] = (char *)n->args[i];
	}
	if (!missing)
		return 0;
	vnat_log_context("apply: [network %s]", n->name);
	err = run_cmd(cmd_load, argv, argc);
	vnat_log_context(NULL);
	if (err)
		return err;
	for (int i = 0; i < n->load.n_ifaces; i++)
		set_add(&st->applied, n->load.ifaces[i]);
	if (st->nat)
		add_uplinks(st);
	st->changes++;
	return 0;
}

static const struct vnat_load_opts *nat_options(const struct vnat_conf *c)
{
	for (int i = 0; i < c->n; i++)
		if (c->nets[i].load.n_ifaces &&
		    (c->nets[i].load.snat_addr || c->nets[i].load.masquerade))
			return &c->nets[i].load;
	return NULL;
}

static bool wants_keep_redirects(const struct vnat_conf *c)
{
	for (int i = 0; i < c->n; i++)
		if (c->nets[i].load.n_ifaces && c->nets[i].load.keep_redirects)
			return true;
	return false;
}

int vnat_apply__conf(const struct vnat_conf *c)
{
	static struct apply_state st;
	static struct name_set wanted;
	int err;

	memset(&st, 0, sizeof(st));
	wanted.n = 0;
	err = refresh(&st);
	if (err)
		return err;
	read_applied(&st);
	st.nat = nat_options(c);
	for (int i = 0; i < c->n; i++)
		for (int k = 0; k < c->nets[i].load.n_ifaces; k++)
			set_add(&wanted, c->nets[i].load.ifaces[k]);
	err = check_nat_fixed(&st) ?: check_ifaces_fixed(c);
	if (err)
		return err;

	err = unload_gone(&st, &wanted);
	if (!err)
		err = refresh(&st) ?: change_live(&st, wants_keep_redirects(c));
	for (int i = 0; i < c->n && !err; i++)
		err = load_missing(&st, &c->nets[i]);
	/* What did get loaded is remembered, also after a failure half-way. */
	if (write_applied(&st) && !err)
		vnat_err("apply: cannot write %s: %s", VNAT_RUN_DIR, strerror(errno));
	if (!err && !st.changes)
		vnat_info("vnat: apply: nothing to change");
	return err;
}

int vnat_apply__ports(uint16_t lo, uint16_t hi)
{
	struct vnat_config cfg;
	struct vnat_netns ns;
	struct vnat_maps m;
	int err = vnat_instance__find(&ns, &m);

	if (err)
		return err == -ENOENT ? 0 : err;
	err = vnat_maps__read_config(&m, &cfg);
	if (!err && cfg_has_nat(&cfg) && (cfg.port_min != lo || cfg.port_max != hi)) {
		cfg.port_min = lo;
		cfg.port_max = hi;
		err = vnat_maps__write_config(&m, &cfg);
		if (!err)
			vnat_info("vnat: NAT ports changed live to %u-%u", lo, hi);
	}
	vnat_maps__close(&m);
	return err;
}

void vnat_apply__forget(const struct vnat_netns *ns)
{
	char path[128];

	state_path(ns, path, sizeof(path));
	unlink(path);
	/* The directory stays while another namespace's apply uses it. */
	rmdir(VNAT_RUN_DIR);
}

int vnat_apply__file(const char *path)
{
	static struct vnat_conf c;
	int err = vnat_config__read(path, &c);

	return err ?: vnat_apply__conf(&c);
}
