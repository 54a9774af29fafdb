#!/bin/bash
# Benchmark, inside the test bed: sequential 256 MiB write and read through
#   (a) cifs -> smbdirectd -> smbdirect-gw -> Samba, over RDMA (siw, rxe),
#   (b) raw verbs: ib_write_bw -R and ib_read_bw -R at 1 MiB, same links,
#   (c) cifs -> Samba over TCP,
# all in the same VM run. Prints each figure and the ratios a/b and a/c,
# and the copy counters of the daemon and the gateway. Results also go to
# $TB_OUT/bench-gateway.json.
#
#   tests/vm/testbed.sh run -m 3072 bench/gateway.sh   (cwd: the build dir)
set -u
. "$(dirname "$0")/../tests/e2e/lib.sh"

MB=${BENCH_MB:-256}
conf=$TB_OUT/bench.conf
write_conf "$conf" \
	"smbdirect.keepalive_interval = 120s" \
	"smbdirect.keepalive_timeout = 5s" \
	"channel.area_size = 16M"
load_cifs || exit 1
start_daemon "$conf" bench-daemon || exit 1
start_samba || exit 1
start_gateway || exit 1
head -c $((MB << 20)) /dev/urandom >/tmp/bench-src

# dd_mbps IF OF: MB/s of one sequential copy with 4 MiB requests.
dd_mbps() {
	local t0 t1
	t0=$(date +%s%N)
	dd if="$1" of="$2" bs=4M status=none || return 1
	t1=$(date +%s%N)
	awk -v b=$((MB << 20)) -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", b / ns * 1000 }' 
}

# smb_bw LABEL MOUNT-ARGS...: write then read $MB MiB through a mount.
smb_bw() {
	local label=$1 mnt=/mnt/bench w r
	shift
	mkdir -p $mnt
	mount -t cifs "$@" $mnt || { echo "mount failed: $label" >&2; return 1; }
	w=$(dd_mbps /tmp/bench-src $mnt/f) || return 1
	r=$(dd_mbps $mnt/f /tmp/bench-back) || return 1
	cmp -s /tmp/bench-src /tmp/bench-back || { echo "data differs: $label" >&2; return 1; }
	rm -f $mnt/f
	umount $mnt
	echo "$w $r"
}

opts="vers=3.1.1,username=$SMB_USER,password=$SMB_PASS,cache=none"
read -r tw tr < <(smb_bw tcp //127.0.0.1/share -o "$opts")
printf '{"path":"cifs-tcp-samba","write_MBps":%s,"read_MBps":%s}\n' \
	"$tw" "$tr" >"$TB_OUT/bench-gateway.json"
for t in siw rxe; do
	if [ $t = siw ]; then addr=$TB_SIW_ADDR port=5445 dev=$TB_SIW_DEV; else
		addr=$TB_RXE_ADDR port=445 dev=$TB_RXE_DEV; fi
	read -r w r < <(smb_bw rdma-$t "//$addr/share" -o "rdma,port=$port,$CIFS_RDMA_OPTS,$opts")
	iw=$(perf_bw ib_write_bw "$dev" "$addr" 18515)
	ir=$(perf_bw ib_read_bw "$dev" "$addr" 18516)
	printf '{"path":"cifs-rdma-gw-%s","write_MBps":%s,"read_MBps":%s,"ib_write_bw_MBps":%s,"ib_read_bw_MBps":%s}\n' \
		$t "${w:-0}" "${r:-0}" "${iw:-0}" "${ir:-0}" >>"$TB_OUT/bench-gateway.json"
	eval "w_$t=\${w:-0} r_$t=\${r:-0} iw_$t=\${iw:-0} ir_$t=\${ir:-0}"
done

echo
echo "sequential ${MB} MiB, MB/s (qemu TCG test bed; compare ratios, not absolutes)"
printf '%-44s %8s %8s\n' "path" "write" "read"
printf '%-44s %8s %8s\n' "(c) cifs -> Samba over TCP" "$tw" "$tr"
for t in siw rxe; do
	eval "w=\$w_$t r=\$r_$t iw=\$iw_$t ir=\$ir_$t"
	printf '%-44s %8s %8s\n' "(a) cifs -> smbdirectd -> gw -> Samba, $t" "$w" "$r"
	# A client write is an RDMA READ by the server, a read an RDMA WRITE.
	printf '%-44s %8s %8s\n' "(b) raw ib_read_bw / ib_write_bw -R, $t" "$ir" "$iw"
	printf '%-44s %8s %8s\n' "    a/b" "$(ratio "$w" "$ir")" "$(ratio "$r" "$iw")"
	printf '%-44s %8s %8s\n' "    a/c" "$(ratio "$w" "$tw")" "$(ratio "$r" "$tr")"
done
echo
echo "copies: daemon RDMA payload copied $(metric smbdirect_payload_copied_bytes_total) bytes;"
echo "        gateway: $(gw_metric smbdirect_gw_payload_send_from_area_bytes_total) area->socket," \
	"$(gw_metric smbdirect_gw_payload_recv_to_area_bytes_total) socket->area," \
	"$(gw_metric smbdirect_gw_payload_memcpy_bytes_total) extra, for" \
	"$(gw_metric smbdirect_gw_rdma_read_bytes_total) + $(gw_metric smbdirect_gw_rdma_write_bytes_total) bytes offloaded"

pkill -TERM -f smbdirect-gw
kill -TERM "$SMBD_PID" 2>/dev/null
stop_daemon
exit 0
