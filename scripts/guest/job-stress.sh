#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job: race stress.  mgstress runs the async lifecycle races (exit,
# exec, munmap, close, cancel against delivery; fork; fd passing; threads;
# mmap churn)
# for STRESS_SECONDS with rmmod attempts alongside, checks the counters back
# at zero, then STRESS_UNLOAD_CYCLES load/submit/close/unload cycles with
# deliveries pending; then a kmemleak scan.  STRESS_* and FUZZ_SEED come
# from the kernel command line.
# shellcheck source=scripts/guest/lib.sh
. /usr/lib/modegate/lib.sh
seed=${FUZZ_SEED:-1}
# Run mgstress; pass its "result ..." lines on; fail if it failed.
stress() {
	"$MG_SELFTESTS/mgstress" "$@" >/tmp/stress.out 2>&1
	src=$?
	cat /tmp/stress.out
	grep '^result ' /tmp/stress.out >"$verdict"
	[ $src = 0 ] || result stress fail "mgstress_exit_$src"
}

checks_begin
check stress load_module modprobe modegate || exit 1
echo "=== mgstress: ${STRESS_SECONDS:-60} s, ${STRESS_WORKERS:-4} workers, seed $seed"
stress -d "${STRESS_SECONDS:-60}" -w "${STRESS_WORKERS:-4}" -s "$seed"
check stress unload_module rmmod modegate
echo "=== mgstress: ${STRESS_UNLOAD_CYCLES:-50} unload cycles"
stress -U "${STRESS_UNLOAD_CYCLES:-50}" -s "$seed"
checks_end
exit $rc
