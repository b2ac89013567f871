#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# doctor.sh - vnat doctor on the field reports' faults on the kernel path. For each fault: the
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
#   resolver   T4 (seed 003): the resolver stops answering, then answers
#              from another address
#   mtu        T2: the uplink's MTU drops below the bridge's
#   brnf       T1 with the NAT role on br1's host: bridge-nf-call-iptables=1
#
# Usage: doctor.sh [GROUP...]   (V=1 for all command output)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_doctor.sh
source "$(dirname "$0")/lib_doctor.sh"

require_root
require_cmd ip iptables iptables-save sysctl ping socat python3 timeout conntrack
require_vnat

# ---------------------------------------------------------------- 1. redirects

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
	# router1 is one-armed: the loop is named before any redirect is sent
	check "doctor names redirect-loop before any traffic" doctor_finds "$r1" redirect-loop eth0
	check "evidence: no redirect sent yet" finding_has evidence "Icmp OutRedirects 0 (+0 in 1 s)"
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
	check "--iface eth0 looks at eth0 only: nothing found" doctor_clean "$h" --iface eth0
	check "--iface virbr0 names it" doctor_finds "$h" forwarding-off virbr0 --iface virbr0
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

# t4_topology H G UP: seed 003's host (T4): br0 192.168.100.1/24 with a
# guest on tap0, uplink enp4s0 198.51.100.2/24 to UP, which also holds the
# resolver's address 198.51.100.53; forwarding on, br_netfilter off. The
# callers add the rules they test.
t4_topology()
{
	local h=$1 g=$2 up=$3

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
}

# ---------------------------------------------------------------- 6. DNS

test_dns()
{
	local h g up srv

	test_group dns
	ns_create t4h t4g t4up
	h=$(ns t4h) g=$(ns t4g) up=$(ns t4up)
	t4_topology "$h" "$g" "$up"
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

# ---------------------------------------------------------------- 6b. resolver down

test_resolver()
{
	local h g up srv

	test_group resolver
	ns_create t6h t6g t6up
	h=$(ns t6h) g=$(ns t6g) up=$(ns t6up)
	t4_topology "$h" "$g" "$up"
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

GROUPS_ALL="redirect fwd natflush dupmac routeback dns resolver mtu brnf"
for grp in ${*:-$GROUPS_ALL}; do
	"test_$grp"
done
exit_summary
