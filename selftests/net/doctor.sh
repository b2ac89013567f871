#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# doctor.sh - vnat doctor on the field reports' faults. For each fault: the
# seed's topology built healthy (doctor exits 0, no finding), exactly that
# fault injected (the seed's own command where it gives one), doctor names
# it with its evidence and fix, the printed fix is applied, doctor exits 0
# again and the guests' traffic works. Doctor always runs inside the
# namespace under test (ip netns exec), never in the root namespace.
#
#   redirect   T1 (seed 000): router1's next hop on its own segment,
#              send_redirects back on; also --fix
#   fwd        T2 (seeds 001, 004): sysctl -w net.ipv4.ip_forward=0, and
#              forwarding=0 on virbr0 only
#   natflush   T2 (seed 004): iptables -t nat -F
#   dupmac     T3 isolated (seed 002): two guests with one MAC
#   routeback  T3 routed (seed 002): the upstream loses its route back
#   dns        T4 (seed 003): a FORWARD rule drops the guests' DNS
#   mtu        T2: the uplink's MTU drops below the bridge's
#   brnf       T1 with the NAT role on br1's host: bridge-nf-call-iptables=1
#   resolver   T4 (seed 003): the upstream resolver stops answering
#   health     vnat loaded in router1: its daemon stops
#   stale      vnat's pins left to a recycled namespace inode; --fix
#   exhausted  vnat's NAT with two outside ports: drop_no_port moves
#   xdp        vnat's XDP on guests' veths without GRO (default --hook)
#   bypass     vnat loaded on T2's virbr0: libvirt's REJECT rules
#
# Usage: doctor.sh [GROUP...]   (V=1 for all command output)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_nat.sh
source "$(dirname "$0")/lib_nat.sh"

require_root
require_cmd ip iptables iptables-save sysctl ping socat python3 timeout conntrack
require_vnat

# ---------------------------------------------------------------- doctor

# doctor_clean NS: doctor exits 0 with no finding.
doctor_clean()
{
	local js rc

	js=$(vnat_in "$1" doctor -j)
	rc=$?
	echo "$js"
	[ "$rc" -eq 0 ] && json_eq "$js" "len(d['findings'])" 0
}

# doctor_finds NS CHECK IFACE: doctor exits 1 and names CHECK on IFACE; the
# finding's JSON is left in $FINDING for finding_* below.
doctor_finds()
{
	local js rc

	js=$(vnat_in "$1" doctor -j)
	rc=$?
	echo "$js"
	[ "$rc" -eq 1 ] || return 1
	FINDING=$(json_get "[f for f in d['findings'] if f['check'] == '$2' and f['iface'] == '$3'][0]" \
		<<<"$js") || return 1
}

finding_get()
{
	json_get "d['$1']" <<<"$FINDING"
}

# finding_has FIELD TEXT: the field holds TEXT (a fixed string).
finding_has()
{
	local v

	v=$(finding_get "$1")
	echo "$1: $v"
	grep -qF -- "$2" <<<"$v"
}

# finding_matches FIELD ERE
finding_matches()
{
	local v

	v=$(finding_get "$1")
	echo "$1: $v"
	grep -qE -- "$2" <<<"$v"
}

# apply_fix NS: run the finding's printed fix command in NS.
apply_fix()
{
	local fix

	fix=$(finding_get fix)
	echo "fix in $1: $fix"
	# "vnat ..." is the build's binary
	in_ns "$1" env PATH="$(dirname "$VNAT"):$PATH" sh -c "$fix"
}

# ---------------------------------------------------------------- topology

# bg_stop PID: stop a process bg_in_ns started (whatever it exits with).
bg_stop()
{
	bg_wait_timeout 1 "$1"
	lib_pid_gone "$1"
}

bridge_add()
{
	ip -n "$1" link add "$2" type bridge stp_state 0 forward_delay 0 &&
		ip -n "$1" link set "$2" up
}

# guest_on HOST BR PORT GUEST ADDR/LEN [GW]: a guest namespace on a bridge
# port, left as the kernel makes its veth (no offload tuning).
guest_on()
{
	local h=$1 br=$2 port=$3 g=$4 addr=$5 gw=${6:-}

	veth_pair "$h" "$port" "$g" eth0 || return 1
	ip -n "$h" link set "$port" master "$br" || return 1
	ip -n "$g" addr add "$addr" dev eth0 || return 1
	[ -z "$gw" ] || ip -n "$g" route add default via "$gw" || return 1
	in_ns "$g" sysctl -qw net.ipv4.ip_forward=0
}

# T2 (seeds 001/004): g1 on virbr0 of host, uplink eth0 to up, libvirt's
# rules; namespaces PREFIXh, PREFIXg, PREFIXup (each group its own).
t2_create()
{
	local h p=$1

	ns_create "${p}h" "${p}up" "${p}g"
	T2H=$(ns "${p}h") T2G=$(ns "${p}g") T2UP=$(ns "${p}up")
	h=$T2H
	must "virbr0" bridge_add "$h" virbr0
	must "virbr0 address" ip -n "$h" addr add 192.168.122.1/24 dev virbr0
	must "g1 on virbr0" guest_on "$h" virbr0 vnet0 "$T2G" 192.168.122.2/24 192.168.122.1
	must "uplink" veth_pair "$h" eth0 "$T2UP" eth0
	must "uplink address" ip -n "$h" addr add 10.0.0.15/24 dev eth0
	must "default route" ip -n "$h" route add default via 10.0.0.1
	must "up address" ip -n "$T2UP" addr add 10.0.0.1/24 dev eth0
	must "host forwards" in_ns "$h" sysctl -qw net.ipv4.ip_forward=1
	must "host br_netfilter off" in_ns "$h" sysctl -qw net.bridge.bridge-nf-call-iptables=0
	must "libvirt rules" libvirt_rules_load "$h"
	must "g1 reaches up" ping_all "$T2G" 10.0.0.1 3
}

# ---------------------------------------------------------------- 1. redirects

# T1 (seed 000): vm1, router1, vm3 (the NAT box) on br1, lan behind vm3;
# namespaces PREFIXh, PREFIXvm1, PREFIXr1, PREFIXvm3, PREFIXlan.
t1_create()
{
	local h r1 vm3 lan p=$1

	ns_create "${p}h" "${p}vm1" "${p}r1" "${p}vm3" "${p}lan"
	h=$(ns "${p}h") r1=$(ns "${p}r1") vm3=$(ns "${p}vm3") lan=$(ns "${p}lan")
	T1VM1=$(ns "${p}vm1") T1R1=$r1 T1VM3=$vm3
	must "br1" bridge_add "$h" br1
	must "vm1 on br1" guest_on "$h" br1 vnet1 "$T1VM1" 203.0.113.229/24 203.0.113.1
	must "router1 on br1" guest_on "$h" br1 vnet2 "$r1" 203.0.113.1/24 203.0.113.2
	must "vm3 on br1" guest_on "$h" br1 vnet3 "$vm3" 203.0.113.2/24
	must "vm3 eth0 <-> lan" veth_pair "$vm3" eth0x "$lan" eth0
	must "vm3 uplink address" ip -n "$vm3" addr add 192.168.1.101/24 dev eth0x
	must "vm3 default route" ip -n "$vm3" route add default via 192.168.1.1
	must "lan address" ip -n "$lan" addr add 192.168.1.1/24 dev eth0
	must "vm3 forwards" in_ns "$vm3" sysctl -qw net.ipv4.ip_forward=1
	must "vm3 SNAT (seed 000)" in_ns "$vm3" iptables -t nat -A POSTROUTING \
		-s 203.0.113.0/24 -j SNAT --to 192.168.1.101
	must "router1 forwards" in_ns "$r1" sysctl -qw net.ipv4.ip_forward=1
	must "router1 sends no redirects (healthy)" in_ns "$r1" sysctl -qw \
		net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0
	# vm1 keeps using router1 whatever it is told: every ping crosses the hairpin
	must "vm1 ignores redirects" in_ns "$T1VM1" sysctl -qw \
		net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.eth0.accept_redirects=0
	must "vm1 reaches lan" ping_all "$T1VM1" 192.168.1.1 3
}

ping_out()
{
	in_ns "$1" ping -c "$3" -i 0.1 -W 1 "$2"
}

no_redirect_seen()
{
	ping_out "$@" >"$LIB_TMPDIR/ping.txt" 2>&1
	local rc=$?
	cat "$LIB_TMPDIR/ping.txt"
	[ "$rc" -eq 0 ] && ! grep -q Redirect "$LIB_TMPDIR/ping.txt"
}

redirect_seen()
{
	ping_out "$@" | grep 'Redirect Host(New nexthop: 203.0.113.2)'
}

test_redirect()
{
	local r1 vm1

	test_group redirect
	t1_create t1
	r1=$T1R1 vm1=$T1VM1
	check "healthy T1: doctor in router1 finds nothing" doctor_clean "$r1"
	check "healthy T1: doctor in the NAT box vm3 finds nothing" doctor_clean "$T1VM3"
	must "fault: send_redirects back on in router1" in_ns "$r1" sysctl -qw \
		net.ipv4.conf.all.send_redirects=1
	check "vm1's ping shows the seed's redirect" redirect_seen "$vm1" 192.168.1.1 3
	check "doctor names redirect-loop on eth0" doctor_finds "$r1" redirect-loop eth0
	check "evidence: send_redirects in effect" finding_has evidence \
		"net.ipv4.conf.all.send_redirects = 1"
	check "evidence: the next hop on eth0's own segment" finding_has evidence \
		"route default via 203.0.113.2 dev eth0"
	check "evidence: Icmp OutRedirects counted" finding_matches evidence "OutRedirects [1-9]"
	check "fix: both send_redirects off" finding_has fix \
		"sysctl -w net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0"
	check "the printed fix applies" apply_fix "$r1"
	check "after the fix doctor finds nothing" doctor_clean "$r1"
	check "vm1 reaches lan, no redirect" no_redirect_seen "$vm1" 192.168.1.1 3

	must "fault again" in_ns "$r1" sysctl -qw net.ipv4.conf.all.send_redirects=1
	check "--fix applies the safe fix, says so and exits 0" doctor_fix_ok "$r1" redirect-loop
	check_cmp "--fix turned send_redirects off" \
		"$(in_ns "$r1" sysctl -n net.ipv4.conf.all.send_redirects)" -eq 0
	check "doctor finds nothing after --fix" doctor_clean "$r1"
}

# doctor_fix_ok NS CHECK: --fix exits 0 and says it fixed CHECK.
doctor_fix_ok()
{
	vnat_in "$1" doctor --fix | tee "$LIB_TMPDIR/fix.txt"
	[ "${PIPESTATUS[0]}" -eq 0 ] && grep -q "fixed $2" "$LIB_TMPDIR/fix.txt"
}

# ---------------------------------------------------------------- 2. forwarding

test_fwd()
{
	local h g

	test_group fwd
	t2_create fwd
	h=$T2H g=$T2G
	check "healthy T2: doctor finds nothing" doctor_clean "$h"
	must "fault (seeds 001, 004): sysctl -w net.ipv4.ip_forward=0" in_ns "$h" \
		sysctl -qw net.ipv4.ip_forward=0
	check "g1 reaches nothing beyond the host" ping_none "$g" 10.0.0.1 2
	check "doctor names forwarding-off" doctor_finds "$h" forwarding-off all
	check "evidence: the sysctl" finding_has evidence "net.ipv4.ip_forward = 0"
	check "evidence: refused packets counted" finding_matches evidence "InAddrErrors [1-9]"
	check "fix: sysctl -w net.ipv4.ip_forward=1" finding_has fix "sysctl -w net.ipv4.ip_forward=1"
	check "the printed fix applies" apply_fix "$h"
	check "after the fix doctor finds nothing" doctor_clean "$h"
	check "g1 reaches up" ping_all "$g" 10.0.0.1 3

	must "fault: forwarding off on virbr0 only" in_ns "$h" sysctl -qw \
		net.ipv4.conf.virbr0.forwarding=0
	check "g1 reaches nothing beyond the host" ping_none "$g" 10.0.0.1 2
	check "doctor names forwarding-off on virbr0" doctor_finds "$h" forwarding-off virbr0
	check "evidence: the interface's sysctl" finding_has evidence \
		"net.ipv4.conf.virbr0.forwarding = 0"
	check "fix: forwarding on for virbr0" finding_has fix \
		"sysctl -w net.ipv4.conf.virbr0.forwarding=1"
	check "the printed fix applies" apply_fix "$h"
	check "after the fix doctor finds nothing" doctor_clean "$h"
	check "g1 reaches up" ping_all "$g" 10.0.0.1 3
}

# ---------------------------------------------------------------- 3. NAT missing

test_natflush()
{
	local h g

	test_group natflush
	t2_create natflush
	h=$T2H g=$T2G
	check "healthy T2: doctor finds nothing" doctor_clean "$h"
	must "fault (seed 004): iptables -t nat -F" in_ns "$h" iptables -t nat -F
	check "g1 reaches nothing beyond the host" ping_none "$g" 10.0.0.1 2
	check "doctor names nat-missing on virbr0" doctor_finds "$h" nat-missing virbr0
	check "evidence: no SNAT/MASQUERADE for the prefix" finding_has evidence \
		"no SNAT/MASQUERADE in POSTROUTING for -s 192.168.122.0/24 -o eth0"
	check "evidence: the guest's untranslated flow" finding_has evidence \
		"src=192.168.122.2 dst=10.0.0.1 [UNREPLIED]"
	check "fix: a MASQUERADE rule" finding_has fix \
		"iptables -t nat -A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -o eth0 -j MASQUERADE"
	check "the printed fix applies" apply_fix "$h"
	check "after the fix doctor finds nothing" doctor_clean "$h"
	check "g1 reaches up" ping_all "$g" 10.0.0.1 3
}

# ---------------------------------------------------------------- 4. duplicate MAC

# pinger VAR NS DST [-b]: pings in the background for a few seconds.
pinger()
{
	bg_in_ns "$1" "$2" ping -q -c 60 -i 0.05 -W 1 ${4:-} "$3"
}

test_dupmac()
{
	local h a b c mac p fix_on guest

	test_group dupmac
	ns_create t3h t3a t3b t3c
	h=$(ns t3h) a=$(ns t3a) b=$(ns t3b) c=$(ns t3c)
	must "br0 (isolated model: no address)" bridge_add "$h" br0
	must "guest a" guest_on "$h" br0 vf1 "$a" 192.168.0.1/24
	must "guest b" guest_on "$h" br0 vf2 "$b" 192.168.0.2/24
	must "guest c" guest_on "$h" br0 vf3 "$c" 192.168.0.3/24
	must "a reaches c" ping_all "$a" 192.168.0.3 3
	must "b reaches c" ping_all "$b" 192.168.0.3 3
	pinger p "$a" 192.168.0.3
	check "healthy: doctor on the host finds nothing" doctor_clean "$h"
	bg_wait_timeout 5 "$p"

	mac=$(ip -n "$a" -j link show dev eth0 | json_get 'd[0]["address"]')
	must "fault (seed 002): b takes a's MAC" ip -n "$b" link set dev eth0 address "$mac"
	# broadcast pings: each guest keeps sending from the MAC, ARP or not
	pinger pa "$a" 192.168.0.255 -b
	pinger pb "$b" 192.168.0.255 -b
	check "doctor names duplicate-mac on br0" doctor_finds "$h" duplicate-mac br0
	check "evidence: the MAC on both ports" finding_matches evidence \
		"$mac learned on vf[12] and on vf[12]"
	check "fix: a new MAC for one guest" finding_matches fix \
		"^ip link set dev eth0 address 52:54:00:[0-9a-f:]{8}$"
	fix_on=$(finding_get fix_on)
	case "$fix_on" in
	*vf1) guest=$a ;;
	*) guest=$b ;;
	esac
	bg_wait_timeout 5 "$pa"
	bg_wait_timeout 5 "$pb"
	check "the printed fix applies in $fix_on" apply_fix "$guest"
	# the MAC's FDB entry may still point at the fixed guest's port: relearn it
	ping_all "$a" 192.168.0.3 2 >/dev/null 2>&1
	ping_all "$b" 192.168.0.3 2 >/dev/null 2>&1
	check "after the fix doctor finds nothing" doctor_clean "$h"
	check "a and b talk again" ping_all "$a" 192.168.0.2 3
}

# ---------------------------------------------------------------- 5. no route back

test_routeback()
{
	local h g up

	test_group routeback
	ns_create t5h t5g t5up
	h=$(ns t5h) g=$(ns t5g) up=$(ns t5up)
	must "br0 routed model" bridge_add "$h" br0
	must "br0 address" ip -n "$h" addr add 192.0.2.1/24 dev br0
	must "guest" guest_on "$h" br0 vnet0 "$g" 192.0.2.10/24 192.0.2.1
	must "uplink" veth_pair "$h" eth0 "$up" eth0
	must "uplink address" ip -n "$h" addr add 198.51.100.2/24 dev eth0
	must "default route" ip -n "$h" route add default via 198.51.100.1
	must "upstream addresses" ip -n "$up" addr add 198.51.100.1/24 dev eth0
	must "upstream second host" ip -n "$up" addr add 198.51.100.100/24 dev eth0
	must "upstream route back (healthy)" ip -n "$up" route add 192.0.2.0/24 via 198.51.100.2
	must "host forwards" in_ns "$h" sysctl -qw net.ipv4.ip_forward=1
	must "host br_netfilter off" in_ns "$h" sysctl -qw net.bridge.bridge-nf-call-iptables=0
	# a stateful FORWARD rule, as hosts have: conntrack follows the flows
	must "host tracks forwarded flows" in_ns "$h" iptables -A FORWARD -m conntrack \
		--ctstate RELATED,ESTABLISHED -j ACCEPT
	must "guest reaches upstream" ping_all "$g" 198.51.100.1 3
	check "healthy routed model: doctor finds nothing" doctor_clean "$h"
	must "fault: the upstream loses its route back" ip -n "$up" route del 192.0.2.0/24
	check "the guest gets no reply" ping_none "$g" 198.51.100.100 2
	check "doctor names no-route-back on br0" doctor_finds "$h" no-route-back br0
	check "evidence: the unanswered flow" finding_has evidence \
		"icmp src=192.0.2.10 dst=198.51.100.100 [UNREPLIED]"
	check "fix: the route back" finding_has fix "ip route add 192.0.2.0/24 via 198.51.100.2"
	check "fix runs on the upstream router" finding_has fix_on "the upstream router 198.51.100.1"
	check "the printed fix applies on the upstream router" apply_fix "$up"
	check "the guest reaches upstream" ping_all "$g" 198.51.100.100 3
	check "after the fix doctor finds nothing" doctor_clean "$h"
}

# ---------------------------------------------------------------- 6. DNS

dns_server()
{
	# answers every datagram to port 53 (a stand-in for the resolver)
	bg_in_ns "$1" "$2" socat UDP4-RECVFROM:53,bind=198.51.100.53,fork EXEC:cat
}

dns_ask()
{
	echo query | in_ns "$1" timeout 3 socat -t 2 - UDP4:198.51.100.53:53 | grep -q query
}

dns_fails()
{
	! dns_ask "$1"
}

test_dns()
{
	local h g up srv

	test_group dns
	ns_create t4h t4g t4up
	h=$(ns t4h) g=$(ns t4g) up=$(ns t4up)
	must "br0" bridge_add "$h" br0
	must "br0 address" ip -n "$h" addr add 192.168.100.1/24 dev br0
	must "guest" guest_on "$h" br0 tap0 "$g" 192.168.100.2/24 192.168.100.1
	must "uplink enp4s0" veth_pair "$h" enp4s0 "$up" eth0
	must "uplink address" ip -n "$h" addr add 198.51.100.2/24 dev enp4s0
	must "default route" ip -n "$h" route add default via 198.51.100.1
	must "upstream" ip -n "$up" addr add 198.51.100.1/24 dev eth0
	must "resolver address" ip -n "$up" addr add 198.51.100.53/24 dev eth0
	must "host forwards" in_ns "$h" sysctl -qw net.ipv4.ip_forward=1
	must "host br_netfilter off" in_ns "$h" sysctl -qw net.bridge.bridge-nf-call-iptables=0
	must "seed 003's rules" sh -c "printf '%s\n' '*filter' '-A FORWARD -i br0 -j ACCEPT' \
		'-A FORWARD -o br0 -j ACCEPT' COMMIT '*nat' \
		'-A POSTROUTING -o enp4s0 -j MASQUERADE' COMMIT |
		ip netns exec $h iptables-restore"
	dns_server srv "$up"
	must "the guest resolves" slowwait 5 dns_ask "$g"
	check "healthy T4: doctor finds nothing" doctor_clean "$h"
	must "fault: a FORWARD rule drops DNS" in_ns "$h" iptables -I FORWARD -p udp --dport 53 -j DROP
	check "the guest's DNS times out" dns_fails "$g"
	check "doctor names dns-blocked" doctor_finds "$h" dns-blocked ""
	check "evidence: the rule and its refusals" finding_matches evidence \
		"FORWARD -p udp -m udp --dport 53 -j DROP \([1-9][0-9]* packets refused\)"
	check "fix: delete the rule" finding_has fix \
		"iptables -t filter -D FORWARD -p udp -m udp --dport 53 -j DROP"
	check "the printed fix applies" apply_fix "$h"
	check "after the fix doctor finds nothing" doctor_clean "$h"
	check "the guest resolves" dns_ask "$g"
}

# ---------------------------------------------------------------- 7. MTU

test_mtu()
{
	local h g

	test_group mtu
	t2_create mtu
	h=$T2H g=$T2G
	check "healthy T2: doctor finds nothing" doctor_clean "$h"
	must "fault: the uplink carries 1400 bytes" ip -n "$h" link set dev eth0 mtu 1400
	check "doctor names mtu-mismatch on virbr0" doctor_finds "$h" mtu-mismatch virbr0
	check "evidence: both MTUs" finding_has evidence "mtu of virbr0 1500 > mtu of eth0 1400"
	check "fix: the bridge's MTU" finding_has fix "ip link set dev virbr0 mtu 1400"
	check "the printed fix applies" apply_fix "$h"
	check "after the fix doctor finds nothing" doctor_clean "$h"
	check "g1 reaches up" ping_all "$g" 10.0.0.1 3
}

# ---------------------------------------------------------------- 8. br_netfilter

test_brnf()
{
	local h r1 vm1 lan

	test_group brnf
	# T1 with the NAT role on the host that owns br1 (TOPOLOGIES.md, T1)
	ns_create t8h t8vm1 t8r1 t8lan
	h=$(ns t8h) r1=$(ns t8r1) vm1=$(ns t8vm1) lan=$(ns t8lan)
	must "br1" bridge_add "$h" br1
	must "br1 address" ip -n "$h" addr add 203.0.113.2/24 dev br1
	must "vm1 on br1" guest_on "$h" br1 vnet1 "$vm1" 203.0.113.229/24 203.0.113.1
	must "router1 on br1" guest_on "$h" br1 vnet2 "$r1" 203.0.113.1/24 203.0.113.2
	must "router1 forwards, no redirects" in_ns "$r1" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0
	must "vm1 ignores redirects" in_ns "$vm1" sysctl -qw \
		net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.eth0.accept_redirects=0
	must "uplink" veth_pair "$h" eth0 "$lan" eth0
	must "uplink address" ip -n "$h" addr add 192.168.1.101/24 dev eth0
	must "lan address" ip -n "$lan" addr add 192.168.1.1/24 dev eth0
	must "default route" ip -n "$h" route add default via 192.168.1.1
	must "host forwards, no redirects" in_ns "$h" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.br1.send_redirects=0
	must "host SNAT (seed 000)" in_ns "$h" iptables -t nat -A POSTROUTING \
		-s 203.0.113.0/24 -j SNAT --to 192.168.1.101
	must "host br_netfilter off (healthy)" in_ns "$h" sysctl -qw \
		net.bridge.bridge-nf-call-iptables=0
	must "vm1 reaches lan" ping_all "$vm1" 192.168.1.1 3
	check "healthy: doctor finds nothing" doctor_clean "$h"
	must "fault: bridge-nf-call-iptables=1 (this kernel's default)" in_ns "$h" sysctl -qw \
		net.bridge.bridge-nf-call-iptables=1
	check "vm1 gets no reply" ping_none "$vm1" 192.168.1.1 2
	check "doctor names br-netfilter on br1" doctor_finds "$h" br-netfilter br1
	check "evidence: the sysctl and the untranslated flow" finding_has evidence \
		"icmp src=203.0.113.229 dst=192.168.1.1 [UNREPLIED]"
	check "fix: bridge-nf-call-iptables off, stale flows dropped" finding_has fix \
		"sysctl -w net.bridge.bridge-nf-call-iptables=0 && conntrack -D -s 203.0.113.0/24"
	check "the printed fix applies" apply_fix "$h"
	check "vm1 reaches lan" ping_all "$vm1" 192.168.1.1 3
	check "after the fix doctor finds nothing" doctor_clean "$h"
}

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

# ---------------------------------------------------------------- 10. bypass

test_bypass()
{
	local h d

	test_group bypass
	t2_create bypass
	h=$T2H
	defer vnat_in "$h" unload --all
	must "vnat on virbr0" vnat_in "$h" load --iface virbr0 --snat 10.0.0.15
	bg_in_ns d "$h" "$VNAT" daemon
	check "doctor names libvirt's REJECT rule vnat bypasses" doctor_finds "$h" vnat-bypass virbr0
	check "evidence: the rule" finding_has evidence "-A FORWARD -o virbr0 -j REJECT"
	check "fix: vnat unload --all" finding_has fix "vnat unload --all"
	check "the printed fix applies" apply_fix "$h"
	bg_wait_timeout 3 "$d"
	check "after the fix doctor finds nothing" doctor_clean "$h"
	check "g1 reaches up" ping_all "$T2G" 10.0.0.1 3
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
	# healthy: veth-attached guests on the tc hook (their veths keep GRO off)
	must "vnat on br0, --hook auto" vnat_in "$h" load --iface br0 --hook auto
	bg_in_ns d "$h" "$VNAT" daemon
	must "a reaches b" ping_all "$a" 192.168.0.2 3
	pinger p "$a" 192.168.0.2
	check "healthy: doctor finds nothing" slowwait 5 doctor_clean "$h"
	bg_wait_timeout 5 "$p"
	must "fault: vnat loaded with XDP on the guests' veths" sh -c \
		"ip netns exec $h $VNAT unload --all && ip netns exec $h $VNAT load --iface br0"
	check "a no longer reaches b" ping_none "$a" 192.168.0.2 2
	pinger p "$a" 192.168.0.2
	check "doctor names xdp-endpoint on vf1" doctor_finds "$h" xdp-endpoint vf1
	check "evidence: the veth's drops growing" finding_matches evidence \
		"rx dropped [1-9][0-9]* \(\+[1-9][0-9]* in 1 s\)"
	check "fix: load again with --hook auto" finding_has fix \
		"vnat unload --all && vnat load --iface br0 --hook auto"
	bg_wait_timeout 5 "$p"
	check "the printed fix applies" apply_fix "$h"
	bg_stop "$d"
	bg_in_ns d "$h" "$VNAT" daemon
	check "a reaches b" ping_all "$a" 192.168.0.2 3
	pinger p "$a" 192.168.0.2
	check "after the fix doctor finds nothing" slowwait 5 doctor_clean "$h"
	bg_wait_timeout 5 "$p"
}

# ---------------------------------------------------------------- 6b. resolver down

test_resolver()
{
	local h g up srv

	test_group resolver
	ns_create t6h t6g t6up
	h=$(ns t6h) g=$(ns t6g) up=$(ns t6up)
	must "br0" bridge_add "$h" br0
	must "br0 address" ip -n "$h" addr add 192.168.100.1/24 dev br0
	must "guest" guest_on "$h" br0 tap0 "$g" 192.168.100.2/24 192.168.100.1
	must "uplink" veth_pair "$h" enp4s0 "$up" eth0
	must "uplink address" ip -n "$h" addr add 198.51.100.2/24 dev enp4s0
	must "default route" ip -n "$h" route add default via 198.51.100.1
	must "upstream" ip -n "$up" addr add 198.51.100.1/24 dev eth0
	must "resolver address" ip -n "$up" addr add 198.51.100.53/24 dev eth0
	must "host forwards" in_ns "$h" sysctl -qw net.ipv4.ip_forward=1
	must "host br_netfilter off" in_ns "$h" sysctl -qw net.bridge.bridge-nf-call-iptables=0
	must "MASQUERADE (seed 003)" in_ns "$h" iptables -t nat -A POSTROUTING -o enp4s0 \
		-j MASQUERADE
	dns_server srv "$up"
	must "the guest resolves" slowwait 5 dns_ask "$g"
	check "healthy: doctor finds nothing" doctor_clean "$h"
	must "fault (seed 003): the resolver stops answering" bg_stop "$srv"
	check "the guest's DNS times out" dns_fails "$g"
	check "doctor names dns-timeout" doctor_finds "$h" dns-timeout ""
	check "evidence: the unanswered flow to the resolver" finding_matches evidence \
		"[1-9][0-9]* UDP flows to 198.51.100.53 port 53, none answered \(e.g. udp src=192.168.100.2 dst=198.51.100.53 dport=53 \[UNREPLIED\]\)"
	check "fix: trace the path to the resolver" finding_has fix "ip route get 198.51.100.53"
	dns_server srv "$up"
	check "the resolver back: the guest resolves" slowwait 5 dns_ask "$g"
	check "then doctor finds nothing" doctor_clean "$h"

	must "fault: the resolver answers from its primary address" bg_stop "$srv"
	bg_in_ns srv "$up" socat UDP4-RECVFROM:53,fork EXEC:cat
	check "the guest's DNS times out" dns_fails "$g"
	check "doctor names dns-timeout" doctor_finds "$h" dns-timeout ""
	check "what: the answers' address" finding_has what \
		"the DNS server 198.51.100.53 answers from 198.51.100.1"
	check "evidence: the answer's flow to the translated port" finding_matches evidence \
		"a flow from 198.51.100.1 port 53 to the translated port [0-9]+"
	bg_stop "$srv"
	dns_server srv "$up"
	check "the resolver bound to its address: the guest resolves" slowwait 5 dns_ask "$g"
	check "then doctor finds nothing" doctor_clean "$h"
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

GROUPS_ALL="redirect fwd natflush dupmac routeback dns resolver mtu brnf health stale exhausted xdp bypass"
for grp in ${*:-$GROUPS_ALL}; do
	"test_$grp"
done
exit_summary
