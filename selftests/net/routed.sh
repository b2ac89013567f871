#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# routed.sh - T1's routed fast path: vm1 -> vm3 (vnat on eth0 + eth1) -> lan.
#
# Order: bad input first (so "left nothing behind" is checked in a namespace
# vnat has never been loaded in), load + status, the same status through
# nsenter, ping and TCP through the fast path, a refused second load, a
# second router in its own namespace, then unload and the kernel path.
#
# Usage: routed.sh        (V=1 for all command output; VNAT=path to override)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=../../tools/topo-t1-routed.sh
source "$(dirname "$0")/../../tools/topo-t1-routed.sh"

PINGS=20
TCP_SIZE=$((4 * 1024 * 1024))
TCP_PORT=5201
# The first packets of a flow may take the kernel path while neighbours
# resolve; after t1_warmup the fast path should take everything.
KERNEL_SLACK=2
# veths run vnat on tc by default (their frames carry partial checksums)
VNAT_PROGS="tc_vnat_ingress tc_vnat_egress"

require_root
require_cmd ip tc ethtool ping socat bpftool python3 nsenter timeout ss sha256sum
require_vnat

# ---------------------------------------------------------------- helpers

# json_eq JSON EXPR WANT: prints what EXPR gave, so a failed check shows it.
# Status without the counters: what must not change while traffic flows.
status_shape()
{
	json_get '{k: v for k, v in d.items() if k != "counters"}' <<<"$1"
}

prog_name()
{
	bpftool prog show id "$1" -j | json_get 'd["name"]'
}

# prog_named ID REGEX: the program with ID has a name matching ^(REGEX)$.
prog_named()
{
	local name

	name=$(prog_name "$1") || return 1
	echo "program $1 is named '$name'"
	[[ $name =~ ^($2)$ ]]
}

# shape_is FILE SHAPE: the status -j in FILE, counters aside, equals SHAPE.
shape_is()
{
	local got

	got=$(status_shape "$(cat "$1")") || return 1
	[ "$got" = "$2" ] || {
		echo "now:    $got"
		echo "before: $2"
		return 1
	}
}

grep_all_words()
{
	local f=$1 w

	shift
	for w in "$@"; do
		grep -qw -- "$w" "$f" || return 1
	done
}

# nsenter_ns changes only the network namespace: /proc/self/ns/net then is
# the namespace ip netns made, so vnat's pin_dir name must match too.
same_netns_inode()
{
	local got want

	got=$(nsenter_ns "$1" stat -L -c %i /proc/self/ns/net) || return 1
	want=$(ns_inode "$1") || return 1
	echo "inside: $got, /run/netns/$1: $want"
	[ "$got" = "$want" ]
}

prog_gone()
{
	! bpftool prog show id "$1" >/dev/null 2>&1
}

# bpftool lists every program of the host: does it hold one named $1?
bpftool_has_prog()
{
	bpftool prog show -j | json_get "any(p.get('name') == '$1' for p in d)" | grep -qx true
}

one_line_mentioning()
{
	local lines

	lines=$(grep -c '' "$1")
	echo "error ($lines lines): $(cat "$1")"
	[ "$lines" -eq 1 ] && grep -qwF -- "$2" "$1"
}

path_absent()
{
	[ ! -e "$1" ]
}

path_present()
{
	[ -d "$1" ]
}

# XDP program id ip(8) shows attached to NS/DEV (none: prints nothing, fails).
link_xdp_id()
{
	ip -n "$1" -d -j link show dev "$2" | json_get '
(lambda x: x.get("prog", {}).get("id") or
           next((a["prog"]["id"] for a in x.get("attached", []) if "prog" in a), None))(d[0].get("xdp", {}))' |
		grep -vx null
}

no_xdp_in_ns()
{
	! ip -n "$1" -d link show | grep -q xdp
}

tc_filter_has_id()
{
	in_ns "$1" tc filter show dev "$2" "$3" | grep -qw "id $4"
}

tc_filters_empty()
{
	local out

	out=$(in_ns "$1" tc filter show dev "$2" "$3") || return 1
	echo "$out"
	[ -z "$out" ]
}

no_clsact()
{
	! in_ns "$1" tc qdisc show dev "$2" | grep -q clsact
}

ping_all()
{
	local n=$1 dst=$2 count=$3

	# With a deadline, ping fails unless all COUNT replies arrive.
	in_ns "$n" ping -q -c "$count" -i 0.05 -W 1 -w $((count / 10 + 10)) "$dst"
}

# Snapshot/delta of the fast path (packets and bytes) and of the kernel.
snap_counters()
{
	local n=$1 js

	js=$(vnat_status_json "$n") || return 1
	SNAP_PKTS=$(json_get "sum(d['counters'][k]['packets'] for k in ('fwd_routed', 'fwd_same_segment', 'fwd_routed_tc'))" <<<"$js") &&
		SNAP_BYTES=$(json_get "sum(d['counters'][k]['bytes'] for k in ('fwd_routed', 'fwd_same_segment', 'fwd_routed_tc'))" <<<"$js") &&
		SNAP_ROUTED=$(json_get "$(counter_expr fwd_routed)" <<<"$js") &&
		SNAP_KFWD=$(kernel_fwd_count "$n")
}

# ---------------------------------------------------------------- topology

t1_routed_create
VM1=$(ns vm1)
VM3=$(ns vm3)
LAN=$(ns lan)
defer vnat_in "$VM3" unload --all
VM3_PIN=/sys/fs/bpf/vnat/netns-$(ns_inode "$VM3")
must "kernel path works before vnat" t1_warmup

# ---------------------------------------------------------------- e. bad input

test_group "routed: bad input"

check_rc 1 "load --iface nosuchif0 exits 1" vnat_in "$VM3" load --iface nosuchif0
check "its error is one line naming nosuchif0" one_line_mentioning "$RUN_ERR" nosuchif0
check "no pins for vm3 after it" path_absent "$VM3_PIN"

check_rc 1 "load --iface lo exits 1" vnat_in "$VM3" load --iface lo
check "its error is one line naming lo" one_line_mentioning "$RUN_ERR" lo
check_rc 1 "load --iface eth0 --snat 300.1.1.1 exits 1" \
	vnat_in "$VM3" load --iface eth0 --snat 300.1.1.1
check "its error is one line naming 300.1.1.1" one_line_mentioning "$RUN_ERR" 300.1.1.1
check_rc 1 "load --iface eth0 --snat ::1 exits 1" vnat_in "$VM3" load --iface eth0 --snat ::1
check "its error is one line naming ::1" one_line_mentioning "$RUN_ERR" ::1
check_rc 1 "load --iface eth0 --iface nosuchif0 exits 1" \
	vnat_in "$VM3" load --iface eth0 --iface nosuchif0

check "no pins for vm3 after all failed loads" path_absent "$VM3_PIN"
check "no XDP left in vm3 after failed loads" no_xdp_in_ns "$VM3"
for dev in eth0 eth1; do
	for dir in ingress egress; do
		check "no tc $dir filter left on $dev" tc_filters_empty "$VM3" "$dev" "$dir"
	done
	check "no clsact left on $dev" no_clsact "$VM3" "$dev"
done
check "kernel path still works after failed loads" ping_all "$VM1" "$T1_LAN_ADDR" 3

# ---------------------------------------------------------------- a. load

test_group "routed: load"
check_rc 0 "load --iface eth0 --iface eth1" vnat_in "$VM3" load --iface eth0 --iface eth1 ||
	die "vnat load failed: nothing else can be tested"
must "status -j" vnat_status_json "$VM3"
ST=$(cat "$RUN_OUT")

check "status -j is JSON" json_get 'type(d).__name__' <<<"$ST"
check "status lists exactly eth0 and eth1" \
	json_eq "$ST" 'sorted(i["name"] for i in d["interfaces"])' '["eth0", "eth1"]'
check "netns_cookie is non-zero" json_eq "$ST" 'd["netns_cookie"] > 0' true
check "pin_dir is named after vm3's netns inode" json_eq "$ST" 'd["pin_dir"]' "$VM3_PIN"
check "pin_dir exists" path_present "$VM3_PIN"
check "config.snat is null without --snat" json_eq "$ST" 'd["config"]["snat"]' null
COUNTERS=$(vnat_counter_names | LC_ALL=C sort | paste -sd' ')
[ -n "$COUNTERS" ] || die "no enum vnat_stat in include/vnat.h"
check "status has exactly the counters of enum vnat_stat" \
	json_eq "$ST" "' '.join(sorted(d['counters']))" "$COUNTERS"
check "every counter has packets and bytes" json_eq "$ST" \
	'all(isinstance(v.get("packets"), int) and isinstance(v.get("bytes"), int) for v in d["counters"].values())' true

declare -A TC_IN TC_EG
for dev in eth0 eth1; do
	sel="next(i for i in d['interfaces'] if i['name'] == '$dev')"
	ifindex=$(ip -n "$VM3" -j link show dev "$dev" | json_get 'd[0]["ifindex"]')
	mac=$(ip -n "$VM3" -j link show dev "$dev" | json_get 'd[0]["address"]')
	check "$dev: ifindex matches ip link ($ifindex)" json_eq "$ST" "${sel}['ifindex']" "$ifindex"
	check "$dev: mac matches ip link ($mac)" json_eq "$ST" "${sel}['mac'].lower()" "$mac"
	TC_IN[$dev]=$(json_get "${sel}['tc']['ingress']" <<<"$ST")
	TC_EG[$dev]=$(json_get "${sel}['tc']['egress']" <<<"$ST")
	check_cmp "$dev: has a tc ingress id" "${TC_IN[$dev]}" -gt 0
	check_cmp "$dev: has a tc egress id" "${TC_EG[$dev]}" -gt 0
	# A veth's frames carry partial checksums: the default runs it on tc.
	check "$dev: status says hook tc" json_eq "$ST" "${sel}['hook']" tc
	check "$dev: status shows no XDP program" json_eq "$ST" "${sel}['xdp']['id']" 0
	check_cmp "$dev: ip link shows no XDP" "$(link_xdp_id "$VM3" "$dev")" = ""
	check "$dev: tc ingress id is tc_vnat_ingress" prog_named "${TC_IN[$dev]}" tc_vnat_ingress
	check "$dev: tc egress id is tc_vnat_egress" prog_named "${TC_EG[$dev]}" tc_vnat_egress
	check "$dev: tc filter show ingress lists id ${TC_IN[$dev]}" \
		tc_filter_has_id "$VM3" "$dev" ingress "${TC_IN[$dev]}"
	check "$dev: tc filter show egress lists id ${TC_EG[$dev]}" \
		tc_filter_has_id "$VM3" "$dev" egress "${TC_EG[$dev]}"
done
for p in $VNAT_PROGS; do
	check "bpftool prog show lists $p" bpftool_has_prog "$p"
done
check "status (human form) exits 0" vnat_in "$VM3" status
check "status (human form) names eth0 and eth1" grep_all_words "$RUN_OUT" eth0 eth1

# ---------------------------------------------------------------- f. nsenter

test_group "routed: nsenter"
SHAPE=$(status_shape "$ST")
check "nsenter enters vm3's network namespace" \
	same_netns_inode "$VM3"
check "status -j through nsenter exits 0" vnat_nsenter "$VM3" status -j
check "nsenter and ip netns exec see the same state" shape_is "$RUN_OUT" "$SHAPE"
check "status (human form) through nsenter exits 0" vnat_nsenter "$VM3" status

# ---------------------------------------------------------------- b. ping

test_group "routed: ping"
must "warm-up ping resolves neighbours" t1_warmup
must "snapshot counters" snap_counters "$VM3"
p0=$SNAP_ROUTED k0=$SNAP_KFWD
check "$PINGS pings vm1 -> lan all answered" ping_all "$VM1" "$T1_LAN_ADDR" "$PINGS"
must "snapshot counters" snap_counters "$VM3"
log_info "fwd_routed +$((SNAP_ROUTED - p0)), kernel ForwDatagrams +$((SNAP_KFWD - k0))"
check_cmp "fwd_routed moved by >= $((2 * PINGS - KERNEL_SLACK)) (requests and replies)" \
	$((SNAP_ROUTED - p0)) -ge $((2 * PINGS - KERNEL_SLACK))
check_cmp "kernel ForwDatagrams moved by <= $KERNEL_SLACK" $((SNAP_KFWD - k0)) -le "$KERNEL_SLACK"

# ---------------------------------------------------------------- c. TCP

test_group "routed: tcp"
FILE=$(make_random_file "$TCP_SIZE") || die "random file"
must "snapshot counters" snap_counters "$VM3"
b0=$SNAP_BYTES p0=$SNAP_PKTS k0=$SNAP_KFWD
check "4 MiB vm1 -> lan arrives intact (sha256)" \
	tcp_transfer "$VM1" "$LAN" "$T1_LAN_ADDR" "$TCP_PORT" "$FILE"
must "snapshot counters" snap_counters "$VM3"
log_info "fast path +$((SNAP_PKTS - p0)) packets +$((SNAP_BYTES - b0)) bytes, kernel +$((SNAP_KFWD - k0))"
# Every payload byte crossed vm3: the fast path must account for them all.
check_cmp "fast path forwarded >= $TCP_SIZE bytes" $((SNAP_BYTES - b0)) -ge "$TCP_SIZE"
# Packets are fewer than the segments on the wire: tc forwards GSO skbs whole.
check_cmp "fast path forwarded packets" $((SNAP_PKTS - p0)) -gt 0
check_cmp "kernel ForwDatagrams moved by <= $KERNEL_SLACK" $((SNAP_KFWD - k0)) -le "$KERNEL_SLACK"

# ---------------------------------------------------------------- d. second load

test_group "routed: second load"
check_rc 1 "second load --iface eth0 exits 1" vnat_in "$VM3" load --iface eth0
check "its error is one line naming eth0" one_line_mentioning "$RUN_ERR" eth0
must "status -j" vnat_status_json "$VM3"
check "status is unchanged" shape_is "$RUN_OUT" "$SHAPE"
for dev in eth0 eth1; do
	check "$dev: same tc ingress filter" tc_filter_has_id "$VM3" "$dev" ingress "${TC_IN[$dev]}"
done
must "snapshot counters" snap_counters "$VM3"
p0=$SNAP_ROUTED k0=$SNAP_KFWD
check "traffic still flows" ping_all "$VM1" "$T1_LAN_ADDR" 10
must "snapshot counters" snap_counters "$VM3"
check_cmp "still through the fast path" $((SNAP_ROUTED - p0)) -ge $((20 - KERNEL_SLACK))
check_cmp "kernel ForwDatagrams moved by <= $KERNEL_SLACK" $((SNAP_KFWD - k0)) -le "$KERNEL_SLACK"

# ---------------------------------------------------------------- two namespaces

# A second copy of T1: same interface names, addresses and (per-namespace)
# ifindexes, loaded and unloaded through nsenter. Each must keep to itself.
test_group "routed: two namespaces"
t1_routed_create b_
VM3B=$(ns b_vm3)
defer vnat_nsenter "$VM3B" unload --all
VM3B_PIN=/sys/fs/bpf/vnat/netns-$(ns_inode "$VM3B")
must "second copy: kernel path works" t1_warmup b_
check_rc 0 "load --iface eth0 --iface eth1 in the second router (nsenter)" \
	vnat_nsenter "$VM3B" load --iface eth0 --iface eth1
must "second router: status -j" vnat_in "$VM3B" status -j
STB=$(cat "$RUN_OUT")
check "second router lists exactly eth0 and eth1" \
	json_eq "$STB" 'sorted(i["name"] for i in d["interfaces"])' '["eth0", "eth1"]'
check "second router's pin_dir is its own" json_eq "$STB" 'd["pin_dir"]' "$VM3B_PIN"
check_cmp "the two pin_dirs differ" "$VM3B_PIN" != "$VM3_PIN"
check_cmp "the two netns cookies differ" \
	"$(json_get 'd["netns_cookie"]' <<<"$STB")" != "$(json_get 'd["netns_cookie"]' <<<"$ST")"
for dev in eth0 eth1; do
	sel="next(i for i in d['interfaces'] if i['name'] == '$dev')"
	check_cmp "$dev: second router has its own tc program" \
		"$(json_get "${sel}['tc']['ingress']" <<<"$STB")" != "${TC_IN[$dev]}"
done
must "first router: status -j" vnat_status_json "$VM3"
check "first router's status is unchanged" shape_is "$RUN_OUT" "$SHAPE"

must "warm-up (second copy)" t1_warmup b_
must "snapshot first" snap_counters "$VM3"
a0=$SNAP_ROUTED
must "snapshot second" snap_counters "$VM3B"
b0=$SNAP_ROUTED kb0=$SNAP_KFWD
check "ping through the second router" ping_all "$(ns b_vm1)" "$T1_LAN_ADDR" "$PINGS"
must "snapshot second" snap_counters "$VM3B"
check_cmp "second router's fast path counted it" \
	$((SNAP_ROUTED - b0)) -ge $((2 * PINGS - KERNEL_SLACK))
check_cmp "second router's kernel ForwDatagrams moved by <= $KERNEL_SLACK" \
	$((SNAP_KFWD - kb0)) -le "$KERNEL_SLACK"
must "snapshot first" snap_counters "$VM3"
check_cmp "first router's counters did not move" $((SNAP_ROUTED - a0)) -eq 0

check_rc 0 "unload --all in the second router (nsenter)" vnat_nsenter "$VM3B" unload --all
check "second router's pins are gone" path_absent "$VM3B_PIN"
check "second router has no XDP left" no_xdp_in_ns "$VM3B"
check "first router's pins remain" path_present "$VM3_PIN"
must "first router: status -j" vnat_status_json "$VM3"
check "first router's status is unchanged" shape_is "$RUN_OUT" "$SHAPE"
must "snapshot first" snap_counters "$VM3"
a0=$SNAP_ROUTED
check "ping through the first router" ping_all "$VM1" "$T1_LAN_ADDR" 10
must "snapshot first" snap_counters "$VM3"
check_cmp "first router still forwards in the fast path" \
	$((SNAP_ROUTED - a0)) -ge $((20 - KERNEL_SLACK))

# ---------------------------------------------------------------- g. unload

test_group "routed: unload"
check_rc 0 "unload --all exits 0" vnat_in "$VM3" unload --all
check "no XDP on any vm3 interface (ip -d link)" no_xdp_in_ns "$VM3"
for dev in eth0 eth1; do
	for dir in ingress egress; do
		check "$dev: tc $dir filters gone" tc_filters_empty "$VM3" "$dev" "$dir"
	done
	check "$dev: the clsact qdisc vnat added is gone" no_clsact "$VM3" "$dev"
	for id in "${TC_IN[$dev]}" "${TC_EG[$dev]}"; do
		check "$dev: program $id freed" slowwait 5 prog_gone "$id"
	done
done
check "pins removed" path_absent "$VM3_PIN"

k0=$(kernel_fwd_count "$VM3")
check "$PINGS pings vm1 -> lan answered by the kernel path" ping_all "$VM1" "$T1_LAN_ADDR" "$PINGS"
k1=$(kernel_fwd_count "$VM3")
check_cmp "kernel ForwDatagrams moved by >= $((2 * PINGS))" $((k1 - k0)) -ge $((2 * PINGS))

k0=$(kernel_fwd_count "$VM3")
check "4 MiB vm1 -> lan intact on the kernel path" \
	tcp_transfer "$VM1" "$LAN" "$T1_LAN_ADDR" "$TCP_PORT" "$FILE"
k1=$(kernel_fwd_count "$VM3")
# GRO could merge segments, so only a floor of one datagram per 64 KiB
check_cmp "kernel ForwDatagrams moved by >= $((TCP_SIZE / 65536))" \
	$((k1 - k0)) -ge $((TCP_SIZE / 65536))

exit_summary
