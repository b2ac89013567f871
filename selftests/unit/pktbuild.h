/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pktbuild.h - a small packet builder for the unit tests.
 *
 * Frames are built outside in: push the Ethernet header, then IPv4, then
 * one L4 header (UDP, TCP, ICMP), then payload; pkt_finish() fills in every
 * length and checksum of the layers pushed, innermost first. Fields can then
 * be edited through the returned header pointers (pkt_fix_csums() redoes
 * the checksums, not the lengths) or the frame cut short (pkt_truncate())
 * to make malformed input on purpose.
 *
 * An ICMP error is an ICMP header whose payload is a second packet's L3
 * part: build the inner packet first, then pkt_push_data(&outer,
 * pkt_l3(&inner), len) with as much of it as the error should quote.
 *
 * Byte order: addresses are __be32 (network order, pkt_ip4() makes them),
 * ports, ids, sequence numbers, ethertypes and frag_off are host order in
 * every argument; header structs returned are as on the wire.
 *
 * Checks on raw output (from BPF_PROG_TEST_RUN) do not need a struct pkt:
 * pkt_csum_errors() parses a frame and recomputes every checksum it holds,
 * pkt_same() compares two frames and prints a marked hex diff when they differ.
 */
#ifndef VNAT_SELFTESTS_PKTBUILD_H
#define VNAT_SELFTESTS_PKTBUILD_H

#include <arpa/inet.h> /* before the linux/ headers: libc-compat */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/icmp.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/types.h>
#include <linux/udp.h>

/* Room for anything BPF_PROG_TEST_RUN takes in XDP (a page less head/tailroom). */
#define PKT_MAX 4096

struct pkt {
	uint8_t data[PKT_MAX];
	size_t len;
	int l3; /* offset of the IPv4 header, -1 when none was pushed */
	int l3_v6; /* offset of the IPv6 header, -1 when none was pushed */
	int l4; /* offset of the L4 header, -1 when none was pushed */
	uint8_t l4_proto; /* IPPROTO_* of the pushed L4 header */
};

/* TCP flag bits (byte 13 of the header), for pkt_push_tcp(). */
#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10

#define PKT_IP_DF 0x4000
#define PKT_IP_MF 0x2000
#define PKT_IP_OFFSET 0x1fff

#define PKT_TTL_DEFAULT 64

/* "a.b.c.d" in network order; aborts the test binary on a typo. */
__be32 pkt_ip4(const char *text);
/* "02:00:00:00:01:01" into mac[6]; aborts on a typo. */
void pkt_mac(const char *text, uint8_t mac[ETH_ALEN]);

void pkt_init(struct pkt *p);
struct ethhdr *pkt_push_eth(struct pkt *p, const uint8_t dst[ETH_ALEN], const uint8_t src[ETH_ALEN],
			    uint16_t proto);
/* IHL 5, TTL 64, id 0, DF clear, tos 0: edit the returned header for more. */
struct iphdr *pkt_push_ipv4(struct pkt *p, __be32 saddr, __be32 daddr, uint8_t protocol);
/* The same with optlen (a multiple of 4, at most 40) bytes of options. */
struct iphdr *pkt_push_ipv4_opts(struct pkt *p, __be32 saddr, __be32 daddr, uint8_t protocol,
				 const void *opts, size_t optlen);
/* A 40-byte IPv6 header (payload_len set by pkt_finish()), for non-IPv4 input. */
struct ipv6hdr *pkt_push_ipv6(struct pkt *p, const uint8_t saddr[16], const uint8_t daddr[16],
			      uint8_t nexthdr);
/* An Ethernet/IPv4 ARP body (RFC 826); op is ARPOP_REQUEST or ARPOP_REPLY. */
void *pkt_push_arp(struct pkt *p, uint16_t op, const uint8_t sha[ETH_ALEN], __be32 spa,
		   const uint8_t tha[ETH_ALEN], __be32 tpa);
/* An 802.1Q tag after the Ethernet header (pushed with ETH_P_8021Q). */
void *pkt_push_vlan(struct pkt *p, uint16_t tci, uint16_t proto);
struct udphdr *pkt_push_udp(struct pkt *p, uint16_t sport, uint16_t dport);
/* 20-byte header, window 65535. */
struct tcphdr *pkt_push_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint32_t seq,
			    uint32_t ack, uint8_t flags);
/* ICMP_ECHO or ICMP_ECHOREPLY. */
struct icmphdr *pkt_push_icmp_echo(struct pkt *p, uint8_t type, uint16_t id, uint16_t seq);
/*
 * Any ICMP message; rest is the second word of the header in host order
 * (unused = 0, frag needed: next-hop MTU in the low 16 bits, redirect:
 * gateway). The quoted packet follows with pkt_push_data().
 */
struct icmphdr *pkt_push_icmp(struct pkt *p, uint8_t type, uint8_t code, uint32_t rest);
/* Append len bytes of data, or a fixed pattern (byte i = i & 0xff) if data is NULL. */
void *pkt_push_data(struct pkt *p, const void *data, size_t len);

/* Lengths (IP total length, UDP length) and all checksums of pushed layers. */
void pkt_finish(struct pkt *p);
/* Checksums only, lengths as they are: after editing a finished packet. */
void pkt_fix_csums(struct pkt *p);
/* Cut the frame at len bytes; headers keep claiming the full length. */
void pkt_truncate(struct pkt *p, size_t len);

struct ethhdr *pkt_eth(struct pkt *p);
struct iphdr *pkt_ip(struct pkt *p);
void *pkt_l3(struct pkt *p);
size_t pkt_l3_len(const struct pkt *p);
struct udphdr *pkt_udp(struct pkt *p);
struct tcphdr *pkt_tcp(struct pkt *p);
struct icmphdr *pkt_icmp(struct pkt *p);

/*
 * Internet checksum (RFC 1071) of len bytes, starting from sum (a partial
 * sum such as a pseudo-header's). Returns the folded complement, in network
 * order, ready to store.
 */
__sum16 pkt_csum(const void *data, size_t len, uint32_t sum);
/* Partial sum of the TCP/UDP pseudo-header (RFC 793, RFC 768). */
uint32_t pkt_pseudo_sum(__be32 saddr, __be32 daddr, uint8_t proto, uint16_t l4_len);
/* A full recompute of the IPv4 header checksum (as if check were 0). */
__sum16 pkt_ipv4_csum(const struct iphdr *ip);
/*
 * A full recompute of the L4 checksum of the len bytes at l4 (pseudo-header
 * for TCP and UDP, none for ICMP). UDP's 0 ("no checksum") is sent as 0xffff.
 */
__sum16 pkt_l4_csum(const struct iphdr *ip, const void *l4, size_t len);

/* Bits of pkt_csum_errors(). */
enum {
	PKT_BAD_IP_CSUM = 1 << 0,
	PKT_BAD_L4_CSUM = 1 << 1,
	PKT_BAD_INNER_IP_CSUM = 1 << 2, /* IPv4 header quoted in an ICMP error */
	PKT_BAD_INNER_L4_CSUM = 1 << 3, /* its TCP/UDP/ICMP, when quoted whole */
	PKT_BAD_PARSE = 1 << 4, /* not Ethernet + IPv4 or truncated headers */
};

/*
 * Recompute every checksum in an Ethernet + IPv4 frame: the IP header, the
 * whole L4 segment (TCP, UDP unless 0, ICMP; skipped for fragments), and in
 * an ICMP error the quoted IP header and, if the quote holds all of it, the
 * quoted datagram's L4 sum. Returns 0 or the PKT_BAD_* bits; with out !=
 * NULL each failure is described there.
 */
unsigned int pkt_csum_errors(const void *frame, size_t len, FILE *out);

/* Hex dump, 16 bytes a line. */
void pkt_dump(FILE *out, const char *title, const void *frame, size_t len);
/*
 * Both frames, 16 bytes a line, "want" over "got", with "^^" under every
 * byte that differs (or that only one of them has), and a summary naming
 * the header field of each difference.
 */
void pkt_hexdiff(FILE *out, const void *got, size_t got_len, const void *want, size_t want_len);
/* true if identical, else prints the hex diff (to stderr) and returns false. */
bool pkt_same(const void *got, size_t got_len, const void *want, size_t want_len);

/* cmocka: fail the test with a hex diff unless the frames are identical. */
#define assert_pkt_equal(got, got_len, want, want_len) \
	assert_true(pkt_same((got), (got_len), (want), (want_len)))

/* cmocka: fail unless every checksum in the frame verifies (failures printed). */
#define assert_pkt_csums_ok(frame, len) assert_int_equal(pkt_csum_errors((frame), (len), stderr), 0)

#endif /* VNAT_SELFTESTS_PKTBUILD_H */
