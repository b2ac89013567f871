# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib.sh - shared helpers for the vnat network namespace scenarios.
# Source it from a scenario script; it never touches the root network
# namespace (its interfaces, routes, sysctls or firewall).
#
# Environment
#   VNAT   path of the vnat binary (default: <repo>/build/vnat)
#   V=1    show every command and its output; otherwise output is captured
#          and shown only when a check fails
#
# Namespaces
#   ns_create NAME...       creates "NAME-<suffix>" for each NAME and sets
#                           NS_<NAME> to the full name (NAME: [A-Za-z0-9_]).
#                           The suffix ($NS_SUFFIX, 6 hex digits) is drawn once
#                           per script. Only these namespaces are ever deleted.
#                           Each gets lo up.
#   ns NAME                 prints the full name of logical namespace NAME
#   ns_inode NS             the namespace's inode (vnat's pin_dir netns-<inode>)
#   veth_pair NS1 IF1 NS2 IF2   veth pair created directly between two namespaces
#   in_ns NS CMD...         ip netns exec NS CMD...   (private mount ns, new /sys)
#   nsenter_ns NS CMD...    nsenter --net=/run/netns/NS CMD...  (root mount ns)
#   prepare_xdp_peer NS IF  GRO on, tx csum off: only for --hook xdp tests (hook.sh)
#
# Guests on a bridge, endpoints exactly as the kernel and a hypervisor make
# them (nothing tuned). Each makes namespace NAME (ns_create), its eth0
# with ADDR/LEN, default route via GW (none if GW is empty), ip_forward=0,
# and PORT, a port of BRIDGE in HOST_NS, up.
#   veth_guest_add NAME HOST_NS BRIDGE PORT ADDR/LEN GW
#                           eth0 is a veth whose peer is PORT (tx checksum
#                           offload and TSO on, GRO off)
#   tap_guest_add NAME HOST_NS BRIDGE PORT ADDR/LEN GW
#                           PORT and eth0 are taps joined by vnet-relay
#                           ($VNET_RELAY), a virtio guest as qemu/vhost make
#                           it: vnet headers, partial checksums, GSO. The
#                           relay is a bg_in_ns PID (stopped at cleanup).
#   tap_guest_stats NAME    the relay's counts now: "seq N", then
#                           "guest_to_host frames=N bytes=N gso=N
#                           needs_csum=N bad=N write_errors=N dropped_down=N
#                           max_frame=N" and the same for host_to_guest
#   tap_guest_stat NAME DIR FIELD  one count of those (DIR guest_to_host or
#                           host_to_guest), e.g. tap_guest_stat g1 guest_to_host gso
#
# Cleanup (trap EXIT, also on INT/TERM): defer-ed hooks in reverse order,
# then the PIDs started by bg_in_ns, then the namespaces made by ns_create,
# then the scratch directory. Nothing else.
#   defer CMD...            run CMD at cleanup (e.g. vnat unload --all)
#   bg_in_ns VAR NS CMD...  start CMD in NS in the background, PID in $VAR
#   bg_wait PID             reap a background PID (returns its exit status)
#   bg_wait_timeout SECS PID  the same, sending SIGTERM after SECS
#
# Checks: every check prints "PASS|FAIL|SKIP: <group>: <description>"
#   test_group NAME         sets <group> (default: script name without .sh)
#   run CMD...              runs CMD; stdout/stderr files in $RUN_OUT/$RUN_ERR,
#                           exit status in $RUN_RC (and returned)
#   check DESC CMD...       PASS if CMD exits 0
#   check_rc RC DESC CMD... PASS if CMD exits with RC
#   check_fail DESC CMD...  PASS if CMD exits non-zero
#   check_cmp DESC A OP B   PASS if [ A OP B ] (numeric -eq -le ... or = !=)
#   log_pass/log_fail/log_skip DESC [DETAIL...]
#   must DESC CMD...        set-up step: on failure log FAIL and abort
#   skip_all REASON         nothing can run here: exit 4 (KSFT_SKIP)
#   exit_summary            print the summary and exit 0 (all passed),
#                           1 (any failure) or 4 (only skips)
#   slowwait SECS CMD...    poll CMD every 0.1 s until it succeeds
#
# vnat and traffic (every command bounded by CMD_TIMEOUT seconds)
#   vnat_in NS ARGS...      $VNAT ARGS through ip netns exec
#   vnat_nsenter NS ARGS... $VNAT ARGS through nsenter --net (the other mode)
#   vnat_status_json NS     vnat status -j inside NS (ip netns exec)
#   counter NS NAME         packets of counter NAME from vnat status -j
#   fast_fwd_count NS       packets of fwd_routed + fwd_same_segment + fwd_routed_tc
#   kernel_fwd_count NS     Ip ForwDatagrams of NS from /proc/net/snmp
#   json_get EXPR           evaluate python EXPR over d = json from stdin
#   json_eq JSON EXPR WANT  json_get EXPR of JSON is WANT (both printed)
#   vnat_counter_names      counter names from enum vnat_stat (include/vnat.h)
#   make_random_file BYTES  prints the path of a new random file
#   tcp_transfer SRC DST ADDR PORT FILE   socat FILE from SRC to DST, sha256 compared
#
# Needs: bash >= 5, iproute2, ethtool, util-linux (nsenter), coreutils,
# python3 (JSON; no jq), socat; bpftool and ping in the scenarios.

# Sourced twice (a topology file sources it too): keep the first state.
[ -n "${VNAT_LIB_LOADED:-}" ] && return 0
VNAT_LIB_LOADED=1

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$LIB_DIR/../.." && pwd)
VNAT=${VNAT:-$REPO_ROOT/build/vnat}
VNET_RELAY=${VNET_RELAY:-$REPO_ROOT/build/tools/vnet-relay}
V=${V:-0}

readonly KSFT_PASS=0 KSFT_FAIL=1 KSFT_SKIP=4

# Seconds allowed for any single vnat/tool command run through the helpers.
CMD_TIMEOUT=${CMD_TIMEOUT:-60}

TEST_SCRIPT=$(basename "$0" .sh)
TEST_GROUP=$TEST_SCRIPT
NUM_PASS=0
NUM_FAIL=0
NUM_SKIP=0
LIB_SUMMARY_DONE=0
LIB_IN_CLEANUP=0

NS_SUFFIX=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
LIB_NAMESPACES=()
LIB_PIDS=()
LIB_HOOKS=()
LIB_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/vnat-test.XXXXXX") || {
	echo "lib.sh: mktemp failed" >&2
	exit "$KSFT_FAIL"
}
LIB_RUN_SEQ=0
# The script's own stdout/stderr: a signal can arrive while run() has them
# redirected into capture files, and the cleanup must still be seen.
exec {LIB_STDOUT}>&1 {LIB_STDERR}>&2
RUN_OUT=/dev/null
RUN_ERR=/dev/null
RUN_RC=0

# ---------------------------------------------------------------- logging

test_group()
{
	TEST_GROUP=$1
}

log_info()
{
	[ "$V" = 1 ] && echo "# $*"
	return 0
}

# Indent captured output so it stands apart from the result lines.
lib_show_file()
{
	local label=$1 file=$2

	[ -s "$file" ] || return 0
	echo "    $label:"
	sed 's/^/    | /' "$file"
}

lib_show_last_run()
{
	echo "    command: ${RUN_CMD:-?} (exit $RUN_RC)"
	lib_show_file stdout "$RUN_OUT"
	lib_show_file stderr "$RUN_ERR"
}

log_pass()
{
	NUM_PASS=$((NUM_PASS + 1))
	echo "PASS: $TEST_GROUP: $1"
}

log_fail()
{
	local d

	NUM_FAIL=$((NUM_FAIL + 1))
	echo "FAIL: $TEST_GROUP: $1"
	shift
	for d in "$@"; do
		echo "    $d"
	done
}

log_skip()
{
	NUM_SKIP=$((NUM_SKIP + 1))
	echo "SKIP: $TEST_GROUP: $1${2:+ ($2)}"
}

# ---------------------------------------------------------------- running

# run CMD... : run CMD (a function or a program) with its output captured in
# fresh files, so an earlier result stays readable while later checks run.
run()
{
	LIB_RUN_SEQ=$((LIB_RUN_SEQ + 1))
	RUN_OUT=$LIB_TMPDIR/run.$LIB_RUN_SEQ.out
	RUN_ERR=$LIB_TMPDIR/run.$LIB_RUN_SEQ.err
	RUN_CMD="$*"
	"$@" >"$RUN_OUT" 2>"$RUN_ERR"
	RUN_RC=$?
	if [ "$V" = 1 ]; then
		# After the fact rather than through tee: CMD runs in this shell,
		# so variables it sets stay set, and nothing waits on a pipe.
		echo "+ $* (exit $RUN_RC)"
		lib_show_file stdout "$RUN_OUT"
		lib_show_file stderr "$RUN_ERR"
	fi
	return "$RUN_RC"
}

check()
{
	local desc=$1

	shift
	if run "$@"; then
		log_pass "$desc"
		return 0
	fi
	log_fail "$desc"
	lib_show_last_run
	return 1
}

check_rc()
{
	local want=$1 desc=$2

	shift 2
	run "$@"
	if [ "$RUN_RC" -eq "$want" ]; then
		log_pass "$desc"
		return 0
	fi
	log_fail "$desc" "expected exit $want"
	lib_show_last_run
	return 1
}

check_fail()
{
	local desc=$1

	shift
	if ! run "$@"; then
		log_pass "$desc"
		return 0
	fi
	log_fail "$desc" "expected a non-zero exit"
	lib_show_last_run
	return 1
}

# check_cmp DESC A OP B: an empty or non-numeric operand of a numeric OP is a
# failure (test(1) would also say so), never a silent pass.
check_cmp()
{
	local desc=$1 a=$2 op=$3 b=$4

	if test "$a" "$op" "$b" 2>/dev/null; then
		log_pass "$desc"
		return 0
	fi
	log_fail "$desc" "expected: '$a' $op '$b'"
	return 1
}

# must DESC CMD...: a set-up step the rest of the script depends on.
must()
{
	local desc=$1

	shift
	if run "$@"; then
		log_info "ok: $desc"
		return 0
	fi
	log_fail "setup: $desc"
	lib_show_last_run
	exit "$KSFT_FAIL"
}

die()
{
	log_fail "setup: $*"
	exit "$KSFT_FAIL"
}

skip_all()
{
	log_skip "all tests" "$*"
	exit "$KSFT_SKIP"
}

require_root()
{
	[ "$(id -u)" -eq 0 ] || skip_all "needs root"
}

require_cmd()
{
	local c

	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_all "missing command: $c"
	done
}

require_vnat()
{
	[ -x "$VNAT" ] || skip_all "no vnat binary at $VNAT (run make)"
}

lib_summary()
{
	[ "$LIB_SUMMARY_DONE" = 1 ] && return 0
	LIB_SUMMARY_DONE=1
	echo "SUMMARY: $TEST_SCRIPT: $NUM_PASS PASS, $NUM_FAIL FAIL, $NUM_SKIP SKIP"
}

lib_exit_code()
{
	if [ "$NUM_FAIL" -gt 0 ]; then
		echo "$KSFT_FAIL"
	elif [ "$NUM_PASS" -eq 0 ] && [ "$NUM_SKIP" -gt 0 ]; then
		echo "$KSFT_SKIP"
	else
		echo "$KSFT_PASS"
	fi
}

exit_summary()
{
	if [ $((NUM_PASS + NUM_FAIL + NUM_SKIP)) -eq 0 ]; then
		log_fail "no checks ran"
	fi
	lib_summary
	exit "$(lib_exit_code)"
}

# slowwait SECS CMD...: poll instead of sleeping a guessed time.
slowwait()
{
	local secs=$1 now deadline

	shift
	now=${EPOCHREALTIME//[!0-9]/}
	deadline=$((now + secs * 1000000))
	while :; do
		if [ "$V" = 1 ]; then
			"$@" && return 0
		else
			"$@" >/dev/null 2>&1 && return 0
		fi
		now=${EPOCHREALTIME//[!0-9]/}
		[ "$now" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# ---------------------------------------------------------------- namespaces

ns()
{
	local var="NS_$1"

	[ -n "${!var:-}" ] || {
		echo "lib.sh: unknown namespace '$1'" >&2
		return 1
	}
	echo "${!var}"
}

ns_create()
{
	local name full

	for name in "$@"; do
		[[ $name =~ ^[A-Za-z0-9_]+$ ]] || die "bad namespace name '$name'"
		full="$name-$NS_SUFFIX"
		ip netns add "$full" || die "ip netns add $full"
		LIB_NAMESPACES+=("$full")
		printf -v "NS_$name" '%s' "$full"
		ip -n "$full" link set lo up || die "lo up in $full"
		log_info "namespace $full"
	done
}

in_ns()
{
	local n=$1

	shift
	ip netns exec "$n" "$@"
}

nsenter_ns()
{
	local n=$1

	shift
	nsenter --net="/run/netns/$n" "$@"
}

# The network namespace inode: vnat names its bpffs directory after it.
ns_inode()
{
	stat -L -c %i "/run/netns/$1"
}

veth_pair()
{
	local ns1=$1 if1=$2 ns2=$3 if2=$4

	# Created inside ns1 with the peer placed straight into ns2: neither end
	# ever exists in the root namespace, so names cannot clash with the host's.
	ip -n "$ns1" link add "$if1" type veth peer name "$if2" netns "$ns2" ||
		return 1
	ip -n "$ns1" link set "$if1" up && ip -n "$ns2" link set "$if2" up
}

# prepare_xdp_peer NS IF: what --hook xdp requires of the peer IF of a
# managed veth, and only for tests whose subject is that setting (no other
# topology tunes its endpoints). Frames vnat XDP-redirects into that peer
# arrive on IF and are dropped unless IF has GRO (or an XDP program); and
# frames sent by IF must carry complete checksums, since XDP cannot see a
# partial one (tx off also turns off TSO, which depends on it).
prepare_xdp_peer()
{
	local n=$1 dev=$2

	in_ns "$n" ethtool -K "$dev" gro on || return 1
	in_ns "$n" ethtool -K "$dev" tx off || return 1
	in_ns "$n" ethtool -k "$dev" | grep -q '^generic-receive-offload: on' || return 1
	in_ns "$n" ethtool -k "$dev" | grep -q '^tx-checksumming: off'
}

# ---------------------------------------------------------------- guests

# The guest's side of a *_guest_add: ADDR/LEN on eth0, default via GW.
lib_guest_addr()
{
	local n=$1 addr=$2 gw=$3

	in_ns "$n" sysctl -qw net.ipv4.ip_forward=0 || return 1
	ip -n "$n" addr add "$addr" dev eth0 || return 1
	ip -n "$n" link set eth0 up || return 1
	[ -z "$gw" ] || ip -n "$n" route add default via "$gw"
}

lib_bridge_port()
{
	local hn=$1 br=$2 port=$3

	ip -n "$hn" link set "$port" master "$br" && ip -n "$hn" link set "$port" up
}

veth_guest_add()
{
	local name=$1 hn=$2 br=$3 port=$4 addr=$5 gw=$6 n

	ns_create "$name"
	n=$(ns "$name")
	veth_pair "$n" eth0 "$hn" "$port" || return 1
	lib_bridge_port "$hn" "$br" "$port" && lib_guest_addr "$n" "$addr" "$gw"
}

require_vnet_relay()
{
	[ -x "$VNET_RELAY" ] || skip_all "no vnet-relay at $VNET_RELAY (run make)"
	[ -e /dev/net/tun ] || skip_all "no /dev/net/tun"
}

# The relay said "ready" (both taps made, offloads set), or it has exited.
lib_relay_settled()
{
	grep -q '^ready ' "$1" || lib_pid_gone "$2"
}

tap_guest_add()
{
	local name=$1 hn=$2 br=$3 port=$4 addr=$5 gw=$6 n pid log

	ns_create "$name"
	n=$(ns "$name")
	printf -v "TAPGUEST_STATS_$name" '%s' "$LIB_TMPDIR/relay.$name.stats"
	# The relay enters each namespace itself (setns): where it runs from
	# does not matter, so it runs from the host's.
	bg_in_ns "TAPGUEST_PID_$name" "$hn" "$VNET_RELAY" --host-ns "$hn" --host-tap "$port" \
		--guest-ns "$n" --guest-tap eth0 --stats "$LIB_TMPDIR/relay.$name.stats"
	pid=TAPGUEST_PID_$name log=TAPGUEST_PID_${name}_LOG
	slowwait 5 lib_relay_settled "${!log}" "${!pid}"
	grep -q '^ready ' "${!log}" || {
		echo "vnet-relay for $name did not start:"
		cat "${!log}"
		return 1
	}
	# The guest's NIC first: what the bridge floods to a port whose guest
	# side is still down is refused (counted as dropped_down).
	lib_guest_addr "$n" "$addr" "$gw" && lib_bridge_port "$hn" "$br" "$port"
}

lib_relay_seq()
{
	awk '$1 == "seq" { print $2; found = 1 } END { if (!found) print 0 }' "$1" 2>/dev/null ||
		echo 0
}

lib_relay_seq_after()
{
	[ "$(lib_relay_seq "$1")" -gt "$2" ]
}

# SIGUSR1 makes the relay rewrite its stats file: wait for the new one.
tap_guest_stats()
{
	local pid=TAPGUEST_PID_$1 file=TAPGUEST_STATS_$1 seq

	[ -n "${!pid:-}" ] || {
		echo "lib.sh: no tap guest '$1'" >&2
		return 1
	}
	seq=$(lib_relay_seq "${!file}")
	kill -USR1 "${!pid}" || return 1
	slowwait 5 lib_relay_seq_after "${!file}" "$seq" || return 1
	cat "${!file}"
}

tap_guest_stat()
{
	local name=$1 dir=$2 field=$3

	tap_guest_stats "$name" | awk -v d="$dir" -v f="$field" '
		$1 == d { for (i = 2; i <= NF; i++) if (index($i, f "=") == 1) {
			print substr($i, length(f) + 2); found = 1 } }
		END { if (!found) exit 1 }'
}

# ---------------------------------------------------------------- processes

bg_in_ns()
{
	local var=$1 n=$2 log

	shift 2
	LIB_RUN_SEQ=$((LIB_RUN_SEQ + 1))
	log=$LIB_TMPDIR/bg.$LIB_RUN_SEQ.log
	# A simple command: the forked child execs ip, which execs CMD, so $!
	# is CMD's own PID and killing it stops exactly what we started.
	ip netns exec "$n" "$@" </dev/null >"$log" 2>&1 &
	LIB_PIDS+=("$!")
	printf -v "$var" '%s' "$!"
	printf -v "${var}_LOG" '%s' "$log"
}

lib_forget_pid()
{
	local p keep=()

	for p in "${LIB_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	LIB_PIDS=("${keep[@]}")
}

bg_wait()
{
	local rc

	wait "$1"
	rc=$?
	lib_forget_pid "$1"
	return "$rc"
}

# bg_wait_timeout SECS PID: reap PID, killing it if it outlives SECS.
bg_wait_timeout()
{
	local secs=$1 pid=$2

	if ! slowwait "$secs" lib_pid_gone "$pid"; then
		kill -TERM "$pid" 2>/dev/null
	fi
	bg_wait "$pid"
}

lib_pid_gone()
{
	# A child we have not reaped stays a zombie and keeps its PID, so a
	# recorded PID cannot belong to anybody else; kill -0 succeeds on a
	# zombie too, so look at its state instead.
	local st

	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	[[ $st == Z* ]]
}

# ---------------------------------------------------------------- cleanup

defer()
{
	LIB_HOOKS+=("$(printf '%q ' "$@")")
}

lib_cleanup()
{
	local rc=$? i p n ino leaked=0

	[ "$LIB_IN_CLEANUP" = 1 ] && return
	LIB_IN_CLEANUP=1
	trap '' INT TERM
	exec 1>&"$LIB_STDOUT" 2>&"$LIB_STDERR"

	for ((i = ${#LIB_HOOKS[@]} - 1; i >= 0; i--)); do
		log_info "cleanup: ${LIB_HOOKS[i]}"
		if [ "$V" = 1 ]; then
			eval "${LIB_HOOKS[i]}"
		else
			eval "${LIB_HOOKS[i]}" >/dev/null 2>&1
		fi
	done

	for p in "${LIB_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${LIB_PIDS[@]}"; do
		slowwait 2 lib_pid_gone "$p" || kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	LIB_PIDS=()

	for n in "${LIB_NAMESPACES[@]}"; do
		# A vnat that was loaded but not unloaded would leave its pins
		# (and so its programs) behind: say so, then remove ours only.
		ino=$(ns_inode "$n" 2>/dev/null)
		if [ -n "$ino" ] && [ -e "/sys/fs/bpf/vnat/netns-$ino" ]; then
			echo "# cleanup: leftover pins /sys/fs/bpf/vnat/netns-$ino of $n, removing" >&2
			rm -rf -- "/sys/fs/bpf/vnat/netns-$ino"
			leaked=1
		fi
		ip netns del "$n" 2>/dev/null ||
			echo "# cleanup: could not delete namespace $n" >&2
	done
	LIB_NAMESPACES=()
	# vnat removes its root directory with its last namespace; do the same
	# after removing leftovers (rmdir: only if nobody else is using it).
	[ "$leaked" = 1 ] && rmdir /sys/fs/bpf/vnat 2>/dev/null

	rm -rf -- "$LIB_TMPDIR"

	if [ "$LIB_SUMMARY_DONE" = 0 ]; then
		# Left early (die, a signal, an unexpected exit): never a pass.
		if [ "$rc" -ne "$KSFT_SKIP" ] && [ "$NUM_FAIL" -eq 0 ] &&
		   [ "$rc" -ne 0 ]; then
			log_fail "aborted (exit $rc)"
		fi
		lib_summary
		if [ "$rc" -eq "$KSFT_SKIP" ] && [ "$NUM_FAIL" -eq 0 ]; then
			exit "$KSFT_SKIP"
		fi
		exit "$(lib_exit_code)"
	fi
	exit "$rc"
}

trap lib_cleanup EXIT
trap 'echo "# interrupted" >&"$LIB_STDERR"; exit 130' INT
trap 'echo "# terminated" >&"$LIB_STDERR"; exit 143' TERM

# ---------------------------------------------------------------- vnat

# json_get EXPR: d is the JSON document read from stdin. Strings print bare,
# None as null, everything else as JSON, so the shell can compare it.
json_get()
{
	python3 -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1], {"d": d})
if isinstance(v, str):
    print(v)
else:
    print(json.dumps(v, sort_keys=True))
' "$1"
}

# json_eq JSON EXPR WANT: json_get EXPR of JSON prints as WANT (both shown).
json_eq()
{
	local got

	got=$(json_get "$2" <<<"$1") || return 1
	echo "got: $got"
	echo "want: $3"
	[ "$got" = "$3" ]
}

vnat_in()
{
	local n=$1

	shift
	timeout --foreground "$CMD_TIMEOUT" ip netns exec "$n" "$VNAT" "$@"
}

vnat_nsenter()
{
	local n=$1

	shift
	timeout --foreground "$CMD_TIMEOUT" nsenter --net="/run/netns/$n" "$VNAT" "$@"
}

vnat_status_json()
{
	vnat_in "$1" status -j
}

# counter NS NAME: packets of one vnat counter; fails (prints nothing) when
# status fails or has no such counter, so a caller can never compare an
# empty string by accident. A fast-path counter with a tc twin (fwd_snat and
# fwd_snat_tc) counts both: which hook carried a frame depends on the
# endpoint (veths and taps run tc), what is asserted is that vnat did.
# NAME! reads the one counter alone.
counter()
{
	local n=$1 name=$2 js

	js=$(vnat_status_json "$n") || return 1
	json_get "$(counter_expr "$name")" <<<"$js"
}

# counter_expr NAME [FIELD]: the json_get expression for counter NAME's
# FIELD (packets or bytes) as counter() reads it.
counter_expr()
{
	local name=$1 field=${2:-packets}

	case "$name" in
	*!) echo "d['counters']['${name%!}']['$field']" ;;
	fwd_routed | fwd_snat | fwd_dnat | fwd_bridged | fwd_icmp_error | fwd_hairpin | fwd_admitted)
		echo "d['counters']['$name']['$field'] + d['counters']['${name}_tc']['$field']" ;;
	*) echo "d['counters']['$name']['$field']" ;;
	esac
}

# iface_role_is NS NAME WANT: status in NS lists NAME with role WANT
# ("absent" when it is not managed).
iface_role_is()
{
	local js got

	js=$(vnat_status_json "$1") || return 1
	got=$(json_get "next((i['role'] for i in d['interfaces'] if i['name'] == '$2'), 'absent')" <<<"$js") ||
		return 1
	echo "$2: $got (want $3)"
	[ "$got" = "$3" ]
}

# vnat_not_loaded NS: status in NS says vnat is not loaded there.
vnat_not_loaded()
{
	json_eq "$(vnat_status_json "$1")" "d['loaded']" false
}

# The counter names status must show: the enum names of VNAT_STAT_LIST in
# include/vnat.h (which enum vnat_stat is made of), lowercase, without
# VNAT_; one per line.
vnat_counter_names()
{
	awk '/^#define VNAT_STAT_LIST\(X\)/ { on = 1; next }
	     on && match($0, /X\(VNAT_[A-Z0-9_]+,/) {
		n = substr($0, RSTART + 2, RLENGTH - 3)
		print tolower(substr(n, 6))
	     }
	     on && !/\\$/ { on = 0 }' "$REPO_ROOT/include/vnat.h" | grep .
}

# The fast path's forwarded packets: XDP routed + hairpin + tc routed.
fast_fwd_count()
{
	local js

	js=$(vnat_status_json "$1") || return 1
	json_get "sum(d['counters'][k]['packets'] for k in ('fwd_routed', 'fwd_same_segment', 'fwd_routed_tc'))" <<<"$js"
}

# /proc/net is /proc/self/net: it shows the namespace of the reader, so
# reading it through ip netns exec gives NS's own counters.
kernel_fwd_count()
{
	in_ns "$1" cat /proc/net/snmp | awk '
		$1 == "Ip:" && !hdr { for (i = 2; i <= NF; i++) if ($i == "ForwDatagrams") col = i; hdr = 1; next }
		$1 == "Ip:" && hdr && col { print $col; found = 1; exit }
		END { if (!found) exit 1 }'
}

# tcp_transfer SRC_NS DST_NS DST_ADDR PORT FILE: send FILE from SRC_NS to a
# listener in DST_NS and compare sha256 of what arrived.
tcp_transfer()
{
	local src=$1 dst=$2 addr=$3 port=$4 file=$5 out srv rc

	LIB_RUN_SEQ=$((LIB_RUN_SEQ + 1))
	out=$LIB_TMPDIR/recv.$LIB_RUN_SEQ
	bg_in_ns srv "$dst" socat -u "TCP4-LISTEN:$port,reuseaddr" "CREATE:$out"
	if ! slowwait 5 tcp_listening "$dst" "$port"; then
		echo "tcp_transfer: no listener on $port in $dst" >&2
		bg_wait_timeout 1 "$srv"
		return 1
	fi
	timeout --foreground "$CMD_TIMEOUT" ip netns exec "$src" \
		socat -u "OPEN:$file" "TCP4:$addr:$port,connect-timeout=5"
	rc=$?
	bg_wait_timeout 10 "$srv" || rc=1
	if [ "$rc" -ne 0 ]; then
		echo "tcp_transfer: socat failed (exit $rc)" >&2
		return 1
	fi
	same_content "$file" "$out"
}

# same_content SENT RECEIVED: compare a transfer's two ends by sha256 (both
# printed), then remove the received copy.
same_content()
{
	local want got

	want=$(sha256sum <"$1" | cut -d' ' -f1)
	got=$(sha256sum <"$2" | cut -d' ' -f1)
	echo "sent $(stat -c %s "$1") bytes sha256 $want"
	echo "recv $(stat -c %s "$2") bytes sha256 $got"
	rm -f -- "$2"
	[ "$want" = "$got" ]
}

tcp_listening()
{
	in_ns "$1" ss -Htln "sport = :$2" | grep -q .
}

# A random file of SIZE bytes in the scratch directory; prints its path.
make_random_file()
{
	local f

	LIB_RUN_SEQ=$((LIB_RUN_SEQ + 1))
	f=$LIB_TMPDIR/random.$LIB_RUN_SEQ
	head -c "$1" /dev/urandom >"$f" || return 1
	echo "$f"
}

# Verify every checksum a capture holds completely: IPv4 header, TCP, UDP
# (0 = none), ICMP, and in ICMP errors the quoted IPv4 header and, when the
# quote holds the whole datagram, its transport checksum too (RFC 5508
# REQ-3: a NAT fixes the quote as well). Prints the totals and each bad one.
PCAP_CSUM_PY='
import struct, sys

def fold(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s

def ok(b):
    return fold(b) == 0xffff

def ip_check(ip, what, bad, quoted=False):
    """Checks one IPv4 datagram (possibly a quote); returns checked count."""
    n = 0
    if len(ip) < 20 or ip[0] >> 4 != 4:
        return 0
    ihl = (ip[0] & 15) * 4
    tot = struct.unpack("!H", ip[2:4])[0]
    proto, src, dst = ip[9], ip[12:16], ip[16:20]
    name = "%s %s>%s" % (what, ".".join(map(str, src)), ".".join(map(str, dst)))
    if len(ip) >= ihl:
        n += 1
        if not ok(ip[:ihl]):
            bad.append("%s: IP header" % name)
    frag = struct.unpack("!H", ip[6:8])[0] & 0x3fff
    if frag or len(ip) < tot:
        return n  # truncated (snaplen, or a quote): transport not checkable
    l4 = ip[ihl:tot]
    if proto in (6, 17):
        if proto == 17 and len(l4) >= 8 and l4[6:8] == b"\0\0":
            return n
        ph = src + dst + struct.pack("!BBH", 0, proto, len(l4))
        n += 1
        csum = l4[16:18] if proto == 6 else l4[6:8]
        # A partial checksum (tx offload, virtio NEEDS_CSUM) is sent as the
        # pseudo-header sum alone; the receiver of a veth or tap takes it as
        # it is: right when that sum is the one of the addresses on the wire.
        if not ok(ph + l4) and struct.unpack("!H", csum)[0] != fold(ph):
            bad.append("%s: %s checksum" % (name, "TCP" if proto == 6 else "UDP"))
    elif proto == 1 and len(l4) >= 8:
        n += 1
        if not ok(l4):
            bad.append("%s: ICMP checksum" % name)
        if not quoted and l4[0] in (3, 11, 12):
            n += ip_check(l4[8:], "quote in " + name, bad, True)
    return n

f = open(sys.argv[1], "rb")
hdr = f.read(24)
endian = "<" if struct.unpack("<I", hdr[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
pkts = checked = 0
bad = []
while True:
    ph = f.read(16)
    if len(ph) < 16:
        break
    _, _, caplen, _ = struct.unpack(endian + "IIII", ph)
    frame = f.read(caplen)
    off = 14
    etype = struct.unpack("!H", frame[12:14])[0]
    if etype == 0x8100:
        etype, off = struct.unpack("!H", frame[16:18])[0], 18
    if etype != 0x0800:
        continue
    pkts += 1
    checked += ip_check(frame[off:], "packet %d" % pkts, bad)
print("%d IPv4 packets, %d checksums verified, %d bad" % (pkts, checked, len(bad)))
for b in bad[:10]:
    print("bad: " + b)
sys.exit(1 if bad or not checked else 0)
'
