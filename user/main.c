// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vnat [OPTIONS] COMMAND [ARGS]: dispatch by unique command prefix. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "args.h"
#include "cmds.h"
#include "completion.h"
#include "log.h"
#include "version.h"

struct vnat_global_opts vnat_opts;

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_completion(int argc, char **argv);

static const struct cmd cmds[] = {
	{ "load", cmd_load, "attach vnat to interfaces and pin its maps" },
	{ "unload", cmd_unload, "detach vnat and remove its pins" },
	{ "status", cmd_status, "interfaces, programs, configuration, counters" },
	{ "conns", cmd_conns, "the connections vnat translates" },
	{ "daemon", cmd_daemon, "keep vnat in sync with bridges, FDB and addresses" },
	{ "apply", cmd_apply, "load and change vnat as the configuration file says" },
	{ "libvirt-hook", cmd_libvirt_hook, "what /etc/libvirt/hooks/network runs" },
	{ "completion", cmd_completion, "print the bash completion script" },
	{ "doctor", cmd_doctor, "name this namespace's network faults, with the fixes" },
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct option global_longopts[] = {
	{ "json", no_argument, NULL, 'j' },    { "pretty", no_argument, NULL, 'p' },
	{ "verbose", no_argument, NULL, 'v' }, { "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },    { NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: vnat [OPTIONS] COMMAND [ARGS]\n"
		     "\n"
		     "vnat accelerates a KVM host's bridging, routing and NAT in XDP/tc.\n"
		     "\n"
		     "Commands:\n");
	for (size_t i = 0; i < N_CMDS; i++)
		fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(out, "\n"
		     "Options:\n"
		     "  -j, --json     JSON output (errors too)\n"
		     "  -p, --pretty   indented JSON (implies --json)\n"
		     "  -v, --verbose  show libbpf/libxdp messages\n"
		     "  -V, --version  print the version\n"
		     "  -h, --help     this text; 'vnat help COMMAND' for a command\n");
}

static int cmd_completion(int argc, char **argv)
{
	const char *names[N_CMDS];

	if (argc != 2 || strcmp(argv[1], "bash")) {
		vnat_err("completion: give the shell: 'vnat completion bash' (bash only)");
		return -EINVAL;
	}
	for (size_t i = 0; i < N_CMDS; i++)
		names[i] = cmds[i].name;
	vnat_completion__bash(stdout, names, N_CMDS, global_longopts);
	return 0;
}

int cmd_show_options(int argc, char **argv, const char *cmd, const char *usage)
{
	struct vnat_show_opts show = { 0 };
	int err = vnat_args__parse_show(argc, argv, cmd, usage, &show);

	vnat_opts.json |= show.json;
	vnat_opts.pretty |= show.pretty;
	vnat_opts.verbose |= show.verbose;
	vnat_log_init(vnat_opts.json, vnat_opts.verbose);
	return err;
}

/* Exact name, or a prefix that matches one command only. */
static const struct cmd *cmd_select(const char *name)
{
	const struct cmd *match = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; i < N_CMDS; i++) {
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
		if (len && !strncmp(cmds[i].name, name, len)) {
			if (match)
				return NULL;
			match = &cmds[i];
		}
	}
	return match;
}

/* vnat help [COMMAND]: the command's own --help. */
static int help(int argc, char **argv)
{
	char opt[] = "--help";
	const struct cmd *cmd;

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	cmd = cmd_select(argv[1]);
	if (!cmd || argc > 2) {
		vnat_err("help: unknown or ambiguous command '%s' (see 'vnat --help')",
			 argv[argc > 2 && cmd ? 2 : 1]);
		return 1;
	}
	return cmd->fn(2, (char *[]){ (char *)cmd->name, opt, NULL }) ? 1 : 0;
}

int main(int argc, char **argv)
{
	const struct cmd *cmd;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+jpvVh", global_longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			vnat_opts.pretty = true;
			/* fall through */
		case 'j':
			vnat_opts.json = true;
			break;
		case 'v':
			vnat_opts.verbose = true;
			break;
		case 'V':
			vnat_version__print(stdout);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			vnat_log_init(vnat_opts.json, false);
			vnat_err("unknown option '%s' (see 'vnat --help')", argv[optind - 1]);
			return 1;
		}
	}
	vnat_log_init(vnat_opts.json, vnat_opts.verbose);
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[optind], "help"))
		return help(argc - optind, argv + optind);
	cmd = cmd_select(argv[optind]);
	if (!cmd) {
		vnat_err("unknown or ambiguous command '%s' (see 'vnat --help')", argv[optind]);
		return 1;
	}
	return cmd->fn(argc - optind, argv + optind) ? 1 : 0;
}
