#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# losses.sh - frames the kernel drops after vnat forwarded them show in
# `vnat status`, per interface, next to the fwd_* counters that counted
# them as sent.
#
#   [a] eth0 203.0.113.10/24, default via .1
#     |
#   eth1 203.0.113.1/24
#   [r] router, ip_forward=1: vnat load --iface eth0 --iface eth1 [--hook xdp]
#   eth0 198.51.100.1/24
#     |
#   [b] eth0 198.51.100.2/24, 203.0.113.0/24 via .1
#
# vnat forwards a's pings from r's eth1 into r's eth0, where the kernel
# drops them in two ways. First, with the default load and nothing tuned,
# b's eth0 gets a smaller MTU than r's eth0: the veth drops every longer
# frame, whichever hook sent it. Then with --hook xdp: a veth hands XDP
# frames to its peer only when the peer has an XDP program or GRO. a's and
# b's eth0 are given what --hook xdp requires (GRO on, tx checksums off)
# for the load, then b's GRO goes off. These settings are this part's
# subject (the loss the issue measured with untuned veths): from then on
# every echo request vnat counts in fwd_routed is dropped by the kernel,
# and status must show it in an interface's kernel_drops. Where
# depends on the kernel: since 6.3 a veth whose peer cannot take XDP frames
# does not advertise ndo_xdp_xmit, the redirect fails at once and the
# receiving interface (r's eth1) counts rx_dropped; before, the transmit
# fails in the target veth (r's eth0: tx_dropped and the ethtool
# tx_queue_N_xdp_xmit_errors).
#
# Usage: losses.sh        (V=1 for all command output; VNAT=path to override)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

PINGS=20
A_ADDR=203.0.113.10
R_IN=203.0.113.1
R_OUT=198.51.100.1
B_ADDR=198.51.100.2

require_root
require_cmd ip ethtool ping python3 timeout
require_vnat

link_up()
{
	ip -n "$1" link show dev "$2" | grep -q 'state UP'
}

neigh_valid()
{
	ip -n "$1" neigh show dev "$2" to "$3" |
		grep -qE 'REACHABLE|STALE|DELAY|PROBE|PERMANENT'
}

# gro NS IF on|off, then check ethtool reports it so.
gro()
{
	in_ns "$1" ethtool -K "$2" gro "$3" &&
		in_ns "$1" ethtool -k "$2" | grep -qx "generic-receive-offload: $3"
}

# drops: "IFACE FIELD VALUE" for every kernel_drops figure in r's status -j.
drops()
{
	local js

	js=$(vnat_status_json "$R") || return 1
	json_get "'\\n'.join(f\"{i['name']} {k} {v}\" for i in d['interfaces'] for k, v in sorted(i['kernel_drops'].items()))" <<<"$js"
}

# drops_moved BEFORE AFTER: the figures that grew, "IFACE FIELD +N" each.
drops_moved()
{
	join <(sort <<<"$1" | awk '{ print $1 "/" $2, $3 }') <(sort <<<"$2" | awk '{ print $1 "/" $2, $3 }') |
		awk '$3 > $2 { print $1, "+" ($3 - $2) }'
}

# drops_total MOVED: the growth summed over interfaces and figures.
drops_total()
{
	awk '{ s += substr($2, 2) } END { print s + 0 }' <<<"$1"
}

# text_shows_drop FILE IFACE FIELD: IFACE's line in status is followed by
# its "dropped by the kernel" line, on which FIELD is not 0.
text_shows_drop()
{
	awk -v dev="$2" -v f="$3" '
		$1 == dev && $2 != "dropped" { getline; print; if ($0 ~ "dropped by the kernel:.* " f " [1-9]") ok = 1 }
		END { exit !ok }' "$1"
}

# ping_replies COUNT [PING_OPTION...]: how many of COUNT pings a -> b came back.
ping_replies()
{
	in_ns "$A" ping -c "$1" "${@:2}" -i 0.05 -W 1 -w $(($1 / 10 + 3)) "$B_ADDR" 2>&1 |
		awk '/received/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^received/) print $i }'
}

ns_create a r b
A=$(ns a) R=$(ns r) B=$(ns b)
must "veth a/eth0 <-> r/eth1" veth_pair "$A" eth0 "$R" eth1
must "veth r/eth0 <-> b/eth0" veth_pair "$R" eth0 "$B" eth0
must "a address" ip -n "$A" addr add "$A_ADDR/24" dev eth0
must "a default route" ip -n "$A" route add default via "$R_IN"
must "r eth1 address" ip -n "$R" addr add "$R_IN/24" dev eth1
must "r eth0 address" ip -n "$R" addr add "$R_OUT/24" dev eth0
must "b address" ip -n "$B" addr add "$B_ADDR/24" dev eth0
must "b route back" ip -n "$B" route add 203.0.113.0/24 via "$R_OUT"
must "r ip_forward=1" in_ns "$R" sysctl -qw net.ipv4.ip_forward=1
must "a ip_forward=0" in_ns "$A" sysctl -qw net.ipv4.ip_forward=0
must "b ip_forward=0" in_ns "$B" sysctl -qw net.ipv4.ip_forward=0
must "a eth0 up" slowwait 5 link_up "$A" eth0
must "b eth0 up" slowwait 5 link_up "$B" eth0

# load [ARGS...]: vnat in r on both interfaces, neighbours resolved so that
# every echo request takes the fast path.
load()
{
	must "vnat load --iface eth0 --iface eth1 $*" \
		vnat_in "$R" load --iface eth0 --iface eth1 "$@"
	must "warm-up a -> b" in_ns "$A" ping -q -c 3 -i 0.2 -W 2 "$B_ADDR"
	must "r knows b" slowwait 5 neigh_valid "$R" eth0 "$B_ADDR"
	must "r knows a" slowwait 5 neigh_valid "$R" eth1 "$A_ADDR"
}

defer vnat_in "$R" unload --all
load
check "status -j has kernel_drops for every interface" json_eq "$(vnat_status_json "$R")" \
	"sorted(i['name'] for i in d['interfaces'] if set(i['kernel_drops']) == {'rx_dropped', 'tx_dropped', 'tx_errors', 'xdp_xmit_errors'})" \
	'["eth0", "eth1"]'

# snapshot / after: the fast path's forwards (XDP and tc) and the drop figures.
snapshot()
{
	F0=$(fast_fwd_count "$R") X0=$(counter "$R" fwd_routed) D0=$(drops)
}

after()
{
	FWD=$(($(fast_fwd_count "$R") - F0))
	XDP=$(($(counter "$R" fwd_routed) - X0))
	MOVED=$(drops_moved "$D0" "$(drops)")
	DROPPED=$(drops_total "$MOVED")
}

# lost_and_shown PINGS_SENT: the checks of a phase in which the kernel drops
# everything vnat forwards from a to b.
lost_and_shown()
{
	local one

	check_cmp "no ping a -> b answered ($GOT)" "$GOT" -eq 0
	check_cmp "the fast path counted them as forwarded (+$FWD)" "$FWD" -ge "$PINGS"
	check_cmp "status -j: kernel_drops moved by >= $PINGS ($(paste -sd' ' <<<"$MOVED"))" \
		"$DROPPED" -ge "$PINGS"
	check_cmp "... by as many as the fast path forwarded (+$FWD)" "$DROPPED" -ge "$FWD"
	one=$(head -n 1 <<<"$MOVED")
	check "status (text) shows the drops" vnat_in "$R" status
	check "... under ${one%%/*}: a 'dropped by the kernel' line, ${one%% *} non-zero" \
		text_shows_drop "$RUN_OUT" "${one%%/*}" "$(awk -F'[/ ]' '{ print $2 }' <<<"$one")"
}

nothing_lost()
{
	check_cmp "$PINGS pings a -> b answered ($GOT)" "$GOT" -eq "$PINGS"
	check_cmp "the fast path forwarded them both ways (+$FWD)" "$FWD" -ge $((2 * PINGS))
	check_cmp "no kernel_drops figure moved (${MOVED:-none})" "$DROPPED" -eq 0
}

test_group "losses: peer receives"
snapshot
GOT=$(ping_replies "$PINGS")
after
nothing_lost

# A link whose two ends disagree on the MTU: the receiving veth drops every
# frame longer than its own MTU, whichever hook transmitted it.
test_group "losses: peer MTU smaller"
must "b eth0 mtu 1200 (r eth0 keeps 1500)" ip -n "$B" link set eth0 mtu 1200
snapshot
GOT=$(ping_replies "$PINGS" -s 1272)
after
lost_and_shown
must "b eth0 mtu 1500" ip -n "$B" link set eth0 mtu 1500
snapshot
GOT=$(ping_replies "$PINGS" -s 1272)
after
nothing_lost

# The issue's case: XDP redirects into a veth whose peer has neither XDP
# nor GRO. --hook xdp is accepted only while the peers take XDP frames and
# send complete checksums; b's GRO goes off after the load.
test_group "losses: peer without GRO"
check_rc 0 "unload --all" vnat_in "$R" unload --all
must "a eth0: what --hook xdp requires (GRO on, tx checksums off)" prepare_xdp_peer "$A" eth0
must "b eth0: the same" prepare_xdp_peer "$B" eth0
load --hook xdp
snapshot
GOT=$(ping_replies "$PINGS")
after
nothing_lost
check_cmp "XDP transmitted them (fwd_routed +$XDP)" "$XDP" -ge $((2 * PINGS))
must "b eth0 gro off (neither XDP nor GRO: XDP frames are dropped)" gro "$B" eth0 off
snapshot
GOT=$(ping_replies "$PINGS")
after
lost_and_shown
must "b eth0 gro on" gro "$B" eth0 on
snapshot
GOT=$(ping_replies "$PINGS")
after
nothing_lost

check_rc 0 "unload --all" vnat_in "$R" unload --all
exit_summary
