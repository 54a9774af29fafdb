#!/bin/sh
# SPDX-License-Identifier: ISC
# test_licence.sh: every source file of the tree says its licence in an
# SPDX line among its first three lines, and LICENSE is there. Source
# files are those a build, a test or an install reads: C, shell, make,
# autoconf, protobuf, Python, configuration, unit, man page and linker
# files. Not: the fuzz corpus (bytes), the Samba patches (Samba's own
# GPL-3.0-or-later, LICENSE says so), the ABI's symbol lists
# (libclient/abi/, data a test compares) and the documents (*.md).
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
fails=0 n=0

if ! grep -q "Permission to use, copy, modify, and distribute" \
    "$srcdir/LICENSE" 2>/dev/null; then
	echo "FAIL: $srcdir/LICENSE is missing or not the ISC licence" >&2
	fails=$((fails + 1))
fi
files=$(cd "$srcdir" && find . \
    \( -name .git -o -name 'build*' -o -name autom4te.cache \
       -o -path ./tests/fuzz/corpus -o -path ./libclient/abi \
       -o -name '_build' \
       -o -name '*.dir' \) -prune -o -type f \
    \( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.mk' \
       -o -name Makefile.am -o -name configure.ac -o -name '*.proto' \
       -o -name '*.py' -o -name '*.conf' -o -name '*.service.in' \
       -o -name '*.pc.in' -o -name '*.sym' -o -name '*.[158]' \
       -o -name '*.bash' \) \
    -print | grep -v '\.pb-c\.[ch]$' | sort)
for f in $files .ci/run tests/vm/init; do
	[ -f "$srcdir/$f" ] || continue
	n=$((n + 1))
	if ! head -n 3 "$srcdir/$f" | grep -q "SPDX-License-Identifier: ISC"; then
		echo "FAIL: $f: no 'SPDX-License-Identifier: ISC' in its first" \
		    "three lines" >&2
		fails=$((fails + 1))
	fi
done
if [ "$n" -lt 100 ]; then
	echo "FAIL: only $n source files found under $srcdir" >&2
	fails=$((fails + 1))
fi
if [ "$fails" -ne 0 ]; then
	echo "test_licence: $fails failure(s) in $n files" >&2
	exit 1
fi
echo "test_licence: $n source files, each with its SPDX line"
