#!/bin/sh
# SPDX-License-Identifier: ISC
# `make install` puts the library, its header and its .pc where a program
# finds them with pkg-config, and such a program builds, links and runs.
set -eu
: "${abs_top_builddir:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -C "$abs_top_builddir" install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; echo "FAIL: make install"; exit 1; }
pc=$(find "$tmp/root" -name smbdirect-ctl.pc | head -n 1)
[ -n "$pc" ] || { echo "FAIL: no smbdirect-ctl.pc installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR=$tmp/root
cat >"$tmp/t.c" <<'EOC'
#include <smbdirect-ctl.h>
#include <stdio.h>
#include <string.h>

int
main(void)
{
	uint8_t guid[16];
	/* Not an SMB2 NEGOTIATE: the parser must say so. */
	const uint8_t junk[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	if (sdctl_smb2_client_guid(junk, sizeof(junk), guid) == 0) {
		return 1;
	}
	printf("%s\n", sdctl_transport_name(SDCTL_TRANSPORT_IWARP));
	return 0;
}
EOC
cflags=$(pkg-config --cflags smbdirect-ctl)
libs=$(pkg-config --libs smbdirect-ctl)
# pkg-config prefixes variables with the sysroot too.
libdir=$(pkg-config --variable=libdir smbdirect-ctl)
# A sanitizer build installs an instrumented library: link like it.
${CC:-cc} ${SD_LDFLAGS:-} $cflags -o "$tmp/t" "$tmp/t.c" $libs ||
	{ echo "FAIL: a program does not build against the installed library"; exit 1; }
out=$(LD_LIBRARY_PATH=$libdir "$tmp/t")
[ "$out" = iwarp ] || { echo "FAIL: the program printed '$out'"; exit 1; }
# Only sdctl_* is exported.
so=$(find "$tmp/root" -name 'libsmbdirect-ctl.so.*' -type f | head -n 1)
bad=$(nm -D --defined-only "$so" | awk '$2 == "T" && $3 !~ /^sdctl_/ { print $3 }')
[ -z "$bad" ] || { echo "FAIL: exported beyond sdctl_*: $bad"; exit 1; }
# The bash completion is where bash-completion looks, and completes.
comp=$(find "$tmp/root" -path '*/bash-completion/completions/smbdirectctl')
[ -n "$comp" ] || { echo "FAIL: no bash completion installed"; exit 1; }
got=$(bash -c ". '$comp'
	COMP_WORDS=(smbdirectctl dr); COMP_CWORD=1; _smbdirectctl
	echo \"\${COMPREPLY[*]}\"
	COMP_WORDS=(smbdirectctl drain --a); COMP_CWORD=2; _smbdirectctl
	echo \"\${COMPREPLY[*]}\"")
[ "$got" = "drain
--all" ] || { echo "FAIL: the completion gave '$got'"; exit 1; }
echo "PASS: installed library, header and .pc work with pkg-config;" \
    "bash completion completes"
