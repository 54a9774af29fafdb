#!/bin/bash
# SPDX-License-Identifier: ISC
# Benchmark, inside the test bed: the seed's hand-off path. mini-smbd owns
# the connection (c2 passed it to c1 by ClientGuid); sdpeer writes 64 MiB
# with SMB2 WRITE over RDMA channels (the daemon RDMA-READs the client's
# buffers into the area) and reads it back with SMB2 READ (RDMA WRITE to
# the client), 1 MiB per request, verifying every byte. The reference is
# perftest's ib_read_bw and ib_write_bw at the same 1 MiB on the same
# link, in the same run. Every figure is MiB/s, the median of RUNS runs
# (default 3) with the min and max; ratios are of medians. A figure that
# cannot be measured fails the benchmark. Results also go to
# $TB_OUT/bench-handoff.json.
#
#   tests/vm/testbed.sh run -m 3072 bench/handoff.sh   (cwd: the build dir)
set -u
. "$(dirname "$0")/../tests/e2e/lib.sh"

RUNS=${BENCH_RUNS:-3}
conf=$TB_OUT/bench-handoff.conf
write_conf "$conf" "smbdirect.max_read_write_size = 1M" "channel.area_size = 8M"
start_mini_smbd "$conf" "$TB_OUT/bench-mini.jsonl" || exit 1

die() {
	echo "bench: $*" >&2
	kill -TERM "$MS_PID" 2>/dev/null
	wait "$MS_PID"
	exit 1
}

: >"$TB_OUT/bench-handoff.json"
row() {
	printf '%-36s %22s %22s\n' "$@"
}
fig() {
	local s=($1)
	printf '%s [%s-%s]' "${s[0]}" "${s[1]}" "${s[2]}"
}
echo "64 MiB per run, 1 MiB requests; MiB/s: median [min-max] of $RUNS runs"
row "path" "write" "read"
for t in rxe siw; do
	if [ $t = rxe ]; then addr=$TB_RXE_ADDR dev=$TB_RXE_DEV; else
		addr=$TB_SIW_ADDR dev=$TB_SIW_DEV; fi
	# A client write is an RDMA READ by the server, a read an RDMA WRITE.
	perf_refs "$dev" "$addr" 64 1048576 || die "perftest failed on $t"
	ir=$IR iw=$IW
	for ch in rdma rdma-inv; do
		ws=() rs=()
		for i in $(seq "$RUNS"); do
			out=$("$SDPEER" --smb2 --write-read 64M --io-size 1M \
				--channel $ch "$addr" | grep smb2) ||
				die "the $t $ch transfer failed: $out"
			ws+=("$(jq .smb2.write_MiBps <<<"$out")")
			rs+=("$(jq .smb2.read_MiBps <<<"$out")")
		done
		w=$(stats "${ws[@]}") && r=$(stats "${rs[@]}") ||
			die "figures of $t $ch: ${ws[*]} / ${rs[*]}"
		rw=$(ratio "${w%% *}" "${ir%% *}") &&
		rr=$(ratio "${r%% *}" "${iw%% *}") || die "ratios of $t $ch"
		printf '{"transport":"%s","channel":"%s","unit":"MiB/s","runs":%d,"write":[%s],"read":[%s],"ib_read_bw":[%s],"ib_write_bw":[%s],"ratio_write":%s,"ratio_read":%s}\n' \
			$t $ch "$RUNS" "${w// /,}" "${r// /,}" "${ir// /,}" \
			"${iw// /,}" "$rw" "$rr" >>"$TB_OUT/bench-handoff.json"
		row "sdpeer -> smbdirectd -> c1, $t $ch" "$(fig "$w")" "$(fig "$r")"
		row "    ratio to ib_read/ib_write_bw" "$rw" "$rr"
	done
	row "ib_read_bw / ib_write_bw -R, $t" "$(fig "$ir")" "$(fig "$iw")"
done
mc=$(metric smbdirect_copied_bytes_total 'kind="memcpy"') || die "no copy counter"
echo "daemon payload memcpy: $mc bytes"
[ "$(measure_errors)" -eq 0 ] || die "measurements failed"
kill -TERM "$MS_PID"
wait "$MS_PID" || die "mini-smbd exited with status $?"
rm -f "$MEASURE_ERR"
