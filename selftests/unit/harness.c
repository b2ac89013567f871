// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Running vnat's programs on test frames and checking what they did: see harness.h. */
#include <arpa/inet.h> /* first: glibc before linux/ UAPI headers (libc-compat) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include "harness.h"
#include "vnat.skel.h"

/* --- running a program --------------------------------------------------- */

static int test_run(int prog_fd, const void *frame, size_t len, void *ctx, size_t ctx_len,
		    struct run *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .data_out = r->out,
		    .data_size_out = sizeof(r->out), .ctx_in = ctx, .ctx_size_in = ctx_len,
		    .repeat = 1);
	int err;

	memset(r, 0, sizeof(*r));
	err = bpf_prog_test_run_opts(prog_fd, &o);
	if (err)
		return -errno;
	r->retval = o.retval;
	r->out_len = o.data_size_out;
	return 0;
}

int prog_test_run_xdp(int prog_fd, uint32_t ifindex, const void *frame, size_t len, struct run *r)
{
	/* data_end must equal data_size_in; ingress_ifindex picks the rx queue's device. */
	struct xdp_md ctx = { .data = 0, .data_end = len, .ingress_ifindex = ifindex };

	return test_run(prog_fd, frame, len, &ctx, sizeof(ctx), r);
}

int prog_test_run_skb(int prog_fd, uint32_t ifindex, uint32_t in_ifindex, const void *frame,
		      size_t len, struct run *r)
{
	struct __sk_buff ctx = { .ifindex = ifindex, .ingress_ifindex = in_ifindex };

	return test_run(prog_fd, frame, len, &ctx, sizeof(ctx), r);
}

static void assert_ran(const char *what, int err)
{
	if (err)
		print_error("%s test run: %s\n", what, strerror(-err));
	assert_int_equal(err, 0);
}

void xdp_run(const struct vnat_loader *l, uint32_t ifindex, const struct pkt *p, struct run *r)
{
	int fd = bpf_program__fd(l->skel->progs.xdp_vnat_fwd);

	assert_ran("xdp", prog_test_run_xdp(fd, ifindex, p->data, p->len, r));
}

void tc_ingress_run(const struct vnat_loader *l, uint32_t ifindex, const struct pkt *p,
		    struct run *r)
{
	int fd = bpf_program__fd(l->skel->progs.tc_vnat_ingress);

	assert_ran("tc", prog_test_run_skb(fd, ifindex, ifindex, p->data, p->len, r));
}

void tc_egress_run(const struct vnat_loader *l, uint32_t out_ifindex, uint32_t in_ifindex,
		   const struct pkt *p, struct run *r)
{
	int fd = bpf_program__fd(l->skel->progs.tc_vnat_egress);

	assert_ran("tc", prog_test_run_skb(fd, out_ifindex, in_ifindex, p->data, p->len, r));
}

const char *xdp_verdict_name(__u32 v)
{
	static const char *const names[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					     "XDP_REDIRECT" };

	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

const char *tc_verdict_name(__u32 v)
{
	switch ((int)v) {
	case TC_ACT_OK:
		return "TC_ACT_OK";
	case TC_ACT_SHOT:
		return "TC_ACT_SHOT";
	case TC_ACT_REDIRECT:
		return "TC_ACT_REDIRECT";
	case TC_ACT_UNSPEC:
		return "TC_ACT_UNSPEC";
	}
	return "?";
}

/* --- counters ------------------------------------------------------------ */

void counters_read(const struct vnat_loader *l, struct counters *s)
{
	struct vnat_stats all;

	s->l = l;
	/* One read of the whole array; member k is counter k (vnat.h). */
	assert_int_equal(vnat_maps__read_counters(&l->maps, &all), 0);
	_Static_assert(sizeof(all) == sizeof(s->c), "one vnat_counter per enum vnat_stat");
	memcpy(s->c, &all, sizeof(s->c));
}

const char *stat_name(const struct vnat_loader *l, int k)
{
	const struct btf *btf = bpf_object__btf(l->skel->obj);
	const struct btf_type *t;
	int id;

	/* Member k of struct vnat_stats (vnat.h) is counter k. */
	id = btf ? btf__find_by_name_kind(btf, "vnat_stats", BTF_KIND_STRUCT) : -1;
	if (id < 0)
		return "?";
	t = btf__type_by_id(btf, id);
	if (k < 0 || k >= btf_vlen(t))
		return "?";
	return btf__name_by_offset(btf, btf_members(t)[k].name_off);
}

/* What d[n] says counter k must have moved by (nothing when it is not listed). */
static struct delta wanted_delta(const struct delta *d, size_t n, int k)
{
	struct delta w = { k, 0, 0 };

	for (size_t i = 0; i < n; i++) {
		if (d[i].stat == k)
			w = d[i];
	}
	return w;
}

void expect_deltas_(const struct counters *before, const struct delta *d, size_t n)
{
	struct counters after;
	bool ok = true;

	counters_read(before->l, &after);
	for (int k = 0; k < VNAT_STAT_MAX; k++) {
		uint64_t dp = after.c[k].packets - before->c[k].packets;
		uint64_t db = after.c[k].bytes - before->c[k].bytes;
		struct delta w = wanted_delta(d, n, k);

		if (dp != w.packets || db != w.bytes) {
			print_error("counter %s moved by %llu packets/%llu bytes, want %llu/%llu\n",
				    stat_name(before->l, k), (unsigned long long)dp,
				    (unsigned long long)db, (unsigned long long)w.packets,
				    (unsigned long long)w.bytes);
			ok = false;
		}
	}
	assert_true(ok);
}

/* --- running and checking ------------------------------------------------ */

void expect_frame(const struct run *r, const struct pkt *p, const struct pkt *want)
{
	if (want) {
		assert_pkt_equal(r->out, r->out_len, want->data, want->len);
		assert_pkt_csums_ok(r->out, r->out_len);
	} else {
		assert_pkt_equal(r->out, r->out_len, p->data, p->len);
	}
}

/*
 * All a run did since *before: the verdict (if it is another, the frame as
 * it left is shown against the one expected), the frame, the counters.
 */
static void expect_ran(const struct counters *before, const struct run *r,
		       const char *(*name)(__u32), __u32 verdict, const struct pkt *p,
		       const struct pkt *want, const struct delta *d, size_t n)
{
	if (r->retval != verdict) {
		print_error("verdict %s, want %s; the frame as it left:\n", name(r->retval),
			    name(verdict));
		pkt_hexdiff(stderr, r->out, r->out_len, want ? want->data : p->data,
			    want ? want->len : p->len);
	}
	assert_int_equal(r->retval, verdict);
	expect_frame(r, p, want);
	expect_deltas_(before, d, n);
}

void xdp_expect_(const struct vnat_loader *l, uint32_t ifindex, const struct pkt *p, __u32 verdict,
		 const struct pkt *want, const struct delta *d, size_t n)
{
	struct counters before;
	struct run r;

	counters_read(l, &before);
	xdp_run(l, ifindex, p, &r);
	expect_ran(&before, &r, xdp_verdict_name, verdict, p, want, d, n);
}

void tc_ingress_expect_(const struct vnat_loader *l, uint32_t ifindex, const struct pkt *p,
			__u32 verdict, const struct pkt *want, const struct delta *d, size_t n)
{
	struct counters before;
	struct run r;

	counters_read(l, &before);
	tc_ingress_run(l, ifindex, p, &r);
	expect_ran(&before, &r, tc_verdict_name, verdict, p, want, d, n);
}

void tc_egress_expect_(const struct vnat_loader *l, uint32_t out_ifindex, uint32_t in_ifindex,
		       const struct pkt *p, __u32 verdict, const struct pkt *want,
		       const struct delta *d, size_t n)
{
	struct counters before;
	struct run r;

	counters_read(l, &before);
	tc_egress_run(l, out_ifindex, in_ifindex, p, &r);
	expect_ran(&before, &r, tc_verdict_name, verdict, p, want, d, n);
}

/* --- set-up ------------------------------------------------------------- */

void nat_config_default(struct vnat_config *cfg, __be32 snat_addr, uint32_t max_flows,
			uint32_t gc_interval_ms)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->flags = VNAT_CFG_NAT;
	cfg->snat_addr = snat_addr;
	cfg->port_min = VNAT_PORT_MIN;
	cfg->port_max = VNAT_PORT_MAX;
	cfg->filtering = VNAT_FILTER_APDF;
	cfg->timeout_udp = VNAT_TIMEOUT_UDP;
	cfg->timeout_tcp_est = VNAT_TIMEOUT_TCP_EST;
	cfg->timeout_tcp_trans = VNAT_TIMEOUT_TCP_TRANS;
	cfg->timeout_icmp = VNAT_TIMEOUT_ICMP;
	cfg->max_flows = max_flows;
	cfg->gc_interval_ms = gc_interval_ms;
}

/* --- map state ----------------------------------------------------------- */

void map_flush(int fd)
{
	uint8_t key[64], next[64];
	int err = bpf_map_get_next_key(fd, NULL, key);

	/*
	 * Each key is deleted once its successor is known: starting over from
	 * NULL every time would walk the empty buckets again for each entry.
	 */
	while (!err) {
		err = bpf_map_get_next_key(fd, key, next);
		assert_int_equal(bpf_map_delete_elem(fd, key), 0);
		memcpy(key, next, sizeof(key));
	}
	/* And until it is empty, whatever ran meanwhile (the collector's timer). */
	while (!bpf_map_get_next_key(fd, NULL, key))
		assert_int_equal(bpf_map_delete_elem(fd, key), 0);
}

int map_count(int fd)
{
	uint8_t key[64], next[64];
	int n = 0;

	for (int err = bpf_map_get_next_key(fd, NULL, next); !err;
	     err = bpf_map_get_next_key(fd, key, next)) {
		memcpy(key, next, sizeof(key));
		n++;
	}
	return n;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}
