#!/bin/sh
# SPDX-License-Identifier: ISC
# test_copy_sites.sh: every place the daemon could copy SMB2 PDU or
# payload bytes says which copy counter counts it. Stands for "an
# administrator trusts smbdirect_copied_bytes_total{kind="memcpy"} 0 to
# mean the daemon copies no payload".
#
# In daemon/*.c and the pure code the daemon runs (proto/sdp_*.c,
# proto/frame.c), each call of memcpy, memmove, bcopy, read, readv, recv,
# recvfrom, recvmsg, write, writev, send, sendto, sendmsg, pread, pwrite,
# splice or sendfile must carry, on its line or one of the three lines
# above, a comment "copy: K[, K...]" where each K is a kind of
# METRICS_COPY_KINDS in daemon/metrics.h (counted there) or "none" (no
# PDU or payload byte is touched). A new copy fails here until someone
# decides how it is counted. Comment lines are not calls.
set -u

srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
metrics_h=$srcdir/daemon/metrics.h

if [ ! -f "$metrics_h" ]; then
	echo "FAIL: $metrics_h is missing" >&2
	exit 1
fi
# `	X(PDU_TO_OWNER, "pdu_to_owner")	\`
kinds=$(sed -n 's/^[[:space:]]*X([A-Z_]*, "\([a-z_]*\)").*/\1/p' \
    "$metrics_h")
if [ -z "$kinds" ]; then
	echo "FAIL: no copy kinds found in $metrics_h" \
	    "(did the list change?)" >&2
	exit 1
fi
kinds_text="none $(echo $kinds)"

files=$(ls "$srcdir"/daemon/*.c "$srcdir"/proto/sdp_*.c "$srcdir"/proto/chanops.c \
    "$srcdir"/proto/frame.c 2>/dev/null)
if [ -z "$files" ]; then
	echo "FAIL: no sources found under $srcdir" >&2
	exit 1
fi

# Print "file:line: tokens" for every call, tokens "-" when unannotated.
sites=$(awk '
	FNR == 1 { n = 0 }
	{ line[FNR] = $0 }
	$0 ~ /^[[:space:]]*(\*|\/\*|\/\/)/ { next }
	$0 ~ ("(^|[^A-Za-z0-9_.>])(memcpy|memmove|bcopy|read|readv|" \
	    "recv|recvfrom|recvmsg|write|writev|send|sendto|sendmsg|" \
	    "pread|pwrite|splice|sendfile)\\(") {
		tok = "-"
		for (i = FNR; i >= FNR - 3 && i >= 1; i--) {
			if (match(line[i], /copy: [a-z_]+(, [a-z_]+)*/)) {
				tok = substr(line[i], RSTART + 6, RLENGTH - 6)
				gsub(/ /, "", tok)
				break
			}
		}
		print FILENAME ":" FNR ": " tok
	}
' $files)
if [ -z "$sites" ]; then
	echo "FAIL: no copy sites found at all (did the pattern break?)" >&2
	exit 1
fi

fails=0
n=0
for s in $(printf '%s\n' "$sites" | tr ' ' '|'); do
	where=${s%%:|*}
	toks=${s##*|}
	n=$((n + 1))
	if [ "$toks" = - ]; then
		echo "FAIL: ${where#"$srcdir"/}: a copy site without a" \
		    "'copy: KIND' comment (kinds: $kinds_text)" >&2
		fails=$((fails + 1))
		continue
	fi
	for t in $(echo "$toks" | tr ',' ' '); do
		if [ "$t" != none ] && ! echo "$kinds" | grep -qx "$t"; then
			echo "FAIL: ${where#"$srcdir"/}: 'copy: $t' is not" \
			    "a kind of daemon/metrics.h" \
			    "(kinds: $kinds_text)" >&2
			fails=$((fails + 1))
		fi
	done
done
# Every kind but memcpy has a site that counts it: a kind nobody counts
# is a claim nobody checks. (memcpy has none while the daemon copies
# nothing in memory.)
used=$(printf '%s\n' "$sites" | sed 's/.*: //' | tr ',' '\n' | sort -u)
for k in $kinds; do
	[ "$k" = memcpy ] && continue
	echo "$used" | grep -qx "$k" || {
		echo "FAIL: no copy site is annotated as counting $k" >&2
		fails=$((fails + 1))
	}
done

if [ "$fails" -ne 0 ]; then
	echo "test_copy_sites: $fails failure(s) in $n sites" >&2
	exit 1
fi
echo "test_copy_sites: $n copy sites, each classified"
exit 0
