#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# models.sh - the KVM network models of seed 002 (T3) and the bridge + tap
# NAT of seed 003 (T4), each in namespaces of its own, with vnat doing the
# bridging, routing and NAT the seeds do with the kernel and iptables.
#
#   isolated   br0 without address: guests talk only to each other
#   routed     br0 192.168.0.254/24, host forwards to 172.30.1.0/24: the
#              outside host cannot reply until it gets a route back
#   nat        routed + SNAT to the uplink address 172.30.1.34
#   bridged    uplink enslaved to br0, host address on br0: guests are
#              peers of the LAN 172.30.1.0/24
#   nsrouter   br-in (guests) and br-ex (LAN) on the host, router netns r1
#              joined to both, SNAT out of br-ex inside r1
#   t4         br0 192.168.100.1/24 + tap-style ports, --snat to enp4s0's
#              address (MASQUERADE -o enp4s0), a guest started after load
#   t4-bridged enp4s0 enslaved to br0: the guest is a peer of the host
#
# Usage: models.sh [MODEL...]   (default: all; V=1 for all command output)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_bridge.sh
source "$(dirname "$0")/lib_bridge.sh"

PINGS=20
TCP_SIZE=$((2 * 1024 * 1024))
TCP_PORT=5203
SLACK=2
MODELS=${*:-isolated routed nat bridged nsrouter t4 t4-bridged}

require_root
require_cmd ip bridge ethtool ping socat bpftool python3 nsenter timeout ss sha256sum \
	tcpdump iptables sysctl
require_vnat

FILE=$(make_random_file "$TCP_SIZE") || die "random file"

# ---------------------------------------------------------------- helpers

noipv6()
{
	in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# uplink HOSTNS HOSTIF UPNS [HOSTADDR/LEN [UPADDR/LEN]]: the host's uplink, a
# veth to the LAN namespace UPNS (its end named eth0, ready for XDP frames).
uplink()
{
	local h=$1 hif=$2 up=$3 haddr=${4:-} uaddr=${5:-}

	veth_pair "$h" "$hif" "$up" eth0 || return 1
	[ -z "$haddr" ] || ip -n "$h" addr add "$haddr" dev "$hif" || return 1
	[ -z "$uaddr" ] || ip -n "$up" addr add "$uaddr" dev eth0 || return 1
	in_ns "$up" sysctl -qw net.ipv4.ip_forward=0 || return 1
	slowwait 5 link_up "$up" eth0
}

warm()
{
	in_ns "$1" ping -q -c 2 -i 0.1 -W 1 "$2" >/dev/null 2>&1
	in_ns "$1" ping -q -c 1 -W 2 "$2"
}

# pcap_all_src FILE ADDR [FILTER]: >= 1 packet matched FILTER, all from ADDR.
pcap_all_src()
{
	local f=$1 src=$2 filter=${3:-icmp} all good

	all=$(pcap_count "$f" "$filter")
	good=$(pcap_count "$f" "($filter) and src host $src")
	echo "captured: $all, from $src: $good"
	pcap_text "$f" "$filter" | head -n 4
	[ "$all" -ge 1 ] && [ "$all" -eq "$good" ]
}

# pcap_has_ether_src FILE MAC ADDR: frames from MAC carrying ADDR as source.
pcap_has_ether_src()
{
	local n

	n=$(pcap_count "$1" "ether src $2 and src host $3")
	echo "frames from $2 with source $3: $n"
	[ "$n" -ge 1 ]
}

# sum of counters NAMES... (packets) since the last snap of NS
delta_sum()
{
	local n=$1 t=0 d name

	shift
	for name in "$@"; do
		d=$(delta "$n" "$name") || return 1
		t=$((t + d))
	done
	echo "$t"
}

# conns_has NS INSIDE_ADDR OUTSIDE_ADDR: vnat conns -j lists such a flow.
conns_has()
{
	local js

	js=$(vnat_in "$1" conns -j) || return 1
	echo "$js" | head -c 600
	echo
	json_get "any(c['inside'].split(':')[0] == '$2' and c['outside'].split(':')[0] == '$3' for c in (d if isinstance(d, list) else d.get('connections', [])))" <<<"$js" |
		grep -qx true
}

# udp_exchange SRC DST ADDR PORT: a "DNS" query gets its answer (T4's story:
# a guest's lookups to the upstream resolver must not time out).
udp_exchange()
{
	local src=$1 dst=$2 addr=$3 port=$4 srv got

	# shellcheck disable=SC2016 # the shell socat starts expands $q
	bg_in_ns srv "$dst" socat UDP4-RECVFROM:"$port",reuseaddr SYSTEM:'read q; echo "answer $q"'
	slowwait 5 bash -c "ip netns exec '$dst' ss -Huln 'sport = :$port' | grep -q ." || return 1
	got=$(echo query-1 | timeout 5 ip netns exec "$src" socat -t 3 - UDP4:"$addr":"$port")
	bg_wait_timeout 2 "$srv"
	echo "answer: '$got'"
	[ "$got" = "answer query-1" ]
}

# ---------------------------------------------------------------- isolated

model_isolated()
{
	local h a1 a2 d

	test_group "models: isolated"
	ns_create iso_h iso_a1 iso_a2 iso_lan
	h=$(ns iso_h) a1=$(ns iso_a1) a2=$(ns iso_a2)
	for n in iso_h iso_a1 iso_a2 iso_lan; do must "no IPv6 in $n" noipv6 "$(ns "$n")"; done
	must "br0 without address" br_create "$h" br0
	must "a1 on br0" br_guest "$h" br0 vnet0 "$a1" 192.168.0.1/24
	must "a2 on br0" br_guest "$h" br0 vnet1 "$a2" 192.168.0.2/24
	must "host uplink" uplink "$h" eth0 "$(ns iso_lan)" 172.30.1.34/24 172.30.1.50/24
	must "host ip_forward=1" in_ns "$h" sysctl -qw net.ipv4.ip_forward=1
	defer vnat_in "$h" unload --all
	check_rc 0 "load --iface br0" vnat_in "$h" load --iface br0 || return
	bg_in_ns ISO_D "$h" "$VNAT" daemon
	must "warm a1 -> a2" warm "$a1" 192.168.0.2
	check "vnat_fdb has a2 on vnet1" slowwait 3 fdb_has "$h" "$(mac_of "$a2" eth0)" \
		"$(ifindex_of "$h" vnet1)"
	must "snapshot" snap "$h"
	check "$PINGS pings a1 -> a2 answered" ping_all "$a1" 192.168.0.2 "$PINGS"
	d=$(delta "$h" fwd_bridged)
	check_cmp "fwd_bridged moved by >= $((2 * PINGS - SLACK)) (+$d)" "$d" -ge $((2 * PINGS - SLACK))
	must "snapshot" snap "$h"
	check "2 MiB a2 -> a1 intact" tcp_transfer "$a2" "$a1" 192.168.0.1 "$TCP_PORT" "$FILE"
	d=$(delta "$h" fwd_bridged bytes)
	check_cmp "fwd_bridged carried >= $TCP_SIZE bytes (+$d)" "$d" -ge "$TCP_SIZE"
	check "a1 cannot reach the host (172.30.1.34): no way out of the segment" \
		ping_none "$a1" 172.30.1.34 3
	check "the host cannot reach a1 (no address on br0)" ping_none "$h" 192.168.0.1 3
	check_rc 0 "unload --all" vnat_in "$h" unload --all
	bg_wait_timeout 5 "$ISO_D"
}

# ---------------------------------------------------------------- routed and nat

# host ns with br0 192.168.0.254/24 (guests a1, a2 behind it, gateway .254)
# and eth0 172.30.1.34/24 to a LAN host 172.30.1.50 without a route back.
routed_topology()
{
	local p=$1 h a1 a2 lan

	ns_create "${p}h" "${p}a1" "${p}a2" "${p}lan"
	h=$(ns "${p}h") a1=$(ns "${p}a1") a2=$(ns "${p}a2") lan=$(ns "${p}lan")
	for n in h a1 a2 lan; do must "no IPv6 in ${p}$n" noipv6 "$(ns "${p}$n")"; done
	must "br0 192.168.0.254/24" br_create "$h" br0 192.168.0.254/24
	must "a1 on br0" br_guest "$h" br0 vnet0 "$a1" 192.168.0.1/24 192.168.0.254
	must "a2 on br0" br_guest "$h" br0 vnet1 "$a2" 192.168.0.2/24 192.168.0.254
	must "uplink eth0" uplink "$h" eth0 "$lan" 172.30.1.34/24 172.30.1.50/24
	must "host ip_forward=1" in_ns "$h" sysctl -qw net.ipv4.ip_forward=1
	must "warm a1 -> br0" warm "$a1" 192.168.0.254
	must "warm a2 -> br0" warm "$a2" 192.168.0.254
	must "warm host -> lan" warm "$h" 172.30.1.50
}

model_routed()
{
	local h a1 lan d k0 k1

	test_group "models: routed"
	routed_topology rt_
	h=$(ns rt_h) a1=$(ns rt_a1) lan=$(ns rt_lan)
	defer vnat_in "$h" unload --all
	check_rc 0 "load --iface br0 --iface eth0" vnat_in "$h" load --iface br0 --iface eth0 || return
	bg_in_ns RT_D "$h" "$VNAT" daemon
	check "a1 reaches the host's bridge address" ping_all "$a1" 192.168.0.254 3
	check "a1 reaches the host's uplink address" ping_all "$a1" 172.30.1.34 3
	must "capture at the lan host" capture_start CAP "$lan" eth0 'icmp[icmptype] == 8'
	must "snapshot" snap "$h"
	check "a1 -> lan host gets no reply (the lan has no route back)" ping_none "$a1" 172.30.1.50 5
	capture_stop "$CAP"
	check "... though a1's requests reach the lan host, from 192.168.0.1" \
		pcap_all_src "$CAP_PCAP" 192.168.0.1
	d=$(delta "$h" fwd_routed)
	check_cmp "... through the fast path (fwd_routed +$d)" "$d" -ge 3
	must "the lan host gets a route back" ip -n "$lan" route add 192.168.0.0/24 via 172.30.1.34
	must "warm a1 -> lan" warm "$a1" 172.30.1.50
	must "snapshot" snap "$h"
	k0=$(kernel_fwd_count "$h")
	check "with the route: $PINGS pings a1 -> lan answered" ping_all "$a1" 172.30.1.50 "$PINGS"
	k1=$(kernel_fwd_count "$h")
	d=$(delta "$h" fwd_routed)
	check_cmp "fwd_routed moved by >= $((2 * PINGS - SLACK)) (+$d)" "$d" -ge $((2 * PINGS - SLACK))
	check_cmp "the kernel forwarded <= $SLACK (+$((k1 - k0)))" $((k1 - k0)) -le "$SLACK"
	check "2 MiB a1 -> lan intact" tcp_transfer "$a1" "$lan" 172.30.1.50 "$TCP_PORT" "$FILE"
	check_rc 0 "unload --all" vnat_in "$h" unload --all
	bg_wait_timeout 5 "$RT_D"
}

model_nat()
{
	local h a1 a2 lan d s k0 k1

	test_group "models: nat"
	routed_topology nat_
	h=$(ns nat_h) a1=$(ns nat_a1) a2=$(ns nat_a2) lan=$(ns nat_lan)
	defer vnat_in "$h" unload --all
	check_rc 0 "load --iface br0 --snat 172.30.1.34" \
		vnat_in "$h" load --iface br0 --snat 172.30.1.34 || return
	bg_in_ns NAT_D "$h" "$VNAT" daemon
	check "status: eth0 is the uplink" json_eq "$(vnat_status_json "$h")" \
		"next(i['role'] for i in d['interfaces'] if i['name'] == 'eth0')" uplink
	must "warm a1 -> lan" warm "$a1" 172.30.1.50
	must "capture at the lan host" capture_start CAP "$lan" eth0 'icmp[icmptype] == 8'
	must "snapshot" snap "$h"
	k0=$(kernel_fwd_count "$h")
	check "$PINGS pings a1 -> lan answered (no route back needed)" \
		ping_all "$a1" 172.30.1.50 "$PINGS"
	k1=$(kernel_fwd_count "$h")
	capture_stop "$CAP"
	check "the lan host sees only 172.30.1.34" pcap_all_src "$CAP_PCAP" 172.30.1.34
	s=$(delta "$h" fwd_snat) d=$(delta "$h" fwd_dnat)
	log_info "fwd_snat +$s fwd_dnat +$d fwd_snat_tc +$(delta "$h" fwd_snat_tc) fwd_dnat_tc +$(delta "$h" fwd_dnat_tc)"
	check_cmp "fwd_snat moved by >= $((PINGS - SLACK)) (+$s)" "$s" -ge $((PINGS - SLACK))
	check_cmp "fwd_dnat moved by >= $((PINGS - SLACK)) (+$d)" "$d" -ge $((PINGS - SLACK))
	check_cmp "the kernel forwarded <= $SLACK (+$((k1 - k0)))" $((k1 - k0)) -le "$SLACK"
	check "conns lists 192.168.0.1 as 172.30.1.34" conns_has "$h" 192.168.0.1 172.30.1.34
	must "snapshot" snap "$h"
	check "2 MiB a1 -> lan intact" tcp_transfer "$a1" "$lan" 172.30.1.50 "$TCP_PORT" "$FILE"
	d=$(delta "$h" fwd_snat bytes)
	check_cmp "fwd_snat carried >= $TCP_SIZE bytes (+$d)" "$d" -ge "$TCP_SIZE"

	# Guest to guest on the bridge is never a NAT candidate.
	must "warm a1 -> a2" warm "$a1" 192.168.0.2
	must "capture in a2" capture_start CAP "$a2" eth0 'icmp[icmptype] == 8'
	must "snapshot" snap "$h"
	check "$PINGS pings a1 -> a2 answered" ping_all "$a1" 192.168.0.2 "$PINGS"
	capture_stop "$CAP"
	check "a2 sees a1's own address 192.168.0.1" pcap_all_src "$CAP_PCAP" 192.168.0.1
	d=$(delta "$h" fwd_bridged)
	check_cmp "bridged in XDP (fwd_bridged +$d)" "$d" -ge $((2 * PINGS - SLACK))
	check_cmp "not translated (fwd_snat + fwd_snat_tc +$(delta_sum "$h" fwd_snat fwd_snat_tc))" \
		"$(delta_sum "$h" fwd_snat fwd_snat_tc)" -eq 0
	check_rc 0 "unload --all" vnat_in "$h" unload --all
	bg_wait_timeout 5 "$NAT_D"
	check "without vnat (and without iptables NAT) the lan host gets no reply" \
		ping_none "$a1" 172.30.1.50 3
}

# ---------------------------------------------------------------- bridged

# bridged_model PFX HOSTADDR LANADDR GUESTADDR UPLINK: the uplink veth is a
# port of br0 and the host's address is on br0 (seed 002 3.3, seed 003).
bridged_model()
{
	local p=$1 haddr=$2 laddr=$3 gaddr=$4 upl=$5 h g lan d gmac

	ns_create "${p}h" "${p}g" "${p}lan"
	h=$(ns "${p}h") g=$(ns "${p}g") lan=$(ns "${p}lan")
	for n in h g lan; do must "no IPv6 in ${p}$n" noipv6 "$(ns "${p}$n")"; done
	must "br0 with the host's address $haddr" br_create "$h" br0 "$haddr/24"
	must "uplink $upl" uplink "$h" "$upl" "$lan" "" "$laddr/24"
	must "$upl master br0" ip -n "$h" link set "$upl" master br0
	must "guest on br0" br_guest "$h" br0 vnet0 "$g" "$gaddr/24" "$laddr"
	defer vnat_in "$h" unload --all
	check_rc 0 "load --iface br0" vnat_in "$h" load --iface br0 || return
	bg_in_ns BRD_D "$h" "$VNAT" daemon
	check "status lists $upl as a port" status_has_port "$h" "$upl"
	must "warm guest -> lan" warm "$g" "$laddr"
	check "vnat_fdb has the lan host behind $upl" slowwait 3 fdb_has "$h" \
		"$(mac_of "$lan" eth0)" "$(ifindex_of "$h" "$upl")"
	gmac=$(mac_of "$g" eth0)
	must "capture at the lan host" capture_start CAP "$lan" eth0 'icmp[icmptype] == 8'
	must "snapshot" snap "$h"
	check "$PINGS pings guest -> lan host answered" ping_all "$g" "$laddr" "$PINGS"
	capture_stop "$CAP"
	check "the lan host sees the guest's own MAC and address: a peer" \
		pcap_has_ether_src "$CAP_PCAP" "$gmac" "$gaddr"
	d=$(delta "$h" fwd_bridged)
	check_cmp "guest <-> lan bridged port to port (fwd_bridged +$d)" "$d" -ge $((2 * PINGS - SLACK))
	check_cmp "nothing routed (fwd_routed +$(delta "$h" fwd_routed))" "$(delta "$h" fwd_routed)" -eq 0
	must "snapshot" snap "$h"
	check "2 MiB lan -> guest intact" tcp_transfer "$lan" "$g" "$gaddr" "$TCP_PORT" "$FILE"
	d=$(delta "$h" fwd_bridged bytes)
	check_cmp "fwd_bridged carried >= $TCP_SIZE bytes (+$d)" "$d" -ge "$TCP_SIZE"
	check "the host itself reaches the lan host (its traffic is the kernel's)" \
		ping_all "$h" "$laddr" 3
	check "the guest reaches the host" ping_all "$g" "$haddr" 3
	check_rc 0 "unload --all" vnat_in "$h" unload --all
	bg_wait_timeout 5 "$BRD_D"
}

model_bridged()
{
	test_group "models: bridged"
	bridged_model brd_ 172.30.1.34 172.30.1.50 172.30.1.51 eth0
}

# ---------------------------------------------------------------- namespace router

model_nsrouter()
{
	local h r1 g1 lan d s k0 k1

	test_group "models: nsrouter"
	ns_create nr_h nr_r1 nr_g1 nr_g2 nr_lan
	h=$(ns nr_h) r1=$(ns nr_r1) g1=$(ns nr_g1) lan=$(ns nr_lan)
	for n in h r1 g1 g2 lan; do must "no IPv6 in nr_$n" noipv6 "$(ns "nr_$n")"; done
	must "br-in" br_create "$h" br-in
	must "br-ex with the host's address (seed: 192.168.0.162)" br_create "$h" br-ex 192.168.0.162/24
	must "g1 on br-in" br_guest "$h" br-in vf1.0 "$g1" 10.10.10.1/24 10.10.10.254
	must "g2 on br-in" br_guest "$h" br-in vf2.0 "$(ns nr_g2)" 10.10.10.2/24 10.10.10.254
	# r1's legs, named as in the seed: router-in-router/-switch, -ex alike
	must "rinr (r1) <-> rins (br-in)" veth_pair "$r1" rinr "$h" rins
	must "rins master br-in" ip -n "$h" link set rins master br-in
	must "rexr (r1) <-> rexs (br-ex)" veth_pair "$r1" rexr "$h" rexs
	must "rexs master br-ex" ip -n "$h" link set rexs master br-ex
	must "r1 rinr 10.10.10.254/24" ip -n "$r1" addr add 10.10.10.254/24 dev rinr
	must "r1 rexr 192.168.0.200/24" ip -n "$r1" addr add 192.168.0.200/24 dev rexr
	must "r1 default via the lan gateway" ip -n "$r1" route add default via 192.168.0.1
	must "r1 ip_forward=1" in_ns "$r1" sysctl -qw net.ipv4.ip_forward=1
	must "the physical NIC ens33 on br-ex" uplink "$h" ens33 "$lan" "" 192.168.0.1/24
	must "ens33 master br-ex" ip -n "$h" link set ens33 master br-ex
	must "r1 links up" slowwait 5 link_up "$r1" rexr

	# The seed's kernel setup first: SNAT out of br-ex inside r1.
	must "r1 SNAT rule" in_ns "$r1" iptables -t nat -A POSTROUTING -s 10.10.10.0/24 -o rexr \
		-j SNAT --to-source 192.168.0.200
	check "kernel path: g1 -> lan host through r1's NAT" warm "$g1" 192.168.0.1
	must "r1: iptables -t nat -F (vnat takes over the NAT)" in_ns "$r1" iptables -t nat -F
	must "r1: forget the kernel's NAT state" in_ns "$r1" conntrack -F
	check "without any NAT the lan host cannot reply" ping_none "$g1" 192.168.0.1 3

	defer vnat_in "$r1" unload --all
	defer vnat_in "$h" unload --all
	check_rc 0 "r1: load --iface rinr --snat 192.168.0.200" \
		vnat_in "$r1" load --iface rinr --snat 192.168.0.200 || return
	check "r1 status: rexr is the uplink" json_eq "$(vnat_status_json "$r1")" \
		"next(i['role'] for i in d['interfaces'] if i['name'] == 'rexr')" uplink
	check_rc 0 "host: load --iface br-in --iface br-ex" \
		vnat_in "$h" load --iface br-in --iface br-ex || return
	bg_in_ns NR_D "$h" "$VNAT" daemon
	for p in vf1.0 vf2.0 rins rexs ens33; do
		check "host status lists $p as a port" status_has_port "$h" "$p"
	done
	must "warm g1 -> lan" warm "$g1" 192.168.0.1
	must "capture at the lan host" capture_start CAP "$lan" eth0 'icmp[icmptype] == 8'
	must "snapshot r1" snap "$r1"
	must "snapshot host" snap "$h"
	k0=$(kernel_fwd_count "$r1")
	check "$PINGS pings g1 -> lan answered" ping_all "$g1" 192.168.0.1 "$PINGS"
	k1=$(kernel_fwd_count "$r1")
	capture_stop "$CAP"
	check "the lan host sees r1's address 192.168.0.200" pcap_all_src "$CAP_PCAP" 192.168.0.200
	s=$(delta "$r1" fwd_snat) d=$(delta "$r1" fwd_dnat)
	check_cmp "r1 fwd_snat moved by >= $((PINGS - SLACK)) (+$s)" "$s" -ge $((PINGS - SLACK))
	check_cmp "r1 fwd_dnat moved by >= $((PINGS - SLACK)) (+$d)" "$d" -ge $((PINGS - SLACK))
	check_cmp "r1's kernel forwarded <= $SLACK (+$((k1 - k0)))" $((k1 - k0)) -le "$SLACK"
	d=$(delta "$h" fwd_bridged)
	# g1 -> rins, rexs -> ens33 and back: four bridged hops per echo
	check_cmp "host fwd_bridged moved by >= $((4 * PINGS - SLACK)) (+$d)" "$d" -ge $((4 * PINGS - SLACK))
	must "snapshot r1" snap "$r1"
	check "2 MiB g1 -> lan intact" tcp_transfer "$g1" "$lan" 192.168.0.1 "$TCP_PORT" "$FILE"
	d=$(delta "$r1" fwd_snat bytes)
	check_cmp "r1 fwd_snat carried >= $TCP_SIZE bytes (+$d)" "$d" -ge "$TCP_SIZE"
	check "g1 -> g2 on br-in still works" ping_all "$g1" 10.10.10.2 3
	check_rc 0 "r1: unload --all" vnat_in "$r1" unload --all
	check_rc 0 "host: unload --all" vnat_in "$h" unload --all
	bg_wait_timeout 5 "$NR_D"
}

# ---------------------------------------------------------------- T4

model_t4()
{
	local h g g2 up d s k0 k1

	test_group "models: t4"
	ns_create t4_h t4_g t4_g2 t4_up
	h=$(ns t4_h) g=$(ns t4_g) g2=$(ns t4_g2) up=$(ns t4_up)
	for n in h g g2 up; do must "no IPv6 in t4_$n" noipv6 "$(ns "t4_$n")"; done
	must "br0 192.168.100.1/24" br_create "$h" br0 192.168.100.1/24
	must "guest on tap0" br_guest "$h" br0 tap0 "$g" 192.168.100.2/24 192.168.100.1
	must "uplink enp4s0" uplink "$h" enp4s0 "$up" 192.0.2.2/24 192.0.2.1/24
	must "host ip_forward=1" in_ns "$h" sysctl -qw net.ipv4.ip_forward=1
	must "warm guest -> br0" warm "$g" 192.168.100.1
	must "warm host -> upstream" warm "$h" 192.0.2.1
	defer vnat_in "$h" unload --all
	check_rc 0 "load --iface br0 --snat 192.0.2.2 (MASQUERADE -o enp4s0)" \
		vnat_in "$h" load --iface br0 --snat 192.0.2.2 || return
	bg_in_ns T4_D "$h" "$VNAT" daemon
	must "warm guest -> upstream" warm "$g" 192.0.2.1
	must "capture upstream" capture_start CAP "$up" eth0 'icmp[icmptype] == 8'
	must "snapshot" snap "$h"
	k0=$(kernel_fwd_count "$h")
	check "$PINGS pings guest -> upstream answered" ping_all "$g" 192.0.2.1 "$PINGS"
	k1=$(kernel_fwd_count "$h")
	capture_stop "$CAP"
	check "upstream sees 192.0.2.2 only" pcap_all_src "$CAP_PCAP" 192.0.2.2
	s=$(delta "$h" fwd_snat) d=$(delta "$h" fwd_dnat)
	check_cmp "fwd_snat moved by >= $((PINGS - SLACK)) (+$s)" "$s" -ge $((PINGS - SLACK))
	check_cmp "fwd_dnat moved by >= $((PINGS - SLACK)) (+$d)" "$d" -ge $((PINGS - SLACK))
	check_cmp "the kernel forwarded <= $SLACK (+$((k1 - k0)))" $((k1 - k0)) -le "$SLACK"
	check "2 MiB guest -> upstream intact" tcp_transfer "$g" "$up" 192.0.2.1 "$TCP_PORT" "$FILE"
	must "capture DNS upstream" capture_start CAP "$up" eth0 'udp port 53'
	check "a DNS-style UDP query to the upstream resolver gets its answer" \
		udp_exchange "$g" "$up" 192.0.2.1 53
	capture_stop "$CAP"
	check "... sent from 192.0.2.2" pcap_all_src "$CAP_PCAP" 192.0.2.2 'udp dst port 53'

	# A guest started after load (its tap joins br0 later). Its port gets
	# the lowest MAC on the bridge, so br0 takes that MAC (a bridge without
	# a set address follows its ports'): routing must follow the new MAC.
	must "veth tap1 <-> guest 2" veth_pair "$h" tap1 "$g2" eth0
	must "tap1 gets the bridge's lowest MAC" ip -n "$h" link set tap1 address 02:00:00:00:00:01
		must "guest 2 address" ip -n "$g2" addr add 192.168.100.3/24 dev eth0
	must "guest 2 route" ip -n "$g2" route add default via 192.168.100.1
	must "tap1 master br0 (qemu-ifup)" ip -n "$h" link set tap1 master br0
	check "tap1 attached within 1 s" slowwait 1 status_has_port "$h" tap1 ||
		check "... or within 5 s" slowwait 4 status_has_port "$h" tap1
	log_info "br0 MAC now $(mac_of "$h" br0)"
	check "status follows br0's new MAC" slowwait 3 bash -c \
		"[ \"\$(ip netns exec '$h' '$VNAT' status -j | python3 -c 'import json,sys; print(next(i[\"mac\"].lower() for i in json.load(sys.stdin)[\"interfaces\"] if i[\"name\"] == \"br0\"))')\" = '$(mac_of "$h" br0)' ]"
	must "warm guest 2 -> upstream" warm "$g2" 192.0.2.1
	must "snapshot" snap "$h"
	k0=$(kernel_fwd_count "$h")
	check "$PINGS pings guest 2 -> upstream answered" ping_all "$g2" 192.0.2.1 "$PINGS"
	k1=$(kernel_fwd_count "$h")
	s=$(delta "$h" fwd_snat) d=$(delta "$h" fwd_dnat)
	log_info "late guest: fwd_snat +$s fwd_snat_tc +$(delta "$h" fwd_snat_tc) fwd_dnat +$d pass_fdb_miss +$(delta "$h" pass_fdb_miss) kernel +$((k1 - k0))"
	check_cmp "guest 2: fwd_snat moved by >= $((PINGS - SLACK)) (+$s)" "$s" -ge $((PINGS - SLACK))
	check_cmp "guest 2: the kernel forwarded <= $SLACK (+$((k1 - k0)))" $((k1 - k0)) -le "$SLACK"
	check "guest 1 still NAT'd" ping_all "$g" 192.0.2.1 5
	check_rc 0 "unload --all" vnat_in "$h" unload --all
	bg_wait_timeout 5 "$T4_D"
}

model_t4_bridged()
{
	test_group "models: t4-bridged"
	bridged_model t4b_ 192.0.2.2 192.0.2.1 192.0.2.3 enp4s0
}

for m in $MODELS; do
	case $m in
	isolated) model_isolated ;;
	routed) model_routed ;;
	nat) model_nat ;;
	bridged) model_bridged ;;
	nsrouter) model_nsrouter ;;
	t4) model_t4 ;;
	t4-bridged) model_t4_bridged ;;
	*) die "unknown model '$m'" ;;
	esac
done

exit_summary
