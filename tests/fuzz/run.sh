#!/bin/sh
# Run each libFuzzer target of the SMB Direct engine for a short time on
# its committed seed corpus (a TESTS entry of `make check`).
#
# Targets built by a --enable-fuzzing build are used as they are;
# otherwise the script compiles them with clang into a temporary
# directory (-fsanitize=fuzzer,address,undefined). A crash, a leak, a
# sanitizer report or a build failure fails the test. Without clang, or
# without its libFuzzer runtime, it fails too (exit 99, a hard error):
# clang is a declared test dependency (Debian: clang and
# libclang-rt-14-dev, installed by scripts/deps.sh), and a skipped fuzz
# run would hide breakage.
#
# SDP_FUZZ_SECONDS sets the time per target (default 10); CLANG the
# compiler. New inputs go to a temporary corpus, never to the source tree.
set -u

srcdir=${srcdir:-.}
secs=${SDP_FUZZ_SECONDS:-10}
clang=${CLANG:-clang}
targets="fuzz_sdp_wire fuzz_sdp_bd fuzz_sdp_conn"

work=$(mktemp -d "${TMPDIR:-/tmp}/sdp-fuzz.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT INT TERM

built=yes
for t in $targets; do
	[ -x "tests/fuzz/$t" ] || built=no
done

if [ "$built" = yes ]; then
	bindir=tests/fuzz
	echo "run.sh: using the targets of this --enable-fuzzing build"
else
	if ! command -v "$clang" >/dev/null 2>&1; then
		echo "run.sh: ERROR: $clang not found: the fuzz run needs the" \
		    "Debian packages clang and libclang-rt-14-dev" \
		    "(scripts/deps.sh installs them)" >&2
		exit 99
	fi
	mkdir -p "$work/inc" "$work/bin"
	: >"$work/inc/config.h"
	cat >"$work/probe.c" <<-EOF
	int LLVMFuzzerTestOneInput(const unsigned char *, unsigned long);
	int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
	{ (void)d; (void)n; return 0; }
	EOF
	if ! "$clang" -fsanitize=fuzzer "$work/probe.c" -o "$work/probe" \
	    >"$work/probe.log" 2>&1; then
		echo "run.sh: ERROR: $clang cannot link -fsanitize=fuzzer:" \
		    "the fuzz run needs the Debian packages clang and" \
		    "libclang-rt-14-dev (scripts/deps.sh installs them)" >&2
		cat "$work/probe.log" >&2
		exit 99
	fi
	for t in $targets; do
		if ! "$clang" -g -O1 -fsanitize=fuzzer,address,undefined \
		    -fno-sanitize-recover=all -I"$work/inc" \
		    -I"$srcdir/proto" "$srcdir/tests/fuzz/$t.c" \
		    "$srcdir"/proto/sdp_*.c -o "$work/bin/$t"; then
			echo "run.sh: FAIL: cannot build $t"
			exit 1
		fi
	done
	bindir=$work/bin
	echo "run.sh: built the targets with $clang"
fi

fail=0
total=0
for t in $targets; do
	mkdir -p "$work/corpus-$t"
	"$bindir/$t" -max_total_time="$secs" -print_final_stats=1 \
	    -timeout=10 -rss_limit_mb=2048 "$work/corpus-$t" \
	    "$srcdir/tests/fuzz/corpus/$t" >"$work/$t.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
	    "$work/$t.log")
	cov=$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -n 1)
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: $t (exit $rc) after ${execs:-?} executions:"
		tail -n 60 "$work/$t.log"
		fail=1
	else
		echo "ok: $t: ${execs:-?} executions in ${secs}s, $cov"
		total=$((total + ${execs:-0}))
	fi
done
echo "run.sh: $total executions in all"
exit $fail
