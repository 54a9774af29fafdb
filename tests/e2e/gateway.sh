#!/bin/bash
# SPDX-License-Identifier: ISC
# The Linux kernel's SMB Direct client mounts Debian's Samba through
# smbdirectd and smbdirect-gw, in the test bed, over soft-iWARP (5445) and
# Soft-RoCE (445): neither end was written here. Wireshark judges the
# traffic of a mount over each transport (RoCEv2 on a veth wire).
set -u
. "$(dirname "$0")/lib.sh"

conf=$TB_OUT/gateway.conf
write_conf "$conf" \
	"global.listen = $TB_WIRE_ADDR:445" \
	"smbdirect.keepalive_interval = 120s" \
	"smbdirect.keepalive_timeout = 5s" \
	"channel.area_size = 16M"
load_cifs || { say "cannot load the SMB Direct cifs.ko"; exit 1; }
start_daemon "$conf" gw-daemon || exit 1
start_samba || { say "Samba did not start"; cat "$TB_OUT/smbd.out"; exit 1; }
start_gateway || { say "the gateway did not register"; cat "$TB_OUT/gw.log"; exit 1; }
base_mr=$(rdma_count mr)
base_fds=$(daemon_fds)

SRC=/tmp/gw-src
mkdir -p /tmp/gw-back
make_file_set "$SRC" || exit 1
say "source: $(ls "$SRC" | wc -l) files, $(du -cb "$SRC"/* | tail -n 1 | cut -f1) bytes"

# user action: mount a Samba share over RDMA and copy files both ways.
through_mount() {
	local t=$1 addr=$2 port=$3 mnt f rr0 rw0 grr0 grw0 rr rw grr grw
	mnt=/mnt/gw-$t
	local recv0 send0 mc0 pmc0 recv send mc pmc to0 from0 dmc0 to from dmc
	mount_rdma "$addr" "$port" "$mnt" cache=none ||
		{ dmesg | tail -n 5 | sed 's/^/       /'; return 1; }
	grep -A1 "Hostname: $addr" /proc/fs/cifs/DebugData |
		grep -q "SMBDirect (in hex) protocol version: 100 transport status: 2" ||
		{ say "       /proc/fs/cifs/DebugData shows no SMB Direct for $addr"; return 1; }
	rr0=$(metric smbdirect_rdma_read_bytes_total)
	rw0=$(metric smbdirect_rdma_write_bytes_total)
	to0=$(metric smbdirect_copied_bytes_total 'kind="pdu_to_owner"')
	from0=$(metric smbdirect_copied_bytes_total 'kind="pdu_from_owner"')
	dmc0=$(metric smbdirect_copied_bytes_total 'kind="memcpy"')
	grr0=$(gw_metric smbdirect_gw_rdma_read_bytes_total)
	grw0=$(gw_metric smbdirect_gw_rdma_write_bytes_total)
	recv0=$(gw_copied payload_recv_to_area)
	send0=$(gw_copied payload_send_from_area)
	mc0=$(gw_copied payload_memcpy)
	pmc0=$(gw_copied pdu_memcpy)
	mkdir -p "$mnt/d"
	for f in "$SRC"/*; do
		timeout 300 dd if="$f" of="$mnt/d/$(basename "$f")" bs=4M \
			status=none ||
			{ say "       writing $f ($(stat -c %s "$f") bytes) failed"; return 1; }
	done
	rm -f /tmp/gw-back/*
	for f in "$SRC"/*; do
		timeout 300 dd if="$mnt/d/$(basename "$f")" \
			of="/tmp/gw-back/$(basename "$f")" bs=4M status=none ||
			{ say "       reading $f ($(stat -c %s "$f") bytes) failed"; return 1; }
	done
	(cd "$SRC" && sha256sum f*) >"$TB_OUT/sha-src"
	(cd /tmp/gw-back && sha256sum f*) >"$TB_OUT/sha-back-$t"
	cmp -s "$TB_OUT/sha-src" "$TB_OUT/sha-back-$t" ||
		{ say "       sha256 differs"; diff "$TB_OUT/sha-src" "$TB_OUT/sha-back-$t" | head; return 1; }
	rr=$(( $(metric smbdirect_rdma_read_bytes_total) - rr0 ))
	rw=$(( $(metric smbdirect_rdma_write_bytes_total) - rw0 ))
	to=$(( $(metric smbdirect_copied_bytes_total 'kind="pdu_to_owner"') - to0 ))
	from=$(( $(metric smbdirect_copied_bytes_total 'kind="pdu_from_owner"') - from0 ))
	dmc=$(( $(metric smbdirect_copied_bytes_total 'kind="memcpy"') - dmc0 ))
	grr=$(( $(gw_metric smbdirect_gw_rdma_read_bytes_total) - grr0 ))
	grw=$(( $(gw_metric smbdirect_gw_rdma_write_bytes_total) - grw0 ))
	recv=$(( $(gw_copied payload_recv_to_area) - recv0 ))
	send=$(( $(gw_copied payload_send_from_area) - send0 ))
	mc=$(( $(gw_copied payload_memcpy) - mc0 ))
	pmc=$(( $(gw_copied pdu_memcpy) - pmc0 ))
	say "       $t: RDMA READ $rr bytes (gateway $grr), RDMA WRITE $rw bytes (gateway $grw)"
	say "       $t: daemon copies: $to B PDUs to the owner, $from B from it, $dmc B memcpy"
	say "       $t: gateway copies: $send area->socket, $recv socket->area, $mc payload memcpy, $pmc PDU header memcpy"
	# Offload happened for the bulk of the 256 MiB, and both agree.
	[ "$rr" -ge $((250 << 20)) ] && [ "$rw" -ge $((250 << 20)) ] ||
		{ say "       too little offloaded"; return 1; }
	eq "$rr" "$grr" || return 1
	eq "$rw" "$grw" || return 1
	# The daemon copied PDUs only (headers and the few inline files:
	# under 1/64 of the payload), no payload.
	eq "$dmc" 0 && [ $((to + from)) -gt 0 ] &&
		[ $((to + from)) -lt $(( (rr + rw) / 64 )) ] ||
		{ say "       the daemon copied more than PDUs"; return 1; }
	# The gateway: exactly one copy per offloaded byte (area to socket,
	# or socket to area), no second payload copy, and header copies
	# only (under 1/64 of the payload).
	eq "$send" "$grr" && eq "$recv" "$grw" && eq "$mc" 0 &&
		[ "$pmc" -gt 0 ] && [ "$pmc" -lt $(( (rr + rw) / 64 )) ]
}

files_ops() {
	local t=$1 mnt
	mnt=/mnt/gw-$t
	# A hung client must fail the check, not the whole boot.
	[ "$(timeout 60 ls "$mnt/d" | wc -l)" -eq 14 ] || return 1
	eq "$(timeout 60 stat -c %s "$mnt/d/f3")" 4097 || return 1
	timeout 60 mv "$mnt/d/f3" "$mnt/d/renamed" || return 1
	[ -e "$mnt/d/renamed" ] && [ ! -e "$mnt/d/f3" ] || return 1
	timeout 60 cmp -s "$mnt/d/renamed" "$SRC/f3" ||
		{ say "       reading the renamed file back failed"; return 1; }
	timeout 60 rm -r "$mnt/d" || return 1
	[ ! -e "$mnt/d" ]
}

clean_umount() {
	timeout 60 umount "/mnt/gw-$1" || return 1
	wait_until 10 conns_active 0
}

check "siw: mount over SMB Direct, 256 MiB written and read back (sha256), counters agree" \
	through_mount siw "$TB_SIW_ADDR" 5445
check "siw: ls, stat, rename and delete" files_ops siw
check "siw: clean unmount" clean_umount siw
check "rxe: mount over SMB Direct, 256 MiB written and read back (sha256), counters agree" \
	through_mount rxe "$TB_RXE_ADDR" 445
check "rxe: ls, stat, rename and delete" files_ops rxe
check "rxe: clean unmount" clean_umount rxe

# wire NAME IFACE FILTER ADDR PORT: mount over ADDR while dumpcap records
# IFACE whole frames, copy files across the offload threshold both ways,
# and let tshark judge every layer: SMB Direct, SMB2, and for RoCE the
# InfiniBand transport below. The capture must start before the mount,
# or tshark cannot tell iWARP's MPA from plain TCP.
wire() {
	local name=$1 iface=$2 filter=$3 addr=$4 port=$5 cap dc mnt f
	local sd smb2 rd mal trunc io=fail
	cap=/tmp/gw-wire-$name.pcapng
	mnt=/mnt/gw-wire-$name
	dumpcap -q -i "$iface" -B 128 -f "$filter" -w "$cap" \
		2>"$TB_OUT/dumpcap-$name.err" &
	dc=$!
	wait_until 30 grep -q "Capturing on" "$TB_OUT/dumpcap-$name.err" ||
		{ say "       dumpcap did not start"; kill $dc; return 1; }
	sleep 1
	# The traffic judged is real I/O that worked: a failed copy fails the
	# check, whatever tshark makes of what was captured.
	if mount_rdma "$addr" "$port" "$mnt" cache=none; then
		mkdir -p "$mnt/w" && io=ok
		for f in f1 f3 f6 f9; do
			timeout 120 dd if="$SRC/$f" of="$mnt/w/$f" bs=4M \
				status=none &&
			timeout 120 cmp -s "$mnt/w/$f" "$SRC/$f" ||
				{ io="fail ($f)"; break; }
		done
		rm -rf "$mnt/w"
		timeout 60 umount "$mnt"
	fi
	sleep 1
	kill -INT $dc
	wait_until 30 pid_done $dc || kill -KILL $dc
	wait $dc
	wait_until 10 conns_active 0 || return 1
	sd=$(tshark_count "$cap" smb_direct)
	smb2=$(tshark_count "$cap" "smb2.cmd == 8 || smb2.cmd == 9")
	rd=$(tshark_count "$cap" "smb2.channel == 2")
	mal=$(tshark_count "$cap" _ws.malformed)
	trunc=$(tshark_count "$cap" "frame.cap_len < frame.len")
	say "       $name: $sd SMB Direct frames, $smb2 SMB2 READ/WRITE, $rd with RDMA_V1_INVALIDATE, $mal malformed, $trunc truncated"
	[ "$mal" = 0 ] || tshark -r "$cap" $TSHARK_DECODE -Y _ws.malformed \
		2>/dev/null | head -n 5 | sed 's/^/         /'
	[ "$mal" = 0 ] && [ "$trunc" = 0 ] || cp "$cap" "$TB_OUT/"
	eq "$io" ok && [ "$sd" -gt 20 ] && [ "$smb2" -ge 8 ] &&
		[ "$rd" -ge 4 ] && eq "$mal" 0 && eq "$trunc" 0
}


check "siw: tshark decodes a mount's whole frames, no malformed frame" \
	wire siw lo "tcp port 5445" "$TB_SIW_ADDR" 5445
check "rxe: tshark decodes a mount's RoCEv2 frames on the wire, no malformed frame" \
	wire rxe "$TB_WIRE_NETDEV" "udp port 4791" "$TB_WIRE_ADDR" 445

# user action: the gateway is killed while a client copies. The copy is
# paced (1 MiB a step) so that the kill lands mid-copy, and that is
# checked, not hoped.
KILL_SRC=/tmp/gw-kill-src
head -c $((48 << 20)) /dev/urandom >"$KILL_SRC"
# conn_gone ID: the daemon no longer has connection ID.
conn_gone() {
	"$SMBDIRECTCTL" -s "$SD_RUN/control" --json conns |
		jq -e "[.connections[].id] | index($1) == null" >/dev/null
}
gateway_killed() {
	local mnt=/mnt/gw-kill rc=0
	mount_rdma "$TB_SIW_ADDR" 5445 "$mnt" cache=none,soft || return 1
	killed_mid_copy "$mnt" || rc=1
	umount -f "$mnt" 2>/dev/null || umount -l "$mnt"
	wait_until 20 conns_active 0 || { say "       connections remain"; rc=1; }
	eq "$(rdma_count mr)" "$base_mr" || rc=1
	return $rc
}
killed_mid_copy() {
	local mnt=$1 rc sum step grc=0 id relays
	rm -f "$TB_OUT/kill-progress"
	( paced_copy "$KILL_SRC" "$mnt/big" >"$TB_OUT/kill-dd.rc" ) &
	local ddp=$!
	wait_until 60 copied_mib 8 || { say "       the copy did not start"; return 1; }
	id=$("$SMBDIRECTCTL" -s "$SD_RUN/control" --json conns |
		jq '.connections[0].id')
	# The whole service dies, as systemd kills its cgroup: the gateway
	# and its relay children (one per connection). By pid: the program
	# runs as .libs/smbdirect-gw under libtool's wrapper, so its command
	# line is not "$SMBDIRECT_GW".
	relays=$(pgrep -P "$GW_PID" | tr '\n' ' ')
	[ -n "$relays" ] || { say "       the gateway has no relay child"; return 1; }
	kill -KILL "$GW_PID" $relays
	step=$(cat "$TB_OUT/kill-progress")
	if pid_done $ddp; then
		say "       the copy had ended before the kill"
		return 1
	fi
	wait_until 10 pid_done "$GW_PID" || { say "       SIGKILL did not stop the gateway"; return 1; }
	wait "$GW_PID" || grc=$?
	GW_PID=
	say "       the gateway was killed after $((step + 1)) of 48 MiB (connection $id)"
	eq $grc 137 || return 1
	# The daemon sees the relay's data channel close and frees that RDMA
	# connection; the client gets an error or reconnects (while no master
	# is registered, its reconnects are refused).
	wait_until 15 conn_gone "$id" || { say "       connection $id not freed"; return 1; }
	start_gateway || return 1
	# Each 1 MiB step is bounded by timeout(1); this bounds a dd stuck in
	# the kernel too, which timeout cannot kill.
	wait_until 900 pid_done $ddp || { say "       the copy is stuck"; return 1; }
	wait $ddp
	rc=$(cat "$TB_OUT/kill-dd.rc")
	say "       copy exit status $rc"
	if [ "$rc" -eq 0 ]; then
		# It completed through a reconnect: it must be byte-exact.
		sum=$(sha256sum <"$mnt/big" | cut -d' ' -f1)
		eq "$sum" "$(sha256sum <"$KILL_SRC" | cut -d' ' -f1)" || return 1
	fi
}
check "gateway killed mid-copy: an error or a reconnect, never silent corruption; the daemon frees everything" gateway_killed

check "the daemon copied no payload (memcpy)" eq "$(metric smbdirect_copied_bytes_total 'kind="memcpy"')" 0
check "daemon MRs back to baseline" eq "$(rdma_count mr)" "$base_mr"
check "daemon fds back to baseline" fds_back_to "$base_fds"

check "smbdirect-gw stops cleanly" stop_gateway
# Samba's smbd is not ours: its status is not judged, but it must end.
kill -TERM "$SMBD_PID" 2>/dev/null
wait_until 30 pid_done "$SMBD_PID" || kill -KILL "$SMBD_PID"
wait "$SMBD_PID" 2>/dev/null
check "the daemon stops cleanly (exit 0)" stop_daemon
finish
