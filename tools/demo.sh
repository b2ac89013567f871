#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - `make demo`: vnat doing its main job on T1 (seed 000), as the
# user types it: on the KVM host that owns br1,
#
#     vnat load --iface br1 --snat 192.168.1.101
#
# Builds the host, its two guests vm1 and router1 on br1, the LAN and a
# host standing in for the internet, in network namespaces, nothing tuned
# (tools/topo-t1-host.sh). Then: ping and a TCP transfer (compared byte for
# byte) from vm1 to the outside through router1 and vnat's NAT, with a
# capture on the uplink; vm1 <-> router1 over the bridge; router1's ICMP
# redirects kept from vm1; `vnat status`, and which path carried the
# packets. Unloads and removes everything it made, also when interrupted.
# Exits non-zero when something did not work. V=1 shows every command.

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=topo-t1-host.sh
source "$(dirname "$0")/topo-t1-host.sh"

DEMO_PINGS=20
DEMO_SIZE_MIB=8
DEMO_PORT=5201
REDIRECT_FILTER='icmp[icmptype] == 5'

say()
{
	printf '\n== %s\n' "$*"
}

indent()
{
	sed 's/^/   /'
}

# The host's counters and the kernel's forwarding, to compare against.
# shellcheck disable=SC2317 # called through must
demo_snapshot()
{
	SNAP_JSON=$(vnat_status_json "$HOST") && SNAP_KFWD=$(kernel_fwd_count "$HOST")
}

# demo_delta NAME: growth of counter NAME (packets) since the snapshot.
demo_delta()
{
	local now

	now=$(vnat_status_json "$HOST" | json_get "d['counters']['$1']['packets']") || return 1
	echo $((now - $(json_get "d['counters']['$1']['packets']" <<<"$SNAP_JSON")))
}

# demo_moved PREFIX: "name +N packets" for each PREFIX* counter that grew.
demo_moved()
{
	local now

	now=$(vnat_status_json "$HOST") || return 1
	python3 -c '
import json, sys
a, b = json.loads(sys.argv[1])["counters"], json.loads(sys.argv[2])["counters"]
for k in b:
    n = b[k]["packets"] - a[k]["packets"]
    if k.startswith(sys.argv[3]) and n > 0:
        print(f"{k} +{n} packets")
' "$SNAP_JSON" "$now" "$1"
}

# ICMP redirects NS's kernel sent (IcmpMsg OutType5; absent before the first).
redirects_sent()
{
	in_ns "$1" cat /proc/net/snmp | awk '
		$1 == "IcmpMsg:" && !hdr { for (i = 2; i <= NF; i++) if ($i == "OutType5") col = i; hdr = 1; next }
		$1 == "IcmpMsg:" && hdr { v = col ? $col : 0 }
		END { print v + 0 }'
}

# capture NS IF FILTER: tcpdump into $CAP_FILE in the background ($CAP_PID).
capture()
{
	LIB_RUN_SEQ=$((LIB_RUN_SEQ + 1))
	CAP_FILE=$LIB_TMPDIR/cap.$LIB_RUN_SEQ.pcap
	bg_in_ns CAP_PID "$1" tcpdump -i "$2" -nn --immediate-mode -U -Z root -s 128 -w "$CAP_FILE" "$3"
	slowwait 5 grep -q 'listening on' "$CAP_PID_LOG"
}

capture_end()
{
	sleep 0.2
	kill -INT "$1" 2>/dev/null
	bg_wait_timeout 5 "$1"
	return 0
}

# sources FILE: "N ADDR" per IPv4 source address in the capture.
sources()
{
	tcpdump -nn -r "$1" 2>/dev/null |
		awk '$2 == "IP" { split($3, a, "."); print a[1] "." a[2] "." a[3] "." a[4] }' |
		sort | uniq -c | awk '{ print $1, $2 }'
}

# only_sources FILE ADDR...: the capture has packets, all from these.
only_sources()
{
	local got a

	got=$(sources "$1")
	echo "$got"
	shift
	[ -n "$got" ] || return 1
	for a in "$@"; do
		got=$(awk -v a="$a" '$2 != a' <<<"$got")
	done
	[ -z "$got" ]
}

pcap_count()
{
	tcpdump -nn -r "$1" "${@:2}" 2>/dev/null | grep -c .
}

require_root
require_cmd ip tc ping socat tcpdump python3 timeout ss sha256sum
require_vnat
test_group demo

say "Building T1 in network namespaces (nothing tuned)"
t1_host_create
HOST=$(ns host) VM1=$(ns vm1) R1=$(ns router1) PUB=$(ns pub)
cat <<EOF
   vm1 $T1_VM1_ADDR, gw .1             router1 $T1_ROUTER1_ADDR, gw .2, ip_forward=1
      |                                    |
    vnet0 ------ br1 $T1_HOST_BR_ADDR/24 ------ vnet1
   host: the KVM host, ip_forward=1, no iptables rules
    eth0 $T1_HOST_OUT_ADDR/24 (uplink)
      |
   lan $T1_LAN_ADDR, no route back to 203.0.113.0/24
      |
   pub $T1_PUB_ADDR ("the internet")
   (namespaces: $HOST, $VM1, $R1, $(ns lan), $PUB)
EOF

say "In the host: vnat load --iface br1 --snat $T1_HOST_OUT_ADDR"
defer vnat_in "$HOST" unload --all
must "vnat load --iface br1 --snat $T1_HOST_OUT_ADDR" \
	vnat_in "$HOST" load --iface br1 --snat "$T1_HOST_OUT_ADDR"
cat "$RUN_OUT" "$RUN_ERR" | indent
must "read the counters" demo_snapshot

say "vm1 -> $T1_PUB_ADDR through router1 and the host's NAT: $DEMO_PINGS pings, $DEMO_SIZE_MIB MiB over TCP"
must "capture on the uplink" capture "$HOST" eth0 "ip and host $T1_PUB_ADDR"
UPLINK_CAP=$CAP_FILE UPLINK_PID=$CAP_PID
must "capture ICMP redirects in vm1" capture "$VM1" eth0 "$REDIRECT_FILTER"
VM1_CAP=$CAP_FILE VM1_PID=$CAP_PID
red0=$(redirects_sent "$R1")
check "ping vm1 -> $T1_PUB_ADDR" in_ns "$VM1" ping -q -c "$DEMO_PINGS" -i 0.05 -W 1 -w 15 "$T1_PUB_ADDR"
grep -E 'transmitted|rtt' "$RUN_OUT" | indent
FILE=$(make_random_file $((DEMO_SIZE_MIB * 1024 * 1024))) || die "random file"
t0=${EPOCHREALTIME//[!0-9]/}
check "TCP vm1 -> $T1_PUB_ADDR, $DEMO_SIZE_MIB MiB arrive intact (sha256)" \
	tcp_transfer "$VM1" "$PUB" "$T1_PUB_ADDR" "$DEMO_PORT" "$FILE"
t1=${EPOCHREALTIME//[!0-9]/}
indent <"$RUN_OUT"
awk -v mib="$DEMO_SIZE_MIB" -v us=$((t1 - t0)) \
	'BEGIN { if (us > 0) printf "   %.1f MiB/s (%d ms, including connection set-up)\n", mib * 1e6 / us, us / 1000 }'
red1=$(redirects_sent "$R1")
capture_end "$UPLINK_PID"
capture_end "$VM1_PID"
echo "   captured on the uplink eth0 (packets, source address):"
sources "$UPLINK_CAP" | indent | indent
check "the uplink carried vm1's traffic as $T1_HOST_OUT_ADDR only (and $T1_PUB_ADDR's replies)" \
	only_sources "$UPLINK_CAP" "$T1_HOST_OUT_ADDR" "$T1_PUB_ADDR"
check_cmp "... vm1's own address $T1_VM1_ADDR never left the host" \
	"$(pcap_count "$UPLINK_CAP" host "$T1_VM1_ADDR")" -eq 0

say "The hairpin through router1, and its ICMP redirects"
echo "   router1's kernel sent $((red1 - red0)) ICMP redirects (\"reach $T1_PUB_ADDR via $T1_HOST_BR_ADDR\")"
echo "   vnat dropped $(demo_delta drop_redirect) (drop_redirect on the host); vm1 received $(pcap_count "$VM1_CAP")"
check_cmp "router1 hairpinned vm1's packets and its kernel sent redirects" $((red1 - red0)) -ge 1
check_cmp "vnat dropped them on their way to vm1 (drop_redirect)" "$(demo_delta drop_redirect)" -ge 1
check_cmp "no ICMP redirect reached vm1 (capture in vm1)" "$(pcap_count "$VM1_CAP")" -eq 0
check "vm1 still sends through router1" \
	bash -c "ip -n '$VM1' route get '$T1_PUB_ADDR' | grep -q 'via $T1_ROUTER1_ADDR '"

say "Guest to guest over br1: vm1 <-> router1"
check "ping vm1 -> router1" in_ns "$VM1" ping -q -c "$DEMO_PINGS" -i 0.05 -W 1 -w 15 "$T1_ROUTER1_ADDR"
grep -E 'transmitted|rtt' "$RUN_OUT" | indent
SMALL=$(make_random_file $((1024 * 1024))) || die "random file"
check "TCP router1 -> vm1, 1 MiB intact (sha256)" \
	tcp_transfer "$R1" "$VM1" "$T1_VM1_ADDR" $((DEMO_PORT + 1)) "$SMALL"
indent <"$RUN_OUT"

say "vnat status (in the host)"
if run vnat_in "$HOST" status; then
	cat "$RUN_OUT"
else
	log_fail "vnat status" && lib_show_last_run
fi

say "Which path carried the packets (since the load)"
kfwd=$(($(kernel_fwd_count "$HOST") - SNAP_KFWD))
fast=$(demo_moved fwd_)
echo "   vnat's fast path:"
indent <<<"${fast:-none}" | indent
echo "   the kernel forwarded $kfwd packets (Ip ForwDatagrams in the host)"
echo "   vnat handed to the kernel, by reason:"
demo_moved pass_ | indent | indent
echo "   dropped by the kernel after vnat (status -j kernel_drops, per interface):"
vnat_status_json "$HOST" | json_get "'\\n'.join(i['name'] + ': ' + ', '.join(f'{k} {v}' for k, v in i['kernel_drops'].items() if v) for i in d['interfaces'] if i['kernel_drops'] and any(i['kernel_drops'].values())) or 'none'" |
	indent | indent
total=$(awk '{ s += substr($2, 2) } END { print s + 0 }' <<<"$fast")
check_cmp "the fast path carried the traffic ($total packets, the kernel $kfwd)" "$total" -gt "$kfwd"
bridged=$(awk '$1 ~ /bridged/ { s += substr($2, 2) } END { print s + 0 }' <<<"$fast")
check_cmp "vnat bridged vm1 <-> router1 over br1 (fwd_*bridged* +$bridged)" "$bridged" -gt 0

say "Unloading: vnat unload --all"
check "vnat unload --all" vnat_in "$HOST" unload --all
check "no XDP program left in the host" bash -c "! ip -n '$HOST' -d link show | grep -q 'prog/xdp'"
check "no tc filter left on br1" bash -c "! tc -n '$HOST' filter show dev br1 ingress | grep -q bpf"

say "Done; removing the namespaces"
exit_summary
