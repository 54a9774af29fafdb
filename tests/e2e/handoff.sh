#!/bin/bash
# SPDX-License-Identifier: ISC
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

# copied KIND: the daemon's smbdirect_copied_bytes_total{kind=KIND}.
copied() {
	metric smbdirect_copied_bytes_total "kind=\"$1\""
}

# The daemon's copy and RDMA counters, for deltas around one transfer.
counters() {
	local to from mc rr rw
	to=$(copied pdu_to_owner) && from=$(copied pdu_from_owner) &&
	mc=$(copied memcpy) && rr=$(metric smbdirect_rdma_read_bytes_total) &&
	rw=$(metric smbdirect_rdma_write_bytes_total) || return 1
	echo "$to $from $mc $rr $rw"
}

# zero_copy BEFORE AFTER RESULT_JSON IO_TOTAL: the daemon copied exactly
# the SMB2 PDUs the client sent and received, once each, no memcpy, and
# those PDUs were headers only (under 1/64 of the payload): the payload
# itself went by RDMA, uncopied.
zero_copy() {
	local b=($1) a=($2) res=$3 io=$4 to from mc sent rcvd
	to=$((a[0] - b[0])) from=$((a[1] - b[1])) mc=$((a[2] - b[2]))
	sent=$(jq .bytes_sent <<<"$res") rcvd=$(jq .bytes_received <<<"$res")
	say "       copied: $to B to the owner, $from B from it, $mc B memcpy; client PDUs: $sent B sent, $rcvd B received; payload $io B"
	eq "$to" "$sent" && eq "$from" "$rcvd" && eq "$mc" 0 &&
		[ $((to + from)) -lt $((io / 64)) ]
}

# user action: a client writes 64 MiB over RDMA channels and reads it back.
big_transfer() {
	local addr=$1 ch=$2 t=$3 out id inv_before inv_after before after
	local a b
	inv_before=$(metric smbdirect_sends_with_invalidate_total)
	before=$(counters) || return 1
	out=$("$SDPEER" --smb2 --query-interfaces --write-read 64M \
		--io-size 1M --channel "$ch" "$addr") ||
		{ say "       $out"; return 1; }
	grep smb2 <<<"$out" >"$TB_OUT/transfer-$t-$ch.json"
	eq "$(grep smb2 <<<"$out" | jq .smb2.written)" 67108864 || return 1
	eq "$(grep smb2 <<<"$out" | jq .smb2.rdma_bytes)" 134217728 || return 1
	eq "$(grep smb2 <<<"$out" | jq .smb2.rdma_interfaces)" 2 || return 1
	wait_until 10 conns_active 0 || return 1
	after=$(counters) || return 1
	zero_copy "$before" "$after" "$(grep '"result"' <<<"$out")" \
		67108864 || return 1
	# Both directions moved by RDMA, each exactly the data.
	b=($before) a=($after)
	eq $((a[3] - b[3])) 67108864 || return 1
	eq $((a[4] - b[4])) 67108864 || return 1
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

# user action: inline and RDMA I/O mixed on one connection. Inline I/O is
# a deliberate copy of payload through the daemon: the copy counters
# must see it, so the zero-copy check that passes for RDMA fails here.
mixed_io() {
	local out before after
	before=$(counters) || return 1
	out=$("$SDPEER" --smb2 --write-read 9M --io-size 300K --channel mixed \
		"$1") || { say "       $out"; return 1; }
	eq "$(grep smb2 <<<"$out" | jq .smb2.written)" 9437184 || return 1
	wait_until 10 conns_active 0 || return 1
	after=$(counters) || return 1
	if zero_copy "$before" "$after" "$(grep '"result"' <<<"$out")" \
	    9437184; then
		say "       the zero-copy check passed for inline payload"
		return 1
	fi
	# ...because of the inline payload alone: every byte is accounted.
	local b=($before) a=($after) res
	res=$(grep '"result"' <<<"$out")
	eq $((a[0] - b[0])) "$(jq .bytes_sent <<<"$res")" &&
	eq $((a[1] - b[1])) "$(jq .bytes_received <<<"$res")" &&
	eq $((a[2] - b[2])) 0
}

c1_changed() {
	[ "$(c1_pid)" != "$1" ]
}

# user action: the owner smbd is killed in the middle of a transfer. The
# kill must land while the client is still at work.
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
	if ! kill -0 $p 2>/dev/null; then
		say "       the client had finished before its owner was killed"
		wait $p
		return 1
	fi
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
	# mini-smbd saw c1 die of the SIGKILL, starts a new c1; the next
	# client is served.
	grep -q "\"event\":\"child_exited\",\"pid\":$c1,\"role\":\"c1\",\"status\":137" \
		"$MS_OUT" || { say "       no exit of c1 $c1 by SIGKILL"; return 1; }
	wait_until 10 c1_changed "$c1" || return 1
	"$SDPEER" --smb2 --write-read 2M --channel rdma-inv "$addr" >/dev/null
}

# closed REASON: the daemon's count of connections closed for REASON.
closed() {
	metric smbdirect_connections_closed_total "reason=\"$1\""
}

# user action: a client sends broken buffer descriptors. Each kind ends
# the connection with its own reason:
#   beyond, token  the RDMA operation fails at the client's end: over
#                  RoCE it completes with IBV_WC_REM_ACCESS_ERR and the
#                  daemon closes the connection as rdma_remote_access;
#                  soft-iWARP takes the client's TERMINATE (an RDMAP
#                  remote protection error) and flushes the queue pair
#                  instead, so there it is disconnect_mid_rdma; c1 sees
#                  the channel end (eof); the two kinds look the same on
#                  the wire;
#   total, count   the owner checks the channel info before it asks the
#                  daemon for anything (as an smbd must): c1 ends the
#                  connection as exceeds_max_read_write or
#                  too_many_descriptors, and the daemon sees the owner
#                  close the channel (channel_closed). The daemon's own
#                  checks of the same rules are unit-tested (test_frame).
bad_descriptors() {
	local addr=$1 kind=$2 out reason end before after id
	case $kind in
	beyond|token)
		end=eof
		if [ "$addr" = "$TB_SIW_ADDR" ]; then
			reason=disconnect_mid_rdma
		else
			reason=rdma_remote_access
		fi
		;;
	total) reason=channel_closed end=exceeds_max_read_write ;;
	count) reason=channel_closed end=too_many_descriptors ;;
	esac
	before=$(closed $reason) || return 1
	out=$("$SDPEER" --smb2 --bad-desc "$kind" --wait 20000 "$addr") ||
		{ say "       $out"; return 1; }
	wait_until 10 conns_active 0 || { say "       connection remains"; return 1; }
	after=$(closed $reason) || return 1
	id=$(grep '"event":"claimed"' "$MS_OUT" | tail -n 1 | jq .id)
	if [ "$after" -ne $((before + 1)) ]; then
		say "       closed{reason=$reason}: $before -> $after"
		grep -E "conn=$id: closing" "${MS_OUT%.jsonl}.err" |
			sed 's/^/       daemon: /'
		return 1
	fi
	# c1 saw it end the same way.
	wait_until 10 grep -q "\"event\":\"done\",\"id\":$id,.*\"end\":\"$end\"" \
		"$MS_OUT" ||
		{ grep "\"event\":\"done\",\"id\":$id," "$MS_OUT" | sed 's/^/       /'; return 1; }
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
check "open fds back to baseline" fds_back_to "$base_fds"
check "QPs back to baseline" eq "$(rdma_count qp)" "$base_qp"
check "MRs back to baseline" eq "$(rdma_count mr)" "$base_mr"

kill -TERM "$MS_PID"
wait "$MS_PID"
check "mini-smbd and the daemon stop cleanly" eq "$?" 0
# Every child exited 0, but the two c1 killed on purpose.
bad_exits() {
	jq -c 'select(.event == "child_exited" and .status != 0)' "$MS_OUT"
}
check "every mini-smbd child exited 0 but the two killed c1" \
	eq "$(bad_exits | grep -vc '"role":"c1","status":137')" 0
check "c1 exits were seen" eq "$(bad_exits | grep -c '"status":137')" 2
finish
