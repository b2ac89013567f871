/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_DAEMON_LOCK_H
#define VNAT_DAEMON_LOCK_H

#include <sys/types.h>

/* The lock's socket (poll it, then answer), or -EBUSY when a daemon holds it. */
int vnat_daemon_lock__take(void);
/* Close the connections of those who asked who holds the lock. */
void vnat_daemon_lock__answer(int fd);
/* The pid of this network namespace's daemon, 0 if none, -errno if unknown. */
pid_t vnat_daemon_lock__holder(void);

#endif
