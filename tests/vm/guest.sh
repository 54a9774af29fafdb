#!/bin/bash
# SPDX-License-Identifier: ISC
# Stage 2 of the test bed, run by the initramfs as root inside the chroot
# (the host's root filesystem under a tmpfs overlay). Brings up the RDMA
# devices and runs the test script, whose exit status goes back to the host
# in /tb/status.
#
# The test script sees:
#   TB_OUT                 directory for result files (copied to the host)
#   TB_RXE_DEV TB_RXE_ADDR Soft-RoCE device and its IPv4 address
#   TB_SIW_DEV TB_SIW_ADDR soft-iWARP device and its IPv4 address
#   TB_WIRE_DEV TB_WIRE_ADDR TB_WIRE_NETDEV TB_WIRE_PEER
#                          Soft-RoCE whose packets cross a wire: the server
#                          end (device, address, netdev) of a veth pair
#                          with rxe on both ends, and the client end's
#                          address. Capture RoCEv2 (UDP 4791) on the netdev.
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

# Soft-RoCE over a veth pair, both ends in the initial namespace (cifs
# and rxe's UDP socket work only there). Both addresses are local, so
# without help the kernel would deliver over lo and rxe would loop back
# inside itself, and no packet would be seen. Policy routing sends what
# this host originates to either address out of the other end's veth, and
# the local table is consulted only after that; permanent neighbours, and
# accepting packets from a local source, complete the wire. 1 MiB RDMA
# READ responses overflow the default backlog of 1000 packets. Jumbo
# frames give rxe a 4096-byte IB MTU, as RoCE deployments run: Wireshark's
# InfiniBand dissector hands each packet of a multi-packet SEND to SMB
# Direct on its own, so an SMB Direct message (at most 1364 bytes with
# Windows' and Linux's sizes) must fit in one packet to be judged at all.
up_wire() {
	local a=10.99.2.1 b=10.99.2.2 f
	ip link add sdv0 type veth peer name sdv1 &&
	ip link set sdv0 mtu 4500 && ip link set sdv1 mtu 4500 &&
	ip addr add $a/24 dev sdv0 && ip addr add $b/24 dev sdv1 &&
	ip link set sdv0 up && ip link set sdv1 up || return 1
	for f in all default sdv0 sdv1; do
		sysctl -qw net.ipv4.conf.$f.accept_local=1 \
			net.ipv4.conf.$f.rp_filter=0 || return 1
	done
	sysctl -qw net.core.netdev_max_backlog=262144 &&
	ip route add $a/32 dev sdv1 table 201 &&
	ip route add $b/32 dev sdv0 table 202 &&
	ip rule add pref 10 iif lo to $a lookup 201 &&
	ip rule add pref 11 iif lo to $b lookup 202 &&
	ip rule add pref 100 lookup local &&
	ip rule del pref 0 lookup local &&
	ip neigh replace $a lladdr "$(cat /sys/class/net/sdv0/address)" \
		dev sdv1 nud permanent &&
	ip neigh replace $b lladdr "$(cat /sys/class/net/sdv1/address)" \
		dev sdv0 nud permanent &&
	rdma link add rxe1 type rxe netdev sdv0 &&
	rdma link add rxe2 type rxe netdev sdv1
}

modprobe -a rdma_ucm ib_uverbs rdma_rxe siw || finish 121
up_dev rxe0 rxe sdt0 10.99.0.1 || finish 122
up_dev siw0 siw sdt1 10.99.1.1 || finish 123
up_wire || finish 126
export TB_OUT=/tb/out
export TB_RXE_DEV=rxe0 TB_RXE_ADDR=10.99.0.1
export TB_SIW_DEV=siw0 TB_SIW_ADDR=10.99.1.1
export TB_WIRE_DEV=rxe1 TB_WIRE_ADDR=10.99.2.1 TB_WIRE_NETDEV=sdv0
export TB_WIRE_PEER=10.99.2.2

log "kernel $(uname -r), uptime $(cut -d' ' -f1 /proc/uptime)s, RDMA links:"
rdma link show
: >/tb/ready

cd "$TB_CWD" || finish 124
"$TB_SCRIPT" "${TB_ARGS[@]}"
rc=$?
dmesg >/tb/out/dmesg.log 2>&1
finish $rc
