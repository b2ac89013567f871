// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * New flows per second from an ordinary socket sender, for the paths where
 * the XDP generator cannot run (real endpoints, or a kernel that refuses
 * live frames): every datagram carries a 5-tuple not sent before in the
 * run, so each one is a new connection to the router's conntrack and to
 * vnat. Destination ports walk --ports for each source socket; --sockets
 * source ports give sockets x ports distinct flows before a tuple repeats
 * (the count is printed, so a run that wrapped is visible). The rate is
 * read where the datagrams arrive, not here: the sender only offers load.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tcprr.h"

#define UF_MAX_SOCKETS 64
#define UF_BATCH 64
#define UF_PAYLOAD 18 /* 64-byte frames on the wire */

struct uf_opts {
	struct in_addr dst;
	int port_lo, port_hi; /* destination ports walked per source socket */
	int sockets;
	double duration;
};

static int uf_parse(int argc, char **argv, struct uf_opts *o)
{
	static const struct option opts[] = { { "addr", required_argument, NULL, 'a' },
					      { "ports", required_argument, NULL, 'p' },
					      { "sockets", required_argument, NULL, 's' },
					      { "duration", required_argument, NULL, 'd' },
					      {} };
	int c, have_addr = 0;

	*o = (struct uf_opts){ .port_lo = 1024, .port_hi = 65535, .sockets = 16, .duration = 1 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'a')
			have_addr = inet_pton(AF_INET, optarg, &o->dst) == 1;
		else if (c == 'p' && sscanf(optarg, "%d-%d", &o->port_lo, &o->port_hi) != 2)
			return vb_err("udp-flows --ports '%s': give LO-HI", optarg);
		else if (c == 's')
			o->sockets = atoi(optarg);
		else if (c == 'd')
			o->duration = atof(optarg);
		else if (c == '?')
			return vb_err("udp-flows: unknown option (see vnat-bench help)");
	}
	if (!have_addr)
		return vb_err("udp-flows: --addr A (an IPv4 address) is required");
	if (o->port_lo < 1 || o->port_hi > 65535 || o->port_lo > o->port_hi)
		return vb_err("udp-flows --ports %d-%d: give 1 <= LO <= HI <= 65535", o->port_lo,
			      o->port_hi);
	if (o->sockets < 1 || o->sockets > UF_MAX_SOCKETS)
		return vb_err("udp-flows --sockets %d: give 1 to %d", o->sockets, UF_MAX_SOCKETS);
	if (o->duration <= 0)
		return vb_err("udp-flows --duration: give seconds above 0");
	return 0;
}

/* Unconnected UDP sockets on ephemeral source ports: one source port each. */
static int uf_open(int *fds, int n)
{
	struct sockaddr_in any = { .sin_family = AF_INET };
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&any, sizeof(any)))
			return vb_err("udp-flows: socket: %s", strerror(errno));
	}
	return 0;
}

/*
 * One batch from one socket to the next UF_BATCH destination ports. A full
 * socket buffer or a neighbour still resolving is not an error: the
 * datagram is simply not offered (counted as unsent).
 */
static int uf_batch(int fd, const struct uf_opts *o, int *port, unsigned long long *sent,
		    unsigned long long *refused, int *wrapped)
{
	static char payload[UF_PAYLOAD];
	struct sockaddr_in sa[UF_BATCH];
	struct mmsghdr msgs[UF_BATCH];
	struct iovec iov = { payload, sizeof(payload) };
	int i, n;

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < UF_BATCH; i++) {
		sa[i] = (struct sockaddr_in){ .sin_family = AF_INET,
					      .sin_port = htons(*port),
					      .sin_addr = o->dst };
		msgs[i].msg_hdr.msg_name = &sa[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(sa[i]);
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
		*wrapped |= *port >= o->port_hi;
		*port = *port >= o->port_hi ? o->port_lo : *port + 1;
	}
	n = sendmmsg(fd, msgs, UF_BATCH, MSG_DONTWAIT);
	if (n > 0)
		*sent += n;
	else
		*refused += UF_BATCH;
	return n < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EINTR ? -errno : 0;
}

int vb_udp_flows(int argc, char **argv)
{
	int fds[UF_MAX_SOCKETS], ports[UF_MAX_SOCKETS], i, err, wrapped;
	unsigned long long sent = 0, refused = 0, batches = 0;
	double t0, end, dt;
	struct uf_opts o;

	if (uf_parse(argc, argv, &o))
		return 1;
	if (uf_open(fds, o.sockets))
		return 1;
	vb_stop_on_signals();
	for (i = 0; i < o.sockets; i++)
		ports[i] = o.port_lo;
	t0 = vb_mono();
	end = t0 + o.duration;
	/*
	 * Socket by socket: each walks its whole port range before the next
	 * starts, so a tuple repeats only after sockets x ports datagrams.
	 */
	for (i = 0; !vb_stop; batches++) {
		wrapped = 0;
		err = uf_batch(fds[i], &o, &ports[i], &sent, &refused, &wrapped);
		if (err)
			return vb_err("udp-flows: sendmmsg: %s", strerror(-err));
		if (wrapped)
			i = (i + 1) % o.sockets;
		if (!(batches & 63) && vb_mono() >= end)
			break;
	}
	dt = vb_mono() - t0;
	printf("{\"sent\": %llu, \"refused\": %llu, \"secs\": %.3f, \"distinct\": %llu}\n", sent,
	       refused, dt, (unsigned long long)o.sockets * (o.port_hi - o.port_lo + 1));
	for (i = 0; i < o.sockets; i++)
		close(fds[i]);
	return 0;
}
