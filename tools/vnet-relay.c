// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vnet-relay - makes a network namespace behave like a virtio guest on a
 * tap, for tests. It opens a tap in the host-side namespace (the bridge
 * port, as qemu opens vnetN) and a second tap in the guest namespace (the
 * guest's "NIC"), both with IFF_VNET_HDR, a 12-byte virtio 1.0 header and
 * TUNSETOFFLOAD csum+TSO4+TSO6, and copies whole frames with their headers
 * between them. The guest namespace's TCP stack therefore transmits
 * partial checksums and GSO super-frames, and the host receives them the
 * way qemu or vhost-net would hand them over for a virtio guest that
 * negotiated those offloads; frames towards the guest travel the same way
 * back. It counts what passed in each direction (frames, GSO frames,
 * partial checksums) and prints the counts on exit and on SIGUSR1 (to
 * --stats FILE when given, else stdout). SIGTERM or SIGINT end it; the
 * taps go with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include "vnet_hdr.h"

/* A GSO frame is at most 64 KiB of IP datagram, plus L2 and the header. */
#define RELAY_BUF_LEN (VNET_HDR_LEN + VNET_ETH_HLEN + 4 + 65536)
/* Frames moved per direction before the other direction gets its turn. */
#define RELAY_BURST 64
#define RELAY_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)
/* Refused writes reported on stderr per direction; all are counted. */
#define RELAY_REPORT_ERRORS 10

struct relay_opts {
	const char *host_ns;
	const char *host_tap;
	const char *guest_ns;
	const char *guest_tap;
	const char *stats_file;
};

struct relay_dir {
	const char *name;
	int from;
	int to;
	struct vnet_dir_stats stats;
};

static volatile sig_atomic_t relay_stop, relay_dump;
static unsigned long relay_dump_seq;

static void usage(FILE *f)
{
	fprintf(f, "usage: vnet-relay --host-ns NS --host-tap NAME --guest-ns NS --guest-tap NAME "
		   "[--stats FILE]\n");
}

static int opt_name(const char *opt, const char *val, size_t max)
{
	if (!*val || strlen(val) > max || strchr(val, '/')) {
		fprintf(stderr, "vnet-relay: %s '%s': want 1 to %zu characters without '/'\n", opt,
			val, max);
		return -1;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct relay_opts *o)
{
	static const struct option longopts[] = {
		{ "host-ns", required_argument, NULL, 'h' },
		{ "host-tap", required_argument, NULL, 'H' },
		{ "guest-ns", required_argument, NULL, 'g' },
		{ "guest-tap", required_argument, NULL, 'G' },
		{ "stats", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0; /* one line of our own per error instead of getopt's */
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			o->host_ns = optarg;
			break;
		case 'H':
			o->host_tap = optarg;
			break;
		case 'g':
			o->guest_ns = optarg;
			break;
		case 'G':
			o->guest_tap = optarg;
			break;
		case 's':
			o->stats_file = optarg;
			break;
		case 'u':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "vnet-relay: %s needs a value (see --help)\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "vnet-relay: unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vnet-relay: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return -1;
	}
	if (!o->host_ns || !o->host_tap || !o->guest_ns || !o->guest_tap) {
		fprintf(stderr, "vnet-relay: --host-ns, --host-tap, --guest-ns and --guest-tap "
				"are all required\n");
		return -1;
	}
	if (opt_name("--host-ns", o->host_ns, NAME_MAX) ||
	    opt_name("--guest-ns", o->guest_ns, NAME_MAX) ||
	    opt_name("--host-tap", o->host_tap, IFNAMSIZ - 1) ||
	    opt_name("--guest-tap", o->guest_tap, IFNAMSIZ - 1))
		return -1;
	return 0;
}

/* The tap's offloads as a virtio guest negotiates them with qemu. */
static int tap_configure(int fd, const char *name)
{
	int hdr_len = VNET_HDR_LEN, le = 1;
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	/* IFF_TUN_EXCL: never attach to a tap somebody else made. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0 || ioctl(fd, TUNSETVNETLE, &le) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, (unsigned long)RELAY_OFFLOADS) < 0)
		return -errno;
	return 0;
}

/* Opens tap NAME inside network namespace NS (by its /run/netns entry). */
static int tap_open_in(const char *ns, const char *name, int home_fd)
{
	char path[PATH_MAX];
	int ns_fd, fd, err;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0) {
		fprintf(stderr, "vnet-relay: namespace %s: %s (create it with ip netns add)\n", ns,
			strerror(errno));
		return -1;
	}
	if (setns(ns_fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "vnet-relay: enter namespace %s: %s\n", ns, strerror(errno));
		close(ns_fd);
		return -1;
	}
	close(ns_fd);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	err = fd < 0 ? -errno : tap_configure(fd, name);
	/* The tap stays in NS; the relay itself goes back home. */
	if (setns(home_fd, CLONE_NEWNET) < 0 && !err)
		err = -errno;
	if (err) {
		fprintf(stderr, "vnet-relay: tap %s in %s: %s%s\n", name, ns, strerror(-err),
			err == -EBUSY ? " (an interface of that name exists)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		relay_dump = 1;
	else
		relay_stop = 1;
}

/* Signals are blocked except while ppoll() waits: none is ever missed. */
static int signals_setup(sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &block, wait_mask) < 0)
		return -1;
	sigdelset(wait_mask, SIGTERM);
	sigdelset(wait_mask, SIGINT);
	sigdelset(wait_mask, SIGUSR1);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL) ||
	    sigaction(SIGUSR1, &sa, NULL))
		return -1;
	return 0;
}

static int stats_write(FILE *f, const struct relay_dir *dirs, int n)
{
	char line[256];
	int i;

	fprintf(f, "seq %lu\n", relay_dump_seq);
	for (i = 0; i < n; i++) {
		vnet_stats_format(line, sizeof(line), dirs[i].name, &dirs[i].stats);
		fputs(line, f);
	}
	return fflush(f);
}

/* To FILE through a rename, so a reader never sees half of it. */
static int stats_dump(const char *file, const struct relay_dir *dirs, int n)
{
	char tmp[PATH_MAX];
	FILE *f;
	int rc;

	relay_dump_seq++;
	if (!file)
		return stats_write(stdout, dirs, n);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "vnet-relay: stats file %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	rc = stats_write(f, dirs, n);
	if (fclose(f) || rc || rename(tmp, file)) {
		fprintf(stderr, "vnet-relay: stats file %s: %s\n", file, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A tap whose link is down refuses frames with EIO: the guest's NIC is not
 * up yet, and a virtio guest drops them the same way. Anything else is an
 * error of the frame, reported (the first few) and counted as one.
 */
static void relay_write_failed(struct relay_dir *d, ssize_t len)
{
	if (errno == EIO) {
		d->stats.dropped_down++;
		return;
	}
	if (d->stats.write_errors++ < RELAY_REPORT_ERRORS)
		fprintf(stderr, "vnet-relay: write (%s) of %zd bytes: %s\n", d->name, len,
			strerror(errno));
}

/*
 * Moves up to RELAY_BURST frames from d->from to d->to. 0 when the source
 * ran dry, -1 on a read error (the tap is gone).
 */
static int relay_burst(struct relay_dir *d, unsigned char *buf)
{
	struct vnet_frame f;
	ssize_t n;
	int i, rc;

	for (i = 0; i < RELAY_BURST; i++) {
		n = read(d->from, buf, RELAY_BUF_LEN);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			fprintf(stderr, "vnet-relay: read (%s): %s\n", d->name, strerror(errno));
			return -1;
		}
		rc = vnet_frame_parse(buf, n, &f);
		vnet_stats_count(&d->stats, &f, rc);
		/* A tap delivers a whole frame or refuses it: never a short write. */
		if (write(d->to, buf, n) != n)
			relay_write_failed(d, n);
	}
	return 0;
}

static int relay_loop(struct relay_dir *dirs, const sigset_t *wait_mask, const char *stats_file)
{
	static unsigned char buf[RELAY_BUF_LEN];
	struct pollfd pfd[2] = {
		{ .fd = dirs[0].from, .events = POLLIN },
		{ .fd = dirs[1].from, .events = POLLIN },
	};
	int i;

	while (!relay_stop) {
		if (ppoll(pfd, 2, NULL, wait_mask) < 0 && errno != EINTR) {
			fprintf(stderr, "vnet-relay: poll: %s\n", strerror(errno));
			return -1;
		}
		if (relay_dump) {
			relay_dump = 0;
			stats_dump(stats_file, dirs, 2);
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].revents & (POLLERR | POLLNVAL)) {
				fprintf(stderr, "vnet-relay: tap of %s failed\n", dirs[i].name);
				return -1;
			}
			if ((pfd[i].revents & POLLIN) && relay_burst(&dirs[i], buf))
				return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct relay_dir dirs[2] = { { .name = "guest_to_host" }, { .name = "host_to_guest" } };
	struct relay_opts o;
	int home_fd, host_fd, guest_fd, rc;
	sigset_t wait_mask;

	if (parse_opts(argc, argv, &o))
		return 1;
	home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home_fd < 0) {
		fprintf(stderr, "vnet-relay: /proc/self/ns/net: %s\n", strerror(errno));
		return 1;
	}
	if (signals_setup(&wait_mask)) {
		fprintf(stderr, "vnet-relay: signals: %s\n", strerror(errno));
		return 1;
	}
	host_fd = tap_open_in(o.host_ns, o.host_tap, home_fd);
	if (host_fd < 0)
		return 1;
	guest_fd = tap_open_in(o.guest_ns, o.guest_tap, home_fd);
	if (guest_fd < 0)
		return 1;
	close(home_fd);
	dirs[0].from = guest_fd;
	dirs[0].to = host_fd;
	dirs[1].from = host_fd;
	dirs[1].to = guest_fd;
	/* The taps are complete (offloads set): callers wait for this line. */
	printf("ready %s/%s <-> %s/%s\n", o.host_ns, o.host_tap, o.guest_ns, o.guest_tap);
	fflush(stdout);

	rc = relay_loop(dirs, &wait_mask, o.stats_file);
	if (o.stats_file)
		stats_dump(o.stats_file, dirs, 2);
	/* Always on stdout too: the log of a test shows what the taps carried. */
	stats_write(stdout, dirs, 2);
	close(guest_fd);
	close(host_fd);
	return rc ? 1 : 0;
}
