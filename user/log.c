// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* One place for user-facing messages and the libbpf/libxdp log callbacks. */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "json.h"
#include "log.h"

static bool log_json;
static bool log_verbose;
static char log_context[256];

bool vnat_log_json(void)
{
	return log_json;
}

bool vnat_opts_verbose(void)
{
	return log_verbose;
}

/* libbpf and libxdp are one level quieter than vnat: warnings only with -v. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!log_verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (!log_verbose || level == LIBXDP_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void vnat_log_init(bool json, bool verbose)
{
	log_json = json;
	log_verbose = verbose;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

void vnat_log_context(const char *fmt, ...)
{
	va_list ap;

	log_context[0] = '\0';
	if (!fmt)
		return;
	va_start(ap, fmt);
	vsnprintf(log_context, sizeof(log_context), fmt, ap);
	va_end(ap);
}

void vnat_err(const char *fmt, ...)
{
	char msg[768];
	size_t off = 0;
	va_list ap;

	if (log_context[0])
		off = snprintf(msg, sizeof(msg), "%s: ", log_context);
	va_start(ap, fmt);
	vsnprintf(msg + off, sizeof(msg) - off, fmt, ap);
	va_end(ap);
	if (log_json) {
		struct vnat_json *j = vnat_json_new(stdout, false);

		vnat_json_obj_open(j, NULL);
		vnat_json_str(j, "error", msg);
		vnat_json_obj_close(j);
		vnat_json_free(j);
		return;
	}
	fprintf(stderr, "vnat: %s\n", msg);
}

void vnat_info(const char *fmt, ...)
{
	va_list ap;

	if (log_json)
		return;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}
