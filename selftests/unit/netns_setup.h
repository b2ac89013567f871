/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Set-up helpers the BPF unit tests share: each test process builds its
 * topology in a private network namespace of its own (unshare), with ip(8)
 * commands and that namespace's sysctls.
 */
#ifndef VNAT_TEST_NETNS_SETUP_H
#define VNAT_TEST_NETNS_SETUP_H

#include <stddef.h>
#include <sys/types.h>
#include "iface.h"

/* Inode of the current network namespace (names vnat's pin directory). */
ino_t ns_inode(void);
/*
 * Move this process into a network namespace of its own (it goes with the
 * process). 0, or -1 unless the namespace really changed: nothing may ever
 * be built in the host's.
 */
int netns_enter_private(void);
/* Run a shell command built like printf; its exit status, reported if not 0. */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run n commands in turn up to the first that fails: 0, or that one's status. */
int sh_each(const char *const cmds[], size_t n);
/* Write a sysctl of our own namespace (/proc/sys/net follows the netns). */
int sysctl_write(const char *path, const char *val);
/* vnat_iface__resolve(), the failure reported: 0 or -errno. */
int iface_resolve(const char *name, struct vnat_iface_info *ifi);

#endif
