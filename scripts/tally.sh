#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Sum result files ("ok|fail|skip NAME" lines) and print the closing line
#   N passed, N failed, N skipped
# Exits non-zero when anything failed or nothing ran.
set -eu
cat "$@" 2>/dev/null | awk '
	$1 == "ok" { p++ } $1 == "fail" { f++; print "FAILED: " $2 } $1 == "skip" { s++ }
	END {
		if (p + f == 0) { f++; print "FAILED: no test ran" }
		printf "%d passed, %d failed, %d skipped\n", p, f, s
		exit f ? 1 : 0
	}'
