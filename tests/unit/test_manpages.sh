#!/bin/sh
# SPDX-License-Identifier: ISC
# test_manpages.sh: the manual pages lint clean, and document what the code
# has. Stands for "an administrator reads the man page and finds every
# option, command, JSON field and metric the program really has".
#
#  - mandoc -Tlint -W warning prints nothing for every page in man/;
#  - every option of daemon/conf.c's table is an `.It Ic NAME` under its
#    section's `.Ss [SECTION]` in smbdirectd.conf.5;
#  - every command (and alias) of cli/smbdirectctl.c's table is an
#    `.It Cm NAME` under `.Ss Commands` in smbdirectctl.8, saying the
#    privilege the table gives it, and every JSON member the CLI writes is
#    a `.Va` there;
#  - every [gateway] key of gateway/gw.c is an `.It Ic KEY` in
#    smbdirect-gw.8, and every metric name of daemon/metrics.c and counters.h and
#    gateway/gw.c is in smbdirectd.8 and smbdirect-gw.8;
#  - every long option of the three programs is an `Fl -NAME` in its page;
#  - every label value of the code's lists (copy kinds, close reasons, RDMA
#    request rejections, transports, the gateway's copy kinds) is a `Li`
#    of the page that documents its metric.
#
# The tables are read with sed from the sources; if a table's shape
# changes so that nothing is found, that is a failure too, never a pass.
# mandoc is a build dependency (scripts/deps.sh): without it, this fails.
set -u

srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
man=$srcdir/man
fails=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

need_file() {
	if [ ! -f "$1" ]; then
		echo "FAIL: $1 is missing" >&2
		exit 1
	fi
}

if ! command -v mandoc >/dev/null 2>&1; then
	echo "FAIL: mandoc not found: install the Debian package mandoc" \
	    "(scripts/deps.sh)" >&2
	exit 1
fi

conf5=$man/smbdirectd.conf.5
daemon8=$man/smbdirectd.8
ctl8=$man/smbdirectctl.8
gw8=$man/smbdirect-gw.8
conf_c=$srcdir/daemon/conf.c
metrics_c=$srcdir/daemon/metrics.c
counters_h=$srcdir/daemon/counters.h
main_c=$srcdir/daemon/main.c
ctl_c=$srcdir/cli/smbdirectctl.c
gw_c=$srcdir/gateway/gw.c
for f in "$conf5" "$daemon8" "$ctl8" "$gw8" "$conf_c" "$metrics_c" "$counters_h" \
    "$main_c" "$ctl_c" "$gw_c"; do
	need_file "$f"
done

# ---- 1. mandoc lint, every page ------------------------------------------
n=0
for page in "$man"/*.[1-9]; do
	[ -f "$page" ] || continue
	n=$((n + 1))
	out=$(mandoc -Tlint -W warning "$page" 2>&1)
	rc=$?
	if [ -n "$out" ] || [ "$rc" -ne 0 ]; then
		fail "mandoc -Tlint -W warning $(basename "$page") (exit $rc):"
		printf '%s\n' "$out" >&2
	fi
done
[ "$n" -ge 4 ] || fail "found $n man pages in $man, want at least 4"

# ---- 2. smbdirectd.conf.5 has every option, in its section ---------------
# conf.c: `{ "global", "listen", OPT_LISTEN, ...`
opts=$(sed -n 's/^[[:space:]]*{ "\([a-z_]*\)", "\([a-z_]*\)", OPT_[A-Z]*.*/\1 \2/p' \
    "$conf_c")
[ -n "$opts" ] || fail "no options found in $conf_c (did the table change?)"
# The page: `.Ss [global]` ... `.It Ic listen No = ...`
documented=$(awk '
	/^\.Sh / { sec = "" }
	/^\.Ss \[[a-z]+\]/ { sec = $2; gsub(/[][]/, "", sec) }
	/^\.It Ic [a-z_]+/ { if (sec != "") print sec, $3 }
' "$conf5")
n=0
echo "$opts" | {
	while read -r sec name; do
		[ -n "$name" ] || continue
		if ! echo "$documented" | grep -qx "$sec $name"; then
			echo "FAIL: smbdirectd.conf.5: option '$name' of" \
			    "[$sec] (daemon/conf.c) is not documented as" \
			    "'.It Ic $name' under '.Ss [$sec]'" >&2
			n=$((n + 1))
		fi
	done
	exit "$n"
} || fails=$((fails + $?))

# Every number, size and time option states the table's bounds, as
# "Range MIN to MAX" in its item (sizes with K/M/G, times with ms/s/m/h).
ranges=$(awk '
	/^static const struct opt opts\[\] = \{/ { on = 1; next }
	on && /^\};/ { on = 0 }
	on && NF > 0 {
		buf = buf " " $0
		if ($0 ~ /\},[[:space:]]*$/) { print buf; buf = "" }
	}
' "$conf_c" | awk -F, '
	function ev(s,  a, n) {
		gsub(/[ }]/, "", s)
		if (s ~ /<</) {
			split(s, a, "<<"); n = a[1]; sub(/u$/, "", n)
			return n * 2 ^ a[2]
		}
		sub(/u$/, "", s)
		return s + 0
	}
	{
		name = $2; gsub(/[ "]/, "", name)
		type = $3; gsub(/ /, "", type)
		if (type == "OPT_UINT" || type == "OPT_SIZE" ||
		    type == "OPT_TIME")
			printf "%s %s %.0f %.0f\n", name, type, ev($5), ev($6)
	}
')
[ -n "$ranges" ] || fail "no bounds found in $conf_c (did the table change?)"
printf '%s\n' "$ranges" | awk '
	function cv(s, type,  n, u) {
		n = s; sub(/[A-Za-z]+$/, "", n); u = substr(s, length(n) + 1)
		if (type == "OPT_TIME") {
			if (u == "ms") return n
			if (u == "s" || u == "") return n * 1000
			if (u == "m" || u == "min") return n * 60000
			if (u == "h") return n * 3600000
		} else if (type == "OPT_SIZE") {
			if (u == "") return n
			if (u == "K") return n * 1024
			if (u == "M") return n * 1048576
			if (u == "G") return n * 1073741824
		} else if (u == "") {
			return n
		}
		return -1
	}
	FNR == NR { type[$1] = $2; lo[$1] = $3; hi[$1] = $4; next }
	/^\.It Ic [a-z_]+/ { cur = $3; next }
	/^\.(It|S[sh]|El)( |$)/ { cur = ""; next }
	cur in type && /^Range [^ ]+ to [^ ,.]+/ {
		a = $2; b = $4; sub(/[,.]$/, "", b)
		seen[cur] = 1
		if (cv(a, type[cur]) != lo[cur] || cv(b, type[cur]) != hi[cur]) {
			printf "FAIL: smbdirectd.conf.5: %s says Range %s to %s;" \
			    " daemon/conf.c has %s to %s (%s)\n", cur, a, b,
			    lo[cur], hi[cur], type[cur] > "/dev/stderr"
			bad++
		}
	}
	END {
		for (o in type) {
			if (!(o in seen)) {
				printf "FAIL: smbdirectd.conf.5: %s has no" \
				    " \"Range MIN to MAX\" line\n", o > "/dev/stderr"
				bad++
			}
		}
		exit bad > 255 ? 255 : bad
	}
' - "$conf5" || fails=$((fails + $?))

# ---- 3. smbdirectctl.8 has every command, with its privilege --------------
# cli: `{ "conns", "connections", "", false, cmd_conns,`
cmds=$(sed -n 's/^[[:space:]]*{ "\([a-z]*\)", \(NULL\|"[a-z]*"\), "[^"]*", \(true\|false\), cmd_[a-z_]*,.*/\1 \2 \3/p' \
    "$ctl_c" | tr -d '"')
[ -n "$cmds" ] || fail "no commands found in $ctl_c (did the table change?)"
# The page's `.Ss Commands` list: "name privilege" per `.It Cm` item.
items=$(awk '
	/^\.S[sh] / { on = ($0 ~ /^\.Ss Commands/); if (cur != "") print cur, priv; cur = "" }
	on && /^\.It Cm / { if (cur != "") print cur, priv; cur = $3; priv = "none" }
	on && /^Privilege: admin\.$/ { priv = "admin" }
	on && /^Privilege: read-only\.$/ { priv = "read-only" }
	END { if (cur != "") print cur, priv }
' "$ctl8")
echo "$cmds" | {
	n=0
	while read -r name alias admin; do
		[ -n "$name" ] || continue
		want=read-only
		[ "$admin" = true ] && want=admin
		got=$(echo "$items" | awk -v c="$name" '$1 == c { print $2 }')
		if [ -z "$got" ]; then
			echo "FAIL: smbdirectctl.8: command '$name'" \
			    "(cli/smbdirectctl.c) has no '.It Cm $name'" \
			    "under '.Ss Commands'" >&2
			n=$((n + 1))
			continue
		fi
		for p in $got; do
			if [ "$p" != "$want" ]; then
				echo "FAIL: smbdirectctl.8: command '$name'" \
				    "says 'Privilege: $p.' but the table" \
				    "makes it $want" >&2
				n=$((n + 1))
			fi
		done
		if [ "$alias" != NULL ] &&
		    ! grep -Eq "^\.It Cm $name , Cm $alias\$" "$ctl8"; then
			echo "FAIL: smbdirectctl.8: alias '$alias' of" \
			    "'$name' is not in '.It Cm $name , Cm $alias'" >&2
			n=$((n + 1))
		fi
	done
	exit "$n"
} || fails=$((fails + $?))

# Every JSON member the CLI writes is a `.Va` of the page.
keys=$(grep -o -E '(jadd_u64|jadd_str|json_object_object_add)\([a-z]+, "[a-z_]+"' \
    "$ctl_c" | sed 's/.*"\([a-z_]*\)"$/\1/' | sort -u)
[ -n "$keys" ] || fail "no JSON members found in $ctl_c"
vas=$(awk '/^\.(It )?Va / { for (i = 2; i <= NF; i++) print $i }' "$ctl8" |
    sort -u)
for k in $keys; do
	echo "$vas" | grep -qx "$k" ||
	    fail "smbdirectctl.8: JSON member '$k' (cli/smbdirectctl.c) is" \
		"not documented as a '.Va'"
done

# ---- 4. smbdirect-gw.8: [gateway] keys and metric names -------------------
gwkeys=$(sed -n 's/.*strcmp(name, "\([a-z_]*\)").*/\1/p' "$gw_c")
[ -n "$gwkeys" ] || fail "no [gateway] keys found in $gw_c"
for k in $gwkeys; do
	grep -Eq "^\.It Ic $k( |\$)" "$gw8" ||
	    fail "smbdirect-gw.8: key '$k' (gateway/gw.c) has no '.It Ic $k'"
done
gwmetrics=$( (sed -n 's/.*M("\([a-z_]*\)".*/smbdirect_gw_\1/p' "$gw_c"
    grep -o 'smbdirect_gw_[a-z_]*[a-z]' "$gw_c") | sort -u)
[ -n "$gwmetrics" ] || fail "no metrics found in $gw_c"
for m in $gwmetrics; do
	grep -Fqw "$m" "$gw8" ||
	    fail "smbdirect-gw.8: metric '$m' (gateway/gw.c) is not listed"
done

# ---- 5. smbdirectd.8: metric names ----------------------------------------
# Whole names written in metrics.c, and the plain counters of counters.h:
# COUNTERS(X) rows X(scope, ctl, name, group, "series", "help", conn_help)
# give smbdirect_<series>, and smbdirect_connection_<series> when a CONN
# row has a per-connection HELP text.
counter_series() {
	awk '/^#define COUNTERS\(X\)/ { on = 1; next }
	    on { print; if ($0 !~ /\\$/) on = 0 }' "$counters_h" |
	    tr -d '\\\n\t' | sed 's/X(/\
X(/g' | sed -n 's/^X(\([A-Z]*\), *[A-Z]*, *[a-z_]*, *[A-Z_]*, *"\([a-z_]*\)", *"[^"]*", *\(.\).*/\1 \2 \3/p' |
	    while read -r scope series conn; do
		echo "smbdirect_$series"
		if [ "$scope" = CONN ] && [ "$conn" = '"' ]; then
			echo "smbdirect_connection_$series"
		fi
	    done
}
ncounters=$(counter_series | wc -l)
[ "$ncounters" -gt 10 ] ||
    fail "only $ncounters counter series found in $counters_h"
dmetrics=$( (grep -o '"smbdirect_[a-z_]*[a-z]"' "$metrics_c" | tr -d '"'
    counter_series) | sort -u)
[ -n "$dmetrics" ] || fail "no metrics found in $metrics_c"
for m in $dmetrics; do
	grep -Fqw "$m" "$daemon8" ||
	    fail "smbdirectd.8: metric '$m' (daemon/metrics.c) is not listed"
done

# ---- 6. long options ------------------------------------------------------
check_longopts() {
	src=$1 page=$2
	names=$(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", [a-z_]*_argument,.*/\1/p' \
	    "$src")
	[ -n "$names" ] || fail "no long options found in $src"
	for o in $names; do
		grep -Eq "Fl -$o( |\$)" "$page" ||
		    fail "$(basename "$page"): option --$o ($src) has no" \
			"'Fl -$o'"
	done
}
check_longopts "$main_c" "$daemon8"
check_longopts "$ctl_c" "$ctl8"
check_longopts "$gw_c" "$gw8"

# ---- 7. label values --------------------------------------------------------
# The lists are X-macros: `X(NAME, "token")`, `X(NAME, "token", STATUS)` or
# `X(NAME, NUMBER, "token")`. A token counts as documented when it is an
# argument of a `Li` macro (`.It Li a , b` documents a and b).
lis() {
	awk '
		/^\./ {
			on = 0
			for (i = 1; i <= NF; i++) {
				if ($i == "Li" || $i == ".Li") {
					on = 1
					continue
				}
				if (on && $i ~ /^[a-z_]+$/) print $i
			}
		}
	' "$1" | sort -u
}
check_tokens() {
	src=$1 list=$2 page=$3
	need_file "$srcdir/$src"
	toks=$(awk -v l="$list" '
		$0 ~ "^#define " l "\\(X\\)" { on = 1; next }
		on { print; if ($0 !~ /\\$/) on = 0 }
	' "$srcdir/$src" | sed -n \
	    's/^[[:space:]]*X([A-Z_]*, \([0-9]*, \)\{0,1\}"\([a-z_]*\)".*/\2/p')
	if [ -z "$toks" ]; then
		fail "no $list tokens found in $src (did the list change?)"
		return
	fi
	documented=$(lis "$page")
	for k in $toks; do
		echo "$documented" | grep -qx "$k" ||
		    fail "$(basename "$page"): '$k' of $list ($src) is not" \
			"documented as a 'Li'"
	done
}
check_tokens daemon/metrics.h METRICS_COPY_KINDS "$daemon8"
check_tokens daemon/rconn_reason.h RCONN_REASONS "$daemon8"
check_tokens proto/frame.h FRAME_RDMA_REJECTS "$daemon8"
check_tokens daemon/dev.h TRANSPORTS "$daemon8"
check_tokens gateway/relay.h GW_COPY_KINDS "$gw8"

if [ "$fails" -ne 0 ]; then
	echo "test_manpages: $fails failure(s)" >&2
	exit 1
fi
echo "test_manpages: all pages lint clean and document the code"
exit 0
