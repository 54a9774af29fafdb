#!/bin/sh
# SPDX-License-Identifier: ISC
# samba/build.sh - build Debian bookworm's Samba (smbd, smbpasswd, smbstatus,
# testparm) with the patch series in samba/patches/, and cache the result.
#
#   samba/build.sh [--cache DIR] [--jobs N] [--refresh] [--force] [--no-deps]
#
# The last (and only) line on stdout is the directory holding the binaries,
# e.g. ~/.cache/smbdirectd-samba/4.17.12+dfsg-0+deb12u4-1a2b3c4d5e6f/tree/bin.
# Progress goes to stderr; configure and build logs go to files next to the
# tree and their tail is printed when a step fails.
#
# Environment:
#   SAMBA_CACHE        cache root (default ~/.cache/smbdirectd-samba)
#   SAMBA_JOBS         parallel build jobs (default: nproc)
#   SAMBA_TARGETS      extra waf targets, comma separated (e.g.
#                      samba-dcerpcd,rpcd_classic); built incrementally
#                      into an existing cached tree
#   SAMBA_APT_MAX_AGE  seconds before the private package lists are
#                      refreshed (default 21600); --refresh forces it
#   SAMBA_CACHE_KEEP   complete builds kept in the cache (default 3; 0
#                      keeps all); the least recently used go first
#   PKG_CONFIG_PATH    passed through to Samba's configure, after the
#                      staged libsmbdirect-ctl's own directory (below)
#
# libsmbdirect-ctl: smbd links this repository's library (configure
# --with-smbdirectd, pkg-config smbdirect-ctl). It is built from the
# repository around this script in $SAMBA_CACHE/sdctl/build, staged, and
# copied to $SAMBA_CACHE/sdctl-<hash>/ (<hash>: of the installed header
# and shared library), which smbd finds through an RPATH. That hash is
# part of the build key: a changed library or header rebuilds smbd.
#
# Cache layout (one lock for the whole cache, so parallel runs serialize):
#   $SAMBA_CACHE/apt/              private apt configuration and state
#   $SAMBA_CACHE/src/<version>/    the .dsc, orig tarball, debian tarball
#   $SAMBA_CACHE/<version>-<key>/  one build; <key> is the first 12 hex
#        tree/                     digits of a sha256 over the patches the
#        tree/bin/                 series names (in order), and this script's
#        extract.log configure.log build recipe (configure options)
#        build.log series          (<version> is Debian's, without epoch)
#   $SAMBA_CACHE/sdctl/build/      our build tree of libsmbdirect-ctl
#   $SAMBA_CACHE/sdctl-<hash>/     its installed copy (include/, lib/)
#        configured                configure finished: a rerun resumes there
#        stamp                     written last: the build is complete
#        .samba-build              marks a directory this script may prune
#
# Why the binaries run from the build tree and are not installed: a waf
# build links every binary with an RPATH into the tree (tree/bin/shared and
# tree/bin/shared/private), and compiles the tree's own locations into
# dynconfig (MODULESDIR=tree/bin/modules, SAMBA_LIBEXECDIR=tree/bin, see
# dynconfig/wscript get_override()). `waf install` relinks with the install
# RPATH and the FHS paths instead (/usr/lib/samba private libraries,
# /usr/lib/.../samba modules, /usr/libexec/samba helpers): a DESTDIR copy
# would then load Debian's own samba libraries and modules, a different
# build with private ABIs. The tree is self-consistent, so nothing is
# installed. Because RPATHs are absolute, a tree must never move: it is
# built in place and only a stamp marks it complete. The test bed shares
# the host's root filesystem read-only into the VM, so the same path works
# there. The configuration and state paths are not the tree's: they
# follow --prefix=/usr (CONFIGFILE /usr/etc/samba/smb.conf, LOCKDIR
# /usr/var/lock/samba, STATEDIR /usr/var/lib/samba, ...; `smbd -b` lists
# them). Those do not exist, which is deliberate: nothing can pick up
# Debian's own /etc/samba or /var/lib/samba by accident. Always pass
# `-s FILE` (smbpasswd: `-c FILE`) and set "lock directory", "state
# directory", "cache directory", "pid directory", "private dir", "ncalrpc
# dir" and "log file" in that smb.conf.
set -eu

# Bump when the recipe below changes in a way that needs a rebuild.
RECIPE=2
# The smallest file-serving smbd (no AD DC, no python, MIT krb5 from the
# system for the krb5 headers; the dfsg tarball cannot build the embedded
# Heimdal). --without-ldb-lmdb: ldb otherwise requires liblmdb-dev;
# !vfs_snapper: that module otherwise requires libdbus-1-dev.
CONFIGURE_ARGS="--without-ad-dc --disable-python --with-system-mitkrb5
	--bundled-libraries=ALL --without-ads --without-ldap --without-pam
	--without-systemd --without-json --without-libarchive --without-ldb-lmdb
	--with-shared-modules=!vfs_snapper
	--disable-cups --disable-iprint --enable-fhs --prefix=/usr
	--with-smbdirectd"
# waf target names of what the test bed runs.
BASE_TARGETS="smbd/smbd,smbpasswd,smbstatus,testparm"
# Debian packages the configure and build above need, beyond essentials.
DEPS="python3 perl libparse-yapp-perl pkg-config gcc make dpkg-dev patch
	xz-utils libkrb5-dev libgnutls28-dev zlib1g-dev libacl1-dev
	libtirpc-dev libibverbs-dev librdmacm-dev libprotobuf-c-dev
	protobuf-c-compiler libevent-dev libcmocka-dev libinih-dev
	libjson-c-dev libsystemd-dev"

prog=samba/build.sh
here=$(cd "$(dirname "$0")" && pwd)
cache=${SAMBA_CACHE:-${HOME:?}/.cache/smbdirectd-samba}
jobs=${SAMBA_JOBS:-$(nproc 2>/dev/null || echo 2)}
max_age=${SAMBA_APT_MAX_AGE:-21600}
keep=${SAMBA_CACHE_KEEP:-3}
# Debian's interpreter, not whatever python3 comes first in PATH (pyenv
# shims, virtualenvs): Samba's configure and waf honour $PYTHON.
PYTHON=/usr/bin/python3
export PYTHON
refresh=0
force=0
deps=1

say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { say "$*"; exit 1; }
usage() {
	sed -n '2,/^# Cache layout/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit "$1"
}

while [ $# -gt 0 ]; do
	case $1 in
	--cache) [ $# -ge 2 ] || usage 2; cache=$2; shift ;;
	--cache=*) cache=${1#*=} ;;
	--jobs|-j) [ $# -ge 2 ] || usage 2; jobs=$2; shift ;;
	--jobs=*) jobs=${1#*=} ;;
	--refresh) refresh=1 ;;
	--force) force=1 ;;
	--no-deps) deps=0 ;;
	-h|--help) usage 0 ;;
	*) say "unknown argument: $1"; usage 2 ;;
	esac
	shift
done
case $jobs in ''|*[!0-9]*|0) die "--jobs wants a positive number" ;; esac
case $keep in ''|*[!0-9]*) die "SAMBA_CACHE_KEEP wants a number" ;; esac
case $cache in /*) ;; *) cache=$(pwd)/$cache ;; esac

targets=$BASE_TARGETS${SAMBA_TARGETS:+,$SAMBA_TARGETS}

# Run a step with its output in a log; show the log's tail if it fails.
logged() {
	log=$1; shift
	if ! "$@" >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "failed: $* (full log: $log)"
	fi
}

elapsed() { echo $(( $(date +%s) - t0 ))s; }
t0=$(date +%s)

mkdir -p "$cache"
exec 9>"$cache/.lock"
if ! flock -n 9; then
	say "waiting for another build in $cache"
	flock 9
fi

# --- Build dependencies (binary packages, the system's apt config) --------
if [ "$deps" -eq 1 ]; then
	# shellcheck disable=SC2086
	installed=$(dpkg-query -W -f='${Package} ${Status}\n' $DEPS 2>/dev/null |
		awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }' |
		sed 's/:.*//')
	missing=""
	for p in $DEPS; do
		printf '%s\n' "$installed" | grep -qx "$p" ||
			missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		[ "$(id -u)" -eq 0 ] ||
			die "missing packages:$missing (install them as root, or rerun as root)"
		say "installing$missing"
		export DEBIAN_FRONTEND=noninteractive
		# shellcheck disable=SC2086
		if ! apt-get install -y -q --no-install-recommends \
				-o DPkg::Lock::Timeout=600 $missing >&2; then
			apt-get update -q -o DPkg::Lock::Timeout=600 >&2
			# shellcheck disable=SC2086
			apt-get install -y -q --no-install-recommends \
				-o DPkg::Lock::Timeout=600 $missing >&2
		fi
	fi
fi

# --- A private apt configuration with deb-src -----------------------------
# Never touch the system's apt configuration: the stanza for bookworm is
# copied (URIs and Signed-By, continuation lines included) from the system's
# deb822 file into our own SourceParts directory.
apt_dir=$cache/apt
mkdir -p "$apt_dir/sources" "$apt_dir/lists/partial" \
	"$apt_dir/cache/archives/partial"
system_sources=/etc/apt/sources.list.d/debian.sources
[ -r "$system_sources" ] || die "cannot read $system_sources"
stanza=$(awk '
	function reset() { types = ""; suites = ""; uris = ""; signed = ""; cur = "" }
	function flush() {
		if (!done && types ~ /(^|[ \t])deb([ \t]|$)/ &&
		    suites ~ /(^|[ \t])bookworm([ \t]|$)/ && uris != "") {
			printf "%s%s", uris, signed
			done = 1
		}
		reset()
	}
	BEGIN { done = 0; reset() }
	/^[ \t]*$/ { flush(); next }
	/^#/ { next }
	/^[ \t]/ {
		if (cur == "uris") uris = uris $0 "\n"
		else if (cur == "signed") signed = signed $0 "\n"
		next
	}
	{
		key = tolower($1); val = $0; sub(/^[^:]*:[ \t]*/, "", val); cur = ""
		if (key == "types:") types = val
		else if (key == "suites:") suites = val
		else if (key == "uris:") { uris = $0 "\n"; cur = "uris" }
		else if (key == "signed-by:") { signed = $0 "\n"; cur = "signed" }
	}
	END { flush() }' "$system_sources")
[ -n "$stanza" ] || die "no 'Types: deb' stanza for bookworm in $system_sources"
sources_new=$(printf 'Types: deb deb-src\n%s\nSuites: bookworm\nComponents: main\n' \
	"$stanza")
if [ "$(cat "$apt_dir/sources/bookworm-src.sources" 2>/dev/null)" != \
     "$sources_new" ]; then
	printf '%s\n' "$sources_new" >"$apt_dir/sources/bookworm-src.sources"
	rm -f "$apt_dir/updated"
fi

apt_priv() { # apt-get|apt-cache COMMAND ARGS...
	cmd=$1; shift
	"$cmd" -q -o Dir::Etc::SourceList=/dev/null \
		-o "Dir::Etc::SourceParts=$apt_dir/sources" \
		-o "Dir::State::Lists=$apt_dir/lists" \
		-o "Dir::Cache=$apt_dir/cache" "$@"
}

now=$(date +%s)
updated=$(stat -c %Y "$apt_dir/updated" 2>/dev/null || echo 0)
if [ "$refresh" -eq 1 ] || [ $((now - updated)) -ge "$max_age" ]; then
	say "updating the private package lists"
	if apt_priv apt-get update >"$apt_dir/update.log" 2>&1; then
		touch "$apt_dir/updated"
	elif [ "$updated" -gt 0 ]; then
		say "warning: apt-get update failed; using the lists of $(date -d "@$updated")"
	else
		tail -n 20 "$apt_dir/update.log" >&2
		die "apt-get update with the private sources failed"
	fi
fi

# --- Resolve the version: what `apt-get source samba` would fetch ---------
uris=$(apt_priv apt-get source --only-source --print-uris samba 2>/dev/null) ||
	die "apt-get source --print-uris samba failed"
dsc_line=$(printf '%s\n' "$uris" | awk '$2 ~ /^samba_.*\.dsc$/ { print; exit }')
[ -n "$dsc_line" ] || die "no samba .dsc among the source URIs"
dsc=$(printf '%s\n' "$dsc_line" | awk '{ print $2 }')
dsc_hash=$(printf '%s\n' "$dsc_line" | awk '{ print $4 }')
version=${dsc#samba_}
version=${version%.dsc}
case $version in ''|*/*) die "odd source version '$version'" ;; esac
case $dsc_hash in
SHA256:*|SHA512:*) ;;
*) die "apt gave no usable hash for $dsc: '$dsc_hash'" ;;
esac

# --- libsmbdirect-ctl, built from this repository --------------------------
# Configured once (a rerun resumes in the same build tree, so make is
# incremental), installed into a fresh stage, then copied to a directory
# named after its content, which never changes once made: an smbd built
# against it keeps finding exactly that library through its RPATH.
top=$(cd "$here/.." && pwd)
sd_build=$cache/sdctl/build
sd_stage=$cache/sdctl/stage
mkdir -p "$sd_build"
if [ ! -f "$sd_build/Makefile" ]; then
	say "configuring libsmbdirect-ctl (log: $sd_build/configure.log)"
	(cd "$sd_build" && logged "$sd_build/configure.log" \
		nice -n 19 "$top/configure" --prefix="$sd_stage")
fi
rm -rf "$sd_stage"
logged "$sd_build/make.log" nice -n 19 make -C "$sd_build" -j"$jobs" \
	libclient/libsmbdirect-ctl.la
logged "$sd_build/install.log" make -C "$sd_build" \
	install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA
sd_lib=$(readlink -f "$sd_stage/lib/libsmbdirect-ctl.so")
if [ ! -f "$sd_lib" ] || [ ! -f "$sd_stage/include/smbdirect-ctl.h" ]; then
	die "libsmbdirect-ctl did not install into $sd_stage"
fi
sd_hash=$(cat "$sd_stage/include/smbdirect-ctl.h" "$sd_lib" | sha256sum |
	cut -c1-12)
sd_dir=$cache/sdctl-$sd_hash
if [ ! -f "$sd_dir/lib/pkgconfig/smbdirect-ctl.pc" ]; then
	rm -rf "$sd_dir.new"
	cp -a "$sd_stage" "$sd_dir.new"
	rm -f "$sd_dir.new"/lib/*.la
	sed -i "s|^prefix=.*|prefix=$sd_dir|" \
		"$sd_dir.new/lib/pkgconfig/smbdirect-ctl.pc"
	rm -rf "$sd_dir"
	mv "$sd_dir.new" "$sd_dir"
fi
PKG_CONFIG_PATH=$sd_dir/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
LDFLAGS="-Wl,-rpath,$sd_dir/lib${LDFLAGS:+ $LDFLAGS}"
export PKG_CONFIG_PATH LDFLAGS
say "libsmbdirect-ctl: $sd_dir"

# --- The build key ---------------------------------------------------------
series=$here/patches/series
patch_list() {
	[ -f "$series" ] || return 0
	# Quilt style: one patch per line, "#" comments and blank lines ignored,
	# an optional -pN after the name.
	sed -e 's/#.*//' -e 's/^[ \t]*//' -e 's/[ \t]*$//' "$series" |
		grep -v '^$' || true
}
# Only what changes the build counts: the patches in order (with their -pN)
# and their contents, not the series file's comments or blank lines.
key=$(
	printf 'recipe %s\nconfigure %s\nsmbdirect-ctl %s\n' "$RECIPE" \
		"$CONFIGURE_ARGS" "$sd_hash"
	patch_list | while read -r name strip; do
		[ -f "$here/patches/$name" ] ||
			{ say "missing patch: $here/patches/$name"; exit 1; }
		printf '== %s %s\n' "$name" "$strip"
		cat "$here/patches/$name"
	done
) || die "samba/patches/series names a missing patch"
key=$(printf '%s\n' "$key" | sha256sum | cut -c1-12)

kdir=$cache/$version-$key
tree=$kdir/tree
bindir=$tree/bin
stamp=$kdir/stamp

have_targets() {
	# The stamp lists the waf targets built into the tree.
	want=$(printf '%s\n' "$targets" | tr ',' '\n')
	for t in $want; do
		grep -qx "target $t" "$stamp" || return 1
	done
}

if [ "$force" -eq 0 ] && [ -f "$stamp" ] && have_targets; then
	touch "$stamp"
	say "cached: $version-$key ($(elapsed))"
	printf '%s\n' "$bindir"
	exit 0
fi

# --- Download and verify the source package --------------------------------
# The chain of trust: apt-get update checks the signed Release file, the
# Sources index gives the .dsc's hash (checked here too, from --print-uris),
# and the .dsc's Checksums-Sha256 give the tarballs' (checked explicitly
# here, and again by dpkg-source -x). dpkg-source cannot check the .dsc's
# OpenPGP signature without debian-keyring; the index hash covers it.
srcdir=$cache/src/$version
mkdir -p "$srcdir"

check_hash() { # FILE ALGO:HEX
	algo=${2%%:*}
	want=${2#*:}
	case $algo in
	SHA256) got=$(sha256sum "$1" | cut -d' ' -f1) ;;
	*) got=$(sha512sum "$1" | cut -d' ' -f1) ;;
	esac
	[ "$got" = "$want" ]
}

dsc_files() { # the "sha256 size name" lines of the .dsc's Checksums-Sha256
	awk '/^Checksums-Sha256:/ { on = 1; next }
	     /^[^ ]/ { on = 0 }
	     on && NF == 3 { print }' "$srcdir/$dsc"
}

verify_source() {
	[ -f "$srcdir/$dsc" ] && check_hash "$srcdir/$dsc" "$dsc_hash" || return 1
	n=0
	while read -r sum size name; do
		f=$srcdir/$name
		[ -f "$f" ] || return 1
		[ "$(stat -c %s "$f")" = "$size" ] || return 1
		[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sum" ] || return 1
		n=$((n + 1))
	done <<EOF
$(dsc_files)
EOF
	[ "$n" -gt 0 ]
}

if ! verify_source 2>/dev/null; then
	say "downloading samba $version"
	(cd "$srcdir" && apt_priv apt-get source --only-source \
		--download-only samba) >"$srcdir/download.log" 2>&1 || {
		tail -n 20 "$srcdir/download.log" >&2
		die "apt-get source --download-only samba failed"
	}
	verify_source || die "checksums of samba $version do not match its .dsc"
fi
say "source verified: $dsc"

# --- Extract, patch, configure, build --------------------------------------
# A tree cannot move once built (absolute RPATHs), so a build happens in
# place and an incomplete one (no stamp) starts over, except that a tree
# which finished configure resumes at the (incremental) waf build.
if [ "$force" -eq 1 ] || { [ ! -f "$stamp" ] && [ ! -f "$kdir/configured" ]; }; then
	rm -rf "$kdir"
	mkdir -p "$kdir"
	# Marks a directory this script made: only such are ever pruned.
	: >"$kdir/.samba-build"
	say "extracting into $tree"
	logged "$kdir/extract.log" dpkg-source --no-copy -x "$srcdir/$dsc" "$tree"
	patch_list | while read -r name strip; do
		say "applying $name"
		# --fuzz=0: a patch that no longer applies cleanly is an error.
		patch -d "$tree" "${strip:--p1}" --batch --fuzz=0 \
			--no-backup-if-mismatch -s -i "$here/patches/$name" >&2 ||
			exit 1
	done || die "a patch in $series does not apply"
	if [ -f "$series" ]; then
		cp "$series" "$kdir/series"
	fi
	say "configuring (log: $kdir/configure.log)"
	# shellcheck disable=SC2086
	(cd "$tree" && logged "$kdir/configure.log" \
		nice -n 19 ./configure $CONFIGURE_ARGS)
	touch "$kdir/configured"
fi

say "building $targets with $jobs jobs (log: $kdir/build.log)"
(cd "$tree" && logged "$kdir/build.log" env PYTHONHASHSEED=1 WAF_MAKE=1 \
	nice -n 19 "$PYTHON" ./buildtools/bin/waf build -j"$jobs" \
	--targets="$targets")

for b in smbd smbpasswd smbstatus testparm; do
	[ -x "$bindir/$b" ] || die "the build did not produce $bindir/$b"
done
built=$("$bindir/smbd" -V 2>&1) || die "$bindir/smbd -V failed: $built"

{
	printf 'version %s\nkey %s\nsmbd %s\nbuilt %s\n' "$version" "$key" \
		"$built" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf '%s\n' "$targets" | tr ',' '\n' | sed 's/^/target /'
	grep '^target ' "$stamp" 2>/dev/null || true
} | sort -u >"$stamp.new"
mv "$stamp.new" "$stamp"
say "built: $built in $kdir ($(elapsed))"

# --- Prune: keep the $keep most recently used complete builds --------------
# (a cache hit touches its stamp). Incomplete builds of other keys and
# source packages no build refers to go too.
if [ "$keep" -gt 0 ]; then
	n=0
	# shellcheck disable=SC2012
	ls -t "$cache"/*/stamp 2>/dev/null | while read -r s; do
		d=$(dirname "$s")
		[ -f "$d/.samba-build" ] || continue
		n=$((n + 1))
		if [ "$n" -gt "$keep" ] && [ "$d" != "$kdir" ]; then
			say "pruning $d"
			rm -rf "$d"
		fi
	done
	for d in "$cache"/*/; do
		d=${d%/}
		[ -f "$d/.samba-build" ] && [ ! -f "$d/stamp" ] &&
			[ "$d" != "$kdir" ] &&
			{ say "pruning incomplete $d"; rm -rf "$d"; }
	done
	for d in "$cache"/src/*/; do
		d=${d%/}
		[ -d "$d" ] || continue
		v=$(basename "$d")
		ls "$cache/$v"-*/.samba-build >/dev/null 2>&1 ||
			{ say "pruning $d"; rm -rf "$d"; }
	done
fi
printf '%s\n' "$bindir"
