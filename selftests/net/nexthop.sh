#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nexthop.sh - an established flow's cached next hop follows the kernel.
# vnat keeps the next hop (transmit port, MACs) an established NAT flow was
# routed with in the flow's vnat_ct entry, so its packets skip
# bpf_fib_lookup (docs/ARCHITECTURE.md). A neighbour or route change must
# still reach such a flow: with `vnat daemon` running through the
# generation bump it makes on every rtnetlink event (checked on vnat_gen and
# the flow's cached next hop, not by timing), and without a daemon within
# the cached entry's maximum age (1 s).
#
#   vm1 203.0.113.229 -- eth1 [vm3] eth0 192.168.1.101 -- [lan] 192.168.1.1 -- [pub] 198.51.100.53
#
# One UDP flow (the same source port every time) from vm1 to a server in
# pub, answered with what pub saw; lan has no route back to vm1, so an
# answer means vnat translated both ways. Changes made on vm3:
#   - lan's MAC changes and vm3's neighbour entry with it: frames to the old
#     MAC would be dropped by lan, so an answer means the new MAC was used;
#   - an unreachable route to pub: the flow's datagrams must go to the
#     kernel (pass_no_route), which refuses them; the route removed, the
#     flow is answered through XDP again.
#
# Usage: nexthop.sh        (V=1 for all command output; VNAT=path to override)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_nat.sh
source "$(dirname "$0")/lib_nat.sh"

SNAT=$T1_VM3_OUT_ADDR
PORT=7010
SPORT=41000 # the flow's inside source port, kept as its outside port
LAN_MAC2=02:00:00:00:aa:02
LAN_MAC3=02:00:00:00:aa:03

require_root
require_cmd ip ethtool ping socat python3 timeout ss bpftool
require_vnat

# ask: one datagram of the flow; pub must have seen the SNAT address and port.
ask()
{
	expect_peer "$SNAT:$SPORT" peer_ask_udp "$VM1" "$T1_PUB_ADDR" "$PORT" "$SPORT"
}

no_answer()
{
	! peer_ask_udp "$VM1" "$T1_PUB_ADDR" "$PORT" "$SPORT"
}

# counter_grew NAME BEFORE: counter NAME of vm3 is above BEFORE.
counter_grew()
{
	local now

	now=$(counter "$VM3" "$1") || return 1
	echo "$1: $2 -> $now"
	[ "$now" -gt "$2" ]
}

# lan_mac_to MAC: lan's uplink gets MAC, and vm3's neighbour entry follows
# (as a gratuitous ARP would make it; set here so no timing is involved).
lan_mac_to()
{
	ip -n "$LAN" link set eth0 address "$1" &&
		ip -n "$VM3" neigh replace "$T1_LAN_ADDR" lladdr "$1" dev eth0 nud reachable
}

# pin NAME: vm3's pinned map NAME (bpftool runs here, in the root mount
# namespace, where the pins are).
pin()
{
	echo "/sys/fs/bpf/vnat/netns-$(ns_inode "$VM3")/$1"
}

# gen_user: vm3's VNAT_GEN_USER element of vnat_gen (user space's bumps).
gen_user()
{
	bpftool -j map dump pinned "$(pin vnat_gen)" |
		json_get '[e["formatted"]["value"] for e in d if e["formatted"]["key"] == 0][0]'
}

# gen_sum: the generation the datapath compares (the elements' sum, as the
# __u32 a cached next hop stores).
gen_sum()
{
	bpftool -j map dump pinned "$(pin vnat_gen)" |
		json_get 'sum(e["formatted"]["value"] for e in d) % 2**32'
}

# gen_grew BEFORE: the user generation is above BEFORE (the daemon bumped).
gen_grew()
{
	local now

	now=$(gen_user) || return 1
	echo "vnat_gen user: $1 -> $now"
	[ "$now" -gt "$1" ]
}

# flow_nh: "GEN MAC" of the flow's cached outbound next hop (vnat_ct, nh[0]).
flow_nh()
{
	bpftool -j map dump pinned "$(pin vnat_ct)" | json_get "
[('%d ' % e['formatted']['value']['nh'][0]['gen']) +
 ':'.join('%02x' % b for b in e['formatted']['value']['nh'][0]['dmac'])
 for e in d if e['formatted']['key']['proto'] == 17 and
 __import__('socket').ntohs(e['formatted']['key']['inside_port']) == $SPORT][0]"
}

# nh_newer BEFORE [MAC]: the flow's cached next hop was looked up under a
# generation above BEFORE (gen_sum before a change), so after the bump, not
# because the old one aged out; and goes to MAC.
nh_newer()
{
	local nh gen mac

	nh=$(flow_nh) || return 1
	read -r gen mac <<<"$nh"
	echo "cached next hop: generation $gen (before the change: $1), dmac $mac"
	[ "$gen" -gt "$1" ] && { [ -z "${2:-}" ] || [ "$mac" = "${2,,}" ]; }
}

# ---------------------------------------------------------------- topology

nat_t1_create
VM1=$(ns vm1) VM3=$(ns vm3) LAN=$(ns lan) PUB=$(ns pub)
defer vnat_in "$VM3" unload --all

test_group "nexthop: set-up"
must "neighbours resolve" nat_t1_warmup
check_rc 0 "vnat load --iface eth1 --snat $SNAT" \
	vnat_in "$VM3" load --iface eth1 --snat "$SNAT" ||
	die "vnat load failed: nothing else can be tested"
must "UDP server in pub" peer_server_udp SRV "$PUB" "$PORT"
check "the flow is answered, translated" ask
SNAT0=$(counter "$VM3" fwd_snat)
check "... and again" ask
check "its later datagrams go through XDP (fwd_snat)" counter_grew fwd_snat "$SNAT0"

# ---------------------------------------------------------------- daemon

test_group "nexthop: with vnat daemon"
bg_in_ns DAEMON "$VM3" "$VNAT" daemon
check "the flow is answered with the daemon running" slowwait 5 ask

# Each change: the daemon's bump comes first (the user generation grows), and
# the flow's next datagram after it takes the new path; its cached next hop
# is one looked up under the new generation: the bump made it, not the 1 s
# maximum age (which would store the old generation again).
GEN0=$(gen_user) SUM0=$(gen_sum)
must "lan's MAC changes, vm3's neighbour follows" lan_mac_to "$LAN_MAC2"
SNAT0=$(counter "$VM3" fwd_snat)
check "the daemon bumps the generation on the neighbour event" slowwait 2 gen_grew "$GEN0"
check "a neighbour change reaches the established flow" slowwait 5 ask
check "... through XDP, with the new MAC" counter_grew fwd_snat "$SNAT0"
check "... its next hop looked up again under the daemon's bump" nh_newer "$SUM0" "$LAN_MAC2"

NOROUTE0=$(counter "$VM3" pass_no_route)
GEN0=$(gen_user)
must "vm3: unreachable route to pub" ip -n "$VM3" route add unreachable "$T1_PUB_ADDR/32"
check "the daemon bumps the generation on the route event" slowwait 2 gen_grew "$GEN0"
check "a route change reaches the established flow: no answer" slowwait 5 no_answer
check "... its datagrams go to the kernel (pass_no_route)" \
	counter_grew pass_no_route "$NOROUTE0"
GEN0=$(gen_user) SUM0=$(gen_sum)
must "vm3: remove the unreachable route" ip -n "$VM3" route del unreachable "$T1_PUB_ADDR/32"
SNAT0=$(counter "$VM3" fwd_snat)
check "the daemon bumps the generation on the route removal" slowwait 2 gen_grew "$GEN0"
check "the route removed, the flow is answered again" slowwait 5 ask
check "... through XDP" counter_grew fwd_snat "$SNAT0"
check "... its next hop looked up under the daemon's bump" nh_newer "$SUM0" "$LAN_MAC2"

kill -TERM "$DAEMON" 2>/dev/null
check "the daemon stops on SIGTERM" bg_wait_timeout 5 "$DAEMON"

# ---------------------------------------------------------------- no daemon

test_group "nexthop: without a daemon (the cached entry's age)"
check "the flow is answered" slowwait 2 ask
must "lan's MAC changes again, vm3's neighbour follows" lan_mac_to "$LAN_MAC3"
SNAT0=$(counter "$VM3" fwd_snat)
# VNAT_NH_MAX_AGE_NS is 1 s; a datagram every ~0.1 s of the wait.
check "a neighbour change reaches the flow within the maximum age" slowwait 5 ask
check "... through XDP" counter_grew fwd_snat "$SNAT0"

exit_summary
