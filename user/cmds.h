/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_CMDS_H
#define VNAT_CMDS_H

#include "options.h" /* vnat_opts: the global options, read-only */

/* A show command's options (the global ones); 0, 1 (help printed) or -EINVAL. */
int cmd_show_options(int argc, char **argv, const char *cmd);

int cmd_load(int argc, char **argv);
int cmd_unload(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_conns(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_libvirt_hook(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

#endif
