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

# check NAME CONDITION...: run CONDITION, count a failure if it fails.
check() {
	local name=$1
	shift
	checks=$((checks + 1))
	if "$@"; then
		say "ok   - $name"
	else
		say "FAIL - $name"
		failures=$((failures + 1))
	fi
}

# Compare two values, with a message that shows both.
eq() {
	if [ "$1" != "$2" ]; then
		say "       expected '$2', got '$1'"
		return 1
	fi
}

# finish: print the tally and exit with its status.
finish() {
	say "$checks checks, $failures failed"
	[ "$failures" -eq 0 ]
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
	local rc=0
	[ -n "$SD_PID" ] || return 0
	kill -TERM "$SD_PID" 2>/dev/null
	wait "$SD_PID" || rc=$?
	SD_PID=
	return $rc
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

stop_master() {
	[ -n "$MASTER_PID" ] || return 0
	kill -TERM "$MASTER_PID" 2>/dev/null
	wait "$MASTER_PID" 2>/dev/null
	MASTER_PID=
}

# metric NAME [LABELS]: the value of one series in the daemon's textfile,
# after the next write (interval 1 s); 0 when absent.
metric() {
	local name=$1 labels=${2:-} f=$SD_RUN/metrics.prom line
	sleep 1.2
	if [ -n "$labels" ]; then
		line=$(grep -F "$name{$labels} " "$f")
	else
		line=$(grep -E "^$name " "$f")
	fi
	echo "${line##* }" | grep -E '^[0-9]+$' || echo 0
}

# daemon_fds: open descriptors of the daemon.
daemon_fds() {
	ls "/proc/$SD_PID/fd" | wc -l
}

# rdma_count KIND: QPs, MRs or cm_ids (KIND qp, mr, cm_id) of the daemon.
rdma_count() {
	rdma -j resource show "$1" 2>/dev/null |
		jq "[.[] | select(.pid == $SD_PID)] | length"
}

# wait_until SECONDS COMMAND...: poll COMMAND until it succeeds; give up
# at once when it returns 2 (it knows it never will).
wait_until() {
	local t=$1 i rc
	shift
	for i in $(seq $((t * 10))); do
		"$@"
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
start_samba() {
	local s=/run/sdsamba
	mkdir -p $s/private $s/lock $s/state $s/cache $s/pid $s/ncalrpc \
		/run/samba /var/log/samba "$SHARE"
	mountpoint -q "$SHARE" || mount -t tmpfs -o size=900M tmpfs "$SHARE"
	chmod 0777 "$SHARE"
	id "$SMB_USER" >/dev/null 2>&1 ||
		useradd -M -s /usr/sbin/nologin "$SMB_USER" || return 1
	cat >$s/smb.conf <<EOC
[global]
	interfaces = lo
	bind interfaces only = yes
	smb ports = 445
	server min protocol = SMB3
	passdb backend = tdbsam:$s/private/passdb.tdb
	private dir = $s/private
	lock directory = $s/lock
	state directory = $s/state
	cache directory = $s/cache
	pid directory = $s/pid
	ncalrpc dir = $s/ncalrpc
	binddns dir = $s/bind-dns
	log file = $TB_OUT/samba.log
	load printers = no
	disable spoolss = yes
[share]
	path = $SHARE
	read only = no
	force user = root
EOC
	printf '%s\n%s\n' "$SMB_PASS" "$SMB_PASS" |
		smbpasswd -c $s/smb.conf -s -a "$SMB_USER" >/dev/null || return 1
	# Its own session: in the same process group, stopping smbd took
	# the scenario and its runner down with SIGTERM too (seen in the test
	# bed with Debian 12's Samba 4.17).
	setsid smbd -s $s/smb.conf --foreground --no-process-group \
		>"$TB_OUT/smbd.out" 2>&1 &
	SMBD_PID=$!
	wait_until 30 tcp_listening 127.0.0.1:445
}

tcp_listening() {
	ss -Htln "sport = :${1##*:}" | grep -q "${1%:*}"
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

# gw_metric NAME: a value from the gateway's textfile (interval 1 s).
gw_metric() {
	sleep 1.2
	grep -E "^$1 " "$SD_RUN/gw.prom" | awk '{print $2}'
}

# perf_bw TOOL DEVICE ADDR PORT [ITERS]: MB/s of ib_write_bw or ib_read_bw
# (perftest) at 1 MiB over RDMA CM on one link: the raw-verbs reference
# the benchmarks compare with.
perf_bw() {
	local tool=$1 dev=$2 addr=$3 port=$4 n=${5:-200} out
	$tool -d "$dev" -R -s 1048576 -n "$n" -p "$port" -F >/dev/null 2>&1 &
	local srv=$!
	sleep 1
	out=$($tool -d "$dev" -R -s 1048576 -n "$n" -p "$port" -F "$addr" 2>&1)
	wait $srv
	awk '/^ *1048576/ { print $4 }' <<<"$out"
}

# ratio A B: A/B with two decimals, n/a when B is 0 or empty.
ratio() {
	awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
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
