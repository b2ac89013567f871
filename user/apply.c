// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vnat apply: the configuration file made true (see apply.h). */
#include <errno.h>
#include "apply.h"
#include "log.h"

int vnat_apply__file(const char *path)
{
	vnat_err("apply: %s: configuration files are not supported yet", path);
	return -EOPNOTSUPP;
}
