#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkguest.sh - build the tiny test guest used by selftests/net/guest.sh:
# a Debian kernel and an initramfs holding a static busybox, the kernel's
# virtio-net modules and tools/guest/init. Nothing is kept in the tree:
# everything is fetched and built into OUTDIR.
#
# Usage: mkguest.sh OUTDIR
#   OUTDIR/vmlinuz, OUTDIR/initrd.gz, OUTDIR/kernel (the package it came from)
#
# Environment
#   GUEST_KERNEL_PKG  kernel package (default: what linux-image-amd64 depends on)
#   GUEST_KERNEL_DEB  use this .deb instead of downloading one
#   BUSYBOX           static busybox (default: /bin/busybox of busybox-static)
#
# Exit status: 0 built; 4 a prerequisite cannot be had here (no busybox-static,
# cpio or dpkg-deb, or the kernel package cannot be downloaded: the caller
# skips); 1 anything else went wrong.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
MODS="virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"

unavailable()
{
	echo "mkguest: $*" >&2
	exit 4
}

fail()
{
	echo "mkguest: $*" >&2
	exit 1
}

[ $# -eq 1 ] || fail "usage: mkguest.sh OUTDIR"
OUT=$1
mkdir -p "$OUT" || fail "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)

for c in cpio gzip dpkg-deb tar; do
	command -v "$c" >/dev/null 2>&1 || unavailable "missing command $c (apt-get install cpio dpkg)"
done
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || unavailable "no busybox at $BUSYBOX (apt-get install busybox-static)"
# A dynamically linked busybox cannot run in an initramfs without its libc.
if LC_ALL=C file -L "$BUSYBOX" 2>/dev/null | grep -q 'dynamically linked'; then
	unavailable "$BUSYBOX is dynamically linked (apt-get install busybox-static)"
fi

deb=${GUEST_KERNEL_DEB:-}
if [ -z "$deb" ]; then
	command -v apt-get >/dev/null 2>&1 || unavailable "no apt-get to download a kernel"
	pkg=${GUEST_KERNEL_PKG:-}
	if [ -z "$pkg" ]; then
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
		[ -n "$pkg" ] || unavailable "apt-cache knows no linux-image-amd64 (run apt-get update)"
	fi
	mkdir -p "$OUT/deb"
	# apt's _apt user cannot write into a private temporary directory:
	# download as root, which apt only warns about.
	(cd "$OUT/deb" && apt-get download -q "$pkg") >"$OUT/deb/download.log" 2>&1 ||
		unavailable "apt-get download $pkg failed: $(tail -n 2 "$OUT/deb/download.log")"
	deb=$(find "$OUT/deb" -name '*.deb' | head -n 1)
	[ -n "$deb" ] || unavailable "apt-get download $pkg left no .deb"
else
	pkg=$(dpkg-deb -f "$deb" Package) || fail "$deb is not a Debian package"
fi

# Only the kernel image and the modules the guest loads.
kx=$OUT/kernel-x
rm -rf "$kx"
mkdir -p "$kx"
patterns=("./boot/vmlinuz-*")
for m in $MODS; do
	patterns+=("*/$m.ko" "*/$m.ko.xz" "*/$m.ko.zst")
done
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kx" --wildcards "${patterns[@]}" 2>/dev/null
vmlinuz=$(find "$kx/boot" -name 'vmlinuz-*' 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || fail "no /boot/vmlinuz-* in $deb"
cp "$vmlinuz" "$OUT/vmlinuz" || fail "copy vmlinuz"

root=$OUT/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,lib/modules} || fail "initramfs tree"
cp "$BUSYBOX" "$root/bin/busybox" || fail "copy busybox"
ln -s busybox "$root/bin/sh"
if ! cp "$HERE/init" "$root/init" || ! chmod 755 "$root/init"; then
	fail "copy init"
fi
for m in $MODS; do
	f=$(find "$kx/lib/modules" -name "$m.ko*" | head -n 1)
	[ -n "$f" ] || fail "module $m not in $deb"
	case "$f" in
	*.ko.xz) xz -dc "$f" >"$root/lib/modules/$m.ko" || fail "unpack $f" ;;
	*.ko.zst) zstd -qdc "$f" >"$root/lib/modules/$m.ko" || fail "unpack $f" ;;
	*) cp "$f" "$root/lib/modules/$m.ko" || fail "copy $f" ;;
	esac
done
# The console must exist before devtmpfs is mounted, for init's first output.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$OUT/initrd.gz" ||
	fail "cpio"
echo "$pkg" >"$OUT/kernel"
rm -rf "$kx" "$root" "$OUT/deb"
echo "mkguest: $OUT/vmlinuz and $OUT/initrd.gz from $pkg"
