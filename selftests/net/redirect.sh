#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# redirect.sh - T1 complete (seed 000): two bridges' view of the internal
# segment, a VM router whose default route points back into that segment,
# and the ICMP redirects it sends for every flow.
#
#   [vm1] 203.0.113.229/24 gw .1    [router1] 203.0.113.1/24 gw .2, ip_forward=1
#        eth0                              eth0
#          |                                 |
#        vnet1 ------ br1 (host) ------- vnet2
#                      |    \
#                    vnet3   vnet4, vnet5: probe clients .230, .231 gw .1
#                      |
#        eth1 203.0.113.2/24
#   [vm3] NAT box: ip_forward=1, iptables SNAT 203.0.113.0/24 -> 192.168.1.101
#        eth0 192.168.1.101/24
#          |
#   [lan] eth0 192.168.1.1/24 (no route back: only vm3's NAT makes replies come)
#
# First without vnat: the seed's symptom (ping shows "Redirect Host(New
# nexthop: 203.0.113.2)", tcpdump in vm1 sees ICMP type 5 from .1). Then
# vnat in router1 (--iface eth0: the hairpin is forwarded by vnat, the
# kernel never sees it, so never sends a redirect; tc egress drops any
# redirect that does get made) and on the host's br1 (the bridging fast
# path, which drops a guest router's redirects too). Then --redirects keep
# in router1, send_redirects in status, and unload.
#
# Usage: redirect.sh        (V=1 for all command output; VNAT=path to override)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_bridge.sh
source "$(dirname "$0")/lib_bridge.sh"

PINGS=20
TCP_SIZE=$((4 * 1024 * 1024))
TCP_PORT=5201
# A flow's first packets may meet unresolved neighbours and take the kernel
# path; warm-ups resolve them, this is what may remain.
SLACK=2

VM1_ADDR=203.0.113.229
R1_ADDR=203.0.113.1
VM3_IN=203.0.113.2
VM3_OUT=192.168.1.101
LAN_ADDR=192.168.1.1
PROBE1_ADDR=203.0.113.230
PROBE2_ADDR=203.0.113.231
# Captures take all ICMP: the echo replies in them prove the capture saw
# the traffic, so that zero redirects means none came.
REDIRECT_FILTER='icmp[icmptype] == 5'
ECHO_REPLY_FILTER='icmp[icmptype] == 0'

require_root
require_cmd ip bridge tc ethtool ping socat bpftool python3 nsenter timeout ss sha256sum \
	tcpdump iptables sysctl
require_vnat

# ---------------------------------------------------------------- topology

t1_create()
{
	local h vm1 r1 vm3 lan p

	ns_create host vm1 router1 vm3 lan probe1 probe2
	h=$(ns host) vm1=$(ns vm1) r1=$(ns router1) vm3=$(ns vm3) lan=$(ns lan)

	must "host: br1 (no address: the host only bridges)" br_create "$h" br1
	must "vm1 on br1 (vnet1)" br_guest "$h" br1 vnet1 "$vm1" "$VM1_ADDR/24" "$R1_ADDR"
	must "router1 on br1 (vnet2)" br_guest "$h" br1 vnet2 "$r1" "$R1_ADDR/24" "$VM3_IN"
	must "probe1 on br1 (vnet4)" br_guest "$h" br1 vnet4 "$(ns probe1)" "$PROBE1_ADDR/24" "$R1_ADDR"
	must "probe2 on br1 (vnet5)" br_guest "$h" br1 vnet5 "$(ns probe2)" "$PROBE2_ADDR/24" "$R1_ADDR"

	# vm3: eth1 on br1, eth0 to the LAN
	must "vm3 eth1 on br1 (vnet3)" veth_pair "$h" vnet3 "$vm3" eth1
	must "vnet3 master br1" ip -n "$h" link set vnet3 master br1
	must "vm3 eth1 address" ip -n "$vm3" addr add "$VM3_IN/24" dev eth1
	must "veth vm3/eth0 <-> lan/eth0" veth_pair "$vm3" eth0 "$lan" eth0
	must "vm3 eth0 address" ip -n "$vm3" addr add "$VM3_OUT/24" dev eth0
	must "vm3 default route" ip -n "$vm3" route add default via "$LAN_ADDR"
	must "vm3 ip_forward=1" in_ns "$vm3" sysctl -qw net.ipv4.ip_forward=1
	# The seed's rule, verbatim apart from the missing space in "nat-A".
	must "vm3 SNAT rule" in_ns "$vm3" iptables -t nat -A POSTROUTING -s 203.0.113.0/24 \
		-j SNAT --to 192.168.1.101
	must "lan address" ip -n "$lan" addr add "$LAN_ADDR/24" dev eth0
	must "lan ip_forward=0" in_ns "$lan" sysctl -qw net.ipv4.ip_forward=0

	# router1: a router with one interface; redirects on (the default,
	# but a new namespace copies whatever the root has: set it).
	must "router1 ip_forward=1" in_ns "$r1" sysctl -qw net.ipv4.ip_forward=1
	must "router1 send_redirects=1" in_ns "$r1" sysctl -qw \
		net.ipv4.conf.all.send_redirects=1 net.ipv4.conf.eth0.send_redirects=1

	# The clients must keep using router1 whatever it tells them, so that
	# every run crosses the hairpin: they record redirects, never obey.
	for p in vm1 probe1 probe2; do
		must "$p ignores redirects" in_ns "$(ns "$p")" sysctl -qw \
			net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.eth0.accept_redirects=0
	done
	must "vm3 eth1 up" slowwait 5 link_up "$vm3" eth1
	must "lan eth0 up" slowwait 5 link_up "$lan" eth0
}

# warmup NS: resolve every neighbour on NS's path to the LAN (and back).
warmup()
{
	local c=$1 caddr

	caddr=$(ip -n "$c" -4 -j addr show dev eth0 | json_get 'd[0]["addr_info"][0]["local"]')
	in_ns "$c" ping -q -c 2 -i 0.2 -W 2 "$LAN_ADDR" >/dev/null 2>&1
	in_ns "$c" ping -q -c 2 -i 0.2 -W 2 "$LAN_ADDR" &&
		slowwait 5 neigh_valid "$(ns router1)" eth0 "$VM3_IN" &&
		slowwait 5 neigh_valid "$(ns vm3)" eth1 "$caddr" &&
		slowwait 5 neigh_valid "$(ns vm3)" eth0 "$LAN_ADDR" &&
		slowwait 5 neigh_valid "$c" eth0 "$R1_ADDR"
}

# ping_redirects NS COUNT: ping the LAN COUNT times, all answered; the
# ping output is kept in $PING_OUT.
ping_lan()
{
	local c=$1 count=$2

	PING_OUT=$LIB_TMPDIR/ping.$LIB_RUN_SEQ.txt
	in_ns "$c" ping -c "$count" -i 0.1 -W 1 -w $((count / 5 + 10)) "$LAN_ADDR" >"$PING_OUT" 2>&1
	local rc=$?
	tail -n 4 "$PING_OUT"
	return "$rc"
}

ping_saw_redirect()
{
	grep -E "From $R1_ADDR:? icmp_seq=[0-9]+ Redirect Host\(New nexthop: $VM3_IN\)" "$1"
}

no_redirect_in()
{
	! grep -i redirect "$1"
}

# pcap_redirects_from FILE: every captured packet is a redirect from
# router1 naming vm3 as the new next hop; prints how many.
pcap_redirects_ok()
{
	local f=$1 all good

	all=$(pcap_count "$f" "$REDIRECT_FILTER")
	good=$(pcap_text "$f" "$REDIRECT_FILTER" | grep -cE "$R1_ADDR > [0-9.]+: ICMP redirect $LAN_ADDR to host $VM3_IN")
	pcap_text "$f" "$REDIRECT_FILTER" | head -n 6
	echo "redirects captured: $all, from $R1_ADDR to host $VM3_IN: $good"
	[ "$all" -ge 1 ] && [ "$all" -eq "$good" ]
}

# pcap_no_redirect FILE REPLIES: the capture holds >= REPLIES echo replies
# (it saw the traffic) and not one redirect.
pcap_no_redirect()
{
	local n r

	n=$(pcap_count "$1" "$REDIRECT_FILTER")
	r=$(pcap_count "$1" "$ECHO_REPLY_FILTER")
	echo "echo replies captured: $r, redirects: $n"
	pcap_text "$1" "$REDIRECT_FILTER" | head -n 6
	[ "$r" -ge "$2" ] && [ "$n" -eq 0 ]
}

# The LAN sees vm3's address, never the inside one.
pcap_all_from()
{
	local f=$1 src=$2 all good

	all=$(pcap_count "$f")
	good=$(pcap_count "$f" "src host $src")
	echo "echo requests at lan: $all, from $src: $good"
	[ "$all" -ge 1 ] && [ "$all" -eq "$good" ]
}

sysctl_is()
{
	local got

	got=$(in_ns "$1" sysctl -n "$2") || return 1
	echo "$2 = $got"
	[ "$got" = "$3" ]
}

# ICMP redirects NS's kernel generated (IcmpMsg OutType5; 0 before the first).
redirects_sent()
{
	in_ns "$1" cat /proc/net/snmp | awk '
		$1 == "IcmpMsg:" && !hdr { for (i = 2; i <= NF; i++) if ($i == "OutType5") col = i; hdr = 1; next }
		$1 == "IcmpMsg:" && hdr { v = col ? $col : 0 }
		END { print v + 0 }'
}

daemon_alive()
{
	! lib_pid_gone "$1"
}

# ---------------------------------------------------------------- a. the symptom

t1_create
HOST=$(ns host) VM1=$(ns vm1) R1=$(ns router1) LAN=$(ns lan)
P1=$(ns probe1) P2=$(ns probe2)
defer vnat_in "$R1" unload --all
defer vnat_in "$HOST" unload --all

test_group "redirect: without vnat"
check "router1 send_redirects is 1" sysctl_is "$R1" net.ipv4.conf.eth0.send_redirects 1
must "kernel path: vm1 reaches the LAN" warmup "$VM1"
must "capture redirects in vm1" capture_start CAP "$VM1" eth0 icmp
k0=$(kernel_fwd_count "$R1") r0=$(redirects_sent "$R1")
check "$PINGS pings vm1 -> lan answered (kernel path)" ping_lan "$VM1" "$PINGS"
PING_K=$PING_OUT
k1=$(kernel_fwd_count "$R1") r1=$(redirects_sent "$R1")
check_cmp "router1's kernel sent redirects (IcmpMsg OutType5 +$((r1 - r0)))" $((r1 - r0)) -ge 1
capture_stop "$CAP"
check "ping shows 'From $R1_ADDR ... Redirect Host(New nexthop: $VM3_IN)'" \
	ping_saw_redirect "$PING_K"
check "tcpdump in vm1: ICMP redirects, all from $R1_ADDR to host $VM3_IN" \
	pcap_redirects_ok "$CAP_PCAP"
check_cmp "router1's kernel forwarded the hairpin (ForwDatagrams +$((k1 - k0)))" \
	$((k1 - k0)) -ge "$PINGS"

# ---------------------------------------------------------------- b. load

test_group "redirect: load"
check_rc 0 "router1: load --iface eth0" vnat_in "$R1" load --iface eth0 ||
	die "vnat load in router1 failed"
check_rc 0 "host: load --iface br1" vnat_in "$HOST" load --iface br1 ||
	die "vnat load on br1 failed"
bg_in_ns DAEMON "$HOST" "$VNAT" daemon
must "status -j (router1)" vnat_status_json "$R1"
ST_R1=$(cat "$RUN_OUT")
check "router1 status lists eth0 only" \
	json_eq "$ST_R1" '[i["name"] for i in d["interfaces"]]' '["eth0"]'
check "router1 eth0 role is routed" json_eq "$ST_R1" 'd["interfaces"][0]["role"]' routed
check "router1 eth0 (a veth) runs on tc" json_eq "$ST_R1" 'd["interfaces"][0]["hook"]' tc
check "router1 eth0 has a tc ingress id" json_eq "$ST_R1" 'd["interfaces"][0]["tc"]["ingress"] > 0' true
check "router1 status: redirects suppress (the default)" json_eq "$ST_R1" 'd.get("redirects")' suppress
if json_get '"send_redirects" in d["interfaces"][0]' <<<"$ST_R1" | grep -qx true; then
	check "router1 status shows send_redirects true for eth0" \
		json_eq "$ST_R1" 'd["interfaces"][0]["send_redirects"]' true
else
	log_fail "router1 status shows send_redirects per interface" "missing: no send_redirects field"
fi
for p in vnet1 vnet2 vnet3 vnet4 vnet5; do
	check "host status lists $p as a port with its tc ingress id" status_has_port "$HOST" "$p"
done
check "host status lists br1" json_eq "$(vnat_status_json "$HOST")" \
	'any(i["name"] == "br1" for i in d["interfaces"])' true
check "daemon is running" daemon_alive "$DAEMON"

# ---------------------------------------------------------------- c. suppressed

test_group "redirect: suppressed"
must "warm-up vm1" warmup "$VM1"
must "capture redirects in vm1" capture_start CAP "$VM1" eth0 icmp
must "capture echo requests at lan" capture_start LCAP "$LAN" eth0 'icmp[icmptype] == 8'
must "snapshot router1" snap "$R1"
must "snapshot host" snap "$HOST"
k0=$(kernel_fwd_count "$R1") r0=$(redirects_sent "$R1")
check "$PINGS pings vm1 -> lan answered" ping_lan "$VM1" "$PINGS"
PING_V=$PING_OUT
k1=$(kernel_fwd_count "$R1") r1=$(redirects_sent "$R1")
check_cmp "router1's kernel generated no redirect (OutType5 +$((r1 - r0)))" $((r1 - r0)) -eq 0
capture_stop "$LCAP"
check "ping shows no redirect" no_redirect_in "$PING_V"
hp=$(delta "$R1" fwd_same_segment)
br=$(delta "$HOST" fwd_bridged)
log_info "router1 fwd_same_segment +$hp, kernel ForwDatagrams +$((k1 - k0)); host fwd_bridged +$br"
check_cmp "router1 fwd_same_segment moved by >= $((PINGS - SLACK)) (+$hp)" "$hp" -ge $((PINGS - SLACK))
check_cmp "router1's kernel forwarded <= $SLACK (+$((k1 - k0)))" $((k1 - k0)) -le "$SLACK"
# vm1 -> router1, router1 -> vm3, and vm3's reply straight to vm1
check_cmp "host fwd_bridged moved by >= $((3 * PINGS - SLACK)) (+$br)" "$br" -ge $((3 * PINGS - SLACK))
check "lan saw only vm3's address $VM3_OUT (vm3's NAT still in the path)" \
	pcap_all_from "$LCAP_PCAP" "$VM3_OUT"

FILE=$(make_random_file "$TCP_SIZE") || die "random file"
must "snapshot router1" snap "$R1"
must "snapshot host" snap "$HOST"
k0=$(kernel_fwd_count "$R1")
check "4 MiB vm1 -> lan arrives intact (sha256)" \
	tcp_transfer "$VM1" "$LAN" "$LAN_ADDR" "$TCP_PORT" "$FILE"
k1=$(kernel_fwd_count "$R1")
hpb=$(delta "$R1" fwd_same_segment bytes)
brb=$(delta "$HOST" fwd_bridged bytes)
log_info "router1 fwd_same_segment +$hpb bytes, kernel +$((k1 - k0)); host fwd_bridged +$brb bytes"
check_cmp "router1 fwd_same_segment carried >= $TCP_SIZE bytes (+$hpb)" "$hpb" -ge "$TCP_SIZE"
check_cmp "router1's kernel forwarded <= $SLACK (+$((k1 - k0)))" $((k1 - k0)) -le "$SLACK"
check_cmp "host fwd_bridged carried >= $((2 * TCP_SIZE)) bytes (+$brb)" "$brb" -ge $((2 * TCP_SIZE))
capture_stop "$CAP"
check "tcpdump in vm1: $PINGS echo replies, no ICMP redirect (pings and transfer)" \
	pcap_no_redirect "$CAP_PCAP" "$PINGS"

# A packet the fast path leaves to the kernel (IP options: record route)
# makes router1's kernel forward it and generate a redirect; tc egress must
# drop that. probe1 has never been sent a redirect (the kernel rate-limits
# them per destination, so a fresh one always gets the first).
must "warm-up probe1" warmup "$P1"
must "capture redirects in probe1" capture_start CAP "$P1" eth0 icmp
must "snapshot router1" snap "$R1"
k0=$(kernel_fwd_count "$R1") r0=$(redirects_sent "$R1")
check "probe1: ping -R (record route) to lan answered" \
	in_ns "$P1" ping -c 3 -i 0.2 -W 2 -R "$LAN_ADDR"
k1=$(kernel_fwd_count "$R1") r1=$(redirects_sent "$R1")
check_cmp "router1's kernel generated a redirect for them (OutType5 +$((r1 - r0)))" $((r1 - r0)) -ge 1
capture_stop "$CAP"
check_cmp "router1 passed the packets with options to the kernel (pass_ip_options +$(delta "$R1" pass_ip_options))" \
	"$(delta "$R1" pass_ip_options)" -ge 3
check_cmp "router1's kernel forwarded them (+$((k1 - k0)))" $((k1 - k0)) -ge 3
check_cmp "router1 drop_redirect moved (+$(delta "$R1" drop_redirect))" \
	"$(delta "$R1" drop_redirect)" -ge 1
check "tcpdump in probe1: 3 echo replies, the kernel's redirect never arrived" \
	pcap_no_redirect "$CAP_PCAP" 3

# ---------------------------------------------------------------- d. send_redirects in status

test_group "redirect: status"
must "router1 send_redirects=0" in_ns "$R1" sysctl -qw \
	net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0
check "status shows send_redirects false when all and eth0 are 0" \
	json_eq "$(vnat_status_json "$R1")" 'd["interfaces"][0].get("send_redirects")' false
must "router1 send_redirects=1 again" in_ns "$R1" sysctl -qw \
	net.ipv4.conf.all.send_redirects=1 net.ipv4.conf.eth0.send_redirects=1
check "status shows send_redirects true again" \
	json_eq "$(vnat_status_json "$R1")" 'd["interfaces"][0].get("send_redirects")' true
check "status (human form) mentions send_redirects" vnat_in "$R1" status
check "... and the redirect mode" grep -q 'redirects: suppress' "$RUN_OUT"

# ---------------------------------------------------------------- e. --redirects keep

test_group "redirect: keep"
check_rc 0 "router1: unload --all" vnat_in "$R1" unload --all
if vnat_in "$R1" load --help 2>&1 | grep -q -- '--redirects'; then
	check_rc 0 "router1: load --iface eth0 --redirects keep" \
		vnat_in "$R1" load --iface eth0 --redirects keep
	check "status: redirects keep" json_eq "$(vnat_status_json "$R1")" 'd.get("redirects")' keep
	must "warm-up probe2" warmup "$P2"
	# Where router1 sends them: the host's vnat (suppress) drops them on
	# br1, as a guest router's redirects crossing a managed bridge.
	must "capture redirects leaving router1" capture_start CAP "$R1" eth0 icmp
	must "capture what reaches probe2" capture_start CAP2 "$P2" eth0 icmp
	must "snapshot router1" snap "$R1"
	must "snapshot host" snap "$HOST"
	k0=$(kernel_fwd_count "$R1")
	check "$PINGS pings probe2 -> lan answered" ping_lan "$P2" "$PINGS"
	k1=$(kernel_fwd_count "$R1")
	capture_stop "$CAP"
	capture_stop "$CAP2"
	check_cmp "pass_same_segment moved by >= $((PINGS - SLACK)) (+$(delta "$R1" pass_same_segment))" \
		"$(delta "$R1" pass_same_segment)" -ge $((PINGS - SLACK))
	check_cmp "fwd_same_segment did not move" "$(delta "$R1" fwd_same_segment)" -eq 0
	check_cmp "the kernel forwarded the hairpin (+$((k1 - k0)))" $((k1 - k0)) -ge "$PINGS"
	check_cmp "drop_redirect did not move" "$(delta "$R1" drop_redirect)" -eq 0
	check "tcpdump in router1: its kernel's redirects leave" pcap_redirects_ok "$CAP_PCAP"
	check_cmp "the host dropped them on br1 (drop_redirect +$(delta "$HOST" drop_redirect))" \
		"$(delta "$HOST" drop_redirect)" -ge 1
	check "tcpdump in probe2: none arrived" pcap_no_redirect "$CAP2_PCAP" 1
	check_rc 1 "load --redirects bogus is refused" vnat_in "$R1" load --iface eth0 --redirects bogus
else
	log_skip "load --redirects keep" "missing: vnat load has no --redirects option"
fi

# ---------------------------------------------------------------- f. unload

test_group "redirect: unload"
check_rc 0 "router1: unload --all" vnat_in "$R1" unload --all
check_rc 0 "host: unload --all" vnat_in "$HOST" unload --all
check "the daemon exits after unload" slowwait 5 lib_pid_gone "$DAEMON"
bg_wait_timeout 1 "$DAEMON"
check "no XDP left in router1" bash -c "! ip -n '$R1' -d link show | grep -q xdp"
check "no XDP left on the host's ports" bash -c "! ip -n '$HOST' -d link show | grep -q xdp"
check "kernel path: vm1 reaches the LAN again" ping_lan "$VM1" 5

exit_summary
