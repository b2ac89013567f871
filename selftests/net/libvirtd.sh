#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# libvirtd.sh - the libvirt hook under a real libvirtd. libvirtd runs in a
# network namespace of the test and a mount namespace of its own, with
# tmpfs over its directories (/etc/libvirt, /var/lib, /var/cache, /var/log,
# /run): nothing of the host's libvirt is seen or touched. vnat's hook
# script (tools/libvirt/network, for this build) is its
# /etc/libvirt/hooks/network; virsh creates and destroys the networks:
#
#   [host] virbr0 192.168.122.1 (nat 2000-2999), virbr1 192.0.2.1 (route),
#          virbr2 203.0.113.1 (isolated); up0 198.51.100.1 -- [up] 198.51.100.2
#
# Skipped where libvirtd (libvirt-daemon, dnsmasq-base) is not installed.
#
# Usage: libvirtd.sh        (V=1 for all command output)

set -u

# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

require_root
require_cmd ip unshare nsenter python3 timeout
require_vnat
command -v libvirtd >/dev/null && command -v virsh >/dev/null ||
	skip_all "no libvirtd/virsh (packages libvirt-daemon, libvirt-clients, dnsmasq-base)"

ns_create host up
HOST=$(ns host) UP=$(ns up)

# libvirtd's private world. Debian's libvirt resolves its default QEMU
# user before reading qemu.conf: that user is added to a private copy of
# /etc/passwd and /etc/group, bound over them in this mount namespace only.
LIBVIRTD_SETUP='
set -e
cp /etc/passwd "$1/passwd"; cp /etc/group "$1/group"
echo "libvirt-qemu:x:0:0::/nonexistent:/usr/sbin/nologin" >>"$1/passwd"
printf "libvirt-qemu:x:0:\nkvm:x:0:\n" >>"$1/group"
mount --bind "$1/passwd" /etc/passwd
mount --bind "$1/group" /etc/group
for d in /etc/libvirt /var/lib /var/cache /var/log /run; do mount -t tmpfs tmpfs "$d"; done
mkdir -p /etc/libvirt/hooks /var/log/libvirt /var/lib/libvirt /var/cache/libvirt
printf "user = \"root\"\ngroup = \"root\"\n" >/etc/libvirt/qemu.conf
sed "s|@SBINDIR@|$2|g" "$3" >/etc/libvirt/hooks/network
chmod 0755 /etc/libvirt/hooks/network
exec libvirtd
'

# ---------------------------------------------------------------- helpers

virsh_in()
{
	timeout --foreground "$CMD_TIMEOUT" nsenter -t "$LIBVIRTD" -m -n virsh -c qemu:///system "$@"
}

net_create()
{
	local f=$LIB_TMPDIR/$1.xml

	printf '%s\n' "$2" >"$f"
	virsh_in net-create "$f"
}

# Networks libvirtd still runs, then their dnsmasq (started by our
# libvirtd, found by the pid files in its private /run).
destroy_all()
{
	local n f

	for n in $(virsh_in net-list --name 2>/dev/null); do
		virsh_in net-destroy "$n"
	done
	for f in /proc/"$LIBVIRTD"/root/run/libvirt/network/*.pid; do
		[ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	return 0
}

status_js()
{
	vnat_status_json "$HOST"
}

# ---------------------------------------------------------------- topology

must "up0 <-> up" veth_pair "$HOST" up0 "$UP" eth0
must "up0 address" ip -n "$HOST" addr add 198.51.100.1/24 dev up0
must "default route" ip -n "$HOST" route add default via 198.51.100.2
bg_in_ns LIBVIRTD "$HOST" unshare -m --propagation private bash -c "$LIBVIRTD_SETUP" sh \
	"$LIB_TMPDIR" "$(dirname "$VNAT")" "$REPO_ROOT/tools/libvirt/network"
defer vnat_in "$HOST" unload --all
defer destroy_all
if ! slowwait 20 virsh_in net-list; then
	log_skip "all tests" "libvirtd does not start here"
	cat "$LIBVIRTD_LOG" >&2
	exit_summary
fi

# ---------------------------------------------------------------- checks

test_group libvirtd-nat
check "virsh net-create default (nat, ports 2000-2999)" net_create default \
	"<network><name>default</name><forward mode='nat'><nat><port start='2000' end='2999'/></nat></forward><bridge name='virbr0' stp='on' delay='0'/><ip address='192.168.122.1' netmask='255.255.255.0'/></network>"
check "the hook loaded virbr0 as the inside" slowwait 10 iface_role_is "$HOST" virbr0 inside
check "and up0, the default route's, as the uplink" iface_role_is "$HOST" up0 uplink
check "with the network's port range, masquerading" json_eq "$(status_js)" \
	"[d['config'][k] for k in ('port_min', 'port_max', 'masquerade', 'snat')]" \
	'[2000, 2999, true, "198.51.100.1"]'

test_group libvirtd-route
check "virsh net-create routed" net_create routed \
	"<network><name>routed</name><forward mode='route'/><bridge name='virbr1'/><ip address='192.0.2.1' netmask='255.255.255.0'/></network>"
check "virbr1 loaded, routed" slowwait 10 iface_role_is "$HOST" virbr1 routed

test_group libvirtd-isolated
check "virsh net-create isolated" net_create isolated \
	"<network><name>isolated</name><bridge name='virbr2'/><ip address='203.0.113.1' netmask='255.255.255.0'/></network>"
check "its bridge exists" ip -n "$HOST" link show virbr2
check "virbr2 left to the kernel" iface_role_is "$HOST" virbr2 absent

test_group libvirtd-destroy
check "virsh net-destroy routed" virsh_in net-destroy routed
check "virbr1 unloaded" slowwait 10 iface_role_is "$HOST" virbr1 absent
check "virbr0 stays" iface_role_is "$HOST" virbr0 inside
check "virsh net-destroy default" virsh_in net-destroy default
check "virbr0 unloaded, and with only the uplink left, everything" slowwait 10 vnat_not_loaded "$HOST"
check "virsh net-destroy isolated" virsh_in net-destroy isolated

exit_summary
