/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * harness.h - running vnat's programs on test frames and checking what they
 * did, for the BPF unit tests (test_fwd, test_nat, test_bridge, test_race).
 *
 * A test run (BPF_PROG_TEST_RUN, without live frames) hands one frame to a
 * program of a loaded skeleton and returns the verdict and the frame as the
 * program left it; nothing is transmitted, so XDP_REDIRECT and
 * TC_ACT_REDIRECT are only return values. The checks compare that frame
 * byte for byte with the expected one (a hex diff on failure), verify its
 * checksums, and compare every counter with a snapshot taken before the
 * run: exactly the listed counters must have moved, by exactly as much.
 *
 * Every check is a cmocka assertion, so only the test's own thread may call
 * them; prog_test_run_xdp()/prog_test_run_skb() use no cmocka and may run
 * on any thread.
 */
#ifndef VNAT_SELFTESTS_HARNESS_H
#define VNAT_SELFTESTS_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "datapath.h"
#include "pktbuild.h"
#include "vnat.h"

/* --- running a program --------------------------------------------------- */

struct run {
	__u32 retval; /* the verdict: XDP_* or TC_ACT_* */
	uint8_t out[PKT_MAX]; /* the frame as the program left it */
	__u32 out_len;
};

/* One test run of an XDP program on a frame received on ifindex; 0 or -errno. */
int prog_test_run_xdp(int prog_fd, uint32_t ifindex, const void *frame, size_t len, struct run *r);
/*
 * One test run of a tc program. The skb test run takes ifindex (skb->dev:
 * what bpf_fib_lookup's namespace and MTU check follow, and what a tc
 * program reads as skb->ifindex) and in_ifindex (skb->skb_iif, where the
 * kernel received it, read as skb->ingress_ifindex). 0 or -errno.
 */
int prog_test_run_skb(int prog_fd, uint32_t ifindex, uint32_t in_ifindex, const void *frame,
		      size_t len, struct run *r);

/* The same runs on l's programs, failing the test if the run itself fails. */
void xdp_run(const struct vnat_loader *l, uint32_t ifindex, const struct pkt *p, struct run *r);
/* tc ingress: both ifindexes are the receiving device, as on a real ingress hook. */
void tc_ingress_run(const struct vnat_loader *l, uint32_t ifindex, const struct pkt *p,
		    struct run *r);
/* tc egress, as for an skb the kernel received on in_ifindex and sends out of out_ifindex. */
void tc_egress_run(const struct vnat_loader *l, uint32_t out_ifindex, uint32_t in_ifindex,
		   const struct pkt *p, struct run *r);

const char *xdp_verdict_name(__u32 v);
const char *tc_verdict_name(__u32 v);

/* --- counters ------------------------------------------------------------ */

/* A snapshot of every counter of one instance (summed over CPUs). */
struct counters {
	const struct vnat_loader *l; /* whose counters: what expect_deltas() reads again */
	struct vnat_counter c[VNAT_STAT_MAX];
};

/* How much one counter must move. */
struct delta {
	int stat; /* enum vnat_stat */
	uint64_t packets, bytes;
};

void counters_read(const struct vnat_loader *l, struct counters *s);
/* The counter's name as the BPF object's BTF spells it (what bpftool prints). */
const char *stat_name(const struct vnat_loader *l, int k);
/*
 * Exactly the n counters in d moved since *before, by exactly that much;
 * every other counter stands still. Each difference is printed by name,
 * so a packet counted under the wrong reason shows up twice.
 */
void expect_deltas_(const struct counters *before, const struct delta *d, size_t n);

#define expect_deltas(before, ...)                                        \
	do {                                                              \
		const struct delta d_[] = { __VA_ARGS__ };                \
		expect_deltas_((before), d_, sizeof(d_) / sizeof(d_[0])); \
	} while (0)

/* What one packet moves: the verdict's counter, and what a new flow counts. */
#define C_PKT(stat, len) ((struct delta){ (stat), 1, (len) })
#define C_NEW_FLOW ((struct delta){ VNAT_NAT_NEW_FLOW, 1, 0 })
#define C_NEW_MAPPING ((struct delta){ VNAT_NAT_NEW_MAPPING, 1, 0 })
#define C_PORT_KEPT ((struct delta){ VNAT_NAT_PORT_KEPT, 1, 0 })

/* --- running and checking ------------------------------------------------ */

/*
 * r's frame is want, every checksum right; with want NULL it is p as it
 * came (checksums not looked at: tests hand over broken ones on purpose).
 */
void expect_frame(const struct run *r, const struct pkt *p, const struct pkt *want);

/*
 * Run p through l's XDP program on ifindex: the verdict must be verdict,
 * the frame as expect_frame() says, and exactly the counters d must move.
 */
void xdp_expect_(const struct vnat_loader *l, uint32_t ifindex, const struct pkt *p, __u32 verdict,
		 const struct pkt *want, const struct delta *d, size_t n);
/* The same for tc ingress on ifindex. */
void tc_ingress_expect_(const struct vnat_loader *l, uint32_t ifindex, const struct pkt *p,
			__u32 verdict, const struct pkt *want, const struct delta *d, size_t n);
/* The same for tc egress: leaving by out_ifindex, received on in_ifindex. */
void tc_egress_expect_(const struct vnat_loader *l, uint32_t out_ifindex, uint32_t in_ifindex,
		       const struct pkt *p, __u32 verdict, const struct pkt *want,
		       const struct delta *d, size_t n);

/* The counters as a list: xdp_expect(l, ifindex, p, XDP_PASS, NULL, C_PKT(...)). */
#define xdp_expect(l, ifindex, p, verdict, want, ...)                   \
	do {                                                            \
		const struct delta d_[] = { __VA_ARGS__ };              \
		xdp_expect_((l), (ifindex), (p), (verdict), (want), d_, \
			    sizeof(d_) / sizeof(d_[0]));                \
	} while (0)

#define tc_ingress_expect(l, ifindex, p, verdict, want, ...)                   \
	do {                                                                   \
		const struct delta d_[] = { __VA_ARGS__ };                     \
		tc_ingress_expect_((l), (ifindex), (p), (verdict), (want), d_, \
				   sizeof(d_) / sizeof(d_[0]));                \
	} while (0)

#define tc_egress_expect(l, out_ifindex, in_ifindex, p, verdict, want, ...)                     \
	do {                                                                                    \
		const struct delta d_[] = { __VA_ARGS__ };                                      \
		tc_egress_expect_((l), (out_ifindex), (in_ifindex), (p), (verdict), (want), d_, \
				  sizeof(d_) / sizeof(d_[0]));                                  \
	} while (0)

/* --- set-up ------------------------------------------------------------- */

/*
 * The configuration vnat load --snat writes with every other option at its
 * default, but for the flow table's size and how often the collector runs.
 */
void nat_config_default(struct vnat_config *cfg, __be32 snat_addr, uint32_t max_flows,
			uint32_t gc_interval_ms);

/* --- map state ----------------------------------------------------------- */

/* Delete every entry of a hash map (keys of up to 64 bytes). */
void map_flush(int fd);
/* Entries of a hash map. */
int map_count(int fd);
/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(). */
uint64_t now_ns(void);

#endif
