#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# doctor_vnat.sh - vnat doctor on the field reports' faults of vnat itself. For each fault: the
# seed's topology built healthy (doctor exits 0, no finding), exactly that
# fault injected (the seed's own command where it gives one), doctor names
# it with its evidence and fix, the printed fix is applied, doctor exits 0
# again and the guests' traffic works. Doctor always runs inside the
# namespace under test (ip netns exec), never in the root namespace.
#
#   health     vnat loaded in router1 (T1): its daemon stops; its tc
#              filter is removed
#   noports    vnat loaded on a bridge with no port yet (a do-nothing load)
#   stale      vnat's pins left to a recycled namespace inode; --fix
#   exhausted  vnat's NAT with two outside ports: drop_no_port moves
#   xdp        vnat's XDP on guests' veths (--hook xdp), one peer's GRO then
#              taken away
#   bypass     vnat loaded on T2's virbr0: libvirt's REJECT rules
#
# Usage: doctor_vnat.sh [GROUP...]   (V=1 for all command output)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_doctor.sh
source "$(dirname "$0")/lib_doctor.sh"

require_root
require_cmd ip iptables iptables-save sysctl ping socat python3 timeout conntrack tc ethtool
require_vnat

# ---------------------------------------------------------------- 11. vnat health

test_health()
{
	local r1 d

	test_group health
	t1_create t11
	r1=$T1R1
	defer vnat_in "$r1" unload --all
	# tc on the veth: its peer (a bridge port) has no GRO for XDP_TX frames
	must "vnat in router1" vnat_in "$r1" load --iface eth0 --hook auto
	bg_in_ns d "$r1" "$VNAT" daemon
	check "healthy: vnat and its daemon, doctor finds nothing" slowwait 5 doctor_clean "$r1"
	must "fault: the daemon stops" bg_stop "$d"
	check "doctor names vnat-no-daemon" doctor_finds "$r1" vnat-no-daemon ""
	check "fix: start the daemon" finding_has fix "vnat daemon &"
	bg_in_ns d "$r1" "$VNAT" daemon
	check "after the fix (the daemon again) doctor finds nothing" slowwait 5 doctor_clean "$r1"
	check "vm1 reaches lan" ping_all "$T1VM1" 192.168.1.1 3

	must "fault: vnat's tc ingress filter removed" tc -n "$r1" filter del dev eth0 ingress
	check "doctor names vnat-detached on eth0" doctor_finds "$r1" vnat-detached eth0
	check "evidence: no tc ingress program" finding_has evidence "tc ingress 0"
	check "fix: load it again as it was" finding_has fix \
		"vnat unload --all && vnat load --iface eth0 --hook auto"
	check "the printed fix applies" apply_fix "$r1"
	bg_stop "$d"
	bg_in_ns d "$r1" "$VNAT" daemon
	check "after the fix doctor finds nothing" slowwait 5 doctor_clean "$r1"
	check "vm1 reaches lan" ping_all "$T1VM1" 192.168.1.1 3
}

# ---------------------------------------------------------------- 11d. do-nothing load

test_noports()
{
	local h g d

	test_group noports
	ns_create t14h t14g
	h=$(ns t14h) g=$(ns t14g)
	must "br0 without ports (the guest not started yet)" bridge_add "$h" br0
	must "br0 address" ip -n "$h" addr add 192.168.122.1/24 dev br0
	must "the guest's veth, not yet a port" veth_pair "$h" vnet0 "$g" eth0
	must "guest address" ip -n "$g" addr add 192.168.122.2/24 dev eth0
	defer vnat_in "$h" unload --all
	must "vnat on br0" vnat_in "$h" load --iface br0
	bg_in_ns d "$h" "$VNAT" daemon
	check "doctor names vnat-warning on br0" doctor_finds "$h" vnat-warning br0
	check "evidence: status's warning" finding_has evidence "warning bridge_no_ports on br0"
	check "fix: a port for it" finding_has fix "ip link set IFACE master br0"
	check "the fix, IFACE the guest's veth" in_ns "$h" sh -c \
		"$(finding_get fix | sed 's/IFACE/vnet0/')"
	check "after the fix doctor finds nothing" slowwait 5 doctor_clean "$h"
	check "the guest reaches the host" ping_all "$g" 192.168.122.1 3
}

# ---------------------------------------------------------------- 11b. stale pins

test_stale()
{
	local a b ino_a ino_b

	test_group stale
	ns_create t12a t12b
	a=$(ns t12a) b=$(ns t12b)
	must "a link in a" ip -n "$a" link add v0 type veth peer name v1
	must "v0 up" ip -n "$a" link set v0 up
	must "vnat in a" vnat_in "$a" load --iface v0
	ino_a=$(ns_inode "$a") ino_b=$(ns_inode "$b")
	# b inherits a's pins, as a namespace whose inode was recycled does
	must "a's pins become b's" mv "/sys/fs/bpf/vnat/netns-$ino_a" "/sys/fs/bpf/vnat/netns-$ino_b"
	defer rm -rf "/sys/fs/bpf/vnat/netns-$ino_b"
	check "doctor in b names vnat-stale-pins" doctor_finds "$b" vnat-stale-pins ""
	check "fix: remove them" finding_has fix "rm -r /sys/fs/bpf/vnat/netns-$ino_b"
	check "--fix removes them, says so, exits 0" doctor_fix_ok "$b" vnat-stale-pins
	check "the pins are gone" test ! -e "/sys/fs/bpf/vnat/netns-$ino_b"
	check "doctor in b finds nothing" doctor_clean "$b"
}

# ---------------------------------------------------------------- 11c. NAT ports exhausted

# udp_flows VAR NS: new UDP flows (a new source port each) for a few seconds.
udp_flows()
{
	bg_in_ns "$1" "$2" python3 -c '
import socket, time
for i in range(120):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"x", ("198.51.100.1", 9))
    s.close()
    time.sleep(0.025)
'
}

test_exhausted()
{
	local h g up d u

	test_group exhausted
	ns_create t13h t13g t13up
	h=$(ns t13h) g=$(ns t13g) up=$(ns t13up)
	must "br0" bridge_add "$h" br0
	must "br0 address" ip -n "$h" addr add 192.168.100.1/24 dev br0
	must "guest" guest_on "$h" br0 tap0 "$g" 192.168.100.2/24 192.168.100.1
	must "uplink" veth_pair "$h" eth0 "$up" eth0
	must "uplink address" ip -n "$h" addr add 198.51.100.2/24 dev eth0
	must "default route" ip -n "$h" route add default via 198.51.100.1
	must "upstream" ip -n "$up" addr add 198.51.100.1/24 dev eth0
	must "host forwards" in_ns "$h" sysctl -qw net.ipv4.ip_forward=1
	defer vnat_in "$h" unload --all
	must "vnat translates (tc: the guests' veths keep GRO off)" vnat_in "$h" load \
		--iface br0 --snat 198.51.100.2 --hook tc
	bg_in_ns d "$h" "$VNAT" daemon
	must "the guest reaches upstream" ping_all "$g" 198.51.100.1 3
	udp_flows u "$g"
	check "healthy: doctor finds nothing" slowwait 5 doctor_clean "$h"
	bg_wait_timeout 10 "$u"
	must "fault: two outside ports for every guest flow" sh -c \
		"ip netns exec $h $VNAT unload --all && ip netns exec $h $VNAT load --iface br0 \
			--snat 198.51.100.2 --hook tc --ports 2000-2001"
	udp_flows u "$g"
	check "doctor names vnat-exhausted" doctor_finds "$h" vnat-exhausted ""
	check "evidence: drop_no_port moving, the range" finding_matches evidence \
		"drop_no_port [0-9]+ \(\+[1-9][0-9]* in 1 s\); outside ports 2000-2001"
	check "fix: the same load with the full range" finding_has fix \
		"vnat unload --all && vnat load --iface br0 --hook tc --snat 198.51.100.2 --ports 1024-65535"
	bg_wait_timeout 10 "$u"
	check "the printed fix applies" apply_fix "$h"
	bg_stop "$d"
	bg_in_ns d "$h" "$VNAT" daemon
	udp_flows u "$g"
	check "after the fix doctor finds nothing" slowwait 5 doctor_clean "$h"
	bg_wait_timeout 10 "$u"
	check "the guest reaches upstream" ping_all "$g" 198.51.100.1 3
}

# ---------------------------------------------------------------- 9. XDP endpoints

test_xdp()
{
	local h a b d p

	test_group xdp
	ns_create t9h t9a t9b
	h=$(ns t9h) a=$(ns t9a) b=$(ns t9b)
	must "br0" bridge_add "$h" br0
	must "guest a" guest_on "$h" br0 vf1 "$a" 192.168.0.1/24
	must "guest b" guest_on "$h" br0 vf2 "$b" 192.168.0.2/24
	defer vnat_in "$h" unload --all
	must "vnat on br0 (default hook: tc on the guests' veths)" vnat_in "$h" load --iface br0
	bg_in_ns d "$h" "$VNAT" daemon
	must "a reaches b" ping_all "$a" 192.168.0.2 3
	check "healthy: doctor finds nothing" slowwait 5 doctor_clean "$h"
	# the subject: XDP on the guests' veths, whose peers take XDP frames at load
	must "a's veth takes XDP frames" prepare_xdp_peer "$a" eth0
	must "b's veth takes XDP frames" prepare_xdp_peer "$b" eth0
	must "vnat on br0 with --hook xdp" sh -c "ip netns exec $h $VNAT unload --all &&
		ip netns exec $h $VNAT load --iface br0 --hook xdp"
	bg_stop "$d"
	bg_in_ns d "$h" "$VNAT" daemon
	check "--hook xdp with its prerequisites: doctor finds nothing" slowwait 5 \
		doctor_clean "$h"
	must "fault: b's veth loses GRO after the load" in_ns "$b" ethtool -K eth0 gro off
	check "doctor names xdp-endpoint on vf2" doctor_finds "$h" xdp-endpoint vf2
	check "evidence: the peer as read in its namespace" finding_has evidence \
		"its peer eth0 has neither GRO nor an XDP program"
	check "fix: load again with --hook auto" finding_has fix \
		"vnat unload --all && vnat load --iface br0 --hook auto"
	check "the printed fix applies" apply_fix "$h"
	bg_stop "$d"
	bg_in_ns d "$h" "$VNAT" daemon
	check "after the fix doctor finds nothing" slowwait 5 doctor_clean "$h"
	check "a reaches b" ping_all "$a" 192.168.0.2 3
}

# ---------------------------------------------------------------- 10. bypass

test_bypass()
{
	local h d

	test_group bypass
	t2_create bypass
	h=$T2H
	defer vnat_in "$h" unload --all
	# Kernel admission (the default with rules present) bypasses nothing.
	must "vnat on virbr0, kernel admission" vnat_in "$h" load --iface virbr0 --snat 10.0.0.15
	bg_in_ns d "$h" "$VNAT" daemon
	check "doctor finds nothing under kernel admission" slowwait 5 doctor_clean "$h"
	must "unload" vnat_in "$h" unload --all
	bg_wait_timeout 3 "$d"
	must "vnat on virbr0, --admission vnat" \
		vnat_in "$h" load --iface virbr0 --snat 10.0.0.15 --admission vnat
	bg_in_ns d "$h" "$VNAT" daemon
	check "doctor names libvirt's REJECT rule vnat bypasses" doctor_finds "$h" vnat-bypass virbr0
	check "evidence: the rule" finding_has evidence "-A FORWARD -o virbr0 -j REJECT"
	check "fix: reload with kernel admission" finding_has fix "--admission auto"
	check "the printed fix applies" apply_fix "$h"
	bg_wait_timeout 3 "$d"
	bg_in_ns d "$h" "$VNAT" daemon
	check "after the fix doctor finds nothing" slowwait 5 doctor_clean "$h"
	check "g1 reaches up" ping_all "$T2G" 10.0.0.1 3
}

GROUPS_ALL="health noports stale exhausted xdp bypass"
for grp in ${*:-$GROUPS_ALL}; do
	"test_$grp"
done
exit_summary
