#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# matrix.sh [NAME...] - "make matrix": the selftest job of "make check"
# (scripts/vm.sh check) on every kernel of the matrix (default: 6.1 6.12
# 6.12-rt sid, see fetch-kernel.sh), one after the other.
#
# Per kernel NAME: fetch-kernel.sh NAME (cached), build modegate.ko against
# its headers in build/ko-NAME (scripts/build-ko.sh, W=1; the in-tree build is
# never touched), boot it with vm.sh (VM_OUT=build/matrix-NAME), and keep its
# results as "ok|fail|skip NAME:prog.test" in build/matrix/results/NAME.
# Then prints the table (also in build/matrix/table) and, last, the tally
# line over all kernels.  Exits non-zero on any failed test, splat, taint,
# leaked module reference, timeout, or a kernel that could not be fetched or
# built: a kernel that did not run counts as failed, so the matrix never
# silently shrinks.
#
# The tool and the selftests must be built already ("make matrix" does it).
# Environment: MODEGATE_TESTS (subset of programs), VM_TIMEOUT and the rest of
# vm.sh's, the MODEGATE_* variables of fetch-kernel.sh, and
#   MATRIX_KERNELS  kernels to run when no NAME is given

set -u
set -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
PROG=${0##*/}
log() { printf 'matrix: %s\n' "$*" >&2; }

# shellcheck disable=SC2086 # a word list
[ $# -gt 0 ] || set -- ${MATRIX_KERNELS:-6.1 6.12 6.12-rt sid}

OUT=$TOP/build/matrix
rm -rf "$OUT"
mkdir -p "$OUT/results"
jobs=$(nproc 2>/dev/null || echo 2)

# Debian's package version of the kernel image, from fetch-kernel.sh's KPKGS.
pkg_version() {
	local p
	for p in $KPKGS; do
		case $p in
		linux-image-*=*)
			echo "${p#*=}"
			return
			;;
		esac
	done
}

# Where a kernel's modules.builtin/modules.order are: /lib/modules/KVER for
# the installed kernel, inside the dpkg -x root for a fetched one.
modules_dir() {
	local root=${KDIR%/usr/src/*} d
	[ "$root" != "$KDIR" ] || root=""
	for d in "$root/lib/modules/$KVER" "$root/usr/lib/modules/$KVER"; do
		if [ -e "$d/modules.builtin" ]; then
			echo "$d"
			return
		fi
	done
	echo "/lib/modules/$KVER"
}

rows=()
total_start=$(date +%s)
for name in "$@"; do
	start=$(date +%s)
	res=$OUT/results/$name
	vmout=$TOP/build/matrix-$name
	mkdir -p "$vmout"
	: >"$res"
	version="-" build="-" tests="-" verdict=""

	KIMAGE="" KDIR="" KVER="" KCC="" KMAKEFLAGS="" KPKGS=""
	log "$name: fetch-kernel.sh"
	if envtext=$("$HERE/fetch-kernel.sh" "$name" 2>"$vmout/fetch.log"); then
		eval "$envtext"
		version="$KVER ($(pkg_version))"
	else
		echo "fail $name:fetch" >>"$res"
		verdict="FAIL: fetch failed: $(tail -n 1 "$vmout/fetch.log")"
	fi

	if [ -z "$verdict" ]; then
		log "$name: building modegate.ko against $KDIR"
		# shellcheck disable=SC2086 # KMAKEFLAGS is a list of make overrides
		if ko=$("$TOP/scripts/build-ko.sh" "$name" "$KDIR" $KMAKEFLAGS \
			CC="$KCC" W=1 -j"$jobs" 2>"$vmout/build.err"); then
			# gcc-12 does not know the attribute newer headers use
			nwarn=$(grep 'warning:' "$TOP/build/ko-$name/build.log" |
				grep -vc "counted_by. attribute directive ignored")
			build=ok
			[ "$nwarn" = 0 ] || build="ok, $nwarn warnings"
		else
			build=FAILED
			echo "fail $name:build" >>"$res"
			verdict="FAIL: $(grep -m1 'error:' "$vmout/build.err" | sed 's/.*error: //')"
			verdict=${verdict:-FAIL: build failed}
		fi
	fi

	if [ -z "$verdict" ]; then
		log "$name: vm.sh check (VM_OUT=${vmout#"$TOP"/})"
		KVER=$KVER KIMAGE=$KIMAGE KO=$ko VM_OUT=$vmout \
			MG_MODULES_DIR=$(modules_dir) \
			bash "$TOP/scripts/vm.sh" check >"$vmout/vm.log" 2>&1
		vrc=$?
		# vm.sh's own notes (a boot retried) go to the matrix log too.
		grep '^vm\.sh: ' "$vmout/vm.log" | while IFS= read -r line; do
			log "$name: $line"
		done
		sed "s/^\([a-z]*\) /\1 $name:/" "$vmout/results" >>"$res"
		if [ "$vrc" != 0 ] && ! grep -q '^fail' "$res"; then
			echo "fail $name:vm.exit_status_$vrc" >>"$res"
		fi
		p=$(grep -c '^ok ' "$res")
		f=$(grep -c '^fail ' "$res")
		s=$(grep -c '^skip ' "$res")
		tests="$p/$f/$s"
		if [ "$f" = 0 ]; then
			verdict=PASS
		else
			verdict="FAIL: $(sed -n "s/^fail $name://p" "$res" | head -n 3 | paste -sd ' ')"
			[ "$f" -le 3 ] || verdict="$verdict ..."
		fi
	fi
	secs=$(($(date +%s) - start))
	log "$name: $verdict (${secs} s)"
	rows+=("$name|$version|$build|$tests|${secs} s|$verdict")
done
total=$(($(date +%s) - total_start))

{
	printf '%-8s %-42s %-6s %-13s %-6s %s\n' kernel version build \
		'tests p/f/s' time verdict
	for r in "${rows[@]}"; do
		IFS='|' read -r n v b t d vd <<<"$r"
		printf '%-8s %-42s %-6s %-13s %-6s %s\n' "$n" "$v" "$b" "$t" "$d" "$vd"
	done
	echo "total: ${total} s ($PROG $*; logs in build/matrix-NAME/)"
} | tee "$OUT/table"
bash "$TOP/scripts/tally.sh" "$OUT"/results/*
