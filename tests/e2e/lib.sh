# SPDX-License-Identifier: ISC
# Shared helpers for the end-to-end scenarios that run inside the test bed.
# Source it from a scenario script; it expects to run from the build
# directory (the test bed's cwd) and uses the TB_* variables of the test
# bed (tests/vm/guest.sh).

B=${B:-$PWD}
SMBDIRECTD=$B/daemon/smbdirectd
SDPEER=$B/tests/peer/sdpeer
TESTMASTER=$B/tests/peer/testmaster
SMBDIRECTCTL=$B/cli/smbdirectctl
TB_OUT=${TB_OUT:-/tmp}

failures=0
checks=0

say() { printf '%s\n' "$*"; }

# Measurements that could not be made. A helper that cannot measure (a
# missing metric series, a failed rdma or jq call) says why here, from
# whatever subshell it runs in; the check that asked, and the scenario,
# then fail. A missing measurement is never a zero.
MEASURE_ERR=$TB_OUT/measure-errors.$$
: >"$MEASURE_ERR"

# measure_fail WHAT: record a measurement that could not be made.
measure_fail() {
	printf '%s\n' "$*" >>"$MEASURE_ERR"
	printf '       cannot measure: %s\n' "$*" >&2
}

measure_errors() {
	wc -l <"$MEASURE_ERR"
}

# check NAME CONDITION...: run CONDITION, count a failure if it fails or
# if a measurement could not be made since the last check ended: that
# covers the $(...) in CONDITION's own arguments, which the shell expands
# before check runs.
MEASURE_SEEN=0
check() {
	local name=$1 ok=0 now
	shift
	checks=$((checks + 1))
	"$@" || ok=1
	now=$(measure_errors)
	if [ $ok -eq 0 ] && [ "$now" -eq "$MEASURE_SEEN" ]; then
		say "ok   - $name"
	else
		say "FAIL - $name"
		failures=$((failures + 1))
	fi
	MEASURE_SEEN=$now
}

# Compare two values, with a message that shows both.
eq() {
	if [ "$1" != "$2" ]; then
		say "       expected '$2', got '$1'"
		return 1
	fi
}

# finish: print the tally and exit with its status. Measurements that
# failed outside any check fail the scenario too.
finish() {
	local m
	m=$(measure_errors)
	say "$checks checks, $failures failed, $m measurements failed"
	rm -f "$MEASURE_ERR"
	[ "$failures" -eq 0 ] && [ "$m" -eq 0 ]
	exit $?
}

# write_conf FILE [EXTRA LINES...]: a daemon configuration for the test
# bed: both RDMA addresses, a private runtime dir, a fast metrics file.
# Extra lines are "section.name = value".
write_conf() {
	local f=$1 line sec kv
	shift
	declare -A sections
	sections[global]="listen = $TB_RXE_ADDR:445
listen = $TB_SIW_ADDR:5445
control_socket = $SD_RUN/control
runtime_dir = $SD_RUN"
	sections[smbdirect]="negotiate_timeout = 2s
keepalive_interval = 4s
keepalive_timeout = 2s"
	sections[channel]="connect_timeout = 5s"
	sections[metrics]="textfile = $SD_RUN/metrics.prom
interval = 1s"
	for line in "$@"; do
		sec=${line%%.*}
		kv=${line#*.}
		sections[$sec]="${sections[$sec]:-}
$kv"
	done
	: >"$f"
	for sec in "${!sections[@]}"; do
		printf '[%s]\n%s\n\n' "$sec" "${sections[$sec]}" >>"$f"
	done
}

SD_RUN=${SD_RUN:-/run/sdtest}
SD_PID=
SD_LOG=

# start_daemon CONF [LOGNAME]: start smbdirectd in the foreground with
# debug logging, and wait for its control socket.
start_daemon() {
	local conf=$1 name=${2:-daemon}
	SD_LOG=$TB_OUT/$name.log
	"$SMBDIRECTD" -d -c "$conf" >>"$SD_LOG" 2>&1 &
	SD_PID=$!
	for _ in $(seq 100); do
		[ -S "$SD_RUN/control" ] && grep -q ready "$SD_LOG" && return 0
		kill -0 "$SD_PID" 2>/dev/null || break
		sleep 0.1
	done
	say "smbdirectd did not start:"
	cat "$SD_LOG"
	return 1
}

# stop_daemon: SIGTERM, wait, and return the daemon's exit status.
stop_daemon() {
	stop_pid SD_PID smbdirectd
}

MASTER_PID=
MASTER_OUT=

# start_master [MODE]: the test master, registered over the control socket.
start_master() {
	local mode=${1:-echo}
	MASTER_OUT=$TB_OUT/master-$RANDOM.jsonl
	"$TESTMASTER" -s "$SD_RUN/control" --mode "$mode" >"$MASTER_OUT" \
		2>>"$TB_OUT/master.err" &
	MASTER_PID=$!
	for _ in $(seq 100); do
		grep -q registered "$MASTER_OUT" 2>/dev/null && return 0
		sleep 0.1
	done
	say "the test master did not register"
	return 1
}

# stop_pid VAR WHAT: SIGTERM the process whose pid is in the variable
# VAR, wait for it, empty VAR, and return its exit status (0 for a clean
# stop), saying so when it is not.
stop_pid() {
	local var=$1 what=$2 pid=${!1} rc=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	if ! wait_until 30 pid_done "$pid"; then
		say "       $what did not stop within 30 s of SIGTERM; killed"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" || rc=$?
	printf -v "$var" '%s' ''
	[ $rc -eq 0 ] || say "       $what exited with status $rc"
	return $rc
}

# pid_done PID: PID has ended (gone, or a zombie waiting to be reaped);
# with wait_until, it bounds what a bare `wait` would not.
pid_done() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "${st%% *}" = Z ]
}

# stop_master: stop the test master; its exit status.
stop_master() {
	stop_pid MASTER_PID "the test master"
}

# metric NAME [LABELS]: the value of one series in the daemon's textfile,
# after the next write (interval 1 s). A missing series or a value that is
# not a whole number is a failed measurement: nothing is printed.
metric() {
	sleep 1.2
	series "$SD_RUN/metrics.prom" "$@"
}

# series FILE NAME [LABELS]: one series' value from a Prometheus textfile,
# strictly (see metric).
series() {
	local f=$1 name=$2 labels=${3:-} line v
	if [ -n "$labels" ]; then
		line=$(grep -F "$name{$labels} " "$f" 2>/dev/null)
	else
		line=$(grep -E "^$name " "$f" 2>/dev/null)
	fi
	v=${line##* }
	if [ -z "$line" ] || ! [[ $v =~ ^[0-9]+$ ]] ||
	   [ "$(grep -c . <<<"$line")" -ne 1 ]; then
		measure_fail "series $name{$labels} in $f: '${line:-missing}'"
		return 1
	fi
	echo "$v"
}

# daemon_fds: open descriptors of the daemon.
daemon_fds() {
	ls "/proc/$SD_PID/fd" | wc -l
}

# rdma_count KIND: QPs, MRs or cm_ids (KIND qp, mr, cm_id) of the daemon.
# An rdma or jq failure is a failed measurement.
rdma_count() {
	local out n
	if ! out=$(rdma -j resource show "$1" 2>&1); then
		measure_fail "rdma resource show $1: $out"
		return 1
	fi
	if ! n=$(jq -e "[.[] | select(.pid == $SD_PID)] | length" \
	    <<<"$out" 2>&1) || ! [[ $n =~ ^[0-9]+$ ]]; then
		measure_fail "rdma resource show $1 | jq: $n"
		return 1
	fi
	echo "$n"
}

# wait_until SECONDS COMMAND...: poll COMMAND until it succeeds; give up
# at once when it returns 2 (it knows it never will). COMMAND runs anew
# on every poll, but the caller's own $(...) were expanded once, before
# the call: to re-evaluate a substitution, give one quoted string, which
# is eval'd on every poll.
wait_until() {
	local t=$1 i rc
	shift
	for i in $(seq $((t * 10))); do
		if [ $# -eq 1 ]; then
			eval "$1"
		else
			"$@"
		fi
		rc=$?
		[ $rc -eq 0 ] && return 0
		[ $rc -eq 2 ] && return 1
		sleep 0.1
	done
	return 1
}

conns_active() {
	[ "$(grep -E '^smbdirect_connections_active ' "$SD_RUN/metrics.prom" |
		awk '{print $2}')" = "$1" ]
}

# TSHARK_DECODE: what tshark is told not to decode, in every capture we
# judge. None is a layer of ours, and each made tshark call a correct
# frame malformed, or claimed it:
# - artemis: Wireshark gives TCP port 5445, SMB Direct's iWARP port, to
#   ActiveMQ Artemis (`tshark -G decodes`).
# - spnego: Samba's SMB2 NEGOTIATE response carries an [MS-SPNG] 2.2.1
#   NegTokenInit2, whose [3] is negHints ({ [0] hintName
#   "not_defined_in_RFC4178@please_ignore" }); tshark 4.0 decodes it as an
#   RFC 4178 NegTokenInit, whose [3] is mechListMIC, an OCTET STRING. The
#   token is Samba's gensec output, relayed byte for byte; we found no
#   upstream Wireshark report to name.
# - eth_over_ib: the InfiniBand dissector hands any packet payload whose
#   bytes 2-3 are zero to the EtherType table, keyed by bytes 0-1. RoCE
#   splits an SMB Direct message into MTU-sized packets, so the payload of
#   a middle or last packet is arbitrary file data; when it began 81 00 00
#   00 tshark decoded a VLAN tag and called the frame malformed (seen
#   twice in one 256 MiB mount: random data, so an intermittent failure).
#   mellanox_eoib is the same kind of guess.
# Every layer that is ours (iWARP or InfiniBand transport headers, SMB
# Direct, SMB2) is still judged in every frame.
TSHARK_DECODE="--disable-protocol artemis --disable-protocol spnego
	--disable-heuristic eth_over_ib --disable-heuristic mellanox_eoib"

# tshark_count CAP FILTER: frames of CAP matching a display filter; a
# tshark failure is a failed measurement.
tshark_count() {
	local out
	# shellcheck disable=SC2086 # TSHARK_DECODE is a list of options
	if ! out=$(tshark -r "$1" $TSHARK_DECODE -Y "$2" \
	    -T fields -e frame.number 2>&1 >/tmp/tshark.out); then
		measure_fail "tshark -Y '$2' on $1: $out"
		return 1
	fi
	wc -l </tmp/tshark.out
}

# fds_back_to BASE: the daemon's open descriptors are BASE again; shows
# them when not.
fds_back_to() {
	local now
	now=$(daemon_fds)
	if [ "$now" != "$1" ]; then
		say "       expected $1 fds, got $now:"
		ls -l "/proc/$SD_PID/fd" | sed 's/^/         /'
		return 1
	fi
}

# stage_program PROG DIR: copy a program of the build tree, with the
# build tree's shared libraries it needs, into DIR (created 0755), and
# print the command line that runs the copy. For running our tools as
# another user: the checkout may sit in a 0700 directory (root's home)
# that no other user can enter. libtool's uninstalled programs are a
# wrapper script around .libs/PROG with no RUNPATH, so the copy finds the
# copied libraries through LD_LIBRARY_PATH.
stage_program() {
	local prog=$1 dir=$2 real
	real=$(dirname "$prog")/.libs/$(basename "$prog")
	[ -x "$real" ] || real=$prog
	install -d -m 0755 "$dir" || return 1
	install -m 0755 "$real" "$dir/$(basename "$prog")" || return 1
	cp -P "$B"/libclient/.libs/lib*.so* "$dir/" 2>/dev/null
	chmod -R a+rX "$dir"
	echo "env LD_LIBRARY_PATH=$dir $dir/$(basename "$prog")"
}

# ---------------------------------------------------------------------
# Samba, the gateway and the kernel's SMB Direct client (cifs.ko, rebuilt
# by the test bed with CONFIG_CIFS_SMB_DIRECT).
# ---------------------------------------------------------------------

SMBDIRECT_GW=$B/gateway/smbdirect-gw
SMB_USER=sduser
SMB_PASS=sd-Passw0rd
SHARE=/srv/share
GW_PID=
SMBD_PID=

# start_samba: Debian's smbd on loopback, TCP 445, a share on tmpfs.
# samba_prepare DIR: the state directories under DIR, the share and the
# share's user.
samba_prepare() {
	mkdir -p "$1/private" "$1/lock" "$1/state" "$1/cache" "$1/pid" \
		"$1/ncalrpc" "$SHARE"
	mountpoint -q "$SHARE" || mount -t tmpfs -o size=900M tmpfs "$SHARE"
	chmod 0777 "$SHARE"
	id "$SMB_USER" >/dev/null 2>&1 ||
		useradd -M -s /usr/sbin/nologin "$SMB_USER"
}

# make_file_set DIR: 256 MiB of random data in DIR/f0..f13, sized around
# the 4 KiB offload threshold and MaxReadWriteSize (1 MiB): 1, 4095-4097,
# 8191, 64 KiB+1, 1 MiB-1..+1, 3 MiB+7, and four files of the rest.
make_file_set() {
	local dir=$1 sizes="1 4095 4096 4097 8191 65537 1048575 1048576"
	local total=0 rest s i=0
	sizes="$sizes 1048577 3145735"
	mkdir -p "$dir" || return 1
	for s in $sizes; do total=$((total + s)); done
	rest=$(( (256 << 20) - total ))
	sizes="$sizes $((rest / 4)) $((rest / 4)) $((rest / 4))"
	sizes="$sizes $((rest - 3 * (rest / 4)))"
	for s in $sizes; do
		head -c "$s" /dev/urandom >"$dir/f$i" || return 1
		i=$((i + 1))
	done
	[ "$(du -cb "$dir"/f* | tail -n 1 | cut -f1)" -eq $((256 << 20)) ]
}

# samba_conf DIR LOG INTERFACES [LINE...]: an smb.conf (printed) with its
# state under DIR, its log in LOG, serving [share] on INTERFACES; each
# LINE goes into [global]. SMB 3.0 and up: "SMB3" alone means 3.1.1 to
# Samba, and one of samba.sh's signed sessions is sdpeer with SMB 3.0.2,
# to use its key derivation too; the kernel client negotiates 3.1.1.
samba_conf() {
	local s=$1 log=$2 ifs=$3 l
	shift 3
	cat <<EOC
[global]
	interfaces = $ifs
	bind interfaces only = yes
	smb ports = 445
	server min protocol = SMB3_00
	passdb backend = tdbsam:$s/private/passdb.tdb
	private dir = $s/private
	lock directory = $s/lock
	state directory = $s/state
	cache directory = $s/cache
	pid directory = $s/pid
	ncalrpc dir = $s/ncalrpc
	binddns dir = $s/bind-dns
	log file = $log
	load printers = no
	disable spoolss = yes
EOC
	for l in "$@"; do
		printf '\t%s\n' "$l"
	done
	cat <<EOC
[share]
	path = $SHARE
	read only = no
	force user = root
EOC
}

# samba_run SMBPASSWD SMBD CONF OUT: add the share's user, start smbd
# (SMBD_PID). Its own session: in the same process group, stopping smbd
# took the scenario and its runner down with SIGTERM too (seen in the
# test bed with Debian 12's Samba 4.17).
samba_run() {
	printf '%s\n%s\n' "$SMB_PASS" "$SMB_PASS" |
		"$1" -c "$3" -s -a "$SMB_USER" >/dev/null || return 1
	setsid "$2" -s "$3" --foreground --no-process-group >"$4" 2>&1 &
	SMBD_PID=$!
}

# start_samba: Debian's Samba on loopback (TCP), behind the gateway.
start_samba() {
	local s=/run/sdsamba
	mkdir -p /run/samba /var/log/samba
	samba_prepare $s || return 1
	samba_conf $s "$TB_OUT/samba.log" lo >$s/smb.conf
	samba_run smbpasswd smbd $s/smb.conf "$TB_OUT/smbd.out" || return 1
	wait_until 30 tcp_listening 127.0.0.1:445
}

# Samba patched by samba/patches (SAMBA_BIN: the bin directory
# samba/build.sh prints), serving $SHARE.
SAMBA_DIRECT=/run/sdsamba-direct
SCONF=$SAMBA_DIRECT/smb.conf
SMBD_LOG=$TB_OUT/samba-direct.log

# start_samba_direct DAEMON_CONF: the patched smbd on loopback (TCP) and,
# through the smbdirectd it starts with DAEMON_CONF, on both RDMA
# addresses; it registers as the daemon's master.
start_samba_direct() {
	mkdir -p "$SD_RUN"
	samba_prepare $SAMBA_DIRECT || return 1
	samba_conf $SAMBA_DIRECT "$SMBD_LOG" "lo $TB_RXE_ADDR $TB_SIW_ADDR" \
		"max log size = 0" \
		"server multi channel support = yes" \
		"server smb direct = yes" \
		"smb direct daemon = $SMBDIRECTD" \
		"smb direct daemon config = $1" \
		"smb direct control socket = $SD_RUN/control" >$SCONF
	samba_run "$SAMBA_BIN/smbpasswd" "$SAMBA_BIN/smbd" $SCONF \
		"$TB_OUT/smbd-direct.out" || return 1
	wait_until 30 tcp_listening 127.0.0.1:445 &&
		wait_until 30 master_registered
}

# samba_pids: the pids of every process running the patched smbd (by
# its executable: SAMBA_BIN's path is no regular expression).
samba_pids() {
	local exe p
	exe=$(readlink -f "$SAMBA_BIN/smbd") || return 1
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$exe" ] &&
			echo "${p#/proc/}"
	done
	return 0
}

# stop_samba_direct: SIGTERM to every patched smbd (the master, its
# children, and sessions a killed master left); fails if the master or
# any of them is still there 30 s later (then KILLed).
stop_samba_direct() {
	local rc=0 left
	kill -TERM $(samba_pids) 2>/dev/null
	if ! wait_until 30 pid_done "$SMBD_PID"; then
		say "       the master smbd $SMBD_PID ignored SIGTERM"
		kill -KILL "$SMBD_PID"
		rc=1
	fi
	wait "$SMBD_PID" 2>/dev/null
	if ! wait_until 30 '[ -z "$(samba_pids)" ]'; then
		left=$(samba_pids)
		say "       smbd processes ignored SIGTERM:" $left
		kill -KILL $left 2>/dev/null
		rc=1
	fi
	return $rc
}

# smbd_said KEY: the sum of KEY=N over the patched smbd's per-connection
# log lines ("smbdirect: conn=... KEY=N ...", written at disconnect).
smbd_said() {
	grep -o "smbdirect: conn=.* $1=[0-9]*" "$SMBD_LOG" 2>/dev/null |
		sed "s/.* $1=//" | awk '{ s += $1 } END { print s + 0 }'
}

tcp_listening() {
	ss -Htln "sport = :${1##*:}" | grep -q "${1%:*}"
}

# paced_copy SRC DST: copy SRC (48 MiB) to DST 1 MiB a step, a tenth of
# a second apart, writing the last step done to $TB_OUT/kill-progress, so
# that a kill can be made to land mid-copy, and checked to have; prints
# the copy's status (0 or 1).
paced_copy() {
	local i
	for i in $(seq 0 47); do
		timeout 300 dd if="$1" of="$2" bs=1M skip=$i seek=$i \
			count=1 conv=notrunc status=none || { echo 1; return; }
		echo $i >"$TB_OUT/kill-progress"
		sleep 0.1
	done
	echo 0
}
# copied_mib N: paced_copy has done step N (N + 1 MiB) or more.
copied_mib() {
	[ "$(cat "$TB_OUT/kill-progress" 2>/dev/null || echo -1)" -ge "$1" ]
}

# start_gateway: smbdirect-gw in front of Samba; waits until registered.
start_gateway() {
	cat >"$TB_OUT/gw.conf" <<EOC
[gateway]
control_socket = $SD_RUN/control
backend = 127.0.0.1:445
metrics_textfile = $SD_RUN/gw.prom
metrics_interval = 1
EOC
	"$SMBDIRECT_GW" -c "$TB_OUT/gw.conf" -d >>"$TB_OUT/gw.log" 2>&1 &
	GW_PID=$!
	wait_until 30 master_registered
}

master_registered() {
	"$SMBDIRECTCTL" -s "$SD_RUN/control" --json status 2>/dev/null |
		jq -e '.master_pid > 0' >/dev/null
}

# load_cifs: the SMB Direct capable cifs.ko the test bed built.
load_cifs() {
	grep -q SMB_DIRECT /proc/fs/cifs/DebugData 2>/dev/null && return 0
	modprobe -a ib_core rdma_cm cifs_md4 cifs_arc4 fscache dns_resolver &&
	modprobe cifs && grep -q SMB_DIRECT /proc/fs/cifs/DebugData
}

# Linux cifs up to at least 6.1 sizes its fast-registration MRs as
# MaxReadWriteSize / PAGE_SIZE pages and its rsize and wsize as
# MaxReadWriteSize too, so direct I/O (cache=none) from a buffer that is
# not page-aligned needs one page more than an MR holds: the register
# fails and the client retries for ever ("smbd_register_mr num_pages=257
# max_frmr_depth=256"). Keeping rsize and wsize one page below 1 MiB
# avoids it; the same options are in the README for users.
CIFS_RDMA_OPTS=rsize=1044480,wsize=1044480

# mount_rdma ADDR PORT DIR [OPTIONS]: mount the share over SMB Direct.
mount_rdma() {
	mkdir -p "$3"
	mount -t cifs "//$1/share" "$3" -o "rdma,vers=3.1.1,port=$2,$CIFS_RDMA_OPTS,username=$SMB_USER,password=$SMB_PASS${4:+,$4}"
}

# gw_metric NAME [LABELS]: a value from the gateway's textfile (interval
# 1 s), strictly (see metric).
gw_metric() {
	sleep 1.2
	series "$SD_RUN/gw.prom" "$@"
}

# gw_copied KIND: smbdirect_gw_copied_bytes_total{kind=KIND}.
gw_copied() {
	gw_metric smbdirect_gw_copied_bytes_total "kind=\"$1\""
}

# stop_gateway: stop smbdirect-gw; its exit status.
stop_gateway() {
	stop_pid GW_PID smbdirect-gw
}

# perf_bw TOOL DEVICE ADDR PORT [ITERS] [SIZE]: MiB/s of ib_write_bw,
# ib_read_bw or ib_send_bw (perftest, whose "MB/sec" is 2^20 bytes per
# second) at SIZE bytes (default 1 MiB) over RDMA CM on one link: the
# raw-verbs reference the benchmarks compare with. A run that reports
# nothing or 0 (the client can beat the server's listen under TCG) is
# retried twice, said on stderr; then it is a failed measurement.
perf_bw() {
	local tool=$1 dev=$2 addr=$3 port=$4 n=${5:-200} size=${6:-1048576}
	local out bw srv try
	for try in 1 2 3; do
		$tool -d "$dev" -R -s "$size" -n "$n" -p "$port" -F \
			>/dev/null 2>&1 &
		srv=$!
		sleep 1
		out=$($tool -d "$dev" -R -s "$size" -n "$n" -p "$port" -F \
			"$addr" 2>&1)
		wait $srv
		bw=$(awk -v s="$size" '$1 == s { print $4 }' <<<"$out")
		if [[ $bw =~ ^[0-9]+(\.[0-9]+)?$ ]] &&
		   awk -v b="$bw" 'BEGIN { exit !(b > 0) }'; then
			echo "$bw"
			return 0
		fi
		echo "perf_bw: $tool on $dev, attempt $try: '${bw:-no figure}'" >&2
	done
	measure_fail "$tool on $dev: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
	return 1
}

# perf_refs DEVICE ADDR ITERS SIZE: the references of a benchmark on one
# link, RUNS (default 3) times each: sets IR to ib_read_bw's and IW to
# ib_write_bw's "median min max" in MiB/s. A client's write is an RDMA
# READ by the server, its read an RDMA WRITE.
perf_refs() {
	local dev=$1 addr=$2 n=$3 size=$4 irs=() iws=() i
	for i in $(seq "${RUNS:-3}"); do
		irs+=("$(perf_bw ib_read_bw "$dev" "$addr" 18516 "$n" "$size")") &&
		iws+=("$(perf_bw ib_write_bw "$dev" "$addr" 18515 "$n" "$size")") ||
			return 1
	done
	IR=$(stats "${irs[@]}") && IW=$(stats "${iws[@]}")
}

# ratio A B: A/B with two decimals. Both must be positive numbers: a
# missing or zero figure is a failed measurement, never a ratio.
ratio() {
	if ! [[ ${1:-} =~ ^[0-9]+(\.[0-9]+)?$ && ${2:-} =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
	   awk -v b="$2" 'BEGIN { exit !(b <= 0) }'; then
		measure_fail "ratio of '${1:-}' to '${2:-}'"
		return 1
	fi
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

# ratios W R W0 R0: "W/W0 R/R0" of the medians (each argument a
# "median min max" from stats), or a failed measurement.
ratios() {
	local a b
	a=$(ratio "${1%% *}" "${3%% *}") && b=$(ratio "${2%% *}" "${4%% *}") &&
		echo "$a $b"
}

# stats V...: "median min max" of three or more figures (an odd count).
# A figure that is not a positive number (0 included) is a failed
# measurement.
stats() {
	local v
	if [ $# -lt 3 ] || [ $(($# % 2)) -eq 0 ]; then
		measure_fail "stats of $# figures: $*"
		return 1
	fi
	for v in "$@"; do
		if ! [[ $v =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
		   ! awk -v b="$v" 'BEGIN { exit !(b > 0) }'; then
			measure_fail "figure '$v' of: $*"
			return 1
		fi
	done
	printf '%s\n' "$@" | sort -g |
		awk '{ v[NR] = $1 } END { printf "%s %s %s\n", v[(NR + 1) / 2], v[1], v[NR] }'
}

# mib_per_s BYTES NANOSECONDS: MiB/s with two decimals.
mib_per_s() {
	awk -v b="$1" -v ns="$2" 'BEGIN { if (ns > 0) printf "%.2f", b / 1048576 / (ns / 1e9) }'
}

# start_mini_smbd CONF OUT [ARGS...]: examples/mini-smbd, which starts the
# daemon itself (--control-fd) and owns sdpeer's default ClientGuid. Its
# events go to OUT (JSON lines), its log next to it (.err). Waits until it
# registered; sets MS_PID and SD_PID.
MS_PID=
start_mini_smbd() {
	local conf=$1 out=$2 guid
	shift 2
	guid=$(printf 'sdpeer-guid-0001' | od -An -tx1 | tr -d ' \n')
	"$B/examples/mini-smbd" --daemon "$SMBDIRECTD" --config "$conf" \
		--control-socket "$SD_RUN/control" --guid "$guid" \
		--file-size 83886080 "$@" >>"$out" 2>>"${out%.jsonl}.err" &
	MS_PID=$!
	wait_until 30 mini_registered "$out" ||
		{ say "mini-smbd did not start:"; cat "${out%.jsonl}.err"; return 1; }
	SD_PID=$(grep '"event":"registered"' "$out" | tail -n 1 | jq .daemon)
	[ -n "$SD_PID" ] && [ "$SD_PID" -gt 0 ]
}

mini_registered() {
	grep -q '"event":"registered"' "$1" && return 0
	kill -0 "$MS_PID" 2>/dev/null || return 2
	return 1
}
