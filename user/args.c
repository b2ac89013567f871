// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Command-line parsing and validation, separate from any side effect. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "args.h"
#include "log.h"

static const char load_usage[] =
	"Usage: vnat load --iface IFACE [--iface IFACE ...] [--mode native|skb] [--snat ADDR]\n"
	"\n"
	"Attach vnat's XDP and tc programs to each IFACE and pin its maps under\n" VNAT_PIN_ROOT
	"/netns-<inode>/.\n"
	"The programs keep running after vnat exits; 'vnat unload' removes them.\n"
	"\n"
	"  -i, --iface IFACE   interface to manage (repeat for more)\n"
	"  -m, --mode MODE     XDP attach mode: native (default) or skb (generic)\n"
	"  -s, --snat ADDR     IPv4 source address for masquerading guest traffic\n"
	"  -h, --help          this text\n";

static const char unload_usage[] =
	"Usage: vnat unload [--iface IFACE | --all]\n"
	"\n"
	"Detach vnat from IFACE, or from every interface it manages (the default),\n"
	"and remove its pins once no interface is left.\n"
	"\n"
	"  -i, --iface IFACE   interface to release\n"
	"  -a, --all           every managed interface\n"
	"  -h, --help          this text\n";

/* getopt keeps global state; each parse starts afresh (glibc: optind = 0). */
static void getopt_reset(void)
{
	optind = 0;
	opterr = 0;
}

static int bad_option(const char *cmd, int argc, char **argv)
{
	const char *arg = optind - 1 < argc ? argv[optind - 1] : "?";

	if (optopt && strchr("ims", optopt))
		vnat_err("%s: option '%s' needs a value (see 'vnat %s --help')", cmd, arg, cmd);
	else
		vnat_err("%s: unknown option '%s' (see 'vnat %s --help')", cmd, arg, cmd);
	return -EINVAL;
}

static int stray_args(const char *cmd, int argc, char **argv)
{
	if (optind >= argc)
		return 0;
	vnat_err("%s: unexpected argument '%s' (see 'vnat %s --help')", cmd, argv[optind], cmd);
	return -EINVAL;
}

int vnat_args__parse_ipv4(const char *opt, const char *text, uint32_t *addr)
{
	struct in_addr a;
	uint32_t host;

	/* inet_pton(AF_INET) takes only dotted quads: no "10.1", no hex. */
	if (inet_pton(AF_INET, text, &a) != 1) {
		vnat_err("%s '%s': not an IPv4 address (vnat translates IPv4 only; "
			 "write it as a.b.c.d)",
			 opt, text);
		return -EINVAL;
	}
	host = ntohl(a.s_addr);
	if (host == 0 || host == 0xffffffff || (host >> 28) == 0xe || (host >> 24) == 127) {
		vnat_err("%s '%s': not a usable unicast address (give the host's "
			 "address on the uplink)",
			 opt, text);
		return -EINVAL;
	}
	*addr = a.s_addr;
	return 0;
}

static int add_iface(struct vnat_load_opts *o, const char *name)
{
	if (!*name || strlen(name) >= VNAT_IFNAMSIZ) {
		vnat_err("load: --iface '%s': not a valid interface name", name);
		return -EINVAL;
	}
	for (int i = 0; i < o->n_ifaces; i++) {
		if (!strcmp(o->ifaces[i], name)) {
			vnat_err("load: --iface '%s' given twice", name);
			return -EINVAL;
		}
	}
	if (o->n_ifaces == VNAT_MAX_LOAD_IFACES) {
		vnat_err("load: more than %d --iface options (load them in several calls)",
			 VNAT_MAX_LOAD_IFACES);
		return -EINVAL;
	}
	snprintf(o->ifaces[o->n_ifaces++], VNAT_IFNAMSIZ, "%s", name);
	return 0;
}

static int parse_mode(const char *text, enum vnat_xdp_mode *mode)
{
	if (!strcmp(text, "native"))
		*mode = VNAT_MODE_NATIVE;
	else if (!strcmp(text, "skb"))
		*mode = VNAT_MODE_SKB;
	else {
		vnat_err("load: --mode '%s': unknown XDP mode (use native or skb)", text);
		return -EINVAL;
	}
	return 0;
}

int vnat_args__parse_load(int argc, char **argv, struct vnat_load_opts *o)
{
	static const struct option longopts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "mode", required_argument, NULL, 'm' },
		{ "snat", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, err = 0;

	memset(o, 0, sizeof(*o));
	getopt_reset();
	while ((c = getopt_long(argc, argv, "+:i:m:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			err = add_iface(o, optarg);
			break;
		case 'm':
			err = parse_mode(optarg, &o->mode);
			break;
		case 's':
			err = vnat_args__parse_ipv4("load: --snat", optarg, &o->snat_addr);
			break;
		case 'h':
			fputs(load_usage, stdout);
			return 1;
		default:
			return bad_option("load", argc, argv);
		}
		if (err)
			return err;
	}
	if (stray_args("load", argc, argv))
		return -EINVAL;
	if (!o->n_ifaces) {
		vnat_err("load: no interface given (use --iface IFACE)");
		return -EINVAL;
	}
	return 0;
}

int vnat_args__parse_unload(int argc, char **argv, struct vnat_unload_opts *o)
{
	static const struct option longopts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	getopt_reset();
	while ((c = getopt_long(argc, argv, "+:i:ah", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (!*optarg || strlen(optarg) >= VNAT_IFNAMSIZ) {
				vnat_err("unload: --iface '%s': not a valid interface name",
					 optarg);
				return -EINVAL;
			}
			snprintf(o->iface, sizeof(o->iface), "%s", optarg);
			break;
		case 'a':
			o->all = true;
			break;
		case 'h':
			fputs(unload_usage, stdout);
			return 1;
		default:
			return bad_option("unload", argc, argv);
		}
	}
	if (stray_args("unload", argc, argv))
		return -EINVAL;
	if (o->all && o->iface[0]) {
		vnat_err("unload: give either --iface or --all, not both");
		return -EINVAL;
	}
	if (!o->iface[0])
		o->all = true;
	return 0;
}

int vnat_args__parse_none(int argc, char **argv, const char *cmd, const char *usage)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	getopt_reset();
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		return bad_option(cmd, argc, argv);
	}
	return stray_args(cmd, argc, argv);
}
