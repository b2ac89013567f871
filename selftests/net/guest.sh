#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest.sh - a real guest on a tap (seeds 002 and 003): a Debian kernel with
# a busybox initramfs (tools/guest/, built here into the scratch directory)
# boots under qemu TCG in the host namespace; qemu-ifup enslaves its tap to
# br0 after vnat was loaded, so the daemon must attach it. The guest pings
# the outside host, uploads and downloads a file with busybox nc, prints
# VNAT-GUEST: lines on its console and powers off.
#
#   [guest] eth0 virtio-net 192.168.100.2/24 gw .1
#      | tap vnet0 (qemu-ifup: master br0)
#   [host] br0 192.168.100.1/24, ip_forward=1, eth0 192.0.2.2/24
#      |     vnat load --iface br0 --snat 192.0.2.2 + vnat daemon
#   [outside] eth0 192.0.2.1/24 (no route back: only the NAT gets replies in)
#
# Two boots: br0 as seed 003 makes it (no address of its own, so it takes
# its first port's, the tap's, MAC when qemu starts), then br0 with a fixed
# MAC as libvirt makes it. Skips (exit 4) only when qemu or the kernel
# package cannot be had.
#
# Usage: guest.sh        (V=1 for all command output; VNAT=path to override)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib_bridge.sh
source "$(dirname "$0")/lib_bridge.sh"

GUEST_DIR=$REPO_ROOT/tools/guest
# qemu-ifup (run by qemu, in the host namespace) enslaves the tap to this.
export VNAT_GUEST_BRIDGE=br0
PINGS=10
UP_KIB=1024
DOWN_SIZE=$((1024 * 1024))
UP_PORT=5301
DOWN_PORT=5302
BOOT_TIMEOUT=${GUEST_BOOT_TIMEOUT:-50}
SLACK=4

require_root
require_cmd ip bridge ethtool ping socat bpftool python3 timeout ss sha256sum tcpdump
require_vnat
command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	skip_all "no qemu-system-x86_64 (apt-get install qemu-system-x86)"
[ -e /dev/net/tun ] || skip_all "no /dev/net/tun"

# ---------------------------------------------------------------- the guest

GUEST=$LIB_TMPDIR/guest
"$GUEST_DIR/mkguest.sh" "$GUEST" >"$LIB_TMPDIR/mkguest.log" 2>&1
rc=$?
if [ "$rc" -eq 4 ]; then
	skip_all "cannot build the guest: $(tail -n 1 "$LIB_TMPDIR/mkguest.log")"
elif [ "$rc" -ne 0 ]; then
	cat "$LIB_TMPDIR/mkguest.log"
	die "tools/guest/mkguest.sh failed"
fi
log_info "guest kernel: $(cat "$GUEST/kernel")"

# ---------------------------------------------------------------- topology

ns_create host outside
HOST=$(ns host) OUT=$(ns outside)
for n in "$HOST" "$OUT"; do
	must "no IPv6 in $n" in_ns "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
done
must "br0 192.168.100.1/24" br_create "$HOST" br0 192.168.100.1/24
must "uplink eth0 <-> outside" veth_pair "$HOST" eth0 "$OUT" eth0
must "host eth0 192.0.2.2/24" ip -n "$HOST" addr add 192.0.2.2/24 dev eth0
must "outside 192.0.2.1/24" ip -n "$OUT" addr add 192.0.2.1/24 dev eth0
must "host ip_forward=1" in_ns "$HOST" sysctl -qw net.ipv4.ip_forward=1
must "outside up" slowwait 5 link_up "$OUT" eth0
must "host -> outside" in_ns "$HOST" ping -q -c 1 -W 2 192.0.2.1
DOWN_FILE=$(make_random_file "$DOWN_SIZE") || die "random file"
DOWN_SHA=$(sha256sum <"$DOWN_FILE" | cut -d' ' -f1)
defer vnat_in "$HOST" unload --all

# ---------------------------------------------------------------- helpers

console_line()
{
	sed -n "s/.*VNAT-GUEST: $2/&/p" "$1" | head -n 1
}

console_has()
{
	grep -q "VNAT-GUEST: $2" "$1"
}

tap_exists()
{
	ip -n "$HOST" link show dev "$1" >/dev/null 2>&1
}

tap_has_xdp()
{
	ip -n "$HOST" -d link show dev "$1" | grep -q 'prog/xdp'
}

# boot NAME TAP MAC: run the guest on TAP with MAC; leaves the console in
# $CONSOLE and the upload in $UP_OUT. Checks the tap's attachment meanwhile.
boot()
{
	local name=$1 tap=$2 mac=$3 up_srv down_srv qemu

	UP_OUT=$LIB_TMPDIR/up.$name
	bg_in_ns up_srv "$OUT" socat -u TCP4-LISTEN:$UP_PORT,reuseaddr "CREATE:$UP_OUT"
	bg_in_ns down_srv "$OUT" socat -u "OPEN:$DOWN_FILE" TCP4-LISTEN:$DOWN_PORT,reuseaddr
	if ! slowwait 5 tcp_listening "$OUT" "$UP_PORT" ||
	   ! slowwait 5 tcp_listening "$OUT" "$DOWN_PORT"; then
		die "listeners in outside"
	fi
	# qemu runs in the host namespace, so its tap (and qemu-ifup) is there.
	bg_in_ns qemu "$HOST" timeout "$BOOT_TIMEOUT" \
		qemu-system-x86_64 -accel tcg -cpu max -m 256 -smp 1 -nographic -no-reboot \
		-kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 vnat.addr=192.168.100.2/24 vnat.gw=192.168.100.1 vnat.peer=192.0.2.1 vnat.pings=$PINGS vnat.up=$UP_PORT vnat.down=$DOWN_PORT vnat.kib=$UP_KIB" \
		-netdev "tap,id=n0,ifname=$tap,script=$GUEST_DIR/qemu-ifup,downscript=no" \
		-device "virtio-net-pci,netdev=n0,mac=$mac"
	# shellcheck disable=SC2154 # qemu_LOG is set by bg_in_ns
	CONSOLE=${qemu_LOG}
	if check "$name: qemu made the tap $tap" slowwait 20 tap_exists "$tap"; then
		check "$name: qemu-ifup enslaved $tap to br0" \
			slowwait 5 bash -c "ip -n '$HOST' link show dev '$tap' | grep -q 'master br0'"
		check "$name: the daemon attached $tap (tc path) within 3 s" \
			slowwait 3 status_has_port "$HOST" "$tap"
		check_fail "$name: no XDP on the tap (partial checksums need the tc path)" \
			tap_has_xdp "$tap"
	fi
	bg_wait_timeout "$BOOT_TIMEOUT" "$qemu"
	QEMU_RC=$?
	bg_wait_timeout 5 "$up_srv"
	bg_wait_timeout 2 "$down_srv"
	[ "$V" = 1 ] && sed 's/^/    console| /' "$CONSOLE"
	check_cmp "$name: qemu exited by itself (the guest powered off)" "$QEMU_RC" -eq 0
}

guest_checks()
{
	local name=$1 c=$CONSOLE up_sha got

	check "$name: the guest brought up eth0" console_has "$c" "eth0 "
	check "$name: the guest's $PINGS pings to 192.0.2.1 were answered" \
		console_has "$c" "ping ok $PINGS packets received"
	up_sha=$(sed -n 's/.*VNAT-GUEST: up-sha256 \([0-9a-f]*\).*/\1/p' "$c" | head -n 1)
	got=$( [ -f "$UP_OUT" ] && sha256sum <"$UP_OUT" | cut -d' ' -f1)
	check "$name: busybox nc upload reached outside intact (sha256)" \
		bash -c "[ -n '$up_sha' ] && [ '$up_sha' = '$got' ] && grep -q 'VNAT-GUEST: up sent' '$c'"
	check "$name: download arrived in the guest intact (sha256)" console_has "$c" "down-sha256 $DOWN_SHA"
	check "$name: the guest finished" console_has "$c" "powering off"
	if ! console_has "$c" "powering off"; then
		echo "    console of $name:"
		sed 's/^/    | /' "$c" | tail -n 30
	fi
}

# Which paths carried the guest's traffic: printed always, as a record.
report_paths()
{
	local name=$1 k=$2 s st d dt br fm

	# NAME! reads the XDP counter alone (counter() sums it with its tc twin).
	s=$(delta "$HOST" fwd_snat!) st=$(delta "$HOST" fwd_snat_tc)
	d=$(delta "$HOST" fwd_dnat!) dt=$(delta "$HOST" fwd_dnat_tc)
	fm=$(delta "$HOST" pass_fdb_miss) br=$(delta "$HOST" pass_mtu)
	echo "# $name: fwd_snat +$s fwd_snat_tc +$st fwd_dnat +$d fwd_dnat_tc +$dt pass_fdb_miss +$fm pass_mtu +$br kernel ForwDatagrams +$k"
	check_cmp "$name: outbound translated by vnat (fwd_snat + fwd_snat_tc = $((s + st)))" \
		$((s + st)) -ge $((PINGS - 2))
	check_cmp "$name: replies translated by vnat (fwd_dnat + fwd_dnat_tc = $((d + dt)))" \
		$((d + dt)) -ge $((PINGS - 2))
	check_cmp "$name: the upload's bytes were translated by vnat (snat bytes >= $((UP_KIB * 1024)))" \
		"$(delta "$HOST" fwd_snat bytes)" -ge $((UP_KIB * 1024))
	# tc egress SNAT of kernel-forwarded packets counts as fwd_snat_tc too:
	# the kernel's forwarding counter tells whether routing left the kernel.
	check_cmp "$name: the host's kernel forwarded <= $SLACK packets (+$k)" "$k" -le "$SLACK"
}

# The guest's TCP left the host with valid checksums: complete, or partial
# with the translated pseudo-header's sum (virtio-net hands the host
# CHECKSUM_PARTIAL frames, and the host's veth uplink keeps tx offload).
pcap_tcp_csum_ok()
{
	local all

	all=$(pcap_count "$1" tcp)
	echo "TCP segments at outside: $all"
	[ "$all" -ge 1 ] && python3 -c "$PCAP_CSUM_PY" "$1"
}

pcap_all_src()
{
	local all good

	all=$(pcap_count "$1")
	good=$(pcap_count "$1" "src host $2")
	echo "captured: $all, from $2: $good"
	[ "$all" -ge 1 ] && [ "$all" -eq "$good" ]
}

run_guest()
{
	local name=$1 tap=$2 mac=$3 k0 k1

	must "snapshot" snap "$HOST"
	must "capture at outside" capture_start CAP "$OUT" eth0 'dst host 192.0.2.1 and (icmp or tcp)'
	k0=$(kernel_fwd_count "$HOST")
	boot "$name" "$tap" "$mac"
	k1=$(kernel_fwd_count "$HOST")
	capture_stop "$CAP"
	guest_checks "$name"
	check "$name: outside saw only the SNAT address 192.0.2.2" pcap_all_src "$CAP_PCAP" 192.0.2.2
	check "$name: the guest's TCP arrived at outside with valid checksums" \
		pcap_tcp_csum_ok "$CAP_PCAP"
	report_paths "$name" $((k1 - k0))
	check "$name: the tap's port was released after qemu exited" slowwait 3 status_lacks "$HOST" "$tap"
}

# ---------------------------------------------------------------- boot 1: seed 003's br0

test_group "guest: seed 003 bridge"
check_rc 0 "load --iface br0 --snat 192.0.2.2" vnat_in "$HOST" load --iface br0 --snat 192.0.2.2 ||
	die "vnat load failed"
bg_in_ns DAEMON "$HOST" "$VNAT" daemon
run_guest boot1 vnet0 52:54:00:12:34:56
check_rc 0 "unload --all" vnat_in "$HOST" unload --all
bg_wait_timeout 5 "$DAEMON"

# ---------------------------------------------------------------- boot 2: fixed bridge MAC

test_group "guest: libvirt-style bridge"
must "br0 gets a fixed MAC (as libvirt sets virbr0's)" ip -n "$HOST" link set br0 address 52:54:00:aa:bb:01
check_rc 0 "load --iface br0 --snat 192.0.2.2" vnat_in "$HOST" load --iface br0 --snat 192.0.2.2 ||
	die "vnat load failed"
bg_in_ns DAEMON "$HOST" "$VNAT" daemon
run_guest boot2 vnet1 52:54:00:12:34:57
check_rc 0 "unload --all" vnat_in "$HOST" unload --all
bg_wait_timeout 5 "$DAEMON"

exit_summary
