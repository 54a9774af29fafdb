#!/bin/bash
# SPDX-License-Identifier: ISC
# Runs inside the test bed: every scenario script given, in order, each
# announced and timed. Exits non-zero if any failed, after running them all.
#
# Sanitizer verdicts. Every process a scenario starts inherits ASAN_OPTIONS
# and UBSAN_OPTIONS with a log_path in a directory of that scenario's own,
# so no report can hide in a log nobody reads: any report there fails the
# scenario and is printed. A planted leak is run first, to show that the
# verdict can fail at all (in a sanitized build).
set -u
failed=()
ours='(^|/)(smbdirectd|smbdirect-gw|testmaster|mini-smbd|sdpeer|smbd)( |$)'
TB_OUT=${TB_OUT:-/tmp}

# san_env DIR: point the sanitizers' reports into DIR (world-writable:
# some scenarios run tools as another user).
san_env() {
	rm -rf "$1"
	mkdir -p "$1"
	chmod 1777 "$1"
	export ASAN_OPTIONS="log_path=$1/asan:detect_leaks=1:abort_on_error=0"
	export UBSAN_OPTIONS="log_path=$1/ubsan:print_stacktrace=1:halt_on_error=1"
}

# san_reports DIR: fail if DIR holds a report; print the first three,
# name the rest (all are kept in TB_OUT/san-NAME).
san_reports() {
	local f n=0
	for f in "$1"/*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		if [ $n -le 3 ]; then
			echo "---- sanitizer report $(basename "$f"):"
			head -n 60 "$f"
		else
			echo "---- sanitizer report $(basename "$f") (not shown)"
		fi
	done
	[ $n -eq 0 ] && return 0
	mkdir -p "$TB_OUT/$(basename "$1")"
	cp "$1"/* "$TB_OUT/$(basename "$1")/" 2>/dev/null
	echo "---- $n sanitizer reports"
	return 1
}

planted=./tests/peer/planted_leak
if grep -aq __asan_init "$planted" 2>/dev/null; then
	san_env /tmp/san-selftest
	"$planted"
	rc=$?
	if [ $rc -eq 0 ] ||
	   ! grep -q "LeakSanitizer.*detected memory leaks" /tmp/san-selftest/* ||
	   ! grep -q "4242 byte" /tmp/san-selftest/*; then
		echo "==== FAIL sanitizer self-test: a planted leak went unseen (exit $rc)"
		exit 1
	fi
	echo "==== sanitizer self-test: a planted leak is reported (exit $rc)"
	rm -rf /tmp/san-selftest
else
	echo "==== not a sanitized build: no sanitizer verdicts"
fi

for t in "$@"; do
	name=$(basename "$t" .sh)
	echo "==== $name"
	start=$(date +%s)
	san=/tmp/san-$name
	san_env "$san"
	if "$t"; then
		echo "==== PASS $name ($(( $(date +%s) - start ))s)"
	else
		echo "==== FAIL $name ($(( $(date +%s) - start ))s)"
		failed+=("$name")
	fi
	# Whatever a scenario left behind must not fail the next one: say so,
	# and end it.
	left=$(pgrep -f -a "$ours" || :)
	if [ -n "$left" ]; then
		echo "==== $name left processes behind:"
		echo "$left"
		pkill -TERM -f "$ours"
		sleep 1
		pkill -KILL -f "$ours"
		failed+=("$name(leftovers)")
	fi
	if ! san_reports "$san"; then
		echo "==== FAIL $name: sanitizer reports above"
		failed+=("$name(sanitizer)")
	fi
	unset ASAN_OPTIONS UBSAN_OPTIONS
	if grep -q ' cifs ' /proc/mounts; then
		echo "==== $name left a cifs mount behind"
		umount -a -l -t cifs
		failed+=("$name(mount)")
	fi
	rm -rf /run/sdtest
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "==== FAILED: ${failed[*]}"
	exit 1
fi
echo "==== all ${#} scenario(s) passed"
