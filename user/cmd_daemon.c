// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vnat daemon: the topology mirror. Follows rtnetlink (links, bridge ports,
 * FDB, addresses, and routes, rules, neighbours and netconf for the next
 * hops flows cache) and keeps the pinned maps in sync: a new port of a
 * managed bridge is attached, a port that left is released, learned MACs
 * and host addresses follow the kernel. Every event triggers a full resync
 * from fresh dumps (simple and self-correcting) and a generation bump that
 * makes established flows look their next hop up again; a 1 s tick
 * resyncs in case an event was lost. Stopping it leaves the datapath
 * running with what it last knew; restarting resynchronises.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include "cmds.h"
#include "datapath.h"
#include "instance.h"
#include "log.h"
#include "policy.h"
#include "sync.h"
#include "topo.h"

static const char daemon_usage[] =
	"Usage: vnat daemon [--once]\n"
	"\n"
	"Keep vnat's maps in sync with the host: ports of managed bridges, their\n"
	"FDB entries and STP state, and this host's addresses. Runs in the\n"
	"foreground until SIGTERM/SIGINT, or until vnat is unloaded.\n"
	"\n"
	"  --once      synchronise once and exit\n"
	"  -h, --help  this text\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int ignore_msg(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

/* A socket that only tells us that something changed. */
static struct nl_sock *event_socket(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk)
		return NULL;
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, ignore_msg, NULL);
	if (nl_connect(sk, NETLINK_ROUTE) ||
	    nl_socket_add_memberships(sk, RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_IFADDR,
				      RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV4_RULE, RTNLGRP_IPV4_NETCONF,
				      0) ||
	    nl_socket_set_nonblocking(sk)) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

/* changed: rtnetlink reported something (a route, a neighbour ...). */
/*
 * Rules added or removed since load (or the last look): admission follows,
 * unless --admission fixed it. Every nftables change (iptables-nft and
 * ebtables-nft included) bumps the ruleset generation, so the full probe
 * runs only then, or when the legacy tables change.
 */
static void follow_policy(const struct vnat_maps *m)
{
	static struct vnat_policy last;
	static bool seen;
	struct vnat_policy now;
	struct vnat_config cfg;
	int r;

	if (vnat_maps__read_config(m, &cfg) || (cfg.flags & VNAT_CFG_POLICY_FIXED))
		return;
	if (vnat_policy__generation(&now))
		return;
	if (seen && now.nft_gen == last.nft_gen && !strcmp(now.legacy, last.legacy))
		return;
	if (vnat_policy__probe(&now))
		return;
	last = now;
	seen = true;
	r = vnat_policy__apply(m, VNAT_ADMISSION_AUTO, &now);
	if (r > 0)
		vnat_info("vnat: daemon: admission now %s (%u nftables rules%s%s)",
			  now.rules ? "kernel" : "vnat", now.nft_rules,
			  now.legacy[0] ? ", legacy tables " : "", now.legacy);
}

static int resync(struct vnat_loader *l, struct vnat_topo *t, bool changed)
{
	int ports, fdb, prefixes, masq;

	if (vnat_topo__dump(t))
		return -EIO;
	follow_policy(&l->maps);
	ports = vnat_sync__ports(l, t);
	fdb = vnat_sync__fdb(&l->maps, t);
	masq = vnat_sync__masquerade(&l->maps);
	prefixes = vnat_sync__prefixes(&l->maps, NULL, 0);
	if (ports < 0 || fdb < 0 || prefixes < 0 || masq < 0)
		return -EIO;
	/*
	 * The kernel's routes and neighbours are not mirrored, only looked
	 * up: any event may have changed a flow's cached next hop. Bumped when
	 * the event arrived (wait_for_change) and again now, after the
	 * resync, for lookups made during the drain and the dumps. The maps'
	 * own changes bumped already.
	 */
	if (changed && vnat_maps__bump_gen(&l->maps))
		return -EIO;
	if (vnat_opts.verbose && ports + fdb + prefixes)
		vnat_info("vnat: sync: %d port, %d fdb, %d prefix changes", ports, fdb, prefixes);
	return 0;
}

/*
 * Wait for an event or the tick; drain a burst of events as one. True on
 * events. The kernel has changed by the time it reports: the generation is
 * bumped at once, so established flows stop using next hops cached before
 * the change now, not after the drain and the resync (which bumps again).
 */
static bool wait_for_change(struct nl_sock *sk, const struct vnat_maps *m)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(sk), .events = POLLIN };

	if (poll(&pfd, 1, 1000) <= 0)
		return false;
	if (vnat_maps__bump_gen(m))
		vnat_err("daemon: cannot bump vnat_gen");
	do {
		while (nl_recvmsgs_default(sk) >= 0 && !stop)
			;
		pfd.revents = 0;
	} while (!stop && poll(&pfd, 1, 20) > 0);
	return true;
}

static bool still_loaded(const struct vnat_netns *ns)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/vnat_config", ns->pin_dir);
	return !stat(path, &st);
}

static int parse_daemon(int argc, char **argv, bool *once)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*once = false;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c == 'o') {
			*once = true;
		} else if (c == 'h') {
			fputs(daemon_usage, stdout);
			return 1;
		} else {
			vnat_err("daemon: unknown option '%s' (see 'vnat daemon --help')",
				 argv[optind - 1]);
			return -EINVAL;
		}
	}
	return 0;
}

int cmd_daemon(int argc, char **argv)
{
	static struct vnat_topo topo;
	struct vnat_loader l;
	struct vnat_netns ns;
	struct vnat_maps m;
	struct nl_sock *sk;
	bool once, changed = true; /* the first sync: whatever happened meanwhile */
	int err;

	err = parse_daemon(argc, argv, &once);
	if (err)
		return err > 0 ? 0 : err;
	err = vnat_instance__find(&ns, &m);
	if (err == -ENOENT)
		vnat_err("daemon: vnat is not loaded in this network namespace (run 'vnat load' "
			 "first)");
	if (err)
		return err;
	vnat_maps__close(&m);
	/* Its own program instance, to attach ports that appear later. */
	err = vnat_loader__open(&l, ns.pin_dir, 0);
	if (err)
		return err;
	sk = event_socket();
	if (!sk) {
		vnat_err("daemon: cannot subscribe to rtnetlink events");
		err = -EIO;
		goto out_close;
	}
	/* One line per event, also when stdout is a log file or a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (!once)
		vnat_info("vnat: daemon: following %s", ns.pin_dir);
	while (!stop) {
		err = resync(&l, &topo, changed);
		if (err || once)
			break;
		changed = wait_for_change(sk, &l.maps);
		if (!still_loaded(&ns)) {
			vnat_info("vnat: daemon: vnat was unloaded; exiting");
			break;
		}
	}
	nl_socket_free(sk);
out_close:
	vnat_loader__close(&l);
	return err;
}
