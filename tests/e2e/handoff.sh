#!/bin/bash
# libclient and the hand-off, in the test bed, over Soft-RoCE and
# soft-iWARP: mini-smbd starts the daemon (--control-fd), c2 finds the
# owner c1 by ClientGuid and hands it the data channel, and c1 serves SMB2
# READ and WRITE through the area with RDMA_V1 and RDMA_V1_INVALIDATE.
set -u
. "$(dirname "$0")/lib.sh"

conf=$TB_OUT/handoff.conf
write_conf "$conf" \
	"smbdirect.max_read_write_size = 1M" \
	"channel.area_size = 8M"
MS_OUT=$TB_OUT/mini-smbd.jsonl

# more_than PATTERN N: mini-smbd printed PATTERN more than N times.
more_than() {
	[ "$(grep -c "$1" "$MS_OUT")" -gt "$2" ]
}

c1_pid() {
	grep -E '"event":"(c1_started)"' "$MS_OUT" | tail -n 1 | jq .pid
}

start_mini_smbd "$conf" "$MS_OUT" -v || exit 1
# c1 opens its owner control connection at its first claim and keeps it:
# the baseline is taken once it has, after one small transfer.
"$SDPEER" --smb2 --write-read 1M --channel rdma "$TB_SIW_ADDR" >/dev/null ||
	{ say "the first transfer failed"; exit 1; }
wait_until 10 conns_active 0 || { say "the first connection remains"; exit 1; }
base_fds=$(daemon_fds)
base_qp=$(rdma_count qp)
base_mr=$(rdma_count mr)
say "baseline: daemon pid $SD_PID fds=$base_fds qp=$base_qp mr=$base_mr"

# user action: a client writes 64 MiB over RDMA channels and reads it back.
big_transfer() {
	local addr=$1 ch=$2 t=$3 out id inv_before inv_after
	inv_before=$(metric smbdirect_sends_with_invalidate_total)
	out=$("$SDPEER" --smb2 --query-interfaces --write-read 64M \
		--io-size 1M --channel "$ch" "$addr") ||
		{ say "       $out"; return 1; }
	grep smb2 <<<"$out" >"$TB_OUT/transfer-$t-$ch.json"
	eq "$(grep smb2 <<<"$out" | jq .smb2.written)" 67108864 || return 1
	eq "$(grep smb2 <<<"$out" | jq .smb2.rdma_bytes)" 134217728 || return 1
	eq "$(grep smb2 <<<"$out" | jq .smb2.rdma_interfaces)" 2 || return 1
	inv_after=$(metric smbdirect_sends_with_invalidate_total)
	if [ "$ch" = rdma-inv ]; then
		# Every response went as SEND with Invalidate of its token.
		eq $((inv_after - inv_before)) 128 || return 1
	else
		eq $((inv_after - inv_before)) 0 || return 1
	fi
	# c1, not c2, owned it: the hand-off happened.
	id=$(grep '"event":"claimed"' "$MS_OUT" | tail -n 1 | jq .id)
	grep -q "\"event\":\"handoff\",\"id\":$id," "$MS_OUT" ||
		{ say "       no handoff event for connection $id"; return 1; }
	eq "$(grep '"event":"claimed"' "$MS_OUT" | tail -n 1 | jq .pid)" \
		"$(c1_pid)"
}

# user action: inline and RDMA I/O mixed on one connection.
mixed_io() {
	local out
	out=$("$SDPEER" --smb2 --write-read 9M --io-size 300K --channel mixed \
		"$1") || { say "       $out"; return 1; }
	eq "$(grep smb2 <<<"$out" | jq .smb2.written)" 9437184
}

# user action: the owner smbd is killed in the middle of a transfer.
c1_killed() {
	local addr=$1 p c1 before_closed before_claimed
	before_closed=$(grep -c '"event":"closed"' "$MS_OUT")
	before_claimed=$(grep -c '"event":"claimed"' "$MS_OUT")
	"$SDPEER" --smb2 --write-read 64M --io-size 64K --channel rdma "$addr" \
		>"$TB_OUT/killed.jsonl" 2>&1 &
	p=$!
	wait_until 30 more_than '"event":"claimed"' "$before_claimed" ||
		{ say "       c1 never claimed the connection"; return 1; }
	sleep 0.5
	c1=$(c1_pid)
	kill -KILL "$c1"
	if wait $p; then
		say "       the client finished although its owner was killed"
		return 1
	fi
	grep -q '"disconnected":true' "$TB_OUT/killed.jsonl" ||
		{ say "       $(cat "$TB_OUT/killed.jsonl")"; return 1; }
	# The daemon closed it and freed its MRs and area.
	wait_until 10 conns_active 0 || { say "       connection remains"; return 1; }
	[ "$(grep -c '"event":"closed"' "$MS_OUT")" -gt "$before_closed" ] ||
		{ say "       no ConnectionClosed"; return 1; }
	eq "$(rdma_count mr)" "$base_mr" || return 1
	eq "$(metric smbdirect_area_bytes)" 0 || return 1
	# mini-smbd starts a new c1; the next client is served.
	wait_until 10 [ "$(c1_pid)" != "$c1" ] || return 1
	"$SDPEER" --smb2 --write-read 2M --channel rdma-inv "$addr" >/dev/null
}

# user action: a client sends broken buffer descriptors.
bad_descriptors() {
	local addr=$1 kind=$2 out
	out=$("$SDPEER" --smb2 --bad-desc "$kind" --wait 20000 "$addr") ||
		{ say "       $out"; return 1; }
	wait_until 10 conns_active 0 || { say "       connection remains"; return 1; }
	"$SDPEER" --smb2 --write-read 1M --channel rdma "$addr" >/dev/null
}

for t in rxe siw; do
	if [ $t = rxe ]; then addr=$TB_RXE_ADDR; else addr=$TB_SIW_ADDR; fi
	say "== $t ($addr)"
	check "$t: 64 MiB written and read back over RDMA_V1_INVALIDATE" big_transfer "$addr" rdma-inv $t
	check "$t: 64 MiB written and read back over RDMA_V1" big_transfer "$addr" rdma $t
	check "$t: mixed inline and RDMA I/O" mixed_io "$addr"
	check "$t: c1 killed mid-transfer" c1_killed "$addr"
	for k in beyond token total count; do
		check "$t: bad descriptors ($k) end that connection" bad_descriptors "$addr" $k
	done
done

wait_until 10 conns_active 0
check "RDMA payload bytes copied by the daemon: 0" \
	eq "$(metric smbdirect_payload_copied_bytes_total)" 0
check "RDMA READ and WRITE payload moved" \
	[ "$(metric smbdirect_rdma_read_bytes_total)" -ge $((4 * 64 << 20)) ]
check "open fds back to baseline" fds_back_to "$base_fds"
check "QPs back to baseline" eq "$(rdma_count qp)" "$base_qp"
check "MRs back to baseline" eq "$(rdma_count mr)" "$base_mr"

kill -TERM "$MS_PID"
wait "$MS_PID"
check "mini-smbd and the daemon stop cleanly" eq "$?" 0
finish
