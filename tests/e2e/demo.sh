#!/bin/bash
# SPDX-License-Identifier: ISC
# The README's demo, inside the test bed: the Linux kernel's SMB Direct
# client mounts Debian's Samba through smbdirectd and smbdirect-gw, over
# soft-iWARP, copies a file while smbdirectctl watches, then shows the
# metrics; then mini-smbd runs the seed's hand-off for sdpeer clients;
# then Samba's own smbd, patched, serves SMB Direct with multichannel.
set -u
. "$(dirname "$0")/lib.sh"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
CTL() { "$SMBDIRECTCTL" -s "$SD_RUN/control" "$@"; }

step "RDMA devices in the test bed (real verbs on emulated NICs)"
rdma link show

conf=$TB_OUT/demo.conf
write_conf "$conf" \
	"smbdirect.keepalive_interval = 120s" \
	"smbdirect.keepalive_timeout = 5s" \
	"channel.area_size = 16M"
step "start smbdirectd, Samba (TCP, loopback) and smbdirect-gw"
load_cifs || { echo "cannot load cifs.ko"; exit 1; }
start_daemon "$conf" demo-daemon || exit 1
start_samba || exit 1
start_gateway || exit 1
CTL status

step "mount //$TB_SIW_ADDR/share over SMB Direct (iWARP, port 5445)"
mount_rdma "$TB_SIW_ADDR" 5445 /mnt/demo cache=none || exit 1
grep -A4 "Hostname: $TB_SIW_ADDR" /proc/fs/cifs/DebugData

step "copy 128 MiB to the share and back; the connection, mid-copy"
head -c $((128 << 20)) /dev/urandom >/tmp/demo-file
( dd if=/tmp/demo-file of=/mnt/demo/file bs=4M status=none &&
  dd if=/mnt/demo/file of=/tmp/demo-back bs=4M status=none ) &
cp_pid=$!
sleep 3
CTL conns
CTL credits
CTL mr
wait $cp_pid || { echo "the copy failed"; exit 1; }
if cmp -s /tmp/demo-file /tmp/demo-back; then
	echo "the 128 MiB came back byte-exact:"
	sha256sum /tmp/demo-file /tmp/demo-back
else
	echo "the copy came back different"
	exit 1
fi
umount /mnt/demo

step "the daemon's metrics (the Prometheus textfile)"
sleep 1.5
grep -v '^#' "$SD_RUN/metrics.prom"
step "the gateway's metrics"
grep -v '^#' "$SD_RUN/gw.prom"

pkill -TERM -f smbdirect-gw
kill -TERM "$SMBD_PID" 2>/dev/null
stop_daemon

# Part two: the seed's hand-off, as an smbd would do it. mini-smbd starts
# the daemon itself (--control-fd); its c2 reads the client's NEGOTIATE,
# finds the owner c1 by ClientGuid and passes it the connection; c1
# serves READ and WRITE by RDMA through the area.
step "mini-smbd starts smbdirectd (--control-fd); sdpeer clients over RoCE and iWARP"
conf2=$TB_OUT/demo-handoff.conf
write_conf "$conf2" "smbdirect.max_read_write_size = 1M" "channel.area_size = 8M"
start_mini_smbd "$conf2" "$TB_OUT/demo-mini.jsonl" || exit 1
"$SDPEER" --smb2 --write-read 64M --io-size 1M --channel rdma-inv \
	"$TB_RXE_ADDR" >"$TB_OUT/demo-rxe.json" &
p1=$!
"$SDPEER" --smb2 --write-read 64M --io-size 1M --channel rdma \
	"$TB_SIW_ADDR" >"$TB_OUT/demo-siw.json" &
p2=$!
sleep 2
CTL status
CTL conns
wait $p1 && wait $p2 || { echo "an sdpeer transfer failed"; exit 1; }
echo "sdpeer, 64 MiB written and read back through RDMA channels, verified:"
grep -h smb2 "$TB_OUT/demo-rxe.json" "$TB_OUT/demo-siw.json"
step "the metrics file"
sleep 1.5
grep -v '^#' "$SD_RUN/metrics.prom"
kill -TERM $MS_PID
wait $MS_PID

# Part three: Samba itself, patched by samba/patches (scripts/demo.sh
# builds it, or finds it in the cache, and passes SAMBA_BIN): the parent
# smbd starts smbdirectd and is its master; a two-channel mount's second
# channel is handed to the first channel's smbd by ClientGuid.
[ -n "${SAMBA_BIN:-}" ] || { echo "no SAMBA_BIN: no patched Samba"; exit 1; }
step "Samba's smbd ($SAMBA_BIN) starts smbdirectd and registers as its master"
conf3=$TB_OUT/demo-samba.conf
write_conf "$conf3" \
	"smbdirect.keepalive_interval = 120s" \
	"smbdirect.keepalive_timeout = 5s" \
	"channel.area_size = 32M"
start_samba_direct "$conf3" || { tail -n 20 "$SMBD_LOG"; exit 1; }
grep "smb direct\|multi channel" "$SCONF"
CTL status
step "mount over soft-iWARP with two channels; watch the hand-off"
CTL events --count 1 --timeout 120 &
ev=$!
sleep 1
mount_rdma "$TB_SIW_ADDR" 5445 /mnt/demo "cache=none,multichannel,max_channels=2" ||
	exit 1
wait $ev || { echo "no hand-off seen"; exit 1; }
CTL conns
step "smbstatus: Samba sees the client's own RDMA address"
"$SAMBA_BIN/smbstatus" -s "$SCONF" -b
step "copy 128 MiB to the share and back, READ and WRITE by RDMA"
dd if=/tmp/demo-file of=/mnt/demo/file2 bs=4M status=none &&
	dd if=/mnt/demo/file2 of=/tmp/demo-back2 bs=4M status=none ||
	{ echo "the copy failed"; exit 1; }
cmp /tmp/demo-file /tmp/demo-back2 || exit 1
echo "byte-exact; per channel:"
CTL --json conns | jq -c '.connections[] | {id, peer, owner_pid,
	rdma_read_bytes: .counters.rdma_read_bytes,
	rdma_write_bytes: .counters.rdma_write_bytes}'
umount /mnt/demo
sleep 1
grep "smbdirect: conn=" "$SMBD_LOG" | tail -n 2
# smbd leaves the daemon it started running (a restarted smbd joins it):
# stop both.
sd=$(pgrep -f -- "--control-fd=3")
stop_samba_direct || exit 1
kill -TERM $sd 2>/dev/null
wait_until 10 "! kill -0 $sd 2>/dev/null" || { echo "smbdirectd did not stop"; exit 1; }
exit 0
