/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_COMPLETION_H
#define VNAT_COMPLETION_H

#include <stdio.h>

/* The bash completion script: every command's table and the global one. */
void vnat_completion__bash(FILE *out);

#endif
