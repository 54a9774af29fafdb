#!/bin/bash
# SPDX-License-Identifier: ISC
# An independent judge of the wire format: capture smbdirectd's traffic
# and let Wireshark's dissectors decode it, over soft-iWARP (TCP 5445 over
# lo) and over Soft-RoCE on a real wire (RoCEv2, UDP 4791 on a veth
# pair). Full-size frames. The negotiate and data messages must decode as
# SMB Direct and their PDUs as SMB2, with no malformed frame at any layer.
set -u
. "$(dirname "$0")/lib.sh"

conf=$TB_OUT/wire.conf
write_conf "$conf" "global.listen = $TB_WIRE_ADDR:445"
start_daemon "$conf" wire-daemon || exit 1
start_master echo || exit 1

# capture NAME IFACE FILTER ADDR: run the same client traffic to ADDR
# while dumpcap records IFACE, then judge the capture.
capture() {
	local name=$1 iface=$2 filter=$3 addr=$4 cap dc out rc
	cap=/tmp/wire-$name.pcapng
	dumpcap -q -i "$iface" -B 128 -f "$filter" -w "$cap" \
		2>"$TB_OUT/dumpcap-$name.err" &
	dc=$!
	wait_until 30 grep -q "Capturing on" "$TB_OUT/dumpcap-$name.err" ||
		{ say "dumpcap did not start"; cat "$TB_OUT/dumpcap-$name.err"; return 1; }
	sleep 1
	# PDUs of 112 bytes and more are well-formed SMB2 WRITE requests, so
	# every layer has something real to decode; sizes cross fragment
	# boundaries.
	out=$("$SDPEER" --echo 112,1000,1364,1365,5000,65536,200000 \
		--repeat 2 "$addr")
	rc=$?
	sleep 1
	kill -INT $dc
	wait $dc
	check "$name: sdpeer traffic succeeded" eq "$rc" 0
	say "       $out"
	judge "$name" "$cap"
}

judge() {
	local name=$1 cap=$2 nreq nresp ndata nmal nsmb2 bad_off over trunc
	nreq=$(tshark_count "$cap" smb_direct.negotiate_request)
	nresp=$(tshark_count "$cap" smb_direct.negotiate_response)
	ndata=$(tshark_count "$cap" smb_direct.data_message)
	nmal=$(tshark_count "$cap" _ws.malformed)
	trunc=$(tshark_count "$cap" "frame.cap_len < frame.len")
	nsmb2=$(tshark_count "$cap" smb2)
	say "       $name frames: negotiate request $nreq, response $nresp, data $ndata, smb2 $nsmb2, malformed $nmal, truncated $trunc"
	check "$name: the negotiate request decodes as SMB Direct" eq "$nreq" 1
	check "$name: the negotiate response decodes as SMB Direct" eq "$nresp" 1
	check "$name: data messages decode as SMB Direct" [ "$ndata" -ge 28 ]
	check "$name: reassembled PDUs decode as SMB2" [ "$nsmb2" -ge 28 ]
	check "$name: every frame captured whole" eq "$trunc" 0
	check "$name: no malformed frames" eq "$nmal" 0
	# Every data message we sent with payload has DataOffset 24.
	bad_off=$(tshark_count "$cap" \
		"smb_direct.data_length > 0 && smb_direct.data_offset != 24")
	check "$name: DataOffset is 24 on every message with payload" \
		eq "$bad_off" 0
	over=$(tshark_count "$cap" \
		"smb_direct.credits.granted > 255 || smb_direct.credits.requested > 255")
	check "$name: credits on the wire stay at or below 255" eq "$over" 0
	if [ "$failures" -gt 0 ]; then
		cp "$cap" "$TB_OUT/"
	fi
}

capture siw lo "tcp port 5445" "$TB_SIW_ADDR"
capture rxe "$TB_WIRE_NETDEV" "udp port 4791" "$TB_WIRE_ADDR"

check "the test master stops cleanly" stop_master
check "the daemon stops cleanly (exit 0)" stop_daemon
finish
