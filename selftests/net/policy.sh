#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# policy.sh - the host's policy still decides (issue 10). T2, libvirt's NAT
# network with libvirt's iptables rules (lib_nat.sh), and vnat loaded as a
# user would, without --snat:
#
#     vnat load --iface virbr0 --iface eth0
#
# The namespace has netfilter rules, so vnat admits flows through the
# kernel: the kernel's FORWARD and NAT rules decide each new flow, vnat
# carries what the kernel forwarded, with the kernel's translation.
#
#   [g1] 192.168.122.10 --vnet0--+
#                                virbr0 192.168.122.1 [host] eth0 10.0.0.15 -- [up] 10.0.0.1
#   [g2] 192.168.122.11 --vnet1--+                                                198.51.100.53
#
# Checked: a policy matrix (iptables DROP, REJECT tcp-reset and
# icmp-port-unreachable, nftables inet forward drop, nftables ip forward
# with ct state, nftables bridge forward drop and an ebtables-nft rule
# between two guests, libvirt's own rules against unsolicited inbound and a
# guest's foreign source address) gives the same verdicts with vnat loaded as without, and
# up captures 0 frames of a refused flow; admitted flows are carried by the
# fast path after their first packets (counters) with MASQUERADE's
# translation; DNAT port forwards (TCP, UDP) answer from the forwarded
# port; conntrack -L lists the flows vnat carries; conns flush hands a
# flow back (a rule added meanwhile then stops it); conntrack -F ends
# vnat's copy; load and unload during a transfer lose nothing. Then, with
# every rule removed, --snat alone: unsolicited inbound and spoofed inside
# sources from the uplink never reach a guest, unless --inbound kernel.
#
# Usage: policy.sh        (V=1 for all command output; VNAT=path to override)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_nat.sh
source "$(dirname "$0")/lib_nat.sh"

SNAT=$T2_HOST_ADDR
BULK=$((4 * 1024 * 1024))

require_root
require_cmd ip ping socat tcpdump iptables iptables-restore nft ebtables conntrack python3 timeout ss \
	sha256sum
require_vnat

# ---------------------------------------------------------------- helpers

vnat_load()
{
	vnat_in "$HOST" load --iface virbr0 --iface eth0 "$@"
}

# udp_answers NS ADDR PORT SPORT COUNT: prints the number of answers.
udp_answers()
{
	local out

	out=$(udp_ask "$@") || return 1
	echo "${out%% *}"
}

# udp_all NS ADDR PORT SPORT COUNT: every query answered.
udp_all()
{
	local got

	got=$(udp_answers "$@") || return 1
	echo "$got of $5 answered"
	[ "$got" -eq "$5" ]
}

# udp_none NS ADDR PORT SPORT COUNT: no query answered.
udp_none()
{
	local got

	got=$(udp_answers "$@") || return 1
	echo "$got of $5 answered"
	[ "$got" -eq 0 ]
}

# A TCP connection that must fail: refused (RST) or timed out.
tcp_fails()
{
	if peer_ask_tcp "$@" >/dev/null 2>&1; then
		echo "connection to $2:$3 answered"
		return 1
	fi
	echo "connection to $2:$3 failed, as it should"
}

# tcp_refused NS ADDR PORT: refused fast (a RST arrived), not timed out.
tcp_refused()
{
	local out

	out=$(timeout 10 ip netns exec "$1" socat -T 2 - "TCP4:$2:$3,connect-timeout=3" \
		</dev/null 2>&1)
	echo "$out"
	grep -q 'Connection refused' <<<"$out"
}

# one_line_naming FILE TEXT: FILE holds one line, and it contains TEXT.
one_line_naming()
{
	cat "$1"
	[ "$(grep -c . "$1")" -eq 1 ] && grep -qF -- "$2" "$1"
}

status_admission_line()
{
	vnat_in "$HOST" status | grep -E '^admission: [1-9][0-9]* flow directions admitted, [1-9][0-9]* packets left'
}

# An outside port for unsolicited tries at g1 (unsolicited_blocked).
UNSOL_PORT=8081

# A guest sending from an address outside the inside prefix (spoofed).
FOREIGN=10.99.0.5
UDP_FROM_PY='
import socket, sys
src, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.settimeout(1)
got = 0
for i in range(3):
    s.sendto(b"spoofed", (addr, port))
    try:
        s.recvfrom(2048)
        got += 1
    except (socket.timeout, ConnectionRefusedError):
        pass
print(got)
'

# udp_none_from NS SRC ADDR PORT: nothing sent from SRC is answered.
udp_none_from()
{
	local got

	got=$(timeout 20 ip netns exec "$1" python3 -c "$UDP_FROM_PY" "$2" "$3" "$4") || return 1
	echo "$got of 3 answered"
	[ "$got" -eq 0 ]
}

# counter_sum NS NAME...: the packets of these counters, summed.
counter_sum()
{
	local js expr=0 c

	js=$(vnat_status_json "$1") || return 1
	shift
	for c in "$@"; do
		expr="$expr + d['counters']['$c']['packets']"
	done
	json_get "$expr" <<<"$js"
}

# tcp_liberal_sysctl NS: the namespace's nf_conntrack_tcp_be_liberal.
tcp_liberal_sysctl()
{
	in_ns "$1" cat /proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal
}

# sysctl_strict NS: vnat left nf_conntrack_tcp_be_liberal at 0 (the host's policy).
sysctl_strict()
{
	local v

	v=$(tcp_liberal_sysctl "$1") || return 1
	echo "nf_conntrack_tcp_be_liberal=$v"
	[ "$v" = 0 ]
}

# kconn_window INSIDE_RE REMOTE WINDOW: conns -j shows the kernel TCP flow's
# entry with that window tracking (read from the kernel through ctnetlink).
kconn_window()
{
	conns_expect "$HOST" "next((c.get('window') for c in d if c['proto'] == 'tcp' and __import__('re').fullmatch(r'$1', c['inside']) and c['remote'] == '$2'), None)" "$3"
}

admitted_fwd()
{
	counter_sum "$HOST" fwd_admitted fwd_admitted_tc
}

# ct_flow NS PATTERN: conntrack -L in NS has a line matching PATTERN.
ct_flow()
{
	local l

	l=$(ct_list "$HOST")
	grep -E -- "$1" <<<"$l" || {
		echo "no conntrack entry matches '$1':"
		echo "$l"
		return 1
	}
}

# kconn_is PROTO INSIDE REMOTE OUTSIDE: vnat conns shows the flow, decided
# by the kernel, translated to OUTSIDE.
kconn_is()
{
	conns_expect "$HOST" "next((c['by'], c['outside']) for c in d if c['proto'] == '$1' and c['inside'] == '$2' and c['remote'] == '$3')" \
		"\[\"kernel\", \"$4\"\]"
}

# The matrix: each rule refuses one flow; the allowed one passes. The
# verdicts must be the same before and after the load; with vnat loaded,
# up must see 0 frames of the refused flows.
policy_rules()
{
	in_ns "$HOST" ebtables -A FORWARD -p IPv4 --ip-src "$T2_G1_ADDR" --ip-dst "$T2_G2_ADDR" \
		--ip-proto tcp --ip-dport 7202 -j DROP &&
		in_ns "$HOST" iptables -I FORWARD -s "$T2_G1_ADDR" -p tcp --dport 7101 -j DROP &&
		in_ns "$HOST" iptables -I FORWARD -s "$T2_G1_ADDR" -p tcp --dport 7102 \
			-j REJECT --reject-with tcp-reset &&
		in_ns "$HOST" iptables -I FORWARD -s "$T2_G1_ADDR" -p udp --dport 7103 \
			-j REJECT --reject-with icmp-port-unreachable &&
		in_ns "$HOST" nft -f - <<-EOF
			table inet vnatpol {
				chain filterfwd {
					type filter hook forward priority -5; policy accept;
					ip saddr $T2_G2_ADDR tcp dport 7104 drop
				}
			}
			table bridge vnatbr {
				chain filterfwd {
					type filter hook forward priority 0; policy accept;
					ip saddr $T2_G1_ADDR ip daddr $T2_G2_ADDR tcp dport 7201 drop
				}
			}
			table ip vnatct {
				chain filterfwd {
					type filter hook forward priority -10; policy accept;
					ct state established,related accept
					ct state new udp dport 7105 drop
				}
			}
		EOF
}

# policy_matrix WHEN: the refused flows fail, the allowed ones pass.
policy_matrix()
{
	local when=$1

	check "$when: iptables DROP: TCP g1 -> pub:7101 fails" \
		tcp_fails "$G1" "$T2_PUB_ADDR" 7101
	check "$when: REJECT tcp-reset: TCP g1 -> pub:7102 refused" \
		tcp_refused "$G1" "$T2_PUB_ADDR" 7102
	check "$when: REJECT icmp-port-unreachable: UDP g1 -> pub:7103 ECONNREFUSED" \
		udp_refused "$G1" "$T2_PUB_ADDR" 7103
	check "$when: nft inet forward drop: TCP g2 -> pub:7104 fails" \
		tcp_fails "$G2" "$T2_PUB_ADDR" 7104
	check "$when: nft ip forward ct state new drop: UDP g1 -> pub:7105 unanswered" \
		udp_none "$G1" "$T2_PUB_ADDR" 7105 35105 5
	check "$when: nft bridge forward drop: TCP g1 -> g2:7201 fails" \
		tcp_fails "$G1" "$T2_G2_ADDR" 7201
	check "$when: ebtables-nft drop: TCP g1 -> g2:7202 fails" \
		tcp_fails "$G1" "$T2_G2_ADDR" 7202
	check "$when: libvirt's FORWARD rejects unsolicited up -> g1 (ping, TCP)" \
		unsolicited_blocked "$UP" "$SNAT" "$UNSOL_PORT"
	check "$when: libvirt's FORWARD rejects g1's UDP from a foreign source $FOREIGN" \
		udp_none_from "$G1" "$FOREIGN" "$T2_PUB_ADDR" 7002
	check "$when: allowed: TCP g1 -> g2:7001 (bridged) shows $T2_G1_ADDR" \
		expect_peer "$T2_G1_ADDR" peer_ask_tcp "$G1" "$T2_G2_ADDR" 7001
	check "$when: allowed: TCP g2 -> pub:7001 shows $SNAT" \
		expect_peer "$SNAT" peer_ask_tcp "$G2" "$T2_PUB_ADDR" 7001
	check "$when: allowed: 10 UDP queries g1:35002 -> pub:7002 answered" \
		udp_all "$G1" "$T2_PUB_ADDR" 7002 35002 10
}

# ---------------------------------------------------------------- topology

nat_t2_create
HOST=$(ns host) UP=$(ns up) G1=$(ns g1) G2=$(ns g2)
defer vnat_in "$HOST" unload --all
must "libvirt's iptables rules" libvirt_rules_load "$HOST"
must "policy matrix rules" policy_rules
for p in 7001 7101 7102 7104; do
	must "TCP server in up :$p" peer_server_tcp "SRV_T$p" "$UP" "$p"
done
for p in 7002 7103 7105; do
	must "UDP server in up :$p" peer_server_udp "SRV_U$p" "$UP" "$p" "$T2_PUB_ADDR"
done
must "UDP server in g1 :53" peer_server_udp SRV_G1U "$G1" 53
must "TCP server in g2 :7001" peer_server_tcp SRV_G2T "$G2" 7001
must "TCP server in g2 :7201" peer_server_tcp SRV_G2B "$G2" 7201
must "TCP server in g2 :7202" peer_server_tcp SRV_G2E "$G2" 7202
must "TCP listener in g1 :$UNSOL_PORT" peer_server_tcp SRV_G1L "$G1" "$UNSOL_PORT"
must "g1: a foreign address" ip -n "$G1" addr add "$FOREIGN/32" dev eth0
must "TCP server in g1 :7001" peer_server_tcp SRV_G1T "$G1" 7001
# DNAT port forwards on the uplink address, as in the issue's recipe.
must "DNAT udp 8053 -> g1:53" in_ns "$HOST" iptables -t nat -A PREROUTING -d "$SNAT" -p udp \
	--dport 8053 -j DNAT --to "$T2_G1_ADDR:53"
must "DNAT tcp 8080 -> g1:7001" in_ns "$HOST" iptables -t nat -A PREROUTING -d "$SNAT" -p tcp \
	--dport 8080 -j DNAT --to "$T2_G1_ADDR:7001"
must "FORWARD accepts the forwarded ports" in_ns "$HOST" iptables -I FORWARD -d "$T2_G1_ADDR" \
	-o virbr0 -m conntrack --ctstate DNAT -j ACCEPT
FILE=$(make_random_file "$BULK")

# ---------------------------------------------------------------- kernel path

test_group "policy: kernel path (no vnat)"
policy_matrix "without vnat"
check "without vnat: DNAT UDP up -> $SNAT:8053: 10 answers from the forwarded port" \
	udp_all "$UP" "$SNAT" 8053 36001 10

# ---------------------------------------------------------------- load

test_group "policy: load"
# Deciding alone without --snat would route guests past MASQUERADE: refused.
check_rc 1 "vnat load ... --admission vnat (no --snat) is refused" vnat_load --admission vnat
REFUSAL=$RUN_ERR
check "... with one line naming the NAT chain" one_line_naming "$REFUSAL" 'chain ip nat POSTROUTING'

check "... and nothing loaded" json_eq "$(vnat_status_json "$HOST")" 'd["loaded"]' false
check_rc 0 "vnat load --iface virbr0 --iface eth0" vnat_load ||
	die "vnat load failed: nothing else can be tested"
LOAD_OUT=$LIB_TMPDIR/load.out
cp "$RUN_OUT" "$LOAD_OUT"
check "the load says the kernel admits flows" grep -q 'admission: kernel' "$LOAD_OUT"
must "status -j" vnat_status_json "$HOST"
check "status: admission kernel" json_eq "$(cat "$RUN_OUT")" 'd["config"]["admission"]' kernel
check "the load left nf_conntrack_tcp_be_liberal at 0 (no host-wide change)" sysctl_strict "$HOST"
check "the load says kernel-admitted TCP waits for the daemon" \
	grep -q 'no daemon: kernel-admitted TCP stays on the kernel path' "$LOAD_OUT"
check "status -j warns that TCP is not accelerated without the daemon" \
	json_eq "$(vnat_status_json "$HOST")" \
	'any("kernel-admitted TCP" in w for w in d["health"]["warnings"])' true

test_group "policy: verdicts with vnat loaded"
cap_start CAP "$UP" eth0 tcp port 7101 or tcp port 7102 or udp port 7103 or tcp port 7104 or \
	udp port 7105 or src host "$FOREIGN"
cap_start CAPB "$G2" eth0 tcp port 7201 or tcp port 7202
cap_start CAPG "$G1" eth0 icmp or tcp port "$UNSOL_PORT"
counters_snap "$HOST" C0
policy_matrix "with vnat"
counters_snap "$HOST" C1
cap_stop CAP
cap_stop CAPB
cap_stop CAPG
check "up saw 0 frames of the refused flows (the foreign source's included)" cap_none "$CAP_FILE"
check "g2 saw 0 frames of the bridged flows the bridge rules refuse" cap_none "$CAPB_FILE"
check "g1 saw 0 frames of up's unsolicited ping and TCP" cap_none "$CAPG_FILE" \
	src host "$T2_UP_ADDR"
check_cmp "pass_bridge_policy moved: bridged frames go to the kernel bridge" \
	"$(cdelta C0 C1 pass_bridge_policy)" -gt 0
must "rule added after the load: drop g1:35006's UDP" in_ns "$HOST" iptables -I FORWARD \
	-s "$T2_G1_ADDR" -p udp --sport 35006 -j DROP
check "the new rule applies at once: UDP g1:35006 -> pub:7002 unanswered" \
	udp_none "$G1" "$T2_PUB_ADDR" 7002 35006 5

# No daemon: nothing marks the kernel's TCP entries liberal, so vnat
# leaves TCP to the kernel (correct, not accelerated); UDP is unaffected.
test_group "policy: TCP without the daemon stays with the kernel"
counters_snap "$HOST" C0
check "4 MiB g1 -> pub intact (sha256), no daemon" \
	tcp_transfer "$G1" "$UP" "$T2_PUB_ADDR" 5311 "$FILE"
counters_snap "$HOST" C1
check_cmp "pass_await_liberal moved (decided TCP left to the kernel)" \
	"$(cdelta C0 C1 pass_await_liberal)" -gt 0
check_cmp "fwd_admitted(_tc) did not move: no TCP carried by vnat" \
	$(($(cdelta C0 C1 fwd_admitted) + $(cdelta C0 C1 fwd_admitted_tc))) -eq 0
check_cmp "admit_flow did not move" "$(cdelta C0 C1 admit_flow)" -eq 0

# The daemon marks each decided TCP entry liberal (ctnetlink) when tc
# egress asks: from then on vnat carries it.
bg_in_ns LIBD "$HOST" "$VNAT" daemon
must "daemon follows" slowwait 5 grep -q following "$LIBD_LOG"

test_group "policy: admitted flows take the fast path"
counters_snap "$HOST" C0
cap_start CAP "$UP" eth0 net "$T2_NET"
check "4 MiB g1 -> pub intact (sha256)" tcp_transfer "$G1" "$UP" "$T2_PUB_ADDR" 5301 "$FILE"
check "4 MiB pub -> g2 intact (sha256, download)" \
	tcp_download "$G2" "$UP" "$T2_PUB_ADDR" 5302 "$FILE"
check "20 UDP queries g1:35010 -> pub:7002 answered" \
	udp_all "$G1" "$T2_PUB_ADDR" 7002 35010 20
counters_snap "$HOST" C1
cap_stop CAP
check "up never saw a 192.168.122.0/24 address (MASQUERADE's translation)" cap_none "$CAP_FILE"
check_cmp "fwd_admitted(_tc) carried >= $BULK bytes of the transfers" \
	$(($(cdelta C0 C1 fwd_admitted.bytes) + $(cdelta C0 C1 fwd_admitted_tc.bytes))) -ge "$BULK"
check_cmp "fwd_admitted(_tc) carried >= 15 UDP and TCP packets past their first ones" \
	$(($(cdelta C0 C1 fwd_admitted) + $(cdelta C0 C1 fwd_admitted_tc))) -ge 15
check_cmp "admit_flow moved by >= 4 (both directions of the flows)" \
	"$(cdelta C0 C1 admit_flow)" -ge 4
check "status says who decided: flows admitted, packets left to the kernel's rules" \
	status_admission_line

test_group "policy: DNAT port forwards"
counters_snap "$HOST" C0
check "UDP up -> $SNAT:8053: 20 answers from $SNAT:8053 (connected socket)" \
	udp_all "$UP" "$SNAT" 8053 36002 20
check "TCP up -> $SNAT:8080: g1 sees up's own address" \
	expect_peer "$T2_UP_ADDR" peer_ask_tcp "$UP" "$SNAT" 8080
counters_snap "$HOST" C1
check_cmp "fwd_admitted(_tc) carried the UDP forward after its first exchange (>= 15)" \
	$(($(cdelta C0 C1 fwd_admitted) + $(cdelta C0 C1 fwd_admitted_tc))) -ge 15
check "conns: the UDP forward, decided by the kernel" \
	kconn_is udp "$T2_UP_ADDR:36002" "$SNAT:8053" "$T2_UP_ADDR:36002"

test_group "policy: conntrack stays the authority"
slow_sender SND "$G1" connect "$T2_PUB_ADDR" 7001 "$FILE" $((1024 * 1024))
check "conntrack -L lists g1's flow to pub:7001 while vnat carries it" \
	slowwait 5 ct_flow "src=$T2_G1_ADDR dst=$T2_PUB_ADDR sport=[0-9]+ dport=7001 src=$T2_PUB_ADDR dst=$SNAT"
bg_wait_timeout 20 "$SND"
check "conns: the UDP flow g1:35010 -> pub:7002, kernel's translation" \
	kconn_is udp "$T2_G1_ADDR:35010" "$T2_PUB_ADDR:7002" "$SNAT:35010"
check "conntrack -L lists g1's UDP flow to pub:7002" \
	ct_flow "src=$T2_G1_ADDR dst=$T2_PUB_ADDR sport=35010 dport=7002"

# A flow admitted before a rule that refuses it keeps going (as with the
# kernel's flowtable) until conns flush hands it back.
check "admitted: 5 UDP queries g1:35020 -> pub:7002" udp_all "$G1" "$T2_PUB_ADDR" 7002 35020 5
must "rule: drop g1:35020's packets" in_ns "$HOST" iptables -I FORWARD -s "$T2_G1_ADDR" -p udp \
	--sport 35020 -j DROP
check "vnat conns flush hands the admitted flows back" vnat_in "$HOST" conns flush
check "... and says how many (the flows above: at least one)" \
	grep -Eq '^[1-9][0-9]* admitted flows? handed back to the kernel$' "$RUN_OUT"
check "conns flush -j: the count as JSON (none left)" \
	json_eq "$(vnat_in "$HOST" -j conns flush)" 'd["handed_back"]' 0
check "after the flush the rule stops the flow: 0 answers" \
	udp_none "$G1" "$T2_PUB_ADDR" 7002 35020 5

counters_snap "$HOST" C0
check "admitted: 5 UDP queries g1:35030 -> pub:7002" udp_all "$G1" "$T2_PUB_ADDR" 7002 35030 5
must "conntrack -F" in_ns "$HOST" conntrack -F
sleep 2.1 # VNAT_KCT_REFRESH_NS: the next packet checks the kernel's entry
check "after conntrack -F the flow still works (the kernel takes it)" \
	udp_all "$G1" "$T2_PUB_ADDR" 7002 35030 5
counters_snap "$HOST" C1
check_cmp "admit_gone moved: vnat's copy ended with the kernel's entry" \
	"$(cdelta C0 C1 admit_gone)" -ge 1

test_group "policy: unload and load during a transfer"
OUT=$LIB_TMPDIR/live.out
bg_in_ns RCV "$UP" socat -u "TCP4-LISTEN:6001,reuseaddr" "CREATE:$OUT"
must "listener" slowwait 5 tcp_listening "$UP" 6001
slow_sender SND "$G1" connect "$T2_PUB_ADDR" 6001 "$FILE" $((2 * 1024 * 1024))
slowwait 10 grown_to "$OUT" $((BULK / 4))
check "conns: the transfer's kernel entry is liberal both ways (marked by the daemon)" \
	kconn_window "$T2_G1_ADDR:[0-9]+" "$T2_PUB_ADDR:6001" liberal
check "the daemon ran: nf_conntrack_tcp_be_liberal still 0" sysctl_strict "$HOST"
check_rc 0 "unload mid-transfer" vnat_in "$HOST" unload --all
slowwait 10 grown_to "$OUT" $((BULK / 2))
check_rc 0 "load again mid-transfer" vnat_load
bg_wait_timeout 20 "$SND"
bg_wait_timeout 5 "$RCV"
check "the transfer arrived intact" same_content "$FILE" "$OUT"

test_group "policy: one mapping per endpoint with --snat and MASQUERADE"
# The kernel's MASQUERADE translates; vnat's own NAT (--ports) never gives
# the same endpoint a second mapping (issue 10: :45000, then :40008).
must "unload" vnat_in "$HOST" unload --all
check_rc 0 "vnat load --iface virbr0 --snat $SNAT --ports 40000-40009" \
	vnat_in "$HOST" load --iface virbr0 --snat "$SNAT" --ports 40000-40009
for i in 1 2 3; do
	check "UDP g1:34600 -> pub, ask $i: pub sees MASQUERADE's $SNAT:34600" \
		expect_peer "$SNAT:34600" peer_ask_udp "$G1" "$T2_PUB_ADDR" 7002 34600
done
check "conns: that flow's translation is the kernel's" \
	kconn_is udp "$T2_G1_ADDR:34600" "$T2_PUB_ADDR:7002" "$SNAT:34600"

# ---------------------------------------------------------------- standalone

# No host rules at all: vnat admits flows itself, with its own NAT, and
# protects the guests as libvirt's FORWARD rules would (--inbound drop),
# unless asked to leave that to the kernel (--inbound kernel).
SPOOF=192.168.122.99
SPOOF_PY='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
for i in range(3):
    s.sendto(b"spoofed", (sys.argv[2], 53))
'

# from_outside: up pings g1 and sends UDP from an inside address (its lo
# holds one), through a route up does not normally have.
from_outside()
{
	in_ns "$UP" ping -q -c 3 -i 0.2 -W 1 -w 3 "$T2_G1_ADDR" >/dev/null 2>&1
	in_ns "$UP" python3 -c "$SPOOF_PY" "$SPOOF" "$T2_G1_ADDR"
	return 0
}

test_group "policy: standalone --snat"
must "unload" vnat_in "$HOST" unload --all
must "no rules left" in_ns "$HOST" nft flush ruleset
must "up: route to $T2_NET via the host" ip -n "$UP" route add "$T2_NET" via "$SNAT"
must "up: an inside address on lo" ip -n "$UP" addr add "$SPOOF/32" dev lo
check_rc 0 "vnat load --iface virbr0 --snat $SNAT" vnat_in "$HOST" load --iface virbr0 \
	--snat "$SNAT"
check "the load says vnat admits flows (no rules)" grep -q 'admission: vnat' "$RUN_OUT"
check "a guest still reaches pub, translated" \
	expect_peer "$SNAT" peer_ask_tcp "$G1" "$T2_PUB_ADDR" 7001
counters_snap "$HOST" C0
cap_start CAP "$G1" eth0 icmp or udp port 53
from_outside
cap_stop CAP
counters_snap "$HOST" C1
check "g1 saw no unsolicited echo request from up" cap_none "$CAP_FILE" icmp and src host "$T2_UP_ADDR"
check "g1 saw no datagram from the spoofed inside address" cap_none "$CAP_FILE" src host "$SPOOF"
check_cmp "drop_to_inside moved by >= 3" "$(cdelta C0 C1 drop_to_inside)" -ge 3
check_cmp "drop_spoofed_inside moved by >= 3" "$(cdelta C0 C1 drop_spoofed_inside)" -ge 3

must "unload" vnat_in "$HOST" unload --all
check_rc 0 "vnat load ... --inbound kernel" vnat_in "$HOST" load --iface virbr0 --snat "$SNAT" \
	--inbound kernel
cap_start CAP "$G1" eth0 icmp or udp port 53
from_outside
cap_stop CAP
check "--inbound kernel: the kernel (no rules) forwards up's echo requests to g1" \
	cap_atleast "$CAP_FILE" 1 icmp and src host "$T2_UP_ADDR"

# Rules appearing while vnat runs: the daemon switches to kernel admission.
admission_is()
{
	json_eq "$(vnat_status_json "$HOST")" 'd["config"]["admission"]' "$1"
}

bg_in_ns DAEMON "$HOST" "$VNAT" daemon
must "daemon follows" slowwait 5 grep -q following "$DAEMON_LOG"
check "admission vnat before any rule" admission_is vnat
must "a FORWARD rule appears" in_ns "$HOST" iptables -A FORWARD -s "$T2_G1_ADDR" -p tcp \
	--dport 7101 -j DROP
check "the daemon switches to kernel admission within seconds" slowwait 5 admission_is kernel
check "the new rule decides: TCP g1 -> pub:7101 fails" tcp_fails "$G1" "$T2_PUB_ADDR" 7101
check "other flows still pass: TCP g1 -> pub:7001 shows $SNAT" \
	expect_peer "$SNAT" peer_ask_tcp "$G1" "$T2_PUB_ADDR" 7001

exit_summary
