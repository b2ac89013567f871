// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The unit tests' packet builder, checksum checks and hex diff (pktbuild.h). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "pktbuild.h"

#define ETH_HLEN_ 14
#define IP_MIN_HLEN 20
#define ICMP_HLEN 8
#define UDP_HLEN 8
#define TCP_MIN_HLEN 20

static void die(const char *what, const char *text)
{
	fprintf(stderr, "pktbuild: %s '%s'\n", what, text);
	abort();
}

__be32 pkt_ip4(const char *text)
{
	struct in_addr a;

	if (inet_pton(AF_INET, text, &a) != 1)
		die("not an IPv4 address:", text);
	return a.s_addr;
}

void pkt_mac(const char *text, uint8_t mac[ETH_ALEN])
{
	unsigned int b[ETH_ALEN];
	char tail;

	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != ETH_ALEN)
		die("not a MAC address:", text);
	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = b[i];
}

void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->l3 = -1;
	p->l3_v6 = -1;
	p->l4 = -1;
}

static void *reserve(struct pkt *p, size_t len)
{
	void *at = p->data + p->len;

	if (len > PKT_MAX - p->len) {
		fprintf(stderr, "pktbuild: frame larger than %d bytes\n", PKT_MAX);
		abort();
	}
	memset(at, 0, len);
	p->len += len;
	return at;
}

struct ethhdr *pkt_push_eth(struct pkt *p, const uint8_t dst[ETH_ALEN], const uint8_t src[ETH_ALEN],
			    uint16_t proto)
{
	struct ethhdr *eth = reserve(p, sizeof(*eth));

	memcpy(eth->h_dest, dst, ETH_ALEN);
	memcpy(eth->h_source, src, ETH_ALEN);
	eth->h_proto = htons(proto);
	return eth;
}

struct iphdr *pkt_push_ipv4_opts(struct pkt *p, __be32 saddr, __be32 daddr, uint8_t protocol,
				 const void *opts, size_t optlen)
{
	struct iphdr *ip;

	if (optlen % 4 || optlen > 40) {
		fprintf(stderr, "pktbuild: %zu bytes of IP options (multiple of 4, max 40)\n",
			optlen);
		abort();
	}
	p->l3 = p->len;
	ip = reserve(p, sizeof(*ip) + optlen);
	ip->version = 4;
	ip->ihl = (sizeof(*ip) + optlen) / 4;
	ip->ttl = PKT_TTL_DEFAULT;
	ip->protocol = protocol;
	ip->saddr = saddr;
	ip->daddr = daddr;
	if (optlen)
		memcpy(ip + 1, opts, optlen);
	return ip;
}

struct iphdr *pkt_push_ipv4(struct pkt *p, __be32 saddr, __be32 daddr, uint8_t protocol)
{
	return pkt_push_ipv4_opts(p, saddr, daddr, protocol, NULL, 0);
}

struct ipv6hdr *pkt_push_ipv6(struct pkt *p, const uint8_t saddr[16], const uint8_t daddr[16],
			      uint8_t nexthdr)
{
	struct ipv6hdr *ip6;

	p->l3_v6 = p->len;
	ip6 = reserve(p, sizeof(*ip6));
	ip6->version = 6;
	ip6->nexthdr = nexthdr;
	ip6->hop_limit = PKT_TTL_DEFAULT;
	memcpy(&ip6->saddr, saddr, 16);
	memcpy(&ip6->daddr, daddr, 16);
	return ip6;
}

void *pkt_push_arp(struct pkt *p, uint16_t op, const uint8_t sha[ETH_ALEN], __be32 spa,
		   const uint8_t tha[ETH_ALEN], __be32 tpa)
{
	uint8_t *arp = reserve(p, 28);
	uint16_t w;

	w = htons(1); /* hardware type Ethernet */
	memcpy(arp, &w, 2);
	w = htons(ETH_P_IP);
	memcpy(arp + 2, &w, 2);
	arp[4] = ETH_ALEN;
	arp[5] = 4;
	w = htons(op);
	memcpy(arp + 6, &w, 2);
	memcpy(arp + 8, sha, ETH_ALEN);
	memcpy(arp + 14, &spa, 4);
	memcpy(arp + 18, tha, ETH_ALEN);
	memcpy(arp + 24, &tpa, 4);
	return arp;
}

void *pkt_push_vlan(struct pkt *p, uint16_t tci, uint16_t proto)
{
	uint16_t *tag = reserve(p, 4);

	tag[0] = htons(tci);
	tag[1] = htons(proto);
	return tag;
}

static void *push_l4(struct pkt *p, uint8_t proto, size_t len)
{
	p->l4 = p->len;
	p->l4_proto = proto;
	return reserve(p, len);
}

struct udphdr *pkt_push_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	struct udphdr *udp = push_l4(p, IPPROTO_UDP, sizeof(*udp));

	udp->source = htons(sport);
	udp->dest = htons(dport);
	return udp;
}

struct tcphdr *pkt_push_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint32_t seq,
			    uint32_t ack, uint8_t flags)
{
	struct tcphdr *tcp = push_l4(p, IPPROTO_TCP, sizeof(*tcp));

	tcp->source = htons(sport);
	tcp->dest = htons(dport);
	tcp->seq = htonl(seq);
	tcp->ack_seq = htonl(ack);
	tcp->doff = sizeof(*tcp) / 4;
	((uint8_t *)tcp)[13] = flags; /* the flag bits, whatever the bitfield order */
	tcp->window = htons(65535);
	return tcp;
}

struct icmphdr *pkt_push_icmp(struct pkt *p, uint8_t type, uint8_t code, uint32_t rest)
{
	struct icmphdr *icmp = push_l4(p, IPPROTO_ICMP, sizeof(*icmp));
	uint32_t be = htonl(rest);

	icmp->type = type;
	icmp->code = code;
	memcpy(&icmp->un, &be, sizeof(be));
	return icmp;
}

struct icmphdr *pkt_push_icmp_echo(struct pkt *p, uint8_t type, uint16_t id, uint16_t seq)
{
	return pkt_push_icmp(p, type, 0, (uint32_t)id << 16 | seq);
}

void *pkt_push_data(struct pkt *p, const void *data, size_t len)
{
	uint8_t *at = reserve(p, len);

	if (data)
		memcpy(at, data, len);
	else
		for (size_t i = 0; i < len; i++)
			at[i] = i & 0xff;
	return at;
}

struct ethhdr *pkt_eth(struct pkt *p)
{
	return p->len >= sizeof(struct ethhdr) ? (struct ethhdr *)p->data : NULL;
}

struct iphdr *pkt_ip(struct pkt *p)
{
	return p->l3 >= 0 ? (struct iphdr *)(p->data + p->l3) : NULL;
}

void *pkt_l3(struct pkt *p)
{
	return pkt_ip(p);
}

size_t pkt_l3_len(const struct pkt *p)
{
	return p->l3 >= 0 ? p->len - p->l3 : 0;
}

static void *l4_if(struct pkt *p, uint8_t proto)
{
	return p->l4 >= 0 && p->l4_proto == proto ? p->data + p->l4 : NULL;
}

struct udphdr *pkt_udp(struct pkt *p)
{
	return l4_if(p, IPPROTO_UDP);
}

struct tcphdr *pkt_tcp(struct pkt *p)
{
	return l4_if(p, IPPROTO_TCP);
}

struct icmphdr *pkt_icmp(struct pkt *p)
{
	return l4_if(p, IPPROTO_ICMP);
}

/* --- checksums ---------------------------------------------------------- */

/* Sum of big-endian 16-bit words; an odd last byte is the high half of a word. */
static uint32_t sum16(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *b = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (i < len)
		sum += (uint32_t)b[i] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

__sum16 pkt_csum(const void *data, size_t len, uint32_t sum)
{
	return htons((uint16_t)~fold(sum16(data, len, sum)));
}

uint32_t pkt_pseudo_sum(__be32 saddr, __be32 daddr, uint8_t proto, uint16_t l4_len)
{
	uint32_t sum = 0;

	sum = sum16(&saddr, 4, sum);
	sum = sum16(&daddr, 4, sum);
	return sum + proto + l4_len;
}

__sum16 pkt_ipv4_csum(const struct iphdr *ip)
{
	uint8_t hdr[60];
	size_t hlen = ip->ihl * 4;

	memcpy(hdr, ip, hlen);
	((struct iphdr *)hdr)->check = 0;
	return pkt_csum(hdr, hlen, 0);
}

/* Offset of the checksum field inside the L4 header, or -1. */
static int l4_check_off(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_UDP:
		return offsetof(struct udphdr, check);
	case IPPROTO_TCP:
		return offsetof(struct tcphdr, check);
	case IPPROTO_ICMP:
		return offsetof(struct icmphdr, checksum);
	default:
		return -1;
	}
}

__sum16 pkt_l4_csum(const struct iphdr *ip, const void *l4, size_t len)
{
	int off = l4_check_off(ip->protocol);
	uint32_t sum = 0;
	__sum16 csum;
	uint8_t *copy;

	if (off < 0 || len < (size_t)off + 2)
		return 0;
	copy = malloc(len);
	if (!copy)
		abort();
	memcpy(copy, l4, len);
	memset(copy + off, 0, 2);
	if (ip->protocol != IPPROTO_ICMP)
		sum = pkt_pseudo_sum(ip->saddr, ip->daddr, ip->protocol, len);
	csum = pkt_csum(copy, len, sum);
	free(copy);
	/* RFC 768: a computed 0 is sent as all ones; 0 means "no checksum". */
	if (ip->protocol == IPPROTO_UDP && !csum)
		csum = 0xffff;
	return csum;
}

void pkt_fix_csums(struct pkt *p)
{
	struct iphdr *ip = pkt_ip(p);
	int off;

	if (!ip)
		return;
	if (p->l4 >= 0 && ip->protocol == p->l4_proto) {
		size_t seg = p->len - p->l4;
		size_t claimed = ntohs(ip->tot_len) - ip->ihl * 4;

		/* The segment the IP header claims, as far as the frame holds it. */
		if (ntohs(ip->tot_len) >= ip->ihl * 4 && claimed < seg)
			seg = claimed;
		off = l4_check_off(p->l4_proto);
		if (off >= 0 && seg >= (size_t)off + 2) {
			__sum16 c = pkt_l4_csum(ip, p->data + p->l4, seg);

			memcpy(p->data + p->l4 + off, &c, sizeof(c));
		}
	}
	ip->check = pkt_ipv4_csum(ip);
}

void pkt_finish(struct pkt *p)
{
	struct iphdr *ip = pkt_ip(p);
	struct udphdr *udp = pkt_udp(p);

	if (p->l3_v6 >= 0) {
		struct ipv6hdr *ip6 = (void *)(p->data + p->l3_v6);

		ip6->payload_len = htons(p->len - p->l3_v6 - sizeof(*ip6));
	}
	if (!ip)
		return;
	ip->tot_len = htons(p->len - p->l3);
	if (udp)
		udp->len = htons(p->len - p->l4);
	pkt_fix_csums(p);
}

void pkt_truncate(struct pkt *p, size_t len)
{
	if (len < p->len)
		p->len = len;
}

/* --- verification --------------------------------------------------------- */

static bool is_icmp_error(uint8_t type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETERPROB;
}

#define report(out, ...)                                        \
	do {                                                    \
		if (out)                                        \
			fprintf(out, "pktbuild: " __VA_ARGS__); \
	} while (0)

/*
 * Check the IPv4 packet of avail bytes at l3. inner: it is quoted in an ICMP
 * error, where the quote may end early (then only what is there is checked).
 */
static unsigned int check_ipv4(const uint8_t *l3, size_t avail, bool inner, FILE *out)
{
	const struct iphdr *ip = (const void *)l3;
	const char *what = inner ? "quoted IPv4" : "IPv4";
	unsigned int bad_ip = inner ? PKT_BAD_INNER_IP_CSUM : PKT_BAD_IP_CSUM;
	size_t hlen, tot, seg;
	const uint8_t *l4;
	unsigned int err = 0;
	__sum16 want;
	int off;

	if (avail < IP_MIN_HLEN || ip->version != 4 || ip->ihl < 5 || ip->ihl * 4u > avail) {
		report(out, "%s header truncated or invalid\n", what);
		return PKT_BAD_PARSE;
	}
	hlen = ip->ihl * 4;
	if (pkt_csum(ip, hlen, 0)) {
		report(out, "%s header checksum 0x%04x, want 0x%04x\n", what, ntohs(ip->check),
		       ntohs(pkt_ipv4_csum(ip)));
		err |= bad_ip;
	}
	tot = ntohs(ip->tot_len);
	if (tot < hlen || (!inner && tot > avail)) {
		report(out, "%s total length %zu, %zu bytes present\n", what, tot, avail);
		return err | PKT_BAD_PARSE;
	}
	/* A fragment's checksum covers the reassembled datagram. */
	if (ip->frag_off & htons(PKT_IP_MF | PKT_IP_OFFSET))
		return err;
	/* A quote shorter than the datagram: its L4 checksum cannot be checked. */
	if (tot > avail)
		return err;
	l4 = l3 + hlen;
	seg = tot - hlen;
	off = l4_check_off(ip->protocol);
	if (off < 0)
		return err;
	if (seg < (size_t)off + 2) {
		report(out, "%s: L4 header truncated\n", what);
		return err | PKT_BAD_PARSE;
	}
	if (ip->protocol == IPPROTO_UDP && !((const struct udphdr *)l4)->check)
		goto icmp;
	want = pkt_l4_csum(ip, l4, seg);
	if (memcmp(l4 + off, &want, 2)) {
		uint16_t got;

		memcpy(&got, l4 + off, 2);
		report(out, "%s: protocol %u checksum 0x%04x, want 0x%04x\n", what, ip->protocol,
		       ntohs(got), ntohs(want));
		err |= inner ? PKT_BAD_INNER_L4_CSUM : PKT_BAD_L4_CSUM;
	}
icmp:
	if (!inner && ip->protocol == IPPROTO_ICMP && is_icmp_error(l4[0]) && seg > ICMP_HLEN)
		err |= check_ipv4(l4 + ICMP_HLEN, seg - ICMP_HLEN, true, out);
	return err;
}

unsigned int pkt_csum_errors(const void *frame, size_t len, FILE *out)
{
	const struct ethhdr *eth = frame;

	if (len < sizeof(*eth) || eth->h_proto != htons(ETH_P_IP)) {
		report(out, "not an Ethernet + IPv4 frame\n");
		return PKT_BAD_PARSE;
	}
	return check_ipv4((const uint8_t *)frame + sizeof(*eth), len - sizeof(*eth), false, out);
}

/* --- dumps and diffs ------------------------------------------------------ */

struct field {
	unsigned int off, len;
	const char *name;
};

static const struct field eth_fields[] = {
	{ 0, 6, "dst" },
	{ 6, 6, "src" },
	{ 12, 2, "proto" },
};

static const struct field ip_fields[] = {
	{ 0, 1, "version/ihl" }, { 1, 1, "tos" },    { 2, 2, "tot_len" },  { 4, 2, "id" },
	{ 6, 2, "frag_off" },	 { 8, 1, "ttl" },    { 9, 1, "protocol" }, { 10, 2, "check" },
	{ 12, 4, "saddr" },	 { 16, 4, "daddr" },
};

static const struct field udp_fields[] = {
	{ 0, 2, "source" },
	{ 2, 2, "dest" },
	{ 4, 2, "len" },
	{ 6, 2, "check" },
};

static const struct field tcp_fields[] = {
	{ 0, 2, "source" },  { 2, 2, "dest" },	 { 4, 4, "seq" },
	{ 8, 4, "ack_seq" }, { 12, 1, "doff" },	 { 13, 1, "flags" },
	{ 14, 2, "window" }, { 16, 2, "check" }, { 18, 2, "urg_ptr" },
};

static const struct field icmp_echo_fields[] = {
	{ 0, 1, "type" }, { 1, 1, "code" }, { 2, 2, "checksum" }, { 4, 2, "id" }, { 6, 2, "seq" },
};

static const struct field icmp_fields[] = {
	{ 0, 1, "type" },
	{ 1, 1, "code" },
	{ 2, 2, "checksum" },
	{ 4, 4, "rest" },
};

static bool in_table(const struct field *t, size_t n, unsigned int off, const char *prefix,
		     const char *layer, char *buf, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (off >= t[i].off && off < t[i].off + t[i].len) {
			snprintf(buf, len, "%s%s.%s", prefix, layer, t[i].name);
			return true;
		}
	}
	return false;
}

#define IN_TABLE(t, off, prefix, layer, buf, len) \
	in_table(t, sizeof(t) / sizeof(t[0]), off, prefix, layer, buf, len)

/* Name the field at offset off of the IPv4 packet l3 (avail bytes). */
static void name_ipv4(const uint8_t *l3, size_t avail, unsigned int off, const char *prefix,
		      char *buf, size_t len)
{
	const struct iphdr *ip = (const void *)l3;
	size_t hlen = avail >= 1 ? (l3[0] & 0xf) * 4u : 0;
	const uint8_t *l4 = l3 + hlen;
	unsigned int o4 = off - hlen;
	char inner[32];

	if (avail < IP_MIN_HLEN || hlen < IP_MIN_HLEN) {
		snprintf(buf, len, "%sip", prefix);
		return;
	}
	if (off < IP_MIN_HLEN) {
		IN_TABLE(ip_fields, off, prefix, "ip", buf, len);
		return;
	}
	if (off < hlen) {
		snprintf(buf, len, "%sip.options", prefix);
		return;
	}
	switch (ip->protocol) {
	case IPPROTO_UDP:
		if (IN_TABLE(udp_fields, o4, prefix, "udp", buf, len))
			return;
		snprintf(buf, len, "%sudp payload", prefix);
		return;
	case IPPROTO_TCP:
		if (IN_TABLE(tcp_fields, o4, prefix, "tcp", buf, len))
			return;
		snprintf(buf, len, "%stcp options/payload", prefix);
		return;
	case IPPROTO_ICMP:
		if (avail >= hlen + ICMP_HLEN && is_icmp_error(l4[0]) && !*prefix) {
			if (IN_TABLE(icmp_fields, o4, prefix, "icmp", buf, len))
				return;
			snprintf(inner, sizeof(inner), "%squoted ", prefix);
			name_ipv4(l4 + ICMP_HLEN, avail - hlen - ICMP_HLEN, o4 - ICMP_HLEN, inner,
				  buf, len);
			return;
		}
		if (IN_TABLE(icmp_echo_fields, o4, prefix, "icmp", buf, len))
			return;
		snprintf(buf, len, "%sicmp payload", prefix);
		return;
	default:
		snprintf(buf, len, "%sip payload", prefix);
	}
}

/* The header field at offset off, judged by the layout of frame. */
static void name_field(const uint8_t *frame, size_t flen, size_t off, char *buf, size_t len)
{
	if (off >= flen) {
		snprintf(buf, len, "beyond the end");
		return;
	}
	if (off < ETH_HLEN_) {
		IN_TABLE(eth_fields, off, "", "eth", buf, len);
		return;
	}
	if (flen >= ETH_HLEN_ && frame[12] == 0x08 && frame[13] == 0x00) {
		name_ipv4(frame + ETH_HLEN_, flen - ETH_HLEN_, off - ETH_HLEN_, "", buf, len);
		return;
	}
	snprintf(buf, len, "payload");
}

static void hex_row(FILE *out, const char *tag, const uint8_t *b, size_t len, size_t row)
{
	fprintf(out, "%04zx  %-4s", row, tag);
	for (size_t i = row; i < row + 16; i++) {
		if (i < len)
			fprintf(out, " %02x", b[i]);
		else
			fprintf(out, "   ");
	}
	fputc('\n', out);
}

void pkt_dump(FILE *out, const char *title, const void *frame, size_t len)
{
	fprintf(out, "%s (%zu bytes):\n", title, len);
	for (size_t row = 0; row < len; row += 16)
		hex_row(out, "", frame, len, row);
}

void pkt_hexdiff(FILE *out, const void *got, size_t got_len, const void *want, size_t want_len)
{
	const uint8_t *g = got, *w = want;
	size_t max = got_len > want_len ? got_len : want_len;
	char name[64], prev[64] = "";
	size_t first = 0, ndiff = 0;

	fprintf(out, "packet mismatch: want %zu bytes, got %zu bytes\n", want_len, got_len);
	for (size_t row = 0; row < max; row += 16) {
		bool differs = false;

		hex_row(out, "want", w, want_len, row);
		hex_row(out, "got", g, got_len, row);
		for (size_t i = row; i < row + 16 && i < max; i++)
			differs |= i >= got_len || i >= want_len || g[i] != w[i];
		if (!differs)
			continue;
		fprintf(out, "          ");
		for (size_t i = row; i < row + 16 && i < max; i++) {
			bool d = i >= got_len || i >= want_len || g[i] != w[i];

			fprintf(out, d ? " ^^" : "   ");
		}
		fputc('\n', out);
	}
	/* Runs of differing bytes in the same field, named by the wanted layout. */
	fprintf(out, "differences:\n");
	for (size_t i = 0; i <= max; i++) {
		bool d = i < max && (i >= got_len || i >= want_len || g[i] != w[i]);

		name[0] = 0;
		if (d && i < want_len)
			name_field(w, want_len, i, name, sizeof(name));
		else if (d)
			name_field(g, got_len, i, name, sizeof(name));
		if (ndiff && (!d || strcmp(name, prev) || i != first + ndiff)) {
			fprintf(out, "  0x%04zx", first);
			if (ndiff > 1)
				fprintf(out, "-0x%04zx", first + ndiff - 1);
			fprintf(out, " %s\n", prev);
			ndiff = 0;
		}
		if (d) {
			if (!ndiff)
				first = i;
			ndiff++;
			snprintf(prev, sizeof(prev), "%s", name);
		}
	}
}

bool pkt_same(const void *got, size_t got_len, const void *want, size_t want_len)
{
	if (got_len == want_len && !memcmp(got, want, got_len))
		return true;
	pkt_hexdiff(stderr, got, got_len, want, want_len);
	return false;
}
