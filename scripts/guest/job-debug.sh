#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job for the debug kernel (KASAN, lockdep, kmemleak, fault injection,
# UBSAN, KUnit): the whole selftest suite, then the KUnit suites of the
# module's internals (modegate_kunit.ko, one result per case), then a
# fault-injection pass -- failslab and fail_usercopy fire at random in the
# fuzzer's tasks, which must get clean errors -- then proof that the device
# still works, a clean unload and the leak checks.
# shellcheck source=scripts/guest/lib.sh
. /usr/lib/modegate/lib.sh
checks_begin
run_suite
run_kunit

echo "=== fault injection: failslab + fail_usercopy at ${FAULT_PROBABILITY:-5}% in mgfuzz's tasks"
modprobe modegate || result faultinject fail load_module
dbg=/sys/kernel/debug
for f in failslab fail_usercopy; do
	[ -d "$dbg/$f" ] || { result faultinject fail "no_$f"; continue; }
	echo Y >"$dbg/$f/task-filter"
	echo "${FAULT_PROBABILITY:-5}" >"$dbg/$f/probability"
	echo 1 >"$dbg/$f/interval"
	echo -1 >"$dbg/$f/times"
	echo 0 >"$dbg/$f/verbose"
done
[ -d "$dbg/failslab" ] && echo N >"$dbg/failslab/ignore-gfp-wait"
check faultinject mgfuzz_under_injection \
	"$MG_SELFTESTS/mgfuzz" -F -n "${FAULT_CALLS:-50000}" -p 2 -t 2 -s "${FUZZ_SEED:-1}"
for f in failslab fail_usercopy; do
	[ -d "$dbg/$f" ] && echo 0 >"$dbg/$f/probability"
done
injected=$(grep -h . "$dbg"/fail*/times 2>/dev/null | head -n 1)
echo "fault injection done (times left: $injected)"

# The device still works, exactly, once injection stops.
check faultinject device_works_after store_round_trip
# Its debugfs counters count that: one more write, of three bytes ("hi\n").
check faultinject debugfs_stats_count_a_write stats_count_a_write
check faultinject unload_module rmmod modegate

# Parameters out of range are refused at load, and nothing stays loaded.
for p in store_size=1 node_mode=01666 max_inflight=0 max_inflight_user=0 \
	max_inflight_global=2000000; do
	if modprobe modegate "$p" 2>/dev/null || [ -d /sys/module/modegate ]; then
		result params fail "refused_${p%%=*}"
		rmmod modegate 2>/dev/null
	else
		result params ok "refused_${p%%=*}"
	fi
done
checks_end
exit $rc
