#!/bin/bash
# shellcheck disable=SC2317  # functions are called through step()
# SPDX-License-Identifier: GPL-2.0
# checkpatch.pl --strict and kernel-doc (from Debian's linux-source),
# sparse (C=2), a W=1 build, shellcheck, the man pages (mandoc -Tlint, and
# no macro left unparsed or printed literally) and the words of the tree
# (no development history).  Prints what each found; exits non-zero on any.
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

# The tree speaks of the product as it is; its history is in git and in
# NEWS.md.  Words that only make sense as history, or name documents a
# reader does not have, are refused everywhere (this file excepted).
history_words() {
	local re='\bstops? [0-9]+\b|\bthis stop\b|\bwaves?\b|\bearlier (run|stop)s?\b'
	re+='|\bseed 0[0-9]+|\bseed.s scenario|\bcommit [0-9a-f]{7,40}\b|\bat commit\b'
	re+='|\bwas tried\b|\bmeasured worse\b|\bissue [0-9]+\b'
	local found
	found=$(git ls-files -co --exclude-standard -z -- . ':!scripts/lint.sh' ':!build' |
		xargs -0 grep -nIiE "$re" --)
	[ -z "$found" ] || { printf '%s\n' "$found"; return 1; }
}

# mdoc macros a parsed line would take as a call, and their names seen in
# rendered text: the signs of a macro printed literally (.Fd is not parsed)
# or of a word eaten as a macro (".Ss An asynchronous ..." loses "An").
man_pages() {
	local m found=0 macros='Ac|Ad|An|Ao|Ap|Aq|Ar|At|Bc|Bo|Bq|Brc|Bro|Brq|Bx|Cd|Cm|Dc|Do|Dq|Dv|Ec|Em|Eo|Er|Ev|Fa|Fc|Fl|Fn|Fo|Ft|Ic|In|Li|Lk|Ms|Mt|Nm|No|Ns|Oc|Oo|Op|Pa|Pc|Pf|Po|Pq|Qc|Ql|Qo|Qq|Sc|So|Sq|St|Sx|Sy|Tn|Va|Vt|Xc|Xo|Xr'
	for m in man/*.[0-9]; do
		mandoc -Tlint -W warning "$m" || found=1
		grep -qx "\.Os modegate $(cat VERSION)" "$m" ||
			{ echo "$m: .Os is not \"modegate $(cat VERSION)\" (VERSION)"; found=1; }
		# Titles take no macros here; .Fd takes none at all.
		grep -nE "^\.(Sh|Ss) (.* )?($macros)( |\$)|^\.Fd .*\b($macros)\b" "$m" |
			sed "s|^|$m: a macro name in a line that prints it or eats it: |" | grep . && found=1
		mandoc -Tutf8 "$m" | col -b |
			grep -nwE 'Ar|Fl|Ns|Op|Oo|Oc|Xr|Pq|Cm|Sx|Ev|Dv|Er|Qq|Dq|Sq|Fn|Fa|Ic|Pa|Va' |
			sed "s|^|$m: rendered with a macro name left literal: |" | grep . && found=1
	done
	# Each tour step names the section of modegate(7) that explains it.
	local see
	while read -r see; do
		grep -qixE "\.Ss $see( \(steps? .*\))?" man/modegate.7 ||
			{ echo "userspace/tour.c: no section \"$see\" in modegate(7)"; found=1; }
	done < <(perl -0ne 'if (/tour_steps\[\] = \{(.*?)\n\};/s) {
		for my $e (split /\n\t\{ /, $1) {
			my @s = $e =~ /"((?:[^"\\]|\\.)*)"/g;
			print "$s[2]\n" if @s >= 3;
		} }' userspace/tour.c)
	return "$found"
}

step "no development history in the tree" history_words
step "man pages" man_pages
step "checkpatch --strict" checkpatch
step "kernel-doc (uapi)" kerneldoc
touch module/*.c
step "W=1 build" kbuild_clean W=1
step "one-way calls between files" bash scripts/layers.sh
step "sparse C=2" kbuild_clean C=2 CF="-D__CHECK_ENDIAN__"
step "shellcheck" shellcheck -x scripts/*.sh scripts/*/*.sh .ci/run
step "shellcheck (guest)" shellcheck -s sh scripts/guest/init scripts/guest/*.sh
exit $rc
