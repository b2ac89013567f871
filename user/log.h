/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_LOG_H
#define VNAT_LOG_H

#include <stdbool.h>

/* Error messages: "vnat: <object>: <cause> (<hint>)", or {"error": ...} in JSON mode. */
void vnat_log_init(bool json, bool verbose);
/* Said before every error until cleared (NULL): where the input came from. */
void vnat_log_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vnat_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vnat_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool vnat_log_json(void);
bool vnat_opts_verbose(void);

#endif
