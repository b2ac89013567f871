#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dnat.sh - hairpinned DNAT port forwards (issue 10). T2, libvirt's NAT
# network with libvirt's rules, plus port forwards on the uplink address as
# operators configure them, hairpin included:
#
#   PREROUTING  -d 10.0.0.15 -p tcp --dport 8080 -j DNAT --to 192.168.122.10:7001
#   PREROUTING  -d 10.0.0.15 -p tcp --dport 8082 -j DNAT --to 192.168.122.10:7002
#   PREROUTING  -d 10.0.0.15 -p udp --dport 8053 -j DNAT --to 192.168.122.10:53
#   POSTROUTING -s 192.168.122.0/24 -d 192.168.122.10 -m conntrack --ctstate DNAT
#               -j MASQUERADE    (the reply comes back through the host)
#
#   [g1] 192.168.122.10 --vnet0--+ (the forwarded ports' guest)
#                                virbr0 192.168.122.1 [host] eth0 10.0.0.15 -- [up] 10.0.0.1
#   [g2] 192.168.122.11 --vnet1--+ (connects to 10.0.0.15:P)
#
# From g2, TCP and UDP to 10.0.0.15:P, without vnat and then with vnat
# loaded as a user would (`vnat load --iface virbr0 --iface eth0`: kernel
# admission, vnat daemon running): the same result both ways. g2's
# answers come from 10.0.0.15:P (a connected UDP socket accepts no other
# source; g2's capture shows no frame from g1's own address), g1 sees the
# host's 192.168.122.1 (the hairpin MASQUERADE), a 1 MiB transfer arrives
# intact. vnat carries the hairpin after its first packets, with the
# kernel's DNAT and MASQUERADE (counters, vnat conns). Forwards from
# outside are policy.sh's (not repeated here).
#
# Usage: dnat.sh        (V=1 for all command output; VNAT=path to override)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_nat.sh
source "$(dirname "$0")/lib_nat.sh"

require_root
require_cmd ip socat tcpdump iptables iptables-restore conntrack python3 timeout ss sha256sum
require_vnat

FWD=$T2_HOST_ADDR
BULK=$((1024 * 1024))
QUERIES=20

# udp_hairpin SPORT: QUERIES queries g2:SPORT -> FWD:8053, every one
# answered from FWD:8053, and g1 saw the host's address.
udp_hairpin()
{
	local out got seen

	out=$(udp_ask "$G2" "$FWD" 8053 "$1" "$QUERIES") || return 1
	read -r got seen <<<"$out"
	echo "$got of $QUERIES answered from $FWD:8053; g1 saw ${seen%:*}"
	[ "$got" -eq "$QUERIES" ] && [ "${seen%:*}" = "$T2_BR_ADDR" ]
}

# tcp_via_forward FILE: g2 sends FILE to FWD:8082, which g1 receives on 7002.
tcp_via_forward()
{
	local out srv rc

	LIB_RUN_SEQ=$((LIB_RUN_SEQ + 1))
	out=$LIB_TMPDIR/recv.$LIB_RUN_SEQ
	bg_in_ns srv "$G1" socat -u "TCP4-LISTEN:7002,reuseaddr" "CREATE:$out"
	slowwait 5 tcp_listening "$G1" 7002 || return 1
	timeout --foreground "$CMD_TIMEOUT" ip netns exec "$G2" \
		socat -u "OPEN:$1" "TCP4:$FWD:8082,connect-timeout=5"
	rc=$?
	bg_wait_timeout 10 "$srv" || rc=1
	[ "$rc" -eq 0 ] && same_content "$1" "$out"
}

# snap_if LOADED NAME: a counters snapshot while vnat is loaded.
snap_if()
{
	[ "$1" = 0 ] || counters_snap "$HOST" "$2"
}

# hairpin_checks WHEN SPORT LOADED: every check of the hairpin, captured
# on g2; with vnat LOADED (1), also what vnat carried.
hairpin_checks()
{
	local when=$1 sport=$2 loaded=$3

	cap_start CAP "$G2" eth0 host "$FWD" or host "$T2_G1_ADDR"
	check "$when: TCP g2 -> $FWD:8080 reaches g1:7001, which sees the host $T2_BR_ADDR" \
		expect_peer "$T2_BR_ADDR" peer_ask_tcp "$G2" "$FWD" 8080
	snap_if "$loaded" C0
	check "$when: $QUERIES UDP queries g2:$sport -> $FWD:8053 answered from $FWD:8053" \
		udp_hairpin "$sport"
	snap_if "$loaded" C1
	check "$when: 1 MiB g2 -> $FWD:8082 -> g1:7002 intact (sha256)" tcp_via_forward "$FILE"
	snap_if "$loaded" C2
	cap_stop CAP
	check "$when: g2 saw no frame from g1's own address $T2_G1_ADDR" \
		cap_none "$CAP_FILE" src host "$T2_G1_ADDR"
	check "$when: g2 saw every UDP answer come from $FWD:8053" \
		cap_atleast "$CAP_FILE" "$QUERIES" udp and src host "$FWD" and src port 8053
	check "$when: g2 saw the TCP answers come from $FWD:8080 and :8082" \
		cap_atleast "$CAP_FILE" 2 "tcp and src host $FWD and (src port 8080 or src port 8082)"
	[ "$loaded" = 1 ] || return 0

	# vnat accelerates the hairpin: the kernel decides on the first
	# packets (DNAT, then MASQUERADE), tc egress on the bridge admits each
	# direction with both translations, and vnat carries the rest.
	check_cmp "$when: the UDP hairpin's first exchanges admitted both ways (admit_flow)" \
		"$(cdelta C0 C1 admit_flow)" -ge 2
	check_cmp "$when: fwd_admitted(_tc) carried the UDP hairpin after them (>= $((2 * QUERIES - 6)) of $((2 * QUERIES)))" \
		"$(cdelta C0 C1 fwd_admitted)" -ge $((2 * QUERIES - 6))
	check_cmp "$when: fwd_admitted(_tc) carried >= 3/4 of the 1 MiB through the TCP hairpin" \
		"$(cdelta C1 C2 fwd_admitted.bytes)" -ge $((BULK * 3 / 4))
	check "$when: conns: the UDP hairpin, the kernel's DNAT and MASQUERADE" \
		hairpin_conn_is "$sport"
}

# hairpin_conn_is SPORT: vnat conns shows g2:SPORT -> FWD:8053 decided by
# the kernel, from the host's address to g1:53.
hairpin_conn_is()
{
	conns_expect "$HOST" "next((c['by'], c['outside'], c['to']) for c in d if c['proto'] == 'udp' and c['inside'] == '$T2_G2_ADDR:$1' and c['remote'] == '$FWD:8053')" \
		"\[\"kernel\", \"$T2_BR_ADDR:$1\", \"$T2_G1_ADDR:53\"\]"
}

# flushed_text_is N: vnat status's admission line counts N flushed flows.
flushed_text_is()
{
	vnat_in "$HOST" status | grep -E "^admission: .*handed back \(.*\b$1 flushed\b"
}

# ---------------------------------------------------------------- topology

nat_t2_create
HOST=$(ns host) G1=$(ns g1) G2=$(ns g2)
defer vnat_in "$HOST" unload --all
must "libvirt's iptables rules" libvirt_rules_load "$HOST"
must "port forwards and the hairpin MASQUERADE" in_ns "$HOST" iptables-restore --noflush <<-EOF
	*nat
	-A PREROUTING -d $FWD/32 -p tcp --dport 8080 -j DNAT --to-destination $T2_G1_ADDR:7001
	-A PREROUTING -d $FWD/32 -p tcp --dport 8082 -j DNAT --to-destination $T2_G1_ADDR:7002
	-A PREROUTING -d $FWD/32 -p udp --dport 8053 -j DNAT --to-destination $T2_G1_ADDR:53
	-I POSTROUTING 1 -s $T2_NET -d $T2_G1_ADDR/32 -m conntrack --ctstate DNAT -j MASQUERADE
	COMMIT
EOF
must "UDP server in g1 :53" peer_server_udp SRV_U "$G1" 53
must "TCP server in g1 :7001" peer_server_tcp SRV_T "$G1" 7001
FILE=$(make_random_file "$BULK")

test_group "dnat: hairpin without vnat"
hairpin_checks "without vnat" 36001 0

test_group "dnat: hairpin with vnat"
must "conntrack -F" in_ns "$HOST" conntrack -F
check_rc 0 "vnat load --iface virbr0 --iface eth0" vnat_in "$HOST" load --iface virbr0 \
	--iface eth0 || die "vnat load failed: nothing else can be tested"
check "status: admission kernel" json_eq "$(vnat_status_json "$HOST")" \
	'd["config"]["admission"]' kernel
bg_in_ns DAEMON "$HOST" "$VNAT" daemon
must "vnat daemon follows" slowwait 5 grep -q following "$DAEMON_LOG"
hairpin_checks "with vnat" 36002 1

test_group "dnat: status counts hand-backs"
# Issue 10 point 6: status counts the flows conns flush and load --flush
# hand back, next to those whose kernel entry went or that were torn down.
check "status -j: no flow flushed yet" json_eq "$(vnat_status_json "$HOST")" \
	'd["admission"]["handed_back_flushed"]' 0
check "vnat conns flush hands the admitted hairpin flows back" vnat_in "$HOST" conns flush
FLUSHED=$(grep -oE '^[0-9]+' "$RUN_OUT")
check_cmp "... at least the UDP hairpin (the flush says $FLUSHED)" "${FLUSHED:-0}" -ge 1
check "status -j counts them: handed_back_flushed $FLUSHED" json_eq \
	"$(vnat_status_json "$HOST")" 'd["admission"]["handed_back_flushed"]' "$FLUSHED"
check "status says so" flushed_text_is "$FLUSHED"
check "the UDP hairpin again (admitted anew)" udp_hairpin 36002
# A load that is refused changes nothing: no flush, no count.
check_rc 1 "vnat load --iface virbr0 --iface eth0 --flush again (both managed) is refused" \
	vnat_in "$HOST" load --iface virbr0 --iface eth0 --flush
check "... in one line naming virbr0" grep -qx \
	"vnat: load: virbr0 is already managed by vnat (run 'vnat unload --iface virbr0' first)" \
	"$RUN_ERR"
check "... and the hairpin is still admitted (not flushed)" hairpin_conn_is 36002
check "... and not counted: handed_back_flushed $FLUSHED" json_eq \
	"$(vnat_status_json "$HOST")" 'd["admission"]["handed_back_flushed"]' "$FLUSHED"
# A load that adds an interface, with --flush.
must "a spare interface" ip -n "$HOST" link add spare0 type veth peer name spare1
must "spare0 address" ip -n "$HOST" addr add 192.0.2.1/24 dev spare0
must "spare0 up" ip -n "$HOST" link set spare0 up
check "vnat load --iface spare0 --flush hands the hairpin back" vnat_in "$HOST" load \
	--iface spare0 --flush
MORE=$(grep -oE '[0-9]+ admitted flows? handed back' "$RUN_OUT" | grep -oE '^[0-9]+')
check_cmp "... at least that flow (the load says ${MORE:-nothing})" "${MORE:-0}" -ge 1
check "status -j adds them: handed_back_flushed $((FLUSHED + ${MORE:-0}))" json_eq \
	"$(vnat_status_json "$HOST")" 'd["admission"]["handed_back_flushed"]' \
	"$((FLUSHED + ${MORE:-0}))"
check "status -j: handed_back is the sum of its reasons" json_eq "$(vnat_status_json "$HOST")" \
	'(lambda a: a["handed_back"] - a["handed_back_gone"] - a["handed_back_teardown"] - a["handed_back_flushed"])(d["admission"])' 0

check "vnat unload --all" vnat_in "$HOST" unload --all
bg_wait_timeout 5 "$DAEMON"

exit_summary
