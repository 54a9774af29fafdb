#!/bin/bash
# The README's demo, inside the test bed: the RDMA devices the test bed
# brought up, then real traffic over each of them.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
echo "== RDMA devices in the test bed"
rdma link show
ibv_devices
echo
SMOKE_BYTES=$((64 << 20)) "$src/tests/e2e/smoke.sh"
