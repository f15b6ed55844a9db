#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The zoo of mistakes: each labs/NN-name.patch puts ONE classic driver
# mistake into a scratch copy of the module; the copy is built and run, in a
# VM, against the tests that should catch it (on the debug kernel when the
# catcher is a detector: KASAN, slab counts, ...).  Prints a table: the
# mistake, what a driver writer would have written, what caught it, and the
# evidence line.  Fails unless every mistake is caught.
#
#   zoo.sh [NN|NN-name ...]      every lab, or the ones named
#
# A lab is a patch against the tree (paths module/..., applied with patch
# -p1) whose header, before the diff, holds "Key: value" lines:
#   Mistake:  the mistake, in a few words
#   Writer:   what a driver writer would have written
#   Why:      why it is wrong
#   Instead:  what the module does instead, naming file and function
#   Kernel:   stock | debug
#   Tests:    the selftest programs to run (MODEGATE_TESTS)
#   Append:   extra kernel arguments (optional)
#   Catch:    one or more; the lab is caught when any of them holds:
#             test PROG.FIXTURE.NAME      that test failed (evidence: its
#                                         first failed assertion)
#             splat LABEL REGEX           the kernel log matches REGEX
#             result NAME LABEL REGEX     the VM job reported "fail NAME";
#                                         evidence: the job output's first
#                                         line matching REGEX
#
# Output under build/zoo: NN-name/ (scratch tree, build log, VM logs, the
# lab's verdict), table.md (the table), results ("ok|fail zoo.NN-name" for
# scripts/tally.sh).
set -eu -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

zoo=$top/build/zoo
labs=$top/labs

# The one place that knows the VM harness (scripts/vm.sh, the debug
# kernel's cache, scripts/build-ko.sh):
#   zoo_harness kdir KERNEL                 the kbuild tree to build against
#   zoo_harness build KERNEL TREE           build TREE's module: its path
#   zoo_harness run KERNEL KO TESTS APPEND OUT
#                                           the check job for TESTS; leaves
#                                           OUT/results, OUT/output and
#                                           OUT/console.scan
zoo_harness() {
	local verb=$1 kernel=$2 env=$MODEGATE_CACHE/debug-6.1/env
	case $verb:$kernel in
	kdir:stock) mg_kdir "$(mg_kver)" ;;
	kdir:debug)
		# Builds the debug kernel only when the cache lacks it.
		bash "$here/debug/build-kernel.sh" >&2
		# shellcheck source=/dev/null
		(. "$env" && echo "$KDIR") ;;
	build:*) bash "$3/scripts/build-ko.sh" "$kernel" "$(zoo_harness kdir "$kernel")" W=1 ;;
	run:stock)
		KO=$3 MODEGATE_TESTS=$4 VM_APPEND=$5 VM_OUT=$6 \
			VM_TIMEOUT=${ZOO_TIMEOUT:-900} bash "$top/scripts/vm.sh" check ;;
	run:debug)
		KO=$3 MODEGATE_TESTS=$4 VM_APPEND=$5 VM_OUT=$6 VM_KERNEL=debug \
			VM_TIMEOUT=${ZOO_TIMEOUT:-1500} bash "$top/scripts/vm.sh" check ;;
	*) mg_die "zoo_harness: $verb $kernel?" ;;
	esac
}

# field FILE KEY: the header's values for KEY, one a line.
field() {
	sed -n '/^\(diff \|--- \)/q; s/^'"$2"': *//p' "$1"
}

# evidence_test OUTPUT PROG.FIXTURE.NAME: the test's first failed assertion,
# with the message logged beside it.
evidence_test() {
	local name=${2#*.}
	awk -v run="#  RUN           $name ..." -v fin="not ok .* $name\$" '
		# run_kselftest.sh nests the output of each program one level down.
		{ sub(/^# /, "") }
		index($0, run) == 1 { on = 1; next }
		on && $0 ~ fin { exit }
		on && /^# [^ ]+\.c:[0-9]+:/ {
			# "# FILE:LINE:TEST:message": keep FILE:LINE and the message.
			sub(/^# /, "")
			split($0, f, ":")
			where = f[1] ":" f[2]
			msg = substr($0, length(f[1] f[2] f[3]) + 4)
			if (line == "") { line = where ": " msg; at = where; first = msg; next }
			if (where == at && msg != first) line = line " -- " msg
			exit
		}
		END { print line }' "$1"
}

# first_match FILE REGEX: its first line matching, without the timestamp.
first_match() {
	grep -Em1 -- "$2" "$1" | sed 's/^\[ *[0-9.]*\] //' || true
}

# judge LABDIR LAB: does one of the lab's Catch lines hold?  Writes
# LABDIR/caught ("LABEL<TAB>EVIDENCE"), returns 0 when caught.
judge() {
	local d=$1 lab=$2 kind a b c ev
	while read -r kind a b c; do
		case $kind in
		test)
			grep -qx "fail $a" "$d/vm/results" || continue
			ev=$(evidence_test "$d/vm/output" "$a")
			printf '%s\t%s\n' "${a%%.*}: ${a#*.*.}" "$ev" >"$d/caught"
			return 0 ;;
		splat)
			ev=$(first_match "$d/vm/console.scan" "$b${c:+ $c}")
			[ -n "$ev" ] || continue
			printf '%s\t%s\n' "$a" "$ev" >"$d/caught"
			return 0 ;;
		result)
			grep -qx "fail $a" "$d/vm/results" || continue
			printf '%s\t%s\n' "$b" "$(first_match "$d/vm/output" "$c")" >"$d/caught"
			return 0 ;;
		esac
	done < <(field "$lab" Catch)
	return 1
}

# run_lab LAB: build and run one lab; its verdict in build/zoo/NAME/.
run_lab() {
	local lab=$1 name d kernel t0 t1 t2 ko
	name=$(basename "$lab" .patch)
	d=$zoo/$name
	kernel=$(field "$lab" Kernel)
	rm -rf "$d" && mkdir -p "$d/tree/scripts"
	t0=$(date +%s)
	echo "=== zoo: $name ($(field "$lab" Mistake)) on the $kernel kernel"
	cp -r "$top/Kbuild" "$top/VERSION" "$top/module" "$top/include" "$d/tree/"
	cp "$here/build-ko.sh" "$d/tree/scripts/"
	if ! patch -d "$d/tree" -p1 -s --no-backup-if-mismatch <"$lab" >"$d/patch.log" 2>&1; then
		printf 'not caught\tthe patch does not apply (%s)\n' "$d/patch.log" >"$d/caught"
		cat "$d/patch.log"
		return 1
	fi
	if ! ko=$(zoo_harness build "$kernel" "$d/tree" 2>"$d/build.log"); then
		printf 'not caught\tthe variant does not build (%s)\n' "$d/build.log" >"$d/caught"
		tail -n 20 "$d/build.log"
		return 1
	fi
	t1=$(date +%s)
	zoo_harness run "$kernel" "$ko" "$(field "$lab" Tests)" "$(field "$lab" Append)" \
		"$d/vm" >"$d/vm.log" 2>&1 || true
	t2=$(date +%s)
	echo "$((t1 - t0)) $((t2 - t1))" >"$d/time"
	if judge "$d" "$lab"; then
		echo "caught in $((t2 - t0)) s (build $((t1 - t0)) s, VM $((t2 - t1)) s): $(cut -f1 "$d/caught")"
		return 0
	fi
	printf 'not caught\t%s\n' "$(sed -n 's/^fail //p' "$d/vm/results" | tr '\n' ' ')" >"$d/caught"
	echo "NOT CAUGHT in $((t2 - t0)) s; the VM said:"
	cat "$d/vm.log"
	return 1
}

# The table, from each lab's verdict.
table() {
	local lab name kernel s
	echo "| # | mistake | what a driver writer would have written | caught by | evidence | time |"
	echo "|---|---|---|---|---|---|"
	for lab in "$@"; do
		name=$(basename "$lab" .patch)
		kernel=$(field "$lab" Kernel)
		s=$(awk '{ print $1 + $2 " s" }' "$zoo/$name/time" 2>/dev/null || echo -)
		printf '| %s | %s | %s | %s (%s kernel) | %s | %s |\n' "${name%%-*}" \
			"$(field "$lab" Mistake)" "\`$(field "$lab" Writer | sed 's/|/\\|/g')\`" \
			"$(cut -f1 "$zoo/$name/caught")" "$kernel" \
			"$(cut -f2 "$zoo/$name/caught" | sed 's/|/\\|/g')" "$s"
	done
}

mkdir -p "$zoo"
: >"$zoo/results"
selected=()
for lab in "$labs"/[0-9]*.patch; do
	name=$(basename "$lab" .patch)
	if [ "$#" -gt 0 ]; then
		want=0
		for a in "$@"; do
			[ "$a" = "$name" ] || [ "$a" = "${name%%-*}" ] && want=1
		done
		[ "$want" = 1 ] || continue
	fi
	selected+=("$lab")
done
[ "${#selected[@]}" -gt 0 ] || mg_die "no lab matches: $*"

start=$(date +%s)
for lab in "${selected[@]}"; do
	name=$(basename "$lab" .patch)
	if run_lab "$lab"; then
		echo "ok zoo.$name" >>"$zoo/results"
	else
		echo "fail zoo.$name" >>"$zoo/results"
	fi
done
table "${selected[@]}" >"$zoo/table.md"
echo
cat "$zoo/table.md"
echo
echo "modegate: zoo of ${#selected[@]} mistakes in $(($(date +%s) - start)) s; table in $zoo/table.md"
