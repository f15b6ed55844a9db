#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sourced by every VM job: the verdict protocol and the steps jobs share.
# shellcheck disable=SC2034  # rc and MG_SELFTESTS are read by the jobs

verdict=${MODEGATE_VERDICT:-/dev/null}
guest=/usr/lib/modegate
# The installed kselftest tree (make -C selftests install): the runner, and
# the programs in its "modegate" collection.
MG_KSELFTEST=$guest/kselftest
MG_SELFTESTS=$MG_KSELFTEST/modegate
rc=0

# result GROUP ok|fail|skip NAME: one line on the verdict port; a failure
# makes the job fail.
result() {
	echo "result $1 $2 $3" >"$verdict"
	[ "$2" = fail ] && rc=1
	return 0
}

# check GROUP NAME COMMAND...: run COMMAND, report NAME's result, return
# COMMAND's success.
check() {
	group=$1 name=$2
	shift 2
	if "$@"; then
		result "$group" ok "$name"
		return 0
	fi
	result "$group" fail "$name"
	return 1
}

# store_round_trip: "hi" written to the device reads back exactly.
store_round_trip() {
	echo hi >/dev/modegate || return 1
	got=$(cat /dev/modegate) || return 1
	echo "$got"
	[ "$got" = hi ]
}

# stats_count_a_write: one write of "hi" moves the debugfs counters
# (/sys/kernel/debug/modegate/stats) writes by 1 and bytes_written by 3.
stat_of() { awk -v n="$1" '$1 == n { print $2 }' /sys/kernel/debug/modegate/stats; }
stats_count_a_write() {
	w0=$(stat_of writes) b0=$(stat_of bytes_written)
	echo hi >/dev/modegate || return 1
	w1=$(stat_of writes) b1=$(stat_of bytes_written)
	echo "stats: writes $w0 -> $w1, bytes_written $b0 -> $b1"
	[ -n "$w0" ] && [ $((w1 - w0)) = 1 ] && [ $((b1 - b0)) = 3 ]
}

# kcsan_active: KCSAN is enabled and has set up watchpoints.
kcsan_active() {
	awk '$1 == "enabled:" { on = $2 } $1 == "setup_watchpoints:" { w = $2 }
		END { exit !(on == 1 && w > 0) }' /sys/kernel/debug/kcsan
}

# checks_begin / checks_end: around a job's workload, the leak checks
# (pre-leaks.sh, then each post-*.sh once the module is unloaded).
checks_begin() {
	# shellcheck source=/dev/null
	. "$guest/pre-leaks.sh"
}

checks_end() {
	for f in "$guest"/post-*.sh; do
		# shellcheck disable=SC1090
		[ -e "$f" ] && . "$f"
	done
}

# run_suite: load the module, run the selftests through the kernel's
# run_kselftest.sh (MODEGATE_TESTS: a subset), one result per test case,
# then unload (a module that cannot be unloaded leaked a reference).
run_suite() {
	check harness load_module modprobe modegate || return 1
	set --
	for t in $(echo "${MODEGATE_TESTS:-}" | tr , " "); do
		set -- "$@" -t "modegate:$t"
	done
	"$MG_KSELFTEST/run_kselftest.sh" "$@" 2>&1 | tee /tmp/ktap.log
	awk -f "$guest/ktap.awk" /tmp/ktap.log >/tmp/ktap.results
	cat /tmp/ktap.results >"$verdict"
	grep -q '^result [^ ]* fail' /tmp/ktap.results && rc=1
	if [ -d /sys/module/modegate ]; then
		check harness unload_module rmmod modegate
	fi
}

# The KUnit suites of modegate_kunit.ko (module/kunit.c); a suite not in
# debugfs after the load is a failure.
MG_KUNIT_SUITES="modegate_user_array modegate_limits modegate_ring modegate_line"

# run_kunit: load modegate_kunit (its suites run at load), one result per
# case from each suite's KTAP in debugfs, then unload it and modegate.
run_kunit() {
	check kunit load_module modprobe modegate_kunit || return 1
	for s in $MG_KUNIT_SUITES; do
		f=/sys/kernel/debug/kunit/$s/results
		if [ ! -r "$f" ]; then
			result kunit fail "$s.missing_suite"
			continue
		fi
		cat "$f"
		awk -v suite="$s" -f "$guest/kunit.awk" "$f" >/tmp/kunit.results
		cat /tmp/kunit.results >"$verdict"
		grep -q '^result [^ ]* fail' /tmp/kunit.results && rc=1
	done
	check kunit unload_module rmmod modegate_kunit modegate
}
