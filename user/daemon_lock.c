// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One daemon per network namespace: it listens on an abstract unix socket,
 * whose names are per network namespace and vanish with the process that
 * holds them (no file to go stale after a crash). Whoever connects learns
 * the holder's pid from SO_PEERCRED.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "daemon_lock.h"

#define LOCK_NAME "vnat-daemon"

static socklen_t lock_addr(struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	/* sun_path[0] stays '\0': the abstract namespace. */
	memcpy(sun->sun_path + 1, LOCK_NAME, strlen(LOCK_NAME));
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(LOCK_NAME);
}

int vnat_daemon_lock__take(void)
{
	struct sockaddr_un sun;
	socklen_t len = lock_addr(&sun);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, len) || listen(fd, 16)) {
		int err = -errno;

		close(fd);
		return err == -EADDRINUSE ? -EBUSY : err;
	}
	return fd;
}

void vnat_daemon_lock__answer(int fd)
{
	int c;

	while ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(c);
}

pid_t vnat_daemon_lock__holder(void)
{
	struct sockaddr_un sun;
	socklen_t len = lock_addr(&sun);
	struct ucred cred = { 0 };
	socklen_t clen = sizeof(cred);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	pid_t pid;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, len)) {
		/* A full backlog still means someone holds the name. */
		pid = errno == EAGAIN ? -EAGAIN : 0;
	} else {
		pid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ? -errno : cred.pid;
	}
	close(fd);
	return pid;
}
