#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hook.sh - vnat load --hook: where the fast path runs. T1's NAT role
# (vm1 -- vm3 -- lan -- pub, lib_nat.sh) with every endpoint keeping its
# offloads (checksum offload, TSO, GSO), as guests and containers have them.
#
# Native XDP on a veth takes TSO/GSO from its peer (the veth driver's
# feature fix-up), so bulk TCP then crosses vnat as MTU-sized segments.
# With --hook tc vnat runs on tc ingress only: the peers keep TSO and the
# tc program forwards and translates whole GSO skbs. Checked here: bad
# values change nothing; --hook tc attaches no XDP and the peers keep
# TSO/GSO; TCP both ways through the NAT moves the tc counters, not XDP's
# and not the kernel's ForwDatagrams, with skbs larger than the MTU (GSO
# kept end to end); conns shows the flows; --hook auto (the default) puts
# veths on tc; a bridge's later ports follow its hook; --hook xdp on a veth
# is refused, naming the peer and the setting, while the peer sends partial
# checksums or has no GRO, and runs XDP (taking TSO from the peer, given
# back on unload) once the peer is set up for it: the one test here whose
# subject is those settings.
#
# Usage: hook.sh        (V=1 for all command output; VNAT=path to override)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_nat.sh
source "$(dirname "$0")/lib_nat.sh"

TCP_SIZE=$((8 * 1024 * 1024))
# The handshake's first packets may reach the kernel before vnat's flow exists.
KERNEL_SLACK=4

require_root
require_cmd ip tc ethtool ping socat python3 timeout ss sha256sum
require_vnat

# ---------------------------------------------------------------- helpers

# has_tso NS IF: TSO and GSO on (prints ethtool's lines).
has_tso()
{
	local k

	k=$(in_ns "$1" ethtool -k "$2") || return 1
	grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|tx-checksumming):' <<<"$k"
	grep -q '^tcp-segmentation-offload: on' <<<"$k" &&
		grep -q '^generic-segmentation-offload: on' <<<"$k"
}

no_tso()
{
	! has_tso "$@"
}

# iface_is JSON NAME EXPR WANT: EXPR over i, the status entry of NAME.
iface_is()
{
	local got

	got=$(json_get "next(($3 for i in d['interfaces'] if i['name'] == '$2'), 'absent')" <<<"$1") ||
		return 1
	echo "$2: $3 = $got (want $4)"
	[ "$got" = "$4" ]
}

# no_xdp_on NS IF: ip link shows no XDP program on IF.
no_xdp_on()
{
	local l

	l=$(ip -n "$1" -d link show dev "$2") || return 1
	! grep -q 'prog/xdp' <<<"$l"
}

no_clsact()
{
	! in_ns "$1" tc qdisc show dev "$2" | grep -q clsact
}

no_pins()
{
	[ ! -e "/sys/fs/bpf/vnat/netns-$(ns_inode "$1")" ]
}

# one_line_error FILE WORD...: exactly one line, naming every WORD.
one_line_error()
{
	local w

	cat "$1"
	[ "$(wc -l <"$1")" = 1 ] || return 1
	for w in "${@:2}"; do
		grep -q -- "$w" "$1" || return 1
	done
}

# avg_size_above OLD NEW NAME BYTES: the packets NAME counted between two
# status snapshots (JSON files) averaged more than BYTES: whole GSO skbs.
avg_size_above()
{
	python3 - "$@" <<'EOF'
import json, sys
old, new, name, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
o = json.load(open(old))["counters"][name]
n = json.load(open(new))["counters"][name]
p, b = n["packets"] - o["packets"], n["bytes"] - o["bytes"]
print("%s: %d packets, %d bytes, %d bytes each" % (name, p, b, b // p if p else 0))
sys.exit(0 if p and b // p > limit else 1)
EOF
}

# snap NAME: vnat's status and the kernel's ForwDatagrams, kept as NAME.
snap()
{
	vnat_status_json "$VM3" >"$LIB_TMPDIR/$1.json" &&
		kernel_fwd_count "$VM3" >"$LIB_TMPDIR/$1.fwd"
}

# delta OLD NEW COUNTER: packets COUNTER grew by between two snaps.
delta()
{
	local a b

	a=$(json_get "d['counters']['$3']['packets']" <"$LIB_TMPDIR/$1.json") &&
		b=$(json_get "d['counters']['$3']['packets']" <"$LIB_TMPDIR/$2.json") &&
		echo $((b - a))
}

# kdelta OLD NEW: the kernel's ForwDatagrams growth between two snaps.
kdelta()
{
	echo $(($(cat "$LIB_TMPDIR/$2.fwd") - $(cat "$LIB_TMPDIR/$1.fwd")))
}

# ---------------------------------------------------------------- set-up

nat_t1_create
VM1=$(ns vm1) VM3=$(ns vm3) LAN=$(ns lan) PUB=$(ns pub)
for e in "$VM1 eth0" "$LAN eth0" "$LAN eth1" "$PUB eth0"; do
	read -r n dev <<<"$e"
	must "$dev of ${n%-*}: TSO and GSO on, as the kernel creates veths" has_tso "$n" "$dev"
done
SNAT=(--iface eth1 --snat "$T1_VM3_OUT_ADDR")

# ---------------------------------------------------------------- bad input

test_group "hook: bad input"
run vnat_in "$VM3" load "${SNAT[@]}" --hook xdpp
check_cmp "unknown --hook value: exit 1" "$RUN_RC" -eq 1
check "the error is one line naming --hook and its values" \
	one_line_error "$RUN_ERR" "--hook" "xdpp" "xdp" "tc" "auto"
run vnat_in "$VM3" load "${SNAT[@]}" --hook tc --mode skb
check_cmp "--hook tc with --mode: exit 1" "$RUN_RC" -eq 1
check "the error is one line naming both options" one_line_error "$RUN_ERR" "--mode" "--hook tc"
run vnat_in "$VM3" load "${SNAT[@]}" --hook
check_cmp "--hook without a value: exit 1" "$RUN_RC" -eq 1
check "no pins left behind" no_pins "$VM3"
for dev in eth0 eth1; do
	check "$dev: no XDP attached" no_xdp_on "$VM3" "$dev"
	check "$dev: no clsact qdisc" no_clsact "$VM3" "$dev"
done
check "vm1's eth0 still has TSO/GSO" has_tso "$VM1" eth0

# ---------------------------------------------------------------- --hook tc

test_group "hook: tc"
must "load --hook tc" vnat_in "$VM3" load "${SNAT[@]}" --hook tc
defer vnat_in "$VM3" unload --all
ST=$(vnat_status_json "$VM3")
for dev in eth0 eth1; do
	check "$dev: status says hook tc" iface_is "$ST" "$dev" "i['hook']" tc
	check "$dev: status says --hook tc was asked" iface_is "$ST" "$dev" "i['hook_option']" tc
	check "$dev: status shows no XDP program" iface_is "$ST" "$dev" "i['xdp']['id']" 0
	check "$dev: status shows the tc ingress program" iface_is "$ST" "$dev" "i['tc']['ingress'] > 0" true
	check "$dev: status shows the tc egress program" iface_is "$ST" "$dev" "i['tc']['egress'] > 0" true
	check "$dev: ip link shows no XDP" no_xdp_on "$VM3" "$dev"
done
run vnat_in "$VM3" status
# eth1's row: hook tc, asked tc, why "--hook tc"
check "status text says tc only (--hook tc)" grep -Eq '^ +eth1 .* tc +tc +--hook tc ' "$RUN_OUT"
check "vm1's eth0 (inside peer) keeps TSO/GSO" has_tso "$VM1" eth0
check "lan's eth0 (uplink peer) keeps TSO/GSO" has_tso "$LAN" eth0

must "neighbours resolved" nat_t1_warmup
F=$(make_random_file "$TCP_SIZE")

must "snapshot" snap up0
check "upload vm1 -> pub through the NAT, content intact" \
	tcp_transfer "$VM1" "$PUB" "$T1_PUB_ADDR" 5201 "$F"
must "snapshot" snap up1
check_cmp "upload: fwd_snat_tc moved" "$(delta up0 up1 fwd_snat_tc)" -gt 0
check_cmp "upload: fwd_dnat_tc moved (the ACKs)" "$(delta up0 up1 fwd_dnat_tc)" -gt 0
check "upload: the tc path forwarded skbs larger than the MTU (GSO kept)" \
	avg_size_above "$LIB_TMPDIR/up0.json" "$LIB_TMPDIR/up1.json" fwd_snat_tc 1514
check_cmp "upload: XDP translated nothing (fwd_snat)" "$(delta up0 up1 fwd_snat)" -eq 0
check_cmp "upload: XDP translated nothing (fwd_dnat)" "$(delta up0 up1 fwd_dnat)" -eq 0
check_cmp "upload: kernel ForwDatagrams at most $KERNEL_SLACK" "$(kdelta up0 up1)" -le "$KERNEL_SLACK"

check "download pub -> vm1 through the NAT, content intact" \
	tcp_download "$VM1" "$PUB" "$T1_PUB_ADDR" 5202 "$F"
must "snapshot" snap dn1
check_cmp "download: fwd_dnat_tc moved" "$(delta up1 dn1 fwd_dnat_tc)" -gt 0
check "download: the tc path forwarded skbs larger than the MTU (GSO kept)" \
	avg_size_above "$LIB_TMPDIR/up1.json" "$LIB_TMPDIR/dn1.json" fwd_dnat_tc 1514
check_cmp "download: XDP forwarded nothing (fwd_dnat)" "$(delta up1 dn1 fwd_dnat)" -eq 0
check_cmp "download: kernel ForwDatagrams at most $KERNEL_SLACK" "$(kdelta up1 dn1)" -le "$KERNEL_SLACK"
check "conns shows vm1's flow to pub translated to the SNAT address" \
	conn_is "$VM3" tcp "$T1_VM1_ADDR:[0-9]+" "$T1_PUB_ADDR:5202" "$T1_VM3_OUT_ADDR:[0-9]+"
check "the peers still have TSO/GSO after the traffic" has_tso "$VM1" eth0

must "unload" vnat_in "$VM3" unload --all
for dev in eth0 eth1; do
	check "after unload: $dev has no clsact qdisc" no_clsact "$VM3" "$dev"
done
check "after unload: no pins" no_pins "$VM3"

# ---------------------------------------------------------------- auto, xdp

test_group "hook: auto (the default)"
must "load without --hook" vnat_in "$VM3" load "${SNAT[@]}"
ST=$(vnat_status_json "$VM3")
for dev in eth0 eth1; do
	check "$dev (a veth): status says hook tc" iface_is "$ST" "$dev" "i['hook']" tc
	check "$dev: status says --hook auto was asked" iface_is "$ST" "$dev" "i['hook_option']" auto
	check "$dev: ip link shows no XDP" no_xdp_on "$VM3" "$dev"
done
check "vm1's eth0 keeps TSO/GSO" has_tso "$VM1" eth0
check "TCP vm1 -> pub through the NAT" tcp_transfer "$VM1" "$PUB" "$T1_PUB_ADDR" 5203 "$F"
must "unload" vnat_in "$VM3" unload --all

# A bridge keeps its --hook for the ports the daemon attaches later.
test_group "hook: bridge ports"
ns_create brh brg
BRH=$(ns brh) BRG=$(ns brg)
must "bridge br0" ip -n "$BRH" link add br0 type bridge stp_state 0 forward_delay 0
must "br0 up" ip -n "$BRH" link set br0 up
must "veth brg/eth0 <-> brh/vnet0" veth_pair "$BRG" eth0 "$BRH" vnet0
must "vnet0 into br0" ip -n "$BRH" link set vnet0 master br0
must "load --iface br0 --hook tc" vnat_in "$BRH" load --iface br0 --hook tc
defer vnat_in "$BRH" unload --all
must "veth brg/eth1 <-> brh/vnet1" veth_pair "$BRG" eth1 "$BRH" vnet1
must "vnet1 into br0" ip -n "$BRH" link set vnet1 master br0
must "daemon --once attaches vnet1" vnat_in "$BRH" daemon --once
ST=$(vnat_status_json "$BRH")
for dev in vnet0 vnet1; do
	check "$dev: a port on hook tc" iface_is "$ST" "$dev" "i['role'] + ' ' + i['hook']" "port tc"
	check "$dev: ip link shows no XDP" no_xdp_on "$BRH" "$dev"
done
check "br0: status says --hook tc was asked" iface_is "$ST" br0 "i['hook_option']" tc
check "brg's eth1 (the later port's peer) keeps TSO/GSO" has_tso "$BRG" eth1
must "unload" vnat_in "$BRH" unload --all

# --hook xdp on a bridge: each port as its peer allows, said at load.
test_group "hook: xdp on a bridge"
must "brg eth1: GRO on, tx checksums off (the setting under test)" prepare_xdp_peer "$BRG" eth1
run vnat_in "$BRH" load --iface br0 --hook xdp
# Each check is a run of its own: keep this one's output.
LOAD_OUT=$LIB_TMPDIR/bridge-xdp.out LOAD_ERR=$LIB_TMPDIR/bridge-xdp.err
cp "$RUN_OUT" "$LOAD_OUT" && cp "$RUN_ERR" "$LOAD_ERR"
check_cmp "load --iface br0 --hook xdp: exit 0" "$RUN_RC" -eq 0
check "it says vnet0's peer sends partial checksums" grep -q "vnet0.*tx-checksumming" "$LOAD_ERR"
check "it says vnet0 runs tc only" grep -q "bridge port vnet0: attaching vnat's tc programs only" "$LOAD_OUT"
ST=$(vnat_status_json "$BRH")
check "vnet0 (peer as created): a port on hook tc" iface_is "$ST" vnet0 "i['role'] + ' ' + i['hook']" "port tc"
check "vnet0: ip link shows no XDP" no_xdp_on "$BRH" vnet0
check "vnet1 (peer set up for XDP): a port on hook xdp" iface_is "$ST" vnet1 "i['role'] + ' ' + i['hook']" "port xdp"
check "brg's eth0 keeps TSO/GSO" has_tso "$BRG" eth0
must "unload" vnat_in "$BRH" unload --all

# --hook xdp on veths: the peers' settings decide, and are this test's subject.
test_group "hook: xdp"
run vnat_in "$VM3" load "${SNAT[@]}" --hook xdp
check_cmp "--hook xdp, peers as created: exit 1" "$RUN_RC" -eq 1
check "the error is one line naming the veth, its peer and tx-checksumming" \
	one_line_error "$RUN_ERR" "--hook xdp" "veth eth" "peer eth0" "tx-checksumming"
check "refused: no pins left behind" no_pins "$VM3"
for dev in eth0 eth1; do
	check "refused: $dev has no XDP" no_xdp_on "$VM3" "$dev"
	check "refused: $dev has no clsact qdisc" no_clsact "$VM3" "$dev"
done
must "vm1 eth0: GRO on, tx checksums off" prepare_xdp_peer "$VM1" eth0
in_ns "$LAN" ethtool -K eth0 tx off >/dev/null
run vnat_in "$VM3" load "${SNAT[@]}" --hook xdp
check_cmp "--hook xdp, lan's eth0 without GRO: exit 1" "$RUN_RC" -eq 1
check "the error names the peer and GRO" one_line_error "$RUN_ERR" "peer eth0" "GRO"
must "lan eth0: GRO on, tx checksums off" prepare_xdp_peer "$LAN" eth0
must "load --hook xdp" vnat_in "$VM3" load "${SNAT[@]}" --hook xdp
ST=$(vnat_status_json "$VM3")
for dev in eth0 eth1; do
	check "$dev: status says hook xdp" iface_is "$ST" "$dev" "i['hook']" xdp
	check "$dev: status says --hook xdp was asked" iface_is "$ST" "$dev" "i['hook_option']" xdp
	check "$dev: an XDP program is attached" iface_is "$ST" "$dev" "i['xdp']['id'] > 0" true
done
check "vm1's eth0 lost TSO (native XDP on its peer)" no_tso "$VM1" eth0
must "snapshot" snap x0
check "TCP vm1 -> pub through XDP, content intact" \
	tcp_transfer "$VM1" "$PUB" "$T1_PUB_ADDR" 5204 "$F"
must "snapshot" snap x1
check_cmp "XDP translated the upload (fwd_snat)" "$(delta x0 x1 fwd_snat)" -gt 0
check_cmp "XDP translated the ACKs (fwd_dnat)" "$(delta x0 x1 fwd_dnat)" -gt 0
must "unload" vnat_in "$VM3" unload --all
check "after unload vm1's eth0 has TSO/GSO again" slowwait 5 has_tso "$VM1" eth0

exit_summary
