#!/bin/bash
# Benchmark, inside the test bed: the seed's hand-off path. mini-smbd owns
# the connection (c2 passed it to c1 by ClientGuid); sdpeer writes 64 MiB
# with SMB2 WRITE over RDMA channels (the daemon RDMA-READs the client's
# buffers into the area) and reads it back with SMB2 READ (RDMA WRITE to
# the client), 1 MiB per request, verifying every byte. The reference is
# perftest's ib_read_bw and ib_write_bw at 1 MiB on the same link, in the
# same run. Prints MB/s and the ratios; results also go to
# $TB_OUT/bench-handoff.json.
#
#   tests/vm/testbed.sh run -m 3072 bench/handoff.sh   (cwd: the build dir)
set -u
. "$(dirname "$0")/../tests/e2e/lib.sh"

conf=$TB_OUT/bench-handoff.conf
write_conf "$conf" "smbdirect.max_read_write_size = 1M" "channel.area_size = 8M"
start_mini_smbd "$conf" "$TB_OUT/bench-mini.jsonl" || exit 1

: >"$TB_OUT/bench-handoff.json"
printf '%-40s %8s %8s\n' "64 MiB, MB/s" "write" "read"
for t in rxe siw; do
	if [ $t = rxe ]; then addr=$TB_RXE_ADDR dev=$TB_RXE_DEV; else
		addr=$TB_SIW_ADDR dev=$TB_SIW_DEV; fi
	# A client write is an RDMA READ by the server, a read an RDMA WRITE.
	ir=$(perf_bw ib_read_bw "$dev" "$addr" 18516 64)
	iw=$(perf_bw ib_write_bw "$dev" "$addr" 18515 64)
	for ch in rdma rdma-inv; do
		out=$("$SDPEER" --smb2 --write-read 64M --io-size 1M \
			--channel $ch "$addr" | grep smb2) ||
			{ echo "the $t $ch transfer failed: $out"; exit 1; }
		w=$(jq .smb2.write_MBps <<<"$out")
		r=$(jq .smb2.read_MBps <<<"$out")
		printf '{"transport":"%s","channel":"%s","write_MBps":%s,"read_MBps":%s,"ib_read_bw_MBps":%s,"ib_write_bw_MBps":%s}\n' \
			$t $ch "$w" "$r" "${ir:-0}" "${iw:-0}" >>"$TB_OUT/bench-handoff.json"
		printf '%-40s %8s %8s\n' "sdpeer -> smbdirectd -> c1, $t $ch" "$w" "$r"
	done
	printf '%-40s %8s %8s\n' "ib_read_bw / ib_write_bw -R, $t" "$ir" "$iw"
	for ch in rdma rdma-inv; do
		read -r w r < <(jq -r "select(.transport == \"$t\" and .channel == \"$ch\") | \"\(.write_MBps) \(.read_MBps)\"" \
			"$TB_OUT/bench-handoff.json")
		printf '%-40s %8s %8s\n' "    ratio, $ch" "$(ratio "$w" "$ir")" "$(ratio "$r" "$iw")"
	done
done
echo "daemon RDMA payload copied: $(metric smbdirect_payload_copied_bytes_total) bytes"
kill -TERM $MS_PID
wait $MS_PID
