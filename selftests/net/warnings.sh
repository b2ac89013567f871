#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# warnings.sh - configurations that do nothing say so: load warns once per
# problem and still loads; status shows the same warnings, recomputed from
# the topology, so each goes once it is fixed.
#
#   [host] br0 (no ports, no address)   eth1 (uplink, no address)
#                                          |
#                                        [up] eth0 198.51.100.1/24
#
# vnat load --iface br0 --snat 198.51.100.2 --out eth1 gives three
# warnings: bridge br0 has no ports, inside interface br0 has no IPv4
# address, uplink eth1 has no IPv4 address. A guest joins br0, br0 gets
# 203.0.113.1/24, eth1 gets 198.51.100.2/24: one warning goes each time.
# Then a load that is complete from the start warns about nothing.
#
# Usage: warnings.sh        (V=1 for all command output; VNAT=path to override)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip python3 timeout
require_vnat

# kinds NS: "IFACE:KIND" of every warning in status -j, sorted, on one line.
kinds()
{
	local js

	js=$(vnat_status_json "$1") || return 1
	json_get "' '.join(sorted(w['interface'] + ':' + w['kind'] for w in d['warnings']))" <<<"$js"
}

kinds_are()
{
	local got

	got=$(kinds "$1") || return 1
	echo "status -j warnings: '$got', want '$2'"
	[ "$got" = "$2" ]
}

# warning_lines FILE: how many "vnat: warning: " lines load printed.
warning_lines()
{
	grep -c '^vnat: warning: ' "$1"
}

ns_create host up g1
H=$(ns host) UP=$(ns up) G1=$(ns g1)
must "bridge br0 (no ports, no address)" ip -n "$H" link add br0 type bridge stp_state 0
must "br0 up" ip -n "$H" link set br0 up
must "veth host/eth1 <-> up/eth0" veth_pair "$H" eth1 "$UP" eth0
must "up address" ip -n "$UP" addr add 198.51.100.1/24 dev eth0
defer vnat_in "$H" unload --all

test_group "warnings: load"
check_rc 0 "load --iface br0 --snat 198.51.100.2 --out eth1 loads" \
	vnat_in "$H" load --iface br0 --snat 198.51.100.2 --out eth1
LOAD_ERR=$RUN_ERR
check_cmp "load printed 3 warning lines on stderr" "$(warning_lines "$LOAD_ERR")" -eq 3
check "... bridge br0 has no ports, with the command that adds one" \
	grep -qx 'vnat: warning: bridge br0 has no ports: .*(ip link set IFACE master br0)' "$LOAD_ERR"
check "... inside interface br0 has no IPv4 address, with the remedy" \
	grep -qx 'vnat: warning: inside interface br0 has no IPv4 address: .*(ip addr add ADDR/LEN dev br0)' "$LOAD_ERR"
check "... uplink eth1 has no IPv4 address, with the remedy" \
	grep -qx 'vnat: warning: uplink eth1 has no IPv4 address: .*(ip addr add ADDR/LEN dev eth1)' "$LOAD_ERR"
check "... and nothing else on stderr" bash -c "! grep -v '^vnat: warning: ' '$LOAD_ERR'"
check "status -j lists br0 and eth1 (it loaded)" json_eq "$(vnat_status_json "$H")" \
	"sorted(i['name'] for i in d['interfaces'])" '["br0", "eth1"]'

test_group "warnings: status"
check "status -j: the three warnings" kinds_are "$H" \
	"br0:bridge_no_ports br0:inside_no_address eth1:uplink_no_address"
check "status -j: each message names its interface" json_eq "$(vnat_status_json "$H")" \
	"all(w['interface'] in w['message'] for w in d['warnings'])" true
check "status (text): the same three lines" vnat_in "$H" status
check_cmp "... 3 'warning:' lines" "$(grep -c '^warning: ' "$RUN_OUT")" -eq 3
check "... the text is load's" bash -c \
	"diff <(sed -n 's/^warning: //p' '$RUN_OUT') <(sed -n 's/^vnat: warning: //p' '$LOAD_ERR')"

must "a guest joins br0" veth_pair "$H" vnet0 "$G1" eth0
must "vnet0 into br0" ip -n "$H" link set vnet0 master br0
check "a port: bridge_no_ports goes" kinds_are "$H" "br0:inside_no_address eth1:uplink_no_address"
must "br0 address" ip -n "$H" addr add 203.0.113.1/24 dev br0
check "an address on br0: inside_no_address goes" kinds_are "$H" "eth1:uplink_no_address"
must "eth1 address" ip -n "$H" addr add 198.51.100.2/24 dev eth1
check "an address on eth1: no warning left" kinds_are "$H" ""
check "status (text): no 'warning:' line" vnat_in "$H" status
check "... none" bash -c "! grep -q '^warning: ' '$RUN_OUT'"
must "eth1 loses its address" ip -n "$H" addr del 198.51.100.2/24 dev eth1
check "status notices at once: uplink_no_address" kinds_are "$H" "eth1:uplink_no_address"
must "eth1 address again" ip -n "$H" addr add 198.51.100.2/24 dev eth1

test_group "warnings: complete load"
check_rc 0 "unload --all" vnat_in "$H" unload --all
check_rc 0 "load --iface br0 --snat 198.51.100.2 (port and addresses present)" \
	vnat_in "$H" load --iface br0 --snat 198.51.100.2
check_cmp "no warning line" "$(warning_lines "$RUN_ERR")" -eq 0
check "status -j: warnings is an empty list" kinds_are "$H" ""
check_rc 0 "unload --all" vnat_in "$H" unload --all

exit_summary
