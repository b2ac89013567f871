// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What vnat doctor reads, parsed (user/doctor_parse.c): /proc/net/snmp and
 * netstat, /proc/net/route, /proc/net/nf_conntrack and conntrack -L,
 * iptables-save -c (seed 001's libvirt rules) and doctor's command line.
 * The texts are in the kernel's and the tools' formats.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "doctor.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

/* --- /proc/net/snmp, /proc/net/netstat ---------------------------------- */

static const char snmp_text[] =
	"Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams "
	"InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes "
	"ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates "
	"OutTransmits\n"
	"Ip: 1 64 120 0 7 42 0 0 71 80 0 0 0 0 0 0 0 3 0 122\n"
	"Icmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs "
	"InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps "
	"OutMsgs OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds "
	"OutParmProbs OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps "
	"OutTimestampReps OutAddrMasks OutAddrMaskReps\n"
	"Icmp: 5 0 0 2 0 0 0 0 3 0 0 0 0 0 19 0 0 0 4 0 0 0 15 0 0 0 0 0 0\n"
	"IcmpMsg: InType3 OutType5\n"
	"IcmpMsg: 2 15\n"
	"Udp: InDatagrams NoPorts InErrors OutDatagrams\n"
	"Udp: 9 1 0 9\n";

static void test_snmp_fields(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(vnat_snmp__get(snmp_text, "Icmp", "OutRedirects", &v), 0);
	assert_int_equal(v, 15);
	assert_int_equal(vnat_snmp__get(snmp_text, "Ip", "InAddrErrors", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(vnat_snmp__get(snmp_text, "Ip", "ForwDatagrams", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(vnat_snmp__get(snmp_text, "Ip", "FragFails", &v), 0);
	assert_int_equal(v, 3);
	/* "Icmp:" must not match the "IcmpMsg:" lines, and the other way round */
	assert_int_equal(vnat_snmp__get(snmp_text, "IcmpMsg", "OutType5", &v), 0);
	assert_int_equal(v, 15);
	assert_int_equal(vnat_snmp__get(snmp_text, "Udp", "NoPorts", &v), 0);
	assert_int_equal(v, 1);
}

static void test_snmp_missing(void **state)
{
	uint64_t v = 99;

	(void)state;
	assert_int_equal(vnat_snmp__get(snmp_text, "Icmp", "NoSuchCounter", &v), -ENOENT);
	assert_int_equal(vnat_snmp__get(snmp_text, "Tcp", "ActiveOpens", &v), -ENOENT);
	assert_int_equal(vnat_snmp__get("", "Ip", "Forwarding", &v), -ENOENT);
	/* a header without its value line */
	assert_int_equal(vnat_snmp__get("Ip: Forwarding\n", "Ip", "Forwarding", &v), -ENOENT);
	assert_int_equal(v, 99);
}

static void test_netstat_two_headers(void **state)
{
	static const char netstat[] = "TcpExt: SyncookiesSent SyncookiesRecv\n"
				      "TcpExt: 1 2\n"
				      "IpExt: InNoRoutes InTruncatedPkts InMcastPkts\n"
				      "IpExt: 5 0 8\n";
	uint64_t v = 0;

	(void)state;
	assert_int_equal(vnat_snmp__get(netstat, "IpExt", "InMcastPkts", &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(vnat_snmp__get(netstat, "TcpExt", "SyncookiesRecv", &v), 0);
	assert_int_equal(v, 2);
}

/* --- /proc/net/route --------------------------------------------------- */

static const char *const route_lines[] = {
	"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n",
	/* default via 203.0.113.2 dev eth0 (seed 000's router1) */
	"eth0\t00000000\t027100CB\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
	"eth0\t007100CB\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n",
	/* 172.230.0.0/16 via 172.28.20.1 dev eth1 (seed 001) */
	"eth1\t0000E6AC\t01141CAC\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0\n",
	/* unreachable 10.9.0.0/16: RTF_REJECT */
	"*\t0000090A\t00000000\t0201\t0\t0\t0\t0000FFFF\t0\t0\t0\n",
};

static void test_route_parse(void **state)
{
	struct vnat_route r[8];
	int n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(route_lines) / sizeof(route_lines[0]); i++)
		if (!vnat_route__parse_line(route_lines[i], &r[n]))
			n++;
	/* the header and the reject route are no paths */
	assert_int_equal(n, 3);
	assert_string_equal(r[0].ifname, "eth0");
	assert_int_equal(r[0].len, 0);
	assert_int_equal(r[0].gw, ip("203.0.113.2"));
	assert_int_equal(r[1].dst, ip("203.0.113.0"));
	assert_int_equal(r[1].len, 24);
	assert_int_equal(r[1].gw, 0);
	assert_int_equal(r[2].dst, ip("172.230.0.0"));
	assert_int_equal(r[2].len, 16);
	assert_int_equal(r[2].gw, ip("172.28.20.1"));
}

static void test_route_lookup(void **state)
{
	struct vnat_route r[3];

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(vnat_route__parse_line(route_lines[i + 1], &r[i]), 0);
	assert_ptr_equal(vnat_route__lookup(r, 3, ip("203.0.113.229")), &r[1]);
	assert_ptr_equal(vnat_route__lookup(r, 3, ip("172.230.4.5")), &r[2]);
	assert_ptr_equal(vnat_route__lookup(r, 3, ip("114.114.114.114")), &r[0]);
	assert_ptr_equal(vnat_route__lookup(r, 3, 0), &r[0]);
	/* without a default route nothing covers an outside address */
	assert_null(vnat_route__lookup(r + 1, 2, ip("114.114.114.114")));
}

/* --- conntrack --------------------------------------------------------- */

static void test_ct_proc_unreplied(void **state)
{
	/* seed 004 after iptables -t nat -F: the guest's source went out as it was */
	static const char line[] =
		"ipv4     2 icmp     1 29 src=192.168.122.2 dst=10.0.0.1 type=8 code=0 id=7 "
		"[UNREPLIED] src=10.0.0.1 dst=192.168.122.2 type=0 code=0 id=7 mark=0 zone=0 use=2\n";
	struct vnat_ct_entry e;

	(void)state;
	assert_int_equal(vnat_ct__parse_line(line, &e), 0);
	assert_int_equal(e.proto, 1);
	assert_int_equal(e.src, ip("192.168.122.2"));
	assert_int_equal(e.dst, ip("10.0.0.1"));
	assert_int_equal(e.rsrc, ip("10.0.0.1"));
	assert_int_equal(e.rdst, ip("192.168.122.2"));
	assert_true(e.unreplied);
	assert_true(vnat_ct__untranslated(&e));
}

static void test_ct_translated(void **state)
{
	/* libvirt's MASQUERADE: the reply goes to the uplink's address */
	static const char line[] =
		"ipv4     2 udp      17 25 src=192.168.122.2 dst=198.51.100.53 sport=40000 "
		"dport=53 src=198.51.100.53 dst=10.0.0.15 sport=53 dport=40000 mark=0 zone=0 "
		"use=2\n";
	struct vnat_ct_entry e;

	(void)state;
	assert_int_equal(vnat_ct__parse_line(line, &e), 0);
	assert_int_equal(e.proto, 17);
	assert_int_equal(e.sport, 40000);
	assert_int_equal(e.dport, 53);
	assert_int_equal(e.rdst, ip("10.0.0.15"));
	/* the translated port is the reply's destination port */
	assert_int_equal(e.rsport, 53);
	assert_int_equal(e.rdport, 40000);
	assert_int_equal(e.timeout, 25);
	assert_false(e.unreplied);
	assert_false(e.assured);
	assert_false(vnat_ct__untranslated(&e));
}

static void test_ct_assured(void **state)
{
	/* a stream: the timeout follows the protocol number, [ASSURED] after the reply */
	static const char line[] =
		"ipv4     2 udp      17 117 src=192.168.100.2 dst=198.51.100.53 sport=5353 "
		"dport=53 src=198.51.100.53 dst=198.51.100.2 sport=53 dport=5353 [ASSURED] "
		"mark=0 zone=0 use=2\n";
	struct vnat_ct_entry e;

	(void)state;
	assert_int_equal(vnat_ct__parse_line(line, &e), 0);
	assert_int_equal(e.timeout, 117);
	assert_true(e.assured);
	assert_false(e.unreplied);
	assert_int_equal(e.rsrc, ip("198.51.100.53"));
}

static void test_ct_conntrack_tool(void **state)
{
	/* conntrack -L: no "ipv4 2" prefix, TCP state word */
	static const char line[] =
		"tcp      6 118 SYN_SENT src=203.0.113.229 dst=192.168.1.1 sport=5000 dport=80 "
		"[UNREPLIED] src=192.168.1.1 dst=203.0.113.229 sport=80 dport=5000 mark=0 use=1\n";
	struct vnat_ct_entry e;

	(void)state;
	assert_int_equal(vnat_ct__parse_line(line, &e), 0);
	assert_int_equal(e.proto, 6);
	assert_int_equal(e.timeout, 118);
	assert_int_equal(e.dport, 80);
	assert_true(e.unreplied);
	assert_true(vnat_ct__untranslated(&e));
}

static void test_ct_rejects(void **state)
{
	struct vnat_ct_entry e;

	(void)state;
	assert_int_equal(vnat_ct__parse_line("ipv6     10 udp      17 20 src=2001:db8::1 "
					     "dst=2001:db8::2 sport=1 dport=53 src=2001:db8::2 "
					     "dst=2001:db8::1 sport=53 dport=1",
					     &e),
			 -EAFNOSUPPORT);
	assert_int_equal(vnat_ct__parse_line("conntrack v1.4.7 (conntrack-tools): 3 flow entries",
					     &e),
			 -EINVAL);
	assert_int_equal(vnat_ct__parse_line("", &e), -EINVAL);
}

/* --- iptables-save ----------------------------------------------------- */

/* seed 001's rules as iptables-save -c prints them */
static const char libvirt_save[] =
	"# Generated by iptables-save v1.8.9 (nf_tables)\n"
	"*filter\n"
	":INPUT ACCEPT [0:0]\n"
	":FORWARD ACCEPT [0:0]\n"
	"[3:252] -A FORWARD -d 192.168.122.0/24 -o virbr0 -m conntrack --ctstate "
	"RELATED,ESTABLISHED -j ACCEPT\n"
	"[3:252] -A FORWARD -s 192.168.122.0/24 -i virbr0 -j ACCEPT\n"
	"[0:0] -A FORWARD -i virbr0 -o virbr0 -j ACCEPT\n"
	"[0:0] -A FORWARD -o virbr0 -j REJECT --reject-with icmp-port-unreachable\n"
	"[0:0] -A FORWARD -i virbr0 -j REJECT --reject-with icmp-port-unreachable\n"
	"[12:624] -A FORWARD -p udp -m udp --dport 53 -j DROP\n"
	"COMMIT\n"
	"*nat\n"
	":POSTROUTING ACCEPT [0:0]\n"
	"[0:0] -A POSTROUTING -s 192.168.122.0/24 -d 224.0.0.0/24 -j RETURN\n"
	"[0:0] -A POSTROUTING -s 192.168.122.0/24 -d 255.255.255.255/32 -j RETURN\n"
	"[0:0] -A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -p tcp -j MASQUERADE "
	"--to-ports 1024-65535\n"
	"[0:0] -A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -p udp -j MASQUERADE "
	"--to-ports 1024-65535\n"
	"[2:168] -A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -j MASQUERADE\n"
	"COMMIT\n";

static void test_ipt_parse_libvirt(void **state)
{
	struct vnat_ipt_rule r[16];
	int n = vnat_ipt__parse(libvirt_save, r, 16);

	(void)state;
	assert_int_equal(n, 11);
	assert_string_equal(r[0].table, "filter");
	assert_string_equal(r[0].chain, "FORWARD");
	assert_string_equal(r[0].target, "ACCEPT");
	assert_string_equal(r[0].out, "virbr0");
	assert_int_equal(r[0].dst, ip("192.168.122.0"));
	assert_int_equal(r[0].dst_len, 24);
	assert_int_equal(r[0].packets, 3);
	assert_true(vnat_ipt__refuses(&r[3]));
	assert_false(vnat_ipt__refuses(&r[2]));
	/* the DNS drop: protocol, port, counters, and the spec to delete it by */
	assert_int_equal(r[5].proto, 17);
	assert_int_equal(r[5].dport, 53);
	assert_int_equal(r[5].packets, 12);
	assert_string_equal(r[5].spec, "FORWARD -p udp -m udp --dport 53 -j DROP");
	assert_string_equal(r[6].table, "nat");
	assert_string_equal(r[8].target, "MASQUERADE");
	assert_true(r[8].dst_neg);
	assert_false(r[8].src_neg);
	assert_int_equal(r[8].proto, 6);
}

static void test_ipt_nat_covers(void **state)
{
	struct vnat_ipt_rule r[16];
	int n = vnat_ipt__parse(libvirt_save, r, 16);

	(void)state;
	assert_true(vnat_ipt__nat_covers(r, n, ip("192.168.122.0"), 24, "eth0"));
	/* a smaller prefix inside the rule's is covered, a larger one is not */
	assert_true(vnat_ipt__nat_covers(r, n, ip("192.168.122.128"), 25, "eth0"));
	assert_false(vnat_ipt__nat_covers(r, n, ip("192.168.0.0"), 16, "eth0"));
	assert_false(vnat_ipt__nat_covers(r, n, ip("10.10.10.0"), 24, "eth0"));
	/* after iptables -t nat -F (seed 004): only the filter table is left */
	n = vnat_ipt__parse("*filter\n[0:0] -A FORWARD -i virbr0 -j ACCEPT\nCOMMIT\n*nat\nCOMMIT\n",
			    r, 16);
	assert_int_equal(n, 1);
	assert_false(vnat_ipt__nat_covers(r, n, ip("192.168.122.0"), 24, "eth0"));
}

static void test_ipt_nat_out_interface(void **state)
{
	/* seed 003: MASQUERADE by output interface only; seed 000: SNAT by source */
	static const char save[] = "*nat\n"
				   "-A POSTROUTING -o enp4s0 -j MASQUERADE\n"
				   "-A POSTROUTING -s 203.0.113.0/24 ! -o br1 -j SNAT --to-source "
				   "192.168.1.101\n"
				   "COMMIT\n";
	struct vnat_ipt_rule r[4];
	int n = vnat_ipt__parse(save, r, 4);

	(void)state;
	assert_int_equal(n, 2);
	assert_true(vnat_ipt__nat_covers(r, 1, ip("192.168.100.0"), 24, "enp4s0"));
	assert_false(vnat_ipt__nat_covers(r, 1, ip("192.168.100.0"), 24, "eth0"));
	assert_true(r[1].out_neg);
	assert_true(vnat_ipt__nat_covers(r + 1, 1, ip("203.0.113.0"), 24, "eth0"));
	assert_false(vnat_ipt__nat_covers(r + 1, 1, ip("203.0.113.0"), 24, "br1"));
	assert_false(vnat_ipt__nat_covers(r + 1, 1, ip("198.51.100.0"), 24, "eth0"));
}

/* --- addresses ------------------------------------------------------- */

static void test_private(void **state)
{
	(void)state;
	assert_true(vnat_ipv4__private(ip("192.168.122.2")));
	assert_true(vnat_ipv4__private(ip("10.10.10.1")));
	assert_true(vnat_ipv4__private(ip("172.28.20.231")));
	assert_true(vnat_ipv4__private(ip("100.64.0.1")));
	assert_false(vnat_ipv4__private(ip("172.32.0.1")));
	assert_false(vnat_ipv4__private(ip("203.0.113.229")));
	assert_false(vnat_ipv4__private(ip("192.0.2.10")));
	assert_true(vnat_ipv4__in(ip("203.0.113.2"), ip("203.0.113.0"), 24));
	assert_false(vnat_ipv4__in(ip("203.0.114.2"), ip("203.0.113.0"), 24));
	assert_true(vnat_ipv4__in(ip("1.2.3.4"), 0, 0));
}

/* --- command line ------------------------------------------------------ */

/* stderr of one parse, into err_text */
static char err_text[1024];

static int parse(int argc, char **argv, struct vnat_doctor_opts *o)
{
	FILE *tmp = tmpfile();
	int saved = dup(2), rc;
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	rc = vnat_doctor__parse_args(argc, argv, o);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(err_text, 1, sizeof(err_text) - 1, tmp);
	err_text[n] = 0;
	fclose(tmp);
	return rc;
}

#define PARSE(o, ...) parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o))

/* one line "vnat: doctor: ..." quoting what was wrong */
static void assert_one_error(const char *quote)
{
	const char *nl = strchr(err_text, '\n');

	assert_true(!strncmp(err_text, "vnat: doctor: ", 14));
	assert_non_null(nl);
	assert_int_equal(nl[1], 0);
	assert_non_null(strstr(err_text, quote));
}

static void test_args_ok(void **state)
{
	struct vnat_doctor_opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "doctor"), 0);
	assert_string_equal(o.iface, "");
	assert_int_equal(o.to, 0);
	assert_false(o.json || o.fix);
	assert_int_equal(
		PARSE(&o, "doctor", "--iface", "br1", "--to", "114.114.114.114", "-j", "--fix"), 0);
	assert_string_equal(o.iface, "br1");
	assert_int_equal(o.to, ip("114.114.114.114"));
	assert_true(o.json && o.fix && !o.pretty);
	assert_int_equal(PARSE(&o, "doctor", "-p", "-i", "virbr0"), 0);
	assert_true(o.json && o.pretty);
	assert_string_equal(err_text, "");
}

static void test_args_bad(void **state)
{
	struct vnat_doctor_opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "doctor", "--to", "1.2.3"), -EINVAL);
	assert_one_error("'1.2.3'");
	assert_int_equal(PARSE(&o, "doctor", "--iface", "a-name-much-too-long"), -EINVAL);
	assert_one_error("'a-name-much-too-long'");
	assert_int_equal(PARSE(&o, "doctor", "--frobnicate"), -EINVAL);
	assert_one_error("'--frobnicate'");
	assert_int_equal(PARSE(&o, "doctor", "--iface"), -EINVAL);
	assert_one_error("'--iface' needs a value");
	assert_int_equal(PARSE(&o, "doctor", "br1"), -EINVAL);
	assert_one_error("unexpected argument 'br1'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snmp_fields),
		cmocka_unit_test(test_snmp_missing),
		cmocka_unit_test(test_netstat_two_headers),
		cmocka_unit_test(test_route_parse),
		cmocka_unit_test(test_route_lookup),
		cmocka_unit_test(test_ct_proc_unreplied),
		cmocka_unit_test(test_ct_translated),
		cmocka_unit_test(test_ct_assured),
		cmocka_unit_test(test_ct_conntrack_tool),
		cmocka_unit_test(test_ct_rejects),
		cmocka_unit_test(test_ipt_parse_libvirt),
		cmocka_unit_test(test_ipt_nat_covers),
		cmocka_unit_test(test_ipt_nat_out_interface),
		cmocka_unit_test(test_private),
		cmocka_unit_test(test_args_ok),
		cmocka_unit_test(test_args_bad),
	};

	return cmocka_run_group_tests_name("doctor", tests, NULL, NULL);
}
