#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# leak.sh - never leak (issue 10, point 4): every configuration `vnat load`
# accepts, with and without kernel NAT rules, sends no guest packet out of
# the uplink with an inside source address where the host's rules (or vnat's
# own --snat/--masquerade) translate it; every configuration it refuses is
# refused in one line naming the rule and the way out, with nothing left
# attached or pinned.
#
#   [g1] 192.168.122.10 --vnet0-- virbr0 192.168.122.1 (bridge)
#        10.99.0.5/32 (a spoofed source)      [host]  eth0 10.0.0.15/24 -- [far] 10.0.0.1
#   [g2] 10.10.10.10 ----------- vr0 10.10.10.1 (routed veth)  10.0.0.16     routes back to
#                                                                             both inside nets
#
# One topology serves every configuration: rules, load, traffic, capture,
# unload, conntrack -F, next. far routes both inside prefixes back to the
# host, so a flow leaving untranslated completes too (and is seen).
#
# Per configuration, with both guests sending whichever interfaces vnat was
# given: a TCP connection and a UDP flow started before the load (still
# sending after it), then, with every neighbour entry of host and far
# flushed (first packets before the next hop is resolved), new UDP
# datagrams, a TCP transfer and pings, and g1's datagrams from a source
# outside its prefix. far captures on its side of the uplink, from after the
# load: 0 frames from an inside prefix that must be translated, and frames
# of both guests' flows did arrive (translated, or routed with their inside
# source where nothing translates them: that proves the capture sees them).
#
# Usage: leak.sh        (V=1 for all command output; VNAT=path to override;
#                       ROWS="name ..." runs those rows of the table only;
#                       LEAK_KEEP=DIR keeps each row's capture as DIR/name.pcap)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_nat.sh
source "$(dirname "$0")/lib_nat.sh"

require_root
require_cmd ip ping socat tcpdump iptables iptables-restore iptables-legacy nft conntrack \
	python3 timeout ss
require_vnat

BR_NET=192.168.122.0/24
RT_NET=10.10.10.0/24
G1=192.168.122.10
G2=10.10.10.10
FOREIGN=10.99.0.5
UPLINK=10.0.0.15
SNAT_RULE_ADDR=10.0.0.16
FAR=10.0.0.1
# Destination ports per guest, so each guest's frames are told apart even
# when both are translated to one address.
G1_TCP=5001 G1_UDP=5002 G2_TCP=5011 G2_UDP=5012 SPOOF_UDP=5003
# The flows started before the load send from these ports (TCP and UDP).
G1_PRE=40001 G2_PRE=40011
TCP_BYTES=$((256 * 1024))

# ---------------------------------------------------------------- the table
#
# name  admission  kernel NAT  vnat NAT  hook  interfaces  expect
#
#   admission   auto | kernel | vnat
#   kernel NAT  none; libvirt (seed 001's FORWARD and POSTROUTING rules for
#               both inside networks: MASQUERADE of each prefix); snat
#               (POSTROUTING -o eth0 -j SNAT --to-source 10.0.0.16: every
#               source, spoofed ones too); partial (libvirt's MASQUERADE of
#               the bridge's prefix only: the routed prefix leaves routed, as
#               the host decided); legacy (partial, in iptables-legacy);
#               late-libvirt (libvirt's rules added after the load, with
#               vnat daemon running: it must switch to kernel admission
#               before a guest packet leaves untranslated)
#   vnat NAT    none; snat (--snat 10.0.0.15); masq (--masquerade); snatfrom
#               (--snat 10.0.0.15 --from 192.168.122.0/24 with both inside
#               interfaces: vnat translates the bridge's prefix only, and
#               must leave the routed prefix to the kernel's MASQUERADE)
#   hook        auto | tc
#   interfaces  bridge (virbr0), routed (vr0), both; and the uplink eth0
#               (--iface eth0 without vnat NAT; with it, eth0 holds the
#               --snat address or the default route). Both guests send in
#               every row: the one whose interface vnat was not given
#               checks that vnat leaves an unmanaged inside network to the
#               kernel's rules on the uplink it shares.
#   expect      accept | refuse
#
# Pruned, and why each pruned combination is covered:
# - hook: every interface here is a veth or a bridge, where --hook auto
#   chooses tc (vnat.8); auto and tc load the same programs. Each accepted
#   configuration checks that status shows hook tc on every interface, and
#   tc runs once per admission mode.
# - admission auto is kernel where the namespace has rules (any NAT rule is
#   one) and vnat where it has none; each accepted configuration checks the
#   mode status shows. So kernel rows run only without kernel NAT (where
#   auto would mean vnat), and vnat rows without kernel NAT only once.
# - --masquerade is --snat with the default route's address (the same
#   engine); it runs once per admission mode.
# - vnat rows without vnat NAT and with kernel NAT are refused before
#   anything is attached, whichever interfaces: one row each (bridge).
# - legacy rows run last: an iptables-legacy table, once created, stays
#   listed (and is policy) for the rest of the namespace's life.
MATRIX='
a-none-bridge      auto   none    none     auto bridge accept
a-none-routed      auto   none    none     auto routed accept
a-none-snat-br     auto   none    snat     auto bridge accept
a-none-snat-rt     auto   none    snat     auto routed accept
a-none-masq-both   auto   none    masq     auto both   accept
a-libvirt-br       auto   libvirt none     auto bridge accept
a-libvirt-rt       auto   libvirt none     auto routed accept
a-libvirt-snat-br  auto   libvirt snat     auto bridge accept
a-libvirt-snat-rt  auto   libvirt snat     auto routed accept
a-libvirt-masq     auto   libvirt masq     auto both   accept
a-snat-br          auto   snat    none     auto bridge accept
a-snat-rt          auto   snat    none     auto routed accept
a-snat-snat-both   auto   snat    snat     auto both   accept
a-partial-br       auto   partial none     auto bridge accept
a-partial-both     auto   partial none     auto both   accept
a-partial-snat-rt  auto   partial snat     auto routed accept
a-partial-snat-bo  auto   partial snat     auto both   accept
a-partial-tc       auto   partial snat     tc   both   accept
k-none-br          kernel none    none     auto bridge accept
k-none-rt          kernel none    none     auto routed accept
k-none-snat-br     kernel none    snat     auto bridge accept
k-none-snat-rt     kernel none    snat     auto routed accept
k-none-masq-both   kernel none    masq     auto both   accept
k-none-snat-tc     kernel none    snat     tc   both   accept
v-none-tc          vnat   none    none     tc   both   accept
v-libvirt          vnat   libvirt none     auto bridge refuse
v-snat             vnat   snat    none     auto bridge refuse
v-partial          vnat   partial none     auto bridge refuse
v-libvirt-snat-br  vnat   libvirt snat     auto bridge accept
v-libvirt-snat-rt  vnat   libvirt snat     auto routed accept
v-libvirt-masq     vnat   libvirt masq     tc   both   accept
v-snat-snat-both   vnat   snat    snat     auto both   accept
v-partial-snat-rt  vnat   partial snat     auto routed accept
v-libvirt-from     vnat   libvirt snatfrom auto both   accept
v-snat-from        vnat   snat    snatfrom auto both   accept
a-late-libvirt     auto   late-libvirt none auto bridge accept
a-late-snat-both   auto   late-libvirt snat auto both  accept
a-legacy-br        auto   legacy  none     auto bridge accept
a-legacy-snat-rt   auto   legacy  snat     auto routed accept
v-legacy           vnat   legacy  none     auto bridge refuse
'

# ---------------------------------------------------------------- topology

leak_topology()
{
	local h

	ns_create host far g1 g2
	HOST=$(ns host) FARNS=$(ns far) G1NS=$(ns g1) G2NS=$(ns g2)
	h=$HOST
	must "bridge virbr0" ip -n "$h" link add virbr0 type bridge stp_state 0 forward_delay 0
	must "virbr0 address" ip -n "$h" addr add 192.168.122.1/24 dev virbr0
	must "virbr0 up" ip -n "$h" link set virbr0 up
	must "veth g1/eth0 <-> host/vnet0" veth_pair "$G1NS" eth0 "$h" vnet0
	must "vnet0 into virbr0" ip -n "$h" link set vnet0 master virbr0
	must "veth g2/eth0 <-> host/vr0" veth_pair "$G2NS" eth0 "$h" vr0
	must "vr0 address" ip -n "$h" addr add 10.10.10.1/24 dev vr0
	must "veth host/eth0 <-> far/eth0" veth_pair "$h" eth0 "$FARNS" eth0
	must "host eth0 address" ip -n "$h" addr add "$UPLINK/24" dev eth0
	must "host eth0: the SNAT rule's address" ip -n "$h" addr add "$SNAT_RULE_ADDR/24" dev eth0
	must "host default route" ip -n "$h" route add default via "$FAR"
	must "host ip_forward=1" in_ns "$h" sysctl -qw net.ipv4.ip_forward=1
	# The kernel forwards g1's spoofed source where no rule stops it.
	must "host rp_filter off" in_ns "$h" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.virbr0.rp_filter=0
	must "g1 address" ip -n "$G1NS" addr add "$G1/24" dev eth0
	must "g1 spoofed address" ip -n "$G1NS" addr add "$FOREIGN/32" dev eth0
	must "g1 default route" ip -n "$G1NS" route add default via 192.168.122.1
	must "g2 address" ip -n "$G2NS" addr add "$G2/24" dev eth0
	must "g2 default route" ip -n "$G2NS" route add default via 10.10.10.1
	must "far address" ip -n "$FARNS" addr add "$FAR/24" dev eth0
	must "far: route to $BR_NET" ip -n "$FARNS" route add "$BR_NET" via "$UPLINK"
	must "far: route to $RT_NET" ip -n "$FARNS" route add "$RT_NET" via "$UPLINK"
	for n in g1 g2 far; do
		must "$n eth0 up" slowwait 5 link_up "$(ns "$n")" eth0
	done
	must "virbr0 up" slowwait 5 link_up "$h" virbr0
	must "UDP sink far:$G1_UDP" sink_udp SINK3 "$G1_UDP"
	must "UDP sink far:$G2_UDP" sink_udp SINK4 "$G2_UDP"
	must "UDP sink far:$SPOOF_UDP" sink_udp SINK5 "$SPOOF_UDP"
}

# far's TCP sink, one per row: reads and discards; on SIGTERM it aborts
# every connection (RST), so no socket of this row sends later, when its
# conntrack entry is gone and the kernel would pass it untranslated (a
# packet conntrack calls invalid is not NATed, with or without vnat).
TCP_SINK_PY='
import select, signal, socket, sys
ls = []
for p in sys.argv[1:]:
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("0.0.0.0", int(p)))
    l.listen(8)
    ls.append(l)
conns = []
def stop(*_):
    for c in conns:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        c.close()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    r, _, _ = select.select(ls + conns, [], [])
    for s in r:
        if s in ls:
            conns.append(s.accept()[0])
            continue
        try:
            d = s.recv(65536)
        except OSError:
            d = b""
        if not d:
            conns.remove(s)
            s.close()
'

sink_tcp_start()
{
	bg_in_ns SINK "$FARNS" python3 -c "$TCP_SINK_PY" "$G1_TCP" "$G2_TCP"
	slowwait 5 tcp_listening "$FARNS" "$G1_TCP" && slowwait 5 tcp_listening "$FARNS" "$G2_TCP"
}

sink_tcp_stop()
{
	kill -TERM "$SINK" 2>/dev/null
	bg_wait_timeout 3 "$SINK"
	return 0
}

sink_udp()
{
	bg_in_ns "$1" "$FARNS" socat -u "UDP4-RECV:$2,reuseaddr" GOPEN:/dev/null
	slowwait 5 udp_bound "$FARNS" "$2"
}

# ---------------------------------------------------------------- rules

LIBVIRT_RT_FILTER='-A FORWARD -d 10.10.10.0/24 -o vr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -s 10.10.10.0/24 -i vr0 -j ACCEPT
-A FORWARD -o vr0 -j REJECT --reject-with icmp-port-unreachable
-A FORWARD -i vr0 -j REJECT --reject-with icmp-port-unreachable'
LIBVIRT_RT_NAT='-A POSTROUTING -s 10.10.10.0/24 ! -d 10.10.10.0/24 -p tcp -j MASQUERADE --to-ports 1024-65535
-A POSTROUTING -s 10.10.10.0/24 ! -d 10.10.10.0/24 -p udp -j MASQUERADE --to-ports 1024-65535
-A POSTROUTING -s 10.10.10.0/24 ! -d 10.10.10.0/24 -j MASQUERADE'
PARTIAL_NAT="-A POSTROUTING -s $BR_NET ! -d $BR_NET -j MASQUERADE"

knat_apply()
{
	case $1 in
	none) ;;
	libvirt)
		printf '*filter\n%s\n%s\nCOMMIT\n*nat\n%s\n%s\nCOMMIT\n' "$LIBVIRT_FILTER_RULES" \
			"$LIBVIRT_RT_FILTER" "$LIBVIRT_NAT_RULES" "$LIBVIRT_RT_NAT" |
			in_ns "$HOST" iptables-restore ;;
	snat)
		in_ns "$HOST" iptables -t nat -A POSTROUTING -o eth0 -j SNAT \
			--to-source "$SNAT_RULE_ADDR" ;;
	partial) printf '*nat\n%s\nCOMMIT\n' "$PARTIAL_NAT" | in_ns "$HOST" iptables-restore ;;
	legacy) printf '*nat\n%s\nCOMMIT\n' "$PARTIAL_NAT" | in_ns "$HOST" iptables-legacy-restore ;;
	*) return 1 ;;
	esac
}

knat_clear()
{
	in_ns "$HOST" nft flush ruleset || return 1
	if grep -q . <(in_ns "$HOST" cat /proc/net/ip_tables_names); then
		in_ns "$HOST" iptables-legacy -t nat -F && in_ns "$HOST" iptables-legacy -F
	fi
}

# knat_covers KNAT NET: the host's own rules translate NET's traffic to far.
knat_covers()
{
	case "$1:$2" in
	libvirt:* | snat:*) return 0 ;;
	partial:"$BR_NET" | legacy:"$BR_NET") return 0 ;;
	esac
	return 1
}

# The spoofed source: the host's rules reject it (libvirt's FORWARD) or
# translate it (SNAT of every source): either way it never leaves as is.
knat_stops_spoof()
{
	case $1 in libvirt | snat) return 0 ;; esac
	return 1
}

# ---------------------------------------------------------------- load

# load_args VNATNAT IFACES: vnat load's arguments (one per line).
load_args()
{
	local nat=$1 ifs=$2 i

	case $ifs in
	bridge) set -- virbr0 ;;
	routed) set -- vr0 ;;
	both) set -- virbr0 vr0 ;;
	esac
	for i in "$@"; do
		printf -- '--iface\n%s\n' "$i"
	done
	case $nat in
	none) printf -- '--iface\neth0\n' ;;
	snat) printf -- '--snat\n%s\n' "$UPLINK" ;;
	masq) printf -- '--masquerade\n' ;;
	snatfrom) printf -- '--snat\n%s\n--from\n%s\n' "$UPLINK" "$BR_NET" ;;
	esac
}

# vnat_translates VNATNAT IFACES NET: vnat's own NAT covers NET.
vnat_translates()
{
	local nat=$1 ifs=$2 net=$3

	[ "$nat" = none ] && return 1
	case "$ifs:$net" in
	bridge:"$BR_NET" | routed:"$RT_NET" | both:"$BR_NET") return 0 ;;
	both:"$RT_NET") [ "$nat" != snatfrom ] ;;
	*) return 1 ;;
	esac
}

# effective_admission ADMISSION KNAT: what status must say.
effective_admission()
{
	case $1 in
	auto) if [ "$2" = none ]; then echo vnat; else echo kernel; fi ;;
	*) echo "$1" ;;
	esac
}

PIN_DIR=

# nothing_attached: no XDP program, no tc filter on any host interface,
# no pin directory: the namespace is as vnat found it.
nothing_attached()
{
	local dev bad=0

	if ip -n "$HOST" -d link show | grep -E 'prog/xdp|xdp(generic|drv|offload)? ' >&2; then
		echo "an XDP program is attached"
		bad=1
	fi
	for dev in virbr0 vnet0 vr0 eth0; do
		if tc -n "$HOST" filter show dev "$dev" ingress 2>/dev/null | grep -q . ||
		   tc -n "$HOST" filter show dev "$dev" egress 2>/dev/null | grep -q .; then
			echo "$dev: tc filters left"
			bad=1
		fi
	done
	if [ -e "$PIN_DIR" ]; then
		echo "$PIN_DIR left: $(ls "$PIN_DIR")"
		bad=1
	fi
	[ "$bad" = 0 ]
}

# refusal_names_rule KNAT: the refusal is one line naming the rule and what to do.
refusal_names_rule()
{
	local f=$LOAD_ERR what

	case $1 in
	legacy) what='iptables-legacy nat table' ;;
	*) what='nat POSTROUTING' ;;
	esac
	cat "$f"
	[ "$(grep -c . "$f")" -eq 1 ] && grep -qF -- "$what" "$f" && grep -qF -- '--admission auto' "$f"
}

# status_is ADMISSION: status shows that admission mode, and hook tc on every interface.
status_is()
{
	local js

	js=$(vnat_status_json "$HOST") || return 1
	json_eq "$js" 'd["config"]["admission"]' "$1" &&
		json_eq "$js" 'sorted(set(i["hook"] for i in d["interfaces"]))' '["tc"]'
}

# ---------------------------------------------------------------- traffic

# pre DST TCPPORT UDPPORT STOP SPORT: one TCP connection and one UDP socket that
# send every 0.1 s until the file STOP exists (errors counted, not fatal:
# what matters here is what leaves the uplink).
# new DST TCPPORT UDPPORT BYTES: 5 datagrams, then a TCP transfer of BYTES
# that must complete.
# spoof SRC DST UDPPORT: 3 datagrams from SRC.
TRAFFIC_PY='
import os, socket, sys, time
mode = sys.argv[1]
if mode == "pre":
    dst, tport, uport, stop = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    sport = int(sys.argv[6])
    t = socket.create_connection((dst, tport), timeout=3, source_address=("0.0.0.0", sport))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", sport))
    print("connected", flush=True)
    sent = errs = 0
    while not os.path.exists(stop):
        try:
            t.sendall(b"p" * 512)
        except OSError:
            errs += 1
        u.sendto(b"pre", (dst, uport))
        sent += 1
        time.sleep(0.1)
    # Abort (RST): a FIN far never answers would be retransmitted into
    # the next row, after its conntrack entry is gone.
    t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
    t.close()
    print("sent %d, tcp errors %d" % (sent, errs), flush=True)
elif mode == "new":
    dst, tport, uport, nbytes = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(5):
        u.sendto(b"new%d" % i, (dst, uport))
        time.sleep(0.02)
    t = socket.create_connection((dst, tport), timeout=5)
    t.settimeout(5)
    t.sendall(b"n" * nbytes)
    t.shutdown(socket.SHUT_WR)
    if t.recv(1) != b"":
        sys.exit("unexpected data")
    print("sent %d bytes" % nbytes, flush=True)
elif mode == "spoof":
    src, dst, uport = sys.argv[2], sys.argv[3], int(sys.argv[4])
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((src, 0))
    for i in range(3):
        u.sendto(b"spoofed", (dst, uport))
        time.sleep(0.02)
'

new_flows()
{
	timeout 20 ip netns exec "$1" python3 -c "$TRAFFIC_PY" new "$FAR" "$2" "$3" "$TCP_BYTES"
}

# ---------------------------------------------------------------- one row

# run_row NAME ADMISSION KNAT VNATNAT HOOK IFACES EXPECT
run_row()
{
	local name=$1 adm=$2 knat=$3 nat=$4 hook=$5 ifs=$6 expect=$7
	local args stop=$LIB_TMPDIR/stop.$1 eff daemon='' net g tp up pre rc late=''

	test_group "leak: $name ($adm, kernel NAT $knat, vnat NAT $nat, hook $hook, $ifs)"
	must "conntrack -F" in_ns "$HOST" conntrack -F
	[ "${knat#late-}" = "$knat" ] && must "kernel NAT rules: $knat" knat_apply "$knat"
	mapfile -t args < <(load_args "$nat" "$ifs")
	args+=(--admission "$adm" --hook "$hook")

	# Flows that started before the load.
	must "TCP sink in far" sink_tcp_start
	rm -f "$stop"
	bg_in_ns PRE1 "$G1NS" python3 -c "$TRAFFIC_PY" pre "$FAR" "$G1_TCP" "$G1_UDP" "$stop" \
		"$G1_PRE"
	bg_in_ns PRE2 "$G2NS" python3 -c "$TRAFFIC_PY" pre "$FAR" "$G2_TCP" "$G2_UDP" "$stop" \
		"$G2_PRE"
	must "flows before the load" slowwait 5 grep -q connected "$PRE1_LOG" "$PRE2_LOG"

	run vnat_in "$HOST" load "${args[@]}"
	rc=$RUN_RC LOAD_ERR=$RUN_ERR
	if [ "$expect" = refuse ]; then
		check_cmp "vnat load ${args[*]} is refused" "$rc" -eq 1
		check "... in one line naming the rule and what to do" refusal_names_rule "$knat"
		check "... and nothing is attached or pinned" nothing_attached
	else
		check_cmp "vnat load ${args[*]} is accepted" "$rc" -eq 0
	fi
	if [ "$rc" -ne 0 ]; then
		touch "$stop"
		bg_wait_timeout 5 "$PRE1"
		bg_wait_timeout 5 "$PRE2"
		sink_tcp_stop
		[ "$expect" = refuse ] || lib_show_last_run
		vnat_in "$HOST" unload --all >/dev/null 2>&1
		must "rules cleared" knat_clear
		return
	fi
	eff=$(effective_admission "$adm" "${knat#late-}")
	[ "${knat#late-}" = "$knat" ] || eff=vnat
	check "status: admission $eff, hook tc everywhere" status_is "$eff"
	if [ "$eff" = kernel ] || [ "${knat#late-}" != "$knat" ]; then
		bg_in_ns daemon "$HOST" "$VNAT" daemon
		must "vnat daemon follows" slowwait 5 grep -q following "${daemon_LOG:?}"
	fi
	if [ "${knat#late-}" != "$knat" ]; then
		knat=${knat#late-} late=1
		must "kernel NAT rules after the load: $knat" knat_apply "$knat"
		check "the daemon switches to kernel admission" slowwait 5 status_is kernel
	fi

	cap_start CAP "$FARNS" eth0 ip
	# First packets before the next hops are resolved.
	ip -n "$HOST" neigh flush all
	ip -n "$FARNS" neigh flush all
	bg_in_ns NEW1 "$G1NS" timeout 20 python3 -c "$TRAFFIC_PY" new "$FAR" "$G1_TCP" "$G1_UDP" \
		"$TCP_BYTES"
	bg_in_ns NEW2 "$G2NS" timeout 20 python3 -c "$TRAFFIC_PY" new "$FAR" "$G2_TCP" "$G2_UDP" \
		"$TCP_BYTES"
	in_ns "$G1NS" python3 -c "$TRAFFIC_PY" spoof "$FOREIGN" "$FAR" "$SPOOF_UDP"
	check "ping g1 -> far" ping_all "$G1NS" "$FAR" 3
	check "ping g2 -> far" ping_all "$G2NS" "$FAR" 3
	check "new UDP and TCP g1 -> far complete" bg_wait_timeout 20 "$NEW1"
	check "new UDP and TCP g2 -> far complete" bg_wait_timeout 20 "$NEW2"
	sleep 0.3 # the flows from before the load send again after all that
	touch "$stop"
	bg_wait_timeout 5 "$PRE1"
	bg_wait_timeout 5 "$PRE2"
	sink_tcp_stop
	cap_stop CAP
	[ -z "${LEAK_KEEP:-}" ] || cp "$CAP_FILE" "$LEAK_KEEP/$name.pcap"

	for g in 1 2; do
		if [ "$g" = 1 ]; then
			net=$BR_NET tp=$G1_TCP up=$G1_UDP pre=$G1_PRE
		else
			net=$RT_NET tp=$G2_TCP up=$G2_UDP pre=$G2_PRE
		fi
		if knat_covers "$knat" "$net" && [ -z "$late" ]; then
			check "far saw no source from g$g's $net (the host's rules translate it)" \
				cap_none "$CAP_FILE" src net "$net"
		elif knat_covers "$knat" "$net" || vnat_translates "$nat" "$ifs" "$net"; then
			# The flows from before the load (or before the rule) are
			# exempt: the kernel binds a flow's NAT on its first packet
			# and a rule added later never translates it either.
			check "far saw no source from g$g's $net but its flows from before (translated)" \
				cap_none "$CAP_FILE" src net "$net" and not src port "$pre"
		else
			check "far saw g$g's flows arrive routed from $net (nothing translates them)" \
				cap_atleast "$CAP_FILE" 10 "src net $net and (tcp dst port $tp or udp dst port $up)"
			continue
		fi
		check "far saw g$g's flows arrive, translated" cap_atleast "$CAP_FILE" 10 \
			"(tcp dst port $tp or udp dst port $up) and not src net $net"
	done
	if knat_stops_spoof "$knat"; then
		check "far saw nothing from g1's spoofed $FOREIGN (the host's rules stop or translate it)" \
			cap_none "$CAP_FILE" src host "$FOREIGN"
	else
		check "g1's spoofed $FOREIGN is routed as the kernel alone routes it" \
			cap_atleast "$CAP_FILE" 3 src host "$FOREIGN"
	fi

	check "vnat unload --all" vnat_in "$HOST" unload --all
	[ -n "$daemon" ] && bg_wait_timeout 5 "$daemon"
	check "unloaded: nothing attached or pinned" nothing_attached
	must "rules cleared" knat_clear
}

# ---------------------------------------------------------------- main

leak_topology
defer vnat_in "$HOST" unload --all
PIN_DIR=/sys/fs/bpf/vnat/netns-$(ns_inode "$HOST")

while read -r name adm knat nat hook ifs expect; do
	[ -n "$name" ] || continue
	[ -z "${ROWS:-}" ] || [[ " $ROWS " == *" $name "* ]] || continue
	run_row "$name" "$adm" "$knat" "$nat" "$hook" "$ifs" "$expect"
done <<<"$MATRIX"

exit_summary
