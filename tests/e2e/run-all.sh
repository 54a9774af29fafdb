#!/bin/bash
# Runs inside the test bed: every scenario script given, in order, each
# announced and timed. Exits non-zero if any failed, after running them all.
set -u
failed=()
ours='(^|/)(smbdirectd|smbdirect-gw|testmaster|mini-smbd|sdpeer|smbd)( |$)'
for t in "$@"; do
	name=$(basename "$t" .sh)
	echo "==== $name"
	start=$(date +%s)
	if "$t"; then
		echo "==== PASS $name ($(( $(date +%s) - start ))s)"
	else
		echo "==== FAIL $name ($(( $(date +%s) - start ))s)"
		failed+=("$name")
	fi
	# Whatever a scenario left behind must not fail the next one: say so,
	# and end it.
	left=$(pgrep -f -a "$ours" || :)
	if [ -n "$left" ]; then
		echo "==== $name left processes behind:"
		echo "$left"
		pkill -TERM -f "$ours"
		sleep 1
		pkill -KILL -f "$ours"
		failed+=("$name(leftovers)")
	fi
	if grep -q ' cifs ' /proc/mounts; then
		echo "==== $name left a cifs mount behind"
		umount -a -l -t cifs
		failed+=("$name(mount)")
	fi
	rm -rf /run/sdtest
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "==== FAILED: ${failed[*]}"
	exit 1
fi
echo "==== all ${#} scenario(s) passed"
