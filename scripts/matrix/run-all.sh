#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-all.sh [NAME...] - fetch and boot-test each kernel (default: all four)
# and print one summary line per kernel. Exits non-zero if any failed.

set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- 6.1 6.12 6.12-rt sid

fail=0
results=""
for k in "$@"; do
	if line=$("$HERE/boot-test.sh" "$k"); then
		:
	else
		fail=1
		[ -n "$line" ] || line="$k | fetch/build FAILED (see above)"
	fi
	results="$results$line"$'\n'
done
printf '\n%s' "$results"
exit "$fail"
