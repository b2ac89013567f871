#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install.sh - `make install` into a scratch DESTDIR: every file where the
# systemd unit, the libvirt hook and man(1) look for it, the man page
# renders, the bash completion completes commands and options, --version and
# help; the page's SYNOPSIS and OPTIONS are the ones written from the option
# tables (make man-check, which a stale page fails); `make uninstall` takes
# it all away and never an operator's own hook.
# Touches no network at all.
#
# Usage: install.sh        (V=1 for all command output)

set -u

# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

require_cmd make man bash
command -v "${MD2MAN:-go-md2man}" >/dev/null 2>&1 || skip_all "no go-md2man (tools/setup.sh)"

DEST=$LIB_TMPDIR/dest
PREFIX=/usr
SBIN=$DEST$PREFIX/sbin
FILES=(
	"$PREFIX/sbin/vnat"
	"$PREFIX/share/man/man8/vnat.8"
	"$PREFIX/share/bash-completion/completions/vnat"
	"$PREFIX/lib/systemd/system/vnat.service"
	"/etc/vnat/vnat.conf.example"
	"/etc/libvirt/hooks/network"
)

make_install()
{
	make -s -C "$REPO_ROOT" "$@" DESTDIR="$DEST" PREFIX="$PREFIX"
}

all_installed()
{
	local f rc=0

	for f in "${FILES[@]}"; do
		if [ -e "$DEST$f" ]; then
			echo "present: $f"
		else
			echo "missing: $f"
			rc=1
		fi
	done
	return "$rc"
}

none_installed()
{
	local f rc=0

	for f in "${FILES[@]}"; do
		[ -e "$DEST$f" ] && { echo "left: $f"; rc=1; }
	done
	return "$rc"
}

# The unit's and the hook's commands name the installed binary.
unit_execs_installed()
{
	local unit=$DEST$PREFIX/lib/systemd/system/vnat.service line bin n=0

	while IFS= read -r line; do
		bin=${line#*=}
		bin=${bin%% *}
		echo "$line -> $bin"
		[ "$bin" = "$PREFIX/sbin/vnat" ] || [ "$bin" = /bin/kill ] || return 1
		n=$((n + 1))
	done < <(grep -E '^Exec(Start|StartPre|Reload)=' "$unit")
	grep -q '^ExecStartPre=/usr/sbin/vnat apply$' "$unit" &&
		grep -q '^ExecStart=/usr/sbin/vnat daemon$' "$unit" &&
		grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$unit" &&
		! grep -q '^Exec[A-Za-z]*=-' "$unit" && [ "$n" -eq 3 ]
}

hook_calls_installed()
{
	grep -q "^$PREFIX/sbin/vnat libvirt-hook \"\$@\"" "$DEST/etc/libvirt/hooks/network" &&
		[ -x "$DEST/etc/libvirt/hooks/network" ]
}

man_renders()
{
	local out

	out=$(MANWIDTH=100 man -l "$DEST$PREFIX/share/man/man8/vnat.8" 2>&1) || return 1
	echo "$out" | head -3
	grep -q '^VNAT(8)' <<<"$out" && grep -Eq 'vnat +load +--iface +IFACE' <<<"$out" &&
		grep -Eq 'vnat +unload +\[--iface +IFACE +\| +--all +\| +--stale\]' <<<"$out" &&
		! grep -q '@VERSION@' <<<"$out" && ! grep -Eq '<!--|generated:' <<<"$out"
}

# complete WORDS...: what the installed completion offers for the last word.
complete_words()
{
	COMPLETION=$DEST$PREFIX/share/bash-completion/completions/vnat bash -c '
		source "$COMPLETION" || exit 1
		complete -p vnat | grep -q -- "-F _vnat" || exit 1
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_vnat
		printf "%s\n" "${COMPREPLY[@]}"' complete "$@"
}

offers()
{
	local want=$1 got

	shift
	got=$(complete_words "$@") || return 1
	echo "offered: $(tr '\n' ' ' <<<"$got")"
	grep -qx -- "$want" <<<"$got"
}

offers_only()
{
	local want=$1 got

	shift
	got=$(complete_words "$@") || return 1
	echo "offered: $(tr '\n' ' ' <<<"$got")"
	[ "$got" = "$want" ]
}

version_ok()
{
	local out want

	want=$("$REPO_ROOT/tools/version.sh")
	out=$("$SBIN/vnat" --version) || return 1
	echo "$out"
	[ "$(sed -n 1p <<<"$out")" = "vnat $want" ] &&
		grep -Eq '^libbpf [0-9]+\.[0-9]+' <<<"$out" && grep -Eq '^libxdp [0-9]+\.[0-9]+' <<<"$out"
}

help_is_command_help()
{
	local a b

	a=$("$SBIN/vnat" help "$1") || return 1
	b=$("$SBIN/vnat" "$1" --help) || return 1
	[ "$a" = "$b" ] && grep -q "^Usage: vnat $1" <<<"$a"
}

# The long options a command's parser takes: its table, through the
# completion written from it.
table_opts()
{
	complete_words vnat "$1" --
}

has_opt()
{
	grep -qE -- "$1([^a-z-]|\$)" <<<"$2"
}

# Every option the installed completion offers after the command (its table
# and the global one) in its usage and in the installed page's OPTIONS.
documented()
{
	local c=$1 o usage man opts rc=0

	opts=$(table_opts "$c") || return 1
	[ -n "$opts" ] || return 1
	usage=$("$SBIN/vnat" help "$c") || return 1
	man=$(MANWIDTH=1000 man -l "$DEST$PREFIX/share/man/man8/vnat.8" 2>/dev/null |
		sed -n '/^OPTIONS/,/^CONFIGURATION/p')
	for o in $opts; do
		has_opt "$o" "$usage" || { echo "usage of $c lacks $o"; rc=1; }
		has_opt "$o" "$man" || { echo "man page's OPTIONS lack $o"; rc=1; }
	done
	return "$rc"
}

MAN_SECTIONS=$REPO_ROOT/build/tools/man-sections

man_check()
{
	make -s -C "$REPO_ROOT" man-check
}

# A copy of the page without the entry of --stale (an option the tables
# have and the page does not): man-check must fail, man-sync must repair it.
stale_page_fails()
{
	local page=$LIB_TMPDIR/stale.8.md

	awk '/^\*\*--stale\*\*$/ { skip = 1; next } skip && /^$/ { skip = 0; next } !skip' \
		"$REPO_ROOT/docs/vnat.8.md" >"$page"
	cmp -s "$page" "$REPO_ROOT/docs/vnat.8.md" && { echo "the copy is not stale"; return 1; }
	! "$REPO_ROOT/tools/man-sync.sh" --check "$MAN_SECTIONS" "$page"
}

# ... and one documenting an option the tables do not have.
extra_option_fails()
{
	local page=$LIB_TMPDIR/extra.8.md

	sed 's/^\*\*--once\*\*$/**--twice**\n: Twice.\n\n&/' "$REPO_ROOT/docs/vnat.8.md" >"$page"
	grep -q -- '--twice' "$page" || return 1
	! "$REPO_ROOT/tools/man-sync.sh" --check "$MAN_SECTIONS" "$page"
}

stale_page_synced()
{
	local page=$LIB_TMPDIR/stale.8.md

	"$REPO_ROOT/tools/man-sync.sh" "$MAN_SECTIONS" "$page" &&
		cmp "$page" "$REPO_ROOT/docs/vnat.8.md"
}

foreign_hook_kept()
{
	mkdir -p "$DEST/etc/libvirt/hooks"
	printf '#!/bin/sh\n# the operator'"'"'s own hook\n' >"$DEST/etc/libvirt/hooks/network"
	make_install install || return 1
	grep -q "operator's own hook" "$DEST/etc/libvirt/hooks/network" || return 1
	make_install uninstall || return 1
	grep -q "operator's own hook" "$DEST/etc/libvirt/hooks/network"
}

check "make install DESTDIR PREFIX=/usr" make_install install
check "every file installed" all_installed
check "unit: apply then daemon, reload by SIGHUP, no ignored failure, installed binary" \
	unit_execs_installed
check "libvirt hook calls the installed binary" hook_calls_installed
check "man -l renders vnat(8) with the synopsis" man_renders
check "completion: a command from its prefix" offers_only status vnat sta
check "completion: load's options" offers --masquerade vnat load --mas
check "completion: unload --stale" offers --stale vnat unload --st
check "completion: -j and -v after status" offers --verbose vnat status --verb
check "completion: an interface after --iface" offers lo vnat load --iface l
check "completion: apply" offers apply vnat ap
check "completion: apply's FILE" offers "$DEST/etc/vnat/vnat.conf.example" vnat apply "$DEST/etc/vnat/vnat.conf"
check "completion: libvirt-hook --config" offers --config vnat libvirt-hook --con
for cmd in load unload status conns daemon apply libvirt-hook doctor; do
	check "$cmd: every option of its table in its usage and the man page" documented "$cmd"
done
check "make man-check: the page's SYNOPSIS and OPTIONS are the tables'" man_check
check "man-check fails on a page missing an option" stale_page_fails
check "man-check fails on a page with an option the tables lack" extra_option_fails
check "man-sync writes the missing option back" stale_page_synced
check "--version: vnat's, libbpf's and libxdp's" version_ok
check "help load = load --help" help_is_command_help load
check "help daemon = daemon --help" help_is_command_help daemon
check_fail "help of an unknown command fails" "$SBIN/vnat" help bogus
check "status -v parses like status -j (-h)" "$SBIN/vnat" status -v --help
check "global options after any command (load -j -h)" "$SBIN/vnat" load -j -v --help
check "completion: a value's choices" offers tc vnat load --hook t
check "make uninstall" make_install uninstall
check "nothing left" none_installed
check "an operator's own libvirt hook is neither replaced nor removed" foreign_hook_kept

exit_summary
