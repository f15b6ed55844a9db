#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# coverage.sh - line and branch coverage of module/ from a coverage VM run.
#
#   coverage.sh VM-OUTPUT KO-DIR HTML-DIR RESULTS
#
# VM-OUTPUT is the output of the guest's coverage job: the module's .gcda
# files as a base64 tar between "=== gcov-tar-begin" and "=== gcov-tar-end".
# They go beside the .gcno files of the module's build (KO-DIR, build-ko.sh's
# build/ko-debug), where Debian's lcov reads them with the gcov of the
# compiler that built the debug kernel.  Writes HTML-DIR/index.html
# (genhtml) and HTML-DIR/module.info, prints the per-file table and the
# totals, and the goals with their verdict (meets or short): at least
# COVERAGE_LINES (95) % of the lines and COVERAGE_BRANCHES (85) % of the
# branches of module/*.c, the KUnit suite (module/kunit.c) left out.  A goal
# that is short fails the run only with COVERAGE_STRICT=1; a figure that
# could not be measured always does.
set -eu -o pipefail
vmout=$1 kodir=$2 html=$3 results=$4
want_lines=${COVERAGE_LINES:-95}
want_branches=${COVERAGE_BRANCHES:-85}
: >"$results"
fail() { echo "fail coverage.$1" >>"$results"; echo "coverage: $1" >&2; exit 1; }

# The gcov of the compiler the kernel says it was built with (gcc-12 ...).
kdir=$(sed -n 's/^KDIR=//p' "${MODEGATE_CACHE:-$HOME/.cache/modegate}/debug-6.1/env")
ccver=$(sed -n 's/^CONFIG_GCC_VERSION=\([0-9]*\)[0-9][0-9][0-9][0-9]$/\1/p' "$kdir/.config")
gcov=$(command -v "gcov-$ccver" || true)
[ -n "$gcov" ] || fail "no_gcov-${ccver:-unknown}"

rm -rf "$html"
mkdir -p "$html"
find "$kodir" -name '*.gcda' -delete
sed -n '/^=== gcov-tar-begin$/,/^=== gcov-tar-end$/p' "$vmout" | sed '1d;$d' |
	base64 -d | tar -xz -C "$kodir/module" ||
	fail no_gcda_in_vm_output
ls "$kodir"/module/*.gcda >/dev/null 2>&1 || fail no_gcda_in_vm_output

rc=(--rc lcov_branch_coverage=1)
lcov -q "${rc[@]}" --gcov-tool "$gcov" --capture --directory "$kodir/module" \
	--output-file "$html/all.info" 2>"$html/lcov.log" ||
	{ cat "$html/lcov.log" >&2; fail lcov_capture; }
# module/*.c only: not the kernel's headers, not the KUnit suite.
lcov -q "${rc[@]}" --extract "$html/all.info" "*/module/*.c" \
	--output-file "$html/module.info.tmp" 2>>"$html/lcov.log"
lcov -q "${rc[@]}" --remove "$html/module.info.tmp" "*/module/kunit.c" \
	--output-file "$html/module.info" 2>>"$html/lcov.log"
rm -f "$html/module.info.tmp" "$html/all.info"
genhtml -q "${rc[@]}" --branch-coverage --prefix "$(cd "$kodir" && pwd)" \
	--title "modegate module/" --output-directory "$html" "$html/module.info" \
	>>"$html/lcov.log" 2>&1 || { cat "$html/lcov.log" >&2; fail genhtml; }

lcov "${rc[@]}" --list "$html/module.info" | sed "s|$(cd "$kodir" && pwd)/||"
summary=$(lcov "${rc[@]}" --summary "$html/module.info" 2>&1)
pct() { echo "$summary" | sed -n "s/^ *$1\.*: \([0-9.]*\)%.*/\1/p"; }
lines=$(pct lines) branches=$(pct branches)
echo "$summary" | grep -E '^ *(lines|functions|branches)'
echo "coverage of module/: ${lines:-?}% lines, ${branches:-?}% branches ($html/index.html)" |
	tee "$html/total.txt"
# The goals are reported, as make bench reports its goals: a figure, not a
# test.  COVERAGE_STRICT=1 makes a goal that is short a failed result.
goal() { # goal NAME PERCENT WANT
	local verdict=short

	if [ -z "$2" ]; then
		echo "fail coverage.$1_not_measured" >>"$results"
		return
	fi
	awk -v p="$2" -v w="$3" 'BEGIN { exit !(p >= w) }' && verdict=meets
	echo "coverage goal: $1 $2% (goal >= $3%): $verdict" | tee -a "$html/total.txt"
	if [ "$verdict" = short ] && [ "${COVERAGE_STRICT:-0}" = 1 ]; then
		echo "fail coverage.$1_${2}%_below_${3}%" >>"$results"
	fi
}
goal lines "$lines" "$want_lines"
goal branches "$branches" "$want_branches"
