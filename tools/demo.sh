#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - `make demo`: vnat accelerating the routed part of T1.
#
# Builds vm1 -> vm3 -> lan in network namespaces (tools/topo-t1-routed.sh),
# loads vnat in the router vm3, sends a ping and a TCP transfer through it,
# shows `vnat status` and which path carried the packets, then unloads and
# removes everything it made (also when interrupted). Exits non-zero when
# the traffic did not get through. V=1 shows every command's output.

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=topo-t1-routed.sh
source "$(dirname "$0")/topo-t1-routed.sh"

DEMO_PINGS=20
DEMO_SIZE_MIB=8
DEMO_PORT=5201

say()
{
	printf '\n== %s\n' "$*"
}

# Counters of the router: fast path (all fwd_*), the kernel's forwarding,
# and every non-zero reason a packet was handed to the kernel.
# shellcheck disable=SC2317 # called through must
demo_snapshot()
{
	local js

	js=$(vnat_status_json "$1") || return 1
	SNAP_FAST=$(json_get "sum(d['counters'][k]['packets'] for k in d['counters'] if k.startswith('fwd_'))" <<<"$js") &&
		SNAP_FAST_BYTES=$(json_get "sum(d['counters'][k]['bytes'] for k in d['counters'] if k.startswith('fwd_'))" <<<"$js") &&
		SNAP_PASS=$(json_get "{k: v['packets'] for k, v in d['counters'].items() if k.startswith('pass_')}" <<<"$js") &&
		SNAP_KFWD=$(kernel_fwd_count "$1")
}

require_root
require_cmd ip tc ethtool ping socat python3 timeout ss sha256sum
require_vnat
test_group demo

say "Building T1 (routed part) in network namespaces"
# shellcheck disable=SC2119 # no prefix: the one and only copy
t1_routed_create
VM1=$(ns vm1)
VM3=$(ns vm3)
LAN=$(ns lan)
cat <<EOF
   $VM1  eth0 $T1_VM1_ADDR/24, default via $T1_VM3_IN_ADDR
     |
   $VM3  eth1 $T1_VM3_IN_ADDR/24  (router, ip_forward=1)
   $VM3  eth0 $T1_VM3_OUT_ADDR/24
     |
   $LAN  eth0 $T1_LAN_ADDR/24, $T1_IN_NET via $T1_VM3_OUT_ADDR
EOF

say "Loading vnat in $VM3: vnat load --iface eth0 --iface eth1"
defer vnat_in "$VM3" unload --all
must "vnat load --iface eth0 --iface eth1" vnat_in "$VM3" load --iface eth0 --iface eth1
echo "loaded."
must "read the counters" demo_snapshot "$VM3"
fast0=$SNAP_FAST bytes0=$SNAP_FAST_BYTES kfwd0=$SNAP_KFWD

say "ping $T1_LAN_ADDR from $VM1 ($DEMO_PINGS packets)"
check "ping vm1 -> lan" in_ns "$VM1" ping -q -c "$DEMO_PINGS" -i 0.05 -W 1 -w 15 "$T1_LAN_ADDR"
grep -E 'transmitted|rtt' "$RUN_OUT" | sed 's/^/   /'

say "TCP: $DEMO_SIZE_MIB MiB of random data from $VM1 to $LAN, compared with sha256"
FILE=$(make_random_file $((DEMO_SIZE_MIB * 1024 * 1024))) || die "random file"
t0=${EPOCHREALTIME//[!0-9]/}
check "TCP transfer vm1 -> lan, contents intact" \
	tcp_transfer "$VM1" "$LAN" "$T1_LAN_ADDR" "$DEMO_PORT" "$FILE"
t1=${EPOCHREALTIME//[!0-9]/}
sed 's/^/   /' "$RUN_OUT"
awk -v mib="$DEMO_SIZE_MIB" -v us=$((t1 - t0)) \
	'BEGIN { if (us > 0) printf "   %.1f MiB/s (%d ms, including connection set-up)\n", mib * 1e6 / us, us / 1000 }'

must "read the counters" demo_snapshot "$VM3"

say "vnat status (in $VM3)"
if run vnat_in "$VM3" status; then
	cat "$RUN_OUT"
else
	log_fail "vnat status" && lib_show_last_run
fi

say "Which path carried the packets"
fast=$((SNAP_FAST - fast0))
kfwd=$((SNAP_KFWD - kfwd0))
echo "   fast path (vnat XDP/tc) forwarded $fast packets ($((SNAP_FAST_BYTES - bytes0)) bytes)"
echo "   kernel forwarded $kfwd packets (Ip ForwDatagrams in $VM3)"
json_get "', '.join(f'{k} {v}' for k, v in d.items() if v) or 'none'" <<<"$SNAP_PASS" |
	sed 's/^/   handed to the kernel by vnat, by reason: /'
check_cmp "the fast path carried the traffic" "$fast" -gt "$kfwd"

say "Unloading: vnat unload --all"
check "vnat unload --all" vnat_in "$VM3" unload --all
if ip -n "$VM3" -d link show | grep -q xdp; then
	log_fail "no XDP left in $VM3"
else
	echo "   no XDP program left on $VM3's interfaces"
fi
check "kernel path still forwards after unload" \
	in_ns "$VM1" ping -q -c 3 -i 0.2 -W 1 -w 10 "$T1_LAN_ADDR"

say "Done; removing the namespaces"
exit_summary
