#!/bin/sh
# SPDX-License-Identifier: ISC
# Run every libFuzzer target for a short time on its committed seed corpus
# (a TESTS entry of `make check` and `make unit-check`).
#
# The targets and what each one is built from are the table below, one
# line each: "name: sources (relative to $srcdir, globs allowed) and link
# flags". tests/unit/sdp.mk lists the same sources for a --enable-fuzzing
# build; a target added in one place belongs in the other.
#
# A target built by a --enable-fuzzing build (tests/fuzz/<name> here) is
# used as it is; otherwise the script compiles it with clang into a
# temporary directory (-fsanitize=fuzzer,address,undefined). A crash, a
# leak, a sanitizer report or a build failure fails the test. Without
# clang, or without its libFuzzer runtime, it fails too (exit 99, a hard
# error): clang is a declared test dependency (Debian: clang and
# libclang-rt-14-dev, installed by scripts/deps.sh), and a skipped fuzz
# run would hide breakage.
#
# SDP_FUZZ_SECONDS sets the time per target (default 10); SDP_FUZZ_TARGETS
# runs only the named targets; CLANG names the compiler. New inputs go to a
# temporary corpus, never to the source tree. A timed run fails a target
# that ran fewer than SDP_FUZZ_MIN_RATE (default 1000) executions per
# second: a target that slowed down that much no longer fuzzes anything.
#
# The long run (`make fuzz-long`): SDP_FUZZ_RUNS=N runs each target for
# exactly N executions instead of a time, and SDP_FUZZ_MERGE=yes then
# merges the inputs that found new coverage into the committed corpus
# (libFuzzer -merge=1), for a developer to review and commit.
set -u

srcdir=${srcdir:-.}
builddir=${builddir:-.}
secs=${SDP_FUZZ_SECONDS:-10}
runs=${SDP_FUZZ_RUNS:-}
min_rate=${SDP_FUZZ_MIN_RATE:-1000}
merge=${SDP_FUZZ_MERGE:-no}
clang=${CLANG:-clang}

table() {
	cat <<-'EOF'
	fuzz_sdp_wire: tests/fuzz/fuzz_sdp_wire.c proto/sdp_*.c
	fuzz_sdp_bd: tests/fuzz/fuzz_sdp_bd.c proto/sdp_*.c
	fuzz_sdp_conn: tests/fuzz/fuzz_sdp_conn.c proto/sdp_*.c
	fuzz_frame: tests/fuzz/fuzz_frame.c proto/frame.c
	fuzz_chanops: tests/fuzz/fuzz_chanops.c proto/chanops.c proto/frame.c
	fuzz_gwsmb2: tests/fuzz/fuzz_gwsmb2.c gateway/gwsmb2.c proto/frame.c
	fuzz_control: tests/fuzz/fuzz_control.c daemon/admin.c daemon/area.c daemon/arena.c daemon/chan.c daemon/clock.c daemon/conf.c daemon/dev.c daemon/info.c daemon/listener.c daemon/log.c daemon/master.c daemon/metrics.c daemon/ops.c daemon/peer.c daemon/rconn.c daemon/rconn_reason.c proto/frame.c proto/chanops.c proto/sdp_*.c @pb -levent -lprotobuf-c -libverbs -lrdmacm -linih
	fuzz_smb2: tests/fuzz/fuzz_smb2.c libclient/smb2.c proto/frame.c
	fuzz_chan: tests/fuzz/fuzz_chan.c libclient/chan.c libclient/pass.c libclient/io.c proto/frame.c
	fuzz_conf: tests/fuzz/fuzz_conf.c daemon/conf.c -linih
	EOF
}

targets=${SDP_FUZZ_TARGETS:-$(table | sed 's/:.*//')}

work=$(mktemp -d "${TMPDIR:-/tmp}/sdp-fuzz.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT INT TERM

# Make sure clang can build libFuzzer targets; exit 99 if it cannot.
probe_clang() {
	if ! command -v "$clang" >/dev/null 2>&1; then
		echo "run.sh: ERROR: $clang not found: the fuzz run needs the" \
		    "Debian packages clang and libclang-rt-14-dev" \
		    "(scripts/deps.sh installs them)" >&2
		exit 99
	fi
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
	# Stands in for configure's config.h: the sources rely only on
	# AC_USE_SYSTEM_EXTENSIONS's _GNU_SOURCE and on PACKAGE_VERSION.
	mkdir -p "$work/inc" "$work/bin"
	printf '#define _GNU_SOURCE 1\n#define PACKAGE_VERSION "fuzz"\n' \
	    >"$work/inc/config.h"
	probed=yes
}

# Compile target $1 from its table line into $work/bin; 0 or 1. A line
# with "@pb" also gets the control protocol's C code, generated here by
# protoc-c from proto/smbdirect-ctl.proto (the build generates it too,
# but never into the source tree).
gen_pb() {
	[ -f "$work/pb/smbdirect-ctl.pb-c.c" ] && return 0
	mkdir -p "$work/pb"
	protoc-c --proto_path="$srcdir/proto" --c_out="$work/pb" \
	    "$srcdir/proto/smbdirect-ctl.proto"
}

build() {
	line=$(table | grep "^$1:") || {
		echo "run.sh: FAIL: no target $1 in the table"
		return 1
	}
	srcs=
	flags=
	for w in ${line#*:}; do
		case $w in
		@pb)	gen_pb || return 1
			srcs="$srcs $work/pb/smbdirect-ctl.pb-c.c"
			flags="$flags -I$work/pb" ;;
		-*)	flags="$flags $w" ;;
		*)	for f in "$srcdir"/$w; do
				[ -f "$f" ] || {
					echo "run.sh: FAIL: $1: no $f"
					return 1
				}
				srcs="$srcs $f"
			done ;;
		esac
	done
	# shellcheck disable=SC2086 # word lists, split on purpose
	"$clang" -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -I"$work/inc" -I"$srcdir" \
	    -I"$srcdir/proto" -I"$builddir" $srcs -o "$work/bin/$1" $flags
}

probed=no
fail=0
total=0
for t in $targets; do
	if [ -x "$builddir/tests/fuzz/$t" ]; then
		bin=$builddir/tests/fuzz/$t
		how="this --enable-fuzzing build's"
	else
		[ "$probed" = yes ] || probe_clang
		if ! build "$t" >"$work/$t.build" 2>&1; then
			echo "FAIL: $t: cannot build it with $clang:"
			cat "$work/$t.build"
			fail=1
			continue
		fi
		bin=$work/bin/$t
		how="built with $clang"
	fi
	mkdir -p "$work/corpus-$t"
	seeds=$srcdir/tests/fuzz/corpus/$t
	[ -d "$seeds" ] || seeds=
	if [ -n "$runs" ]; then
		limit="-runs=$runs"
		span="$runs runs"
	else
		limit="-max_total_time=$secs"
		span="${secs}s"
	fi
	"$bin" "$limit" -print_final_stats=1 \
	    -timeout=10 -rss_limit_mb=2048 "$work/corpus-$t" \
	    ${seeds:+"$seeds"} >"$work/$t.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
	    "$work/$t.log")
	cov=$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -n 1)
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: $t ($how) exit $rc after ${execs:-?} executions:"
		tail -n 60 "$work/$t.log"
		fail=1
	elif [ -z "$execs" ]; then
		echo "FAIL: $t ($how): no execution count in its output"
		fail=1
	elif [ -z "$runs" ] && [ "$execs" -lt $((min_rate * secs)) ]; then
		echo "FAIL: $t ($how): $execs executions in ${secs}s, below" \
		    "the floor of $((min_rate * secs)) ($min_rate per second)"
		fail=1
	else
		echo "ok: $t ($how): $execs executions in $span, $cov"
		total=$((total + execs))
		if [ "$merge" = yes ] && [ -n "$seeds" ]; then
			before=$(ls "$seeds" | wc -l)
			"$bin" -merge=1 "$seeds" "$work/corpus-$t" \
			    >"$work/$t.merge" 2>&1 || {
				echo "FAIL: $t: merging into $seeds:"
				tail -n 20 "$work/$t.merge"
				fail=1
			}
			echo "    corpus $seeds: $before -> $(ls "$seeds" | wc -l)"
		fi
	fi
done
echo "run.sh: $total executions in all"
exit $fail
