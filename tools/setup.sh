#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install vnat's build and test dependencies on Debian 12 (idempotent) and
# make sure bpffs is mounted. Touches nothing else on the host.
set -eu

PKGS=(
	make gcc clang llvm pkg-config gcc-multilib clang-format
	libbpf-dev libxdp-dev libelf-dev zlib1g-dev libcmocka-dev bpftool xdp-tools
	libnl-3-dev libnl-route-3-dev go-md2man
	iproute2 iptables nftables conntrack tcpdump iperf3 ethtool netsniff-ng
	iputils-ping iputils-tracepath traceroute netcat-openbsd socat python3 procps pv
	qemu-system-x86 busybox-static cpio
	libvirt-daemon libvirt-clients dnsmasq-base
)

if [ "$(id -u)" != 0 ]; then
	echo "setup: run as root (apt-get, bpffs)" >&2
	exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! mount | grep -q ' /sys/fs/bpf type bpf'; then
	mount -t bpf bpf /sys/fs/bpf
fi
