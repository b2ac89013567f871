# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The addresses and rule sets are for the scripts that source this file.
# shellcheck disable=SC2034
#
# lib_nat.sh - topologies and traffic helpers of the NAT scenarios (nat.sh:
# T1's NAT role, libvirt.sh: T2). Sources lib.sh; like it, it only ever
# touches the namespaces it made.
#
# Topologies
#   nat_t1_create           vm1 -- vm3 (NAT box) -- lan -- pub
#   nat_t1_warmup           resolve vm3's neighbours both ways
#   nat_t2_create           g1, g2 -- host (virbr0, eth0) -- up
#   libvirt_rules_load NS   seed 001's FORWARD and POSTROUTING rules, verbatim
#                           ($LIBVIRT_FILTER_RULES, $LIBVIRT_NAT_RULES)
#   link_up NS IF, neigh_valid NS IF ADDR
#
# Traffic (each bounded in time; they print what they saw)
#   ping_all NS DST COUNT          all COUNT echo replies, or fail
#   ping_none NS DST COUNT         no reply at all
#   peer_server_tcp VAR NS PORT    listener answering "PEERADDR:PEERPORT"
#   peer_server_udp VAR NS PORT [ADDR]  the same for each UDP datagram
#   peer_ask_tcp NS ADDR PORT [SPORT]   prints the answer (what the server saw)
#   peer_ask_udp NS ADDR PORT [SPORT]
#   expect_peer WANT CMD...        CMD (a peer_ask_*) printed WANT
#   tcp_download CLIENT SERVER ADDR PORT FILE   the reverse of tcp_transfer
#   iperf3_run SRC DST ADDR PORT STREAMS SECS   passes when it completes
#                                  with bytes > 0; prints the received bytes
#   slow_sender VAR NS connect|listen ADDR PORT FILE RATE
#                                  python: FILE at RATE bytes/s (background)
#   file_size FILE, grown_to FILE BYTES
#   udp_listen_after_send VAR NS SPORT ADDR PORT SECS
#                                  send one datagram from SPORT, then print
#                                  "from A:P <data>" for all that arrive
#   udp_send NS ADDR PORT SPORT MSG   one datagram from a fixed source port
#   udp_refused NS ADDR PORT       a connected UDP socket gets ECONNREFUSED
#   trace_udp NS DST [MAX]         traceroute: "TTL HOP type T code C" lines
#
# Captures
#   cap_start VAR NS IF FILTER...  tcpdump -w into $VAR_FILE; returns once
#                                  tcpdump listens
#   cap_stop VAR                   stop it once the file stops growing
#   cap_text FILE                  tcpdump -r -nn -vv of it
#   cap_count FILE FILTER...       packets matching FILTER
#   cap_none FILE FILTER...        none match (the first five shown if some do)
#   cap_atleast FILE N FILTER...   at least N match
#   port_of ADDR:PORT              the port
#   cap_csums_ok FILE              every checksum right (ICMP quotes too)
#   cap_icmp_quotes FILE           "OUTER_SRC OUTER_DST INNER_SRC INNER_DST"
#
# vnat and the kernel
#   conns_json NS                  vnat conns -j
#   conn_field NS PROTO INSIDE FIELD [REMOTE]   one field of that flow
#   conn_is NS PROTO INSIDE_RE REMOTE OUTSIDE_RE   the flow exists, and its
#                                  outside endpoint matches
#   counters_snap NS ARR           global associative ARR[name]=packets
#   cdelta OLD NEW NAME            a counter's growth between two snapshots
#   ct_list NS                     conntrack -L of NS

# selftests/run.sh runs every selftests/net/*.sh but lib.sh: a library has
# nothing to check when executed.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "lib_nat.sh: a library for nat.sh and libvirt.sh, nothing to run" >&2
	exit 0
fi

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---------------------------------------------------------------- T1 NAT role

T1_VM1_ADDR=203.0.113.229
T1_VM3_IN_ADDR=203.0.113.2
T1_VM3_OUT_ADDR=192.168.1.101
T1_LAN_ADDR=192.168.1.1
T1_IN_NET=203.0.113.0/24
# seed 000's public DNS server, in a documentation range behind lan
T1_PUB_ADDR=198.51.100.53
T1_PUB_GW=198.51.100.1

link_up()
{
	ip -n "$1" link show dev "$2" | grep -q 'state UP'
}

neigh_valid()
{
	ip -n "$1" neigh show dev "$2" to "$3" |
		grep -qE 'REACHABLE|STALE|DELAY|PROBE|PERMANENT'
}

#   [vm1] eth0 203.0.113.229/24, default via 203.0.113.2
#     |
#   eth1 203.0.113.2/24       (inside: vnat load --iface eth1 --snat 192.168.1.101)
#   [vm3] NAT box, ip_forward=1, default via 192.168.1.1
#   eth0 192.168.1.101/24     (uplink, holds the SNAT address)
#     |
#   eth0 192.168.1.1/24
#   [lan] router, ip_forward=1, NO route to 203.0.113.0/24
#   eth1 198.51.100.1/24
#     |
#   [pub] eth0 198.51.100.53/24, default via 198.51.100.1
nat_t1_create()
{
	local vm1 vm3 lan pub

	ns_create vm1 vm3 lan pub
	vm1=$(ns vm1) vm3=$(ns vm3) lan=$(ns lan) pub=$(ns pub)

	must "veth vm1/eth0 <-> vm3/eth1" veth_pair "$vm1" eth0 "$vm3" eth1
	must "veth vm3/eth0 <-> lan/eth0" veth_pair "$vm3" eth0 "$lan" eth0
	must "veth lan/eth1 <-> pub/eth0" veth_pair "$lan" eth1 "$pub" eth0

	must "vm1 address" ip -n "$vm1" addr add "$T1_VM1_ADDR/24" dev eth0
	must "vm1 default route" ip -n "$vm1" route add default via "$T1_VM3_IN_ADDR"
	must "vm3 eth1 address" ip -n "$vm3" addr add "$T1_VM3_IN_ADDR/24" dev eth1
	must "vm3 eth0 address" ip -n "$vm3" addr add "$T1_VM3_OUT_ADDR/24" dev eth0
	must "vm3 default route" ip -n "$vm3" route add default via "$T1_LAN_ADDR"
	must "lan eth0 address" ip -n "$lan" addr add "$T1_LAN_ADDR/24" dev eth0
	must "lan eth1 address" ip -n "$lan" addr add "$T1_PUB_GW/24" dev eth1
	must "pub address" ip -n "$pub" addr add "$T1_PUB_ADDR/24" dev eth0
	must "pub default route" ip -n "$pub" route add default via "$T1_PUB_GW"

	# New namespaces copy the root's IPv4 settings: set every one we rely on.
	must "vm3 ip_forward=1" in_ns "$vm3" sysctl -qw net.ipv4.ip_forward=1
	must "lan ip_forward=1" in_ns "$lan" sysctl -qw net.ipv4.ip_forward=1
	must "vm1 ip_forward=0" in_ns "$vm1" sysctl -qw net.ipv4.ip_forward=0
	must "pub ip_forward=0" in_ns "$pub" sysctl -qw net.ipv4.ip_forward=0

	# vm1 and lan receive what vnat redirects out of vm3; every sender
	# whose frames vm3 rewrites must send complete checksums.

	must "vm1 eth0 up" slowwait 5 link_up "$vm1" eth0
	must "lan eth0 up" slowwait 5 link_up "$lan" eth0
	must "pub eth0 up" slowwait 5 link_up "$pub" eth0
	return 0
}

# Resolve the neighbours on vm3 both ways (a flow whose next hop is not yet
# resolved goes through the kernel and tc, not XDP).
nat_t1_warmup()
{
	local vm1 vm3

	vm1=$(ns vm1) vm3=$(ns vm3)
	in_ns "$vm1" ping -q -c 2 -i 0.2 -W 2 "$T1_LAN_ADDR" >/dev/null 2>&1
	in_ns "$vm3" ping -q -c 1 -W 2 "$T1_VM1_ADDR" >/dev/null 2>&1
	in_ns "$vm3" ping -q -c 1 -W 2 "$T1_LAN_ADDR" >/dev/null 2>&1
	slowwait 5 neigh_valid "$vm3" eth0 "$T1_LAN_ADDR" &&
		slowwait 5 neigh_valid "$vm3" eth1 "$T1_VM1_ADDR"
}

# ---------------------------------------------------------------- T2 libvirt

T2_BR_ADDR=192.168.122.1
T2_NET=192.168.122.0/24
T2_G1_ADDR=192.168.122.10
T2_G2_ADDR=192.168.122.11
T2_HOST_ADDR=10.0.0.15
T2_UP_ADDR=10.0.0.1
T2_PUB_ADDR=198.51.100.53

#   [g1] eth0 192.168.122.10/24       [g2] eth0 192.168.122.11/24
#           |  default via .1                 |
#         vnet0 ------- virbr0 192.168.122.1/24 ------- vnet1
#   [host] ip_forward=1, libvirt's iptables rules, default via 10.0.0.1
#         eth0 10.0.0.15/24 (uplink, seed 004)
#           |
#   [up]  eth0 10.0.0.1/24, 198.51.100.53/32 on lo; no route to 192.168.122.0/24
nat_t2_create()
{
	local host up g n

	ns_create host up g1 g2
	host=$(ns host) up=$(ns up)

	must "bridge virbr0" ip -n "$host" link add virbr0 type bridge stp_state 0 forward_delay 0
	must "virbr0 address" ip -n "$host" addr add "$T2_BR_ADDR/24" dev virbr0
	must "virbr0 up" ip -n "$host" link set virbr0 up
	must "veth g1/eth0 <-> host/vnet0" veth_pair "$(ns g1)" eth0 "$host" vnet0
	must "veth g2/eth0 <-> host/vnet1" veth_pair "$(ns g2)" eth0 "$host" vnet1
	must "vnet0 into virbr0" ip -n "$host" link set vnet0 master virbr0
	must "vnet1 into virbr0" ip -n "$host" link set vnet1 master virbr0
	must "veth host/eth0 <-> up/eth0" veth_pair "$host" eth0 "$up" eth0

	must "g1 address" ip -n "$(ns g1)" addr add "$T2_G1_ADDR/24" dev eth0
	must "g2 address" ip -n "$(ns g2)" addr add "$T2_G2_ADDR/24" dev eth0
	for g in g1 g2; do
		n=$(ns "$g")
		must "$g default route" ip -n "$n" route add default via "$T2_BR_ADDR"
		must "$g ip_forward=0" in_ns "$n" sysctl -qw net.ipv4.ip_forward=0
		must "$g eth0 up" slowwait 5 link_up "$n" eth0
	done
	must "host eth0 address" ip -n "$host" addr add "$T2_HOST_ADDR/24" dev eth0
	must "host default route" ip -n "$host" route add default via "$T2_UP_ADDR"
	must "host ip_forward=1" in_ns "$host" sysctl -qw net.ipv4.ip_forward=1
	must "up address" ip -n "$up" addr add "$T2_UP_ADDR/24" dev eth0
	must "up: public address" ip -n "$up" addr add "$T2_PUB_ADDR/32" dev lo
	must "up ip_forward=0" in_ns "$up" sysctl -qw net.ipv4.ip_forward=0
	must "up eth0 up" slowwait 5 link_up "$up" eth0
	must "virbr0 up" slowwait 5 link_up "$host" virbr0
	return 0
}

# Seed 001's rules exactly as the seed prints them (iptables-save lines).
LIBVIRT_FILTER_RULES='-A FORWARD -d 192.168.122.0/24 -o virbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -s 192.168.122.0/24 -i virbr0 -j ACCEPT
-A FORWARD -i virbr0 -o virbr0 -j ACCEPT
-A FORWARD -o virbr0 -j REJECT --reject-with icmp-port-unreachable
-A FORWARD -i virbr0 -j REJECT --reject-with icmp-port-unreachable'
LIBVIRT_NAT_RULES='-A POSTROUTING -s 192.168.122.0/24 -d 224.0.0.0/24 -j RETURN
-A POSTROUTING -s 192.168.122.0/24 -d 255.255.255.255/32 -j RETURN
-A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -p tcp -j MASQUERADE --to-ports 1024-65535
-A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -p udp -j MASQUERADE --to-ports 1024-65535
-A POSTROUTING -s 192.168.122.0/24 ! -d 192.168.122.0/24 -j MASQUERADE'

libvirt_rules_load()
{
	printf '*filter\n%s\nCOMMIT\n*nat\n%s\nCOMMIT\n' \
		"$LIBVIRT_FILTER_RULES" "$LIBVIRT_NAT_RULES" | in_ns "$1" iptables-restore
}

# ---------------------------------------------------------------- traffic

ping_all()
{
	local n=$1 dst=$2 count=$3

	# With a deadline, ping fails unless all COUNT replies arrive.
	in_ns "$n" ping -q -c "$count" -i 0.05 -W 1 -w $((count / 10 + 10)) "$dst"
}

ping_none()
{
	! in_ns "$1" ping -q -c "$3" -i 0.1 -W 1 -w 2 "$2"
}

# Servers that tell the client which address and port they saw it from.
peer_server_tcp()
{
	local var=$1 n=$2 port=$3

	# shellcheck disable=SC2016 # socat's shell expands them, not ours
	bg_in_ns "$var" "$n" socat "TCP4-LISTEN:$port,reuseaddr,fork" \
		SYSTEM:'echo "$SOCAT_PEERADDR:$SOCAT_PEERPORT"'
	slowwait 5 tcp_listening "$n" "$port"
}

udp_bound()
{
	in_ns "$1" ss -Huln "sport = :$2" | grep -q .
}

# A socat SYSTEM child per datagram races with socat writing the datagram
# to it (EPIPE, no answer): a small python server instead.
UDP_PEER_PY='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[2], int(sys.argv[1])))
while True:
    data, src = s.recvfrom(2048)
    s.sendto(("%s:%d\n" % src).encode(), src)
'

# peer_server_udp VAR NS PORT [ADDR]: bound to ADDR when the host has more
# than one (an unbound UDP socket answers from the route's source address,
# which the client's NAT would not recognise).
peer_server_udp()
{
	local var=$1 n=$2 port=$3 addr=${4:-0.0.0.0}

	bg_in_ns "$var" "$n" python3 -c "$UDP_PEER_PY" "$port" "$addr"
	slowwait 5 udp_bound "$n" "$port"
}

peer_ask_tcp()
{
	local n=$1 addr=$2 port=$3 sport=${4:-}

	timeout 10 ip netns exec "$n" socat -T 3 - \
		"TCP4:$addr:$port,connect-timeout=3${sport:+,sourceport=$sport,reuseaddr}" </dev/null
}

peer_ask_udp()
{
	local n=$1 addr=$2 port=$3 sport=${4:-} out

	out=$(echo ask | timeout 10 ip netns exec "$n" socat -T 2 - \
		"UDP4:$addr:$port${sport:+,sourceport=$sport,reuseaddr}") || return 1
	[ -n "$out" ] || {
		echo "no answer" >&2
		return 1
	}
	echo "$out"
}

# expect_peer WANT CMD...: CMD prints what the server saw; it must be WANT
# (an "addr:port" or just "addr", then any port matches).
expect_peer()
{
	local want=$1 got

	shift
	got=$("$@") || return 1
	echo "server saw: $got (want $want)"
	case $want in
	*:*) [ "$got" = "$want" ] ;;
	*) [ "${got%:*}" = "$want" ] ;;
	esac
}

# tcp_download CLIENT SERVER ADDR PORT FILE: the server in SERVER sends FILE
# to the client that connects from CLIENT (the reverse of tcp_transfer).
tcp_download()
{
	local cli=$1 srv_ns=$2 addr=$3 port=$4 file=$5 out srv rc

	LIB_RUN_SEQ=$((LIB_RUN_SEQ + 1))
	out=$LIB_TMPDIR/recv.$LIB_RUN_SEQ
	bg_in_ns srv "$srv_ns" socat -u "OPEN:$file" "TCP4-LISTEN:$port,reuseaddr"
	if ! slowwait 5 tcp_listening "$srv_ns" "$port"; then
		bg_wait_timeout 1 "$srv"
		return 1
	fi
	timeout --foreground "$CMD_TIMEOUT" ip netns exec "$cli" \
		socat -u "TCP4:$addr:$port,connect-timeout=5" "CREATE:$out"
	rc=$?
	bg_wait_timeout 10 "$srv" || rc=1
	[ "$rc" -eq 0 ] || {
		echo "tcp_download: socat failed (exit $rc)" >&2
		return 1
	}
	same_content "$file" "$out"
}

# iperf3_run SRC DST ADDR PORT STREAMS SECS: a one-off server in DST, the
# client in SRC; prints the bytes the receiver counted.
iperf3_run()
{
	local src=$1 dst=$2 addr=$3 port=$4 streams=$5 secs=$6 srv js bytes

	bg_in_ns srv "$dst" iperf3 -s -1 -p "$port"
	slowwait 5 tcp_listening "$dst" "$port" || {
		bg_wait_timeout 1 "$srv"
		return 1
	}
	js=$(timeout $((secs + 15)) ip netns exec "$src" \
		iperf3 -c "$addr" -p "$port" -P "$streams" -t "$secs" -J)
	local rc=$?
	bg_wait_timeout 5 "$srv"
	[ "$rc" -eq 0 ] || {
		echo "iperf3 client exit $rc"
		echo "$js" | tail -5
		return 1
	}
	bytes=$(json_get 'd["end"]["sum_received"]["bytes"]' <<<"$js") || return 1
	echo "received $bytes bytes in ${secs}s with $streams stream(s)"
	[ "$bytes" -gt 0 ]
}

# A rate-limited TCP sender (pv is not installed everywhere): RATE bytes
# per second in 64 KiB writes. "connect ADDR PORT" sends to a listener,
# "listen ADDR PORT" sends to the first client. Prints its local endpoint,
# then the totals; exits 0 once all is sent and the peer has closed.
SLOW_SENDER_PY='
import socket, sys, time
mode, addr, port, path, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
if mode == "connect":
    s = socket.create_connection((addr, port), timeout=20)
else:
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((addr, port))
    l.listen(1)
    print("listening", flush=True)
    s, _ = l.accept()
s.settimeout(20)
print("local %s:%d peer %s:%d" % (s.getsockname() + s.getpeername()), flush=True)
start = time.monotonic()
sent = 0
with open(path, "rb") as f:
    while True:
        b = f.read(65536)
        if not b:
            break
        s.sendall(b)
        sent += len(b)
        ahead = sent / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
print("sent %d bytes in %.1fs" % (sent, time.monotonic() - start), flush=True)
'

# slow_sender VAR NS connect|listen ADDR PORT FILE RATE: in the background.
slow_sender()
{
	local var=$1 n=$2

	shift 2
	bg_in_ns "$var" "$n" python3 -c "$SLOW_SENDER_PY" "$@"
}

file_size()
{
	stat -c %s "$1" 2>/dev/null || echo 0
}

# grown_to FILE BYTES: FILE holds at least BYTES.
grown_to()
{
	[ "$(file_size "$1")" -ge "$2" ]
}

# Send one datagram from SPORT, then report every datagram that arrives on
# that socket for SECS seconds: the mapping's view from inside.
UDP_LISTEN_PY='
import socket, sys, time
sport, addr, port, secs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", sport))
s.sendto(b"open", (addr, port))
print("sent", flush=True)
end = time.monotonic() + secs
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        data, src = s.recvfrom(2048)
    except socket.timeout:
        break
    except OSError as e:
        print("error %s" % e, flush=True)
        continue
    print("from %s:%d %s" % (src[0], src[1], data.decode(errors="replace").strip()), flush=True)
'

udp_listen_after_send()
{
	local var=$1 n=$2 sport=$3 addr=$4 port=$5 secs=$6

	bg_in_ns "$var" "$n" python3 -c "$UDP_LISTEN_PY" "$sport" "$addr" "$port" "$secs"
}

UDP_SEND_PY='
import socket, sys
addr, port, sport, msg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", sport))
s.sendto(msg.encode(), (addr, port))
'

udp_send()
{
	in_ns "$1" python3 -c "$UDP_SEND_PY" "$2" "$3" "$4" "$5"
}

# A connected UDP socket: the kernel reports an ICMP port unreachable for
# it as ECONNREFUSED, if (and only if) the error reaches this socket.
UDP_REFUSED_PY='
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((addr, port))
s.settimeout(2)
print("local %s:%d" % s.getsockname(), flush=True)
for i in range(3):
    try:
        s.send(b"x")
        s.recv(100)
        print("answered"); sys.exit(2)
    except ConnectionRefusedError:
        print("ECONNREFUSED"); sys.exit(0)
    except socket.timeout:
        pass
print("timeout: no ICMP error reached the socket"); sys.exit(1)
'

udp_refused()
{
	timeout 15 ip netns exec "$1" python3 -c "$UDP_REFUSED_PY" "$2" "$3"
}

# A UDP traceroute (traceroute/tracepath are not installed everywhere):
# probes with TTL 1..MAX to DST, the hop that answered each read from the
# socket's error queue (IP_RECVERR). Prints the hops, one per line.
TRACE_PY='
import select, socket, struct, sys
dst, maxttl = sys.argv[1], int(sys.argv[2])
IP_RECVERR, MSG_ERRQUEUE = 11, 0x2000
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
for ttl in range(1, maxttl + 1):
    s.setsockopt(socket.SOL_IP, socket.IP_TTL, ttl)
    s.sendto(b"probe", (dst, 33434 + ttl))
    hop, kind = "*", ""
    if select.select([s], [], [], 2)[0]:
        try:
            _, anc, _, _ = s.recvmsg(512, 512, MSG_ERRQUEUE)
        except OSError:
            anc = []
        for lvl, typ, data in anc:
            if lvl == socket.SOL_IP and typ == IP_RECVERR:
                errno_, origin, etype, ecode = struct.unpack("=IBBB", data[:7])
                hop = socket.inet_ntoa(data[16 + 4:16 + 8])
                kind = "type %d code %d" % (etype, ecode)
    print(ttl, hop, kind, flush=True)
    if hop == dst:
        break
'

trace_udp()
{
	timeout 30 ip netns exec "$1" python3 -c "$TRACE_PY" "$2" "${3:-5}"
}

# ---------------------------------------------------------------- captures

cap_listening()
{
	grep -q 'listening on' "$1"
}

cap_start()
{
	local var=$1 n=$2 dev=$3 log file

	shift 3
	LIB_RUN_SEQ=$((LIB_RUN_SEQ + 1))
	file=$LIB_TMPDIR/cap.$LIB_RUN_SEQ.pcap
	# -p: no promiscuous mode (the capture must not change what is
	# delivered); --immediate-mode and -U: every packet is read and
	# written at once (else what the ring holds at SIGINT is lost);
	# -Z root: writing into our scratch directory after tcpdump dropped
	# privileges fails.
	bg_in_ns "$var" "$n" tcpdump -p -U --immediate-mode -Z root -n -s 256 -i "$dev" \
		-w "$file" "$@"
	printf -v "${var}_FILE" '%s' "$file"
	log=${var}_LOG
	slowwait 5 cap_listening "${!log}"
}

# The file has stopped growing: what was sent so far has been written.
cap_settled()
{
	local f=$1 a b

	a=$(stat -c %s "$f" 2>/dev/null) || return 1
	sleep 0.2
	b=$(stat -c %s "$f" 2>/dev/null) || return 1
	[ "$a" = "$b" ]
}

# cap_stop VAR: the capture cap_start VAR ... started.
cap_stop()
{
	local pid=${!1} file=${1}_FILE

	slowwait 3 cap_settled "${!file}"
	kill -INT "$pid" 2>/dev/null
	bg_wait_timeout 3 "$pid"
	return 0
}

cap_text()
{
	tcpdump -nn -vv -r "$1" 2>/dev/null
}

# cap_count FILE FILTER...: packets in FILE matching FILTER.
cap_count()
{
	local f=$1

	shift
	tcpdump -nn -r "$f" "$@" 2>/dev/null | grep -c .
}

# cap_none FILE FILTER...: no packet in FILE matches FILTER.
cap_none()
{
	local f=$1 n

	shift
	n=$(cap_count "$f" "$@")
	echo "$n packets match '$*'"
	[ "$n" -eq 0 ] || {
		tcpdump -nn -r "$f" "$@" 2>/dev/null | head -5
		return 1
	}
}

# cap_atleast FILE N FILTER...: at least N packets match.
cap_atleast()
{
	local f=$1 want=$2 n

	shift 2
	n=$(cap_count "$f" "$@")
	echo "$n packets match '$*' (want >= $want)"
	[ "$n" -ge "$want" ]
}

# port_of ADDR:PORT: the port.
port_of()
{
	echo "${1##*:}"
}


# cap_csums_ok FILE: every checksum right, by tcpdump -vv for IPv4 and ICMP
# ("bad cksum", "wrong icmp cksum") and by our own verifier, which also
# checks ICMP errors' quotes and takes a TCP or UDP checksum in its partial
# form (endpoints keep their tx offload) when its pseudo-header sum is right.
# tcpdump calls those "incorrect", so its TCP and UDP verdicts are not used.
cap_csums_ok()
{
	local bad

	bad=$(cap_text "$1" | grep -cE 'bad cksum|wrong icmp cksum')
	echo "tcpdump -vv: $bad bad IPv4/ICMP checksums"
	cap_text "$1" | grep -E -B1 'bad cksum|wrong icmp cksum' | head -6
	python3 -c "$PCAP_CSUM_PY" "$1" && [ "$bad" -eq 0 ]
}

# cap_icmp_quotes FILE: one line per ICMP error in FILE, "OUTER_SRC
# OUTER_DST INNER_SRC INNER_DST" (addresses without ports), from tcpdump -v,
# which prints the quoted datagram on the lines after the error.
cap_icmp_quotes()
{
	cap_text "$1" | awk '
		function addr(s) { sub(/:$/, "", s); if (split(s, a, ".") == 5) s = a[1] "." a[2] "." a[3] "." a[4]; return s }
		/ICMP .*(exceeded|unreachable|parameter problem)/ { os = addr($1); od = addr($3); want = 2; next }
		want && /^\t*IP \(/ { want = 1; next }
		want == 1 && $2 == ">" { print os, od, addr($1), addr($3); want = 0; next }'
}

# ---------------------------------------------------------------- vnat

conns_json()
{
	vnat_in "$1" conns -j
}

# unsolicited_blocked UP VIA PORT: from UP, through a route to T2_NET via
# VIA that UP does not normally have, neither a ping nor a new TCP
# connection to PORT reaches g1 (libvirt's FORWARD rules admit only
# RELATED,ESTABLISHED toward virbr0).
unsolicited_blocked()
{
	local ok=0

	ip -n "$1" route add "$T2_NET" via "$2" || return 1
	if in_ns "$1" ping -q -c 3 -i 0.2 -W 1 -w 3 "$T2_G1_ADDR" >/dev/null 2>&1; then
		echo "$1 -> $T2_G1_ADDR: ping answered"
		ok=1
	fi
	if peer_ask_tcp "$1" "$T2_G1_ADDR" "$3" >/dev/null 2>&1; then
		echo "$1 -> $T2_G1_ADDR:$3: TCP connection accepted"
		ok=1
	fi
	ip -n "$1" route del "$T2_NET" via "$2"
	[ "$ok" = 0 ]
}

# outside_port_in NS DST SNAT LO HI: a new TCP connection from NS to DST:7000
# (peer_ask_tcp's server) arrives from SNAT with a port in LO-HI.
outside_port_in()
{
	local ans port

	ans=$(peer_ask_tcp "$1" "$2" 7000) || return 1
	port=${ans##*:}
	echo "$2 saw $ans"
	[ "${ans%:*}" = "$3" ] && [ "$port" -ge "$4" ] && [ "$port" -le "$5" ]
}

# udp_ask NS ADDR PORT SPORT COUNT: COUNT queries from SPORT in NS on a
# socket connected to ADDR:PORT (the kernel delivers it nothing from any
# other source); prints the number answered and the last answer's text.
udp_ask()
{
	timeout 60 ip netns exec "$1" python3 -c '
import socket, sys, time
addr, port, sport, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", sport))
s.connect((addr, port))
s.settimeout(1)
got, last = 0, "-"
for i in range(count):
    s.send(b"q%d" % i)
    try:
        last = s.recv(2048).decode(errors="replace").strip() or "-"
        got += 1
    except (socket.timeout, ConnectionRefusedError):
        pass
    time.sleep(0.05)
print(got, last)
' "$2" "$3" "$4" "$5"
}

# conns_expect NS EXPR WANT: EXPR, Python over vnat conns -j's list d in NS
# (json_get), prints exactly WANT; otherwise the list is shown.
conns_expect()
{
	local js

	js=$(conns_json "$1") || return 1
	json_get "$2" <<<"$js" | tee /dev/stderr | grep -qx "$3" || {
		echo "want $3 from $2 in:"
		echo "$js"
		return 1
	}
}

# conn_field NS PROTO INSIDE FIELD [REMOTE]: a field of the first flow with
# that inside endpoint (and remote, if given). Fails when there is none.
conn_field()
{
	local js

	js=$(conns_json "$1") || return 1
	json_get "next(c['$4'] for c in d if c['proto'] == '$2' and c['inside'] == '$3' and ('${5:-}' == '' or c['remote'] == '${5:-}'))" <<<"$js"
}

# conn_is NS PROTO INSIDE_RE REMOTE OUTSIDE_RE: a flow of PROTO whose inside
# endpoint matches ^INSIDE_RE$ and whose remote is REMOTE exists, and its
# outside endpoint matches ^OUTSIDE_RE$ (regular expressions, python re).
conn_is()
{
	local js out

	js=$(conns_json "$1") || return 1
	out=$(json_get "next((c['outside'] for c in d if c['proto'] == '$2' and __import__('re').fullmatch(r'$3', c['inside']) and c['remote'] == '$4'), None)" <<<"$js")
	if [ "$out" = null ]; then
		echo "no $2 flow $3 -> $4 in:"
		echo "$js"
		return 1
	fi
	echo "$2 $3 -> $4: outside $out"
	[[ $out =~ ^($5)$ ]]
}

counters_snap()
{
	local n=$1 js k v b

	declare -gA "$2"
	local -n arr=$2
	js=$(vnat_status_json "$n") || return 1
	arr=()
	while read -r k v b; do
		arr["$k"]=$v
		arr["$k.bytes"]=$b
	done < <(json_get '"\n".join("%s %d %d" % (k, v["packets"], v["bytes"]) for k, v in d["counters"].items())' <<<"$js")
	[ "${#arr[@]}" -gt 0 ]
}

# cdelta OLD NEW NAME[.bytes]: growth of counter NAME (packets, or bytes)
# between two snapshots; a fast-path counter with a tc twin counts both,
# as counter() does (NAME! alone).
cdelta()
{
	local -n o=$1 nw=$2
	local name=${3%.bytes} field=

	[ "$name" = "$3" ] || field=.bytes
	case "$name" in
	*!) name=${name%!} ;;
	fwd_routed | fwd_snat | fwd_dnat | fwd_bridged | fwd_icmp_error | fwd_hairpin | fwd_admitted)
		local tc=${name}_tc$field
		name=$name$field
		echo $((${nw[$name]:-0} - ${o[$name]:-0} + ${nw[$tc]:-0} - ${o[$tc]:-0}))
		return ;;
	esac
	name=$name$field
	echo $((${nw[$name]:-0} - ${o[$name]:-0}))
}

# Kernel conntrack entries of NS (one line each), for reports.
ct_list()
{
	in_ns "$1" conntrack -L 2>/dev/null
}
