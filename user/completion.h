/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_COMPLETION_H
#define VNAT_COMPLETION_H

#include <stdio.h>

struct option;

/* The bash completion script for these commands and the global options. */
void vnat_completion__bash(FILE *out, const char *const *cmds, int n_cmds,
			   const struct option *global);

#endif
