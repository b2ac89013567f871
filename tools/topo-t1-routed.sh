# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# topo-t1-routed.sh - the routed part of topology T1 (docs: TOPOLOGIES.md),
# built from network namespaces. Sourced by selftests/net/routed.sh; it
# sources selftests/net/lib.sh itself.
#
#   [vm1] eth0 203.0.113.229/24, default via 203.0.113.2
#     |
#   eth1 203.0.113.2/24
#   [vm3] router, ip_forward=1 (vnat runs here: --iface eth0 --iface eth1)
#   eth0 192.168.1.101/24
#     |
#   [lan] eth0 192.168.1.1/24, 203.0.113.0/24 via 192.168.1.101
#
# t1_routed_create [PFX] makes namespaces ${PFX}vm1, ${PFX}vm3, ${PFX}lan,
# so NS_${PFX}vm1 ... hold their full names. A second copy with another PFX
# is a second, independent router with the same addresses and names.
# The endpoints are left as the kernel creates them (nothing tuned).

# shellcheck source-path=SCRIPTDIR
# shellcheck source=../selftests/net/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../selftests/net/lib.sh"

T1_VM1_ADDR=203.0.113.229
T1_VM3_IN_ADDR=203.0.113.2
T1_VM3_OUT_ADDR=192.168.1.101
T1_LAN_ADDR=192.168.1.1
T1_IN_NET=203.0.113.0/24

t1_routed_create()
{
	local pfx=${1:-} vm1 vm3 lan

	ns_create "${pfx}vm1" "${pfx}vm3" "${pfx}lan"
	vm1=$(ns "${pfx}vm1") && vm3=$(ns "${pfx}vm3") && lan=$(ns "${pfx}lan") ||
		return 1

	must "veth vm1/eth0 <-> vm3/eth1" veth_pair "$vm1" eth0 "$vm3" eth1
	must "veth vm3/eth0 <-> lan/eth0" veth_pair "$vm3" eth0 "$lan" eth0

	must "vm1 address" ip -n "$vm1" addr add "$T1_VM1_ADDR/24" dev eth0
	must "vm1 default route" ip -n "$vm1" route add default via "$T1_VM3_IN_ADDR"
	must "vm3 eth1 address" ip -n "$vm3" addr add "$T1_VM3_IN_ADDR/24" dev eth1
	must "vm3 eth0 address" ip -n "$vm3" addr add "$T1_VM3_OUT_ADDR/24" dev eth0
	must "lan address" ip -n "$lan" addr add "$T1_LAN_ADDR/24" dev eth0
	must "lan route back" ip -n "$lan" route add "$T1_IN_NET" via "$T1_VM3_OUT_ADDR"

	# New namespaces copy the root's IPv4 settings: set every one we rely on.
	must "vm3 ip_forward=1" in_ns "$vm3" sysctl -qw net.ipv4.ip_forward=1
	must "vm1 ip_forward=0" in_ns "$vm1" sysctl -qw net.ipv4.ip_forward=0
	must "lan ip_forward=0" in_ns "$lan" sysctl -qw net.ipv4.ip_forward=0

	# veth carrier comes up asynchronously: wait for it rather than sleep.
	must "vm1 eth0 up" slowwait 5 t1_link_up "$vm1" eth0
	must "lan eth0 up" slowwait 5 t1_link_up "$lan" eth0
	return 0
}

t1_link_up()
{
	ip -n "$1" link show dev "$2" | grep -q 'state UP'
}

# t1_warmup [PFX]: let the kernel resolve every neighbour on the path (the
# fast path hands a flow to the kernel until its next hop is resolved).
t1_warmup()
{
	local pfx=${1:-}

	in_ns "$(ns "${pfx}vm1")" ping -q -c 2 -i 0.2 -W 2 "$T1_LAN_ADDR" &&
		in_ns "$(ns "${pfx}lan")" ping -q -c 2 -i 0.2 -W 2 "$T1_VM1_ADDR" &&
		slowwait 5 t1_neigh_valid "$(ns "${pfx}vm3")" eth0 "$T1_LAN_ADDR" &&
		slowwait 5 t1_neigh_valid "$(ns "${pfx}vm3")" eth1 "$T1_VM1_ADDR"
}

t1_neigh_valid()
{
	ip -n "$1" neigh show dev "$2" to "$3" |
		grep -qE 'REACHABLE|STALE|DELAY|PROBE|PERMANENT'
}
