#!/bin/bash
# Runs inside the test bed: every scenario script given, in order, each
# announced and timed. Exits non-zero if any failed, after running them all.
set -u
failed=()
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
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "==== FAILED: ${failed[*]}"
	exit 1
fi
echo "==== all ${#} scenario(s) passed"
