// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vnat apply [FILE]: the configuration file made true (apply.c). */
#include "apply.h"
#include "args.h"
#include "cmds.h"
#include "log.h"

int cmd_apply(int argc, char **argv)
{
	struct vnat_apply_opts o;
	int err = vnat_args__parse_apply(argc, argv, &o);

	if (err)
		return err > 0 ? 0 : err;
	return vnat_apply__file(o.file);
}
