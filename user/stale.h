/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_STALE_H
#define VNAT_STALE_H

/*
 * Remove the pin directories of network namespaces that no longer exist
 * (bpffs must be reachable: vnat_bpffs__prepare). The number removed, or
 * -errno (-E2BIG: too many namespaces to be sure, nothing removed).
 */
int vnat_stale__remove(void);

#endif
