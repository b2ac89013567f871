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
 * running with what it last knew; restarting resynchronises. One runs per
 * network namespace (daemon_lock.c); SIGHUP applies the configuration file
 * again; a managed interface deleted and created again is re-attached.
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
#include "args.h"
#include "cmds.h"
#include "apply.h"
#include "daemon_lock.h"
#include "datapath.h"
#include "instance.h"
#include "log.h"
#include "policy.h"
#include "stale.h"
#include "sync.h"
#include "topo.h"

static volatile sig_atomic_t stop, reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

/* No SA_RESTART: a signal ends the poll at once, whatever it waits for. */
static void handle_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
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
	ports = vnat_sync__reattach(l, t);
	ports = ports < 0 ? ports : vnat_sync__ports(l, t) + ports;
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
 * Who asks who holds the lock gets an answer meanwhile.
 */
static bool wait_for_change(struct nl_sock *sk, int lock_fd, const struct vnat_maps *m)
{
	struct pollfd pfd[2] = {
		{ .fd = nl_socket_get_fd(sk), .events = POLLIN },
		{ .fd = lock_fd, .events = POLLIN },
	};

	if (poll(pfd, 2, 1000) <= 0)
		return false;
	if (pfd[1].revents)
		vnat_daemon_lock__answer(lock_fd);
	if (!pfd[0].revents)
		return false;
	if (vnat_maps__bump_gen(m))
		vnat_err("daemon: cannot bump vnat_gen");
	do {
		while (nl_recvmsgs_default(sk) >= 0 && !stop)
			;
		pfd[0].revents = 0;
	} while (!stop && poll(pfd, 1, 20) > 0);
	return true;
}

static bool still_loaded(const struct vnat_netns *ns)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/vnat_config", ns->pin_dir);
	return !stat(path, &st);
}

/* One daemon per network namespace; -EBUSY (said) when one runs. */
static int take_lock(void)
{
	int fd = vnat_daemon_lock__take();
	pid_t pid;

	if (fd != -EBUSY) {
		if (fd < 0)
			vnat_err("daemon: cannot take the daemon lock: %s", strerror(-fd));
		return fd;
	}
	pid = vnat_daemon_lock__holder();
	if (pid > 0)
		vnat_err("daemon: another vnat daemon (pid %d) runs in this network namespace "
			 "(stop it first)",
			 (int)pid);
	else
		vnat_err("daemon: another vnat daemon runs in this network namespace (stop it "
			 "first)");
	return -EBUSY;
}

/* SIGHUP: the configuration file again, as 'vnat apply' would. */
static void reload_config(const char *path)
{
	vnat_info("vnat: daemon: SIGHUP: applying %s", path);
	if (vnat_apply__file(path))
		vnat_info("vnat: daemon: %s not applied; running as before", path);
}

static int find_instance(struct vnat_netns *ns)
{
	struct vnat_maps m;
	int err = vnat_instance__find(ns, &m);

	if (err == -ENOENT)
		vnat_err("daemon: vnat is not loaded in this network namespace (run 'vnat load' "
			 "or 'vnat apply' first)");
	if (!err)
		vnat_maps__close(&m);
	return err;
}

static int follow(struct vnat_loader *l, const struct vnat_netns *ns, struct nl_sock *sk,
		  int lock_fd, const struct vnat_daemon_opts *o)
{
	static struct vnat_topo topo;
	bool changed = true; /* the first sync: whatever happened meanwhile */
	int err = 0;

	while (!stop) {
		if (reload) {
			reload = 0;
			reload_config(o->config);
			changed = true;
		}
		err = resync(l, &topo, changed);
		if (err || o->once)
			break;
		changed = wait_for_change(sk, lock_fd, &l->maps);
		if (!still_loaded(ns)) {
			vnat_info("vnat: daemon: vnat was unloaded; exiting");
			break;
		}
	}
	return err;
}

int cmd_daemon(int argc, char **argv)
{
	struct vnat_daemon_opts o;
	struct vnat_loader l;
	struct vnat_netns ns;
	struct nl_sock *sk;
	int err, lock_fd = -1;

	/* One line per event, also when stdout is a log file or a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	err = vnat_args__parse_daemon(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	/* A one-shot sync may run beside the daemon; a second daemon may not. */
	if (!o.once) {
		lock_fd = take_lock();
		if (lock_fd < 0)
			return lock_fd;
	}
	/* Before a SIGHUP can arrive: the default action would end us. */
	handle_signals();
	err = find_instance(&ns);
	if (err)
		goto out_unlock;
	if (!o.once && vnat_stale__remove() < 0)
		vnat_info("vnat: daemon: stale pins not checked (see 'vnat unload --stale')");
	/* Its own program instance, to attach ports that appear later. */
	err = vnat_loader__open(&l, ns.pin_dir, 0);
	if (err)
		goto out_unlock;
	sk = event_socket();
	if (!sk) {
		vnat_err("daemon: cannot subscribe to rtnetlink events");
		err = -EIO;
		goto out_close;
	}
	if (!o.once)
		vnat_info("vnat: daemon: pid %d following %s", (int)getpid(), ns.pin_dir);
	err = follow(&l, &ns, sk, lock_fd, &o);
	nl_socket_free(sk);
out_close:
	vnat_loader__close(&l);
out_unlock:
	if (lock_fd >= 0)
		close(lock_fd);
	return err;
}
