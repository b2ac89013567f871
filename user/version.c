// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vnat --version: this build's version and the libbpf and libxdp actually
 * loaded. libxdp has no version call, and libbpf's gives major.minor only:
 * the shared objects' real file names (libbpf.so.1.1.2) carry the release.
 */
#include <link.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "version.h"
#include "vnat_version.h"

struct lib_version {
	const char *stem; /* "libbpf.so." */
	char version[32];
};

static int find_lib(struct dl_phdr_info *info, size_t size, void *ctx)
{
	struct lib_version *lv = ctx;
	char real[PATH_MAX];
	const char *base, *v;

	(void)size;
	if (!info->dlpi_name || !strstr(info->dlpi_name, lv->stem) ||
	    !realpath(info->dlpi_name, real))
		return 0;
	base = strrchr(real, '/');
	base = base ? base + 1 : real;
	v = strstr(base, lv->stem);
	if (!v)
		return 0;
	snprintf(lv->version, sizeof(lv->version), "%s", v + strlen(lv->stem));
	return 1;
}

static const char *loaded_version(const char *stem, const char *fallback, char *buf, size_t len)
{
	struct lib_version lv = { .stem = stem };

	dl_iterate_phdr(find_lib, &lv);
	snprintf(buf, len, "%s", lv.version[0] ? lv.version : fallback);
	return buf;
}

void vnat_version__print(FILE *out)
{
	char bpf[32], xdp[32], api[16];

	snprintf(api, sizeof(api), "%u.%u", libbpf_major_version(), libbpf_minor_version());
	fprintf(out, "vnat %s\n", VNAT_VERSION);
	fprintf(out, "libbpf %s\n", loaded_version("libbpf.so.", api, bpf, sizeof(bpf)));
	/* Debian's libxdp 1.3.1 ships libxdp.so.1.3.0: say which is which. */
	fprintf(out, "libxdp %s (shared object; built with libxdp %s)\n",
		loaded_version("libxdp.so.", VNAT_LIBXDP_BUILT, xdp, sizeof(xdp)),
		VNAT_LIBXDP_BUILT);
}
