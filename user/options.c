// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The option parser every command runs: getopt_long's tables written from
 * the command's declarative table plus the global one, and the one owner
 * of the global options.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "options.h"

static struct vnat_global_opts globals;
/* The process's command line: global options after the command count there only. */
static char **cmdline;
static int cmdline_len;

const struct vnat_global_opts *vnat_options__globals(void)
{
	return &globals;
}

static int set_json(void *opts, const char *arg)
{
	(void)arg;
	((struct vnat_global_opts *)opts)->json = true;
	return 0;
}

static int set_pretty(void *opts, const char *arg)
{
	((struct vnat_global_opts *)opts)->pretty = true;
	return set_json(opts, arg);
}

static int set_verbose(void *opts, const char *arg)
{
	(void)arg;
	((struct vnat_global_opts *)opts)->verbose = true;
	return 0;
}

const struct vnat_optspec vnat_options__global[] = {
	{ "json", 'j', NULL, "JSON output (errors too)",
	  "JSON output; errors too, as {\"error\": ...}.", set_json, 0 },
	{ "pretty", 'p', NULL, "indented JSON (implies --json)", "Indented JSON (implies **-j**).",
	  set_pretty, 0 },
	{ "verbose", 'v', NULL, "show libbpf/libxdp messages",
	  "Show libbpf/libxdp messages (with **load**, the verifier's log); **status** shows "
	  "zero counters too, **daemon** reports every synchronisation.",
	  set_verbose, 0 },
	{ "help", 'h', NULL, "this text",
	  "Print the usage and exit: vnat's before the command, the command's after it (as "
	  "**vnat help** *COMMAND*).",
	  NULL, VNAT_OPT_HELP },
	{ NULL },
};

size_t vnat_options__count(const struct vnat_optspec *opts)
{
	size_t n = 0;

	while (opts && opts[n].lng)
		n++;
	return n;
}

/* A command's own options get values above any letter: 256 + index. */
static int opt_val(const struct vnat_optspec *o, size_t i)
{
	return o->shrt ? o->shrt : 256 + (int)i;
}

static void add_opt(const struct vnat_optspec *o, int val, struct option *lo, char **s)
{
	*lo = (struct option){ o->lng, o->arg ? required_argument : no_argument, NULL, val };
	if (!o->shrt)
		return;
	*(*s)++ = o->shrt;
	if (o->arg)
		*(*s)++ = ':';
}

int vnat_options__getopt(const struct vnat_cmdspec *cmd, struct option *longopts, size_t n,
			 char *optstring, size_t len)
{
	size_t n_cmd = vnat_options__count(cmd->opts),
	       n_glob = vnat_options__count(vnat_options__global);
	char *s = optstring;

	/* "+": stop at the first operand; ":": say ':' for a missing value. */
	if (n_cmd + n_glob + 1 > n || 2 + 2 * (n_cmd + n_glob) + 1 > len)
		return -E2BIG;
	*s++ = '+';
	*s++ = ':';
	for (size_t i = 0; i < n_cmd; i++)
		add_opt(&cmd->opts[i], opt_val(&cmd->opts[i], i), longopts++, &s);
	for (size_t i = 0; i < n_glob; i++)
		add_opt(&vnat_options__global[i], vnat_options__global[i].shrt, longopts++, &s);
	*longopts = (struct option){ NULL, 0, NULL, 0 };
	*s = '\0';
	return 0;
}

static const struct vnat_optspec *own_by_val(const struct vnat_cmdspec *cmd, int val)
{
	for (size_t i = 0; cmd->opts && cmd->opts[i].lng; i++)
		if (opt_val(&cmd->opts[i], i) == val)
			return &cmd->opts[i];
	return NULL;
}

static const struct vnat_optspec *global_by_val(int val)
{
	for (const struct vnat_optspec *o = vnat_options__global; o->lng; o++)
		if (o->shrt == val)
			return o;
	return NULL;
}

const struct vnat_optspec *vnat_options__by_val(const struct vnat_cmdspec *cmd, int val)
{
	return own_by_val(cmd, val) ?: global_by_val(val);
}

const struct vnat_optspec *vnat_options__find(const struct vnat_cmdspec *cmd, const char *lng)
{
	for (const struct vnat_optspec *o = cmd->opts; o && o->lng; o++)
		if (!strcmp(o->lng, lng))
			return o;
	return NULL;
}

/*
 * With a leading ':' in optstring, getopt says ':' for a missing value. A
 * short option is named by optopt: argv[optind - 1] may be the previous
 * word when the bad letter starts a cluster such as -xa.
 */
static int bad_option(int c, const struct vnat_cmdspec *cmd, int argc, char **argv)
{
	char shortopt[3] = { '-', (char)optopt, '\0' };
	const char *prev = optind - 1 < argc ? argv[optind - 1] : "?";
	const char *arg = !strncmp(prev, "--", 2) || optopt <= ' ' || optopt >= 127 ? prev :
										      shortopt;
	char see[64];

	snprintf(see, sizeof(see), "see 'vnat %s%s--help'", cmd->name ?: "", cmd->name ? " " : "");
	if (!cmd->name)
		vnat_err("unknown option '%s' (%s)", arg, see);
	else if (c == ':')
		vnat_err("%s: option '%s' needs a value (%s)", cmd->name, arg, see);
	else
		vnat_err("%s: unknown option '%s' (%s)", cmd->name, arg, see);
	return -EINVAL;
}

int vnat_options__no_operands(const char *cmd, int argc, char **argv, int next)
{
	if (next >= argc)
		return 0;
	vnat_err("%s: unexpected argument '%s' (see 'vnat %s --help')", cmd, argv[next], cmd);
	return -EINVAL;
}

static bool in_cmdline(char **argv)
{
	return cmdline && argv >= cmdline && argv < cmdline + cmdline_len;
}

/* The one writer of the global options; errors after -j are JSON already. */
static void take_global(const struct vnat_optspec *o, struct vnat_parsed *p, bool own)
{
	o->set(&p->given, NULL);
	if (!own)
		return;
	o->set(&globals, NULL);
	vnat_log_init(globals.json, globals.verbose);
}

int vnat_options__parse(const struct vnat_cmdspec *cmd, int argc, char **argv, void *opts,
			struct vnat_parsed *p)
{
	struct option longopts[VNAT_OPTIONS_MAX];
	char optstring[2 * VNAT_OPTIONS_MAX + 3];
	bool own = in_cmdline(argv);
	int c, err;

	memset(p, 0, sizeof(*p));
	if (vnat_options__getopt(cmd, longopts, VNAT_OPTIONS_MAX, optstring, sizeof(optstring)))
		return -E2BIG; /* a table too large: caught by test_options */
	/* getopt keeps global state; each parse starts afresh (glibc: optind = 0). */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		const struct vnat_optspec *o = own_by_val(cmd, c);

		if (o) {
			p->flags |= o->flags;
			err = o->set(opts, optarg);
			if (err)
				return err;
			continue;
		}
		o = global_by_val(c);
		if (!o)
			return bad_option(c, cmd, argc, argv);
		if (o->flags & VNAT_OPT_HELP) {
			vnat_optdoc__usage(stdout, cmd);
			return 1;
		}
		take_global(o, p, own);
	}
	p->next = optind;
	return 0;
}

int vnat_options__parse_main(const struct vnat_cmdspec *cmd, int argc, char **argv, void *opts,
			     struct vnat_parsed *p)
{
	cmdline = argv;
	cmdline_len = argc;
	vnat_log_init(false, false);
	return vnat_options__parse(cmd, argc, argv, opts, p);
}
