// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TCP transactions through the path under test, in the manner of netperf's
 * TCP_RR and TCP_CRR (netperf is not packaged here): the client sends a
 * request of --size bytes and waits for the same back; with --crr every
 * transaction opens and closes its own connection, which is what the
 * "new connections per second" figure counts end to end. The server
 * (tcp-server --close) closes each of those connections first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "tcprr.h"

#define VB_MAX_CONNS 64
#define VB_MAX_SIZE 65536

volatile sig_atomic_t vb_stop;

static void vb_on_signal(int sig)
{
	(void)sig;
	vb_stop = 1;
}

void vb_stop_on_signals(void)
{
	signal(SIGTERM, vb_on_signal);
	signal(SIGINT, vb_on_signal);
	signal(SIGPIPE, SIG_IGN);
}

double vb_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_addr(const char *addr, int port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (!addr)
		return 0;
	if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
		return vb_err("'%s': not an IPv4 address", addr);
	return 0;
}

/*
 * Echo whatever arrives on every connection, until SIGTERM/SIGINT. With
 * --close the server closes each connection after its first reply, as an
 * HTTP/1.0 server does: the TIME_WAIT stays with the server, and a CRR
 * client can use its ports again at once instead of running out of them.
 */
int vb_tcp_server(int argc, char **argv)
{
	static const struct option opts[] = { { "port", required_argument, NULL, 'p' },
					      { "addr", required_argument, NULL, 'a' },
					      { "close", no_argument, NULL, 'c' },
					      {} };
	struct epoll_event ev, evs[64];
	static char buf[VB_MAX_SIZE];
	const char *addr = NULL;
	struct sockaddr_in sa;
	int port = 0, one = 1, close_after = 0, lfd, efd, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p')
			port = atoi(optarg);
		else if (c == 'a')
			addr = optarg;
		else if (c == 'c')
			close_after = 1;
		else
			return vb_err("tcp-server --port P [--addr A] [--close]");
	}
	if (port <= 0 || port > 65535 || parse_addr(addr, port, &sa))
		return vb_err("tcp-server --port P [--addr A] [--close]");
	vb_stop_on_signals();

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4096))
		return vb_err("tcp-server: listen on port %d: %s", port, strerror(errno));
	efd = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	if (efd < 0 || epoll_ctl(efd, EPOLL_CTL_ADD, lfd, &ev))
		return vb_err("tcp-server: epoll: %s", strerror(errno));
	printf("{\"listening\":%d}\n", port);
	fflush(stdout);

	while (!vb_stop) {
		int n = epoll_wait(efd, evs, 64, 500);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			ssize_t got;

			if (fd == lfd) {
				int cfd;

				while ((cfd = accept4(lfd, NULL, NULL,
						      SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one,
						   sizeof(one));
					ev.events = EPOLLIN;
					ev.data.fd = cfd;
					if (epoll_ctl(efd, EPOLL_CTL_ADD, cfd, &ev))
						close(cfd);
				}
				continue;
			}
			got = read(fd, buf, sizeof(buf));
			if (got > 0 && write(fd, buf, got) == got && !close_after)
				continue;
			if (got < 0 && errno == EAGAIN)
				continue;
			close(fd); /* --close, EOF, reset or a short write */
		}
	}
	close(efd);
	close(lfd);
	return 0;
}

struct vb_client {
	pthread_t thread;
	struct sockaddr_in sa;
	double deadline;
	double end;
	int size;
	int crr;
	unsigned long long transactions;
	unsigned long long errors;
};

static int vb_connect(const struct sockaddr_in *sa)
{
	struct timeval tv = { .tv_sec = 1 };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	/* Bounded waits: a lost SYN or reply costs a second, not the run. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int vb_transact(int fd, char *buf, int size)
{
	int got = 0;

	if (write(fd, buf, size) != size)
		return -1;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

/* The server closes first (tcp-server --close): read its FIN, so this side
 * ends without a TIME_WAIT that would hold the port. */
static int vb_await_close(int fd)
{
	char b;

	return read(fd, &b, 1) == 0 ? 0 : -1;
}

static void *vb_client_run(void *arg)
{
	struct vb_client *c = arg;
	char *buf = calloc(1, c->size);
	int fd = -1;

	while (buf && !vb_stop && vb_mono() < c->deadline) {
		if (fd < 0)
			fd = vb_connect(&c->sa);
		if (fd < 0 || vb_transact(fd, buf, c->size) || (c->crr && vb_await_close(fd))) {
			c->errors++;
			if (fd >= 0)
				close(fd);
			fd = -1;
			continue;
		}
		c->transactions++;
		if (c->crr) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	c->end = vb_mono();
	return NULL;
}

int vb_tcp_client(int argc, char **argv)
{
	static const struct option opts[] = { { "addr", required_argument, NULL, 'a' },
					      { "port", required_argument, NULL, 'p' },
					      { "duration", required_argument, NULL, 'd' },
					      { "conns", required_argument, NULL, 'n' },
					      { "size", required_argument, NULL, 's' },
					      { "crr", no_argument, NULL, 'c' },
					      {} };
	static struct vb_client cl[VB_MAX_CONNS];
	unsigned long long tx = 0, errs = 0;
	const char *addr = NULL;
	int port = 0, conns = 1, size = 1, crr = 0, c;
	double duration = 0, start, end = 0;
	struct sockaddr_in sa;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'd':
			duration = strtod(optarg, NULL);
			break;
		case 'n':
			conns = atoi(optarg);
			break;
		case 's':
			size = atoi(optarg);
			break;
		case 'c':
			crr = 1;
			break;
		default:
			return vb_err("tcp-client --addr A --port P --duration S [--conns N] "
				      "[--size B] [--crr]");
		}
	}
	if (!addr || port <= 0 || port > 65535 || duration <= 0 || conns < 1 ||
	    conns > VB_MAX_CONNS || size < 1 || size > VB_MAX_SIZE || parse_addr(addr, port, &sa))
		return vb_err("tcp-client --addr A --port P --duration S [--conns 1-%d] "
			      "[--size 1-%d] [--crr]",
			      VB_MAX_CONNS, VB_MAX_SIZE);
	vb_stop_on_signals();

	start = vb_mono();
	for (int i = 0; i < conns; i++) {
		cl[i].sa = sa;
		cl[i].deadline = start + duration;
		cl[i].size = size;
		cl[i].crr = crr;
		if (pthread_create(&cl[i].thread, NULL, vb_client_run, &cl[i]))
			return vb_err("tcp-client: thread: %s", strerror(errno));
	}
	for (int i = 0; i < conns; i++) {
		pthread_join(cl[i].thread, NULL);
		tx += cl[i].transactions;
		errs += cl[i].errors;
		if (cl[i].end > end)
			end = cl[i].end;
	}
	printf("{\"mode\":\"%s\",\"conns\":%d,\"size\":%d,\"transactions\":%llu,\"errors\":%llu,"
	       "\"seconds\":%.3f,\"rate\":%.1f}\n",
	       crr ? "crr" : "rr", conns, size, tx, errs, end - start,
	       end > start ? tx / (end - start) : 0.0);
	return 0;
}
