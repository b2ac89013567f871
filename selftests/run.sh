#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every vnat test: the cmocka unit binaries, then the netns scenarios.
# Counts individual tests and checks, shows a failing test's output, and ends
# with the line "N passed, N failed[, N skipped]". V=1 shows all output.
# Environment: UNIT_DIR (built unit tests), VNAT (the CLI), TESTS (a subset:
# names like test_fwd or routed).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
UNIT_DIR=${UNIT_DIR:-$top/build/selftests}
export VNAT=${VNAT:-$top/build/vnat}
V=${V:-0}
passed=0 failed=0 skipped=0
failed_names=()

if [ "$(id -u)" != 0 ]; then
	echo "selftests: run as root (BPF, network namespaces)" >&2
	exit 1
fi

wanted() {
	[ -z "${TESTS:-}" ] && return 0
	case " $TESTS " in *" $1 "*) return 0 ;; esac
	return 1
}

# cmocka's "[  PASSED  ] N test(s)." summaries plus lib.sh's "PASS: ..." lines.
count() {
	local out=$1 cm=$2 word=$3
	awk -v cm="[  $cm] " -v word="$word:" '
		index($0, cm) == 1 { n = substr($0, length(cm) + 1); if (n ~ /^[0-9]+ test/) t += n + 0 }
		index($0, word) == 1 { t++ }
		END { print t + 0 }' "$out"
}

# Output of one test program in a file: count cmocka's and lib.sh's lines.
tally() {
	local name=$1 rc=$2 out=$3 p f s
	p=$(count "$out" 'PASSED  ' PASS)
	f=$(count "$out" 'FAILED  ' FAIL)
	s=$(count "$out" 'SKIPPED ' SKIP)
	# A crash or a non-zero exit with no failing check still fails once.
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	if [ "$rc" -eq 4 ] && [ "$p" -eq 0 ] && [ "$s" -eq 0 ]; then
		s=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	if [ "$f" -gt 0 ]; then
		failed_names+=("$name")
		[ "$V" = 1 ] || { echo "---- output of $name ----"; cat "$out"; echo "----"; }
	fi
	printf '%-28s %3d passed %3d failed %3d skipped\n' "$name" "$p" "$f" "$s"
}

run_one() {
	local name=$1
	shift
	local out rc
	out=$(mktemp)
	if [ "$V" = 1 ]; then
		"$@" 2>&1 | tee "$out"
		rc=${PIPESTATUS[0]}
	else
		"$@" >"$out" 2>&1
		rc=$?
	fi
	tally "$name" "$rc" "$out"
	rm -f "$out"
}

for t in "$UNIT_DIR"/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	wanted "$name" && run_one "$name" "$t"
done

for t in "$top"/selftests/net/*.sh; do
	name=$(basename "$t" .sh)
	case "$name" in lib | lib_*) continue ;; esac
	wanted "$name" && run_one "$name" bash "$t"
done

[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
