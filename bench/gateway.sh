#!/bin/bash
# SPDX-License-Identifier: ISC
# Benchmark, inside the test bed: sequential MB MiB (default 256) written
# and read back through
#   (a) cifs -> smbdirectd -> smbdirect-gw -> Samba, over RDMA (siw, rxe),
#   (b) raw verbs: ib_read_bw -R and ib_write_bw -R, same links,
#   (c) cifs -> Samba over TCP,
#   (d) with SAMBA_BIN (samba/build.sh): cifs -> smbdirectd -> Samba's own
#       smbd, patched by samba/patches, over RDMA (siw, rxe),
# all in the same VM run and with the same I/O size: cifs mounts with
# rsize = wsize = 1044480 over both transports, and perftest moves
# 1044480-byte messages. Every figure is MiB/s, the median of RUNS runs
# (default 3) with the min and max; ratios a/b and a/c are of medians. A
# figure that cannot be measured fails the benchmark. Results also go to
# $TB_OUT/bench-gateway.json, with the copy counters.
#
#   tests/vm/testbed.sh run -m 3072 bench/gateway.sh   (cwd: the build dir)
set -u
. "$(dirname "$0")/../tests/e2e/lib.sh"

MB=${BENCH_MB:-256}
RUNS=${BENCH_RUNS:-3}
IO=1044480	# the mounts' rsize and wsize (see CIFS_RDMA_OPTS)
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

die() {
	echo "bench: $*" >&2
	umount /mnt/bench 2>/dev/null
	stop_gateway
	kill -TERM "$SMBD_PID" 2>/dev/null
	stop_daemon
	exit 1
}

# dd_mib IF OF: MiB/s of one sequential copy with 4 MiB requests.
dd_mib() {
	local t0 t1
	t0=$(date +%s%N)
	dd if="$1" of="$2" bs=4M status=none || return 1
	t1=$(date +%s%N)
	mib_per_s $((MB << 20)) $((t1 - t0))
}

# smb_bw LABEL MOUNT-ARGS...: write then read $MB MiB through a mount,
# checked byte for byte; prints "write read".
smb_bw() {
	local label=$1 mnt=/mnt/bench w r
	shift
	mkdir -p $mnt
	mount -t cifs "$@" $mnt || { echo "mount failed: $label" >&2; return 1; }
	w=$(dd_mib /tmp/bench-src $mnt/f) &&
	r=$(dd_mib $mnt/f /tmp/bench-back) || { umount $mnt; return 1; }
	cmp -s /tmp/bench-src /tmp/bench-back ||
		{ echo "data differs: $label" >&2; umount $mnt; return 1; }
	rm -f $mnt/f
	umount $mnt
	echo "$w $r"
}

# runs LABEL MOUNT-ARGS...: RUNS passes of smb_bw; sets W and R to
# "median min max".
runs() {
	local ws=() rs=() i w r
	for i in $(seq "$RUNS"); do
		read -r w r < <(smb_bw "$@") && [ -n "$r" ] ||
			die "$1: pass $i failed"
		ws+=("$w") rs+=("$r")
	done
	W=$(stats "${ws[@]}") && R=$(stats "${rs[@]}") ||
		die "$1: figures ${ws[*]} / ${rs[*]}"
}

fig() {
	local s=($1)
	printf '%s [%s-%s]' "${s[0]}" "${s[1]}" "${s[2]}"
}
row() {
	printf '%-44s %22s %22s\n' "$@"
}

opts="vers=3.1.1,username=$SMB_USER,password=$SMB_PASS,cache=none"
runs tcp //127.0.0.1/share -o "$CIFS_RDMA_OPTS,$opts"
tw=$W tr=$R
printf '{"path":"cifs-tcp-samba","unit":"MiB/s","runs":%d,"io":%d,"write":[%s],"read":[%s]}\n' \
	"$RUNS" $IO "${tw// /,}" "${tr// /,}" >"$TB_OUT/bench-gateway.json"
for t in siw rxe; do
	if [ $t = siw ]; then addr=$TB_SIW_ADDR port=5445 dev=$TB_SIW_DEV; else
		addr=$TB_RXE_ADDR port=445 dev=$TB_RXE_DEV; fi
	runs rdma-$t "//$addr/share" -o "rdma,port=$port,$CIFS_RDMA_OPTS,$opts"
	w=$W r=$R
	perf_refs "$dev" "$addr" 200 $IO || die "perftest failed on $t"
	ir=$IR iw=$IW
	# A client write is an RDMA READ by the server, a read an RDMA WRITE.
	ab=$(ratios "$w" "$r" "$ir" "$iw") && ac=$(ratios "$w" "$r" "$tw" "$tr") ||
		die "ratios on $t"
	printf '{"path":"cifs-rdma-gw-%s","unit":"MiB/s","runs":%d,"io":%d,"write":[%s],"read":[%s],"ib_read_bw":[%s],"ib_write_bw":[%s],"ab":[%s],"ac":[%s]}\n' \
		$t "$RUNS" $IO "${w// /,}" "${r// /,}" "${ir// /,}" "${iw// /,}" \
		"${ab/ /,}" "${ac/ /,}" >>"$TB_OUT/bench-gateway.json"
	eval "w_$t=\$w r_$t=\$r iw_$t=\$iw ir_$t=\$ir ab_$t=\$ab ac_$t=\$ac"
done

echo
echo "sequential $MB MiB, $IO-byte I/O; MiB/s: median [min-max] of $RUNS runs"
echo "(qemu TCG test bed: compare ratios, not absolutes)"
row "path" "write" "read"
row "(c) cifs -> Samba over TCP" "$(fig "$tw")" "$(fig "$tr")"
for t in siw rxe; do
	eval "w=\$w_$t r=\$r_$t iw=\$iw_$t ir=\$ir_$t ab=\$ab_$t ac=\$ac_$t"
	row "(a) cifs -> smbdirectd -> gw -> Samba, $t" "$(fig "$w")" "$(fig "$r")"
	row "(b) raw ib_read_bw / ib_write_bw -R, $t" "$(fig "$ir")" "$(fig "$iw")"
	row "    a/b" $ab
	row "    a/c" $ac
done
echo
mc=$(metric smbdirect_copied_bytes_total 'kind="memcpy"') || die "no daemon copy counter"
echo "copies: daemon payload memcpy $mc bytes"
[ "$(measure_errors)" -eq 0 ] || die "measurements failed"
stop_gateway || die "smbdirect-gw exited badly"
kill -TERM "$SMBD_PID" 2>/dev/null
wait_until 30 pid_done "$SMBD_PID" || kill -KILL "$SMBD_PID"
wait "$SMBD_PID" 2>/dev/null
stop_daemon || die "the daemon exited badly"

if [ -n "${SAMBA_BIN:-}" ]; then
	# (d): the patched smbd starts its own smbdirectd with the same
	# settings, and is its master; no gateway.
	SMBD_PID=
	wait_until 30 "! tcp_listening 127.0.0.1:445" ||
		die "Debian's smbd still listens"
	start_samba_direct "$conf" || die "the patched smbd did not start"
	echo
	row "path" "write" "read"
	for t in siw rxe; do
		if [ $t = siw ]; then addr=$TB_SIW_ADDR port=5445; else
			addr=$TB_RXE_ADDR port=445; fi
		runs direct-$t "//$addr/share" -o "rdma,port=$port,$CIFS_RDMA_OPTS,$opts"
		eval "w=\$w_$t r=\$r_$t iw=\$iw_$t ir=\$ir_$t"
		dw=$W dr=$R
		db=$(ratios "$dw" "$dr" "$ir" "$iw") &&
		da=$(ratios "$dw" "$dr" "$w" "$r") &&
		dc=$(ratios "$dw" "$dr" "$tw" "$tr") ||
			die "ratios on $t (patched smbd)"
		printf '{"path":"cifs-rdma-samba-%s","unit":"MiB/s","runs":%d,"io":%d,"write":[%s],"read":[%s],"db":[%s],"da":[%s],"dc":[%s]}\n' \
			$t "$RUNS" $IO "${dw// /,}" "${dr// /,}" "${db/ /,}" \
			"${da/ /,}" "${dc/ /,}" >>"$TB_OUT/bench-gateway.json"
		row "(d) cifs -> smbdirectd -> patched smbd, $t" "$(fig "$dw")" "$(fig "$dr")"
		row "    d/b" $db
		row "    d/a" $da
		row "    d/c" $dc
	done
	mc=$(metric smbdirect_copied_bytes_total 'kind="memcpy"') ||
		die "no daemon copy counter (patched smbd)"
	echo
	echo "copies: daemon payload memcpy $mc bytes; patched smbd: $(smbd_said copied_payload_bytes) bytes"
	[ "$(measure_errors)" -eq 0 ] || die "measurements failed"
	sd=$(pgrep -f -- "--control-fd=3")
	stop_samba_direct || die "the patched smbd did not stop"
	kill -TERM $sd 2>/dev/null
	wait_until 10 "! kill -0 $sd 2>/dev/null" || die "smbdirectd did not stop"
fi
rm -f "$MEASURE_ERR"
