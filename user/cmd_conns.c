// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vnat conns: the translations in vnat_ct, as conntrack -L shows the kernel's. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <netlink/socket.h>
#include "args.h"
#include "cmds.h"
#include "ctnl.h"
#include "datapath.h"
#include "instance.h"
#include "log.h"
#include "out.h"
#include "policy.h"

static const char *proto_name(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	default:
		return "?";
	}
}

static const char *state_name(__u8 state)
{
	static const char *const names[] = {
		[VNAT_TCP_NONE] = "-",
		[VNAT_TCP_SYN_SENT] = "SYN_SENT",
		[VNAT_TCP_SYN_RECV] = "SYN_RECV",
		[VNAT_TCP_ESTABLISHED] = "ESTABLISHED",
		[VNAT_TCP_FIN_WAIT] = "FIN_WAIT",
		[VNAT_TCP_TIME_WAIT] = "TIME_WAIT",
		[VNAT_TCP_CLOSED] = "CLOSE",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

static void endpoint(char *buf, size_t len, __be32 addr, __be16 port)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	snprintf(buf, len, "%s:%u", a, ntohs(port));
}

static __u64 now_ns(void)
{
	struct timespec ts;

	/* bpf_ktime_get_ns() is CLOCK_MONOTONIC. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

struct conn {
	char proto[8], inside[24], outside[24], remote[24], to[24];
	const char *state;
	const char *window; /* kernel TCP: how the kernel's entry tracks it; else NULL */
	__u64 secs_left;
};

static void conn_from(const struct vnat_ct_key *k, const struct vnat_ct_val *v, __u64 now,
		      struct conn *c)
{
	snprintf(c->proto, sizeof(c->proto), "%s", proto_name(k->proto));
	endpoint(c->inside, sizeof(c->inside), k->inside_addr, k->inside_port);
	endpoint(c->outside, sizeof(c->outside), v->outside_addr, v->outside_port);
	endpoint(c->remote, sizeof(c->remote), k->remote_addr, k->remote_port);
	c->state = state_name(v->state);
	if (v->flags & VNAT_CT_KERNEL)
		endpoint(c->to, sizeof(c->to), v->xl_daddr, v->xl_dport);
	else
		c->to[0] = 0;
	c->secs_left = v->expires_ns > now ? (v->expires_ns - now) / 1000000000ull : 0;
}

static void describe_conn(struct vnat_out *o, const struct conn *c, const struct vnat_ct_val *v)
{
	vnat_out_obj_open(o, NULL, NULL, 0);
	vnat_out_str(o, "proto", "proto", c->proto);
	vnat_out_str(o, "inside", "inside", c->inside);
	vnat_out_str(o, "outside", "outside", c->outside);
	vnat_out_str(o, "remote", "remote", c->remote);
	vnat_out_str(o, "by", "by", c->to[0] ? "kernel" : "vnat");
	if (c->to[0])
		vnat_out_str(o, "to", "to", c->to);
	vnat_out_str(o, "state", "state", c->state);
	if (c->window)
		vnat_out_str(o, "window", "window", c->window);
	vnat_out_u64(o, "seconds_left", "expire", c->secs_left);
	vnat_out_u64(o, "packets_out", "pkts-out", v->packets_out);
	vnat_out_u64(o, "bytes_out", "bytes-out", v->bytes_out);
	vnat_out_u64(o, "packets_in", "pkts-in", v->packets_in);
	vnat_out_u64(o, "bytes_in", "bytes-in", v->bytes_in);
	vnat_out_obj_close(o);
}

/*
 * A kernel-admitted flow is two vnat_ct entries, one per direction: the
 * reply direction's packets are this flow's "in" counts.
 */
static void kernel_reply_counts(const struct vnat_maps *m, const struct vnat_ct_key *k,
				struct vnat_ct_val *v)
{
	struct vnat_ct_key rk = { .inside_addr = v->xl_daddr,
				  .remote_addr = v->outside_addr,
				  .inside_port = v->xl_dport,
				  .remote_port = v->outside_port,
				  .proto = k->proto,
				  .pad = { VNAT_CT_KEY_KERNEL } };
	struct vnat_ct_val r;

	if (bpf_map_lookup_elem(m->ct, &rk, &r))
		return;
	v->packets_in = r.packets_out;
	v->bytes_in = r.bytes_out;
}

/*
 * A kernel-admitted TCP flow's window tracking, as the kernel's entry has
 * it now (ctnetlink): "liberal" (both ways: what vnat admits), "strict",
 * or "gone". Its key is the entry's original tuple (the reply direction's
 * vnat_ct entry is not listed).
 */
static const char *kernel_window(struct nl_sock *sk, const struct vnat_ct_key *k,
				 const struct vnat_ct_val *v)
{
	struct vnat_liberal_req r = { .saddr = k->inside_addr,
				      .daddr = k->remote_addr,
				      .sport = k->inside_port,
				      .dport = k->remote_port,
				      .proto = k->proto };
	int lib;

	if (!sk || k->proto != IPPROTO_TCP || !(v->flags & VNAT_CT_KERNEL))
		return NULL;
	lib = vnat_ctnl__is_liberal(sk, &r);
	return lib > 0 ? "liberal" : lib == 0 ? "strict" : lib == -ENOENT ? "gone" : "?";
}

static int list_conns(const struct vnat_maps *m)
{
	struct vnat_out *o = vnat_out_new(stdout, vnat_opts.json, vnat_opts.pretty, false);
	struct nl_sock *sk = vnat_ctnl__open();
	struct vnat_ct_key key, next;
	struct vnat_ct_val val;
	__u64 now = now_ns();
	int n = 0;

	if (!o) {
		if (sk)
			nl_socket_free(sk);
		return -ENOMEM;
	}
	vnat_out_list_open(o, NULL, NULL, 0);
	for (int err = bpf_map_get_next_key(m->ct, NULL, &next); !err;
	     err = bpf_map_get_next_key(m->ct, &key, &next)) {
		struct conn c;

		key = next;
		/* ADF address records are bookkeeping, not connections. */
		if (bpf_map_lookup_elem(m->ct, &key, &val) ||
		    (val.flags & (VNAT_CT_ADDR_ENTRY | VNAT_CT_KREPLY)))
			continue;
		if (val.flags & VNAT_CT_KERNEL)
			kernel_reply_counts(m, &key, &val);
		conn_from(&key, &val, now, &c);
		c.window = kernel_window(sk, &key, &val);
		n++;
		describe_conn(o, &c, &val);
	}
	vnat_out_list_close(o);
	vnat_out_note(o, "%d flow%s", n, n == 1 ? "" : "s");
	vnat_out_free(o);
	if (sk)
		nl_socket_free(sk);
	return 0;
}

/* extra: arguments after "flush" */
static int flush_conns(int extra)
{
	struct vnat_netns ns;
	struct vnat_maps m;
	struct vnat_out *o;
	int err, n;

	if (extra) {
		vnat_err("conns flush: takes no arguments");
		return -EINVAL;
	}
	err = vnat_instance__find(&ns, &m);
	if (err == -ENOENT)
		vnat_err("conns flush: vnat is not loaded in this network namespace");
	if (err)
		return err;
	n = vnat_policy__flush(&m);
	/* status counts hand-backs; the datapath never sees a flush. */
	if (n > 0 && vnat_maps__ucount_add(&m, VNAT_UCOUNT_FLUSHED, n))
		vnat_err("conns flush: count the hand-backs in vnat_ucount: pins of another "
			 "build? (status will not show them)");
	vnat_maps__close(&m);
	o = vnat_out_new(stdout, vnat_opts.json, vnat_opts.pretty, false);
	if (!o)
		return -ENOMEM;
	/* -j: {"handed_back": N} */
	vnat_out_obj_open(o, NULL, NULL, VNAT_OUT_SUMMARY);
	vnat_out_note(o, "%d admitted flow%s handed back to the kernel", n, n == 1 ? "" : "s");
	vnat_out_u64(o, "handed_back", "handed back", n);
	vnat_out_obj_close(o);
	vnat_out_free(o);
	return 0;
}

int cmd_conns(int argc, char **argv)
{
	struct vnat_netns ns;
	struct vnat_maps m;
	int err;

	if (argc > 1 && !strcmp(argv[1], "flush"))
		return flush_conns(argc - 2);
	err = cmd_show_options(argc, argv, "conns");
	if (err)
		return err > 0 ? 0 : err;
	err = vnat_instance__find(&ns, &m);
	if (err == -ENOENT)
		vnat_err("conns: vnat is not loaded in this network namespace");
	if (err)
		return err;
	err = list_conns(&m);
	vnat_maps__close(&m);
	return err;
}
