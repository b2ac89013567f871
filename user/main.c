// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vnat [OPTIONS] COMMAND [ARGS]: dispatch by unique command prefix. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "args.h"
#include "cmds.h"
#include "completion.h"
#include "log.h"
#include "version.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static int cmd_completion(int argc, char **argv);
static int cmd_help(int argc, char **argv);

/* The handlers; names, summaries and options are the tables' (args.c). */
static const struct cmd cmds[] = {
	{ "load", cmd_load },
	{ "unload", cmd_unload },
	{ "status", cmd_status },
	{ "conns", cmd_conns },
	{ "daemon", cmd_daemon },
	{ "apply", cmd_apply },
	{ "libvirt-hook", cmd_libvirt_hook },
	{ "completion", cmd_completion },
	{ "doctor", cmd_doctor },
	{ "help", cmd_help },
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct cmd *handler(const char *name)
{
	for (size_t i = 0; i < N_CMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static int cmd_completion(int argc, char **argv)
{
	int next, err = vnat_args__parse_words("completion", argc, argv, &next);

	if (err)
		return err > 0 ? 0 : err;
	if (argc - next != 1 || strcmp(argv[next], "bash")) {
		vnat_err("completion: give the shell: 'vnat completion bash' (bash only)");
		return -EINVAL;
	}
	vnat_completion__bash(stdout);
	return 0;
}

int cmd_show_options(int argc, char **argv, const char *cmd)
{
	struct vnat_show_opts show;

	return vnat_args__parse_show(argc, argv, cmd, &show);
}

/* Exact name, or a prefix that matches one command only. */
static const struct vnat_cmdspec *cmd_select(const char *name)
{
	const struct vnat_cmdspec *match = NULL;
	size_t len = strlen(name);

	for (const struct vnat_cmdspec *const *c = vnat_args__cmds; *c; c++) {
		if (!strcmp((*c)->name, name))
			return *c;
		if (len && !strncmp((*c)->name, name, len)) {
			if (match)
				return NULL;
			match = *c;
		}
	}
	return match;
}

/* vnat help [COMMAND]: the command's own --help. */
static int cmd_help(int argc, char **argv)
{
	const struct vnat_cmdspec *cmd;
	int next, err = vnat_args__parse_words("help", argc, argv, &next);

	if (err)
		return err > 0 ? 0 : err;
	if (next == argc) {
		vnat_optdoc__usage(stdout, &vnat_args__main);
		return 0;
	}
	cmd = cmd_select(argv[next]);
	if (!cmd || argc - next > 1) {
		vnat_err("help: unknown or ambiguous command '%s' (see 'vnat --help')",
			 argv[argc - next > 1 && cmd ? next + 1 : next]);
		return -EINVAL;
	}
	vnat_optdoc__usage(stdout, cmd);
	return 0;
}

int main(int argc, char **argv)
{
	const struct vnat_cmdspec *spec;
	struct vnat_main_opts o;
	const struct cmd *cmd;
	int err;

	err = vnat_args__parse_main(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 1;
	if (o.version) {
		vnat_version__print(stdout);
		return 0;
	}
	if (o.next >= argc) {
		vnat_optdoc__usage(stderr, &vnat_args__main);
		return 1;
	}
	spec = cmd_select(argv[o.next]);
	cmd = spec ? handler(spec->name) : NULL;
	if (!cmd) {
		vnat_err("unknown or ambiguous command '%s' (see 'vnat --help')", argv[o.next]);
		return 1;
	}
	return cmd->fn(argc - o.next, argv + o.next) ? 1 : 0;
}
