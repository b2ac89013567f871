// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pins of network namespaces that are gone. A namespace lives while a
 * process is in it, a file descriptor or a bind mount (ip netns add)
 * refers to it; its pin directory is named after its inode. A directory
 * whose inode none of those show belongs to a namespace deleted while vnat
 * was loaded: its maps (the flow table alone is megabytes) serve no one.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "datapath.h"
#include "log.h"
#include "stale.h"

#define MAX_LIVE 4096
#define MAX_MNTNS 256

struct live_set {
	unsigned long long ino[MAX_LIVE];
	int n;
	bool full; /* more namespaces than we can hold: remove nothing */
};

static void live_add(struct live_set *s, unsigned long long ino)
{
	for (int i = 0; i < s->n; i++)
		if (s->ino[i] == ino)
			return;
	if (s->n == MAX_LIVE) {
		s->full = true;
		return;
	}
	s->ino[s->n++] = ino;
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* "net:[4026532001]", as ns links, fd links and nsfs mounts show it. */
static void add_net_ref(struct live_set *s, const char *text)
{
	const char *p = strstr(text, "net:[");

	if (p)
		live_add(s, strtoull(p + 5, NULL, 10));
}

static void scan_fds(struct live_set *s, int pid)
{
	char path[64], link[96], target[64];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		ssize_t n;

		if (!is_number(e->d_name))
			continue;
		snprintf(link, sizeof(link), "%s/%d", path, atoi(e->d_name));
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		add_net_ref(s, target);
	}
	closedir(d);
}

/* nsfs bind mounts, in every mount namespace a process shows us. */
static void scan_mounts(struct live_set *s, int pid, unsigned long long *mnt_seen, int *n_mnt)
{
	char path[64], line[1024];
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	if (stat(path, &st))
		return;
	for (int i = 0; i < *n_mnt; i++)
		if (mnt_seen[i] == st.st_ino)
			return;
	if (*n_mnt < MAX_MNTNS)
		mnt_seen[(*n_mnt)++] = st.st_ino;
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		add_net_ref(s, line);
	fclose(f);
}

static int live_namespaces(struct live_set *s)
{
	static unsigned long long mnt_seen[MAX_MNTNS];
	char path[64];
	struct dirent *e;
	struct stat st;
	int n_mnt = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	s->n = 0;
	s->full = false;
	while ((e = readdir(d))) {
		int pid;

		if (!is_number(e->d_name))
			continue;
		pid = atoi(e->d_name);
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if (!stat(path, &st))
			live_add(s, st.st_ino);
		scan_fds(s, pid);
		scan_mounts(s, pid, mnt_seen, &n_mnt);
	}
	closedir(d);
	return 0;
}

static bool is_live(const struct live_set *s, unsigned long long ino)
{
	for (int i = 0; i < s->n; i++)
		if (s->ino[i] == ino)
			return true;
	return false;
}

int vnat_stale__remove(void)
{
	static struct live_set live;
	char dir[128], *end;
	struct dirent *e;
	int removed = 0, err;
	DIR *d;

	d = opendir(VNAT_PIN_ROOT);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	err = live_namespaces(&live);
	if (err || live.full) {
		closedir(d);
		return err ?: -E2BIG;
	}
	while ((e = readdir(d))) {
		unsigned long long ino;

		if (strncmp(e->d_name, "netns-", 6) || !is_number(e->d_name + 6))
			continue;
		ino = strtoull(e->d_name + 6, &end, 10);
		if (is_live(&live, ino))
			continue;
		snprintf(dir, sizeof(dir), "%s/netns-%llu", VNAT_PIN_ROOT, ino);
		err = vnat_maps__unpin(dir);
		if (err) {
			vnat_err("stale pins %s: %s (remove them with rm -r)", dir, strerror(-err));
			continue;
		}
		vnat_info("vnat: removed %s (its network namespace no longer exists)", dir);
		removed++;
	}
	closedir(d);
	return removed;
}
