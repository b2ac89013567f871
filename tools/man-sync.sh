#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# man-sync.sh [--check] GENERATOR PAGE: the parts of PAGE (docs/vnat.8.md)
# between "<!-- generated: NAME -->" and "<!-- end generated -->" are what
# "GENERATOR NAME" writes (build/tools/man-sections: the SYNOPSIS and
# OPTIONS written from the option tables). Rewrites PAGE, or with --check
# fails, naming the section and showing the difference, when it is stale.
set -eu

check=0
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
[ $# -eq 2 ] || { echo "usage: man-sync.sh [--check] GENERATOR PAGE" >&2; exit 2; }
gen=$1 page=$2
new=$(mktemp)
trap 'rm -f "$new"' EXIT

# Each marker pair once, in order; the generator's output replaces what is between.
awk -v gen="$gen" '
	/^<!-- generated: [a-z]+ -->$/ {
		print
		name = $3
		cmd = gen " " name
		while ((cmd | getline line) > 0)
			print line
		if (close(cmd) != 0) {
			print "man-sync: " cmd " failed" > "/dev/stderr"
			exit 1
		}
		inside = 1
		n++
		next
	}
	/^<!-- end generated -->$/ { inside = 0 }
	!inside { print }
	END {
		if (inside) {
			print "man-sync: no <!-- end generated --> after " name > "/dev/stderr"
			exit 1
		}
		if (!n) {
			print "man-sync: no <!-- generated: NAME --> marker" > "/dev/stderr"
			exit 1
		}
	}' "$page" >"$new"

if [ "$check" = 0 ]; then
	cmp -s "$new" "$page" || cat "$new" >"$page"
	exit 0
fi
if ! diff -u --label "$page" --label "generated from the option tables" "$page" "$new"; then
	echo "man-sync: $page: SYNOPSIS/OPTIONS differ from the option tables" \
		"(user/args.c); run 'make man-sync' and commit the page" >&2
	exit 1
fi
