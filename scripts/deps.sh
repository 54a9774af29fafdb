#!/bin/sh
# SPDX-License-Identifier: ISC
# Install, with apt-get, what building smbdirectd and running its test bed
# need on Debian 12. Safe to rerun: it installs only what is missing.
set -eu

pkgs="autoconf automake libtool pkg-config gcc make
	libibverbs-dev librdmacm-dev libprotobuf-c-dev protobuf-c-compiler
	libevent-dev libcmocka-dev libinih-dev libjson-c-dev libsystemd-dev
	nettle-dev
	qemu-system-x86 busybox-static kmod cpio xz-utils gzip procps
	rdma-core ibverbs-providers ibverbs-utils rdmacm-utils perftest
	iproute2 tshark jq prometheus clang libclang-rt-14-dev mandoc
	samba cifs-utils util-linux"

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: installing packages needs root (run it with sudo)" >&2
	exit 1
fi

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

# The test bed resolves Debian's current kernel from the package lists.
if [ -n "$missing" ] ||
   ! apt-cache policy linux-image-amd64 2>/dev/null | grep -q 'Candidate: [0-9]'; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
fi
if [ -n "$missing" ]; then
	echo "deps.sh: installing$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $missing
fi
