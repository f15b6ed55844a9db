#!/bin/bash
# shellcheck disable=SC2317  # functions are called through step()
# SPDX-License-Identifier: GPL-2.0
# checkpatch.pl --strict and kernel-doc (from Debian's linux-source),
# sparse (C=2), a W=1 build and shellcheck.  Prints what each found; exits
# non-zero on any.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
cd "$top" || exit 1

src=$(mg_linux_source)
kver=$(mg_kver)
kdir=${KDIR:-$(mg_kdir "$kver")}
rc=0

step() {
	local name=$1
	shift
	if "$@"; then
		echo "lint: $name: clean"
	else
		echo "lint: $name: FAILED"
		rc=1
	fi
}

checkpatch() {
	local cp=("$src/scripts/checkpatch.pl" --no-tree --strict --terse --show-types)
	local found=0 files=() f
	for f in module/*.[ch]; do
		case $f in module/trace.h | module/compat.h) ;; *) files+=("$f") ;; esac
	done
	"${cp[@]}" -f "${files[@]}" include/uapi/linux/modegate.h | grep -E 'ERROR|WARNING|CHECK' && found=1
	# compat.h is the one place allowed to test LINUX_VERSION_CODE.
	"${cp[@]}" --ignore LINUX_VERSION_CODE -f module/compat.h |
		grep -E 'ERROR|WARNING|CHECK' && found=1
	# TRACE_EVENT's layout (TP_STRUCT__entry( ... ) on their own lines) is
	# the kernel's own convention for trace headers, which checkpatch flags.
	"${cp[@]}" --ignore OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT -f module/trace.h |
		grep -E 'ERROR|WARNING|CHECK' && found=1
	return "$found"
}

kerneldoc() { # the uapi header: kernel-doc -none prints nothing when clean
	local found
	found=$("$src/scripts/kernel-doc" -none include/uapi/linux/modegate.h 2>&1)
	[ -z "$found" ] || { printf '%s\n' "$found"; return 1; }
}

kbuild_clean() { # kbuild_clean ARGS: build, fail on any warning
	local log
	log=$(mktemp)
	make -C "$kdir" M="$top" "$@" modules >"$log" 2>&1
	local st=$?
	if [ "$st" -ne 0 ] || grep -E 'warning:|error:|^/.*: (note|info):' "$log" | grep -v 'Skipping BTF'; then
		cat "$log"
		rm -f "$log"
		return 1
	fi
	rm -f "$log"
}

step "checkpatch --strict" checkpatch
step "kernel-doc (uapi)" kerneldoc
touch module/*.c
step "W=1 build" kbuild_clean W=1
step "one-way calls between files" bash scripts/layers.sh
step "sparse C=2" kbuild_clean C=2 CF="-D__CHECK_ENDIAN__"
step "shellcheck" shellcheck -x scripts/*.sh scripts/*/*.sh .ci/run
step "shellcheck (guest)" shellcheck -s sh scripts/guest/init scripts/guest/*.sh
exit $rc
