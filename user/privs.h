/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_PRIVS_H
#define VNAT_PRIVS_H

#include <stdbool.h>

/* The capabilities vnat's commands need: CAP_NET_ADMIN and CAP_BPF (or CAP_SYS_ADMIN). */
bool vnat_privs__enough(void);

#define VNAT_PRIVS_MSG "needs root (CAP_BPF, CAP_NET_ADMIN)"

#endif
