#!/bin/bash
# SPDX-License-Identifier: ISC
# smbdirectd test bed: real RDMA (Soft-RoCE rxe and soft-iWARP siw) inside a
# qemu VM that boots Debian's own kernel, on a host whose kernel has none.
#
#   testbed.sh prepare
#       Fill the cache: Debian's current kernel (resolved from
#       linux-image-amd64), its headers and source, siw.ko built out of
#       tree, and cifs.ko rebuilt with CONFIG_CIFS_SMB_DIRECT.
#   testbed.sh run [-t TIMEOUT] [-m MEM] [-o OUTDIR] SCRIPT [ARG...]
#       Boot the VM, bring up rxe and siw, run SCRIPT as root inside it
#       (cwd = the current directory), and exit with SCRIPT's exit status.
#       SCRIPT's output is streamed while it runs; its result files (written
#       to $TB_OUT in the guest) land in OUTDIR. If the VM fails to boot,
#       times out or SCRIPT fails, the VM's console log is printed.
#
# The guest's userspace is this host's own root filesystem, shared read-only
# over virtio-9p under a tmpfs overlay, so every binary and package on the
# host (rdma-core, perftest, tshark, the build tree) is usable inside.
#
# Environment:
#   TESTBED_CACHE  cache directory (default ${XDG_CACHE_HOME:-~/.cache}/
#                  smbdirectd-testbed); entries are keyed by kernel version.
#   TESTBED_QUIET  1: do not stream the guest's output.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smbdirectd-testbed}

say() { printf 'testbed: %s\n' "$*" >&2; }
die() { printf 'testbed: error: %s\n' "$*" >&2; exit 1; }

need() {
	local missing=() cmd pkg
	while [ $# -gt 0 ]; do
		cmd=$1 pkg=$2; shift 2
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] ||
		die "missing tools; install: apt-get install ${missing[*]}"
}

# Print the package version apt would install for $1.
apt_version() {
	apt-cache policy "$1" | awk '/Candidate:/ { print $2; exit }'
}

# Resolve the kernel the cache is keyed by: whatever linux-image-amd64
# depends on today, never a hard-coded version.
resolve_kernel() {
	local pkg
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$pkg" ] || die "cannot resolve linux-image-amd64 (run apt-get update)"
	kver=${pkg#linux-image-}
	kpkgver=$(apt_version "$pkg")
	[ -n "$kpkgver" ] && [ "$kpkgver" != "(none)" ] ||
		die "no installable version of $pkg"
	kseries=$(printf '%s' "$kver" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')
	cache="$cache_root/$kver-$kpkgver"
	root="$cache/root"
	hdr="$root/usr/src/linux-headers-$kver"
}

# apt-get download into $cache/debs, once per package.
fetch() {
	local p f
	mkdir -p "$cache/debs"
	for p in "$@"; do
		if ! ls "$cache/debs/${p}_"*.deb >/dev/null 2>&1; then
			say "downloading $p"
			(cd "$cache/debs" && apt-get -q -o APT::Sandbox::User=root \
				download "$p" >/dev/null) ||
				die "apt-get download $p failed"
		fi
	done
	for p in "$@"; do
		f=$(ls "$cache/debs/${p}_"*.deb | head -n 1)
		printf '%s\n' "$f"
	done
}

stage_kernel() {
	local stamp="$cache/.kernel.done" hpkgs deb
	[ -e "$stamp" ] && return 0
	say "preparing kernel $kver ($kpkgver) in $cache"
	rm -rf "$root"
	mkdir -p "$root"
	# The arch headers depend on a -common package and linux-kbuild.
	hpkgs=$(apt-cache depends "linux-headers-$kver" |
		awk '/Depends: linux-(headers-.*-common|kbuild-)/ { print $2 }')
	for deb in $(fetch "linux-image-$kver" "linux-headers-$kver" $hpkgs); do
		dpkg -x "$deb" "$root"
	done
	# The headers' Makefile includes the -common tree by absolute path.
	sed -i "s|^include /usr/src/|include $root/usr/src/|" "$hdr/Makefile"
	[ -e "$root/boot/vmlinuz-$kver" ] || die "no vmlinuz in linux-image-$kver"
	touch "$stamp"
}

stage_source() {
	local stamp="$cache/.source.done" deb tarball
	[ -e "$stamp" ] && return 0
	deb=$(fetch "linux-source-$kseries")
	say "unpacking the parts of linux-source-$kseries the test bed builds"
	rm -rf "$cache/src" "$cache/srcdeb"
	mkdir -p "$cache/src" "$cache/srcdeb"
	dpkg -x "$deb" "$cache/srcdeb"
	tarball=$(ls "$cache/srcdeb/usr/src/linux-source-$kseries".tar.*)
	tar -xf "$tarball" -C "$cache/src" --strip-components=1 \
		"linux-source-$kseries/drivers/infiniband/sw/siw" \
		"linux-source-$kseries/fs/smb" \
		"linux-source-$kseries/fs/internal.h" \
		"linux-source-$kseries/scripts/asn1_compiler.c" \
		"linux-source-$kseries/include/linux/asn1.h" \
		"linux-source-$kseries/include/linux/asn1_ber_bytecode.h" \
		"linux-source-$kseries/include/linux/asn1_decoder.h"
	rm -rf "$cache/srcdeb"
	touch "$stamp"
}

# Debian builds its kernels without CONFIG_RDMA_SIW: build it out of tree.
stage_siw() {
	local stamp="$cache/.siw.done" b="$cache/build/siw"
	[ -e "$stamp" ] && return 0
	say "building siw.ko"
	rm -rf "$b"
	mkdir -p "$(dirname "$b")"
	cp -r "$cache/src/drivers/infiniband/sw/siw" "$b"
	make -s -C "$hdr" M="$b" CONFIG_RDMA_SIW=m modules >"$b.log" 2>&1 ||
		{ cat "$b.log" >&2; die "building siw.ko failed"; }
	install -D -m 0644 "$b/siw.ko" "$root/lib/modules/$kver/updates/siw.ko"
	depmod -b "$root" "$kver"
	touch "$stamp"
}

# Debian builds cifs.ko without CONFIG_CIFS_SMB_DIRECT: rebuild it.
stage_cifs() {
	local stamp="$cache/.cifs.done" b="$cache/build/smb" def
	[ -e "$stamp" ] && return 0
	say "building cifs.ko with CONFIG_CIFS_SMB_DIRECT"
	rm -rf "$b"
	mkdir -p "$b"
	cp -r "$cache/src/fs/smb/client" "$cache/src/fs/smb/common" "$b/"
	# linux-headers lacks scripts/asn1_compiler: build it and generate
	# the ASN.1 decoders first.
	gcc -O2 -I"$cache/src/include" -o "$b/asn1_compiler" \
		"$cache/src/scripts/asn1_compiler.c" >"$b.log" 2>&1 ||
		{ cat "$b.log" >&2; die "building asn1_compiler failed"; }
	for def in "$b"/client/*.asn1; do
		"$b/asn1_compiler" "$def" "${def}.c" "${def}.h" >>"$b.log" 2>&1 ||
			{ cat "$b.log" >&2; die "asn1_compiler $def failed"; }
	done
	make -s -C "$hdr" M="$b/client" CONFIG_CIFS=m \
		CONFIG_CIFS_SMB_DIRECT=y \
		KCFLAGS="-DCONFIG_CIFS_SMB_DIRECT=1 -I$b" modules \
		>>"$b.log" 2>&1 ||
		{ cat "$b.log" >&2; die "building cifs.ko failed"; }
	install -D -m 0644 "$b/client/cifs.ko" \
		"$root/lib/modules/$kver/updates/cifs.ko"
	depmod -b "$root" "$kver"
	touch "$stamp"
}

prepare() {
	need apt-get apt dpkg dpkg make make gcc gcc depmod kmod \
		xz xz-utils cpio cpio busybox busybox-static \
		qemu-system-x86_64 qemu-system-x86
	resolve_kernel
	mkdir -p "$cache"
	exec 9>"$cache/.lock"
	flock 9
	stage_kernel
	stage_source
	stage_siw
	stage_cifs
	flock -u 9
}

# Modules the initramfs needs to mount the 9p root and the overlay, in load
# order, with their dependencies from modules.dep. Built-in ones drop out.
initramfs_modules() {
	local moddir="$root/lib/modules/$kver" m
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		modprobe -d "$root" -S "$kver" --show-depends "$m" 2>/dev/null |
			awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | sed "s|^$root||"
	[ -d "$moddir" ] || die "no module tree for $kver"
}

build_initramfs() {
	local out=$1 st m
	st=$(mktemp -d)
	mkdir -p "$st"/{bin,sbin,proc,sys,dev,lower,ovl,newroot,mod}
	cp "$(command -v busybox)" "$st/bin/busybox"
	ln -s busybox "$st/bin/sh"
	: >"$st/modules"
	for m in $(initramfs_modules); do
		cp "$root$m" "$st/mod/"
		basename "$m" >>"$st/modules"
	done
	install -m 0755 "$here/init" "$st/init"
	# The kernel runs /sbin/modprobe in PID 1's root (this initramfs) to
	# autoload modules such as crc32 for rdma_rxe: hand it to the real
	# root's modprobe.
	cat >"$st/sbin/modprobe" <<-'EOF'
	#!/bin/sh
	exec /bin/busybox chroot /newroot /sbin/modprobe "$@"
	EOF
	chmod 0755 "$st/sbin/modprobe"
	(cd "$st" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"
	rm -rf "$st"
}

run() {
	local timeout=900 mem=2048 outdir="" opt script run console status
	local qpid tpid ready="" t0 i rc
	OPTIND=1
	while getopts "t:m:o:" opt; do
		case $opt in
		t) timeout=$OPTARG ;;
		m) mem=$OPTARG ;;
		o) outdir=$OPTARG ;;
		*) die "usage: testbed.sh run [-t S] [-m MB] [-o DIR] SCRIPT [ARG...]" ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -ge 1 ] || die "run: no script given"
	script=$(realpath "$1"); shift
	[ -r "$script" ] || die "run: cannot read $script"

	prepare
	run=$(mktemp -d "${TMPDIR:-/tmp}/smbdirectd-tb.XXXXXX")
	chmod 0755 "$run"
	console="$run/console.log"
	mkdir -p "$run/out"
	build_initramfs "$run/initrd.gz"
	install -m 0755 "$here/guest.sh" "$run/guest.sh"
	{
		printf 'TB_KVER=%q\n' "$kver"
		printf 'TB_MODROOT=%q\n' "$root/lib/modules"
		printf 'TB_CWD=%q\n' "$PWD"
		printf 'TB_SCRIPT=%q\n' "$script"
		printf 'TB_ARGS=('
		for i in "$@"; do printf '%q ' "$i"; done
		printf ')\n'
		# Variables the caller wants inside: TB_ENV="A B C".
		for i in ${TB_ENV:-}; do
			printf '%s=%q\n' "$i" "${!i-}"
			printf 'export %s\n' "$i"
		done
	} >"$run/env"
	: >"$run/out/test.log"

	say "booting $kver (qemu TCG, ${mem} MiB, timeout ${timeout}s)"
	t0=$(date +%s%N)
	# nokaslr: Linux 6.1's cifs client DMA-maps the SMB2 compound padding
	# (smb2_padding[], module data) with sg_set_buf(), i.e. virt_to_page()
	# of a module address. Over siw/rxe that page's address is then read
	# as a kernel pointer: with a randomized physical base it can point
	# past RAM and siw_tx oopses (memcpy_erms <- siw_tx_hdt) on an
	# ls/stat/rename compound; without randomization it lands in RAM and
	# the client sends 7 stray padding bytes the server ignores. The
	# client's scatterlist code was rewritten in 6.3 (iov_iter
	# extraction), which maps module and vmalloc addresses properly.
	timeout --signal=KILL "$timeout" qemu-system-x86_64 \
		-accel tcg -cpu max -smp 2 -m "$mem" \
		-nographic -no-reboot -nic none \
		-kernel "$root/boot/vmlinuz-$kver" -initrd "$run/initrd.gz" \
		-append "console=ttyS0 loglevel=4 panic=-1 nokaslr rdinit=/init" \
		-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
		-fsdev local,id=tb,path="$run",security_model=none,multidevs=remap \
		-device virtio-9p-pci,fsdev=tb,mount_tag=tb \
		</dev/null >"$console" 2>&1 &
	qpid=$!
	tpid=""
	if [ "${TESTBED_QUIET:-0}" != 1 ]; then
		tail -n +1 -F "$run/out/test.log" 2>/dev/null &
		tpid=$!
	fi
	while kill -0 "$qpid" 2>/dev/null; do
		if [ -z "$ready" ] && [ -e "$run/ready" ]; then
			ready=$((($(date +%s%N) - t0) / 1000000))
			say "guest reached the test script after ${ready} ms"
		fi
		sleep 0.2
	done
	rc=0
	wait "$qpid" || rc=$?
	if [ -n "$tpid" ]; then
		# Stop the console follower; it is killed on purpose, so its
		# exit status (143, or none if it already ended) means nothing.
		sleep 0.3
		kill "$tpid" 2>/dev/null || true
		wait "$tpid" 2>/dev/null || true
	fi

	status=""
	[ -r "$run/status" ] && status=$(cat "$run/status")
	if [ -n "$outdir" ]; then
		mkdir -p "$outdir"
		cp -r "$run/out/." "$outdir/"
		cp "$console" "$outdir/console.log"
	fi
	if [ -z "$status" ]; then
		if [ "$rc" = 137 ]; then
			say "FAIL: the VM timed out after ${timeout}s"
		elif [ -z "$ready" ]; then
			say "FAIL: the VM did not boot (qemu exit $rc)"
		else
			say "FAIL: the VM stopped before the test script finished (qemu exit $rc)"
		fi
		status=125
	elif [ "$status" != 0 ]; then
		say "FAIL: $(basename "$script") exited with status $status"
	fi
	if [ "$status" != 0 ]; then
		say "---- VM console log ($console) ----"
		cat "$console" >&2
		say "---- end of VM console log ----"
	else
		say "PASS: $(basename "$script")"
		rm -rf "$run"
	fi
	return "$status"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
prepare) prepare ;;
run) run "$@" ;;
*) die "usage: testbed.sh prepare | run [-t S] [-m MB] [-o DIR] SCRIPT [ARG...]" ;;
esac
