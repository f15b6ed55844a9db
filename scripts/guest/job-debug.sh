#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job for the debug kernel (KASAN, lockdep, kmemleak, fault injection):
# the whole selftest suite, then a fault-injection pass -- failslab and
# fail_usercopy fire at random in the fuzzer's tasks, which must get clean
# errors -- then proof that the device still works, a clean unload and a
# kmemleak scan.
verdict=${MODEGATE_VERDICT:-/dev/null}
dir=/usr/lib/modegate/selftests
rc=0
result() {
	echo "result $1 $2 $3" >"$verdict"
	[ "$2" = fail ] && rc=1
	return 0
}

MODEGATE_NO_POST=1 sh /usr/lib/modegate/job-check.sh || rc=1

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
if "$dir/mgfuzz" -F -n "${FAULT_CALLS:-50000}" -p 2 -t 2 -s "${FUZZ_SEED:-1}"; then
	result faultinject ok mgfuzz_under_injection
else
	result faultinject fail mgfuzz_under_injection
fi
for f in failslab fail_usercopy; do
	[ -d "$dbg/$f" ] && echo 0 >"$dbg/$f/probability"
done
injected=$(grep -h . "$dbg"/fail*/times 2>/dev/null | head -n 1)
echo "fault injection done (times left: $injected)"

# The device still works, exactly, once injection stops.
if echo hi >/dev/modegate && [ "$(cat /dev/modegate)" = hi ]; then
	result faultinject ok device_works_after
else
	result faultinject fail device_works_after
fi
if rmmod modegate; then
	result faultinject ok unload_module
else
	result faultinject fail unload_module
fi
for f in /usr/lib/modegate/post-*.sh; do
	# shellcheck disable=SC1090
	[ -e "$f" ] && . "$f"
done
exit $rc
