#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# upgrade.sh - pins left by another vnat version. An operator upgrades vnat
# (make install) while an instance loaded by the old version runs: its pins
# are another set of maps. Every command of the new version says so and
# what to do ('vnat unload --all') instead of "not loaded", changes
# nothing, and 'vnat unload --all' of the new version takes the old
# instance's programs off and removes its pins, after which load works.
#
#   [host] a0 192.0.2.1/24 -- a1 (a veth pair; a1 is never loaded)
#
# The older version is stood in for by removing one of this version's pins
# (the maps added since: vnat_ucount, vnat_kliberal, vnat_klibreq).
#
# Usage: upgrade.sh        (V=1 for all command output; VNAT=path to override)

set -u

# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip tc
require_vnat

ns_create host
H=$(ns host)
PIN_DIR=/sys/fs/bpf/vnat/netns-$(ns_inode "$H")
must "veth a0 <-> a1" ip -n "$H" link add a0 type veth peer name a1
must "a0 up" ip -n "$H" link set a0 up
must "a1 up" ip -n "$H" link set a1 up
must "a0 address" ip -n "$H" addr add 192.0.2.1/24 dev a0
defer vnat_in "$H" unload --all

# tc_filters NS IFACE: the tc filters on IFACE's ingress and egress.
tc_filters()
{
	ip netns exec "$1" tc filter show dev "$2" ingress
	ip netns exec "$1" tc filter show dev "$2" egress
}

has_vnat_filter()
{
	tc_filters "$1" "$2" | grep -q 'tc_vnat_'
}

# said_other_version FILE: the command's stderr names the cause and the fix.
said_other_version()
{
	grep -q "another vnat version" "$1" && grep -q "'vnat unload --all'" "$1"
}

test_group "upgrade: an older instance"
check_rc 0 "load --iface a0" vnat_in "$H" load --iface a0
check "its hooks are on a0" has_vnat_filter "$H" a0
must "an older version's pins: no vnat_kliberal" rm "$PIN_DIR/vnat_kliberal"

test_group "upgrade: commands say so and change nothing"
check_fail "status fails" vnat_in "$H" status
check "... saying the pins are another version's, and 'vnat unload --all'" \
	said_other_version "$RUN_ERR"
check_fail "load --iface a1 is refused" vnat_in "$H" load --iface a1
check "... saying why and what to do" said_other_version "$RUN_ERR"
check_fail "... and a1 has no vnat program" has_vnat_filter "$H" a1
check_fail "unload --iface a0 is refused" vnat_in "$H" unload --iface a0
check "... naming 'vnat unload --all'" grep -q "'vnat unload --all'" "$RUN_ERR"
check "... and a0 keeps its hooks" has_vnat_filter "$H" a0
check_fail "daemon refuses to follow it" vnat_in "$H" daemon --once
check "... saying why" said_other_version "$RUN_ERR"

test_group "upgrade: unload --all removes it"
check_rc 0 "unload --all" vnat_in "$H" unload --all
check "... says it was another version's" grep -q "loaded by another vnat version" "$RUN_OUT"
check_fail "a0 has no vnat program left" has_vnat_filter "$H" a0
check_fail "the pins are gone" test -e "$PIN_DIR"
check_rc 0 "load --iface a0 works again" vnat_in "$H" load --iface a0
check "... and status is this version's" vnat_in "$H" status
check_rc 0 "unload --all" vnat_in "$H" unload --all

exit_summary
