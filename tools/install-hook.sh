#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# install-hook.sh install|uninstall SRC DEST: put vnat's libvirt network hook
# at DEST, or take it away, without ever replacing or removing a hook that is
# not vnat's (libvirt runs one file; the operator's own must stay).
set -eu
what=$1 src=$2 dest=$3
marker='vnat-libvirt-network-hook'

ours() { grep -q "$marker" "$1" 2>/dev/null; }

case $what in
install)
	if [ -e "$dest" ] && ! ours "$dest"; then
		echo "install: $dest exists and is not vnat's: left alone; call" \
			"'vnat libvirt-hook \"\$@\"' from it (see vnat(8))" >&2
		exit 0
	fi
	install -D -m 0755 "$src" "$dest"
	echo "install -D -m 0755 $src $dest"
	;;
uninstall)
	if ours "$dest"; then
		rm -f "$dest"
		echo "rm -f $dest"
	fi
	;;
esac
