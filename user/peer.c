// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The other end of a veth. It may live in another network namespace, known
 * to us only by its id (IFLA_LINK_NETNSID): the namespace is found among
 * the named ones (/run/netns) and those of running processes by asking
 * rtnetlink for each one's id, and a child process enters it to read the
 * peer's offload settings (ethtool) and XDP attachment there.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/ethtool.h>
#include <linux/net_namespace.h>
#include <linux/sockios.h>
#include <bpf/libbpf.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>
#include "log.h"
#include "peer.h"

struct nsid_query {
	int32_t nsid;
	bool found;
};

static int on_nsid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NETNSA_MAX + 1];
	struct nsid_query *q = arg;

	if (nlmsg_parse(nlmsg_hdr(msg), sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) ||
	    !tb[NETNSA_NSID])
		return NL_SKIP;
	q->nsid = (int32_t)nla_get_u32(tb[NETNSA_NSID]);
	q->found = true;
	return NL_OK;
}

/* The id our namespace knows the namespace of fd by; -1 when it has none. */
static int32_t nsid_of(struct nl_sock *sk, int fd)
{
	struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
	struct nsid_query q = { .nsid = -1 };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETNSID, NLM_F_REQUEST);

	if (!msg)
		return -1;
	if (nlmsg_append(msg, &g, sizeof(g), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, NETNSA_FD, fd) < 0 || nl_send_auto(sk, msg) < 0) {
		nlmsg_free(msg);
		return -1;
	}
	nlmsg_free(msg);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_nsid, &q);
	if (nl_recvmsgs_default(sk) < 0 || !q.found)
		return -1;
	return q.nsid;
}

/* Try one namespace file: an fd if it is the namespace with id nsid. */
static int try_ns(struct nl_sock *sk, const char *path, int32_t nsid, ino_t *seen, int *n_seen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0) {
		for (int i = 0; i < *n_seen; i++)
			if (seen[i] == st.st_ino)
				goto skip;
		if (*n_seen < 256)
			seen[(*n_seen)++] = st.st_ino;
		if (nsid_of(sk, fd) == nsid)
			return fd;
	}
skip:
	close(fd);
	return -1;
}

/* An fd of the namespace our namespace calls nsid, or -ENOENT. */
static int find_ns(struct nl_sock *sk, int32_t nsid)
{
	static const char *const dirs[] = { "/run/netns", "/proc" };
	ino_t seen[256];
	int n_seen = 0, fd = -ENOENT;
	char path[300];

	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]) && fd < 0; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *e;

		if (!dir)
			continue;
		while (fd < 0 && (e = readdir(dir))) {
			if (e->d_name[0] == '.')
				continue;
			if (d == 1 && (e->d_name[0] < '0' || e->d_name[0] > '9'))
				continue; /* /proc: processes only */
			snprintf(path, sizeof(path), d ? "%s/%s/ns/net" : "%s/%s", dirs[d],
				 e->d_name);
			fd = try_ns(sk, path, nsid, seen, &n_seen);
			if (fd < 0)
				fd = -ENOENT;
		}
		closedir(dir);
	}
	return fd;
}

static bool ethtool_flag(int sock, const char *name, uint32_t cmd)
{
	struct ethtool_value ev = { .cmd = cmd };
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&ev;
	return ioctl(sock, SIOCETHTOOL, &ifr) == 0 && ev.data;
}

/* In the peer's namespace (a child process): its settings, through the pipe. */
static void read_peer(int nsfd, struct vnat_peer *p, int out)
{
	uint32_t prog_id = 0;
	int sock;

	if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET))
		_exit(1);
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || !if_indextoname(p->ifindex, p->name))
		_exit(1);
	p->tx_csum = ethtool_flag(sock, p->name, ETHTOOL_GTXCSUM);
	p->gro = ethtool_flag(sock, p->name, ETHTOOL_GGRO);
	p->xdp = !bpf_xdp_query_id(p->ifindex, 0, &prog_id) && prog_id;
	_exit(write(out, p, sizeof(*p)) == sizeof(*p) ? 0 : 1);
}

static int read_peer_in(int nsfd, struct vnat_peer *p)
{
	int pipefd[2], status = 0;
	ssize_t got;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
	if (pid == 0)
		read_peer(nsfd, p, pipefd[1]);
	close(pipefd[1]);
	got = read(pipefd[0], p, sizeof(*p));
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return got == sizeof(*p) && WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

int vnat_peer__probe(uint32_t ifindex, struct vnat_peer *peer)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL;
	int32_t nsid;
	int err, nsfd = -1;

	memset(peer, 0, sizeof(*peer));
	if (!sk)
		return -ENOMEM;
	/* One answer per request: an ACK left behind would be read as the next one's. */
	nl_socket_disable_auto_ack(sk);
	err = nl_connect(sk, NETLINK_ROUTE) ? -EIO : 0;
	if (!err)
		err = rtnl_link_get_kernel(sk, (int)ifindex, NULL, &link) ? -ENODEV : 0;
	if (!err) {
		peer->ifindex = rtnl_link_get_link(link);
		if (!peer->ifindex)
			err = -ENOENT;
	}
	/* No id: the peer shares our namespace. */
	if (!err && link && !rtnl_link_get_link_netnsid(link, &nsid)) {
		nsfd = find_ns(sk, nsid);
		if (nsfd < 0)
			err = nsfd;
	}
	if (!err)
		err = read_peer_in(nsfd, peer);
	if (nsfd >= 0)
		close(nsfd);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return err;
}

int vnat_peer__check_xdp(const char *cmd, const char *name, uint32_t ifindex, bool *xdp_tx)
{
	struct vnat_peer p;
	int err = vnat_peer__probe(ifindex, &p);

	if (err) {
		vnat_err("%s: --hook xdp on veth %s: cannot inspect its peer: %s (its network "
			 "namespace is not reachable from here; use --hook auto)",
			 cmd, name, strerror(-err));
		return -EINVAL;
	}
	if (p.tx_csum) {
		vnat_err("%s: --hook xdp on veth %s: its peer %s sends partial checksums "
			 "(tx-checksumming on), which XDP cannot complete; use --hook auto, or "
			 "'ethtool -K %s tx off' in the peer's namespace",
			 cmd, name, p.name, p.name);
		return -EINVAL;
	}
	if (!p.gro && !p.xdp) {
		vnat_err("%s: --hook xdp on veth %s: its peer %s has neither GRO nor an XDP "
			 "program, so it drops the frames XDP sends it; use --hook auto, or "
			 "'ethtool -K %s gro on' in the peer's namespace",
			 cmd, name, p.name, p.name);
		return -EINVAL;
	}
	*xdp_tx = true;
	return 0;
}
