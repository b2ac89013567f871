// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Whether this process may do what every vnat command does (read or pin
 * BPF maps, attach programs, join a mount namespace): asked once, up front,
 * so an unprivileged user reads one clear line rather than the first
 * operation's EPERM (mounting bpffs, as it used to be).
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include "privs.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct *data, int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

bool vnat_privs__enough(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	/* Cannot tell: let the operations themselves say what failed. */
	if (syscall(SYS_capget, &hdr, data))
		return true;
	/* CAP_SYS_ADMIN stands in for CAP_BPF (kernels before 5.8 know only it). */
	return has_cap(data, CAP_NET_ADMIN) &&
	       (has_cap(data, CAP_BPF) || has_cap(data, CAP_SYS_ADMIN));
}
