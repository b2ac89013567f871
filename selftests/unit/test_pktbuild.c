// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The packet builder the other tests trust: its frames must be byte for
 * byte what Linux puts on the wire. The known answers below were captured
 * from a veth with checksum offload off (ethtool -K tx off), Linux 6.18.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pktbuild.h"

static const uint8_t mac_a[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_b[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };

static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;

	for (; hex[0] && hex[1] && n < max; hex += 2) {
		unsigned int b;

		if (sscanf(hex, "%2x", &b) != 1)
			break;
		out[n++] = b;
	}
	return n;
}

static void ip_base(struct pkt *p, uint8_t proto, uint16_t id)
{
	struct iphdr *ip;

	pkt_init(p);
	pkt_push_eth(p, mac_b, mac_a, ETH_P_IP);
	ip = pkt_push_ipv4(p, pkt_ip4("10.0.0.1"), pkt_ip4("10.0.0.2"), proto);
	ip->id = htons(id);
	ip->frag_off = htons(PKT_IP_DF);
}

static void expect_frame(struct pkt *p, const char *hex)
{
	uint8_t want[PKT_MAX];
	size_t n = unhex(hex, want, sizeof(want));

	assert_pkt_equal(p->data, p->len, want, n);
	assert_pkt_csums_ok(p->data, p->len);
}

static void test_udp_known_answer(void **state)
{
	struct pkt p;

	(void)state;
	ip_base(&p, IPPROTO_UDP, 0xd004);
	pkt_push_udp(&p, 40000, 53);
	pkt_push_data(&p, "hello, vnat", 11);
	pkt_finish(&p);
	expect_frame(&p, "020000000002020000000001080045000027d0044000401156bf0a0000010a000002"
			 "9c4000350013087a68656c6c6f2c20766e6174");
}

static void test_icmp_known_answer(void **state)
{
	struct pkt p;

	(void)state;
	ip_base(&p, IPPROTO_ICMP, 0x908d);
	pkt_push_icmp_echo(&p, ICMP_ECHO, 0x202c, 7);
	pkt_push_data(&p, "ping-payload", 12);
	pkt_finish(&p);
	expect_frame(&p, "020000000002020000000001080045000028908d4000400196450a0000010a000002"
			 "08009c3e202c000770696e672d7061796c6f6164");
}

/* A SYN with options: pushed as data after the header, doff set by hand. */
static void test_tcp_known_answer(void **state)
{
	uint8_t opts[20];
	struct tcphdr *tcp;
	struct pkt p;

	(void)state;
	unhex("020405b40402080a37e4247b000000000103030a", opts, sizeof(opts));
	ip_base(&p, IPPROTO_TCP, 0x0de0);
	tcp = pkt_push_tcp(&p, 43210, 443, 0x08690f16, 0, PKT_TCP_SYN);
	tcp->doff = 10;
	tcp->window = htons(0xfaf0);
	pkt_push_data(&p, opts, sizeof(opts));
	pkt_finish(&p);
	expect_frame(
		&p,
		"02000000000202000000000108004500003c0de04000400618da0a0000010a000002"
		"a8ca01bb08690f1600000000a002faf01aa60000020405b40402080a37e4247b000000000103030a");
}

/* The worked example of many textbooks: 192.168.0.1 -> 192.168.0.199. */
static void test_ipv4_header_known_answer(void **state)
{
	uint8_t hdr[20];

	(void)state;
	unhex("450000730000400040110000c0a80001c0a800c7", hdr, sizeof(hdr));
	assert_int_equal(ntohs(pkt_ipv4_csum((struct iphdr *)hdr)), 0xb861);
	/* Odd lengths: the last byte is the high half of a word. */
	assert_int_equal(ntohs(pkt_csum("\x01", 1, 0)), 0xfeff);
	assert_int_equal(ntohs(pkt_csum("\x00\x01\xf2", 3, 0)), (uint16_t)~0xf201);
}

/* RFC 768: a computed 0 goes out as 0xffff; 0 on the wire means "none". */
static void test_udp_zero_checksum(void **state)
{
	struct pkt p;
	uint32_t v;

	(void)state;
	for (v = 0; v <= 0xffff; v++) {
		uint8_t pay[2] = { v >> 8, v & 0xff };

		ip_base(&p, IPPROTO_UDP, 1);
		pkt_push_udp(&p, 1, 2);
		pkt_push_data(&p, pay, 2);
		pkt_finish(&p);
		if (pkt_udp(&p)->check == 0xffff)
			break;
	}
	assert_true(v <= 0xffff);
	assert_int_equal(pkt_csum_errors(p.data, p.len, stderr), 0);
	/* No checksum at all is valid too. */
	pkt_udp(&p)->check = 0;
	assert_int_equal(pkt_csum_errors(p.data, p.len, stderr), 0);
}

static void test_lengths_and_options(void **state)
{
	static const uint8_t ra[4] = { 0x94, 0x04, 0, 0 };
	struct iphdr *ip;
	struct pkt p;

	(void)state;
	pkt_init(&p);
	pkt_push_eth(&p, mac_b, mac_a, ETH_P_IP);
	ip = pkt_push_ipv4_opts(&p, pkt_ip4("10.0.0.1"), pkt_ip4("10.0.0.2"), IPPROTO_UDP, ra, 4);
	pkt_push_udp(&p, 1, 2);
	pkt_push_data(&p, NULL, 100);
	pkt_finish(&p);
	assert_int_equal(ip->ihl, 6);
	assert_int_equal(ntohs(ip->tot_len), 24 + 8 + 100);
	assert_int_equal(ntohs(pkt_udp(&p)->len), 8 + 100);
	assert_int_equal(p.len, ETH_HLEN + 24 + 8 + 100);
	assert_memory_equal(ip + 1, ra, 4);
	assert_int_equal(((uint8_t *)pkt_udp(&p))[8 + 99], 99); /* the pattern */
	assert_int_equal(pkt_csum_errors(p.data, p.len, stderr), 0);
	assert_int_equal(pkt_l3_len(&p), 24 + 8 + 100);
}

static void test_csum_errors(void **state)
{
	FILE *devnull = fopen("/dev/null", "w");
	struct pkt p;

	(void)state;
	assert_non_null(devnull);
	ip_base(&p, IPPROTO_TCP, 1);
	pkt_push_tcp(&p, 1, 2, 3, 4, PKT_TCP_ACK);
	pkt_push_data(&p, NULL, 10);
	pkt_finish(&p);
	assert_int_equal(pkt_csum_errors(p.data, p.len, devnull), 0);
	pkt_tcp(&p)->seq ^= htonl(1);
	assert_int_equal(pkt_csum_errors(p.data, p.len, devnull), PKT_BAD_L4_CSUM);
	pkt_fix_csums(&p);
	assert_int_equal(pkt_csum_errors(p.data, p.len, devnull), 0);
	pkt_ip(&p)->ttl--;
	assert_int_equal(pkt_csum_errors(p.data, p.len, devnull), PKT_BAD_IP_CSUM);
	/* The pseudo-header covers the addresses: a NAT that forgets the L4 sum fails. */
	pkt_fix_csums(&p);
	pkt_ip(&p)->saddr = pkt_ip4("192.0.2.1");
	pkt_ip(&p)->check = pkt_ipv4_csum(pkt_ip(&p));
	assert_int_equal(pkt_csum_errors(p.data, p.len, devnull), PKT_BAD_L4_CSUM);
	/* Truncated: lengths claim more than the frame holds. */
	pkt_fix_csums(&p);
	pkt_truncate(&p, p.len - 1);
	assert_int_equal(pkt_csum_errors(p.data, p.len, devnull), PKT_BAD_PARSE);
	pkt_truncate(&p, ETH_HLEN + 10);
	assert_int_equal(pkt_csum_errors(p.data, p.len, devnull), PKT_BAD_PARSE);
	/* Not IPv4. */
	pkt_init(&p);
	pkt_push_eth(&p, mac_b, mac_a, ETH_P_ARP);
	assert_int_equal(pkt_csum_errors(p.data, p.len, devnull), PKT_BAD_PARSE);
	fclose(devnull);
}

/* An ICMP error quoting a whole UDP datagram: outer, quoted IP and quoted UDP sums. */
static void test_icmp_error_quote(void **state)
{
	FILE *devnull = fopen("/dev/null", "w");
	struct pkt inner, p;
	struct iphdr *qip;
	struct udphdr *qudp;

	(void)state;
	assert_non_null(devnull);
	ip_base(&inner, IPPROTO_UDP, 7);
	pkt_push_udp(&inner, 40000, 53);
	pkt_push_data(&inner, NULL, 12);
	pkt_finish(&inner);

	pkt_init(&p);
	pkt_push_eth(&p, mac_a, mac_b, ETH_P_IP);
	pkt_push_ipv4(&p, pkt_ip4("10.0.0.2"), pkt_ip4("10.0.0.1"), IPPROTO_ICMP);
	pkt_push_icmp(&p, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1280);
	qip = pkt_push_data(&p, pkt_l3(&inner), pkt_l3_len(&inner));
	pkt_finish(&p);
	assert_int_equal(ntohs(pkt_icmp(&p)->un.frag.mtu), 1280);
	assert_int_equal(pkt_csum_errors(p.data, p.len, devnull), 0);

	/* A translator that rewrote the quoted port without fixing the quoted UDP sum. */
	qudp = (void *)(qip + 1);
	qudp->source = htons(1024);
	pkt_fix_csums(&p); /* outer sums only */
	assert_int_equal(pkt_csum_errors(p.data, p.len, devnull), PKT_BAD_INNER_L4_CSUM);
	qudp->source = htons(40000);
	/* ... or the quoted address without the quoted IP header sum. */
	qip->saddr = pkt_ip4("192.0.2.1");
	pkt_fix_csums(&p);
	assert_true(pkt_csum_errors(p.data, p.len, devnull) & PKT_BAD_INNER_IP_CSUM);
	qip->check = pkt_ipv4_csum(qip);
	qudp->check = pkt_l4_csum(qip, qudp, ntohs(qudp->len));
	pkt_fix_csums(&p);
	assert_int_equal(pkt_csum_errors(p.data, p.len, devnull), 0);

	/* The usual quote: IP header + 8 bytes; the quoted L4 sum cannot be checked. */
	pkt_init(&p);
	pkt_push_eth(&p, mac_a, mac_b, ETH_P_IP);
	pkt_push_ipv4(&p, pkt_ip4("10.0.0.2"), pkt_ip4("10.0.0.1"), IPPROTO_ICMP);
	pkt_push_icmp(&p, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0);
	pkt_push_data(&p, pkt_l3(&inner), sizeof(struct iphdr) + 8);
	pkt_finish(&p);
	assert_int_equal(pkt_csum_errors(p.data, p.len, devnull), 0);
	fclose(devnull);
}

static char *hexdiff_text(const void *got, size_t glen, const void *want, size_t wlen)
{
	static char buf[16384];
	FILE *f = tmpfile();
	size_t n;

	assert_non_null(f);
	pkt_hexdiff(f, got, glen, want, wlen);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void test_hexdiff(void **state)
{
	struct pkt want, got, inner;
	char *text;

	(void)state;
	ip_base(&want, IPPROTO_UDP, 1);
	pkt_push_udp(&want, 1000, 53);
	pkt_push_data(&want, NULL, 20);
	pkt_finish(&want);
	got = want;
	pkt_ip(&got)->ttl--;
	pkt_udp(&got)->source = htons(2000);
	got.data[0] ^= 0xff;
	assert_true(pkt_same(want.data, want.len, want.data, want.len));

	text = hexdiff_text(got.data, got.len, want.data, want.len);
	assert_non_null(strstr(text, "0000  want 02 00 00 00 00 02"));
	assert_non_null(strstr(text, "0000  got  fd 00 00 00 00 02"));
	assert_non_null(strstr(text, "\n           ^^")); /* under byte 0 */
	assert_non_null(strstr(text, "  0x0000 eth.dst\n"));
	assert_non_null(strstr(text, "  0x0016 ip.ttl\n"));
	assert_non_null(strstr(text, "  0x0022-0x0023 udp.source\n"));
	assert_null(strstr(text, "ip.check")); /* equal bytes are not listed */

	/* Length differences are marked, and fields of a quoted datagram named. */
	text = hexdiff_text(got.data, got.len - 2, want.data, want.len);
	assert_non_null(strstr(text, "want 62 bytes, got 60 bytes"));
	assert_non_null(strstr(text, "udp payload"));

	ip_base(&inner, IPPROTO_UDP, 2);
	pkt_push_udp(&inner, 1000, 53);
	pkt_finish(&inner);
	pkt_init(&want);
	pkt_push_eth(&want, mac_a, mac_b, ETH_P_IP);
	pkt_push_ipv4(&want, pkt_ip4("10.0.0.2"), pkt_ip4("10.0.0.1"), IPPROTO_ICMP);
	pkt_push_icmp(&want, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
	pkt_push_data(&want, pkt_l3(&inner), pkt_l3_len(&inner));
	pkt_finish(&want);
	got = want;
	got.data[ETH_HLEN + 20 + 8 + 12] ^= 1; /* quoted saddr */
	got.data[ETH_HLEN + 20 + 8 + 20 + 1] ^= 1; /* quoted UDP source port */
	text = hexdiff_text(got.data, got.len, want.data, want.len);
	assert_non_null(strstr(text, "quoted ip.saddr"));
	assert_non_null(strstr(text, "quoted udp.source"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_known_answer),
		cmocka_unit_test(test_icmp_known_answer),
		cmocka_unit_test(test_tcp_known_answer),
		cmocka_unit_test(test_ipv4_header_known_answer),
		cmocka_unit_test(test_udp_zero_checksum),
		cmocka_unit_test(test_lengths_and_options),
		cmocka_unit_test(test_csum_errors),
		cmocka_unit_test(test_icmp_error_quote),
		cmocka_unit_test(test_hexdiff),
	};

	return cmocka_run_group_tests_name("pktbuild", tests, NULL, NULL);
}
