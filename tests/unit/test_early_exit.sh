#!/bin/sh
# SPDX-License-Identifier: ISC
# test_early_exit.sh: the programs' early exits (help, version, a bad
# option, a bad configuration, -n) give the documented status and, in a
# sanitized build, leave no leak or other sanitizer report behind: a
# packager's `smbdirectd --help` under ASan must exit 0.
set -u
builddir=${builddir:-.}
work=$(mktemp -d "${TMPDIR:-/tmp}/early-exit.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT INT TERM
ASAN_OPTIONS="detect_leaks=1:log_path=$work/asan"
UBSAN_OPTIONS="print_stacktrace=1:log_path=$work/ubsan"
export ASAN_OPTIONS UBSAN_OPTIONS
fails=0 n=0

printf '[global]\nlisten = nowhere:1:2:3\n' >"$work/bad.conf"
printf '[global]\n' >"$work/good.conf"
# An indented option would continue the one above it (libinih).
printf '[metrics]\ntextfile = /tmp/x\n  interval = 30s\n' >"$work/indent.conf"
printf '[gateway]\n  backend = 192.0.2.1:445\n' >"$work/gw-indent.conf"

# check WANT_STATUS PROGRAM ARGS...
check() {
	want=$1; shift
	n=$((n + 1))
	"$builddir/$@" >"$work/out" 2>"$work/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL: $*: exit $rc, want $want" >&2
		sed 's/^/    /' "$work/err" >&2
		fails=$((fails + 1))
	fi
	for r in "$work"/asan.* "$work"/ubsan.*; do
		[ -e "$r" ] || continue
		echo "FAIL: $*: sanitizer report $(basename "$r"):" >&2
		head -n 20 "$r" >&2
		rm -f "$r"
		fails=$((fails + 1))
	done
}

check 0 daemon/smbdirectd --help
check 0 daemon/smbdirectd -V
check 2 daemon/smbdirectd --no-such-option
check 2 daemon/smbdirectd extra-argument
check 1 daemon/smbdirectd -n -c "$work/missing.conf"
check 1 daemon/smbdirectd -n -c "$work/bad.conf"
check 0 daemon/smbdirectd -n -c "$work/good.conf"
check 1 daemon/smbdirectd -n -c "$work/indent.conf"
check 1 gateway/smbdirect-gw -c "$work/gw-indent.conf"
check 0 gateway/smbdirect-gw --help
check 2 gateway/smbdirect-gw --no-such-option
check 0 cli/smbdirectctl --help
check 0 cli/smbdirectctl -V
check 2 cli/smbdirectctl no-such-command

if [ "$fails" -ne 0 ]; then
	echo "test_early_exit: $fails failure(s) in $n runs" >&2
	exit 1
fi
echo "test_early_exit: $n early exits, each with its status and clean"
