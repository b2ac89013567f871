// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Requests from tc egress to mark kernel TCP entries liberal (liberal.h),
 * read from the vnat_kliberal ring buffer and served with ctnetlink. An
 * entry gone meanwhile (ENOENT: the connection ended, conntrack -F) is
 * normal and only said with --verbose; the next packet of a flow whose
 * update failed asks again after VNAT_LIBERAL_RETRY_NS.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <netlink/socket.h>
#include "ctnl.h"
#include "liberal.h"
#include "log.h"

struct vnat_liberal {
	struct ring_buffer *rb;
	struct nl_sock *sk;
	int marked;
};

static void say_failed(const struct vnat_liberal_req *r, int err)
{
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

	if (!vnat_opts_verbose())
		return;
	inet_ntop(AF_INET, &r->saddr, s, sizeof(s));
	inet_ntop(AF_INET, &r->daddr, d, sizeof(d));
	vnat_info("vnat: daemon: mark %s:%u -> %s:%u liberal: %s", s, ntohs(r->sport), d,
		  ntohs(r->dport), strerror(-err));
}

static int on_request(void *ctx, void *data, size_t len)
{
	struct vnat_liberal *lb = ctx;
	struct vnat_liberal_req r;
	int err;

	if (len < sizeof(r))
		return 0;
	memcpy(&r, data, sizeof(r));
	err = vnat_ctnl__set_liberal(lb->sk, &r, true);
	if (err)
		say_failed(&r, err);
	else
		lb->marked++;
	return 0;
}

struct vnat_liberal *vnat_liberal__open(const struct vnat_maps *m)
{
	struct vnat_liberal *lb = calloc(1, sizeof(*lb));

	if (!lb)
		return NULL;
	lb->sk = vnat_ctnl__open();
	if (!lb->sk) {
		vnat_err("daemon: ctnetlink: cannot open a socket (kernel-admitted TCP stays on "
			 "the kernel path)");
		free(lb);
		return NULL;
	}
	lb->rb = ring_buffer__new(m->kliberal, on_request, lb, NULL);
	if (!lb->rb) {
		vnat_err("daemon: vnat_kliberal: %s (kernel-admitted TCP stays on the kernel "
			 "path)",
			 strerror(errno));
		vnat_liberal__close(lb);
		return NULL;
	}
	return lb;
}

int vnat_liberal__fd(const struct vnat_liberal *lb)
{
	return ring_buffer__epoll_fd(lb->rb);
}

int vnat_liberal__serve(struct vnat_liberal *lb)
{
	int n;

	lb->marked = 0;
	n = ring_buffer__consume(lb->rb);
	return n < 0 ? n : lb->marked;
}

void vnat_liberal__close(struct vnat_liberal *lb)
{
	if (!lb)
		return;
	ring_buffer__free(lb->rb);
	if (lb->sk)
		nl_socket_free(lb->sk);
	free(lb);
}
