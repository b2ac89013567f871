/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_IFSTATS_H
#define VNAT_IFSTATS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

/*
 * What the kernel dropped on an interface after vnat handed frames on:
 * its rtnetlink stats64 drop and error counters, and the XDP transmit
 * errors its driver reports among its ethtool statistics (a veth whose
 * peer cannot receive XDP frames counts them there and nowhere in vnat).
 */
struct vnat_ifstats {
	bool have_link; /* stats64 read over rtnetlink */
	bool have_ethtool; /* the driver exports ethtool statistics (a tap does not) */
	uint64_t rx_dropped;
	uint64_t tx_dropped;
	uint64_t tx_errors;
	uint64_t xdp_xmit_errors; /* sum of the matching ethtool counters */
};

/* 0, or -errno when neither source could be read (the interface is gone). */
int vnat_ifstats__read(uint32_t ifindex, const char *ifname, struct vnat_ifstats *s);

struct vnat_out;
/*
 * For status: "kernel_drops": {rx_dropped, tx_dropped, tx_errors,
 * xdp_xmit_errors} (null when s is NULL: unreadable), and in text one line
 * under the interface's when any is non-zero (always with -v).
 */
void vnat_ifstats__describe(struct vnat_out *o, const struct vnat_ifstats *s);

/* An ethtool statistic that counts XDP frames a driver failed to transmit. */
bool vnat_ifstats__is_xdp_xmit_error(const char *name);
/*
 * Sum of the values whose names match: names as ETHTOOL_GSTRINGS returns
 * them, n slots of ETH_GSTRING_LEN bytes, NUL-terminated only when shorter.
 */
uint64_t vnat_ifstats__sum_xdp_xmit_errors(const char *names, const __u64 *vals, uint32_t n);

#endif
