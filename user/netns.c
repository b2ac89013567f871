// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Finding the namespace's identity and a bpffs that outlives the CLI.
 *
 * `ip netns exec` runs us in a private mount namespace whose /sys is a
 * fresh sysfs without bpffs; a bpffs mounted there would vanish (with its
 * pins) when the command exits. So when /sys/fs/bpf is not bpffs we join
 * the outer mount namespace, which only changes what paths resolve to:
 * the network namespace, and so every netlink and ifindex operation, stays.
 * When no ancestor shows it (the one that started us exited, and PID 1's
 * namespace is out of reach), we join that of another process whose
 * /sys/fs/bpf holds this namespace's pins, or, for a first load, is bpffs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "vnat.h"
#include "log.h"
#include "netns.h"
#include "privs.h"

#define BPFFS_MOUNT "/sys/fs/bpf"

static uint64_t netns_cookie(void)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
		cookie = 0;
	close(fd);
	return cookie;
}

int vnat_netns__identify(struct vnat_netns *ns)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st)) {
		vnat_err("netns: /proc/self/ns/net: %s (is /proc mounted?)", strerror(errno));
		return -errno;
	}
	ns->inode = st.st_ino;
	ns->cookie = netns_cookie();
	snprintf(ns->pin_dir, sizeof(ns->pin_dir), "%s/netns-%llu", VNAT_PIN_ROOT,
		 (unsigned long long)ns->inode);
	return 0;
}

static int is_bpffs(const char *path)
{
	struct statfs sfs;

	return !statfs(path, &sfs) && sfs.f_type == BPF_FS_MAGIC;
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	pid_t ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	/* "pid (comm) state ppid ...": comm may hold spaces, skip to its ')'. */
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 1, " %*c %d", &ppid);
	fclose(f);
	return ppid;
}

static int join_mount_ns_of(pid_t pid)
{
	char path[64];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNS))
		err = -errno;
	close(fd);
	return err;
}

static uint64_t mount_ns_of(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	return stat(path, &st) ? 0 : st.st_ino;
}

/*
 * Join the mount namespace the CLI was started from: PID 1's where we may
 * (a host), else the nearest ancestor's that differs from ours (`ip netns
 * exec` exec()s us from a shell in the original namespace; in a container
 * PID 1 may be out of reach).
 */
static int join_outer_mount_ns(void)
{
	uint64_t self = mount_ns_of(getpid());
	pid_t pid = getpid();

	if (!join_mount_ns_of(1))
		return 0;
	for (int depth = 0; depth < 64 && pid > 1; depth++) {
		uint64_t ns;

		pid = parent_of(pid);
		ns = pid > 0 ? mount_ns_of(pid) : 0;
		if (ns && ns != self)
			return join_mount_ns_of(pid);
	}
	return -ENOENT;
}

/* /proc/PID/root/sys/fs/bpf: PID's bpffs, walked in its mount namespace. */
static void bpffs_of(pid_t pid, char *path, size_t len)
{
	snprintf(path, len, "/proc/%d/root%s", pid, BPFFS_MOUNT);
}

/*
 * A process whose /sys/fs/bpf is bpffs: one that shows this namespace's
 * pins if any does (a daemon must find what load pinned), else the first.
 */
static pid_t bpffs_holder(const char *pin_dir)
{
	char path[256];
	struct dirent *e;
	pid_t first = 0, pid;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		pid = atoi(e->d_name);
		if (pid <= 1 || pid == getpid())
			continue;
		bpffs_of(pid, path, sizeof(path));
		if (!is_bpffs(path))
			continue;
		if (!first)
			first = pid;
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s",
			 pin_dir + strlen(BPFFS_MOUNT));
		if (!access(path, F_OK)) {
			first = pid;
			break;
		}
	}
	closedir(d);
	return first;
}

/* Into the mount namespace of a process that shows bpffs (see above). */
static int join_bpffs_holder(const char *pin_dir)
{
	pid_t pid = bpffs_holder(pin_dir);

	return pid ? join_mount_ns_of(pid) : -ENOENT;
}

int vnat_bpffs__prepare(void)
{
	struct vnat_netns ns;

	if (!vnat_privs__enough()) {
		vnat_err(VNAT_PRIVS_MSG);
		return -EPERM;
	}
	if (is_bpffs(BPFFS_MOUNT))
		return 0;
	/* Hidden by `ip netns exec`: use the outer namespace's (see above). */
	if (!join_outer_mount_ns() && is_bpffs(BPFFS_MOUNT))
		return 0;
	if (!vnat_netns__identify(&ns) && !join_bpffs_holder(ns.pin_dir) && is_bpffs(BPFFS_MOUNT))
		return 0;
	/* No bpffs anywhere yet: mount one where the host expects it. */
	if (mount("bpf", BPFFS_MOUNT, "bpf", 0, "mode=0700")) {
		vnat_err("bpffs: cannot mount at %s: %s (mount it: mount -t bpf bpf %s)",
			 BPFFS_MOUNT, strerror(errno), BPFFS_MOUNT);
		return -errno;
	}
	return 0;
}
