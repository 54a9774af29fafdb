#!/bin/sh
# SPDX-License-Identifier: ISC
# test_abi.sh: libsmbdirect-ctl's exported symbols. Every function of
# smbdirect-ctl.h is in exactly one version node of libsmbdirect-ctl.sym;
# the built library exports exactly those, each with its node; and a
# released node is frozen: its list equals libclient/abi/<node>, so a
# function added to an old node fails here (it belongs in a new node).
set -u
srcdir=${srcdir:-.}
builddir=${abs_top_builddir:-.}
sym=$srcdir/libclient/libsmbdirect-ctl.sym
hdr=$srcdir/libclient/smbdirect-ctl.h
so=$builddir/libclient/.libs/libsmbdirect-ctl.so
work=$(mktemp -d "${TMPDIR:-/tmp}/abi.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT INT TERM
fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

[ -f "$so" ] || { echo "FAIL: $so is not built" >&2; exit 1; }
# "NODE symbol" for every symbol listed in a node of the version script.
awk '
	/^[A-Z0-9_.]+ *\{/ { node = $1; next }
	/^\}/ { node = ""; next }
	node != "" && /^[[:space:]]*sdctl_[a-z0-9_]+;/ {
		s = $1; sub(/;$/, "", s); print node, s
	}
' "$sym" | sort >"$work/listed"
[ -s "$work/listed" ] || fail "no symbols listed in $sym"
if grep -q '^[[:space:]]*sdctl_\*;' "$sym"; then
	fail "$sym exports by glob: list each symbol in its node"
fi
cut -d' ' -f2 "$work/listed" | sort | uniq -d >"$work/twice"
[ -s "$work/twice" ] && fail "listed in more than one node: $(cat "$work/twice")"

# The header's functions, each listed.
grep -o 'sdctl_[a-z0-9_]*(' "$hdr" | tr -d '(' | sort -u >"$work/declared"
cut -d' ' -f2 "$work/listed" | sort -u >"$work/names"
for s in $(comm -23 "$work/declared" "$work/names"); do
	fail "$s is declared in smbdirect-ctl.h but in no node of the .sym"
done
for s in $(comm -13 "$work/declared" "$work/names"); do
	fail "$s is in the .sym but not declared in smbdirect-ctl.h"
done

# The library exports exactly those, each with its node.
nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' |
    sed 's/@@*/ /' | awk '{ print $2, $1 }' | sort >"$work/exported"
if ! cmp -s "$work/listed" "$work/exported"; then
	fail "the library exports other than the .sym lists:"
	diff "$work/listed" "$work/exported" >&2
fi

# Released nodes are frozen.
for f in "$srcdir"/libclient/abi/*; do
	[ -f "$f" ] || continue
	node=$(basename "$f")
	awk -v n="$node" '$1 == n { print $2 }' "$work/listed" >"$work/now"
	if ! sort "$f" | cmp -s - "$work/now"; then
		fail "node $node changed since its release (libclient/abi/$node);" \
		    "new symbols go into a new node:"
		sort "$f" | diff - "$work/now" >&2
	fi
done
nodes=$(cut -d' ' -f1 "$work/listed" | sort -u)
for n in $nodes; do
	[ -f "$srcdir/libclient/abi/$n" ] ||
	    fail "node $n has no list under libclient/abi/ (write it at release)"
done

if [ "$fails" -ne 0 ]; then
	echo "test_abi: $fails failure(s)" >&2
	exit 1
fi
echo "test_abi: $(wc -l <"$work/listed") symbols in" \
    "$(echo $nodes | wc -w) node(s), exported as listed, released nodes unchanged"
