#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bridge.sh - the bridging fast path and the topology mirror (vnat daemon).
#
#   host: br0 (no address) with ports vnet1..vnet3 -> guests g1..g3
#         (192.168.0.1-3/24, seed 002's isolated model), more ports later.
#
# vnat load --iface br0 with `vnat daemon` running, then:
#   unicast guest to guest is bridged in XDP, broadcast is the kernel's;
#   a port added after load is attached within a second, one removed is
#   released with its FDB entries; a MAC that moves is followed; two guests
#   with one MAC (seed 002) are reported and left to the kernel; isolated
#   ports and a disabled port keep the kernel's semantics; unload.
#
# Usage: bridge.sh        (V=1 for all command output; VNAT=path to override)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_bridge.sh
source "$(dirname "$0")/lib_bridge.sh"

PINGS=20
TCP_SIZE=$((2 * 1024 * 1024))
TCP_PORT=5202
SLACK=2
NET=192.168.0
# seed 002: every guest qemu starts without macaddr= has this one
DUP_MAC=52:54:00:12:34:56

require_root
require_cmd ip bridge ethtool ping socat bpftool python3 nsenter timeout ss sha256sum tcpdump
require_vnat

# IPv6 is not what these checks are about: its link-local chatter (MLD,
# DAD, router solicitations) would move MACs and bridged counters at times
# the checks do not choose. noipv6 NS turns it off for NS's interfaces.
noipv6()
{
	in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# warm NS DST: the kernel has learned both ends (ARP and FDB).
warm()
{
	in_ns "$1" ping -q -c 2 -i 0.1 -W 1 "$2" >/dev/null 2>&1
	in_ns "$1" ping -q -c 1 -W 1 "$2"
}

kernel_fdb_has()
{
	bridge -n "$1" fdb show br "$2" | grep -i "^$3 dev $4 " | grep -vq permanent
}

dup_listed()
{
	local js got

	js=$(vnat_status_json "$1") || return 1
	if ! json_get '"duplicate_macs" in d' <<<"$js" | grep -qx true; then
		echo "status -j has no duplicate_macs"
		return 1
	fi
	got=$(json_get "[(x['mac'].lower(), x['bridge'], sorted(x['ports'])) for x in d['duplicate_macs']]" <<<"$js")
	echo "duplicate_macs: $got"
	json_get "any(x['mac'].lower() == '$2' and x['bridge'] == '$3' and sorted(x['ports']) == sorted('$4'.split()) for x in d['duplicate_macs'])" <<<"$js" |
		grep -qx true
}

moves_at_least()
{
	local m

	m=$(macmoves_of "$1" "$2") || return 1
	echo "vnat_macmoves[$2].moves = $m"
	[ "$m" -ge "$3" ]
}

# ---------------------------------------------------------------- topology

ns_create host g1 g2 g3
HOST=$(ns host) G1=$(ns g1) G2=$(ns g2) G3=$(ns g3)
for n in host g1 g2 g3; do
	must "no IPv6 in $n" noipv6 "$(ns "$n")"
done
must "br0" br_create "$HOST" br0
for i in 1 2 3; do
	must "g$i on br0 (vnet$i)" br_guest "$HOST" br0 "vnet$i" "$(ns "g$i")" "$NET.$i/24"
done
defer vnat_in "$HOST" unload --all
must "kernel path g1 -> g2" warm "$G1" "$NET.2"
must "kernel path g1 -> g3" warm "$G1" "$NET.3"
must "kernel path g2 -> g3" warm "$G2" "$NET.3"

# ---------------------------------------------------------------- load

test_group "bridge: load"
check_rc 0 "load --iface br0" vnat_in "$HOST" load --iface br0 || die "vnat load failed"
bg_in_ns DAEMON "$HOST" "$VNAT" daemon
for i in 1 2 3; do
	check "status lists vnet$i as a port with its tc ingress id" status_has_port "$HOST" "vnet$i"
done
check "xdp mode of the veth ports is native" json_eq "$(vnat_status_json "$HOST")" \
	"sorted(set(i['xdp']['mode'] for i in d['interfaces'] if i['role'] == 'port'))" '["native"]'
for i in 1 2 3; do
	mac=$(mac_of "$(ns "g$i")" eth0)
	check "vnat_fdb mirrors g$i's MAC on vnet$i" \
		slowwait 3 fdb_has "$HOST" "$mac" "$(ifindex_of "$HOST" "vnet$i")"
done

# ---------------------------------------------------------------- unicast and flood

test_group "bridge: unicast"
must "snapshot" snap "$HOST"
check "$PINGS pings g1 -> g2 answered" ping_all "$G1" "$NET.2" "$PINGS"
d=$(delta "$HOST" fwd_bridged)
check_cmp "fwd_bridged moved by >= $((2 * PINGS - SLACK)) (+$d)" "$d" -ge $((2 * PINGS - SLACK))
FILE=$(make_random_file "$TCP_SIZE") || die "random file"
must "snapshot" snap "$HOST"
check "2 MiB g1 -> g3 intact (sha256)" tcp_transfer "$G1" "$G3" "$NET.3" "$TCP_PORT" "$FILE"
d=$(delta "$HOST" fwd_bridged bytes)
check_cmp "fwd_bridged carried >= $TCP_SIZE bytes (+$d)" "$d" -ge "$TCP_SIZE"

# g1 must ARP for g2 by broadcast: an entry it still has (or learns from
# an ARP request of g2's meanwhile) makes it probe by unicast instead, so
# the sequence is tried again (up to 3 times) until g1 had no entry.
test_group "bridge: flood"
for try in 1 2 3; do
	must "g1 forgets g2" ip -n "$G1" neigh flush dev eth0
	must "capture ARP in g3" capture_start CAP "$G3" eth0 "arp and arp[6:2] == 1"
	must "snapshot" snap "$HOST"
	forgot=$(ip -n "$G1" neigh show "$NET.2" dev eth0 | grep -cv FAILED)
	ping_all "$G1" "$NET.2" 3 >/dev/null
	capture_stop "$CAP"
	[ "$forgot" = 0 ] && break
done
check "g1 -> g2 after an ARP broadcast" ping_all "$G1" "$NET.2" 3
d=$(delta "$HOST" pass_flood)
check_cmp "pass_flood moved (+$d): the broadcast went to the kernel" "$d" -ge 1
check_cmp "g3 received g1's ARP request for $NET.2: the kernel flooded it" \
	"$(pcap_count "$CAP_PCAP" "arp and ether src $(mac_of "$G1" eth0)")" -ge 1

# ---------------------------------------------------------------- isolated ports

# Static neighbours between the guests while ports are isolated: their
# background ARP probes (unicast, bridged in XDP between non-isolated
# ports) would move fwd_bridged in the window that must not see it move.
guest_addr() { ip -n "$1" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1; }
pin_guest_neighbours() # on|off
{
	local a b

	for a in "$G1" "$G2" "$G3"; do
		for b in "$G1" "$G2" "$G3"; do
			[ "$a" = "$b" ] && continue
			if [ "$1" = on ]; then
				ip -n "$a" neigh replace "$(guest_addr "$b")" dev eth0 \
					lladdr "$(mac_of "$b" eth0)" nud permanent || return 1
			else
				ip -n "$a" neigh del "$(guest_addr "$b")" dev eth0 2>/dev/null
			fi
		done
	done
	return 0
}

test_group "bridge: isolated"
must "warm g2 -> g3" warm "$G2" "$NET.3"
must "guests' neighbours pinned" pin_guest_neighbours on
must "vnet2 isolated" ip -n "$HOST" link set dev vnet2 type bridge_slave isolated on
must "vnet3 isolated" ip -n "$HOST" link set dev vnet3 type bridge_slave isolated on
VNET2=$(ifindex_of "$HOST" vnet2) VNET3=$(ifindex_of "$HOST" vnet3)
check "vnat_ifaces marks vnet2 isolated" slowwait 3 iface_flag_is "$HOST" "$VNET2" 128 1
check "vnat_ifaces marks vnet3 isolated" slowwait 3 iface_flag_is "$HOST" "$VNET3" 128 1
must "snapshot" snap "$HOST"
check "g2 -> g3 (both isolated) fails" ping_none "$G2" "$NET.3" 5
d=$(delta "$HOST" pass_port_state)
check_cmp "pass_port_state moved (+$d): left to the kernel, which drops it" "$d" -ge 1
check_cmp "fwd_bridged did not move" "$(delta "$HOST" fwd_bridged)" -eq 0
must "snapshot" snap "$HOST"
check "g1 (not isolated) -> g2 works" ping_all "$G1" "$NET.2" "$PINGS"
check "g1 -> g3 works" ping_all "$G1" "$NET.3" "$PINGS"
d=$(delta "$HOST" fwd_bridged)
check_cmp "... bridged in XDP (+$d)" "$d" -ge $((4 * PINGS - 2 * SLACK))
must "vnet2 not isolated" ip -n "$HOST" link set dev vnet2 type bridge_slave isolated off
must "vnet3 not isolated" ip -n "$HOST" link set dev vnet3 type bridge_slave isolated off
check "vnat_ifaces clears the flag" slowwait 3 iface_flag_is "$HOST" "$VNET3" 128 0
check "g2 -> g3 works again" ping_all "$G2" "$NET.3" 5
pin_guest_neighbours off

# ---------------------------------------------------------------- a disabled port

test_group "bridge: port state"
must "warm g1 -> g3" warm "$G1" "$NET.3"
must "vnet3 state disabled" bridge -n "$HOST" link set dev vnet3 state 0
check "vnat_ifaces port_state of vnet3 is 0" slowwait 3 iface_map_is "$HOST" "$VNET3" port_state 0
must "snapshot" snap "$HOST"
check "g1 -> g3 fails (vnet3 disabled)" ping_none "$G1" "$NET.3" 5
check_cmp "fwd_bridged did not move" "$(delta "$HOST" fwd_bridged)" -eq 0
d=$(delta "$HOST" pass_port_state)
check_cmp "pass_port_state moved (+$d)" "$d" -ge 1
check "status marks vnet3 not forwarding" vnat_in "$HOST" status
check "... in its line" grep -q 'vnet3.*not forwarding' "$RUN_OUT"
must "vnet3 state forwarding" bridge -n "$HOST" link set dev vnet3 state 3
check "vnat_ifaces port_state of vnet3 is 3 again" slowwait 3 iface_map_is "$HOST" "$VNET3" port_state 3
must "warm g1 -> g3" warm "$G1" "$NET.3"
must "snapshot" snap "$HOST"
check "g1 -> g3 works again" ping_all "$G1" "$NET.3" "$PINGS"
d=$(delta "$HOST" fwd_bridged)
check_cmp "... in XDP (+$d)" "$d" -ge $((2 * PINGS - SLACK))

# ---------------------------------------------------------------- a port added later

test_group "bridge: new port"
ns_create g4
G4=$(ns g4)
must "no IPv6 in g4" noipv6 "$G4"
must "veth vnet4 <-> g4" veth_pair "$HOST" vnet4 "$G4" eth0
must "g4 address" ip -n "$G4" addr add "$NET.4/24" dev eth0
must "g4 up" slowwait 5 link_up "$G4" eth0
must "vnet4 master br0 up" ip -n "$HOST" link set vnet4 master br0 up
# The acceleration itself must come within 1 s: vnat's tc program on the new
# port (read from tc(8), which costs little to poll). vnat status, a heavier
# call, then has to report the same program for it.
check "vnet4 runs vnat's tc program within 1 s" \
	slowwait 1 bash -c "ip netns exec '$HOST' tc filter show dev vnet4 ingress | grep -q 'tc_vnat_ingress'"
check "vnet4 is listed in status with that tc id" slowwait 5 status_has_port "$HOST" vnet4
VNET4=$(ifindex_of "$HOST" vnet4)
G4MAC=$(mac_of "$G4" eth0)
must "kernel learns g4" warm "$G4" "$NET.1"
check "vnat_fdb mirrors g4's MAC on vnet4" slowwait 3 fdb_has "$HOST" "$G4MAC" "$VNET4"
must "snapshot" snap "$HOST"
check "$PINGS pings g4 -> g1 answered" ping_all "$G4" "$NET.1" "$PINGS"
d=$(delta "$HOST" fwd_bridged)
check_cmp "fwd_bridged moved by >= $((2 * PINGS - SLACK)) (+$d)" "$d" -ge $((2 * PINGS - SLACK))

# ---------------------------------------------------------------- a port removed

test_group "bridge: removed port"
must "ip link del vnet4" ip -n "$HOST" link del vnet4
check "vnet4 disappears from status" slowwait 3 status_lacks "$HOST" vnet4
check "vnat_ifaces has no entry for its ifindex $VNET4" \
	slowwait 3 bash -c "! bpftool -j map dump pinned $(pin_dir_of "$HOST")/vnat_ifaces | grep -q '\"key\":$VNET4,'"
check "vnat_fdb has no entry on port $VNET4" slowwait 3 fdb_lacks_port "$HOST" "$VNET4"
check "vnat_fdb has no entry for g4's MAC" fdb_lacks_mac "$HOST" "$G4MAC"
check "the others still bridge: g1 -> g2" ping_all "$G1" "$NET.2" 5

# g3 takes the deleted guest's MAC: the FDB must follow it to vnet3.
must "g3 takes g4's MAC" ip -n "$G3" link set eth0 address "$G4MAC"
must "g2 forgets g3's old MAC" ip -n "$G2" neigh flush dev eth0
must "warm g2 -> g3" warm "$G2" "$NET.3"
# g3's first frames with the new MAC are unicast (its ARP reply, its echo
# replies): the kernel bridge must still see one to learn the MAC.
check "the kernel bridge learned g3's new MAC on vnet3" \
	slowwait 3 kernel_fdb_has "$HOST" br0 "$G4MAC" vnet3
check "vnat_fdb: g4's old MAC now on vnet3" \
	slowwait 3 fdb_has "$HOST" "$G4MAC" "$(ifindex_of "$HOST" vnet3)"
must "snapshot" snap "$HOST"
check "$PINGS pings g2 -> g3 (new MAC) answered" ping_all "$G2" "$NET.3" "$PINGS"
d=$(delta "$HOST" fwd_bridged)
check_cmp "fwd_bridged moved by >= $((2 * PINGS - SLACK)) (+$d)" "$d" -ge $((2 * PINGS - SLACK))

# ---------------------------------------------------------------- a MAC that moves

# g1 "migrates" to a new port vnet5: its MAC and address go to a new veth,
# its old interface stays up on vnet1 with another MAC. g2 keeps its ARP
# entry; after g1 announces itself from vnet5, g2's frames must go there.
test_group "bridge: moved MAC"
G1MAC=$(mac_of "$G1" eth0)
VNET1=$(ifindex_of "$HOST" vnet1)
must "new port vnet5 <-> g1 eth1" veth_pair "$HOST" vnet5 "$G1" eth1
must "g1 old eth0 gets another MAC" ip -n "$G1" link set eth0 address 02:00:5e:00:53:01
must "g1 address off eth0" ip -n "$G1" addr flush dev eth0
must "g1 eth1 takes g1's MAC" ip -n "$G1" link set eth1 address "$G1MAC"
must "g1 eth1 address" ip -n "$G1" addr add "$NET.1/24" dev eth1
must "vnet5 master br0" ip -n "$HOST" link set vnet5 master br0
must "vnet5 attached" slowwait 5 status_has_port "$HOST" vnet5
VNET5=$(ifindex_of "$HOST" vnet5)
check "before the move vnat_fdb has g1's MAC on vnet1" fdb_has "$HOST" "$G1MAC" "$VNET1"
must "snapshot" snap "$HOST"
# g1's first frame from vnet5 (its ARP for g2) is what moves the MAC.
must "g1 -> g2 from the new port" warm "$G1" "$NET.2"
d=$(delta "$HOST" fdb_moved)
check_cmp "fdb_moved counted the move (+$d)" "$d" -ge 1
check "vnat_fdb follows: g1's MAC on vnet5" slowwait 3 fdb_has "$HOST" "$G1MAC" "$VNET5"
must "capture ICMP on g1's old interface" capture_start CAP "$G1" eth0 icmp
must "snapshot" snap "$HOST"
check "$PINGS pings g2 -> g1 answered (g2's ARP entry unchanged)" ping_all "$G2" "$NET.1" "$PINGS"
capture_stop "$CAP"
d=$(delta "$HOST" fwd_bridged)
check_cmp "fwd_bridged moved by >= $((2 * PINGS - SLACK)) (+$d)" "$d" -ge $((2 * PINGS - SLACK))
check_cmp "nothing went to the old port vnet1" "$(pcap_count "$CAP_PCAP")" -eq 0

# ---------------------------------------------------------------- duplicate MACs

# Two guests with qemu's default MAC (seed 002), both talking to g2.
test_group "bridge: duplicate MAC"
ns_create d1 d2
D1=$(ns d1) D2=$(ns d2)
must "no IPv6 in d1" noipv6 "$D1"
must "no IPv6 in d2" noipv6 "$D2"
must "d1 on br0 (vnet6)" br_guest "$HOST" br0 vnet6 "$D1"
must "d2 on br0 (vnet7)" br_guest "$HOST" br0 vnet7 "$D2"
must "d1 MAC $DUP_MAC" ip -n "$D1" link set eth0 address "$DUP_MAC"
must "d2 MAC $DUP_MAC" ip -n "$D2" link set eth0 address "$DUP_MAC"
must "d1 address" ip -n "$D1" addr add "$NET.11/24" dev eth0
must "d2 address" ip -n "$D2" addr add "$NET.12/24" dev eth0
must "vnet6, vnet7 attached" slowwait 5 status_has_port "$HOST" vnet7
must "snapshot" snap "$HOST"
# Both send in turn, so the kernel bridge relearns the MAC on each port.
bg_in_ns PD1 "$D1" ping -q -i 0.1 -c 60 "$NET.2"
bg_in_ns PD2 "$D2" ping -q -i 0.1 -c 60 "$NET.2"
check "status lists $DUP_MAC on br0 as a duplicate of vnet6 and vnet7" \
	slowwait 5 dup_listed "$HOST" "$DUP_MAC" br0 "vnet6 vnet7"
check "vnat_macmoves counts >= 4 moves of $DUP_MAC" moves_at_least "$HOST" "$DUP_MAC" 4
check "status (human form) reports the duplicate" vnat_in "$HOST" status
check "... naming the MAC" grep -qi "$DUP_MAC" "$RUN_OUT"
check "vnat_fdb holds no entry for a duplicate MAC" slowwait 3 fdb_lacks_mac "$HOST" "$DUP_MAC"
# From here every frame from or to the MAC is the kernel's.
must "snapshot" snap "$HOST"
in_ns "$G2" ping -q -c 20 -i 0.05 -W 1 "$NET.11" >"$LIB_TMPDIR/dup-ping.txt" 2>&1
log_info "g2 -> $NET.11 with the duplicate: $(grep received "$LIB_TMPDIR/dup-ping.txt")"
d=$(delta "$HOST" fwd_bridged)
dm=$(delta "$HOST" pass_dup_mac)
fm=$(delta "$HOST" pass_fdb_miss)
# 20 requests, their replies and d1/d2's pings would all count here if the
# fast path took them; what may count is the others' unicast ARP probes.
check_cmp "no frame of the duplicate MAC was bridged in XDP (fwd_bridged +$d <= 4)" "$d" -le 4
check_cmp "frames from the duplicate went to the kernel (pass_dup_mac +$dm)" "$dm" -ge 10
check_cmp "frames to the duplicate went to the kernel (pass_fdb_miss +$fm)" "$fm" -ge 10
check "no duplicated replies (DUP!)" bash -c "! grep -q DUP '$LIB_TMPDIR/dup-ping.txt'"
bg_stop "$PD1"
bg_stop "$PD2"
must "d2 leaves" ip -n "$HOST" link del vnet7
check "g1 -> g2 unaffected" ping_all "$G1" "$NET.2" 5

# ---------------------------------------------------------------- unload

test_group "bridge: unload"
check_rc 0 "unload --all" vnat_in "$HOST" unload --all
check "the daemon exits by itself" slowwait 5 lib_pid_gone "$DAEMON"
bg_wait_timeout 1 "$DAEMON"
check "no XDP left on any port" bash -c "! ip -n '$HOST' -d link show | grep -q xdp"
check "pins removed" bash -c "[ ! -e '$(pin_dir_of "$HOST")' ]"
check "kernel path: g2 -> g1" ping_all "$G2" "$NET.1" 5
check "kernel path: g1 -> g3" ping_all "$G1" "$NET.3" 5

exit_summary
