// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Parsing of what vnat doctor reads: /proc/net/snmp and netstat,
 * /proc/net/route, /proc/net/nf_conntrack (or conntrack -L) and
 * iptables-save. Pure functions over text, so the unit tests feed them
 * captured files. (Doctor's command line: its table in args.c.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "doctor.h"
#include "log.h"

/* Index of word `field` in a header line, counting the "Proto:" word as 0. */
static int header_col(const char *line, const char *field)
{
	char buf[4096], *save = NULL, *w;
	int col = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save), col++)
		if (col && !strcmp(w, field))
			return col;
	return -1;
}

static int value_at(const char *line, int col, uint64_t *val)
{
	char buf[4096], *save = NULL, *w;
	int i = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save), i++) {
		if (i == col) {
			/* signed in the file (Ip: Forwarding, MaxConn -1) */
			*val = (uint64_t)strtoll(w, NULL, 10);
			return 0;
		}
	}
	return -ENOENT;
}

int vnat_snmp__get(const char *text, const char *proto, const char *field, uint64_t *val)
{
	char prefix[32];
	const char *p = text;
	size_t plen;

	snprintf(prefix, sizeof(prefix), "%s:", proto);
	plen = strlen(prefix);
	while (p && *p) {
		const char *next = strchr(p, '\n');
		char line[4096];
		int col;

		snprintf(line, sizeof(line), "%.*s", next ? (int)(next - p) : (int)strlen(p), p);
		p = next ? next + 1 : NULL;
		if (strncmp(line, prefix, plen) || (line[plen] != ' ' && line[plen] != '\t'))
			continue;
		col = header_col(line, field);
		if (col < 0) {
			/* the value line of another header of the same proto */
			if (p && !strncmp(p, prefix, plen)) {
				next = strchr(p, '\n');
				p = next ? next + 1 : NULL;
			}
			continue;
		}
		if (!p || strncmp(p, prefix, plen))
			return -ENOENT;
		next = strchr(p, '\n');
		snprintf(line, sizeof(line), "%.*s", next ? (int)(next - p) : (int)strlen(p), p);
		return value_at(line, col, val);
	}
	return -ENOENT;
}

/* "Iface Destination Gateway Flags RefCnt Use Metric Mask ...", hex little-endian words. */
int vnat_route__parse_line(const char *line, struct vnat_route *r)
{
	char name[64];
	unsigned int dst, gw, flags, mask;

	if (sscanf(line, "%63s %x %x %x %*d %*d %*d %x", name, &dst, &gw, &flags, &mask) != 5)
		return -EINVAL;
	if (!strcmp(name, "Iface") || strlen(name) >= VNAT_IFNAMSIZ)
		return -EINVAL;
	/* RTF_UP: the rest (rejects) are no usable path */
	if (!(flags & 0x1) || (flags & 0x200))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	snprintf(r->ifname, sizeof(r->ifname), "%s", name);
	/* The file prints the network-order word as a host integer: that is the raw value. */
	r->dst = dst;
	r->gw = gw;
	r->len = __builtin_popcount(mask);
	return 0;
}

bool vnat_ipv4__in(uint32_t addr, uint32_t prefix, uint8_t len)
{
	uint32_t mask = len ? htonl(0xffffffffu << (32 - len)) : 0;

	return (addr & mask) == (prefix & mask);
}

const struct vnat_route *vnat_route__lookup(const struct vnat_route *r, int n, uint32_t addr)
{
	const struct vnat_route *best = NULL;

	for (int i = 0; i < n; i++)
		if (vnat_ipv4__in(addr, r[i].dst, r[i].len) && (!best || r[i].len > best->len))
			best = &r[i];
	return best;
}

bool vnat_ipv4__private(uint32_t addr)
{
	uint32_t h = ntohl(addr);

	/* RFC 1918 and RFC 6598 shared space: never routed on the internet */
	return (h >> 24) == 10 || (h >> 20) == (172 << 4 | 1) || (h >> 16) == (192 << 8 | 168) ||
	       (h >> 22) == (100 << 2 | 1);
}

static int ct_proto(const char *name)
{
	if (!strcmp(name, "tcp"))
		return 6;
	if (!strcmp(name, "udp"))
		return 17;
	if (!strcmp(name, "icmp"))
		return 1;
	return -1;
}

/* key=value words; the first src/dst/sport/dport are the original direction. */
static void ct_word(struct vnat_ct_entry *e, const char *w, int *seen_src)
{
	struct in_addr a;

	if (!strcmp(w, "[UNREPLIED]")) {
		e->unreplied = true;
	} else if (!strcmp(w, "[ASSURED]")) {
		e->assured = true;
	} else if (!strncmp(w, "src=", 4) && inet_pton(AF_INET, w + 4, &a) == 1) {
		if ((*seen_src)++ == 0)
			e->src = a.s_addr;
		else
			e->rsrc = a.s_addr;
	} else if (!strncmp(w, "dst=", 4) && inet_pton(AF_INET, w + 4, &a) == 1) {
		if (*seen_src == 1)
			e->dst = a.s_addr;
		else
			e->rdst = a.s_addr;
	} else if (!strncmp(w, "sport=", 6)) {
		*(*seen_src == 1 ? &e->sport : &e->rsport) = atoi(w + 6);
	} else if (!strncmp(w, "dport=", 6)) {
		*(*seen_src == 1 ? &e->dport : &e->rdport) = atoi(w + 6);
	}
}

int vnat_ct__parse_line(const char *line, struct vnat_ct_entry *e)
{
	char buf[1024], *save = NULL, *w;
	int seen_src = 0, i = 0, proto = -1, numbers = 0;

	memset(e, 0, sizeof(*e));
	snprintf(buf, sizeof(buf), "%s", line);
	for (w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save), i++) {
		/* /proc/net/nf_conntrack starts "ipv4 2 udp 17", conntrack -L "udp 17" */
		if (i == 0 && !strcmp(w, "ipv6"))
			return -EAFNOSUPPORT;
		if (proto < 0 && i < 3) {
			proto = ct_proto(w);
			if (proto >= 0)
				e->proto = proto;
			continue;
		}
		/* after the name: the protocol number, then the seconds left */
		if (proto >= 0 && numbers < 2 && w[0] >= '0' && w[0] <= '9') {
			if (numbers++ == 1)
				e->timeout = strtoul(w, NULL, 10);
			continue;
		}
		ct_word(e, w, &seen_src);
	}
	return proto >= 0 && seen_src == 2 ? 0 : -EINVAL;
}

bool vnat_ct__untranslated(const struct vnat_ct_entry *e)
{
	return e->rdst == e->src;
}

static int parse_prefix(const char *text, uint32_t *addr, uint8_t *len)
{
	struct vnat_cidr c;
	char buf[40], *slash;
	struct in_addr a;

	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	/* iptables-save writes dotted masks for non-contiguous ones only; accept both */
	if (slash && strchr(slash + 1, '.')) {
		*slash = 0;
		if (inet_pton(AF_INET, buf, &a) != 1 || inet_pton(AF_INET, slash + 1, addr) != 1)
			return -EINVAL;
		*len = __builtin_popcount(*addr);
		*addr = a.s_addr & *addr;
		return 0;
	}
	memset(&c, 0, sizeof(c));
	if (!slash) {
		if (inet_pton(AF_INET, buf, &a) != 1)
			return -EINVAL;
		*addr = a.s_addr;
		*len = 32;
		return 0;
	}
	*slash = 0;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	c.len = atoi(slash + 1);
	if (c.len > 32)
		return -EINVAL;
	*len = c.len;
	*addr = c.len ? a.s_addr & htonl(0xffffffffu << (32 - c.len)) : 0;
	return 0;
}

static int proto_num(const char *p)
{
	if (!strcmp(p, "tcp") || !strcmp(p, "6"))
		return 6;
	if (!strcmp(p, "udp") || !strcmp(p, "17"))
		return 17;
	if (!strcmp(p, "icmp") || !strcmp(p, "1"))
		return 1;
	return 255;
}

static void rule_word(struct vnat_ipt_rule *r, const char *opt, const char *val, bool neg)
{
	if (!strcmp(opt, "-A")) {
		snprintf(r->chain, sizeof(r->chain), "%s", val);
	} else if (!strcmp(opt, "-j")) {
		snprintf(r->target, sizeof(r->target), "%s", val);
	} else if (!strcmp(opt, "-i")) {
		snprintf(r->in, sizeof(r->in), "%s", val);
		r->in_neg = neg;
	} else if (!strcmp(opt, "-o")) {
		snprintf(r->out, sizeof(r->out), "%s", val);
		r->out_neg = neg;
	} else if (!strcmp(opt, "-s")) {
		parse_prefix(val, &r->src, &r->src_len);
		r->src_neg = neg;
	} else if (!strcmp(opt, "-d")) {
		parse_prefix(val, &r->dst, &r->dst_len);
		r->dst_neg = neg;
	} else if (!strcmp(opt, "-p")) {
		r->proto = proto_num(val);
	} else if (!strcmp(opt, "--dport")) {
		r->dport = atoi(val);
	}
}

static int parse_rule(const char *table, const char *line, struct vnat_ipt_rule *r)
{
	char buf[1024], *save = NULL, *w, *prev = NULL;
	unsigned long long pk = 0, by = 0;
	const char *a;
	bool neg = false;

	memset(r, 0, sizeof(*r));
	snprintf(r->table, sizeof(r->table), "%s", table);
	if (line[0] == '[' && sscanf(line, "[%llu:%llu]", &pk, &by) == 2)
		line = strchr(line, ']') + 1;
	a = strstr(line, "-A ");
	if (!a)
		return -EINVAL;
	r->packets = pk;
	snprintf(r->spec, sizeof(r->spec), "%s", a + 3);
	r->spec[strcspn(r->spec, "\n")] = 0;
	snprintf(buf, sizeof(buf), "%s", a);
	for (w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		if (!strcmp(w, "!")) {
			neg = true;
			continue;
		}
		if (prev) {
			rule_word(r, prev, w, neg);
			prev = NULL;
			neg = false;
			continue;
		}
		if (w[0] == '-')
			prev = w;
	}
	return r->chain[0] ? 0 : -EINVAL;
}

int vnat_ipt__parse(const char *text, struct vnat_ipt_rule *rules, int max)
{
	char table[8] = "";
	const char *p = text;
	int n = 0;

	while (p && *p && n < max) {
		const char *next = strchr(p, '\n');
		char line[1024];

		snprintf(line, sizeof(line), "%.*s", next ? (int)(next - p) : (int)strlen(p), p);
		p = next ? next + 1 : NULL;
		if (line[0] == '*')
			snprintf(table, sizeof(table), "%.7s", line + 1);
		else if ((line[0] == '-' || line[0] == '[') && strstr(line, "-A ") &&
			 !parse_rule(table, line, &rules[n]))
			n++;
	}
	return n;
}

bool vnat_ipt__refuses(const struct vnat_ipt_rule *r)
{
	return !strcmp(r->target, "DROP") || !strcmp(r->target, "REJECT");
}

static bool nat_rule_matches(const struct vnat_ipt_rule *r, uint32_t prefix, uint8_t len,
			     const char *out_if)
{
	if (strcmp(r->table, "nat") || strcmp(r->chain, "POSTROUTING"))
		return false;
	if (strcmp(r->target, "SNAT") && strcmp(r->target, "MASQUERADE"))
		return false;
	/* the rule's source must contain the whole prefix */
	if (r->src_len &&
	    (r->src_neg || r->src_len > len || !vnat_ipv4__in(prefix, r->src, r->src_len)))
		return false;
	if (r->out[0] && (!strcmp(r->out, out_if) == r->out_neg))
		return false;
	return true;
}

bool vnat_ipt__nat_covers(const struct vnat_ipt_rule *r, int n, uint32_t prefix, uint8_t len,
			  const char *out_if)
{
	for (int i = 0; i < n; i++)
		if (nat_rule_matches(&r[i], prefix, len, out_if))
			return true;
	return false;
}
