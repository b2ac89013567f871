/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Set-up helpers the BPF unit tests share: each test process builds its
 * topology in a private network namespace of its own (unshare), with ip(8)
 * commands and that namespace's sysctls.
 */
#ifndef VNAT_TEST_NETNS_SETUP_H
#define VNAT_TEST_NETNS_SETUP_H

#include <sys/types.h>

/* Inode of the current network namespace (names vnat's pin directory). */
ino_t ns_inode(void);
/* Run a shell command built like printf; its exit status, reported if not 0. */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Write a sysctl of our own namespace (/proc/sys/net follows the netns). */
int sysctl_write(const char *path, const char *val);

#endif
