// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Command-line parsing and validation, separate from any side effect. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "log.h"
#include "vnat_build.h"

static const char load_usage[] =
	"Usage: vnat load --iface IFACE [--iface IFACE ...] [--hook auto|tc|xdp]\n"
	"                 [--mode native|skb] [--redirects suppress|keep]\n"
	"                 [--admission auto|kernel|vnat] [--flush]\n"
	"                 [{--snat ADDR | --masquerade} [--out IFACE] [--from CIDR ...]\n"
	"                  [--ports LO-HI] [--filtering apdf|adf|eif] [--max-flows N]\n"
	"                  [--udp-timeout S] [--tcp-timeout S] [--tcp-transitory-timeout S]\n"
	"                  [--icmp-timeout S] [--inbound drop|kernel]]\n"
	"\n"
	"Attach vnat's XDP and tc programs to each IFACE and pin its maps under\n" VNAT_PIN_ROOT
	"/netns-<inode>/.\n"
	"The programs keep running after vnat exits; 'vnat unload' removes them.\n"
	"\n"
	"  -i, --iface IFACE   interface to manage (repeat for more)\n"
	"      --hook HOOK     where the fast path runs: auto (default: tc on veths\n"
	"                      and taps, whose frames carry partial checksums and\n"
	"                      GSO; XDP and tc elsewhere), tc (tc only), xdp (XDP\n"
	"                      on veths too, refused unless the peer sends complete\n"
	"                      checksums and takes XDP frames; never on taps);\n"
	"                      a bridge's ports follow its choice\n"
	"  -m, --mode MODE     XDP attach mode: native (default) or skb (generic)\n"
	"      --redirects M   suppress (default): route same-segment next hops in\n"
	"                      XDP and drop ICMP redirects the host would send out\n"
	"                      of managed interfaces; keep: leave both to the kernel\n"
	"      --admission M   who admits new flows: auto (default: the kernel\n"
	"                      when the namespace has netfilter rules, so its\n"
	"                      firewall and NAT rules keep applying; vnat when it\n"
	"                      has none), kernel, or vnat (vnat alone: the host's\n"
	"                      FORWARD and NAT rules are bypassed)\n"
	"      --flush         hand the flows the kernel admitted back to it, so\n"
	"                      its current rules judge them again\n"
	"  -s, --snat ADDR     masquerade guest traffic leaving the uplink as ADDR\n"
	"      --masquerade    as the uplink's own address, following it when it\n"
	"                      changes (uplink: --out, else the default route's)\n"
	"      --out IFACE     the uplink (default: the interface that holds ADDR)\n"
	"      --from CIDR     inside prefix to translate (repeat; default: the\n"
	"                      IPv4 prefixes configured on the --iface interfaces)\n"
	"      --ports LO-HI   outside port range (default 1024-65535, as libvirt)\n"
	"      --filtering M   inbound filtering: apdf (default), adf or eif\n"
	"      --max-flows N   size of the flow table (default 65536)\n"
	"      --udp-timeout S            default 300, at least 120 (RFC 4787)\n"
	"      --tcp-timeout S            established, default 7440 (RFC 5382)\n"
	"      --tcp-transitory-timeout S handshake, FIN, RST: default 240\n"
	"      --icmp-timeout S           echo, default 60\n"
	"      --inbound M     drop (default): where vnat admits flows itself, drop\n"
	"                      what arrives on the uplink for an inside prefix\n"
	"                      without being a reply, and inside sources arriving\n"
	"                      there; kernel: leave both to the host's rules\n"
	"  -v, --verbose       show libbpf/libxdp messages (the verifier's log)\n"
	"  -h, --help          this text\n";

static const char unload_usage[] =
	"Usage: vnat unload [--iface IFACE | --all | --stale]\n"
	"\n"
	"Detach vnat from IFACE, or from every interface it manages (the default),\n"
	"and remove its pins once no interface is left.\n"
	"\n"
	"  -i, --iface IFACE   interface to release\n"
	"  -a, --all           every managed interface\n"
	"      --stale         remove the pins of network namespaces that no\n"
	"                      longer exist (in every namespace, not only this one)\n"
	"  -v, --verbose       show libbpf/libxdp messages\n"
	"  -h, --help          this text\n";

/* $VNAT_CONF, else the compiled-in path: a unit or a test may point elsewhere. */
static const char *default_config(void)
{
	const char *env = getenv("VNAT_CONF");

	return env && *env ? env : VNAT_CONF_PATH;
}

/* -v after a command as before it: libbpf's and libxdp's messages. */
#define VERBOSE_LONGOPT                           \
	{                                         \
		"verbose", no_argument, NULL, 'v' \
	}

/* getopt keeps global state; each parse starts afresh (glibc: optind = 0). */
static void getopt_reset(void)
{
	optind = 0;
	opterr = 0;
}

/*
 * With a leading ':' in optstring, getopt says ':' for a missing value. A
 * short option is named by optopt: argv[optind - 1] may be the previous
 * word when the bad letter starts a cluster such as -xa.
 */
static int bad_option(int c, const char *cmd, int argc, char **argv)
{
	char shortopt[3] = { '-', (char)optopt, '\0' };
	const char *prev = optind - 1 < argc ? argv[optind - 1] : "?";
	const char *arg = !strncmp(prev, "--", 2) || optopt <= ' ' || optopt >= 127 ? prev :
										      shortopt;

	if (c == ':')
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

int vnat_args__parse_cidr(const char *opt, const char *text, struct vnat_cidr *c)
{
	char buf[32], *slash, *endp;
	struct in_addr a;
	unsigned long len = 32;

	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		errno = 0;
		len = strtoul(slash + 1, &endp, 10);
		if (errno || endp == slash + 1 || *endp || len > 32)
			goto bad;
	}
	if (strlen(text) >= sizeof(buf) || inet_pton(AF_INET, buf, &a) != 1)
		goto bad;
	c->len = len;
	c->addr = len ? a.s_addr & htonl(0xffffffffu << (32 - len)) : 0;
	return 0;
bad:
	vnat_err("%s '%s': not an IPv4 prefix (write it as a.b.c.d/len)", opt, text);
	return -EINVAL;
}

static int parse_u32(const char *opt, const char *text, uint32_t min, uint32_t max, const char *why,
		     uint32_t *val)
{
	char *endp;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &endp, 10);
	if (errno || endp == text || *endp || text[0] == '-' || v < min || v > max) {
		vnat_err("load: %s '%s': %s", opt, text, why);
		return -EINVAL;
	}
	*val = v;
	return 0;
}

static int parse_ports(const char *text, uint16_t *lo, uint16_t *hi)
{
	unsigned int a, b;
	char tail;

	if (sscanf(text, "%u-%u%c", &a, &b, &tail) != 2 || a < 1 || b > 65535 || a > b) {
		vnat_err("load: --ports '%s': not a port range (write LO-HI, 1 <= LO <= HI "
			 "<= 65535)",
			 text);
		return -EINVAL;
	}
	*lo = a;
	*hi = b;
	return 0;
}

static int parse_filtering(const char *text, enum vnat_filtering *f)
{
	if (!strcmp(text, "apdf"))
		*f = VNAT_FILTER_APDF;
	else if (!strcmp(text, "adf"))
		*f = VNAT_FILTER_ADF;
	else if (!strcmp(text, "eif"))
		*f = VNAT_FILTER_EIF;
	else {
		vnat_err("load: --filtering '%s': unknown mode (use apdf, adf or eif)", text);
		return -EINVAL;
	}
	return 0;
}

static int add_from(struct vnat_load_opts *o, const char *text)
{
	if (o->n_from == VNAT_MAX_FROM) {
		vnat_err("load: more than %d --from prefixes", VNAT_MAX_FROM);
		return -EINVAL;
	}
	return vnat_args__parse_cidr("load: --from", text, &o->from[o->n_from++]);
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

static int parse_hook(const char *text, uint32_t *hook)
{
	if (!strcmp(text, "xdp"))
		*hook = VNAT_IFACE_HOOK_XDP;
	else if (!strcmp(text, "tc"))
		*hook = VNAT_IFACE_HOOK_TC;
	else if (!strcmp(text, "auto"))
		*hook = VNAT_IFACE_HOOK_AUTO;
	else {
		vnat_err("load: --hook '%s': unknown hook (use xdp, tc or auto)", text);
		return -EINVAL;
	}
	return 0;
}

static int parse_admission(const char *text, enum vnat_admission *a)
{
	if (!strcmp(text, "auto"))
		*a = VNAT_ADMISSION_AUTO;
	else if (!strcmp(text, "kernel"))
		*a = VNAT_ADMISSION_KERNEL;
	else if (!strcmp(text, "vnat"))
		*a = VNAT_ADMISSION_VNAT;
	else {
		vnat_err("load: --admission '%s': unknown mode (use auto, kernel or vnat)", text);
		return -EINVAL;
	}
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

enum load_opt {
	OPT_ADMISSION = 251, /* not NAT options: below OPT_OUT */
	OPT_FLUSH = 252,
	OPT_HOOK = 253,
	OPT_REDIRECTS = 254,
	OPT_MASQ = 255,
	OPT_OUT = 256,
	OPT_FROM,
	OPT_PORTS,
	OPT_FILTER,
	OPT_MAXFLOWS,
	OPT_UDP,
	OPT_TCP,
	OPT_TCPT,
	OPT_ICMP,
	OPT_INBOUND
};
static const struct option load_longopts[] = {
	{ "iface", required_argument, NULL, 'i' },
	{ "mode", required_argument, NULL, 'm' },
	{ "hook", required_argument, NULL, OPT_HOOK },
	{ "admission", required_argument, NULL, OPT_ADMISSION },
	{ "flush", no_argument, NULL, OPT_FLUSH },
	{ "snat", required_argument, NULL, 's' },
	{ "redirects", required_argument, NULL, OPT_REDIRECTS },
	{ "masquerade", no_argument, NULL, OPT_MASQ },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "ports", required_argument, NULL, OPT_PORTS },
	{ "filtering", required_argument, NULL, OPT_FILTER },
	{ "max-flows", required_argument, NULL, OPT_MAXFLOWS },
	{ "udp-timeout", required_argument, NULL, OPT_UDP },
	{ "tcp-timeout", required_argument, NULL, OPT_TCP },
	{ "tcp-transitory-timeout", required_argument, NULL, OPT_TCPT },
	{ "icmp-timeout", required_argument, NULL, OPT_ICMP },
	{ "inbound", required_argument, NULL, OPT_INBOUND },
	VERBOSE_LONGOPT,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
int vnat_args__parse_load(int argc, char **argv, struct vnat_load_opts *o)
{
	static const char secs[] = "not a timeout in seconds (1-86400)";
	int c, err = 0;

	memset(o, 0, sizeof(*o));
	o->hook = VNAT_IFACE_HOOK_AUTO;
	o->port_min = VNAT_PORT_MIN;
	o->port_max = VNAT_PORT_MAX;
	o->max_flows = VNAT_DEFAULT_MAX_FLOWS;
	o->timeout_udp = VNAT_TIMEOUT_UDP;
	o->timeout_tcp_est = VNAT_TIMEOUT_TCP_EST;
	o->timeout_tcp_trans = VNAT_TIMEOUT_TCP_TRANS;
	o->timeout_icmp = VNAT_TIMEOUT_ICMP;
	getopt_reset();
	while ((c = getopt_long(argc, argv, "+:i:m:s:vh", load_longopts, NULL)) != -1) {
		if (c >= OPT_OUT)
			o->nat_opts = true;
		switch (c) {
		case OPT_MASQ:
			o->masquerade = true;
			break;
		case OPT_HOOK:
			err = parse_hook(optarg, &o->hook);
			break;
		case OPT_ADMISSION:
			err = parse_admission(optarg, &o->admission);
			break;
		case OPT_FLUSH:
			o->flush = true;
			break;
		case OPT_REDIRECTS:
			if (!strcmp(optarg, "suppress") || !strcmp(optarg, "keep")) {
				o->keep_redirects = !strcmp(optarg, "keep");
			} else {
				vnat_err("load: --redirects '%s': use suppress or keep", optarg);
				err = -EINVAL;
			}
			break;
		case OPT_OUT:
			if (!*optarg || strlen(optarg) >= VNAT_IFNAMSIZ) {
				vnat_err("load: --out '%s': not a valid interface name", optarg);
				err = -EINVAL;
			} else {
				snprintf(o->out, sizeof(o->out), "%s", optarg);
			}
			break;
		case OPT_FROM:
			err = add_from(o, optarg);
			break;
		case OPT_PORTS:
			err = parse_ports(optarg, &o->port_min, &o->port_max);
			break;
		case OPT_FILTER:
			err = parse_filtering(optarg, &o->filtering);
			break;
		case OPT_MAXFLOWS:
			err = parse_u32("--max-flows", optarg, 16, 1 << 24,
					"not a flow count (16-16777216)", &o->max_flows);
			break;
		case OPT_UDP:
			err = parse_u32("--udp-timeout", optarg, VNAT_TIMEOUT_UDP_MIN, 86400,
					"not a UDP timeout in seconds (120-86400: RFC 4787 "
					"REQ-5 forbids less than 2 minutes)",
					&o->timeout_udp);
			break;
		case OPT_TCP:
			err = parse_u32("--tcp-timeout", optarg, 1, 86400, secs,
					&o->timeout_tcp_est);
			break;
		case OPT_TCPT:
			err = parse_u32("--tcp-transitory-timeout", optarg, 1, 86400, secs,
					&o->timeout_tcp_trans);
			break;
		case OPT_ICMP:
			err = parse_u32("--icmp-timeout", optarg, 1, 86400, secs, &o->timeout_icmp);
			break;
		case OPT_INBOUND:
			if (!strcmp(optarg, "drop") || !strcmp(optarg, "kernel")) {
				o->inbound_kernel = !strcmp(optarg, "kernel");
			} else {
				vnat_err("load: --inbound '%s': use drop or kernel", optarg);
				err = -EINVAL;
			}
			break;
		case 'i':
			err = add_iface(o, optarg);
			break;
		case 'm':
			err = parse_mode(optarg, &o->mode);
			o->mode_set = true;
			break;
		case 's':
			err = vnat_args__parse_ipv4("load: --snat", optarg, &o->snat_addr);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(load_usage, stdout);
			return 1;
		default:
			return bad_option(c, "load", argc, argv);
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
	if (o->mode_set && (o->hook & VNAT_IFACE_HOOK_TC)) {
		vnat_err("load: --mode sets the XDP attach mode; --hook tc attaches no XDP "
			 "(drop one of them)");
		return -EINVAL;
	}
	if (o->masquerade && o->snat_addr) {
		vnat_err("load: give either --snat ADDR or --masquerade, not both");
		return -EINVAL;
	}
	if (o->nat_opts && !o->snat_addr && !o->masquerade) {
		vnat_err("load: NAT options need --snat ADDR or --masquerade (the address "
			 "guests are masqueraded as)");
		return -EINVAL;
	}
	return 0;
}

enum { OPT_STALE = 256, OPT_ONCE, OPT_CONFIG };

static const struct option unload_longopts[] = {
	{ "iface", required_argument, NULL, 'i' }, { "all", no_argument, NULL, 'a' },
	{ "stale", no_argument, NULL, OPT_STALE }, VERBOSE_LONGOPT,
	{ "help", no_argument, NULL, 'h' },	   { NULL, 0, NULL, 0 },
};

int vnat_args__parse_unload(int argc, char **argv, struct vnat_unload_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	getopt_reset();
	while ((c = getopt_long(argc, argv, "+:i:avh", unload_longopts, NULL)) != -1) {
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
		case OPT_STALE:
			o->stale = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(unload_usage, stdout);
			return 1;
		default:
			return bad_option(c, "unload", argc, argv);
		}
	}
	if (stray_args("unload", argc, argv))
		return -EINVAL;
	if (o->all && o->iface[0]) {
		vnat_err("unload: give either --iface or --all, not both");
		return -EINVAL;
	}
	if (o->stale && (o->all || o->iface[0])) {
		vnat_err("unload: --stale removes other namespaces' pins; give it alone");
		return -EINVAL;
	}
	if (!o->iface[0] && !o->stale)
		o->all = true;
	return 0;
}

static const struct option show_longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "pretty", no_argument, NULL, 'p' },
	VERBOSE_LONGOPT,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int vnat_args__parse_show(int argc, char **argv, const char *cmd, const char *usage,
			  struct vnat_show_opts *o)
{
	int c;

	getopt_reset();
	while ((c = getopt_long(argc, argv, "+:jpvh", show_longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->pretty = true;
			/* fall through */
		case 'j':
			o->json = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			return bad_option(c, cmd, argc, argv);
		}
	}
	return stray_args(cmd, argc, argv);
}

static const char daemon_usage[] =
	"Usage: vnat daemon [--once] [--config FILE]\n"
	"\n"
	"Keep vnat's maps in sync with the host: ports of managed bridges, their\n"
	"FDB entries and STP state, and this host's addresses; re-attach a managed\n"
	"bridge deleted and created again. One daemon per network namespace. Runs\n"
	"in the foreground until SIGTERM/SIGINT, or until vnat is unloaded;\n"
	"SIGHUP applies the configuration file again (vnat apply).\n"
	"\n"
	"      --once          synchronise once and exit\n"
	"      --config FILE   what SIGHUP applies (default $VNAT_CONF, else\n"
	"                      " VNAT_CONF_PATH ")\n"
	"  -v, --verbose       report every synchronisation\n"
	"  -h, --help          this text\n";

static const struct option daemon_longopts[] = {
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "config", required_argument, NULL, OPT_CONFIG },
	VERBOSE_LONGOPT,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int vnat_args__parse_daemon(int argc, char **argv, struct vnat_daemon_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->config = default_config();
	getopt_reset();
	while ((c = getopt_long(argc, argv, "+:vh", daemon_longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ONCE:
			o->once = true;
			break;
		case OPT_CONFIG:
			o->config = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(daemon_usage, stdout);
			return 1;
		default:
			return bad_option(c, "daemon", argc, argv);
		}
	}
	return stray_args("daemon", argc, argv);
}

/* Commands whose operand is a file (completed as one). */
bool vnat_args__takes_file(const char *cmd)
{
	return !strcmp(cmd, "apply");
}

static const char apply_usage[] =
	"Usage: vnat apply [FILE]\n"
	"\n"
	"Make this network namespace's vnat what the configuration file says\n"
	"(default $VNAT_CONF, else " VNAT_CONF_PATH "): load the networks not\n"
	"loaded yet, unload the interfaces an earlier apply loaded that the file\n"
	"no longer names, and change live the NAT options that can (ports,\n"
	"filtering, timeouts, redirects); what cannot change live is refused,\n"
	"and then nothing changes. The same file applied twice changes nothing\n"
	"the second time.\n"
	"\n"
	"  -v, --verbose   show libbpf/libxdp messages\n"
	"  -h, --help      this text\n";

static const struct option apply_longopts[] = {
	VERBOSE_LONGOPT,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int vnat_args__parse_apply(int argc, char **argv, struct vnat_apply_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->file = default_config();
	getopt_reset();
	while ((c = getopt_long(argc, argv, "+:vh", apply_longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(apply_usage, stdout);
			return 1;
		default:
			return bad_option(c, "apply", argc, argv);
		}
	}
	if (optind < argc)
		o->file = argv[optind++];
	return stray_args("apply", argc, argv);
}

static const char libvirt_usage[] =
	"Usage: vnat libvirt-hook [--config FILE] NETWORK OPERATION [SUB-OPERATION [EXTRA]]\n"
	"\n"
	"What /etc/libvirt/hooks/network runs, with the network's XML on stdin:\n"
	"on 'started' vnat loads the network's bridge as its forward mode says\n"
	"(nat: masqueraded with its port range; route, open: routed; isolated: left\n"
	"to the kernel unless the configuration includes it), on 'stopped' it\n"
	"unloads it, on 'updated' whichever now applies; other operations do\n"
	"nothing. A [network NAME] section of the configuration may skip the\n"
	"network (libvirt = skip), include it (libvirt = include) and add load\n"
	"options.\n"
	"\n"
	"      --config FILE   the configuration (default $VNAT_CONF, else\n"
	"                      " VNAT_CONF_PATH "; none: every network included)\n"
	"  -v, --verbose       show libbpf/libxdp messages\n"
	"  -h, --help          this text\n";

static const struct option libvirt_longopts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	VERBOSE_LONGOPT,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int vnat_args__parse_libvirt(int argc, char **argv, struct vnat_libvirt_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->config = default_config();
	getopt_reset();
	while ((c = getopt_long(argc, argv, "+:vh", libvirt_longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			o->config = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(libvirt_usage, stdout);
			return 1;
		default:
			return bad_option(c, "libvirt-hook", argc, argv);
		}
	}
	/* libvirt passes four: NETWORK OPERATION SUB-OPERATION EXTRA. */
	if (argc - optind < 2 || argc - optind > 4) {
		vnat_err("libvirt-hook: give NETWORK OPERATION [SUB-OPERATION [EXTRA]] as libvirtd "
			 "does (see 'vnat libvirt-hook --help')");
		return -EINVAL;
	}
	o->network = argv[optind];
	o->op = argv[optind + 1];
	return 0;
}

/* The tables the parsers run on, for the completion script. */
const struct option *vnat_args__longopts(const char *cmd)
{
	static const struct {
		const char *cmd;
		const struct option *opts;
	} tables[] = {
		{ "load", load_longopts },
		{ "unload", unload_longopts },
		{ "status", show_longopts },
		{ "conns", show_longopts },
		{ "daemon", daemon_longopts },
		{ "apply", apply_longopts },
		{ "libvirt-hook", libvirt_longopts },
	};

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (!strcmp(tables[i].cmd, cmd))
			return tables[i].opts;
	return NULL;
}
