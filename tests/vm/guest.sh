#!/bin/bash
# Stage 2 of the test bed, run by the initramfs as root inside the chroot
# (the host's root filesystem under a tmpfs overlay). Brings up the RDMA
# devices and runs the test script, whose exit status goes back to the host
# in /tb/status.
#
# The test script sees:
#   TB_OUT                 directory for result files (copied to the host)
#   TB_RXE_DEV TB_RXE_ADDR Soft-RoCE device and its IPv4 address
#   TB_SIW_DEV TB_SIW_ADDR soft-iWARP device and its IPv4 address
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
. /tb/env

mkdir -p /tb/out
exec > >(tee -a /tb/out/test.log) 2>&1
teepid=$!

log() { echo "guest: $*"; }
finish() {
	# Let the log drain, but not forever: a test's leftover background
	# process may still hold the pipe. Then end every leftover, so the
	# VM powers off with nothing half-done behind it.
	exec >&- 2>&-
	for _ in $(seq 30); do
		kill -0 "$teepid" 2>/dev/null || break
		sleep 0.1
	done
	echo "$1" >/tb/status
	kill -TERM -1 2>/dev/null
	sleep 0.5
	kill -KILL -1 2>/dev/null
	exit "$1"
}

# The host's modprobe, with the kernel's own module tree (and the siw.ko
# built for it) in place of the host's.
mkdir -p /lib/modules
mount --bind "$TB_MODROOT" /lib/modules || finish 120

hostname testbed
ip link set lo up
ulimit -l unlimited
ulimit -n 65536

up_dev() {
	local rdev=$1 type=$2 netdev=$3 addr=$4
	ip link add "$netdev" type dummy &&
	ip addr add "$addr/24" dev "$netdev" &&
	ip link set "$netdev" up &&
	rdma link add "$rdev" type "$type" netdev "$netdev"
}

modprobe -a rdma_ucm ib_uverbs rdma_rxe siw || finish 121
up_dev rxe0 rxe sdt0 10.99.0.1 || finish 122
up_dev siw0 siw sdt1 10.99.1.1 || finish 123
export TB_OUT=/tb/out
export TB_RXE_DEV=rxe0 TB_RXE_ADDR=10.99.0.1
export TB_SIW_DEV=siw0 TB_SIW_ADDR=10.99.1.1

log "kernel $(uname -r), uptime $(cut -d' ' -f1 /proc/uptime)s, RDMA links:"
rdma link show
: >/tb/ready

cd "$TB_CWD" || finish 124
"$TB_SCRIPT" "${TB_ARGS[@]}"
rc=$?
dmesg >/tb/out/dmesg.log 2>&1
finish $rc
