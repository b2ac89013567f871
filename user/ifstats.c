// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Per-interface drop counters: rtnetlink stats64 and ethtool statistics. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include "ifstats.h"
#include "out.h"

/*
 * Substrings naming XDP transmit failures in drivers' ethtool statistics:
 * veth "tx_queue_N_xdp_xmit_errors" (ndo_xdp_xmit refused: the peer has
 * neither XDP nor GRO, or its ring is full) and "rx_queue_N_xdp_tx_errors"
 * (XDP_TX refused); the same counters under other drivers' names
 * ("xdp_xmit_err", "peer_tq_xdp_xmit_err", mlx5 "xdp_tx_err"); virtio_net
 * "tx_queue_N_xdp_tx_drops". XDP_DROP verdicts ("xdp_drops") are vnat's
 * own decisions, already counted as drop_*, and do not match.
 */
static const char *const xdp_xmit_error_names[] = {
	"xdp_xmit_err",
	"xdp_tx_err",
	"xdp_tx_drops",
};

bool vnat_ifstats__is_xdp_xmit_error(const char *name)
{
	for (size_t i = 0; i < sizeof(xdp_xmit_error_names) / sizeof(xdp_xmit_error_names[0]); i++)
		if (strstr(name, xdp_xmit_error_names[i]))
			return true;
	return false;
}

uint64_t vnat_ifstats__sum_xdp_xmit_errors(const char *names, const __u64 *vals, uint32_t n)
{
	char name[ETH_GSTRING_LEN + 1];
	uint64_t sum = 0;

	for (uint32_t i = 0; i < n; i++) {
		/* a name of exactly ETH_GSTRING_LEN bytes has no terminator */
		memcpy(name, names + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = 0;
		if (vnat_ifstats__is_xdp_xmit_error(name))
			sum += vals[i];
	}
	return sum;
}

static int read_link_stats(uint32_t ifindex, struct vnat_ifstats *s)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL;
	int err;

	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (!err)
		err = rtnl_link_get_kernel(sk, ifindex, NULL, &link);
	if (!err) {
		s->rx_dropped = rtnl_link_get_stat(link, RTNL_LINK_RX_DROPPED);
		s->tx_dropped = rtnl_link_get_stat(link, RTNL_LINK_TX_DROPPED);
		s->tx_errors = rtnl_link_get_stat(link, RTNL_LINK_TX_ERRORS);
		s->have_link = true;
		rtnl_link_put(link);
	}
	nl_socket_free(sk);
	return err ? -ENODEV : 0;
}

static int ethtool_ioctl(int fd, const char *ifname, void *cmd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
}

/* How many statistics the driver exports (0 for none, as a tap). */
static int stats_count(int fd, const char *ifname, uint32_t *n)
{
	struct {
		struct ethtool_sset_info hdr;
		uint32_t len;
	} info = { .hdr = { .cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ull << ETH_SS_STATS } };
	int err = ethtool_ioctl(fd, ifname, &info);

	if (err)
		return err;
	*n = info.hdr.sset_mask ? info.len : 0;
	return 0;
}

static int read_ethtool_stats(int fd, const char *ifname, struct vnat_ifstats *s)
{
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *vals = NULL;
	uint32_t n;
	int err = stats_count(fd, ifname, &n);

	if (err || !n)
		return err;
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	vals = calloc(1, sizeof(*vals) + (size_t)n * sizeof(uint64_t));
	if (!names || !vals) {
		err = -ENOMEM;
		goto out_free;
	}
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	vals->cmd = ETHTOOL_GSTATS;
	vals->n_stats = n;
	err = ethtool_ioctl(fd, ifname, names);
	if (!err)
		err = ethtool_ioctl(fd, ifname, vals);
	/* the set can change in between (a veth's queue count): read again later */
	if (!err && (names->len != n || vals->n_stats != n))
		err = -EAGAIN;
	if (!err) {
		s->xdp_xmit_errors =
			vnat_ifstats__sum_xdp_xmit_errors((const char *)names->data, vals->data, n);
		s->have_ethtool = true;
	}
out_free:
	free(names);
	free(vals);
	return err;
}

int vnat_ifstats__read(uint32_t ifindex, const char *ifname, struct vnat_ifstats *s)
{
	int fd, err;

	memset(s, 0, sizeof(*s));
	err = read_link_stats(ifindex, s);
	/* the ioctl answers in the network namespace the socket was made in */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		read_ethtool_stats(fd, ifname, s);
		close(fd);
	}
	return s->have_link || s->have_ethtool ? 0 : err ? err : -ENODEV;
}

void vnat_ifstats__describe(struct vnat_out *o, const struct vnat_ifstats *s)
{
	if (!s) {
		/* unreadable (the interface is gone): the text says nothing */
		vnat_out_null(o, "kernel_drops", NULL);
		return;
	}
	vnat_out_obj_open(o, "kernel_drops", "dropped by the kernel",
			  VNAT_OUT_BELOW | VNAT_OUT_NONZERO);
	vnat_out_u64(o, "rx_dropped", "rx_dropped", s->rx_dropped);
	vnat_out_u64(o, "tx_dropped", "tx_dropped", s->tx_dropped);
	vnat_out_u64(o, "tx_errors", "tx_errors", s->tx_errors);
	vnat_out_u64(o, "xdp_xmit_errors", "xdp_xmit_errors", s->xdp_xmit_errors);
	vnat_out_obj_close(o);
}
