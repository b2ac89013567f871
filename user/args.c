// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Command-line parsing and validation, separate from any side effect: each
 * command's declarative option table (options.h) with the setters its
 * parser runs, and the checks across options.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "doctor.h"
#include "log.h"
#include "vnat_build.h"

/* $VNAT_CONF, else the compiled-in path: a unit or a test may point elsewhere. */
static const char *default_config(void)
{
	const char *env = getenv("VNAT_CONF");

	return env && *env ? env : VNAT_CONF_PATH;
}

static int ifname(const char *opt, const char *text, char *name)
{
	if (!*text || strlen(text) >= VNAT_IFNAMSIZ) {
		vnat_err("%s '%s': not a valid interface name", opt, text);
		return -EINVAL;
	}
	snprintf(name, VNAT_IFNAMSIZ, "%s", text);
	return 0;
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

/* --- load ------------------------------------------------------------------ */

#define LOAD_OPTS(opts) ((struct vnat_load_opts *)(opts))

static int set_iface(void *o, const char *arg)
{
	return add_iface(LOAD_OPTS(o), arg);
}

static int set_mode(void *o, const char *arg)
{
	LOAD_OPTS(o)->mode_set = true;
	return parse_mode(arg, &LOAD_OPTS(o)->mode);
}

static int set_hook(void *o, const char *arg)
{
	return parse_hook(arg, &LOAD_OPTS(o)->hook);
}

static int set_admission(void *o, const char *arg)
{
	return parse_admission(arg, &LOAD_OPTS(o)->admission);
}

static int set_flush(void *o, const char *arg)
{
	(void)arg;
	LOAD_OPTS(o)->flush = true;
	return 0;
}

static int set_redirects(void *o, const char *arg)
{
	if (strcmp(arg, "suppress") && strcmp(arg, "keep")) {
		vnat_err("load: --redirects '%s': use suppress or keep", arg);
		return -EINVAL;
	}
	LOAD_OPTS(o)->keep_redirects = !strcmp(arg, "keep");
	return 0;
}

static int set_snat(void *o, const char *arg)
{
	return vnat_args__parse_ipv4("load: --snat", arg, &LOAD_OPTS(o)->snat_addr);
}

static int set_masquerade(void *o, const char *arg)
{
	(void)arg;
	LOAD_OPTS(o)->masquerade = true;
	return 0;
}

static int set_out(void *o, const char *arg)
{
	return ifname("load: --out", arg, LOAD_OPTS(o)->out);
}

static int set_from(void *o, const char *arg)
{
	return add_from(LOAD_OPTS(o), arg);
}

static int set_ports(void *o, const char *arg)
{
	return parse_ports(arg, &LOAD_OPTS(o)->port_min, &LOAD_OPTS(o)->port_max);
}

static int set_filtering(void *o, const char *arg)
{
	return parse_filtering(arg, &LOAD_OPTS(o)->filtering);
}

static int set_max_flows(void *o, const char *arg)
{
	return parse_u32("--max-flows", arg, 16, 1 << 24, "not a flow count (16-16777216)",
			 &LOAD_OPTS(o)->max_flows);
}

static const char secs[] = "not a timeout in seconds (1-86400)";

static int set_udp_timeout(void *o, const char *arg)
{
	return parse_u32("--udp-timeout", arg, VNAT_TIMEOUT_UDP_MIN, 86400,
			 "not a UDP timeout in seconds (120-86400: RFC 4787 REQ-5 forbids less "
			 "than 2 minutes)",
			 &LOAD_OPTS(o)->timeout_udp);
}

static int set_tcp_timeout(void *o, const char *arg)
{
	return parse_u32("--tcp-timeout", arg, 1, 86400, secs, &LOAD_OPTS(o)->timeout_tcp_est);
}

static int set_tcp_transitory_timeout(void *o, const char *arg)
{
	return parse_u32("--tcp-transitory-timeout", arg, 1, 86400, secs,
			 &LOAD_OPTS(o)->timeout_tcp_trans);
}

static int set_icmp_timeout(void *o, const char *arg)
{
	return parse_u32("--icmp-timeout", arg, 1, 86400, secs, &LOAD_OPTS(o)->timeout_icmp);
}

static int set_inbound(void *o, const char *arg)
{
	if (strcmp(arg, "drop") && strcmp(arg, "kernel")) {
		vnat_err("load: --inbound '%s': use drop or kernel", arg);
		return -EINVAL;
	}
	LOAD_OPTS(o)->inbound_kernel = !strcmp(arg, "kernel");
	return 0;
}

static const struct vnat_optspec load_opts[] = {
	{ "iface", 'i', "IFACE", "interface to manage (repeat for more)",
	  "An interface to manage (a bridge: its ports too); repeat for more, up to 32 per "
	  "call, each once.",
	  set_iface, 0 },
	{ "hook", 0, "auto|tc|xdp",
	  "where the fast path runs: auto (default: tc on veths and taps, whose frames carry "
	  "partial checksums and GSO; XDP and tc elsewhere), tc (tc only), xdp (XDP on veths "
	  "too, refused unless the peer sends complete checksums and takes XDP frames; never "
	  "on taps); a bridge's ports follow its choice",
	  "Where the fast path runs on the interfaces of this call (the uplink included) and "
	  "on a bridge's ports, those the daemon attaches later too. auto (default): tc only "
	  "on veths and taps, vnat's XDP program and its tc programs elsewhere (physical "
	  "NICs); a bridge gets tc, its ports by their kind. A container's veth and a virtio "
	  "guest's tap send frames with partial checksums and GSO, which XDP can neither see "
	  "nor keep, and native XDP on a veth turns TSO/GSO off on its peer; on tc vnat "
	  "forwards and translates them whole, and endpoints keep their offloads. tc: the tc "
	  "programs only. xdp: XDP on veths too; refused on a tap, and on a veth whose peer "
	  "has checksum offload on (tx-checksumming) or neither GRO nor an XDP program (it "
	  "would drop the frames XDP sends it), with one line naming the peer and the "
	  "setting; a bridge port xdp cannot serve gets tc, and vnat says so. XDP transmits "
	  "only into interfaces that take XDP frames (taps, checked veths, NICs running "
	  "vnat's XDP natively); frames for others are carried by tc. Both hooks bridge, "
	  "route, translate (ICMP errors and hairpinning included) and suppress redirects "
	  "alike. **status** shows each interface's hook (JSON: *hook*, *hook_option*).",
	  set_hook, 0 },
	{ "mode", 'm', "native|skb", "XDP attach mode: native (default) or skb (generic)",
	  "XDP attach mode for the named interfaces (default native; bridge ports fall back to "
	  "skb where native is not supported). Not with **--hook tc**.",
	  set_mode, 0 },
	{ "redirects", 0, "suppress|keep",
	  "suppress (default): route same-segment next hops in XDP and drop ICMP redirects "
	  "the host would send out of managed interfaces; keep: leave both to the kernel",
	  "suppress (default): route same-segment next hops in XDP and drop ICMP redirects "
	  "leaving managed interfaces; keep: leave both to the kernel.",
	  set_redirects, 0 },
	{ "admission", 0, "auto|kernel|vnat",
	  "who admits new flows: auto (default: the kernel when the namespace has netfilter "
	  "rules, so its firewall and NAT rules keep applying; vnat when it has none), "
	  "kernel, or vnat (vnat alone: the host's FORWARD and NAT rules are bypassed)",
	  "Who admits new flows. auto (default): the kernel where the namespace has netfilter "
	  "rules (any nftables rule or drop-policy base chain, any iptables-legacy table), "
	  "vnat where it has none. Under kernel admission every new flow takes the kernel "
	  "path (FORWARD and NAT rules, conntrack); vnat carries a flow once the kernel "
	  "forwarded a packet of it with its conntrack entry confirmed, seen both ways and, "
	  "for TCP, established, with the translation that entry holds (TCP and UDP; ICMP "
	  "stays with the kernel); it refreshes the kernel entry's timeout and ends its copy "
	  "when the entry goes. Load then sets net.netfilter.nf_conntrack_tcp_be_liberal=1 in "
	  "the namespace (the kernel must accept segments after the ones vnat carried). With "
	  "bridge filtering (nftables bridge-family rules, or br_netfilter passing bridged "
	  "IPv4 to rules), frames between a managed bridge's ports go to the kernel bridge. "
	  "vnat daemon follows rule changes (the nftables generation) under auto. kernel: "
	  "always kernel admission. vnat: vnat decides alone, and the host's FORWARD and NAT "
	  "rules do not apply to the flows it carries.",
	  set_admission, 0 },
	{ "flush", 0, NULL,
	  "hand the flows the kernel admitted back to it, so its current rules judge them "
	  "again",
	  "Hand the flows the kernel admitted back to it (as **conns flush**).", set_flush, 0 },
	{ "snat", 's', "ADDR", "masquerade guest traffic leaving the uplink as ADDR",
	  "Masquerade the guests' traffic leaving the uplink as *ADDR* (a unicast IPv4 address "
	  "of the host); the uplink is the interface holding it, or **--out**.",
	  set_snat, 0 },
	{ "masquerade", 0, NULL,
	  "as the uplink's own address, following it when it changes (uplink: --out, else the "
	  "default route's)",
	  "Masquerade as the uplink's own address instead of **--snat** (not both); the uplink "
	  "is **--out** or the interface of the IPv4 default route. **vnat daemon** follows "
	  "the address when it changes (new flows take the new one).",
	  set_masquerade, 0 },
	{ "out", 0, "IFACE", "the uplink (default: the interface that holds ADDR)",
	  "The uplink (default: the interface holding *ADDR*, or with **--masquerade** the "
	  "default route's).",
	  set_out, VNAT_OPT_NAT },
	{ "from", 0, "CIDR",
	  "inside prefix to translate (repeat; default: the IPv4 prefixes configured on the "
	  "--iface interfaces)",
	  "An inside prefix to translate (a.b.c.d/len; repeat, up to 16). Default: the IPv4 "
	  "prefixes configured on the **--iface** interfaces.",
	  set_from, VNAT_OPT_NAT },
	{ "ports", 0, "LO-HI", "outside port range (default 1024-65535, as libvirt)",
	  "Outside port range, 1 <= LO <= HI <= 65535 (default 1024-65535, as libvirt).", set_ports,
	  VNAT_OPT_NAT },
	{ "filtering", 0, "apdf|adf|eif", "inbound filtering: apdf (default), adf or eif",
	  "Inbound filtering (RFC 4787): address-and-port dependent (default), address "
	  "dependent, endpoint independent.",
	  set_filtering, VNAT_OPT_NAT },
	{ "max-flows", 0, "N", "size of the flow table (default 65536)",
	  "Size of the flow table, 16 to 16777216 (default 65536).", set_max_flows, VNAT_OPT_NAT },
	{ "udp-timeout", 0, "S", "default 300, at least 120 (RFC 4787)",
	  "Idle timeout of UDP flows in seconds, 120 (RFC 4787 REQ-5) to 86400 (default 300).",
	  set_udp_timeout, VNAT_OPT_NAT },
	{ "tcp-timeout", 0, "S", "established, default 7440 (RFC 5382)",
	  "Idle timeout of established TCP connections, 1 to 86400 seconds (default 7440, "
	  "RFC 5382).",
	  set_tcp_timeout, VNAT_OPT_NAT },
	{ "tcp-transitory-timeout", 0, "S", "handshake, FIN, RST: default 240",
	  "Timeout of TCP connections in the handshake, closing or reset, 1 to 86400 seconds "
	  "(default 240).",
	  set_tcp_transitory_timeout, VNAT_OPT_NAT },
	{ "icmp-timeout", 0, "S", "echo, default 60",
	  "Idle timeout of ICMP echo flows, 1 to 86400 seconds (default 60).", set_icmp_timeout,
	  VNAT_OPT_NAT },
	{ "inbound", 0, "drop|kernel",
	  "drop (default): where vnat admits flows itself, drop what arrives on the uplink for "
	  "an inside prefix without being a reply, and inside sources arriving there; kernel: "
	  "leave both to the host's rules",
	  "drop (default): what arrives on the uplink for an inside prefix without being a "
	  "reply, and packets arriving there with an inside source (**drop_to_inside**, "
	  "**drop_spoofed_inside**), as libvirt's FORWARD rules would; kernel: leave both to "
	  "the kernel and its rules. **load --admission vnat** without **--snat** is refused "
	  "where the namespace has NAT rules (guests would leave untranslated), naming the NAT "
	  "chain.",
	  set_inbound, VNAT_OPT_NAT },
	{ NULL },
};

static const struct vnat_cmdspec load_cmd = {
	.name = "load",
	.summary = "attach vnat to interfaces and pin its maps",
	.synopsis = "--iface IFACE [--iface IFACE ...] [--hook auto|tc|xdp] [--mode native|skb] "
		    "[--redirects suppress|keep] [--admission auto|kernel|vnat] [--flush] "
		    "[{--snat ADDR | --masquerade} [--out IFACE] [--from CIDR ...] "
		    "[--ports LO-HI] [--filtering apdf|adf|eif] [--max-flows N] "
		    "[--udp-timeout S] [--tcp-timeout S] [--tcp-transitory-timeout S] "
		    "[--icmp-timeout S] [--inbound drop|kernel]]",
	.about =
		"Attach vnat's XDP and tc programs to each IFACE and pin its maps under " VNAT_PIN_ROOT
		"/netns-<inode>/.\n"
		"The programs keep running after vnat exits; 'vnat unload' removes them.",
	.verbose = "show libbpf/libxdp messages (the verifier's log)",
	.man_intro = "The options from **--out** to **--inbound** need **--snat** or "
		     "**--masquerade**.",
	.opts = load_opts,
};

static void load_defaults(struct vnat_load_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->hook = VNAT_IFACE_HOOK_AUTO;
	o->port_min = VNAT_PORT_MIN;
	o->port_max = VNAT_PORT_MAX;
	o->max_flows = VNAT_DEFAULT_MAX_FLOWS;
	o->timeout_udp = VNAT_TIMEOUT_UDP;
	o->timeout_tcp_est = VNAT_TIMEOUT_TCP_EST;
	o->timeout_tcp_trans = VNAT_TIMEOUT_TCP_TRANS;
	o->timeout_icmp = VNAT_TIMEOUT_ICMP;
}

static int load_check(const struct vnat_load_opts *o)
{
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

int vnat_args__parse_load(int argc, char **argv, struct vnat_load_opts *o)
{
	struct vnat_parsed p;
	int err;

	load_defaults(o);
	err = vnat_options__parse(&load_cmd, argc, argv, o, &p);
	if (err)
		return err;
	o->nat_opts = p.flags & VNAT_OPT_NAT;
	return vnat_options__no_operands("load", argc, argv, p.next) ?: load_check(o);
}

/* --- unload ---------------------------------------------------------------- */

#define UNLOAD_OPTS(opts) ((struct vnat_unload_opts *)(opts))

static int set_unload_iface(void *o, const char *arg)
{
	return ifname("unload: --iface", arg, UNLOAD_OPTS(o)->iface);
}

static int set_all(void *o, const char *arg)
{
	(void)arg;
	UNLOAD_OPTS(o)->all = true;
	return 0;
}

static int set_stale(void *o, const char *arg)
{
	(void)arg;
	UNLOAD_OPTS(o)->stale = true;
	return 0;
}

static const struct vnat_optspec unload_opts[] = {
	{ "iface", 'i', "IFACE", "interface to release", "Release this interface only.",
	  set_unload_iface, 0 },
	{ "all", 'a', NULL, "every managed interface",
	  "Release every managed interface (the default; not with **--iface**).", set_all, 0 },
	{ "stale", 0, NULL,
	  "remove the pins of network namespaces that no longer exist (in every namespace, "
	  "not only this one)",
	  "Remove the pins of network namespaces that no longer exist, in every namespace (a "
	  "namespace deleted while vnat was loaded leaves its maps, the flow table alone "
	  "megabytes, pinned). A namespace counts as existing while a process is in it, a "
	  "file descriptor or a bind mount (**ip netns add**) refers to it. Alone, not with "
	  "**--iface** or **--all**.",
	  set_stale, 0 },
	{ NULL },
};

static const struct vnat_cmdspec unload_cmd = {
	.name = "unload",
	.summary = "detach vnat and remove its pins",
	.synopsis = "[--iface IFACE | --all | --stale]",
	.about = "Detach vnat from IFACE, or from every interface it manages (the default), and "
		 "remove its pins once no interface is left.",
	.opts = unload_opts,
};

int vnat_args__parse_unload(int argc, char **argv, struct vnat_unload_opts *o)
{
	struct vnat_parsed p;
	int err;

	memset(o, 0, sizeof(*o));
	err = vnat_options__parse(&unload_cmd, argc, argv, o, &p);
	if (err)
		return err;
	if (vnat_options__no_operands("unload", argc, argv, p.next))
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

/* --- status, conns: the global options only -------------------------------- */

static const struct vnat_cmdspec status_cmd = {
	.name = "status",
	.summary = "interfaces, programs, configuration, counters",
	.synopsis = "",
	.about = "Show a health line (exit 1 when a managed interface lost its hooks), the "
		 "managed interfaces, their program ids and attach mode, the configuration and "
		 "the per-reason counters.",
	.verbose = "the counters at zero too",
};

static const struct vnat_cmdspec conns_cmd = {
	.name = "conns",
	.summary = "the connections vnat translates",
	.synopsis = "\nflush",
	.about =
		"List the flows vnat translates: protocol, inside, outside and remote "
		"endpoints, TCP state, seconds left, packets and bytes each way, and who decided the "
		"translation: \"kernel\" (a flow the host's conntrack admitted: inside is its "
		"original source, remote its original destination, outside the translated "
		"source, to the translated destination) or \"vnat\" (vnat's own NAT).\n"
		"flush hands every kernel-admitted flow back to the kernel, whose current rules "
		"judge its next packets.",
	.words = "flush",
};

int vnat_args__parse_show(int argc, char **argv, const char *cmd, struct vnat_show_opts *o)
{
	const struct vnat_cmdspec *spec = vnat_args__cmd(cmd);
	struct vnat_parsed p;
	int err;

	err = vnat_options__parse(spec, argc, argv, NULL, &p);
	o->json = p.given.json;
	o->pretty = p.given.pretty;
	o->verbose = p.given.verbose;
	return err ?: vnat_options__no_operands(cmd, argc, argv, p.next);
}

/* --- daemon, apply, libvirt-hook ------------------------------------------- */

static int set_once(void *o, const char *arg)
{
	(void)arg;
	((struct vnat_daemon_opts *)o)->once = true;
	return 0;
}

static int set_daemon_config(void *o, const char *arg)
{
	((struct vnat_daemon_opts *)o)->config = arg;
	return 0;
}

static const struct vnat_optspec daemon_opts[] = {
	{ "once", 0, NULL, "synchronise once and exit",
	  "Synchronise once and exit (may run beside a daemon).", set_once, 0 },
	{ "config", 0, "FILE", "what SIGHUP applies (default $VNAT_CONF, else " VNAT_CONF_PATH ")",
	  "The configuration SIGHUP applies (default **$VNAT_CONF**, else "
	  "*/etc/vnat/vnat.conf*).",
	  set_daemon_config, 0 },
	{ NULL },
};

static const struct vnat_cmdspec daemon_cmd = {
	.name = "daemon",
	.summary = "keep vnat in sync with bridges, FDB and addresses",
	.synopsis = "[--once] [--config FILE]",
	.about = "Keep vnat's maps in sync with the host: ports of managed bridges, their FDB "
		 "entries and STP state, and this host's addresses; re-attach a managed bridge "
		 "deleted and created again. One daemon per network namespace. Runs in the "
		 "foreground until SIGTERM/SIGINT, or until vnat is unloaded; SIGHUP applies the "
		 "configuration file again (vnat apply).",
	.verbose = "report every synchronisation",
	.opts = daemon_opts,
};

int vnat_args__parse_daemon(int argc, char **argv, struct vnat_daemon_opts *o)
{
	struct vnat_parsed p;
	int err;

	memset(o, 0, sizeof(*o));
	o->config = default_config();
	err = vnat_options__parse(&daemon_cmd, argc, argv, o, &p);
	o->verbose = p.given.verbose;
	return err ?: vnat_options__no_operands("daemon", argc, argv, p.next);
}

static const struct vnat_cmdspec apply_cmd = {
	.name = "apply",
	.summary = "load and change vnat as the configuration file says",
	.synopsis = "[FILE]",
	.about = "Make this network namespace's vnat what the configuration file says (default "
		 "$VNAT_CONF, else " VNAT_CONF_PATH "): load the networks not loaded yet, unload "
		 "the interfaces an earlier apply loaded that the file no longer names, and "
		 "change live the NAT options that can (ports, filtering, timeouts, redirects); "
		 "what cannot change live is refused, and then nothing changes. The same file "
		 "applied twice changes nothing the second time.",
	.file_operand = true,
};

int vnat_args__parse_apply(int argc, char **argv, struct vnat_apply_opts *o)
{
	struct vnat_parsed p;
	int err;

	memset(o, 0, sizeof(*o));
	o->file = default_config();
	err = vnat_options__parse(&apply_cmd, argc, argv, o, &p);
	if (err)
		return err;
	if (p.next < argc)
		o->file = argv[p.next++];
	return vnat_options__no_operands("apply", argc, argv, p.next);
}

static int set_libvirt_config(void *o, const char *arg)
{
	((struct vnat_libvirt_opts *)o)->config = arg;
	return 0;
}

static const struct vnat_optspec libvirt_opts[] = {
	{ "config", 0, "FILE",
	  "the configuration (default $VNAT_CONF, else " VNAT_CONF_PATH
	  "; none: every network included)",
	  "The configuration (default **$VNAT_CONF**, else */etc/vnat/vnat.conf*; no file: "
	  "every network included).",
	  set_libvirt_config, 0 },
	{ NULL },
};

static const struct vnat_cmdspec libvirt_cmd = {
	.name = "libvirt-hook",
	.summary = "what /etc/libvirt/hooks/network runs",
	.synopsis = "[--config FILE] NETWORK OPERATION [SUB-OPERATION [EXTRA]]",
	.about = "What /etc/libvirt/hooks/network runs, with the network's XML on stdin: on "
		 "'started' vnat loads the network's bridge as its forward mode says (nat: "
		 "masqueraded with its port range; route, open: routed; isolated: left to the "
		 "kernel unless the configuration includes it), on 'stopped' it unloads it, on "
		 "'updated' whichever now applies; other operations do nothing. A [network NAME] "
		 "section of the configuration may skip the network (libvirt = skip), include it "
		 "(libvirt = include) and add load options.",
	.opts = libvirt_opts,
};

int vnat_args__parse_libvirt(int argc, char **argv, struct vnat_libvirt_opts *o)
{
	struct vnat_parsed p;
	int err;

	memset(o, 0, sizeof(*o));
	o->config = default_config();
	err = vnat_options__parse(&libvirt_cmd, argc, argv, o, &p);
	if (err)
		return err;
	/* libvirt passes four: NETWORK OPERATION SUB-OPERATION EXTRA. */
	if (argc - p.next < 2 || argc - p.next > 4) {
		vnat_err("libvirt-hook: give NETWORK OPERATION [SUB-OPERATION [EXTRA]] as libvirtd "
			 "does (see 'vnat libvirt-hook --help')");
		return -EINVAL;
	}
	o->network = argv[p.next];
	o->op = argv[p.next + 1];
	return 0;
}

/* --- doctor ---------------------------------------------------------------- */

#define DOCTOR_OPTS(opts) ((struct vnat_doctor_opts *)(opts))

static int set_doctor_iface(void *o, const char *arg)
{
	return ifname("doctor: --iface", arg, DOCTOR_OPTS(o)->iface);
}

static int set_to(void *o, const char *arg)
{
	return vnat_args__parse_ipv4("doctor: --to", arg, &DOCTOR_OPTS(o)->to);
}

static int set_fix(void *o, const char *arg)
{
	(void)arg;
	DOCTOR_OPTS(o)->fix = true;
	return 0;
}

static const struct vnat_optspec doctor_opts[] = {
	{ "iface", 'i', "IFACE", "look at this interface only (and treat it as inside)",
	  "Look at this interface only (and count this namespace as a router).", set_doctor_iface,
	  0 },
	{ "to", 't', "ADDR", "the destination guests cannot reach (default: the default route's)",
	  "The destination guests cannot reach: the uplink is the interface of the route to "
	  "*ADDR* (default: of the default route).",
	  set_to, 0 },
	{ "fix", 0, NULL, "apply the safe fixes (sysctls, stale pins) and say so",
	  "Apply the safe fixes (the sysctl writes of **redirect-loop** and "
	  "**forwarding-off**, the removal of **vnat-stale-pins**), say each, and report the "
	  "rest; exit 0 when nothing is left open.",
	  set_fix, 0 },
	{ NULL },
};

static const struct vnat_cmdspec doctor_cmd = {
	.name = "doctor",
	.summary = "name this namespace's network faults, with the fixes",
	.synopsis = "[--iface IFACE] [--to ADDR] [--fix]",
	.about = "Examine this network namespace (with or without vnat loaded) and print one "
		 "finding per fault: what is wrong, the evidence, the effect on guests and the "
		 "command that fixes it. Exit 0 when nothing is wrong, 1 when something is.",
	.man_intro =
		"With **-j**: {\"ok\", \"vnat_loaded\", \"open\", \"findings\": [{\"check\", "
		"\"iface\", \"what\", \"evidence\", \"effect\", \"fix\", \"fix_on\", \"safe\", "
		"\"fixed\"}]}.",
	.opts = doctor_opts,
};

int vnat_doctor__parse_args(int argc, char **argv, struct vnat_doctor_opts *o)
{
	struct vnat_parsed p;
	int err;

	memset(o, 0, sizeof(*o));
	err = vnat_options__parse(&doctor_cmd, argc, argv, o, &p);
	o->json = p.given.json;
	o->pretty = p.given.pretty;
	return err ?: vnat_options__no_operands("doctor", argc, argv, p.next);
}

/* --- completion, help, and vnat itself ------------------------------------- */

static const struct vnat_cmdspec completion_cmd = {
	.name = "completion",
	.summary = "print the bash completion script",
	.synopsis = "bash",
	.about = "Print the bash completion script, written from the same option tables the "
		 "commands parse with.",
	.words = "bash",
};

static const struct vnat_cmdspec help_cmd = {
	.name = "help",
	.summary = "vnat's usage, or a command's",
	.synopsis = "[COMMAND]",
	.about = "The usage of vnat, or of COMMAND (as 'vnat COMMAND --help').",
};

int vnat_args__parse_words(const char *cmd, int argc, char **argv, int *next)
{
	struct vnat_parsed p;
	int err = vnat_options__parse(vnat_args__cmd(cmd), argc, argv, NULL, &p);

	*next = p.next;
	return err;
}

static int set_version(void *o, const char *arg)
{
	(void)arg;
	((struct vnat_main_opts *)o)->version = true;
	return 0;
}

static const struct vnat_optspec main_opts[] = {
	{ "version", 'V', NULL, "print the version",
	  "Print vnat's version (from `git describe`, or the VERSION file of a tarball) and "
	  "the versions of the libbpf and libxdp shared objects in use, then exit.",
	  set_version, 0 },
	{ NULL },
};

const struct vnat_cmdspec vnat_args__main = {
	.synopsis = "[-j|-p] [-v] COMMAND [OPTIONS]\n-V|-h",
	.about = "vnat accelerates a KVM host's bridging, routing and NAT in XDP/tc. The "
		 "options -j, -p, -v and -h go before or after the command; 'vnat help COMMAND' "
		 "(or 'vnat COMMAND --help') shows a command's.",
	.opts = main_opts,
};

int vnat_args__parse_main(int argc, char **argv, struct vnat_main_opts *o)
{
	struct vnat_parsed p;
	int err;

	memset(o, 0, sizeof(*o));
	err = vnat_options__parse_main(&vnat_args__main, argc, argv, o, &p);
	o->next = p.next;
	return err;
}

/* 'vnat --help' lists them in this order. */
const struct vnat_cmdspec *const vnat_args__cmds[] = {
	&load_cmd,    &unload_cmd,     &status_cmd, &conns_cmd, &daemon_cmd, &apply_cmd,
	&libvirt_cmd, &completion_cmd, &doctor_cmd, &help_cmd,	NULL,
};

const struct vnat_cmdspec *vnat_args__cmd(const char *name)
{
	for (const struct vnat_cmdspec *const *c = vnat_args__cmds; *c; c++)
		if (!strcmp((*c)->name, name))
			return *c;
	return NULL;
}
