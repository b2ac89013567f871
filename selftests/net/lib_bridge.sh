# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib_bridge.sh - helpers for the bridge scenarios (bridge.sh, redirect.sh,
# models.sh, guest.sh), on top of lib.sh, which it sources. Like lib.sh it
# only ever touches the namespaces the scenario made.
#
# Topology
#   br_create NS BR [ADDR/LEN]      bridge, STP off, up (optionally addressed)
#   br_guest NS BR PORT GNS [ADDR/LEN [GW]]
#                                   veth PORT (in NS, enslaved to BR) <-> eth0
#                                   in GNS, prepared to receive XDP frames
#   link_up NS DEV                  carrier is up
#   mac_of NS DEV / ifindex_of NS DEV
#   neigh_valid NS DEV ADDR         a usable neighbour entry
#
# vnat state
#   status_get NS EXPR              json_get EXPR over vnat status -j in NS
#   status_has_port NS DEV          status lists DEV with role port and an xdp
#                                   id equal to the one ip(8) shows attached
#   status_lacks NS DEV             status does not list DEV
#   link_xdp_id NS DEV              XDP program id attached to DEV (or fail)
#   pin_dir_of NS                   /sys/fs/bpf/vnat/netns-<inode>
#   fdb_dump NS                     "MAC PORT_IFINDEX" per vnat_fdb entry
#   fdb_port NS MAC                 the port ifindex vnat_fdb has for MAC
#   fdb_has NS MAC IFINDEX / fdb_lacks_mac NS MAC / fdb_lacks_port NS IFINDEX
#   iface_map_get NS IFINDEX FIELD  a field of vnat_ifaces[IFINDEX] (bpftool)
#   macmoves_of NS MAC              moves vnat_macmoves counts for MAC
#   snap NS / delta NS NAME [bytes] counter deltas against the last snap NS
#
# Traffic
#   ping_all NS DST COUNT           every echo answered (deadline)
#   ping_none NS DST COUNT          no echo answered
#   capture_start VAR NS DEV FILTER tcpdump into $VAR_PCAP; PID in $VAR
#   capture_stop PID                stop it (SIGINT: the file is complete)
#   pcap_count FILE [FILTER]        packets in FILE (matching FILTER)
#   pcap_text FILE [FILTER]         tcpdump -nn -e -v of FILE
#   bg_stop PID                     stop and reap a bg_in_ns PID we started

# A library: selftests/run.sh runs every selftests/net/*.sh, so say nothing
# and count nothing when executed rather than sourced.
[ "${BASH_SOURCE[0]}" = "$0" ] && exit 0

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---------------------------------------------------------------- topology

br_create()
{
	local n=$1 br=$2 addr=${3:-}

	ip -n "$n" link add "$br" type bridge stp_state 0 || return 1
	ip -n "$n" link set "$br" up || return 1
	[ -z "$addr" ] || ip -n "$n" addr add "$addr" dev "$br"
}

link_up()
{
	ip -n "$1" link show dev "$2" 2>/dev/null | grep -q 'state UP'
}

br_guest()
{
	local n=$1 br=$2 port=$3 g=$4 addr=${5:-} gw=${6:-}

	veth_pair "$n" "$port" "$g" eth0 || return 1
	ip -n "$n" link set "$port" master "$br" || return 1
	if [ -n "$addr" ]; then
		ip -n "$g" addr add "$addr" dev eth0 || return 1
	fi
	if [ -n "$gw" ]; then
		ip -n "$g" route add default via "$gw" || return 1
	fi
	# Hosts, not routers: the namespace may have inherited ip_forward=1.
	in_ns "$g" sysctl -qw net.ipv4.ip_forward=0 || return 1
	slowwait 5 link_up "$g" eth0 && slowwait 5 link_up "$n" "$port"
}

mac_of()
{
	ip -n "$1" -j link show dev "$2" | json_get 'd[0]["address"]'
}

ifindex_of()
{
	ip -n "$1" -j link show dev "$2" | json_get 'd[0]["ifindex"]'
}

neigh_valid()
{
	ip -n "$1" neigh show dev "$2" to "$3" |
		grep -qE 'REACHABLE|STALE|DELAY|PROBE|PERMANENT'
}

# ---------------------------------------------------------------- vnat state

status_get()
{
	local js

	js=$(vnat_status_json "$1") || return 1
	json_get "$2" <<<"$js"
}

link_xdp_id()
{
	ip -n "$1" -d -j link show dev "$2" | json_get '
(lambda x: x.get("prog", {}).get("id") or
           next((a["prog"]["id"] for a in x.get("attached", []) if "prog" in a), None))(d[0].get("xdp", {}))' |
		grep -vx null
}

# status_has_port NS DEV: listed as a port, with the XDP id ip(8) shows.
status_has_xdp_port()
{
	local got want

	got=$(status_get "$1" "next((str(i['role']) + ' ' + str(i['xdp']['id']) for i in d['interfaces'] if i['name'] == '$2'), 'absent')") ||
		return 1
	want=$(link_xdp_id "$1" "$2")
	echo "status: $got, ip link xdp id: ${want:-none}"
	[ -n "$want" ] && [ "$got" = "port $want" ]
}

# A veth or tap port runs tc only by default (its frames carry partial
# checksums XDP cannot see): status lists it as a port with tc filters and
# no XDP, and the tc filter ids are the ones the kernel reports.
status_has_port()
{
	local got want
	got=$(status_get "$1" "next((i['role'] + ' ' + str(i['xdp']['id']) + ' ' + str(i['tc']['ingress']) for i in d['interfaces'] if i['name'] == '$2'), 'absent')") ||
		return 1
	want=$(ip netns exec "$1" tc -j filter show dev "$2" ingress 2>/dev/null | json_get "next((str(f['options']['bpf_name'] and f['options'].get('prog', {}).get('id', 0)) for f in d if 'options' in f and 'bpf_name' in f['options']), '')" 2>/dev/null)
	echo "status: $got, tc ingress prog id: ${want:-none}"
	case "$got" in "port 0 "[1-9]*) ;; *) return 1 ;; esac
	[ -z "$want" ] || [ "${got##* }" = "$want" ]
}

status_lacks()
{
	local names

	names=$(status_get "$1" "' '.join(i['name'] for i in d['interfaces'])") || return 1
	echo "status lists: $names"
	! grep -qw -- "$2" <<<"$names"
}

pin_dir_of()
{
	echo "/sys/fs/bpf/vnat/netns-$(ns_inode "$1")"
}

# bpftool runs here, in the root mount namespace, where the pins are.
map_dump()
{
	bpftool -j map dump pinned "$(pin_dir_of "$1")/$2"
}

fdb_dump()
{
	map_dump "$1" vnat_fdb | json_get '
"\n".join("%s %d" % (":".join("%02x" % b for b in e["formatted"]["key"]["mac"]),
                     e["formatted"]["value"]["port"]) for e in d)' | grep .
}

fdb_port()
{
	local mac=${2,,}

	fdb_dump "$1" | awk -v m="$mac" '$1 == m { print $2; f = 1 } END { exit !f }'
}

fdb_has()
{
	local got

	got=$(fdb_port "$1" "$2")
	echo "vnat_fdb: $2 -> ${got:-none} (want $3)"
	[ "$got" = "$3" ]
}

fdb_lacks_mac()
{
	local got

	got=$(fdb_port "$1" "$2")
	echo "vnat_fdb: $2 -> ${got:-none}"
	[ -z "$got" ]
}

fdb_lacks_port()
{
	local all

	all=$(fdb_dump "$1")
	echo "vnat_fdb:"
	echo "$all"
	! awk -v p="$2" '$2 == p { f = 1 } END { exit !f }' <<<"$all"
}

iface_map_get()
{
	map_dump "$1" vnat_ifaces |
		json_get "next((e['formatted']['value']['$3'] for e in d if e['formatted']['key'] == $2), None)" |
		grep -vx null
}

# iface_map_is NS IFINDEX FIELD VALUE: for slowwait.
iface_map_is()
{
	local got

	got=$(iface_map_get "$1" "$2" "$3")
	echo "vnat_ifaces[$2].$3 = ${got:-none} (want $4)"
	[ "$got" = "$4" ]
}

# iface_flag_is NS IFINDEX BIT 0|1
iface_flag_is()
{
	local flags

	flags=$(iface_map_get "$1" "$2" flags) || return 1
	echo "vnat_ifaces[$2].flags = $flags (bit $3 want $4)"
	[ $(((flags & $3) != 0)) -eq "$4" ]
}

macmoves_of()
{
	local mac=${2,,}

	map_dump "$1" vnat_macmoves | json_get "
next((e['formatted']['value']['moves'] for e in d
      if ':'.join('%02x' % b for b in e['formatted']['key']['mac']) == '$mac'), 0)"
}

# snap NS: remember NS's counters; delta NS NAME [bytes]: growth since then.
declare -A LIB_SNAP
snap()
{
	LIB_SNAP[$1]=$(vnat_status_json "$1") || return 1
}

delta()
{
	local n=$1 name=$2 field=${3:-packets} now before

	now=$(counter_field "$n" "$name" "$field") || return 1
	before=$(json_get "$(counter_expr "$name" "$field")" <<<"${LIB_SNAP[$n]}") || return 1
	echo $((now - before))
}

counter_field()
{
	local js

	js=$(vnat_status_json "$1") || return 1
	json_get "$(counter_expr "$2" "$3")" <<<"$js"
}

# ---------------------------------------------------------------- traffic

ping_all()
{
	local n=$1 dst=$2 count=$3

	in_ns "$n" ping -q -c "$count" -i 0.05 -W 1 -w $((count / 10 + 10)) "$dst"
}

# ping_none NS DST COUNT: not one reply ("unreachable" counts as none).
ping_none()
{
	local n=$1 dst=$2 count=$3 out rc

	out=$(in_ns "$n" ping -c "$count" -i 0.1 -W 1 -w $((count / 5 + 3)) "$dst" 2>&1)
	rc=$?
	echo "$out" | tail -n 3
	[ "$rc" -ne 0 ] && ! grep -q 'bytes from' <<<"$out"
}

capture_start()
{
	local var=$1 n=$2 dev=$3 filter=$4 pid log

	LIB_RUN_SEQ=$((LIB_RUN_SEQ + 1))
	printf -v "${var}_PCAP" '%s' "$LIB_TMPDIR/cap.$LIB_RUN_SEQ.pcap"
	local file="$LIB_TMPDIR/cap.$LIB_RUN_SEQ.pcap"
	# -Z root: the scratch directory is root's only; --immediate-mode: hand
	# every packet over at once (TPACKET_V3 would otherwise hold a block of
	# them, and SIGINT discards what was not handed over); -U: write each.
	bg_in_ns "$var" "$n" tcpdump -i "$dev" -nn --immediate-mode -U -Z root -s 256 -w "$file" "$filter"
	pid=${!var}
	log="${var}_LOG"
	log=${!log}
	slowwait 5 grep -q 'listening on' "$log" || {
		echo "tcpdump in $n on $dev did not start:"
		cat "$log"
		return 1
	}
}

capture_stop()
{
	# What the last command's packets raised may still be on its way to
	# tcpdump's socket: a moment, then SIGINT (tcpdump writes what it has).
	sleep 0.2
	kill -INT "$1" 2>/dev/null
	bg_wait_timeout 5 "$1"
	return 0
}

pcap_count()
{
	local f=$1

	shift
	tcpdump -nn -r "$f" "$@" 2>/dev/null | grep -c .
}

pcap_text()
{
	local f=$1

	shift
	tcpdump -nn -e -v -r "$f" "$@" 2>/dev/null
}

bg_stop()
{
	kill -TERM "$1" 2>/dev/null
	bg_wait_timeout 5 "$1"
}
