# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# topo-t1-host.sh - topology T1 (docs: TOPOLOGIES.md, seed 000) with the NAT
# role on the KVM host that owns br1, built from network namespaces, every
# endpoint as the kernel creates it (nothing tuned). Sourced by
# tools/demo.sh; it sources selftests/net/lib.sh itself.
#
#   [vm1] eth0 203.0.113.229/24        [router1] eth0 203.0.113.1/24
#         default via .1 (router1)               default via .2, ip_forward=1
#            |                                      |
#          vnet0 ---------- br1 203.0.113.2/24 --- vnet1
#   [host] ip_forward=1, default via 192.168.1.1
#          eth0 192.168.1.101/24 (uplink; vnat load --iface br1 --snat 192.168.1.101)
#            |
#   [lan]  eth0 192.168.1.1/24, ip_forward=1, no route to 203.0.113.0/24
#          eth1 198.51.100.1/24
#            |
#   [pub]  eth0 198.51.100.53/24, default via .1 (seed 000's public DNS
#          server, renumbered into a documentation range: "the internet")
#
# vm1's gateway is router1, whose default route points back into br1 at
# the host: every packet router1 forwards for vm1 leaves the way it came,
# and router1's kernel sends vm1 an ICMP redirect (the seed's symptom).
#
# t1_host_create makes namespaces host, vm1, router1, lan, pub; NS_host ...
# hold their full names.

# shellcheck source-path=SCRIPTDIR
# shellcheck source=../selftests/net/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../selftests/net/lib.sh"

T1_VM1_ADDR=203.0.113.229
T1_ROUTER1_ADDR=203.0.113.1
T1_HOST_BR_ADDR=203.0.113.2
T1_HOST_OUT_ADDR=192.168.1.101
T1_LAN_ADDR=192.168.1.1
T1_PUB_GW=198.51.100.1
T1_PUB_ADDR=198.51.100.53

t1_host_link_up()
{
	ip -n "$1" link show dev "$2" | grep -q 'state UP'
}

# t1_host_guest PORT GUEST ADDR GW: a guest on br1 through veth PORT.
t1_host_guest()
{
	local h g

	h=$(ns host) g=$(ns "$2") || return 1
	veth_pair "$h" "$1" "$g" eth0 &&
		ip -n "$h" link set "$1" master br1 &&
		ip -n "$g" addr add "$3/24" dev eth0 &&
		ip -n "$g" route add default via "$4"
}

t1_host_create()
{
	local h vm1 r1 lan pub

	ns_create host vm1 router1 lan pub
	h=$(ns host) vm1=$(ns vm1) r1=$(ns router1) lan=$(ns lan) pub=$(ns pub)

	must "host: bridge br1" ip -n "$h" link add br1 type bridge stp_state 0 forward_delay 0
	must "host: br1 address" ip -n "$h" addr add "$T1_HOST_BR_ADDR/24" dev br1
	must "host: br1 up" ip -n "$h" link set br1 up
	must "vm1 on br1 (vnet0)" t1_host_guest vnet0 vm1 "$T1_VM1_ADDR" "$T1_ROUTER1_ADDR"
	must "router1 on br1 (vnet1)" t1_host_guest vnet1 router1 "$T1_ROUTER1_ADDR" "$T1_HOST_BR_ADDR"
	must "veth host/eth0 <-> lan/eth0" veth_pair "$h" eth0 "$lan" eth0
	must "host: eth0 address" ip -n "$h" addr add "$T1_HOST_OUT_ADDR/24" dev eth0
	must "host: default route" ip -n "$h" route add default via "$T1_LAN_ADDR"
	must "veth lan/eth1 <-> pub/eth0" veth_pair "$lan" eth1 "$pub" eth0
	must "lan: eth0 address" ip -n "$lan" addr add "$T1_LAN_ADDR/24" dev eth0
	must "lan: eth1 address" ip -n "$lan" addr add "$T1_PUB_GW/24" dev eth1
	must "pub: address" ip -n "$pub" addr add "$T1_PUB_ADDR/24" dev eth0
	must "pub: default route" ip -n "$pub" route add default via "$T1_PUB_GW"

	# New namespaces copy the root's IPv4 settings: set every one we rely on.
	must "host ip_forward=1" in_ns "$h" sysctl -qw net.ipv4.ip_forward=1
	must "lan ip_forward=1" in_ns "$lan" sysctl -qw net.ipv4.ip_forward=1
	must "router1 ip_forward=1, send_redirects=1" in_ns "$r1" sysctl -qw \
		net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=1 \
		net.ipv4.conf.eth0.send_redirects=1
	# vm1 is an ordinary host: it obeys the redirects that reach it.
	must "vm1 ip_forward=0, accept_redirects=1" in_ns "$vm1" sysctl -qw \
		net.ipv4.ip_forward=0 net.ipv4.conf.all.accept_redirects=1 \
		net.ipv4.conf.eth0.accept_redirects=1
	must "pub ip_forward=0" in_ns "$pub" sysctl -qw net.ipv4.ip_forward=0

	# veth carrier comes up asynchronously: wait for it rather than sleep.
	must "vm1 eth0 up" slowwait 5 t1_host_link_up "$vm1" eth0
	must "router1 eth0 up" slowwait 5 t1_host_link_up "$r1" eth0
	must "lan eth0 up" slowwait 5 t1_host_link_up "$lan" eth0
	must "pub eth0 up" slowwait 5 t1_host_link_up "$pub" eth0
	must "br1 up" slowwait 5 t1_host_link_up "$h" br1
	return 0
}
