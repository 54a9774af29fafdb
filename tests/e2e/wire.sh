#!/bin/bash
# An independent judge of the wire format: capture smbdirectd's soft-iWARP
# traffic (TCP 5445 over lo) and let Wireshark's dissectors decode it. The
# negotiate and data messages must decode as SMB Direct, with no malformed
# frame at any layer.
set -u
. "$(dirname "$0")/lib.sh"

conf=$TB_OUT/wire.conf
write_conf "$conf"
start_daemon "$conf" wire-daemon || exit 1
start_master echo || exit 1

cap=$TB_OUT/siw-5445.pcapng
dumpcap -q -i lo -B 128 -f "tcp port 5445" -w "$cap" 2>"$TB_OUT/dumpcap.err" &
dc=$!
wait_until 30 grep -q "Capturing on" "$TB_OUT/dumpcap.err" ||
	{ say "dumpcap did not start"; cat "$TB_OUT/dumpcap.err"; exit 1; }
sleep 1

# PDUs of 112 bytes and more are well-formed SMB2 WRITE requests, so every
# layer has something real to decode; sizes cross fragment boundaries.
out=$("$SDPEER" --echo 112,1000,1364,1365,5000,65536,200000 --repeat 2 \
	"$TB_SIW_ADDR")
rc=$?
sleep 1
kill -INT $dc
wait $dc
check "sdpeer traffic over siw succeeded" eq "$rc" 0
say "       $out"

ts() {
	tshark -r "$cap" --disable-protocol artemis -Y "$1" -T fields \
		-e frame.number 2>/dev/null | wc -l
}
nreq=$(ts smb_direct.negotiate_request)
nresp=$(ts smb_direct.negotiate_response)
ndata=$(ts smb_direct.data_message)
nmal=$(ts _ws.malformed)
nsmb2=$(ts smb2)
say "       frames: negotiate request $nreq, response $nresp, data $ndata, smb2 $nsmb2, malformed $nmal"
check "the negotiate request decodes as SMB Direct" eq "$nreq" 1
check "the negotiate response decodes as SMB Direct" eq "$nresp" 1
check "data messages decode as SMB Direct" [ "$ndata" -ge 28 ]
check "reassembled PDUs decode as SMB2" [ "$nsmb2" -ge 28 ]
check "no malformed frames" eq "$nmal" 0
# Every data message we sent with payload has DataOffset 24.
bad_off=$(tshark -r "$cap" --disable-protocol artemis \
	-Y "smb_direct.data_length > 0 && smb_direct.data_offset != 24" \
	-T fields -e frame.number 2>/dev/null | wc -l)
check "DataOffset is 24 on every message with payload" eq "$bad_off" 0
over=$(tshark -r "$cap" --disable-protocol artemis \
	-Y "smb_direct.credits.granted > 255 || smb_direct.credits.requested > 255" \
	-T fields -e frame.number 2>/dev/null | wc -l)
check "credits on the wire stay at or below 255" eq "$over" 0

stop_master
stop_daemon
finish
