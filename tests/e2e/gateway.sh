#!/bin/bash
# The Linux kernel's SMB Direct client mounts Debian's Samba through
# smbdirectd and smbdirect-gw, in the test bed, over soft-iWARP (5445) and
# Soft-RoCE (445): neither end was written here.
set -u
. "$(dirname "$0")/lib.sh"

conf=$TB_OUT/gateway.conf
write_conf "$conf" \
	"smbdirect.keepalive_interval = 120s" \
	"smbdirect.keepalive_timeout = 5s" \
	"channel.area_size = 16M"
load_cifs || { say "cannot load the SMB Direct cifs.ko"; exit 1; }
start_daemon "$conf" gw-daemon || exit 1
start_samba || { say "Samba did not start"; cat "$TB_OUT/smbd.out"; exit 1; }
start_gateway || { say "the gateway did not register"; cat "$TB_OUT/gw.log"; exit 1; }
base_mr=$(rdma_count mr)
base_fds=$(daemon_fds)

# 256 MiB in files around the 4 KiB offload threshold and above
# MaxReadWriteSize (1 MiB).
SRC=/tmp/gw-src
mkdir -p "$SRC" /tmp/gw-back
sizes="1 4095 4096 4097 8191 65537 1048575 1048576 1048577 3145735"
total=0
for s in $sizes; do total=$((total + s)); done
rest=$(( (256 << 20) - total ))
sizes="$sizes $((rest / 4)) $((rest / 4)) $((rest / 4)) $((rest - 3 * (rest / 4)))"
i=0
for s in $sizes; do
	head -c "$s" /dev/urandom >"$SRC/f$i"
	i=$((i + 1))
done
say "source: $i files, $(du -cb "$SRC"/* | tail -n 1 | cut -f1) bytes"

cap=$TB_OUT/gw-siw-5445.pcapng
dumpcap -q -i lo -B 128 -f "tcp port 5445" -s 256 -w "$cap" \
	2>"$TB_OUT/dumpcap.err" &
dc=$!
# The capture must see the iWARP connection from its SYN and MPA request,
# or tshark cannot tell MPA from plain TCP.
wait_until 30 grep -q "Capturing on" "$TB_OUT/dumpcap.err" ||
	{ say "dumpcap did not start"; cat "$TB_OUT/dumpcap.err"; exit 1; }
sleep 1

# user action: mount a Samba share over RDMA and copy files both ways.
through_mount() {
	local t=$1 addr=$2 port=$3 mnt f rr0 rw0 grr0 grw0 rr rw grr grw
	mnt=/mnt/gw-$t
	local recv0 send0 mc0 recv send mc
	mount_rdma "$addr" "$port" "$mnt" cache=none ||
		{ dmesg | tail -n 5 | sed 's/^/       /'; return 1; }
	grep -A1 "Hostname: $addr" /proc/fs/cifs/DebugData |
		grep -q "SMBDirect (in hex) protocol version: 100 transport status: 2" ||
		{ say "       /proc/fs/cifs/DebugData shows no SMB Direct for $addr"; return 1; }
	rr0=$(metric smbdirect_rdma_read_bytes_total)
	rw0=$(metric smbdirect_rdma_write_bytes_total)
	grr0=$(gw_metric smbdirect_gw_rdma_read_bytes_total)
	grw0=$(gw_metric smbdirect_gw_rdma_write_bytes_total)
	recv0=$(gw_metric smbdirect_gw_payload_recv_to_area_bytes_total)
	send0=$(gw_metric smbdirect_gw_payload_send_from_area_bytes_total)
	mc0=$(gw_metric smbdirect_gw_payload_memcpy_bytes_total)
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
	grr=$(( $(gw_metric smbdirect_gw_rdma_read_bytes_total) - grr0 ))
	grw=$(( $(gw_metric smbdirect_gw_rdma_write_bytes_total) - grw0 ))
	recv=$(( $(gw_metric smbdirect_gw_payload_recv_to_area_bytes_total) - recv0 ))
	send=$(( $(gw_metric smbdirect_gw_payload_send_from_area_bytes_total) - send0 ))
	mc=$(( $(gw_metric smbdirect_gw_payload_memcpy_bytes_total) - mc0 ))
	say "       $t: RDMA READ $rr bytes (gateway $grr), RDMA WRITE $rw bytes (gateway $grw)"
	say "       $t: gateway copies: $send area->socket, $recv socket->area, $mc more"
	# Offload happened for the bulk of the 256 MiB, and both agree.
	[ "$rr" -ge $((250 << 20)) ] && [ "$rw" -ge $((250 << 20)) ] ||
		{ say "       too little offloaded"; return 1; }
	eq "$rr" "$grr" || return 1
	eq "$rw" "$grw" || return 1
	# One copy per offloaded byte: area to socket, or socket to area.
	eq "$send" "$grr" && eq "$recv" "$grw" && eq "$mc" 0
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

kill -INT $dc
wait $dc
wire_clean() {
	local sd mal quirk
	sd=$(tshark -r "$cap" --disable-protocol artemis -Y smb_direct \
		-T fields -e frame.number 2>/dev/null | wc -l)
	# Malformed frames at any layer, minus the one known tshark 4.0
	# quirk: SPNEGO negHints in the SMB2 NEGOTIATE response.
	mal=$(tshark -r "$cap" --disable-protocol artemis -Y _ws.malformed \
		-T fields -e frame.number 2>/dev/null | wc -l)
	quirk=$(tshark -r "$cap" --disable-protocol artemis \
		-Y "_ws.malformed && smb2.cmd == 0 && smb2.flags.response == 1" \
		-T fields -e frame.number 2>/dev/null | wc -l)
	say "       $sd SMB Direct frames, $mal malformed ($quirk NEGOTIATE-response negHints quirk)"
	[ "$sd" -gt 100 ] && [ "$quirk" -le 1 ] && eq $((mal - quirk)) 0
}
check "tshark decodes the siw capture with no malformed frames" wire_clean

# user action: the gateway is killed while a client copies.
gateway_killed() {
	local mnt=/mnt/gw-kill rc sum
	mount_rdma "$TB_SIW_ADDR" 5445 "$mnt" cache=none,soft || return 1
	( timeout 300 dd if="$SRC/f10" of="$mnt/big" bs=1M status=none
	  echo $? >"$TB_OUT/kill-dd.rc" ) &
	local ddp=$!
	sleep 3
	pkill -KILL -f smbdirect-gw
	GW_PID=
	# The daemon sees the relay's data channel close and frees the RDMA
	# connection; the client gets an error or reconnects.
	wait_until 15 conns_active 0 || { say "       connection not freed"; return 1; }
	eq "$(rdma_count mr)" "$base_mr" || return 1
	start_gateway || return 1
	wait $ddp
	rc=$(cat "$TB_OUT/kill-dd.rc")
	say "       dd exit status $rc"
	if [ "$rc" -eq 0 ]; then
		# It completed through a reconnect: it must be byte-exact.
		sum=$(sha256sum <"$mnt/big" | cut -d' ' -f1)
		eq "$sum" "$(sha256sum <"$SRC/f10" | cut -d' ' -f1)" || return 1
	fi
	umount -f "$mnt" || umount -l "$mnt"
	wait_until 20 conns_active 0
}
check "gateway killed mid-copy: an error or a reconnect, never silent corruption; the daemon frees everything" gateway_killed

check "the daemon copied no RDMA payload" eq "$(metric smbdirect_payload_copied_bytes_total)" 0
check "daemon MRs back to baseline" eq "$(rdma_count mr)" "$base_mr"
check "daemon fds back to baseline" fds_back_to "$base_fds"

pkill -TERM -f smbdirect-gw
kill -TERM "$SMBD_PID" 2>/dev/null
stop_daemon
finish
