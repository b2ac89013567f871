#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# endpoints.sh - the endpoint matrix of a libvirt-style host (issue 9):
# every endpoint left as the kernel or the hypervisor makes it, then exactly
# what a user types,
#
#     vnat load --iface virbr0 --snat 198.51.100.2
#
# For each kind of guest: ICMP, UDP and TCP through NAT to an outside
# server, 4 MiB up and 4 MiB down compared by sha256, 4 MiB guest to guest
# on the bridge, an uplink capture that shows only the SNAT address, no
# checksum errors anywhere, and counters proving vnat's fast path carried it
# (libvirt's rules are there, so the kernel admits each flow and vnat, with
# its daemon, carries it: fwd_admitted or its _tc twin; guest to guest fwd_bridged or
# fwd_bridged_tc) while the kernel's IPv4 forwarding counter stayed nearly
# still.
#
#   [vd1] .10  [vd2] .11   veth guests, default offloads (tx csum, TSO on; GRO off)
#   [vc1] .20  [vc2] .21   veth guests with tx checksumming off (the one setting
#                          this test changes: it is a row of the matrix)
#   [tp1] .30  [tp2] .31   tap guests: vnet-relay, a virtio guest's frames
#                          (vnet headers, partial checksums, GSO)
#       |  vnet0..vnet5
#   [host] virbr0 192.168.122.1/24, ip_forward=1, libvirt's iptables rules
#          eth0 198.51.100.2/24 (uplink veth, default offloads), default via .1
#       |
#   [outside] eth0 198.51.100.1/24, server 203.0.113.53 on lo,
#             no route back to 192.168.122.0/24
#
# The same traffic runs first on the kernel path (libvirt's MASQUERADE, no
# vnat): it proves the topology and the relay, so a failure after the load
# is vnat's. The real qemu guest (virtio-net on a tap) is guest.sh's.
#
# Usage: endpoints.sh        (V=1 for all command output; VNAT=path to override)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_nat.sh
source "$(dirname "$0")/lib_nat.sh"

SNAT=198.51.100.2
OUT_GW=198.51.100.1
SERVER=203.0.113.53
BR_ADDR=192.168.122.1
PINGS=10
TCP_SIZE=$((4 * 1024 * 1024))
# A 4 MiB transfer takes well under a second here: one that stalls fails
# in seconds, not after lib.sh's minute.
CMD_TIMEOUT=20
require_root
require_cmd ip ethtool ping socat tcpdump iptables-restore python3 timeout ss sha256sum
require_vnat
require_vnet_relay

# Each kind of endpoint: its two guests (A talks, B answers on the bridge).
KINDS=(veth vethtxoff tap)
declare -A KIND_A=([veth]=vd1 [vethtxoff]=vc1 [tap]=tp1)
declare -A KIND_B=([veth]=vd2 [vethtxoff]=vc2 [tap]=tp2)
declare -A KIND_DESC=([veth]="veth guests, default offloads"
	[vethtxoff]="veth guests, tx checksumming off"
	[tap]="tap guests (vnet-relay, virtio offloads)")
declare -A ADDR=([vd1]=192.168.122.10 [vd2]=192.168.122.11 [vc1]=192.168.122.20
	[vc2]=192.168.122.21 [tp1]=192.168.122.30 [tp2]=192.168.122.31)
declare -A PORT=([vd1]=vnet0 [vd2]=vnet1 [vc1]=vnet2 [vc2]=vnet3 [tp1]=vnet4 [tp2]=vnet5)

# ---------------------------------------------------------------- helpers

# offloads_are NS IF "feature: on|off"...: ethtool -k shows each as given.
offloads_are()
{
	local n=$1 dev=$2 k want rc=0

	shift 2
	k=$(in_ns "$n" ethtool -k "$dev") || return 1
	for want in "$@"; do
		grep -qx -- "$want" <<<"$k" || {
			echo "$dev: want '$want', ethtool -k has '$(grep -- "^${want%%:*}:" <<<"$k")'"
			rc=1
		}
	done
	return "$rc"
}

# Checksum errors NS's TCP and UDP counted (the receivers' view of a bad
# L4 checksum, the failure partial checksums cause when lost).
csum_errors()
{
	in_ns "$1" cat /proc/net/snmp | awk '
		($1 == "Tcp:" || $1 == "Udp:") && !seen[$1]++ {
			for (i = 2; i <= NF; i++) if ($i == "InCsumErrors") col[$1] = i; next }
		($1 in col) { sum += $(col[$1]) }
		END { print sum + 0 }'
}

csum_errors_all()
{
	local g sum=0

	for g in "$@"; do
		sum=$((sum + $(csum_errors "$(ns "$g")")))
	done
	echo "$sum"
}

csum_errors_none_since()
{
	local now

	now=$(csum_errors_all "$@")
	echo "TCP+UDP InCsumErrors in $*: +$((now - CSUM0))"
	[ "$now" -eq "$CSUM0" ]
}

# Carrier on (a tap's operstate stays UNKNOWN, so link_up cannot tell).
lower_up()
{
	ip -n "$1" link show dev "$2" | grep -q '[<,]LOWER_UP[,>]'
}

kfwd_now()
{
	kernel_fwd_count "$HOST"
}

# kfwd_at_most K0 N: the kernel's ForwDatagrams moved by at most N since K0.
kfwd_at_most()
{
	local d

	d=$(($(kfwd_now) - $1))
	echo "kernel ForwDatagrams +$d (want <= $2)"
	[ "$d" -le "$2" ]
}

# The guests' neighbours and the host's, resolved both ways.
warmup()
{
	local g

	for g in "${!ADDR[@]}"; do
		in_ns "$(ns "$g")" ping -q -c 1 -W 2 "$BR_ADDR" >/dev/null 2>&1
	done
	for g in "${!ADDR[@]}"; do
		slowwait 5 neigh_valid "$HOST" virbr0 "${ADDR[$g]}" || return 1
	done
	in_ns "$HOST" ping -q -c 1 -W 2 "$OUT_GW" >/dev/null 2>&1
	slowwait 5 neigh_valid "$HOST" eth0 "$OUT_GW"
}

iface_hooks()
{
	local js

	js=$(vnat_status_json "$HOST") || return 1
	json_get '" ".join("%s=%s" % (i["name"], i.get("hook", "?")) for i in d["interfaces"])' <<<"$js"
}

# relay_delta NAME DIR FIELD OLD: growth of one relay count since OLD.
relay_delta()
{
	local now

	now=$(tap_guest_stat "$1" "$2" "$3") || return 1
	echo $((now - $4))
}

# relays_clean NAME...: the relays of these tap guests saw only well-formed
# vnet headers (a path that hands a tap a GSO frame with a broken header
# shows here) and their taps took every frame.
relays_clean()
{
	local g st rc=0

	for g in "$@"; do
		st=$(tap_guest_stats "$g") || return 1
		echo "$g: $st"
		awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^(bad|write_errors)=/) {
			split($i, kv, "="); n += kv[2] } }
		     END { exit n != 0 }' <<<"$st" || rc=1
	done
	return "$rc"
}

# ---------------------------------------------------------------- one kind

# The relay counts of tap guests A and B before a kind's traffic.
relay_snap()
{
	R_G2H_GSO=$(tap_guest_stat "$1" guest_to_host gso) &&
		R_G2H_CSUM=$(tap_guest_stat "$1" guest_to_host needs_csum) &&
		R_H2G_GSO=$(tap_guest_stat "$1" host_to_guest gso) &&
		R_B_GSO=$(tap_guest_stat "$2" host_to_guest gso)
}

# nat_traffic MODE A PORTBASE: guest A to the outside server and back
# through NAT; with vnat loaded, its counters carried it, not the kernel.
nat_traffic()
{
	local mode=$1 a=$2 pb=$3 na k0 snat dnat

	na=$(ns "$a")
	[ "$mode" = vnat ] && must "counters" counters_snap "$HOST" C0
	k0=$(kfwd_now)
	must "capture on the uplink (in outside)" cap_start CAP "$OUT" eth0 ip

	check "$PINGS pings $a -> $SERVER" ping_all "$na" "$SERVER" "$PINGS"
	check "UDP $a -> $SERVER: the server sees $SNAT" \
		expect_peer "$SNAT" peer_ask_udp "$na" "$SERVER" 7002
	check "TCP $a -> $SERVER: the server sees $SNAT" \
		expect_peer "$SNAT" peer_ask_tcp "$na" "$SERVER" 7001
	check "4 MiB $a -> $SERVER intact (sha256)" \
		tcp_transfer "$na" "$OUT" "$SERVER" $((pb + 1)) "$TCP_FILE"
	check "4 MiB $SERVER -> $a intact (sha256)" \
		tcp_download "$na" "$OUT" "$SERVER" $((pb + 2)) "$TCP_FILE"

	cap_stop CAP
	# shellcheck disable=SC2153 # CAP_FILE is set by cap_start
	check "the uplink carried $a's traffic from $SNAT" \
		cap_atleast "$CAP_FILE" "$PINGS" src host "$SNAT"
	check "the uplink never carried a 192.168.122.0/24 address" \
		cap_none "$CAP_FILE" net 192.168.122.0/24
	[ "$mode" = vnat ] || return 0

	must "counters" counters_snap "$HOST" C1
	# libvirt's rules are there, so the kernel admits each flow and vnat
	# carries it as decided (fwd_admitted, both directions; ICMP stays on
	# the kernel path). cdelta's NAME counts NAME_tc too (NAME! alone).
	carried=$(cdelta C0 C1 fwd_admitted)
	echo "# $a: fwd_admitted +$(cdelta C0 C1 fwd_admitted!) fwd_admitted_tc" \
		"+$(cdelta C0 C1 fwd_admitted_tc) admit_flow +$(cdelta C0 C1 admit_flow)" \
		"pass_admission +$(cdelta C0 C1 pass_admission)" \
		"kernel ForwDatagrams +$(($(kfwd_now) - k0))"
	check_cmp "the kernel admitted $a's flows (admit_flow +$(cdelta C0 C1 admit_flow))" \
		"$(cdelta C0 C1 admit_flow)" -ge 4
	# At least one 64 KiB skb per 64 KiB of the transfers, each way.
	check_cmp "vnat carried $a's admitted flows (fwd_admitted + fwd_admitted_tc = $carried)" \
		"$carried" -ge $((2 * TCP_SIZE / 65536))
	# The kernel forwards the pings (ICMP stays with it) and each flow's
	# packets until its conntrack entry is decided and, for TCP, marked
	# liberal by the daemon (a round trip through user space, asked on the
	# SYN-ACK): a dozen per flow at most, against 64 or more 64 KiB skbs
	# of each transfer.
	check "the kernel forwarded only the pings and the flows' openings" \
		kfwd_at_most "$k0" $((2 * PINGS + 12 * $(cdelta C0 C1 admit_flow)))
}

# bridged_traffic MODE A B PORTBASE: guest to guest on the bridge, never
# translated, never routed; with vnat loaded, bridged by it.
bridged_traffic()
{
	local mode=$1 a=$2 b=$3 pb=$4 na br

	na=$(ns "$a")
	[ "$mode" = vnat ] && must "counters" counters_snap "$HOST" C0
	check "$PINGS pings $a -> $b" ping_all "$na" "${ADDR[$b]}" "$PINGS"
	check "TCP $a -> $b: $b sees ${ADDR[$a]}" \
		expect_peer "${ADDR[$a]}" peer_ask_tcp "$na" "${ADDR[$b]}" 7001
	check "4 MiB $a -> $b intact (sha256)" \
		tcp_transfer "$na" "$(ns "$b")" "${ADDR[$b]}" $((pb + 3)) "$TCP_FILE"
	[ "$mode" = vnat ] || return 0

	must "counters" counters_snap "$HOST" C1
	br=$(cdelta C0 C1 fwd_bridged)
	echo "# $a -> $b: fwd_bridged +$(cdelta C0 C1 fwd_bridged!)" \
		"fwd_bridged_tc +$(cdelta C0 C1 fwd_bridged_tc) pass_fdb_miss +$(cdelta C0 C1 pass_fdb_miss)"
	check_cmp "vnat bridged $a <-> $b (fwd_bridged + fwd_bridged_tc = $br)" \
		"$br" -ge $((PINGS + TCP_SIZE / 65536))
}

# relay_checks MODE A B: what the tap guests' relays moved meanwhile (since
# relay_snap): the virtio offloads were really in play.
relay_checks()
{
	local mode=$1 a=$2 b=$3

	check_cmp "$a sent GSO frames (relay guest_to_host gso)" \
		"$(relay_delta "$a" guest_to_host gso "$R_G2H_GSO")" -gt 0
	check_cmp "$a sent partial checksums (relay guest_to_host needs_csum)" \
		"$(relay_delta "$a" guest_to_host needs_csum "$R_G2H_CSUM")" -gt 0
	# Frames towards a guest are the path's choice: from the uplink the
	# kernel keeps the outside's GSO (a fast path may not).
	if [ "$mode" = kernel ]; then
		check_cmp "$a received GSO frames from the uplink (relay host_to_guest gso)" \
			"$(relay_delta "$a" host_to_guest gso "$R_H2G_GSO")" -gt 0
	else
		echo "# $a: relay host_to_guest gso +$(relay_delta "$a" host_to_guest gso "$R_H2G_GSO")"
	fi
	# Tap to tap stays whole: no software segmentation on the way.
	check_cmp "$b received $a's GSO frames whole (relay host_to_guest gso)" \
		"$(relay_delta "$b" host_to_guest gso "$R_B_GSO")" -gt 0
	check "$a's and $b's relays: no bad vnet header, no frame refused" \
		relays_clean "$a" "$b"
}

# kind_traffic KIND MODE PORTBASE: the whole traffic set of KIND's guests;
# MODE kernel (no vnat: libvirt's MASQUERADE) or vnat (loaded).
kind_traffic()
{
	local kind=$1 mode=$2 pb=$3 a b

	a=${KIND_A[$kind]} b=${KIND_B[$kind]}
	test_group "endpoints: $mode: ${KIND_DESC[$kind]}"
	CSUM0=$(csum_errors_all "$a" "$b" outside)
	[ "$kind" = tap ] && must "relay counts" relay_snap "$a" "$b"
	nat_traffic "$mode" "$a" "$pb"
	bridged_traffic "$mode" "$a" "$b" "$pb"
	check "no TCP or UDP checksum errors in $a, $b, outside" \
		csum_errors_none_since "$a" "$b" outside
	[ "$kind" = tap ] && relay_checks "$mode" "$a" "$b"
	return 0
}

# ---------------------------------------------------------------- topology

ns_create host outside
HOST=$(ns host) OUT=$(ns outside)
must "bridge virbr0" ip -n "$HOST" link add virbr0 type bridge stp_state 0 forward_delay 0
must "virbr0 $BR_ADDR/24" ip -n "$HOST" addr add "$BR_ADDR/24" dev virbr0
must "virbr0 up" ip -n "$HOST" link set virbr0 up
must "uplink veth host/eth0 <-> outside/eth0" veth_pair "$HOST" eth0 "$OUT" eth0
must "host eth0 $SNAT/24" ip -n "$HOST" addr add "$SNAT/24" dev eth0
must "host default route" ip -n "$HOST" route add default via "$OUT_GW"
must "host ip_forward=1" in_ns "$HOST" sysctl -qw net.ipv4.ip_forward=1
must "outside eth0 $OUT_GW/24" ip -n "$OUT" addr add "$OUT_GW/24" dev eth0
must "outside: server address $SERVER" ip -n "$OUT" addr add "$SERVER/32" dev lo
must "outside ip_forward=0" in_ns "$OUT" sysctl -qw net.ipv4.ip_forward=0
must "libvirt's iptables rules" libvirt_rules_load "$HOST"
# A Debian KVM host as libvirt leaves it: br_netfilter is a module nothing
# loads, so bridged frames never meet the IPv4 rules. This kernel has it
# built in and on in every namespace; off here, as on such a host (policy.sh
# tests the bridge with it on: then the kernel bridge and its rules decide).
must "host: bridged frames not handed to iptables (no br_netfilter)" \
	in_ns "$HOST" sysctl -qw net.bridge.bridge-nf-call-iptables=0

for g in vd1 vd2 vc1 vc2; do
	must "veth guest $g" veth_guest_add "$g" "$HOST" virbr0 "${PORT[$g]}" "${ADDR[$g]}/24" "$BR_ADDR"
done
for g in tp1 tp2; do
	must "tap guest $g" tap_guest_add "$g" "$HOST" virbr0 "${PORT[$g]}" "${ADDR[$g]}/24" "$BR_ADDR"
done

test_group "endpoints: as made"
for g in vd1 vd2; do
	check "$g eth0 as the kernel makes a veth (tx csum, TSO on; GRO off)" \
		offloads_are "$(ns "$g")" eth0 "tx-checksumming: on" \
		"tcp-segmentation-offload: on" "generic-receive-offload: off"
done
for g in vc1 vc2; do
	must "$g eth0 tx checksumming off (this row's subject)" in_ns "$(ns "$g")" ethtool -K eth0 tx off
	check "$g eth0: tx checksumming off, GRO off as made" \
		offloads_are "$(ns "$g")" eth0 "tx-checksumming: off" "generic-receive-offload: off"
done
for g in tp1 tp2; do
	check "$g eth0: a tap with virtio's offloads (tx csum, TSO on)" \
		offloads_are "$(ns "$g")" eth0 "tx-checksumming: on" "tcp-segmentation-offload: on"
done
for n in "$HOST" "$OUT"; do
	check "${n%-*} eth0 (uplink) as the kernel makes a veth" \
		offloads_are "$n" eth0 "tx-checksumming: on" "tcp-segmentation-offload: on" \
		"generic-receive-offload: off"
done
for g in "${!ADDR[@]}"; do
	must "$g eth0 up" slowwait 5 lower_up "$(ns "$g")" eth0
done
must "outside eth0 up" slowwait 5 link_up "$OUT" eth0

must "UDP server in outside" peer_server_udp SRV_U "$OUT" 7002 "$SERVER"
must "TCP server in outside" peer_server_tcp SRV_T "$OUT" 7001
for g in vd2 vc2 tp2; do
	must "TCP server in $g" peer_server_tcp "SRV_$g" "$(ns "$g")" 7001
done
TCP_FILE=$(make_random_file "$TCP_SIZE") || die "random file"
defer vnat_in "$HOST" unload --all

# ---------------------------------------------------------------- kernel path

must "neighbours resolve" warmup
pb=5100
for kind in "${KINDS[@]}"; do
	kind_traffic "$kind" kernel "$pb"
	pb=$((pb + 10))
done

# ---------------------------------------------------------------- vnat

test_group "endpoints: load"
check_rc 0 "vnat load --iface virbr0 --snat $SNAT" vnat_in "$HOST" load --iface virbr0 --snat "$SNAT" ||
	die "vnat load failed: nothing else can be tested"
# As documented: the daemon marks the kernel's TCP entries liberal, without
# which kernel-admitted TCP stays on the kernel path.
bg_in_ns DAEMON "$HOST" "$VNAT" daemon
must "daemon follows" slowwait 5 grep -q following "$DAEMON_LOG"
run iface_hooks && echo "# hooks: $(cat "$RUN_OUT")"
# A record, not a check: XDP on a veth takes TSO from its peer (bulk TCP
# then moves as MTU-sized frames), which the benchmark measures.
for g in vd1 tp1; do
	echo "# after the load: $g eth0 $(in_ns "$(ns "$g")" ethtool -k eth0 | grep '^tcp-segmentation-offload:')"
done
echo "# after the load: outside eth0 $(in_ns "$OUT" ethtool -k eth0 | grep '^tcp-segmentation-offload:')"
must "neighbours resolve" warmup
for kind in "${KINDS[@]}"; do
	kind_traffic "$kind" vnat "$pb"
	pb=$((pb + 10))
done

exit_summary
