/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_VERSION_H
#define VNAT_VERSION_H

#include <stdio.h>

/* vnat's version, then the libbpf and libxdp in use, one per line. */
void vnat_version__print(FILE *out);

#endif
