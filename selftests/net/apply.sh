#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# apply.sh - the configuration file and vnat apply, and the systemd unit's
# command lines run by hand (systemd is not PID 1 here):
#
#   [g1] 192.168.122.10 eth0 -- vnet0 --br0 192.168.122.1  [host]  up0 198.51.100.1 -- eth0 198.51.100.2 [up]
#                                        br1 192.0.2.1 (a routed network)
#
# up has no route back to 192.168.122.0/24: only translated traffic works.
# Loaded with --hook tc (no offload tuning on the endpoints). Checks: apply
# loads, twice is a no-op, a changed port range and TCP timeout apply live
# with an established TCP connection still moving, what cannot change live
# is refused and changes nothing, a network removed from the file is
# unloaded, an interface loaded by hand is left alone, and the unit's
# ExecStartPre/ExecStart/ExecReload lines do what the unit says.
#
# Usage: apply.sh        (V=1 for all command output)

set -u

# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib_nat.sh"

require_root
require_cmd ip socat python3 timeout ss sha256sum
require_vnat

ns_create host g1 up
HOST=$(ns host) G1=$(ns g1) UP=$(ns up)
CONF=$LIB_TMPDIR/vnat.conf
SNAT=198.51.100.1
PUB=198.51.100.2

# ---------------------------------------------------------------- helpers

# write_conf PORTS TCP_TIMEOUT [EXTRA...]: the file, with lines appended.
write_conf()
{
	local ports=$1 tcp=$2 l

	shift 2
	{
		echo "# apply.sh"
		echo "[network default]"
		echo "iface = br0"
		echo "snat = $SNAT"
		echo "ports = $ports"
		echo "tcp-timeout = $tcp"
		echo "hook = tc"
		for l in "$@"; do
			echo "$l"
		done
	} >"$CONF"
}

apply()
{
	vnat_in "$HOST" apply "$CONF"
}

status_js()
{
	vnat_status_json "$HOST"
}

# managed_set: the managed interfaces' names, sorted, space-separated.
managed_set()
{
	status_js | json_get "' '.join(sorted(i['name'] for i in d['interfaces']))"
}

managed_is()
{
	local got

	got=$(managed_set) || return 1
	echo "managed: $got (want $1)"
	[ "$got" = "$1" ]
}

# What identifies this load: interfaces with their program ids, the config.
load_fingerprint()
{
	status_js | json_get "[sorted((i['name'], i['tc']['ingress'], i['tc']['egress']) for i in d['interfaces']), d['config']]"
}

config_is()
{
	json_eq "$(status_js)" "[d['config'][k] for k in ('port_min', 'port_max', 'timeout_tcp', 'snat', 'max_flows')]" "$1"
}

# only_line FILE PATTERN: FILE (a run's stderr) is one line matching PATTERN.
only_line()
{
	local lines

	lines=$(wc -l <"$1")
	cat "$1"
	[ "$lines" = 1 ] && grep -q -- "$2" "$1"
}

alive()
{
	! lib_pid_gone "$1"
}

unit_for_build()
{
	sed "s|@SBINDIR@|$(dirname "$VNAT")|g; s|@SYSCONFDIR@|/etc|g" \
		"$REPO_ROOT/tools/systemd/vnat.service" >"$LIB_TMPDIR/vnat.service"
}

unit_line()
{
	sed -n "s|^$1=||p" "$LIB_TMPDIR/vnat.service"
}

log_has()
{
	grep -q -- "$1" "$2"
}

# ---------------------------------------------------------------- topology

must "bridge br0" ip -n "$HOST" link add br0 type bridge stp_state 0
must "br0 up" ip -n "$HOST" link set br0 up
must "br0 address" ip -n "$HOST" addr add 192.168.122.1/24 dev br0
must "bridge br1" ip -n "$HOST" link add br1 type bridge stp_state 0
must "br1 up" ip -n "$HOST" link set br1 up
must "br1 address" ip -n "$HOST" addr add 192.0.2.1/24 dev br1
must "g1 <-> vnet0" veth_pair "$G1" eth0 "$HOST" vnet0
must "vnet0 in br0" ip -n "$HOST" link set vnet0 master br0
must "up0 <-> up" veth_pair "$HOST" up0 "$UP" eth0
must "up0 address" ip -n "$HOST" addr add "$SNAT/24" dev up0
must "a veth pair loaded by hand" ip -n "$HOST" link add man0 type veth peer name man1
must "man0 up" ip -n "$HOST" link set man0 up
must "man1 up" ip -n "$HOST" link set man1 up
must "g1 address" ip -n "$G1" addr add 192.168.122.10/24 dev eth0
must "g1 route" ip -n "$G1" route add default via 192.168.122.1
must "up address" ip -n "$UP" addr add "$PUB/24" dev eth0
must "host forwards" in_ns "$HOST" sysctl -qw net.ipv4.ip_forward=1
must "the outside answers (port 7000)" peer_server_tcp PEER "$UP" 7000
defer vnat_in "$HOST" unload --all

# ---------------------------------------------------------------- checks

test_group config-errors
printf '[network default]\niface = br0\nports = 3000-2000\nsnat = %s\n' "$SNAT" >"$CONF"
check_fail "a bad port range is refused" apply
check "in one line naming file, network and value" only_line "$RUN_ERR" "$CONF: \\[network default\\]: load: --ports '3000-2000'"
check "and nothing was loaded" json_eq "$(status_js)" "d['loaded']" false
check_fail "a missing file is refused" vnat_in "$HOST" apply "$LIB_TMPDIR/none.conf"
check "saying so in one line" only_line "$RUN_ERR" "none.conf: No such file"

test_group apply
write_conf 20000-20099 7440
check "apply loads the network and its uplink" apply
check "br0, vnet0 and up0 managed" managed_is "br0 up0 vnet0"
check "the file's NAT options" config_is "[20000, 20099, 7440, \"$SNAT\", 65536]"
check "a new connection leaves with a port in 20000-20099" outside_port_in "$G1" "$PUB" "$SNAT" 20000 20099
FP=$(load_fingerprint)
check "apply twice" apply
check "says nothing to change" grep -q "apply: nothing to change" "$RUN_OUT"
check "the same programs, the same configuration" test "$(load_fingerprint)" = "$FP"

test_group apply-live
FILE=$(make_random_file $((3 * 1024 * 1024)))
RECV=$LIB_TMPDIR/recv.live
bg_in_ns RCV "$UP" socat -u TCP4-LISTEN:7001,reuseaddr "CREATE:$RECV"
must "receiver listening" slowwait 5 tcp_listening "$UP" 7001
slow_sender SND "$G1" connect "$PUB" 7001 "$FILE" $((512 * 1024))
must "the transfer is under way" slowwait 10 grown_to "$RECV" $((256 * 1024))
LIVE_OUT=$(conn_field "$HOST" tcp "192.168.122.10:$(in_ns "$G1" ss -Htn state established "dport = :7001" | awk '{ print $3 }' | sed 's/.*://')" outside "$PUB:7001")
check "the connection is translated to a port in 20000-20099" \
	bash -c "p=${LIVE_OUT##*:}; [ \"\${p:-0}\" -ge 20000 ] && [ \"\$p\" -le 20099 ]"
write_conf 30000-30099 3600
check "apply: a new port range and TCP timeout" apply
check "said what changed live" grep -q "NAT options changed live (ports 30000-30099" "$RUN_OUT"
check "the running configuration has them" config_is "[30000, 30099, 3600, \"$SNAT\", 65536]"
check "the same programs (nothing reloaded)" test "$(load_fingerprint | json_get 'd[0]')" = \
	"$(json_get 'd[0]' <<<"$FP")"
SIZE_AT_APPLY=$(file_size "$RECV")
check "the established connection keeps moving" slowwait 10 grown_to "$RECV" $((SIZE_AT_APPLY + 512 * 1024))
check "and completes intact" bg_wait_timeout 20 "$SND"
check "received all of it" bg_wait_timeout 10 "$RCV"
check "the same bytes" same_content "$FILE" "$RECV"
check "a new connection takes a port in 30000-30099" outside_port_in "$G1" "$PUB" "$SNAT" 30000 30099

test_group apply-refused
FP=$(load_fingerprint)
write_conf 30000-30099 3600 "max-flows = 1024"
check_fail "max-flows cannot change live" apply
check "refused in one line with the reason" only_line "$RUN_ERR" "max-flows cannot change live (it sizes the flow tables"
sed -i "s/^snat = .*/snat = 198.51.100.7/; /max-flows/d" "$CONF"
must "198.51.100.7 on up0" ip -n "$HOST" addr add 198.51.100.7/24 dev up0
check_fail "the SNAT address cannot change live" apply
check "refused in one line with the reason" only_line "$RUN_ERR" "the SNAT address cannot change live"
check "nothing changed" test "$(load_fingerprint)" = "$FP"

test_group apply-networks
must "load man0 by hand" vnat_in "$HOST" load --iface man0 --hook tc
write_conf 30000-30099 3600 "[network lab]" "iface = br1" "hook = tc"
check "apply adds a routed network" apply
check "br1 managed, routed" json_eq "$(status_js)" "next(i['role'] for i in d['interfaces'] if i['name'] == 'br1')" routed
check "the others stay" managed_is "br0 br1 man0 up0 vnet0"
write_conf 30000-30099 3600
check "apply without it" apply
check "br1 unloaded, man0 (loaded by hand) left alone" managed_is "br0 man0 up0 vnet0"
check "traffic still translated" outside_port_in "$G1" "$PUB" "$SNAT" 30000 30099
write_conf 30000-30099 3600 "[network nat2]" "iface = br1" "snat = $SNAT" "ports = 30000-30099" \
	"tcp-timeout = 3600" "hook = tc"
check "apply adds a second NAT network (sharing the uplink)" apply
check "br1 managed, inside" json_eq "$(status_js)" "next(i['role'] for i in d['interfaces'] if i['name'] == 'br1')" inside
write_conf 30000-30099 3600
check "apply without it" apply
check "br1 unloaded, the uplink kept for the first" managed_is "br0 man0 up0 vnet0"
check "traffic still translated" outside_port_in "$G1" "$PUB" "$SNAT" 30000 30099
must "unload man0" vnat_in "$HOST" unload --iface man0
printf '[network lab]\niface = br1\nhook = tc\n' >"$CONF"
check "apply without any NAT network" apply
check "the NAT network and its uplink unloaded, the routed one loaded" managed_is "br1"
write_conf 30000-30099 3600 "[network lab]" "iface = br1" "hook = tc"
check_fail "NAT again beside a routed network that stayed" apply
check "refused in one line: one NAT configuration, fixed at the first load" only_line "$RUN_ERR" \
	"NAT cannot change live (vnat runs here without NAT)"
check "nothing changed" managed_is "br1"

test_group unit
must "the unit, for this build" unit_for_build
must "unload everything first" vnat_in "$HOST" unload --all
write_conf 30000-30099 3600
PRE=$(unit_line ExecStartPre)
START=$(unit_line ExecStart)
RELOAD=$(unit_line ExecReload)
export VNAT_CONF=$CONF
# shellcheck disable=SC2086 # the unit's command lines, word-split as systemd does
check "ExecStartPre ($PRE) loads the configuration" in_ns "$HOST" $PRE
check "what the file says" managed_is "br0 up0 vnet0"
# shellcheck disable=SC2086
bg_in_ns MAINPID "$HOST" $START
check "ExecStart ($START) runs the daemon" slowwait 10 log_has "following" "$MAINPID_LOG"
write_conf 40000-40099 3600
RELOAD=${RELOAD//\$MAINPID/$MAINPID}
# shellcheck disable=SC2086
check "ExecReload ($RELOAD)" $RELOAD
check "the daemon applied the edited file" slowwait 10 log_has "NAT options changed live (ports 40000-40099" "$MAINPID_LOG"
check "and runs on" alive "$MAINPID"
check "new connections take a port in 40000-40099" outside_port_in "$G1" "$PUB" "$SNAT" 40000 40099
write_conf 40000-40099 3600 "bogus = 1"
# shellcheck disable=SC2086
check "a reload with a broken file" $RELOAD
check "is logged" slowwait 10 log_has "not applied; running as before" "$MAINPID_LOG"
check "and the daemon runs on" alive "$MAINPID"
check "stop: SIGTERM" kill -TERM "$MAINPID"
check "the daemon exits 0" bg_wait_timeout 3 "$MAINPID"
check "the datapath stays (a restart keeps guests' connections)" managed_is "br0 up0 vnet0"
# shellcheck disable=SC2086
check_fail "ExecStartPre with a broken file fails the start" in_ns "$HOST" $PRE
unset VNAT_CONF

exit_summary
