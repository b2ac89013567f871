// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vnat status: what runs here, read back from the pins and the kernel. */
#include <net/if.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "args.h"
#include "cmds.h"
#include "datapath.h"
#include "health.h"
#include "iface.h"
#include "ifstats.h"
#include "instance.h"
#include "log.h"
#include "out.h"
#include "status.h"

/*
 * Counter names come from the BTF of the pinned stats map (the members of
 * struct vnat_stats, its value type), so the datapath is their one source.
 */
static struct btf *stats_btf(int fd, const struct btf_type **val)
{
	struct bpf_map_info info;
	struct btf *btf;

	if (vnat_map_info(fd, &info) || !info.btf_id)
		return NULL;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return NULL;
	*val = btf__type_by_id(btf, info.btf_value_type_id);
	if (!*val || !btf_is_struct(*val)) {
		btf__free(btf);
		return NULL;
	}
	return btf;
}

/* Member i of struct vnat_stats: its counter index and name, or -1. */
static int counter_member(const struct btf *btf, const struct btf_type *val, int i,
			  const char **name)
{
	const struct btf_member *mb = btf_members(val) + i;
	__u32 off = btf_member_bit_offset(val, i) / 8;

	if (off % sizeof(struct vnat_counter) || off / sizeof(struct vnat_counter) >= VNAT_STAT_MAX)
		return -1;
	*name = btf__name_by_offset(btf, mb->name_off);
	return off / sizeof(struct vnat_counter);
}

/* The counters by their BTF names; none without BTF. */
static int read_counters(const struct vnat_maps *m, struct vnat_status *s, struct btf **btf)
{
	const struct btf_type *val;
	int k;

	*btf = stats_btf(m->stats, &val);
	if (vnat_maps__read_counters(m, &s->totals)) {
		btf__free(*btf);
		*btf = NULL;
	}
	s->have_btf = *btf != NULL;
	if (!*btf)
		return 0;
	s->counters = calloc(btf_vlen(val), sizeof(*s->counters));
	if (!s->counters)
		return -ENOMEM;
	for (int i = 0; i < btf_vlen(val); i++) {
		const char *name;

		k = counter_member(*btf, val, i, &name);
		if (k < 0)
			continue;
		s->counters[s->n_counters].name = name;
		s->counters[s->n_counters++].c = ((struct vnat_counter *)&s->totals)[k];
	}
	return 0;
}

static int read_sysctl_int(const char *path)
{
	FILE *f = fopen(path, "re");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* The kernel sends redirects if conf.all or the interface's own flag is set. */
static int send_redirects(const char *ifname)
{
	char path[128];
	int all = read_sysctl_int("/proc/sys/net/ipv4/conf/all/send_redirects"), own;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/send_redirects", ifname);
	own = read_sysctl_int(path);
	if (all < 0 || own < 0)
		return -1;
	return all || own;
}

static int read_ifaces(const struct vnat_maps *m, struct vnat_status *s)
{
	struct vnat_iface val;
	__u32 key, next;

	s->ifaces = calloc(VNAT_MAX_IFACES, sizeof(*s->ifaces));
	if (!s->ifaces)
		return -ENOMEM;
	for (int err = bpf_map_get_next_key(m->ifaces, NULL, &next);
	     !err && s->n_ifaces < VNAT_MAX_IFACES;
	     err = bpf_map_get_next_key(m->ifaces, &key, &next)) {
		struct vnat_status_iface *i = &s->ifaces[s->n_ifaces];

		key = next;
		if (bpf_map_lookup_elem(m->ifaces, &key, &val))
			continue;
		i->ifindex = key;
		i->val = val;
		vnat_datapath__query(key, &i->a);
		i->send_redirects = send_redirects(val.name);
		i->have_stats = !vnat_ifstats__read(key, val.name, &i->stats);
		s->n_ifaces++;
	}
	return 0;
}

static void ifname_of(__u32 ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "?");
}

/* MACs the datapath saw moving between ports as only a duplicate does. */
static int read_duplicates(const struct vnat_maps *m, struct vnat_status *s)
{
	struct vnat_fdb_key key, next;
	struct vnat_macmove mv;
	struct timespec ts;
	int cap = 0;
	__u64 now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	for (int err = bpf_map_get_next_key(m->macmoves, NULL, &next); !err;
	     err = bpf_map_get_next_key(m->macmoves, &key, &next)) {
		struct vnat_status_dup *d;

		key = next;
		if (bpf_map_lookup_elem(m->macmoves, &key, &mv) || mv.moves < VNAT_DUP_MOVES ||
		    now - mv.last_move_ns >= VNAT_DUP_HOLD_NS)
			continue;
		if (s->n_dups == cap) {
			cap = cap ? 2 * cap : 8;
			d = realloc(s->dups, cap * sizeof(*d));
			if (!d)
				return -ENOMEM;
			s->dups = d;
		}
		d = &s->dups[s->n_dups++];
		ifname_of(key.bridge, d->bridge);
		vnat_mac__format(key.mac, d->mac, sizeof(d->mac));
		ifname_of(mv.port, d->port);
		ifname_of(mv.prev_port, d->prev_port);
		d->moves = mv.moves;
	}
	return 0;
}

/* Entries in the flow table, and the collector's runs. */
static void nat_state(const struct vnat_maps *m, uint64_t *flows, uint64_t *gc_runs)
{
	struct vnat_ct_key key, next;
	struct vnat_gc gc;
	__u32 zero = 0;

	*flows = 0;
	for (int err = bpf_map_get_next_key(m->ct, NULL, &next); !err;
	     err = bpf_map_get_next_key(m->ct, &key, &next)) {
		key = next;
		(*flows)++;
	}
	*gc_runs = bpf_map_lookup_elem(m->gc, &zero, &gc) ? 0 : gc.runs;
}

static int status_read(const struct vnat_maps *m, struct vnat_status *s, struct btf **btf)
{
	int err;

	vnat_health__check(m, &s->health);
	s->flushed = vnat_maps__ucount(m, VNAT_UCOUNT_FLUSHED);
	if (s->cfg.flags & VNAT_CFG_NAT)
		nat_state(m, &s->flows, &s->gc_runs);
	err = read_ifaces(m, s);
	if (!err)
		err = read_duplicates(m, s);
	if (!err)
		err = read_counters(m, s, btf);
	return err;
}

static void status_release(struct vnat_status *s, struct btf *btf)
{
	free(s->ifaces);
	free(s->dups);
	free(s->counters);
	btf__free(btf);
}

static struct vnat_out *out_stdout(void)
{
	return vnat_out_new(stdout, vnat_opts.json, vnat_opts.pretty, vnat_opts.verbose);
}

int cmd_status(int argc, char **argv)
{
	static struct vnat_status s;
	struct btf *btf = NULL;
	struct vnat_maps m;
	struct vnat_out *o;
	int err;

	err = cmd_show_options(argc, argv, "status");
	if (err)
		return err > 0 ? 0 : err;
	memset(&s, 0, sizeof(s));
	err = vnat_instance__find(&s.ns, &m);
	if (err == -ENOENT) {
		o = out_stdout();
		if (!o)
			return -ENOMEM;
		vnat_status__describe_not_loaded(o);
		vnat_out_free(o);
		return 0;
	}
	if (err)
		return err;
	err = vnat_maps__read_config(&m, &s.cfg);
	if (err) {
		vnat_err("status: read %s/vnat_config: %s", s.ns.pin_dir, strerror(-err));
		vnat_maps__close(&m);
		return err;
	}
	err = status_read(&m, &s, &btf);
	o = err ? NULL : out_stdout();
	if (o) {
		vnat_status__describe(o, &s);
		vnat_out_free(o);
	} else {
		vnat_err("status: %s", strerror(err ? -err : ENOMEM));
		err = err ?: -ENOMEM;
	}
	status_release(&s, btf);
	vnat_maps__close(&m);
	/* Unhealthy exits 1 (after the full report): a monitoring check. */
	return err ?: vnat_health__ok(&s.health) ? 0 : -EIO;
}
