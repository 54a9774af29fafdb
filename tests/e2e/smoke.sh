#!/bin/bash
# SPDX-License-Identifier: ISC
# Runs inside the test bed: the rdma_smoke program over Soft-RoCE and over
# soft-iWARP. Each run connects through RDMA CM, exchanges SENDs, does an
# RDMA WRITE and an RDMA READ against the server's buffer and checks every
# byte on both sides.
set -euo pipefail
smoke=${SMOKE:-./tests/peer/rdma_smoke}
size=${SMOKE_BYTES:-8388608}
fails=0

one() {
	local name=$1 addr=$2 port=$3 srv rc
	echo "== smoke over $name ($addr:$port, $size bytes)"
	"$smoke" -s -a "$addr" -p "$port" -n "$size" >"$TB_OUT/smoke-$name-server.log" 2>&1 &
	srv=$!
	# The server prints its listening line once rdma_listen succeeded.
	for _ in $(seq 100); do
		grep -q listening "$TB_OUT/smoke-$name-server.log" && break
		sleep 0.05
	done
	rc=0
	"$smoke" -c "$addr" -p "$port" -n "$size" || rc=$?
	wait "$srv" || rc=$?
	cat "$TB_OUT/smoke-$name-server.log"
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: smoke over $name"
		fails=$((fails + 1))
	else
		echo "PASS: smoke over $name"
	fi
}

one rxe "$TB_RXE_ADDR" 7471
one siw "$TB_SIW_ADDR" 7472
[ "$fails" -eq 0 ]
