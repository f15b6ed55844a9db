#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# TODO labs: a student writes one of the module's mechanisms, modegate's
# selftests grade it.  Each lab is labs/todo/N-NAME.patch (N orders them
# from easy to hard); applied to a copy of the module it removes the
# mechanism and leaves a TODO with hints.  The module is the reference.
#
#   lab.sh hand NAME     (make lab)        the copy in build/lab/NAME/
#   lab.sh check NAME    (make lab-check)  build the student's copy, run the
#                        lab's tests in a VM, print each check and, for a
#                        failed one, the hint of its step (LAB_KERNEL=debug:
#                        on the debug kernel, whose KASAN sees what the
#                        stock kernel cannot, e.g. capture-mm's freed mm)
#   lab.sh prove [NAME]  (make labs)       each lab as handed out fails its
#                        checks; its wrong-but-plausible answer
#                        (labs/todo/N-NAME.wrong.patch, applied on top of
#                        the hand-out) is caught; the hand-out reversed is
#                        the module again, and the module passes every
#                        lab's checks (one VM boot for all of them)
#
# A lab's header, before the diff, holds "Key: value" lines:
#   Lab:      what the student writes, in a few words
#   Concept:  the section of modegate(7) it belongs to
#   Write:    the functions to write (file and name)
#   Kernel:   stock (debug: the lab's trap needs a detector)
#   Tests:    the selftest programs to run (MODEGATE_TESTS)
#   Step:     N hint                    (one or more)
#   Check:    PROG.FIXTURE.TEST N       a test that grades step N
#   Kernel-step: N                      the step a kernel splat points at
# A wrong answer's header: "Answer:" (what the student wrote) and "Why:".
# A patch that no longer applies to module/ fails loudly: regenerate it
# (edit build/lab/NAME/, diff it against module/).
set -eu -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

# field FILE KEY: the header's values for KEY, one a line.
field() {
	sed -n '/^\(diff \|--- \)/q; s/^'"$2"': *//p' "$1"
}

# lab_patch NAME: labs/todo/N-NAME.patch.
lab_patch() {
	local p
	for p in "$top"/labs/todo/[0-9]*-"$1".patch; do
		[ -e "$p" ] && case $p in *.wrong.patch) ;; *) echo "$p"; return 0 ;; esac
	done
	mg_die "no lab '$1'; the labs: $(lab_names | tr '\n' ' ')"
}

lab_names() {
	local p n
	for p in "$top"/labs/todo/[0-9]*-*.patch; do
		case $p in *.wrong.patch) continue ;; esac
		n=$(basename "$p" .patch)
		echo "${n#*-}"
	done
}

# tree DIR: a fresh copy of what builds the module.
tree() {
	rm -rf "$1" && mkdir -p "$1/scripts"
	cp -r "$top/Kbuild" "$top/VERSION" "$top/module" "$top/include" "$1/"
	cp "$here/build-ko.sh" "$1/scripts/"
}

# apply DIR PATCH [-R]: apply, or fail loudly.
apply() {
	local args=(-d "$1" -p1 -s -f --no-backup-if-mismatch)
	[ -z "${3:-}" ] || args+=("$3")
	if ! patch "${args[@]}" <"$2" >"$1/patch.log" 2>&1; then
		cat "$1/patch.log" >&2
		# make labs counts it: a lab that cannot be handed out is a failure.
		if [ -f "$top/build/labs/results" ]; then
			echo "fail labs.$(basename "$2" .patch).applies" >>"$top/build/labs/results"
		fi
		mg_die "${2#"$top"/} no longer applies to module/: regenerate it"
	fi
}

# hand NAME DIR: the lab's copy, handed out.
hand() {
	tree "$2"
	apply "$2" "$(lab_patch "$1")"
}

# sheet NAME: the lab's sheet for the student.
sheet() {
	local p
	p=$(lab_patch "$1")
	echo "lab $(basename "$p" .patch): $(field "$p" Lab)"
	echo "  concept: modegate(7), $(field "$p" Concept)"
	echo "  write:   $(field "$p" Write)"
	echo "  steps:"
	field "$p" Step | sed 's/^/    /'
	echo "  graded by: $(field "$p" Check | awk '{ print $1 }' | tr '\n' ' ')"
}

# vm KERNEL TREE TESTS OUT: build TREE's module and run TESTS on it.
vm() {
	local kernel=$1 kdir ko vk=""
	if [ "$kernel" = debug ]; then
		vk=debug
		bash "$here/debug/build-kernel.sh" >&2
		# shellcheck source=/dev/null
		kdir=$(. "$MODEGATE_CACHE/debug-6.1/env" && echo "${KDIR:?}")
	else
		kdir=$(mg_kdir "$(mg_kver)")
	fi
	mkdir -p "$4"
	ko=$(bash "$2/scripts/build-ko.sh" "$kernel" "$kdir" W=1 2>"$4/build.log") || {
		tail -n 20 "$4/build.log"
		echo "fail harness.the_module_builds" >"$4/results"
		return 0
	}
	KO=$ko MODEGATE_TESTS=$3 VM_OUT=$4 VM_TIMEOUT=${LAB_TIMEOUT:-900} VM_KERNEL=$vk \
		bash "$top/scripts/vm.sh" check >"$4/vm.log" 2>&1 || true
	[ -s "$4/results" ] || {
		tail -n 5 "$4/vm.log"
		echo "fail vm.did_not_run" >"$4/results"
	}
}

# grade NAME OUT: each check of the lab from OUT/results; prints the
# report, returns 0 when every check passed and the kernel said nothing.
grade() {
	local p=$1 out=$2 id step hint bad=0 st
	while read -r id step; do
		if grep -qx "ok $id" "$out/results"; then
			st=pass
		else
			st=FAIL
			bad=1
		fi
		printf '  %-4s %s\n' "$st" "$id"
		if [ "$st" = FAIL ]; then
			hint=$(field "$p" Step | awk -v s="$step" '$1 == s { $1 = ""; print substr($0, 2) }')
			grep -qx "fail $id" "$out/results" || echo "       (did not run: the VM stopped first)"
			echo "       step $step: $hint"
		fi
	done < <(field "$p" Check)
	if grep -q '^fail vm\.' "$out/results"; then
		bad=1
		step=$(field "$p" Kernel-step)
		echo "  FAIL the kernel: $(sed -n 's/^fail vm\.//p' "$out/results" | tr '\n' ' ')"
		grep -Em1 'BUG:|WARNING:|KASAN|Oops' "$out/console.scan" 2>/dev/null | sed 's/^/       /' || true
		[ -z "$step" ] || echo "       step $step: $(field "$p" Step | awk -v s="$step" '$1 == s { $1 = ""; print substr($0, 2) }')"
	fi
	return "$bad"
}

cmd=${1:-}
shift || true
case $cmd in
hand)
	[ -n "${1:-}" ] || mg_die "make lab LAB=NAME; the labs: $(lab_names | tr '\n' ' ')"
	d=$top/build/lab/$1
	hand "$1" "$d"
	sheet "$1"
	echo
	echo "Your copy: ${d#"$top"/}/module/ (grep TODO).  Grade it: make lab-check LAB=$1"
	;;
check)
	[ -n "${1:-}" ] || mg_die "make lab-check LAB=NAME"
	p=$(lab_patch "$1")
	d=$top/build/lab/$1
	[ -d "$d/module" ] || mg_die "no ${d#"$top"/}: make lab LAB=$1 first"
	vm "${LAB_KERNEL:-$(field "$p" Kernel)}" "$d" "$(field "$p" Tests | tr '\n' ' ')" "$d/vm"
	echo "lab $1:"
	if grade "$p" "$d/vm"; then
		echo "lab $1: every check passes"
		echo "ok lab.$1" >"$d/results"
	else
		echo "fail lab.$1" >"$d/results"
	fi
	;;
prove)
	out=$top/build/labs
	rm -rf "$out" && mkdir -p "$out"
	: >"$out/results"
	names=("$@")
	[ "${#names[@]}" -gt 0 ] || mapfile -t names < <(lab_names)
	tests=""
	for n in "${names[@]}"; do
		p=$(lab_patch "$n")
		w=${p%.patch}.wrong.patch
		kernel=$(field "$p" Kernel)
		t=$(field "$p" Tests | tr '\n' ' ')
		tests+=" $t"
		echo "=== labs: $n ($(field "$p" Lab))"
		hand "$n" "$out/$n/handout"
		vm "$kernel" "$out/$n/handout" "$t" "$out/$n/handout/vm"
		echo "as handed out:"
		if grade "$p" "$out/$n/handout/vm"; then
			echo "fail labs.$n.handout_fails_its_checks" >>"$out/results"
		else
			echo "ok labs.$n.handout_fails_its_checks" >>"$out/results"
		fi
		[ -e "$w" ] || mg_die "${w#"$top"/}: every lab has a wrong answer"
		hand "$n" "$out/$n/wrong"
		apply "$out/$n/wrong" "$w"
		vm "$kernel" "$out/$n/wrong" "$t" "$out/$n/wrong/vm"
		echo "the wrong answer ($(field "$w" Answer)):"
		if grade "$p" "$out/$n/wrong/vm"; then
			echo "fail labs.$n.wrong_answer_caught" >>"$out/results"
		else
			echo "ok labs.$n.wrong_answer_caught" >>"$out/results"
		fi
		hand "$n" "$out/$n/reference"
		apply "$out/$n/reference" "$p" -R
		if diff -r "$top/module" "$out/$n/reference/module" >"$out/$n/reference.diff"; then
			echo "ok labs.$n.reference_is_the_module" >>"$out/results"
		else
			echo "fail labs.$n.reference_is_the_module" >>"$out/results"
		fi
	done
	# The reference: the module itself, every lab's programs in one boot.
	echo "=== labs: the reference (module/) against every lab's checks"
	tree "$out/reference"
	tests=$(echo "$tests" | tr ' ' '\n' | sort -u | tr '\n' ' ')
	vm stock "$out/reference" "$tests" "$out/reference/vm"
	for n in "${names[@]}"; do
		echo "with the reference, lab $n:"
		if grade "$(lab_patch "$n")" "$out/reference/vm"; then
			echo "ok labs.$n.reference_passes" >>"$out/results"
		else
			echo "fail labs.$n.reference_passes" >>"$out/results"
		fi
	done
	;;
*) mg_die "lab.sh hand|check|prove ..." ;;
esac
