#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nat.sh - T1's NAT role (seed 000): vm3 masquerades 203.0.113.0/24 behind
# 192.168.1.101, loaded exactly as the operator types it:
#
#     vnat load --iface eth1 --snat 192.168.1.101
#
#   vm1 203.0.113.229 -- eth1 [vm3] eth0 192.168.1.101 -- [lan] 192.168.1.1 -- [pub] 198.51.100.53
#
# lan has no route back to 203.0.113.0/24, so only translated traffic can
# come back. pub stands for the seed's public DNS server.
#
# XDP-redirected frames bypass the AF_PACKET taps of vm3's interfaces, so
# the wire is watched from the receiving ends: in lan (what the outside sees)
# and in vm1 (what the guest sees). vm3's own eth0 capture only ever shows
# what the kernel sent, which must be translated too.
#
# Order: kernel path (nothing translates), load, translated ping/UDP/TCP
# with captures and conns, bulk TCP and iperf3, ICMP errors (traceroute),
# unsolicited inbound and filtering, a port range, unload.
#
# Usage: nat.sh        (V=1 for all command output; VNAT=path to override)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_nat.sh
source "$(dirname "$0")/lib_nat.sh"

PINGS=20
TCP_SIZE=$((4 * 1024 * 1024))
IPERF_SECS=3
# After warm-up every packet of a translated flow should take XDP; allow a
# couple to the kernel (neighbour refresh).
KERNEL_SLACK=3
SNAT=$T1_VM3_OUT_ADDR

require_root
require_cmd ip ethtool ping socat tcpdump iperf3 python3 timeout ss sha256sum
require_vnat

# ---------------------------------------------------------------- helpers

# in_range VALUE LO HI
in_range()
{
	echo "$1 in [$2, $3]?"
	[ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

# The outcome of a ping lan -> vm1 through a route lan does not normally
# have: "reached" or "failed", and whether vm1 saw the request.
routed_inbound_ping()
{
	if in_ns "$LAN" ping -q -c 3 -i 0.2 -W 1 -w 3 "$T1_VM1_ADDR" >/dev/null 2>&1; then
		echo reached
	else
		echo failed
	fi
}

# icmp_quotes_inside FILE MIN: >= MIN ICMP errors in FILE, each to vm1,
# each quoting a datagram from vm1 (never from the SNAT address).
icmp_quotes_inside()
{
	local q

	q=$(cap_icmp_quotes "$1")
	echo "$q"
	[ "$(grep -c . <<<"$q")" -ge "$2" ] &&
		! awk -v a="$T1_VM1_ADDR" '$2 != a || $3 != a { bad = 1 } END { exit !bad }' <<<"$q"
}

kfwd_delta_le()
{
	local now

	now=$(kernel_fwd_count "$VM3") || return 1
	echo "kernel ForwDatagrams +$((now - $1))"
	[ $((now - $1)) -le "$2" ]
}

# ---------------------------------------------------------------- topology

nat_t1_create
VM1=$(ns vm1) VM3=$(ns vm3) LAN=$(ns lan) PUB=$(ns pub)
defer vnat_in "$VM3" unload --all

# ---------------------------------------------------------------- kernel path

test_group "nat: kernel path"
must "neighbours resolve" nat_t1_warmup
check "vm3 reaches lan itself" ping_all "$VM3" "$T1_LAN_ADDR" 2
check "vm3 reaches pub through lan" ping_all "$VM3" "$T1_PUB_ADDR" 2
# Without a translation lan cannot answer: the test bed proves nothing if
# this works.
check "vm1 -> lan fails before vnat (lan has no route back)" \
	ping_none "$VM1" "$T1_LAN_ADDR" 2
check "vm1 -> pub fails before vnat" ping_none "$VM1" "$T1_PUB_ADDR" 2

# Routed inbound on the kernel path: an SNAT box without a firewall (seed
# 000 has none) forwards traffic routed to the inside untranslated.
must "lan: route to 203.0.113.0/24 via vm3" \
	ip -n "$LAN" route add "$T1_IN_NET" via "$SNAT"
KERNEL_ROUTED_INBOUND=$(routed_inbound_ping)
log_info "kernel path, lan -> vm1 with a route: $KERNEL_ROUTED_INBOUND"
must "lan: remove that route" ip -n "$LAN" route del "$T1_IN_NET" via "$SNAT"

# ---------------------------------------------------------------- load

test_group "nat: load"
check_rc 0 "vnat load --iface eth1 --snat $SNAT" \
	vnat_in "$VM3" load --iface eth1 --snat "$SNAT" ||
	die "vnat load failed: nothing else can be tested"
must "status -j" vnat_status_json "$VM3"
ST=$(cat "$RUN_OUT")
check "config.snat is $SNAT" json_eq "$ST" 'd["config"]["snat"]' "$SNAT"
check "filtering defaults to apdf" json_eq "$ST" 'd["config"]["filtering"]' apdf
check "port range defaults to 1024-65535 (libvirt's --to-ports)" \
	json_eq "$ST" '[d["config"]["port_min"], d["config"]["port_max"]]' '[1024, 65535]'
check "eth1 is the inside" \
	json_eq "$ST" 'next(i["role"] for i in d["interfaces"] if i["name"] == "eth1")' inside
check "eth0 (holds $SNAT) is the uplink" \
	json_eq "$ST" 'next(i["role"] for i in d["interfaces"] if i["name"] == "eth0")' uplink
check "exactly eth0 and eth1 are managed" \
	json_eq "$ST" 'sorted(i["name"] for i in d["interfaces"])' '["eth0", "eth1"]'
check "conns -j is an empty list before traffic" json_eq "$(conns_json "$VM3")" 'd' '[]'

# ---------------------------------------------------------------- small flows

test_group "nat: translate"
must "neighbours resolve" nat_t1_warmup
must "UDP server in lan" peer_server_udp SRV_LU "$LAN" 7002
must "UDP server in pub" peer_server_udp SRV_PU "$PUB" 7002
must "TCP server in lan" peer_server_tcp SRV_LT "$LAN" 7001
must "TCP server in pub" peer_server_tcp SRV_PT "$PUB" 7001
must "capture in lan" cap_start CAP_LAN "$LAN" eth0 ip
must "capture in vm1" cap_start CAP_VM1 "$VM1" eth0 ip
must "capture on vm3 eth0" cap_start CAP_VM3 "$VM3" eth0 ip
must "counters" counters_snap "$VM3" C0
k0=$(kernel_fwd_count "$VM3")

check "$PINGS pings vm1 -> lan all answered" ping_all "$VM1" "$T1_LAN_ADDR" "$PINGS"
check "$PINGS pings vm1 -> pub all answered" ping_all "$VM1" "$T1_PUB_ADDR" "$PINGS"
check "UDP vm1:34001 -> lan: lan sees $SNAT" \
	expect_peer "$SNAT" peer_ask_udp "$VM1" "$T1_LAN_ADDR" 7002 34001
UDP_LAN_SEEN=$(tail -1 "$RUN_OUT" | awk '{print $3}')
check "UDP vm1:34001 -> pub: pub sees $SNAT" \
	expect_peer "$SNAT" peer_ask_udp "$VM1" "$T1_PUB_ADDR" 7002 34001
UDP_PUB_SEEN=$(tail -1 "$RUN_OUT" | awk '{print $3}')
check "TCP vm1:34011 -> lan: lan sees $SNAT" \
	expect_peer "$SNAT" peer_ask_tcp "$VM1" "$T1_LAN_ADDR" 7001 34011
TCP_LAN_SEEN=$(tail -1 "$RUN_OUT" | awk '{print $3}')
check "TCP vm1:34012 -> pub: pub sees $SNAT" \
	expect_peer "$SNAT" peer_ask_tcp "$VM1" "$T1_PUB_ADDR" 7001 34012
TCP_PUB_SEEN=$(tail -1 "$RUN_OUT" | awk '{print $3}')

must "counters" counters_snap "$VM3" C1
cap_stop "CAP_LAN"
cap_stop "CAP_VM1"
cap_stop "CAP_VM3"

# RFC 4787 REQ-1: one inside endpoint, one outside port, whoever it talks to.
check_cmp "UDP: the same outside port toward lan and pub (endpoint-independent)" \
	"$(port_of "$UDP_LAN_SEEN")" = "$(port_of "$UDP_PUB_SEEN")"
check_cmp "UDP: the inside port 34001 was kept" "$(port_of "$UDP_LAN_SEEN")" = 34001
check_cmp "nat_port_kept moved" "$(cdelta C0 C1 nat_port_kept)" -ge 1

# Each ping request out and reply in, plus the UDP and TCP exchanges.
log_info "fwd_snat +$(cdelta C0 C1 fwd_snat) fwd_dnat +$(cdelta C0 C1 fwd_dnat)" \
	"fwd_snat_tc +$(cdelta C0 C1 fwd_snat_tc) fwd_dnat_tc +$(cdelta C0 C1 fwd_dnat_tc)"
check_cmp "fwd_snat moved by >= $((2 * PINGS + 2 + 2 * 3 - KERNEL_SLACK))" \
	"$(cdelta C0 C1 fwd_snat)" -ge $((2 * PINGS + 2 + 2 * 3 - KERNEL_SLACK))
check_cmp "fwd_dnat moved by >= $((2 * PINGS + 2 + 2 * 3 - KERNEL_SLACK))" \
	"$(cdelta C0 C1 fwd_dnat)" -ge $((2 * PINGS + 2 + 2 * 3 - KERNEL_SLACK))
check_cmp "nat_new_flow moved by >= 6 (2 ping, 2 UDP, 2 TCP)" \
	"$(cdelta C0 C1 nat_new_flow)" -ge 6
check "kernel ForwDatagrams moved by <= $KERNEL_SLACK" kfwd_delta_le "$k0" "$KERNEL_SLACK"

test_group "nat: conns"
check "UDP flow vm1:34001 -> lan:7002 listed, outside = what lan saw ($UDP_LAN_SEEN)" \
	conn_is "$VM3" udp "$T1_VM1_ADDR:34001" "$T1_LAN_ADDR:7002" "$UDP_LAN_SEEN"
check "UDP flow vm1:34001 -> pub:7002 listed, outside = what pub saw ($UDP_PUB_SEEN)" \
	conn_is "$VM3" udp "$T1_VM1_ADDR:34001" "$T1_PUB_ADDR:7002" "$UDP_PUB_SEEN"
check "TCP flow vm1:34011 -> lan:7001 listed, outside = what lan saw ($TCP_LAN_SEEN)" \
	conn_is "$VM3" tcp "$T1_VM1_ADDR:34011" "$T1_LAN_ADDR:7001" "$TCP_LAN_SEEN"
check "TCP flow vm1:34012 -> pub:7001 listed, outside = what pub saw ($TCP_PUB_SEEN)" \
	conn_is "$VM3" tcp "$T1_VM1_ADDR:34012" "$T1_PUB_ADDR:7001" "$TCP_PUB_SEEN"
check "ICMP flow vm1 -> lan listed with outside $SNAT" \
	conn_is "$VM3" icmp "$T1_VM1_ADDR:[0-9]+" "$T1_LAN_ADDR:0" "$SNAT:[0-9]+"
must "conns -j" conns_json "$VM3"
CONNS=$(cat "$RUN_OUT")
sel="next(c for c in d if c['proto'] == 'udp' and c['inside'] == '$T1_VM1_ADDR:34001' and c['remote'] == '$T1_LAN_ADDR:7002')"
check "UDP flow: 1 packet each way" \
	json_eq "$CONNS" "[${sel}['packets_out'], ${sel}['packets_in']]" '[1, 1]'
check "UDP flow: bytes counted both ways" \
	json_eq "$CONNS" "${sel}['bytes_out'] > 0 and ${sel}['bytes_in'] > 0" true
check "UDP flow: state '-', 0 < seconds_left <= 300" \
	json_eq "$CONNS" "[${sel}['state'], 0 < ${sel}['seconds_left'] <= 300]" '["-", true]'
sel="next(c for c in d if c['proto'] == 'tcp' and c['inside'] == '$T1_VM1_ADDR:34011')"
# Both sides closed: a transitory state with the transitory timeout.
check "TCP flow after close: FIN_WAIT/TIME_WAIT, seconds_left <= 240" \
	json_eq "$CONNS" "${sel}['state'] in ('FIN_WAIT', 'TIME_WAIT') and ${sel}['seconds_left'] <= 240" true
check "every listed flow is vm1's, translated to $SNAT" \
	json_eq "$CONNS" "all(c['inside'].startswith('$T1_VM1_ADDR:') and c['outside'].startswith('$SNAT:') for c in d)" true

test_group "nat: captures"
f=$CAP_LAN_FILE
check "lan saw vm1's traffic from $SNAT" cap_atleast "$f" $((2 * PINGS)) src host "$SNAT"
check "lan never saw 203.0.113.229 as a source" cap_none "$f" src host "$T1_VM1_ADDR"
check "lan never saw 203.0.113.229 as a destination" cap_none "$f" dst host "$T1_VM1_ADDR"
check "lan saw the UDP query from the outside port in conns ($(port_of "$UDP_LAN_SEEN"))" \
	cap_atleast "$f" 1 src host "$SNAT" and udp src port "$(port_of "$UDP_LAN_SEEN")"
check "lan saw the TCP SYN from the outside port in conns ($(port_of "$TCP_LAN_SEEN"))" \
	cap_atleast "$f" 1 src host "$SNAT" and tcp src port "$(port_of "$TCP_LAN_SEEN")" and \
	'tcp[tcpflags] & tcp-syn != 0'
check "lan's capture: no bad IP/TCP/UDP/ICMP checksums" cap_csums_ok "$f"
f=$CAP_VM1_FILE
check "vm1 sent from its own address 203.0.113.229" \
	cap_atleast "$f" $((2 * PINGS)) src host "$T1_VM1_ADDR"
check "vm1 got echo replies from lan and pub addressed to 203.0.113.229" \
	cap_atleast "$f" $((2 * PINGS)) dst host "$T1_VM1_ADDR" and 'icmp[icmptype] == icmp-echoreply'
check "vm1 got the UDP answer on its inside port 34001" \
	cap_atleast "$f" 2 dst host "$T1_VM1_ADDR" and udp dst port 34001
check "vm1 never saw $SNAT (the translation is invisible inside)" cap_none "$f" host "$SNAT"
check "vm1's capture: no bad checksums in translated replies" cap_csums_ok "$f"
f=$CAP_VM3_FILE
check "vm3 eth0 (kernel-sent frames only): no 203.0.113.229 source leaves" \
	cap_none "$f" src host "$T1_VM1_ADDR"

# ---------------------------------------------------------------- bulk

test_group "nat: tcp bulk"
FILE=$(make_random_file "$TCP_SIZE") || die "random file"
for dst in lan pub; do
	dst_ns=$(ns "$dst")
	addr=$T1_LAN_ADDR
	[ "$dst" = pub ] && addr=$T1_PUB_ADDR
	must "counters" counters_snap "$VM3" C0
	k0=$(kernel_fwd_count "$VM3")
	check "4 MiB vm1 -> $dst intact (sha256)" \
		tcp_transfer "$VM1" "$dst_ns" "$addr" 5301 "$FILE"
	check "4 MiB $dst -> vm1 intact (sha256, download)" \
		tcp_download "$VM1" "$dst_ns" "$addr" 5302 "$FILE"
	must "counters" counters_snap "$VM3" C1
	log_info "fwd_snat +$(cdelta C0 C1 fwd_snat) fwd_dnat +$(cdelta C0 C1 fwd_dnat)" \
		"fwd_snat_tc +$(cdelta C0 C1 fwd_snat_tc) fwd_dnat_tc +$(cdelta C0 C1 fwd_dnat_tc)"
	# Each direction carried the file in segments of at most 1448 bytes.
	# Bytes, not packets: on tc the endpoints' GSO skbs cross whole.
	check_cmp "$dst: fwd_snat carried >= $TCP_SIZE bytes (the upload)" \
		"$(cdelta C0 C1 fwd_snat.bytes)" -ge "$TCP_SIZE"
	check_cmp "$dst: fwd_dnat carried >= $TCP_SIZE bytes (the download)" \
		"$(cdelta C0 C1 fwd_dnat.bytes)" -ge "$TCP_SIZE"
	check "$dst: kernel ForwDatagrams moved by <= $KERNEL_SLACK" \
		kfwd_delta_le "$k0" "$KERNEL_SLACK"
done

test_group "nat: iperf3"
for dst in lan pub; do
	dst_ns=$(ns "$dst")
	addr=$T1_LAN_ADDR
	[ "$dst" = pub ] && addr=$T1_PUB_ADDR
	for streams in 1 4; do
		must "counters" counters_snap "$VM3" C0
		check "iperf3 vm1 -> $dst, $streams stream(s), ${IPERF_SECS}s" \
			iperf3_run "$VM1" "$dst_ns" "$addr" 5201 "$streams" "$IPERF_SECS"
		must "counters" counters_snap "$VM3" C1
		check_cmp "$dst, $streams stream(s): nat_new_flow moved by >= $((streams + 1))" \
			"$(cdelta C0 C1 nat_new_flow)" -ge $((streams + 1))
		check_cmp "$dst, $streams stream(s): fwd_snat moved by >= 1000" \
			"$(cdelta C0 C1 fwd_snat)" -ge 1000
	done
done

# ---------------------------------------------------------------- ICMP errors

# RFC 5508: errors about a translated datagram are translated back (outer
# destination and the quoted header), or the guest's traceroute, path MTU
# discovery and "connection refused" break.
test_group "nat: icmp errors"
must "counters" counters_snap "$VM3" C0
must "capture in vm1" cap_start CAP_VM1 "$VM1" eth0 icmp
check "traceroute vm1 -> pub: hops 203.0.113.2, 192.168.1.1, 198.51.100.53" \
	trace_udp "$VM1" "$T1_PUB_ADDR" 5
TRACE=$RUN_OUT
check_cmp "hop 1 is vm3 (203.0.113.2)" "$(awk '$1 == 1 {print $2}' "$TRACE")" = "$T1_VM3_IN_ADDR"
check_cmp "hop 2 is lan (192.168.1.1): its Time Exceeded came back through the NAT" \
	"$(awk '$1 == 2 {print $2}' "$TRACE")" = "$T1_LAN_ADDR"
check_cmp "hop 3 is pub: its Port Unreachable came back through the NAT" \
	"$(awk '$1 == 3 {print $2}' "$TRACE")" = "$T1_PUB_ADDR"
check "ping -t 2 vm1 -> pub: Time to live exceeded from 192.168.1.1" \
	eval "in_ns '$VM1' ping -c 1 -t 2 -W 2 '$T1_PUB_ADDR' | grep -q 'From $T1_LAN_ADDR.*Time to live exceeded'"
check "UDP to a closed port of pub: ECONNREFUSED reaches the guest's socket" \
	udp_refused "$VM1" "$T1_PUB_ADDR" 9
must "counters" counters_snap "$VM3" C1
cap_stop "CAP_VM1"
check_cmp "fwd_icmp_error moved by >= 3" "$(cdelta C0 C1 fwd_icmp_error)" -ge 3
f=$CAP_VM1_FILE
check "vm1 saw Time Exceeded from 192.168.1.1 addressed to itself" \
	cap_atleast "$f" 2 src host "$T1_LAN_ADDR" and dst host "$T1_VM1_ADDR" and \
	'icmp[icmptype] == icmp-timxceed'
# The quote inside each error must name the guest's own datagram again.
check "every ICMP error vm1 got is addressed to it and quotes its datagram" \
	icmp_quotes_inside "$f" 4
check "the translated ICMP errors carry correct checksums (outer and quoted)" \
	cap_csums_ok "$f"

# ---------------------------------------------------------------- inbound

test_group "nat: unsolicited"
must "TCP listener in vm1 on 8080" peer_server_tcp SRV_VM1 "$VM1" 8080
must "capture in vm1" cap_start CAP_VM1 "$VM1" eth0 ip and not arp
must "counters" counters_snap "$VM3" C0
# The SNAT address is vm3's own: a connection to it is vm3's (refused
# there), never forwarded to a guest that happens to listen on the port.
check_fail "lan -> $SNAT:8080 (no mapping) does not reach vm1's listener" \
	peer_ask_tcp "$LAN" "$SNAT" 8080
check_fail "pub -> $SNAT:8080 fails the same way" peer_ask_tcp "$PUB" "$SNAT" 8080
check "lan pings $SNAT: vm3 answers itself" ping_all "$LAN" "$SNAT" 3
must "counters" counters_snap "$VM3" C1
check_cmp "pass_no_mapping moved by >= 2 (the two SYNs)" "$(cdelta C0 C1 pass_no_mapping)" -ge 2
check_cmp "fwd_dnat did not move" "$(cdelta C0 C1 fwd_dnat)" -eq 0

# Routed inbound: the kernel path without rules forwards it untranslated
# (measured above); vnat's own NAT protects the guests as libvirt's FORWARD
# rules would (issue 10): dropped on the uplink, counted.
must "lan: route to 203.0.113.0/24 via vm3" \
	ip -n "$LAN" route add "$T1_IN_NET" via "$SNAT"
must "counters" counters_snap "$VM3" C0
VNAT_ROUTED_INBOUND=$(routed_inbound_ping)
must "counters" counters_snap "$VM3" C1
must "lan: remove that route" ip -n "$LAN" route del "$T1_IN_NET" via "$SNAT"
check_cmp "routed lan -> vm1 ping: dropped (kernel path without rules: $KERNEL_ROUTED_INBOUND)" \
	"$VNAT_ROUTED_INBOUND" = failed
check_cmp "drop_to_inside moved by >= 3 (the echo requests)" "$(cdelta C0 C1 drop_to_inside)" -ge 3
check_cmp "no flow was created for it (vnat translates only what vm1 starts)" \
	"$(cdelta C0 C1 nat_new_flow)" -eq 0
cap_stop "CAP_VM1"
f=$CAP_VM1_FILE
check "vm1 saw nothing for port 8080 (no SYN reached it)" cap_none "$f" tcp port 8080
check "vm1 saw no ping of $SNAT" cap_none "$f" icmp and dst host "$SNAT"
check "vm1 saw no routed echo request from lan" cap_none "$f" icmp and src host "$T1_LAN_ADDR"

# RFC 4787 REQ-8 address-and-port dependent filtering: vm1 opens a mapping
# toward lan:7002 only; the outside endpoint then admits lan:7002 and nobody
# else, not even lan from another port.
test_group "nat: filtering apdf"
must "counters" counters_snap "$VM3" C0
udp_listen_after_send LSN "$VM1" 34101 "$T1_LAN_ADDR" 7002 4
must "vm1 sent its datagram" slowwait 5 grep -q sent "$LSN_LOG"
must "the mapping exists" slowwait 5 conn_field "$VM3" udp "$T1_VM1_ADDR:34101" outside
OUT=$(conn_field "$VM3" udp "$T1_VM1_ADDR:34101" outside)
OUT_PORT=$(port_of "$OUT")
log_info "vm1:34101 is $OUT"
udp_send "$PUB" "$SNAT" "$OUT_PORT" 7002 from-pub
udp_send "$LAN" "$SNAT" "$OUT_PORT" 7003 from-lan-other-port
udp_send "$LAN" "$SNAT" "$OUT_PORT" 7002 from-lan-same-port
bg_wait_timeout 10 "$LSN"
must "counters" counters_snap "$VM3" C1
check "vm1 got lan:7002's answer" grep -q "^from $T1_LAN_ADDR:7002 $SNAT:$OUT_PORT" "$LSN_LOG"
check "vm1 got lan:7002's second datagram (same remote endpoint)" \
	grep -q "^from $T1_LAN_ADDR:7002 from-lan-same-port" "$LSN_LOG"
check_fail "vm1 did not get pub's datagram (another address)" grep -q from-pub "$LSN_LOG"
check_fail "vm1 did not get lan:7003's datagram (another port)" \
	grep -q from-lan-other-port "$LSN_LOG"
check_cmp "pass_filtered moved by >= 2" "$(cdelta C0 C1 pass_filtered)" -ge 2
[ "$V" = 1 ] && sed 's/^/# vm1: /' "$LSN_LOG"

# ---------------------------------------------------------------- port range

test_group "nat: --ports"
check_rc 0 "unload --all" vnat_in "$VM3" unload --all
check_rc 0 "load --iface eth1 --snat $SNAT --ports 40000-40010" \
	vnat_in "$VM3" load --iface eth1 --snat "$SNAT" --ports 40000-40010 ||
	die "vnat load --ports failed"
check "status shows the range" \
	json_eq "$(vnat_status_json "$VM3")" '[d["config"]["port_min"], d["config"]["port_max"]]' \
	'[40000, 40010]'
must "neighbours resolve" nat_t1_warmup
check "UDP vm1:34201 -> lan answered" \
	expect_peer "$SNAT" peer_ask_udp "$VM1" "$T1_LAN_ADDR" 7002 34201
seen=$(tail -1 "$RUN_OUT" | awk '{print $3}')
check "UDP: the outside port lan saw is in 40000-40010" in_range "$(port_of "$seen")" 40000 40010
check "UDP: conns shows that port" \
	conn_is "$VM3" udp "$T1_VM1_ADDR:34201" "$T1_LAN_ADDR:7002" "$seen"
check "TCP vm1:34202 -> pub answered" \
	expect_peer "$SNAT" peer_ask_tcp "$VM1" "$T1_PUB_ADDR" 7001 34202
seen=$(tail -1 "$RUN_OUT" | awk '{print $3}')
check "TCP: the outside port pub saw is in 40000-40010" in_range "$(port_of "$seen")" 40000 40010
check "ping vm1 -> pub answered" ping_all "$VM1" "$T1_PUB_ADDR" 3
check "ICMP: the echo identifier is in 40000-40010 too" \
	conn_is "$VM3" icmp "$T1_VM1_ADDR:[0-9]+" "$T1_PUB_ADDR:0" "$SNAT:400(0[0-9]|10)"
# 11 ports: 13 more UDP sources cannot all be mapped; the rest are refused.
must "counters" counters_snap "$VM3" C0
answered=0
for sp in $(seq 34210 34222); do
	if out=$(peer_ask_udp "$VM1" "$T1_LAN_ADDR" 7002 "$sp" 2>/dev/null); then
		answered=$((answered + 1))
		in_range "$(port_of "$out")" 40000 40010 >/dev/null ||
			log_fail "nat: --ports: source $sp got outside port $out"
	fi
done
must "counters" counters_snap "$VM3" C1
log_info "$answered of 13 sources answered"
check_cmp "at most 10 more UDP sources got a port (11 in the range, one taken)" \
	"$answered" -le 10
check_cmp "drop_no_port moved (the range is exhausted)" "$(cdelta C0 C1 drop_no_port)" -ge 1

# ---------------------------------------------------------------- unload

test_group "nat: unload"
check_rc 0 "unload --all" vnat_in "$VM3" unload --all
check "vm1 -> lan fails again (nothing translates)" ping_none "$VM1" "$T1_LAN_ADDR" 2
check "vm3's own traffic still works" ping_all "$VM3" "$T1_PUB_ADDR" 2

exit_summary
