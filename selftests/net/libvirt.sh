#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# libvirt.sh - T2, libvirt's default NAT network (seeds 001 and 004), first
# on the kernel path with libvirt's own iptables rules, then with
#
#     vnat load --iface virbr0 --snat 10.0.0.15 --admission vnat
#
# on top of the same rules, then unloaded again. --admission vnat: this
# script tests vnat's own NAT engine and its hand-over to the kernel; the
# default with such rules, kernel admission, is policy.sh's subject.
#
#   [g1] 192.168.122.10 --vnet0--+
#                                virbr0 192.168.122.1 [host] eth0 10.0.0.15 -- [up] 10.0.0.1
#   [g2] 192.168.122.11 --vnet1--+                                                198.51.100.53
#
# up has no route back to 192.168.122.0/24: only translated traffic works.
# Captures are taken at the receiving ends (in up and in the guests): frames
# vnat redirects in XDP never pass the host's own taps.
#
# Order: kernel path (baseline), load, translated traffic, bridged
# guest-to-guest traffic, exclusions, unsolicited inbound, ip_forward=0,
# unload (MASQUERADE takes over again), then load and unload under running
# TCP transfers, and the hand-over of UDP sessions and TCP connections whose
# ports vnat had to move.
#
# Usage: libvirt.sh        (V=1 for all command output; VNAT=path to override)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_nat.sh
source "$(dirname "$0")/lib_nat.sh"

PINGS=20
TCP_SIZE=$((4 * 1024 * 1024))
# The live transfers: 20 MiB at 4 MiB/s, so load and unload land mid-way.
LIVE_SIZE=$((20 * 1024 * 1024))
LIVE_RATE=$((4 * 1024 * 1024))
KERNEL_SLACK=3
SNAT=$T2_HOST_ADDR

require_root
require_cmd ip ethtool ping socat tcpdump iptables iptables-restore iptables-save conntrack \
	python3 timeout ss sha256sum cmp
require_vnat

# ---------------------------------------------------------------- helpers

kfwd_delta()
{
	local now

	now=$(kernel_fwd_count "$HOST") || return 1
	echo $((now - $1))
}

kfwd_delta_le()
{
	local d

	d=$(kfwd_delta "$1") || return 1
	echo "kernel ForwDatagrams +$d (want <= $2)"
	[ "$d" -le "$2" ]
}

kfwd_delta_ge()
{
	local d

	d=$(kfwd_delta "$1") || return 1
	echo "kernel ForwDatagrams +$d (want >= $2)"
	[ "$d" -ge "$2" ]
}

# Every rule line of seed 001 is in iptables-save's output, as written.
rules_verbatim()
{
	local save line missing=0

	save=$(in_ns "$HOST" iptables-save) || return 1
	while IFS= read -r line; do
		grep -qxF -- "$line" <<<"$save" || {
			echo "missing: $line"
			missing=1
		}
	done <<<"$LIBVIRT_FILTER_RULES
$LIBVIRT_NAT_RULES"
	return "$missing"
}

# conntrack_has REGEX: a kernel conntrack entry of the host matches REGEX.
conntrack_has()
{
	local l

	l=$(ct_list "$HOST")
	echo "$l" | grep -E -- "$1" || {
		echo "no conntrack entry matches '$1'; the table:"
		echo "$l"
		return 1
	}
}

warmup()
{
	local g

	for g in "$G1" "$G2"; do
		in_ns "$g" ping -q -c 2 -i 0.2 -W 2 "$T2_PUB_ADDR" >/dev/null 2>&1
	done
	in_ns "$G1" ping -q -c 1 -W 2 "$T2_G2_ADDR" >/dev/null 2>&1
	slowwait 5 neigh_valid "$HOST" eth0 "$T2_UP_ADDR" &&
		slowwait 5 neigh_valid "$HOST" virbr0 "$T2_G1_ADDR" &&
		slowwait 5 neigh_valid "$HOST" virbr0 "$T2_G2_ADDR"
}

vnat_load()
{
	vnat_in "$HOST" load --iface virbr0 --snat "$SNAT" --admission vnat
}

# An outside port for unsolicited tries at g1 (unsolicited_blocked).
UNSOL_PORT=8080

# After the unload, the host's conntrack holds the live flow masqueraded to
# the very port vnat used (which was the guest's own).
kernel_took_back()
{
	local p=$LIVE_GUEST_PORT

	echo "guest port $p; conntrack after unload:"
	echo "$LIVE_CT_AFTER"
	[ -n "$p" ] && grep -q "src=$T2_G1_ADDR dst=$T2_PUB_ADDR sport=$p dport=$LIVE_PORT src=$T2_PUB_ADDR dst=$SNAT sport=$LIVE_PORT dport=$p " <<<"$LIVE_CT_AFTER"
}

# The guest's port of the live connection (g1 is the client in every mode).
live_guest_port()
{
	in_ns "$G1" ss -Htn state established dst "$T2_PUB_ADDR:$LIVE_PORT" |
		awk '{ n = split($3, a, ":"); print a[n]; exit }' | grep .
}

# live_transfer MODE: a LIVE_SIZE transfer at LIVE_RATE between g1 and pub,
# with vnat loaded and/or unloaded while it runs:
#   kernel    started on the kernel path; load at 1/4, unload at 1/2
#   upload    started with vnat loaded (g1 sends); unload at 1/3
#   download  started with vnat loaded (pub sends); unload at 1/3
# Sets LIVE_* (see below); succeeds if the data arrived intact. Prints what
# a failure needs: progress, vnat counters and conns, the host's conntrack
# table before and after, and the RSTs a capture in up saw.
live_transfer()
{
	local mode=$1 out snd rcv snd_LOG rcv_LOG rc=0 t

	LIB_RUN_SEQ=$((LIB_RUN_SEQ + 1))
	out=$LIB_TMPDIR/live.$LIB_RUN_SEQ
	LIVE_LOADED_OK=0 LIVE_UNLOADED_OK=0 LIVE_AT_LOAD=0 LIVE_AT_UNLOAD=0
	LIVE_GREW_LOADED=0 LIVE_CONNS='' LIVE_UNTRACKED=0 LIVE_CT_AFTER='' LIVE_RSTS=0
	LIVE_ICMPS=0 LIVE_UNTRANSLATED=0
	LIVE_GUEST_PORT=''
	# A port of its own per mode: earlier runs' TIME_WAIT entries differ.
	case $mode in
	kernel) LIVE_PORT=6001 ;;
	upload) LIVE_PORT=6002 ;;
	*) LIVE_PORT=6003 ;;
	esac

	cap_start LCAP "$UP" eth0 tcp port "$LIVE_PORT" or icmp || return 1
	if [ "$mode" != kernel ]; then
		vnat_load >/dev/null || return 1
		LIVE_LOADED_OK=1
	fi
	[ "$mode" = kernel ] || counters_snap "$HOST" LC0
	if [ "$mode" = download ]; then
		slow_sender snd "$UP" listen 0.0.0.0 "$LIVE_PORT" "$LIVE_FILE" "$LIVE_RATE"
		slowwait 5 tcp_listening "$UP" "$LIVE_PORT" || return 1
		bg_in_ns rcv "$G1" socat -u "TCP4:$T2_PUB_ADDR:$LIVE_PORT,connect-timeout=5" "CREATE:$out"
	else
		bg_in_ns rcv "$UP" socat -u "TCP4-LISTEN:$LIVE_PORT,reuseaddr" "CREATE:$out"
		slowwait 5 tcp_listening "$UP" "$LIVE_PORT" || return 1
		slow_sender snd "$G1" connect "$T2_PUB_ADDR" "$LIVE_PORT" "$LIVE_FILE" "$LIVE_RATE"
	fi

	slowwait 5 live_guest_port >/dev/null
	LIVE_GUEST_PORT=$(live_guest_port)
	echo "g1's end of the connection: port $LIVE_GUEST_PORT"
	if [ "$mode" = kernel ]; then
		slowwait 15 grown_to "$out" $((LIVE_SIZE / 4))
		LIVE_AT_LOAD=$(file_size "$out")
		echo "at load: $LIVE_AT_LOAD bytes received"
		vnat_load >/dev/null && LIVE_LOADED_OK=1
		counters_snap "$HOST" LC0
		t=$(file_size "$out")
		slowwait 15 grown_to "$out" $((LIVE_SIZE / 2))
		LIVE_GREW_LOADED=$(($(file_size "$out") - t))
	else
		t=$(file_size "$out")
		slowwait 15 grown_to "$out" $((LIVE_SIZE / 3))
		LIVE_GREW_LOADED=$(($(file_size "$out") - t))
	fi
	echo "received while vnat was loaded: $LIVE_GREW_LOADED bytes"
	counters_snap "$HOST" LC1
	LIVE_UNTRACKED=$(cdelta LC0 LC1 pass_nat_untracked)
	LIVE_CONNS=$(conns_json "$HOST")
	echo "vnat counters while loaded: fwd_snat +$(cdelta LC0 LC1 fwd_snat)" \
		"fwd_dnat +$(cdelta LC0 LC1 fwd_dnat) pass_nat_untracked +$LIVE_UNTRACKED" \
		"pass_no_mapping +$(cdelta LC0 LC1 pass_no_mapping) tx_skb +$(cdelta LC0 LC1 tx_skb)"
	echo "vnat conns: $LIVE_CONNS"
	echo "conntrack before unload:"
	ct_list "$HOST" | grep -w "dport=$LIVE_PORT" | sed 's/^/  /'
	LIVE_AT_UNLOAD=$(file_size "$out")
	echo "at unload: $LIVE_AT_UNLOAD bytes received"
	vnat_in "$HOST" unload --all >/dev/null && LIVE_UNLOADED_OK=1

	bg_wait_timeout 20 "$snd" || rc=1
	bg_wait_timeout 5 "$rcv" || rc=1
	slowwait 2 grep -q . "$snd_LOG"
	LIVE_CT_AFTER=$(ct_list "$HOST" | grep -w "dport=$LIVE_PORT")
	echo "conntrack after unload:"
	echo "${LIVE_CT_AFTER//$'\n'/$'\n'  }" | sed '1s/^/  /'
	cap_stop LCAP
	LIVE_RSTS=$(cap_count "$LCAP_FILE" 'tcp[tcpflags] & tcp-rst != 0')
	echo "RSTs seen in up: $LIVE_RSTS"
	tcpdump -nn -r "$LCAP_FILE" 'tcp[tcpflags] & tcp-rst != 0' 2>/dev/null | head -3 | sed 's/^/  /'
	LIVE_ICMPS=$(cap_count "$LCAP_FILE" icmp)
	echo "ICMP errors seen in up: $LIVE_ICMPS"
	tcpdump -nn -r "$LCAP_FILE" icmp 2>/dev/null | head -3 | sed 's/^/  /'
	LIVE_UNTRANSLATED=$(cap_count "$LCAP_FILE" net "$T2_NET")
	echo "untranslated (192.168.122.0/24) in up: $LIVE_UNTRANSLATED"
	echo "sender: $(tr '\n' ' ' <"$snd_LOG")"
	echo "receiver: $(tr '\n' ' ' <"$rcv_LOG")"
	echo "received $(file_size "$out") of $LIVE_SIZE bytes"
	cmp -s "$LIVE_FILE" "$out" || rc=1
	rm -f -- "$out"
	return "$rc"
}

# ---------------------------------------------------------------- topology

nat_t2_create
HOST=$(ns host) UP=$(ns up) G1=$(ns g1) G2=$(ns g2)
defer vnat_in "$HOST" unload --all
must "seed 001's iptables rules" libvirt_rules_load "$HOST"
must "UDP server in up" peer_server_udp SRV_UU "$UP" 7002 "$T2_PUB_ADDR"
must "TCP server in up" peer_server_tcp SRV_UT "$UP" 7001
must "TCP server in the host" peer_server_tcp SRV_HT "$HOST" 7001
must "TCP server in g2" peer_server_tcp SRV_G2 "$G2" 7001
must "TCP listener in g1 (for unsolicited tries)" peer_server_tcp SRV_G1 "$G1" "$UNSOL_PORT"

# ---------------------------------------------------------------- kernel path

test_group "libvirt: kernel path"
check "iptables-save shows seed 001's rules verbatim" rules_verbatim
must "neighbours resolve" warmup
k0=$(kernel_fwd_count "$HOST")
check "$PINGS pings g1 -> pub" ping_all "$G1" "$T2_PUB_ADDR" "$PINGS"
check "$PINGS pings g2 -> pub" ping_all "$G2" "$T2_PUB_ADDR" "$PINGS"
check "kernel ForwDatagrams moved by >= $((4 * PINGS))" kfwd_delta_ge "$k0" $((4 * PINGS))
check "TCP g1:34001 -> pub: MASQUERADE shows $SNAT" \
	expect_peer "$SNAT" peer_ask_tcp "$G1" "$T2_PUB_ADDR" 7001 34001
check "UDP g1:34002 -> pub: MASQUERADE shows $SNAT" \
	expect_peer "$SNAT" peer_ask_udp "$G1" "$T2_PUB_ADDR" 7002 34002
check "conntrack: the TCP flow was masqueraded to $SNAT" \
	conntrack_has "src=$T2_G1_ADDR dst=$T2_PUB_ADDR sport=34001 dport=7001 src=$T2_PUB_ADDR dst=$SNAT"
check "g1 -> g2 ping (bridged by the kernel)" ping_all "$G1" "$T2_G2_ADDR" 5
check "g1 -> g2 TCP: g2 sees 192.168.122.10" \
	expect_peer "$T2_G1_ADDR" peer_ask_tcp "$G1" "$T2_G2_ADDR" 7001
check "unsolicited up -> g1 (ping, TCP) is rejected by FORWARD" unsolicited_blocked "$UP" "$SNAT" "$UNSOL_PORT"

# ---------------------------------------------------------------- load

test_group "libvirt: load"
check_rc 0 "vnat load --iface virbr0 --snat $SNAT" vnat_load ||
	die "vnat load failed: nothing else can be tested"
must "status -j" vnat_status_json "$HOST"
ST=$(cat "$RUN_OUT")
role="lambda n: next(i['role'] for i in d['interfaces'] if i['name'] == n)"
check "virbr0 is the inside, eth0 the uplink" \
	json_eq "$ST" "[($role)('virbr0'), ($role)('eth0')]" '["inside", "uplink"]'
check "vnet0 and vnet1 are managed as its ports" \
	json_eq "$ST" "[($role)('vnet0'), ($role)('vnet1')]" '["port", "port"]'
check "config.snat is $SNAT, ports 1024-65535" \
	json_eq "$ST" '[d["config"]["snat"], d["config"]["port_min"], d["config"]["port_max"]]' \
	"[\"$SNAT\", 1024, 65535]"
check "iptables rules are untouched by the load" rules_verbatim

# ---------------------------------------------------------------- translated

test_group "libvirt: translate"
must "neighbours resolve" warmup
must "capture in up" cap_start CAP_UP "$UP" eth0 ip
must "capture in g1" cap_start CAP_G1 "$G1" eth0 ip
must "counters" counters_snap "$HOST" C0
k0=$(kernel_fwd_count "$HOST")
check "$PINGS pings g1 -> pub" ping_all "$G1" "$T2_PUB_ADDR" "$PINGS"
check "$PINGS pings g2 -> pub" ping_all "$G2" "$T2_PUB_ADDR" "$PINGS"
check "UDP g1:34011 -> pub: pub sees $SNAT" \
	expect_peer "$SNAT" peer_ask_udp "$G1" "$T2_PUB_ADDR" 7002 34011
UDP_SEEN=$(tail -1 "$RUN_OUT" | awk '{print $3}')
check "TCP g1:34012 -> pub: pub sees $SNAT" \
	expect_peer "$SNAT" peer_ask_tcp "$G1" "$T2_PUB_ADDR" 7001 34012
TCP_SEEN=$(tail -1 "$RUN_OUT" | awk '{print $3}')
must "counters" counters_snap "$HOST" C1
cap_stop CAP_UP
cap_stop CAP_G1
log_info "fwd_snat +$(cdelta C0 C1 fwd_snat) fwd_dnat +$(cdelta C0 C1 fwd_dnat)" \
	"fwd_snat_tc +$(cdelta C0 C1 fwd_snat_tc) fwd_dnat_tc +$(cdelta C0 C1 fwd_dnat_tc)"
check_cmp "fwd_snat moved by >= $((2 * PINGS + 1 + 3 - KERNEL_SLACK)) (vnat translated, not iptables)" \
	"$(cdelta C0 C1 fwd_snat)" -ge $((2 * PINGS + 1 + 3 - KERNEL_SLACK))
check_cmp "fwd_dnat moved by >= $((2 * PINGS + 1 + 3 - KERNEL_SLACK))" \
	"$(cdelta C0 C1 fwd_dnat)" -ge $((2 * PINGS + 1 + 3 - KERNEL_SLACK))
check "kernel ForwDatagrams moved by <= $KERNEL_SLACK" kfwd_delta_le "$k0" "$KERNEL_SLACK"
check_fail "conntrack has no entry for the new UDP flow (the kernel never saw it)" \
	conntrack_has "sport=34011 dport=7002"
check "conns: UDP g1:34011 -> pub:7002, outside = what pub saw ($UDP_SEEN)" \
	conn_is "$HOST" udp "$T2_G1_ADDR:34011" "$T2_PUB_ADDR:7002" "$UDP_SEEN"
check "conns: TCP g1:34012 -> pub:7001, outside = what pub saw ($TCP_SEEN)" \
	conn_is "$HOST" tcp "$T2_G1_ADDR:34012" "$T2_PUB_ADDR:7001" "$TCP_SEEN"
check "conns: ICMP of g2 -> pub, outside $SNAT" \
	conn_is "$HOST" icmp "$T2_G2_ADDR:[0-9]+" "$T2_PUB_ADDR:0" "$SNAT:[0-9]+"
f=$CAP_UP_FILE
check "up saw the guests' traffic from $SNAT" cap_atleast "$f" $((2 * PINGS)) src host "$SNAT"
check "up never saw a 192.168.122.0/24 address" cap_none "$f" net "$T2_NET"
check "up saw the UDP query from port $(port_of "$UDP_SEEN")" \
	cap_atleast "$f" 1 src host "$SNAT" and udp src port "$(port_of "$UDP_SEEN")"
check "up's capture: checksums right" cap_csums_ok "$f"
f=$CAP_G1_FILE
check "g1 got pub's replies addressed to 192.168.122.10" \
	cap_atleast "$f" "$PINGS" dst host "$T2_G1_ADDR" and src host "$T2_PUB_ADDR"
check "g1 never saw $SNAT" cap_none "$f" host "$SNAT"
check "g1's capture: checksums right" cap_csums_ok "$f"

FILE=$(make_random_file "$TCP_SIZE") || die "random file"
must "counters" counters_snap "$HOST" C0
k0=$(kernel_fwd_count "$HOST")
check "4 MiB g1 -> pub intact (sha256)" tcp_transfer "$G1" "$UP" "$T2_PUB_ADDR" 5301 "$FILE"
check "4 MiB pub -> g2 intact (sha256, download)" \
	tcp_download "$G2" "$UP" "$T2_PUB_ADDR" 5302 "$FILE"
must "counters" counters_snap "$HOST" C1
# Bytes, not packets: on tc the guests' GSO skbs cross whole.
check_cmp "fwd_snat carried >= $TCP_SIZE bytes (the upload)" \
	"$(cdelta C0 C1 fwd_snat.bytes)" -ge "$TCP_SIZE"
check_cmp "fwd_dnat carried >= $TCP_SIZE bytes (the download)" \
	"$(cdelta C0 C1 fwd_dnat.bytes)" -ge "$TCP_SIZE"
check "kernel ForwDatagrams moved by <= $KERNEL_SLACK" kfwd_delta_le "$k0" "$KERNEL_SLACK"

# A reply for a guest whose neighbour entry the host lost (expired while
# the guest only sent): XDP cannot resolve it, and the kernel must not get
# it translated (libvirt's FORWARD admits only flows its conntrack knows,
# so it would reject it). The tc path translates it and hands it to the
# neighbour subsystem (bpf_redirect_neigh), which resolves the guest.
# An ARP request from g1 (for its gateway) would give the host g1's entry
# back before the reply came: g1's entry for the gateway is pinned
# meanwhile, so only the host's own resolution can bring g1's back.
no_neigh()
{
	! ip -n "$1" neigh show dev "$2" to "$3" | grep -q .
}

test_group "libvirt: reply to a guest the host has no neighbour for"
BR_MAC=$(ip -n "$HOST" -br link show dev virbr0 | awk '{ print $3 }')
must "g1's gateway entry pinned (g1 sends no ARP)" \
	ip -n "$G1" neigh replace "$T2_BR_ADDR" lladdr "$BR_MAC" dev eth0 nud permanent
must "counters" counters_snap "$HOST" C0
must "g1's neighbour entry removed" ip -n "$HOST" neigh del "$T2_G1_ADDR" dev virbr0
must "the host has no entry for g1 right before the query" no_neigh "$HOST" virbr0 "$T2_G1_ADDR"
check "UDP g1:34012 -> pub answered (pub sees $SNAT:34012)" \
	expect_peer "$SNAT:34012" peer_ask_udp "$G1" "$T2_PUB_ADDR" 7002 34012
must "counters" counters_snap "$HOST" C1
check_cmp "fwd_dnat_neigh moved (resolved by the neighbour subsystem)" \
	"$(cdelta C0 C1 fwd_dnat_neigh)" -ge 1
check "the host resolved g1 again" slowwait 5 neigh_valid "$HOST" virbr0 "$T2_G1_ADDR"
must "g1's gateway entry unpinned" ip -n "$G1" neigh del "$T2_BR_ADDR" dev eth0

# ---------------------------------------------------------------- bridged

test_group "libvirt: guest to guest"
must "capture in g2" cap_start CAP_G2 "$G2" eth0 ip
must "counters" counters_snap "$HOST" C0
k0=$(kernel_fwd_count "$HOST")
check "$PINGS pings g1 -> g2" ping_all "$G1" "$T2_G2_ADDR" "$PINGS"
check "TCP g1 -> g2: g2 sees 192.168.122.10 (never translated)" \
	expect_peer "$T2_G1_ADDR" peer_ask_tcp "$G1" "$T2_G2_ADDR" 7001
must "counters" counters_snap "$HOST" C1
cap_stop CAP_G2
check_cmp "fwd_bridged moved by >= $((2 * PINGS - KERNEL_SLACK))" \
	"$(cdelta C0 C1 fwd_bridged)" -ge $((2 * PINGS - KERNEL_SLACK))
check_cmp "fwd_snat did not move" "$(cdelta C0 C1 fwd_snat)" -eq 0
check_cmp "nat_new_flow did not move" "$(cdelta C0 C1 nat_new_flow)" -eq 0
check "kernel ForwDatagrams did not move (bridged, not routed)" kfwd_delta_le "$k0" 0
f=$CAP_G2_FILE
check "g2 saw the echo requests from 192.168.122.10" \
	cap_atleast "$f" "$PINGS" src host "$T2_G1_ADDR" and 'icmp[icmptype] == icmp-echo'
check "g2 never saw $SNAT" cap_none "$f" host "$SNAT"

# ---------------------------------------------------------------- exclusions

test_group "libvirt: exclusions"
must "counters" counters_snap "$HOST" C0
# Not forwarded, so POSTROUTING never masquerades it: the host sees the guest.
check "TCP g1 -> 192.168.122.1 (the host): host sees 192.168.122.10" \
	expect_peer "$T2_G1_ADDR" peer_ask_tcp "$G1" "$T2_BR_ADDR" 7001
check "TCP g1 -> 10.0.0.15 (the host's uplink address): host sees 192.168.122.10" \
	expect_peer "$T2_G1_ADDR" peer_ask_tcp "$G1" "$SNAT" 7001
check "g1 pings 192.168.122.1" ping_all "$G1" "$T2_BR_ADDR" 3
check "the host's own TCP to pub keeps its address" \
	expect_peer "$SNAT" peer_ask_tcp "$HOST" "$T2_PUB_ADDR" 7001
must "counters" counters_snap "$HOST" C1
check_cmp "no vnat flow for any of them" "$(cdelta C0 C1 nat_new_flow)" -eq 0
check "conns lists no flow toward the host" \
	json_eq "$(conns_json "$HOST")" \
	"[c for c in d if c['remote'].split(':')[0] in ('$T2_BR_ADDR', '$SNAT')]" '[]'

# ---------------------------------------------------------------- inbound

test_group "libvirt: unsolicited"
must "counters" counters_snap "$HOST" C0
must "capture in g1" cap_start CAP_G1 "$G1" eth0 ip and not arp
# libvirt's FORWARD chain rejects new connections toward virbr0: the fast
# path must not route around it.
check "unsolicited up -> g1 (ping, TCP) still fails with vnat loaded" unsolicited_blocked "$UP" "$SNAT" "$UNSOL_PORT"
check_fail "up -> $SNAT:$UNSOL_PORT (no mapping) does not reach g1's listener" \
	peer_ask_tcp "$UP" "$SNAT" "$UNSOL_PORT"
must "counters" counters_snap "$HOST" C1
cap_stop CAP_G1
log_info "fwd_routed +$(cdelta C0 C1 fwd_routed) pass_no_mapping +$(cdelta C0 C1 pass_no_mapping)"
check_cmp "fwd_routed did not move (nothing routed toward the guests)" \
	"$(cdelta C0 C1 fwd_routed)" -eq 0
check "g1 saw no packet from up" cap_none "$CAP_G1_FILE" src host "$T2_UP_ADDR"

# ---------------------------------------------------------------- seed fault

# Seed 001's fault, ip_forward=0: the host does not forward, and neither may
# vnat (the FIB says forwarding is disabled).
test_group "libvirt: ip_forward=0"
must "host ip_forward=0" in_ns "$HOST" sysctl -qw net.ipv4.ip_forward=0
must "counters" counters_snap "$HOST" C0
check "g1 -> pub fails with ip_forward=0" ping_none "$G1" "$T2_PUB_ADDR" 2
must "counters" counters_snap "$HOST" C1
must "host ip_forward=1" in_ns "$HOST" sysctl -qw net.ipv4.ip_forward=1
check_cmp "fwd_snat did not move" "$(cdelta C0 C1 fwd_snat)" -eq 0
check "g1 -> pub works again with ip_forward=1" ping_all "$G1" "$T2_PUB_ADDR" 3

# ---------------------------------------------------------------- unload

test_group "libvirt: unload"
check_rc 0 "unload --all" vnat_in "$HOST" unload --all
check "iptables rules are untouched by the unload" rules_verbatim
k0=$(kernel_fwd_count "$HOST")
check "$PINGS pings g1 -> pub (kernel path again)" ping_all "$G1" "$T2_PUB_ADDR" "$PINGS"
check "kernel ForwDatagrams moved by >= $((2 * PINGS))" kfwd_delta_ge "$k0" $((2 * PINGS))
check "TCP g1:34021 -> pub: MASQUERADE shows $SNAT again" \
	expect_peer "$SNAT" peer_ask_tcp "$G1" "$T2_PUB_ADDR" 7001 34021
check "conntrack: MASQUERADE translated it" \
	conntrack_has "src=$T2_G1_ADDR dst=$T2_PUB_ADDR sport=34021 dport=7001 src=$T2_PUB_ADDR dst=$SNAT"
check "4 MiB g1 -> pub intact on the kernel path" \
	tcp_transfer "$G1" "$UP" "$T2_PUB_ADDR" 5301 "$FILE"
check "unsolicited up -> g1 is rejected again" unsolicited_blocked "$UP" "$SNAT" "$UNSOL_PORT"

# ---------------------------------------------------------------- live

# The issue: "flows the kernel already tracks stay on the kernel path until
# they end, and vnat keeps source ports so the kernel can take flows back".
LIVE_FILE=$(make_random_file "$LIVE_SIZE") || die "random file"
must "neighbours resolve" warmup

test_group "libvirt: live, kernel flow"
check "20 MiB g1 -> pub started on the kernel path, load and unload meanwhile: intact" \
	live_transfer kernel
check_cmp "vnat load succeeded mid-transfer (at $LIVE_AT_LOAD bytes)" "$LIVE_LOADED_OK" -eq 1
check_cmp "vnat unload succeeded mid-transfer (at $LIVE_AT_UNLOAD bytes)" \
	"$LIVE_UNLOADED_OK" -eq 1
check_cmp "both happened before the end" "$LIVE_AT_UNLOAD" -lt "$LIVE_SIZE"
check_cmp "data kept flowing while vnat was loaded" "$LIVE_GREW_LOADED" -gt 0
check_cmp "vnat left the flow to the kernel (pass_nat_untracked moved)" "$LIVE_UNTRACKED" -gt 0
check "vnat never took the flow over (no flow to pub:$LIVE_PORT in conns)" \
	json_eq "$LIVE_CONNS" "[c for c in d if c['remote'] == '$T2_PUB_ADDR:$LIVE_PORT']" '[]'
check "the kernel still tracks it, masqueraded to the guest's own port" kernel_took_back
check_cmp "no RST in up" "$LIVE_RSTS" -eq 0

# Unloading under a connection vnat itself translated: vnat hands the flow
# to the kernel's conntrack (ctnetlink) with its source-NAT binding, and the
# kernel carries it on. Until the reply tuple was given untranslated, the
# kernel set no NAT on the entry: the guest's segments left untranslated
# and the replies went to the host's stack (RST). Until the uplink's hooks
# came off before the transmit ports, a reply translated in XDP went to the
# kernel, which rejected it with an ICMP error.
live_unload_checks()
{
	check_cmp "vnat unload succeeded mid-transfer (at $LIVE_AT_UNLOAD bytes)" \
		"$LIVE_UNLOADED_OK" -eq 1
	check_cmp "it happened before the end" "$LIVE_AT_UNLOAD" -lt "$LIVE_SIZE"
	check "the kernel took it back with the same port" kernel_took_back
	check_cmp "no RST in up" "$LIVE_RSTS" -eq 0
	check_cmp "no ICMP error in up" "$LIVE_ICMPS" -eq 0
	check_cmp "nothing left the host untranslated" "$LIVE_UNTRANSLATED" -eq 0
}

test_group "libvirt: live, vnat flow upload"
check "20 MiB g1 -> pub started under vnat, unload meanwhile: intact" live_transfer upload
check "vnat translated it, keeping the source port" \
	json_eq "$LIVE_CONNS" \
	"all(c['outside'].split(':')[1] == c['inside'].split(':')[1] for c in d if c['remote'] == '$T2_PUB_ADDR:$LIVE_PORT') and any(c['remote'] == '$T2_PUB_ADDR:$LIVE_PORT' for c in d)" true
live_unload_checks

test_group "libvirt: live, vnat flow download"
check "20 MiB pub -> g1 started under vnat, unload meanwhile: intact" live_transfer download
live_unload_checks

# UDP sessions are handed over too, with the port vnat chose: g2's mapping
# had to move off its port (g1 holds it), and after unload the kernel must
# keep it rather than masquerade g2 afresh to the port it would pick.
UDP_HANDOFF_PORT=41000
udp_seen_port() # NS: the outside port the UDP server in up saw from NS
{
	local got

	got=$(peer_ask_udp "$1" "$T2_PUB_ADDR" 7002 "$UDP_HANDOFF_PORT") || return 1
	[ "${got%:*}" = "$SNAT" ] || return 1
	echo "${got##*:}"
}

test_group "libvirt: UDP sessions handed to the kernel"
UH_G1='' UH_G2='' UH_G1_AFTER='' UH_G2_AFTER=''
if check_rc 0 "vnat load again" vnat_load; then
	UH_G1=$(udp_seen_port "$G1")
	UH_G2=$(udp_seen_port "$G2")
	echo "outside ports under vnat: g1 $UH_G1, g2 $UH_G2"
	check_cmp "g1 keeps its port under vnat" "${UH_G1:-0}" -eq "$UDP_HANDOFF_PORT"
	check_cmp "g2 gets another port of the same parity" \
		"$(((${UH_G2:-0} - UDP_HANDOFF_PORT) % 2 == 0 && ${UH_G2:-0} != UDP_HANDOFF_PORT))" -eq 1
	check_rc 0 "vnat unload --all" vnat_in "$HOST" unload --all
	UH_G1_AFTER=$(udp_seen_port "$G1")
	UH_G2_AFTER=$(udp_seen_port "$G2")
	echo "outside ports after unload: g1 $UH_G1_AFTER, g2 $UH_G2_AFTER"
	check_cmp "g1's session continues on the kernel path with port $UDP_HANDOFF_PORT" \
		"${UH_G1_AFTER:-0}" -eq "$UDP_HANDOFF_PORT"
	check_cmp "g2's session continues with vnat's port ${UH_G2:-?}" \
		"${UH_G2_AFTER:-0}" -eq "${UH_G2:-1}"
	check "conntrack holds g2's session with that port" \
		conntrack_has "src=$T2_G2_ADDR dst=$T2_PUB_ADDR sport=$UDP_HANDOFF_PORT dport=7002 src=$T2_PUB_ADDR dst=$SNAT sport=7002 dport=${UH_G2:-1}"
fi

# TCP connections are handed over with their port too. g1 and g2 hold a
# connection each from the same source port, so g2's was mapped to another
# port; across the unload both keep talking, and the server keeps seeing
# g2 from vnat's port. Without the handoff the kernel would pick g2's next
# segment up as a new flow and masquerade it to a port of its own (the
# server's socket would not know it).
TCP_ECHO_PY='
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(8)
def serve(c, peer):
    f = c.makefile("rwb", buffering=0)
    for line in f:
        f.write(("%s:%d\n" % peer).encode())
while True:
    c, peer = s.accept()
    threading.Thread(target=serve, args=(c, peer), daemon=True).start()
'
# The client: one connection from PORT, a line every 50 ms until the file
# STOP exists (30 s at most), the count of answers kept in the file COUNT;
# prints each outside endpoint the server reported, fails on any error.
TCP_TALKER_PY='
import os, socket, sys, time
addr, port, sport, stop, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
c = socket.socket()
c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
c.bind(("0.0.0.0", sport))
c.settimeout(5)
c.connect((addr, port))
f = c.makefile("rwb", buffering=0)
seen, n, end = [], 0, time.time() + 30
while not os.path.exists(stop) and time.time() < end:
    f.write(b"x\n")
    got = f.readline().decode().strip()
    if not got:
        sys.exit("connection closed after %d answers" % n)
    if got not in seen:
        seen.append(got)
    n += 1
    with open(count + ".tmp", "w") as o:
        o.write("%d\n" % n)
    os.replace(count + ".tmp", count)
    time.sleep(0.05)
print(n, " ".join(seen))
'
TCP_HANDOFF_SPORT=42000

# talker_answers FILE: the answers a talker has had so far (0 before any).
talker_answers()
{
	local n

	n=$(cat "$1" 2>/dev/null)
	echo "${n:-0}"
}

# talker_at_least PID FILE N: the talker has had N answers, or has ended
# (it failed: no point waiting longer).
talker_at_least()
{
	[ "$(talker_answers "$2")" -ge "$3" ] || lib_pid_gone "$1"
}

# talker_established GUEST_ADDR: vnat tracks that guest's talker connection
# as ESTABLISHED (vnat hands only established TCP connections to the kernel).
talker_established()
{
	local st

	st=$(conn_field "$HOST" tcp "$1:$TCP_HANDOFF_SPORT" state "$T2_PUB_ADDR:7003") || return 1
	echo "$1:$TCP_HANDOFF_SPORT -> $T2_PUB_ADDR:7003: $st"
	[ "$st" = ESTABLISHED ]
}

talkers_through_unload()
{
	local a b rc=0 stop=$LIB_TMPDIR/talk.stop ca=$LIB_TMPDIR/talk.g1 cb=$LIB_TMPDIR/talk.g2 na nb

	rm -f -- "$stop" "$ca" "$cb"
	bg_in_ns a "$G1" python3 -c "$TCP_TALKER_PY" "$T2_PUB_ADDR" 7003 "$TCP_HANDOFF_SPORT" \
		"$stop" "$ca"
	# g1 holds the port before g2 asks for it.
	slowwait 10 talker_established "$T2_G1_ADDR" || {
		echo "g1's connection never showed as ESTABLISHED in vnat conns"
		rc=1
	}
	bg_in_ns b "$G2" python3 -c "$TCP_TALKER_PY" "$T2_PUB_ADDR" 7003 "$TCP_HANDOFF_SPORT" \
		"$stop" "$cb"
	# Both connections established in vnat, and talking, before the unload.
	if ! slowwait 10 talker_established "$T2_G2_ADDR" ||
		! talker_established "$T2_G1_ADDR" ||
		! slowwait 10 talker_at_least "$a" "$ca" 5 ||
		! slowwait 10 talker_at_least "$b" "$cb" 5; then
		echo "before unload: not both established and talking; conns:"
		conns_json "$HOST"
		rc=1
	fi
	na=$(talker_answers "$ca") nb=$(talker_answers "$cb")
	echo "answers before unload: g1 $na, g2 $nb"
	vnat_in "$HOST" unload --all || rc=1
	# Both go on talking on the kernel path (a failed talker ends early).
	slowwait 10 talker_at_least "$a" "$ca" $((na + 20))
	slowwait 10 talker_at_least "$b" "$cb" $((nb + 20))
	echo "answers after unload: g1 $(talker_answers "$ca"), g2 $(talker_answers "$cb")"
	touch "$stop"
	bg_wait_timeout 15 "$a" || rc=1
	bg_wait_timeout 15 "$b" || rc=1
	TH_G1=$(cat "$a_LOG") TH_G2=$(cat "$b_LOG")
	echo "g1: $TH_G1"
	echo "g2: $TH_G2"
	[ "$(talker_answers "$ca")" -ge $((na + 20)) ] || rc=1
	[ "$(talker_answers "$cb")" -ge $((nb + 20)) ] || rc=1
	return "$rc"
}

test_group "libvirt: TCP connections handed to the kernel"
TH_G1='' TH_G2=''
must "TCP echo server in up" bg_in_ns SRV_TE "$UP" python3 -c "$TCP_ECHO_PY" 7003
slowwait 5 tcp_listening "$UP" 7003
if check_rc 0 "vnat load again" vnat_load; then
	check "g1 and g2 talk from port $TCP_HANDOFF_SPORT across vnat unload, no error" \
		talkers_through_unload
	check "g1 was seen from one endpoint only, its own port" \
		test "${TH_G1#* }" = "$SNAT:$TCP_HANDOFF_SPORT"
	check "g2 was seen from one endpoint only, another port (vnat's)" \
		eval '[[ "${TH_G2#* }" =~ ^$SNAT:[0-9]+$ ]] && [ "${TH_G2#* }" != "$SNAT:$TCP_HANDOFF_SPORT" ]'
fi

exit_summary
