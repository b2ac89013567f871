// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vnat status, described once for text and JSON (out.h) from a snapshot. */
#include "out.h"
#include "policy.h"
#include "status.h"
#include "warnings.h"

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

static const char *filtering_name(__u8 f)
{
	return f == VNAT_FILTER_EIF ? "eif" : f == VNAT_FILTER_ADF ? "adf" : "apdf";
}

static bool tc_only(__u32 flags)
{
	return flags & (VNAT_IFACE_BRIDGE | VNAT_IFACE_NO_XDP);
}

/* Every hook vnat put on the interface still there? A bridge has no XDP. */
static bool attached_ok(const struct vnat_status_iface *i)
{
	return (tc_only(i->val.flags) || i->a.xdp_id) && i->a.tc_ingress_id && i->a.tc_egress_id;
}

/* Text only: what the JSON leaves to health.detached, and the STP state. */
static const char *iface_state(const struct vnat_status_iface *i)
{
	bool fwd = !(i->val.flags & VNAT_IFACE_PORT) ||
		   i->val.port_state == VNAT_BR_STATE_FORWARDING;

	if (!attached_ok(i))
		return fwd ? "detached!" : "not forwarding, detached!";
	return fwd ? "ok" : "not forwarding";
}

static void describe_config(struct vnat_out *o, const struct vnat_status *s)
{
	const struct vnat_config *cfg = &s->cfg;

	vnat_out_obj_open(o, "config", "config", 0);
	vnat_out_ipv4(o, "snat", "snat", cfg->snat_addr);
	vnat_out_time(o, "loaded_at", "loaded at", cfg->loaded_at);
	vnat_out_bool(o, "masquerade", "masquerade (follows the uplink)",
		      cfg->flags & VNAT_CFG_MASQUERADE);
	vnat_out_str(o, "admission", "admission", cfg->flags & VNAT_CFG_POLICY ? "kernel" : "vnat");
	if (cfg->flags & VNAT_CFG_NAT) {
		vnat_out_u64(o, "port_min", "port min", cfg->port_min);
		vnat_out_u64(o, "port_max", "port max", cfg->port_max);
		vnat_out_str(o, "filtering", "filtering", filtering_name(cfg->filtering));
		vnat_out_str(o, "inbound", "inbound",
			     cfg->flags & VNAT_CFG_INBOUND_KERNEL ? "kernel" : "drop");
		vnat_out_u64(o, "max_flows", "max flows", cfg->max_flows);
		vnat_out_u64(o, "timeout_udp", "timeout udp (s)", cfg->timeout_udp);
		vnat_out_u64(o, "timeout_tcp", "timeout tcp (s)", cfg->timeout_tcp_est);
		vnat_out_u64(o, "timeout_tcp_transitory", "timeout tcp transitory (s)",
			     cfg->timeout_tcp_trans);
		vnat_out_u64(o, "timeout_icmp", "timeout icmp (s)", cfg->timeout_icmp);
		vnat_out_u64(o, "flows", "flows in use", s->flows);
		vnat_out_u64(o, "gc_runs", "collector runs", s->gc_runs);
	}
	vnat_out_obj_close(o);
}

static uint64_t handed_back(const struct vnat_status *s)
{
	return s->totals.admit_gone.packets + s->totals.admit_teardown.packets + s->flushed;
}

/*
 * TCP waits until the daemon marked its kernel entry liberal (policy.h),
 * unless the operator made all TCP liberal. The JSON has the counter
 * (pass_await_liberal) and the health warning.
 */
static void liberal_note(struct vnat_out *o, const struct vnat_status *s)
{
	if (s->cfg.flags & VNAT_CFG_TCP_LIBERAL) {
		vnat_out_note(o, "admission: TCP: the namespace tracks all TCP liberally "
				 "(nf_conntrack_tcp_be_liberal=1, the operator's)");
		return;
	}
	vnat_out_note(o,
		      "admission: TCP: carried once the daemon marked its kernel entry liberal; "
		      "%llu packets waited on the kernel path%s",
		      (unsigned long long)s->totals.pass_await_liberal.packets,
		      s->health.daemon ? "" : " (" VNAT_POLICY_NO_DAEMON ")");
}

/*
 * Who decided what: flow directions the kernel admitted, packets left to
 * its rules (new flows, and flows they refused: those never get admitted),
 * and flows handed back (the kernel's entry gone, TCP teardowns, flushes).
 * The JSON has these in "admission" (the flushed ones are no counter: only
 * user space sees a flush, vnat_ucount).
 */
static void admission_note(struct vnat_out *o, const struct vnat_status *s)
{
	const struct vnat_stats *c = &s->totals;

	vnat_out_obj_open(o, "admission", NULL, 0);
	vnat_out_str(o, "mode", NULL, s->cfg.flags & VNAT_CFG_POLICY ? "kernel" : "vnat");
	vnat_out_u64(o, "admitted", NULL, c->admit_flow.packets);
	vnat_out_u64(o, "left_to_kernel", NULL, c->pass_admission.packets);
	vnat_out_u64(o, "handed_back", NULL, handed_back(s));
	vnat_out_u64(o, "handed_back_gone", NULL, c->admit_gone.packets);
	vnat_out_u64(o, "handed_back_teardown", NULL, c->admit_teardown.packets);
	vnat_out_u64(o, "handed_back_flushed", NULL, s->flushed);
	vnat_out_obj_close(o);
	if (!(s->cfg.flags & VNAT_CFG_POLICY))
		return;
	vnat_out_note(
		o,
		"admission: %llu flow directions admitted, %llu packets left to the kernel's "
		"rules (new or refused flows), %llu flows handed back (%llu entries gone, %llu "
		"TCP teardowns, %llu flushed)%s",
		(unsigned long long)c->admit_flow.packets,
		(unsigned long long)c->pass_admission.packets, (unsigned long long)handed_back(s),
		(unsigned long long)c->admit_gone.packets,
		(unsigned long long)c->admit_teardown.packets, (unsigned long long)s->flushed,
		s->cfg.flags & VNAT_CFG_BRIDGE_POLICY ?
			"; bridge filtering: port to port by the kernel" :
			"");
	liberal_note(o, s);
}

static void describe_iface(struct vnat_out *o, const struct vnat_status_iface *i)
{
	vnat_out_obj_open(o, NULL, NULL, 0);
	vnat_out_str(o, "name", "name", i->val.name);
	vnat_out_u64(o, "ifindex", "ifindex", i->ifindex);
	vnat_out_mac(o, "mac", "mac", i->val.mac);
	vnat_out_str(o, "role", "role", role_name(i->val.flags));
	/* where the fast path runs here, and the --hook asked for */
	vnat_out_str(o, "hook", "hook", tc_only(i->val.flags) ? "tc" : "xdp");
	vnat_out_str(o, "hook_option", "asked", vnat_hook__option(i->val.flags));
	vnat_out_text_str(o, "why", tc_only(i->val.flags) ? vnat_hook__reason(i->val.flags) : "-");
	if (i->send_redirects >= 0)
		vnat_out_bool(o, "send_redirects", "redirects", i->send_redirects > 0);
	vnat_out_obj_open(o, "xdp", "xdp/mode", 0);
	vnat_out_u64(o, "id", "id", i->a.xdp_id);
	vnat_out_str(o, "mode", "mode", mode_name(i->a.xdp_mode));
	vnat_out_obj_close(o);
	vnat_out_obj_open(o, "tc", "tc-in/out", 0);
	vnat_out_u64(o, "ingress", "ingress", i->a.tc_ingress_id);
	vnat_out_u64(o, "egress", "egress", i->a.tc_egress_id);
	vnat_out_obj_close(o);
	vnat_out_text_str(o, "state", iface_state(i));
	vnat_ifstats__describe(o, i->have_stats ? &i->stats : NULL);
	vnat_out_obj_close(o);
}

static void describe_dup(struct vnat_out *o, const struct vnat_status_dup *d)
{
	vnat_out_obj_open(o, NULL, NULL, 0);
	vnat_out_str(o, "bridge", "bridge", d->bridge);
	vnat_out_str(o, "mac", "mac", d->mac);
	vnat_out_list_open(o, "ports", "ports", 0);
	vnat_out_str(o, NULL, NULL, d->port);
	vnat_out_str(o, NULL, NULL, d->prev_port);
	vnat_out_list_close(o);
	vnat_out_u64(o, "moves", "moves (10 s)", d->moves);
	vnat_out_obj_close(o);
}

/* Counters that moved; the zeros only with -v in the text (JSON always has all). */
static void describe_counters(struct vnat_out *o, const struct vnat_status *s)
{
	int hidden;

	vnat_out_obj_open(o, "counters", "counters", VNAT_OUT_ROWS);
	for (int i = 0; i < s->n_counters; i++) {
		vnat_out_obj_open(o, s->counters[i].name, s->counters[i].name, VNAT_OUT_NONZERO);
		vnat_out_u64(o, "packets", "packets", s->counters[i].c.packets);
		vnat_out_u64(o, "bytes", "bytes", s->counters[i].c.bytes);
		vnat_out_obj_close(o);
	}
	vnat_out_obj_close(o);
	hidden = vnat_out_hidden(o);
	if (!s->have_btf)
		vnat_out_note(o, "(no BTF on the stats map: the counters have no names)");
	else if (hidden)
		vnat_out_note(o, "(%d counters at zero not shown: vnat -v status)", hidden);
}

void vnat_status__describe(struct vnat_out *o, const struct vnat_status *s)
{
	vnat_out_obj_open(o, NULL, NULL, 0);
	/* the text says "not loaded" instead, and starts with the health line */
	vnat_out_bool(o, "loaded", NULL, true);
	vnat_health__describe(o, &s->health);
	vnat_out_u64(o, "netns_cookie", "netns cookie", s->ns.cookie);
	vnat_out_str(o, "pin_dir", "pins in", s->ns.pin_dir);
	describe_config(o, s);
	admission_note(o, s);
	vnat_out_str(o, "redirects", "redirects",
		     s->cfg.flags & VNAT_CFG_KEEP_REDIRECTS ? "keep" : "suppress");
	vnat_out_list_open(o, "interfaces", "interfaces", 0);
	for (int i = 0; i < s->n_ifaces; i++)
		describe_iface(o, &s->ifaces[i]);
	vnat_out_list_close(o);
	vnat_warnings__describe(o, s->health.warnings,
				s->health.n_warnings < VNAT_MAX_WARNINGS ? s->health.n_warnings :
									   VNAT_MAX_WARNINGS);
	vnat_out_list_open(o, "duplicate_macs", "duplicate MACs", 0);
	for (int i = 0; i < s->n_dups; i++)
		describe_dup(o, &s->dups[i]);
	vnat_out_list_close(o);
	if (s->n_dups)
		vnat_out_note(o, "(a MAC on two ports: its frames go to the kernel bridge)");
	describe_counters(o, s);
	vnat_out_obj_close(o);
}

void vnat_status__describe_not_loaded(struct vnat_out *o)
{
	vnat_out_obj_open(o, NULL, NULL, VNAT_OUT_SUMMARY);
	vnat_out_note(o, "vnat: not loaded in this network namespace");
	vnat_out_bool(o, "loaded", "loaded", false);
	vnat_out_obj_close(o);
}
