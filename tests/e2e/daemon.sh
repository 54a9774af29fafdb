#!/bin/bash
# SPDX-License-Identifier: ISC
# smbdirectd over real verbs, in the test bed, over Soft-RoCE and
# soft-iWARP: negotiation, PDUs through the master's child, concurrency,
# misbehaving clients, the master's absence and death, shutdown, and
# resources back to their baseline.
set -u
. "$(dirname "$0")/lib.sh"

conf=$TB_OUT/daemon.conf
write_conf "$conf" \
	"smbdirect.receive_credits = 200" \
	"smbdirect.max_send_size = 2000" \
	"smbdirect.max_receive_size = 4096" \
	"smbdirect.max_read_write_size = 2M" \
	"channel.area_size = 4M" \
	"global.ird = 8" \
	"global.ord = 8"
start_daemon "$conf" || exit 1
start_master echo || exit 1

base_fds=$(daemon_fds)
base_qp=$(rdma_count qp)
base_mr=$(rdma_count mr)
base_cm=$(rdma_count cm_id)
say "baseline: fds=$base_fds qp=$base_qp mr=$base_mr cm_id=$base_cm"

# user action: a client negotiates with non-default sizes.
negotiated_as_configured() {
	local addr=$1 out ev
	out=$("$SDPEER" --max-send 4096 --max-recv 3000 --max-frag 1M \
		--credits 100 --echo 1 "$addr") || { say "       $out"; return 1; }
	# The server receives at most min(its 4096, our 4096 preferred send);
	# it sends at most min(its 2000, our 3000 receive).
	eq "$(jq -r .negotiated.max_send_size <<<"$out")" 4096 || return 1
	eq "$(jq -r .negotiated.max_receive_size <<<"$out")" 2000 || return 1
	eq "$(jq -r .negotiated.peer_max_fragmented_size <<<"$out")" 1048576 ||
		return 1
	eq "$(jq -r .negotiated.max_read_write_size <<<"$out")" 2097152 ||
		return 1
	eq "$(jq -r .negotiated.credits_requested <<<"$out")" 255 || return 1
	# The master saw the same from its side.
	ev=$(grep new_connection "$MASTER_OUT" | tail -n 1)
	eq "$(jq -r .max_receive_size <<<"$ev")" 4096 || return 1
	eq "$(jq -r .max_send_size <<<"$ev")" 2000 || return 1
	eq "$(jq -r .peer_max_fragmented_size <<<"$ev")" 1048576 || return 1
	eq "$(jq -r .max_read_write_size <<<"$ev")" 2097152 || return 1
	eq "$(jq -r .ird <<<"$ev")" 8 || return 1
}

SIZES=1,2,3,7,8,23,24,25,63,64,100,1339,1340,1341,1363,1364,1365,1999
SIZES=$SIZES,2000,2001,2728,4095,4096,8192,65535,65536,65537,131072
SIZES=$SIZES,262144,524288,1048575,1048576

# copied KIND: the daemon's smbdirect_copied_bytes_total{kind=KIND}.
copied() {
	metric smbdirect_copied_bytes_total "kind=\"$1\""
}

# user action: PDUs of every awkward size, 1 B to 1 MiB, echoed back. Each
# PDU is copied exactly once each way (receive buffers to the channel,
# the channel to the send ring), and nothing else is copied.
pdus_round_trip() {
	local out sum to0 from0 mc0 to from mc
	sum=$(tr , '\n' <<<"$SIZES" | awk '{ s += $1 } END { print s }')
	to0=$(copied pdu_to_owner) && from0=$(copied pdu_from_owner) &&
		mc0=$(copied memcpy) || return 1
	out=$("$SDPEER" --echo "$SIZES" --depth 2 "$1") || { say "$out"; return 1; }
	eq "$(jq -r .pdus_received <<<"$out")" "$(tr , '\n' <<<"$SIZES" | wc -l)" ||
		return 1
	eq "$(jq -r .bytes_sent <<<"$out")" "$sum" || return 1
	wait_until 10 conns_active 0 || return 1
	to=$(( $(copied pdu_to_owner) - to0 ))
	from=$(( $(copied pdu_from_owner) - from0 ))
	mc=$(( $(copied memcpy) - mc0 ))
	say "       copied: $to B to the owner, $from B from it, $mc B memcpy; PDUs: $sum B each way"
	eq "$to" "$sum" && eq "$from" "$sum" && eq "$mc" 0
}

# user action: 50 clients at once. They overlap: the daemon's peak of
# concurrent connections on that transport reaches exactly 50.
fifty_concurrent() {
	local t=$2 tr rc ok
	if [ "$t" = rxe ]; then tr=roce; else tr=iwarp; fi
	"$SDPEER" --parallel 50 --echo 1,4096,65536 --repeat 2 --depth 2 \
		--hold 3000 "$1" >"$TB_OUT/fifty-$t.jsonl"
	rc=$?
	ok=$(grep -c '"result":"ok"' "$TB_OUT/fifty-$t.jsonl")
	eq "$ok" 50 && eq $rc 0 || return 1
	eq "$(metric smbdirect_connections_peak "transport=\"$tr\"")" 50
}

# closed_by_disconnect: connections closed because the peer went away,
# between PDUs or in the middle of one.
closed_by_disconnect() {
	local a b
	a=$(metric smbdirect_connections_closed_total 'reason="peer_disconnect"') &&
	b=$(metric smbdirect_connections_closed_total 'reason="disconnect_mid_pdu"') &&
		echo $((a + b))
}

# user action: a client vanishes in the middle of a transfer (between
# PDUs or in the middle of one: --disconnect-mid quits after half of them
# with more in flight).
disconnect_mid_transfer() {
	local before after
	before=$(closed_by_disconnect) || return 1
	"$SDPEER" --echo 65536,1048576 --repeat 10 --depth 4 --disconnect-mid \
		"$1" >/dev/null || return 1
	wait_until 10 conns_active 0 || { say "       connections remain"; return 1; }
	after=$(closed_by_disconnect) || return 1
	eq "$after" $((before + 1)) || return 1
	# and the next client is served
	"$SDPEER" --echo 4096 "$1" >/dev/null
}

# user action: a misbehaving client is cut off with its own reason, and
# the next client is served.
misbehaviour() {
	local addr=$1 what=$2 family=$3 reason=$4 before after out
	before=$(metric "$family" "reason=\"$reason\"")
	out=$("$SDPEER" --misbehave "$what" --wait 20000 "$addr") ||
		{ say "       $out"; return 1; }
	wait_until 10 conns_active 0 || { say "       connection remains"; return 1; }
	after=$(metric "$family" "reason=\"$reason\"")
	if [ "$after" -ne $((before + 1)) ]; then
		say "       $family{reason=$reason}: $before -> $after"
		say "       sdpeer: $out"
		say "       daemon: $(grep 'closing (' "$SD_LOG" | tail -n 1)"
		return 1
	fi
	"$SDPEER" --echo 100,70000 "$addr" >/dev/null
}

for t in rxe siw; do
	if [ $t = rxe ]; then addr=$TB_RXE_ADDR; else addr=$TB_SIW_ADDR; fi
	say "== $t ($addr)"
	check "$t: negotiated parameters as configured" negotiated_as_configured "$addr"
	check "$t: PDUs from 1 B to 1 MiB round-trip byte-exact" pdus_round_trip "$addr"
	check "$t: 50 concurrent connections, all open at once (peak 50)" fifty_concurrent "$addr" $t
	check "$t: a peer disconnecting mid-transfer" disconnect_mid_transfer "$addr"
	C=smbdirect_connections_closed_total
	N=smbdirect_negotiate_failures_total
	check "$t: bad version range" misbehaviour "$addr" bad-version $N neg_version_unsupported
	check "$t: CreditsRequested 0" misbehaviour "$addr" credits-zero $N neg_credits_requested_zero
	check "$t: MaxFragmentedSize below the minimum" misbehaviour "$addr" frag-small $N neg_max_fragmented_size_small
	check "$t: negotiate timeout" misbehaviour "$addr" neg-timeout $N negotiate_timeout
	check "$t: message shorter than 20 bytes" misbehaviour "$addr" short-msg $C rx_short
	check "$t: message over the negotiated size" misbehaviour "$addr" oversize $C rx_too_long
	check "$t: fragment over MaxFragmentedSize" misbehaviour "$addr" frag-overflow $C fragmented_size_exceeded
	check "$t: send without credits" misbehaviour "$addr" no-credit $C rx_without_credit
	check "$t: a stall that never grants credits" misbehaviour "$addr" stall $C keepalive_timeout
	check "$t: disconnect mid-PDU" misbehaviour "$addr" mid-pdu $C disconnect_mid_pdu
done

# user action: the master smbd dies; clients already connected go on. The
# kill must land while the client is still at work.
master_dies() {
	local out rc mrc=0
	"$SDPEER" --echo 4096,65536 --repeat 400 "$TB_RXE_ADDR" \
		>"$TB_OUT/master-dies.jsonl" &
	local p=$!
	wait_until 20 grep -q new_connection "$MASTER_OUT" || return 1
	sleep 0.5
	kill -KILL "$MASTER_PID"
	if ! kill -0 $p 2>/dev/null; then
		say "       the client had finished before the master was killed"
		wait $p
		return 1
	fi
	wait "$MASTER_PID" || mrc=$?
	MASTER_PID=
	eq $mrc 137 || return 1		# SIGKILL, as sent
	wait $p
	rc=$?
	out=$(cat "$TB_OUT/master-dies.jsonl")
	[ $rc -eq 0 ] && eq "$(jq -r .pdus_received <<<"$out")" 800
}
: >"$MASTER_OUT"
check "the master dies: existing connections keep working" master_dies

# user action: a client connects while no master is registered.
no_master_refused() {
	local before after
	before=$(metric smbdirect_connections_refused_total 'reason="no_master"')
	"$SDPEER" --expect-reject "$TB_SIW_ADDR" >/dev/null &&
	"$SDPEER" --expect-reject "$TB_RXE_ADDR" >/dev/null || return 1
	after=$(metric smbdirect_connections_refused_total 'reason="no_master"')
	eq "$after" $((before + 2))
}
check "no master: refused in RDMA CM, counted" no_master_refused

start_master echo || exit 1
check "a new master is served again" "$SDPEER" --echo 1000 "$TB_SIW_ADDR"

# The resource counts can see a connection at all: one held connection
# shows above the baseline, or "back to baseline" proves nothing.
held_above_baseline() {
	local p rc=0
	"$SDPEER" --echo 100 --hold 5000 "$TB_SIW_ADDR" >/dev/null &
	p=$!
	wait_until 20 conns_active 1 || { wait $p; return 1; }
	[ "$(rdma_count qp)" -gt "$base_qp" ] &&
	[ "$(rdma_count mr)" -gt "$base_mr" ] &&
	[ "$(rdma_count cm_id)" -gt "$base_cm" ] &&
	[ "$(daemon_fds)" -gt "$base_fds" ] || rc=1
	wait $p || rc=1
	return $rc
}
check "a held connection shows above the resource baselines" held_above_baseline

wait_until 10 conns_active 0
sleep 1
check "open fds back to baseline" fds_back_to "$base_fds"
check "QPs back to baseline" eq "$(rdma_count qp)" "$base_qp"
check "MRs back to baseline" eq "$(rdma_count mr)" "$base_mr"
check "cm_ids back to baseline" eq "$(rdma_count cm_id)" "$base_cm"

# user action: systemd (or an admin) stops the daemon while clients are on.
"$SDPEER" --echo 100 --hold 60000 "$TB_RXE_ADDR" >"$TB_OUT/held.jsonl" &
held=$!
"$SDPEER" --echo 100 --hold 60000 "$TB_SIW_ADDR" >"$TB_OUT/held2.jsonl" &
held2=$!
wait_until 20 conns_active 2
sigterm_clean() {
	local rc=0
	stop_daemon || rc=$?
	wait $held
	wait $held2
	eq "$rc" 0 && grep -q "shutting down (SIGTERM): closing 2 connections" \
		"$SD_LOG" && [ "$(cat "$TB_OUT/held.jsonl" "$TB_OUT/held2.jsonl" | grep -c '"disconnected":true')" -eq 2 ] &&
		[ ! -e "$SD_RUN/control" ]
}
check "SIGTERM: clean shutdown with clients connected" sigterm_clean
check "the test master stops cleanly" stop_master

# user action: a master smbd starts the daemon itself (--control-fd).
control_fd_master() {
	local out
	"$TESTMASTER" --mode echo -- "$SMBDIRECTD" -d -c "$conf" \
		>"$TB_OUT/fdmaster.jsonl" 2>"$TB_OUT/fdmaster.err" &
	local mp=$! rc=0
	if wait_until 20 grep -q registered "$TB_OUT/fdmaster.jsonl"; then
		out=$("$SDPEER" --echo 1,1000,100000 "$TB_SIW_ADDR") ||
			{ say "$out"; rc=1; }
	else
		rc=1
	fi
	# The master stops the daemon it started and returns its status:
	# whatever happened above, neither outlives this check.
	kill -TERM $mp
	wait $mp || rc=1
	return $rc
}
check "--control-fd: a master that starts the daemon" control_fd_master

finish
