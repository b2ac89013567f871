#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# topo.sh - the benchmark's topologies, built with selftests/net/lib.sh
# (namespaces with a random suffix, removed by its EXIT trap). bench.py runs
# it as a child:
#
#   topo.sh KIND RULES
#     KIND   veth     client c0 -- r0 [router] r1 -- s0 sink (packet rate)
#            bridge   c0 -- p0 [router: br0] p1 -- s0 (guest to guest)
#            libvirt  guest g1 -- vnet0 [host: virbr0, eth0] -- eth0 out
#                     (real endpoints: every endpoint as the kernel makes it)
#            tap      the same with g1 behind a tap written with vnet
#                     headers (build/tools/vnet-relay)
#                     Both also build the floor: the same guest and outside
#                     host joined directly, without a router.
#     RULES  none | iptables | nft: libvirt's FORWARD and POSTROUTING rules
#            (seed 001) in the router, the inside interface for virbr0
#
# prints KEY=VALUE lines (namespaces, interfaces, MACs), then READY, and
# keeps everything until its standard input closes. It never tunes an
# endpoint: the only offload it sets is GRO on the router's own veths of
# the packet-rate topologies, which receive the generator's XDP frames (a
# veth takes XDP frames only with NAPI, i.e. GRO or an XDP program).

# Most functions here run through lib.sh's must, where shellcheck cannot
# see the call.
# shellcheck disable=SC2317
# shellcheck source-path=SCRIPTDIR
# shellcheck source=../../selftests/net/lib_nat.sh
source "$(dirname "$(readlink -f "$0")")/../../selftests/net/lib_nat.sh"

IPTABLES=${BENCH_IPTABLES:-iptables-legacy}
VNET_RELAY=${VNET_RELAY:-$REPO_ROOT/build/tools/vnet-relay}

# Addresses: documentation and private ranges only, inside our namespaces.
IN_NET=192.168.122.0/24 # libvirt's default network, as in seed 001
IN_GW=192.168.122.1
IN_HOST=192.168.122.2
BR_PEER=192.168.122.3
OUT_ADDR=198.51.100.1 # the router's uplink address: the SNAT address
SINK_ADDR=198.51.100.2
FAR_NET=203.0.113.0/24 # "the internet", behind the sink
FAR_HOST=203.0.113.1

say()
{
	echo "$1=$2"
}

mac_of()
{
	in_ns "$1" cat "/sys/class/net/$2/address"
}

quiet_ns() # no IPv6 chatter (router solicitations, MLD) in the counters
{
	in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

napi_on() # NS IF: GRO, so a router-side veth takes XDP frames and has a NAPI thread
{
	in_ns "$1" ethtool -K "$2" gro on >/dev/null
}

# The libvirt rules with INSIDE for virbr0, in iptables or nftables.
rules_load() # NS INSIDE RULES
{
	local n=$1 i=$2

	case $3 in
	none) return 0 ;;
	iptables)
		printf '*filter\n%s\nCOMMIT\n*nat\n%s\nCOMMIT\n' \
			"${LIBVIRT_FILTER_RULES//virbr0/$i}" "$LIBVIRT_NAT_RULES" |
			in_ns "$n" "$IPTABLES-restore"
		;;
	nft) rules_nft "$n" "$i" ;;
	*)
		echo "topo.sh: rules '$3': none, iptables or nft" >&2
		return 1
		;;
	esac
}

rules_nft() # NS INSIDE: the same rules written for nftables
{
	in_ns "$1" nft -f - <<EOF
table ip libvirt_bench {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ip daddr $IN_NET oifname "$2" ct state related,established accept
		ip saddr $IN_NET iifname "$2" accept
		iifname "$2" oifname "$2" accept
		oifname "$2" reject with icmp type port-unreachable
		iifname "$2" reject with icmp type port-unreachable
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr $IN_NET ip daddr 224.0.0.0/24 return
		ip saddr $IN_NET ip daddr 255.255.255.255 return
		ip saddr $IN_NET ip daddr != $IN_NET meta l4proto tcp masquerade to :1024-65535
		ip saddr $IN_NET ip daddr != $IN_NET meta l4proto udp masquerade to :1024-65535
		ip saddr $IN_NET ip daddr != $IN_NET masquerade
	}
}
EOF
}

# vnat is loaded by bench.py through nsenter; unload it before the
# namespace goes, whatever happened.
vnat_unload_at_exit()
{
	defer nsenter_ns "$1" "$VNAT" unload --all
}

#   C (client)  c0 192.168.122.2/24, default via .1
#   R (router)  r0 192.168.122.1/24 (inside)   r1 198.51.100.1/24 (uplink)
#   S (sink)    s0 198.51.100.2/24 + 203.0.113.1/24, 192.168.122.0/24 via .1
topo_veth()
{
	local c r s

	ns_create vbc vbr vbs
	c=$(ns vbc) r=$(ns vbr) s=$(ns vbs)
	vnat_unload_at_exit "$r"
	must "veth c0 -- r0" veth_pair "$c" c0 "$r" r0
	must "veth r1 -- s0" veth_pair "$r" r1 "$s" s0
	must "c0 address" ip -n "$c" addr add "$IN_HOST/24" dev c0
	must "r0 address" ip -n "$r" addr add "$IN_GW/24" dev r0
	must "r1 address" ip -n "$r" addr add "$OUT_ADDR/24" dev r1
	must "s0 address" ip -n "$s" addr add "$SINK_ADDR/24" dev s0
	must "s0 far address" ip -n "$s" addr add "$FAR_HOST/24" dev s0
	must "c0 default route" ip -n "$c" route add default via "$IN_GW"
	must "r far route" ip -n "$r" route add "$FAR_NET" via "$SINK_ADDR"
	must "s inside route" ip -n "$s" route add "$IN_NET" via "$OUT_ADDR"
	must "r ip_forward" in_ns "$r" sysctl -qw net.ipv4.ip_forward=1
	must "r0 NAPI" napi_on "$r" r0
	must "r1 NAPI" napi_on "$r" r1
	for n in "$c" "$r" "$s"; do
		must "$n: no IPv6" quiet_ns "$n"
	done
	# Static neighbours: no ARP in the counters, no resolution in a trial.
	must "c neigh" ip -n "$c" neigh replace "$IN_GW" lladdr "$(mac_of "$r" r0)" dev c0 nud permanent
	must "r neigh c" ip -n "$r" neigh replace "$IN_HOST" lladdr "$(mac_of "$c" c0)" dev r0 nud permanent
	must "r neigh s" ip -n "$r" neigh replace "$SINK_ADDR" lladdr "$(mac_of "$s" s0)" dev r1 nud permanent
	must "s neigh" ip -n "$s" neigh replace "$OUT_ADDR" lladdr "$(mac_of "$r" r1)" dev s0 nud permanent
	must "libvirt rules ($RULES)" rules_load "$r" r0 "$RULES"
	say ns_c "$c"
	say ns_r "$r"
	say ns_s "$s"
	say in_if r0
	say out_if r1
	say bridge_if ""
	say mac_c "$(mac_of "$c" c0)"
	say mac_s "$(mac_of "$s" s0)"
	say gen_dmac "$(mac_of "$r" r0)"
}

port_forwarding() # NS PORT
{
	in_ns "$1" bridge link show dev "$2" | grep -q 'state forwarding'
}

ports_forwarding() # NS: both bridge ports forward
{
	[ "$(in_ns "$1" bridge link show | grep -c 'state forwarding')" = 2 ]
}

#   C (guest 1)  c0 192.168.122.2/24 --- p0 \
#                                           br0 192.168.122.1/24   R (host)
#   S (guest 2)  s0 192.168.122.3/24 --- p1 /
topo_bridge()
{
	local c r s

	ns_create vbc vbr vbs
	c=$(ns vbc) r=$(ns vbr) s=$(ns vbs)
	vnat_unload_at_exit "$r"
	must "veth c0 -- p0" veth_pair "$c" c0 "$r" p0
	must "veth p1 -- s0" veth_pair "$r" p1 "$s" s0
	must "bridge br0" ip -n "$r" link add br0 type bridge stp_state 0 forward_delay 0
	must "p0 into br0" ip -n "$r" link set p0 master br0
	must "p1 into br0" ip -n "$r" link set p1 master br0
	must "br0 address" ip -n "$r" addr add "$IN_GW/24" dev br0
	must "br0 up" ip -n "$r" link set br0 up
	must "c0 address" ip -n "$c" addr add "$IN_HOST/24" dev c0
	must "s0 address" ip -n "$s" addr add "$BR_PEER/24" dev s0
	must "p0 NAPI" napi_on "$r" p0
	must "p1 NAPI" napi_on "$r" p1
	for n in "$c" "$r" "$s"; do
		must "$n: no IPv6" quiet_ns "$n"
	done
	must "c neigh" ip -n "$c" neigh replace "$BR_PEER" lladdr "$(mac_of "$s" s0)" dev c0 nud permanent
	must "s neigh" ip -n "$s" neigh replace "$IN_HOST" lladdr "$(mac_of "$c" c0)" dev s0 nud permanent
	# Static FDB entries: no learning or ageing in a trial.
	must "fdb c0" in_ns "$r" bridge fdb replace "$(mac_of "$c" c0)" dev p0 master static
	must "fdb s0" in_ns "$r" bridge fdb replace "$(mac_of "$s" s0)" dev p1 master static
	# A new bridge's ports drop what arrives before they forward.
	must "bridge ports forwarding" slowwait 5 ports_forwarding "$r"
	must "guests reach each other" slowwait 5 in_ns "$c" ping -q -c 1 -W 1 "$BR_PEER"
	say ns_c "$c"
	say ns_r "$r"
	say ns_s "$s"
	say in_if p0
	say out_if p1
	say bridge_if br0
	say mac_c "$(mac_of "$c" c0)"
	say mac_s "$(mac_of "$s" s0)"
	say gen_dmac "$(mac_of "$s" s0)"
}

#   [g1]   eth0 192.168.122.2/24, default via .1     (a veth, or a tap guest)
#            |
#   [host] vnet0 -- virbr0 192.168.122.1/24, ip_forward=1, libvirt's rules
#          eth0 198.51.100.1/24, default via .2      (the uplink, a veth)
#            |
#   [out]  eth0 198.51.100.2/24                      (no route back inside)
topo_libvirt() # veth | tap
{
	local g h o

	ns_create vbh vbo
	h=$(ns vbh) o=$(ns vbo)
	vnat_unload_at_exit "$h"
	must "bridge virbr0" ip -n "$h" link add virbr0 type bridge stp_state 0 forward_delay 0
	must "virbr0 address" ip -n "$h" addr add "$IN_GW/24" dev virbr0
	must "virbr0 up" ip -n "$h" link set virbr0 up
	# lib.sh's guests: a veth, or taps joined by vnet-relay (a virtio guest)
	must "$1 guest on virbr0" "$1_guest_add" vbg "$h" virbr0 vnet0 "$IN_HOST/24" "$IN_GW"
	g=$(ns vbg)
	must "veth host/eth0 -- out/eth0" veth_pair "$h" eth0 "$o" eth0
	must "host uplink address" ip -n "$h" addr add "$OUT_ADDR/24" dev eth0
	must "host default route" ip -n "$h" route add default via "$SINK_ADDR"
	must "host ip_forward" in_ns "$h" sysctl -qw net.ipv4.ip_forward=1
	must "out address" ip -n "$o" addr add "$SINK_ADDR/24" dev eth0
	for n in "$g" "$h" "$o"; do
		must "$n: no IPv6" quiet_ns "$n"
	done
	must "libvirt rules ($RULES)" rules_load "$h" virbr0 "$RULES"
	must "vnet0 forwarding" slowwait 5 port_forwarding "$h" vnet0
	must "guest reaches the outside" slowwait 10 in_ns "$g" ping -q -c 1 -W 1 "$SINK_ADDR"
	topo_direct "$1"
	say ns_g "$g"
	say ns_h "$h"
	say ns_o "$o"
	say guest_addr "$IN_HOST"
	say out_addr "$OUT_ADDR"
	say far_addr "$SINK_ADDR"
}

# The floor of the real-endpoint rows: the same two endpoints joined without
# a router (a veth pair, or the guest's tap relayed straight into a tap of
# the outside host), the same addresses, each on-link for the other.
#   [dg] eth0 192.168.122.2/24 ----- eth0 198.51.100.2/24 [do]
topo_direct() # veth | tap
{
	local g o

	ns_create vbd vbe
	g=$(ns vbd) o=$(ns vbe)
	if [ "$1" = tap ]; then
		must "direct tap guest" tap_guest "$g" "$o" eth0
	else
		must "veth dg/eth0 -- do/eth0" veth_pair "$g" eth0 "$o" eth0
	fi
	must "direct guest address" ip -n "$g" addr add "$IN_HOST/24" dev eth0
	must "direct guest route" ip -n "$g" route add "${SINK_ADDR%.*}.0/24" dev eth0
	must "direct outside address" ip -n "$o" addr add "$SINK_ADDR/24" dev eth0
	must "direct outside route" ip -n "$o" route add "$IN_NET" dev eth0
	for n in "$g" "$o"; do
		must "$n: no IPv6" quiet_ns "$n"
	done
	must "direct guest reaches the outside" slowwait 10 in_ns "$g" ping -q -c 1 -W 1 "$SINK_ADDR"
	say ns_dg "$g"
	say ns_do "$o"
}

# The floor's tap guest: vnet-relay writes the guest's frames, with their
# vnet headers, straight into a tap of the outside host (lib.sh's
# tap_guest_add makes the host's tap a bridge port, which the floor has
# none of). The relay is ours (bg_in_ns), stopped at cleanup.
tap_guest() # GUEST_NS HOST_NS HOST_TAP
{
	local log

	[ -x "$VNET_RELAY" ] || {
		echo "no vnet-relay at $VNET_RELAY (run make)" >&2
		return 1
	}
	bg_in_ns RELAY_PID "$2" "$VNET_RELAY" --host-ns "$2" --host-tap "$3" --guest-ns "$1" --guest-tap eth0
	log=$RELAY_PID_LOG
	slowwait 5 relay_settled "$log" "$RELAY_PID"
	grep -q '^ready ' "$log" || {
		cat "$log" >&2
		return 1
	}
	ip -n "$1" link set eth0 up && ip -n "$2" link set "$3" up
}

relay_settled() # LOG PID: the relay said "ready", or it has exited
{
	grep -q '^ready ' "$1" || lib_pid_gone "$2"
}

main()
{
	local kind=${1:-} rules=${2:-none}

	RULES=$rules
	case $kind in
	veth) topo_veth ;;
	bridge) topo_bridge ;;
	libvirt) topo_libvirt veth ;;
	tap) topo_libvirt tap ;;
	*)
		echo "usage: topo.sh veth|bridge|libvirt|tap none|iptables|nft" >&2
		exit 1
		;;
	esac
	echo READY
	# Hold the namespaces until bench.py closes our input (or dies).
	while read -r _; do :; done
	# lib.sh: no PASS/FAIL summary for a topology that was only held
	# shellcheck disable=SC2034
	LIB_SUMMARY_DONE=1
	exit 0
}

main "$@"
