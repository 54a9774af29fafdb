#!/bin/sh
# SPDX-License-Identifier: ISC
# The whole test suite: unit tests under ASan and UBSan with -Werror, the
# end-to-end scenarios in the qemu RDMA test bed, then `make distcheck`.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh" "$top/build-check" --enable-werror --enable-asan \
	--enable-ubsan
cd "$top/build-check"
make -j"$(nproc)" check
# distcheck proves the tarball is complete: it builds it out of tree and
# reruns the unit tests, and boots the test bed with the smoke scenario.
make -j"$(nproc)" distcheck E2E_SCENARIOS=smoke
