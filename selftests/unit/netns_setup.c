// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "netns_setup.h"

ino_t ns_inode(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : st.st_ino;
}

int netns_enter_private(void)
{
	ino_t host = ns_inode();

	if (unshare(CLONE_NEWNET)) {
		perror("unshare(CLONE_NEWNET)");
		return -1;
	}
	if (!host || ns_inode() == host) {
		fprintf(stderr, "setup: still in the namespace we started in\n");
		return -1;
	}
	return 0;
}

int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc)
		fprintf(stderr, "setup: '%s' exited %d\n", cmd, rc);
	return rc;
}

int sh_each(const char *const cmds[], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = sh("%s", cmds[i]);

		if (rc)
			return rc;
	}
	return 0;
}

int sysctl_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "setup: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

int iface_resolve(const char *name, struct vnat_iface_info *ifi)
{
	int err = vnat_iface__resolve(name, ifi);

	if (err)
		fprintf(stderr, "setup: resolve %s: %s\n", name, strerror(-err));
	return err;
}
