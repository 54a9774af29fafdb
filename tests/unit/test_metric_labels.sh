#!/bin/sh
# SPDX-License-Identifier: ISC
# test_metric_labels.sh: every refusal reason and error kind the daemon
# counts is in the lists that give each its series from the start
# (METRICS_REFUSALS, METRICS_ERROR_KINDS in daemon/metrics.h). Stands for
# "a monitoring rule on smbdirect_connections_refused_total{reason=X}
# sees 0 before the first refusal, not a missing series".
set -u

srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
h=$srcdir/daemon/metrics.h

listed() {
	sed -n "/^#define $1(X)/,/^\$/p" "$h" |
		sed -n 's/^[[:space:]]*X("\([a-z_]*\)").*/\1/p'
}
refusals=$(listed METRICS_REFUSALS)
errors=$(listed METRICS_ERROR_KINDS)
if [ -z "$refusals" ] || [ -z "$errors" ]; then
	echo "FAIL: cannot read the label lists in $h" >&2
	exit 1
fi

# The labels the code counts: metrics_count(..., MF_X, "label", ...) and
# reject(d, id, "label", ...), over line breaks.
used=$(perl -0ne '
	while (/metrics_count\([^;]*?MF_(ERRORS|REFUSED),\s*"([a-z_]+)"/g) {
		print "$1 $2\n";
	}
	while (/reject\(d, id, "([a-z_]+)"/g) { print "REFUSED $1\n"; }
' "$srcdir"/daemon/*.c | sort -u)
if [ -z "$used" ]; then
	echo "FAIL: found no count sites (did the code change shape?)" >&2
	exit 1
fi

fails=0
n=0
while read -r fam label; do
	n=$((n + 1))
	case $fam in
	REFUSED) list=$refusals name=METRICS_REFUSALS ;;
	ERRORS) list=$errors name=METRICS_ERROR_KINDS ;;
	esac
	if ! printf '%s\n' "$list" | grep -qx "$label"; then
		echo "FAIL: \"$label\" is counted but not in $name" >&2
		fails=$((fails + 1))
	fi
done <<EOT
$used
EOT
echo "$n count sites checked, $fails unlisted"
[ "$fails" -eq 0 ]
