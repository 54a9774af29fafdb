#!/bin/bash
# smbdirectctl and the metrics, in the test bed, over Soft-RoCE and
# soft-iWARP: status and connection tables while traffic runs, the
# Prometheus textfile and exposition checked by promtool, drain (daemon-wide
# and per session), kill, undrain, the read-only admin role and the exit
# codes.
set -u
. "$(dirname "$0")/lib.sh"

CTL() { "$SMBDIRECTCTL" -s "$SD_RUN/control" "$@"; }

conf=$TB_OUT/ctl.conf
write_conf "$conf" \
	"channel.drain_grace = 2s" \
	"access.readonly_users = nobody" \
	"metrics.per_connection = yes" \
	"metrics.per_connection_max = 10"
start_daemon "$conf" ctl-daemon || exit 1
start_master echo || exit 1
base_mr=$(rdma_count mr)

# user action: an admin looks at the daemon while clients work.
"$SDPEER" --echo 4096,65536 --repeat 100000 --hold 1 "$TB_RXE_ADDR" \
	>"$TB_OUT/busy-rxe.jsonl" 2>&1 &
busy1=$!
"$SDPEER" --echo 4096,65536 --repeat 100000 --hold 1 "$TB_SIW_ADDR" \
	>"$TB_OUT/busy-siw.jsonl" 2>&1 &
busy2=$!
wait_until 20 conns_active 2

status_json() {
	local s
	s=$(CTL --json status) || return 1
	eq "$(jq .schema <<<"$s")" 1 || return 1
	eq "$(jq .connections_active <<<"$s")" 2 || return 1
	eq "$(jq '.listeners | length' <<<"$s")" 2 || return 1
	eq "$(jq -r '[.devices[].name] | sort | join(",")' <<<"$s")" \
		"rxe0,siw0" || return 1
	eq "$(jq .draining <<<"$s")" false || return 1
	[ "$(jq .master_pid <<<"$s")" -gt 0 ]
}
check "status --json while traffic runs" status_json

conns_json() {
	local c
	c=$(CTL --json conns) || return 1
	eq "$(jq '.connections | length' <<<"$c")" 2 || return 1
	eq "$(jq -r '[.connections[].transport] | sort | join(",")' <<<"$c")" \
		"iwarp,roce" || return 1
	eq "$(jq -r '[.connections[].state] | unique | join(",")' <<<"$c")" \
		"active" || return 1
	# bytes move, credits are granted, owners are known
	[ "$(jq '[.connections[].counters.bytes_in] | min' <<<"$c")" -gt 0 ] &&
	[ "$(jq '[.connections[].credits.granted_total] | min' <<<"$c")" -gt 0 ] &&
	[ "$(jq '[.connections[].owner_pid] | min' <<<"$c")" -gt 0 ] &&
	[ "$(jq '[.connections[].mr.count] | min' <<<"$c")" -gt 0 ]
}
check "conns --json while traffic runs" conns_json
say "       $(CTL conns | head -n 3 | sed 's/^/       /')"

show_and_credits() {
	local id s
	id=$(CTL --json conns | jq '.connections[0].id')
	s=$(CTL --json show "$id") || return 1
	eq "$(jq .connection.id <<<"$s")" "$id" || return 1
	eq "$(jq .connection.params.version <<<"$s")" 256 || return 1
	CTL --json credits | jq -e '.connections | length == 2' >/dev/null &&
	CTL --json mr | jq -e '.devices | length == 2' >/dev/null &&
	CTL show "$id" | grep -q "negotiated: version 0x100"
}
check "show, credits and mr" show_and_credits

promtool_ok() {
	promtool check metrics <"$1" >"$TB_OUT/promtool.out" 2>&1 ||
		{ sed 's/^/       /' "$TB_OUT/promtool.out"; return 1; }
}
sleep 1.5
check "promtool accepts the metrics textfile" promtool_ok "$SD_RUN/metrics.prom"
CTL metrics >"$TB_OUT/metrics.txt"
check "promtool accepts smbdirectctl metrics" promtool_ok "$TB_OUT/metrics.txt"
textfile_shape() {
	local f=$SD_RUN/metrics.prom
	eq "$(stat -c %a "$f")" 644 || return 1
	[ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ] || return 1
	grep -q '^smbdirect_connection_received_bytes_total{conn=' "$f" &&
	grep -q '^smbdirect_payload_copied_bytes_total 0$' "$f" &&
	! ls "$SD_RUN"/metrics.prom.tmp.* >/dev/null 2>&1
}
check "textfile: mode 0644, ends with a newline, per-connection series" textfile_shape

# user action: the admin drains the daemon; work in flight finishes.
drain_refuses_new() {
	local before
	before=$(metric smbdirect_connections_refused_total 'reason="draining"')
	CTL drain >/dev/null || return 1
	CTL --json status | jq -e '.draining' >/dev/null || return 1
	"$SDPEER" --expect-reject "$TB_RXE_ADDR" >/dev/null &&
	"$SDPEER" --expect-reject "$TB_SIW_ADDR" >/dev/null || return 1
	eq "$(metric smbdirect_connections_refused_total 'reason="draining"')" \
		$((before + 2)) || return 1
	eq "$(metric smbdirect_draining)" 1
}
check "drain: new connections are refused, and the client sees it" drain_refuses_new
check "drain --wait --timeout: times out with exit 4 while sessions stay" \
	bash -c "'$SMBDIRECTCTL' -s '$SD_RUN/control' drain --wait --timeout 2 >/dev/null 2>&1; [ \$? -eq 4 ]"

# The sessions finish their work, then leave; drain --wait sees it.
CTL drain --wait --timeout 120 >"$TB_OUT/drain-wait.out" 2>&1 &
waiter=$!
sleep 1
# sdpeer --repeat is long: end the clients as a client would (disconnect)
kill -TERM $busy1 $busy2 2>/dev/null
wait $waiter
check "drain --wait returns 0 when the last connection closes" eq "$?" 0
wait $busy1 $busy2 2>/dev/null

check "undrain: connections are accepted again" bash -c \
	"'$SMBDIRECTCTL' -s '$SD_RUN/control' undrain >/dev/null && '$SDPEER' --echo 1000 '$TB_SIW_ADDR' >/dev/null"

# Transfers in flight during a drain complete.
inflight_completes() {
	local out
	"$SDPEER" --echo 65536,1048576 --repeat 20 --depth 2 "$TB_RXE_ADDR" \
		>"$TB_OUT/inflight.jsonl" &
	local p=$!
	wait_until 20 conns_active 1 || return 1
	CTL drain >/dev/null || return 1
	wait $p || { cat "$TB_OUT/inflight.jsonl"; return 1; }
	out=$(cat "$TB_OUT/inflight.jsonl")
	eq "$(jq .pdus_received <<<"$out")" 40 || return 1
	CTL undrain >/dev/null
}
check "drain: a transfer in flight completes" inflight_completes

# user action: the admin kills one session.
kill_one() {
	local t=$1 addr=$2 id ms
	"$SDPEER" --echo 100 --hold 60000 "$addr" >"$TB_OUT/kill-$t.jsonl" &
	local p=$!
	wait_until 20 conns_active 1 || return 1
	id=$(CTL --json conns | jq '.connections[0].id')
	CTL kill "$id" >/dev/null || return 1
	wait_until 5 conns_active_now 0 || return 1
	# The daemon's own clock, from the kill to the last resource freed:
	# a process-start-free measure, as the test bed runs under TCG.
	ms=$(killed_ms "$id") || return 1
	say "       $t: connection $id closed and freed in $ms ms after the kill"
	[ "$ms" -lt 1000 ] || return 1
	wait $p
	grep -q '"disconnected":true' "$TB_OUT/kill-$t.jsonl" || return 1
	eq "$(rdma_count mr)" "$base_mr"
}
# killed_ms ID: milliseconds between the daemon logging the kill of
# connection ID and logging it freed.
killed_ms() {
	local t0 t1
	t0=$(grep -E "conn=$1: closing \(killed\)" "$SD_LOG" | tail -n 1 |
		sed -E 's/^[^[]*\[([0-9]+)\.([0-9]{3})\].*/\1\2/')
	t1=$(grep -E "conn=$1: freed" "$SD_LOG" | tail -n 1 |
		sed -E 's/^[^[]*\[([0-9]+)\.([0-9]{3})\].*/\1\2/')
	[ -n "$t0" ] && [ -n "$t1" ] || { say "       no kill/freed lines for $1"; return 1; }
	echo $((t1 - t0))
}
conns_active_now() {
	eq "$(CTL --json status | jq .connections_active)" "$1" >/dev/null
}
check "kill ID ends an rxe session within 1 s and frees it" kill_one rxe "$TB_RXE_ADDR"
check "kill ID ends a siw session within 1 s and frees it" kill_one siw "$TB_SIW_ADDR"

# user action: drain one session; its owner is told, it ends after grace.
drain_one() {
	local id before
	before=$(metric smbdirect_connections_closed_total 'reason="drained"')
	"$SDPEER" --echo 100 --hold 60000 "$TB_SIW_ADDR" >/dev/null &
	local p=$!
	wait_until 20 conns_active 1 || return 1
	id=$(CTL --json conns | jq '.connections[0].id')
	CTL drain "$id" >/dev/null || return 1
	eq "$(CTL --json show "$id" | jq -r .connection.state)" draining || return 1
	grep -q "\"event\":\"drain_requested\",\"id\":$id" "$MASTER_OUT" ||
		{ say "       the master was not told"; return 1; }
	wait_until 10 conns_active_now 0 || return 1
	wait $p
	eq "$(metric smbdirect_connections_closed_total 'reason="drained"')" \
		$((before + 1))
}
check "drain ID: the owner is told and the session ends after the grace" drain_one

# user action: a read-only admin looks, and is refused a kill.
readonly_admin() {
	local out rc
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$SMBDIRECTCTL" -s "$SD_RUN/control" --json status) || return 1
	jq -e '.schema == 1' <<<"$out" >/dev/null || return 1
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$SMBDIRECTCTL" -s "$SD_RUN/control" kill 1 >"$TB_OUT/ro.out" 2>&1
	rc=$?
	eq $rc 1 && grep -q "read-only" "$TB_OUT/ro.out"
}
check "a read-only admin may look but not kill" readonly_admin

exit_codes() {
	local rc
	"$SMBDIRECTCTL" -s /nonexistent/control status >/dev/null 2>&1
	eq $? 3 || return 1
	CTL frobnicate >/dev/null 2>&1
	eq $? 2 || return 1
	CTL kill 999999 >"$TB_OUT/kill-missing.out" 2>&1
	rc=$?
	eq $rc 1 && grep -q "no connection 999999" "$TB_OUT/kill-missing.out"
}
check "exit codes: 3 unreachable, 2 usage, 1 failed (with the reason)" exit_codes

stop_master
stop_daemon
finish
