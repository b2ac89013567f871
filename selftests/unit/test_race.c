// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Mapping creation racing on two CPUs (issue 3). bpf/lib/ct.h claims an
 * outside port by inserting it into vnat_ports with BPF_NOEXIST, and the
 * mapping into vnat_mappings the same way, so that two CPUs handling the
 * first packets of one inside endpoint at the same moment end with one
 * mapping, one port, and every flow of the endpoint on that port; and so
 * that no port is ever given to two endpoints.
 *
 * Two threads, each pinned to a CPU of its own, run BPF_PROG_TEST_RUN on
 * the programs of one loaded skeleton. For every inside endpoint in turn
 * (the same order in both) each sends the first packet of a new flow,
 * thread 0 to remotes[0] and thread 1 to remotes[1], so both must create or
 * reuse the endpoint-independent mapping (RFC 4787 REQ-1). A two-party
 * spin barrier before every endpoint keeps them in step, so that their
 * runs for one endpoint overlap in time: the overlaps are counted. A round
 * without enough of them proves nothing (another load took a CPU away
 * meanwhile): more rounds are run, within a bound, and the test fails if
 * none had enough. After each round, whatever its overlaps, the main thread
 * checks, from empty tables and with no flow expiring in between (so every
 * port ever handed out is still on record):
 *
 *   - every run worked and was forwarded; in a narrow range some are
 *     refused instead (more endpoints than ports), and the range ends full;
 *   - each endpoint has exactly one vnat_mappings entry, held by as many
 *     flows as it got, and no two mappings share a port;
 *   - vnat_ports is the exact reverse: one claim per mapping, naming its
 *     endpoint, none left behind by the CPU that lost a race;
 *   - both threads' vnat_ct entries of an endpoint carry the mapping's
 *     port, and so does the frame each thread got back (compared whole);
 *   - the counters moved by exactly that: a new mapping per endpoint,
 *     drop_no_port per refused flow, nothing else.
 *
 * The group setup moves the process into a network namespace of its own
 * (the host's is never touched) and builds:
 *
 *   guests 10.200.0.10-29 -- in0 10.200.0.1/16                 (inside)
 *                            out0 192.168.1.101/24 -- gw 192.168.1.1 (uplink)
 *   default via 192.168.1.1; the remotes 198.51.100.10, .11 are out there
 */
#include <arpa/inet.h> /* first: glibc before linux/ UAPI headers (libc-compat) */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include "args.h"
#include "datapath.h"
#include "harness.h"
#include "iface.h"
#include "log.h"
#include "netns_setup.h"
#include "pktbuild.h"
#include "sync.h"
#include "vnat.skel.h"

#define SNAT "192.168.1.101"
#define GW "192.168.1.1"
#define GUEST_NET "10.200.0."
#define N_GUESTS 20
#define GUEST_FIRST 10 /* 10.200.0.10 .. 10.200.0.29 */
#define PORT_FIRST 40000
#define REMOTE_PORT 53
#define PAYLOAD 18

/* 2000 endpoints: guest i % 20, port 40000 + i / 20; neighbours share a port. */
#define N_ENDPOINTS 2000
/* The narrow range: 64 ports for 200 endpoints (vnat load --ports 40000-40063). */
#define NARROW_PORTS "40000-40063"
#define NARROW_ENDPOINTS 200

#define MAX_FLOWS 16384
#define FRAME_MAX 128 /* room for every frame of this test */
/*
 * Rounds per test: as many as fit in the time budget, within these bounds.
 * A broken claim shows in the first round already (most endpoints race);
 * the other rounds are for rarer interleavings, as time allows on a busy
 * machine.
 */
#define ROUNDS_MIN 3
#define ROUNDS_MAX 20
#define ROUNDS_BUDGET_NS 2500000000ull
/* Runs of one endpoint by both threads that must overlap in time, in one round at least. */
#define MIN_OVERLAP_PERCENT 5
/*
 * While no round has reached MIN_OVERLAP_PERCENT, rounds go on past
 * ROUNDS_MAX and the budget, up to these bounds.
 */
#define ROUNDS_EXTRA 30
#define ROUNDS_EXTRA_BUDGET_NS 10000000000ull

static const char *const remotes[2] = { "198.51.100.10", "198.51.100.11" };
static const uint8_t gw_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0x01, 0x01 };

static struct vnat_loader l;
static bool loaded;
static struct vnat_iface_info in0, out0;
static int cpus[2]; /* the two CPUs the threads are pinned to; -1: fewer than two */

/* --- setup --------------------------------------------------------------- */

static const char *const topo[] = {
	"ip link set lo up",
	"ip link add in0 address 02:00:00:00:00:10 type veth peer name in0p "
	"address 02:00:00:00:00:11",
	"ip link add out0 address 02:00:00:00:00:20 type veth peer name out0p "
	"address 02:00:00:00:00:21",
	"ip addr add 10.200.0.1/16 dev in0",
	"ip addr add " SNAT "/24 dev out0",
	"ip link set in0p up",
	"ip link set out0p up",
	"ip link set in0 up",
	"ip link set out0 up",
	"ip neigh replace " GW " lladdr 02:00:00:00:01:01 dev out0 nud permanent",
	"ip route add default via " GW,
};

/* The first two CPUs this process may run on, or -1s when there are fewer. */
static void pick_cpus(void)
{
	cpu_set_t set;
	int n = 0;

	cpus[0] = cpus[1] = -1;
	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++) {
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	}
	if (n < 2)
		cpus[0] = cpus[1] = -1;
}

static int group_setup(void **state)
{
	/* XDP targets, as NICs running vnat natively are (topo.c). */
	static const struct vnat_role inside = { .flags = VNAT_IFACE_INSIDE | VNAT_IFACE_XDP_TX };
	static const struct vnat_role outside = { .flags = VNAT_IFACE_OUTSIDE | VNAT_IFACE_XDP_TX };
	struct vnat_config cfg;

	(void)state;
	pick_cpus();
	if (netns_enter_private())
		return -1;
	if (sh_each(topo, sizeof(topo) / sizeof(topo[0])))
		return -1;
	if (sysctl_write("/proc/sys/net/ipv4/ip_forward", "1"))
		return -1;
	if (iface_resolve("in0", &in0) || iface_resolve("out0", &out0))
		return -1;
	vnat_log_init(false, getenv("V") && !strcmp(getenv("V"), "1"));
	if (vnat_loader__open(&l, NULL, MAX_FLOWS))
		return -1;
	loaded = true;
	/* The collector never finds anything expired here: let it run seldom. */
	nat_config_default(&cfg, pkt_ip4(SNAT), MAX_FLOWS, 10000);
	if (vnat_maps__write_config(&l.maps, &cfg) ||
	    vnat_loader__register(&l, &in0, VNAT_MODE_NATIVE, &inside) ||
	    vnat_loader__register(&l, &out0, VNAT_MODE_NATIVE, &outside) ||
	    vnat_sync__prefixes(&l.maps, &in0.ifindex, 1) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (loaded)
		vnat_loader__close(&l);
	loaded = false;
	return 0;
}

/*
 * The port range of `vnat load --iface in0 --snat SNAT [--ports RANGE]`,
 * parsed by the CLI's own parser, into the configuration.
 */
static void set_ports(const char *range)
{
	char *argv[] = { "load", "--iface", "in0", "--snat", SNAT, "--ports", (char *)range, NULL };
	struct vnat_load_opts o;
	struct vnat_config cfg;

	assert_int_equal(vnat_args__parse_load(range ? 7 : 5, argv, &o), 0);
	assert_int_equal(vnat_maps__read_config(&l.maps, &cfg), 0);
	cfg.port_min = o.port_min;
	cfg.port_max = o.port_max;
	assert_int_equal(vnat_maps__write_config(&l.maps, &cfg), 0);
}

static void tables_empty(void)
{
	map_flush(l.maps.ct);
	map_flush(l.maps.mappings);
	map_flush(l.maps.ports);
}

/* Every test starts from empty tables and the default range. */
static int reset(void **state)
{
	(void)state;
	tables_empty();
	set_ports(NULL);
	return 0;
}

/* --- endpoints and frames ------------------------------------------------ */

struct endpoint {
	char ip[16];
	uint8_t mac[ETH_ALEN];
	uint16_t port; /* host order */
};

static struct endpoint eps[N_ENDPOINTS];

static void endpoints_init(void)
{
	for (int i = 0; i < N_ENDPOINTS; i++) {
		int g = i % N_GUESTS;

		snprintf(eps[i].ip, sizeof(eps[i].ip), GUEST_NET "%d", GUEST_FIRST + g);
		memcpy(eps[i].mac, (uint8_t[ETH_ALEN]){ 0x02, 0, 0, 0, 0x0a, g }, ETH_ALEN);
		eps[i].port = PORT_FIRST + i / N_GUESTS;
	}
}

/* Where a thread's packets enter vnat. */
enum hook {
	HOOK_XDP, /* XDP on in0, as the guest sent it */
	HOOK_TC_INGRESS, /* tc ingress on in0, as the guest sent it */
	HOOK_TC_EGRESS, /* tc egress on out0, as the kernel forwarded it (routed, untranslated) */
};

struct frame {
	uint8_t data[FRAME_MAX];
	uint32_t len;
};

/* One first packet: UDP, or a TCP SYN. */
static void build(struct frame *f, uint8_t proto, const uint8_t *dmac, const uint8_t *smac,
		  const char *saddr, uint16_t sport, const char *daddr, uint8_t ttl)
{
	struct pkt p;
	struct iphdr *ip;

	pkt_init(&p);
	pkt_push_eth(&p, dmac, smac, ETH_P_IP);
	ip = pkt_push_ipv4(&p, pkt_ip4(saddr), pkt_ip4(daddr), proto);
	ip->id = htons(0x5151);
	ip->ttl = ttl;
	if (proto == IPPROTO_TCP)
		pkt_push_tcp(&p, sport, REMOTE_PORT, 1000, 0, PKT_TCP_SYN);
	else
		pkt_push_udp(&p, sport, REMOTE_PORT);
	pkt_push_data(&p, NULL, PAYLOAD);
	pkt_finish(&p);
	assert_true(p.len <= FRAME_MAX);
	memcpy(f->data, p.data, p.len);
	f->len = p.len;
}

/* Endpoint e's first packet to remote as it reaches the hook. */
static void first_packet(struct frame *f, enum hook hook, uint8_t proto, const struct endpoint *e,
			 const char *remote)
{
	if (hook == HOOK_TC_EGRESS)
		build(f, proto, gw_mac, out0.mac, e->ip, e->port, remote, PKT_TTL_DEFAULT - 1);
	else
		build(f, proto, in0.mac, e->mac, e->ip, e->port, remote, PKT_TTL_DEFAULT);
}

/* What leaves out0 for it on every hook: routed, the source SNAT:oport. */
static void translated(struct frame *f, uint8_t proto, const char *remote, uint16_t oport)
{
	build(f, proto, gw_mac, out0.mac, SNAT, oport, remote, PKT_TTL_DEFAULT - 1);
}

/* --- two threads on two CPUs --------------------------------------------- */

/*
 * Two-party barrier by spinning (a futex wake-up takes longer than the
 * programs run): the last to arrive opens the next generation.
 */
struct spin_barrier {
	atomic_uint arrived;
	atomic_uint generation;
};

static void spin_barrier_wait(struct spin_barrier *b)
{
	unsigned int gen = atomic_load(&b->generation);

	if (atomic_fetch_add(&b->arrived, 1) == 1) {
		atomic_store(&b->arrived, 0);
		atomic_fetch_add(&b->generation, 1);
		return;
	}
	/* Yield now and then: the other thread may have lost its CPU to someone else. */
	for (unsigned int spins = 1; atomic_load(&b->generation) == gen; spins++) {
		if (!(spins % 4096))
			sched_yield();
	}
}

/* What one run did, kept by the thread for the main thread to check. */
struct result {
	uint64_t t0, t1; /* CLOCK_MONOTONIC around the run */
	int err; /* of the test run itself: 0 or -errno */
	__u32 verdict;
	struct frame out;
};

struct racer {
	int cpu; /* pinned to */
	int prog_fd;
	enum hook hook;
	const struct frame *in; /* [n] */
	struct result *res; /* [n] */
	size_t n;
	int pin_err; /* pthread_setaffinity_np's */
	int cpu_seen[2]; /* sched_getcpu() before and after the runs */
	pthread_barrier_t *start;
	struct spin_barrier *step;
	pthread_t thread;
};

static int hook_run(const struct racer *r, const struct frame *f, struct run *run)
{
	switch (r->hook) {
	case HOOK_XDP:
		return prog_test_run_xdp(r->prog_fd, in0.ifindex, f->data, f->len, run);
	case HOOK_TC_INGRESS:
		return prog_test_run_skb(r->prog_fd, in0.ifindex, in0.ifindex, f->data, f->len,
					 run);
	case HOOK_TC_EGRESS:
		return prog_test_run_skb(r->prog_fd, out0.ifindex, in0.ifindex, f->data, f->len,
					 run);
	}
	return -EINVAL;
}

/* A racer's thread: no cmocka here, everything is recorded for the main thread. */
static void *race(void *arg)
{
	struct racer *r = arg;
	static __thread struct run run;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	r->pin_err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	r->cpu_seen[0] = sched_getcpu();
	pthread_barrier_wait(r->start);
	for (size_t i = 0; i < r->n; i++) {
		struct result *res = &r->res[i];

		spin_barrier_wait(r->step);
		res->t0 = now_ns();
		res->err = hook_run(r, &r->in[i], &run);
		res->t1 = now_ns();
		res->verdict = run.retval;
		res->out.len = run.out_len < FRAME_MAX ? run.out_len : FRAME_MAX;
		memcpy(res->out.data, run.out, res->out.len);
	}
	r->cpu_seen[1] = sched_getcpu();
	return NULL;
}

static int prog_fd(enum hook hook)
{
	switch (hook) {
	case HOOK_XDP:
		return bpf_program__fd(l.skel->progs.xdp_vnat_fwd);
	case HOOK_TC_INGRESS:
		return bpf_program__fd(l.skel->progs.tc_vnat_ingress);
	case HOOK_TC_EGRESS:
		return bpf_program__fd(l.skel->progs.tc_vnat_egress);
	}
	return -1;
}

/* One race: what each thread sends, and what it got. */
struct race {
	enum hook hooks[2];
	uint8_t proto;
	size_t n; /* endpoints eps[0..n) */
	struct frame in[2][N_ENDPOINTS];
	struct result res[2][N_ENDPOINTS];
	size_t overlaps; /* endpoints whose two runs overlapped in time */
};

/* Both threads through every endpoint, started together; fails only if a thread cannot start. */
static void race_once(struct race *rc)
{
	struct spin_barrier step = { 0 };
	pthread_barrier_t start;
	struct racer r[2];

	assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
	for (int t = 0; t < 2; t++) {
		r[t] = (struct racer){ .cpu = cpus[t],
				       .prog_fd = prog_fd(rc->hooks[t]),
				       .hook = rc->hooks[t],
				       .in = rc->in[t],
				       .res = rc->res[t],
				       .n = rc->n,
				       .start = &start,
				       .step = &step };
		assert_int_equal(pthread_create(&r[t].thread, NULL, race, &r[t]), 0);
	}
	for (int t = 0; t < 2; t++)
		assert_int_equal(pthread_join(r[t].thread, NULL), 0);
	pthread_barrier_destroy(&start);
	for (int t = 0; t < 2; t++) {
		assert_int_equal(r[t].pin_err, 0);
		if (r[t].cpu_seen[0] != cpus[t] || r[t].cpu_seen[1] != cpus[t])
			print_error("thread %d ran on CPU %d and %d, pinned to %d\n", t,
				    r[t].cpu_seen[0], r[t].cpu_seen[1], cpus[t]);
		assert_int_equal(r[t].cpu_seen[0], cpus[t]);
		assert_int_equal(r[t].cpu_seen[1], cpus[t]);
	}
	rc->overlaps = 0;
	for (size_t i = 0; i < rc->n; i++) {
		const struct result *a = &rc->res[0][i], *b = &rc->res[1][i];

		rc->overlaps += a->t0 < b->t1 && b->t0 < a->t1;
	}
}

/* --- checks -------------------------------------------------------------- */

static bool forwarded(enum hook hook, __u32 verdict)
{
	switch (hook) {
	case HOOK_XDP:
		return verdict == XDP_REDIRECT;
	case HOOK_TC_INGRESS:
		return verdict == TC_ACT_REDIRECT;
	case HOOK_TC_EGRESS:
		return verdict == TC_ACT_OK;
	}
	return false;
}

static bool refused(enum hook hook, __u32 verdict)
{
	return verdict == (hook == HOOK_XDP ? XDP_DROP : (__u32)TC_ACT_SHOT);
}

static const char *verdict_name(enum hook hook, __u32 verdict)
{
	return hook == HOOK_XDP ? xdp_verdict_name(verdict) : tc_verdict_name(verdict);
}

/*
 * What one check found wrong: every problem counted, the first few
 * printed, so that a failing round tells how much of it went wrong.
 */
struct problems {
	const char *check;
	size_t n;
};

static void problem(struct problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct problems *p, const char *fmt, ...)
{
	va_list ap;

	if (p->n++ >= 3)
		return;
	va_start(ap, fmt);
	vprint_error(fmt, ap);
	va_end(ap);
}

static int round_now; /* for the messages */

static void expect_no_problems(const struct problems *p, size_t of)
{
	if (p->n)
		print_error("round %d, %s: %zu problems in %zu\n", round_now, p->check, p->n, of);
	assert_int_equal(p->n, 0);
}

/* What the race left, per endpoint and in total. */
struct tally {
	size_t forwarded[2], refused[2]; /* packets, by thread */
	size_t mappings, kept; /* endpoints mapped; of those, on their own port */
	uint16_t port[N_ENDPOINTS]; /* endpoint's outside port, host order; 0: none */
	int16_t owner[65536]; /* outside port's endpoint by vnat_mappings; -1: none */
};

static struct vnat_map_key map_key(const struct endpoint *e, uint8_t proto)
{
	struct vnat_map_key k;

	memset(&k, 0, sizeof(k));
	k.inside_addr = pkt_ip4(e->ip);
	k.inside_port = htons(e->port);
	k.proto = proto;
	return k;
}

/* Every run worked and came back forwarded, or (only where allowed) refused. */
static void expect_verdicts(const struct race *rc, bool refusals_allowed, struct tally *t)
{
	struct problems p = { .check = "verdicts" };

	for (int th = 0; th < 2; th++) {
		for (size_t i = 0; i < rc->n; i++) {
			const struct result *res = &rc->res[th][i];
			enum hook hook = rc->hooks[th];

			if (res->err)
				problem(&p, "thread %d, %s:%u: test run: %s\n", th, eps[i].ip,
					eps[i].port, strerror(-res->err));
			else if (forwarded(hook, res->verdict))
				t->forwarded[th]++;
			else if (refusals_allowed && refused(hook, res->verdict))
				t->refused[th]++;
			else
				problem(&p, "thread %d, %s:%u: verdict %s\n", th, eps[i].ip,
					eps[i].port, verdict_name(hook, res->verdict));
		}
	}
	expect_no_problems(&p, 2 * rc->n);
}

/*
 * One vnat_mappings entry for each endpoint that got a flow, none for the
 * others, each held by exactly the flows it has; nothing else in the table.
 */
static void expect_one_mapping_each(const struct race *rc, struct tally *t)
{
	struct problems p = { .check = "mappings" };

	memset(t->owner, 0xff, sizeof(t->owner));
	for (size_t i = 0; i < rc->n; i++) {
		struct vnat_map_key k = map_key(&eps[i], rc->proto);
		uint32_t flows = 0;
		struct vnat_map_val m;

		for (int th = 0; th < 2; th++)
			flows += forwarded(rc->hooks[th], rc->res[th][i].verdict);
		if (bpf_map_lookup_elem(l.maps.mappings, &k, &m)) {
			if (flows)
				problem(&p, "%s:%u: %u flows, no mapping\n", eps[i].ip, eps[i].port,
					flows);
			continue;
		}
		if (m.flows != flows)
			problem(&p, "%s:%u: mapping to %u held by %u flows, has %u\n", eps[i].ip,
				eps[i].port, ntohs(m.outside_port), m.flows, flows);
		t->port[i] = ntohs(m.outside_port);
		if (t->owner[t->port[i]] >= 0)
			problem(&p, "port %u mapped for %s:%u and %s:%u\n", t->port[i],
				eps[t->owner[t->port[i]]].ip, eps[t->owner[t->port[i]]].port,
				eps[i].ip, eps[i].port);
		t->owner[t->port[i]] = i;
		t->mappings++;
		t->kept += t->port[i] == eps[i].port;
	}
	expect_no_problems(&p, rc->n);
	assert_int_equal(map_count(l.maps.mappings), t->mappings);
}

/*
 * vnat_ports is the exact reverse of vnat_mappings: one entry per mapping,
 * naming its endpoint, in the range. So no port went to two endpoints, and
 * no port a loser claimed was left behind.
 */
static void expect_ports_reverse_mappings(const struct race *rc, const struct tally *t)
{
	struct problems p = { .check = "ports" };
	struct vnat_rev_key k, next;
	struct vnat_config cfg;
	size_t n = 0;

	assert_int_equal(vnat_maps__read_config(&l.maps, &cfg), 0);
	for (int err = bpf_map_get_next_key(l.maps.ports, NULL, &next); !err;
	     err = bpf_map_get_next_key(l.maps.ports, &k, &next)) {
		uint16_t port = ntohs(next.outside_port);
		int i = t->owner[port];
		char ip[INET_ADDRSTRLEN];
		struct vnat_rev_val v;

		k = next;
		n++;
		assert_int_equal(bpf_map_lookup_elem(l.maps.ports, &k, &v), 0);
		inet_ntop(AF_INET, &v.inside_addr, ip, sizeof(ip));
		if (k.proto != rc->proto || port < cfg.port_min || port > cfg.port_max)
			problem(&p, "port %u/%u claimed, outside %u-%u/%u\n", port, k.proto,
				cfg.port_min, cfg.port_max, rc->proto);
		else if (i < 0)
			problem(&p, "port %u claimed for %s:%u, no mapping on it\n", port, ip,
				ntohs(v.inside_port));
		else if (v.inside_addr != pkt_ip4(eps[i].ip) || ntohs(v.inside_port) != eps[i].port)
			problem(&p, "port %u claimed for %s:%u, mapped for %s:%u\n", port, ip,
				ntohs(v.inside_port), eps[i].ip, eps[i].port);
	}
	if (n != t->mappings)
		problem(&p, "%zu ports claimed for %zu mappings\n", n, t->mappings);
	expect_no_problems(&p, n);
}

/*
 * Each thread's flow of an endpoint is in vnat_ct on the mapping's port,
 * and the frame the thread got back is the translation with that port,
 * checksums right. A refused packet left no flow and came back as it went.
 */
static void expect_flows_and_frames(const struct race *rc, const struct tally *t)
{
	struct problems p = { .check = "flows and frames" };

	for (int th = 0; th < 2; th++) {
		for (size_t i = 0; i < rc->n; i++) {
			const struct result *res = &rc->res[th][i];
			struct vnat_ct_key k = { .inside_addr = pkt_ip4(eps[i].ip),
						 .remote_addr = pkt_ip4(remotes[th]),
						 .inside_port = htons(eps[i].port),
						 .remote_port = htons(REMOTE_PORT),
						 .proto = rc->proto };
			bool fwd = forwarded(rc->hooks[th], res->verdict);
			const struct frame *want = &rc->in[th][i];
			struct frame xl;
			struct vnat_ct_val v;

			if (bpf_map_lookup_elem(l.maps.ct, &k, &v)) {
				if (fwd)
					problem(&p, "%s:%u: thread %d's flow is not in vnat_ct\n",
						eps[i].ip, eps[i].port, th);
			} else if (!fwd) {
				problem(&p, "%s:%u: thread %d's refused flow is in vnat_ct\n",
					eps[i].ip, eps[i].port, th);
			} else if (ntohs(v.outside_port) != t->port[i] ||
				   v.outside_addr != pkt_ip4(SNAT)) {
				problem(&p,
					"%s:%u: thread %d's flow on port %u, the mapping's %u\n",
					eps[i].ip, eps[i].port, th, ntohs(v.outside_port),
					t->port[i]);
			}
			if (fwd) {
				translated(&xl, rc->proto, remotes[th], t->port[i]);
				want = &xl;
			}
			if (res->out.len != want->len ||
			    memcmp(res->out.data, want->data, want->len)) {
				problem(&p, "%s:%u: thread %d's frame%s:\n", eps[i].ip, eps[i].port,
					th, fwd ? " (translated)" : " (refused: as it came)");
				if (p.n <= 3)
					pkt_hexdiff(stderr, res->out.data, res->out.len, want->data,
						    want->len);
			} else if (fwd && pkt_csum_errors(res->out.data, res->out.len, NULL)) {
				problem(&p, "%s:%u: thread %d's frame: checksums wrong\n",
					eps[i].ip, eps[i].port, th);
			}
		}
	}
	expect_no_problems(&p, 2 * rc->n);
	assert_int_equal(map_count(l.maps.ct), t->forwarded[0] + t->forwarded[1]);
}

/* Add n packets of len bytes to the delta for stat in d[*nd]. */
static void add_delta(struct delta *d, size_t *nd, int stat, size_t n, uint32_t len)
{
	for (size_t i = 0; i < *nd; i++) {
		if (d[i].stat == stat) {
			d[i].packets += n;
			d[i].bytes += (uint64_t)n * len;
			return;
		}
	}
	d[(*nd)++] = (struct delta){ stat, n, (uint64_t)n * len };
}

/*
 * Exactly what the packets count: each thread's forwards and refusals
 * under its hook's counters, a flow per forward, and one new mapping per
 * endpoint (the CPU that lost the race to create it counts none).
 */
static void expect_counted(const struct race *rc, const struct tally *t,
			   const struct counters *before)
{
	struct delta d[8];
	size_t nd = 0;

	for (int th = 0; th < 2; th++) {
		uint32_t len = rc->in[th][0].len;
		size_t all = t->forwarded[th] + t->refused[th];

		/* tc egress counts every skb leaving, translated or refused. */
		if (rc->hooks[th] == HOOK_TC_EGRESS)
			add_delta(d, &nd, VNAT_TX_SKB, all, len);
		add_delta(d, &nd, rc->hooks[th] == HOOK_XDP ? VNAT_FWD_SNAT : VNAT_FWD_SNAT_TC,
			  t->forwarded[th], len);
		add_delta(d, &nd, VNAT_DROP_NO_PORT, t->refused[th], len);
		add_delta(d, &nd, VNAT_NAT_NEW_FLOW, t->forwarded[th], 0);
	}
	add_delta(d, &nd, VNAT_NAT_NEW_MAPPING, t->mappings, 0);
	add_delta(d, &nd, VNAT_NAT_PORT_KEPT, t->kept, 0);
	expect_deltas_(before, d, nd);
}

/* --- the races ----------------------------------------------------------- */

static struct race the_race; /* large: static */

/*
 * Races of the first n endpoints from empty tables (ROUNDS_MIN to
 * ROUNDS_MAX of them, as the budget allows), each checked whole. With the
 * whole range, nothing may be refused; with a narrow one, refusals are
 * counted, and the range must end full. At least one round must have had
 * MIN_OVERLAP_PERCENT of its endpoints' runs overlap; while none has, up
 * to ROUNDS_EXTRA more rounds run within ROUNDS_EXTRA_BUDGET_NS.
 */
static void run_races(enum hook h0, enum hook h1, uint8_t proto, size_t n, const char *ports)
{
	struct race *rc = &the_race;
	size_t overlaps = 0, refusals = 0, best = 0;
	uint64_t t0 = now_ns(), spent = 0;
	int round, good = 0;

	if (cpus[0] < 0) {
		print_message("fewer than 2 CPUs to run on: no race possible, skipped\n");
		skip();
	}
	set_ports(ports);
	endpoints_init();
	memset(rc, 0, sizeof(*rc));
	rc->hooks[0] = h0;
	rc->hooks[1] = h1;
	rc->proto = proto;
	rc->n = n;
	for (int th = 0; th < 2; th++) {
		for (size_t i = 0; i < n; i++)
			first_packet(&rc->in[th][i], rc->hooks[th], proto, &eps[i], remotes[th]);
	}
	for (round = 0; round < ROUNDS_MAX + ROUNDS_EXTRA; round++) {
		static struct tally t; /* large: static */
		struct counters before;

		memset(&t, 0, sizeof(t));
		round_now = round;
		tables_empty();
		counters_read(&l, &before);
		race_once(rc);
		expect_verdicts(rc, ports != NULL, &t);
		expect_one_mapping_each(rc, &t);
		expect_ports_reverse_mappings(rc, &t);
		expect_flows_and_frames(rc, &t);
		expect_counted(rc, &t, &before);
		if (ports) {
			/* More endpoints than ports: every port taken, the rest refused. */
			struct vnat_config cfg;

			assert_int_equal(vnat_maps__read_config(&l.maps, &cfg), 0);
			assert_int_equal(t.mappings, cfg.port_max - cfg.port_min + 1);
			assert_true(t.refused[0] + t.refused[1] > 0);
		}
		if (rc->overlaps * 100 >= n * MIN_OVERLAP_PERCENT)
			good++;
		else
			print_message("round %d: only %zu of %zu endpoints' runs overlapped "
				      "(a CPU taken away?): it does not count\n",
				      round, rc->overlaps, n);
		best = rc->overlaps > best ? rc->overlaps : best;
		overlaps += rc->overlaps;
		refusals += t.refused[0] + t.refused[1];
		spent = now_ns() - t0;
		if (good && (round + 1 >= ROUNDS_MAX ||
			     (round + 1 >= ROUNDS_MIN && spent > ROUNDS_BUDGET_NS))) {
			round++;
			break;
		}
		/* None overlapped enough yet: go on, but not for ever. */
		if (round + 1 >= ROUNDS_MIN && spent > ROUNDS_EXTRA_BUDGET_NS) {
			round++;
			break;
		}
	}
	if (!good)
		print_error("none of %d rounds had %d%% of %zu endpoints' runs overlap (at best "
			    "%zu): the race was not run\n",
			    round, MIN_OVERLAP_PERCENT, n, best);
	assert_true(good > 0);
	print_message("%d rounds of %zu endpoints on CPUs %d and %d (%d with enough overlap): "
		      "%zu of %zu runs overlapped, %zu refused, %.1f s\n",
		      round, n, cpus[0], cpus[1], good, overlaps, n * round, refusals,
		      (now_ns() - t0) / 1e9);
}

/* Both CPUs on XDP, UDP. */
static void test_race_xdp(void **state)
{
	(void)state;
	run_races(HOOK_XDP, HOOK_XDP, IPPROTO_UDP, N_ENDPOINTS, NULL);
}

/* Both on tc ingress (the skb path for frames XDP did not take), TCP SYNs. */
static void test_race_tc_ingress(void **state)
{
	(void)state;
	run_races(HOOK_TC_INGRESS, HOOK_TC_INGRESS, IPPROTO_TCP, N_ENDPOINTS, NULL);
}

/* XDP against tc egress (the kernel forwarding first packets while XDP takes others). */
static void test_race_xdp_tc_egress(void **state)
{
	(void)state;
	run_races(HOOK_XDP, HOOK_TC_EGRESS, IPPROTO_UDP, N_ENDPOINTS, NULL);
}

/* 64 ports, 200 endpoints: no port ever given twice, the rest refused and counted. */
static void test_race_narrow_range(void **state)
{
	(void)state;
	run_races(HOOK_XDP, HOOK_XDP, IPPROTO_UDP, NARROW_ENDPOINTS, NARROW_PORTS);
}

/* The narrow range again with XDP against tc egress. */
static void test_race_narrow_range_tc(void **state)
{
	(void)state;
	run_races(HOOK_XDP, HOOK_TC_EGRESS, IPPROTO_UDP, NARROW_ENDPOINTS, NARROW_PORTS);
}

#define T(f) cmocka_unit_test_setup(f, reset)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_race_xdp),	   T(test_race_tc_ingress),	 T(test_race_xdp_tc_egress),
		T(test_race_narrow_range), T(test_race_narrow_range_tc),
	};

	return cmocka_run_group_tests_name("race", tests, group_setup, group_teardown);
}
