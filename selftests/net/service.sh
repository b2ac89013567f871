#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# service.sh - vnat daemon as a service runs it: started by an `ip netns
# exec` whose process exits at once (as a unit or a libvirt hook starts it),
# one per network namespace, SIGHUP applies the configuration, SIGTERM ends
# it promptly, pins of deleted namespaces are removed (at the daemon's start
# and by unload --stale), and a managed bridge deleted and created again
# (libvirt's net-destroy / net-start) is re-attached with its port:
#
#   [g1] 192.0.2.10 eth0 -- vnet0 --br0 192.0.2.1  [host]  up0 198.51.100.1 -- eth0 198.51.100.2 [up]
#
# Loaded with --hook tc (no XDP on the guests' veths: no offload tuning).
#
# Usage: service.sh        (V=1 for all command output)

set -u

# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ping python3 timeout
require_vnat

ns_create host g1 up
HOST=$(ns host) G1=$(ns g1) UP=$(ns up)
DAEMON_LOG=$LIB_TMPDIR/daemon.log
CONF=$LIB_TMPDIR/vnat.conf
GONE=()

# ---------------------------------------------------------------- helpers

# A namespace this script deletes itself, with vnat loaded in it.
gone_ns_with_vnat()
{
	local n="gone$1-$NS_SUFFIX"

	ip netns add "$n" || return 1
	GONE+=("$n")
	ip -n "$n" link add x0 type veth peer name x1 &&
		ip -n "$n" link set x0 up && ip -n "$n" link set x1 up &&
		vnat_in "$n" load --iface x0 --hook tc >/dev/null || return 1
	GONE_DIR=/sys/fs/bpf/vnat/netns-$(ns_inode "$n")
	[ -d "$GONE_DIR" ] && ip netns del "$n"
}

remove_gone()
{
	local n

	for n in "${GONE[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	return 0
}

pid_alive()
{
	[ -d "/proc/$1" ] && ! lib_pid_gone "$1"
}

# Not our child (its parent exited): stopped by PID, waited for by polling.
stop_pid()
{
	[ -n "${1:-}" ] || return 0
	kill -TERM "$1" 2>/dev/null
	slowwait 5 lib_pid_gone "$1" || kill -KILL "$1" 2>/dev/null
	return 0
}

# The daemon as a service starts it: ip netns exec runs a shell that starts
# it in the background and exits; by the time vnat runs, its parent is gone.
start_orphan_daemon()
{
	local pidfile=$LIB_TMPDIR/daemon.pid

	rm -f "$pidfile"
	ip netns exec "$HOST" sh -c \
		'(sleep 0.5; exec "$1" daemon --config "$2" >>"$3" 2>&1) </dev/null & echo $! >"$4"' \
		sh "$VNAT" "$CONF" "$DAEMON_LOG" "$pidfile" || return 1
	DAEMON=$(cat "$pidfile")
	defer stop_pid "$DAEMON"
	slowwait 10 grep -q "pid $DAEMON following" "$DAEMON_LOG"
}

parent_exited()
{
	local ppid

	ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$DAEMON/status")
	echo "daemon $DAEMON, parent $ppid"
	[ "$ppid" != "$$" ] && ! pgrep -P "$$" -x sh | grep -qx "$ppid"
}

log_has()
{
	grep -q -- "$1" "$DAEMON_LOG"
}

iface_json()
{
	vnat_status_json "$HOST" | json_get "next((i for i in d['interfaces'] if i['name'] == '$1'), None)"
}

# NAME has vnat's tc filters at ifindex IFINDEX (the kernel's own ids).
attached_at()
{
	local js=$1 ifindex=$2

	js=$(iface_json "$1") || return 1
	echo "$js"
	python3 -c '
import json, sys
i = json.loads(sys.argv[1])
sys.exit(0 if i and i["ifindex"] == int(sys.argv[2]) and i["tc"]["ingress"] and i["tc"]["egress"] else 1)' "$js" "$ifindex"
}

ifindex_of()
{
	ip -n "$1" -j link show dev "$2" | json_get 'd[0]["ifindex"]'
}

fast_pathed()
{
	local before after

	before=$(fast_fwd_count "$HOST") || return 1
	in_ns "$G1" ping -q -c 10 -i 0.05 -W 1 198.51.100.2 || return 1
	after=$(fast_fwd_count "$HOST") || return 1
	echo "fast-path forwards: $before -> $after"
	[ "$after" -ge $((before + 20)) ]
}

bridge_recreated()
{
	ip -n "$HOST" link del br0 && bridge_created
}

bridge_created()
{
	ip -n "$HOST" link add br0 type bridge stp_state 0 &&
		ip -n "$HOST" link set vnet0 master br0 &&
		ip -n "$HOST" addr add 192.0.2.1/24 dev br0 &&
		ip -n "$HOST" link set br0 up
}

sigterm_prompt()
{
	local t0 t1

	t0=${EPOCHREALTIME//[!0-9]/}
	kill -TERM "$DAEMON" || return 1
	slowwait 3 lib_pid_gone "$DAEMON" || return 1
	t1=${EPOCHREALTIME//[!0-9]/}
	echo "exited $(((t1 - t0) / 1000)) ms after SIGTERM"
	[ $((t1 - t0)) -lt 1500000 ]
}

# health_is NS RC PATTERN: status exits RC and its first line matches PATTERN.
health_is()
{
	local rc=0 out

	out=$(vnat_in "$1" status) || rc=$?
	echo "$out" | head -1
	echo "exit $rc"
	[ "$rc" = "$2" ] && head -1 <<<"$out" | grep -Eq -- "$3"
}

# Without capabilities (uid 0 with an empty bounding set): exactly one line.
unprivileged_says()
{
	local out rc=0

	out=$(ip netns exec "$HOST" setpriv --bounding-set=-all --inh-caps=-all "$VNAT" "$@" 2>&1) ||
		rc=$?
	echo "$out (exit $rc)"
	[ "$rc" = 1 ] && [ "$out" = "vnat: needs root (CAP_BPF, CAP_NET_ADMIN)" ]
}

# ---------------------------------------------------------------- topology

defer remove_gone
must "bridge br0" ip -n "$HOST" link add br0 type bridge stp_state 0
must "br0 up" ip -n "$HOST" link set br0 up
must "br0 address" ip -n "$HOST" addr add 192.0.2.1/24 dev br0
must "g1 <-> vnet0" veth_pair "$G1" eth0 "$HOST" vnet0
must "vnet0 in br0" ip -n "$HOST" link set vnet0 master br0
must "up0 <-> up" veth_pair "$HOST" up0 "$UP" eth0
must "up0 address" ip -n "$HOST" addr add 198.51.100.1/24 dev up0
must "g1 address" ip -n "$G1" addr add 192.0.2.10/24 dev eth0
must "g1 route" ip -n "$G1" route add default via 192.0.2.1
must "up address" ip -n "$UP" addr add 198.51.100.2/24 dev eth0
must "up route" ip -n "$UP" route add 192.0.2.0/24 via 198.51.100.1
must "host forwards" in_ns "$HOST" sysctl -qw net.ipv4.ip_forward=1
must "kernel path works" slowwait 10 in_ns "$G1" ping -c 1 -W 1 198.51.100.2

# ---------------------------------------------------------------- checks

test_group stale-at-start
must "a namespace deleted with vnat loaded" gone_ns_with_vnat 1
check "its pins stayed behind" test -d "$GONE_DIR"
GONE1=$GONE_DIR

test_group daemon
must "load br0 and up0 (tc)" vnat_in "$HOST" load --iface br0 --iface up0 --hook tc
defer vnat_in "$HOST" unload --all
check "started by an ip netns exec that exited, it finds the pins" start_orphan_daemon
check "its parent is gone" parent_exited
check "traffic fast-pathed" fast_pathed

test_group health
check "status: healthy, the daemon's pid, exit 0" \
	health_is "$HOST" 0 "^health: ok: 3 interfaces attached, daemon running \\(pid $DAEMON\\)"
check "status -j: health" json_eq "$(vnat_status_json "$HOST")" \
	"[d['health'][k] for k in ('ok', 'daemon_pid', 'detached', 'warnings')]" \
	"[true, $DAEMON, [], []]"

test_group stale-at-start
check "the daemon removed the deleted namespace's pins at start" test ! -e "$GONE1"
check "and said so" log_has "removed $GONE1"
check "this namespace's pins stay" test -d "/sys/fs/bpf/vnat/netns-$(ns_inode "$HOST")"

test_group lock
check_fail "a second daemon is refused" vnat_in "$HOST" daemon
check "it names the first one's pid" grep -q "another vnat daemon (pid $DAEMON)" "$RUN_ERR"
check "the first one runs on" pid_alive "$DAEMON"
check "daemon --once runs beside it" vnat_in "$HOST" daemon --once

test_group sighup
check "SIGHUP delivered" kill -HUP "$DAEMON"
check "SIGHUP applies the configuration" slowwait 5 log_has "SIGHUP: applying $CONF"
check "the daemon survives SIGHUP" pid_alive "$DAEMON"

test_group bridge-recreated
OLD_BR=$(ifindex_of "$HOST" br0)
check "br0 deleted and created again, vnet0 enslaved again" bridge_recreated
NEW_BR=$(ifindex_of "$HOST" br0)
check_cmp "a new ifindex" "$NEW_BR" -ne "$OLD_BR"
check "br0 re-attached at its new ifindex" slowwait 10 attached_at br0 "$NEW_BR"
check "vnet0 attached again as its port" slowwait 10 attached_at vnet0 "$(ifindex_of "$HOST" vnet0)"
check "the daemon said so" log_has "br0: created again"
check "no stale br0 row" test "$(vnat_status_json "$HOST" | json_get "len([i for i in d['interfaces'] if i['name'] == 'br0'])")" = 1
check "traffic fast-pathed again" slowwait 10 fast_pathed

test_group stale
must "another namespace deleted with vnat loaded" gone_ns_with_vnat 2
check "its pins stayed behind" test -d "$GONE_DIR"
check "unload --stale" vnat_in "$HOST" unload --stale
check "removed them" test ! -e "$GONE_DIR"
check "and left this namespace's" test -d "/sys/fs/bpf/vnat/netns-$(ns_inode "$HOST")"
check "unload --stale again: nothing to do" vnat_in "$HOST" unload --stale
check "says so" grep -q "no stale pins" "$RUN_OUT"

test_group sigterm
check "SIGTERM ends the daemon promptly" sigterm_prompt
check "the datapath stays loaded, healthy, the daemon missing said" \
	health_is "$HOST" 0 "^health: ok: 3 interfaces attached, warning: daemon not running"

test_group health
check "br0 deleted with no daemon" ip -n "$HOST" link del br0
check "status: unhealthy, br0 named, exit 1" health_is "$HOST" 1 "^health: UNHEALTHY: br0 detached"
RC=0
JS=$(vnat_status_json "$HOST") || RC=$?
check_cmp "status -j exits 1 when unhealthy" "$RC" -eq 1
check "status -j names br0 as detached" json_eq "$JS" "[d['health']['ok'], d['health']['detached']]" \
	'[false, ["br0"]]'
check "br0 created again, vnet0 in it" bridge_created
bg_in_ns DAEMON2 "$HOST" "$VNAT" daemon
check "a daemon started now re-attaches br0: healthy again" \
	slowwait 10 health_is "$HOST" 0 "^health: ok: 3 interfaces attached, daemon running"
check "traffic fast-pathed again" slowwait 10 fast_pathed

test_group health-warnings
must "a bridge without ports" ip -n "$HOST" link add br9 type bridge
must "br9 up" ip -n "$HOST" link set br9 up
check "loaded all the same" vnat_in "$HOST" load --iface br9 --hook tc
check "status: still healthy (exit 0), the warning counted on the health line" \
	health_is "$HOST" 0 "^health: ok: 4 interfaces attached, daemon running .*, 1 warning \\(below\\)"
check "status -j: the warning under health" json_eq "$(vnat_status_json "$HOST")" \
	"[w for w in d['health']['warnings'] if 'br9' in w] != []" true
check "unload br9" vnat_in "$HOST" unload --iface br9
check "no warning left" health_is "$HOST" 0 "^health: ok: 3 interfaces attached, daemon running \\(pid [0-9]+\\)$"

test_group health
check "SIGTERM stops it" kill -TERM "$DAEMON2"
check "with exit 0" bg_wait_timeout 3 "$DAEMON2"

test_group privileges
for cmd in status conns "unload --all" "unload --stale" "load --iface up0" daemon; do
	# shellcheck disable=SC2086
	check "$cmd without capabilities: 'needs root' in one line" unprivileged_says $cmd
done
check "and changed nothing" health_is "$HOST" 0 "^health: ok: 3 interfaces attached"

exit_summary
