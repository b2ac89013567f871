// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vnat status: what runs here, read back from the pins and the kernel. */
#include <arpa/inet.h>
#include <ctype.h>
#include <net/if.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
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
#include "json.h"
#include "log.h"
#include "warnings.h"

static const char status_usage[] =
	"Usage: vnat status [-j|--json] [-p|--pretty] [-v|--verbose]\n"
	"\n"
	"Show a health line (exit 1 when a managed interface lost its hooks),\n"
	"the managed interfaces, their program ids and attach mode, the\n"
	"configuration and the per-reason counters.\n"
	"\n"
	"  -j, --json      JSON output\n"
	"  -p, --pretty    indented JSON\n"
	"  -v, --verbose   the counters at zero too\n"
	"  -h, --help      this text\n";

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

static void print_counters_json(struct vnat_json *j, const struct vnat_maps *m)
{
	const struct btf_type *val;
	struct btf *btf = stats_btf(m->stats, &val);
	struct vnat_stats all;
	const char *name;
	int k;

	vnat_json_obj_open(j, "counters");
	if (vnat_maps__read_counters(m, &all)) {
		btf__free(btf);
		btf = NULL;
	}
	for (int i = 0; btf && i < btf_vlen(val); i++) {
		struct vnat_counter c;

		k = counter_member(btf, val, i, &name);
		if (k < 0)
			continue;
		c = ((struct vnat_counter *)&all)[k];
		vnat_json_obj_open(j, name);
		vnat_json_u64(j, "packets", c.packets);
		vnat_json_u64(j, "bytes", c.bytes);
		vnat_json_obj_close(j);
	}
	vnat_json_obj_close(j);
	btf__free(btf);
}

/* Counters that moved; the zeros only with -v (JSON always has all). */
static void print_counters_text(const struct vnat_maps *m)
{
	const struct btf_type *val;
	struct btf *btf = stats_btf(m->stats, &val);
	struct vnat_stats all;
	const char *name;
	int zeros = 0, k;

	printf("counters:%s\n", btf ? "" : " (no BTF on the stats map)");
	if (vnat_maps__read_counters(m, &all)) {
		btf__free(btf);
		btf = NULL;
	}
	for (int i = 0; btf && i < btf_vlen(val); i++) {
		struct vnat_counter c;

		k = counter_member(btf, val, i, &name);
		if (k < 0)
			continue;
		c = ((struct vnat_counter *)&all)[k];
		if (!c.packets && !vnat_opts.verbose) {
			zeros++;
			continue;
		}
		printf("  %-20s %12llu packets %16llu bytes\n", name, (unsigned long long)c.packets,
		       (unsigned long long)c.bytes);
	}
	if (zeros)
		printf("  (%d counters at zero not shown: vnat -v status)\n", zeros);
	btf__free(btf);
}

typedef void (*iface_fn)(void *ctx, __u32 ifindex, const struct vnat_iface *val,
			 const struct vnat_attachment *a);

static void for_each_iface(const struct vnat_maps *m, iface_fn fn, void *ctx)
{
	struct vnat_iface val;
	__u32 key, next;

	for (int err = bpf_map_get_next_key(m->ifaces, NULL, &next); !err;
	     err = bpf_map_get_next_key(m->ifaces, &key, &next)) {
		struct vnat_attachment a;

		key = next;
		if (bpf_map_lookup_elem(m->ifaces, &key, &val))
			continue;
		vnat_datapath__query(key, &a);
		fn(ctx, key, &val, &a);
	}
}

static const char *mode_name(enum vnat_xdp_mode mode)
{
	return mode == VNAT_MODE_SKB ? "skb" : "native";
}

static const char *role_name(__u32 flags)
{
	if (flags & VNAT_IFACE_PORT)
		return "port";
	if (flags & VNAT_IFACE_OUTSIDE)
		return "uplink";
	return flags & VNAT_IFACE_INSIDE ? "inside" : "routed";
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

static const char *ifname_of(__u32 ifindex, char *buf)
{
	return if_indextoname(ifindex, buf) ? buf : "?";
}

typedef void (*dup_fn)(void *ctx, const struct vnat_fdb_key *k, const struct vnat_macmove *mv);

/* MACs the datapath saw moving between ports as only a duplicate does. */
static int for_each_duplicate(const struct vnat_maps *m, dup_fn fn, void *ctx)
{
	struct vnat_fdb_key key, next;
	struct vnat_macmove mv;
	struct timespec ts;
	__u64 now;
	int n = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	for (int err = bpf_map_get_next_key(m->macmoves, NULL, &next); !err;
	     err = bpf_map_get_next_key(m->macmoves, &key, &next)) {
		key = next;
		if (bpf_map_lookup_elem(m->macmoves, &key, &mv) || mv.moves < VNAT_DUP_MOVES ||
		    now - mv.last_move_ns >= VNAT_DUP_HOLD_NS)
			continue;
		if (fn)
			fn(ctx, &key, &mv);
		n++;
	}
	return n;
}

static void dup_json(void *ctx, const struct vnat_fdb_key *k, const struct vnat_macmove *mv)
{
	char mac[18], a[IF_NAMESIZE], b[IF_NAMESIZE], br[IF_NAMESIZE];
	struct vnat_json *j = ctx;

	vnat_mac__format(k->mac, mac, sizeof(mac));
	vnat_json_obj_open(j, NULL);
	vnat_json_str(j, "bridge", ifname_of(k->bridge, br));
	vnat_json_str(j, "mac", mac);
	vnat_json_arr_open(j, "ports");
	vnat_json_str(j, NULL, ifname_of(mv->port, a));
	vnat_json_str(j, NULL, ifname_of(mv->prev_port, b));
	vnat_json_arr_close(j);
	vnat_json_u64(j, "moves", mv->moves);
	vnat_json_obj_close(j);
}

static void dup_text(void *ctx, const struct vnat_fdb_key *k, const struct vnat_macmove *mv)
{
	char mac[18], a[IF_NAMESIZE], b[IF_NAMESIZE], br[IF_NAMESIZE];

	(void)ctx;
	vnat_mac__format(k->mac, mac, sizeof(mac));
	printf("  DUPLICATE MAC %s on %s: ports %s and %s (%u moves in 10 s); its frames go "
	       "to the kernel bridge\n",
	       mac, ifname_of(k->bridge, br), ifname_of(mv->port, a), ifname_of(mv->prev_port, b),
	       mv->moves);
}

/* Every hook vnat put on the interface still there? A bridge has no XDP. */
static bool attached_ok(const struct vnat_iface *val, const struct vnat_attachment *a)
{
	bool xdp = (val->flags & (VNAT_IFACE_BRIDGE | VNAT_IFACE_NO_XDP)) || a->xdp_id;

	return xdp && a->tc_ingress_id && a->tc_egress_id;
}

static const char *filtering_name(__u8 f)
{
	return f == VNAT_FILTER_EIF ? "eif" : f == VNAT_FILTER_ADF ? "adf" : "apdf";
}

/* Entries in the flow table, and the collector's runs. */
static void nat_state(const struct vnat_maps *m, __u64 *flows, __u64 *gc_runs)
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

static void iface_json(void *ctx, __u32 ifindex, const struct vnat_iface *val,
		       const struct vnat_attachment *a)
{
	struct vnat_json *j = ctx;
	char mac[18];

	vnat_mac__format(val->mac, mac, sizeof(mac));
	vnat_json_obj_open(j, NULL);
	vnat_json_str(j, "name", val->name);
	vnat_json_u64(j, "ifindex", ifindex);
	vnat_json_str(j, "mac", mac);
	vnat_json_str(j, "role", role_name(val->flags));
	/* where the fast path runs here, and the --hook asked for */
	vnat_json_str(j, "hook",
		      val->flags & (VNAT_IFACE_BRIDGE | VNAT_IFACE_NO_XDP) ? "tc" : "xdp");
	vnat_json_str(j, "hook_option", vnat_hook__option(val->flags));
	if (send_redirects(val->name) >= 0)
		vnat_json_bool(j, "send_redirects", send_redirects(val->name) > 0);
	vnat_json_obj_open(j, "xdp");
	vnat_json_u64(j, "id", a->xdp_id);
	vnat_json_str(j, "mode", mode_name(a->xdp_mode));
	vnat_json_obj_close(j);
	vnat_json_obj_open(j, "tc");
	vnat_json_u64(j, "ingress", a->tc_ingress_id);
	vnat_json_u64(j, "egress", a->tc_egress_id);
	vnat_json_obj_close(j);
	vnat_ifstats__json(j, ifindex, val->name);
	vnat_json_obj_close(j);
}

static void iface_text(void *ctx, __u32 ifindex, const struct vnat_iface *val,
		       const struct vnat_attachment *a)
{
	char mac[18], xdp[40];

	(void)ctx;
	vnat_mac__format(val->mac, mac, sizeof(mac));
	if (val->flags & VNAT_IFACE_BRIDGE)
		snprintf(xdp, sizeof(xdp), "bridge (ports)");
	else if (val->flags & VNAT_IFACE_NO_XDP)
		snprintf(xdp, sizeof(xdp), "tc only (%s)", vnat_hook__reason(val->flags));
	else
		snprintf(xdp, sizeof(xdp), "xdp %u (%s)", a->xdp_id, mode_name(a->xdp_mode));
	printf("  %-15s %-6s ifindex %-4u %s  %-18s tc %u/%u  send_redirects %s%s%s\n", val->name,
	       role_name(val->flags), ifindex, mac, xdp, a->tc_ingress_id, a->tc_egress_id,
	       send_redirects(val->name) < 0 ? "?" :
	       send_redirects(val->name)     ? "on" :
					       "off",
	       (val->flags & VNAT_IFACE_PORT) && val->port_state != VNAT_BR_STATE_FORWARDING ?
		       "  [not forwarding]" :
		       "",
	       attached_ok(val, a) ? "" : "  [detached!]");
	vnat_ifstats__text(ifindex, val->name);
}

static void snat_text(const struct vnat_config *cfg, char *buf, size_t len)
{
	if (cfg->snat_addr)
		inet_ntop(AF_INET, &cfg->snat_addr, buf, len);
	else
		snprintf(buf, len, "none");
}

/*
 * Who decided what, as admission_text says it; handed_back is the sum of
 * its three reasons. The flushed ones only user space counts (vnat_ucount).
 */
static void admission_json(struct vnat_json *j, const struct vnat_maps *m,
			   const struct vnat_config *cfg)
{
	__u64 flushed = vnat_maps__ucount(m, VNAT_UCOUNT_FLUSHED);
	struct vnat_stats c;

	if (vnat_maps__read_counters(m, &c))
		return;
	vnat_json_obj_open(j, "admission");
	vnat_json_str(j, "mode", cfg->flags & VNAT_CFG_POLICY ? "kernel" : "vnat");
	vnat_json_u64(j, "admitted", c.admit_flow.packets);
	vnat_json_u64(j, "left_to_kernel", c.pass_admission.packets);
	vnat_json_u64(j, "handed_back", c.admit_gone.packets + c.admit_teardown.packets + flushed);
	vnat_json_u64(j, "handed_back_gone", c.admit_gone.packets);
	vnat_json_u64(j, "handed_back_teardown", c.admit_teardown.packets);
	vnat_json_u64(j, "handed_back_flushed", flushed);
	vnat_json_obj_close(j);
}

static void status_json(const struct vnat_netns *ns, const struct vnat_maps *m,
			const struct vnat_config *cfg, const struct vnat_health *h)
{
	struct vnat_json *j = vnat_json_new(stdout, vnat_opts.pretty);
	char snat[INET_ADDRSTRLEN];

	vnat_json_obj_open(j, NULL);
	vnat_json_bool(j, "loaded", true);
	vnat_health__json(j, h);
	vnat_json_u64(j, "netns_cookie", ns->cookie);
	vnat_json_str(j, "pin_dir", ns->pin_dir);
	vnat_json_obj_open(j, "config");
	snat_text(cfg, snat, sizeof(snat));
	if (cfg->snat_addr)
		vnat_json_str(j, "snat", snat);
	else
		vnat_json_null(j, "snat");
	vnat_json_u64(j, "loaded_at", cfg->loaded_at);
	vnat_json_bool(j, "masquerade", cfg->flags & VNAT_CFG_MASQUERADE);
	vnat_json_str(j, "admission", cfg->flags & VNAT_CFG_POLICY ? "kernel" : "vnat");
	if (cfg->flags & VNAT_CFG_NAT) {
		__u64 flows, runs;

		nat_state(m, &flows, &runs);
		vnat_json_u64(j, "port_min", cfg->port_min);
		vnat_json_u64(j, "port_max", cfg->port_max);
		vnat_json_str(j, "filtering", filtering_name(cfg->filtering));
		vnat_json_str(j, "inbound",
			      cfg->flags & VNAT_CFG_INBOUND_KERNEL ? "kernel" : "drop");
		vnat_json_u64(j, "max_flows", cfg->max_flows);
		vnat_json_u64(j, "timeout_udp", cfg->timeout_udp);
		vnat_json_u64(j, "timeout_tcp", cfg->timeout_tcp_est);
		vnat_json_u64(j, "timeout_tcp_transitory", cfg->timeout_tcp_trans);
		vnat_json_u64(j, "timeout_icmp", cfg->timeout_icmp);
		vnat_json_u64(j, "flows", flows);
		vnat_json_u64(j, "gc_runs", runs);
	}
	vnat_json_obj_close(j);
	admission_json(j, m, cfg);
	vnat_json_str(j, "redirects", cfg->flags & VNAT_CFG_KEEP_REDIRECTS ? "keep" : "suppress");
	vnat_json_arr_open(j, "interfaces");
	for_each_iface(m, iface_json, j);
	vnat_json_arr_close(j);
	vnat_warnings__json(j, m);
	vnat_json_arr_open(j, "duplicate_macs");
	for_each_duplicate(m, dup_json, j);
	vnat_json_arr_close(j);
	print_counters_json(j, m);
	vnat_json_obj_close(j);
	vnat_json_free(j);
}

/*
 * Who decided what: flow directions the kernel admitted, packets left to
 * its rules (new flows, and flows they refused: those never get admitted),
 * and flows handed back (the kernel's entry gone, TCP teardowns, flushes).
 */
static void admission_text(const struct vnat_maps *m, const struct vnat_config *cfg)
{
	__u64 flushed = vnat_maps__ucount(m, VNAT_UCOUNT_FLUSHED);
	struct vnat_stats c;

	if (!(cfg->flags & VNAT_CFG_POLICY) || vnat_maps__read_counters(m, &c))
		return;
	printf("admission: %llu flow directions admitted, %llu packets left to the kernel's "
	       "rules (new or refused flows), %llu flows handed back (%llu entries gone, %llu "
	       "TCP teardowns, %llu flushed)%s\n",
	       (unsigned long long)c.admit_flow.packets,
	       (unsigned long long)c.pass_admission.packets,
	       (unsigned long long)(c.admit_gone.packets + c.admit_teardown.packets + flushed),
	       (unsigned long long)c.admit_gone.packets,
	       (unsigned long long)c.admit_teardown.packets, (unsigned long long)flushed,
	       cfg->flags & VNAT_CFG_BRIDGE_POLICY ?
		       "; bridge filtering: port to port by the kernel" :
		       "");
}

static void status_text(const struct vnat_netns *ns, const struct vnat_maps *m,
			const struct vnat_config *cfg, const struct vnat_health *h)
{
	char snat[INET_ADDRSTRLEN], when[64];
	time_t t = cfg->loaded_at;

	vnat_health__text(h);
	snat_text(cfg, snat, sizeof(snat));
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
	printf("vnat: loaded since %s, pins in %s\n", when, ns->pin_dir);
	printf("config: snat %s%s\n", snat,
	       cfg->flags & VNAT_CFG_MASQUERADE ? " (--masquerade: follows the uplink)" : "");
	printf("admission: %s\n",
	       cfg->flags & VNAT_CFG_POLICY ?
		       "kernel (the host's firewall and NAT rules decide each new flow; vnat "
		       "carries what the kernel admitted)" :
		       "vnat (no netfilter rules, or --admission vnat)");
	admission_text(m, cfg);
	if (cfg->flags & VNAT_CFG_NAT) {
		__u64 flows, runs;

		nat_state(m, &flows, &runs);
		printf("nat: ports %u-%u, filtering %s, timeouts udp %us tcp %us transitory %us "
		       "icmp %us\n",
		       cfg->port_min, cfg->port_max, filtering_name(cfg->filtering),
		       cfg->timeout_udp, cfg->timeout_tcp_est, cfg->timeout_tcp_trans,
		       cfg->timeout_icmp);
		printf("nat: %llu of %u flow entries in use, collector runs %llu\n",
		       (unsigned long long)flows, cfg->max_flows, (unsigned long long)runs);
	}
	printf("redirects: %s (the kernel's send_redirects per interface below)\n",
	       cfg->flags & VNAT_CFG_KEEP_REDIRECTS ? "keep" : "suppress");
	vnat_warnings__text(m);
	printf("interfaces:\n");
	for_each_iface(m, iface_text, NULL);
	for_each_duplicate(m, dup_text, NULL);
	print_counters_text(m);
}

int cmd_status(int argc, char **argv)
{
	struct vnat_health health;
	struct vnat_config cfg;
	struct vnat_netns ns;
	struct vnat_maps m;
	int err;

	err = cmd_show_options(argc, argv, "status", status_usage);
	if (err)
		return err > 0 ? 0 : err;
	err = vnat_instance__find(&ns, &m);
	if (err == -ENOENT) {
		if (vnat_opts.json) {
			struct vnat_json *j = vnat_json_new(stdout, vnat_opts.pretty);

			vnat_json_obj_open(j, NULL);
			vnat_json_bool(j, "loaded", false);
			vnat_json_obj_close(j);
			vnat_json_free(j);
		} else {
			printf("vnat: not loaded in this network namespace\n");
		}
		return 0;
	}
	if (err)
		return err;
	err = vnat_maps__read_config(&m, &cfg);
	vnat_health__check(&m, &health);
	if (err)
		vnat_err("status: read %s/vnat_config: %s", ns.pin_dir, strerror(-err));
	else if (vnat_opts.json)
		status_json(&ns, &m, &cfg, &health);
	else
		status_text(&ns, &m, &cfg, &health);
	vnat_maps__close(&m);
	/* Unhealthy exits 1 (after the full report): a monitoring check. */
	return err ?: vnat_health__ok(&health) ? 0 : -EIO;
}
