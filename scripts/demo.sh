#!/bin/sh
# SPDX-License-Identifier: ISC
# The demo: build everything, boot the qemu RDMA test bed and show
# smbdirectd at work over Soft-RoCE and soft-iWARP.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh" "$top/build" --enable-werror
cd "$top/build"
make -j"$(nproc)" check-programs >/dev/null
# Samba patched by samba/patches: seconds from the cache, otherwise a
# build of 6 to 15 minutes on 2 cores.
SAMBA_BIN=$("$top/samba/build.sh")
export SAMBA_BIN
TB_ENV="SAMBA_BIN ${TB_ENV:-}" exec "$top/tests/vm/testbed.sh" run \
	-m 3072 -o "$top/build/demo" "$top/tests/e2e/demo.sh"
