# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib_doctor.sh - helpers of the vnat doctor scenarios (doctor.sh: the
# kernel-path faults, doctor_vnat.sh: vnat's own): doctor's findings, the
# seeds' topologies, traffic. Sources lib_nat.sh (and so lib.sh); like them
# it only ever touches the namespaces it made.
#
# Doctor
#   doctor_clean NS [OPT...]        doctor exits 0 with no finding
#   doctor_finds NS CHECK IFACE [OPT...]  doctor exits 1 and names CHECK on
#                                   IFACE; the finding's JSON in $FINDING
#   finding_get FIELD, finding_has FIELD TEXT, finding_matches FIELD ERE
#   apply_fix NS                    run the finding's printed fix in NS
#   doctor_fix_ok NS CHECK          --fix exits 0 and says it fixed CHECK
#
# Topologies (no offload tuning on any endpoint)
#   bridge_add NS BR, guest_on HOST BR PORT GUEST ADDR/LEN [GW]
#   t1_create PREFIX                T1 (seed 000): $T1VM1 $T1R1 $T1VM3
#   t2_create PREFIX                T2 (seeds 001/004): $T2H $T2G $T2UP
#
# Traffic
#   ping_out NS DST COUNT, pinger VAR NS DST [-b], bg_stop PID
#   dns_server VAR NS, dns_ask NS, dns_fails NS   (a resolver at 198.51.100.53)

# A library: selftests/run.sh runs every selftests/net/*.sh but lib*.
[ "${BASH_SOURCE[0]}" = "$0" ] && exit 0

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_nat.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_nat.sh"

# ---------------------------------------------------------------- doctor

# doctor_clean NS [OPTION...]: doctor exits 0 with no finding.
doctor_clean()
{
	local js rc n=$1

	shift
	js=$(vnat_in "$n" doctor -j "$@")
	rc=$?
	echo "$js"
	[ "$rc" -eq 0 ] && json_eq "$js" "len(d['findings'])" 0
}

# doctor_finds NS CHECK IFACE [OPTION...]: doctor exits 1 and names CHECK
# on IFACE; the finding's JSON is left in $FINDING for finding_* below.
doctor_finds()
{
	local js rc

	js=$(vnat_in "$1" doctor -j "${@:4}")
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

# ---------------------------------------------------------------- topology and traffic

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

# doctor_fix_ok NS CHECK: --fix exits 0 and says it fixed CHECK.
doctor_fix_ok()
{
	vnat_in "$1" doctor --fix | tee "$LIB_TMPDIR/fix.txt"
	[ "${PIPESTATUS[0]}" -eq 0 ] && grep -q "fixed $2" "$LIB_TMPDIR/fix.txt"
}

# pinger VAR NS DST [-b]: pings in the background for a few seconds.
pinger()
{
	bg_in_ns "$1" "$2" ping -q -c 60 -i 0.05 -W 1 ${4:-} "$3"
}

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
