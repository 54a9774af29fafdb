#!/bin/sh
# SPDX-License-Identifier: ISC
# Configure and build smbdirectd in DIR (default build/) with the given
# configure options. Reconfigures only when the options change.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1; shift
jobs=$(nproc 2>/dev/null || echo 2)

[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh)
mkdir -p "$dir"
cd "$dir"
want="$*"
if [ ! -f Makefile ] || [ "$(cat .configure-args 2>/dev/null)" != "$want" ]; then
	"$top/configure" "$@"
	printf '%s' "$want" >.configure-args
fi
make -j"$jobs"
