#!/bin/bash
# SPDX-License-Identifier: ISC
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
	"channel.drain_grace = 5s" \
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
	eq "$(jq .schema <<<"$s")" 2 || return 1
	eq "$(jq .connections_active <<<"$s")" 2 || return 1
	eq "$(jq '.listeners | length' <<<"$s")" 2 || return 1
	# Every RDMA device of the host, as rdma(8) lists them.
	eq "$(jq -r '[.devices[].name] | sort | join(",")' <<<"$s")" \
		"$(rdma -j link show | jq -r '[.[].ifname] | unique | sort | join(",")')" ||
		return 1
	eq "$(jq .draining <<<"$s")" false || return 1
	[ "$(jq .master_pid <<<"$s")" -gt 0 ]
}
check "status --json while traffic runs" status_json

# user action: an admin checks what clients will be told to connect to
# (FSCTL_QUERY_NETWORK_INTERFACE_INFO), and watches events as "monitor".
interfaces_listed() {
	local j
	j=$(CTL --json interfaces) || return 1
	jq -e --arg r "$TB_RXE_ADDR" --arg s "$TB_SIW_ADDR" \
		'([.interfaces[].address] | sort) == ([$r, $s] | sort) and
		 ([.interfaces[].transport] | sort) == ["iwarp", "roce"]' \
		<<<"$j" >/dev/null || { say "       interfaces: $j"; return 1; }
	CTL interfaces | grep -q "^$TB_SIW_ADDR .*iwarp" || return 1
	# monitor is events: no event within 1 s is a timeout (4), not a
	# usage error (2).
	CTL monitor --count 1 --timeout 1 >/dev/null 2>&1
	eq $? 4
}
check "interfaces: both listeners as clients learn them; monitor watches events" interfaces_listed

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
	# Every kind of copy has its series from the start.
	grep -q '^smbdirect_copied_bytes_total{kind="pdu_to_owner"} [0-9]' "$f" &&
	grep -q '^smbdirect_copied_bytes_total{kind="pdu_from_owner"} [0-9]' "$f" &&
	grep -q '^smbdirect_copied_bytes_total{kind="memcpy"} 0$' "$f" &&
	! ls "$SD_RUN"/metrics.prom.tmp.* >/dev/null 2>&1
}
check "textfile: mode 0644, ends with a newline, per-connection series" textfile_shape

# user action: the admin drains the daemon; work in flight finishes.
drain_refuses_new() {
	local before
	before=$(metric smbdirect_connections_refused_total 'reason="draining"')
	# A drain must name its target: no id and no --all is a usage error.
	CTL drain >/dev/null 2>&1
	eq $? 2 || return 1
	CTL --json status | jq -e '.draining == false' >/dev/null || return 1
	CTL drain --all >/dev/null || return 1
	CTL --json status | jq -e '.draining' >/dev/null || return 1
	"$SDPEER" --expect-reject "$TB_RXE_ADDR" >/dev/null &&
	"$SDPEER" --expect-reject "$TB_SIW_ADDR" >/dev/null || return 1
	eq "$(metric smbdirect_connections_refused_total 'reason="draining"')" \
		$((before + 2)) || return 1
	eq "$(metric smbdirect_draining)" 1
}
check "drain: new connections are refused, and the client sees it" drain_refuses_new
check "drain --wait --timeout: times out with exit 4 while sessions stay" \
	bash -c "'$SMBDIRECTCTL' -s '$SD_RUN/control' drain --all --wait --timeout 2 >/dev/null 2>&1; [ \$? -eq 4 ]"

# The sessions finish their work, then leave; drain --wait sees it. It
# must still be waiting while they are on, and return 0 only once the
# last one closed.
drain_wait_waits() {
	local waiter rc t0 t1 left
	CTL drain --all --wait --timeout 120 >"$TB_OUT/drain-wait.out" 2>&1 &
	waiter=$!
	sleep 2
	if ! kill -0 $waiter 2>/dev/null; then
		say "       drain --wait returned with 2 sessions on"
		return 1
	fi
	eq "$(CTL --json status | jq .connections_active)" 2 || return 1
	t0=$(date +%s%N)
	# sdpeer --repeat is long: end the clients as a client would
	# (disconnect)
	kill -TERM $busy1 $busy2 2>/dev/null
	wait $waiter
	rc=$?
	t1=$(date +%s%N)
	left=$(CTL --json status | jq .connections_active)
	say "       drain --wait returned $rc, $(( (t1 - t0) / 1000000 )) ms after the clients left, $left connections on"
	eq "$rc" 0 && eq "$left" 0
}
check "drain --wait waits while sessions are on, returns 0 once the last closed" drain_wait_waits
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
	CTL drain --all >/dev/null || return 1
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

# user action: drain one session; its owner is told, it ends after the
# grace (5 s: long enough for smbdirectctl to look at it in between under
# TCG), not before.
drain_one() {
	local id before t0 t1 ev
	before=$(metric smbdirect_connections_closed_total 'reason="drained"')
	# An admin watches: the drain and the close, as events.
	CTL --json events --count 2 --timeout 60 >"$TB_OUT/events.jsonl" \
		2>"$TB_OUT/events.err" &
	ev=$!
	wait_until 10 grep -q subscribed "$TB_OUT/events.err" ||
		{ say "       smbdirectctl events did not subscribe"; return 1; }
	"$SDPEER" --echo 100 --hold 60000 "$TB_SIW_ADDR" >/dev/null &
	local p=$!
	wait_until 20 conns_active 1 || return 1
	id=$(CTL --json conns | jq '.connections[0].id')
	t0=$(date +%s%N)
	# --grace 8 s, against the configured 5 s (longer, so that the
	# checks below run well inside it even under TCG).
	CTL drain "$id" --grace 8 >/dev/null || return 1
	eq "$(CTL --json show "$id" | jq -r .connection.state)" draining || return 1
	grep -q "\"event\":\"drain_requested\",\"id\":$id" "$MASTER_OUT" ||
		{ say "       the master was not told"; return 1; }
	wait_until 15 conns_active_now 0 || return 1
	t1=$(date +%s%N)
	say "       connection $id ended $(( (t1 - t0) / 1000000 )) ms after the drain"
	[ $(( (t1 - t0) / 1000000 )) -ge 7900 ] ||
		{ say "       it ended before its --grace (the configured 5 s?)"; return 1; }
	wait $p
	eq "$(metric smbdirect_connections_closed_total 'reason="drained"')" \
		$((before + 1)) || return 1
	wait_until 10 pid_done $ev || { say "       smbdirectctl events still waits"; return 1; }
	wait $ev || { say "       smbdirectctl events exited $?"; return 1; }
	jq -e -s "length == 2 and
		.[0].event == \"drain_requested\" and .[0].conn_id == $id and
		.[1].event == \"connection_closed\" and .[1].conn_id == $id and
		.[1].reason == \"drained\"" "$TB_OUT/events.jsonl" >/dev/null ||
		{ say "       smbdirectctl events printed:"; sed 's/^/         /' "$TB_OUT/events.jsonl"; return 1; }
}
check "drain ID --grace 8: the owner is told, an admin watching events sees it, and the session ends after its grace" drain_one

# user action: a read-only admin looks, and is refused a kill. The
# checkout may live in a 0700 directory (root's home), so nobody runs a
# staged copy of smbdirectctl.
readonly_admin() {
	local out rc ro
	ro=$(stage_program "$SMBDIRECTCTL" /run/sdtest-ro) || return 1
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
		$ro -s "$SD_RUN/control" --json status) || return 1
	jq -e '.schema == 2' <<<"$out" >/dev/null || return 1
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		$ro -s "$SD_RUN/control" kill 1 >"$TB_OUT/ro.out" 2>&1
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
	eq $rc 1 && grep -q "no connection 999999" "$TB_OUT/kill-missing.out" ||
		return 1
	# Said once: not "kill: kill: ...".
	eq "$(grep -o 'kill:' "$TB_OUT/kill-missing.out" | wc -l)" 1 || return 1
	# With --json the failure is an object on stdout too.
	CTL --json kill 999999 2>/dev/null >"$TB_OUT/kill-missing.json"
	eq $? 1 || return 1
	jq -e '.ok == false and .command == "kill" and
		(.error | test("no connection 999999"))' \
		"$TB_OUT/kill-missing.json" >/dev/null
}
check "exit codes: 3 unreachable, 2 usage, 1 failed (with the reason, said once, JSON too)" exit_codes

check "the test master stops cleanly" stop_master
check "the daemon stops cleanly (exit 0)" stop_daemon
# The textfile it left says it is down; while it ran it said up.
check "the textfile written at the stop says smbdirect_up 0" \
	grep -qx "smbdirect_up 0" "$SD_RUN/metrics.prom"

# user action: the administrator lets only the soft-iWARP network in
# ([access] hosts_allow). A RoCE client is refused before anything is
# allocated for it, counted by reason and logged; iWARP clients work.
access_lists() {
	local conf2=$TB_OUT/ctl-access.conf
	write_conf "$conf2" "access.hosts_allow = ${TB_SIW_ADDR%.*}.0/24"
	start_daemon "$conf2" ctl-access-daemon || return 1
	start_master echo || return 1
	"$SDPEER" --expect-reject "$TB_RXE_ADDR" >/dev/null || return 1
	"$SDPEER" --echo 1000 "$TB_SIW_ADDR" >/dev/null || return 1
	eq "$(metric smbdirect_connections_refused_total 'reason="access_denied"')" 1 ||
		return 1
	grep -q "refused a connection from $TB_RXE_ADDR:[0-9]*: access_denied" \
		"$SD_LOG" || { say "       no refusal in the log"; return 1; }
	stop_master || return 1
	stop_daemon
}
check "[access] hosts_allow: a peer outside it is refused and counted (access_denied)" access_lists
finish
