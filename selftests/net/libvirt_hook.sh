#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# libvirt_hook.sh - vnat libvirt-hook driven as libvirtd drives
# /etc/libvirt/hooks/network: NETWORK OPERATION SUB-OPERATION EXTRA as
# arguments, the network's XML on stdin (libvirt's default network, a
# routed and an isolated one, as libvirt writes them), the bridges created
# and deleted around it as libvirt does:
#
#   [g1] 192.168.122.10 -- vnet0 --virbr0 192.168.122.1 (nat 2000-2999)  [host]  up0 198.51.100.1 -- [up] 198.51.100.2
#                                  virbr1 192.0.2.1 (route), virbr2 203.0.113.1 (isolated)
#
# up has no route back to 192.168.122.0/24: only translated traffic works.
# The configuration asks for the tc hook (no offload tuning on endpoints).
#
# Usage: libvirt_hook.sh        (V=1 for all command output)

set -u

# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib_nat.sh"

require_root
require_cmd ip socat python3 timeout
require_vnat

ns_create host g1 up
HOST=$(ns host) G1=$(ns g1) UP=$(ns up)
export VNAT_CONF=$LIB_TMPDIR/vnat.conf
SNAT=198.51.100.1
PUB=198.51.100.2

# libvirt's default network (its networks/default.xml once defined and
# started), as libvirtd hands it to the hook: inside <hookData>.
DEFAULT_XML="<hookData>
  <network>
    <name>default</name>
    <uuid>3b7f5e1a-6a3f-4a0e-9c3e-1f1d2a0b4c5d</uuid>
    <forward mode='nat'>
      <nat>
        <port start='2000' end='2999'/>
      </nat>
    </forward>
    <bridge name='virbr0' stp='on' delay='0'/>
    <mac address='52:54:00:12:34:56'/>
    <ip address='192.168.122.1' netmask='255.255.255.0'>
      <dhcp>
        <range start='192.168.122.2' end='192.168.122.254'/>
      </dhcp>
    </ip>
  </network>
</hookData>"

net_xml()
{
	local name=$1 br=$2 forward=$3 addr=$4

	cat <<-EOX
	<network>
	  <name>$name</name>
	  $forward
	  <bridge name="$br" stp="on" delay="0"/>
	  <ip address="$addr" netmask="255.255.255.0"/>
	</network>
	EOX
}

ROUTED_XML=$(net_xml routed virbr1 "<forward mode='route'/>" 192.0.2.1)
ISOLATED_XML=$(net_xml isolated virbr2 "" 203.0.113.1)
INCLUDED_XML=$(net_xml iso-inc virbr3 "" 203.0.113.129)
SKIPPED_XML=$(net_xml skipme virbr4 "<forward mode='nat'/>" 192.168.123.1)

# ---------------------------------------------------------------- helpers

# hook XML NETWORK OPERATION SUB-OP: as libvirtd runs the hook.
hook()
{
	local xml=$1

	shift
	timeout --foreground "$CMD_TIMEOUT" ip netns exec "$HOST" "$VNAT" libvirt-hook "$@" - <<<"$xml"
}

# libvirt's side of net-start: the bridge, up, addressed.
bridge_up()
{
	ip -n "$HOST" link add "$1" type bridge stp_state 0 &&
		ip -n "$HOST" addr add "$2" dev "$1" && ip -n "$HOST" link set "$1" up
}

status_js()
{
	vnat_status_json "$HOST"
}

# said FILE PATTERN: a run's output (pass "$RUN_OUT" of the run before) says it.
said()
{
	cat "$1"
	grep -q -- "$2" "$1"
}

installed_hook()
{
	sed "s|@SBINDIR@|$(dirname "$VNAT")|g" "$REPO_ROOT/tools/libvirt/network" \
		>"$LIB_TMPDIR/network" && chmod +x "$LIB_TMPDIR/network"
}

run_installed_hook()
{
	ip netns exec "$HOST" "$LIB_TMPDIR/network" "$@" <<<"$DEFAULT_XML"
}

# ---------------------------------------------------------------- topology

must "virbr0 (libvirt's net-start)" bridge_up virbr0 192.168.122.1/24
must "g1 <-> vnet0" veth_pair "$G1" eth0 "$HOST" vnet0
must "vnet0 in virbr0" ip -n "$HOST" link set vnet0 master virbr0
must "up0 <-> up" veth_pair "$HOST" up0 "$UP" eth0
must "up0 address" ip -n "$HOST" addr add "$SNAT/24" dev up0
must "default route (masquerade finds the uplink by it)" ip -n "$HOST" route add default via "$PUB"
must "g1 address" ip -n "$G1" addr add 192.168.122.10/24 dev eth0
must "g1 route" ip -n "$G1" route add default via 192.168.122.1
must "up address" ip -n "$UP" addr add "$PUB/24" dev eth0
must "host forwards" in_ns "$HOST" sysctl -qw net.ipv4.ip_forward=1
must "the outside answers (port 7000)" peer_server_tcp PEER "$UP" 7000
cat >"$VNAT_CONF" <<CONF
# libvirt_hook.sh
[network default]
hook = tc

[network iso-inc]
libvirt = include
hook = tc

[network skipme]
libvirt = skip
CONF
defer vnat_in "$HOST" unload --all

# ---------------------------------------------------------------- checks

test_group default-nat
check "start (before the bridge exists): nothing to do" hook "$DEFAULT_XML" default start begin
check "so nothing loaded" vnat_not_loaded "$HOST"
check "started" hook "$DEFAULT_XML" default started begin
check "virbr0 managed as the inside" iface_role_is "$HOST" virbr0 inside
check "up0, the default route's interface, as the uplink" iface_role_is "$HOST" up0 uplink
check "vnet0 as its port" iface_role_is "$HOST" vnet0 port
check "the network's port range, masquerade" json_eq "$(status_js)" \
	"[d['config'][k] for k in ('port_min', 'port_max', 'masquerade', 'snat')]" \
	"[2000, 2999, true, \"$SNAT\"]"
check "the configuration's hook" json_eq "$(status_js)" \
	"next(i['hook_option'] for i in d['interfaces'] if i['name'] == 'virbr0')" tc
check "guests translated, ports 2000-2999" outside_port_in "$G1" "$PUB" "$SNAT" 2000 2999
check "updated: already managed, nothing added" hook "$DEFAULT_XML" default updated begin
check "one virbr0 row" json_eq "$(status_js)" "len([i for i in d['interfaces'] if i['name'] == 'virbr0'])" 1
UPDATED_XML=${DEFAULT_XML//"start='2000' end='2999'"/"start='3000' end='3999'"}
check "updated with a new port range (net-update)" hook "$UPDATED_XML" default updated begin
check "the range changed live" json_eq "$(status_js)" "[d['config']['port_min'], d['config']['port_max']]" "[3000, 3999]"
check "new connections take ports in 3000-3999" outside_port_in "$G1" "$PUB" "$SNAT" 3000 3999
check "updated back" hook "$DEFAULT_XML" default updated begin

test_group routed
must "virbr1 (net-start)" bridge_up virbr1 192.0.2.1/24
check "started" hook "$ROUTED_XML" routed started begin
check "virbr1 managed, routed (not translated)" iface_role_is "$HOST" virbr1 routed

test_group isolated
must "virbr2 (net-start)" bridge_up virbr2 203.0.113.1/24
check "started" hook "$ISOLATED_XML" isolated started begin
check "says it is left to the kernel" said "$RUN_OUT" "isolated: left to the kernel (it is isolated"
check "virbr2 not managed" iface_role_is "$HOST" virbr2 absent
must "virbr3 (net-start)" bridge_up virbr3 203.0.113.129/25
check "an isolated network the configuration includes: started" hook "$INCLUDED_XML" iso-inc started begin
check "virbr3 managed, routed" iface_role_is "$HOST" virbr3 routed

test_group skipped
must "virbr4 (net-start)" bridge_up virbr4 192.168.123.1/24
check "a nat network the configuration skips: started" hook "$SKIPPED_XML" skipme started begin
check "says so" said "$RUN_OUT" "skipme: left to the kernel (skipped in the configuration)"
check "virbr4 not managed" iface_role_is "$HOST" virbr4 absent

test_group stopped
must "net-destroy routed: libvirt deletes virbr1" ip -n "$HOST" link del virbr1
check "stopped" hook "$ROUTED_XML" routed stopped end
check "virbr1 unloaded (by its name: the device is gone)" iface_role_is "$HOST" virbr1 absent
check "the others stay" iface_role_is "$HOST" virbr0 inside
must "net-destroy default: libvirt deletes virbr0" ip -n "$HOST" link del virbr0
check "stopped" hook "$DEFAULT_XML" default stopped end
check "virbr0 unloaded" iface_role_is "$HOST" virbr0 absent
check "and its port" iface_role_is "$HOST" vnet0 absent
check "the uplink stays for the included network" iface_role_is "$HOST" up0 uplink
check "stopped iso-inc" hook "$INCLUDED_XML" iso-inc stopped end
check "nothing left but the uplink, so everything unloaded" vnat_not_loaded "$HOST"
check "stopped again: nothing to do" hook "$INCLUDED_XML" iso-inc stopped end

test_group installed-hook
must "the hook script, for this build" installed_hook
must "net-start default: virbr0 again" bridge_up virbr0 192.168.122.1/24
must "vnet0 in it" ip -n "$HOST" link set vnet0 master virbr0
check "the script, run as libvirtd runs it, exits 0" run_installed_hook default started begin -
check "virbr0 managed" iface_role_is "$HOST" virbr0 inside
check "guests translated again" outside_port_in "$G1" "$PUB" "$SNAT" 2000 2999

test_group errors
check_fail "XML without a network" hook "<hookData/>" default started begin
check "one line saying what is missing" bash -c "[ \$(wc -l <'$RUN_ERR') = 1 ] && grep -q 'no <network>' '$RUN_ERR'"
check_fail "libvirt's arguments missing" ip netns exec "$HOST" "$VNAT" libvirt-hook default
check "nothing changed" iface_role_is "$HOST" virbr0 inside

exit_summary
